//! weir's planner: SQL text (PostgreSQL dialect plus weir's DDL) to plans that
//! are plain data. It knows nothing about concrete connectors.

pub mod error;
pub mod parse;
pub mod types;

pub use error::{SqlError, SqlResult, SqlState};
pub use parse::parse_statements;
