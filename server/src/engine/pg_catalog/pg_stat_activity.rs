//! `pg_stat_activity`: one row per client session, with its user,
//! application_name, state and current (or last) statement.

use super::build::Rows;
use super::{DATABASE_OID, OWNER_OID};
use crate::engine::{CATALOG, Engine};
use weir_planner::SqlResult;

pub const COLUMNS: &str = "datid:oid datname:name pid:int4 leader_pid:int4 usesysid:oid usename:name application_name:text \
    client_addr:text client_hostname:text client_port:int4 backend_start:timestamptz xact_start:timestamptz \
    query_start:timestamptz state_change:timestamptz wait_event_type:text wait_event:text state:text backend_xid:xid \
    backend_xmin:xid query_id:int8 query:text backend_type:text";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for a in engine.sessions.all() {
        rows.add(vec![
            ("datid", DATABASE_OID.into()),
            ("datname", CATALOG.into()),
            ("pid", a.pid.into()),
            ("usesysid", OWNER_OID.into()),
            ("usename", a.user.into()),
            ("application_name", a.application_name.into()),
            ("backend_start", a.backend_start.into()),
            ("query_start", a.query_start.into()),
            ("state_change", a.state_change.into()),
            ("state", a.state.into()),
            ("query", a.query.into()),
            ("backend_type", "client backend".into()),
        ]);
    }
    Ok(())
}
