//! Names and kinds of weir objects: identifiers fold to lower case unless
//! quoted, every object lives in one catalog and in a schema, and within a
//! schema one name space holds tables, sources, views and sinks.
//!
//! The catalog files an object under its *key*: the bare name for an object
//! in `public` (as before schemas existed), `schema.name` elsewhere. Names
//! may not contain a dot, so keys never collide.

use crate::{SqlError, SqlResult, SqlState};
use datafusion::sql::sqlparser::ast::{Ident, ObjectName};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The catalog (database) name weir's objects live in.
pub const CATALOG: &str = "weir";
/// The schema that always exists, where unqualified names go by default.
pub const SCHEMA: &str = "public";

/// The key of object `name` in `schema`.
pub fn object_key(schema: &str, name: &str) -> String {
    if schema == SCHEMA { name.to_string() } else { format!("{schema}.{name}") }
}

/// The schema and bare name of a key.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('.').unwrap_or((SCHEMA, key))
}

/// The error for a name part that holds a dot, which keys cannot.
fn dotted(part: &str) -> SqlError {
    SqlError::new(SqlState::InvalidName, format!("invalid name \"{part}\""))
        .with_detail("weir does not allow \".\" inside a name")
        .with_hint("choose a name without a dot, or qualify it as schema.name")
}

/// An identifier as PostgreSQL reads it: folded to lower case unless quoted.
pub fn ident_name(id: &Ident) -> String {
    if id.quote_style.is_some() { id.value.clone() } else { id.value.to_lowercase() }
}

/// PostgreSQL's `quote_ident`: quoted unless a plain lower-case identifier.
pub fn quote_ident(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !RESERVED.contains(&s);
    if plain { s.to_string() } else { format!("\"{}\"", s.replace('"', "\"\"")) }
}

/// `quote_literal`: a text literal, as an `E''` string when it holds a backslash.
pub fn quote_literal(s: &str) -> String {
    let body = s.replace('\'', "''");
    if s.contains('\\') { format!("E'{}'", body.replace('\\', "\\\\")) } else { format!("'{body}'") }
}

/// Words PostgreSQL's `quote_ident` quotes even when they are lower case.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// The parts of an SQL name, folded as PostgreSQL folds them.
pub fn name_parts(name: &ObjectName) -> SqlResult<Vec<String>> {
    name.0.iter().map(|p| p.as_ident().map(ident_name).ok_or_else(|| SqlError::syntax(format!("invalid name {name}")))).collect()
}

/// The key of the weir object an SQL name refers to (`t`, `s.t` or
/// `weir.s.t`). An unqualified name means `public` here: sessions qualify
/// names by their search_path before statements get this far.
pub fn object_name(name: &ObjectName) -> SqlResult<String> {
    let parts = name_parts(name)?;
    if let Some(p) = parts.iter().find(|p| p.contains('.')) {
        return Err(dotted(p));
    }
    match parts.as_slice() {
        [t] => Ok(t.clone()),
        [s, t] => Ok(object_key(s, t)),
        [c, s, t] if c == CATALOG => Ok(object_key(s, t)),
        _ => Err(SqlError::unsupported(format!("cross-database references are not implemented: {name}"))
            .with_hint(format!("weir has one database, \"{CATALOG}\"; name objects as schema.name"))),
    }
}

/// The schema an SQL name refers to (`s` or `weir.s`).
pub fn schema_name(name: &ObjectName) -> SqlResult<String> {
    let parts = name_parts(name)?;
    match parts.as_slice() {
        [s] | [_, s] if s.contains('.') => Err(dotted(s)),
        [s] => Ok(s.clone()),
        [c, s] if c == CATALOG => Ok(s.clone()),
        _ => {
            Err(SqlError::unsupported(format!("cross-database references are not implemented: {name}"))
                .with_hint(format!("weir has one database, \"{CATALOG}\"")))
        }
    }
}

/// The kinds of objects in weir's catalog. Stored in definitions as
/// `table`, `source`, `view`, `sink`, `plain_view`; shown as SQL names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Table,
    Source,
    View,
    Sink,
    /// A plain (not materialized) view: a stored query.
    #[serde(rename = "plain_view")]
    PlainView,
    /// A schema (`CREATE SCHEMA`): a name space for the others.
    Schema,
}

impl ObjectKind {
    /// The name SQL gives the kind (`DROP MATERIALIZED VIEW`, messages).
    pub fn sql_name(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Source => "source",
            ObjectKind::View => "materialized view",
            ObjectKind::Sink => "sink",
            ObjectKind::PlainView => "view",
            ObjectKind::Schema => "schema",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql_name())
    }
}
