//! Schemas: `public`, which always exists, and those `CREATE SCHEMA` makes.
//! An object in schema `s` is filed under the key `s.name` (`public`'s under
//! the bare name; see weir_planner::names). DataFusion sees every schema
//! through [`WeirCatalog`], which lists them as they are when a query runs.

use super::pg_catalog::{INFORMATION_SCHEMA_OID, PG_CATALOG_OID, PUBLIC_OID, relation_oid};
use super::{Engine, SCHEMA, SessionScope, SystemRelations, SystemSchema, WeirSchema, Writer};
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use std::sync::{Arc, Weak};
use weir_planner::names::quote_ident;
use weir_planner::names::{ObjectKind, split_key};
use weir_planner::search_path::Namespaces;
use weir_planner::{SqlError, SqlResult, SqlState};

/// A schema as the catalog lists it.
pub struct SchemaEntry {
    pub oid: i64,
    pub name: String,
}

impl Engine {
    pub fn schema_exists(&self, name: &str) -> bool {
        name == SCHEMA || self.schemas.read().contains_key(name)
    }

    /// Every schema, system ones included, with its OID.
    pub fn schemas(&self) -> Vec<SchemaEntry> {
        let system = [("pg_catalog", PG_CATALOG_OID), (SCHEMA, PUBLIC_OID), ("information_schema", INFORMATION_SCHEMA_OID)];
        let mut out: Vec<SchemaEntry> = system.iter().map(|(n, oid)| SchemaEntry { oid: *oid, name: n.to_string() }).collect();
        out.extend(self.schemas.read().iter().map(|(n, id)| SchemaEntry { oid: relation_oid(*id), name: n.clone() }));
        out
    }

    /// The OID of the schema an object key is in.
    pub fn namespace_oid(&self, key: &str) -> i64 {
        let (schema, _) = split_key(key);
        if schema == SCHEMA { PUBLIC_OID } else { self.schemas.read().get(schema).map_or(PUBLIC_OID, |id| relation_oid(*id)) }
    }

    /// CREATE SCHEMA: false when it exists and IF NOT EXISTS was given.
    pub async fn create_schema(&self, name: &str, if_not_exists: bool) -> SqlResult<bool> {
        let mut writer = self.writer().await;
        if self.schema_exists(name) || matches!(name, "pg_catalog" | "information_schema") {
            if if_not_exists {
                return Ok(false);
            }
            return Err(SqlError::new(SqlState::DuplicateSchema, format!("schema \"{name}\" already exists")));
        }
        if name.starts_with("pg_") {
            return Err(SqlError::new(SqlState::ReservedName, format!("unacceptable schema name \"{name}\""))
                .with_detail("The prefix \"pg_\" is reserved for system schemas."));
        }
        let sql = format!("CREATE SCHEMA {}", quote_ident(name));
        let id = self.define(&mut writer, ObjectKind::Schema, name, &sql)?;
        self.schemas.write().insert(name.to_string(), id);
        Ok(true)
    }

    /// The objects in schema `name`, newest first (the order to drop them in).
    pub fn schema_members(&self, name: &str) -> Vec<(ObjectKind, String)> {
        let defs = self.definitions.read();
        let mut members: Vec<_> =
            defs.iter().filter(|d| d.kind != ObjectKind::Schema && split_key(&d.name).0 == name).map(|d| (d.id, d.kind, d.name.clone())).collect();
        members.sort_by_key(|m| std::cmp::Reverse(m.0));
        members.into_iter().map(|(_, k, n)| (k, n)).collect()
    }

    /// Forgets an empty schema (its objects are dropped first).
    pub async fn drop_schema(&self, name: &str) -> SqlResult<()> {
        let mut writer = self.writer().await;
        self.remove_schema(&mut writer, name)
    }

    fn remove_schema(&self, writer: &mut Writer<'_>, name: &str) -> SqlResult<()> {
        let id = self.schemas.read().get(name).copied();
        if let Some(id) = id {
            self.undefine(writer, id)?;
            self.schemas.write().remove(name);
        }
        Ok(())
    }

    /// 3F000 unless the schema of a new object's key exists.
    pub(crate) fn check_schema_of(&self, key: &str) -> SqlResult<()> {
        let (schema, _) = split_key(key);
        if self.schema_exists(schema) {
            return Ok(());
        }
        Err(SqlError::new(SqlState::UndefinedSchema, format!("schema \"{schema}\" does not exist")).with_hint(format!("CREATE SCHEMA {schema} first")))
    }
}

impl Namespaces for Engine {
    fn schema_exists(&self, schema: &str) -> bool {
        Engine::schema_exists(self, schema)
    }
    fn relation_exists(&self, key: &str) -> bool {
        self.kind_of(key).is_some()
    }
}

/// weir's one database as DataFusion sees it: every schema, looked up when a query is planned.
#[derive(Debug)]
pub(crate) struct WeirCatalog {
    pub engine: Weak<Engine>,
    pub depth: usize,
    pub scope: Option<SessionScope>,
}

impl CatalogProvider for WeirCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.engine.upgrade().map(|e| e.schemas().into_iter().map(|s| s.name).collect()).unwrap_or_default()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let engine = self.engine.upgrade()?;
        let system = |which| Some(Arc::new(SystemRelations { engine: self.engine.clone(), which, scope: self.scope.clone() }) as Arc<dyn SchemaProvider>);
        match name {
            "pg_catalog" => system(SystemSchema::PgCatalog),
            "information_schema" => system(SystemSchema::InformationSchema),
            s if engine.schema_exists(s) => {
                Some(Arc::new(WeirSchema { engine: self.engine.clone(), schema: s.to_string(), depth: self.depth, scope: self.scope.clone() }))
            }
            _ => None,
        }
    }

    fn register_schema(&self, name: &str, _: Arc<dyn SchemaProvider>) -> datafusion::common::Result<Option<Arc<dyn SchemaProvider>>> {
        datafusion::common::not_impl_err!("schema {name} is made with CREATE SCHEMA")
    }
}
