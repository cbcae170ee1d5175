//! Rows as text for sinks: PostgreSQL's text form per cell (Redis keys and
//! hash fields, COPY), key templates such as `metrics:{window_start}:{event_type}`,
//! and rows as JSON objects (Redis values, pub/sub, Kafka).

use crate::{ConnectorError, Result};
use arrow::array::{Array, ArrayRef, BinaryArray, LargeBinaryArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Timestamps as PostgreSQL prints them (fractional seconds only when present).
const OPTIONS: FormatOptions<'static> = FormatOptions::new()
    .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
    .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f%:z"))
    .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%.f"))
    .with_null("");

fn internal(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Internal(e.to_string())
}

/// Formats the cells of one batch as text.
pub struct TextCells<'a> {
    columns: Vec<Cell<'a>>,
}

enum Cell<'a> {
    Text(ArrayFormatter<'a>, &'a ArrayRef),
    Bytes(&'a ArrayRef),
    /// Microseconds since the epoch, UTC; `zone` adds PostgreSQL's "+00".
    Timestamp {
        micros: &'a arrow::array::TimestampMicrosecondArray,
        zone: bool,
    },
}

/// PostgreSQL's text form of a timestamp: `2026-01-01 10:00:00`, fractional
/// seconds without trailing zeros (`.5`), and `+00` for timestamptz in UTC.
fn write_timestamp(micros: i64, zone: bool, out: &mut String) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let Some(t) = chrono::DateTime::from_timestamp_micros(micros) else {
        let _ = write!(out, "{micros}");
        return;
    };
    let _ = write!(out, "{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second());
    let frac = micros.rem_euclid(1_000_000);
    if frac != 0 {
        let digits = format!("{frac:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    if zone {
        out.push_str("+00");
    }
}

/// Timestamps cut to microseconds, PostgreSQL's precision, as weir shows them
/// to clients (a target that rounded nanoseconds would differ in the last digit).
pub fn to_micros(batch: &RecordBatch) -> Result<RecordBatch> {
    use arrow::datatypes::{Field, Schema, TimeUnit};
    if !batch.schema().fields().iter().any(|f| matches!(f.data_type(), DataType::Timestamp(TimeUnit::Nanosecond, _))) {
        return Ok(batch.clone());
    }
    let mut fields: Vec<Field> = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        match f.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
                let t = DataType::Timestamp(TimeUnit::Microsecond, tz.clone());
                cols.push(arrow::compute::cast(c, &t).map_err(internal)?);
                fields.push(f.as_ref().clone().with_data_type(t));
            }
            _ => {
                cols.push(c.clone());
                fields.push(f.as_ref().clone());
            }
        }
    }
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), cols).map_err(internal)
}

impl<'a> TextCells<'a> {
    /// `batch` should have gone through [`to_micros`] first.
    pub fn new(batch: &'a RecordBatch) -> Result<Self> {
        let columns = batch
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Binary | DataType::LargeBinary => Ok(Cell::Bytes(c)),
                DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, tz) if tz.as_deref().is_none_or(|z| z == "+00:00" || z == "UTC") => {
                    let micros = c.as_any().downcast_ref::<arrow::array::TimestampMicrosecondArray>().ok_or_else(|| internal("timestamp"))?;
                    Ok(Cell::Timestamp { micros, zone: tz.is_some() })
                }
                _ => Ok(Cell::Text(ArrayFormatter::try_new(c.as_ref(), &OPTIONS).map_err(internal)?, c)),
            })
            .collect::<Result<_>>()?;
        Ok(TextCells { columns })
    }

    /// The cell's text, None for NULL. Bytes are `\x` and hex, as bytea's text form.
    pub fn get(&self, col: usize, row: usize) -> Option<String> {
        match &self.columns[col] {
            Cell::Timestamp { .. } => {
                let mut s = String::with_capacity(26);
                self.write(col, row, &mut s).then_some(s)
            }
            Cell::Text(f, a) => (!a.is_null(row)).then(|| f.value(row).to_string()),
            Cell::Bytes(a) => {
                if a.is_null(row) {
                    return None;
                }
                let bytes = match a.as_any().downcast_ref::<BinaryArray>() {
                    Some(b) => b.value(row),
                    None => a.as_any().downcast_ref::<LargeBinaryArray>()?.value(row),
                };
                let mut s = String::with_capacity(2 + bytes.len() * 2);
                s.push_str("\\x");
                for b in bytes {
                    s.push_str(&format!("{b:02x}"));
                }
                Some(s)
            }
        }
    }

    /// Writes the cell's text into `out` (nothing for NULL); returns false for NULL.
    pub fn write(&self, col: usize, row: usize, out: &mut String) -> bool {
        match &self.columns[col] {
            Cell::Timestamp { micros, zone } => {
                if micros.is_null(row) {
                    return false;
                }
                write_timestamp(micros.value(row), *zone, out);
                true
            }
            Cell::Text(f, a) => {
                if a.is_null(row) {
                    return false;
                }
                use std::fmt::Write;
                let _ = write!(out, "{}", f.value(row));
                true
            }
            Cell::Bytes(_) => match self.get(col, row) {
                Some(s) => {
                    out.push_str(&s);
                    true
                }
                None => false,
            },
        }
    }
}

/// A key template: literal text with `{column}` placeholders.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Column(usize),
}

impl Template {
    /// Parses `template` against the input's columns; `option` names it in errors.
    pub fn parse(template: &str, schema: &SchemaRef, option: &str) -> Result<Template> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| ConnectorError::Config(format!("option \"{option}\": \"{{\" without a closing \"}}\" in \"{template}\"")))?;
            let name = rest[open + 1..open + close].trim();
            let col = schema.index_of(name).map_err(|_| {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                ConnectorError::Config(format!("option \"{option}\": column \"{name}\" is not in the sink's input; it has: {}", have.join(", ")))
            })?;
            parts.push(Part::Column(col));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if parts.is_empty() {
            return Err(ConnectorError::Config(format!("option \"{option}\" is empty")));
        }
        Ok(Template { parts })
    }

    /// The columns the template reads.
    pub fn columns(&self) -> Vec<usize> {
        self.parts.iter().filter_map(|p| if let Part::Column(c) = p { Some(*c) } else { None }).collect()
    }

    /// The key of every row of `batch`.
    pub fn render_all(&self, batch: &RecordBatch) -> Result<Vec<String>> {
        let cells = TextCells::new(batch)?;
        Ok((0..batch.num_rows()).map(|i| self.render(&cells, i)).collect())
    }

    /// The key of one row; a NULL column renders as an empty string.
    pub fn render(&self, cells: &TextCells, row: usize) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Column(c) => {
                    cells.write(*c, row, &mut out);
                }
            }
        }
        out
    }
}

/// Each row of `batch` as one JSON object (NULLs written as null).
pub fn json_rows(batch: &RecordBatch) -> Result<Vec<String>> {
    if batch.num_rows() == 0 {
        return Ok(vec![]);
    }
    let mut w = arrow::json::WriterBuilder::new().with_explicit_nulls(true).build::<_, arrow::json::writer::LineDelimited>(Vec::new());
    w.write(batch).map_err(internal)?;
    w.finish().map_err(internal)?;
    let bytes = w.into_inner();
    let text = String::from_utf8(bytes).map_err(internal)?;
    Ok(text.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{StringArray, TimestampNanosecondArray};
    use arrow::datatypes::{Field, Schema, TimeUnit};
    use std::sync::Arc;

    #[test]
    fn templates_and_text() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("window_start", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
            Field::new("event_type", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(TimestampNanosecondArray::from(vec![Some(1_700_000_040_000_000_000), Some(1_700_000_040_500_000_000)])),
                Arc::new(StringArray::from(vec![Some("click"), None])),
            ],
        )
        .unwrap();
        let t = Template::parse("metrics:{window_start}:{event_type}", &schema, "key").unwrap();
        let micros = to_micros(&batch).unwrap();
        let cells = TextCells::new(&micros).unwrap();
        assert_eq!(t.render(&cells, 0), "metrics:2023-11-14 22:14:00:click");
        assert_eq!(t.render(&cells, 1), "metrics:2023-11-14 22:14:00.5:");
        assert_eq!(cells.get(1, 1), None);
        assert!(Template::parse("m:{nope}", &schema, "key").unwrap_err().to_string().contains("\"nope\""));
        assert!(Template::parse("m:{event_type", &schema, "key").is_err());
        let json = json_rows(&batch).unwrap();
        assert!(json[1].contains("\"event_type\":null"), "{}", json[1]);
    }
}
