//! `pg_class`: every relation (tables 'r', sources as foreign tables 'f',
//! materialized views 'm', system relations 'v') and each primary key's index ('i').

use super::build::{Rows, V};
use super::{BTREE_AM, HEAP_AM, Object, Relation, relations};
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid relname:name relnamespace:oid reltype:oid=0 reloftype:oid=0 relowner:oid=10 relam:oid=0 relfilenode:oid=0 \
    reltablespace:oid=0 relpages:int4=0 reltuples:float4=-1 relallvisible:int4=0 reltoastrelid:oid=0 relhasindex:bool=f relisshared:bool=f \
    relpersistence:char=p relkind:char=r relnatts:int2=0 relchecks:int2=0 relhasrules:bool=f relhastriggers:bool=f relhassubclass:bool=f \
    relrowsecurity:bool=f relforcerowsecurity:bool=f relispopulated:bool=t relreplident:char=d relispartition:bool=f relrewrite:oid=0 \
    relfrozenxid:xid=0 relminmxid:xid=0 relacl:text[] reloptions:text[] relpartbound:text";

/// The number of rows a relation holds now, where weir keeps them.
pub fn row_count(r: &Relation) -> Option<usize> {
    match &r.object {
        Object::Table(t) => Some(t.snapshot().batches.iter().map(|b| b.num_rows()).sum()),
        Object::View(v) => Some(v.state.row_count()),
        _ => None,
    }
}

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in relations(engine)? {
        let am = if matches!(r.kind, 'r' | 'm') { HEAP_AM } else { 0 };
        let tuples = row_count(&r).map_or(V::Float(-1.0), |n| V::Float(n as f64));
        rows.add(vec![
            ("oid", r.oid.into()),
            ("relname", r.name.clone().into()),
            ("relnamespace", r.namespace.into()),
            ("reltype", if r.is_user() { r.row_type_oid().into() } else { 0.into() }),
            ("relam", am.into()),
            ("relfilenode", if am == 0 { 0.into() } else { r.oid.into() }),
            ("reltuples", tuples),
            ("relhasindex", (!r.primary_key.is_empty()).into()),
            ("relkind", r.kind.into()),
            ("relnatts", r.schema.fields().len().into()),
        ]);
        if !r.primary_key.is_empty() {
            rows.add(vec![
                ("oid", r.index_oid().into()),
                ("relname", r.index_name().into()),
                ("relnamespace", r.namespace.into()),
                ("relam", BTREE_AM.into()),
                ("relfilenode", r.index_oid().into()),
                ("relkind", 'i'.into()),
                ("relnatts", r.primary_key.len().into()),
            ]);
        }
    }
    Ok(())
}
