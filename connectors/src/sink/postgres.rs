//! The PostgreSQL sink (TimescaleDB where present). With `primary_key` it
//! upserts (rows COPYed into a temporary stage, then INSERT ... ON CONFLICT
//! DO UPDATE; retractions deleted by key); without, it appends with COPY.
//! Each epoch is one transaction that also records (sink, epoch) in
//! `weir_sink_progress`, and an epoch already recorded there is skipped, so
//! a retried epoch never lands twice. `create_table = 'true'` creates the
//! table with matching types; `hypertable = 'column'` makes it a hypertable
//! when the database has the timescaledb extension.

use super::format::TextCells;
use super::{Changes, Sink, SinkInput, by_key, column_indexes, redact_url, require_unique_key};
use crate::{ConnectorError, Options, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, TimeUnit};
use async_trait::async_trait;
use bytes::Bytes;
use futures::SinkExt;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::{Client, NoTls};

/// The sink's `WITH (...)` options.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PostgresOptions {
    url: String,
    table: String,
    primary_key: Option<String>,
    create_table: Option<bool>,
    hypertable: Option<String>,
}
const PROGRESS: &str = "weir_sink_progress";
const STAGE: &str = "weir_stage";
const STAGE_DELETES: &str = "weir_stage_deletes";
/// Sinks already told that their hypertable is a plain table (said once per process).
static NOTED_PLAIN: parking_lot::Mutex<std::collections::BTreeSet<String>> = parking_lot::Mutex::new(std::collections::BTreeSet::new());

pub struct PostgresSink {
    config: tokio_postgres::Config,
    url: String,
    client: Client,
    sink: String,
    table: String,
    columns: Vec<String>,
    key: Option<Vec<usize>>,
    /// COPY into the table (append) or into the stage (upsert).
    copy_rows: String,
    copy_deletes: String,
    merge: String,
    delete: String,
    last_epoch: Option<u64>,
    /// Rows inserted, replaced or deleted by committed epochs.
    delivered: u64,
}

/// `name` or `schema.name`, quoted for SQL.
pub fn quote_table(name: &str) -> String {
    name.split('.').map(quote).collect::<Vec<_>>().join(".")
}

/// An identifier, quoted for SQL.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// PostgreSQL's name for an Arrow column's type, as weir's catalog uses.
pub fn pg_type(f: &Field) -> Option<String> {
    // Set by weir's planner on columns declared JSONB (stored as text).
    if f.metadata().get("weir.pg_type").is_some_and(|t| t == "jsonb") {
        return Some("jsonb".into());
    }
    Some(match f.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::UInt64 => "numeric(20,0)".into(),
        DataType::Float16 | DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("numeric({p},{s})"),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Timestamp(_, Some(_)) => "timestamptz".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond) => "time".into(),
        DataType::Binary | DataType::LargeBinary => "bytea".into(),
        _ => return None,
    })
}

/// Whether a PostgreSQL error is worth retrying (the connection or server
/// went away, or a transient conflict) rather than a problem with the data
/// or the definition.
fn classify(url: &str, what: &str, e: tokio_postgres::Error) -> ConnectorError {
    let transient = match e.code() {
        None => true,
        Some(c) => {
            let c = c.code();
            c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") || ["40001", "40P01", "57014", "55P03"].contains(&c)
        }
    };
    let detail = match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    let msg = format!("PostgreSQL at {}: {what}: {detail}", redact_url(url));
    if transient { ConnectorError::External(msg) } else { ConnectorError::Config(msg) }
}

/// One COPY text-format line per row: tab-separated, `\N` for NULL.
fn copy_text(batch: &RecordBatch, cols: &[usize]) -> Result<Bytes> {
    let cells = TextCells::new(batch)?;
    let mut out = String::with_capacity(batch.num_rows() * cols.len() * 12);
    let mut cell = String::new();
    for row in 0..batch.num_rows() {
        for (i, &c) in cols.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            cell.clear();
            if !cells.write(c, row, &mut cell) {
                out.push_str("\\N");
                continue;
            }
            if cell.contains(['\\', '\t', '\n', '\r']) {
                for ch in cell.chars() {
                    match ch {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            } else {
                out.push_str(&cell);
            }
        }
        out.push('\n');
    }
    Ok(Bytes::from(out))
}

async fn connect(config: &tokio_postgres::Config, url: &str) -> Result<Client> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| ConnectorError::External(format!("option \"url\": cannot connect to PostgreSQL at {}: {e}", redact_url(url))))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// `create_table = 'true'`: the table with types matching the input and
/// the key as its primary key; a hypertable when TimescaleDB is there.
async fn create_target(client: &Client, url: &str, input: &SinkInput, table: &str, key: Option<&[usize]>, hypertable: Option<&str>) -> Result<()> {
    let schema = &input.schema;
    let qtable = quote_table(table);
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut defs = Vec::new();
    for f in schema.fields() {
        let ty = pg_type(f)
            .ok_or_else(|| ConnectorError::Config(format!("column \"{}\" has type {}, which the postgres sink cannot create", f.name(), f.data_type())))?;
        let not_null = if key.is_some_and(|k| k.contains(&schema.index_of(f.name()).unwrap_or(usize::MAX))) { " NOT NULL" } else { "" };
        defs.push(format!("{} {ty}{not_null}", quote(f.name())));
    }
    if let Some(k) = key {
        defs.push(format!("PRIMARY KEY ({})", k.iter().map(|&i| quote(&columns[i])).collect::<Vec<_>>().join(", ")));
    }
    let sql = format!("CREATE TABLE IF NOT EXISTS {qtable} ({})", defs.join(", "));
    client.batch_execute(&sql).await.map_err(|e| classify(url, "option \"create_table\"", e))?;
    if let Some(h) = hypertable {
        let has = client
            .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'", &[])
            .await
            .map_err(|e| classify(url, "looking for timescaledb", e))?
            .is_some();
        if has {
            client
                .execute("SELECT create_hypertable($1::text::regclass, $2::text::name, if_not_exists => TRUE, migrate_data => TRUE)", &[&qtable, &h])
                .await
                .map_err(|e| classify(url, "option \"hypertable\"", e))?;
        } else if NOTED_PLAIN.lock().insert(input.sink.clone()) {
            tracing::info!("sink {}: the database has no timescaledb extension; {table} is a plain table", input.sink);
        }
    }
    Ok(())
}

impl PostgresSink {
    pub async fn open(options: &Options, input: &SinkInput) -> Result<PostgresSink> {
        let o: PostgresOptions = options.typed("postgres")?;
        let (url, table, hypertable) = (o.url, o.table, o.hypertable);
        let schema = &input.schema;
        let key = o.primary_key.as_deref().map(|k| column_indexes(schema, "primary_key", k)).transpose()?;
        let create = o.create_table.unwrap_or(false);
        if let Some(h) = &hypertable {
            column_indexes(schema, "hypertable", h)?;
        }
        if key.is_none() && !input.append_only {
            return Err(ConnectorError::Config(
                "the sink's input has updates and deletions: give option \"primary_key\" so rows can be replaced and deleted by key".into(),
            ));
        }
        if let Some(k) = &key {
            require_unique_key(input, "primary_key", k)?;
        }
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|_| ConnectorError::Config("option \"url\" is not a PostgreSQL URL such as postgres://user@127.0.0.1:5432/db".into()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name(format!("weir sink {}", input.sink));
        // "already exists, skipping" notices from the idempotent setup are not news.
        // A write that hangs (a lock on the table, a half-open connection) fails and is retried.
        config.options("-c client_min_messages=warning -c statement_timeout=60000 -c lock_timeout=30000");
        config.keepalives(true).keepalives_idle(Duration::from_secs(30));
        let client = connect(&config, &url).await?;
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        if create {
            create_target(&client, &url, input, &table, key.as_deref(), hypertable.as_deref()).await?;
        }
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {PROGRESS} (sink text PRIMARY KEY, epoch bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
            ))
            .await
            .map_err(|e| classify(&url, "creating the progress table weir_sink_progress", e))?;
        // Progress is per sink and table: another sink of the same name elsewhere is another writer.
        let progress_key = format!("{}/{}", input.sink, table);
        let last_epoch = client
            .query_opt(&format!("SELECT epoch FROM {PROGRESS} WHERE sink = $1"), &[&progress_key])
            .await
            .map_err(|e| classify(&url, "reading weir_sink_progress", e))?
            .map(|r| r.get::<_, i64>(0) as u64);
        let mut sink = PostgresSink {
            config,
            url,
            client,
            sink: progress_key,
            table,
            columns,
            key,
            copy_rows: String::new(),
            copy_deletes: String::new(),
            merge: String::new(),
            delete: String::new(),
            last_epoch,
            delivered: 0,
        };
        sink.build_statements();
        sink.prepare_session().await?;
        Ok(sink)
    }

    /// The COPY, merge and delete statements for the table and key.
    fn build_statements(&mut self) {
        let qtable = quote_table(&self.table);
        let collist = self.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        let Some(k) = &self.key else {
            self.copy_rows = format!("COPY {qtable} ({collist}) FROM STDIN");
            return;
        };
        let keys: Vec<String> = k.iter().map(|&i| quote(&self.columns[i])).collect();
        let rest: Vec<String> = (0..self.columns.len()).filter(|i| !k.contains(i)).map(|i| format!("{0} = EXCLUDED.{0}", quote(&self.columns[i]))).collect();
        let action = if rest.is_empty() { "NOTHING".to_string() } else { format!("UPDATE SET {}", rest.join(", ")) };
        self.copy_rows = format!("COPY {STAGE} ({collist}) FROM STDIN");
        self.copy_deletes = format!("COPY {STAGE_DELETES} ({}) FROM STDIN", keys.join(", "));
        self.merge = format!("INSERT INTO {qtable} ({collist}) SELECT {collist} FROM {STAGE} ON CONFLICT ({}) DO {action}", keys.join(", "));
        let on = keys.iter().map(|c| format!("t.{c} = d.{c}")).collect::<Vec<_>>().join(" AND ");
        self.delete = format!("DELETE FROM {qtable} t USING {STAGE_DELETES} d WHERE {on}");
    }

    /// Per connection: the stage tables, and a check (by preparing them)
    /// that the statements fit the table: columns, types, the key's constraint.
    async fn prepare_session(&self) -> Result<()> {
        let (table, qtable) = (&self.table, quote_table(&self.table));
        let collist = self.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        let exists = self
            .client
            .query_opt("SELECT to_regclass($1)::text", &[&qtable])
            .await
            .map_err(|e| classify(&self.url, "looking up the table", e))?
            .and_then(|r| r.get::<_, Option<String>>(0));
        if exists.is_none() {
            return Err(ConnectorError::Config(format!(
                "option \"table\": table {table} does not exist in the target database; create it or set create_table = 'true'"
            )));
        }
        if let Some(k) = &self.key {
            let keys = k.iter().map(|&i| quote(&self.columns[i])).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "CREATE TEMP TABLE IF NOT EXISTS {STAGE} ON COMMIT DELETE ROWS AS SELECT {collist} FROM {qtable} WITH NO DATA;
                 CREATE TEMP TABLE IF NOT EXISTS {STAGE_DELETES} ON COMMIT DELETE ROWS AS SELECT {keys} FROM {qtable} WITH NO DATA"
            );
            self.client.batch_execute(&sql).await.map_err(|e| classify(&self.url, "option \"table\"", e))?;
            for stmt in [&self.merge, &self.delete] {
                self.client.prepare(stmt).await.map_err(|e| classify(&self.url, "option \"primary_key\"", e))?;
            }
        } else {
            self.client
                .prepare(&format!("INSERT INTO {qtable} ({collist}) SELECT {collist} FROM {qtable} WHERE false"))
                .await
                .map_err(|e| classify(&self.url, "option \"table\"", e))?;
        }
        Ok(())
    }

    async fn copy(tx: &tokio_postgres::Transaction<'_>, sql: &str, data: Bytes) -> std::result::Result<(), tokio_postgres::Error> {
        let sink = tx.copy_in::<_, Bytes>(sql).await?;
        futures::pin_mut!(sink);
        sink.send(data).await?;
        sink.finish().await?;
        Ok(())
    }

    /// Writes one epoch in one transaction with its progress row; the rows
    /// it inserted, replaced or deleted.
    async fn write_epoch(&mut self, epoch: u64, changes: &Changes) -> Result<u64> {
        let url = self.url.clone();
        let pg = move |e| classify(&url, "writing an epoch", e);
        let tx = self.client.transaction().await.map_err(&pg)?;
        let done: Option<i64> =
            tx.query_opt(&format!("SELECT epoch FROM {PROGRESS} WHERE sink = $1 FOR UPDATE"), &[&self.sink]).await.map_err(&pg)?.map(|r| r.get(0));
        if done.is_some_and(|d| d as u64 >= epoch) {
            return tx.rollback().await.map_err(&pg).map(|()| 0);
        }
        let all: Vec<usize> = (0..self.columns.len()).collect();
        let rows = match &self.key {
            None => {
                if changes.inserts.num_rows() > 0 {
                    Self::copy(&tx, &self.copy_rows, copy_text(&changes.inserts, &all)?).await.map_err(&pg)?;
                }
                changes.inserts.num_rows()
            }
            Some(k) => {
                let keys = |b: &RecordBatch| -> Result<Vec<String>> {
                    let t = copy_text(b, k)?;
                    Ok(String::from_utf8_lossy(&t).lines().map(str::to_string).collect())
                };
                let keyed = by_key(changes, &keys)?;
                if keyed.deletes.num_rows() > 0 {
                    Self::copy(&tx, &self.copy_deletes, copy_text(&keyed.deletes, k)?).await.map_err(&pg)?;
                    tx.execute(&self.delete, &[]).await.map_err(&pg)?;
                }
                if keyed.upserts.num_rows() > 0 {
                    Self::copy(&tx, &self.copy_rows, copy_text(&keyed.upserts, &all)?).await.map_err(&pg)?;
                    tx.execute(&self.merge, &[]).await.map_err(&pg)?;
                }
                keyed.deletes.num_rows() + keyed.upserts.num_rows()
            }
        };
        tx.execute(
            &format!(
                "INSERT INTO {PROGRESS} (sink, epoch, updated_at) VALUES ($1, $2, now())
                 ON CONFLICT (sink) DO UPDATE SET epoch = EXCLUDED.epoch, updated_at = now()"
            ),
            &[&self.sink, &(epoch as i64)],
        )
        .await
        .map_err(&pg)?;
        tx.commit().await.map_err(&pg)?;
        Ok(rows as u64)
    }
}

#[async_trait]
impl Sink for PostgresSink {
    fn last_epoch(&self) -> Option<u64> {
        self.last_epoch
    }

    async fn write(&mut self, epoch: u64, changes: &Changes) -> Result<()> {
        self.delivered += self.write_epoch(epoch, &changes.to_micros()?).await?;
        Ok(())
    }

    fn rows_delivered(&self) -> u64 {
        self.delivered
    }

    async fn reconnect(&mut self) -> Result<()> {
        self.client = connect(&self.config, &self.url).await?;
        self.prepare_session().await
    }
}
