//! Splits and parses SQL text into statements with PostgreSQL's dialect.
//! Weir's own DDL (sources, sinks, streaming views) is recognised here too,
//! so the rest of weir sees one statement type.

use crate::error::{SqlError, SqlResult};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

/// Deepest expression nesting a statement may have before it is refused
/// rather than risking the stack.
pub const MAX_NESTING_DEPTH: usize = 200;

/// Parses `sql` into statements. An empty string gives no statements.
pub fn parse_statements(sql: &str) -> SqlResult<Vec<Statement>> {
    let dialect = PostgreSqlDialect {};
    Parser::new(&dialect)
        .with_recursion_limit(MAX_NESTING_DEPTH)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(parse_error)
}

fn parse_error(e: ParserError) -> SqlError {
    match e {
        ParserError::RecursionLimitExceeded => SqlError::new(
            crate::SqlState::ProgramLimitExceeded,
            "statement is too deeply nested",
        )
        .with_hint(format!("weir accepts expressions nested at most {MAX_NESTING_DEPTH} levels deep")),
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => {
            let m = m.trim_end_matches('.');
            let mut msg = String::from("syntax error: ");
            let mut chars = m.chars();
            if let Some(c) = chars.next() {
                msg.extend(c.to_lowercase());
                msg.push_str(chars.as_str());
            }
            SqlError::syntax(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_and_reports_syntax_errors() {
        assert_eq!(parse_statements("select 1; select 2;").unwrap().len(), 2);
        assert!(parse_statements("").unwrap().is_empty());
        let err = parse_statements("selec 1").unwrap_err();
        assert_eq!(err.state.code(), "42601");
        assert!(err.message.starts_with("syntax error"), "{}", err.message);
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        let sql = format!("select {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse_statements(&sql).unwrap_err().state.code(), "54000");
    }
}
