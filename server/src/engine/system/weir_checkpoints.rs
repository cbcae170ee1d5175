//! `weir_checkpoints`: recent checkpoints (epoch, when, how long, how big,
//! and whether every sink has delivered it), newest last.

use crate::engine::Engine;
use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use std::sync::Arc;
use weir_planner::SqlResult;

/// `weir_checkpoints`: recent checkpoints, newest last.
pub fn rows(engine: &Engine) -> SqlResult<(SchemaRef, RecordBatch)> {
    use arrow::array::{BooleanArray, Float64Array, Int64Array, TimestampMicrosecondArray};
    use arrow::datatypes::{DataType, Field, TimeUnit};
    let history = engine.coord.history();
    let schema = Arc::new(Schema::new(vec![
        Field::new("epoch", DataType::Int64, false),
        Field::new("written_at", DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())), false),
        Field::new("duration_ms", DataType::Float64, false),
        Field::new("bytes", DataType::Int64, false),
        Field::new("parts", DataType::Int64, false),
        Field::new("complete", DataType::Boolean, false),
    ]));
    let cols: Vec<arrow::array::ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(history.iter().map(|(i, _)| i.epoch as i64))),
        Arc::new(TimestampMicrosecondArray::from_iter_values(history.iter().map(|(i, _)| i.at_micros)).with_timezone("+00:00")),
        Arc::new(Float64Array::from_iter_values(history.iter().map(|(i, _)| i.duration.as_secs_f64() * 1000.0))),
        Arc::new(Int64Array::from_iter_values(history.iter().map(|(i, _)| i.bytes as i64))),
        Arc::new(Int64Array::from_iter_values(history.iter().map(|(i, _)| i.members as i64))),
        Arc::new(BooleanArray::from_iter(history.iter().map(|(_, c)| Some(*c)))),
    ];
    Ok((schema.clone(), RecordBatch::try_new(schema, cols)?))
}
