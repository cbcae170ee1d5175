//! `weir_views`: each materialized view's input, emit mode, status and
//! progress (rows in, late rows, rows an expression failed on, dead
//! letters, watermark) and its contents: rows, bytes in memory and on disk.

use crate::engine::Engine;
use crate::engine::objects::{View, batch_of, emit_text, text_column};
use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::datatypes::{DataType, Field, SchemaRef, TimeUnit};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use weir_planner::SqlResult;

pub fn rows(engine: &Engine) -> SqlResult<(SchemaRef, RecordBatch)> {
    let views = engine.views_in_order();
    let bytes: Vec<(u64, u64)> = views.iter().map(|v| v.state.state_bytes()).collect();
    let stat = |f: &dyn Fn(&View) -> i64| Arc::new(Int64Array::from_iter_values(views.iter().map(|v| f(v)))) as ArrayRef;
    let wm: TimestampNanosecondArray =
        views.iter().map(|v| Some(v.state.stats.watermark_ns.load(Ordering::Relaxed)).filter(|w| *w != i64::MIN && *w != i64::MAX)).collect();
    let ts = DataType::Timestamp(TimeUnit::Nanosecond, None);
    batch_of(
        vec![
            text_column("name"),
            text_column("input"),
            text_column("emit"),
            text_column("status"),
            Field::new("rows_in", DataType::Int64, false),
            Field::new("rows_late", DataType::Int64, false),
            Field::new("rows_failed", DataType::Int64, false),
            Field::new("dead_letters", DataType::Int64, false),
            Field::new("watermark", ts, true),
            Field::new("rows", DataType::Int64, false),
            Field::new("memory_bytes", DataType::Int64, false),
            Field::new("disk_bytes", DataType::Int64, false),
        ],
        vec![
            Arc::new(StringArray::from_iter_values(views.iter().map(|v| v.name.clone()))),
            Arc::new(StringArray::from_iter_values(views.iter().map(|v| v.plan.input.name.clone()))),
            Arc::new(StringArray::from_iter_values(views.iter().map(|v| emit_text(v.plan.emit)))),
            Arc::new(StringArray::from_iter_values(views.iter().map(|v| v.state.status().to_string()))),
            stat(&|v| v.state.stats.rows_in.load(Ordering::Relaxed) as i64),
            stat(&|v| v.state.stats.rows_late.load(Ordering::Relaxed) as i64),
            stat(&|v| v.state.stats.rows_failed.load(Ordering::Relaxed) as i64),
            stat(&|v| v.state.stats.dead_letters.load(Ordering::Relaxed) as i64),
            Arc::new(wm),
            stat(&|v| v.state.row_count() as i64),
            Arc::new(Int64Array::from_iter_values(bytes.iter().map(|b| b.0 as i64))),
            Arc::new(Int64Array::from_iter_values(bytes.iter().map(|b| b.1 as i64))),
        ],
    )
}
