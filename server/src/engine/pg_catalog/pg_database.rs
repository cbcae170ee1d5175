//! `pg_database`: weir's one database.

use super::DATABASE_OID;
use super::build::Rows;
use crate::engine::{CATALOG, Engine};
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid datname:name datdba:oid=10 encoding:int4=6 datlocprovider:char=c datistemplate:bool=f \
    datallowconn:bool=t datconnlimit:int4=-1 datfrozenxid:xid=0 datminmxid:xid=1 dattablespace:oid=1663 datcollate:text=C \
    datctype:text=C daticulocale:text datcollversion:text datacl:text[]";

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    rows.add(vec![("oid", DATABASE_OID.into()), ("datname", CATALOG.into())]);
    Ok(())
}
