//! `weir_sink_status`: progress and health of every sink (rows written,
//! epochs, errors, retries, lag, checkpoints kept for it, undelivered bytes
//! in memory, last error and write).

use crate::dataflow::now_micros;
use crate::engine::Engine;
use crate::engine::sinks::{SinkDef, SinkStatus};
use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use weir_planner::SqlResult;

/// `weir_sink_status`: progress and health of every sink.
pub fn rows(engine: &Engine) -> SqlResult<(SchemaRef, RecordBatch)> {
    let sinks = engine.sinks_in_order();
    let now = now_micros();
    let text = |f: &dyn Fn(&SinkDef) -> String| Arc::new(StringArray::from_iter_values(sinks.iter().map(|s| f(s)))) as ArrayRef;
    let int = |f: &dyn Fn(&SinkStatus) -> i64| Arc::new(Int64Array::from_iter_values(sinks.iter().map(|s| f(&s.status)))) as ArrayRef;
    let lag_rows = |s: &SinkDef| -> i64 {
        let published = s.input_state.lock().as_ref().map(|v| v.stats.rows_out.load(Ordering::Relaxed) as i64).unwrap_or(0);
        (published - s.status.rows_base.load(Ordering::Relaxed) - s.status.rows_taken.load(Ordering::Relaxed) as i64).max(0)
    };
    let last_write: TimestampMicrosecondArray = sinks
        .iter()
        .map(|s| Some(s.status.last_write.load(Ordering::Relaxed)).filter(|t| *t != 0))
        .collect::<TimestampMicrosecondArray>()
        .with_timezone("+00:00");
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()));
    let mut fields: Vec<Field> = ["name", "from", "connector", "status"].map(|n| Field::new(n, DataType::Utf8, false)).to_vec();
    for n in ["rows_written", "batches", "errors", "retries", "lag_rows", "lag_ms", "last_epoch", "undelivered_checkpoints"] {
        fields.push(Field::new(n, DataType::Int64, false));
    }
    fields.push(Field::new("last_error", DataType::Utf8, true));
    fields.push(Field::new("last_write", ts, true));
    fields.push(Field::new("buffered_bytes", DataType::Int64, false));
    let last_error: StringArray = sinks.iter().map(|s| Some(s.status.last_error.lock().clone()).filter(|e| !e.is_empty())).collect();
    let cols: Vec<ArrayRef> = vec![
        text(&|s| s.name.clone()),
        text(&|s| s.from.clone()),
        text(&|s| s.connector.clone()),
        text(&|s| s.status.state.lock().to_string()),
        int(&|s| s.rows_written.load(Ordering::Relaxed) as i64),
        int(&|s| s.epochs.load(Ordering::Relaxed) as i64),
        int(&|s| s.errors.load(Ordering::Relaxed) as i64),
        int(&|s| s.retries.load(Ordering::Relaxed) as i64),
        Arc::new(Int64Array::from_iter_values(sinks.iter().map(|s| lag_rows(s)))),
        int(&|s| match s.waiting_since.load(Ordering::Relaxed) {
            0 => 0,
            t => (now - t).max(0) / 1000,
        }),
        int(&|s| s.last_epoch.load(Ordering::Relaxed) as i64),
        Arc::new(Int64Array::from_iter_values(sinks.iter().map(|s| engine.coord.undelivered(&crate::dataflow::checkpoint::MemberId::Sink(s.id)) as i64))),
        Arc::new(last_error),
        Arc::new(last_write),
        int(&|s| s.buffered_bytes.load(Ordering::Relaxed) as i64),
    ];
    let schema = Arc::new(Schema::new(fields));
    Ok((schema.clone(), RecordBatch::try_new(schema, cols)?))
}
