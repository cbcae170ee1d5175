//! weir's own statements, parsed beside PostgreSQL's: `CREATE SOURCE`,
//! `CREATE MATERIALIZED VIEW ... [EMIT ON WINDOW CLOSE]`, `CREATE SINK`,
//! `DROP SOURCE | SINK`, `SHOW SOURCES | MATERIALIZED VIEWS | SINKS | CONNECTORS`,
//! `EXPLAIN [CREATE] MATERIALIZED VIEW`. Everything else goes to sqlparser.

use crate::error::{SqlError, SqlResult};
use crate::fetch::{CursorStep, parse_cursor_step};
use crate::parse::{MAX_NESTING_DEPTH, check_operator_chains, parse_error};
use datafusion::sql::sqlparser::ast::{ColumnDef, Expr, Ident, ObjectName, Query, Statement, Value};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Location, Token};

/// When a view emits its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// Upserts and retractions as data arrives (the default).
    OnUpdate,
    /// One final row per window once the watermark passes its end.
    OnWindowClose,
}

#[derive(Debug, Clone)]
pub struct CreateSource {
    pub name: ObjectName,
    pub if_not_exists: bool,
    /// None when the column list is omitted (the connector's full schema).
    pub columns: Option<Vec<ColumnDef>>,
    /// `WATERMARK FOR col AS expr`.
    pub watermark: Option<(Ident, Expr)>,
    pub options: Vec<(String, String)>,
    pub format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CreateView {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub query: Box<Query>,
    pub emit: Emit,
    /// `WITH (retention = '1 hour')` before AS.
    pub options: Vec<(String, String)>,
}

/// `CREATE SINK name FROM relation WITH (...)`.
#[derive(Debug, Clone)]
pub struct CreateSink {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub from: ObjectName,
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per statement, moved rarely: boxing buys nothing
pub enum WeirStatement {
    Sql(Statement),
    CreateSource(CreateSource),
    CreateView(CreateView),
    CreateSink(CreateSink),
    DropSource {
        names: Vec<ObjectName>,
        if_exists: bool,
        cascade: bool,
    },
    DropSink {
        names: Vec<ObjectName>,
        if_exists: bool,
    },
    /// `EXPLAIN CREATE MATERIALIZED VIEW ...`
    ExplainCreateView(CreateView),
    /// `EXPLAIN MATERIALIZED VIEW name`
    ExplainView(ObjectName),
    /// `SHOW SOURCES`, `SHOW MATERIALIZED VIEWS`, `SHOW SINKS`, `SHOW CONNECTORS`
    Show(ShowObjects),
    /// `FETCH` or `MOVE [direction] [FROM | IN] cursor`.
    Fetch(CursorStep),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowObjects {
    Sources,
    MaterializedViews,
    Sinks,
    /// The connectors weir has, with their options.
    Connectors,
}

/// A statement and its own text (as written, for the catalog).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub statement: WeirStatement,
    pub sql: String,
}

fn word_is(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(word) if word.value.eq_ignore_ascii_case(w) && word.quote_style.is_none())
}

/// The byte offset in `sql` of a parser Location (1-based line and column).
pub(crate) fn byte_offset(sql: &str, loc: Location) -> usize {
    if loc.line == 0 {
        return sql.len();
    }
    let mut line = 1u64;
    let mut start = 0usize;
    for (i, c) in sql.char_indices() {
        if line == loc.line {
            break;
        }
        if c == '\n' {
            line += 1;
            start = i + 1;
        }
    }
    sql[start..].char_indices().nth((loc.column.max(1) - 1) as usize).map(|(i, _)| start + i).unwrap_or(sql.len())
}

/// Parses SQL text that may mix PostgreSQL statements and weir's own.
pub fn parse_sql(sql: &str) -> SqlResult<Vec<Parsed>> {
    let dialect = PostgreSqlDialect {};
    check_operator_chains(sql, &dialect)?;
    let mut p = Parser::new(&dialect).with_recursion_limit(MAX_NESTING_DEPTH).try_with_sql(sql).map_err(parse_error)?;
    let mut out = Vec::new();
    let mut expect_end = false;
    loop {
        while p.consume_token(&Token::SemiColon) {
            expect_end = false;
        }
        let next = p.peek_token();
        if next.token == Token::EOF {
            break;
        }
        if expect_end {
            return Err(parse_error(ParserError::ParserError(format!("expected end of statement, found: {}", next.token))));
        }
        let start = byte_offset(sql, next.span.start);
        let statement = parse_one(&mut p).map_err(parse_error)?;
        let end = match p.peek_token().token {
            Token::EOF => sql.len(),
            _ => byte_offset(sql, p.peek_token().span.start),
        };
        out.push(Parsed { statement, sql: sql[start..end].trim().trim_end_matches(';').trim().to_string() });
        expect_end = true;
    }
    Ok(out)
}

fn parse_one(p: &mut Parser) -> Result<WeirStatement, ParserError> {
    let [t0, t1, t2, t3] = p.peek_tokens::<4>();
    let kw = |t: &Token, k: Keyword| matches!(t, Token::Word(w) if w.keyword == k);
    if kw(&t0, Keyword::CREATE) && kw(&t1, Keyword::SOURCE) {
        return parse_create_source(p).map(WeirStatement::CreateSource);
    }
    if kw(&t0, Keyword::CREATE) && kw(&t1, Keyword::MATERIALIZED) && kw(&t2, Keyword::VIEW) {
        return parse_create_view(p).map(WeirStatement::CreateView);
    }
    if kw(&t0, Keyword::CREATE) && word_is(&t1, "sink") {
        p.next_token();
        p.next_token();
        let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
        let name = p.parse_object_name(false)?;
        p.expect_keyword_is(Keyword::FROM)?;
        let from = p.parse_object_name(false)?;
        let options = parse_with_options(p)?;
        return Ok(WeirStatement::CreateSink(CreateSink { name, if_not_exists, from, options }));
    }
    if kw(&t0, Keyword::SHOW) && (word_is(&t1, "sources") || word_is(&t1, "sinks") || word_is(&t1, "connectors")) {
        p.next_token();
        p.next_token();
        let what = if word_is(&t1, "sinks") {
            ShowObjects::Sinks
        } else if word_is(&t1, "connectors") {
            ShowObjects::Connectors
        } else {
            ShowObjects::Sources
        };
        return Ok(WeirStatement::Show(what));
    }
    if kw(&t0, Keyword::DROP) && word_is(&t1, "sink") {
        p.next_token();
        p.next_token();
        let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let names = p.parse_comma_separated(|p| p.parse_object_name(false))?;
        return Ok(WeirStatement::DropSink { names, if_exists });
    }
    if word_is(&t0, "move") || word_is(&t0, "fetch") {
        p.next_token();
        return parse_cursor_step(p, word_is(&t0, "move")).map(WeirStatement::Fetch);
    }
    if kw(&t0, Keyword::SHOW) && kw(&t1, Keyword::MATERIALIZED) && kw(&t2, Keyword::VIEWS) {
        for _ in 0..3 {
            p.next_token();
        }
        return Ok(WeirStatement::Show(ShowObjects::MaterializedViews));
    }
    if kw(&t0, Keyword::DROP) && kw(&t1, Keyword::SOURCE) {
        p.next_token();
        p.next_token();
        let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let names = p.parse_comma_separated(|p| p.parse_object_name(false))?;
        let cascade = p.parse_keyword(Keyword::CASCADE);
        if !cascade {
            let _ = p.parse_keyword(Keyword::RESTRICT);
        }
        return Ok(WeirStatement::DropSource { names, if_exists, cascade });
    }
    if kw(&t0, Keyword::EXPLAIN) && kw(&t1, Keyword::CREATE) && kw(&t2, Keyword::MATERIALIZED) && kw(&t3, Keyword::VIEW) {
        p.next_token();
        return parse_create_view(p).map(WeirStatement::ExplainCreateView);
    }
    if kw(&t0, Keyword::EXPLAIN) && kw(&t1, Keyword::MATERIALIZED) && kw(&t2, Keyword::VIEW) {
        for _ in 0..3 {
            p.next_token();
        }
        return p.parse_object_name(false).map(WeirStatement::ExplainView);
    }
    p.parse_statement().map(WeirStatement::Sql)
}

fn parse_create_source(p: &mut Parser) -> Result<CreateSource, ParserError> {
    p.next_token();
    p.next_token();
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = p.parse_object_name(false)?;
    let mut columns = None;
    let mut watermark = None;
    if p.consume_token(&Token::LParen) {
        let mut cols = Vec::new();
        loop {
            if word_is(&p.peek_token().token, "watermark") {
                p.next_token();
                p.expect_keyword_is(Keyword::FOR)?;
                let col = p.parse_identifier()?;
                p.expect_keyword_is(Keyword::AS)?;
                let expr = p.parse_expr()?;
                if watermark.replace((col, expr)).is_some() {
                    return Err(ParserError::ParserError("a source has at most one WATERMARK".into()));
                }
            } else {
                cols.push(p.parse_column_def()?);
            }
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
        if !cols.is_empty() {
            columns = Some(cols);
        }
    }
    let options = parse_with_options(p)?;
    let format = if p.parse_keyword(Keyword::FORMAT) { Some(p.parse_identifier()?.value.to_lowercase()) } else { None };
    Ok(CreateSource { name, if_not_exists, columns, watermark, options, format })
}

/// `WITH (name = value, ...)`; values may be quoted strings, numbers or words.
pub fn parse_with_options(p: &mut Parser) -> Result<Vec<(String, String)>, ParserError> {
    let mut options = Vec::new();
    if !p.parse_keyword(Keyword::WITH) {
        return Ok(options);
    }
    p.expect_token(&Token::LParen)?;
    loop {
        let key = p.parse_identifier()?.value.to_lowercase();
        p.expect_token(&Token::Eq)?;
        let tok = p.next_token();
        let value = match &tok.token {
            Token::SingleQuotedString(s) => s.clone(),
            Token::Number(n, _) => n.clone(),
            Token::Word(w) => w.value.clone(),
            Token::Minus => match p.next_token().token {
                Token::Number(n, _) => format!("-{n}"),
                other => return Err(ParserError::ParserError(format!("expected a value for option {key}, found: {other}"))),
            },
            other => return Err(ParserError::ParserError(format!("expected a value for option {key}, found: {other}"))),
        };
        if options.iter().any(|(k, _)| *k == key) {
            return Err(ParserError::ParserError(format!("option \"{key}\" is given twice")));
        }
        options.push((key, value));
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    Ok(options)
}

fn parse_create_view(p: &mut Parser) -> Result<CreateView, ParserError> {
    for _ in 0..3 {
        p.next_token();
    }
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = p.parse_object_name(false)?;
    let options = parse_with_options(p)?;
    p.expect_keyword_is(Keyword::AS)?;
    let mut query = p.parse_query()?;
    let mut emit = Emit::OnUpdate;
    // `FROM t EMIT ON ...` reads as a table aliased "emit": take the alias back.
    let emit_was_alias = matches!(&p.peek_token().token, Token::Word(w) if w.keyword == Keyword::ON);
    if (emit_was_alias && take_emit_alias(&mut query)) || word_is(&p.peek_token().token, "emit") {
        if !emit_was_alias {
            p.next_token();
        }
        p.expect_keyword_is(Keyword::ON)?;
        if p.parse_keywords(&[Keyword::WINDOW, Keyword::CLOSE]) {
            emit = Emit::OnWindowClose;
        } else if p.parse_keyword(Keyword::UPDATE) {
            emit = Emit::OnUpdate;
        } else {
            return p.expected("WINDOW CLOSE or UPDATE after EMIT ON", p.peek_token());
        }
    }
    Ok(CreateView { name, if_not_exists, query, emit, options })
}

/// Removes a trailing table alias `emit` from the query's last FROM item.
fn take_emit_alias(q: &mut Query) -> bool {
    use datafusion::sql::sqlparser::ast::{SetExpr, TableFactor};
    let SetExpr::Select(select) = q.body.as_mut() else { return false };
    let Some(from) = select.from.last_mut() else { return false };
    let factor = match from.joins.last_mut() {
        Some(j) => &mut j.relation,
        None => &mut from.relation,
    };
    let alias = match factor {
        TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } | TableFactor::TableFunction { alias, .. } => alias,
        _ => return false,
    };
    if alias.as_ref().is_some_and(|a| a.name.quote_style.is_none() && a.name.value.eq_ignore_ascii_case("emit") && a.columns.is_empty()) {
        *alias = None;
        return true;
    }
    false
}

/// The text of a literal expression, for option-like arguments.
pub fn literal_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    }
}

impl SqlError {
    /// The error for a statement that needs the name of a relation kind.
    pub fn wrong_kind(name: &str, is: impl std::fmt::Display, wanted: &str) -> SqlError {
        SqlError::new(crate::SqlState::WrongObjectType, format!("\"{name}\" is a {is}, not a {wanted}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weir_statements_with_their_text() {
        let sql = "CREATE SOURCE clicks (id TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
            WITH (connector = 'kafka', topic = 'clicks', partitions = 3) FORMAT JSON;
            CREATE MATERIALIZED VIEW v AS SELECT count(*) FROM clicks EMIT ON WINDOW CLOSE; select 1;
            DROP SOURCE IF EXISTS a, b CASCADE;
            CREATE SINK IF NOT EXISTS k FROM v WITH (connector = 'redis', ttl = '1h'); DROP SINK IF EXISTS k; SHOW SINKS";
        let parsed = parse_sql(sql).unwrap();
        assert_eq!(parsed.len(), 7);
        let WeirStatement::CreateSink(k) = &parsed[4].statement else { panic!() };
        assert!(k.if_not_exists && k.from.to_string() == "v" && k.options[1] == ("ttl".to_string(), "1h".to_string()));
        assert!(matches!(&parsed[5].statement, WeirStatement::DropSink { if_exists: true, .. }));
        assert!(matches!(&parsed[6].statement, WeirStatement::Show(ShowObjects::Sinks)));
        let WeirStatement::CreateSource(s) = &parsed[0].statement else { panic!() };
        assert_eq!(s.columns.as_ref().unwrap().len(), 2);
        assert_eq!(s.watermark.as_ref().unwrap().0.value, "ts");
        assert_eq!(s.options[2], ("partitions".to_string(), "3".to_string()));
        assert_eq!(s.format.as_deref(), Some("json"));
        assert!(parsed[0].sql.starts_with("CREATE SOURCE clicks") && parsed[0].sql.ends_with("FORMAT JSON"));
        let WeirStatement::CreateView(v) = &parsed[1].statement else { panic!() };
        assert_eq!(v.emit, Emit::OnWindowClose);
        assert_eq!(parsed[2].sql, "select 1");
        assert!(matches!(&parsed[3].statement, WeirStatement::DropSource { names, if_exists: true, cascade: true } if names.len() == 2));
        assert!(parse_sql("CREATE SOURCE s WITH (a = )").is_err());
    }
}
