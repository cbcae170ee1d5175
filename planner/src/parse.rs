//! Splits and parses SQL text into statements with PostgreSQL's dialect.
//! Weir's own DDL (sources, sinks, streaming views) is recognised here too,
//! so the rest of weir sees one statement type.

use crate::error::{SqlError, SqlResult};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// Deepest expression nesting a statement may have before it is refused
/// rather than risking the stack.
pub const MAX_NESTING_DEPTH: usize = 200;

/// Longest chain of binary operators one expression may have. The parser
/// builds such chains without recursion, but every later pass over the tree
/// (planning, and dropping it) recurses once per operator.
pub const MAX_OPERATOR_CHAIN: usize = 1000;

/// Refuses statements with an over-long operator chain, scanning tokens
/// (which needs no recursion). The count restarts at commas, parentheses and
/// semicolons, so long lists such as multi-row VALUES are unaffected.
pub(crate) fn check_operator_chains(sql: &str, dialect: &PostgreSqlDialect) -> SqlResult<()> {
    let tokens = Tokenizer::new(dialect, sql).tokenize().map_err(|e| parse_error(ParserError::TokenizerError(e.to_string())))?;
    let mut chain = 0usize;
    for t in &tokens {
        chain = match t {
            Token::Comma | Token::LParen | Token::RParen | Token::SemiColon => 0,
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Ampersand
            | Token::Pipe
            | Token::Caret => chain + 1,
            Token::Word(w) if matches!(w.keyword, Keyword::AND | Keyword::OR) => chain + 1,
            _ => chain,
        };
        if chain > MAX_OPERATOR_CHAIN {
            return Err(SqlError::new(crate::SqlState::ProgramLimitExceeded, "expression has too many operators")
                .with_hint(format!("weir accepts at most {MAX_OPERATOR_CHAIN} operators in a row; split the expression")));
        }
    }
    Ok(())
}

/// Parses `sql` into statements. An empty string gives no statements.
pub fn parse_statements(sql: &str) -> SqlResult<Vec<Statement>> {
    let dialect = PostgreSqlDialect {};
    check_operator_chains(sql, &dialect)?;
    Parser::new(&dialect).with_recursion_limit(MAX_NESTING_DEPTH).try_with_sql(sql).and_then(|mut p| p.parse_statements()).map_err(parse_error)
}

pub(crate) fn parse_error(e: ParserError) -> SqlError {
    match e {
        ParserError::RecursionLimitExceeded => SqlError::new(crate::SqlState::ProgramLimitExceeded, "statement is too deeply nested")
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
    fn refuses_long_operator_chains_but_not_long_lists() {
        let chain = format!("select 1{}", " + 1".repeat(100_000));
        assert_eq!(parse_statements(&chain).unwrap_err().state.code(), "54000");
        let values = format!("insert into t values {}", vec!["(-1, 'a' || 'b')"; 100_000].join(", "));
        assert_eq!(parse_statements(&values).unwrap().len(), 1);
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        let sql = format!("select {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse_statements(&sql).unwrap_err().state.code(), "54000");
    }
}
