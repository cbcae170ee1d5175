//! `pg_views`: plain views. weir has none yet, so the relation is empty;
//! materialized views are in `pg_matviews`.

use super::build::Rows;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "schemaname:name viewname:name viewowner:name definition:text";

pub fn fill(_: &Engine, _: &mut Rows) -> SqlResult<()> {
    Ok(())
}
