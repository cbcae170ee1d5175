//! PostgreSQL 15's arrays over Arrow List arrays, which weir's arrays are
//! (one dimension, lower bound 1): the functions DataFusion has by the same
//! names but answers differently (`array_length`, `cardinality`,
//! `array_position` are int4; `array_remove` and `array_replace` take every
//! match, NULL included), those it lacks (`array_fill`, `trim_array`,
//! `array_dims`), and what weir plans array syntax as: text input and output
//! (`'{1,2}'::int[]`, `ARRAY[1]::text`), `x op ANY/ALL (array)` with
//! PostgreSQL's NULLs, slices, `&&`, `@>`, `<@` and `WITH ORDINALITY`
//! (`hooks`). Multidimensional arrays and other lower bounds are refused
//! (0A000), never answered as something else.

mod hooks;
pub mod literal;

pub(crate) use hooks::{one_dimensional_output, plan_rule, rewrite_syntax, with_ordinality};

use super::columnar;
use crate::{SqlError, SqlState};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DynComparator, Int32Array, Int64Array, ListArray, StringArray, UInt64Array, make_comparator,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{SortOptions, cast, interleave, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, IntervalMonthDayNanoType, IntervalUnit, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Length,
    Cardinality,
    Ndims,
    Dims,
    Position,
    Positions,
    Remove,
    Replace,
    Fill,
    Trim,
    Element,
    Slice,
    Overlap,
    Contains,
    Any,
    All,
    In,
    Text,
    Ordinals,
}

/// The functions by name. Those named `weir_...` are what array syntax is
/// planned as: `a[i]`, `a[lo:hi]`, `a && b`, `a @> b` (and `b <@ a`), `x op ANY (a)`,
/// `x op ALL (a)`, text to array, array to text, the ordinals of `WITH
/// ORDINALITY`.
const FUNCTIONS: &[(&str, Op)] = &[
    ("array_length", Op::Length),
    ("cardinality", Op::Cardinality),
    ("array_ndims", Op::Ndims),
    ("array_dims", Op::Dims),
    ("array_position", Op::Position),
    ("array_positions", Op::Positions),
    ("array_remove", Op::Remove),
    ("array_replace", Op::Replace),
    ("array_fill", Op::Fill),
    ("trim_array", Op::Trim),
    ("weir_array_element", Op::Element),
    ("weir_array_slice", Op::Slice),
    ("weir_array_overlap", Op::Overlap),
    ("weir_array_contains", Op::Contains),
    ("weir_array_any", Op::Any),
    ("weir_array_all", Op::All),
    ("weir_array_in", Op::In),
    ("weir_array_text", Op::Text),
    ("weir_array_ordinals", Op::Ordinals),
];

/// Every array function defined here.
pub fn all() -> Vec<ScalarUDF> {
    FUNCTIONS
        .iter()
        .map(|&(name, op)| {
            // Text of a timestamptz depends on the session's zone.
            let volatility = if op == Op::Text { Volatility::Stable } else { Volatility::Immutable };
            ScalarUDF::new_from_impl(ArrayFn { name, op, signature: Signature::user_defined(volatility) })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayFn {
    name: &'static str,
    op: Op,
    signature: Signature,
}

fn fail(state: SqlState, message: impl Into<String>) -> DataFusionError {
    SqlError::new(state, message).into()
}

/// The error for an array of more than one dimension.
fn multidimensional() -> DataFusionError {
    SqlError::unsupported(format!("{} are not supported by weir", literal::MULTIDIMENSIONAL))
        .with_hint("weir's arrays have one dimension; use an array of arrays' elements instead")
        .into()
}

/// Whether values of this type are arrays of arrays (PostgreSQL's
/// multidimensional arrays, which weir does not keep).
pub(crate) fn is_multidimensional(t: &DataType) -> bool {
    list_element(t).is_some_and(|e| list_element(e).is_some())
}

/// Whether argument `i` of this type would make `op` work on a
/// multidimensional array (which weir refuses): an array of arrays (but
/// for subscripts, one a dimension, which find an element), or an array to
/// fill an array with.
fn takes_dimensions(op: Op, i: usize, t: &DataType) -> bool {
    op != Op::Element && is_multidimensional(t) || op == Op::Fill && i == 0 && list_element(t).is_some()
}

/// The operation of a function defined here.
fn op_named(name: &str) -> Option<Op> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|&(_, op)| op)
}

/// Whether `name` is a function defined here.
pub(crate) fn defines(name: &str) -> bool {
    op_named(name).is_some()
}

/// Whether `name` is a function defined here and these argument types
/// would make it work on a multidimensional array.
pub(crate) fn multidimensional_call(name: &str, types: &[DataType]) -> bool {
    op_named(name).is_some_and(|op| types.iter().enumerate().any(|(i, t)| takes_dimensions(op, i, t)))
}

/// Whether values of this type are arrays (Arrow lists).
pub(crate) fn is_array(t: &DataType) -> bool {
    list_element(t).is_some()
}

/// The element type of a list type.
fn list_element(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Some(f.data_type()),
        _ => None,
    }
}

/// The list type weir's arrays of `element` have.
fn list_of(element: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(element, true)))
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// A type two values are compared in, as PostgreSQL resolves `anycompatible`.
fn common(a: &DataType, b: &DataType) -> Option<DataType> {
    match (a, b) {
        (DataType::Null, t) | (t, DataType::Null) => Some(t.clone()),
        _ => comparison_coercion(a, b),
    }
}

impl ArrayFn {
    fn no_such_function(&self, args: &[DataType]) -> DataFusionError {
        let names: Vec<String> = args.iter().map(|t| crate::error::pg_type_name(&t.to_string())).collect();
        fail(SqlState::UndefinedFunction, format!("function {}({}) does not exist", self.name, names.join(", ")))
    }

    /// The element type of an array argument; NULL is an array of unknown.
    /// (An array of arrays passes here, to be refused by `hooks::plan_rule`
    /// with its own SQLSTATE: DataFusion rewords errors of coercion.)
    fn element(&self, t: &DataType, args: &[DataType]) -> Result<DataType> {
        match (t, list_element(t)) {
            (DataType::Null, _) => Ok(DataType::Null),
            (_, Some(e)) => Ok(e.clone()),
            _ => Err(self.no_such_function(args)),
        }
    }

    /// The element type shared by an array and values compared with its elements.
    fn shared(&self, array: &DataType, others: &[&DataType], args: &[DataType]) -> Result<DataType> {
        let mut t = self.element(array, args)?;
        for o in others {
            t = common(&t, o).ok_or_else(|| self.no_such_function(args))?;
        }
        Ok(t)
    }

    /// The types the arguments are cast to before a call.
    fn coerce(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        use DataType::{Int64, Utf8};
        let ints = || list_of(Int64);
        Ok(match (self.op, args) {
            (Op::Length | Op::Trim, [a, _]) => vec![list_of(self.element(a, args)?), Int64],
            (Op::Cardinality | Op::Ndims | Op::Dims | Op::Text, [a]) => vec![list_of(self.element(a, args)?)],
            (Op::Position | Op::Positions | Op::Remove, [a, x]) => {
                let t = self.shared(a, &[x], args)?;
                vec![list_of(t.clone()), t]
            }
            (Op::Position, [a, x, _]) => {
                let t = self.shared(a, &[x], args)?;
                vec![list_of(t.clone()), t, Int64]
            }
            (Op::Replace, [a, x, y]) => {
                let t = self.shared(a, &[x, y], args)?;
                vec![list_of(t.clone()), t.clone(), t]
            }
            (Op::Fill, [x, _]) => vec![x.clone(), ints()],
            (Op::Fill, [x, _, _]) => vec![x.clone(), ints(), ints()],
            (Op::Slice, [a, bounds @ ..]) if !bounds.is_empty() && bounds.len() % 2 == 0 => {
                std::iter::once(list_of(self.element(a, args)?)).chain(bounds.iter().map(|_| Int64)).collect()
            }
            (Op::Element, [a, indexes @ ..]) if !indexes.is_empty() && list_element(a).is_some() => {
                let top = if matches!(a, DataType::List(_)) { a.clone() } else { list_of(self.element(a, args)?) };
                std::iter::once(top).chain(indexes.iter().map(|_| Int64)).collect()
            }
            (Op::Element, [DataType::Null, indexes @ ..]) => std::iter::once(DataType::Null).chain(indexes.iter().map(|_| Int64)).collect(),
            (Op::Overlap | Op::Contains, [a, b]) => {
                let (ea, eb) = (self.element(a, args)?, self.element(b, args)?);
                // PostgreSQL compares arrays of one element type only (`int[] && numeric[]` has no operator).
                // Integers may differ in width until `pgplan` types literals as int4.
                let t = match (&ea, &eb) {
                    (DataType::Null, t) | (t, DataType::Null) => t.clone(),
                    _ if ea == eb => ea.clone(),
                    (a, b) if a.is_integer() && b.is_integer() => common(a, b).ok_or_else(|| self.operator_missing(args))?,
                    _ => return Err(self.operator_missing(args)),
                };
                vec![list_of(t.clone()), list_of(t)]
            }
            // An untyped literal (`x = ANY ('{1,2}')`) is read as an array of x's type.
            (Op::Any | Op::All, [a, x, _]) if is_text(a) => vec![Utf8, x.clone(), Utf8],
            (Op::Any | Op::All, [a, x, _]) => {
                let t = self.shared(a, &[x], args)?;
                vec![list_of(t.clone()), t, Utf8]
            }
            (Op::In, [t]) if is_text(t) || *t == DataType::Null => vec![Utf8],
            (Op::Ordinals, lists) if !lists.is_empty() => lists.iter().map(|a| Ok(list_of(self.element(a, args)?))).collect::<Result<_>>()?,
            _ => return Err(self.no_such_function(args)),
        })
    }

    fn operator_missing(&self, args: &[DataType]) -> DataFusionError {
        let op = if self.op == Op::Overlap { "&&" } else { "@>" };
        let names: Vec<String> = args.iter().map(|t| format!("{}[]", crate::error::pg_type_name(&list_element(t).unwrap_or(t).to_string()))).collect();
        fail(SqlState::UndefinedFunction, format!("operator does not exist: {} {op} {}", names[0], names[1]))
    }
}

impl ScalarUDFImpl for ArrayFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.coerce(args)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let args = self.coerce(args)?;
        Ok(match self.op {
            Op::Length | Op::Cardinality | Op::Ndims | Op::Position => DataType::Int32,
            Op::Dims | Op::Text => DataType::Utf8,
            Op::Positions => list_of(DataType::Int32),
            Op::Remove | Op::Replace | Op::Trim | Op::Slice => args[0].clone(),
            Op::Element => innermost(&args[0]).clone(),
            Op::Fill => list_of(args[0].clone()),
            Op::Overlap | Op::Contains | Op::Any | Op::All => DataType::Boolean,
            Op::In => list_of(DataType::Utf8),
            Op::Ordinals => list_of(DataType::Int64),
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.iter().enumerate().any(|(i, a)| takes_dimensions(self.op, i, &a.data_type())) {
            return Err(multidimensional());
        }
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        // As coerced (a plan that skipped DataFusion's coercion gets here too).
        let types: Vec<DataType> = args.args.iter().map(ColumnarValue::data_type).collect();
        let a = args.args.iter().zip(self.coerce(&types)?).map(|(v, t)| Ok(cast(&v.to_array(rows)?, &t)?)).collect::<Result<Vec<_>>>()?;
        let out: ArrayRef = match self.op {
            Op::Length => Arc::new(length(a[0].as_list(), a[1].as_primitive())),
            Op::Cardinality => Arc::new(per_row(a[0].as_list(), |r| Some(r.len() as i32))),
            Op::Ndims => Arc::new(per_row(a[0].as_list(), |r| (!r.is_empty()).then_some(1))),
            Op::Dims => {
                Arc::new(a[0].as_list::<i32>().iter().map(|l| l.filter(|l| !l.is_empty()).map(|l| format!("[1:{}]", l.len()))).collect::<StringArray>())
            }
            Op::Position => Arc::new(position(a[0].as_list(), &a[1], a.get(2).map(|s| s.as_primitive()))?),
            Op::Positions => Arc::new(positions(a[0].as_list(), &a[1])?),
            Op::Remove => Arc::new(remove(a[0].as_list(), &a[1])?),
            Op::Replace => Arc::new(replace(a[0].as_list(), &a[1], &a[2])?),
            Op::Fill => Arc::new(fill(&a[0], a[1].as_list(), a.get(2).map(|l| l.as_list()))?),
            Op::Trim => Arc::new(trim(a[0].as_list(), a[1].as_primitive())?),
            Op::Element => element(&a[0], &a[1..])?,
            Op::Slice => Arc::new(slice(a[0].as_list(), &a[1..])?),
            Op::Overlap => Arc::new(overlap(a[0].as_list(), a[1].as_list())?),
            Op::Contains => Arc::new(contains(a[0].as_list(), a[1].as_list())?),
            Op::Any | Op::All => Arc::new(quantified(self.op == Op::All, &a[0], &a[1], &args.args[2])?),
            Op::In => Arc::new(from_text(a[0].as_string())?),
            Op::Text => Arc::new(to_text(a[0].as_list(), &args.config_options)?),
            Op::Ordinals => Arc::new(ordinals(&a.iter().map(|l| l.as_list::<i32>()).collect::<Vec<_>>())?),
        };
        columnar(out, all_scalar)
    }
}

/// The positions in `values` of row `row`'s elements.
fn bounds(list: &ListArray, row: usize) -> Range<usize> {
    let o = list.value_offsets();
    o[row] as usize..o[row + 1] as usize
}

/// An int4 of each non-NULL array's element positions.
fn per_row(list: &ListArray, f: impl Fn(Range<usize>) -> Option<i32>) -> Int32Array {
    (0..list.len()).map(|row| if list.is_null(row) { None } else { f(bounds(list, row)) }).collect()
}

/// `array_length(a, dim)`: the length of dimension 1, NULL for an empty
/// array (which has no dimensions) or any other dimension.
fn length(list: &ListArray, dims: &Int64Array) -> Int32Array {
    (0..list.len())
        .map(|row| {
            let n = bounds(list, row).len();
            (!list.is_null(row) && !dims.is_null(row) && dims.value(row) == 1 && n > 0).then_some(n as i32)
        })
        .collect()
}

/// Compares the elements of one array with those of another of the same type.
struct Compare {
    cmp: Option<DynComparator>,
    left: Option<NullBuffer>,
    right: Option<NullBuffer>,
}

impl Compare {
    fn new(left: &dyn Array, right: &dyn Array) -> Result<Self> {
        let cmp = if left.data_type() == &DataType::Null || right.data_type() == &DataType::Null {
            None
        } else {
            Some(make_comparator(left, right, SortOptions::default())?)
        };
        Ok(Compare { cmp, left: left.logical_nulls(), right: right.logical_nulls() })
    }

    /// How left `i` compares with right `j`; None when either is NULL.
    fn order(&self, i: usize, j: usize) -> Option<Ordering> {
        let null = |n: &Option<NullBuffer>, k| n.as_ref().is_some_and(|n| n.is_null(k));
        if null(&self.left, i) || null(&self.right, j) {
            return None;
        }
        self.cmp.as_ref().map(|c| c(i, j))
    }

    /// `IS NOT DISTINCT FROM`: equal, or both NULL.
    fn same(&self, i: usize, j: usize) -> bool {
        let null = |n: &Option<NullBuffer>, k| n.as_ref().is_some_and(|n| n.is_null(k));
        match (null(&self.left, i), null(&self.right, j)) {
            (true, true) => true,
            (false, false) => self.order(i, j) == Some(Ordering::Equal),
            _ => false,
        }
    }
}

/// `array_position(a, x [, start])`: the first subscript from `start` whose
/// element is not distinct from `x`.
fn position(list: &ListArray, needle: &ArrayRef, start: Option<&Int64Array>) -> Result<Int32Array> {
    let cmp = Compare::new(list.values().as_ref(), needle.as_ref())?;
    let mut out = Vec::with_capacity(list.len());
    for row in 0..list.len() {
        if start.is_some_and(|s| s.is_null(row)) {
            return Err(fail(SqlState::NullValueNotAllowed, "initial position must not be null"));
        }
        if list.is_null(row) {
            out.push(None);
            continue;
        }
        let r = bounds(list, row);
        let skip = start.map_or(0, |s| (s.value(row).max(1) - 1) as usize);
        let found = (r.start.saturating_add(skip)..r.end).find(|&k| cmp.same(k, row));
        out.push(found.map(|k| (k - r.start + 1) as i32));
    }
    Ok(out.into_iter().collect())
}

/// Rows of a list being built: their lengths and which are NULL.
struct Rows {
    offsets: Vec<i32>,
    valid: Vec<bool>,
}

impl Rows {
    fn new(n: usize) -> Self {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Rows { offsets, valid: Vec::with_capacity(n) }
    }

    /// Ends a row whose elements are those added so far (`total` of all rows).
    fn end(&mut self, total: usize) -> Result<()> {
        let end = i32::try_from(total).map_err(|_| fail(SqlState::ProgramLimitExceeded, "array size exceeds the maximum allowed (134217727)"))?;
        self.offsets.push(end);
        self.valid.push(true);
        Ok(())
    }

    fn null(&mut self) {
        self.offsets.push(*self.offsets.last().expect("starts at 0"));
        self.valid.push(false);
    }

    /// The list of these rows over `values`.
    fn finish(self, values: ArrayRef) -> Result<ListArray> {
        let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
        let nulls = self.valid.iter().any(|v| !v).then(|| NullBuffer::from(self.valid));
        Ok(ListArray::try_new(field, OffsetBuffer::new(self.offsets.into()), values, nulls)?)
    }
}

/// The rows of a list, each the elements of `source` at the indices `pick` gives it (None: a NULL row).
fn gather(rows: usize, source: &ArrayRef, mut pick: impl FnMut(usize, &mut Vec<u64>) -> Result<bool>) -> Result<ListArray> {
    let mut out = Rows::new(rows);
    let mut indices = Vec::new();
    for row in 0..rows {
        if pick(row, &mut indices)? {
            out.end(indices.len())?;
        } else {
            out.null();
        }
    }
    out.finish(take(source.as_ref(), &UInt64Array::from(indices), None)?)
}

/// `array_positions(a, x)`: every subscript whose element is not distinct from `x`.
fn positions(list: &ListArray, needle: &ArrayRef) -> Result<ListArray> {
    let cmp = Compare::new(list.values().as_ref(), needle.as_ref())?;
    let mut out = Rows::new(list.len());
    let mut found = Vec::new();
    for row in 0..list.len() {
        if list.is_null(row) {
            out.null();
            continue;
        }
        let r = bounds(list, row);
        found.extend(r.clone().filter(|&k| cmp.same(k, row)).map(|k| (k - r.start + 1) as i32));
        out.end(found.len())?;
    }
    out.finish(Arc::new(Int32Array::from(found)))
}

/// `array_remove(a, x)`: the array without its elements not distinct from `x`.
fn remove(list: &ListArray, needle: &ArrayRef) -> Result<ListArray> {
    let cmp = Compare::new(list.values().as_ref(), needle.as_ref())?;
    gather(list.len(), list.values(), |row, kept| {
        if list.is_null(row) {
            return Ok(false);
        }
        kept.extend(bounds(list, row).filter(|&k| !cmp.same(k, row)).map(|k| k as u64));
        Ok(true)
    })
}

/// `array_replace(a, from, to)`: every element not distinct from `from` is `to`.
fn replace(list: &ListArray, from: &ArrayRef, to: &ArrayRef) -> Result<ListArray> {
    let cmp = Compare::new(list.values().as_ref(), from.as_ref())?;
    let mut out = Rows::new(list.len());
    let mut picks = Vec::new();
    for row in 0..list.len() {
        if list.is_null(row) {
            out.null();
            continue;
        }
        picks.extend(bounds(list, row).map(|k| if cmp.same(k, row) { (1, row) } else { (0, k) }));
        out.end(picks.len())?;
    }
    let values = interleave(&[list.values().as_ref(), to.as_ref()], &picks)?;
    out.finish(values)
}

/// PostgreSQL's limit on an array's elements.
const MAX_ELEMENTS: i64 = 134_217_727;

/// `array_fill(x, dims [, lower_bounds])` of one dimension: `dims[1]` copies of `x`.
fn fill(value: &ArrayRef, dims: &ListArray, lower: Option<&ListArray>) -> Result<ListArray> {
    let null_bounds = || fail(SqlState::NullValueNotAllowed, "dimension array or low bound array cannot be null");
    let dim_values = dims.values().as_primitive::<Int64Type>();
    let lower_values = lower.map(|l| l.values().as_primitive::<Int64Type>());
    gather(dims.len(), value, |row, picks| {
        if dims.is_null(row) || lower.is_some_and(|l| l.is_null(row)) {
            return Err(null_bounds());
        }
        let d = bounds(dims, row);
        if let (Some(l), Some(lv)) = (lower, lower_values) {
            let lb = bounds(l, row);
            if lb.len() != d.len() {
                return Err(SqlError::new(SqlState::ArraySubscriptError, "wrong number of array subscripts")
                    .with_detail("Low bound array has different size than dimensions array.")
                    .into());
            }
            if lb.clone().any(|k| lv.is_null(k)) {
                return Err(fail(SqlState::NullValueNotAllowed, "dimension values cannot be null"));
            }
            if lb.clone().any(|k| lv.value(k) != 1) {
                return Err(SqlError::unsupported(format!("{} are not supported by weir", literal::LOWER_BOUNDS)).into());
            }
        }
        match d.len() {
            0 => return Ok(true),
            1 => {}
            _ => return Err(multidimensional()),
        }
        if dim_values.is_null(d.start) {
            return Err(fail(SqlState::NullValueNotAllowed, "dimension values cannot be null"));
        }
        let n = dim_values.value(d.start);
        if !(0..=MAX_ELEMENTS).contains(&n) {
            return Err(fail(SqlState::ProgramLimitExceeded, format!("array size exceeds the maximum allowed ({MAX_ELEMENTS})")));
        }
        picks.extend(std::iter::repeat_n(row as u64, n as usize));
        Ok(true)
    })
}

/// `trim_array(a, n)`: the array without its last `n` elements.
fn trim(list: &ListArray, n: &Int64Array) -> Result<ListArray> {
    gather(list.len(), list.values(), |row, kept| {
        if list.is_null(row) || n.is_null(row) {
            return Ok(false);
        }
        let r = bounds(list, row);
        let cut = n.value(row);
        if cut < 0 || cut > r.len() as i64 {
            return Err(fail(SqlState::ArraySubscriptError, format!("number of elements to trim must be between 0 and {}", r.len())));
        }
        kept.extend((r.start..r.end - cut as usize).map(|k| k as u64));
        Ok(true)
    })
}

/// `a[lo:hi]`: the elements from subscript `lo` through `hi`, within the
/// array. With more pairs of bounds than the array's one dimension, an
/// empty array, as PostgreSQL's slice of too many subscripts is.
fn slice(list: &ListArray, pairs: &[ArrayRef]) -> Result<ListArray> {
    let ints: Vec<&Int64Array> = pairs.iter().map(|b| b.as_primitive()).collect();
    gather(list.len(), list.values(), |row, kept| {
        if list.is_null(row) || ints.iter().any(|b| b.is_null(row)) {
            return Ok(false);
        }
        let r = bounds(list, row);
        let first = ints[0].value(row).max(1) as u64;
        let last = ints[1].value(row).min(r.len() as i64);
        if ints.len() == 2 && last >= first as i64 {
            kept.extend((first..=last as u64).map(|s| r.start as u64 + s - 1));
        }
        Ok(true)
    })
}

/// The element type under every level of lists.
fn innermost(t: &DataType) -> &DataType {
    list_element(t).map_or(t, innermost)
}

/// `a[i][j]...`: the element at these subscripts, NULL when one is out of
/// range (zero or negative too) or NULL, or when their number is not the
/// array's dimensions (as PostgreSQL has it).
fn element(array: &ArrayRef, indexes: &[ArrayRef]) -> Result<ArrayRef> {
    let mut levels: Vec<&ListArray> = vec![];
    let mut t = array;
    while let Some(l) = t.as_list_opt::<i32>() {
        levels.push(l);
        t = l.values();
    }
    if levels.len() != indexes.len() {
        return Ok(datafusion::arrow::array::new_null_array(innermost(array.data_type()), array.len()));
    }
    let ints: Vec<&Int64Array> = indexes.iter().map(|i| i.as_primitive()).collect();
    let picks: UInt64Array = (0..array.len())
        .map(|row| {
            levels.iter().zip(&ints).try_fold(row, |at, (list, i)| {
                let r = bounds(list, at);
                let i = (!list.is_null(at) && !i.is_null(row)).then(|| i.value(row))?;
                (i >= 1 && i as usize <= r.len()).then(|| r.start + i as usize - 1)
            })
        })
        .map(|at| at.map(|at| at as u64))
        .collect();
    Ok(take(t.as_ref(), &picks, None)?)
}

/// Whether some non-NULL element of row `ra` of `a` equals one of row `rb` of `b`.
fn shares(cmp: &Compare, mut ra: Range<usize>, rb: Range<usize>) -> bool {
    ra.any(|i| rb.clone().any(|j| cmp.order(i, j) == Some(Ordering::Equal)))
}

/// `a && b`: the arrays have a (non-NULL) element in common.
fn overlap(a: &ListArray, b: &ListArray) -> Result<BooleanArray> {
    let cmp = Compare::new(a.values().as_ref(), b.values().as_ref())?;
    Ok((0..a.len()).map(|row| (!a.is_null(row) && !b.is_null(row)).then(|| shares(&cmp, bounds(a, row), bounds(b, row)))).collect())
}

/// `a @> b`: every element of `b` is one of `a`'s (a NULL in `b` never is).
fn contains(a: &ListArray, b: &ListArray) -> Result<BooleanArray> {
    let cmp = Compare::new(a.values().as_ref(), b.values().as_ref())?;
    Ok((0..a.len())
        .map(|row| {
            if a.is_null(row) || b.is_null(row) {
                return None;
            }
            Some(bounds(b, row).all(|j| shares(&cmp, bounds(a, row), j..j + 1)))
        })
        .collect())
}

/// The test of an ordering of `x` against an element that comparison `op` is.
fn comparison(op: &str) -> Option<fn(Ordering) -> bool> {
    Some(match op {
        "=" => Ordering::is_eq,
        "<>" => Ordering::is_ne,
        "<" => Ordering::is_lt,
        "<=" => Ordering::is_le,
        ">" => Ordering::is_gt,
        ">=" => Ordering::is_ge,
        _ => return None,
    })
}

/// `x op ANY (a)` (or `ALL`), as PostgreSQL's three-valued logic has it:
/// ANY is true if some comparison is, else NULL if some is NULL, else false
/// (so false for an empty array); ALL the other way round.
fn quantified(all: bool, array: &ArrayRef, x: &ArrayRef, op: &ColumnarValue) -> Result<BooleanArray> {
    let op = match op {
        ColumnarValue::Scalar(op) => op.try_as_str().flatten().unwrap_or(""),
        ColumnarValue::Array(_) => "",
    };
    let satisfies = comparison(op).ok_or_else(|| fail(SqlState::UndefinedFunction, format!("operator does not exist for ANY/ALL: \"{op}\"")))?;
    let parsed;
    let list = if is_text(array.data_type()) {
        parsed = cast(&from_text(cast(array, &DataType::Utf8)?.as_string())?, &list_of(x.data_type().clone()))?;
        parsed.as_list::<i32>()
    } else {
        array.as_list::<i32>()
    };
    let cmp = Compare::new(x.as_ref(), list.values().as_ref())?;
    Ok((0..list.len())
        .map(|row| {
            if list.is_null(row) {
                return None;
            }
            let mut unknown = false;
            for k in bounds(list, row) {
                match cmp.order(row, k).map(satisfies) {
                    None => unknown = true,
                    Some(hit) if hit != all => return Some(!all),
                    Some(_) => {}
                }
            }
            if unknown { None } else { Some(all) }
        })
        .collect())
}

/// Text read as arrays of text (`weir_array_in`): 22P02 for text that is
/// not an array literal, 0A000 for a multidimensional one.
fn from_text(texts: &StringArray) -> Result<ListArray> {
    let mut out = Rows::new(texts.len());
    let mut items: Vec<Option<String>> = Vec::new();
    for t in texts.iter() {
        let Some(t) = t else {
            out.null();
            continue;
        };
        items.extend(literal::parse(t).map_err(|bad| DataFusionError::from(bad.error(t)))?);
        out.end(items.len())?;
    }
    out.finish(Arc::new(StringArray::from(items)))
}

/// Each element's text as PostgreSQL's output function writes it inside an
/// array: booleans `t`/`f`, bytea in hex, timestamps and intervals as weir's
/// text casts write them, the rest as its cast to text.
fn element_texts(values: &ArrayRef, config: &Arc<ConfigOptions>) -> Result<ArrayRef> {
    Ok(match values.data_type() {
        DataType::Boolean => Arc::new(values.as_boolean().iter().map(|b| b.map(|b| if b { "t" } else { "f" })).collect::<StringArray>()),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            let bytes = cast(values, &DataType::Binary)?;
            Arc::new(bytes.as_binary::<i32>().iter().map(|b| b.map(hex)).collect::<StringArray>())
        }
        DataType::Timestamp(_, zone) => {
            let micros = cast(values, &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()))?;
            let f = super::named("weir_timestamp_text");
            let args = ScalarFunctionArgs {
                arg_fields: vec![Arc::new(Field::new("t", micros.data_type().clone(), true))],
                number_rows: micros.len(),
                args: vec![ColumnarValue::Array(micros)],
                return_field: Arc::new(Field::new("t", DataType::Utf8, true)),
                config_options: config.clone(),
            };
            f.invoke_with_args(args)?.to_array(values.len())?
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let intervals = values.as_primitive::<IntervalMonthDayNanoType>();
            Arc::new(intervals.iter().map(|v| v.map(super::interval_text::text)).collect::<StringArray>())
        }
        t if list_element(t).is_some() => return Err(multidimensional()),
        _ => cast(values, &DataType::Utf8)?,
    })
}

/// bytea's text: `\x` and two hex digits a byte.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("\\x");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Arrays as text (`weir_array_text`), as PostgreSQL writes them.
fn to_text(list: &ListArray, config: &Arc<ConfigOptions>) -> Result<StringArray> {
    let texts = element_texts(list.values(), config)?;
    let texts = texts.as_string::<i32>();
    Ok((0..list.len())
        .map(|row| (!list.is_null(row)).then(|| literal::write(bounds(list, row).map(|k| (!texts.is_null(k)).then(|| texts.value(k))))))
        .collect())
}

/// `weir_array_ordinals(a, ...)`: 1 through the longest array's length, the
/// ordinals `WITH ORDINALITY` numbers the rows of `unnest(a, ...)` with.
fn ordinals(lists: &[&ListArray]) -> Result<ListArray> {
    let rows = lists.first().map_or(0, |l| l.len());
    let mut out = Rows::new(rows);
    let mut values = Vec::new();
    for row in 0..rows {
        match lists.iter().filter(|l| !l.is_null(row)).map(|l| bounds(l, row).len()).max() {
            Some(n) => {
                values.extend(1..=n as i64);
                out.end(values.len())?;
            }
            None => out.null(),
        }
    }
    out.finish(Arc::new(Int64Array::from(values)))
}

#[cfg(test)]
mod tests;
