//! Dead letters: records a source could not decode, rows behind the
//! watermark, and rows an expression failed on, with where they came from
//! and why. `weir_dead_letters` shows the server's newest
//! `MAX_DEAD_LETTERS`.
//!
//! They last as long as the counters beside them: at each barrier a dataflow
//! writes the dead letters of that epoch as `segments/<member>/<epoch>-<rows>.dead`,
//! which the checkpoint syncs with its other files. A restart from checkpoint
//! E keeps the files up to E and reads them back; its source reads again what
//! came after E and sets the same records aside again, so each record is one
//! dead letter per view, before and after any restart. Each dataflow keeps its
//! newest files up to `MAX_DEAD_LETTERS` rows; older files are deleted.
//!
//! File layout: `WDL1`, the row count, then the rows (codec.rs).

use crate::storage::codec::{Dec, DecResult, Enc};
use arrow::array::{ArrayRef, Int32Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weir_planner::SqlResult;

/// Most dead letters shown, and kept on disk per dataflow; older ones go first (and stay counted).
pub const MAX_DEAD_LETTERS: usize = 100_000;
/// Bytes of a record kept in `raw`; the rest is cut off (the length is said).
pub const MAX_RAW_BYTES: usize = 16 * 1024;
const MAGIC: &[u8; 4] = b"WDL1";
const EXT: &str = "dead";

#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetterRow {
    pub source: String,
    pub view: String,
    pub partition: i32,
    pub offset: Option<i64>,
    pub raw: String,
    pub error: String,
    pub reason: &'static str,
    pub at_micros: i64,
}

/// The reasons a row is set aside.
const REASONS: [&str; 3] = ["malformed", "late", "error"];

/// `raw` cut to `MAX_RAW_BYTES` (at a character boundary), saying how long it was.
pub fn bounded_raw(raw: String) -> String {
    if raw.len() <= MAX_RAW_BYTES {
        return raw;
    }
    let mut end = MAX_RAW_BYTES;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &raw[..end], raw.len())
}

/// The newest dead letters of every dataflow, for `weir_dead_letters`.
#[derive(Default)]
pub struct DeadLetters {
    rows: Mutex<VecDeque<DeadLetterRow>>,
}

impl DeadLetters {
    pub fn push(&self, rows: impl IntoIterator<Item = DeadLetterRow>) {
        let mut q = self.rows.lock();
        for r in rows {
            if q.len() == MAX_DEAD_LETTERS {
                q.pop_front();
            }
            q.push_back(r);
        }
    }

    pub fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("source", DataType::Utf8, false),
            Field::new("view", DataType::Utf8, false),
            Field::new("partition", DataType::Int32, false),
            Field::new("offset", DataType::Int64, true),
            Field::new("raw", DataType::Utf8, false),
            Field::new("error", DataType::Utf8, false),
            Field::new("reason", DataType::Utf8, false),
            Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())), false),
        ]))
    }

    pub fn batch(&self) -> SqlResult<RecordBatch> {
        let q = self.rows.lock();
        let (mut s, mut v, mut p, mut o) = (StringBuilder::new(), StringBuilder::new(), Int32Builder::new(), Int64Builder::new());
        let (mut raw, mut e, mut r) = (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
        let mut at = TimestampMicrosecondBuilder::new().with_timezone("+00:00");
        for d in q.iter() {
            s.append_value(&d.source);
            v.append_value(&d.view);
            p.append_value(d.partition);
            o.append_option(d.offset);
            raw.append_value(&d.raw);
            e.append_value(&d.error);
            r.append_value(d.reason);
            at.append_value(d.at_micros);
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(s.finish()),
            Arc::new(v.finish()),
            Arc::new(p.finish()),
            Arc::new(o.finish()),
            Arc::new(raw.finish()),
            Arc::new(e.finish()),
            Arc::new(r.finish()),
            Arc::new(at.finish()),
        ];
        Ok(RecordBatch::try_new(Self::schema(), cols)?)
    }
}

/// The epoch and row count of a dead-letter file, from its name.
pub fn file_epoch(name: &str) -> Option<(u64, usize)> {
    let (epoch, rows) = name.strip_suffix(".dead")?.split_once('-')?;
    Some((epoch.parse().ok()?, rows.parse().ok()?))
}

/// The dead-letter files in `dir`, oldest first.
fn files(dir: &Path) -> Vec<((u64, usize), PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else { return vec![] };
    let mut files: Vec<_> = entries.flatten().filter_map(|e| file_epoch(&e.file_name().to_string_lossy()).map(|k| (k, e.path()))).collect();
    files.sort();
    files
}

/// Writes `rows` as the dead letters of `epoch` in `dir` (not synced: the
/// checkpoint syncs it), then deletes the oldest files past the bound, of
/// those a written checkpoint (up to `durable`) holds: newer ones may still
/// be undone by a crash.
pub fn write(dir: &Path, epoch: u64, rows: &[DeadLetterRow], durable: u64) -> io::Result<Option<PathBuf>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let mut e = Enc::default();
    e.u64(rows.len() as u64);
    for r in rows {
        e.bytes(r.source.as_bytes()).bytes(r.view.as_bytes()).i64(r.partition.into());
        e.bool(r.offset.is_some()).i64(r.offset.unwrap_or(0));
        e.bytes(r.raw.as_bytes()).bytes(r.error.as_bytes()).bytes(r.reason.as_bytes()).i64(r.at_micros);
    }
    fs::create_dir_all(dir)?;
    let path = dir.join(format!("{epoch:020}-{}.{EXT}", rows.len()));
    fs::write(&path, [&MAGIC[..], &e.0].concat())?;
    let files = files(dir);
    let mut kept: usize = files.iter().filter(|((e, _), _)| *e <= durable).map(|((_, n), _)| n).sum();
    for ((e, n), p) in &files {
        if kept <= MAX_DEAD_LETTERS || *e > durable {
            break;
        }
        fs::remove_file(p)?;
        kept -= n;
    }
    Ok(Some(path))
}

/// Every dead letter the files in `dir` hold, oldest first (a damaged
/// file is left out with a warning: dead letters do not stop a view).
pub fn read(dir: &Path) -> Vec<DeadLetterRow> {
    // Only the newest files that hold the bound are read.
    let mut files = files(dir);
    let mut rows = 0;
    let keep = files
        .iter()
        .rev()
        .take_while(|((_, n), _)| {
            let before = rows;
            rows += n;
            before < MAX_DEAD_LETTERS
        })
        .count();
    files.drain(..files.len() - keep);
    let mut out = Vec::new();
    for (_, path) in files {
        match read_file(&path) {
            Ok(rows) => out.extend(rows),
            Err(e) => tracing::warn!("dead-letter file {} is left out: {e}", path.display()),
        }
    }
    out
}

fn read_file(path: &Path) -> Result<Vec<DeadLetterRow>, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    let body = bytes.strip_prefix(&MAGIC[..]).ok_or("not a weir dead-letter file")?;
    let mut d = Dec::new(body, "a dead-letter file");
    let rows = (0..d.u64()?).map(|_| decode(&mut d)).collect::<DecResult<Vec<_>>>()?;
    if !d.at_end() {
        return Err("it goes on past its rows".into());
    }
    Ok(rows)
}

fn decode(d: &mut Dec<'_>) -> DecResult<DeadLetterRow> {
    let text = |d: &mut Dec<'_>| d.bytes().map(|b| String::from_utf8_lossy(b).into_owned());
    let (source, view, partition) = (text(d)?, text(d)?, d.i64()? as i32);
    let offset = if d.bool()? { Some(d.i64()?) } else { d.i64().map(|_| None)? };
    let (raw, error) = (text(d)?, text(d)?);
    let reason = text(d)?;
    let reason = REASONS.into_iter().find(|r| *r == reason).ok_or_else(|| format!("unknown reason {reason:?}"))?;
    Ok(DeadLetterRow { source, view, partition, offset, raw, error, reason, at_micros: d.i64()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: i64) -> DeadLetterRow {
        DeadLetterRow {
            source: "s".into(),
            view: "v".into(),
            partition: 3,
            offset: (i % 2 == 0).then_some(i),
            raw: format!("{{\"n\":{i}}}"),
            error: "bad".into(),
            reason: REASONS[i as usize % 3],
            at_micros: i,
        }
    }

    /// Rows written by epoch read back in order; past the bound the oldest
    /// files go, once a checkpoint holds the newer ones.
    #[test]
    fn dead_letters_round_trip_and_stay_bounded() {
        let dir = std::env::temp_dir().join(format!("weir-dead-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let rows: Vec<DeadLetterRow> = (0..10).map(row).collect();
        write(&dir, 1, &rows[..4], 0).unwrap();
        write(&dir, 2, &rows[4..], 0).unwrap();
        assert_eq!(read(&dir), rows);
        let many: Vec<DeadLetterRow> = (0..MAX_DEAD_LETTERS as i64).map(row).collect();
        write(&dir, 3, &many, 2).unwrap();
        assert_eq!(files(&dir).len(), 3, "epoch 3 is not in a checkpoint yet: the older files stay");
        assert_eq!(read(&dir), many, "but only the newest that hold the bound are read");
        write(&dir, 4, &rows[..1], 3).unwrap();
        assert_eq!(files(&dir).len(), 2, "once it is, they go");
        assert_eq!(read(&dir).len(), MAX_DEAD_LETTERS + 1);
        assert_eq!(bounded_raw("é".repeat(MAX_RAW_BYTES)).len(), MAX_RAW_BYTES + " (32768 bytes in all)".len() + 3);
        fs::remove_dir_all(&dir).unwrap();
    }
}
