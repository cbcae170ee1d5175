//! `pg_attribute`: the columns of every relation, and of each primary key's index.

use super::Relation;
use super::build::Rows;
use crate::engine::Engine;
use arrow::datatypes::Field;
use weir_planner::SqlResult;
use weir_planner::pgtypes::{by_oid, column_type};

pub const COLUMNS: &str = "attrelid:oid attname:name atttypid:oid attstattarget:int4=-1 attlen:int2 attnum:int2 attndims:int4=0 \
    attcacheoff:int4=-1 atttypmod:int4=-1 attbyval:bool=f attalign:char=i attstorage:char=p attcompression:char= attnotnull:bool=f \
    atthasdef:bool=f atthasmissing:bool=f attidentity:char= attgenerated:char= attisdropped:bool=f attislocal:bool=t attinhcount:int4=0 \
    attcollation:oid=0 attacl:text[] attoptions:text[] attfdwoptions:text[] attmissingval:text";

/// The collation of text types (PostgreSQL's "default"), or 0.
pub fn collation_of(type_oid: u32) -> i64 {
    match type_oid {
        25 | 1042 | 1043 => 100,
        19 => 950,
        _ => 0,
    }
}

/// `attstorage` as PostgreSQL sets it: numeric 'm' (main), other
/// variable-length types 'x' (extended), fixed-length ones 'p' (plain).
fn storage(type_oid: u32, len: i16) -> char {
    match (type_oid, len) {
        (1700, _) => 'm',
        (_, -1) => 'x',
        _ => 'p',
    }
}

fn add(rows: &mut Rows, relid: i64, num: usize, f: &Field, not_null: bool) {
    let t = column_type(f);
    let (len, array) = by_oid(t.oid).map_or((-1, false), |(b, array)| (if array { -1 } else { b.len }, array));
    rows.add(vec![
        ("attrelid", relid.into()),
        ("attname", f.name().as_str().into()),
        ("atttypid", t.oid.into()),
        ("attlen", i64::from(len).into()),
        ("attnum", num.into()),
        ("attndims", i32::from(array).into()),
        ("atttypmod", t.typmod.into()),
        ("attbyval", matches!(len, 1 | 2 | 4 | 8).into()),
        ("attstorage", storage(t.oid, len).into()),
        ("attnotnull", not_null.into()),
        ("attcollation", collation_of(t.oid).into()),
    ]);
}

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for r in super::relations(engine)? {
        columns_of(&r, rows);
    }
    Ok(())
}

fn columns_of(r: &Relation, rows: &mut Rows) {
    for (i, f) in r.schema.fields().iter().enumerate() {
        add(rows, r.oid, i + 1, f, !f.is_nullable() && r.kind == 'r');
    }
    for (i, col) in r.primary_key.iter().enumerate() {
        add(rows, r.index_oid(), i + 1, r.schema.field(*col), true);
    }
}
