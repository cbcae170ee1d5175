//! weir's system relations: read-only tables built from the live catalog
//! each time a query reads them, one file per relation. To add one, write
//! its file with a `rows` function and list it in [`NAMES`] and [`relation`].

mod weir_catalog;
mod weir_checkpoints;
mod weir_dead_letters;
mod weir_sink_status;
mod weir_views;

use crate::engine::Engine;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use weir_planner::SqlResult;

/// Every system relation, as SELECT and the catalog name them.
pub const NAMES: &[&str] = &["weir_catalog", "weir_checkpoints", "weir_dead_letters", "weir_sink_status", "weir_views"];

/// The rows of the system relation `name`, or None when there is none of that name.
pub fn relation(engine: &Engine, name: &str) -> SqlResult<Option<(SchemaRef, RecordBatch)>> {
    Ok(Some(match name {
        "weir_catalog" => weir_catalog::rows(engine)?,
        "weir_checkpoints" => weir_checkpoints::rows(engine)?,
        "weir_dead_letters" => weir_dead_letters::rows(engine)?,
        "weir_sink_status" => weir_sink_status::rows(engine)?,
        "weir_views" => weir_views::rows(engine)?,
        _ => return Ok(None),
    }))
}
