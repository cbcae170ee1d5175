//! `information_schema.schemata`: pg_catalog, public and information_schema.

use crate::engine::pg_catalog::build::Rows;
use crate::engine::pg_catalog::{INFORMATION_SCHEMA_OID, OWNER, PG_CATALOG_OID, PUBLIC_OID, namespace_name};
use crate::engine::{CATALOG, Engine};
use weir_planner::SqlResult;

pub const COLUMNS: &str = "catalog_name:name schema_name:name schema_owner:name default_character_set_catalog:name \
    default_character_set_schema:name default_character_set_name:name sql_path:text";

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for oid in [PG_CATALOG_OID, PUBLIC_OID, INFORMATION_SCHEMA_OID] {
        let owner = if oid == PUBLIC_OID { "pg_database_owner" } else { OWNER };
        rows.add(vec![("catalog_name", CATALOG.into()), ("schema_name", namespace_name(oid).into()), ("schema_owner", owner.into())]);
    }
    Ok(())
}
