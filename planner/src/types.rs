//! SQL types weir adds on top of DataFusion's mapping. Arrow has no JSON
//! type, so `JSON`/`JSONB` are UTF-8 columns tagged with field metadata; the
//! wire layer reports them as `jsonb` and encodes them as PostgreSQL does.

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::sql::sqlparser::ast::{CharacterLength, DataType as SqlType};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::pgtypes::PG_TYPE_KEY;

/// Plans weir's extra SQL types for DataFusion.
#[derive(Debug, Default)]
pub struct WeirTypePlanner;

impl TypePlanner for WeirTypePlanner {
    fn plan_type_field(&self, sql_type: &SqlType) -> Result<Option<FieldRef>> {
        let text = |tag: String| Some(Arc::new(crate::pgtypes::tag_field(Field::new("", DataType::Utf8, true), &tag)));
        Ok(match sql_type {
            SqlType::JSONB => Some(jsonb_field("")),
            SqlType::JSON => text("json".into()),
            SqlType::Varchar(Some(CharacterLength::IntegerLength { length, .. }))
            | SqlType::CharacterVarying(Some(CharacterLength::IntegerLength { length, .. }))
            | SqlType::CharVarying(Some(CharacterLength::IntegerLength { length, .. })) => text(format!("varchar({length})")),
            SqlType::Char(len) | SqlType::Character(len) => {
                let n = match len {
                    Some(CharacterLength::IntegerLength { length, .. }) => *length,
                    _ => 1,
                };
                text(format!("bpchar({n})"))
            }
            SqlType::Uuid => text("uuid".into()),
            SqlType::Custom(name, _) => match name.to_string().to_lowercase().trim_start_matches("pg_catalog.") {
                "jsonb" => Some(jsonb_field("")),
                "inet" => text("inet".into()),
                "cidr" => text("cidr".into()),
                "name" => text("name".into()),
                "bpchar" => text("bpchar".into()),
                "char" => text("char".into()),
                "oid" => Some(Arc::new(crate::pgtypes::tag_field(Field::new("", DataType::Int64, true), "oid"))),
                _ => None,
            },
            _ => None,
        })
    }
}

/// A nullable `jsonb` column called `name`.
pub fn jsonb_field(name: &str) -> FieldRef {
    Arc::new(Field::new(name, DataType::Utf8, true).with_metadata(HashMap::from([(PG_TYPE_KEY.to_string(), "jsonb".to_string())])))
}

pub fn is_jsonb(field: &Field) -> bool {
    field.metadata().get(PG_TYPE_KEY).is_some_and(|t| t == "jsonb")
}

/// The PostgreSQL name of a column's type, as `\d` and `SHOW` print it.
pub fn pg_type_name(field: &Field) -> String {
    if is_jsonb(field) {
        return "jsonb".into();
    }
    pg_type_name_of(field.data_type())
}

fn pg_type_name_of(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("numeric({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "bytea".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Timestamp(_, Some(_)) => "timestamptz".into(),
        DataType::Interval(_) | DataType::Duration(_) => "interval".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("{}[]", pg_type_name(f))
        }
        other => other.to_string().to_lowercase(),
    }
}

/// Validates JSON text and returns it the way PostgreSQL's `jsonb` prints it:
/// keys ordered by length then bytes, duplicates resolved to the last value,
/// `", "` and `": "` between items.
pub fn normalize_jsonb(text: &str) -> Result<String, crate::SqlError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| crate::SqlError::new(crate::SqlState::InvalidTextRepresentation, "invalid input syntax for type json").with_detail(format!("{e}")))?;
    let mut out = String::with_capacity(text.len());
    write_jsonb(&value, &mut out);
    Ok(out)
}

/// A JSON value as PostgreSQL's `jsonb` prints it.
pub fn jsonb_text(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_jsonb(v, &mut out);
    out
}

fn write_jsonb(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_jsonb(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes())));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_jsonb(&map[k], out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonb_text_is_normalized_like_postgres() {
        assert_eq!(normalize_jsonb(r#"{"bb":1,"a":[1,2,{"z":null}],"a":true}"#).unwrap(), r#"{"a": true, "bb": 1}"#);
        assert_eq!(normalize_jsonb(" [1,\"x\"] ").unwrap(), r#"[1, "x"]"#);
        assert_eq!(normalize_jsonb("{nope").unwrap_err().state.code(), "22P02");
    }
}
