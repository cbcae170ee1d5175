//! Incremental GROUP BY: count, count(DISTINCT), sum, avg, min and max,
//! kept per group as rows arrive (and leave, for inputs with retractions).
//!
//! Grouped by a TUMBLE or HOP window, a group's state lives until the
//! watermark passes the window's end; grouped by a SESSION window, sessions
//! of each key grow and merge as events arrive and close the same way.
//! Emit on update sends, after each input batch, a retraction of each
//! changed group's previous row and its new row; emit on window close sends
//! one final row per group when its window closes. Other aggregates keep
//! their groups' rows (`kept.rs`); `FILTER (WHERE ...)` works for all.

use super::kept::{Kept, KeptBatch, KeptRows};
use super::keyed::{self, Changed};
use super::ops::{FailedRow, isolate};
use super::{Delta, add_count};
use crate::storage::codec::{Dec, DecResult, Enc};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int64Array, RecordBatch, TimestampNanosecondArray};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use arrow_row::{RowConverter, Rows, SortField};
use datafusion::physical_expr::PhysicalExpr;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use weir_planner::stream::AggFunc;
use weir_planner::{SqlError, SqlResult};

/// How an aggregate's argument values are held.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Repr {
    Int,
    Float,
    /// Decimal128 with this scale.
    Dec(i8),
    /// Order-preserving row bytes (any type).
    Bytes,
    /// A group's rows, kept (`kept.rs`).
    Kept,
}

pub struct AggSpec {
    pub func: AggFunc,
    pub arg: Option<Arc<dyn PhysicalExpr>>,
    arg_type: DataType,
    repr: Repr,
    /// Row converter for the argument (Bytes representation).
    conv: Option<RowConverter>,
    out_type: DataType,
    /// `FILTER (WHERE ...)`.
    filter: Option<Arc<dyn PhysicalExpr>>,
    /// For `AggFunc::Kept`.
    kept: Option<Kept>,
}

fn repr_of(func: AggFunc, t: &DataType) -> Repr {
    let int = t.is_integer() || matches!(t, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_));
    match (func, t) {
        (AggFunc::Sum | AggFunc::Avg, DataType::Decimal128(_, s)) => Repr::Dec(*s),
        (AggFunc::Sum | AggFunc::Avg, t) if t.is_integer() => Repr::Int,
        (AggFunc::Sum | AggFunc::Avg, _) => Repr::Float,
        (AggFunc::CountDistinct, _) if int => Repr::Int,
        (AggFunc::Kept, _) => Repr::Kept,
        _ => Repr::Bytes,
    }
}

/// What an aggregate reads: its argument (count(*) has none), its FILTER,
/// and for a kept aggregate everything else it needs.
pub struct AggInput {
    pub arg: Option<Arc<dyn PhysicalExpr>>,
    pub filter: Option<Arc<dyn PhysicalExpr>>,
    pub kept: Option<Kept>,
}

impl AggSpec {
    pub fn new(func: AggFunc, input: AggInput, schema: &arrow::datatypes::Schema, out_type: DataType) -> SqlResult<AggSpec> {
        let AggInput { arg, filter, kept } = input;
        let arg_type = match &arg {
            Some(a) => a.data_type(schema)?,
            None => DataType::Null,
        };
        let repr = repr_of(func, &arg_type);
        if (repr == Repr::Kept) != kept.is_some() {
            return Err(SqlError::internal("a kept aggregate without its rows' form"));
        }
        let conv = if repr == Repr::Bytes && arg.is_some() { Some(RowConverter::new(vec![SortField::new(arg_type.clone())])?) } else { None };
        Ok(AggSpec { func, arg, arg_type, repr, conv, out_type, filter, kept })
    }

    fn new_acc(&self, retractable: bool) -> Acc {
        match (self.func, self.repr) {
            (AggFunc::Count, _) => Acc::Count(0),
            (AggFunc::CountDistinct, Repr::Int) => Acc::DistinctInt(HashMap::new()),
            (AggFunc::CountDistinct, _) => Acc::DistinctBytes(HashMap::new()),
            (AggFunc::Sum | AggFunc::Avg, Repr::Float) => Acc::SumFloat { sum: 0.0, n: 0 },
            (AggFunc::Sum | AggFunc::Avg, _) => Acc::SumInt { sum: 0, n: 0 },
            (AggFunc::Min | AggFunc::Max, _) if retractable => Acc::Values(BTreeMap::new()),
            (AggFunc::Min | AggFunc::Max, _) => Acc::Best(None),
            (AggFunc::Kept, _) => Acc::Kept(KeptRows::default()),
        }
    }
}

/// An aggregate's argument for one batch, in its representation.
enum Prepared {
    Rows,
    Valid(ArrayRef),
    Int(Int64Array),
    Float(Float64Array),
    Dec(Decimal128Array),
    Bytes(Rows, ArrayRef),
    Kept(KeptBatch),
}

enum Acc {
    Count(i64),
    DistinctInt(HashMap<i64, i64>),
    DistinctBytes(HashMap<Box<[u8]>, i64>),
    /// Integers and decimals (unscaled), with the count of non-null values.
    SumInt {
        sum: i128,
        n: i64,
    },
    SumFloat {
        sum: f64,
        n: i64,
    },
    /// Min/max of an append-only input: the best row bytes so far.
    Best(Option<Box<[u8]>>),
    /// Min/max with retractions: every value and its multiplicity.
    Values(BTreeMap<Box<[u8]>, i64>),
    Kept(KeptRows),
}

/// Adds `d` to the multiplicity of `k`, forgetting values that reach zero.
fn bump<K: std::hash::Hash + Eq + Clone>(m: &mut HashMap<K, i64>, k: K, d: i64) {
    let e = m.entry(k.clone()).or_insert(0);
    *e += d;
    if *e == 0 {
        m.remove(&k);
    }
}

impl Acc {
    fn update(&mut self, spec: &AggSpec, p: &Prepared, i: usize, d: i64) {
        match (self, p) {
            (Acc::Count(c), Prepared::Rows) => *c += d,
            (Acc::Count(c), Prepared::Valid(a)) => {
                if a.is_valid(i) {
                    *c += d
                }
            }
            (Acc::DistinctInt(m), Prepared::Int(a)) => {
                if a.is_valid(i) {
                    bump(m, a.value(i), d);
                }
            }
            (Acc::DistinctBytes(m), Prepared::Bytes(rows, a)) => {
                if a.is_valid(i) {
                    add_count(m, rows.row(i).as_ref(), d);
                }
            }
            (Acc::SumInt { sum, n }, Prepared::Int(a)) => {
                if a.is_valid(i) {
                    *sum += a.value(i) as i128 * d as i128;
                    *n += d;
                }
            }
            (Acc::SumInt { sum, n }, Prepared::Dec(a)) => {
                if a.is_valid(i) {
                    *sum += a.value(i) * d as i128;
                    *n += d;
                }
            }
            (Acc::SumFloat { sum, n }, Prepared::Float(a)) => {
                if a.is_valid(i) {
                    *sum += a.value(i) * d as f64;
                    *n += d;
                }
            }
            (Acc::Best(best), Prepared::Bytes(rows, a)) => {
                if a.is_valid(i) {
                    let v = rows.row(i);
                    let better = match best {
                        None => true,
                        Some(b) => {
                            let b: &[u8] = b;
                            if spec.func == AggFunc::Min { v.as_ref() < b } else { v.as_ref() > b }
                        }
                    };
                    if better {
                        *best = Some(v.as_ref().into());
                    }
                }
            }
            (Acc::Values(m), Prepared::Bytes(rows, a)) => {
                if a.is_valid(i) {
                    let r = rows.row(i);
                    let k: &[u8] = r.as_ref();
                    let e = m.entry(k.into()).or_insert(0);
                    *e += d;
                    if *e == 0 {
                        m.remove(k);
                    }
                }
            }
            (Acc::Kept(rows), Prepared::Kept(b)) => rows.update(b, i, d),
            _ => debug_assert!(false, "accumulator and argument representations disagree"),
        }
    }

    /// Folds `other` (a session being merged into this one) in.
    fn merge(&mut self, other: Acc, func: AggFunc) {
        match (self, other) {
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::DistinctInt(a), Acc::DistinctInt(b)) => b.into_iter().for_each(|(k, v)| bump(a, k, v)),
            (Acc::DistinctBytes(a), Acc::DistinctBytes(b)) => b.into_iter().for_each(|(k, v)| bump(a, k, v)),
            (Acc::SumInt { sum, n }, Acc::SumInt { sum: s2, n: n2 }) => {
                *sum += s2;
                *n += n2
            }
            (Acc::SumFloat { sum, n }, Acc::SumFloat { sum: s2, n: n2 }) => {
                *sum += s2;
                *n += n2
            }
            (Acc::Best(a), Acc::Best(b)) => {
                if let Some(b) = b {
                    let take = match a {
                        None => true,
                        Some(x) => {
                            if func == AggFunc::Min {
                                b < *x
                            } else {
                                b > *x
                            }
                        }
                    };
                    if take {
                        *a = Some(b);
                    }
                }
            }
            (Acc::Values(a), Acc::Values(b)) => b.into_iter().for_each(|(k, v)| {
                let e = a.entry(k.clone()).or_insert(0);
                *e += v;
                if *e == 0 {
                    a.remove(&k);
                }
            }),
            (Acc::Kept(a), Acc::Kept(b)) => a.merge(b),
            _ => debug_assert!(false, "merging different accumulators"),
        }
    }
}

/// Which rows of `batch` an aggregate's FILTER keeps (None: all).
fn filter_mask(spec: &AggSpec, batch: &RecordBatch) -> SqlResult<Option<BooleanArray>> {
    let Some(f) = &spec.filter else { return Ok(None) };
    let v = f.evaluate(batch)?.into_array(batch.num_rows())?;
    Ok(Some(cast(&v, &DataType::Boolean)?.as_boolean().clone()))
}

/// A batch's group keys, window bounds, aggregate arguments and FILTER masks.
struct Inputs {
    keys: Rows,
    ws: Option<arrow::array::Int64Array>,
    we: Option<arrow::array::Int64Array>,
    prepared: Vec<Prepared>,
    masks: Vec<Option<BooleanArray>>,
}

fn prepare(spec: &AggSpec, batch: &RecordBatch) -> SqlResult<Prepared> {
    if let Some(k) = &spec.kept {
        return Ok(Prepared::Kept(k.prepare(batch)?));
    }
    let Some(arg) = &spec.arg else { return Ok(Prepared::Rows) };
    let a = arg.evaluate(batch)?.into_array(batch.num_rows())?;
    Ok(match (spec.func, spec.repr) {
        (AggFunc::Count, _) => Prepared::Valid(a),
        (_, Repr::Int) => Prepared::Int(cast(&a, &DataType::Int64)?.as_primitive::<Int64Type>().clone()),
        (_, Repr::Float) => Prepared::Float(cast(&a, &DataType::Float64)?.as_primitive::<Float64Type>().clone()),
        (_, Repr::Dec(_)) => Prepared::Dec(a.as_primitive::<arrow::datatypes::Decimal128Type>().clone()),
        (_, Repr::Bytes) => {
            let rows = spec.conv.as_ref().expect("row converter").convert_columns(std::slice::from_ref(&a))?;
            Prepared::Bytes(rows, a)
        }
        (_, Repr::Kept) => return Err(SqlError::internal("a kept aggregate without its rows' form")),
    })
}

/// The output column of one aggregate for the given accumulators.
fn output(spec: &AggSpec, accs: &[&Acc]) -> SqlResult<ArrayRef> {
    let arr: ArrayRef = match spec.func {
        AggFunc::Count => Arc::new(Int64Array::from_iter_values(accs.iter().map(|a| match a {
            Acc::Count(c) => *c,
            _ => 0,
        }))),
        AggFunc::CountDistinct => Arc::new(Int64Array::from_iter_values(accs.iter().map(|a| match a {
            Acc::DistinctInt(m) => m.values().filter(|n| **n > 0).count() as i64,
            Acc::DistinctBytes(m) => m.values().filter(|n| **n > 0).count() as i64,
            _ => 0,
        }))),
        AggFunc::Sum | AggFunc::Avg => {
            let avg = spec.func == AggFunc::Avg;
            match spec.repr {
                Repr::Float => Arc::new(Float64Array::from_iter(accs.iter().map(|a| match a {
                    Acc::SumFloat { sum, n } if *n > 0 => Some(if avg { sum / *n as f64 } else { *sum }),
                    _ => None,
                }))),
                Repr::Int if avg => Arc::new(Float64Array::from_iter(accs.iter().map(|a| match a {
                    Acc::SumInt { sum, n } if *n > 0 => Some(*sum as f64 / *n as f64),
                    _ => None,
                }))),
                Repr::Int => Arc::new(Int64Array::from_iter(accs.iter().map(|a| match a {
                    Acc::SumInt { sum, n } if *n > 0 => Some(*sum as i64),
                    _ => None,
                }))),
                Repr::Dec(scale) => {
                    // avg keeps four more decimal digits, rounding half away from zero.
                    let (values, s): (Vec<Option<i128>>, i8) = if avg {
                        (
                            accs.iter()
                                .map(|a| match a {
                                    Acc::SumInt { sum, n } if *n > 0 => {
                                        let num = sum * 10_000;
                                        let n = *n as i128;
                                        Some(if num >= 0 { (num + n / 2) / n } else { (num - n / 2) / n })
                                    }
                                    _ => None,
                                })
                                .collect(),
                            scale + 4,
                        )
                    } else {
                        (
                            accs.iter()
                                .map(|a| match a {
                                    Acc::SumInt { sum, n } if *n > 0 => Some(*sum),
                                    _ => None,
                                })
                                .collect(),
                            scale,
                        )
                    };
                    Arc::new(Decimal128Array::from(values).with_precision_and_scale(38, s)?)
                }
                Repr::Bytes | Repr::Kept => return Err(SqlError::internal("sum over row bytes")),
            }
        }
        AggFunc::Min | AggFunc::Max => {
            let conv = spec.conv.as_ref().ok_or_else(|| SqlError::internal("min/max without a converter"))?;
            let null = conv.convert_columns(&[arrow::array::new_null_array(&spec.arg_type, 1)])?;
            let parser = conv.parser();
            let picked: Vec<arrow_row::Row> = accs
                .iter()
                .map(|a| {
                    let best: Option<&[u8]> = match a {
                        Acc::Best(b) => b.as_deref(),
                        Acc::Values(m) => if spec.func == AggFunc::Min { m.keys().next() } else { m.keys().next_back() }.map(|k| k.as_ref()),
                        _ => None,
                    };
                    match best {
                        Some(b) => parser.parse(b),
                        None => null.row(0),
                    }
                })
                .collect();
            conv.convert_rows(picked)?.remove(0)
        }
        AggFunc::Kept => {
            let kept = spec.kept.as_ref().ok_or_else(|| SqlError::internal("a kept aggregate without its rows' form"))?;
            let empty = KeptRows::default();
            let groups: Vec<&KeptRows> = accs
                .iter()
                .map(|a| match a {
                    Acc::Kept(rows) => rows,
                    _ => &empty,
                })
                .collect();
            kept.output(&groups, &spec.out_type)?
        }
    };
    Ok(if arr.data_type() == &spec.out_type { arr } else { cast(&arr, &spec.out_type)? })
}

struct Group {
    key: Box<[u8]>,
    window_start: i64,
    window_end: i64,
    accs: Vec<Acc>,
    rows: i64,
    /// The output row last emitted for this group (output row bytes).
    emitted: Option<Box<[u8]>>,
    touched: bool,
    /// Changed since the last checkpoint barrier (its slot is in `changed`).
    dirty: bool,
}

pub struct Aggregate {
    group_exprs: Vec<Arc<dyn PhysicalExpr>>,
    aggs: Vec<AggSpec>,
    /// Positions of window_start/window_end in the GROUP BY.
    window: Option<(usize, usize)>,
    /// Window state closes at the watermark (TUMBLE/HOP/SESSION grouping).
    windowed: bool,
    session_gap: Option<i64>,
    emit_on_close: bool,
    retractable: bool,
    /// GROUP BY positions that form the hash key.
    key_positions: Vec<usize>,
    key_conv: RowConverter,
    out_schema: SchemaRef,
    out_conv: RowConverter,
    slots: Vec<Option<Group>>,
    free: Vec<usize>,
    /// Key bytes to slot (TUMBLE/HOP/unwindowed), or to the key's open sessions.
    index: HashMap<Box<[u8]>, usize>,
    sessions: HashMap<Box<[u8]>, Vec<usize>>,
    closing: BTreeMap<i64, Vec<usize>>,
    touched: Vec<usize>,
    /// Emitted rows of groups that went away (merged sessions), to retract.
    retract: Vec<Box<[u8]>>,
    /// Slots whose group changed, came or went since the last checkpoint barrier.
    changed: Vec<usize>,
    watermark: i64,
    pub late_rows: u64,
}

pub struct AggregateConfig {
    pub group_exprs: Vec<Arc<dyn PhysicalExpr>>,
    pub aggs: Vec<AggSpec>,
    pub window: Option<(usize, usize)>,
    pub windowed: bool,
    pub session_gap: Option<i64>,
    pub emit_on_close: bool,
    pub retractable: bool,
    pub input: SchemaRef,
    pub output: SchemaRef,
}

impl Aggregate {
    pub fn new(c: AggregateConfig) -> SqlResult<Aggregate> {
        let key_positions: Vec<usize> =
            (0..c.group_exprs.len()).filter(|i| c.session_gap.is_none() || c.window.is_none_or(|(s, e)| *i != s && *i != e)).collect();
        let key_fields = key_positions.iter().map(|&i| Ok(SortField::new(c.group_exprs[i].data_type(&c.input)?))).collect::<SqlResult<Vec<_>>>()?;
        let out_fields = c.output.fields().iter().map(|f| SortField::new(f.data_type().clone())).collect();
        Ok(Aggregate {
            group_exprs: c.group_exprs,
            aggs: c.aggs,
            window: c.window,
            windowed: c.windowed,
            session_gap: c.session_gap,
            emit_on_close: c.emit_on_close,
            retractable: c.retractable,
            key_positions,
            key_conv: RowConverter::new(key_fields)?,
            out_conv: RowConverter::new(out_fields)?,
            out_schema: c.output,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::new(),
            sessions: HashMap::new(),
            closing: BTreeMap::new(),
            touched: Vec::new(),
            retract: Vec::new(),
            changed: Vec::new(),
            watermark: i64::MIN,
            late_rows: 0,
        })
    }

    fn alloc(&mut self, mut g: Group) -> usize {
        g.dirty = true;
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(g);
                i
            }
            None => {
                self.slots.push(Some(g));
                self.slots.len() - 1
            }
        };
        self.changed.push(i);
        i
    }

    /// Empties a slot for reuse.
    fn release(&mut self, s: usize) -> Option<Group> {
        let g = self.slots[s].take();
        self.free.push(s);
        self.changed.push(s);
        g
    }

    fn new_group(&self, key: &[u8], ws: i64, we: i64) -> Group {
        Group {
            key: key.into(),
            window_start: ws,
            window_end: we,
            accs: self.aggs.iter().map(|a| a.new_acc(self.retractable)).collect(),
            rows: 0,
            emitted: None,
            touched: false,
            dirty: false,
        }
    }

    /// The slot of the session of `key` that an event at `t` joins, merging
    /// the sessions it bridges.
    fn session_slot(&mut self, key: &[u8], t: i64, gap: i64) -> usize {
        let open = self.sessions.get(key).cloned().unwrap_or_default();
        let overlapping: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&s| {
                let g = self.slots[s].as_ref().expect("open session");
                t < g.window_end && t + gap > g.window_start
            })
            .collect();
        let Some((&first, rest)) = overlapping.split_first() else {
            let g = self.new_group(key, t, t + gap);
            let slot = self.alloc(g);
            self.sessions.entry(key.into()).or_default().push(slot);
            return slot;
        };
        for &other in rest {
            let g = self.release(other).expect("open session");
            if let Some(e) = g.emitted {
                self.retract.push(e);
            }
            let target = self.slots[first].as_mut().expect("open session");
            target.window_start = target.window_start.min(g.window_start);
            target.window_end = target.window_end.max(g.window_end);
            target.rows += g.rows;
            for (a, (b, spec)) in target.accs.iter_mut().zip(g.accs.into_iter().zip(&self.aggs)) {
                a.merge(b, spec.func);
            }
        }
        if let Some(list) = self.sessions.get_mut(key) {
            list.retain(|s| !rest.contains(s));
        }
        let g = self.slots[first].as_mut().expect("open session");
        g.window_start = g.window_start.min(t);
        g.window_end = g.window_end.max(t + gap);
        first
    }

    /// What a view shows before any input: the one row of a global
    /// aggregate (`SELECT count(*) FROM s` is 0 over no rows).
    pub fn initial(&mut self) -> SqlResult<Option<Delta>> {
        if !self.key_positions.is_empty() || self.window.is_some() || self.emit_on_close {
            return Ok(None);
        }
        let g = self.new_group(&[], 0, 0);
        let slot = self.alloc(g);
        self.index.insert(Box::from(&[][..]), slot);
        self.slots[slot].as_mut().expect("new group").touched = true;
        self.touched.push(slot);
        self.emit_changes()
    }

    /// Applies a batch of changes; returns what to emit now.
    /// Adds a change to the groups; rows whose group keys, arguments or
    /// FILTERs fail to evaluate (a data error) are set aside in `failed`
    /// before any group changes.
    pub fn apply(&mut self, d: &Delta, failed: &mut Vec<FailedRow>) -> SqlResult<Option<Delta>> {
        if d.batch.num_rows() == 0 {
            return Ok(None);
        }
        match self.inputs(&d.batch) {
            Ok(inputs) => self.update(d, inputs),
            Err(e) => {
                // The whole batch failed: only the copy taken here is filtered.
                let (d, inputs) = isolate(d.clone(), e, failed, |b| self.inputs(b))?;
                self.update(&d, inputs)
            }
        }
    }

    /// What a batch's rows contribute, evaluated before any state changes.
    fn inputs(&self, batch: &RecordBatch) -> SqlResult<Inputs> {
        let n = batch.num_rows();
        let groups = self.group_exprs.iter().map(|e| e.evaluate(batch)?.into_array(n)).collect::<Result<Vec<_>, _>>()?;
        let key_arrays: Vec<ArrayRef> = self.key_positions.iter().map(|&i| groups[i].clone()).collect();
        let keys = self.key_conv.convert_columns(&key_arrays)?;
        let (ws, we) = match self.window {
            Some((s, e)) => (
                Some(cast(&groups[s], &DataType::Int64)?.as_primitive::<Int64Type>().clone()),
                Some(cast(&groups[e], &DataType::Int64)?.as_primitive::<Int64Type>().clone()),
            ),
            None => (None, None),
        };
        let prepared = self.aggs.iter().map(|a| prepare(a, batch)).collect::<SqlResult<Vec<_>>>()?;
        let masks = self.aggs.iter().map(|a| filter_mask(a, batch)).collect::<SqlResult<Vec<_>>>()?;
        Ok(Inputs { keys, ws, we, prepared, masks })
    }

    fn update(&mut self, d: &Delta, inputs: Inputs) -> SqlResult<Option<Delta>> {
        let Inputs { keys, ws, we, prepared, masks } = inputs;
        let n = d.batch.num_rows();
        // Without GROUP BY keys every row belongs to the one group with the empty key.
        let global = self.key_positions.is_empty();
        let mut last: Option<(usize, usize)> = None; // (row, slot) cache for runs of equal keys
        for i in 0..n {
            let diff = d.diffs.as_ref().map(|x| x[i]).unwrap_or(1);
            let key_row = (!global).then(|| keys.row(i));
            let key: &[u8] = key_row.as_ref().map(|r| r.as_ref()).unwrap_or(&[]);
            let slot = if let Some(gap) = self.session_gap {
                let t = ws.as_ref().map(|w| w.value(i)).unwrap_or(0);
                if t + gap <= self.watermark {
                    self.late_rows += 1;
                    continue;
                }
                self.session_slot(key, t, gap)
            } else {
                let (s, e) = (ws.as_ref().map(|w| w.value(i)).unwrap_or(0), we.as_ref().map(|w| w.value(i)).unwrap_or(0));
                if self.windowed && !self.retractable && e <= self.watermark {
                    self.late_rows += 1;
                    continue;
                }
                match last {
                    Some((r, slot)) if global || keys.row(r).as_ref() == key => slot,
                    _ => match self.index.get(key) {
                        Some(&slot) => slot,
                        None => {
                            let g = self.new_group(key, s, e);
                            let slot = self.alloc(g);
                            self.index.insert(key.into(), slot);
                            if self.windowed {
                                self.closing.entry(e).or_default().push(slot);
                            }
                            slot
                        }
                    },
                }
            };
            last = Some((i, slot));
            let g = self.slots[slot].as_mut().expect("live group");
            for ((acc, mask), (spec, p)) in g.accs.iter_mut().zip(&masks).zip(self.aggs.iter().zip(&prepared)) {
                if mask.as_ref().is_none_or(|m| m.is_valid(i) && m.value(i)) {
                    acc.update(spec, p, i, diff);
                }
            }
            g.rows += diff;
            if !g.dirty {
                g.dirty = true;
                self.changed.push(slot);
            }
            if !g.touched {
                g.touched = true;
                self.touched.push(slot);
            }
        }
        if self.emit_on_close {
            for s in std::mem::take(&mut self.touched) {
                if let Some(g) = self.slots[s].as_mut() {
                    g.touched = false;
                }
            }
            return Ok(None);
        }
        self.emit_changes()
    }

    /// Retracts the previous rows of changed groups and emits their new rows.
    fn emit_changes(&mut self) -> SqlResult<Option<Delta>> {
        let touched = std::mem::take(&mut self.touched);
        let mut olds = std::mem::take(&mut self.retract);
        let mut live = Vec::new();
        for &s in &touched {
            // A slot freed by a session merge, or listed twice after being reused, is skipped.
            let Some(g) = self.slots[s].as_mut().filter(|g| g.touched) else { continue };
            g.touched = false;
            if let Some(e) = g.emitted.take() {
                olds.push(e);
            }
            if g.rows > 0 || self.key_positions.is_empty() && self.window.is_none() {
                // A global aggregate always has its one row, as in batch SQL.
                live.push(s);
            } else if self.session_gap.is_none() {
                // Every row of the group was retracted: it is gone.
                let g = self.release(s).expect("live group");
                self.index.remove(&g.key);
            }
        }
        let new = self.rows_for(&live)?;
        if let Some(b) = &new {
            let encoded = self.out_conv.convert_columns(b.columns())?;
            for (i, &s) in live.iter().enumerate() {
                self.slots[s].as_mut().expect("live group").emitted = Some(encoded.row(i).as_ref().into());
            }
        }
        let parser = self.out_conv.parser();
        let old_batch = if olds.is_empty() {
            None
        } else {
            let cols = self.out_conv.convert_rows(olds.iter().map(|r| parser.parse(r)))?;
            Some(RecordBatch::try_new(self.out_schema.clone(), cols)?)
        };
        Ok(match (old_batch, new) {
            (None, None) => None,
            (Some(o), None) => Some(Delta { diffs: Some(vec![-1; o.num_rows()]), batch: o }),
            (None, Some(n)) => Some(Delta { batch: n, diffs: None }),
            (Some(o), Some(n)) => {
                let mut diffs = vec![-1; o.num_rows()];
                diffs.extend(std::iter::repeat_n(1, n.num_rows()));
                Some(Delta { batch: concat_batches(&self.out_schema, [&o, &n])?, diffs: Some(diffs) })
            }
        })
    }

    /// Output rows (group columns, then aggregates) of the given slots.
    fn rows_for(&self, slots: &[usize]) -> SqlResult<Option<RecordBatch>> {
        if slots.is_empty() {
            return Ok(None);
        }
        let groups: Vec<&Group> = slots.iter().map(|&s| self.slots[s].as_ref().expect("live group")).collect();
        let key_cols = if self.key_positions.is_empty() {
            vec![]
        } else {
            let parser = self.key_conv.parser();
            self.key_conv.convert_rows(groups.iter().map(|g| parser.parse(&g.key)))?
        };
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(self.out_schema.fields().len());
        let mut key_iter = key_cols.into_iter();
        for i in 0..self.group_exprs.len() {
            let field = self.out_schema.field(i);
            match self.window {
                Some((s, e)) if self.session_gap.is_some() && (i == s || i == e) => {
                    let v: Vec<i64> = groups.iter().map(|g| if i == s { g.window_start } else { g.window_end }).collect();
                    let tz = match field.data_type() {
                        DataType::Timestamp(_, tz) => tz.clone(),
                        _ => None,
                    };
                    cols.push(Arc::new(TimestampNanosecondArray::from(v).with_timezone_opt(tz)));
                }
                _ => cols.push(key_iter.next().ok_or_else(|| SqlError::internal("group key columns"))?),
            }
        }
        for spec in &self.aggs {
            let k = cols.len() - self.group_exprs.len();
            let accs: Vec<&Acc> = groups.iter().map(|g| &g.accs[k]).collect();
            cols.push(output(spec, &accs)?);
        }
        let cols = cols
            .into_iter()
            .zip(self.out_schema.fields())
            .map(|(c, f)| if c.data_type() == f.data_type() { Ok(c) } else { cast(&c, f.data_type()) })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(RecordBatch::try_new(self.out_schema.clone(), cols)?))
    }

    /// Closes windows that end at or before `wm`; returns final rows when
    /// emitting on window close.
    pub fn on_watermark(&mut self, wm: i64) -> SqlResult<Option<Delta>> {
        if wm <= self.watermark {
            return Ok(None);
        }
        self.watermark = wm;
        // Over an input with retractions a closed window can still change, so
        // its state is kept (the planner allows only emit on update there).
        if !self.windowed || self.retractable {
            return Ok(None);
        }
        let mut closed = Vec::new();
        if self.session_gap.is_some() {
            for list in self.sessions.values_mut() {
                list.retain(|&s| {
                    let ends = self.slots[s].as_ref().is_some_and(|g| g.window_end <= wm);
                    if ends {
                        closed.push(s);
                    }
                    !ends
                });
            }
            self.sessions.retain(|_, l| !l.is_empty());
            closed.sort_by_key(|&s| {
                let g = self.slots[s].as_ref().expect("open session");
                (g.window_end, g.window_start)
            });
        } else {
            let later = self.closing.split_off(&(wm.saturating_add(1)));
            for (_, slots) in std::mem::replace(&mut self.closing, later) {
                closed.extend(slots);
            }
            // A slot freed (all its rows retracted) and reused for a later window
            // is still listed under the old end: close only what really ended.
            closed.retain(|&s| self.slots[s].as_ref().is_some_and(|g| g.window_end <= wm));
            // Windows leave in time order (slots are reused, so their numbers are
            // not): a keyed sink must see a key's earlier window first.
            closed.sort_by_key(|&s| {
                let g = self.slots[s].as_ref().expect("closing window");
                (g.window_end, g.window_start, s)
            });
            closed.dedup();
        }
        let finals: Vec<usize> = closed.iter().copied().filter(|&s| self.slots[s].as_ref().is_some_and(|g| g.rows > 0)).collect();
        let out = if self.emit_on_close { self.rows_for(&finals)?.map(|b| Delta { batch: b, diffs: None }) } else { None };
        for s in closed {
            if self.slots[s].is_some()
                && let Some(g) = self.release(s)
                && self.session_gap.is_none()
            {
                self.index.remove(&g.key);
            }
        }
        Ok(out)
    }
}

/// Checkpointing: the watermark and late-row count with the checkpoint,
/// each live group as a state entry keyed by its slot (`keyed.rs`), with
/// its accumulators and the row last emitted for it. Indexes are rebuilt
/// on restore.
impl Aggregate {
    pub fn scalars(&self, e: &mut Enc) {
        e.i64(self.watermark).u64(self.late_rows);
    }

    pub fn restore_scalars(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        self.watermark = d.i64()?;
        self.late_rows = d.u64()?;
        Ok(())
    }

    /// The groups that changed since the last call (every live one if `all`).
    pub fn changed(&mut self, all: bool, out: &mut Changed) {
        let mut slots = std::mem::take(&mut self.changed);
        if all {
            slots = (0..self.slots.len()).filter(|&s| self.slots[s].is_some()).collect();
        }
        slots.sort_unstable();
        slots.dedup();
        for s in slots {
            let id = [&[keyed::TAG_AGGREGATE][..], &(s as u64).to_be_bytes()].concat();
            match self.slots[s].as_mut() {
                Some(g) => {
                    g.dirty = false;
                    let mut e = Enc::default();
                    encode_group(g, &mut e);
                    out.put(id, e.0);
                }
                None => out.gone(id),
            }
        }
    }

    /// Puts back one group from a state entry.
    pub fn restore_entry(&mut self, id: &[u8], value: &[u8]) -> DecResult<()> {
        let slot = id.get(1..9).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).ok_or("an aggregate's state id is cut short")? as usize;
        let g = self.decode_group(&mut Dec::new(value, "an aggregate group"))?;
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        self.slots[slot] = Some(g);
        self.index_group(slot);
        Ok(())
    }

    /// After the last entry: empty slots become free and nothing counts as changed.
    pub fn restored(&mut self) {
        self.free = (0..self.slots.len()).rev().filter(|&s| self.slots[s].is_none()).collect();
        self.changed.clear();
        for g in self.slots.iter_mut().flatten() {
            g.dirty = false;
        }
    }

    /// Reads the state of checkpoints written before state entries (all groups inline).
    pub fn restore_inline(&mut self, d: &mut Dec<'_>) -> DecResult<()> {
        self.restore_scalars(d)?;
        for _ in 0..d.u64()? {
            let g = self.decode_group(d)?;
            let slot = self.alloc(g);
            self.index_group(slot);
        }
        self.restored();
        Ok(())
    }

    fn decode_group(&self, d: &mut Dec<'_>) -> DecResult<Group> {
        let key: Box<[u8]> = d.bytes()?.into();
        let (window_start, window_end, rows) = (d.i64()?, d.i64()?, d.i64()?);
        let emitted = d.opt_bytes()?.map(Box::from);
        let accs = self.aggs.iter().map(|_| Acc::restore(d)).collect::<DecResult<Vec<_>>>()?;
        Ok(Group { key, window_start, window_end, accs, rows, emitted, touched: false, dirty: false })
    }

    /// Lists a restored group in the indexes.
    fn index_group(&mut self, slot: usize) {
        let g = self.slots[slot].as_ref().expect("restored group");
        let (key, window_end) = (g.key.clone(), g.window_end);
        if self.session_gap.is_some() {
            self.sessions.entry(key).or_default().push(slot);
        } else {
            self.index.insert(key, slot);
            if self.windowed {
                self.closing.entry(window_end).or_default().push(slot);
            }
        }
    }
}

fn encode_group(g: &Group, e: &mut Enc) {
    e.bytes(&g.key).i64(g.window_start).i64(g.window_end).i64(g.rows).opt_bytes(g.emitted.as_deref());
    for a in &g.accs {
        a.snapshot(e);
    }
}

impl Acc {
    fn snapshot(&self, e: &mut Enc) {
        fn counts<'a, K: 'a>(e: &mut Enc, tag: u64, m: impl ExactSizeIterator<Item = (&'a K, &'a i64)>, key: impl Fn(&mut Enc, &K)) {
            e.u64(tag).u64(m.len() as u64);
            for (k, n) in m {
                key(e, k);
                e.i64(*n);
            }
        }
        match self {
            Acc::Count(n) => {
                e.u64(0).i64(*n);
            }
            Acc::DistinctInt(m) => counts(e, 1, m.iter(), |e, k| {
                e.i64(*k);
            }),
            Acc::DistinctBytes(m) => counts(e, 2, m.iter(), |e, k| {
                e.bytes(k);
            }),
            Acc::SumInt { sum, n } => {
                e.u64(3).i128(*sum).i64(*n);
            }
            Acc::SumFloat { sum, n } => {
                e.u64(4).f64(*sum).i64(*n);
            }
            Acc::Best(b) => {
                e.u64(5).opt_bytes(b.as_deref());
            }
            Acc::Values(m) => counts(e, 6, m.iter(), |e, k| {
                e.bytes(k);
            }),
            Acc::Kept(rows) => {
                e.u64(7);
                rows.snapshot(e);
            }
        }
    }

    fn restore(d: &mut Dec<'_>) -> DecResult<Acc> {
        Ok(match d.u64()? {
            0 => Acc::Count(d.i64()?),
            1 => Acc::DistinctInt((0..d.u64()?).map(|_| Ok((d.i64()?, d.i64()?))).collect::<DecResult<_>>()?),
            2 => Acc::DistinctBytes((0..d.u64()?).map(|_| Ok((Box::from(d.bytes()?), d.i64()?))).collect::<DecResult<_>>()?),
            3 => Acc::SumInt { sum: d.i128()?, n: d.i64()? },
            4 => Acc::SumFloat { sum: d.f64()?, n: d.i64()? },
            5 => Acc::Best(d.opt_bytes()?.map(Box::from)),
            6 => Acc::Values((0..d.u64()?).map(|_| Ok((Box::from(d.bytes()?), d.i64()?))).collect::<DecResult<_>>()?),
            7 => Acc::Kept(KeptRows::restore(d)?),
            t => return Err(format!("unknown accumulator kind {t} in a checkpoint")),
        })
    }
}
