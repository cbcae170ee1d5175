//! `pg_proc`: the functions weir runs (DataFusion's and weir's own), by
//! name and kind; argument and result types are not listed.

use super::build::Rows;
use crate::engine::Engine;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "oid:oid proname:name pronamespace:oid=11 proowner:oid=10 prolang:oid=12 procost:float4=1 prorows:float4=0 \
    provariadic:oid=0 prosupport:text=- prokind:char=f prosecdef:bool=f proleakproof:bool=f proisstrict:bool=t proretset:bool=f \
    provolatile:char=i proparallel:char=s pronargs:int2=0 pronargdefaults:int2=0 prorettype:oid=0 proargtypes:text= \
    proallargtypes:oid[] proargmodes:text[] proargnames:text[] proargdefaults:text protrftypes:oid[] prosrc:text probin:text \
    prosqlbody:text proconfig:text[] proacl:text[]";

/// The first OID of a function.
pub const FIRST_OID: i64 = 20000;

/// Every function name with its kind ('f' function, 'a' aggregate, 'w' window), sorted.
pub fn functions() -> Vec<(String, char)> {
    let mut out: Vec<(String, char)> = datafusion::functions::all_default_functions().iter().map(|f| (f.name().to_string(), 'f')).collect();
    out.extend(datafusion::functions_nested::all_default_nested_functions().iter().map(|f| (f.name().to_string(), 'f')));
    out.extend(datafusion::functions_aggregate::all_default_aggregate_functions().iter().map(|f| (f.name().to_string(), 'a')));
    out.extend(datafusion::functions_window::all_default_window_functions().iter().map(|f| (f.name().to_string(), 'w')));
    out.extend(super::functions::NAMES.iter().map(|n| (n.to_string(), 'f')));
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

pub fn fill(_: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for (i, (name, kind)) in functions().into_iter().enumerate() {
        rows.add(vec![("oid", (FIRST_OID + i as i64).into()), ("proname", name.into()), ("prokind", kind.into())]);
    }
    Ok(())
}
