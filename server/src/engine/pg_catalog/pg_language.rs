//! `pg_language`: the languages of weir's functions (all built in).

use super::build::Rows;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid lanname:name lanowner:oid=10 lanispl:bool=f lanpltrusted:bool=f lanplcallfoid:oid=0 laninline:oid=0 \
    lanvalidator:oid=0 lanacl:text[]";

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for (oid, name) in [(12, "internal"), (13, "c"), (14, "sql")] {
        rows.add(vec![("oid", oid.into()), ("lanname", name.into())]);
    }
    Ok(())
}
