//! The Redis sink. Modes:
//! - `upsert` (default): one key per row from the `key` template, the row as
//!   a hash (`value = 'hash'`, one field per column) or a JSON string
//!   (`value = 'json'`), optional `ttl`; a retracted row deletes its key.
//! - `publish`: each new row as JSON on pub/sub `channel`.
//! - `list`: each new row as JSON pushed onto the list `key`, trimmed to
//!   the `max_length` most recent (LPUSH + LTRIM).
//!
//! Each epoch is one pipelined MULTI/EXEC that ends with the marker
//! `weir:sink:<name>:<key or channel>:epoch`, so an epoch lands whole or not
//! at all, and one retried after a lost connection or a restart is
//! recognised by the marker and skipped.

use super::format::{Template, TextCells, json_rows};
use super::{Changes, Sink, SinkInput, by_key_in_order, redact_url, require_append_only, require_unique_key};
use crate::options::Dur;
use crate::{ConnectorError, Options, Result};
use arrow::array::RecordBatch;
use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError};
use std::collections::BTreeSet;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

/// The sink's `WITH (...)` options.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedisOptions {
    url: String,
    #[serde(default)]
    mode: ModeOption,
    key: Option<String>,
    value: Option<ValueOption>,
    ttl: Option<Dur>,
    channel: Option<String>,
    max_length: Option<u64>,
}

#[derive(serde::Deserialize, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum ModeOption {
    #[default]
    Upsert,
    Publish,
    List,
}

#[derive(serde::Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum ValueOption {
    Hash,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Upsert { json: bool },
    Publish,
    List { max_length: u64 },
}

pub struct RedisSink {
    client: redis::Client,
    url: String,
    con: MultiplexedConnection,
    mode: Mode,
    key: Option<Template>,
    channel: String,
    ttl: Option<Duration>,
    names: Vec<String>,
    marker: String,
    last_epoch: Option<u64>,
    /// Set after a reconnect: the next epoch first checks the marker.
    verify: bool,
    /// Rows of committed MULTI/EXEC blocks.
    delivered: u64,
}

fn external(url: &str, e: RedisError) -> ConnectorError {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        ConnectorError::External(format!("Redis at {}: {e}", redact_url(url)))
    } else {
        ConnectorError::Config(format!("Redis at {} refused a write: {e}", redact_url(url)))
    }
}

async fn connect(client: &redis::Client, url: &str) -> Result<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new().set_connection_timeout(Some(TIMEOUT)).set_response_timeout(Some(TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| ConnectorError::External(format!("option \"url\": cannot connect to Redis at {}: {e}", redact_url(url))))
}

impl RedisSink {
    pub async fn open(options: &Options, input: &SinkInput) -> Result<RedisSink> {
        let o: RedisOptions = options.typed("redis")?;
        let url = o.url;
        let schema = &input.schema;
        let key = o.key.as_deref().map(|k| Template::parse(k, schema, "key")).transpose()?;
        let ttl = o.ttl.map(|t| t.0);
        if ttl.is_some_and(|t| t < Duration::from_millis(1)) {
            return Err(ConnectorError::Config("option \"ttl\" must be at least 1 millisecond".into()));
        }
        let mode = match o.mode {
            ModeOption::Upsert => {
                let json = o.value == Some(ValueOption::Json);
                let Some(template) = &key else {
                    return Err(ConnectorError::Config("missing option \"key\": an upsert sink needs a key template such as 'user:{user_id}'".into()));
                };
                require_unique_key(input, "key", &template.columns())?;
                Mode::Upsert { json }
            }
            ModeOption::Publish => {
                require_append_only(input, "redis", "in publish mode")?;
                if o.channel.is_none() {
                    return Err(ConnectorError::Config("missing option \"channel\": a publish sink needs its pub/sub channel".into()));
                }
                Mode::Publish
            }
            ModeOption::List => {
                require_append_only(input, "redis", "in list mode")?;
                if key.is_none() {
                    return Err(ConnectorError::Config("missing option \"key\": a list sink needs the list's key".into()));
                }
                let max_length = o.max_length.unwrap_or(100);
                if max_length == 0 || max_length > i64::MAX as u64 {
                    return Err(ConnectorError::Config("option \"max_length\" must be a positive number".into()));
                }
                Mode::List { max_length }
            }
        };
        let channel = o.channel.unwrap_or_default();
        if !matches!(mode, Mode::Upsert { .. }) && o.value == Some(ValueOption::Hash) {
            return Err(ConnectorError::Config("option \"value\": publish and list modes write JSON".into()));
        }
        let client =
            redis::Client::open(url.as_str()).map_err(|_| ConnectorError::Config("option \"url\" is not a Redis URL such as redis://127.0.0.1:6379".into()))?;
        let mut con = connect(&client, &url).await?;
        // One marker per sink and target (key template or channel): another sink of the same name is another writer.
        let target = o.key.as_deref().filter(|_| !matches!(mode, Mode::Publish)).unwrap_or(&channel);
        let marker = format!("weir:sink:{}:{target}:epoch", input.sink);
        let last: Option<u64> = redis::cmd("GET").arg(&marker).query_async(&mut con).await.map_err(|e| external(&url, e))?;
        Ok(RedisSink {
            client,
            url,
            con,
            mode,
            key,
            channel,
            ttl,
            names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            marker,
            last_epoch: last,
            verify: true,
            delivered: 0,
        })
    }

    fn add_expire(&self, pipe: &mut redis::Pipeline, key: &str) {
        if let Some(t) = self.ttl {
            pipe.cmd("PEXPIRE").arg(key).arg(t.as_millis() as u64).ignore();
        }
    }

    fn add_upserts(&self, pipe: &mut redis::Pipeline, rows: &RecordBatch, json: bool) -> Result<()> {
        let cells = TextCells::new(rows)?;
        let key = self.key.as_ref().expect("checked at open");
        let values = if json { json_rows(rows)? } else { vec![] };
        for row in 0..rows.num_rows() {
            let k = key.render(&cells, row);
            if let Some(value) = values.get(row) {
                let cmd = pipe.cmd("SET").arg(&k).arg(value);
                if let Some(t) = self.ttl {
                    cmd.arg("PX").arg(t.as_millis() as u64);
                }
                cmd.ignore();
                continue;
            }
            let hset = pipe.cmd("HSET").arg(&k);
            let mut nulls = Vec::new();
            for (c, name) in self.names.iter().enumerate() {
                match cells.get(c, row) {
                    Some(v) => {
                        hset.arg(name).arg(v);
                    }
                    None => nulls.push(name),
                }
            }
            if nulls.len() == self.names.len() {
                // HSET needs a field: a row of NULLs is only its key.
                pipe.cmd("DEL").arg(&k).ignore();
                continue;
            }
            hset.ignore();
            if !nulls.is_empty() {
                pipe.cmd("HDEL").arg(&k).arg(nulls).ignore();
            }
            self.add_expire(pipe, &k);
        }
        Ok(())
    }

    /// The epoch's MULTI/EXEC block, and the rows it writes or deletes.
    fn pipeline(&self, epoch: u64, changes: &Changes) -> Result<(redis::Pipeline, u64)> {
        // One MULTI/EXEC with the marker: a reader never sees half an epoch,
        // and an epoch is either all there (marker set) or not at all.
        let mut pipe = redis::pipe();
        pipe.atomic();
        let rows = match self.mode {
            Mode::Upsert { json } => {
                let key = self.key.as_ref().expect("checked at open");
                let keyed = by_key_in_order(changes, &|b| key.render_all(b))?;
                let cells = TextCells::new(&keyed.deletes)?;
                for row in 0..keyed.deletes.num_rows() {
                    pipe.cmd("DEL").arg(key.render(&cells, row)).ignore();
                }
                self.add_upserts(&mut pipe, &keyed.upserts, json)?;
                keyed.deletes.num_rows() + keyed.upserts.num_rows()
            }
            Mode::Publish => {
                for v in json_rows(&changes.inserts)? {
                    pipe.cmd("PUBLISH").arg(&self.channel).arg(v).ignore();
                }
                changes.inserts.num_rows()
            }
            Mode::List { max_length } => {
                let key = self.key.as_ref().expect("checked at open");
                let cells = TextCells::new(&changes.inserts)?;
                let values = json_rows(&changes.inserts)?;
                let mut touched = BTreeSet::new();
                for (row, v) in values.into_iter().enumerate() {
                    let k = key.render(&cells, row);
                    pipe.cmd("LPUSH").arg(&k).arg(v).ignore();
                    touched.insert(k);
                }
                for k in touched {
                    pipe.cmd("LTRIM").arg(&k).arg(0).arg(max_length as i64 - 1).ignore();
                    self.add_expire(&mut pipe, &k);
                }
                changes.inserts.num_rows()
            }
        };
        pipe.cmd("SET").arg(&self.marker).arg(epoch).ignore();
        Ok((pipe, rows as u64))
    }
}

#[async_trait]
impl Sink for RedisSink {
    fn last_epoch(&self) -> Option<u64> {
        self.last_epoch
    }

    async fn write(&mut self, epoch: u64, changes: &Changes) -> Result<()> {
        if self.verify {
            let done: Option<u64> = redis::cmd("GET").arg(&self.marker).query_async(&mut self.con).await.map_err(|e| external(&self.url, e))?;
            self.verify = false;
            if done.is_some_and(|d| d >= epoch) {
                return Ok(());
            }
        }
        let (pipe, rows) = self.pipeline(epoch, &changes.to_micros()?)?;
        match pipe.query_async::<()>(&mut self.con).await {
            Ok(()) => {
                self.delivered += rows;
                Ok(())
            }
            Err(e) => {
                self.verify = true;
                Err(external(&self.url, e))
            }
        }
    }

    fn rows_delivered(&self) -> u64 {
        self.delivered
    }

    async fn reconnect(&mut self) -> Result<()> {
        self.con = connect(&self.client, &self.url).await?;
        self.verify = true;
        Ok(())
    }
}
