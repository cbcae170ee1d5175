//! `pg_type`: the base types weir has, their array types, and each
//! relation's row type.

use super::build::Rows;
use super::pg_attribute::collation_of;
use super::user_relations;
use crate::engine::Engine;
use weir_planner::SqlResult;
use weir_planner::pgtypes::TYPES;

pub const COLUMNS: &str = "oid:oid typname:name typnamespace:oid=11 typowner:oid=10 typlen:int2=-1 typbyval:bool=f typtype:char=b \
    typcategory:char typispreferred:bool=f typisdefined:bool=t typdelim:char=, typrelid:oid=0 typsubscript:text=- typelem:oid=0 \
    typarray:oid=0 typinput:text typoutput:text typreceive:text typsend:text typmodin:text=- typmodout:text=- typanalyze:text=- \
    typalign:char=i typstorage:char=p typnotnull:bool=f typbasetype:oid=0 typtypmod:int4=-1 typndims:int4=0 typcollation:oid=0 \
    typdefaultbin:text typdefault:text typacl:text[]";

fn align(len: i16) -> char {
    match len {
        1 => 'c',
        2 => 's',
        8 => 'd',
        _ => 'i',
    }
}

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for t in TYPES {
        let io = |suffix: &str| format!("{}{suffix}", t.name).into();
        rows.add(vec![
            ("oid", t.oid.into()),
            ("typname", t.name.into()),
            ("typlen", i64::from(t.len).into()),
            ("typbyval", matches!(t.len, 1 | 2 | 4 | 8).into()),
            ("typcategory", t.category.into()),
            ("typarray", t.array.into()),
            ("typinput", io("in")),
            ("typoutput", io("out")),
            ("typreceive", io("recv")),
            ("typsend", io("send")),
            ("typalign", align(t.len).into()),
            ("typstorage", if t.len == -1 { 'x' } else { 'p' }.into()),
            ("typcollation", collation_of(t.oid).into()),
        ]);
        rows.add(vec![
            ("oid", t.array.into()),
            ("typname", format!("_{}", t.name).into()),
            ("typcategory", 'A'.into()),
            ("typsubscript", "array_subscript_handler".into()),
            ("typelem", t.oid.into()),
            ("typinput", "array_in".into()),
            ("typoutput", "array_out".into()),
            ("typreceive", "array_recv".into()),
            ("typsend", "array_send".into()),
            ("typalign", if t.len == 8 { 'd' } else { 'i' }.into()),
            ("typstorage", 'x'.into()),
            ("typcollation", collation_of(t.oid).into()),
        ]);
    }
    for r in user_relations(engine) {
        rows.add(vec![
            ("oid", r.row_type_oid().into()),
            ("typname", r.name.clone().into()),
            ("typnamespace", r.namespace.into()),
            ("typtype", 'c'.into()),
            ("typcategory", 'C'.into()),
            ("typrelid", r.oid.into()),
            ("typinput", "record_in".into()),
            ("typoutput", "record_out".into()),
            ("typreceive", "record_recv".into()),
            ("typsend", "record_send".into()),
            ("typalign", 'd'.into()),
            ("typstorage", 'x'.into()),
        ]);
    }
    Ok(())
}
