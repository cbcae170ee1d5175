//! `pg_index`: each table's primary key, as the unique btree index PostgreSQL would build for it.

use super::build::{Rows, V};
use super::user_relations;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool=t indnullsnotdistinct:bool=f \
    indisprimary:bool=t indisexclusion:bool=f indimmediate:bool=t indisclustered:bool=f indisvalid:bool=t indcheckxmin:bool=f \
    indisready:bool=t indislive:bool=t indisreplident:bool=f indkey:int2vector indcollation:oidvector indclass:oidvector indoption:int2vector \
    indexprs:text indpred:text";

/// The 1-based column numbers of a primary key.
pub fn key_columns(primary_key: &[usize]) -> V {
    primary_key.iter().map(|c| c + 1).collect::<Vec<_>>().into()
}

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine).into_iter().filter(|r| !r.primary_key.is_empty()) {
        let n = r.primary_key.len();
        rows.add(vec![
            ("indexrelid", r.index_oid().into()),
            ("indrelid", r.oid.into()),
            ("indnatts", n.into()),
            ("indnkeyatts", n.into()),
            ("indkey", key_columns(&r.primary_key)),
            ("indcollation", vec![0i64; n].into()),
            ("indclass", vec![0i64; n].into()),
            ("indoption", vec![0i64; n].into()),
        ]);
    }
    Ok(())
}
