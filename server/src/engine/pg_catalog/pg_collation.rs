//! `pg_collation`: weir compares text by its bytes, so every collation
//! behaves as "C"; the three PostgreSQL always has are listed.

use super::build::Rows;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid collname:name collnamespace:oid=11 collowner:oid=10 collprovider:char=c collisdeterministic:bool=t \
    collencoding:int4=-1 collcollate:text collctype:text colliculocale:text collversion:text";

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    rows.add(vec![("oid", 100.into()), ("collname", "default".into()), ("collprovider", 'd'.into())]);
    for (oid, name) in [(950, "C"), (951, "POSIX")] {
        rows.add(vec![("oid", oid.into()), ("collname", name.into()), ("collcollate", name.into()), ("collctype", name.into())]);
    }
    Ok(())
}
