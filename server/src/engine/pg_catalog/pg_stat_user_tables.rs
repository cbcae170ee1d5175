//! `pg_stat_user_tables`: tables and materialized views with their live row counts.

use super::build::Rows;
use super::pg_class::row_count;
use super::user_relations;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "relid:oid schemaname:name relname:name seq_scan:int8=0 seq_tup_read:int8=0 idx_scan:int8=0 idx_tup_fetch:int8=0 \
    n_tup_ins:int8=0 n_tup_upd:int8=0 n_tup_del:int8=0 n_tup_hot_upd:int8=0 n_live_tup:int8=0 n_dead_tup:int8=0 n_mod_since_analyze:int8=0 \
    n_ins_since_vacuum:int8=0 last_vacuum:timestamptz last_autovacuum:timestamptz last_analyze:timestamptz last_autoanalyze:timestamptz \
    vacuum_count:int8=0 autovacuum_count:int8=0 analyze_count:int8=0 autoanalyze_count:int8=0";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine).into_iter().filter(|r| matches!(r.kind, 'r' | 'm')) {
        rows.add(vec![
            ("relid", r.oid.into()),
            ("schemaname", r.nspname.clone().into()),
            ("relname", r.name.clone().into()),
            ("n_live_tup", row_count(&r).unwrap_or(0).into()),
        ]);
    }
    Ok(())
}
