//! `pg_am`: access methods. Tables and materialized views use `heap`, primary keys `btree`.

use super::build::Rows;
use super::{BTREE_AM, HEAP_AM};
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid amname:name amhandler:text amtype:char";

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    rows.add(vec![("oid", HEAP_AM.into()), ("amname", "heap".into()), ("amhandler", "heap_tableam_handler".into()), ("amtype", 't'.into())]);
    rows.add(vec![("oid", BTREE_AM.into()), ("amname", "btree".into()), ("amhandler", "bthandler".into()), ("amtype", 'i'.into())]);
    Ok(())
}
