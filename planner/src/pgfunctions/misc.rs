//! `pg_typeof`, `clock_timestamp`, and the limits PostgreSQL puts on
//! functions that build long strings (`repeat`, `lpad`, `rpad`), which in
//! DataFusion would try to allocate whatever is asked for.

use super::columnar;
use crate::pgtypes::{column_type, format_type, tag_field};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

/// The longest string a function may build, as PostgreSQL's 1 GB limit on a value.
const MAX_STRING_BYTES: i64 = (1 << 30) - 1;

pub fn all() -> Vec<ScalarUDF> {
    let mut out = vec![
        ScalarUDF::new_from_impl(PgTypeof(Signature::any(1, Volatility::Immutable))),
        ScalarUDF::new_from_impl(ClockTimestamp(Signature::nullary(Volatility::Volatile))),
    ];
    for (name, tag, read) in [
        ("weir_uuid_in", Some("uuid"), uuid_text as Reader),
        ("weir_jsonb_in", Some("jsonb"), jsonb_text),
        ("weir_json_in", Some("json"), json_text),
        ("weir_untag", None, same),
        ("weir_as_jsonb", Some("jsonb"), same),
        ("weir_as_json", Some("json"), same),
    ] {
        out.push(ScalarUDF::new_from_impl(TextForm { name, tag, read, signature: Signature::any(1, Volatility::Immutable) }));
    }
    for inner in [datafusion::functions::string::repeat(), datafusion::functions::unicode::lpad(), datafusion::functions::unicode::rpad()] {
        out.push(ScalarUDF::new_from_impl(LengthLimit { inner }));
    }
    out
}

/// `pg_typeof(x)`: the name of `x`'s type, as `regtype` prints it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PgTypeof(Signature);

fn type_name(f: &Field) -> String {
    if f.data_type() == &DataType::Null {
        return "unknown".into();
    }
    let t = column_type(f);
    // The type itself, without a modifier: `character varying`, not `character varying(3)`.
    format_type(t.oid, -1).unwrap_or_else(|| "text".into())
}

impl ScalarUDFImpl for PgTypeof {
    fn name(&self) -> &str {
        "pg_typeof"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field_from_args(&self, _: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(tag_field(Field::new("pg_typeof", DataType::Utf8, false), "regtype")))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(type_name(&args.arg_fields[0])))))
    }
}

/// Text in and out of a tagged type: `weir_uuid_in` checks a uuid's text and
/// writes it as PostgreSQL does (lower case, hyphens, no braces),
/// `weir_jsonb_in` checks JSON and normalizes it as jsonb does; `weir_untag`
/// is a tagged value as plain text (`inet::text`, `uuid::text`), and
/// `weir_as_json(b)` tags text that already is JSON (elements `unnest` gave).
#[derive(Debug)]
struct TextForm {
    name: &'static str,
    tag: Option<&'static str>,
    read: Reader,
    signature: Signature,
}

impl PartialEq for TextForm {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TextForm {}

impl std::hash::Hash for TextForm {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The tagged type's text for an input text, or None if it is not one.
type Reader = fn(&str) -> Option<String>;

fn jsonb_text(s: &str) -> Option<String> {
    crate::types::normalize_jsonb(s).ok()
}

/// json keeps its text as written, once it is checked.
fn json_text(s: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(s).ok().map(|_| s.to_string())
}

fn same(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// A uuid in PostgreSQL's form, or None if `s` is not one.
pub fn uuid_text(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')).unwrap_or(t);
    // Hyphens may follow any group of four hex digits.
    let mut hex = String::with_capacity(32);
    for (i, group) in t.split('-').enumerate() {
        if group.is_empty() || (i > 0 && !hex.len().is_multiple_of(4)) || !group.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        hex.push_str(&group.to_ascii_lowercase());
    }
    (hex.len() == 32).then(|| format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

impl ScalarUDFImpl for TextForm {
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
        let f = Field::new(self.name, DataType::Utf8, true);
        Ok(Arc::new(match self.tag {
            Some(t) => tag_field(f, t),
            None => f,
        }))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let input = datafusion::arrow::compute::cast(&input, &DataType::Utf8)?;
        let type_name = if self.tag == Some("jsonb") { "json" } else { self.tag.unwrap_or("text") };
        let invalid = |s: &str| crate::SqlError::new(crate::SqlState::InvalidTextRepresentation, format!("invalid input syntax for type {type_name}: \"{s}\""));
        let out: datafusion::arrow::array::StringArray =
            input.as_string::<i32>().iter().map(|v| v.map(|s| (self.read)(s).ok_or_else(|| invalid(s).into())).transpose()).collect::<Result<_>>()?;
        let array: datafusion::arrow::array::ArrayRef = Arc::new(out);
        columnar(array, all_scalar)
    }
}

/// `clock_timestamp()`: the time now, changing during a statement.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ClockTimestamp(Signature);

impl ScalarUDFImpl for ClockTimestamp {
    fn name(&self) -> &str {
        "clock_timestamp"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())))
    }
    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(Some(chrono::Utc::now().timestamp_micros()), Some("+00:00".into()))))
    }
}

/// A string function whose second argument is a length (or a count of the
/// first), refused with 54000 when the result could pass the limit.
#[derive(Debug, PartialEq, Eq, Hash)]
struct LengthLimit {
    inner: Arc<ScalarUDF>,
}

impl ScalarUDFImpl for LengthLimit {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let longest_input = match &args.args[0] {
            ColumnarValue::Scalar(s) => s.to_string().len() as i64,
            ColumnarValue::Array(a) => {
                let a = datafusion::arrow::compute::cast(a, &DataType::Utf8)?;
                a.as_string::<i32>().iter().flatten().map(str::len).max().unwrap_or(0) as i64
            }
        };
        let counts = ColumnarValue::values_to_arrays(&args.args[1..2])?;
        let counts = datafusion::arrow::compute::cast(&counts[0], &DataType::Int64)?;
        let largest = counts.as_primitive::<Int64Type>().iter().flatten().max().unwrap_or(0);
        // repeat multiplies the input; a pad's length is in characters of up to 4 bytes.
        let bytes = if self.inner.name() == "repeat" { largest.saturating_mul(longest_input.max(1)) } else { largest.saturating_mul(4) };
        if bytes > MAX_STRING_BYTES && counts.len() > counts.null_count() {
            return Err(datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(
                crate::SqlState::ProgramLimitExceeded,
                "requested length too large",
            ))));
        }
        self.inner.invoke_with_args(args)
    }
}
