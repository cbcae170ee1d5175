//! Per-key OVER windows with a RANGE interval: `sum(amount) OVER (PARTITION
//! BY user_id ORDER BY ts RANGE BETWEEN INTERVAL '10 minutes' PRECEDING AND
//! CURRENT ROW)`, and count, count(DISTINCT), avg likewise.
//!
//! Each input row leaves at once with its aggregates over the rows of its
//! key that arrived so far (itself included) whose time lies in
//! [time - range, time]. A row that arrives after a later-stamped row of
//! its key is counted for later rows, not for the ones already sent.
//!
//! Per key the rows are kept in time order with running accumulators over
//! the range ending at the newest time; a row in order updates them, a row
//! out of order corrects them by the few rows between. Rows older than the
//! watermark minus the range can no longer fall in any range and are freed.

use super::Delta;
use super::keyed::{self, Changed};
use crate::storage::codec::{Dec, DecResult, Enc};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, TimestampNanosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use arrow_row::{RowConverter, SortField};
use datafusion::physical_expr::PhysicalExpr;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use weir_planner::stream::AggFunc;
use weir_planner::{SqlError, SqlResult};

/// One aggregate's value of one row.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Null,
    Int(i64),
    Float(f64),
    Bytes(Box<[u8]>),
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    CountRows,
    CountValues,
    Int,
    Float,
    Distinct,
}

pub struct OverAgg {
    func: AggFunc,
    arg: Option<Arc<dyn PhysicalExpr>>,
    kind: Kind,
    conv: Option<RowConverter>,
    out_type: DataType,
}

impl OverAgg {
    pub fn new(func: AggFunc, arg: Option<Arc<dyn PhysicalExpr>>, input: &arrow::datatypes::Schema, out_type: DataType) -> SqlResult<OverAgg> {
        let arg_type = arg.as_ref().map(|a| a.data_type(input)).transpose()?;
        let kind = match (func, &arg_type) {
            (AggFunc::Count, None) => Kind::CountRows,
            (AggFunc::Count, Some(_)) => Kind::CountValues,
            (AggFunc::CountDistinct, Some(_)) => Kind::Distinct,
            (AggFunc::Sum | AggFunc::Avg, Some(t)) if matches!(out_type, DataType::Decimal128(..) | DataType::Decimal256(..)) => {
                return Err(SqlError::unsupported(format!("{func:?} OVER a {t} column is not supported; cast the argument to DOUBLE PRECISION")));
            }
            (AggFunc::Sum, Some(t)) if t.is_integer() => Kind::Int,
            (AggFunc::Sum | AggFunc::Avg, Some(t)) if t.is_numeric() => Kind::Float,
            (f, t) => return Err(SqlError::unsupported(format!("{f:?} OVER {t:?} is not supported"))),
        };
        let conv = match (&kind, arg_type) {
            (Kind::Distinct, Some(t)) => Some(RowConverter::new(vec![SortField::new(t)])?),
            _ => None,
        };
        Ok(OverAgg { func, arg, kind, conv, out_type })
    }

    /// Each row's value of this aggregate's argument.
    fn values(&self, batch: &RecordBatch) -> SqlResult<Vec<Val>> {
        let n = batch.num_rows();
        let Some(arg) = &self.arg else { return Ok(vec![Val::Null; n]) };
        let a = arg.evaluate(batch)?.into_array(n)?;
        Ok(match self.kind {
            Kind::CountRows => vec![Val::Null; n],
            Kind::CountValues => (0..n).map(|i| if a.is_null(i) { Val::Null } else { Val::Int(1) }).collect(),
            Kind::Int => {
                let a = cast(&a, &DataType::Int64)?;
                a.as_primitive::<Int64Type>().iter().map(|v| v.map(Val::Int).unwrap_or(Val::Null)).collect()
            }
            Kind::Float => {
                let a = cast(&a, &DataType::Float64)?;
                a.as_primitive::<Float64Type>().iter().map(|v| v.map(Val::Float).unwrap_or(Val::Null)).collect()
            }
            Kind::Distinct => {
                let rows = self.conv.as_ref().expect("converter").convert_columns(std::slice::from_ref(&a))?;
                (0..n).map(|i| if a.is_null(i) { Val::Null } else { Val::Bytes(rows.row(i).as_ref().into()) }).collect()
            }
        })
    }

    fn new_acc(&self) -> Acc {
        match self.kind {
            Kind::Distinct => Acc::Distinct(HashMap::new()),
            _ => Acc::Sum { int: 0, float: ExactSum::default(), n: 0 },
        }
    }
}

/// An exact sum of floats: non-overlapping partials whose sum is the exact
/// value (Shewchuk), so adding and removing rows in any order gives the
/// same, correctly rounded, result (a restarted view agrees with one that
/// never stopped, to the last bit).
#[derive(Debug, Default, Clone)]
struct ExactSum {
    partials: Vec<f64>,
    /// NaN and infinities, which the partials cannot hold.
    nonfinite: i64,
}

impl ExactSum {
    fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.nonfinite += if x.is_sign_negative() { -1 } else { 1 };
            return;
        }
        let mut x = x;
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    fn remove(&mut self, x: f64) {
        if x.is_finite() {
            self.add(-x);
        } else {
            self.nonfinite -= if x.is_sign_negative() { -1 } else { 1 };
        }
    }

    /// The exact sum, rounded once (half to even), as Python's math.fsum.
    fn value(&self) -> f64 {
        if self.nonfinite != 0 {
            return f64::NAN;
        }
        let p = &self.partials;
        let Some(mut n) = p.len().checked_sub(1) else { return 0.0 };
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            n -= 1;
            let (x, y) = (hi, p[n]);
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

/// A running aggregate over the rows of a range.
#[derive(Debug)]
enum Acc {
    /// Sum (of ints or floats) and how many rows (or non-null values) count.
    Sum {
        int: i64,
        float: ExactSum,
        n: i64,
    },
    Distinct(HashMap<Box<[u8]>, i64>),
}

impl Acc {
    fn add(&mut self, kind: Kind, v: &Val, sign: i64) {
        match (self, v) {
            (Acc::Sum { n, .. }, _) if kind == Kind::CountRows => *n += sign,
            (_, Val::Null) => {}
            (Acc::Sum { n, .. }, _) if kind == Kind::CountValues => *n += sign,
            (Acc::Sum { int, n, .. }, Val::Int(x)) => {
                *int = int.wrapping_add(sign * x);
                *n += sign;
            }
            (Acc::Sum { float, n, .. }, Val::Float(x)) => {
                if sign > 0 {
                    float.add(*x)
                } else {
                    float.remove(*x)
                }
                *n += sign;
            }
            (Acc::Distinct(m), Val::Bytes(b)) => super::add_count(m, b, sign),
            _ => {}
        }
    }
}

struct Row {
    ts: i64,
    /// The row's number in the order rows arrived (its state id, with the key and time).
    seq: u64,
    vals: Box<[Val]>,
}

/// The kept rows of one key, oldest first; `accs` cover `rows[start..]`,
/// the range ending at the newest time `last_ts`.
struct Partition {
    rows: VecDeque<Row>,
    start: usize,
    last_ts: i64,
    accs: Vec<Acc>,
    /// Changed since the last checkpoint barrier (its key is in `Over::dirty`).
    dirty: bool,
}

pub struct OverConfig {
    pub partition: Vec<Arc<dyn PhysicalExpr>>,
    pub time_column: usize,
    pub range_ns: i64,
    pub aggs: Vec<OverAgg>,
    pub output: SchemaRef,
}

pub struct Over {
    c: OverConfig,
    keys: RowConverter,
    parts: HashMap<Box<[u8]>, Partition>,
    /// Watermark at the last pass that freed old rows.
    freed_at: i64,
    next_seq: u64,
    /// `next_seq` at the last checkpoint barrier: rows from it on are new since.
    mark: u64,
    /// Keys whose partition changed since the last barrier.
    dirty: Vec<Box<[u8]>>,
    /// Rows older than the last barrier freed since (key, time, seq).
    freed: Vec<(Box<[u8]>, i64, u64)>,
}

impl Over {
    pub fn new(c: OverConfig, input: &arrow::datatypes::Schema) -> SqlResult<Over> {
        let fields = c.partition.iter().map(|e| Ok(SortField::new(e.data_type(input)?))).collect::<SqlResult<Vec<_>>>()?;
        Ok(Over { keys: RowConverter::new(fields)?, c, parts: HashMap::new(), freed_at: i64::MIN, next_seq: 0, mark: 0, dirty: vec![], freed: vec![] })
    }

    fn new_partition(&self) -> Partition {
        Partition { rows: VecDeque::new(), start: 0, last_ts: i64::MIN, accs: self.c.aggs.iter().map(|a| a.new_acc()).collect(), dirty: false }
    }

    fn result(&self, accs: &[Acc], k: usize) -> Val {
        let a = &self.c.aggs[k];
        match (&accs[k], a.func) {
            (Acc::Distinct(m), _) => Val::Int(m.len() as i64),
            (Acc::Sum { n, .. }, AggFunc::Count) => Val::Int(*n),
            (Acc::Sum { n: 0, .. }, _) => Val::Null,
            (Acc::Sum { int, .. }, AggFunc::Sum) if a.kind == Kind::Int => Val::Int(*int),
            (Acc::Sum { float, .. }, AggFunc::Sum) => Val::Float(float.value()),
            (Acc::Sum { float, n, .. }, _) => Val::Float(float.value() / *n as f64),
        }
    }

    /// Adds the rows of an append-only input; returns them with their aggregates.
    pub fn apply(&mut self, d: Delta) -> SqlResult<Delta> {
        let b = &d.batch;
        let n = b.num_rows();
        if d.diffs.as_ref().is_some_and(|x| x.iter().any(|v| *v != 1)) {
            return Err(SqlError::internal("an OVER window got a retraction; its input must be append-only"));
        }
        let keys = self.c.partition.iter().map(|e| e.evaluate(b).and_then(|v| v.into_array(n))).collect::<Result<Vec<ArrayRef>, _>>()?;
        let keys = self.keys.convert_columns(&keys)?;
        let ts = b
            .column(self.c.time_column)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .ok_or_else(|| SqlError::internal("OVER time column is not a nanosecond timestamp"))?;
        let values = self.c.aggs.iter().map(|a| a.values(b)).collect::<SqlResult<Vec<_>>>()?;
        let mut out: Vec<Vec<Val>> = vec![Vec::with_capacity(n); self.c.aggs.len()];
        let range = self.c.range_ns;
        let kinds: Vec<Kind> = self.c.aggs.iter().map(|a| a.kind).collect();
        for i in 0..n {
            let t = if ts.is_null(i) { i64::MIN } else { ts.value(i) };
            let key = keys.row(i);
            if !self.parts.contains_key(key.as_ref()) {
                let p = self.new_partition();
                self.parts.insert(key.as_ref().into(), p);
            }
            let p = self.parts.get_mut(key.as_ref()).expect("partition");
            if !p.dirty {
                p.dirty = true;
                self.dirty.push(key.as_ref().into());
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            let vals: Box<[Val]> = values.iter().map(|v| v[i].clone()).collect();
            if p.rows.is_empty() || t >= p.last_ts {
                for (k, acc) in p.accs.iter_mut().enumerate() {
                    acc.add(kinds[k], &vals[k], 1);
                }
                p.rows.push_back(Row { ts: t, seq, vals });
                p.last_ts = t;
                while p.rows[p.start].ts < t.saturating_sub(range) {
                    let r = &p.rows[p.start];
                    for (k, acc) in p.accs.iter_mut().enumerate() {
                        acc.add(kinds[k], &r.vals[k], -1);
                    }
                    p.start += 1;
                }
                let accs = std::mem::take(&mut p.accs);
                for (k, o) in out.iter_mut().enumerate() {
                    o.push(self.result(&accs, k));
                }
                self.parts.get_mut(key.as_ref()).expect("partition").accs = accs;
                continue;
            }
            // Out of order: insert after its peers, then correct the running
            // range [last_ts - range, last_ts] to [t - range, t].
            let pos = p.rows.partition_point(|r| r.ts <= t);
            let in_range = t >= p.last_ts.saturating_sub(range);
            if in_range {
                for (k, acc) in p.accs.iter_mut().enumerate() {
                    acc.add(kinds[k], &vals[k], 1);
                }
            } else {
                p.start += 1;
            }
            p.rows.insert(pos, Row { ts: t, seq, vals });
            let lower = p.rows.partition_point(|r| r.ts < t.saturating_sub(range));
            let add = lower..p.start.min(pos + 1);
            let remove = p.start.max(pos + 1)..p.rows.len();
            let adjust = |p: &mut Partition, sign: i64| {
                for j in add.clone() {
                    for (k, acc) in p.accs.iter_mut().enumerate() {
                        acc.add(kinds[k], &p.rows[j].vals[k], sign);
                    }
                }
                for j in remove.clone() {
                    for (k, acc) in p.accs.iter_mut().enumerate() {
                        acc.add(kinds[k], &p.rows[j].vals[k], -sign);
                    }
                }
            };
            adjust(p, 1);
            let mut accs = std::mem::take(&mut p.accs);
            for (k, o) in out.iter_mut().enumerate() {
                o.push(self.result(&accs, k));
            }
            let p = self.parts.get_mut(key.as_ref()).expect("partition");
            std::mem::swap(&mut p.accs, &mut accs);
            adjust(p, -1);
        }
        let mut columns = b.columns().to_vec();
        for (k, vals) in out.into_iter().enumerate() {
            columns.push(self.column(k, vals)?);
        }
        Ok(Delta { batch: RecordBatch::try_new(self.c.output.clone(), columns)?, diffs: None })
    }

    fn column(&self, k: usize, vals: Vec<Val>) -> SqlResult<ArrayRef> {
        let a = &self.c.aggs[k];
        let arr: ArrayRef = match (a.func, a.kind) {
            (AggFunc::Sum, Kind::Float) | (AggFunc::Avg, _) => {
                Arc::new(vals.iter().map(|v| if let Val::Float(f) = v { Some(*f) } else { None }).collect::<Float64Array>())
            }
            _ => Arc::new(vals.iter().map(|v| if let Val::Int(x) = v { Some(*x) } else { None }).collect::<Int64Array>()),
        };
        Ok(if arr.data_type() == &a.out_type { arr } else { cast(&arr, &a.out_type)? })
    }

    /// Frees rows that no later row's range can reach.
    pub fn on_watermark(&mut self, wm: i64) {
        let threshold = wm.saturating_sub(self.c.range_ns);
        // A pass over every key costs; make one per quarter of the range.
        if wm != i64::MAX && threshold < self.freed_at.saturating_add(self.c.range_ns / 4) {
            return;
        }
        self.freed_at = threshold;
        let kinds: Vec<Kind> = self.c.aggs.iter().map(|a| a.kind).collect();
        let mark = self.mark;
        self.parts.retain(|key, p| {
            while p.rows.front().is_some_and(|r| r.ts < threshold) {
                let r = p.rows.pop_front().expect("row");
                if !p.dirty {
                    p.dirty = true;
                    self.dirty.push(key.clone());
                }
                if r.seq < mark {
                    self.freed.push((key.clone(), r.ts, r.seq));
                }
                if p.start > 0 {
                    p.start -= 1;
                } else {
                    for (k, acc) in p.accs.iter_mut().enumerate() {
                        acc.add(kinds[k], &r.vals[k], -1);
                    }
                }
            }
            !p.rows.is_empty()
        });
    }
}

/// Checkpointing: `freed_at` and the row counter with the checkpoint; per
/// key a state entry for the partition (`last_ts`, `start`) and one for each
/// kept row, ids `[tag] key 0` and `[tag] key 1 time seq` (`keyed.rs`), so a
/// checkpoint writes the rows that came and went, not every kept row.
/// Running accumulators are recomputed on restore.
impl Over {
    pub fn scalars(&self, e: &mut Enc) {
        e.i64(self.freed_at).u64(self.next_seq);
    }

    pub fn restore_scalars(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        self.freed_at = d.i64()?;
        self.next_seq = d.u64()?;
        Ok(())
    }

    /// The partitions and rows that changed since the last call, under `tag` (every one if `all`).
    pub fn changed(&mut self, tag: u8, all: bool, out: &mut Changed) {
        let mut keys = std::mem::take(&mut self.dirty);
        if all {
            keys = self.parts.keys().cloned().collect();
        }
        keys.sort_unstable();
        keys.dedup();
        let prefix = |key: &[u8]| {
            let mut id = vec![tag];
            keyed::push_len_prefixed(&mut id, key);
            id
        };
        for key in keys {
            let header = [prefix(&key), vec![0]].concat();
            let Some(p) = self.parts.get_mut(&key) else {
                out.gone(header);
                continue;
            };
            p.dirty = false;
            out.put(header, Enc::default().i64(p.last_ts).u64(p.start as u64).0.clone());
            for r in p.rows.iter().filter(|r| all || r.seq >= self.mark) {
                let mut e = Enc::default();
                encode_vals(&r.vals, &mut e);
                out.put(row_id(prefix(&key), r.ts, r.seq), e.0);
            }
        }
        for (key, ts, seq) in std::mem::take(&mut self.freed) {
            out.gone(row_id(prefix(&key), ts, seq));
        }
        self.mark = self.next_seq;
    }

    /// Puts back a partition's header or one of its rows (they come in id order: header, then rows by time).
    pub fn restore_entry(&mut self, id: &[u8], value: &[u8]) -> DecResult<()> {
        let (key, rest) = keyed::split_len_prefixed(id.get(1..).unwrap_or_default())?;
        if !self.parts.contains_key(key) {
            let p = self.new_partition();
            self.parts.insert(key.into(), p);
        }
        let n = self.c.aggs.len();
        let p = self.parts.get_mut(key).expect("partition");
        let mut d = Dec::new(value, "an OVER window's state");
        match rest.first() {
            Some(0) => {
                p.last_ts = d.i64()?;
                p.start = d.u64()? as usize;
            }
            Some(1) => {
                let ts = keyed::from_ordered_i64(&rest[1..])?;
                let seq = rest.get(9..17).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).ok_or("an OVER row's id is cut short")?;
                p.rows.push_back(Row { ts, seq, vals: decode_vals(&mut d, n)? });
            }
            _ => return Err("an OVER window's state id is not known".into()),
        }
        Ok(())
    }

    /// After the last entry: the running accumulators from the rows in range.
    pub fn restored(&mut self) {
        let kinds: Vec<Kind> = self.c.aggs.iter().map(|a| a.kind).collect();
        for p in self.parts.values_mut() {
            p.dirty = false;
            for r in p.rows.iter().skip(p.start) {
                for (k, acc) in p.accs.iter_mut().enumerate() {
                    acc.add(kinds[k], &r.vals[k], 1);
                }
            }
        }
        self.dirty.clear();
        self.freed.clear();
        self.mark = self.next_seq;
    }

    /// Reads the state of checkpoints written before state entries (every row inline).
    pub fn restore_inline(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        self.freed_at = d.i64()?;
        let n = self.c.aggs.len();
        for _ in 0..d.u64()? {
            let key: Box<[u8]> = d.bytes()?.into();
            let mut p = self.new_partition();
            p.last_ts = d.i64()?;
            p.start = d.u64()? as usize;
            for _ in 0..d.u64()? {
                let ts = d.i64()?;
                p.rows.push_back(Row { ts, seq: self.next_seq, vals: decode_vals(d, n)? });
                self.next_seq += 1;
            }
            self.parts.insert(key, p);
        }
        self.restored();
        Ok(())
    }
}

fn row_id(mut id: Vec<u8>, ts: i64, seq: u64) -> Vec<u8> {
    id.push(1);
    id.extend_from_slice(&keyed::ordered_i64(ts));
    id.extend_from_slice(&seq.to_be_bytes());
    id
}

fn encode_vals(vals: &[Val], e: &mut Enc) {
    for v in vals {
        match v {
            Val::Null => e.u64(0),
            Val::Int(x) => e.u64(1).i64(*x),
            Val::Float(f) => e.u64(2).f64(*f),
            Val::Bytes(b) => e.u64(3).bytes(b),
        };
    }
}

fn decode_vals(d: &mut Dec<'_>, n: usize) -> DecResult<Box<[Val]>> {
    (0..n)
        .map(|_| {
            Ok(match d.u64()? {
                0 => Val::Null,
                1 => Val::Int(d.i64()?),
                2 => Val::Float(d.f64()?),
                3 => Val::Bytes(d.bytes()?.into()),
                t => return Err(format!("unknown OVER value tag {t}")),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, StringArray, TimestampNanosecondArray};
    use arrow::datatypes::{Field, Schema, TimeUnit};
    use datafusion::physical_expr::expressions::Column;

    #[test]
    fn exact_sums_do_not_depend_on_order() {
        let xs = [0.1, 1e16, 0.2, -1e16, 0.3, 1477.25, 2.5e-8];
        let mut a = ExactSum::default();
        for x in xs {
            a.add(x);
        }
        let mut b = ExactSum::default();
        for x in xs.iter().rev() {
            b.add(*x);
        }
        b.add(5.0);
        b.remove(5.0);
        assert_eq!(a.value().to_bits(), b.value().to_bits());
        assert_eq!(a.value(), 1477.85000002500000);
        a.remove(1477.25);
        assert_eq!(a.value(), 0.6000000250000001);
    }

    /// Random arrivals (out of order, repeated times, a late watermark)
    /// against a brute force over the rows that arrived so far.
    #[test]
    fn each_row_gets_the_aggregates_of_its_key_over_the_rows_so_far_in_range() {
        let input = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, None), false),
            Field::new("x", DataType::Float64, true),
        ]));
        let output = Arc::new(Schema::new(
            input
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .chain([Field::new("s", DataType::Float64, true), Field::new("n", DataType::Int64, false), Field::new("d", DataType::Int64, false)])
                .collect::<Vec<_>>(),
        ));
        let col = |name: &str, i: usize| Arc::new(Column::new(name, i)) as Arc<dyn PhysicalExpr>;
        let aggs = vec![
            OverAgg::new(AggFunc::Sum, Some(col("x", 2)), &input, DataType::Float64).unwrap(),
            OverAgg::new(AggFunc::Count, None, &input, DataType::Int64).unwrap(),
            OverAgg::new(AggFunc::CountDistinct, Some(col("x", 2)), &input, DataType::Int64).unwrap(),
        ];
        let range = 50;
        let mut over = Over::new(OverConfig { partition: vec![col("k", 0)], time_column: 1, range_ns: range, aggs, output: output.clone() }, &input).unwrap();
        let mut seen: Vec<(String, i64, Option<f64>)> = Vec::new();
        let mut store = std::collections::BTreeMap::new();
        let mut state = 12345u64;
        let mut rnd = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let mut clock = 0i64;
        let mut wm = i64::MIN;
        for round in 0..300 {
            let n = 1 + rnd(5) as usize;
            let mut rows = Vec::new();
            for _ in 0..n {
                clock += rnd(4) as i64;
                let ts = (clock - rnd(30) as i64).max(wm); // out of order, never behind the watermark
                let x = if rnd(10) == 0 { None } else { Some(rnd(7) as f64) };
                rows.push((format!("k{}", rnd(3)), ts, x));
            }
            let batch = RecordBatch::try_new(
                input.clone(),
                vec![
                    Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0.clone()))),
                    Arc::new(TimestampNanosecondArray::from_iter_values(rows.iter().map(|r| r.1))),
                    Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.2))),
                ],
            )
            .unwrap();
            let out = over.apply(Delta { batch, diffs: None }).unwrap().batch;
            for (i, row) in rows.iter().enumerate() {
                seen.push(row.clone());
                let in_range: Vec<_> = seen.iter().filter(|r| r.0 == row.0 && r.1 <= row.1 && r.1 >= row.1 - range).collect();
                let values: Vec<f64> = in_range.iter().filter_map(|r| r.2).collect();
                let sum = if values.is_empty() { None } else { Some(values.iter().sum::<f64>()) };
                let mut distinct: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
                distinct.sort();
                distinct.dedup();
                let s = out.column(3).as_primitive::<Float64Type>();
                let got_sum = if s.is_null(i) { None } else { Some(s.value(i)) };
                assert_eq!(got_sum, sum, "round {round} row {row:?}");
                assert_eq!(out.column(4).as_primitive::<Int64Type>().value(i), in_range.len() as i64, "round {round} row {row:?}");
                assert_eq!(out.column(5).as_primitive::<Int64Type>().value(i), distinct.len() as i64, "round {round} row {row:?}");
            }
            if round % 7 == 0 {
                wm = clock - 35;
                over.on_watermark(wm);
                // A checkpoint round trip (what changed, added to what earlier checkpoints wrote) keeps the same answers.
                let mut changed = Changed::default();
                over.changed(3, false, &mut changed);
                for (id, value) in changed.into_entries() {
                    match value {
                        Some(v) => store.insert(id, v),
                        None => store.remove(&id),
                    };
                }
                let mut e = Enc::default();
                over.scalars(&mut e);
                let c =
                    OverConfig { partition: vec![col("k", 0)], time_column: 1, range_ns: range, aggs: over.c.aggs.drain(..).collect(), output: output.clone() };
                over = Over::new(c, &input).unwrap();
                over.restore_scalars(&mut Dec::new(&e.0, "test")).unwrap();
                for (id, v) in &store {
                    over.restore_entry(id, v).unwrap();
                }
                over.restored();
            }
        }
        let kept: usize = over.parts.values().map(|p| p.rows.len()).sum();
        assert!(kept < seen.len() / 2, "old rows are freed ({kept} of {} kept)", seen.len());
    }
}
