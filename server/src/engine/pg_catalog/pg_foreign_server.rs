//! `pg_foreign_server`: one server per source connector (`kafka`, `file`,
//! `generator`, ...), so `\d source` prints the connector as its server.

use super::build::Rows;
use super::pg_foreign_data_wrapper::WRAPPER_OID;
use crate::engine::Engine;
use weir_connectors::registry::{CONNECTORS, Role};
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid srvname:name srvowner:oid=10 srvfdw:oid srvtype:text srvversion:text srvacl:text[] srvoptions:text[]";

fn sources() -> impl Iterator<Item = (i64, &'static str)> {
    CONNECTORS.iter().filter(|c| c.role == Role::Source).enumerate().map(|(i, c)| (13901 + i as i64, c.name))
}

/// The server OID of a source connector.
pub fn server_oid(connector: &str) -> i64 {
    sources().find(|(_, n)| *n == connector).map_or(0, |(oid, _)| oid)
}

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for (oid, name) in sources() {
        rows.add(vec![("oid", oid.into()), ("srvname", name.into()), ("srvfdw", WRAPPER_OID.into())]);
    }
    Ok(())
}
