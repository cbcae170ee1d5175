//! A materialized view's state: its current contents (what SELECT reads),
//! its subscribers (views built on it) and progress counters.

use super::keyed::{self, Changed};
use super::segments::{AppendLog, Snapshot};
use super::{Delta, Msg, Status, add_count};
use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use arrow_row::{RowConverter, SortField};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use weir_planner::{SqlError, SqlResult};

/// Messages (batches of changes, watermarks, barriers) waiting for one
/// subscriber. A subscriber that falls this far behind makes the view wait
/// (backpressure), so memory stays bounded by what the channels hold.
pub const SUBSCRIBER_QUEUE_MESSAGES: usize = 256;

enum Contents {
    /// An append-only view: segments on disk, the rows since the last barrier in memory.
    Append(AppendLog),
    /// A view with updates: each distinct row and how many times it is
    /// present, and the rows whose count changed since the last checkpoint barrier.
    Multiset { converter: RowConverter, rows: HashMap<Box<[u8]>, i64>, changed: Vec<Box<[u8]>> },
    /// Keeps nothing, only passes changes on (a sink reading a source).
    Feed,
}

/// Progress of a dataflow, for `weir_views`.
#[derive(Default)]
pub struct Stats {
    pub rows_in: AtomicU64,
    pub rows_late: AtomicU64,
    /// Input rows an expression failed on (each also a dead letter).
    pub rows_failed: AtomicU64,
    pub dead_letters: AtomicU64,
    /// Rows of changes passed on to subscribers.
    pub rows_out: AtomicU64,
    pub watermark_ns: AtomicI64,
    pub status: Mutex<Status>,
}

pub struct ViewState {
    pub name: String,
    pub schema: SchemaRef,
    contents: RwLock<Contents>,
    /// Locked before `contents` when both are, and only for a moment: a
    /// message is sent after both are released, to the subscribers there were
    /// when it was made, so neither a SELECT nor a new subscriber (nor the
    /// checkpoint coordinator, which subscribes under its own lock) ever waits
    /// behind a subscriber that is slow to take a change.
    subscribers: Mutex<Subscribers>,
    pub stats: Stats,
    pub stop: AtomicBool,
    /// The newest checkpoint barrier passed on to subscribers.
    pub last_barrier: AtomicU64,
    /// The directory of its keyed state files (`keyed.rs`), once restored.
    state_dir: Mutex<Option<PathBuf>>,
}

/// The channels of a view's subscribers, each with an id to forget it by.
#[derive(Default)]
struct Subscribers {
    senders: Vec<(u64, SyncSender<Msg>)>,
    next_id: u64,
}

/// A subscription: the contents (read only if wanted), then every later
/// change, with the `rows_out` count and checkpoint barrier the changes start after.
pub struct Subscription {
    pub snapshot: Snapshot,
    pub rx: std::sync::mpsc::Receiver<Msg>,
    pub rows_out: u64,
    pub after_barrier: u64,
}

impl ViewState {
    /// A view's state: an append-only view keeps its rows in `append`, any other each distinct row and its count.
    pub fn new(name: String, schema: SchemaRef, append: Option<AppendLog>) -> SqlResult<Arc<ViewState>> {
        let contents = match append {
            Some(log) => Contents::Append(log),
            None => {
                let fields = schema.fields().iter().map(|f| SortField::new(f.data_type().clone())).collect();
                Contents::Multiset { converter: RowConverter::new(fields)?, rows: HashMap::new(), changed: vec![] }
            }
        };
        Ok(Self::with_contents(name, schema, contents))
    }

    /// A state that keeps no contents and only passes changes on.
    pub fn feed(name: String, schema: SchemaRef) -> SqlResult<Arc<ViewState>> {
        Ok(Self::with_contents(name, schema, Contents::Feed))
    }

    fn with_contents(name: String, schema: SchemaRef, contents: Contents) -> Arc<ViewState> {
        let v = ViewState {
            name,
            schema,
            contents: RwLock::new(contents),
            subscribers: Mutex::default(),
            stats: Stats::default(),
            stop: AtomicBool::new(false),
            last_barrier: AtomicU64::new(0),
            state_dir: Mutex::new(None),
        };
        v.stats.watermark_ns.store(i64::MIN, Ordering::Relaxed);
        *v.stats.status.lock() = Status::Starting;
        Arc::new(v)
    }

    pub fn set_status(&self, s: Status) {
        *self.stats.status.lock() = s;
    }

    pub fn status(&self) -> Status {
        self.stats.status.lock().clone()
    }

    /// Applies a change to the contents and passes it on to subscribers,
    /// atomically: a SELECT sees all of it or none of it.
    pub fn apply(&self, delta: Delta) -> SqlResult<()> {
        if delta.batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = delta.batch.clone().with_schema(self.schema.clone()).unwrap_or(delta.batch);
        let delta = Delta { batch, diffs: delta.diffs };
        // Subscribers first: no one subscribes between the change and taking the list to send it to.
        let subscribers = self.subscribers.lock();
        let mut contents = self.contents.write();
        match &mut *contents {
            Contents::Append(log) => log.push(delta.batch.clone())?,
            Contents::Multiset { converter, rows, changed } => {
                let encoded = converter.convert_columns(delta.batch.columns())?;
                for (i, row) in encoded.iter().enumerate() {
                    let d = delta.diffs.as_ref().map(|d| d[i]).unwrap_or(1);
                    add_count(rows, row.as_ref(), d);
                    changed.push(row.as_ref().into());
                }
            }
            Contents::Feed => {}
        }
        self.stats.rows_out.fetch_add(delta.batch.num_rows() as u64, Ordering::Relaxed);
        drop(contents);
        let to = subscribers.senders.clone();
        drop(subscribers);
        self.send_all(to, Msg::Data(delta));
        Ok(())
    }

    /// Sends a message to every live subscriber.
    pub fn publish(&self, msg: Msg) {
        if let Msg::Watermark(w) = msg {
            self.stats.watermark_ns.store(w, Ordering::Relaxed);
        }
        let to = {
            let subscribers = self.subscribers.lock();
            if let Msg::Barrier(e) = msg {
                self.last_barrier.store(e, Ordering::Relaxed);
            }
            subscribers.senders.clone()
        };
        self.send_all(to, msg);
    }

    /// Sends `msg` to `to` in turn, waiting while a subscriber's queue is
    /// full (backpressure); forgets the subscribers that went away. Only the
    /// view's own thread publishes, so every subscriber gets messages in order.
    fn send_all(&self, to: Vec<(u64, SyncSender<Msg>)>, msg: Msg) {
        let gone: Vec<u64> = to.into_iter().filter(|(_, s)| s.send(msg.clone()).is_err()).map(|(id, _)| id).collect();
        if !gone.is_empty() {
            self.subscribers.lock().senders.retain(|(id, _)| !gone.contains(id));
        }
    }

    /// The rows of a view with updates whose count changed since the last
    /// call (every row if `all`), as state entries `[TAG_CONTENTS] row` with the count.
    pub fn changed_contents(&self, all: bool, out: &mut Changed) {
        let mut contents = self.contents.write();
        let Contents::Multiset { rows, changed, .. } = &mut *contents else { return };
        let mut keys = std::mem::take(changed);
        if all {
            keys = rows.keys().cloned().collect();
        }
        keys.sort_unstable();
        keys.dedup();
        for row in keys {
            let id = [&[keyed::TAG_CONTENTS][..], &row].concat();
            match rows.get(&row) {
                Some(n) => out.put(id, n.to_le_bytes().to_vec()),
                None => out.gone(id),
            }
        }
    }

    /// Puts back one row of a view with updates from its state entry.
    pub fn restore_row(&self, id: &[u8], value: &[u8]) -> Result<(), String> {
        let n = value.try_into().map(i64::from_le_bytes).map_err(|_| "a view row's count is damaged")?;
        if let Contents::Multiset { rows, .. } = &mut *self.contents.write() {
            add_count(rows, &id[1..], n);
        }
        Ok(())
    }

    /// Where the view's state files are, once it is restored (the background merges them from then on).
    pub fn state_files_at(&self, dir: PathBuf) {
        *self.state_dir.lock() = Some(dir);
    }

    /// An append-only view writes the rows since the last barrier as the
    /// segment of `epoch` in `dir` and applies its retention; the file written, if any.
    /// The file is written without holding the contents, so SELECTs do not wait for it.
    pub fn seal(&self, dir: &Path, epoch: u64) -> SqlResult<Option<PathBuf>> {
        let wm = self.stats.watermark_ns.load(Ordering::Relaxed);
        let sealing = match &*self.contents.read() {
            Contents::Append(log) => log.sealing(),
            _ => return Ok(None),
        };
        let written = match sealing {
            Some(s) => {
                let n = s.batch_count();
                let seg = s.write(dir, epoch).map_err(|e| SqlError::internal(format!("cannot write a segment of view {}: {e}", self.name)))?;
                Some((seg, n))
            }
            None => None,
        };
        let mut contents = self.contents.write();
        let Contents::Append(log) = &mut *contents else { return Ok(None) };
        let path = written.map(|(seg, n)| log.sealed(seg, n));
        log.expire(wm);
        Ok(path)
    }

    /// Puts rows from a checkpoint back, before the dataflow and its
    /// subscribers start: a view with updates from `batches`, an append-only one from its segments in `dir`.
    pub fn restore_contents(&self, batches: Vec<RecordBatch>, dir: &Path) -> SqlResult<()> {
        let mut contents = self.contents.write();
        match &mut *contents {
            Contents::Append(log) => {
                log.restore(dir).map_err(|e| SqlError::internal(format!("cannot read the segments of view {}: {e}", self.name)))?;
                log.expire(self.stats.watermark_ns.load(Ordering::Relaxed));
            }
            Contents::Multiset { converter, rows, .. } => {
                for b in batches {
                    let b = b.with_schema(self.schema.clone())?;
                    for row in converter.convert_columns(b.columns())?.iter() {
                        add_count(rows, row.as_ref(), 1);
                    }
                }
            }
            Contents::Feed => {}
        }
        Ok(())
    }

    /// Merges the view's state files, or small segments of an append-only
    /// view, that checkpoints up to `durable` hold (the file is written
    /// without holding the view up); whether it merged.
    pub fn compact(&self, durable: u64) -> SqlResult<bool> {
        let state_dir = self.state_dir.lock().clone();
        if let Some(dir) = state_dir
            && keyed::compact(&dir, durable).map_err(|e| SqlError::internal(format!("cannot merge the state files of view {}: {e}", self.name)))?
        {
            return Ok(true);
        }
        let (run, schema, budget) = match &*self.contents.read() {
            Contents::Append(log) => match log.merge_candidates(durable) {
                Some(run) => (run, log.schema().clone(), log.budget().clone()),
                None => return Ok(false),
            },
            _ => return Ok(false),
        };
        let merged = AppendLog::merge(&schema, &run, &budget).map_err(|e| SqlError::internal(format!("cannot merge segments of view {}: {e}", self.name)))?;
        if let Contents::Append(log) = &mut *self.contents.write() {
            log.replace(&run, merged);
        }
        Ok(true)
    }

    /// Rows in the view now.
    pub fn row_count(&self) -> usize {
        match &*self.contents.read() {
            Contents::Append(log) => log.rows(),
            Contents::Multiset { rows, .. } => rows.values().filter(|n| **n > 0).map(|n| *n as usize).sum(),
            Contents::Feed => 0,
        }
    }

    /// Bytes of contents (and, on disk, keyed state) in memory and on disk.
    pub fn state_bytes(&self) -> (u64, u64) {
        let keyed = self.state_dir.lock().as_deref().map(keyed::disk_bytes).unwrap_or(0);
        let (memory, disk) = self.contents_bytes();
        (memory, disk + keyed)
    }

    fn contents_bytes(&self) -> (u64, u64) {
        match &*self.contents.read() {
            Contents::Append(log) => log.bytes(),
            Contents::Multiset { rows, .. } => (rows.keys().map(|k| k.len() as u64 + 16).sum(), 0),
            Contents::Feed => (0, 0),
        }
    }

    /// The current contents, read when the snapshot is.
    pub fn snapshot(&self) -> SqlResult<Snapshot> {
        let contents = self.contents.read();
        Self::contents_snapshot(&self.schema, &contents)
    }

    fn contents_snapshot(schema: &SchemaRef, contents: &Contents) -> SqlResult<Snapshot> {
        Ok(match contents {
            Contents::Append(log) => log.snapshot(),
            _ => Snapshot::of_batches(schema.clone(), Self::multiset_batches(schema, contents)?),
        })
    }

    fn multiset_batches(schema: &SchemaRef, contents: &Contents) -> SqlResult<Vec<RecordBatch>> {
        match contents {
            Contents::Multiset { converter, rows, .. } => {
                if rows.is_empty() {
                    return Ok(vec![]);
                }
                let parser = converter.parser();
                let mut expanded = Vec::with_capacity(rows.len());
                for (k, n) in rows.iter().filter(|(_, n)| **n > 0) {
                    for _ in 0..*n {
                        expanded.push(parser.parse(k));
                    }
                }
                let cols: Vec<ArrayRef> = converter.convert_rows(expanded)?;
                Ok(vec![RecordBatch::try_new(schema.clone(), cols)?])
            }
            _ => Ok(vec![]),
        }
    }

    /// The current contents and a channel of every later change, taken
    /// together so that nothing is missed or seen twice.
    pub fn subscribe(&self) -> SqlResult<Subscription> {
        let mut subscribers = self.subscribers.lock();
        let contents = self.contents.read();
        let rows_out = self.stats.rows_out.load(Ordering::Relaxed);
        let snapshot = Self::contents_snapshot(&self.schema, &contents)?;
        drop(contents);
        let (tx, rx) = std::sync::mpsc::sync_channel(SUBSCRIBER_QUEUE_MESSAGES);
        let w = self.stats.watermark_ns.load(Ordering::Relaxed);
        if w != i64::MIN {
            let _ = tx.send(Msg::Watermark(w));
        }
        // An ended view (finished or failed) sends nothing more.
        if self.status().ended() {
            let _ = tx.send(Msg::End);
        }
        let after_barrier = self.last_barrier.load(Ordering::Relaxed);
        subscribers.next_id += 1;
        let id = subscribers.next_id;
        subscribers.senders.push((id, tx));
        Ok(Subscription { snapshot, rx, rows_out, after_barrier })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use std::time::Duration;

    fn one_row(i: i64) -> Delta {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        Delta { batch: RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![i]))]).unwrap(), diffs: None }
    }

    /// A subscriber that does not read holds the view at the bound; SELECT
    /// (the snapshot) and a new subscription still answer meanwhile; once it
    /// reads, the view goes on (and the dropped subscriber is forgotten).
    #[test]
    fn a_slow_subscriber_holds_the_view_back_but_not_its_readers() {
        let schema = one_row(0).batch.schema();
        let log = AppendLog::new(schema.clone(), super::super::segments::MemoryBudget::new(1 << 20), None);
        let view = ViewState::new("v".into(), schema, Some(log)).unwrap();
        let sub = view.subscribe().unwrap();
        let total = SUBSCRIBER_QUEUE_MESSAGES as i64 + 50;
        let writer = {
            let view = view.clone();
            std::thread::spawn(move || {
                for i in 0..total {
                    view.apply(one_row(i)).unwrap();
                }
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while view.stats.rows_out.load(Ordering::Relaxed) < SUBSCRIBER_QUEUE_MESSAGES as u64 {
            assert!(std::time::Instant::now() < deadline, "the writer never filled the queue");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
        let applied = view.stats.rows_out.load(Ordering::Relaxed);
        assert!(applied <= SUBSCRIBER_QUEUE_MESSAGES as u64 + 1, "the view waits for its subscriber: {applied} applied");
        let rows = view.snapshot().unwrap().rows;
        assert_eq!(rows as u64, applied, "a reader sees the view while the writer waits");
        // A new subscriber does not wait either: it gets the contents so far, then what follows.
        let late = view.subscribe().unwrap();
        let late_rows = late.snapshot.rows;
        assert_eq!(late_rows as u64, applied);
        drop(late);
        let mut received = 0;
        while received < total {
            if let Msg::Data(_) = sub.rx.recv_timeout(Duration::from_secs(10)).expect("every change arrives") {
                received += 1;
            }
        }
        writer.join().unwrap();
        assert_eq!(view.stats.rows_out.load(Ordering::Relaxed), total as u64);
    }
}
