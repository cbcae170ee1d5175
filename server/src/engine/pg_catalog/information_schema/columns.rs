//! `information_schema.columns`: every column of every relation, with its
//! SQL type, length, precision and nullability as PostgreSQL reports them.

use super::table_ref;
use crate::engine::Engine;
use crate::engine::pg_catalog::build::{Rows, V};
use crate::engine::pg_catalog::relations;
use weir_planner::SqlResult;
use weir_planner::pgtypes::{ColumnType, by_oid, column_type, format_type};

pub const COLUMNS: &str = "table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 \
    column_default:text is_nullable:text data_type:text character_maximum_length:int4 character_octet_length:int4 \
    numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 interval_type:text \
    interval_precision:int4 character_set_catalog:name character_set_schema:name character_set_name:name collation_catalog:name \
    collation_schema:name collation_name:name domain_catalog:name domain_schema:name domain_name:name udt_catalog:name \
    udt_schema:name=pg_catalog udt_name:name scope_catalog:name scope_schema:name scope_name:name maximum_cardinality:int4 \
    dtd_identifier:name is_self_referencing:text=NO is_identity:text=NO identity_generation:text identity_start:text \
    identity_increment:text identity_maximum:text identity_minimum:text identity_cycle:text=NO is_generated:text=NEVER \
    generation_expression:text is_updatable:text=NO";

/// The columns describing a type: data_type, lengths, precision, scale.
fn type_columns(t: ColumnType) -> Vec<(&'static str, V)> {
    let Some((base, array)) = by_oid(t.oid) else { return vec![("data_type", "USER-DEFINED".into())] };
    let data_type = if array { "ARRAY".to_string() } else { format_type(t.oid, -1).unwrap_or_default() };
    let mut out = vec![("data_type", data_type.into()), ("udt_name", if array { format!("_{}", base.name) } else { base.name.to_string() }.into())];
    if array {
        return out;
    }
    let modifier = (t.typmod >= 4).then_some(t.typmod - 4);
    let numeric = |p: i32, radix: i32, scale: Option<i32>| {
        vec![("numeric_precision", p.into()), ("numeric_precision_radix", radix.into()), ("numeric_scale", scale.into())]
    };
    match base.name {
        "varchar" | "bpchar" | "text" => {
            out.push(("character_maximum_length", modifier.into()));
            out.push(("character_octet_length", modifier.map_or(1073741824, |n| n * 4).into()));
        }
        "int2" => out.extend(numeric(16, 2, Some(0))),
        "int4" => out.extend(numeric(32, 2, Some(0))),
        "int8" => out.extend(numeric(64, 2, Some(0))),
        "float4" => out.extend(numeric(24, 2, None)),
        "float8" => out.extend(numeric(53, 2, None)),
        "numeric" => {
            out.push(("numeric_precision", modifier.map(|m| m >> 16).into()));
            out.push(("numeric_precision_radix", 10.into()));
            out.push(("numeric_scale", modifier.map(|m| m & 0xffff).into()));
        }
        "timestamp" | "timestamptz" | "time" => out.push(("datetime_precision", 6.into())),
        "date" => out.push(("datetime_precision", 0.into())),
        "interval" => out.push(("datetime_precision", 6.into())),
        _ => {}
    }
    out
}

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    // As in PostgreSQL: no materialized views, and a view's columns may always be NULL.
    for r in relations(engine)?.into_iter().filter(|r| r.kind != 'm') {
        for (i, f) in r.schema.fields().iter().enumerate() {
            let mut row = table_ref(&r);
            let nullable = f.is_nullable() || !r.is_user() || r.kind == 'v';
            row.extend([
                ("column_name", f.name().as_str().into()),
                ("ordinal_position", (i + 1).into()),
                ("is_nullable", if nullable { "YES" } else { "NO" }.into()),
                ("udt_catalog", crate::engine::CATALOG.into()),
                ("dtd_identifier", (i + 1).to_string().into()),
                ("is_updatable", if r.kind == 'r' { "YES" } else { "NO" }.into()),
            ]);
            row.extend(type_columns(column_type(f)));
            rows.add(row);
        }
    }
    Ok(())
}
