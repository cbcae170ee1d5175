//! `information_schema.table_constraints`: each table's primary key.

use super::table_ref;
use crate::engine::Engine;
use crate::engine::pg_catalog::build::Rows;
use crate::engine::pg_catalog::user_relations;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name \
    table_name:name constraint_type:text is_deferrable:text=NO initially_deferred:text=NO enforced:text=YES nulls_distinct:text";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine).into_iter().filter(|r| !r.primary_key.is_empty()) {
        let mut row = table_ref(&r);
        row.extend([
            ("constraint_catalog", crate::engine::CATALOG.into()),
            ("constraint_schema", r.nspname.clone().into()),
            ("constraint_name", r.index_name().into()),
            ("constraint_type", "PRIMARY KEY".into()),
        ]);
        rows.add(row);
    }
    Ok(())
}
