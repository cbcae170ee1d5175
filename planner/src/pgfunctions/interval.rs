//! PostgreSQL's functions that build dates, times and intervals or compute
//! them where DataFusion has none or answers differently: `age` (field by
//! field, borrowing from the month lengths), `make_date`, `make_timestamp`,
//! `make_timestamptz`, `make_time`, `make_interval` (with
//! [`positional_make_interval`] for its named arguments), and `interval *
//! number`, `interval / number` (as `weir_interval_mul` and
//! `weir_interval_div`, planned by [`IntervalOperators`]), with
//! PostgreSQL's errors and SQLSTATEs.
//!
//! An interval is Arrow's (months, days, nanoseconds); its time holds at
//! most i64 nanoseconds (about 2.56 million hours), a thousandth of
//! PostgreSQL's range, and past it weir says `interval out of range`.

use super::datetime::{DAY_US, Fields, UNIX_JULIAN_DAY, c_g, days_from_civil, days_in_month, from_local, pg_error, session_zone, to_local};
use super::{Zone, columnar};
use crate::SqlState;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Builder, IntervalMonthDayNanoBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit};
use datafusion::common::{DFSchema, Result, plan_err};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility};
use datafusion::sql::sqlparser::ast::{self, BinaryOperator, FunctionArg, FunctionArgExpr, FunctionArguments};
use std::sync::Arc;

const INTERVAL: DataType = DataType::Interval(IntervalUnit::MonthDayNano);
/// The first year past PostgreSQL's julian day numbers.
const JULIAN_MAX_YEAR: i64 = 5_874_898;

pub fn all() -> Vec<ScalarUDF> {
    let mut out = vec![ScalarUDF::new_from_impl(Age(Signature::user_defined(Volatility::Stable)))];
    for kind in [Make::Date, Make::Timestamp, Make::TimestampTz, Make::Time, Make::Interval] {
        // make_interval() takes no argument at all, as well as up to seven.
        let signature = match kind {
            Make::Interval => Signature::one_of(vec![TypeSignature::Nullary, TypeSignature::UserDefined], Volatility::Immutable),
            Make::TimestampTz => Signature::user_defined(Volatility::Stable),
            _ => Signature::user_defined(Volatility::Immutable),
        };
        out.push(ScalarUDF::new_from_impl(MakeFn { kind, signature }));
    }
    for divide in [false, true] {
        out.push(ScalarUDF::new_from_impl(Scale { divide, signature: Signature::user_defined(Volatility::Immutable) }));
    }
    out.push(interval_key());
    out
}

fn out_of_range() -> datafusion::error::DataFusionError {
    pg_error(SqlState::DatetimeFieldOverflow, "interval out of range")
}

/// An interval of months, days and microseconds, refused past Arrow's range.
fn interval(months: i64, days: i64, micros: i128) -> Result<IntervalMonthDayNano> {
    let months = i32::try_from(months).map_err(|_| out_of_range())?;
    let days = i32::try_from(days).map_err(|_| out_of_range())?;
    let nanos = i64::try_from(micros * 1000).map_err(|_| out_of_range())?;
    Ok(IntervalMonthDayNano::new(months, days, nanos))
}

/// PostgreSQL's `age(a, b)` of two local times (microseconds): `a - b`
/// field by field, each negative field borrowing from the next, days from
/// the length of the earlier time's month.
pub(super) fn age(a: i64, b: i64) -> IntervalMonthDayNano {
    if a < b {
        let v = age(b, a);
        return IntervalMonthDayNano::new(-v.months, -v.days, -v.nanoseconds);
    }
    let (later, earlier) = (Fields::of(a), Fields::of(b));
    // micro, second, minute, hour, day: each negative one borrows from the next.
    let mut f = [later.micro - earlier.micro, later.second - earlier.second, later.minute - earlier.minute, later.hour - earlier.hour, later.day - earlier.day];
    for (i, size) in [1_000_000, 60, 60, 24].into_iter().enumerate() {
        if f[i] < 0 {
            f[i] += size;
            f[i + 1] -= 1;
        }
    }
    let [micro, second, minute, hour, mut day] = f;
    let mut month = later.month - earlier.month;
    let mut year = later.year - earlier.year;
    while day < 0 {
        day += days_in_month(earlier.year, earlier.month);
        month -= 1;
    }
    if month < 0 {
        month += 12;
        year -= 1;
    }
    let micros = ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro;
    IntervalMonthDayNano::new((year * 12 + month) as i32, day as i32, micros * 1000)
}

/// The type a timestamp argument of `age` is read as (its zone, if any).
fn age_arg(t: &DataType) -> Option<Option<Arc<str>>> {
    match t {
        DataType::Timestamp(_, tz) => Some(tz.clone()),
        DataType::Date32 | DataType::Date64 | DataType::Null | DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => Some(None),
        _ => None,
    }
}

/// `age(timestamp, timestamp)`, `age(timestamp)` (from today's midnight),
/// dates read as timestamps, a timestamptz read in the session's zone.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Age(Signature);

impl ScalarUDFImpl for Age {
    fn name(&self) -> &str {
        "age"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let zones: Option<Vec<Option<Arc<str>>>> = args.iter().map(age_arg).collect();
        match zones {
            Some(zones) if (1..=2).contains(&zones.len()) => {
                let zone = zones.iter().flatten().next().cloned();
                Ok(vec![DataType::Timestamp(TimeUnit::Microsecond, zone); zones.len()])
            }
            _ => plan_err!("function age({args:?}) does not exist"),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(INTERVAL)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let with_zone = matches!(args.args[0].data_type(), DataType::Timestamp(_, Some(_)));
        let zone = session_zone(&args);
        let local = |v: i64| if with_zone { to_local(&zone, v) } else { v };
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let today = to_local(&zone, chrono::Utc::now().timestamp_micros()).div_euclid(DAY_US) * DAY_US;
        let last = arrays[arrays.len() - 1].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        let first = (arrays.len() == 2).then(|| arrays[0].as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>());
        let mut out = IntervalMonthDayNanoBuilder::with_capacity(last.len());
        for i in 0..last.len() {
            let a = match first {
                Some(f) if f.is_null(i) => None,
                Some(f) => Some(local(f.value(i))),
                None => Some(today),
            };
            out.append_option(a.filter(|_| last.is_valid(i)).map(|a| age(a, local(last.value(i)))));
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

/// Days from 1970 of a date make_date or make_timestamp takes (a negative
/// year is BC); `shown` is the year its errors print.
fn checked_date(y: i64, m: i64, d: i64, shown: i64) -> Result<i64> {
    let year = if y < 0 { y + 1 } else { y };
    if y == 0 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(year, m) {
        return Err(pg_error(SqlState::DatetimeFieldOverflow, format!("date field value out of range: {shown}-{m:02}-{d:02}")));
    }
    // The julian day count starts in November 4714 BC.
    if year < -4713 || (year == -4713 && m < 11) || year > JULIAN_MAX_YEAR || (year == JULIAN_MAX_YEAR && m >= 6) {
        return Err(pg_error(SqlState::DatetimeFieldOverflow, format!("date out of range: {shown}-{m:02}-{d:02}")));
    }
    Ok(days_from_civil(year, m, d))
}

/// PostgreSQL's `make_date`: days from 1970.
pub(super) fn make_date(y: i64, m: i64, d: i64) -> Result<i32> {
    let shown = if y < 0 { y + 1 } else { y };
    let days = checked_date(y, m, d, shown)?;
    if days < -UNIX_JULIAN_DAY || days >= days_from_civil(JULIAN_MAX_YEAR, 1, 1) {
        return Err(pg_error(SqlState::DatetimeFieldOverflow, format!("date out of range: {shown}-{m:02}-{d:02}")));
    }
    Ok(days as i32)
}

/// The time of day (microseconds) of make_time's fields; 24:00:00 is one.
pub(super) fn checked_time(h: i64, m: i64, sec: f64) -> Result<i64> {
    let micros = (sec * 1e6).round_ties_even();
    let fits = (0..=24).contains(&h) && (0..60).contains(&m) && !sec.is_nan() && (0.0..=60e6).contains(&micros);
    if !fits || (h * 60 + m) * 60_000_000 + micros as i64 > DAY_US {
        return Err(pg_error(SqlState::DatetimeFieldOverflow, format!("time field value out of range: {h}:{m:02}:{}", c_g(sec))));
    }
    Ok((h * 60 + m) * 60_000_000 + micros as i64)
}

/// PostgreSQL's `make_timestamp`: microseconds from 1970.
pub(super) fn make_timestamp(y: i64, mo: i64, d: i64, h: i64, mi: i64, sec: f64) -> Result<i64> {
    let days = checked_date(y, mo, d, y)?;
    let t = days as i128 * DAY_US as i128 + checked_time(h, mi, sec)? as i128;
    let range = (-UNIX_JULIAN_DAY as i128 * DAY_US as i128)..(days_from_civil(294_277, 1, 1) as i128 * DAY_US as i128);
    if !range.contains(&t) {
        return Err(pg_error(SqlState::DatetimeFieldOverflow, format!("timestamp out of range: {y}-{mo:02}-{d:02} {h}:{mi:02}:{}", c_g(sec))));
    }
    Ok(t as i64)
}

/// The zone `make_timestamptz` names, as PostgreSQL reads it (`+05` is east of UTC).
fn zone_named(name: &str) -> Result<Zone> {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(datafusion::error::DataFusionError::External(Box::new(
            crate::SqlError::new(SqlState::InvalidParameterValue, format!("invalid input syntax for type numeric time zone: \"{name}\""))
                .with_hint("Numeric time zones must have \"-\" or \"+\" as first character."),
        )));
    }
    Zone::parse(name)
        .or_else(|| name.eq_ignore_ascii_case("utc").then(|| Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero offset"))))
        .ok_or_else(|| pg_error(SqlState::InvalidParameterValue, format!("time zone \"{name}\" not recognized")))
}

/// PostgreSQL's `make_interval(years, months, weeks, days, hours, mins, secs)`.
pub(super) fn make_interval(ints: [i64; 6], secs: f64) -> Result<IntervalMonthDayNano> {
    let [years, months, weeks, days, hours, mins] = ints;
    let micros = (secs * 1e6).round_ties_even();
    if !micros.is_finite() || micros.abs() > 1e20 {
        return Err(out_of_range());
    }
    let months = years.checked_mul(12).and_then(|y| y.checked_add(months)).ok_or_else(out_of_range)?;
    let days = weeks.checked_mul(7).and_then(|w| w.checked_add(days)).ok_or_else(out_of_range)?;
    interval(months, days, hours as i128 * 3_600_000_000 + mins as i128 * 60_000_000 + micros as i128)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Make {
    Date,
    Timestamp,
    TimestampTz,
    Time,
    Interval,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MakeFn {
    kind: Make,
    signature: Signature,
}

impl MakeFn {
    /// The (integer, double, text) arguments it takes, and how many may be left out.
    fn arity(&self) -> (usize, usize, usize, usize) {
        match self.kind {
            Make::Date => (3, 0, 0, 0),
            Make::Timestamp => (5, 1, 0, 0),
            Make::TimestampTz => (5, 1, 1, 1),
            Make::Time => (2, 1, 0, 0),
            Make::Interval => (6, 1, 0, 7),
        }
    }
}

/// One row of a make function, from its arguments (None if any is null).
fn make_row(kind: Make, ints: &[i64], secs: f64, zone: Option<&Zone>) -> Result<Value> {
    Ok(match kind {
        Make::Date => Value::Date(make_date(ints[0], ints[1], ints[2])?),
        Make::Timestamp => Value::Micros(make_timestamp(ints[0], ints[1], ints[2], ints[3], ints[4], secs)?),
        Make::TimestampTz => {
            let local = make_timestamp(ints[0], ints[1], ints[2], ints[3], ints[4], secs)?;
            Value::Micros(from_local(zone.expect("a zone for make_timestamptz"), local))
        }
        Make::Time => Value::Micros(checked_time(ints[0], ints[1], secs)?),
        Make::Interval => {
            let mut all = [0i64; 6];
            all[..ints.len()].copy_from_slice(ints);
            Value::Interval(make_interval(all, secs)?)
        }
    })
}

enum Value {
    Date(i32),
    Micros(i64),
    Interval(IntervalMonthDayNano),
}

fn is_int(t: &DataType) -> bool {
    t.is_integer() || matches!(t, DataType::Null | DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

impl ScalarUDFImpl for MakeFn {
    fn name(&self) -> &str {
        match self.kind {
            Make::Date => "make_date",
            Make::Timestamp => "make_timestamp",
            Make::TimestampTz => "make_timestamptz",
            Make::Time => "make_time",
            Make::Interval => "make_interval",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let (ints, floats, texts, optional) = self.arity();
        let all = ints + floats + texts;
        let fits = |(i, t): (usize, &DataType)| if i < ints { is_int(t) } else { i >= ints + floats || t.is_numeric() || is_int(t) };
        if args.len() > all || args.len() + optional < all || !args.iter().enumerate().all(fits) {
            return plan_err!("function {}({args:?}) does not exist", self.name());
        }
        let want = |i: usize| match i {
            i if i < ints => DataType::Int64,
            i if i < ints + floats => DataType::Float64,
            _ => DataType::Utf8,
        };
        Ok((0..args.len()).map(want).collect())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Make::Date => DataType::Date32,
            Make::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Make::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            Make::Time => DataType::Time64(TimeUnit::Microsecond),
            Make::Interval => INTERVAL,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (ints, floats, _, _) = self.arity();
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let session = session_zone(&args);
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if arrays.iter().any(|a| a.is_null(row)) {
                out.push(None);
                continue;
            }
            let int_args: Vec<i64> = arrays.iter().take(ints).map(|a| a.as_primitive::<Int64Type>().value(row)).collect();
            let secs = arrays.get(ints).filter(|_| floats == 1).map_or(0.0, |a| a.as_primitive::<Float64Type>().value(row));
            let zone = match arrays.get(ints + floats) {
                Some(a) if self.kind == Make::TimestampTz => Some(zone_named(a.as_string::<i32>().value(row))?),
                _ => None,
            };
            out.push(Some(make_row(self.kind, &int_args, secs, Some(zone.as_ref().unwrap_or(&session)))?));
        }
        columnar(self.build(out), all_scalar)
    }
}

impl MakeFn {
    fn build(&self, values: Vec<Option<Value>>) -> ArrayRef {
        match self.kind {
            Make::Date => {
                let mut b = Date32Builder::with_capacity(values.len());
                values.into_iter().for_each(|v| b.append_option(v.and_then(|v| if let Value::Date(d) = v { Some(d) } else { None })));
                Arc::new(b.finish())
            }
            Make::Time => {
                let mut b = Time64MicrosecondBuilder::with_capacity(values.len());
                values.into_iter().for_each(|v| b.append_option(v.and_then(|v| if let Value::Micros(t) = v { Some(t) } else { None })));
                Arc::new(b.finish())
            }
            Make::Timestamp | Make::TimestampTz => {
                let mut b = TimestampMicrosecondBuilder::with_capacity(values.len());
                values.into_iter().for_each(|v| b.append_option(v.and_then(|v| if let Value::Micros(t) = v { Some(t) } else { None })));
                let zone = (self.kind == Make::TimestampTz).then(|| Arc::from("+00:00"));
                Arc::new(b.finish().with_timezone_opt(zone))
            }
            Make::Interval => {
                let mut b = IntervalMonthDayNanoBuilder::with_capacity(values.len());
                values.into_iter().for_each(|v| b.append_option(v.and_then(|v| if let Value::Interval(i) = v { Some(i) } else { None })));
                Arc::new(b.finish())
            }
        }
    }
}

/// `rint(x * 1e6) / 1e6`, which PostgreSQL's TSROUND makes of a fraction.
fn ts_round(x: f64) -> f64 {
    (x * 1e6).round_ties_even() / 1e6
}

/// An interval scaled field by field as PostgreSQL's interval_mul and
/// interval_div do (`op` multiplies or divides): a month's fraction spills
/// into days at 30 a month, a day's into time at 24 hours, the time rounded
/// to the microsecond.
fn spill(v: IntervalMonthDayNano, op: impl Fn(f64) -> f64) -> Result<IntervalMonthDayNano> {
    let whole = |x: f64| if x.is_nan() || x > i32::MAX as f64 || x < i32::MIN as f64 { Err(out_of_range()) } else { Ok(x as i64) };
    let (months_f, days_f) = (op(v.months as f64), op(v.days as f64));
    let (months, mut days) = (whole(months_f)?, whole(days_f)?);
    let month_days = ts_round((months_f - months as f64) * 30.0);
    let mut secs = ts_round((days_f - days as f64 + month_days - month_days.trunc()) * 86_400.0);
    if secs.abs() >= 86_400.0 {
        let whole_days = (secs / 86_400.0).trunc();
        days += whole_days as i64;
        secs -= whole_days * 86_400.0;
    }
    days += month_days.trunc() as i64;
    let micros = (op(v.nanoseconds as f64 / 1000.0) + secs * 1e6).round_ties_even();
    if !micros.is_finite() || micros.abs() > 1e20 {
        return Err(out_of_range());
    }
    interval(months, days, micros as i128)
}

/// `interval * factor`.
pub(super) fn interval_mul(v: IntervalMonthDayNano, factor: f64) -> Result<IntervalMonthDayNano> {
    spill(v, |x| x * factor)
}

/// `interval / divisor`.
pub(super) fn interval_div(v: IntervalMonthDayNano, divisor: f64) -> Result<IntervalMonthDayNano> {
    if divisor == 0.0 {
        return Err(pg_error(SqlState::DivisionByZero, "division by zero"));
    }
    spill(v, |x| x / divisor)
}

/// `weir_interval_mul(interval, float8)` and `weir_interval_div(interval, float8)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Scale {
    divide: bool,
    signature: Signature,
}

impl ScalarUDFImpl for Scale {
    fn name(&self) -> &str {
        if self.divide { "weir_interval_div" } else { "weir_interval_mul" }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [DataType::Interval(_) | DataType::Duration(_) | DataType::Null, n] if n.is_numeric() || n == &DataType::Null => {
                Ok(vec![INTERVAL, DataType::Float64])
            }
            other => plan_err!("function {}({other:?}) does not exist", self.name()),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(INTERVAL)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (spans, factors) = (arrays[0].as_primitive::<IntervalMonthDayNanoType>(), arrays[1].as_primitive::<Float64Type>());
        let mut out = IntervalMonthDayNanoBuilder::with_capacity(spans.len());
        for (span, factor) in spans.iter().zip(factors.iter()) {
            let value = match (span, factor) {
                (Some(s), Some(f)) if self.divide => Some(interval_div(s, f)?),
                (Some(s), Some(f)) => Some(interval_mul(s, f)?),
                _ => None,
            };
            out.append_option(value);
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

/// Plans `interval * number`, `number * interval` and `interval / number`
/// as `weir_interval_mul` and `weir_interval_div`; anything else is left as it is.
#[derive(Debug)]
pub struct IntervalOperators;

impl ExprPlanner for IntervalOperators {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        if let Some(op) = comparison(&expr.op)
            && [&expr.left, &expr.right].iter().all(|e| matches!(e.get_type(schema), Ok(DataType::Interval(IntervalUnit::MonthDayNano))))
        {
            // PostgreSQL compares intervals as spans: a month is 30 days, a day 24 hours.
            let key = |e: Expr| super::named("weir_interval_key").call(vec![e]);
            return Ok(PlannerResult::Planned(datafusion::logical_expr::binary_expr(key(expr.left), op, key(expr.right))));
        }
        let multiply = matches!(expr.op, BinaryOperator::Multiply);
        if !multiply && !matches!(expr.op, BinaryOperator::Divide) {
            return Ok(PlannerResult::Original(expr));
        }
        let type_of = |e: &Expr| e.get_type(schema).ok();
        let is_interval = |t: &Option<DataType>| matches!(t, Some(DataType::Interval(_) | DataType::Duration(_)));
        let is_number = |t: &Option<DataType>| t.as_ref().is_some_and(DataType::is_numeric);
        let (left, right) = (type_of(&expr.left), type_of(&expr.right));
        let args = if is_interval(&left) && is_number(&right) {
            vec![expr.left, expr.right]
        } else if multiply && is_number(&left) && is_interval(&right) {
            vec![expr.right, expr.left]
        } else {
            return Ok(PlannerResult::Original(expr));
        };
        let name = if multiply { "weir_interval_mul" } else { "weir_interval_div" };
        Ok(PlannerResult::Planned(super::named(name).call(args)))
    }
}

fn comparison(op: &BinaryOperator) -> Option<datafusion::logical_expr::Operator> {
    use datafusion::logical_expr::Operator;
    Some(match op {
        BinaryOperator::Eq => Operator::Eq,
        BinaryOperator::NotEq => Operator::NotEq,
        BinaryOperator::Lt => Operator::Lt,
        BinaryOperator::LtEq => Operator::LtEq,
        BinaryOperator::Gt => Operator::Gt,
        BinaryOperator::GtEq => Operator::GtEq,
        _ => return None,
    })
}

/// `weir_interval_key(i)`: an interval's span in nanoseconds (a month is 30
/// days), by which PostgreSQL compares intervals.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalKey(Signature);

pub(super) fn interval_key() -> ScalarUDF {
    ScalarUDF::new_from_impl(IntervalKey(Signature::exact(vec![INTERVAL], Volatility::Immutable)))
}

impl ScalarUDFImpl for IntervalKey {
    fn name(&self) -> &str {
        "weir_interval_key"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, 0))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let values = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        const DAY: i128 = 86_400_000_000_000;
        let keys: datafusion::arrow::array::Decimal128Array = values
            .as_primitive::<IntervalMonthDayNanoType>()
            .iter()
            .map(|v| v.map(|v| (i128::from(v.months) * 30 + i128::from(v.days)) * DAY + i128::from(v.nanoseconds)))
            .collect();
        let array: ArrayRef = Arc::new(keys.with_precision_and_scale(38, 0)?);
        columnar(array, all_scalar)
    }
}

/// make_interval's parameters, in order.
const MAKE_INTERVAL_PARAMETERS: [&str; 7] = ["years", "months", "weeks", "days", "hours", "mins", "secs"];

/// The parameter a named argument of make_interval gives (unquoted names
/// match in any case).
fn parameter_of(name: &ast::Ident) -> Option<usize> {
    MAKE_INTERVAL_PARAMETERS.iter().position(|p| if name.quote_style.is_some() { *p == name.value } else { p.eq_ignore_ascii_case(&name.value) })
}

/// Rewrites a call of `make_interval` with named arguments
/// (`make_interval(days => 10)`, which the PostgreSQL dialect parses as
/// `FunctionArg::ExprNamed` with an identifier for the name) into seven
/// positional ones, `0` for those not given: DataFusion resolves named
/// arguments only when none before them is missing. Any other call, and a
/// call PostgreSQL would refuse (an unknown or repeated name, a positional
/// argument after a named one), is left as it is, to fail in planning.
pub fn positional_make_interval(f: &mut ast::Function) {
    let name = f.name.to_string().to_lowercase();
    if name != "make_interval" && name != "pg_catalog.make_interval" {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else { return };
    if list.args.iter().all(|a| matches!(a, FunctionArg::Unnamed(_))) {
        return;
    }
    let mut slots: Vec<Option<ast::Expr>> = vec![None; MAKE_INTERVAL_PARAMETERS.len()];
    let mut named = false;
    for (i, arg) in list.args.iter().enumerate() {
        let (slot, value) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if !named => (Some(i), e),
            FunctionArg::Named { name, arg: FunctionArgExpr::Expr(e), .. }
            | FunctionArg::ExprNamed { name: ast::Expr::Identifier(name), arg: FunctionArgExpr::Expr(e), .. } => {
                named = true;
                (parameter_of(name), e)
            }
            _ => return,
        };
        match slot.and_then(|s| slots.get_mut(s)) {
            Some(place @ None) => *place = Some(value.clone()),
            _ => return,
        }
    }
    let zero = || ast::Expr::Value(ast::Value::Number("0".into(), false).into());
    list.args = slots.into_iter().map(|s| FunctionArg::Unnamed(FunctionArgExpr::Expr(s.unwrap_or_else(zero)))).collect();
}

#[cfg(test)]
mod tests {
    use super::super::datetime::offset_at;
    use super::*;

    const HOUR_US: i64 = 3_600_000_000;

    fn ts(y: i64, mo: i64, d: i64, h: i64, mi: i64, sec: f64) -> i64 {
        make_timestamp(y, mo, d, h, mi, sec).unwrap()
    }

    /// (months, days, microseconds) of an interval.
    fn parts(v: IntervalMonthDayNano) -> (i32, i32, i64) {
        (v.months, v.days, v.nanoseconds / 1000)
    }

    fn message(e: datafusion::error::DataFusionError) -> String {
        let e = crate::SqlError::from(e);
        format!("{} {}", e.state.code(), e.message)
    }

    #[test]
    fn age_borrows_like_postgres() {
        // Each expected value is PostgreSQL 15's (months, days, microseconds).
        let cases = [
            ((2024, 3, 10, 0, 0, 0.0), (2000, 2, 29, 0, 0, 0.0), (288, 10, 0)),
            ((2024, 3, 10, 12, 0, 0.0), (2024, 3, 9, 13, 30, 0.0), (0, 0, 81_000_000_000)),
            ((2000, 1, 1, 0, 0, 0.0), (2024, 3, 10, 0, 0, 0.0), (-290, -9, 0)),
            ((2024, 3, 31, 0, 0, 0.0), (2024, 2, 29, 0, 0, 0.0), (1, 2, 0)),
            ((2024, 3, 1, 0, 0, 0.0), (2024, 1, 31, 0, 0, 0.0), (1, 1, 0)),
            ((2024, 1, 31, 0, 0, 0.0), (2024, 3, 1, 0, 0, 0.0), (-1, -1, 0)),
            ((2024, 2, 29, 0, 0, 0.0), (2023, 2, 28, 0, 0, 0.0), (12, 1, 0)),
            ((2024, 3, 31, 0, 0, 0.5), (2024, 2, 29, 23, 59, 59.75), (1, 1, 750_000)),
            ((2024, 2, 29, 23, 59, 59.75), (2024, 3, 31, 0, 0, 0.5), (-1, -1, -750_000)),
            ((2024, 1, 1, 0, 0, 0.0), (2023, 12, 31, 23, 59, 59.999999), (0, 0, 1)),
            ((2023, 3, 30, 0, 0, 0.0), (2023, 1, 31, 0, 0, 0.0), (1, 30, 0)),
            ((2023, 1, 31, 0, 0, 0.0), (2023, 3, 30, 0, 0, 0.0), (-1, -30, 0)),
            ((2024, 12, 1, 0, 0, 0.0), (2024, 11, 30, 1, 0, 0.0), (0, 0, 23 * HOUR_US)),
            ((2024, 3, 1, 0, 0, 0.0), (2024, 2, 28, 12, 0, 0.0), (0, 1, 12 * HOUR_US)),
            ((2024, 5, 15, 0, 0, 0.0), (2024, 5, 15, 0, 0, 0.0), (0, 0, 0)),
        ];
        for (a, b, want) in cases {
            let got = parts(age(ts(a.0, a.1, a.2, a.3, a.4, a.5), ts(b.0, b.1, b.2, b.3, b.4, b.5)));
            assert_eq!(got, want, "age({a:?}, {b:?})");
        }
    }

    #[test]
    fn age_of_timestamptz_uses_the_session_zone() {
        // SET TimeZone='America/New_York'; age(timestamptz '2024-03-10 12:00Z',
        // timestamptz '2024-03-09 12:00Z') is 1 day 01:00:00.
        let zone = Zone::parse("America/New_York").unwrap();
        let (a, b) = (ts(2024, 3, 10, 12, 0, 0.0), ts(2024, 3, 9, 12, 0, 0.0));
        assert_eq!(parts(age(to_local(&zone, a), to_local(&zone, b))), (0, 1, HOUR_US));
        // age(timestamptz '2024-11-04 00:00-05', timestamptz '2024-11-03 00:00-04') is 1 day.
        let (a, b) = (ts(2024, 11, 4, 5, 0, 0.0), ts(2024, 11, 3, 4, 0, 0.0));
        assert_eq!(parts(age(to_local(&zone, a), to_local(&zone, b))), (0, 1, 0));
    }

    #[test]
    fn makes_dates_and_times_like_postgres() {
        assert_eq!(ts(2024, 1, 1, 23, 59, 60.0), ts(2024, 1, 2, 0, 0, 0.0));
        assert_eq!(ts(2024, 1, 1, 23, 59, 59.9999999), ts(2024, 1, 2, 0, 0, 0.0));
        assert_eq!(ts(2024, 1, 1, 24, 0, 0.0), ts(2024, 1, 2, 0, 0, 0.0));
        // 2024-01-01 12:30:15.123457
        assert_eq!(ts(2024, 1, 1, 12, 30, 15.123456789) - ts(2024, 1, 1, 12, 30, 15.0), 123_457);
        // 0044-03-15 BC is the astronomical year -43.
        assert_eq!(ts(-44, 3, 15, 12, 0, 0.0), days_from_civil(-43, 3, 15) * DAY_US + 12 * HOUR_US);
        assert_eq!(make_date(-44, 3, 15).unwrap() as i64, days_from_civil(-43, 3, 15));
        assert_eq!(make_date(5_874_897, 12, 31).unwrap() as i64, days_from_civil(5_874_897, 12, 31));
        assert_eq!(checked_time(24, 0, 0.0).unwrap(), DAY_US);
        assert_eq!(checked_time(23, 59, 60.0).unwrap(), DAY_US);
        assert_eq!(checked_time(12, 0, 59.9999996).unwrap(), 12 * HOUR_US + 60_000_000);
        assert_eq!(checked_time(12, 0, -0.0000001).unwrap(), 12 * HOUR_US);
        assert_eq!(checked_time(12, 30, 15.5).unwrap(), 12 * HOUR_US + 30 * 60_000_000 + 15_500_000);
        // 4714-11-24 BC 00:00 is the first timestamp.
        assert!(make_timestamp(-4714, 11, 24, 0, 0, 0.0).is_ok());
        assert!(make_timestamp(294_276, 12, 31, 23, 59, 59.0).is_ok());
    }

    #[test]
    fn make_errors_are_postgres_errors() {
        let cases: [(Result<i64>, &str); 16] = [
            (make_timestamp(2024, 13, 1, 0, 0, 0.0), "22008 date field value out of range: 2024-13-01"),
            (make_timestamp(2024, 2, 30, 0, 0, 0.0), "22008 date field value out of range: 2024-02-30"),
            (make_timestamp(2024, 1, 1, 25, 0, 0.0), "22008 time field value out of range: 25:00:00"),
            (make_timestamp(2024, 1, 1, 23, 60, 0.0), "22008 time field value out of range: 23:60:00"),
            (make_timestamp(0, 3, 15, 12, 0, 0.0), "22008 date field value out of range: 0-03-15"),
            (make_timestamp(2024, 1, 1, 0, 0, -1.0), "22008 time field value out of range: 0:00:-1"),
            (make_timestamp(2024, 1, 1, -1, 0, 0.0), "22008 time field value out of range: -1:00:00"),
            (make_timestamp(2024, 1, 1, 0, 0, f64::NAN), "22008 time field value out of range: 0:00:NaN"),
            (make_timestamp(2024, 1, 1, 0, 0, f64::INFINITY), "22008 time field value out of range: 0:00:Infinity"),
            (make_timestamp(300_000, 1, 1, 5, 7, 1.5), "22008 timestamp out of range: 300000-01-01 5:07:1.5"),
            (make_timestamp(-5000, 1, 1, 0, 0, 0.0), "22008 date out of range: -5000-01-01"),
            (make_timestamp(-44, 2, 30, 0, 0, 0.0), "22008 date field value out of range: -44-02-30"),
            (checked_time(12, 0, 61.123456789), "22008 time field value out of range: 12:00:61.1235"),
            (checked_time(12, 0, 1e20), "22008 time field value out of range: 12:00:1e+20"),
            (checked_time(23, 59, 60.000001), "22008 time field value out of range: 23:59:60"),
            (checked_time(24, 0, 0.000001), "22008 time field value out of range: 24:00:1e-06"),
        ];
        for (got, want) in cases {
            assert_eq!(message(got.unwrap_err()), want);
        }
        let dates: [(Result<i32>, &str); 5] = [
            (make_date(2024, 13, 1), "22008 date field value out of range: 2024-13-01"),
            (make_date(0, 1, 1), "22008 date field value out of range: 0-01-01"),
            (make_date(-44, 13, 1), "22008 date field value out of range: -43-13-01"),
            (make_date(-5000, 1, 1), "22008 date out of range: -4999-01-01"),
            (make_date(5_874_898, 1, 1), "22008 date out of range: 5874898-01-01"),
        ];
        for (got, want) in dates {
            assert_eq!(message(got.unwrap_err()), want);
        }
        assert_eq!(message(zone_named("foo").err().unwrap()), "22023 time zone \"foo\" not recognized");
        assert_eq!(message(zone_named("5").err().unwrap()), "22023 invalid input syntax for type numeric time zone: \"5\"");
    }

    #[test]
    fn make_timestamptz_reads_the_zone_like_postgres() {
        // PostgreSQL: make_timestamptz(2024, 3, 10, 2, 30, 0, 'America/New_York') is
        // 2024-03-10 07:30:00+00 (a time in the gap), (2024, 11, 3, 1, 30, 0) is
        // 06:30:00+00 (the later of two), '+05' is 07:00:00+00, '+05:30' 06:30:00+00.
        let ny = zone_named("America/New_York").unwrap();
        assert_eq!(from_local(&ny, ts(2024, 3, 10, 2, 30, 0.0)), ts(2024, 3, 10, 7, 30, 0.0));
        assert_eq!(from_local(&ny, ts(2024, 11, 3, 1, 30, 0.0)), ts(2024, 11, 3, 6, 30, 0.0));
        assert_eq!(from_local(&zone_named("+05").unwrap(), ts(2024, 7, 1, 12, 0, 0.0)), ts(2024, 7, 1, 7, 0, 0.0));
        assert_eq!(from_local(&zone_named("+05:30").unwrap(), ts(2024, 7, 1, 12, 0, 0.0)), ts(2024, 7, 1, 6, 30, 0.0));
        assert_eq!(from_local(&zone_named("EST").unwrap(), ts(2024, 7, 1, 12, 0, 0.0)), ts(2024, 7, 1, 17, 0, 0.0));
        assert_eq!(offset_at(&ny, ts(2024, 7, 1, 12, 0, 0.0)), -14400);
    }

    #[test]
    fn make_interval_like_postgres() {
        let cases: [([i64; 6], f64, (i32, i32, i64)); 8] = [
            ([1, 2, 3, 4, 5, 6], 7.5, (14, 25, 18_367_500_000)),
            ([0, 0, 0, 10, 0, 0], 0.0, (0, 10, 0)),
            ([0, 0, 0, 0, 1, 90], 0.0, (0, 0, 9_000_000_000)),
            ([0, 0, 0, 0, 0, 0], 1.000001, (0, 0, 1_000_001)),
            ([0, 0, 0, 0, 0, 0], 1.0000005, (0, 0, 1_000_001)),
            ([0, 0, 0, 0, 0, 0], 1.0000015, (0, 0, 1_000_002)),
            ([0, 0, 0, 0, 0, 0], -1.0000005, (0, 0, -1_000_001)),
            ([-1, 0, 0, 3, 0, 0], -0.5, (-12, 3, -500_000)),
        ];
        for (ints, secs, want) in cases {
            assert_eq!(parts(make_interval(ints, secs).unwrap()), want, "make_interval({ints:?}, {secs})");
        }
        // PostgreSQL 15 refuses infinite and NaN seconds; it wraps around on
        // overflow, where weir refuses (as PostgreSQL 17 does).
        for secs in [f64::INFINITY, f64::NAN, 1e300] {
            assert_eq!(message(make_interval([0; 6], secs).unwrap_err()), "22008 interval out of range");
        }
    }

    #[test]
    fn scales_intervals_like_postgres() {
        let iv = |m: i32, d: i32, us: i64| IntervalMonthDayNano::new(m, d, us * 1000);
        let hms = |h: i64, m: i64, s: f64| h * HOUR_US + m * 60_000_000 + (s * 1e6) as i64;
        // (interval, factor, PostgreSQL's months, days, microseconds)
        let products = [
            (iv(0, 0, hms(2, 30, 0.0)), 2.0, (0, 0, 18_000_000_000)),
            (iv(0, 0, HOUR_US), 1.5, (0, 0, 5_400_000_000)),
            (iv(0, 1, 0), 0.0, (0, 0, 0)),
            (iv(0, 1, HOUR_US), 2.0, (0, 2, 7_200_000_000)),
            (iv(1, 0, 0), 0.3, (0, 9, 0)),
            (iv(14, 3, hms(4, 5, 6.789)), 2.5, (35, 7, 79_966_972_500)),
            (iv(-1, -1, 0), 1.7, (-1, -22, -60_480_000_000)),
            (iv(1, 0, 0), 1.0 / 3.0, (0, 10, 0)),
            (iv(0, 29, hms(23, 59, 59.0)), 1.0000001, (0, 29, 86_399_259_200)),
            (iv(0, 1, 0), 1.5, (0, 1, 43_200_000_000)),
            (iv(0, 0, 1), 0.5, (0, 0, 0)),
            (iv(0, 0, 3), 0.5, (0, 0, 2)),
            (iv(1, 0, 0), -0.5, (0, -15, 0)),
            (iv(1, 0, 0), 2_147_483_647.0, (2_147_483_647, 0, 0)),
        ];
        for (v, f, want) in products {
            assert_eq!(parts(interval_mul(v, f).unwrap()), want, "{v:?} * {f}");
        }
        let quotients = [
            (iv(0, 0, HOUR_US), 2.0, (0, 0, 1_800_000_000)),
            (iv(0, 1, 0), 3.0, (0, 0, 28_800_000_000)),
            (iv(1, 0, 0), 2.0, (0, 15, 0)),
            (iv(1, 0, 0), 3.0, (0, 10, 0)),
            (iv(1, 1, 0), 7.0, (0, 4, 37_028_546_743)),
            (iv(14, 3, hms(4, 5, 6.789)), 3.3, (4, 8, 20_165_670_072)),
            (iv(0, 0, 1), 2.0, (0, 0, 0)),
            (iv(2, 3, 0), -4.0, (0, -15, -64_800_000_000)),
            (iv(0, 0, HOUR_US), f64::INFINITY, (0, 0, 0)),
        ];
        for (v, f, want) in quotients {
            assert_eq!(parts(interval_div(v, f).unwrap()), want, "{v:?} / {f}");
        }
        // PostgreSQL: interval out of range, and division by zero.
        for (v, f) in [(iv(0, 5, 0), 1e9), (iv(1, 0, 0), 1e10), (iv(0, 0, HOUR_US), f64::NAN), (iv(0, 0, HOUR_US), f64::INFINITY)] {
            assert_eq!(message(interval_mul(v, f).unwrap_err()), "22008 interval out of range");
        }
        for (v, f) in [(iv(1, 0, 0), 1e-10), (iv(0, 0, HOUR_US), f64::NAN), (iv(0, 1, 0), 1e-20)] {
            assert_eq!(message(interval_div(v, f).unwrap_err()), "22008 interval out of range");
        }
        assert_eq!(message(interval_div(iv(0, 0, HOUR_US), 0.0).unwrap_err()), "22012 division by zero");
        // PostgreSQL's interval '1 second' * 1e12 is 277777777:46:40, past the
        // nanoseconds Arrow holds.
        assert_eq!(message(interval_mul(iv(0, 0, 1_000_000), 1e12).unwrap_err()), "22008 interval out of range");
    }

    fn rewritten(sql: &str) -> String {
        let dialect = datafusion::sql::sqlparser::dialect::PostgreSqlDialect {};
        let mut e = datafusion::sql::sqlparser::parser::Parser::new(&dialect).try_with_sql(sql).unwrap().parse_expr().unwrap();
        if let ast::Expr::Function(f) = &mut e {
            positional_make_interval(f);
        }
        e.to_string()
    }

    #[test]
    fn named_make_interval_arguments_become_positional() {
        assert_eq!(rewritten("make_interval(days => 10)"), "make_interval(0, 0, 0, 10, 0, 0, 0)");
        assert_eq!(rewritten("make_interval(hours => 1, MINS => 90)"), "make_interval(0, 0, 0, 0, 1, 90, 0)");
        assert_eq!(rewritten("make_interval(secs => 1.000001)"), "make_interval(0, 0, 0, 0, 0, 0, 1.000001)");
        assert_eq!(rewritten("make_interval(1, 2, days => x + 1)"), "make_interval(1, 2, 0, x + 1, 0, 0, 0)");
        // Left alone: no named argument, an unknown or repeated name, another function.
        assert_eq!(rewritten("make_interval()"), "make_interval()");
        assert_eq!(rewritten("make_interval(1, 2)"), "make_interval(1, 2)");
        assert_eq!(rewritten("make_interval(foo => 1)"), "make_interval(foo => 1)");
        assert_eq!(rewritten("make_interval(days => 1, days => 2)"), "make_interval(days => 1, days => 2)");
        assert_eq!(rewritten("other(days => 1)"), "other(days => 1)");
    }
}

#[cfg(test)]
mod planned {

    /// The one value `sql` gives, as Arrow writes it, in a session with weir's functions.
    fn one(sql: &str, zone: &str) -> Result<String, String> {
        super::super::run_one(sql, zone).map(|(value, _)| value)
    }

    #[test]
    fn plans_and_runs_through_datafusion() {
        let utc = "+00:00";
        for (sql, want) in [
            ("SELECT age(timestamp '2024-03-10 00:00:00', timestamp '2000-02-29 00:00:00')", "288 mons 10 days"),
            ("SELECT age(date '2024-03-31', date '2024-02-29')", "1 mons 2 days"),
            ("SELECT interval '2 hours 30 minutes' * 2", "5 hours"),
            ("SELECT 2 * interval '1 day 1 hour'", "2 days 2 hours"),
            ("SELECT interval '1 month' / 2", "15 days"),
            ("SELECT interval '1 hour' * 1.5", "1 hours 30 mins"),
            ("SELECT make_interval(1, 2, 3, 4, 5, 6, 7.5)", "14 mons 25 days 5 hours 6 mins 7.500000000 secs"),
            ("SELECT make_interval()", "0 secs"),
            ("SELECT make_date(2024, 2, 29)", "2024-02-29"),
            ("SELECT make_timestamp(2024, 1, 1, 12, 30, 15.5)", "2024-01-01T12:30:15.500"),
            ("SELECT make_time(12, 30, 15.5)", "12:30:15.500"),
            ("SELECT isfinite(date '2024-01-01')", "true"),
            ("SELECT date_trunc('century', timestamp '2024-03-10 12:34:56')", "2001-01-01T00:00:00"),
            ("SELECT date_trunc('hours', timestamp '2024-03-10 12:34:56')", "2024-03-10T12:00:00"),
            ("SELECT date_trunc('quarter', interval '1 year 8 months 5 days')", "18 mons"),
            ("SELECT date_part('julian', date '2024-03-10')", "2460380.0"),
            ("SELECT weir_extract('julian', date '2024-03-10')", "2460380"),
            ("SELECT weir_extract('julian', timestamp '2024-03-10 06:00:00.5')", "2460380.25000578703703703704"),
            ("SELECT weir_extract('year', timestamp '2024-03-10 06:00:00.5')", "2024"),
        ] {
            assert_eq!(one(sql, utc).as_deref(), Ok(want), "{sql}");
        }
        let ny = "America/New_York";
        for (sql, want) in [
            ("SELECT make_timestamptz(2024, 7, 1, 12, 0, 0)", "2024-07-01T16:00:00Z"),
            ("SELECT make_timestamptz(2024, 3, 10, 2, 30, 0, 'America/New_York')", "2024-03-10T07:30:00Z"),
            ("SELECT date_trunc('day', timestamptz '2024-03-10 02:00:00+00')", "2024-03-09T00:00:00-05:00"),
            ("SELECT date_part('timezone', timestamptz '2024-01-01 12:00:00+00')", "-18000.0"),
            ("SELECT weir_extract('timezone', timestamptz '2024-07-01 12:00:00+00')", "-14400"),
        ] {
            assert_eq!(one(sql, ny).as_deref(), Ok(want), "{sql}");
        }
        let st_johns = "America/St_Johns";
        for (sql, want) in [
            ("SELECT weir_extract('timezone_hour', timestamptz '2024-07-01 12:00:00+00')", "-2"),
            ("SELECT weir_extract('timezone_minute', timestamptz '2024-07-01 12:00:00+00')", "-30"),
            ("SELECT weir_extract('julian', timestamptz '2024-07-01 12:00:00+00')", "2460493.39583333333333333333"),
        ] {
            assert_eq!(one(sql, st_johns).as_deref(), Ok(want), "{sql}");
        }
        for (sql, want) in [
            ("SELECT make_date(2024, 13, 1)", "date field value out of range: 2024-13-01 (22008)"),
            ("SELECT interval '1 hour' / 0", "division by zero (22012)"),
            ("SELECT date_trunc('week', interval '50 days')", "unit \"week\" not supported for type interval (0A000)"),
            ("SELECT date_trunc('foo', timestamp '2024-01-01 00:00:00')", "unit \"foo\" not recognized for type timestamp without time zone (22023)"),
            (
                "SELECT weir_extract('timezone', timestamp '2024-07-01 12:00:00')",
                "unit \"timezone\" not supported for type timestamp without time zone (0A000)",
            ),
        ] {
            let got = one(sql, utc).unwrap_err();
            assert!(got.starts_with(want), "{sql}: {got}");
        }
    }
}
