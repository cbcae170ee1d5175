//! `information_schema.key_column_usage`: the columns of each primary key, in key order.

use super::table_ref;
use crate::engine::Engine;
use crate::engine::pg_catalog::build::Rows;
use crate::engine::pg_catalog::user_relations;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name \
    table_name:name column_name:name ordinal_position:int4 position_in_unique_constraint:int4";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine) {
        for (i, col) in r.primary_key.iter().enumerate() {
            let mut row = table_ref(&r);
            row.extend([
                ("constraint_catalog", crate::engine::CATALOG.into()),
                ("constraint_schema", r.nspname.clone().into()),
                ("constraint_name", r.index_name().into()),
                ("column_name", r.schema.field(*col).name().as_str().into()),
                ("ordinal_position", (i + 1).into()),
            ]);
            rows.add(row);
        }
    }
    Ok(())
}
