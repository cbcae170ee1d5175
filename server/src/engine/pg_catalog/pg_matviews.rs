//! `pg_matviews`: weir's materialized views with their queries.

use super::build::Rows;
use super::{OWNER, view_definition};
use crate::engine::Engine;
use weir_planner::SqlResult;
use weir_planner::names::split_key;

pub const COLUMNS: &str = "schemaname:name matviewname:name matviewowner:name tablespace:name hasindexes:bool=f ispopulated:bool=t definition:text";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for v in engine.views_in_order() {
        rows.add(vec![
            ("schemaname", split_key(&v.name).0.into()),
            ("matviewname", split_key(&v.name).1.into()),
            ("matviewowner", OWNER.into()),
            ("definition", view_definition(engine, v.id).into()),
        ]);
    }
    Ok(())
}
