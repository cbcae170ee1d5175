//! PostgreSQL's types as weir reports them: the `pg_type` rows clients look
//! up, the type OID and modifier of every Arrow column, and `format_type`'s
//! names. Where the Arrow type alone does not say the PostgreSQL type
//! (`varchar(20)`, `uuid`, `oid`), the column carries it in its metadata
//! under [`PG_TYPE_KEY`], as `name` or `name(modifiers)`.

use datafusion::arrow::datatypes::{DataType, Field};
use std::collections::HashMap;

/// Field metadata key naming the PostgreSQL type of a column where the Arrow
/// type alone does not say it.
pub const PG_TYPE_KEY: &str = "weir.pg_type";

/// One PostgreSQL base type.
#[derive(Debug, Clone, Copy)]
pub struct PgType {
    pub oid: u32,
    /// `pg_type.typname`.
    pub name: &'static str,
    /// What `format_type` prints when there is no modifier.
    pub display: &'static str,
    /// `typlen`: bytes, or -1 for variable length.
    pub len: i16,
    /// `typcategory`.
    pub category: char,
    /// The OID of its array type.
    pub array: u32,
}

const fn t(oid: u32, name: &'static str, display: &'static str, len: i16, category: char, array: u32) -> PgType {
    PgType { oid, name, display, len, category, array }
}

/// The base types weir has or reports, with PostgreSQL's OIDs.
pub const TYPES: &[PgType] = &[
    t(16, "bool", "boolean", 1, 'B', 1000),
    t(17, "bytea", "bytea", -1, 'U', 1001),
    t(18, "char", "\"char\"", 1, 'Z', 1002),
    t(19, "name", "name", 64, 'S', 1003),
    t(20, "int8", "bigint", 8, 'N', 1016),
    t(21, "int2", "smallint", 2, 'N', 1005),
    t(22, "int2vector", "int2vector", -1, 'A', 1006),
    t(23, "int4", "integer", 4, 'N', 1007),
    t(24, "regproc", "regproc", 4, 'N', 1008),
    t(25, "text", "text", -1, 'S', 1009),
    t(26, "oid", "oid", 4, 'N', 1028),
    t(30, "oidvector", "oidvector", -1, 'A', 1013),
    t(114, "json", "json", -1, 'U', 199),
    t(650, "cidr", "cidr", -1, 'I', 651),
    t(700, "float4", "real", 4, 'N', 1021),
    t(701, "float8", "double precision", 8, 'N', 1022),
    t(869, "inet", "inet", -1, 'I', 1041),
    t(1042, "bpchar", "character", -1, 'S', 1014),
    t(1043, "varchar", "character varying", -1, 'S', 1015),
    t(1082, "date", "date", 4, 'D', 1182),
    t(1083, "time", "time without time zone", 8, 'D', 1183),
    t(1114, "timestamp", "timestamp without time zone", 8, 'D', 1115),
    t(1184, "timestamptz", "timestamp with time zone", 8, 'D', 1185),
    t(1186, "interval", "interval", 16, 'T', 1187),
    t(1700, "numeric", "numeric", -1, 'N', 1231),
    t(2205, "regclass", "regclass", 4, 'N', 2210),
    t(2206, "regtype", "regtype", 4, 'N', 2211),
    t(2950, "uuid", "uuid", 16, 'U', 2951),
    t(3802, "jsonb", "jsonb", -1, 'U', 3807),
];

/// The type with this OID, or the base type of this array OID (with `true`).
pub fn by_oid(oid: u32) -> Option<(&'static PgType, bool)> {
    TYPES.iter().find(|t| t.oid == oid).map(|t| (t, false)).or_else(|| TYPES.iter().find(|t| t.array == oid).map(|t| (t, true)))
}

pub fn by_name(name: &str) -> Option<&'static PgType> {
    TYPES.iter().find(|t| t.name == name)
}

/// A column's PostgreSQL type: OID and modifier (`atttypmod`, -1 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnType {
    pub oid: u32,
    pub typmod: i32,
}

impl ColumnType {
    const fn plain(oid: u32) -> Self {
        ColumnType { oid, typmod: -1 }
    }
}

/// The PostgreSQL type of a column.
pub fn column_type(field: &Field) -> ColumnType {
    if let Some(tag) = field.metadata().get(PG_TYPE_KEY)
        && let Some(t) = tagged_type(tag)
    {
        return t;
    }
    arrow_type(field.data_type())
}

/// Reads a `weir.pg_type` tag: `uuid`, `varchar(20)`, `bpchar(3)`.
fn tagged_type(tag: &str) -> Option<ColumnType> {
    let (name, args) = match tag.split_once('(') {
        Some((n, rest)) => (n, rest.strip_suffix(')')?.parse::<i32>().ok()),
        None => (tag, None),
    };
    let t = by_name(name)?;
    Some(ColumnType { oid: t.oid, typmod: args.map_or(-1, |n| n + 4) })
}

/// The tag that records a PostgreSQL type on an Arrow field.
pub fn tag_field(field: Field, tag: &str) -> Field {
    let mut meta: HashMap<String, String> = field.metadata().clone();
    meta.insert(PG_TYPE_KEY.to_string(), tag.to_string());
    field.with_metadata(meta)
}

fn arrow_type(dt: &DataType) -> ColumnType {
    let oid = match dt {
        DataType::Boolean => 16,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => 21,
        DataType::Int32 | DataType::UInt16 => 23,
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => 20,
        DataType::Float16 | DataType::Float32 => 700,
        DataType::Float64 => 701,
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
            return ColumnType { oid: 1700, typmod: ((i32::from(*p) << 16) | i32::from(*s as u8)) + 4 };
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => 17,
        DataType::Date32 | DataType::Date64 => 1082,
        DataType::Time32(_) | DataType::Time64(_) => 1083,
        DataType::Timestamp(_, None) => 1114,
        DataType::Timestamp(_, Some(_)) => 1184,
        DataType::Interval(_) | DataType::Duration(_) => 1186,
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            let inner = column_type(f);
            return ColumnType::plain(by_oid(inner.oid).map_or(1009, |(t, _)| t.array));
        }
        _ => 25,
    };
    ColumnType::plain(oid)
}

/// `format_type(oid, typmod)`: the type's SQL name with its modifier.
pub fn format_type(oid: u32, typmod: i32) -> Option<String> {
    let (t, array) = by_oid(oid)?;
    let modifier = match (t.name, typmod) {
        (_, m) if m < 4 => String::new(),
        ("numeric", m) => format!("({},{})", (m - 4) >> 16, (m - 4) & 0xffff),
        ("varchar" | "bpchar", m) => format!("({})", m - 4),
        _ => String::new(),
    };
    Some(format!("{}{modifier}{}", t.display, if array { "[]" } else { "" }))
}

/// The elements of a one-dimensional array's text form (`{a,"b c",NULL}`);
/// NULL elements are the text `NULL` here, as paths and key lists take them.
pub fn parse_text_array(s: &str) -> Result<Vec<String>, String> {
    let inner = s.trim().strip_prefix('{').and_then(|r| r.strip_suffix('}')).ok_or_else(|| format!("\"{s}\": array value must start with \"{{\""))?;
    let mut out = vec![];
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => item.extend(chars.next()),
                    '"' => break,
                    c => item.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != ',') {
                item.push(c);
                chars.next();
            }
            item = item.trim().to_string();
        }
        out.push(item);
        match chars.next() {
            Some(',') | None => {}
            Some(c) => return Err(format!("\"{s}\": unexpected \"{c}\"")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_types_with_their_modifiers() {
        assert_eq!(format_type(23, -1).unwrap(), "integer");
        assert_eq!(format_type(1043, 24).unwrap(), "character varying(20)");
        assert_eq!(format_type(1700, ((12 << 16) | 2) + 4).unwrap(), "numeric(12,2)");
        assert_eq!(format_type(1007, -1).unwrap(), "integer[]");
        let f = tag_field(Field::new("v", DataType::Utf8, true), "varchar(20)");
        assert_eq!(column_type(&f), ColumnType { oid: 1043, typmod: 24 });
        let d = column_type(&Field::new("d", DataType::Decimal128(12, 2), true));
        assert_eq!(format_type(d.oid, d.typmod).unwrap(), "numeric(12,2)");
    }
}
