//! `pg_tablespace`: PostgreSQL's two built-in tablespaces (weir keeps all data in its data directory).

use super::build::Rows;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid spcname:name spcowner:oid=10 spcacl:text[] spcoptions:text[]";

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for (oid, name) in [(1663, "pg_default"), (1664, "pg_global")] {
        rows.add(vec![("oid", oid.into()), ("spcname", name.into())]);
    }
    Ok(())
}
