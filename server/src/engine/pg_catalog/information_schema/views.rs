//! `information_schema.views`: plain views with their queries (as in
//! PostgreSQL, materialized views are in pg_matviews only).

use super::table_ref;
use crate::engine::Engine;
use crate::engine::pg_catalog::build::Rows;
use crate::engine::pg_catalog::{Object, user_relations, view_definition};
use weir_planner::SqlResult;

pub const COLUMNS: &str = "table_catalog:name table_schema:name table_name:name view_definition:text check_option:text=NONE \
    is_updatable:text=NO is_insertable_into:text=NO is_trigger_updatable:text=NO is_trigger_deletable:text=NO \
    is_trigger_insertable_into:text=NO";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine) {
        let Object::PlainView(v) = &r.object else { continue };
        let id = v.id;
        let mut row = table_ref(&r);
        row.push(("view_definition", view_definition(engine, id).into()));
        rows.add(row);
    }
    Ok(())
}
