//! `pg_views`: plain views with their queries (materialized views are in `pg_matviews`).

use super::build::Rows;
use super::{OWNER, view_definition};
use crate::engine::Engine;
use weir_planner::SqlResult;
use weir_planner::names::split_key;

pub const COLUMNS: &str = "schemaname:name viewname:name viewowner:name definition:text";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for v in engine.plain_views_in_order() {
        rows.add(vec![
            ("schemaname", split_key(&v.name).0.into()),
            ("viewname", split_key(&v.name).1.into()),
            ("viewowner", OWNER.into()),
            ("definition", view_definition(engine, v.id).into()),
        ]);
    }
    Ok(())
}
