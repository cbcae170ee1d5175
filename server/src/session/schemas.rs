//! A session's schemas: `CREATE SCHEMA`, `DROP SCHEMA`, and `search_path`,
//! which qualifies each statement's names before it runs (see
//! weir_planner::search_path), so what it creates and reads is the object
//! the search path means, and stored definitions keep that meaning.

use super::{Output, Session};
use datafusion::sql::sqlparser::ast::{Ident, ObjectName, ObjectNamePart, ObjectType, SchemaName};
use weir_planner::names::{ObjectKind, SCHEMA, schema_name, split_key};
use weir_planner::search_path::{SearchPath, parse, splice};
use weir_planner::{SqlError, SqlResult, SqlState, WeirStatement, parse_sql};

impl Session {
    /// The session's search path, `$user` resolved.
    pub(super) fn search_path(&self) -> Vec<String> {
        parse(self.settings.get("search_path").unwrap_or(SCHEMA), &self.user)
    }

    /// Makes the session's settings and search path what its queries see,
    /// and takes the statement's snapshot of the committed tables.
    pub(super) fn publish_scope(&self) {
        let path = self.search_path();
        if *self.scope.search_path.read() != path {
            *self.scope.search_path.write() = path;
        }
        *self.scope.settings.write() = self.settings.catalog_rows();
        self.fresh_snapshot();
    }

    /// Takes the committed tables as they are now: at a statement's start,
    /// and again once it holds the write lock, so a write reads what it replaces.
    pub(super) fn fresh_snapshot(&self) {
        *self.scope.tables.write() = self.engine.table_snapshots();
    }

    /// Qualifies the statement's names by the search path. Gives the text
    /// a CREATE of weir's own stores: `sql` with the schemas put in.
    pub(super) fn qualify(&self, stmt: &mut WeirStatement, sql: &str) -> SqlResult<String> {
        let path = self.search_path();
        let path = SearchPath::new(&path, &*self.engine);
        let inserted = path.qualify(stmt)?;
        let stores_text = matches!(stmt, WeirStatement::CreateSource(_) | WeirStatement::CreateView(_) | WeirStatement::CreateSink(_));
        if inserted.is_empty() || !stores_text {
            return Ok(sql.to_string());
        }
        // Places in `stmt` count from the start of the whole query string; parse `sql` alone for its own.
        let Some(mut own) = parse_sql(sql)?.pop() else { return Ok(sql.to_string()) };
        Ok(splice(sql, &path.qualify(&mut own.statement)?))
    }

    pub(super) async fn create_schema(&self, name: &SchemaName, if_not_exists: bool) -> SqlResult<Output> {
        let name = match name {
            SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => schema_name(n)?,
            SchemaName::UnnamedAuthorization(role) => weir_planner::names::ident_name(role),
        };
        self.engine.create_schema(&name, if_not_exists).await?;
        Ok(Output::Command { tag: "CREATE SCHEMA".into(), rows: None })
    }

    /// DROP SCHEMA: refused while it holds objects, unless CASCADE drops them first.
    pub(super) async fn drop_schemas(&mut self, names: &[ObjectName], if_exists: bool, cascade: bool) -> SqlResult<Output> {
        let mut schemas = Vec::new();
        for n in names {
            let name = schema_name(n)?;
            if name == SCHEMA || matches!(name.as_str(), "pg_catalog" | "information_schema") {
                return Err(SqlError::new(SqlState::DependentObjectsStillExist, format!("cannot drop schema {name}: weir keeps it")));
            }
            if !self.engine.schema_exists(&name) {
                if if_exists {
                    continue;
                }
                return Err(SqlError::new(SqlState::UndefinedSchema, format!("schema \"{name}\" does not exist")));
            }
            let members = self.engine.schema_members(&name);
            if !members.is_empty() && !cascade {
                let detail = members.iter().rev().map(|(k, key)| format!("{k} {key} depends on schema {name}")).collect::<Vec<_>>().join("\n");
                return Err(SqlError::new(SqlState::DependentObjectsStillExist, format!("cannot drop schema {name} because other objects depend on it"))
                    .with_detail(detail)
                    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
            }
            schemas.push((name, members));
        }
        for (name, members) in schemas {
            for (kind, key) in members {
                self.drop_member(kind, &key).await?;
            }
            self.engine.drop_schema(&name).await?;
        }
        Ok(Output::Command { tag: "DROP SCHEMA".into(), rows: None })
    }

    /// Drops one object of a schema being dropped, with what depends on it.
    async fn drop_member(&mut self, kind: ObjectKind, key: &str) -> SqlResult<()> {
        let keys = [key.to_string()];
        match kind {
            ObjectKind::Table => {
                let (schema, name) = split_key(key);
                let name =
                    ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote('"', schema)), ObjectNamePart::Identifier(Ident::with_quote('"', name))]);
                self.drop(ObjectType::Table, true, vec![name], true).await.map(|_| ())
            }
            ObjectKind::Sink => self.engine.drop_sinks(&keys, true).await,
            ObjectKind::Schema => Ok(()),
            streaming => self.engine.drop_streaming(streaming, &keys, true, true).await,
        }
    }
}
