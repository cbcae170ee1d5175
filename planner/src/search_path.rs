//! `search_path`: which schema an unqualified name means. A session
//! qualifies each statement at the door: every unqualified relation it
//! reads, writes or creates gets the schema the search path gives it, so
//! the rest of weir, and the SQL its catalog stores, sees qualified names.
//! Names that resolve to `public` stay bare: a bare name means `public`
//! further in (see [`crate::names::object_name`]).

use crate::ddl::{WeirStatement, byte_offset};
use crate::names::{SCHEMA, ident_name, object_key, quote_ident};
use crate::{SqlError, SqlResult, SqlState};
use datafusion::sql::sqlparser::ast::{
    CopySource, Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, ObjectNamePart, ObjectType, Query, Statement, TableFactor, Visit, VisitMut, Visitor,
    VisitorMut, visit_relations_mut,
};
use datafusion::sql::sqlparser::tokenizer::Location;
use std::collections::HashSet;
use std::ops::ControlFlow;

/// What qualifying asks of the catalog.
pub trait Namespaces {
    fn schema_exists(&self, schema: &str) -> bool;
    /// Whether an object with this key (see `names::object_key`) exists.
    fn relation_exists(&self, key: &str) -> bool;
}

/// The schemas of a `search_path` value, in order: `$user` is the session's
/// user, quoted names keep their case, others fold to lower case.
pub fn parse(setting: &str, user: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = setting.trim();
    while !rest.is_empty() {
        let (item, tail) = match rest.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(end) => (format!("\"{}\"", &q[..end]), &q[end + 1..]),
                None => (rest.to_string(), ""),
            },
            None => match rest.find(',') {
                Some(i) => (rest[..i].to_string(), &rest[i..]),
                None => (rest.to_string(), ""),
            },
        };
        let item = item.trim();
        let name = match item.strip_prefix('"').and_then(|i| i.strip_suffix('"')) {
            Some("$user") => user.to_string(),
            Some(quoted) => quoted.to_string(),
            None if item == "$user" => user.to_string(),
            None => item.to_lowercase(),
        };
        if !name.is_empty() {
            out.push(name);
        }
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// A session's search path, reduced to the schemas that exist.
pub struct SearchPath<'a> {
    schemas: Vec<String>,
    catalog: &'a dyn Namespaces,
}

/// Where a schema name was put in front of a name: the name's place in
/// the statement's text, and the schema.
pub type Insertion = (Location, String);

impl<'a> SearchPath<'a> {
    pub fn new(path: &[String], catalog: &'a dyn Namespaces) -> Self {
        let schemas = path.iter().filter(|s| !is_system(s) && catalog.schema_exists(s)).cloned().collect();
        SearchPath { schemas, catalog }
    }

    /// The schemas names are looked up in, first to last.
    pub fn schemas(&self) -> &[String] {
        &self.schemas
    }

    /// True when nothing can need qualifying: names mean `public` either way.
    fn trivial(&self) -> bool {
        self.schemas.len() == 1 && self.schemas[0] == SCHEMA
    }

    /// The schema new objects go to.
    pub fn creation_schema(&self) -> SqlResult<&str> {
        self.schemas.first().map(String::as_str).ok_or_else(|| {
            SqlError::new(SqlState::UndefinedSchema, "no schema has been selected to create in")
                .with_hint("CREATE SCHEMA one of the search_path's schemas, or SET search_path TO public")
        })
    }

    /// The first schema on the path holding `name`.
    pub fn lookup(&self, name: &str) -> Option<&str> {
        self.schemas.iter().find(|s| self.catalog.relation_exists(&object_key(s, name))).map(String::as_str)
    }

    /// Qualifies `stmt` in place; gives where schema names went.
    pub fn qualify(&self, stmt: &mut WeirStatement) -> SqlResult<Vec<Insertion>> {
        if self.trivial() {
            return Ok(vec![]);
        }
        let mut q = Qualify { path: self, ctes: ctes_of(stmt), out: Vec::new() };
        match stmt {
            WeirStatement::Sql(s) => q.statement(s)?,
            WeirStatement::CreateSource(cs) => q.create(&mut cs.name)?,
            WeirStatement::CreateView(cv) => {
                q.create(&mut cv.name)?;
                q.query(&mut cv.query);
                q.window_inputs(&mut cv.query);
            }
            WeirStatement::ExplainCreateView(cv) => {
                q.query(&mut cv.query);
                q.window_inputs(&mut cv.query);
            }
            WeirStatement::CreateSink(cs) => {
                q.create(&mut cs.name)?;
                q.name(&mut cs.from);
            }
            WeirStatement::DropSource { names, .. } | WeirStatement::DropSink { names, .. } => names.iter_mut().for_each(|n| q.name(n)),
            WeirStatement::ExplainView(n) => q.name(n),
            WeirStatement::Show(_) | WeirStatement::Fetch(_) => {}
        }
        Ok(q.out)
    }
}

fn is_system(schema: &str) -> bool {
    matches!(schema, "pg_catalog" | "information_schema")
}

/// `text` with each insertion's schema put in front of the name at its
/// place (Locations as the parser gave them for this same text).
pub fn splice(text: &str, insertions: &[Insertion]) -> String {
    let mut at: Vec<(usize, String)> = insertions.iter().map(|(loc, schema)| (byte_offset(text, *loc), format!("{}.", quote_ident(schema)))).collect();
    at.sort_by_key(|a| std::cmp::Reverse(a.0));
    let mut out = text.to_string();
    for (offset, prefix) in at {
        out.insert_str(offset, &prefix);
    }
    out
}

fn ident(schema: &str) -> Ident {
    if quote_ident(schema) == schema { Ident::new(schema) } else { Ident::with_quote('"', schema) }
}

struct Qualify<'p, 'a> {
    path: &'p SearchPath<'a>,
    /// Names of the statement's WITH queries: never catalog objects.
    ctes: HashSet<String>,
    out: Vec<Insertion>,
}

impl Qualify<'_, '_> {
    fn prefix(&mut self, name: &mut ObjectName, schema: &str) {
        let start = name.0.first().and_then(|p| p.as_ident()).map(|i| i.span.start);
        if let Some(start) = start {
            self.out.push((start, schema.to_string()));
        }
        name.0.insert(0, ObjectNamePart::Identifier(ident(schema)));
    }

    fn bare(name: &ObjectName) -> Option<String> {
        match name.0.as_slice() {
            [p] => p.as_ident().map(ident_name),
            _ => None,
        }
    }

    /// A name that must exist: the first schema on the path that has it.
    fn name(&mut self, name: &mut ObjectName) {
        let Some(bare) = Self::bare(name) else { return };
        if self.ctes.contains(&bare) {
            return;
        }
        if let Some(schema) = self.path.lookup(&bare).filter(|s| *s != SCHEMA).map(String::from) {
            self.prefix(name, &schema);
        }
    }

    /// The name of an object being created: the path's first schema.
    fn create(&mut self, name: &mut ObjectName) -> SqlResult<()> {
        if Self::bare(name).is_none() {
            return Ok(());
        }
        let schema = self.path.creation_schema()?.to_string();
        if schema != SCHEMA {
            self.prefix(name, &schema);
        }
        Ok(())
    }

    fn query(&mut self, q: &mut Query) {
        let _ = visit_relations_mut(q, |n| {
            self.name(n);
            ControlFlow::<()>::Continue(())
        });
    }

    /// `TUMBLE(clicks, ...)` (or HOP, SESSION) in a materialized view: its first argument names a relation.
    fn window_inputs(&mut self, q: &mut Query) {
        struct Windows<'q, 'p, 'a>(&'q mut Qualify<'p, 'a>);
        impl VisitorMut for Windows<'_, '_, '_> {
            type Break = ();
            fn pre_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<()> {
                let TableFactor::Table { name, args: Some(args), .. } = f else { return ControlFlow::Continue(()) };
                let window = name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| matches!(ident_name(i).as_str(), "tumble" | "hop" | "session"));
                if let (true, Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))) = (window, args.args.first_mut())
                    && let Expr::Identifier(id) = e
                {
                    let (id, bare) = (id.clone(), ident_name(id));
                    let schema = self.0.path.lookup(&bare).filter(|s| *s != SCHEMA && !self.0.ctes.contains(&bare)).map(String::from);
                    if let Some(schema) = schema {
                        self.0.out.push((id.span.start, schema.clone()));
                        *e = Expr::CompoundIdentifier(vec![ident(&schema), id]);
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let _ = VisitMut::visit(q, &mut Windows(self));
    }

    fn statement(&mut self, s: &mut Statement) -> SqlResult<()> {
        match s {
            Statement::CreateTable(ct) => {
                self.create(&mut ct.name)?;
                if let Some(q) = ct.query.as_mut() {
                    self.query(q);
                }
            }
            Statement::CreateView(cv) => {
                self.create(&mut cv.name)?;
                self.query(&mut cv.query);
            }
            Statement::Drop { object_type: ObjectType::Schema, .. } => {}
            Statement::Drop { names, .. } => names.iter_mut().for_each(|n| self.name(n)),
            Statement::Copy { source: CopySource::Table { table_name, .. }, .. } => self.name(table_name),
            Statement::Copy { source: CopySource::Query(q), .. } => self.query(q),
            other => {
                let _ = visit_relations_mut(other, |n| {
                    self.name(n);
                    ControlFlow::<()>::Continue(())
                });
            }
        }
        Ok(())
    }
}

/// The names every WITH clause of the statement defines.
fn ctes_of(stmt: &WeirStatement) -> HashSet<String> {
    struct Ctes(HashSet<String>);
    impl Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                self.0.extend(with.cte_tables.iter().map(|c| ident_name(&c.alias.name)));
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Ctes(HashSet::new());
    match stmt {
        WeirStatement::Sql(s) => {
            let _ = Visit::visit(s, &mut v);
        }
        WeirStatement::CreateView(cv) | WeirStatement::ExplainCreateView(cv) => {
            let _ = Visit::visit(&*cv.query, &mut v);
        }
        _ => {}
    }
    v.0
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Catalog;
    impl Namespaces for Catalog {
        fn schema_exists(&self, s: &str) -> bool {
            matches!(s, "public" | "shop" | "My Schema")
        }
        fn relation_exists(&self, key: &str) -> bool {
            matches!(key, "shop.orders" | "shop.clicks" | "items" | "orders")
        }
    }

    fn qualified(path: &[&str], sql: &str) -> String {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        let p = SearchPath::new(&path, &Catalog);
        let mut parsed = crate::parse_sql(sql).unwrap().pop().unwrap();
        let inserted = p.qualify(&mut parsed.statement).unwrap();
        splice(sql, &inserted)
    }

    #[test]
    fn reads_search_path_values() {
        assert_eq!(parse("\"$user\", public", "weir"), vec!["weir", "public"]);
        assert_eq!(parse("Shop,  \"My Schema\" ,public", "u"), vec!["shop", "My Schema", "public"]);
        assert_eq!(parse("", "u"), Vec::<String>::new());
    }

    #[test]
    fn names_take_the_first_schema_that_has_them() {
        assert_eq!(qualified(&["shop", "public"], "SELECT * FROM orders JOIN items ON true"), "SELECT * FROM shop.orders JOIN items ON true");
        assert_eq!(qualified(&["public", "shop"], "SELECT * FROM orders"), "SELECT * FROM orders");
        assert_eq!(qualified(&["shop"], "WITH orders AS (SELECT 1) SELECT * FROM orders"), "WITH orders AS (SELECT 1) SELECT * FROM orders");
        assert_eq!(qualified(&["public"], "SELECT * FROM orders"), "SELECT * FROM orders");
    }

    #[test]
    fn new_objects_go_to_the_first_schema_that_exists() {
        assert_eq!(qualified(&["nowhere", "shop"], "CREATE TABLE t (a int)"), "CREATE TABLE shop.t (a int)");
        assert_eq!(
            qualified(&["shop"], "CREATE MATERIALIZED VIEW m AS SELECT count(*) FROM TUMBLE(clicks, ts, INTERVAL '1 minute') GROUP BY window_start"),
            "CREATE MATERIALIZED VIEW shop.m AS SELECT count(*) FROM TUMBLE(shop.clicks, ts, INTERVAL '1 minute') GROUP BY window_start"
        );
        assert_eq!(
            qualified(&["My Schema"], "CREATE SINK s FROM items WITH (connector = 'x')"),
            "CREATE SINK \"My Schema\".s FROM items WITH (connector = 'x')"
        );
        let path = vec!["nowhere".to_string()];
        let mut stmt = crate::parse_sql("CREATE TABLE t (a int)").unwrap().pop().unwrap().statement;
        assert_eq!(SearchPath::new(&path, &Catalog).qualify(&mut stmt).unwrap_err().state, SqlState::UndefinedSchema);
    }
}
