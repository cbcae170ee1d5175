//! `information_schema.tables`: tables ('BASE TABLE'), sources ('FOREIGN'),
//! plain and system views ('VIEW'). As in PostgreSQL, materialized views are
//! not here (clients that know PostgreSQL find them in pg_class / pg_matviews).

use super::table_ref;
use crate::engine::Engine;
use crate::engine::pg_catalog::build::Rows;
use crate::engine::pg_catalog::relations;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "table_catalog:name table_schema:name table_name:name table_type:text self_referencing_column_name:name \
    reference_generation:text user_defined_type_catalog:name user_defined_type_schema:name user_defined_type_name:name \
    is_insertable_into:text=NO is_typed:text=NO commit_action:text";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in relations(engine)?.into_iter().filter(|r| r.kind != 'm') {
        let kind = match r.kind {
            'r' => "BASE TABLE",
            'f' => "FOREIGN",
            _ => "VIEW",
        };
        let mut row = table_ref(&r);
        row.push(("table_type", kind.into()));
        row.push(("is_insertable_into", if r.kind == 'r' { "YES" } else { "NO" }.into()));
        rows.add(row);
    }
    Ok(())
}
