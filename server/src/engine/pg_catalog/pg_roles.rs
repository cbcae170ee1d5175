//! `pg_roles`, `pg_authid` and `pg_user`: weir's one role (every client
//! connects as it), and `pg_database_owner`, which owns `public` as in PostgreSQL 15.

use super::build::Rows;
use super::pg_namespace::DATABASE_OWNER_ROLE;
use super::{OWNER, OWNER_OID};
use crate::engine::Engine;
use weir_planner::SqlResult;

const ROLE: &str = "rolname:name rolsuper:bool=f rolinherit:bool=t rolcreaterole:bool=f rolcreatedb:bool=f rolcanlogin:bool=f \
    rolreplication:bool=f rolconnlimit:int4=-1 rolpassword:text rolvaliduntil:timestamptz rolbypassrls:bool=f rolconfig:text[] oid:oid";

pub const COLUMNS: &str = ROLE;
pub const AUTHID_COLUMNS: &str = ROLE;
pub const USER_COLUMNS: &str = "usename:name usesysid:oid usecreatedb:bool=t usesuper:bool=t userepl:bool=t usebypassrls:bool=t \
    passwd:text valuntil:timestamptz useconfig:text[]";

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    let yes = || true.into();
    rows.add(vec![
        ("oid", OWNER_OID.into()),
        ("rolname", OWNER.into()),
        ("rolsuper", yes()),
        ("rolcreaterole", yes()),
        ("rolcreatedb", yes()),
        ("rolcanlogin", yes()),
        ("rolreplication", yes()),
        ("rolbypassrls", yes()),
    ]);
    rows.add(vec![("oid", DATABASE_OWNER_ROLE.into()), ("rolname", "pg_database_owner".into())]);
    Ok(())
}

pub fn fill_users(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    rows.add(vec![("usename", OWNER.into()), ("usesysid", OWNER_OID.into())]);
    Ok(())
}

/// The name of a role OID, as `pg_get_userbyid` gives it.
pub fn role_name(oid: i64) -> String {
    match oid {
        OWNER_OID => OWNER.into(),
        DATABASE_OWNER_ROLE => "pg_database_owner".into(),
        other => format!("unknown (OID={other})"),
    }
}
