//! The `pg_catalog` schema: PostgreSQL's system relations, built from weir's
//! own catalog each time a query reads them, one file per relation (the
//! relations that never hold rows in weir share `empty.rs`). psql, JDBC,
//! ODBC, SQLAlchemy and BI tools read these to list and describe objects.
//!
//! OIDs: weir object `id` is relation `16384 + 4*id`; its row type, primary
//! key index and primary key constraint take the next three. System
//! relations count from 12000; base types have PostgreSQL's own OIDs.

pub mod build;
mod empty;
pub mod functions;
pub mod information_schema;
mod pg_am;
mod pg_attribute;
mod pg_class;
mod pg_collation;
mod pg_constraint;
mod pg_database;
mod pg_foreign_data_wrapper;
mod pg_foreign_server;
mod pg_foreign_table;
mod pg_index;
mod pg_language;
mod pg_matviews;
mod pg_namespace;
mod pg_proc;
mod pg_roles;
pub mod pg_settings;
mod pg_stat_activity;
mod pg_stat_user_tables;
mod pg_tables;
mod pg_tablespace;
mod pg_type;
mod pg_views;

use crate::engine::objects::View;
use crate::engine::{Engine, system};
use crate::storage::table::Table;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use build::{Rows, Spec};
use std::sync::Arc;
use weir_planner::SqlResult;
use weir_planner::names::split_key;
use weir_planner::pgdialect::EMPTY_RELATIONS;

pub const PG_CATALOG_OID: i64 = 11;
pub const PUBLIC_OID: i64 = 2200;
pub const INFORMATION_SCHEMA_OID: i64 = 13000;
/// The one role: weir has no users of its own, so every object belongs to it.
pub const OWNER_OID: i64 = 10;
pub const OWNER: &str = "weir";
pub const DATABASE_OID: i64 = 5;
pub const HEAP_AM: i64 = 2;
pub const BTREE_AM: i64 = 403;

pub fn relation_oid(id: u64) -> i64 {
    16384 + 4 * id as i64
}

/// A relation's fill-in function: adds its rows.
type Fill = fn(&Engine, &mut Rows) -> SqlResult<()>;

/// A pg_catalog relation: its columns as text (see [`build`]) and its rows.
struct Def {
    name: &'static str,
    columns: &'static str,
    fill: Fill,
}

const fn def(name: &'static str, columns: &'static str, fill: Fill) -> Def {
    Def { name, columns, fill }
}

const RELATIONS: &[Def] = &[
    def("pg_am", pg_am::COLUMNS, pg_am::fill),
    def("pg_attribute", pg_attribute::COLUMNS, pg_attribute::fill),
    def("pg_class", pg_class::COLUMNS, pg_class::fill),
    def("pg_collation", pg_collation::COLUMNS, pg_collation::fill),
    def("pg_constraint", pg_constraint::COLUMNS, pg_constraint::fill),
    def("pg_database", pg_database::COLUMNS, pg_database::fill),
    def("pg_foreign_data_wrapper", pg_foreign_data_wrapper::COLUMNS, pg_foreign_data_wrapper::fill),
    def("pg_foreign_server", pg_foreign_server::COLUMNS, pg_foreign_server::fill),
    def("pg_foreign_table", pg_foreign_table::COLUMNS, pg_foreign_table::fill),
    def("pg_index", pg_index::COLUMNS, pg_index::fill),
    def("pg_language", pg_language::COLUMNS, pg_language::fill),
    def("pg_matviews", pg_matviews::COLUMNS, pg_matviews::fill),
    def("pg_namespace", pg_namespace::COLUMNS, pg_namespace::fill),
    def("pg_proc", pg_proc::COLUMNS, pg_proc::fill),
    def("pg_roles", pg_roles::COLUMNS, pg_roles::fill),
    def("pg_authid", pg_roles::AUTHID_COLUMNS, pg_roles::fill),
    def("pg_user", pg_roles::USER_COLUMNS, pg_roles::fill_users),
    def("pg_stat_activity", pg_stat_activity::COLUMNS, pg_stat_activity::fill),
    def("pg_stat_user_tables", pg_stat_user_tables::COLUMNS, pg_stat_user_tables::fill),
    def("pg_tables", pg_tables::COLUMNS, pg_tables::fill),
    def("pg_tablespace", pg_tablespace::COLUMNS, pg_tablespace::fill),
    def("pg_type", pg_type::COLUMNS, pg_type::fill),
    def("pg_views", pg_views::COLUMNS, pg_views::fill),
];

/// Every pg_catalog relation name.
pub fn names() -> Vec<&'static str> {
    RELATIONS.iter().map(|d| d.name).chain([pg_settings::NAME]).chain(EMPTY_RELATIONS.iter().copied()).collect()
}

/// The columns of the pg_catalog relation `name`.
pub fn spec(name: &str) -> Option<Spec> {
    let columns = match name {
        pg_settings::NAME => Some(pg_settings::COLUMNS),
        _ => RELATIONS.iter().find(|d| d.name == name).map(|d| d.columns).or_else(|| empty::columns(name)),
    }?;
    Some(Spec::parse(columns))
}

/// The rows of the pg_catalog relation `name`, or None when there is none.
pub fn relation(engine: &Engine, name: &str) -> SqlResult<Option<(SchemaRef, RecordBatch)>> {
    let Some(spec) = spec(name) else { return Ok(None) };
    let mut rows = Rows::new(spec);
    if let Some(d) = RELATIONS.iter().find(|d| d.name == name) {
        (d.fill)(engine, &mut rows)?;
    }
    rows.finish().map(Some)
}

/// What a pg_class row stands for.
pub enum Object {
    Table(Arc<Table>),
    Source,
    View(Arc<View>),
    PlainView(Arc<crate::engine::plain_views::PlainView>),
    /// A system relation (weir_*, pg_catalog, information_schema).
    System,
}

/// A relation as the catalog lists it.
pub struct Relation {
    pub oid: i64,
    /// The name within its schema (not the catalog key).
    pub name: String,
    pub namespace: i64,
    /// The schema's name.
    pub nspname: String,
    /// `relkind`: 'r' table, 'f' source (a foreign table), 'm' materialized view, 'v' system view.
    pub kind: char,
    pub schema: SchemaRef,
    pub primary_key: Vec<usize>,
    pub object: Object,
}

impl Relation {
    pub fn row_type_oid(&self) -> i64 {
        self.oid + 1
    }
    pub fn index_oid(&self) -> i64 {
        self.oid + 2
    }
    pub fn constraint_oid(&self) -> i64 {
        self.oid + 3
    }
    pub fn index_name(&self) -> String {
        format!("{}_pkey", self.name)
    }
    pub fn is_user(&self) -> bool {
        !matches!(self.object, Object::System)
    }
}

/// Every relation: weir's objects by id, then the system relations.
pub fn relations(engine: &Engine) -> SqlResult<Vec<Relation>> {
    let mut out = user_relations(engine);
    let system_names = system::NAMES.iter().map(|n| (*n, PG_CATALOG_OID)).chain(names().into_iter().map(|n| (n, PG_CATALOG_OID)));
    let info = information_schema::names().into_iter().map(|n| (n, INFORMATION_SCHEMA_OID));
    for (i, (name, namespace)) in system_names.chain(info).enumerate() {
        let schema = match namespace {
            INFORMATION_SCHEMA_OID => information_schema::spec(name).map(|s| s.schema()),
            _ => spec(name).map(|s| s.schema()).or_else(|| system::relation(engine, name).ok().flatten().map(|(s, _)| s)),
        };
        let Some(schema) = schema else { continue };
        let nspname = if namespace == PG_CATALOG_OID { "pg_catalog" } else { "information_schema" }.to_string();
        let oid = 12000 + 2 * i as i64;
        out.push(Relation { oid, name: name.to_string(), namespace, nspname, kind: 'v', schema, primary_key: vec![], object: Object::System });
    }
    Ok(out)
}

/// weir's tables, sources and materialized views, by id.
pub fn user_relations(engine: &Engine) -> Vec<Relation> {
    let mut out = Vec::new();
    for name in engine.table_names() {
        let Some(t) = engine.table(&name) else { continue };
        out.push(user(engine, t.id, &t.name, 'r', t.schema.clone(), t.primary_key.clone(), Object::Table(t.clone())));
    }
    for s in engine.sources.read().values() {
        out.push(user(engine, s.id, &s.name, 'f', s.schema.clone(), vec![], Object::Source));
    }
    for v in engine.views_in_order() {
        out.push(user(engine, v.id, &v.name, 'm', v.state.schema.clone(), vec![], Object::View(v.clone())));
    }
    for v in engine.plain_views_in_order() {
        out.push(user(engine, v.id, &v.name, 'v', v.schema.clone(), vec![], Object::PlainView(v.clone())));
    }
    out.sort_by_key(|r| r.oid);
    out
}

/// A weir object's relation; `key` is its catalog key (`schema.name`, bare in `public`).
fn user(engine: &Engine, id: u64, key: &str, kind: char, schema: SchemaRef, primary_key: Vec<usize>, object: Object) -> Relation {
    let (nspname, name) = split_key(key);
    let (nspname, name, namespace) = (nspname.to_string(), name.to_string(), engine.namespace_oid(key));
    Relation { oid: relation_oid(id), name, namespace, nspname, kind, schema, primary_key, object }
}

/// The SQL of a view's query, as `pg_get_viewdef` gives it.
pub fn view_definition(engine: &Engine, id: u64) -> Option<String> {
    if let Some(v) = engine.plain_views_in_order().into_iter().find(|v| v.id == id) {
        return Some(format!(" {};", v.query));
    }
    let sql = engine.definition_sql(id)?;
    let parsed = weir_planner::parse_sql(&sql).ok()?;
    parsed.into_iter().find_map(|p| match p.statement {
        weir_planner::WeirStatement::CreateView(cv) => Some(format!(" {};", cv.query)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_relation_has_columns() {
        for name in super::names() {
            let spec = super::spec(name).unwrap_or_else(|| panic!("{name} has no columns"));
            assert!(!spec.schema().fields().is_empty(), "{name}");
        }
    }
}
