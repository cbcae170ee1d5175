//! Formats: how the bytes of a source's messages become rows. A transport
//! (Kafka today; files and S3 later) hands its messages to the [`Decoder`]
//! the definition's `format` names, so a new format is one decoder and one
//! entry in [`FORMATS`], for every transport at once.

pub mod json;

use crate::{ConnectorError, DeadLetter, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

/// The formats a source can read.
pub const FORMATS: &[&str] = &["json"];

/// One message: where it came from and its bytes.
pub struct Message<'a> {
    pub partition: i32,
    pub offset: i64,
    pub payload: &'a [u8],
}

/// Turns messages into rows of a source's schema.
pub trait Decoder: Send {
    /// The rows of the messages that fit, and a dead letter for each that does not.
    fn decode(&self, messages: &[Message]) -> (Option<RecordBatch>, Vec<DeadLetter>);
}

/// Checks a `format` option (default JSON).
pub fn check(format: Option<&str>) -> Result<&'static str> {
    let f = format.unwrap_or("json").trim();
    FORMATS
        .iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(f))
        .ok_or_else(|| ConnectorError::Config(format!("format \"{f}\" is not supported; weir reads: {}", FORMATS.join(", "))))
}

/// The decoder of a format [`check`] accepted.
pub fn decoder(format: &str, schema: SchemaRef) -> Result<Box<dyn Decoder>> {
    match format {
        "json" => Ok(Box::new(json::JsonDecoder::new(schema))),
        other => Err(ConnectorError::Internal(format!("format {other} was accepted but has no decoder"))),
    }
}
