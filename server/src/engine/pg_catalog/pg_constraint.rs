//! `pg_constraint`: each table's primary key (weir has no other constraints).

use super::build::Rows;
use super::pg_index::key_columns;
use super::user_relations;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid conname:name connamespace:oid contype:char=p condeferrable:bool=f condeferred:bool=f \
    convalidated:bool=t conrelid:oid contypid:oid=0 conindid:oid conparentid:oid=0 confrelid:oid=0 confupdtype:char= confdeltype:char= \
    confmatchtype:char= conislocal:bool=t coninhcount:int4=0 connoinherit:bool=t conkey:int2[] confkey:int2[] conpfeqop:oid[] \
    conppeqop:oid[] conffeqop:oid[] confdelsetcols:int2[] conexclop:oid[] conbin:text";

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in user_relations(engine).into_iter().filter(|r| !r.primary_key.is_empty()) {
        rows.add(vec![
            ("oid", r.constraint_oid().into()),
            ("conname", r.index_name().into()),
            ("connamespace", r.namespace.into()),
            ("conrelid", r.oid.into()),
            ("conindid", r.index_oid().into()),
            ("conkey", key_columns(&r.primary_key)),
        ]);
    }
    Ok(())
}
