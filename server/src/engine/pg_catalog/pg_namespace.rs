//! `pg_namespace`: the schemas `pg_catalog`, `public` and `information_schema`.

use super::build::Rows;
use super::{INFORMATION_SCHEMA_OID, PG_CATALOG_OID, PUBLIC_OID, namespace_name};
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid nspname:name nspowner:oid=10 nspacl:text[]";

/// PostgreSQL 15 gives `public` to the role pg_database_owner.
pub const DATABASE_OWNER_ROLE: i64 = 6171;

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for oid in [PG_CATALOG_OID, PUBLIC_OID, INFORMATION_SCHEMA_OID] {
        let owner = if oid == PUBLIC_OID { DATABASE_OWNER_ROLE } else { super::OWNER_OID };
        rows.add(vec![("oid", oid.into()), ("nspname", namespace_name(oid).into()), ("nspowner", owner.into())]);
    }
    Ok(())
}
