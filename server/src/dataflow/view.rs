//! A materialized view's state: its current contents (what SELECT reads),
//! its subscribers (views built on it), progress counters, and the
//! dead-letter relation shared by all dataflows.

use super::{Delta, Msg, Status, add_count};
use arrow::array::{ArrayRef, Int32Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow_row::{RowConverter, SortField};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use weir_planner::SqlResult;

/// Appended batches are merged in groups of this many.
const MAX_BATCHES: usize = 256;

/// Messages (batches of changes, watermarks, barriers) waiting for one
/// subscriber. A subscriber that falls this far behind makes the view wait
/// (backpressure), so memory stays bounded by what the channels hold.
pub const SUBSCRIBER_QUEUE_MESSAGES: usize = 256;

enum Contents {
    /// An append-only view: every row ever emitted, and how many of the last
    /// batches are small ones not merged yet.
    Append(Vec<RecordBatch>, usize),
    /// A view with updates: each distinct row and how many times it is present.
    Multiset { converter: RowConverter, rows: HashMap<Box<[u8]>, i64> },
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
}

/// The channels of a view's subscribers, each with an id to forget it by.
#[derive(Default)]
struct Subscribers {
    senders: Vec<(u64, SyncSender<Msg>)>,
    next_id: u64,
}

/// A subscription: the contents, then every later change, with the
/// `rows_out` count and checkpoint barrier the changes start after.
pub struct Subscription {
    pub snapshot: Vec<RecordBatch>,
    pub rx: std::sync::mpsc::Receiver<Msg>,
    pub rows_out: u64,
    pub after_barrier: u64,
}

/// What a checkpoint saves of a view's contents.
pub enum SavedContents {
    /// Nothing (a feed).
    Nothing,
    /// All rows of a view with updates.
    Full(Vec<RecordBatch>),
    /// Rows an append-only view added since the last checkpoint, and its row count now.
    Appended(Vec<RecordBatch>, usize),
}

impl ViewState {
    pub fn new(name: String, schema: SchemaRef, append_only: bool) -> SqlResult<Arc<ViewState>> {
        Self::with_contents(name, schema, append_only, true)
    }

    /// A state that keeps no contents and only passes changes on.
    pub fn feed(name: String, schema: SchemaRef) -> SqlResult<Arc<ViewState>> {
        Self::with_contents(name, schema, true, false)
    }

    fn with_contents(name: String, schema: SchemaRef, append_only: bool, keep: bool) -> SqlResult<Arc<ViewState>> {
        let contents = if !keep {
            Contents::Feed
        } else if append_only {
            Contents::Append(Vec::new(), 0)
        } else {
            let fields = schema.fields().iter().map(|f| SortField::new(f.data_type().clone())).collect();
            Contents::Multiset { converter: RowConverter::new(fields)?, rows: HashMap::new() }
        };
        let v = ViewState {
            name,
            schema,
            contents: RwLock::new(contents),
            subscribers: Mutex::default(),
            stats: Stats::default(),
            stop: AtomicBool::new(false),
            last_barrier: AtomicU64::new(0),
        };
        v.stats.watermark_ns.store(i64::MIN, Ordering::Relaxed);
        *v.stats.status.lock() = Status::Starting;
        Ok(Arc::new(v))
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
            Contents::Append(batches, unmerged) => {
                batches.push(delta.batch.clone());
                *unmerged += 1;
                // Merge only the recent small batches, so no row is copied twice.
                if *unmerged == MAX_BATCHES {
                    let tail = batches.split_off(batches.len() - MAX_BATCHES);
                    batches.push(concat_batches(&self.schema, tail.iter())?);
                    *unmerged = 0;
                }
            }
            Contents::Multiset { converter, rows } => {
                let encoded = converter.convert_columns(delta.batch.columns())?;
                for (i, row) in encoded.iter().enumerate() {
                    let d = delta.diffs.as_ref().map(|d| d[i]).unwrap_or(1);
                    add_count(rows, row.as_ref(), d);
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

    /// The contents a checkpoint saves; `saved` is how many rows of an
    /// append-only view earlier checkpoints already hold.
    pub fn saved_contents(&self, saved: usize) -> SqlResult<SavedContents> {
        let contents = self.contents.read();
        Ok(match &*contents {
            Contents::Feed => SavedContents::Nothing,
            Contents::Multiset { .. } => SavedContents::Full(Self::batches(&self.schema, &contents)?),
            Contents::Append(batches, _) => {
                let total: usize = batches.iter().map(|b| b.num_rows()).sum();
                let mut new = Vec::new();
                let mut skip = saved;
                for b in batches {
                    if skip >= b.num_rows() {
                        skip -= b.num_rows();
                        continue;
                    }
                    new.push(b.slice(skip, b.num_rows() - skip));
                    skip = 0;
                }
                SavedContents::Appended(new, total)
            }
        })
    }

    /// Puts rows from a checkpoint back, before the dataflow and its subscribers start.
    pub fn restore_contents(&self, batches: Vec<RecordBatch>) -> SqlResult<()> {
        let mut contents = self.contents.write();
        for b in batches {
            let b = b.with_schema(self.schema.clone())?;
            match &mut *contents {
                Contents::Append(all, _) => all.push(b),
                Contents::Multiset { converter, rows } => {
                    for row in converter.convert_columns(b.columns())?.iter() {
                        add_count(rows, row.as_ref(), 1);
                    }
                }
                Contents::Feed => {}
            }
        }
        if let Contents::Append(all, unmerged) = &mut *contents {
            if all.len() > 1 {
                *all = vec![concat_batches(&self.schema, all.iter())?];
            }
            *unmerged = 0;
        }
        Ok(())
    }

    /// The current contents as batches.
    pub fn snapshot(&self) -> SqlResult<Vec<RecordBatch>> {
        let contents = self.contents.read();
        Self::batches(&self.schema, &contents)
    }

    fn batches(schema: &SchemaRef, contents: &Contents) -> SqlResult<Vec<RecordBatch>> {
        match contents {
            Contents::Feed => Ok(vec![]),
            Contents::Append(b, _) => Ok(b.clone()),
            Contents::Multiset { converter, rows } => {
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
        }
    }

    /// The current contents and a channel of every later change, taken
    /// together so that nothing is missed or seen twice.
    pub fn subscribe(&self) -> SqlResult<Subscription> {
        let mut subscribers = self.subscribers.lock();
        let contents = self.contents.read();
        let rows_out = self.stats.rows_out.load(Ordering::Relaxed);
        let snapshot = Self::batches(&self.schema, &contents)?;
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

/// Most dead letters kept; older ones are dropped first (and still counted).
const MAX_DEAD_LETTERS: usize = 100_000;

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

/// `weir_dead_letters`: records a source could not use, and late rows.
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
        let (mut s, mut v, mut p, mut o, mut raw, mut e, mut r) = (
            StringBuilder::new(),
            StringBuilder::new(),
            Int32Builder::new(),
            Int64Builder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
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
        let view = ViewState::new("v".into(), schema, true).unwrap();
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
        let rows: usize = view.snapshot().unwrap().iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows as u64, applied, "a reader sees the view while the writer waits");
        // A new subscriber does not wait either: it gets the contents so far, then what follows.
        let late = view.subscribe().unwrap();
        let late_rows: usize = late.snapshot.iter().map(|b| b.num_rows()).sum();
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
