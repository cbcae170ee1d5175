//! Building JSON from SQL values, as PostgreSQL does: `json_build_object`,
//! `jsonb_build_object`, `json_build_array`, `jsonb_build_array`, `to_json`,
//! `to_jsonb` and `row_to_json`. A value that is already json or jsonb (by its field's tag)
//! is taken as JSON, not as a string; json results are written as
//! PostgreSQL's json writes them (`{"a" : 1}`), jsonb results normalized.

use super::columnar;
use crate::pgtypes::{PG_TYPE_KEY, tag_field};
use crate::types::jsonb_text;
use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Object,
    Array,
    One,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Build {
    name: &'static str,
    shape: Shape,
    jsonb: bool,
    signature: Signature,
}

pub fn all() -> Vec<ScalarUDF> {
    [
        ("json_build_object", Shape::Object, false),
        ("jsonb_build_object", Shape::Object, true),
        ("json_build_array", Shape::Array, false),
        ("jsonb_build_array", Shape::Array, true),
        ("to_json", Shape::One, false),
        ("to_jsonb", Shape::One, true),
        ("row_to_json", Shape::One, false),
    ]
    .into_iter()
    .map(|(name, shape, jsonb)| {
        let signature =
            Signature::one_of(vec![datafusion::logical_expr::TypeSignature::Nullary, datafusion::logical_expr::TypeSignature::VariadicAny], Volatility::Stable);
        ScalarUDF::new_from_impl(Build { name, shape, jsonb, signature })
    })
    .collect()
}

fn invalid(msg: &str) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(crate::SqlState::InvalidParameterValue, msg)))
}

/// A SQL value as JSON: tagged json text parsed, numbers as numbers, times
/// in ISO 8601, arrays as arrays, anything else as its text.
fn to_value(v: &ScalarValue, field: Option<&Field>) -> Result<Value> {
    let tagged_json = field.and_then(|f| f.metadata().get(PG_TYPE_KEY)).is_some_and(|t| t == "json" || t == "jsonb");
    Ok(match v {
        v if v.is_null() => Value::Null,
        ScalarValue::Boolean(Some(b)) => Value::Bool(*b),
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) if tagged_json => {
            serde_json::from_str(s).map_err(|_| invalid("invalid input syntax for type json"))?
        }
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Value::String(s.clone()),
        ScalarValue::List(l) => {
            let items = l.value(0);
            Value::Array(
                (0..datafusion::arrow::array::Array::len(items.as_ref()))
                    .map(|i| to_value(&ScalarValue::try_from_array(&items, i)?, None))
                    .collect::<Result<_>>()?,
            )
        }
        ScalarValue::Struct(row) => Value::Object(row_members(row)?),
        ScalarValue::Float32(Some(f)) if !f.is_finite() => Value::String(f.to_string()),
        ScalarValue::Float64(Some(f)) if !f.is_finite() => Value::String(f.to_string()),
        v if v.data_type().is_numeric() => serde_json::from_str(&v.to_string()).unwrap_or_else(|_| Value::String(v.to_string())),
        ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampSecond(..) => Value::String(iso_time(v)?),
        other => Value::String(other.to_string()),
    })
}

/// A row's columns as JSON members; an anonymous row's columns (`ROW(1, 'a')`,
/// named c0, c1, ... by DataFusion) are f1, f2, ... as in PostgreSQL.
fn row_members(row: &datafusion::arrow::array::StructArray) -> Result<serde_json::Map<String, Value>> {
    let anonymous = row.fields().iter().enumerate().all(|(i, f)| f.name() == &format!("c{i}"));
    row.fields()
        .iter()
        .zip(row.columns())
        .enumerate()
        .map(|(i, (f, column))| {
            let name = if anonymous { format!("f{}", i + 1) } else { f.name().clone() };
            Ok((name, to_value(&ScalarValue::try_from_array(column, 0)?, Some(f))?))
        })
        .collect()
}

/// A timestamp as PostgreSQL's JSON writes it: `2024-03-10T12:00:00` (and `+00:00` with a zone).
fn iso_time(v: &ScalarValue) -> Result<String> {
    let with_zone = matches!(v.data_type(), DataType::Timestamp(_, Some(_)));
    let micros = match v.cast_to(&DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None))? {
        ScalarValue::TimestampMicrosecond(Some(m), _) => m,
        _ => return Ok(String::new()),
    };
    let t = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| invalid("timestamp out of range"))?.naive_utc();
    let frac = match chrono::Timelike::nanosecond(&t) / 1000 {
        0 => String::new(),
        us => format!(".{us:06}").trim_end_matches('0').to_string(),
    };
    Ok(format!("{}{frac}{}", t.format("%Y-%m-%dT%H:%M:%S"), if with_zone { "+00:00" } else { "" }))
}

/// JSON as PostgreSQL's json functions write it: ` : ` in objects, `, ` between items.
fn json_text(v: &Value) -> String {
    match v {
        Value::Object(m) => format!("{{{}}}", m.iter().map(|(k, v)| format!("{} : {}", Value::String(k.clone()), json_text(v))).collect::<Vec<_>>().join(", ")),
        Value::Array(items) => format!("[{}]", items.iter().map(json_text).collect::<Vec<_>>().join(", ")),
        scalar => scalar.to_string(),
    }
}

impl Build {
    fn build(&self, values: &[ScalarValue], fields: &[FieldRef]) -> Result<String> {
        let field = |i: usize| fields.get(i).map(|f| f.as_ref());
        let value = match self.shape {
            Shape::One => to_value(&values[0], field(0))?,
            Shape::Array => Value::Array(values.iter().enumerate().map(|(i, v)| to_value(v, field(i))).collect::<Result<_>>()?),
            Shape::Object => {
                if !values.len().is_multiple_of(2) {
                    return Err(invalid("argument list must have even number of elements"));
                }
                let mut pairs = Vec::with_capacity(values.len() / 2);
                for (i, pair) in values.chunks(2).enumerate() {
                    let key = match &pair[0] {
                        k if k.is_null() => return Err(invalid("null value not allowed for object key")),
                        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
                        other => other.to_string(),
                    };
                    pairs.push((key, to_value(&pair[1], field(2 * i + 1))?));
                }
                if !self.jsonb {
                    // json keeps the arguments' order and every key.
                    let items: Vec<String> = pairs.iter().map(|(k, v)| format!("{} : {}", Value::String(k.clone()), json_text(v))).collect();
                    return Ok(format!("{{{}}}", items.join(", ")));
                }
                Value::Object(pairs.into_iter().collect())
            }
        };
        Ok(match (self.jsonb, self.shape, values.first()) {
            (true, ..) => jsonb_text(&value),
            // A row as json is written without spaces (`{"f1":1,"f2":"a"}`).
            (false, Shape::One, Some(ScalarValue::Struct(_))) => value.to_string(),
            (false, ..) => json_text(&value),
        })
    }
}

impl ScalarUDFImpl for Build {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field_from_args(&self, _: ReturnFieldArgs) -> Result<FieldRef> {
        let tag = if self.jsonb { "jsonb" } else { "json" };
        Ok(Arc::new(tag_field(Field::new(self.name, DataType::Utf8, true), tag)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.shape == Shape::One && args.args.len() != 1 {
            return Err(invalid(&format!("{} takes one argument", self.name)));
        }
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        for row in 0..rows {
            let values = arrays.iter().map(|a| ScalarValue::try_from_array(a, row)).collect::<Result<Vec<_>>>()?;
            if self.shape == Shape::One && values[0].is_null() {
                out.append_null();
            } else {
                out.append_value(self.build(&values, &args.arg_fields)?);
            }
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}
