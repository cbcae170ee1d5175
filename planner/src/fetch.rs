//! `FETCH` and `MOVE`: PostgreSQL's grammar for moving a cursor, parsed into
//! one direction and a count (sqlparser's FETCH takes neither signed counts
//! nor a bare `FETCH name`, which psql users type).

use datafusion::sql::sqlparser::ast::Ident;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// How many rows a forward or backward step covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Rows(i64),
    All,
}

/// Where a FETCH goes, as PostgreSQL's executor reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward(Count),
    Backward(Count),
    /// The n-th row (from the end when negative; 0 is before the first).
    Absolute(i64),
    /// The row n rows from the current one (0: the current row again).
    Relative(i64),
}

/// `FETCH direction [FROM | IN] cursor` or the same with `MOVE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorStep {
    pub cursor: Ident,
    pub direction: Direction,
    /// MOVE: the cursor moves, no rows are returned, the tag counts them.
    pub is_move: bool,
}

/// Parses what follows the FETCH or MOVE keyword.
pub fn parse_cursor_step(p: &mut Parser, is_move: bool) -> Result<CursorStep, ParserError> {
    let direction = parse_direction(p)?;
    if !p.parse_keyword(Keyword::FROM) {
        let _ = p.parse_keyword(Keyword::IN);
    }
    let cursor = p.parse_identifier()?;
    Ok(CursorStep { cursor, direction, is_move })
}

fn parse_direction(p: &mut Parser) -> Result<Direction, ParserError> {
    let count = |p: &mut Parser| -> Result<Count, ParserError> {
        if p.parse_keyword(Keyword::ALL) {
            return Ok(Count::All);
        }
        Ok(Count::Rows(signed(p)?.unwrap_or(1)))
    };
    let required = |p: &mut Parser| signed(p)?.ok_or_else(|| ParserError::ParserError(format!("expected a row count, found: {}", p.peek_token())));
    Ok(if p.parse_keyword(Keyword::NEXT) {
        Direction::Forward(Count::Rows(1))
    } else if p.parse_keyword(Keyword::PRIOR) {
        Direction::Backward(Count::Rows(1))
    } else if p.parse_keyword(Keyword::FIRST) {
        Direction::Absolute(1)
    } else if p.parse_keyword(Keyword::LAST) {
        Direction::Absolute(-1)
    } else if p.parse_keyword(Keyword::ABSOLUTE) {
        Direction::Absolute(required(p)?)
    } else if p.parse_keyword(Keyword::RELATIVE) {
        Direction::Relative(required(p)?)
    } else if p.parse_keyword(Keyword::FORWARD) {
        Direction::Forward(count(p)?)
    } else if p.parse_keyword(Keyword::BACKWARD) {
        Direction::Backward(count(p)?)
    } else if p.parse_keyword(Keyword::ALL) {
        Direction::Forward(Count::All)
    } else {
        Direction::Forward(Count::Rows(signed(p)?.unwrap_or(1)))
    })
}

/// An optionally signed integer, if one comes next.
fn signed(p: &mut Parser) -> Result<Option<i64>, ParserError> {
    let negative = match p.peek_token().token {
        Token::Minus => true,
        Token::Plus => false,
        Token::Number(..) => false,
        _ => return Ok(None),
    };
    if !matches!(p.peek_token().token, Token::Number(..)) {
        p.next_token();
    }
    match p.next_token().token {
        Token::Number(n, _) => {
            let v: i64 = n.parse().map_err(|_| ParserError::ParserError(format!("invalid row count {n}")))?;
            Ok(Some(if negative { -v } else { v }))
        }
        other => Err(ParserError::ParserError(format!("expected a row count, found: {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

    fn step(sql: &str) -> CursorStep {
        let mut p = Parser::new(&PostgreSqlDialect {}).try_with_sql(sql).unwrap();
        parse_cursor_step(&mut p, false).unwrap()
    }

    #[test]
    fn reads_every_form_postgres_accepts() {
        use Direction::*;
        let cases = [
            ("c", Forward(Count::Rows(1))),
            ("FROM c", Forward(Count::Rows(1))),
            ("NEXT c", Forward(Count::Rows(1))),
            ("PRIOR FROM c", Backward(Count::Rows(1))),
            ("FIRST IN c", Absolute(1)),
            ("LAST c", Absolute(-1)),
            ("ABSOLUTE -2 c", Absolute(-2)),
            ("RELATIVE +3 FROM c", Relative(3)),
            ("-4 c", Forward(Count::Rows(-4))),
            ("ALL c", Forward(Count::All)),
            ("FORWARD c", Forward(Count::Rows(1))),
            ("FORWARD ALL FROM c", Forward(Count::All)),
            ("BACKWARD 2 c", Backward(Count::Rows(2))),
            ("BACKWARD ALL c", Backward(Count::All)),
        ];
        for (sql, want) in cases {
            let s = step(sql);
            assert_eq!((s.direction, s.cursor.value.as_str()), (want, "c"), "{sql}");
        }
    }

    #[test]
    fn refuses_a_missing_count_or_cursor() {
        for sql in ["ABSOLUTE c", "RELATIVE FROM c", "FORWARD 2", "- c"] {
            let mut p = Parser::new(&PostgreSqlDialect {}).try_with_sql(sql).unwrap();
            assert!(parse_cursor_step(&mut p, false).is_err(), "{sql}");
        }
    }
}
