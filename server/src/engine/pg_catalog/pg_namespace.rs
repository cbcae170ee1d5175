//! `pg_namespace`: the schemas `pg_catalog`, `public`, `information_schema`
//! and those made with CREATE SCHEMA.

use super::PUBLIC_OID;
use super::build::Rows;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid nspname:name nspowner:oid=10 nspacl:text[]";

/// PostgreSQL 15 gives `public` to the role pg_database_owner.
pub const DATABASE_OWNER_ROLE: i64 = 6171;

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for s in engine.schemas() {
        let owner = if s.oid == PUBLIC_OID { DATABASE_OWNER_ROLE } else { super::OWNER_OID };
        rows.add(vec![("oid", s.oid.into()), ("nspname", s.name.into()), ("nspowner", owner.into())]);
    }
    Ok(())
}
