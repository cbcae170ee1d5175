//! The rows of an append-only view, kept beyond memory.
//!
//! At every checkpoint barrier the view's own thread writes the rows it
//! appended since the previous barrier as one segment file,
//! `segments/<member>/<first epoch>-<last epoch>.arrow` (Arrow IPC file
//! format; its schema metadata holds the row count and the newest event
//! time), and the checkpoint that follows makes it durable. Only the rows
//! since the last barrier (the tail) have to be in memory; a segment keeps
//! its rows cached while the server's [`MemoryBudget`] has room and is read
//! back from disk otherwise, one segment at a time, by whoever scans it.
//!
//! In the background small segments are merged (FAN_IN at a time, up to
//! MAX_MERGED_BYTES, LZ4-compressed); with a retention, segments whose newest row is older
//! than the view's watermark minus the retention are deleted, and scans hide
//! the older rows of the segments that remain. A segment file is deleted
//! only when the last scan holding it lets go.

use arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, RecordBatch};
use arrow::compute::{cast, concat_batches, filter_record_batch};
use arrow::datatypes::{DataType, Schema, SchemaRef, TimeUnit};
use arrow::ipc::CompressionType;
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::{FileWriter, IpcWriteOptions};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Segments merged at once.
const FAN_IN: usize = 8;
/// A merge never writes a file bigger than this.
const MAX_MERGED_BYTES: u64 = 64 << 20;
/// Size classes for merging: segments are merged with others of their class.
const CLASS_BASE_BYTES: u64 = 64 << 10;

/// Memory the contents of views may take, shared by every view of a server.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    used: AtomicU64,
}

impl MemoryBudget {
    pub fn new(limit: u64) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget { limit, used: AtomicU64::new(0) })
    }

    /// Takes `n` bytes if they fit under the limit.
    fn try_take(&self, n: u64) -> bool {
        self.used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| (u + n <= self.limit).then_some(u + n)).is_ok()
    }

    fn give_back(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// The epochs a segment file holds, from its name (`A-B.arrow`, or `E.arrow`
/// as weir wrote them before segments were merged).
pub fn file_epochs(name: &str) -> Option<(u64, u64)> {
    let stem = name.strip_suffix(".arrow")?;
    match stem.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => stem.parse().ok().map(|e| (e, e)),
    }
}

fn file_name(first: u64, last: u64) -> String {
    format!("{first:020}-{last:020}.arrow")
}

/// One segment file and, while the budget allows, its rows in memory.
pub struct Segment {
    path: PathBuf,
    first: u64,
    last: u64,
    rows: usize,
    bytes: u64,
    /// The newest event time in it (nanoseconds), when the view has a retention.
    max_ts: Option<i64>,
    min_ts: Option<i64>,
    cache: Mutex<Option<Vec<RecordBatch>>>,
    cached_bytes: AtomicU64,
    /// Replaced by a merged segment or expired: the file goes with the last holder.
    obsolete: AtomicBool,
    budget: Arc<MemoryBudget>,
}

impl Drop for Segment {
    fn drop(&mut self) {
        self.budget.give_back(self.cached_bytes.load(Ordering::Acquire));
        if self.obsolete.load(Ordering::Acquire)
            && let Err(e) = fs::remove_file(&self.path)
        {
            tracing::warn!("could not remove segment {}: {e}", self.path.display());
        }
    }
}

impl Segment {
    /// Its rows a batch at a time, with the view's `schema` (not the file's,
    /// which adds the metadata): from memory, or read from its file as the iterator is pulled.
    fn batches(&self, schema: &SchemaRef) -> io::Result<Box<dyn Iterator<Item = io::Result<RecordBatch>> + Send>> {
        if let Some(b) = self.cache.lock().as_ref() {
            return Ok(Box::new(b.clone().into_iter().map(Ok)));
        }
        let reader = FileReader::try_new(fs::File::open(&self.path)?, None).map_err(io::Error::other)?;
        let schema = schema.clone();
        Ok(Box::new(reader.map(move |b| b.and_then(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec())).map_err(io::Error::other))))
    }

    fn keep_cached(&self, batches: Vec<RecordBatch>) {
        let n: u64 = batches.iter().map(|b| b.get_array_memory_size() as u64).sum();
        if self.budget.try_take(n) {
            self.cached_bytes.store(n, Ordering::Release);
            *self.cache.lock() = Some(batches);
        }
    }

    fn class(&self) -> u32 {
        (self.bytes / CLASS_BASE_BYTES).max(1).ilog(FAN_IN as u64)
    }

    /// A segment of `rows` rows in the file at `path` (`bytes` long) holding epochs `first..=last`.
    fn new(path: PathBuf, (first, last): (u64, u64), rows: usize, bytes: u64, range: Option<(i64, i64)>, budget: &Arc<MemoryBudget>) -> Segment {
        Segment {
            path,
            first,
            last,
            rows,
            bytes,
            min_ts: range.map(|r| r.0),
            max_ts: range.map(|r| r.1),
            cache: Mutex::new(None),
            cached_bytes: AtomicU64::new(0),
            obsolete: AtomicBool::new(false),
            budget: budget.clone(),
        }
    }

    /// Reads a segment file's epochs and metadata, not its rows.
    fn open(path: PathBuf, budget: &Arc<MemoryBudget>) -> io::Result<Segment> {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let epochs = file_epochs(&name).ok_or_else(|| io::Error::other(format!("{name} is not a segment file")))?;
        let bytes = fs::metadata(&path)?.len();
        let reader = FileReader::try_new(fs::File::open(&path)?, None).map_err(io::Error::other)?;
        let md = reader.schema().metadata().clone();
        let num = |k: &str| md.get(k).and_then(|v| v.parse::<i64>().ok());
        let rows = num("weir.rows").ok_or_else(|| io::Error::other(format!("segment {name} has no row count")))? as usize;
        Ok(Segment::new(path, epochs, rows, bytes, num("weir.min_ts").zip(num("weir.max_ts")), budget))
    }
}

/// The event-time range of `batches` in nanoseconds (None without rows or a time column).
fn time_range(batches: &[RecordBatch], column: Option<usize>) -> io::Result<Option<(i64, i64)>> {
    let Some(c) = column else { return Ok(None) };
    let mut range: Option<(i64, i64)> = None;
    for b in batches {
        let ns = nanos(b.column(c))?;
        for v in ns.iter().flatten() {
            range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
        }
    }
    Ok(range)
}

/// A timestamp column as nanoseconds since the epoch.
fn nanos(col: &ArrayRef) -> io::Result<Int64Array> {
    let ns = cast(col, &DataType::Timestamp(TimeUnit::Nanosecond, None)).map_err(io::Error::other)?;
    let ints = cast(&ns, &DataType::Int64).map_err(io::Error::other)?;
    Ok(ints.as_any().downcast_ref::<Int64Array>().expect("cast to Int64").clone())
}

/// How a segment file is written.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// The batches as they are, uncompressed: what a barrier writes (no copy, no compression).
    AsIs,
    /// Joined into batches of about MERGED_BATCH_ROWS rows and LZ4-compressed
    /// (a few times smaller): what the background merge writes.
    Merged,
}

/// Writes `batches` as a segment file (not synced: the checkpoint syncs it).
fn write_file(path: &Path, schema: &SchemaRef, batches: &[RecordBatch], range: Option<(i64, i64)>, layout: Layout) -> io::Result<u64> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    write_stream(path, schema, batches.iter().cloned().map(Ok), rows, range, layout)
}

/// Writes `rows` rows from `batches` as a segment file, holding at most one
/// merged batch in memory at a time.
fn write_stream(
    path: &Path,
    schema: &SchemaRef,
    batches: impl Iterator<Item = io::Result<RecordBatch>>,
    rows: usize,
    range: Option<(i64, i64)>,
    layout: Layout,
) -> io::Result<u64> {
    let mut md = HashMap::from([("weir.rows".to_string(), rows.to_string())]);
    if let Some((lo, hi)) = range {
        md.insert("weir.min_ts".into(), lo.to_string());
        md.insert("weir.max_ts".into(), hi.to_string());
    }
    let file_schema = Schema::new_with_metadata(schema.fields().clone(), md);
    let tmp = path.with_extension("tmp");
    let compression = (layout == Layout::Merged).then_some(CompressionType::LZ4_FRAME);
    let options = IpcWriteOptions::default().try_with_compression(compression).map_err(io::Error::other)?;
    let mut w = FileWriter::try_new_with_options(fs::File::create(&tmp)?, &file_schema, options).map_err(io::Error::other)?;
    let (mut group, mut n) = (Vec::new(), 0);
    let mut flush = |group: &mut Vec<RecordBatch>| -> io::Result<()> {
        let joined = if group.len() == 1 { group.remove(0) } else { concat_batches(schema, group.iter()).map_err(io::Error::other)? };
        group.clear();
        w.write(&joined).map_err(io::Error::other)
    };
    for b in batches {
        let b = b?;
        n += b.num_rows();
        group.push(b);
        if n >= MERGED_BATCH_ROWS || layout == Layout::AsIs {
            flush(&mut group)?;
            n = 0;
        }
    }
    if !group.is_empty() {
        flush(&mut group)?;
    }
    w.finish().map_err(io::Error::other)?;
    drop(w);
    fs::rename(&tmp, path)?;
    Ok(fs::metadata(path)?.len())
}

/// Rows per batch in a merged segment: a scan reads one batch at a time.
const MERGED_BATCH_ROWS: usize = 65_536;

/// Syncs segment files and their directory (before a checkpoint that holds them is written).
pub fn sync_files(paths: &[PathBuf]) -> io::Result<()> {
    let mut dirs = Vec::new();
    for p in paths {
        // Merged away meanwhile: the merged file was synced when it was written.
        match fs::File::open(p) {
            Ok(f) => f.sync_all()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
        if let Some(d) = p.parent().filter(|d| !dirs.contains(d)) {
            dirs.push(d);
        }
    }
    dirs.into_iter().try_for_each(crate::storage::sync_dir)
}

/// A view's tail on its way to a segment file.
pub struct Sealing {
    schema: SchemaRef,
    budget: Arc<MemoryBudget>,
    time_column: Option<usize>,
    batches: Vec<RecordBatch>,
}

impl Sealing {
    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// Writes the rows as the segment of `epoch` in `dir` (cached while the budget has room).
    pub fn write(self, dir: &Path, epoch: u64) -> io::Result<Segment> {
        fs::create_dir_all(dir)?;
        let range = time_range(&self.batches, self.time_column)?;
        let path = dir.join(file_name(epoch, epoch));
        let bytes = write_file(&path, &self.schema, &self.batches, range, Layout::AsIs)?;
        let rows = self.batches.iter().map(|b| b.num_rows()).sum();
        let seg = Segment::new(path, (epoch, epoch), rows, bytes, range, &self.budget);
        seg.keep_cached(self.batches);
        Ok(seg)
    }
}

/// An append-only view's rows: segments on disk, then the tail in memory.
pub struct AppendLog {
    schema: SchemaRef,
    budget: Arc<MemoryBudget>,
    /// With a retention: the event-time column and how long rows stay (nanoseconds).
    retention: Option<(usize, i64)>,
    segments: Vec<Arc<Segment>>,
    tail: Vec<RecordBatch>,
    /// How many of the last tail batches are small ones not merged yet.
    unmerged: usize,
    /// Rows older than this are hidden and freed (with a retention).
    cutoff: i64,
    /// The newest event time in a segment: what the retention counts from once the input ended.
    newest: i64,
}

/// What one scan of a view reads, taken at one moment.
#[derive(Clone)]
pub struct Snapshot {
    /// The view's schema: every batch comes with it.
    pub schema: SchemaRef,
    segments: Vec<Arc<Segment>>,
    batches: Vec<RecordBatch>,
    /// Rows older than this (column, nanoseconds) are hidden.
    cutoff: Option<(usize, i64)>,
    pub rows: usize,
}

impl Snapshot {
    pub fn of_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Snapshot {
        let rows = batches.iter().map(|b| b.num_rows()).sum();
        Snapshot { schema, segments: vec![], batches, cutoff: None, rows }
    }

    /// Every batch, reading one segment at a time as the iterator is pulled.
    pub fn into_iter(self) -> impl Iterator<Item = io::Result<RecordBatch>> + Send {
        let (cutoff, schema) = (self.cutoff, self.schema);
        // The segment is held until its last batch is read, so its file stays meanwhile.
        let from_disk = self.segments.into_iter().flat_map(move |s| {
            let batches = s.batches(&schema).unwrap_or_else(|e| Box::new(std::iter::once(Err(e))));
            batches.inspect(move |_| {
                let _holder = &s;
            })
        });
        from_disk
            .chain(self.batches.into_iter().map(Ok))
            .map(move |b| b.and_then(|b| hide_expired(b, cutoff)))
            .filter(|b| b.as_ref().map_or(true, |b| b.num_rows() > 0))
    }

    /// Every batch, read at once.
    pub fn read_all(self) -> io::Result<Vec<RecordBatch>> {
        self.into_iter().collect()
    }
}

fn hide_expired(batch: RecordBatch, cutoff: Option<(usize, i64)>) -> io::Result<RecordBatch> {
    let Some((col, cut)) = cutoff else { return Ok(batch) };
    let ns = nanos(batch.column(col))?;
    let keep: BooleanArray = ns.iter().map(|v| Some(v.is_none_or(|v| v >= cut))).collect();
    if keep.true_count() == batch.num_rows() {
        return Ok(batch);
    }
    filter_record_batch(&batch, &keep).map_err(io::Error::other)
}

/// Appended batches of the tail are merged in groups of this many.
const MAX_TAIL_BATCHES: usize = 256;

impl AppendLog {
    pub fn new(schema: SchemaRef, budget: Arc<MemoryBudget>, retention: Option<(usize, i64)>) -> AppendLog {
        AppendLog { schema, budget, retention, segments: vec![], tail: vec![], unmerged: 0, cutoff: i64::MIN, newest: i64::MIN }
    }

    pub fn push(&mut self, batch: RecordBatch) -> arrow::error::Result<()> {
        self.tail.push(batch);
        self.unmerged += 1;
        // Merge only the recent small batches, so no row is copied twice.
        if self.unmerged == MAX_TAIL_BATCHES {
            let recent = self.tail.split_off(self.tail.len() - MAX_TAIL_BATCHES);
            self.tail.push(concat_batches(&self.schema, recent.iter())?);
            self.unmerged = 0;
        }
        Ok(())
    }

    pub fn rows(&self) -> usize {
        self.segments.iter().map(|s| s.rows).sum::<usize>() + self.tail.iter().map(|b| b.num_rows()).sum::<usize>()
    }

    /// Bytes in memory (the tail and cached segments) and on disk.
    pub fn bytes(&self) -> (u64, u64) {
        let tail: u64 = self.tail.iter().map(|b| b.get_array_memory_size() as u64).sum();
        let cached: u64 = self.segments.iter().map(|s| s.cached_bytes.load(Ordering::Acquire)).sum();
        (tail + cached, self.segments.iter().map(|s| s.bytes).sum())
    }

    pub fn snapshot(&self) -> Snapshot {
        let cutoff = self.retention.map(|(c, _)| (c, self.cutoff)).filter(|(_, t)| *t != i64::MIN);
        Snapshot { schema: self.schema.clone(), segments: self.segments.clone(), batches: self.tail.clone(), cutoff, rows: self.rows() }
    }

    /// The tail, to write as a segment without holding the view (None when it is empty).
    pub fn sealing(&self) -> Option<Sealing> {
        if self.tail.iter().all(|b| b.num_rows() == 0) {
            return None;
        }
        Some(Sealing { schema: self.schema.clone(), budget: self.budget.clone(), time_column: self.retention.map(|r| r.0), batches: self.tail.clone() })
    }

    /// Puts the segment written from the first `n` tail batches in their
    /// place (only the view's own thread appends, so they are still the tail's first); its path.
    pub fn sealed(&mut self, seg: Segment, n: usize) -> PathBuf {
        self.tail.drain(..n.min(self.tail.len()));
        self.unmerged = self.tail.len();
        self.newest = self.newest.max(seg.max_ts.unwrap_or(i64::MIN));
        let path = seg.path.clone();
        self.segments.push(Arc::new(seg));
        path
    }

    /// Puts back the segments in `dir` (their metadata: rows are read when scanned).
    pub fn restore(&mut self, dir: &Path) -> io::Result<()> {
        let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
        let mut files: Vec<((u64, u64), PathBuf)> =
            entries.flatten().filter_map(|e| file_epochs(&e.file_name().to_string_lossy()).map(|r| (r, e.path()))).collect();
        files.sort();
        for ((first, last), path) in files {
            let path = if path.file_name().is_some_and(|n| !n.to_string_lossy().contains('-')) { self.convert_legacy(&path, first, last)? } else { path };
            let seg = Segment::open(path, &self.budget)?;
            self.newest = self.newest.max(seg.max_ts.unwrap_or(i64::MIN));
            self.segments.push(Arc::new(seg));
        }
        Ok(())
    }

    /// A segment in the stream format of earlier versions, rewritten as a segment file.
    fn convert_legacy(&self, path: &Path, first: u64, last: u64) -> io::Result<PathBuf> {
        let batches = crate::storage::decode_batches(&fs::read(path)?)?;
        let batches: Vec<RecordBatch> = batches.into_iter().map(|b| b.with_schema(self.schema.clone()).map_err(io::Error::other)).collect::<io::Result<_>>()?;
        let new = path.with_file_name(file_name(first, last));
        write_file(&new, &self.schema, &batches, time_range(&batches, self.retention.map(|r| r.0))?, Layout::Merged)?;
        sync_files(std::slice::from_ref(&new))?;
        fs::remove_file(path)?;
        Ok(new)
    }

    /// Applies the retention at watermark `wm` (nanoseconds; i64::MAX once
    /// the input ended, when it counts from the newest row): hides older rows
    /// and lets go of the segments that hold only those.
    pub fn expire(&mut self, wm: i64) {
        let Some((_, keep)) = self.retention else { return };
        let from = if wm == i64::MAX { self.newest } else { wm };
        if from == i64::MIN {
            return;
        }
        self.cutoff = self.cutoff.max(from.saturating_sub(keep));
        let cutoff = self.cutoff;
        self.segments.retain(|s| {
            let expired = s.max_ts.is_some_and(|t| t < cutoff);
            if expired {
                s.obsolete.store(true, Ordering::Release);
            }
            !expired
        });
    }

    /// The oldest run of segments worth merging, all in checkpoints up to `durable`.
    pub fn merge_candidates(&self, durable: u64) -> Option<Vec<Arc<Segment>>> {
        let max_span = self.retention.map(|(_, keep)| keep / 4);
        let done: Vec<&Arc<Segment>> = self.segments.iter().take_while(|s| s.last <= durable).collect();
        for start in 0..done.len() {
            // Segments of about one size (a class apart at most, so sizes near a class's edge still merge).
            let run: Vec<Arc<Segment>> = done[start..].iter().take(FAN_IN).map(|s| (*s).clone()).collect();
            let (lo, hi) = run.iter().fold((u32::MAX, 0), |(lo, hi), s| (lo.min(s.class()), hi.max(s.class())));
            let bytes: u64 = run.iter().map(|s| s.bytes).sum();
            let span = match (run.first().and_then(|s| s.min_ts), run.iter().filter_map(|s| s.max_ts).max()) {
                (Some(lo), Some(hi)) => hi - lo,
                _ => 0,
            };
            if run.len() == FAN_IN && hi <= lo + 1 && bytes <= MAX_MERGED_BYTES && max_span.is_none_or(|m| span <= m) {
                return Some(run);
            }
        }
        None
    }

    /// Writes the merge of `run` next to it (synced); the merged segment, to put in with [`AppendLog::replace`].
    pub fn merge(schema: &SchemaRef, run: &[Arc<Segment>], budget: &Arc<MemoryBudget>) -> io::Result<Segment> {
        let mut inputs = Vec::new();
        for s in run {
            inputs.push(s.batches(schema)?);
        }
        let batches = inputs.into_iter().flatten();
        let rows = run.iter().map(|s| s.rows).sum();
        let (first, last) = (run[0].first, run[run.len() - 1].last);
        let dir = run[0].path.parent().ok_or_else(|| io::Error::other("a segment without a directory"))?;
        let path = dir.join(file_name(first, last));
        let lo = run.iter().filter_map(|s| s.min_ts).min();
        let hi = run.iter().filter_map(|s| s.max_ts).max();
        let bytes = write_stream(&path, schema, batches, rows, lo.zip(hi), Layout::Merged)?;
        sync_files(std::slice::from_ref(&path))?;
        Ok(Segment::new(path, (first, last), rows, bytes, lo.zip(hi), budget))
    }

    /// Puts `merged` in place of `run`, if the run is still there as it was
    /// (else the merged file is deleted); the inputs' files go with their last reader.
    pub fn replace(&mut self, run: &[Arc<Segment>], merged: Segment) {
        let at = self.segments.iter().position(|s| Arc::ptr_eq(s, &run[0]));
        let intact = at.is_some_and(|i| self.segments.len() >= i + run.len() && run.iter().zip(&self.segments[i..]).all(|(a, b)| Arc::ptr_eq(a, b)));
        match at.filter(|_| intact) {
            Some(i) => {
                for s in self.segments.splice(i..i + run.len(), [Arc::new(merged)]) {
                    s.obsolete.store(true, Ordering::Release);
                }
            }
            None => merged.obsolete.store(true, Ordering::Release),
        }
    }

    pub fn budget(&self) -> &Arc<MemoryBudget> {
        &self.budget
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// Removes what a restart must not read in one member's directory (segments,
/// state files `keyed.rs`, dead letters `dead_letters.rs`): files of epochs after the checkpoint restarted from (`upto`), files a
/// merged file covers (a merge that crashed before removing its inputs), and
/// unfinished writes.
pub fn clean_dir(dir: &Path, upto: u64) -> io::Result<()> {
    // (is a state file, epochs, path): segments and state files cover only their own kind.
    let mut files: Vec<(bool, (u64, u64), PathBuf)> = Vec::new();
    for e in fs::read_dir(dir)?.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some((epoch, _)) = super::dead_letters::file_epoch(&name) {
            if epoch > upto {
                fs::remove_file(e.path())?;
            }
            continue;
        }
        let kind = file_epochs(&name).map(|r| (false, r)).or_else(|| super::keyed::file_epochs(&name).map(|r| (true, r)));
        match kind {
            Some((state, (a, b))) if b <= upto => files.push((state, (a, b), e.path())),
            _ => fs::remove_file(e.path())?,
        }
    }
    for (kind, (a, b), path) in &files {
        let covered = files.iter().any(|(k, (c, d), other)| k == kind && other != path && c <= a && b <= d && (d - c) > (b - a));
        if covered {
            fs::remove_file(path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::TimestampNanosecondArray;
    use arrow::datatypes::Field;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, None), false)]))
    }

    fn rows(schema: &SchemaRef, ts: std::ops::Range<i64>) -> RecordBatch {
        RecordBatch::try_new(schema.clone(), vec![Arc::new(TimestampNanosecondArray::from(ts.collect::<Vec<_>>()))]).unwrap()
    }

    /// Seals the tail as a view does at a barrier.
    fn seal(log: &mut AppendLog, dir: &Path, epoch: u64) -> Option<PathBuf> {
        let s = log.sealing()?;
        let n = s.batch_count();
        let seg = s.write(dir, epoch).unwrap();
        Some(log.sealed(seg, n))
    }

    fn count(log: &AppendLog) -> usize {
        log.snapshot().read_all().unwrap().iter().map(|b| b.num_rows()).sum()
    }

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-segments-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// Sealed segments are read back after a restart from metadata alone; a
    /// merge keeps every row once and its inputs' files go; with no budget
    /// nothing stays cached.
    #[test]
    fn segments_survive_a_restart_and_merge_without_losing_rows() {
        let (dir, schema) = (temp("merge"), schema());
        let mut log = AppendLog::new(schema.clone(), MemoryBudget::new(0), None);
        for e in 1..=FAN_IN as u64 {
            log.push(rows(&schema, (e as i64 * 10)..(e as i64 * 10 + 10))).unwrap();
            assert!(seal(&mut log, &dir, e).is_some());
        }
        assert!(seal(&mut log, &dir, 99).is_none(), "an empty tail writes nothing");
        assert_eq!(log.bytes().0, 0, "a budget of 0 caches nothing");
        assert!(log.merge_candidates(FAN_IN as u64 - 1).is_none(), "only segments in a written checkpoint are merged");
        let run = log.merge_candidates(FAN_IN as u64).expect("a full run");
        let merged = AppendLog::merge(&schema, &run, log.budget()).unwrap();
        log.replace(&run, merged);
        drop(run);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "the merged inputs are gone");
        assert_eq!(count(&log), FAN_IN * 10);
        let mut again = AppendLog::new(schema.clone(), MemoryBudget::new(1 << 20), None);
        again.restore(&dir).unwrap();
        assert_eq!(again.rows(), FAN_IN * 10);
        assert_eq!(count(&again), FAN_IN * 10);
        let _ = fs::remove_dir_all(&dir);
    }

    /// Retention hides old rows at once and deletes a segment once all its rows are old.
    #[test]
    fn retention_hides_old_rows_and_frees_their_segments() {
        let (dir, schema) = (temp("retention"), schema());
        let mut log = AppendLog::new(schema.clone(), MemoryBudget::new(1 << 20), Some((0, 100)));
        log.push(rows(&schema, 0..50)).unwrap();
        seal(&mut log, &dir, 1);
        log.push(rows(&schema, 50..200)).unwrap();
        seal(&mut log, &dir, 2);
        log.push(rows(&schema, 200..250)).unwrap();
        log.expire(249);
        assert_eq!(count(&log), 101, "rows from 149 on stay");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "segment 1 held only older rows");
        assert!(log.bytes().0 > 0, "the tail and the cached segment are in memory");
        let _ = fs::remove_dir_all(&dir);
    }

    /// A restart drops files newer than its checkpoint and the inputs a merged file covers.
    #[test]
    fn a_restart_keeps_only_what_its_checkpoint_covers() {
        let dir = temp("clean");
        fs::create_dir_all(&dir).unwrap();
        for name in [file_name(1, 1), file_name(2, 2), file_name(1, 2), file_name(3, 3), file_name(4, 4), "x.tmp".into()] {
            fs::write(dir.join(name), b"").unwrap();
        }
        clean_dir(&dir, 3).unwrap();
        let mut left: Vec<String> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        left.sort();
        assert_eq!(left, vec![file_name(1, 2), file_name(3, 3)]);
        assert_eq!(file_epochs("00000000000000000007.arrow"), Some((7, 7)));
        let _ = fs::remove_dir_all(&dir);
    }
}
