//! Sinks: where a view's (or a source's) rows are delivered. A sink is
//! given its input's changes one epoch at a time ([`Changes`]) and must
//! apply an epoch at most once, so the server can retry an epoch after an
//! error without duplicating it. `registry::open_sink` opens them;
//! [`redact`] hides secrets wherever options are shown.

pub mod format;
pub mod kafka;
pub mod object;
pub mod postgres;
pub mod redis;

use crate::{ConnectorError, Result};
use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use std::collections::HashMap;

/// What a sink is attached to.
#[derive(Debug, Clone)]
pub struct SinkInput {
    /// The sink's own name (used for markers, file names, progress rows).
    pub sink: String,
    pub schema: SchemaRef,
    /// False when the input has updates and retractions (a view that is not append-only).
    pub append_only: bool,
    /// Columns that identify one row of an input with updates (a view's
    /// GROUP BY columns); None when none is known.
    pub unique_key: Option<Vec<usize>>,
    /// What the sink may reach on the server's machine.
    pub access: crate::HostAccess,
}

/// One epoch of changes, consolidated: rows that appeared and rows that
/// were retracted (a row changed in place is one of each). Both batches have
/// the input's schema.
#[derive(Debug, Clone)]
pub struct Changes {
    pub inserts: RecordBatch,
    pub deletes: RecordBatch,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.inserts.num_rows() + self.deletes.num_rows()
    }

    /// The same changes with timestamps cut to microseconds (see [`format::to_micros`]).
    pub fn to_micros(&self) -> Result<Changes> {
        Ok(Changes { inserts: format::to_micros(&self.inserts)?, deletes: format::to_micros(&self.deletes)? })
    }
}

/// A destination for changes.
#[async_trait]
pub trait Sink: Send {
    /// The last epoch this sink knows it committed in an earlier run, if it
    /// records one; the server numbers new epochs after it.
    fn last_epoch(&self) -> Option<u64> {
        None
    }
    /// Delivers one epoch. After an error the server may call it again with
    /// the same epoch and changes: an epoch must never be applied twice.
    async fn write(&mut self, epoch: u64, changes: &Changes) -> Result<()>;
    /// Rows this sink has made reach its target since it was opened
    /// (written, replaced or deleted there; for a sink that buffers, once
    /// the buffer is durable). `weir_sink_status.rows_written` shows it.
    fn rows_delivered(&self) -> u64;
    /// The newest epoch durable at the target, for a sink that buffers
    /// epochs after `write` (the server keeps their checkpoints until then).
    /// None: every written epoch is durable.
    fn durable_epoch(&self) -> Option<u64> {
        None
    }
    /// Called when no change arrived for a while (time-based rollover).
    async fn tick(&mut self) -> Result<()> {
        Ok(())
    }
    /// Makes everything buffered durable (end of input, or stop).
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    /// Called after an external error, before the epoch is retried.
    async fn reconnect(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Option names whose values are secrets.
fn is_secret(name: &str) -> bool {
    ["secret", "password", "token", "sasl"].iter().any(|s| name.contains(s))
}

/// A connection string with its password replaced by `***`: the password of
/// a URL's user part, `password=`/`pass=` in its query, or in a PostgreSQL
/// key/value string. A string weir cannot read is hidden whole.
pub fn redact_url(url: &str) -> String {
    let secret_key = |k: &str| matches!(k.to_ascii_lowercase().as_str(), "password" | "pass" | "passwd" | "sslpassword");
    if !url.contains("://") {
        // PostgreSQL's `host=h user=u password=p` form.
        if url.contains('=') {
            return url
                .split_whitespace()
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if secret_key(k) => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ");
        }
        return url.to_string();
    }
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query_pairs().any(|(k, _)| secret_key(&k)) {
                let pairs: Vec<(String, String)> =
                    u.query_pairs().map(|(k, v)| (k.to_string(), if secret_key(&k) { "***".into() } else { v.to_string() })).collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => "***".into(),
    }
}

/// An option's value as it may be shown: secrets are `***`, connection strings lose their password.
pub fn redact(name: &str, value: &str) -> String {
    if is_secret(name) {
        "***".into()
    } else if value.contains("://") || name == "url" {
        redact_url(value)
    } else {
        value.to_string()
    }
}

/// Refuses an input with updates for a sink that can only append.
pub fn require_append_only(input: &SinkInput, connector: &str, how: &str) -> Result<()> {
    if input.append_only {
        return Ok(());
    }
    Err(ConnectorError::Config(format!(
        "a {connector} sink {how} can only append rows, and its input has updates and deletions; \
         sink from an append-only view (e.g. EMIT ON WINDOW CLOSE) or use a keyed sink"
    )))
}

/// For an input with updates, a keyed sink replaces and deletes rows by key,
/// so the key must identify one row of the input: it must cover the input's
/// unique key. Otherwise rows that share a key would overwrite each other
/// and the target would silently hold fewer rows than the view.
pub fn require_unique_key(input: &SinkInput, option: &str, key: &[usize]) -> Result<()> {
    if input.append_only {
        return Ok(());
    }
    let names = |cols: &[usize]| cols.iter().map(|&c| input.schema.field(c).name().as_str()).collect::<Vec<_>>().join(", ");
    match &input.unique_key {
        Some(unique) if unique.iter().all(|c| key.contains(c)) => Ok(()),
        Some(unique) => Err(ConnectorError::Config(format!(
            "option \"{option}\" ({}) does not identify one row of the sink's input, which has updates: its rows are unique by ({}); \
             include those columns in the key",
            names(key),
            names(unique)
        ))),
        None => Err(ConnectorError::Config(format!(
            "option \"{option}\": the sink's input has updates and weir knows no unique key for it, so rows sharing a key would \
             overwrite each other; sink from a view with GROUP BY (its key is the GROUP BY columns) or an append-only view"
        ))),
    }
}

/// Column indexes of a comma-separated list of column names.
pub fn column_indexes(schema: &SchemaRef, option: &str, list: &str) -> Result<Vec<usize>> {
    let cols: Vec<usize> = list
        .split(',')
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .map(|c| {
            schema.index_of(c).map_err(|_| {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                ConnectorError::Config(format!("option \"{option}\": column \"{c}\" is not in the sink's input; it has: {}", have.join(", ")))
            })
        })
        .collect::<Result<_>>()?;
    if cols.is_empty() {
        return Err(ConnectorError::Config(format!("option \"{option}\" names no column")));
    }
    Ok(cols)
}

/// Changes seen through a key: the rows to delete (keys retracted and not
/// written again in this epoch) and the rows to write (the last row per key).
pub struct Keyed {
    pub deletes: RecordBatch,
    pub upserts: RecordBatch,
}

/// [`by_key`] for a target that takes rows one after another: an epoch
/// without retractions passes every row, in order (on an append-only input a
/// key only says where a row goes, and rows written in order leave the last
/// one per key anyway).
pub fn by_key_in_order(changes: &Changes, keys: &dyn Fn(&RecordBatch) -> Result<Vec<String>>) -> Result<Keyed> {
    if changes.deletes.num_rows() == 0 {
        return Ok(Keyed { deletes: changes.deletes.clone(), upserts: changes.inserts.clone() });
    }
    by_key(changes, keys)
}

/// Applies keys to `changes`: a key both retracted and inserted in the same
/// epoch is an upsert only; of several inserts of one key the last one wins.
/// `keys` gives the key of every row of a batch.
pub fn by_key(changes: &Changes, keys: &dyn Fn(&RecordBatch) -> Result<Vec<String>>) -> Result<Keyed> {
    let mut last: HashMap<String, usize> = HashMap::with_capacity(changes.inserts.num_rows());
    for (i, k) in keys(&changes.inserts)?.into_iter().enumerate() {
        last.insert(k, i);
    }
    let mut keep: Vec<u32> = last.values().map(|&i| i as u32).collect();
    keep.sort_unstable();
    let mut deleted = std::collections::HashSet::new();
    let mut del: Vec<u32> = Vec::new();
    for (i, k) in keys(&changes.deletes)?.into_iter().enumerate() {
        if !last.contains_key(&k) && deleted.insert(k) {
            del.push(i as u32);
        }
    }
    let take = |b: &RecordBatch, idx: Vec<u32>| -> Result<RecordBatch> {
        if idx.len() == b.num_rows() {
            return Ok(b.clone());
        }
        take_record_batch(b, &UInt32Array::from(idx)).map_err(|e| ConnectorError::Internal(e.to_string()))
    };
    Ok(Keyed { deletes: take(&changes.deletes, del)?, upserts: take(&changes.inserts, keep)? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(keys: &[&str], vals: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, false), Field::new("v", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(keys.to_vec())), Arc::new(Int64Array::from(vals.to_vec()))]).unwrap()
    }

    #[test]
    fn keyed_changes_and_redaction() {
        let changes = Changes { inserts: batch(&["a", "b", "a"], &[1, 2, 3]), deletes: batch(&["a", "c", "c"], &[0, 9, 9]) };
        let keys = |b: &RecordBatch| {
            let a = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
            Ok((0..b.num_rows()).map(|i| a.value(i).to_string()).collect())
        };
        let k = by_key(&changes, &keys).unwrap();
        let vals = k.upserts.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(k.upserts.num_rows(), 2);
        assert_eq!((vals.value(0), vals.value(1)), (2, 3));
        assert_eq!(k.deletes.num_rows(), 1, "c once; a is written again");
        assert_eq!(redact("secret_access_key", "abc"), "***");
        assert_eq!(redact("url", "postgres://u:pw@h:5/db"), "postgres://u:***@h:5/db");
        assert_eq!(redact("url", "redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact("url", "postgres://u@h/db?password=pw&sslmode=disable"), "postgres://u@h/db?password=***&sslmode=disable");
        assert_eq!(redact("url", "host=h user=u password=pw"), "host=h user=u password=***");
        assert_eq!(redact("url", "redis://:pw@[bad"), "***");
    }
}
