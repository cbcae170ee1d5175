//! `weir_dead_letters`: records a source could not decode and late rows,
//! with where they came from and why (the most recent ones, see `DeadLetters`).

use crate::dataflow::dead_letters::DeadLetters;
use crate::engine::Engine;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use weir_planner::SqlResult;

pub fn rows(engine: &Engine) -> SqlResult<(SchemaRef, RecordBatch)> {
    Ok((DeadLetters::schema(), engine.dead_letters.batch()?))
}
