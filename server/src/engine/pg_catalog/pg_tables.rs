//! `pg_tables`: weir's tables.

use super::build::Rows;
use super::{OWNER, user_relations};
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "schemaname:name tablename:name tableowner:name tablespace:name hasindexes:bool=f hasrules:bool=f \
    hastriggers:bool=f rowsecurity:bool=f";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine).into_iter().filter(|r| r.kind == 'r') {
        rows.add(vec![
            ("schemaname", r.nspname.clone().into()),
            ("tablename", r.name.clone().into()),
            ("tableowner", OWNER.into()),
            ("hasindexes", (!r.primary_key.is_empty()).into()),
        ]);
    }
    Ok(())
}
