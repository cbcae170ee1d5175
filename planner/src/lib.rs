//! weir's planner: SQL text (PostgreSQL dialect plus weir's DDL) to plans that
//! are plain data. It knows nothing about concrete connectors.

pub mod colnames;
pub mod ddl;
pub mod error;
pub mod fetch;
pub mod names;
#[cfg(test)]
mod numeric_tests;
pub mod parse;
pub mod pgdialect;
pub mod pgfunctions;
pub mod pgplan;
pub mod pgsyntax;
pub mod pgtypes;
#[cfg(test)]
mod regex_tests;
pub mod search_path;
pub mod sqlast;
pub mod stream;
pub mod types;

pub use ddl::{Emit, Parsed, WeirStatement, parse_sql};
pub use error::{SqlError, SqlResult, SqlState};
pub use parse::parse_statements;
