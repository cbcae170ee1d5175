//! JSON messages to Arrow rows with the declared types, vectorised with
//! arrow-json. A message that does not fit (not JSON, a wrong type, a missing
//! required field) becomes a dead letter; the others still become rows.
//! Timestamps may be ISO-8601 text or epoch milliseconds.

use crate::DeadLetter;
use crate::format::{Decoder, Message};
use arrow::array::{Array, ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::json::ReaderBuilder;
use std::sync::Arc;

/// Decodes JSON documents into rows of `schema`.
pub struct JsonDecoder {
    schema: SchemaRef,
    /// The schema arrow-json reads: timestamps as text, converted after.
    read_schema: SchemaRef,
}

impl JsonDecoder {
    pub fn new(schema: SchemaRef) -> JsonDecoder {
        let read_fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Timestamp(..) => Field::new(f.name(), DataType::Utf8, f.is_nullable()),
                _ => f.as_ref().clone(),
            })
            .collect();
        JsonDecoder { schema, read_schema: Arc::new(Schema::new(read_fields)) }
    }

    fn decode_all(&self, messages: &[Message]) -> Result<RecordBatch, String> {
        let mut decoder = ReaderBuilder::new(self.read_schema.clone())
            .with_batch_size(messages.len().max(1))
            .with_coerce_primitive(true)
            .with_strict_mode(false)
            .build_decoder()
            .map_err(|e| e.to_string())?;
        for m in messages {
            let text = std::str::from_utf8(m.payload).map_err(|_| "message is not UTF-8".to_string())?;
            let trimmed = text.trim();
            if !trimmed.starts_with('{') {
                return Err("message is not a JSON object".into());
            }
            let consumed = decoder.decode(trimmed.as_bytes()).map_err(|e| e.to_string())?;
            if consumed != trimmed.len() {
                return Err("message holds more than one JSON value".into());
            }
            // Each message is one row: flush so rows and messages stay aligned.
            decoder.decode(b"\n").map_err(|e| e.to_string())?;
        }
        let raw = decoder.flush().map_err(|e| e.to_string())?.ok_or_else(|| "no rows".to_string())?;
        if raw.num_rows() != messages.len() {
            return Err(format!("expected {} rows, decoded {}", messages.len(), raw.num_rows()));
        }
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(raw.num_columns());
        for (f, col) in self.schema.fields().iter().zip(raw.columns()) {
            let col = match f.data_type() {
                DataType::Timestamp(TimeUnit::Nanosecond, tz) => timestamps(col, tz.clone())?,
                _ => col.clone(),
            };
            if !f.is_nullable() && col.null_count() > 0 {
                return Err(format!("required field \"{}\" is missing or null", f.name()));
            }
            cols.push(col);
        }
        RecordBatch::try_new(self.schema.clone(), cols).map_err(|e| e.to_string())
    }
}

/// ISO-8601 text, or a whole number of epoch milliseconds, to nanoseconds.
fn timestamps(col: &ArrayRef, tz: Option<Arc<str>>) -> Result<ArrayRef, String> {
    let text = col.as_any().downcast_ref::<StringArray>().ok_or("timestamp field is not text")?;
    let all_millis = text.iter().flatten().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
    let out: TimestampNanosecondArray = if all_millis {
        text.iter()
            .map(|v| {
                v.map(|s| {
                    s.parse::<i64>()
                        .ok()
                        .and_then(|ms| ms.checked_mul(1_000_000))
                        .ok_or_else(|| format!("epoch milliseconds out of range or malformed: \"{s}\""))
                })
                .transpose()
            })
            .collect::<Result<_, _>>()?
    } else {
        let opts = CastOptions { safe: false, ..Default::default() };
        let cast = cast_with_options(col, &DataType::Timestamp(TimeUnit::Nanosecond, None), &opts).map_err(|e| format!("bad timestamp: {e}"))?;
        cast.as_any().downcast_ref::<TimestampNanosecondArray>().ok_or("timestamp cast")?.clone()
    };
    Ok(Arc::new(out.with_timezone_opt(tz)) as ArrayRef)
}

impl Decoder for JsonDecoder {
    fn decode(&self, messages: &[Message]) -> (Option<RecordBatch>, Vec<DeadLetter>) {
        if let Ok(b) = self.decode_all(messages) {
            return (Some(b), vec![]);
        }
        // Some message is bad: decode one by one to find which.
        let mut good = Vec::new();
        let mut dead = Vec::new();
        for m in messages {
            match self.decode_all(std::slice::from_ref(m)) {
                Ok(b) => good.push(b),
                Err(e) => dead.push(DeadLetter { partition: m.partition, offset: m.offset, raw: String::from_utf8_lossy(m.payload).into_owned(), error: e }),
            }
        }
        let batch = if good.is_empty() { None } else { arrow::compute::concat_batches(&self.schema, &good).ok() };
        (batch, dead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    #[test]
    fn bad_messages_become_dead_letters_and_the_rest_rows() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, None), false),
        ]));
        let d = JsonDecoder::new(schema);
        let msgs: Vec<&[u8]> = vec![
            br#"{"id": 1, "name": "a", "ts": "2026-01-01T00:00:01Z", "extra": true}"#,
            b"not json",
            br#"{"id": "x", "ts": 1767225600000}"#,
            br#"{"name": "no id", "ts": 1767225600000}"#,
            br#"{"id": 2, "ts": 1767225600000}"#,
        ];
        let m: Vec<Message> = msgs.iter().enumerate().map(|(i, p)| Message { partition: 0, offset: i as i64, payload: p }).collect();
        let (batch, dead) = d.decode(&m);
        let batch = batch.unwrap();
        assert_eq!(batch.num_rows(), 2);
        let ids = batch.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(ids.values().to_vec(), vec![1, 2]);
        let ts = batch.column(2).as_any().downcast_ref::<TimestampNanosecondArray>().unwrap();
        assert_eq!(ts.value(1), 1_767_225_600_000_000_000);
        assert_eq!(dead.iter().map(|d| d.offset).collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
