//! Stateless and nearly stateless operators of a dataflow: the watermark
//! (which also sets late rows aside), window assignment, filters and
//! projections. Each works on whole Arrow batches; expressions are
//! DataFusion physical expressions.

use super::Delta;
use crate::storage::codec::{Dec, DecResult, Enc};
use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, TimestampNanosecondArray, UInt32Array};
use arrow::compute::{filter_record_batch, take};
use arrow::datatypes::SchemaRef;
use datafusion::physical_expr::PhysicalExpr;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_planner::stream::WindowKind;
use weir_planner::{SqlError, SqlResult};

/// A partition that sent nothing for this long stops holding the watermark back.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

fn timestamps(batch: &RecordBatch, column: usize) -> SqlResult<&TimestampNanosecondArray> {
    batch
        .column(column)
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .ok_or_else(|| SqlError::internal("event-time column is not a nanosecond timestamp"))
}

struct PartitionClock {
    max_ts: i64,
    last_seen: Instant,
}

/// Event-time watermark of one source: the largest timestamp seen minus the
/// allowed delay, per partition, combined by minimum over partitions that
/// are not idle. A row behind the watermark when it arrives is late.
pub struct Watermark {
    column: usize,
    delay_ns: i64,
    idle_timeout: Duration,
    partitions: HashMap<i32, PartitionClock>,
    current: i64,
    /// When the source last delivered rows (of any partition).
    last_data: Option<Instant>,
}

pub struct Split {
    pub on_time: RecordBatch,
    /// Indexes (into the input batch) of late rows.
    pub late: Vec<usize>,
}

impl Watermark {
    pub fn new(column: usize, delay_ns: i64) -> Self {
        Watermark { column, delay_ns, idle_timeout: DEFAULT_IDLE_TIMEOUT, partitions: HashMap::new(), current: i64::MIN, last_data: None }
    }

    /// How long a silent partition still holds the watermark back.
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    pub fn current(&self) -> i64 {
        self.current
    }

    fn combined(&self, now: Instant) -> Option<i64> {
        self.partitions.values().filter(|p| now.duration_since(p.last_seen) < self.idle_timeout).map(|p| p.max_ts.saturating_sub(self.delay_ns)).min()
    }

    /// Registers partitions the source reads, so that one that has sent
    /// nothing yet holds the watermark back until it counts as idle.
    pub fn know_partitions(&mut self, partitions: &[i32]) {
        let now = Instant::now();
        for &p in partitions {
            self.partitions.entry(p).or_insert(PartitionClock { max_ts: i64::MIN, last_seen: now });
        }
    }

    /// Splits a batch of `partition` into on-time rows and late ones, row by
    /// row (so the result does not depend on how rows were batched).
    pub fn split(&mut self, partition: i32, batch: &RecordBatch) -> SqlResult<Split> {
        let ts = timestamps(batch, self.column)?;
        let now = Instant::now();
        // Rows after a silence of the whole source (its start, a pause of the producers):
        // every partition gets a fresh grace period, so that the first to deliver does not
        // make the others' older rows late before they had a chance to arrive.
        if self.last_data.is_none_or(|t| now.duration_since(t) >= self.idle_timeout) {
            for c in self.partitions.values_mut() {
                c.last_seen = now;
            }
        }
        self.last_data = Some(now);
        let others = self
            .partitions
            .iter()
            .filter(|(p, c)| **p != partition && now.duration_since(c.last_seen) < self.idle_timeout)
            .map(|(_, c)| c.max_ts.saturating_sub(self.delay_ns))
            .min()
            .unwrap_or(i64::MAX);
        let clock = self.partitions.entry(partition).or_insert(PartitionClock { max_ts: i64::MIN, last_seen: now });
        clock.last_seen = now;
        let mut max_ts = clock.max_ts;
        let mut late = Vec::new();
        let mut wm = self.current;
        for i in 0..ts.len() {
            if ts.is_null(i) {
                late.push(i);
                continue;
            }
            let t = ts.value(i);
            if t < wm {
                late.push(i);
                continue;
            }
            if t > max_ts {
                max_ts = t;
                // The watermark never goes back.
                wm = wm.max(others.min(max_ts.saturating_sub(self.delay_ns)));
            }
        }
        clock.max_ts = max_ts;
        self.current = wm;
        let on_time = if late.is_empty() {
            batch.clone()
        } else {
            let mut keep = vec![true; batch.num_rows()];
            for &i in &late {
                keep[i] = false;
            }
            filter_record_batch(batch, &BooleanArray::from(keep))?
        };
        Ok(Split { on_time, late })
    }

    /// The watermark and each partition's newest event time, for a checkpoint.
    pub fn snapshot(&self, e: &mut Enc) {
        e.i64(self.current).u64(self.partitions.len() as u64);
        for (p, c) in &self.partitions {
            e.i64(*p as i64).i64(c.max_ts);
        }
    }

    /// Takes the state back from a checkpoint; every partition counts as just seen.
    pub fn restore(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        self.current = d.i64()?;
        let now = Instant::now();
        for _ in 0..d.u64()? {
            let (p, max_ts) = (d.i64()? as i32, d.i64()?);
            self.partitions.insert(p, PartitionClock { max_ts, last_seen: now });
        }
        Ok(())
    }

    /// Re-evaluates the watermark when no data came (idle partitions drop out).
    pub fn tick(&mut self) -> i64 {
        if let Some(w) = self.combined(Instant::now()) {
            self.current = self.current.max(w);
        }
        self.current
    }
}

/// Adds window_start and window_end to each row (TUMBLE, HOP; for SESSION
/// the aggregate merges the preliminary [ts, ts + gap) windows).
pub struct WindowAssign {
    pub column: usize,
    pub kind: WindowKind,
    pub schema: SchemaRef,
}

fn floor_to(ts: i64, step: i64, offset: i64) -> i64 {
    ts - (ts - offset).rem_euclid(step)
}

impl WindowAssign {
    pub fn apply(&self, d: Delta) -> SqlResult<Delta> {
        // A row without an event time belongs to no window.
        let d = if d.batch.column(self.column).null_count() > 0 {
            let keep = arrow::compute::is_not_null(d.batch.column(self.column))?;
            Filter::keep(d, &keep)?
        } else {
            d
        };
        let ts = timestamps(&d.batch, self.column)?;
        let tz = match self.schema.field(self.schema.fields().len() - 1).data_type() {
            arrow::datatypes::DataType::Timestamp(_, tz) => tz.clone(),
            _ => None,
        };
        let (indices, starts, ends): (Vec<u32>, Vec<i64>, Vec<i64>) = match &self.kind {
            WindowKind::Tumble { size_ns, offset_ns } => {
                let starts: Vec<i64> = ts.values().iter().map(|t| floor_to(*t, *size_ns, *offset_ns)).collect();
                let ends = starts.iter().map(|s| s + size_ns).collect();
                ((0..ts.len() as u32).collect(), starts, ends)
            }
            WindowKind::Hop { slide_ns, size_ns } => {
                let k = (size_ns / slide_ns) as usize;
                let mut idx = Vec::with_capacity(ts.len() * k);
                let mut starts = Vec::with_capacity(ts.len() * k);
                for (i, t) in ts.values().iter().enumerate() {
                    let last = floor_to(*t, *slide_ns, 0);
                    for j in 0..k as i64 {
                        idx.push(i as u32);
                        starts.push(last - j * slide_ns);
                    }
                }
                let ends = starts.iter().map(|s| s + size_ns).collect();
                (idx, starts, ends)
            }
            WindowKind::Session { gap_ns } => {
                let starts: Vec<i64> = ts.values().to_vec();
                let ends = starts.iter().map(|s| s + gap_ns).collect();
                ((0..ts.len() as u32).collect(), starts, ends)
            }
        };
        let expand = indices.len() != d.batch.num_rows();
        let take_idx = UInt32Array::from(indices.clone());
        let mut cols: Vec<ArrayRef> =
            if expand { d.batch.columns().iter().map(|c| take(c, &take_idx, None)).collect::<Result<_, _>>()? } else { d.batch.columns().to_vec() };
        cols.push(Arc::new(TimestampNanosecondArray::from(starts).with_timezone_opt(tz.clone())));
        cols.push(Arc::new(TimestampNanosecondArray::from(ends).with_timezone_opt(tz)));
        let diffs = match (d.diffs, expand) {
            (Some(diffs), true) => Some(indices.iter().map(|&i| diffs[i as usize]).collect()),
            (diffs, _) => diffs,
        };
        Ok(Delta { batch: RecordBatch::try_new(self.schema.clone(), cols)?, diffs })
    }
}

/// Keeps rows whose predicate is true.
pub struct Filter {
    pub predicate: Arc<dyn PhysicalExpr>,
}

impl Filter {
    /// The rows that pass; a row the predicate fails on alone is set aside in `failed`.
    pub fn apply(&self, d: Delta, failed: &mut Vec<FailedRow>) -> SqlResult<Delta> {
        let (d, mask) = evaluate_isolating(d, failed, |b| self.mask(b))?;
        Self::keep(d, &mask)
    }

    fn mask(&self, batch: &RecordBatch) -> SqlResult<BooleanArray> {
        let mask = self.predicate.evaluate(batch)?.into_array(batch.num_rows())?;
        Ok(mask.as_any().downcast_ref::<BooleanArray>().ok_or_else(|| SqlError::internal("filter is not boolean"))?.clone())
    }

    /// The rows (and their diffs) where `mask` is true.
    pub fn keep(d: Delta, mask: &BooleanArray) -> SqlResult<Delta> {
        let batch = filter_record_batch(&d.batch, mask)?;
        let diffs = d.diffs.map(|diffs| diffs.iter().zip(mask.iter()).filter(|(_, m)| m.unwrap_or(false)).map(|(d, _)| *d).collect());
        Ok(Delta { batch, diffs })
    }
}

/// Computes the output columns.
pub struct Project {
    pub exprs: Vec<Arc<dyn PhysicalExpr>>,
    pub schema: SchemaRef,
}

impl Project {
    /// The output columns; a row an expression fails on alone is set aside in `failed`.
    pub fn apply(&self, d: Delta, failed: &mut Vec<FailedRow>) -> SqlResult<Delta> {
        let (d, cols) = evaluate_isolating(d, failed, |b| self.columns(b))?;
        let n = d.batch.num_rows();
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), cols, &arrow::array::RecordBatchOptions::new().with_row_count(Some(n)))?;
        Ok(Delta { batch, diffs: d.diffs })
    }

    fn columns(&self, batch: &RecordBatch) -> SqlResult<Vec<arrow::array::ArrayRef>> {
        let n = batch.num_rows();
        Ok(self.exprs.iter().map(|e| e.evaluate(batch)?.into_array(n)).collect::<Result<Vec<_>, _>>()?)
    }
}

/// An input row an expression failed on (a data error: division by zero, a
/// bad cast, an overflow). It becomes a dead letter and the view goes on.
pub struct FailedRow {
    /// The row, as the failing operator saw it.
    pub row: RecordBatch,
    pub error: SqlError,
}

/// Errors that belong to one row's values (SQLSTATE class 22, data exception).
fn is_row_error(e: &SqlError) -> bool {
    e.state.code().starts_with("22")
}

/// Evaluates `eval` over `d`'s rows. When that fails with a data error, each
/// row is evaluated alone: those that fail go to `failed`, and `eval` runs
/// again over the others. Other errors (and a failure of the rest) stay errors.
pub fn evaluate_isolating<T>(d: Delta, failed: &mut Vec<FailedRow>, eval: impl Fn(&RecordBatch) -> SqlResult<T>) -> SqlResult<(Delta, T)> {
    match eval(&d.batch) {
        Ok(v) => Ok((d, v)),
        Err(e) => isolate(d, e, failed, eval),
    }
}

/// After `eval` failed over all of `d` with `error`: for a data error, the
/// rows that fail alone go to `failed` and `eval` runs over the others.
pub fn isolate<T>(d: Delta, error: SqlError, failed: &mut Vec<FailedRow>, eval: impl Fn(&RecordBatch) -> SqlResult<T>) -> SqlResult<(Delta, T)> {
    if !is_row_error(&error) {
        return Err(error);
    }
    let mut keep = Vec::with_capacity(d.batch.num_rows());
    for i in 0..d.batch.num_rows() {
        let row = d.batch.slice(i, 1);
        match eval(&row) {
            Ok(_) => keep.push(true),
            Err(error) if is_row_error(&error) => {
                failed.push(FailedRow { row, error });
                keep.push(false);
            }
            Err(other) => return Err(other),
        }
    }
    let rest = Filter::keep(d, &BooleanArray::from(keep))?;
    let v = eval(&rest.batch)?;
    Ok((rest, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    fn batch(ts: std::ops::Range<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, None), false)]));
        RecordBatch::try_new(schema, vec![Arc::new(TimestampNanosecondArray::from_iter_values(ts))]).unwrap()
    }

    /// A partition silent while others deliver stops holding the watermark back
    /// after the idle timeout; but a silence of the whole source (its start)
    /// does not count, so the first partition to deliver does not make the
    /// others' rows late.
    #[test]
    fn idleness_counts_only_while_other_partitions_deliver() {
        let idle = Duration::from_millis(50);
        let mut w = Watermark::new(0, 2).with_idle_timeout(idle);
        w.know_partitions(&[0, 1, 2]);
        std::thread::sleep(idle * 2); // nothing anywhere: not idleness
        assert!(w.split(0, &batch(0..40)).unwrap().late.is_empty());
        assert_eq!(w.current(), i64::MIN, "partitions 1 and 2 hold the watermark back");
        assert!(w.split(1, &batch(0..40)).unwrap().late.is_empty(), "partition 1's rows are on time");
        // Partition 2 stays silent while 0 and 1 deliver: after the timeout it is idle.
        for round in 0..4 {
            std::thread::sleep(idle / 2);
            let from = 40 + round * 10;
            w.split(0, &batch(from..from + 10)).unwrap();
            w.split(1, &batch(from..from + 10)).unwrap();
        }
        assert_eq!(w.tick(), 80 - 1 - 2, "the idle partition no longer holds the watermark back");
        assert_eq!(w.split(2, &batch(10..12)).unwrap().late, vec![0, 1], "its old rows are late now");
    }
}
