//! Joins: a stream with a table (lookup), and two inputs that both change
//! (an interval join of two streams, or a join of two views with updates).
//!
//! Lookup: each arriving row is matched against the table as committed at
//! that moment (a changed table row applies to later rows); stream rows are
//! not kept. Symmetric: each side keeps its rows by key; a change on one side
//! is matched against the other side's rows, then kept. With a time bound
//! (`right.t - left.t` within [lo, hi]) a row is freed once the other side's
//! watermark passes the bound, and an unmatched LEFT JOIN row leaves then,
//! with NULLs; without one (two views with updates) both sides hold what
//! the views hold and a LEFT JOIN's NULL rows are retracted and restored as
//! matches come and go.

use super::Delta;
use super::keyed::{self, Changed};
use crate::storage::codec::{Dec, DecResult, Enc};
use crate::storage::table::{Table, TableData};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array, new_null_array};
use arrow::compute::{interleave, take, take_record_batch};
use arrow::datatypes::{SchemaRef, TimestampNanosecondType};
use arrow_row::{RowConverter, SortField};
use datafusion::physical_expr::PhysicalExpr;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use weir_planner::stream::{JoinKind, TimeBound};
use weir_planner::{SqlError, SqlResult};

type Exprs = Vec<Arc<dyn PhysicalExpr>>;
/// Row or key bytes, shared where one kept row is listed in several places.
type Bytes = Arc<[u8]>;

pub struct JoinConfig {
    pub kind: JoinKind,
    pub left_keys: Exprs,
    pub right_keys: Exprs,
    /// The rest of the ON condition, over the output schema.
    pub filter: Option<Arc<dyn PhysicalExpr>>,
    pub left: SchemaRef,
    pub right: SchemaRef,
    pub output: SchemaRef,
    pub bound: Option<TimeBound>,
}

fn key_converter(keys: &Exprs, schema: &SchemaRef) -> SqlResult<RowConverter> {
    Ok(RowConverter::new(keys.iter().map(|k| Ok(SortField::new(k.data_type(schema)?))).collect::<SqlResult<Vec<_>>>()?)?)
}

/// Key columns of a batch, and which rows have a NULL in one (they never match).
fn eval_keys(keys: &Exprs, batch: &RecordBatch) -> SqlResult<(Vec<ArrayRef>, Vec<bool>)> {
    let n = batch.num_rows();
    let cols = keys.iter().map(|k| k.evaluate(batch).and_then(|v| v.into_array(n))).collect::<Result<Vec<ArrayRef>, _>>()?;
    let null = (0..n).map(|i| cols.iter().any(|c| c.is_null(i))).collect();
    Ok((cols, null))
}

/// Rows of the output from left and right columns, and which pass the filter.
fn joined(c: &JoinConfig, left: Vec<ArrayRef>, right: Vec<ArrayRef>) -> SqlResult<(RecordBatch, Vec<bool>)> {
    let batch = RecordBatch::try_new(c.output.clone(), left.into_iter().chain(right).collect())?;
    let pass = match &c.filter {
        None => vec![true; batch.num_rows()],
        Some(f) => {
            let v = f.evaluate(&batch)?.into_array(batch.num_rows())?;
            let b = v.as_boolean_opt().ok_or_else(|| SqlError::internal("join condition is not boolean"))?;
            (0..b.len()).map(|i| b.is_valid(i) && b.value(i)).collect()
        }
    };
    Ok((batch, pass))
}

/// Output rows gathered with a sign each (+1 added, -1 removed).
#[derive(Default)]
struct Out {
    parts: Vec<(RecordBatch, Vec<u32>, Vec<i64>)>,
}

impl Out {
    fn push(&mut self, batch: RecordBatch, rows: Vec<u32>, signs: Vec<i64>) {
        if !rows.is_empty() {
            self.parts.push((batch, rows, signs));
        }
    }

    fn deltas(self) -> SqlResult<Vec<Delta>> {
        self.parts
            .into_iter()
            .map(|(b, rows, signs)| {
                let batch = take_record_batch(&b, &UInt32Array::from(rows))?;
                let diffs = if signs.iter().all(|s| *s == 1) { None } else { Some(signs) };
                Ok(Delta { batch, diffs })
            })
            .collect()
    }
}

impl Out {
    /// Row j of `batch` |counts[j]| times, with the sign of counts[j].
    fn push_counts(&mut self, batch: RecordBatch, counts: impl IntoIterator<Item = i64>) {
        let (mut rows, mut signs) = (Vec::new(), Vec::new());
        for (j, c) in counts.into_iter().enumerate() {
            repeat(&mut rows, &mut signs, j as u32, c);
        }
        self.push(batch, rows, signs);
    }
}

/// Adds `row` to the output |mult| times with the sign of `mult`.
fn repeat(rows: &mut Vec<u32>, signs: &mut Vec<i64>, row: u32, mult: i64) {
    for _ in 0..mult.unsigned_abs() {
        rows.push(row);
        signs.push(mult.signum());
    }
}

fn null_columns(schema: &SchemaRef, n: usize) -> Vec<ArrayRef> {
    schema.fields().iter().map(|f| new_null_array(f.data_type(), n)).collect()
}

/// A stream joined with a weir table as the table is when each row arrives.
pub struct Lookup {
    c: JoinConfig,
    table: Arc<Table>,
    keys: RowConverter,
    /// The table state the index was built from.
    seen: Option<Arc<TableData>>,
    /// Key to (batch, row) of the table's rows.
    index: HashMap<Box<[u8]>, Vec<(usize, usize)>>,
}

impl Lookup {
    pub fn new(c: JoinConfig, table: Arc<Table>) -> SqlResult<Lookup> {
        let keys = key_converter(&c.right_keys, &c.right)?;
        Ok(Lookup { c, table, keys, seen: None, index: HashMap::new() })
    }

    fn refresh(&mut self) -> SqlResult<Arc<TableData>> {
        let data = self.table.snapshot();
        if self.seen.as_ref().is_some_and(|s| Arc::ptr_eq(s, &data)) {
            return Ok(data);
        }
        self.index.clear();
        for (b, batch) in data.batches.iter().enumerate() {
            let batch = batch.clone().with_schema(self.c.right.clone()).unwrap_or_else(|_| batch.clone());
            let (cols, null) = eval_keys(&self.c.right_keys, &batch)?;
            let rows = self.keys.convert_columns(&cols)?;
            for (r, _) in null.iter().enumerate().filter(|(_, is_null)| !**is_null) {
                self.index.entry(rows.row(r).as_ref().into()).or_default().push((b, r));
            }
        }
        self.seen = Some(data.clone());
        Ok(data)
    }

    pub fn apply(&mut self, d: Delta) -> SqlResult<Vec<Delta>> {
        let data = self.refresh()?;
        let b = &d.batch;
        let n = b.num_rows();
        let (cols, null) = eval_keys(&self.c.left_keys, b)?;
        let rows = self.keys.convert_columns(&cols)?;
        let (mut probe, mut found) = (Vec::new(), Vec::new());
        for (i, _) in null.iter().enumerate().take(n).filter(|(_, is_null)| !**is_null) {
            for &(tb, tr) in self.index.get(rows.row(i).as_ref()).map(|v| v.as_slice()).unwrap_or(&[]) {
                probe.push(i as u32);
                found.push((tb, tr));
            }
        }
        let sign = |i: usize| d.diffs.as_ref().map(|x| x[i]).unwrap_or(1);
        let mut out = Out::default();
        let mut matched = vec![false; n];
        if !probe.is_empty() {
            let idx = UInt32Array::from(probe.clone());
            let left = b.columns().iter().map(|c| take(c, &idx, None)).collect::<Result<Vec<_>, _>>()?;
            let right = (0..self.c.right.fields().len())
                .map(|col| {
                    let arrays: Vec<&dyn Array> = data.batches.iter().map(|t| t.column(col).as_ref()).collect();
                    interleave(&arrays, &found)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (batch, pass) = joined(&self.c, left, right)?;
            let (mut sel, mut signs) = (Vec::new(), Vec::new());
            for (j, p) in pass.iter().enumerate() {
                if *p {
                    let i = probe[j] as usize;
                    matched[i] = true;
                    repeat(&mut sel, &mut signs, j as u32, sign(i));
                }
            }
            out.push(batch, sel, signs);
        }
        if self.c.kind == JoinKind::Left && matched.iter().any(|m| !m) {
            let batch = padded(&self.c, b.columns().to_vec())?;
            out.push_counts(batch, (0..n).map(|i| if matched[i] { 0 } else { sign(i) }));
        }
        out.deltas()
    }
}

/// Left rows with NULLs for the right side (a LEFT JOIN's unmatched rows).
fn padded(c: &JoinConfig, left: Vec<ArrayRef>) -> SqlResult<RecordBatch> {
    let n = left.first().map(|a| a.len()).unwrap_or(0);
    Ok(RecordBatch::try_new(c.output.clone(), left.into_iter().chain(null_columns(&c.right, n)).collect())?)
}

/// A kept row: how many copies, its event time, and how many right rows it
/// matches (for a LEFT JOIN's NULL row); whether a state file holds it
/// (`saved`) and whether it changed since the last barrier (`dirty`).
#[derive(Clone, Copy, Debug)]
struct Entry {
    count: i64,
    time: i64,
    matches: i64,
    saved: bool,
    dirty: bool,
}

struct Side {
    schema: SchemaRef,
    keys: Exprs,
    key_conv: RowConverter,
    rows: RowConverter,
    map: HashMap<Bytes, HashMap<Bytes, Entry>>,
    /// Kept rows by event time, for freeing them (time-bounded joins).
    by_time: BTreeMap<i64, Vec<(Bytes, Bytes)>>,
    time_column: Option<usize>,
    watermark: i64,
    /// Kept rows that came or changed since the last checkpoint barrier
    /// (key, row), each listed when it first became dirty.
    dirty: Vec<(Bytes, Bytes)>,
    /// Rows a state file holds that went away since the last barrier (rows
    /// that came and went between two barriers are never written).
    gone: Vec<(Bytes, Bytes)>,
}

impl Side {
    fn new(schema: SchemaRef, keys: Exprs, time_column: Option<usize>) -> SqlResult<Side> {
        let key_conv = key_converter(&keys, &schema)?;
        let rows = RowConverter::new(schema.fields().iter().map(|f| SortField::new(f.data_type().clone())).collect())?;
        Ok(Side { schema, keys, key_conv, rows, map: HashMap::new(), by_time: BTreeMap::new(), time_column, watermark: i64::MIN, dirty: vec![], gone: vec![] })
    }

    fn columns(&self, rows: &[&[u8]]) -> SqlResult<Vec<ArrayRef>> {
        let parser = self.rows.parser();
        Ok(self.rows.convert_rows(rows.iter().map(|r| parser.parse(r)))?)
    }

    /// Adds `diff` copies of a row (taking them away when negative).
    fn insert(&mut self, key: &[u8], row: &[u8], diff: i64, time: i64, matches: i64) {
        let Some(by_key) = self.map.get_mut(key) else {
            self.add(key, row, Entry { count: diff, time, matches, saved: false, dirty: true });
            return;
        };
        let Some(e) = by_key.get_mut(row) else {
            self.add(key, row, Entry { count: diff, time, matches, saved: false, dirty: true });
            return;
        };
        e.count += diff;
        if e.count != 0 {
            if !std::mem::replace(&mut e.dirty, true) {
                self.dirty.push((key.into(), row.into()));
            }
            return;
        }
        let saved = e.saved;
        by_key.remove(row);
        if by_key.is_empty() {
            self.map.remove(key);
        }
        if saved {
            self.gone.push((key.into(), row.into()));
        }
    }

    /// Keeps a row not kept yet (its key and row bytes are shared by the
    /// map, the time index and the dirty list).
    fn add(&mut self, key: &[u8], row: &[u8], e: Entry) {
        let key: Bytes = self.map.get_key_value(key).map_or_else(|| key.into(), |(k, _)| k.clone());
        let row: Bytes = row.into();
        if e.dirty {
            self.dirty.push((key.clone(), row.clone()));
        }
        if self.time_column.is_some() {
            self.by_time.entry(e.time).or_default().push((key.clone(), row.clone()));
        }
        self.map.entry(key).or_default().insert(row, e);
    }

    /// Marks a kept row changed (its match count).
    fn touch(&mut self, key: &[u8], row: &[u8]) -> Option<&mut Entry> {
        let e = self.map.get_mut(key)?.get_mut(row)?;
        if !std::mem::replace(&mut e.dirty, true) {
            self.dirty.push((key.into(), row.into()));
        }
        Some(e)
    }
}

/// A join of two changing inputs (side 0 left, side 1 right).
pub struct SymmetricJoin {
    c: JoinConfig,
    sides: [Side; 2],
    out_watermark: i64,
}

impl SymmetricJoin {
    pub fn new(c: JoinConfig) -> SqlResult<SymmetricJoin> {
        let (lt, rt) = match c.bound {
            Some(b) => (Some(b.left_time), Some(b.right_time)),
            None => (None, None),
        };
        let sides = [Side::new(c.left.clone(), c.left_keys.clone(), lt)?, Side::new(c.right.clone(), c.right_keys.clone(), rt)?];
        Ok(SymmetricJoin { c, sides, out_watermark: i64::MIN })
    }

    /// Whether NULL rows wait for the time bound (append-only output) or
    /// follow matches as they come and go.
    fn deferred_nulls(&self) -> bool {
        self.c.bound.is_some()
    }

    fn pad_rows(&self, rows: &[&[u8]]) -> SqlResult<RecordBatch> {
        padded(&self.c, self.sides[0].columns(rows)?)
    }

    /// A change on side `s`: its matches with the other side, then kept.
    pub fn data(&mut self, s: usize, d: Delta) -> SqlResult<Vec<Delta>> {
        let b = d.batch.clone().with_schema(self.sides[s].schema.clone()).unwrap_or(d.batch);
        let n = b.num_rows();
        let diff = |i: usize| d.diffs.as_ref().map(|x| x[i]).unwrap_or(1);
        let (key_cols, null) = eval_keys(&self.sides[s].keys, &b)?;
        let keys = self.sides[s].key_conv.convert_columns(&key_cols)?;
        let rows = self.sides[s].rows.convert_columns(b.columns())?;
        let times: Option<Vec<i64>> = match self.sides[s].time_column {
            Some(t) => {
                let a = b.column(t).as_primitive_opt::<TimestampNanosecondType>().ok_or_else(|| SqlError::internal("join time column is not a timestamp"))?;
                Some((0..n).map(|i| if a.is_null(i) { i64::MIN } else { a.value(i) }).collect())
            }
            None => None,
        };
        let other = &self.sides[1 - s];
        // Candidate pairs: (row here, row there, its count, its key).
        let mut probe = Vec::new();
        let mut there: Vec<(&[u8], i64)> = Vec::new();
        for (i, _) in null.iter().enumerate().take(n).filter(|(_, is_null)| !**is_null) {
            if let Some(m) = other.map.get(keys.row(i).as_ref()) {
                for (r, e) in m {
                    probe.push(i as u32);
                    there.push((r.as_ref(), e.count));
                }
            }
        }
        let mut out = Out::default();
        let mut matches = vec![0i64; n];
        // Left rows whose match count changes: (key, row, change).
        let mut left_changes: Vec<(Box<[u8]>, Box<[u8]>, i64)> = Vec::new();
        if !probe.is_empty() {
            let idx = UInt32Array::from(probe.clone());
            let here_cols = b.columns().iter().map(|c| take(c, &idx, None)).collect::<Result<Vec<_>, _>>()?;
            let there_cols = other.columns(&there.iter().map(|t| t.0).collect::<Vec<_>>())?;
            let (l, r) = if s == 0 { (here_cols, there_cols) } else { (there_cols, here_cols) };
            let (batch, pass) = joined(&self.c, l, r)?;
            let (mut sel, mut signs) = (Vec::new(), Vec::new());
            for (j, p) in pass.iter().enumerate() {
                if !*p {
                    continue;
                }
                let i = probe[j] as usize;
                let (row, count) = there[j];
                repeat(&mut sel, &mut signs, j as u32, diff(i) * count);
                if s == 0 {
                    matches[i] += count;
                } else if self.c.kind == JoinKind::Left {
                    left_changes.push((keys.row(i).as_ref().into(), row.into(), diff(i)));
                }
            }
            out.push(batch, sel, signs);
        }
        // A LEFT JOIN's NULL rows follow the match counts of left rows.
        let left_outer = self.c.kind == JoinKind::Left;
        let deferred = self.deferred_nulls();
        let mut pads: Vec<(Box<[u8]>, i64)> = Vec::new();
        for (key, row, change) in left_changes {
            let Some(e) = self.sides[0].touch(&key, &row) else { continue };
            let before = e.matches;
            e.matches += change;
            if !deferred {
                if before == 0 && e.matches > 0 {
                    pads.push((row, -e.count));
                } else if before > 0 && e.matches == 0 {
                    pads.push((row, e.count));
                }
            }
        }
        // Keep this side's rows (a left row without a match gets its NULL row now, unless deferred).
        for i in 0..n {
            let row = rows.row(i);
            if s == 0 && left_outer && (null[i] || (matches[i] == 0 && !deferred)) {
                pads.push((row.as_ref().into(), diff(i)));
            }
            if null[i] {
                continue;
            }
            let time = times.as_ref().map(|t| t[i]).unwrap_or(0);
            self.sides[s].insert(keys.row(i).as_ref(), row.as_ref(), diff(i), time, matches[i]);
        }
        if !pads.is_empty() {
            let rows: Vec<&[u8]> = pads.iter().map(|p| p.0.as_ref()).collect();
            out.push_counts(self.pad_rows(&rows)?, pads.iter().map(|p| p.1));
        }
        out.deltas()
    }

    /// Side `s`'s watermark advanced (i64::MAX: it ended). Frees rows the
    /// bound puts out of reach; returns the changes and the output's new
    /// watermark (on the left side's time), if it advanced.
    pub fn watermark(&mut self, s: usize, wm: i64) -> SqlResult<(Vec<Delta>, Option<i64>)> {
        let side = &mut self.sides[s];
        if wm <= side.watermark {
            return Ok((vec![], None));
        }
        side.watermark = wm;
        let (wl, wr) = (self.sides[0].watermark, self.sides[1].watermark);
        let mut out = Vec::new();
        let next = match self.c.bound {
            Some(b) => {
                // A left row at t matches right rows up to t + hi, so it is done once the right
                // watermark passes t + hi; a right row at t matches left rows down to t - hi and up
                // to t - lo, so it is done once the left watermark passes t - lo.
                let pads = Self::free(&mut self.sides[0], wr.saturating_sub(b.hi_ns));
                Self::free(&mut self.sides[1], wl.saturating_add(b.lo_ns));
                if self.c.kind == JoinKind::Left {
                    let unmatched: Vec<(&[u8], i64)> = pads.iter().filter(|(_, e)| e.matches == 0).map(|(r, e)| (r.as_ref(), e.count)).collect();
                    if !unmatched.is_empty() {
                        let rows: Vec<&[u8]> = unmatched.iter().map(|u| u.0).collect();
                        let mut o = Out::default();
                        o.push_counts(self.pad_rows(&rows)?, unmatched.iter().map(|u| u.1));
                        out = o.deltas()?;
                    }
                }
                wl.min(wr.saturating_sub(b.hi_ns))
            }
            None => wl.min(wr),
        };
        if next > self.out_watermark {
            self.out_watermark = next;
            return Ok((out, Some(next)));
        }
        Ok((out, None))
    }

    /// Removes kept rows with a time below `threshold`; returns them.
    fn free(side: &mut Side, threshold: i64) -> Vec<(Bytes, Entry)> {
        let mut freed = Vec::new();
        while let Some(first) = side.by_time.first_entry() {
            if *first.key() >= threshold {
                break;
            }
            for (key, row) in first.remove() {
                let Some(m) = side.map.get_mut(&key) else { continue };
                let e = m.remove(&row);
                if m.is_empty() {
                    side.map.remove(&key);
                }
                if let Some(e) = e {
                    if e.saved {
                        side.gone.push((key, row.clone()));
                    }
                    freed.push((row, e));
                }
            }
        }
        freed
    }
}

/// Checkpointing: the watermarks with the checkpoint, each kept row as a
/// state entry `[TAG_JOIN side] key row` (`keyed.rs`) with its count, time
/// and match count.
impl SymmetricJoin {
    pub fn scalars(&self, e: &mut Enc) {
        e.i64(self.out_watermark).i64(self.sides[0].watermark).i64(self.sides[1].watermark);
    }

    pub fn restore_scalars(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        self.out_watermark = d.i64()?;
        for side in self.sides.iter_mut() {
            side.watermark = d.i64()?;
        }
        Ok(())
    }

    /// The kept rows that changed since the last call (every one if `all`).
    pub fn changed(&mut self, all: bool, out: &mut Changed) {
        for (s, side) in self.sides.iter_mut().enumerate() {
            let id = |key: &[u8], row: &[u8]| {
                let mut id = Vec::with_capacity(6 + key.len() + row.len());
                id.extend_from_slice(&[keyed::TAG_JOIN, s as u8]);
                keyed::push_len_prefixed(&mut id, key);
                id.extend_from_slice(row);
                id
            };
            // A row that went away and came back is written by the pass below.
            for (key, row) in std::mem::take(&mut side.gone) {
                if side.map.get(&key).is_none_or(|m| !m.contains_key(&row)) {
                    out.gone(id(&key, &row));
                }
            }
            let dirty = std::mem::take(&mut side.dirty);
            let mut put = |key: &[u8], row: &[u8], e: &mut Entry| {
                if e.dirty || all {
                    (e.dirty, e.saved) = (false, true);
                    out.put(id(key, row), Enc::default().i64(e.count).i64(e.time).i64(e.matches).0.clone());
                }
            };
            if all {
                side.map.iter_mut().for_each(|(k, m)| m.iter_mut().for_each(|(r, e)| put(k, r, e)));
                continue;
            }
            for (key, row) in dirty {
                if let Some(e) = side.map.get_mut(&key).and_then(|m| m.get_mut(&row)) {
                    put(&key, &row, e);
                }
            }
        }
    }

    pub fn restore_entry(&mut self, id: &[u8], value: &[u8]) -> DecResult<()> {
        let side = match id.get(1) {
            Some(s @ (0 | 1)) => &mut self.sides[*s as usize],
            _ => return Err("a join's state id names no side".into()),
        };
        let (key, row) = keyed::split_len_prefixed(&id[2..])?;
        let mut d = Dec::new(value, "a join's kept row");
        side.add(key, row, Entry { count: d.i64()?, time: d.i64()?, matches: d.i64()?, saved: true, dirty: false });
        Ok(())
    }

    /// Reads the state of checkpoints written before state entries (every kept row inline).
    pub fn restore_inline(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        self.out_watermark = d.i64()?;
        for side in self.sides.iter_mut() {
            side.watermark = d.i64()?;
            for _ in 0..d.u64()? {
                let (key, row) = (d.bytes()?, d.bytes()?);
                let (count, time, matches) = (d.i64()?, d.i64()?, d.i64()?);
                // Not listed as dirty: the next barrier writes every row (`all`).
                side.add(key, row, Entry { count, time, matches, saved: false, dirty: false });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, TimestampNanosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use datafusion::physical_expr::expressions::Column;

    fn batch(schema: &SchemaRef, rows: &[(i64, i64)]) -> Delta {
        let keys = Int64Array::from_iter_values(rows.iter().map(|r| r.0));
        let ts = TimestampNanosecondArray::from_iter_values(rows.iter().map(|r| r.1));
        Delta { batch: RecordBatch::try_new(schema.clone(), vec![Arc::new(keys), Arc::new(ts)]).unwrap(), diffs: None }
    }

    /// The schema of each side, (k, t).
    fn side_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false), Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, None), false)]))
    }

    /// `a LEFT JOIN b ON a.k = b.k AND b.t BETWEEN a.t AND a.t + hi_ns`.
    fn left_interval_join(hi_ns: i64) -> SymmetricJoin {
        let side = side_schema();
        let output = Arc::new(Schema::new(
            side.fields().iter().map(|f| f.as_ref().clone()).chain(side.fields().iter().map(|f| f.as_ref().clone().with_nullable(true))).collect::<Vec<_>>(),
        ));
        let key = || vec![Arc::new(Column::new("k", 0)) as Arc<dyn PhysicalExpr>];
        SymmetricJoin::new(JoinConfig {
            kind: JoinKind::Left,
            left_keys: key(),
            right_keys: key(),
            filter: None,
            left: side.clone(),
            right: side,
            output,
            bound: Some(TimeBound { left_time: 1, right_time: 1, lo_ns: 0, hi_ns }),
        })
        .unwrap()
    }

    fn kept(j: &SymmetricJoin) -> Vec<Vec<(Vec<u8>, Vec<u8>, i64, i64, i64)>> {
        j.sides
            .iter()
            .map(|s| {
                let mut rows: Vec<_> = s.map.iter().flat_map(|(k, m)| m.iter().map(|(r, e)| (k.to_vec(), r.to_vec(), e.count, e.time, e.matches))).collect();
                rows.sort();
                rows
            })
            .collect()
    }

    /// The entries written at barriers, taken newest first as a restart
    /// does, give back exactly the rows kept (rows that came and went
    /// between two barriers are never written at all).
    #[test]
    fn changed_entries_restore_the_kept_rows() {
        let side = side_schema();
        let mut j = left_interval_join(30);
        let mut saved: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut written = 0;
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for round in 0..400i64 {
            let t = round * 10;
            let rows: Vec<(i64, i64)> = (0..next(4)).map(|_| (next(5) as i64, t + next(10) as i64)).collect();
            j.data(next(2) as usize, batch(&side, &rows)).unwrap();
            j.watermark(0, t - 20).unwrap();
            j.watermark(1, t - 20).unwrap();
            if next(3) == 0 {
                let mut changed = Changed::default();
                j.changed(false, &mut changed);
                let entries = changed.into_entries();
                let ids: std::collections::BTreeSet<&Vec<u8>> = entries.iter().map(|e| &e.0).collect();
                assert_eq!(ids.len(), entries.len(), "each id once per barrier");
                written += entries.len();
                for (id, value) in entries {
                    match value {
                        Some(v) => saved.insert(id, v),
                        None => saved.remove(&id),
                    };
                }
                let mut restored = left_interval_join(30);
                for (id, v) in &saved {
                    restored.restore_entry(id, v).unwrap();
                }
                assert_eq!(kept(&restored), kept(&j), "round {round}");
            }
        }
        let total: usize = kept(&j).iter().map(|s| s.len()).sum();
        assert!(written > total, "rows were written and freed along the way: {written} entries, {total} kept at the end");
    }

    /// An interval join keeps only the rows the bound can still match, and a
    /// LEFT JOIN's unmatched row leaves (with NULLs) once it cannot match.
    #[test]
    fn interval_join_frees_rows_behind_the_bound() {
        let side = side_schema();
        let mut j = left_interval_join(10);
        let mut matched = 0;
        let mut nulls = 0;
        for round in 0..100i64 {
            let t = round * 100;
            let count = |out: Vec<Delta>, nulls: &mut usize, matched: &mut usize| {
                for d in out {
                    let right_key = d.batch.column(2);
                    *nulls += right_key.null_count();
                    *matched += d.batch.num_rows() - right_key.null_count();
                }
            };
            count(j.data(0, batch(&side, &[(round % 3, t), (7, t)])).unwrap(), &mut nulls, &mut matched);
            count(j.data(1, batch(&side, &[(round % 3, t + 5)])).unwrap(), &mut nulls, &mut matched);
            count(j.watermark(0, t).unwrap().0, &mut nulls, &mut matched);
            count(j.watermark(1, t + 5).unwrap().0, &mut nulls, &mut matched);
            let kept: usize = j.sides.iter().map(|s| s.map.values().map(|m| m.len()).sum::<usize>()).sum();
            assert!(kept <= 4, "round {round}: {kept} rows kept");
        }
        assert_eq!(matched, 100, "each left row of key round % 3 meets the right row 5 ns later");
        assert_eq!(nulls, 99, "key 7 never matches: its rows leave with NULLs once the bound has passed (the last one still waits)");
    }
}
