//! The dataflow runtime: each materialized view runs as one thread that
//! pulls Arrow batches from its input (a source, or the change stream of
//! another view; a join reads two), passes them through the compiled stages
//! of its [`StreamPlan`], and applies the result to the view's contents.

pub mod aggregate;
pub mod checkpoint;
pub mod dead_letters;
pub mod join;
pub mod kept;
pub mod keyed;
pub mod ops;
pub mod over;
pub mod segments;
pub mod status;
pub mod view;

use crate::dataflow::checkpoint::{Coordinator, MemberId, Part};
use crate::storage::codec::{Dec, DecResult, Enc};
use aggregate::{AggInput, AggSpec, Aggregate, AggregateConfig};
use arrow::array::RecordBatch;
use datafusion::execution::SessionState;
use dead_letters::{DeadLetterRow, DeadLetters};
use join::{JoinConfig, Lookup, SymmetricJoin};
use kept::Kept;
use keyed::Changed;
use ops::{FailedRow, Filter, Project, Watermark, WindowAssign};
use over::{Over, OverAgg, OverConfig};
pub use status::Status;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use view::ViewState;
use weir_connectors::{ConnectorError, Source, SourceEvent};
use weir_planner::stream::{JoinStrategy, Stage, StreamPlan, WindowKind};
use weir_planner::{Emit, SqlError, SqlResult};

/// How long an input is polled before the loop checks for a stop request.
const POLL: Duration = Duration::from_millis(100);
/// Pause before retrying a source that failed with an external error.
const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The byte in a view's checkpoint part that says its keyed state is in state
/// files (`keyed.rs`); parts written before hold it inline, where a 0 or 1 stands.
const KEYED_STATE_IN_FILES: u8 = 2;
/// OVER stages one view may have: tags from `keyed::TAG_FIRST_OVER` up to below `keyed::TAG_JOIN`.
const MAX_OVER_STAGES: usize = (keyed::TAG_JOIN - keyed::TAG_FIRST_OVER) as usize;

/// Rows added (diff +1) or removed (diff -1); `diffs` None means all added.
#[derive(Clone, Debug)]
pub struct Delta {
    pub batch: RecordBatch,
    pub diffs: Option<Vec<i64>>,
}

/// Adds `d` to the multiplicity of the row bytes `key`, forgetting rows that
/// reach zero (copies the key only when it is new).
pub fn add_count(map: &mut std::collections::HashMap<Box<[u8]>, i64>, key: &[u8], d: i64) {
    match map.get_mut(key) {
        Some(n) => {
            *n += d;
            if *n == 0 {
                map.remove(key);
            }
        }
        None => {
            map.insert(key.into(), d);
        }
    }
}

#[derive(Clone, Debug)]
pub enum Msg {
    Data(Delta),
    /// No later row will have an event time below this (nanoseconds).
    Watermark(i64),
    /// Checkpoint epoch: every change before it belongs to this epoch or an earlier one.
    Barrier(u64),
    End,
}

enum StageOp {
    Filter(Filter),
    Project(Project),
    Over(Over),
}

impl StageOp {
    fn apply(&mut self, d: Delta, failed: &mut Vec<FailedRow>) -> SqlResult<Delta> {
        match self {
            StageOp::Filter(f) => f.apply(d, failed),
            StageOp::Project(p) => p.apply(d, failed),
            StageOp::Over(o) => o.apply(d),
        }
    }
}

#[allow(clippy::large_enum_variant)] // one per dataflow, never moved in a hot path
enum JoinOp {
    Lookup(Lookup),
    Symmetric(SymmetricJoin),
}

/// Logical expressions over `schema`, made physical.
fn physical(
    state: &SessionState,
    list: &[datafusion::logical_expr::Expr],
    schema: &datafusion::common::DFSchemaRef,
) -> SqlResult<Vec<Arc<dyn datafusion::physical_expr::PhysicalExpr>>> {
    Ok(list.iter().map(|e| state.create_physical_expr(e.clone(), schema)).collect::<Result<_, _>>()?)
}

/// A plan made executable: window assignment, join, stages, aggregate.
pub struct Pipeline {
    window: Option<WindowAssign>,
    join: Option<JoinOp>,
    pre: Vec<StageOp>,
    aggregate: Option<Aggregate>,
    post: Vec<StageOp>,
    /// Rows an expression failed on since the runner last took them.
    failed: Vec<FailedRow>,
}

fn run_stages(ops: &mut [StageOp], mut d: Delta, failed: &mut Vec<FailedRow>) -> SqlResult<Option<Delta>> {
    for op in ops {
        d = op.apply(d, failed)?;
        if d.batch.num_rows() == 0 {
            return Ok(None);
        }
    }
    Ok(Some(d))
}

impl Pipeline {
    /// A pipeline that passes rows through unchanged.
    pub fn identity() -> Pipeline {
        Pipeline { window: None, join: None, pre: vec![], aggregate: None, post: vec![], failed: vec![] }
    }

    /// `table` is the table a lookup join reads.
    pub fn compile(state: &SessionState, plan: &StreamPlan, table: Option<Arc<crate::storage::table::Table>>) -> SqlResult<Pipeline> {
        let window = Self::window(plan)?;
        let join = plan.join.as_ref().map(|j| Self::join(state, j, table)).transpose()?;
        let mut p = Pipeline { window, join, pre: vec![], aggregate: None, post: vec![], failed: vec![] };
        for stage in &plan.stages {
            let op = match stage {
                Stage::Filter { predicate, input } => StageOp::Filter(Filter { predicate: state.create_physical_expr(predicate.clone(), input)? }),
                Stage::Project { exprs, input, output } => {
                    StageOp::Project(Project { exprs: physical(state, exprs, input)?, schema: Arc::new(output.as_arrow().clone()) })
                }
                Stage::Over(o) => StageOp::Over(Self::over(state, o)?),
                Stage::Aggregate(a) => {
                    p.aggregate = Some(Self::aggregate(state, plan, a)?);
                    continue;
                }
            };
            if p.aggregate.is_some() { p.post.push(op) } else { p.pre.push(op) }
        }
        // Each OVER stage names its state with a tag byte of its own.
        if p.overs().count() > MAX_OVER_STAGES {
            return Err(SqlError::new(weir_planner::SqlState::ProgramLimitExceeded, format!("a view has at most {MAX_OVER_STAGES} OVER windows"))
                .with_hint("split the view into views over views"));
        }
        Ok(p)
    }

    /// Window assignment, over the schema the first stage (or the join) reads.
    fn window(plan: &StreamPlan) -> SqlResult<Option<WindowAssign>> {
        let Some(w) = &plan.window else { return Ok(None) };
        let schema = match (&plan.join, plan.stages.first()) {
            (Some(j), _) => j.left_schema.as_arrow().clone(),
            (None, Some(Stage::Filter { input, .. } | Stage::Project { input, .. })) => input.as_arrow().clone(),
            (None, Some(Stage::Over(o))) => o.input.as_arrow().clone(),
            (None, Some(Stage::Aggregate(a))) => a.input.as_arrow().clone(),
            (None, None) => return Err(SqlError::internal("windowed plan without stages")),
        };
        Ok(Some(WindowAssign { column: w.time_column, kind: w.kind.clone(), schema: Arc::new(schema) }))
    }

    fn join(state: &SessionState, j: &weir_planner::stream::JoinPlan, table: Option<Arc<crate::storage::table::Table>>) -> SqlResult<JoinOp> {
        let c = JoinConfig {
            kind: j.kind,
            left_keys: physical(state, &j.left_keys, &j.left_schema)?,
            right_keys: physical(state, &j.right_keys, &j.right_schema)?,
            filter: j.filter.as_ref().map(|f| state.create_physical_expr(f.clone(), &j.schema)).transpose()?,
            left: Arc::new(j.left_schema.as_arrow().clone()),
            right: Arc::new(j.right_schema.as_arrow().clone()),
            output: Arc::new(j.schema.as_arrow().clone()),
            bound: match &j.strategy {
                JoinStrategy::Interval(b) => Some(*b),
                _ => None,
            },
        };
        Ok(match &j.strategy {
            JoinStrategy::Lookup => {
                let t = table.ok_or_else(|| SqlError::undefined_table(&j.right.name))?;
                JoinOp::Lookup(Lookup::new(c, t)?)
            }
            _ => JoinOp::Symmetric(SymmetricJoin::new(c)?),
        })
    }

    fn over(state: &SessionState, o: &weir_planner::stream::OverStage) -> SqlResult<Over> {
        let input = o.input.as_arrow();
        let output = Arc::new(o.output.as_arrow().clone());
        let base = input.fields().len();
        let aggs = o
            .aggs
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let arg = c.arg.as_ref().map(|e| state.create_physical_expr(e.clone(), &o.input)).transpose()?;
                OverAgg::new(c.func, arg, input, output.field(base + k).data_type().clone())
            })
            .collect::<SqlResult<Vec<_>>>()?;
        let partition = physical(state, &o.partition_by, &o.input)?;
        Over::new(OverConfig { partition, time_column: o.time_column, range_ns: o.range_ns, aggs, output }, input)
    }

    fn aggregate(state: &SessionState, plan: &StreamPlan, a: &weir_planner::stream::AggregateStage) -> SqlResult<Aggregate> {
        let input = Arc::new(a.input.as_arrow().clone());
        let output = Arc::new(a.output.as_arrow().clone());
        let aggs = a
            .aggs
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let arg = c.arg.as_ref().map(|e| state.create_physical_expr(e.clone(), &a.input)).transpose()?;
                let filter = c.filter.as_ref().map(|e| state.create_physical_expr(e.clone(), &a.input)).transpose()?;
                let kept = c.kept.as_ref().map(|k| Kept::new(state, k, &a.input)).transpose()?;
                AggSpec::new(c.func, AggInput { arg, filter, kept }, &input, output.field(a.group_by.len() + k).data_type().clone())
            })
            .collect::<SqlResult<Vec<_>>>()?;
        let session_gap = match plan.window.as_ref().map(|w| &w.kind) {
            Some(WindowKind::Session { gap_ns }) => Some(*gap_ns),
            _ => None,
        };
        let rows_append_only = match &plan.join {
            Some(j) => j.strategy != JoinStrategy::Updating,
            None => {
                matches!(plan.input.kind, weir_planner::stream::RelationKind::Source { .. } | weir_planner::stream::RelationKind::View { append_only: true })
            }
        };
        Aggregate::new(AggregateConfig {
            group_exprs: physical(state, &a.group_by, &a.input)?,
            aggs,
            window: a.window_columns,
            windowed: a.window_columns.is_some() && plan.window.is_some(),
            session_gap,
            emit_on_close: plan.emit == Emit::OnWindowClose,
            retractable: !rows_append_only,
            input,
            output,
        })
    }

    fn data(&mut self, d: Delta) -> SqlResult<Vec<Delta>> {
        let d = match &self.window {
            Some(w) => w.apply(d)?,
            None => d,
        };
        match &mut self.join {
            Some(JoinOp::Lookup(l)) => {
                let mut out = Vec::new();
                for d in l.apply(d)? {
                    out.extend(self.rest(d)?);
                }
                Ok(out)
            }
            _ => self.rest(d),
        }
    }

    /// A change on side `side` of a two-input join.
    fn join_data(&mut self, side: usize, d: Delta) -> SqlResult<Vec<Delta>> {
        let d = match (&self.window, side) {
            (Some(w), 0) => w.apply(d)?,
            _ => d,
        };
        let Some(JoinOp::Symmetric(j)) = &mut self.join else { return Err(SqlError::internal("not a two-input join")) };
        let mut out = Vec::new();
        for d in j.data(side, d)? {
            out.extend(self.rest(d)?);
        }
        Ok(out)
    }

    /// A watermark on side `side` of a two-input join; the changes and the
    /// output's watermark if it advanced.
    fn join_watermark(&mut self, side: usize, wm: i64) -> SqlResult<(Vec<Delta>, Option<i64>)> {
        let Some(JoinOp::Symmetric(j)) = &mut self.join else { return Err(SqlError::internal("not a two-input join")) };
        let (changes, next) = j.watermark(side, wm)?;
        let mut out = Vec::new();
        for d in changes {
            out.extend(self.rest(d)?);
        }
        if let Some(w) = next {
            out.extend(self.watermark(w)?);
        }
        Ok((out, next))
    }

    /// The stages after the join.
    fn rest(&mut self, d: Delta) -> SqlResult<Vec<Delta>> {
        if d.batch.num_rows() == 0 {
            return Ok(vec![]);
        }
        let Some(d) = run_stages(&mut self.pre, d, &mut self.failed)? else { return Ok(vec![]) };
        match &mut self.aggregate {
            None => Ok(vec![d]),
            Some(a) => match a.apply(&d, &mut self.failed)? {
                Some(out) => Ok(run_stages(&mut self.post, out, &mut self.failed)?.into_iter().collect()),
                None => Ok(vec![]),
            },
        }
    }

    /// Rows the aggregate dropped because their window had already closed.
    fn late_rows(&self) -> u64 {
        self.aggregate.as_ref().map(|a| a.late_rows).unwrap_or(0)
    }

    fn initial(&mut self) -> SqlResult<Vec<Delta>> {
        match &mut self.aggregate {
            Some(a) => match a.initial()? {
                Some(out) => Ok(run_stages(&mut self.post, out, &mut self.failed)?.into_iter().collect()),
                None => Ok(vec![]),
            },
            None => Ok(vec![]),
        }
    }

    fn overs(&mut self) -> impl Iterator<Item = &mut Over> {
        self.pre.iter_mut().chain(self.post.iter_mut()).filter_map(|s| if let StageOp::Over(o) = s { Some(o) } else { None })
    }

    /// The small state that goes with the checkpoint itself: the
    /// aggregate's, then the OVER windows' and a two-input join's, where present.
    fn scalars(&mut self, e: &mut Enc) {
        e.bool(self.aggregate.is_some());
        if let Some(a) = &self.aggregate {
            a.scalars(e);
        }
        for o in self.overs() {
            o.scalars(e);
        }
        if let Some(JoinOp::Symmetric(j)) = &self.join {
            j.scalars(e);
        }
    }

    fn restore_scalars(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        match (d.bool()?, &mut self.aggregate) {
            (true, Some(a)) => a.restore_scalars(d)?,
            (false, None) => {}
            _ => return Err("the checkpoint's aggregate state does not fit this view's plan".into()),
        }
        for o in self.overs() {
            o.restore_scalars(d)?;
        }
        if let Some(JoinOp::Symmetric(j)) = &mut self.join {
            j.restore_scalars(d)?;
        }
        Ok(())
    }

    /// The operators' keyed state that changed since the last barrier (all of it if `all`).
    fn changed(&mut self, all: bool, out: &mut Changed) {
        if let Some(a) = &mut self.aggregate {
            a.changed(all, out);
        }
        for (i, o) in self.overs().enumerate() {
            o.changed(keyed::TAG_FIRST_OVER + i as u8, all, out);
        }
        if let Some(JoinOp::Symmetric(j)) = &mut self.join {
            j.changed(all, out);
        }
    }

    /// Puts back one entry of keyed state, by its tag.
    fn restore_entry(&mut self, id: &[u8], value: &[u8]) -> DecResult<()> {
        let unknown = || format!("the checkpoint's state entry (tag {:?}) does not fit this view's plan", id.first());
        match id.first().copied() {
            Some(keyed::TAG_AGGREGATE) => self.aggregate.as_mut().ok_or_else(unknown)?.restore_entry(id, value),
            Some(keyed::TAG_JOIN) => match &mut self.join {
                Some(JoinOp::Symmetric(j)) => j.restore_entry(id, value),
                _ => Err(unknown()),
            },
            Some(t) if t >= keyed::TAG_FIRST_OVER => self.overs().nth((t - keyed::TAG_FIRST_OVER) as usize).ok_or_else(unknown)?.restore_entry(id, value),
            _ => Err(unknown()),
        }
    }

    /// After the last entry of keyed state.
    fn restored(&mut self) {
        if let Some(a) = &mut self.aggregate {
            a.restored();
        }
        for o in self.overs() {
            o.restored();
        }
    }

    /// Reads the state of checkpoints written before keyed state files: all of it inline.
    fn restore_inline(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        match (d.bool()?, &mut self.aggregate) {
            (true, Some(a)) => a.restore_inline(d)?,
            (false, None) => {}
            _ => return Err("the checkpoint's aggregate state does not fit this view's plan".into()),
        }
        for o in self.overs() {
            o.restore_inline(d)?;
        }
        if let Some(JoinOp::Symmetric(j)) = &mut self.join {
            j.restore_inline(d)?;
        }
        Ok(())
    }

    fn watermark(&mut self, wm: i64) -> SqlResult<Vec<Delta>> {
        for o in self.overs() {
            o.on_watermark(wm);
        }
        match &mut self.aggregate {
            Some(a) => match a.on_watermark(wm)? {
                Some(out) => Ok(run_stages(&mut self.post, out, &mut self.failed)?.into_iter().collect()),
                None => Ok(vec![]),
            },
            None => Ok(vec![]),
        }
    }
}

/// Where a dataflow's rows come from.
pub enum Input {
    Source {
        name: String,
        source: Box<dyn Source>,
        watermark: Option<Watermark>,
    },
    /// Another view's contents and changes, from after checkpoint barrier `after`.
    View {
        initial: segments::Snapshot,
        rx: Receiver<Msg>,
        after: u64,
    },
    /// A table's rows at the time the view started.
    Snapshot(Vec<RecordBatch>),
    /// The two inputs of a join (left, right): each one's contents and
    /// changes, and the barrier its changes start after.
    Join {
        sides: [(segments::Snapshot, Receiver<Msg>, u64); 2],
        after: u64,
    },
}

/// A dataflow's part in checkpoints.
pub struct Checkpointing {
    pub coord: Arc<Coordinator>,
    /// Its name in checkpoints.
    pub member: MemberId,
    /// Its state in the checkpoint the server restarted from, if any.
    pub restored: Option<Vec<u8>>,
    /// Held closed while a restarted server starts every dataflow, so that
    /// none runs ahead before all subscriptions are in place.
    pub gate: Option<Arc<Gate>>,
}

/// A gate threads wait at until it opens.
#[derive(Default)]
pub struct Gate {
    open: parking_lot::Mutex<bool>,
    cv: parking_lot::Condvar,
}

impl Gate {
    pub fn open(&self) {
        *self.open.lock() = true;
        self.cv.notify_all();
    }
    fn wait(&self) {
        let mut open = self.open.lock();
        while !*open {
            self.cv.wait(&mut open);
        }
    }
}

/// How a restored dataflow continues.
enum Resume {
    /// Not restored: start from the beginning of the input.
    Fresh,
    /// Restored mid-stream: skip the input's snapshot, carry on.
    Running,
    /// It had finished (or failed) before; this is its status.
    Done(Status),
}

/// Where the two inputs of a join stand in checkpoint barriers.
struct JoinInputs {
    /// The newest barrier each side passed.
    seen: [u64; 2],
    ended: [bool; 2],
    /// Messages of a side that is ahead, waiting for the other side's barrier.
    waiting: [std::collections::VecDeque<Msg>; 2],
}

struct Runner {
    view: Arc<ViewState>,
    pipeline: Pipeline,
    dead: Arc<DeadLetters>,
    ckpt: Checkpointing,
    last_barrier: u64,
    /// Segment and state files written since the last checkpoint that took this dataflow's part.
    unsynced: Vec<std::path::PathBuf>,
    /// The next barrier writes all keyed state, not only what changed (restored from an older format).
    write_all: bool,
    /// The source the view reads ("" when it reads a view or table).
    source: String,
    /// Dead letters since the last barrier, written with its checkpoint part.
    dead_since_barrier: Vec<DeadLetterRow>,
}

/// The rows of an input's snapshot, read now.
pub(crate) fn read_snapshot(s: segments::Snapshot) -> SqlResult<Vec<RecordBatch>> {
    s.read_all().map_err(|e| SqlError::internal(format!("cannot read the rows of an input view: {e}")))
}

pub(crate) fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The rows at `indexes` as JSON lines, for the dead-letter relation.
fn rows_as_json(batch: &RecordBatch, indexes: &[usize]) -> Vec<String> {
    let take = arrow::array::UInt32Array::from(indexes.iter().map(|&i| i as u32).collect::<Vec<_>>());
    let Ok(rows) = arrow::compute::take_record_batch(batch, &take) else { return vec![String::new(); indexes.len()] };
    let mut w = arrow::json::LineDelimitedWriter::new(Vec::new());
    if w.write(&rows).is_err() || w.finish().is_err() {
        return vec![String::new(); indexes.len()];
    }
    String::from_utf8_lossy(&w.into_inner()).lines().map(str::to_string).collect()
}

impl Runner {
    fn emit(&mut self, out: Vec<Delta>) -> SqlResult<()> {
        self.failed_rows();
        for d in out {
            self.view.apply(d)?;
        }
        Ok(())
    }

    /// Rows an expression failed on become dead letters (reason `error`); the view goes on.
    fn failed_rows(&mut self) {
        let failed = std::mem::take(&mut self.pipeline.failed);
        if failed.is_empty() {
            return;
        }
        let s = &self.view.stats;
        s.rows_failed.fetch_add(failed.len() as u64, Ordering::Relaxed);
        s.dead_letters.fetch_add(failed.len() as u64, Ordering::Relaxed);
        tracing::warn!(
            "view {}: {} row(s) set aside as dead letters: {} (SQLSTATE {})",
            self.view.name,
            failed.len(),
            failed[0].error.message,
            failed[0].error.state.code()
        );
        let source = self.source.clone();
        let records = failed
            .into_iter()
            .map(|f| (-1, None, rows_as_json(&f.row, &[0]).pop().unwrap_or_default(), format!("{} (SQLSTATE {})", f.error.message, f.error.state.code())))
            .collect();
        self.set_aside(&source, "error", records);
    }

    fn data(&mut self, d: Delta) -> SqlResult<()> {
        let late_before = self.pipeline.late_rows();
        let out = self.pipeline.data(d)?;
        // Rows of windows that closed before they arrived (inputs without a source watermark).
        let late = self.pipeline.late_rows() - late_before;
        if late > 0 {
            self.view.stats.rows_late.fetch_add(late, Ordering::Relaxed);
        }
        self.emit(out)
    }

    fn watermark(&mut self, wm: i64) -> SqlResult<()> {
        let out = self.pipeline.watermark(wm)?;
        self.emit(out)?;
        self.view.publish(Msg::Watermark(wm));
        Ok(())
    }

    fn finish(&mut self) -> SqlResult<()> {
        self.watermark(i64::MAX)?;
        self.done(Status::Finished, None)
    }

    /// Ends the dataflow with `status`; its state stands in every later checkpoint.
    fn done(&mut self, status: Status, position: Option<Vec<u8>>) -> SqlResult<()> {
        // Status first: a subscriber that registers in between then sees End from subscribe().
        let part = self.part(&status.to_string(), position, None, true)?;
        self.view.set_status(status);
        self.ckpt.coord.finish(&self.ckpt.member, part);
        self.view.publish(Msg::End);
        Ok(())
    }

    /// This dataflow's state for a checkpoint.
    /// `finished`: the part stands for every epoch after the last barrier.
    fn part(&mut self, status: &str, position: Option<Vec<u8>>, watermark: Option<&Watermark>, finished: bool) -> SqlResult<Part> {
        let mut e = Enc::default();
        let s = &self.view.stats;
        e.bytes(status.as_bytes())
            .u64(s.rows_in.load(Ordering::Relaxed))
            .u64(s.rows_late.load(Ordering::Relaxed))
            .u64(s.dead_letters.load(Ordering::Relaxed))
            .i64(s.watermark_ns.load(Ordering::Relaxed))
            .opt_bytes(position.as_deref());
        let wm = watermark.map(|wm| {
            let mut w = Enc::default();
            wm.snapshot(&mut w);
            w.0
        });
        e.opt_bytes(wm.as_deref());
        e.0.push(KEYED_STATE_IN_FILES);
        self.pipeline.scalars(&mut e);
        e.u64(s.rows_failed.load(Ordering::Relaxed));
        let epoch = self.last_barrier + finished as u64;
        let dir = self.ckpt.coord.segment_dir(&self.ckpt.member);
        // Keyed state that changed since the last barrier goes to a state file of this epoch.
        let mut changed = Changed::default();
        self.pipeline.changed(self.write_all, &mut changed);
        self.view.changed_contents(self.write_all, &mut changed);
        self.write_all = false;
        let name = &self.view.name;
        let written = self.retrying(|| changed.write(&dir, epoch).map_err(|e| SqlError::internal(format!("cannot write the state of view {name}: {e}"))))?;
        // An append-only view's rows since the last barrier go to a segment file of this epoch.
        let sealed = self.retrying(|| self.view.seal(&dir, epoch))?;
        let (dead, durable) = (std::mem::take(&mut self.dead_since_barrier), self.ckpt.coord.durable());
        let dead = self.retrying(|| {
            dead_letters::write(&dir, epoch, &dead, durable).map_err(|e| SqlError::internal(format!("cannot write the dead letters of view {name}: {e}")))
        })?;
        self.unsynced.extend(written.into_iter().chain(sealed).chain(dead));
        Ok(Part { state: e.0, segments: self.unsynced.clone() })
    }

    /// Writes a file of a checkpoint, retrying while the disk refuses (full,
    /// say): the view and checkpoints wait meanwhile, since a checkpoint
    /// without the file would lose what it holds.
    fn retrying<T>(&self, mut write: impl FnMut() -> SqlResult<T>) -> SqlResult<T> {
        let mut wait = Duration::from_millis(100);
        loop {
            match write() {
                Ok(written) => return Ok(written),
                Err(e) if !self.view.stop.load(Ordering::Relaxed) => {
                    tracing::error!("{}; retrying in {wait:?} (the view and checkpoints wait meanwhile)", e.message);
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(RETRY_BACKOFF_MAX);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes the barriers of every epoch requested since the last one
    /// (between two batches of a source, so the state is consistent).
    fn barriers(&mut self, position: impl Fn() -> Option<Vec<u8>>, watermark: Option<&Watermark>) -> SqlResult<()> {
        let requested = self.ckpt.coord.requested();
        while self.last_barrier < requested {
            self.barrier(self.last_barrier + 1, position(), watermark)?;
        }
        Ok(())
    }

    fn barrier(&mut self, epoch: u64, position: Option<Vec<u8>>, watermark: Option<&Watermark>) -> SqlResult<()> {
        self.last_barrier = epoch;
        let part = self.part("", position, watermark, false)?;
        // Taken: the checkpoint syncs the segment files; if not, the next one does.
        if self.ckpt.coord.report(&self.ckpt.member, epoch, part) {
            self.unsynced.clear();
        }
        self.view.publish(Msg::Barrier(epoch));
        Ok(())
    }

    /// Puts the state from a checkpoint back (before the thread starts).
    fn restore(&mut self, source: Option<&mut Box<dyn Source>>, watermark: Option<&mut Watermark>) -> SqlResult<Resume> {
        let c = &mut self.ckpt;
        let Some(state) = c.restored.take() else { return Ok(Resume::Fresh) };
        let bad = |e: String| SqlError::internal(format!("cannot restore view {} from its checkpoint: {e}", self.view.name));
        let mut d = Dec::new(&state, "a view's checkpoint");
        let status = String::from_utf8_lossy(d.bytes().map_err(bad)?).to_string();
        let s = &self.view.stats;
        s.rows_in.store(d.u64().map_err(bad)?, Ordering::Relaxed);
        s.rows_late.store(d.u64().map_err(bad)?, Ordering::Relaxed);
        s.dead_letters.store(d.u64().map_err(bad)?, Ordering::Relaxed);
        s.watermark_ns.store(d.i64().map_err(bad)?, Ordering::Relaxed);
        let position = d.opt_bytes().map_err(bad)?;
        let wm = d.opt_bytes().map_err(bad)?;
        let dir = c.coord.segment_dir(&c.member);
        let full = if d.peek() == Some(KEYED_STATE_IN_FILES) {
            d.skip(1).map_err(bad)?;
            self.pipeline.restore_scalars(&mut d).map_err(bad)?;
            s.rows_failed.store(d.u64().map_err(bad)?, Ordering::Relaxed);
            let (pipeline, view) = (&mut self.pipeline, &self.view);
            keyed::restore(&dir, |id, v| if id.first() == Some(&keyed::TAG_CONTENTS) { view.restore_row(id, v) } else { pipeline.restore_entry(id, v) })
                .map_err(|e| bad(e.to_string()))?;
            self.pipeline.restored();
            vec![]
        } else {
            // Written before keyed state files: all of it inline; the next barrier writes it to a file.
            self.pipeline.restore_inline(&mut d).map_err(bad)?;
            let full = if d.bool().map_err(bad)? { d.batches().map_err(bad)? } else { vec![] };
            // Checkpoints written before weir counted failed rows end here.
            if !d.at_end() {
                s.rows_failed.store(d.u64().map_err(bad)?, Ordering::Relaxed);
            }
            self.write_all = true;
            full
        };
        self.view.restore_contents(full, &dir)?;
        self.dead.push(dead_letters::read(&dir));
        if let (Some(p), Some(src)) = (position, source) {
            src.seek(p).map_err(|e| bad(e.to_string()))?;
        }
        if let (Some(w), Some(wm)) = (wm, watermark) {
            wm.restore(&mut Dec::new(w, "a watermark")).map_err(bad)?;
        }
        self.last_barrier = c.coord.durable();
        self.view.last_barrier.store(self.last_barrier, Ordering::Relaxed);
        Ok(if status.is_empty() { Resume::Running } else { Resume::Done(Status::parse(&status)) })
    }

    /// Runs until the input ends (true: its final state is with the coordinator) or a stop (false).
    fn run(&mut self, input: Input, resume: Resume) -> SqlResult<bool> {
        if let Some(g) = &self.ckpt.gate {
            g.wait();
        }
        if let Resume::Done(status) = resume {
            let position = match &input {
                Input::Source { source, .. } => source.position(),
                _ => None,
            };
            return self.done(status, position).map(|_| true);
        }
        self.view.set_status(Status::Running);
        let restored = matches!(resume, Resume::Running);
        if !restored {
            let initial = self.pipeline.initial()?;
            self.emit(initial)?;
        }
        match input {
            Input::Snapshot(batches) => {
                for b in batches.into_iter().filter(|_| !restored) {
                    self.data(Delta { batch: b, diffs: None })?;
                }
                self.finish().map(|_| true)
            }
            Input::View { initial, rx, .. } => self.run_view(initial, rx, restored),
            Input::Join { sides, .. } => self.run_join(sides, restored),
            Input::Source { name, source, watermark } => self.run_source(&name, source, watermark),
        }
    }

    /// Reads another view's changes (after its contents, unless restored).
    fn run_view(&mut self, initial: segments::Snapshot, rx: Receiver<Msg>, restored: bool) -> SqlResult<bool> {
        // A restored view already holds what the input's contents gave it: they are not read.
        for b in if restored { vec![] } else { read_snapshot(initial)? } {
            self.view.stats.rows_in.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
            self.data(Delta { batch: b, diffs: None })?;
        }
        while !self.view.stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(POLL) {
                Ok(Msg::Data(d)) => {
                    self.view.stats.rows_in.fetch_add(d.batch.num_rows() as u64, Ordering::Relaxed);
                    self.data(d)?
                }
                Ok(Msg::Watermark(w)) => self.watermark(w)?,
                Ok(Msg::Barrier(e)) if e > self.last_barrier => self.barrier(e, None, None)?,
                Ok(Msg::Barrier(_)) => {}
                Ok(Msg::End) => return self.finish().map(|_| true),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.view.set_status(Status::Stopped(Some("its input view was dropped".into())));
                    return Ok(false);
                }
            }
        }
        Ok(false)
    }

    /// Reads a source: batches through the watermark (late rows aside), barriers between batches.
    fn run_source(&mut self, name: &str, mut source: Box<dyn Source>, mut watermark: Option<Watermark>) -> SqlResult<bool> {
        let mut backoff = Duration::from_millis(100);
        while !self.view.stop.load(Ordering::Relaxed) {
            self.barriers(|| source.position(), watermark.as_ref())?;
            let event = match source.next(POLL) {
                Ok(e) => {
                    backoff = Duration::from_millis(100);
                    e
                }
                Err(ConnectorError::External(e)) => {
                    tracing::warn!("view {}: source {name}: {e}; retrying in {backoff:?}", self.view.name);
                    self.view.set_status(Status::Retrying(e.to_string()));
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
                    continue;
                }
                Err(e) => return Err(SqlError::new(weir_planner::SqlState::Internal, format!("source {name}: {e}"))),
            };
            if self.view.status() != Status::Running {
                self.view.set_status(Status::Running);
            }
            // Partitions that have sent nothing yet hold the watermark back too (until idle).
            if let Some(w) = &mut watermark {
                w.know_partitions(&source.partitions());
            }
            match event {
                SourceEvent::Batch { partition, batch, dead_letters } => {
                    self.dead_letters(name, dead_letters);
                    self.view.stats.rows_in.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    match &mut watermark {
                        None => self.data(Delta { batch, diffs: None })?,
                        Some(w) => {
                            let before = w.current();
                            let split = w.split(partition, &batch)?;
                            if !split.late.is_empty() {
                                self.late(name, partition, &batch, &split.late);
                            }
                            if split.on_time.num_rows() > 0 {
                                self.data(Delta { batch: split.on_time, diffs: None })?;
                            }
                            if w.current() > before {
                                self.watermark(w.current())?;
                            }
                        }
                    }
                }
                SourceEvent::DeadLetters(d) => self.dead_letters(name, d),
                SourceEvent::Idle => {
                    if let Some(w) = &mut watermark {
                        let before = w.current();
                        if w.tick() > before {
                            self.watermark(w.current())?;
                        }
                    }
                }
                SourceEvent::End => {
                    self.watermark(i64::MAX)?;
                    return self.done(Status::Finished, source.position()).map(|_| true);
                }
            }
        }
        Ok(false)
    }

    /// Runs a two-input join. Barriers are aligned: once one side has
    /// passed barrier E, its later messages wait until the other side passes
    /// E too, so the join's state at E holds exactly both inputs up to E.
    fn run_join(&mut self, sides: [(segments::Snapshot, Receiver<Msg>, u64); 2], restored: bool) -> SqlResult<bool> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Msg)>(view::SUBSCRIBER_QUEUE_MESSAGES);
        let mut j = JoinInputs { seen: [0; 2], ended: [false; 2], waiting: Default::default() };
        for (s, (initial, input, after)) in sides.into_iter().enumerate() {
            j.seen[s] = after;
            if !restored {
                for b in read_snapshot(initial)? {
                    self.view.stats.rows_in.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
                    let out = self.pipeline.join_data(s, Delta { batch: b, diffs: None })?;
                    self.emit(out)?;
                }
            }
            let tx = tx.clone();
            // Merges both inputs into one channel; ends when either end goes away.
            std::thread::Builder::new()
                .name(format!("weir-join-{}-{s}", self.view.name))
                .spawn(move || {
                    for m in input.iter() {
                        if tx.send((s, m)).is_err() {
                            return;
                        }
                    }
                    let _ = tx.send((s, Msg::End));
                })
                .map_err(|e| SqlError::internal(format!("cannot start a join input thread: {e}")))?;
        }
        drop(tx);
        while !self.view.stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(POLL) {
                Ok((s, m)) => {
                    if self.join_msg(&mut j, s, m)? {
                        return Ok(true);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        Ok(false)
    }

    /// Handles one message of join side `s`; true once both sides ended.
    fn join_msg(&mut self, j: &mut JoinInputs, s: usize, m: Msg) -> SqlResult<bool> {
        if j.seen[s] > self.last_barrier && !j.ended[1 - s] {
            j.waiting[s].push_back(m); // ahead of the other side: wait for its barrier
            return Ok(false);
        }
        match m {
            Msg::Data(d) => {
                self.view.stats.rows_in.fetch_add(d.batch.num_rows() as u64, Ordering::Relaxed);
                let out = self.pipeline.join_data(s, d)?;
                self.emit(out)?;
            }
            Msg::Watermark(w) => self.join_watermark(s, w)?,
            Msg::Barrier(e) => {
                j.seen[s] = j.seen[s].max(e);
                return self.join_align(j);
            }
            Msg::End => {
                if j.ended[s] {
                    return Ok(false);
                }
                j.ended[s] = true;
                self.join_watermark(s, i64::MAX)?;
                if j.ended[1 - s] {
                    self.done(Status::Finished, None)?;
                    return Ok(true);
                }
                return self.join_align(j);
            }
        }
        Ok(false)
    }

    fn join_watermark(&mut self, s: usize, w: i64) -> SqlResult<()> {
        let (out, next) = self.pipeline.join_watermark(s, w)?;
        self.emit(out)?;
        if let Some(w) = next {
            self.view.publish(Msg::Watermark(w));
        }
        Ok(())
    }

    /// Takes the barriers both sides have passed (an ended side passes all),
    /// then lets the messages that waited through.
    fn join_align(&mut self, j: &mut JoinInputs) -> SqlResult<bool> {
        let reached = |s: usize| if j.ended[s] { u64::MAX } else { j.seen[s] };
        let both = reached(0).min(reached(1));
        if both == u64::MAX || both <= self.last_barrier {
            return Ok(false);
        }
        while self.last_barrier < both {
            self.barrier(self.last_barrier + 1, None, None)?;
        }
        for s in 0..2 {
            for m in std::mem::take(&mut j.waiting[s]) {
                if self.join_msg(j, s, m)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    fn dead_letters(&mut self, source: &str, letters: Vec<weir_connectors::DeadLetter>) {
        if letters.is_empty() {
            return;
        }
        self.view.stats.dead_letters.fetch_add(letters.len() as u64, Ordering::Relaxed);
        self.set_aside(source, "malformed", letters.into_iter().map(|d| (d.partition, Some(d.offset), d.raw, d.error)).collect());
    }

    /// Sets records (partition, offset, raw, error) aside as dead letters:
    /// shown in `weir_dead_letters` now, and written with the next barrier's part.
    fn set_aside(&mut self, source: &str, reason: &'static str, records: Vec<(i32, Option<i64>, String, String)>) {
        let at_micros = now_micros();
        let rows: Vec<DeadLetterRow> = records
            .into_iter()
            .map(|(partition, offset, raw, error)| DeadLetterRow {
                source: source.to_string(),
                view: self.view.name.clone(),
                partition,
                offset,
                raw: dead_letters::bounded_raw(raw),
                error,
                reason,
                at_micros,
            })
            .collect();
        self.dead_since_barrier.extend(rows.iter().cloned());
        self.dead.push(rows);
    }

    fn late(&mut self, source: &str, partition: i32, batch: &RecordBatch, late: &[usize]) {
        self.view.stats.rows_late.fetch_add(late.len() as u64, Ordering::Relaxed);
        let error = || "event time is behind the watermark".to_string();
        self.set_aside(source, "late", rows_as_json(batch, late).into_iter().map(|raw| (partition, None, raw, error())).collect());
    }
}

/// Starts a view's dataflow on its own thread. With a checkpoint to resume
/// from, its state is put back first, here, before any subscriber can look.
pub fn spawn(
    view: Arc<ViewState>,
    pipeline: Pipeline,
    mut input: Input,
    dead: Arc<DeadLetters>,
    ckpt: Checkpointing,
) -> SqlResult<std::thread::JoinHandle<()>> {
    // Views over views joined when they subscribed (see Engine::start_view).
    let last_barrier = match &input {
        Input::Source { .. } | Input::Snapshot(_) => ckpt.coord.join_root(&ckpt.member),
        Input::View { after, .. } | Input::Join { after, .. } => *after,
    };
    let source = match &input {
        Input::Source { name, .. } => name.clone(),
        _ => String::new(),
    };
    let mut runner = Runner { view: view.clone(), pipeline, dead, ckpt, last_barrier, unsynced: vec![], write_all: false, source, dead_since_barrier: vec![] };
    let resume = match &mut input {
        Input::Source { source, watermark, .. } => runner.restore(Some(source), watermark.as_mut()),
        _ => runner.restore(None, None),
    };
    let resume = match resume {
        Ok(r) => r,
        Err(e) => {
            runner.ckpt.coord.leave(&runner.ckpt.member); // checkpoints must not wait for a dataflow that never runs
            return Err(e);
        }
    };
    view.state_files_at(runner.ckpt.coord.segment_dir(&runner.ckpt.member));
    std::thread::Builder::new()
        .name(format!("weir-view-{}", view.name))
        .spawn(move || {
            // A panic is a bug in weir: it fails this view, visibly, not the server.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(input, resume)))
                .unwrap_or_else(|_| Err(SqlError::internal("the dataflow panicked (a bug in weir)")));
            let mut ended = matches!(result, Ok(true));
            if let Err(e) = result {
                tracing::error!("view {} failed: {}", view.name, e.message);
                // It stays failed across restarts; views and sinks reading it end.
                let status = Status::Failed(e.message.clone());
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.done(status.clone(), None)));
                ended = matches!(done, Ok(Ok(())));
                if !ended {
                    view.set_status(status);
                }
            } else if view.stop.load(Ordering::Relaxed) {
                view.set_status(Status::Stopped(None));
            }
            // Stopped, or its input went away: checkpoints no longer wait for it.
            if !ended {
                runner.ckpt.coord.leave(&runner.ckpt.member);
            }
        })
        .map_err(|e| SqlError::internal(format!("cannot start a dataflow thread: {e}")))
}
