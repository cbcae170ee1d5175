//! `information_schema.constraint_column_usage`: the columns each primary key uses.

use super::table_ref;
use crate::engine::Engine;
use crate::engine::pg_catalog::build::Rows;
use crate::engine::pg_catalog::user_relations;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "table_catalog:name table_schema:name table_name:name column_name:name constraint_catalog:name \
    constraint_schema:name constraint_name:name";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine) {
        for col in &r.primary_key {
            let mut row = table_ref(&r);
            row.extend([
                ("column_name", r.schema.field(*col).name().as_str().into()),
                ("constraint_catalog", crate::engine::CATALOG.into()),
                ("constraint_schema", r.nspname.clone().into()),
                ("constraint_name", r.index_name().into()),
            ]);
            rows.add(row);
        }
    }
    Ok(())
}
