//! Sinks in the catalog (CREATE SINK, DROP SINK, SHOW SINKS, the
//! `weir_sink_status` relation) and the thread that runs each one: it takes
//! its input's current contents and then every change; each checkpoint
//! barrier ends an epoch, which is consolidated (a row added and retracted
//! within it cancels out), saved with the checkpoint, and handed to the
//! connector once that checkpoint is on disk, retrying with backoff while
//! the target is away (barriers are still taken meanwhile). After a restart
//! the saved epochs the target does not have are delivered again, so each
//! lands exactly once.

use crate::dataflow::checkpoint::{Coordinator, MemberId, Part};
use crate::dataflow::segments::Snapshot;
use crate::dataflow::view::ViewState;
use crate::dataflow::{self, Delta, Input, Msg, Pipeline, Status, now_micros};
use crate::engine::Engine;
use crate::engine::objects::connector_error;
use crate::storage::codec::{Dec, Enc};
use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow_row::{RowConverter, SortField};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use weir_connectors::open_sink;
use weir_connectors::sink::{Changes, Sink, SinkInput, redact};
use weir_connectors::{ConnectorError, Options};
use weir_planner::ddl::CreateSink;
use weir_planner::names::ObjectKind;
use weir_planner::names::object_name;
use weir_planner::{SqlError, SqlResult, SqlState};

/// How long the thread waits for changes before it lets time-based work run.
const POLL: Duration = Duration::from_millis(100);
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Stops a sink's own source feed when the sink's thread ends, however it ends.
struct StopFeed(Option<Arc<ViewState>>);

impl Drop for StopFeed {
    fn drop(&mut self) {
        if let Some(f) = &self.0 {
            f.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// Counters of a running sink, for `weir_sink_status`.
#[derive(Default)]
pub struct SinkStatus {
    pub rows_written: AtomicU64,
    pub epochs: AtomicU64,
    pub errors: AtomicU64,
    pub retries: AtomicU64,
    /// Input rows taken from the channel and delivered (to compute lag).
    pub rows_taken: AtomicU64,
    /// Bytes of undelivered changes held in memory (at most `--sink-memory`).
    pub buffered_bytes: AtomicU64,
    /// The input's `rows_out` count when the sink subscribed, minus the snapshot's rows.
    pub rows_base: AtomicI64,
    /// When the oldest change not yet delivered arrived (Unix microseconds), 0 when none.
    pub waiting_since: AtomicI64,
    pub last_epoch: AtomicU64,
    pub last_write: AtomicI64,
    pub state: Mutex<Status>,
    pub last_error: Mutex<String>,
    pub stop: AtomicBool,
    /// Its target stayed away for more checkpoints than weir keeps for a sink: it fails.
    pub overdue: AtomicBool,
}

impl SinkStatus {
    pub(crate) fn set(&self, s: Status) {
        *self.state.lock() = s;
    }
    fn error(&self, e: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock() = e.to_string();
    }
}

pub struct SinkDef {
    pub id: u64,
    pub name: String,
    pub from: String,
    pub connector: String,
    /// `delivery = 'at_least_once'`: changes are written as they arrive,
    /// not one checkpoint later; after a crash some may be written again.
    pub at_least_once: bool,
    /// The connector's options (without `delivery`).
    pub options: BTreeMap<String, String>,
    pub input: SinkInput,
    pub status: Arc<SinkStatus>,
    /// The input view's state (for a sink from a source: a feed of the source's rows).
    pub(crate) input_state: Mutex<Option<Arc<ViewState>>>,
    /// The feed this sink owns when it reads a source.
    feed: Mutex<Option<Arc<ViewState>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl SinkDef {
    fn stop(&self) {
        self.status.stop.store(true, Ordering::Relaxed);
        if let Some(feed) = self.feed.lock().as_ref() {
            feed.stop.store(true, Ordering::Relaxed);
        }
        let threads = std::mem::take(&mut *self.threads.lock());
        for t in threads {
            let _ = t.join();
        }
    }

    fn options(&self) -> Options {
        Options::new(self.options.clone())
    }
}

/// Rows with diffs folded into what an epoch adds and removes.
pub fn consolidate(schema: &SchemaRef, deltas: Vec<Delta>) -> SqlResult<Changes> {
    let empty = RecordBatch::new_empty(schema.clone());
    let batches: Vec<RecordBatch> = deltas.iter().map(|d| d.batch.clone()).collect();
    if deltas.iter().all(|d| d.diffs.is_none()) {
        return Ok(Changes { inserts: concat_batches(schema, batches.iter())?, deletes: empty });
    }
    let fields = schema.fields().iter().map(|f| SortField::new(f.data_type().clone())).collect();
    let converter = RowConverter::new(fields)?;
    let mut net: HashMap<Box<[u8]>, (i64, usize)> = HashMap::new();
    let mut order: Vec<Box<[u8]>> = Vec::new();
    for d in &deltas {
        let rows = converter.convert_columns(d.batch.columns())?;
        for (i, row) in rows.iter().enumerate() {
            let diff = d.diffs.as_ref().map(|x| x[i]).unwrap_or(1);
            match net.get_mut(row.as_ref()) {
                Some((n, _)) => *n += diff,
                None => {
                    net.insert(row.as_ref().into(), (diff, order.len()));
                    order.push(row.as_ref().into());
                }
            }
        }
    }
    let parser = converter.parser();
    let (mut ins, mut del) = (Vec::new(), Vec::new());
    for key in &order {
        let (n, _) = net[key];
        let target = if n > 0 { &mut ins } else { &mut del };
        for _ in 0..n.unsigned_abs() {
            target.push(parser.parse(key));
        }
    }
    let build = |rows: Vec<arrow_row::Row<'_>>| -> SqlResult<RecordBatch> {
        if rows.is_empty() {
            return Ok(RecordBatch::new_empty(schema.clone()));
        }
        Ok(RecordBatch::try_new(schema.clone(), converter.convert_rows(rows)?)?)
    };
    Ok(Changes { inserts: build(ins)?, deletes: build(del)? })
}

/// What a sink is asked to do.
#[derive(Clone, Copy)]
enum Op<'c> {
    Write(u64, &'c Changes),
    Tick,
    Flush,
}

#[derive(PartialEq)]
enum Outcome {
    Done,
    /// A stop was requested while retrying.
    Stopped,
    /// A non-retryable error, recorded in the status.
    Failed,
}

/// The wait between attempts against a target that is away: doubling from
/// BACKOFF_START to BACKOFF_MAX, cut short by a stop request.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Backoff {
        Backoff(BACKOFF_START)
    }

    fn retried(&self) -> bool {
        self.0 != BACKOFF_START
    }

    /// Records a retryable error and waits; false when a stop came meanwhile.
    fn wait(&mut self, status: &SinkStatus, what: &str, e: &str, between: &mut dyn FnMut()) -> bool {
        status.error(e);
        status.set(Status::Retrying(e.to_string()));
        tracing::warn!("sink {what}: {e}; retrying in {:?}", self.0);
        let until = Instant::now() + self.0;
        while Instant::now() < until {
            if status.stop.load(Ordering::Relaxed) || status.overdue.load(Ordering::Relaxed) {
                return false;
            }
            between();
            std::thread::sleep(Duration::from_millis(20));
        }
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        status.retries.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// A sink whose target stayed away too long fails (true) rather than hold
/// checkpoints without end; its later changes are not kept.
fn fail_if_overdue(status: &SinkStatus, what: &str) -> bool {
    if !status.overdue.load(Ordering::Relaxed) {
        return false;
    }
    let e = "its target stayed away for more checkpoints than weir keeps for a sink (--max-undelivered-checkpoints), so its changes are no longer kept";
    tracing::error!("sink {what} failed: {e}");
    status.set(Status::Failed(format!("{e}: DROP SINK and CREATE SINK to deliver its input anew")));
    true
}

/// Records an error no retry can fix: the sink stops as `failed`.
fn fail(status: &SinkStatus, what: &str, e: &ConnectorError) {
    status.error(&e.to_string());
    status.set(Status::Failed(e.to_string()));
    tracing::error!("sink {what} failed: {e}");
}

/// Runs `op` until it succeeds, retrying external errors with backoff
/// (and a reconnect before each retry).
/// `between` runs while waiting (the sink keeps taking its input meanwhile).
/// One attempt at `op`; what it made reach the target counts in
/// `rows_written`, whether the attempt failed or not.
fn attempt(status: &SinkStatus, rt: &tokio::runtime::Runtime, sink: &mut Box<dyn Sink>, op: Op<'_>) -> Result<(), ConnectorError> {
    let before = sink.rows_delivered();
    let result = rt.block_on(match op {
        Op::Write(epoch, changes) => sink.write(epoch, changes),
        Op::Tick => sink.tick(),
        Op::Flush => sink.flush(),
    });
    status.rows_written.fetch_add(sink.rows_delivered() - before, Ordering::Relaxed);
    result
}

fn retry(status: &SinkStatus, rt: &tokio::runtime::Runtime, what: &str, sink: &mut Box<dyn Sink>, op: Op<'_>, between: &mut dyn FnMut()) -> Outcome {
    let mut backoff = Backoff::new();
    loop {
        match attempt(status, rt, sink, op) {
            Ok(()) => {
                if backoff.retried() {
                    status.set(Status::Running);
                }
                return Outcome::Done;
            }
            Err(ConnectorError::External(e)) => {
                if !backoff.wait(status, what, &e, between) {
                    return if fail_if_overdue(status, what) { Outcome::Failed } else { Outcome::Stopped };
                }
                if let Err(e) = rt.block_on(sink.reconnect()) {
                    status.error(&e.to_string());
                }
            }
            Err(e) => {
                fail(status, what, &e);
                return Outcome::Failed;
            }
        }
    }
}

struct Runner {
    name: String,
    connector: String,
    at_least_once: bool,
    options: Options,
    input: SinkInput,
    status: Arc<SinkStatus>,
    feed: Option<Arc<ViewState>>,
    /// Bytes of undelivered changes it keeps in memory (`--sink-memory`).
    memory: usize,
}

impl Runner {
    /// Opens the connector, retrying while the target is away (`between`
    /// runs between attempts); None when it cannot be opened or a stop came.
    fn open(&self, rt: &tokio::runtime::Runtime, what: &str, between: &mut dyn FnMut()) -> Option<Box<dyn Sink>> {
        let status = &self.status;
        status.set(Status::Connecting);
        let mut backoff = Backoff::new();
        loop {
            match rt.block_on(open_sink(&self.connector, &self.options, &self.input)) {
                Ok(s) => return Some(s),
                // Denied: the definition was allowed when it was made; the operator may allow it again (and restart).
                Err(ConnectorError::External(e) | ConnectorError::Denied(e)) => {
                    if !backoff.wait(status, what, &e, between) {
                        if !fail_if_overdue(status, what) {
                            status.set(Status::Stopped(None));
                        }
                        return None;
                    }
                }
                Err(e) => {
                    fail(status, what, &e);
                    return None;
                }
            }
        }
    }

    fn run(self, snapshot: Snapshot, rx: Receiver<Msg>, ckpt: SinkCheckpoints) {
        let _feed = StopFeed(self.feed.clone());
        let _leave = LeaveUnlessFinished(&ckpt, &self.status);
        let status = self.status.clone();
        if let Some(e) = failed_before_restart(&ckpt) {
            ckpt.stay_failed(&e);
            tracing::error!("sink {} failed before weir restarted and stays failed: {e}", self.name);
            return status.set(Status::Failed(format!(
                "{e} (before weir restarted; it stays failed so that nothing is delivered twice: DROP SINK and CREATE SINK again to deliver its input anew)"
            )));
        }
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return status.set(Status::Failed(format!("cannot start a runtime: {e}"))),
        };
        let what = format!("{} ({})", self.name, self.connector);
        // While the target cannot be reached yet, what the input sends is taken
        // and kept, so the input is not held back by this sink's full channel.
        let mut early = Vec::new();
        let Some(mut sink) = self.open(&rt, &what, &mut || early.extend(rx.try_iter())) else { return };
        status.set(Status::Running);
        let mut state = match initial_state(snapshot, &ckpt, sink.last_epoch().unwrap_or(0), self.memory) {
            Ok(state) => state,
            Err(e) => return status.set(Status::Failed(format!("cannot read its checkpoint: {e}"))),
        };
        let schema = self.input.schema.clone();
        for m in early {
            state.take(m, &schema, &ckpt, &status);
        }
        // Takes what the input sent, without waiting: rows join the epoch, a barrier ends it.
        // `early`: stop at a barrier and leave it pending, so that an at-least-once sink
        // can write what came before it first (elsewhere barriers are cut at once).
        let pump = |state: &mut EpochState, wait: Duration, early: bool| {
            let mut wait = wait;
            while !state.ended && state.pending_barrier.is_none() {
                match rx.recv_timeout(wait) {
                    Ok(Msg::Barrier(e)) if early && e > state.last_barrier => state.pending_barrier = Some(e),
                    Ok(m) => state.take(m, &schema, &ckpt, &status),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => (state.ended, state.dropped) = (true, true),
                }
                wait = Duration::ZERO;
            }
        };
        loop {
            if status.stop.load(Ordering::Relaxed) {
                return status.set(Status::Stopped(None));
            }
            if fail_if_overdue(&status, &what) {
                return;
            }
            status.buffered_bytes.store(state.staged_bytes as u64, Ordering::Relaxed);
            if let Some(e) = &state.failed {
                return status.set(Status::Failed(e.to_string()));
            }
            // Deliver every epoch that is part of a written checkpoint; while a target is
            // away, barriers are still taken, so checkpoints of the other dataflows go on.
            while state.staged.front().is_some_and(|s| s.global <= ckpt.coord.durable()) {
                let s = state.staged.front().expect("checked");
                let (epoch, global, rows) = (s.epoch, s.global, s.rows);
                if let Some(epoch) = epoch {
                    let changes = match state.front_changes(&ckpt) {
                        Ok(c) => c,
                        Err(e) => return status.set(Status::Failed(e)),
                    };
                    match retry(&status, &rt, &what, &mut sink, Op::Write(epoch, &changes), &mut || pump(&mut state, Duration::ZERO, false)) {
                        Outcome::Done => {}
                        Outcome::Stopped => return status.set(Status::Stopped(None)),
                        Outcome::Failed => return,
                    }
                    status.epochs.fetch_add(1, Ordering::Relaxed);
                    status.last_epoch.store(epoch, Ordering::Relaxed);
                    status.last_write.store(now_micros(), Ordering::Relaxed);
                }
                status.rows_taken.fetch_add(rows as u64, Ordering::Relaxed);
                state.unsettled.push_back((epoch, global));
                state.unstage();
                state.settle(sink.durable_epoch(), &ckpt.committed);
                if state.staged.is_empty() && state.queue.is_empty() {
                    status.waiting_since.store(0, Ordering::Relaxed);
                }
            }
            if state.ended {
                if self.end_of_input(&rt, &what, &mut sink, &mut state, &ckpt) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            } else {
                let wait = if state.staged.is_empty() { POLL } else { Duration::from_millis(5) };
                pump(&mut state, wait, self.at_least_once);
                // At least once: write what arrived now, unless an earlier epoch with changes
                // still waits for its checkpoint (order); then end the epoch at the barrier.
                if self.at_least_once
                    && state.staged.iter().all(|s| s.epoch.is_none())
                    && !state.queue.is_empty()
                    && let Err(e) = self.write_now(&rt, &mut sink, &mut state, &schema)
                {
                    return status.set(Status::Failed(e.message));
                }
                if let Some(e) = state.pending_barrier.take() {
                    state.cut_checked(e, &schema, &ckpt);
                }
            }
            match retry(&status, &rt, &what, &mut sink, Op::Tick, &mut || pump(&mut state, Duration::ZERO, false)) {
                Outcome::Done => {}
                Outcome::Stopped => return status.set(Status::Stopped(None)),
                Outcome::Failed => return,
            }
            state.settle(sink.durable_epoch(), &ckpt.committed);
        }
    }
}

/// Where a starting sink stands: a new one delivers its input's contents
/// first; a restarted one the saved epochs its target does not have yet
/// (`delivered` is the newest epoch the target has).
fn initial_state(snapshot: Snapshot, ckpt: &SinkCheckpoints, delivered: u64, memory: usize) -> Result<EpochState, String> {
    let mut state = EpochState {
        next: delivered + 1,
        last_barrier: ckpt.after,
        queue: VecDeque::new(),
        queued_rows: 0,
        staged: VecDeque::new(),
        staged_bytes: 0,
        memory,
        unsettled: VecDeque::new(),
        ended: false,
        dropped: false,
        failed: None,
        pending_barrier: None,
    };
    // The saved parts are decoded once, here, and not kept: epochs past the sink's memory are read again from their checkpoints.
    let restored = std::mem::take(&mut *ckpt.restored.lock());
    if restored.is_empty() {
        for b in snapshot.read_all().map_err(|e| format!("cannot read the rows of its input: {e}"))? {
            state.push(Delta { batch: b, diffs: None });
        }
        return Ok(state);
    }
    for (global, part) in restored {
        match decode_epoch(&part)? {
            // The newest epoch the target has may be partly there: the connector completes it.
            Saved::Epoch(k, changes) if k >= delivered => {
                state.next = state.next.max(k + 1);
                state.stage(Staged { global, epoch: Some(k), changes: Some(changes), rows: 0 });
            }
            // Nothing changed in it: it settles in its turn, after the epochs before it.
            Saved::Nothing => state.stage(Staged { global, epoch: None, changes: None, rows: 0 }),
            // Already at the target.
            _ => state.unsettled.push_back((None, global)),
        }
    }
    Ok(state)
}

impl Runner {
    /// The input ended: no barrier comes any more, so epochs are cut here.
    /// Once every epoch is delivered, flushes the target and finishes; true
    /// when the sink is done (finished, or failed or stopped while flushing).
    fn end_of_input(&self, rt: &tokio::runtime::Runtime, what: &str, sink: &mut Box<dyn Sink>, state: &mut EpochState, ckpt: &SinkCheckpoints) -> bool {
        let status = &self.status;
        while state.last_barrier < ckpt.coord.requested() {
            state.cut_checked(state.last_barrier + 1, &self.input.schema, ckpt);
        }
        if !(state.queue.is_empty() && state.staged.is_empty() && state.failed.is_none()) {
            return false;
        }
        // Durable at the target first; only then may the checkpoints holding it go.
        if retry(status, rt, what, sink, Op::Flush, &mut || {}) != Outcome::Done {
            return true;
        }
        state.settle(sink.durable_epoch(), &ckpt.committed);
        ckpt.coord.finish(&ckpt.member, Part { state: encode_epoch(None).unwrap_or_default(), segments: vec![] });
        ckpt.committed.store(u64::MAX, Ordering::Release);
        status.set(if state.dropped { Status::Stopped(Some("its input was dropped".into())) } else { Status::Finished });
        true
    }

    /// Writes the queued changes at once, one attempt. Nothing is pumped
    /// meanwhile, so no barrier can claim them before they are written; if
    /// the attempt fails they stay queued and go with the next epoch.
    fn write_now(&self, rt: &tokio::runtime::Runtime, sink: &mut Box<dyn Sink>, state: &mut EpochState, schema: &SchemaRef) -> SqlResult<()> {
        let changes = consolidate(schema, state.queue.drain(..).collect())?;
        let rows = std::mem::take(&mut state.queued_rows);
        if changes.rows() == 0 {
            self.status.rows_taken.fetch_add(rows as u64, Ordering::Relaxed);
            return Ok(());
        }
        match attempt(&self.status, rt, sink, Op::Write(state.next, &changes)) {
            Ok(()) => {
                let s = &self.status;
                s.rows_taken.fetch_add(rows as u64, Ordering::Relaxed);
                s.epochs.fetch_add(1, Ordering::Relaxed);
                s.last_epoch.store(state.next, Ordering::Relaxed);
                s.last_write.store(now_micros(), Ordering::Relaxed);
                s.waiting_since.store(0, Ordering::Relaxed);
                state.next += 1;
            }
            Err(e) => {
                // The number is used up: had the write landed after all, the
                // changes are written again under a new one (at least once), never skipped.
                state.next += 1;
                tracing::warn!("sink {}: {e}; its changes go with the next checkpoint", self.name);
                self.status.error(&e.to_string());
                state.requeue(changes, rows);
            }
        }
        Ok(())
    }
}

/// A sink thread that ends without finishing stops holding checkpoints
/// back. A stopped one leaves them; a failed one stays in every later
/// checkpoint as failed, so that after a restart it neither waits for
/// epochs the checkpoints no longer hold nor delivers its input again.
struct LeaveUnlessFinished<'a>(&'a SinkCheckpoints, &'a SinkStatus);

impl Drop for LeaveUnlessFinished<'_> {
    fn drop(&mut self) {
        let ckpt = self.0;
        if ckpt.committed.load(Ordering::Acquire) == u64::MAX {
            return;
        }
        match &*self.1.state.lock() {
            Status::Failed(e) => ckpt.stay_failed(e),
            _ => ckpt.coord.leave(&ckpt.member),
        }
    }
}

impl SinkCheckpoints {
    /// Every later checkpoint holds the sink as failed with `e`, and none waits for it.
    fn stay_failed(&self, e: &str) {
        self.coord.finish(&self.member, Part { state: encode_failed(e), segments: vec![] });
        self.committed.store(u64::MAX, Ordering::Release);
    }
}

/// The error of a sink that had failed when the newest checkpoint was taken.
fn failed_before_restart(ckpt: &SinkCheckpoints) -> Option<String> {
    match ckpt.restored.lock().last().map(|(_, part)| decode_epoch(part)) {
        Some(Ok(Saved::Failed(e))) => Some(e),
        _ => None,
    }
}

/// A sink's place in checkpoints.
struct SinkCheckpoints {
    coord: Arc<Coordinator>,
    member: MemberId,
    /// The barrier its changes start after.
    after: u64,
    /// The newest checkpoint epoch delivered to the target.
    committed: Arc<AtomicU64>,
    /// Saved epochs from the checkpoints the server restarted from (checkpoint epoch, part).
    restored: Mutex<Vec<(u64, Vec<u8>)>>,
}

/// An epoch cut at a barrier, waiting for its checkpoint to be written.
struct Staged {
    /// The checkpoint epoch.
    global: u64,
    /// The sink's own epoch number (its targets' progress markers); None when nothing changed.
    epoch: Option<u64>,
    /// None: only in checkpoint `global` (past the sink's memory).
    changes: Option<Changes>,
    /// Input rows it holds, for the lag.
    rows: usize,
}

struct EpochState {
    /// The sink's next epoch number.
    next: u64,
    last_barrier: u64,
    /// Changes since the last barrier.
    queue: VecDeque<Delta>,
    queued_rows: usize,
    staged: VecDeque<Staged>,
    /// Bytes of the staged changes held in memory, and at most how many.
    staged_bytes: usize,
    memory: usize,
    /// Epochs written but maybe still buffered by the connector: (sink epoch, checkpoint epoch).
    unsettled: VecDeque<(Option<u64>, u64)>,
    /// The input ended (or went away: `dropped`).
    ended: bool,
    dropped: bool,
    /// An error no retry fixes, met while taking the input.
    failed: Option<String>,
    /// A barrier taken off the input but not cut yet (at-least-once sinks write first).
    pending_barrier: Option<u64>,
}

impl EpochState {
    fn take(&mut self, m: Msg, schema: &SchemaRef, ckpt: &SinkCheckpoints, status: &SinkStatus) {
        match m {
            Msg::Data(d) => {
                let _ = status.waiting_since.compare_exchange(0, now_micros(), Ordering::Relaxed, Ordering::Relaxed);
                self.push(d);
            }
            Msg::Barrier(e) if e > self.last_barrier => self.cut_checked(e, schema, ckpt),
            Msg::Barrier(_) | Msg::Watermark(_) => {}
            Msg::End => self.ended = true,
        }
    }

    fn cut_checked(&mut self, global: u64, schema: &SchemaRef, ckpt: &SinkCheckpoints) {
        if let Err(e) = self.cut(global, schema, ckpt) {
            self.failed.get_or_insert(e.message);
        }
    }

    /// Counts epochs as delivered once the connector holds them durably
    /// (`durable` None: as soon as they are written).
    fn settle(&mut self, durable: Option<u64>, committed: &AtomicU64) {
        while let Some(&(epoch, global)) = self.unsettled.front() {
            if durable.is_some_and(|d| epoch.is_some_and(|k| k > d)) {
                break;
            }
            committed.fetch_max(global, Ordering::AcqRel);
            self.unsettled.pop_front();
        }
    }

    /// Keeps an epoch for delivery: in memory while the sink's share lasts,
    /// else only in its checkpoint.
    fn stage(&mut self, mut s: Staged) {
        let bytes = s.changes.as_ref().map_or(0, changes_bytes);
        if self.staged_bytes + bytes > self.memory && s.epoch.is_some() {
            s.changes = None;
        } else {
            self.staged_bytes += bytes;
        }
        self.staged.push_back(s);
    }

    /// The oldest staged epoch's changes, read from its checkpoint if they are not in memory.
    fn front_changes(&self, ckpt: &SinkCheckpoints) -> Result<Changes, String> {
        let s = self.staged.front().expect("a staged epoch");
        if let Some(c) = &s.changes {
            return Ok(c.clone());
        }
        let part = ckpt.coord.read_part(s.global, &ckpt.member).map_err(|e| format!("cannot read its changes of checkpoint {}: {e}", s.global))?;
        match decode_epoch(&part)? {
            Saved::Epoch(k, changes) if Some(k) == s.epoch => Ok(changes),
            _ => Err(format!("checkpoint {} does not hold its epoch {:?}", s.global, s.epoch)),
        }
    }

    fn unstage(&mut self) {
        if let Some(s) = self.staged.pop_front() {
            self.staged_bytes -= s.changes.as_ref().map_or(0, changes_bytes);
        }
    }

    fn push(&mut self, d: Delta) {
        self.queued_rows += d.batch.num_rows();
        self.queue.push_back(d);
    }

    /// Ends the current epoch at barrier `global`: its changes are saved with
    /// the checkpoint and delivered once it is written.
    fn cut(&mut self, global: u64, schema: &SchemaRef, ckpt: &SinkCheckpoints) -> SqlResult<()> {
        self.last_barrier = global;
        let changes = consolidate(schema, self.queue.drain(..).collect())?;
        let rows = std::mem::take(&mut self.queued_rows);
        let epoch = (changes.rows() > 0).then_some(self.next);
        let state = encode_epoch(epoch.map(|k| (k, &changes))).map_err(|e| SqlError::internal(format!("cannot encode an epoch: {e}")))?;
        if ckpt.coord.report(&ckpt.member, global, Part { state, segments: vec![] }) {
            self.next += epoch.is_some() as u64;
            self.stage(Staged { global, epoch, changes: Some(changes), rows });
        } else {
            // This checkpoint was taken without the sink (it joined too late): keep the changes for the next.
            self.requeue(changes, rows);
        }
        Ok(())
    }

    /// Puts consolidated changes (from `rows` input rows) back in the queue, for the next epoch.
    fn requeue(&mut self, changes: Changes, rows: usize) {
        self.queued_rows = rows;
        self.queue.push_back(Delta { batch: changes.inserts, diffs: None });
        let n = changes.deletes.num_rows();
        self.queue.push_back(Delta { batch: changes.deletes, diffs: Some(vec![-1; n]) });
    }
}

fn changes_bytes(c: &Changes) -> usize {
    c.inserts.get_array_memory_size() + c.deletes.get_array_memory_size()
}

/// A sink's part of a checkpoint.
enum Saved {
    /// Nothing changed in that epoch.
    Nothing,
    /// The sink's epoch number and the epoch's changes.
    Epoch(u64, Changes),
    /// The sink had failed with this error.
    Failed(String),
}

/// The first byte of a failed sink's part (0 and 1 say whether an epoch follows).
const FAILED_TAG: u8 = 2;

fn encode_failed(e: &str) -> Vec<u8> {
    let mut enc = Enc::default();
    enc.bytes(e.as_bytes());
    let mut out = vec![FAILED_TAG];
    out.extend(enc.0);
    out
}

/// A sink's part of a checkpoint: its epoch number and the epoch's changes.
fn encode_epoch(epoch: Option<(u64, &Changes)>) -> std::io::Result<Vec<u8>> {
    let mut e = Enc::default();
    if let Some((k, c)) = epoch {
        e.bool(true).u64(k);
        e.batches(Some(c.inserts.schema_ref()), std::slice::from_ref(&c.inserts))?;
        e.batches(Some(c.deletes.schema_ref()), std::slice::from_ref(&c.deletes))?;
    } else {
        e.bool(false);
    }
    Ok(e.0)
}

fn decode_epoch(part: &[u8]) -> Result<Saved, String> {
    if let Some((&FAILED_TAG, rest)) = part.split_first() {
        let e = Dec::new(rest, "a failed sink's checkpoint").bytes()?;
        return Ok(Saved::Failed(String::from_utf8_lossy(e).into_owned()));
    }
    let mut d = Dec::new(part, "a sink's checkpoint");
    if !d.bool()? {
        return Ok(Saved::Nothing);
    }
    let k = d.u64()?;
    let one = |v: Vec<RecordBatch>| v.into_iter().next().ok_or_else(|| "a sink's checkpoint lacks its rows".to_string());
    let inserts = one(d.batches()?)?;
    let deletes = one(d.batches()?)?;
    Ok(Saved::Epoch(k, Changes { inserts, deletes }))
}

impl Engine {
    /// Resolves a CREATE SINK's input and options (nothing is stored or started).
    pub(crate) fn prepare_sink(&self, cs: &CreateSink, id: u64) -> SqlResult<SinkDef> {
        let name = object_name(&cs.name)?;
        let from = object_name(&cs.from)?;
        let mut options: BTreeMap<String, String> = cs.options.iter().cloned().collect();
        let at_least_once = match options.remove("delivery").as_deref() {
            None | Some("exactly_once") => false,
            Some("at_least_once") => true,
            Some(other) => {
                return Err(SqlError::new(
                    SqlState::InvalidParameterValue,
                    format!("option \"delivery\" must be 'exactly_once' or 'at_least_once', not '{other}'"),
                ));
            }
        };
        let connector = options.get("connector").cloned().ok_or_else(|| {
            SqlError::new(SqlState::InvalidParameterValue, "missing option \"connector\"")
                .with_hint(format!("weir has the sink connectors: {}", weir_connectors::registry::names(weir_connectors::registry::Role::Sink).join(", ")))
        })?;
        let (schema, append_only, unique_key) = {
            let view = self.views.read().get(&from).map(|v| (v.state.schema.clone(), v.plan.append_only, v.plan.unique_key.clone()));
            let source = self.sources.read().get(&from).map(|s| s.schema.clone());
            match (view, source) {
                (Some(v), _) => v,
                (None, Some(s)) => (s, true, None),
                (None, None) => {
                    return Err(match self.kind_of(&from) {
                        Some(k) => SqlError::wrong_kind(&from, k, "source or materialized view"),
                        None => SqlError::undefined_table(&from),
                    });
                }
            }
        };
        if at_least_once && connector == "s3" {
            return Err(SqlError::new(SqlState::InvalidParameterValue, "delivery = 'at_least_once' is for redis, postgres and kafka sinks")
                .with_hint("the s3 sink gathers rows into files per epoch, so writing early would not make it faster"));
        }
        let input = SinkInput { sink: name.clone(), schema, append_only, unique_key, access: self.host_access.clone() };
        Ok(SinkDef {
            id,
            name,
            from,
            connector,
            at_least_once,
            options,
            input,
            status: Arc::default(),
            input_state: Mutex::new(None),
            feed: Mutex::new(None),
            threads: Mutex::new(Vec::new()),
        })
    }

    pub async fn create_sink(self: &Arc<Self>, cs: &CreateSink, sql: &str) -> SqlResult<()> {
        let name = object_name(&cs.name)?;
        let mut writer = self.writer().await;
        if !self.claim_name(&name, cs.if_not_exists)? {
            return Ok(());
        }
        let mut sink = self.prepare_sink(cs, 0)?;
        // Check the options and that the target answers; the sink's thread connects on its own.
        open_sink(&sink.connector, &sink.options(), &sink.input).await.map_err(|e| connector_error(e).with_detail(format!("sink \"{name}\"")))?;
        sink.id = self.define(&mut writer, ObjectKind::Sink, &name, sql)?;
        let sink = Arc::new(sink);
        if let Err(e) = self.start_sink(&sink) {
            let _ = self.undefine(&mut writer, sink.id);
            return Err(e);
        }
        self.sinks.write().insert(name, sink);
        Ok(())
    }

    /// Starts a sink's thread (and, for a sink from a source, the feed that reads the source).
    pub(crate) fn start_sink(self: &Arc<Self>, sink: &Arc<SinkDef>) -> SqlResult<()> {
        let view = self.views.read().get(&sink.from).cloned();
        let (state, feed) = match view {
            Some(v) => (v.state.clone(), None),
            None => {
                // A source: read it on a thread of its own, keeping no rows, late ones included.
                let src = self.sources.read().get(&sink.from).cloned().ok_or_else(|| SqlError::undefined_table(&sink.from))?;
                let state = ViewState::feed(format!("sink {}", sink.name), src.schema.clone())?;
                let source = weir_connectors::open_source(&src.connector, &Options::new(src.options.clone()), src.schema.clone(), &sink.name)
                    .map_err(connector_error)?;
                (state.clone(), Some((state, Input::Source { name: src.name.clone(), source, watermark: None })))
            }
        };
        let member = MemberId::Sink(sink.id);
        let committed = Arc::new(AtomicU64::new(0));
        let (sub, after) = self.coord.join(&member, Some(committed.clone()), &state)?;
        let restored = self.restored_sink_parts(&member);
        // Checkpoints from here on are kept until the target has them.
        committed.store(restored.first().map(|(e, _)| e - 1).unwrap_or(after), Ordering::Release);
        let snapshot_rows = sub.snapshot.rows;
        sink.status.rows_base.store(sub.rows_out as i64 - snapshot_rows as i64, Ordering::Relaxed);
        *sink.input_state.lock() = Some(state);
        let runner = Runner {
            name: sink.name.clone(),
            connector: sink.connector.clone(),
            at_least_once: sink.at_least_once,
            options: sink.options(),
            input: sink.input.clone(),
            status: sink.status.clone(),
            feed: feed.as_ref().map(|(state, _)| state.clone()),
            memory: self.sink_memory,
        };
        let ckpt = SinkCheckpoints { coord: self.coord.clone(), member, after, committed, restored: Mutex::new(restored) };
        let snapshot = sub.snapshot;
        let rx = sub.rx;
        let handle = std::thread::Builder::new()
            .name(format!("weir-sink-{}", sink.name))
            .spawn(move || {
                // A panic is a bug in weir: it fails this sink, visibly, not the server.
                let status = runner.status.clone();
                let name = runner.name.clone();
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(snapshot, rx, ckpt))).is_err() {
                    tracing::error!("sink {name} failed: it panicked (a bug in weir)");
                    status.set(Status::Failed("the sink panicked (a bug in weir)".into()));
                }
            })
            .map_err(|e| SqlError::internal(format!("cannot start a sink thread: {e}")))?;
        let mut threads = vec![handle];
        if let Some((state, input)) = feed {
            // Started after the sink subscribed, so it misses nothing; its source position is checkpointed.
            *sink.feed.lock() = Some(state.clone());
            let ckpt = self.checkpointing(MemberId::SinkFeed(sink.id))?;
            threads.push(dataflow::spawn(state, Pipeline::identity(), input, self.dead_letters.clone(), ckpt)?);
        }
        *sink.threads.lock() = threads;
        Ok(())
    }

    pub(crate) fn sinks_in_order(&self) -> Vec<Arc<SinkDef>> {
        let mut v: Vec<Arc<SinkDef>> = self.sinks.read().values().cloned().collect();
        v.sort_by_key(|s| s.id);
        v
    }

    /// Stops a sink and forgets it (its definition is already logged as dropped).
    pub(crate) fn remove_sink(&self, name: &str) {
        let sink = self.sinks.write().remove(name);
        if let Some(s) = sink {
            s.stop();
            self.coord.leave(&MemberId::Sink(s.id));
            self.coord.leave(&MemberId::SinkFeed(s.id));
        }
    }

    /// DROP SINK
    pub async fn drop_sinks(&self, names: &[String], if_exists: bool) -> SqlResult<()> {
        let mut writer = self.writer().await;
        for name in names {
            match self.kind_of(name) {
                None if if_exists => continue,
                None => return Err(SqlError::new(SqlState::UndefinedObject, format!("sink \"{name}\" does not exist"))),
                Some(ObjectKind::Sink) => {}
                Some(k) => return Err(SqlError::wrong_kind(name, k, "sink")),
            }
        }
        for name in names {
            let id = self.sinks.read().get(name).map(|s| s.id);
            if let Some(id) = id {
                self.undefine(&mut writer, id)?;
                self.remove_sink(name);
            }
        }
        Ok(())
    }

    /// SHOW SINKS: secrets are shown as `***`.
    pub fn show_sinks(&self) -> SqlResult<(SchemaRef, RecordBatch)> {
        let sinks = self.sinks_in_order();
        let options = |s: &SinkDef| s.options.iter().map(|(k, v)| format!("{k} = '{}'", redact(k, v))).collect::<Vec<_>>().join(", ");
        let text = |f: &dyn Fn(&SinkDef) -> String| Arc::new(StringArray::from_iter_values(sinks.iter().map(|s| f(s)))) as ArrayRef;
        let schema = Arc::new(Schema::new(["name", "from", "connector", "options", "status"].map(|n| Field::new(n, DataType::Utf8, false)).to_vec()));
        let cols = vec![
            text(&|s| s.name.clone()),
            text(&|s| s.from.clone()),
            text(&|s| s.connector.clone()),
            text(&options),
            text(&|s| s.status.state.lock().to_string()),
        ];
        Ok((schema.clone(), RecordBatch::try_new(schema, cols)?))
    }

    /// Stops every sink, flushing what they buffer (at shutdown).
    pub fn stop_sinks(&self) {
        for s in self.sinks_in_order() {
            s.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    #[test]
    fn consolidation_cancels_and_keeps_order() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, false), Field::new("n", DataType::Int64, false)]));
        let batch =
            |k: Vec<&str>, n: Vec<i64>| RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(k)), Arc::new(Int64Array::from(n))]).unwrap();
        let deltas = vec![
            Delta { batch: batch(vec!["a", "b"], vec![1, 1]), diffs: None },
            Delta { batch: batch(vec!["a", "a", "c"], vec![1, 2, 5]), diffs: Some(vec![-1, 1, -1]) },
            Delta { batch: batch(vec!["b"], vec![1]), diffs: Some(vec![1]) },
        ];
        let c = consolidate(&schema, deltas).unwrap();
        let keys = |b: &RecordBatch| {
            let k = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
            let n = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
            (0..b.num_rows()).map(|i| format!("{}{}", k.value(i), n.value(i))).collect::<Vec<_>>()
        };
        assert_eq!(keys(&c.inserts), vec!["b1", "b1", "a2"]);
        assert_eq!(keys(&c.deletes), vec!["c5"]);
        let plain = consolidate(&schema, vec![Delta { batch: batch(vec!["x"], vec![1]), diffs: None }]).unwrap();
        assert_eq!((plain.inserts.num_rows(), plain.deletes.num_rows()), (1, 0));
    }
}
