//! `information_schema.schemata`: every schema, system ones included.

use crate::engine::pg_catalog::build::Rows;
use crate::engine::pg_catalog::{OWNER, PUBLIC_OID};
use crate::engine::{CATALOG, Engine};
use weir_planner::SqlResult;

pub const COLUMNS: &str = "catalog_name:name schema_name:name schema_owner:name default_character_set_catalog:name \
    default_character_set_schema:name default_character_set_name:name sql_path:text";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for s in engine.schemas() {
        let owner = if s.oid == PUBLIC_OID { "pg_database_owner" } else { OWNER };
        rows.add(vec![("catalog_name", CATALOG.into()), ("schema_name", s.name.into()), ("schema_owner", owner.into())]);
    }
    Ok(())
}
