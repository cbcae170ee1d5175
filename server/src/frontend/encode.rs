//! Arrow batches to PostgreSQL rows: column types for RowDescription and
//! values in text or binary format. Delegates to `arrow-pg`, except for
//! `jsonb`, which Arrow carries as tagged UTF-8.

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::Schema;
use bytes::{BufMut, BytesMut};
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use pgwire::types::ToSqlText;
use pgwire::types::format::FormatOptions;
use postgres_types::{IsNull, ToSql, to_sql_checked};
use std::error::Error;
use std::sync::Arc;
use weir_planner::types::is_jsonb;

/// RowDescription fields for a schema, in the formats the client asked for.
pub fn pg_fields(schema: &Schema, format: &Format) -> PgWireResult<Vec<FieldInfo>> {
    let mut fields = arrow_pg::datatypes::arrow_schema_to_pg_fields(schema, format, None)?;
    for (i, f) in schema.fields().iter().enumerate() {
        if is_jsonb(f) {
            fields[i] = FieldInfo::new(f.name().clone(), None, None, Type::JSONB, format.format_for(i));
        } else if let Some(t) = tagged_type(f) {
            fields[i] = FieldInfo::new(f.name().clone(), None, None, t, format.format_for(i));
        } else if *f.data_type() == arrow::datatypes::DataType::UInt64 {
            // row_number(), rank() and the like: bigint in PostgreSQL.
            fields[i] = FieldInfo::new(f.name().clone(), None, None, Type::INT8, format.format_for(i));
        } else if *f.data_type() == arrow::datatypes::DataType::Null {
            // `SELECT NULL`: an unknown-typed result column is text, as PostgreSQL 10 on resolves it.
            fields[i] = FieldInfo::new(f.name().clone(), None, None, Type::TEXT, format.format_for(i));
        }
    }
    Ok(fields)
}

/// The PostgreSQL type of a column whose metadata names one (oid, name,
/// varchar(n), uuid, inet, "char"), when weir encodes it itself.
fn tagged_type(f: &arrow::datatypes::Field) -> Option<Type> {
    f.metadata().get(weir_planner::types::PG_TYPE_KEY)?;
    let t = Type::from_oid(weir_planner::pgtypes::column_type(f).oid)?;
    [
        Type::OID,
        Type::NAME,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::CHAR,
        Type::UUID,
        Type::INET,
        Type::CIDR,
        Type::JSON,
        Type::INT2_VECTOR,
        Type::OID_VECTOR,
        Type::REGTYPE,
    ]
    .contains(&t)
    .then_some(t)
}

/// A value of a tagged type, as text or in PostgreSQL's binary form.
#[derive(Debug)]
struct Tagged(String);

impl Tagged {
    fn binary(&self, ty: &Type) -> Result<Vec<u8>, Box<dyn Error + Sync + Send>> {
        let s = self.0.as_str();
        Ok(match *ty {
            Type::OID => s.parse::<u32>()?.to_be_bytes().to_vec(),
            Type::CHAR => s.bytes().take(1).collect(),
            Type::UUID => {
                let hex: String = s.chars().filter(|c| *c != '-').collect();
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16)).collect::<Result<_, _>>()?
            }
            Type::INET => inet_binary(s, false)?,
            Type::CIDR => inet_binary(s, true)?,
            Type::INT2_VECTOR => vector_binary(s, 21, 2)?,
            Type::OID_VECTOR => vector_binary(s, 26, 4)?,
            Type::REGTYPE => regtype_oid(s).ok_or_else(|| format!("unknown type {s}"))?.to_be_bytes().to_vec(),
            _ => s.as_bytes().to_vec(),
        })
    }
}

/// The OID of a type named as `regtype` prints it (`integer`, `text[]`).
fn regtype_oid(s: &str) -> Option<u32> {
    let base = s.strip_suffix("[]");
    let t = weir_planner::pgtypes::TYPES.iter().find(|t| t.display == base.unwrap_or(s))?;
    Some(if base.is_some() { t.array } else { t.oid })
}

/// An int2vector's or oidvector's binary form (as a one-dimensional array
/// whose subscripts start at 0) from its text, `1 2 3`.
fn vector_binary(s: &str, element_oid: u32, width: usize) -> Result<Vec<u8>, Box<dyn Error + Sync + Send>> {
    let items: Vec<i64> = s.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for word in [1i32, 0, element_oid as i32, items.len() as i32, 0] {
        out.extend(word.to_be_bytes()); // dimensions, has nulls, element type, length, lower bound
    }
    for v in items {
        out.extend((width as i32).to_be_bytes());
        out.extend(&v.to_be_bytes()[8 - width..]);
    }
    Ok(out)
}

/// inet's binary form: family, prefix bits, is-cidr flag, length, address.
fn inet_binary(s: &str, cidr: bool) -> Result<Vec<u8>, Box<dyn Error + Sync + Send>> {
    let (addr, bits) = s.split_once('/').map_or((s, None), |(a, b)| (a, Some(b)));
    let ip: std::net::IpAddr = addr.parse()?;
    let (family, bytes) = match ip {
        std::net::IpAddr::V4(v) => (2u8, v.octets().to_vec()),
        std::net::IpAddr::V6(v) => (3u8, v.octets().to_vec()),
    };
    let bits: u8 = bits.map_or(Ok(bytes.len() as u8 * 8), str::parse)?;
    let mut out = vec![family, bits, u8::from(cidr), bytes.len() as u8];
    out.extend(bytes);
    Ok(out)
}

impl ToSql for Tagged {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(&self.binary(ty)?);
        Ok(IsNull::No)
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

impl ToSqlText for Tagged {
    fn to_sql_text(&self, _ty: &Type, out: &mut BytesMut, _f: &FormatOptions) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

/// A text value, whichever of Arrow's string layouts holds it (plans such
/// as UNION may turn Utf8 into Utf8View and keep the column's type tag).
fn text_at(array: &dyn Array, row: usize) -> Option<&str> {
    use arrow::array::{LargeStringArray, StringViewArray};
    let any = array.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Some(a.value(row));
    }
    if let Some(a) = any.downcast_ref::<StringViewArray>() {
        return Some(a.value(row));
    }
    any.downcast_ref::<LargeStringArray>().map(|a| a.value(row))
}

fn tagged_value(array: &dyn Array, row: usize) -> Option<Tagged> {
    use arrow::array::{Int64Array, ListArray};
    if let Some(t) = text_at(array, row) {
        return Some(Tagged(t.to_string()));
    }
    if let Some(list) = array.as_any().downcast_ref::<ListArray>() {
        // int2vector / oidvector: the items, space-separated
        let items = list.value(row);
        let texts = (0..items.len()).map(|i| arrow::util::display::array_value_to_string(&items, i)).collect::<Result<Vec<_>, _>>().ok()?;
        return Some(Tagged(texts.join(" ")));
    }
    array.as_any().downcast_ref::<Int64Array>().map(|a| Tagged(a.value(row).to_string()))
}

/// A `jsonb` value held as its JSON text.
#[derive(Debug)]
struct JsonbText<'a>(&'a str);

impl ToSql for JsonbText<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_u8(1); // jsonb binary format version
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }
    to_sql_checked!();
}

impl ToSqlText for JsonbText<'_> {
    fn to_sql_text(&self, _ty: &Type, out: &mut BytesMut, _f: &FormatOptions) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

/// Text that is already in PostgreSQL's output form.
#[derive(Debug)]
struct PgText(String);

impl ToSql for PgText {
    fn to_sql(&self, _ty: &Type, _out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        Err("PgText is for text format only".into())
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

impl ToSqlText for PgText {
    fn to_sql_text(&self, _ty: &Type, out: &mut BytesMut, _f: &FormatOptions) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

/// Fractional seconds as PostgreSQL prints them: up to microseconds, trailing zeros dropped.
fn fraction(nanos: u32) -> String {
    let micros = nanos / 1000;
    if micros == 0 { String::new() } else { format!(".{micros:06}").trim_end_matches('0').to_string() }
}

/// How a session is shown values: timestamptz in its TimeZone (None: UTC).
#[derive(Debug, Clone, Copy, Default)]
pub struct Shown {
    pub time_zone: Option<chrono_tz::Tz>,
    /// bytea in PostgreSQL's escape format (`bytea_output = escape`), not hex.
    pub bytea_escape: bool,
}

/// A UTC offset as PostgreSQL prints it: `+00`, `-03`, `+05:30`.
fn offset_text(seconds: i32) -> String {
    let (sign, s) = if seconds < 0 { ('-', -seconds) } else { ('+', seconds) };
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    match (m, sec) {
        (0, 0) => format!("{sign}{h:02}"),
        (m, 0) => format!("{sign}{h:02}:{m:02}"),
        (m, sec) => format!("{sign}{h:02}:{m:02}:{sec:02}"),
    }
}

/// A UTC instant in the session's zone, as text with its offset.
fn zoned_text(utc: chrono::NaiveDateTime, shown: Shown) -> String {
    use chrono::{Offset, TimeZone, Timelike};
    let (local, offset) = match shown.time_zone {
        Some(tz) => {
            let z = tz.from_utc_datetime(&utc);
            (z.naive_local(), z.offset().fix().local_minus_utc())
        }
        None => (utc, 0),
    };
    format!("{}{}{}", local.format("%Y-%m-%d %H:%M:%S"), fraction(local.nanosecond()), offset_text(offset))
}

/// PostgreSQL's text form of a timestamp or time value, where it differs
/// from what the generic encoder prints (which always shows six digits).
fn temporal_text(array: &dyn Array, row: usize, shown: Shown) -> Option<String> {
    use arrow::array::temporal_conversions::{as_datetime, as_time};
    use arrow::array::*;
    use arrow::datatypes::*;
    use chrono::Timelike;
    macro_rules! ts {
        ($arr:ty, $t:ty, $tz:expr) => {{
            let v = array.as_any().downcast_ref::<$arr>()?.value(row);
            let dt = as_datetime::<$t>(v)?;
            if $tz {
                return Some(zoned_text(dt, shown));
            }
            Some(format!("{}{}", dt.format("%Y-%m-%d %H:%M:%S"), fraction(dt.nanosecond())))
        }};
    }
    macro_rules! tm {
        ($arr:ty, $t:ty) => {{
            let v = array.as_any().downcast_ref::<$arr>()?.value(row);
            let t = as_time::<$t>(v as i64)?;
            Some(format!("{}{}", t.format("%H:%M:%S"), fraction(t.nanosecond())))
        }};
    }
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, tz) => ts!(TimestampSecondArray, TimestampSecondType, tz.is_some()),
        DataType::Timestamp(TimeUnit::Millisecond, tz) => ts!(TimestampMillisecondArray, TimestampMillisecondType, tz.is_some()),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => ts!(TimestampMicrosecondArray, TimestampMicrosecondType, tz.is_some()),
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => ts!(TimestampNanosecondArray, TimestampNanosecondType, tz.is_some()),
        DataType::Time32(TimeUnit::Second) => tm!(Time32SecondArray, Time32SecondType),
        DataType::Time32(TimeUnit::Millisecond) => tm!(Time32MillisecondArray, Time32MillisecondType),
        DataType::Time64(TimeUnit::Microsecond) => tm!(Time64MicrosecondArray, Time64MicrosecondType),
        DataType::Time64(TimeUnit::Nanosecond) => tm!(Time64NanosecondArray, Time64NanosecondType),
        _ => None,
    }
}

/// PostgreSQL's text form of a float: the shortest digits that read back
/// exactly, in fixed notation for decimal exponents from -4 up to `max_exp`
/// (15 for float8, 6 for float4) and in `1e+20` notation otherwise.
pub fn float_text(v: f64, max_exp: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. "-1.25e3".
    let sci = if max_exp <= 6 { format!("{:e}", v as f32) } else { format!("{v:e}") };
    let (mantissa, exp) = sci.split_once('e').expect("scientific form");
    let exp: i32 = exp.parse().expect("exponent");
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if exp < -4 || exp >= max_exp {
        let rest = &digits[1..];
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        return format!("{sign}{}{frac}e{}{:02}", &digits[..1], if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{sign}{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point as usize], &digits[point as usize..])
    }
}

/// Text for the types whose PostgreSQL text form weir writes itself.
fn own_text(array: &dyn Array, row: usize, shown: Shown) -> Option<String> {
    use arrow::array::{Float32Array, Float64Array};
    use arrow::datatypes::DataType;
    match array.data_type() {
        DataType::Float64 => Some(float_text(array.as_any().downcast_ref::<Float64Array>()?.value(row), 15)),
        DataType::Float32 => Some(float_text(array.as_any().downcast_ref::<Float32Array>()?.value(row) as f64, 6)),
        DataType::Decimal128(_, scale) => Some(decimal_text(array.as_any().downcast_ref::<arrow::array::Decimal128Array>()?.value(row), *scale)),
        DataType::Binary if shown.bytea_escape => Some(bytea_escape_text(array.as_any().downcast_ref::<arrow::array::BinaryArray>()?.value(row))),
        DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano) => {
            let a = array.as_any().downcast_ref::<arrow::array::IntervalMonthDayNanoArray>()?;
            Some(weir_planner::pgfunctions::interval_text::text(a.value(row)))
        }
        _ => temporal_text(array, row, shown),
    }
}

/// An array of a type whose text weir writes itself (`has_own_text`:
/// timestamps, floats, ...), as PostgreSQL writes the array:
/// `{"2024-03-10 12:00:00",NULL}`.
fn own_list_text(array: &dyn Array, row: usize, shown: Shown) -> Option<String> {
    let list = array.as_any().downcast_ref::<arrow::array::ListArray>().filter(|l| has_own_text(&l.value_type()))?;
    let items = list.value(row);
    let texts: Vec<Option<String>> = (0..items.len()).map(|i| if items.is_null(i) { None } else { own_text(items.as_ref(), i, shown) }).collect();
    Some(weir_planner::pgfunctions::arrays::literal::write(texts.iter().map(Option::as_deref)))
}

/// A decimal as PostgreSQL writes a numeric: every digit of its scale, all
/// 38 digits if need be (arrow-pg's conversion stops at 28).
fn decimal_text(v: i128, scale: i8) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let digits = v.unsigned_abs().to_string();
    if scale <= 0 {
        let zeros = if v == 0 { String::new() } else { "0".repeat(scale.unsigned_abs() as usize) };
        return format!("{sign}{digits}{zeros}");
    }
    let scale = scale as usize;
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// bytea as `bytea_output = escape` writes it: printable ASCII as itself,
/// a backslash doubled, any other byte as `\ooo`.
fn bytea_escape_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

/// Binary for the types whose PostgreSQL binary form weir writes itself (numeric).
fn own_binary(array: &dyn Array, row: usize, format: FieldFormat) -> Option<OwnBinary> {
    let a = array.as_any().downcast_ref::<arrow::array::Decimal128Array>().filter(|_| format == FieldFormat::Binary)?;
    let bytes = super::numeric::numeric_binary(a.value(row), a.scale())?;
    Some(OwnBinary(bytes))
}

/// A value already in its binary wire form (only ever sent in binary).
#[derive(Debug)]
struct OwnBinary(Vec<u8>);

impl ToSql for OwnBinary {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(&self.0);
        Ok(IsNull::No)
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

impl ToSqlText for OwnBinary {
    fn to_sql_text(&self, _ty: &Type, _out: &mut BytesMut, _f: &FormatOptions) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        Err("a binary-only value was asked for in text".into())
    }
}

fn has_own_text(t: &arrow::datatypes::DataType) -> bool {
    use arrow::datatypes::DataType;
    matches!(
        t,
        DataType::Timestamp(..)
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(..)
            | DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano)
    )
}

#[cfg(test)]
mod tests {
    use super::{decimal_text, float_text};

    #[test]
    fn decimals_print_every_digit() {
        for (v, s, want) in [
            (0, 2, "0.00"),
            (5, 2, "0.05"),
            (-5, 2, "-0.05"),
            (12345, 2, "123.45"),
            (-1050, 2, "-10.50"),
            (7, 0, "7"),
            (12, -2, "1200"),
            (0, -2, "0"),
            (i128::MAX, 2, "1701411834604692317316873037158841057.27"),
            (-99999999999999999999999999999999_99, 2, "-99999999999999999999999999999999.99"),
        ] {
            assert_eq!(decimal_text(v, s), want, "{v} at scale {s}");
        }
    }

    #[test]
    fn floats_print_like_postgres() {
        for (v, want) in [
            (5.0, "5"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (1e20, "1e+20"),
            (1.5e-7, "1.5e-07"),
            (123456789012345.0, "123456789012345"),
            (1e15, "1e+15"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
        ] {
            assert_eq!(float_text(v, 15), want, "{v}");
        }
        assert_eq!(float_text(f64::NAN, 15), "NaN");
        assert_eq!(float_text(1.1f32 as f64, 6), "1.1");
        assert_eq!(float_text(1234567.0, 6), "1.234567e+06");
    }

    // `SELECT ARRAY[1.5::float8, 2, NULL], ARRAY[timestamp '2024-03-10 12:00:00.5']` in PostgreSQL 15.
    #[test]
    fn arrays_print_like_postgres() {
        use arrow::array::{Float64Builder, ListBuilder, TimestampMicrosecondBuilder};
        let mut floats = ListBuilder::new(Float64Builder::new());
        floats.values().append_value(1.5);
        floats.values().append_value(2.0);
        floats.values().append_null();
        floats.append(true);
        assert_eq!(super::own_list_text(&floats.finish(), 0, super::Shown::default()).as_deref(), Some("{1.5,2,NULL}"));
        let mut times = ListBuilder::new(TimestampMicrosecondBuilder::new());
        times.values().append_value(1_710_072_000_500_000);
        times.append(true);
        assert_eq!(super::own_list_text(&times.finish(), 0, super::Shown::default()).as_deref(), Some(r#"{"2024-03-10 12:00:00.5"}"#));
    }
}

/// Encodes every row of `batch` (whose columns match `fields`), shown as `shown` says.
pub fn encode_batch(fields: &Arc<Vec<FieldInfo>>, batch: &RecordBatch, shown: Shown) -> Vec<PgWireResult<DataRow>> {
    let schema = batch.schema();
    let mut encoder = DataRowEncoder::new(fields.clone());
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut result = Ok(());
        for (col, pg_field) in fields.iter().enumerate() {
            let array = batch.column(col);
            let field = schema.field(col);
            result = if array.is_null(row) {
                // NULL is the same for every type (and arrow-pg misses it for some).
                encoder.encode_field_with_type_and_format(&None::<PgText>, pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else if pg_field.format() == FieldFormat::Text
                && (has_own_text(array.data_type()) || shown.bytea_escape && *array.data_type() == arrow::datatypes::DataType::Binary)
            {
                let value = own_text(array.as_ref(), row, shown).map(PgText);
                encoder.encode_field_with_type_and_format(&value, pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else if let Some(value) = (pg_field.format() == FieldFormat::Text).then(|| own_list_text(array.as_ref(), row, shown)).flatten() {
                encoder.encode_field_with_type_and_format(&Some(PgText(value)), pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else if let Some(value) = own_binary(array.as_ref(), row, pg_field.format()) {
                encoder.encode_field_with_type_and_format(&Some(value), pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else if let Some(a) = array.as_any().downcast_ref::<arrow::array::UInt64Array>() {
                let value = i64::try_from(a.value(row)).unwrap_or(i64::MAX); // (no count gets that far)
                encoder.encode_field_with_type_and_format(&Some(value), pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else if tagged_type(field).as_ref() == Some(pg_field.datatype()) {
                let value = tagged_value(array.as_ref(), row);
                encoder.encode_field_with_type_and_format(&value, pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else if *pg_field.datatype() == Type::JSONB {
                let value = text_at(array.as_ref(), row).map(JsonbText);
                encoder.encode_field_with_type_and_format(&value, pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else {
                arrow_pg::encoder::encode_value(&mut encoder, array, row, field, pg_field)
            };
            if result.is_err() {
                break;
            }
        }
        rows.push(result.map(|_| encoder.take_row()));
    }
    rows
}
