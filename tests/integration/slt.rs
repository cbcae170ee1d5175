//! Runs the sqllogictest files under `tests/slt/` against a live weir, once
//! over the simple query protocol (text results) and once over the extended
//! protocol (binary results, converted to PostgreSQL's text forms here, so
//! one expected output serves both).

use crate::support::{Server, repo_root};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};
use std::fmt;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, SimpleQueryMessage};

#[derive(Debug)]
pub struct DbError(String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for DbError {}

fn db_error(e: tokio_postgres::Error) -> DbError {
    match e.as_db_error() {
        Some(d) => DbError(format!("{} (SQLSTATE {})", d.message(), d.code().code())),
        None => DbError(e.to_string()),
    }
}

pub struct Weir {
    client: Client,
    extended: bool,
}

#[async_trait::async_trait]
impl AsyncDB for Weir {
    type Error = DbError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DbError> {
        if self.extended { self.run_extended(sql).await } else { self.run_simple(sql).await }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        if self.extended { "weir-extended" } else { "weir-simple" }
    }
}

impl Weir {
    async fn run_simple(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DbError> {
        let messages = self.client.simple_query(sql).await.map_err(db_error)?;
        let mut rows = Vec::new();
        let mut ncols = None;
        let mut count = 0;
        for m in messages {
            match m {
                SimpleQueryMessage::RowDescription(cols) => ncols = Some(cols.len()),
                SimpleQueryMessage::Row(r) => {
                    ncols = Some(r.len());
                    rows.push((0..r.len()).map(|i| r.get(i).map(|s| s.to_string()).unwrap_or_else(|| "NULL".into())).collect())
                }
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match ncols {
            Some(n) => DBOutput::Rows { types: vec![DefaultColumnType::Any; n], rows },
            None => DBOutput::StatementComplete(count),
        })
    }

    async fn run_extended(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DbError> {
        let stmt = self.client.prepare(sql).await.map_err(db_error)?;
        if stmt.columns().is_empty() {
            let n = self.client.execute(&stmt, &[]).await.map_err(db_error)?;
            return Ok(DBOutput::StatementComplete(n));
        }
        let rows = self.client.query(&stmt, &[]).await.map_err(db_error)?;
        let out = rows.iter().map(|r| (0..r.len()).map(|i| text_of(r, i, r.columns()[i].type_())).collect()).collect();
        Ok(DBOutput::Rows { types: vec![DefaultColumnType::Any; stmt.columns().len()], rows: out })
    }
}

/// PostgreSQL's text form of microseconds past a second: trailing zeros dropped.
pub fn frac(micros: u32) -> String {
    if micros == 0 { String::new() } else { format!(".{:06}", micros).trim_end_matches('0').to_string() }
}

/// An interval as PostgreSQL prints it (IntervalStyle postgres).
#[derive(Debug)]
pub struct PgInterval(pub String);

impl<'a> FromSql<'a> for PgInterval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let micros = i64::from_be_bytes(raw[0..8].try_into()?);
        let days = i32::from_be_bytes(raw[8..12].try_into()?);
        let months = i32::from_be_bytes(raw[12..16].try_into()?);
        let mut parts = Vec::new();
        let (years, months) = (months / 12, months % 12);
        let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n.abs() == 1 { "" } else { "s" });
        if years != 0 {
            parts.push(plural(years as i64, "year"));
        }
        if months != 0 {
            parts.push(plural(months as i64, "mon"));
        }
        if days != 0 {
            parts.push(plural(days as i64, "day"));
        }
        if micros != 0 || parts.is_empty() {
            let sign = if micros < 0 { "-" } else { "" };
            let m = micros.unsigned_abs();
            let (h, rem) = (m / 3_600_000_000, m % 3_600_000_000);
            let (min, rem) = (rem / 60_000_000, rem % 60_000_000);
            parts.push(format!("{sign}{h:02}:{min:02}:{:02}{}", rem / 1_000_000, frac((rem % 1_000_000) as u32)));
        }
        Ok(PgInterval(parts.join(" ")))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

fn ts_text(t: chrono::NaiveDateTime) -> String {
    use chrono::Timelike;
    format!("{}{}", t.format("%Y-%m-%d %H:%M:%S"), frac(t.nanosecond() / 1000))
}

fn time_text(t: chrono::NaiveTime) -> String {
    use chrono::Timelike;
    format!("{}{}", t.format("%H:%M:%S"), frac(t.nanosecond() / 1000))
}

fn array_text<T>(v: Option<Vec<Option<T>>>, f: impl Fn(T) -> String) -> String {
    match v {
        None => "NULL".into(),
        Some(items) => format!("{{{}}}", items.into_iter().map(|x| x.map(&f).unwrap_or_else(|| "NULL".into())).collect::<Vec<_>>().join(",")),
    }
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "NULL".into())
}

/// Converts one binary-format value to the text PostgreSQL would send.
pub fn text_of(row: &tokio_postgres::Row, i: usize, ty: &Type) -> String {
    match *ty {
        Type::BOOL => opt(row.get::<_, Option<bool>>(i), |b| if b { "t".into() } else { "f".into() }),
        Type::INT2 => opt(row.get::<_, Option<i16>>(i), |v| v.to_string()),
        Type::INT4 => opt(row.get::<_, Option<i32>>(i), |v| v.to_string()),
        Type::INT8 => opt(row.get::<_, Option<i64>>(i), |v| v.to_string()),
        Type::FLOAT4 => opt(row.get::<_, Option<f32>>(i), |v| v.to_string()),
        Type::FLOAT8 => opt(row.get::<_, Option<f64>>(i), |v| v.to_string()),
        Type::NUMERIC => opt(row.get::<_, Option<rust_decimal::Decimal>>(i), |v| v.to_string()),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => opt(row.get::<_, Option<String>>(i), |v| v),
        Type::BYTEA => opt(row.get::<_, Option<Vec<u8>>>(i), |v| format!("\\x{}", v.iter().map(|b| format!("{b:02x}")).collect::<String>())),
        Type::DATE => opt(row.get::<_, Option<chrono::NaiveDate>>(i), |v| v.to_string()),
        Type::TIME => opt(row.get::<_, Option<chrono::NaiveTime>>(i), time_text),
        Type::TIMESTAMP => opt(row.get::<_, Option<chrono::NaiveDateTime>>(i), ts_text),
        Type::TIMESTAMPTZ => opt(row.get::<_, Option<chrono::DateTime<chrono::Utc>>>(i), |v| format!("{}+00", ts_text(v.naive_utc()))),
        Type::INTERVAL => opt(row.get::<_, Option<PgInterval>>(i), |v| v.0),
        Type::JSONB | Type::JSON => opt(row.get::<_, Option<serde_json::Value>>(i), |v| v.to_string()),
        Type::INT4_ARRAY => array_text(row.get::<_, Option<Vec<Option<i32>>>>(i), |v| v.to_string()),
        Type::INT8_ARRAY => array_text(row.get::<_, Option<Vec<Option<i64>>>>(i), |v| v.to_string()),
        Type::FLOAT8_ARRAY => array_text(row.get::<_, Option<Vec<Option<f64>>>>(i), |v| v.to_string()),
        Type::TEXT_ARRAY => array_text(row.get::<_, Option<Vec<Option<String>>>>(i), |v| v),
        Type::BOOL_ARRAY => array_text(row.get::<_, Option<Vec<Option<bool>>>>(i), |b| if b { "t".into() } else { "f".into() }),
        ref other => panic!("slt extended mode: no text conversion for type {other}"),
    }
}

async fn run_all(extended: bool) {
    let mut files: Vec<_> =
        std::fs::read_dir(repo_root().join("tests/slt")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "slt")).collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files found");
    let mut failures = Vec::new();
    for file in files {
        let server = Server::start();
        let conn_str = server.conn_str();
        let mut runner = sqllogictest::Runner::new(move || {
            let conn_str = conn_str.clone();
            async move {
                let (client, conn) = tokio_postgres::connect(&conn_str, tokio_postgres::NoTls).await.map_err(db_error)?;
                tokio::spawn(conn);
                Ok(Weir { client, extended })
            }
        });
        runner.add_label(if extended { "extended" } else { "simple" });
        if let Err(e) = runner.run_file_async(&file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "sqllogictest failures ({} mode):\n{}", if extended { "extended" } else { "simple" }, failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_simple_protocol() {
    run_all(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_extended_protocol() {
    run_all(true).await;
}
