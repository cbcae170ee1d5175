//! Names and kinds of weir objects: identifiers fold to lower case unless
//! quoted, every object lives in one catalog and schema, and one name space
//! holds tables, sources, materialized views and sinks.

use crate::{SqlError, SqlResult, SqlState};
use datafusion::sql::sqlparser::ast::{Ident, ObjectName};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The catalog (database) name weir's objects live in.
pub const CATALOG: &str = "weir";
/// The one schema of weir's objects.
pub const SCHEMA: &str = "public";

/// An identifier as PostgreSQL reads it: folded to lower case unless quoted.
pub fn ident_name(id: &Ident) -> String {
    if id.quote_style.is_some() { id.value.clone() } else { id.value.to_lowercase() }
}

/// The weir object an SQL name refers to (`t`, `public.t` or `weir.public.t`).
pub fn object_name(name: &ObjectName) -> SqlResult<String> {
    let parts: Vec<String> =
        name.0.iter().map(|p| p.as_ident().map(ident_name).ok_or_else(|| SqlError::syntax(format!("invalid name {name}")))).collect::<SqlResult<_>>()?;
    match parts.as_slice() {
        [t] => Ok(t.clone()),
        [s, t] if s == SCHEMA => Ok(t.clone()),
        [c, s, t] if c == CATALOG && s == SCHEMA => Ok(t.clone()),
        _ => {
            Err(SqlError::new(SqlState::UndefinedTable, format!("relation \"{name}\" does not exist")).with_hint("weir objects live in the schema \"public\""))
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
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql_name())
    }
}
