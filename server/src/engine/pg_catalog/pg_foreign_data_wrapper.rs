//! `pg_foreign_data_wrapper`: sources are shown to psql as foreign tables
//! served by weir's connectors, all under one wrapper called `weir`.

use super::build::Rows;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid fdwname:name fdwowner:oid=10 fdwhandler:oid=0 fdwvalidator:oid=0 fdwacl:text[] fdwoptions:text[]";
pub const WRAPPER_OID: i64 = 13900;

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    rows.add(vec![("oid", WRAPPER_OID.into()), ("fdwname", "weir".into())]);
    Ok(())
}
