//! The `information_schema` schema: the SQL standard's catalog views, built
//! from weir's catalog each time they are read, one file per relation (the
//! ones that never hold rows share `empty.rs`). Unlike PostgreSQL, `tables`
//! and `views` list materialized views (as views) and sources (as foreign
//! tables), since they are weir's main relations and tools list tables from here.

mod columns;
mod constraint_column_usage;
mod empty;
mod key_column_usage;
mod schemata;
mod table_constraints;
mod tables;
mod views;

use crate::engine::Engine;
use crate::engine::pg_catalog::Relation;
use crate::engine::pg_catalog::build::{Rows, Spec};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use weir_planner::SqlResult;

type Fill = fn(&Engine, &mut Rows) -> SqlResult<()>;

const RELATIONS: &[(&str, &str, Fill)] = &[
    ("columns", columns::COLUMNS, columns::fill),
    ("constraint_column_usage", constraint_column_usage::COLUMNS, constraint_column_usage::fill),
    ("key_column_usage", key_column_usage::COLUMNS, key_column_usage::fill),
    ("schemata", schemata::COLUMNS, schemata::fill),
    ("table_constraints", table_constraints::COLUMNS, table_constraints::fill),
    ("tables", tables::COLUMNS, tables::fill),
    ("views", views::COLUMNS, views::fill),
];

pub fn names() -> Vec<&'static str> {
    RELATIONS.iter().map(|r| r.0).chain(empty::NAMES.iter().copied()).collect()
}

pub fn spec(name: &str) -> Option<Spec> {
    RELATIONS.iter().find(|r| r.0 == name).map(|r| r.1).or_else(|| empty::columns(name)).map(Spec::parse)
}

pub fn relation(engine: &Engine, name: &str) -> SqlResult<Option<(SchemaRef, RecordBatch)>> {
    let Some(spec) = spec(name) else { return Ok(None) };
    let mut rows = Rows::new(spec);
    if let Some((_, _, fill)) = RELATIONS.iter().find(|r| r.0 == name) {
        fill(engine, &mut rows)?;
    }
    rows.finish().map(Some)
}

/// The columns every relation-level row starts with.
fn table_ref(r: &Relation) -> Vec<(&'static str, crate::engine::pg_catalog::build::V)> {
    vec![("table_catalog", crate::engine::CATALOG.into()), ("table_schema", r.nspname.clone().into()), ("table_name", r.name.clone().into())]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_relation_has_columns() {
        for name in super::names() {
            assert!(super::spec(name).is_some_and(|s| !s.schema().fields().is_empty()), "{name}");
        }
    }
}
