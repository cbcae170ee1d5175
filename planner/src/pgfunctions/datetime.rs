//! PostgreSQL's answers where DataFusion's date/time functions differ:
//! `extract` is numeric (seconds with six decimals, and the century, decade,
//! millennium, julian and timezone fields), `date_part` is double precision,
//! `date_trunc` knows PostgreSQL's unit names, the decade, century and
//! millennium, intervals, and truncates a timestamptz in the session's zone;
//! `isfinite`; and `justify_hours`, `justify_days`, `justify_interval` move
//! whole days and months as PostgreSQL does (`timestamp - timestamp` is
//! justified by hours). The calendar and zone helpers here serve
//! `interval.rs` too.

use super::{Zone, columnar};
use crate::SqlState;
use chrono::Offset;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, IntervalMonthDayNanoBuilder, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit, TimestampMicrosecondType,
};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

const DAY_NS: i64 = 86_400_000_000_000;

pub fn all() -> Vec<ScalarUDF> {
    let date_part = datafusion::functions::datetime::date_part();
    let mut out = vec![
        ScalarUDF::new_from_impl(Part { name: "weir_extract", inner: date_part.clone() }),
        ScalarUDF::new_from_impl(Part { name: "date_part", inner: date_part }),
        ScalarUDF::new_from_impl(Trunc { inner: datafusion::functions::datetime::date_trunc(), signature: Signature::user_defined(Volatility::Stable) }),
        ScalarUDF::new_from_impl(IsFinite(Signature::user_defined(Volatility::Immutable))),
    ];
    for kind in [Justify::Hours, Justify::Days, Justify::Interval] {
        out.push(ScalarUDF::new_from_impl(JustifyFn { kind, signature: Signature::user_defined(Volatility::Immutable) }));
    }
    out
}

/// `extract(field FROM x)` (numeric) or `date_part('field', x)` (double).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Part {
    name: &'static str,
    inner: Arc<ScalarUDF>,
}

impl Part {
    fn numeric(&self) -> bool {
        self.name == "weir_extract"
    }
}

/// The field named by a literal first argument.
fn field_name(args: &[ColumnarValue]) -> Option<String> {
    match args.first()? {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(f)) | ScalarValue::Utf8View(Some(f)) | ScalarValue::LargeUtf8(Some(f))) => Some(f.to_lowercase()),
        _ => None,
    }
}

/// The decimals of `extract`'s numeric result for a field of a value of type `t`.
fn extract_scale(field: &str, t: &DataType) -> i8 {
    match (field, t) {
        (_, DataType::Date32 | DataType::Date64) => 0,
        ("julian", DataType::Timestamp(..)) => 20,
        ("second" | "seconds" | "epoch", _) => 6,
        ("millisecond" | "milliseconds", _) => 3,
        _ => 0,
    }
}

impl Part {
    /// What DataFusion's date_part promises for these arguments.
    fn inner_field(&self, args: &ScalarFunctionArgs) -> Result<arrow_field::FieldRef> {
        let scalars: Vec<Option<&ScalarValue>> = args.args.iter().map(|a| if let ColumnarValue::Scalar(s) = a { Some(s) } else { None }).collect();
        let field = |f: &str| match f {
            "decade" | "century" | "millennium" => Some(ScalarValue::Utf8(Some("year".into()))),
            _ => None,
        };
        let replaced = field_name(&args.args).and_then(|f| field(&f));
        let mut scalars = scalars;
        if let Some(r) = &replaced {
            scalars[0] = Some(r);
        }
        self.inner.return_field_from_args(datafusion::logical_expr::ReturnFieldArgs { arg_fields: &args.arg_fields, scalar_arguments: &scalars })
    }
}

impl ScalarUDFImpl for Part {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        // The scale depends on the field, known only with the arguments.
        Ok(if self.numeric() { DataType::Decimal128(38, 6) } else { DataType::Float64 })
    }
    fn return_field_from_args(&self, args: datafusion::logical_expr::ReturnFieldArgs) -> Result<arrow_field::FieldRef> {
        let field = args.scalar_arguments.first().and_then(|a| a.and_then(|v| v.try_as_str().flatten().map(str::to_lowercase)));
        let t = args.arg_fields.get(1).map(|f| f.data_type().clone()).unwrap_or(DataType::Null);
        let dt = match (self.numeric(), field) {
            (true, Some(f)) => DataType::Decimal128(38, extract_scale(&f, &t)),
            (true, None) => DataType::Decimal128(38, 6),
            (false, _) => DataType::Float64,
        };
        Ok(Arc::new(arrow_field::Field::new(self.name, dt, true)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let want = args.return_field.data_type().clone();
        let field = field_name(&args.args);
        if let Some(f @ ("julian" | "timezone" | "timezone_hour" | "timezone_minute")) = field.as_deref() {
            return own_field(f, &args)?.cast_to(&want, None);
        }
        let derived = match field.as_deref() {
            Some("decade") => Some(("year", 10)),
            Some("century") => Some(("year", 100)),
            Some("millennium") => Some(("year", 1000)),
            _ => None,
        };
        let mut args = args;
        args.return_field = self.inner_field(&args)?;
        if let Some(scale @ (3 | 6)) = field.as_deref().map(|f| extract_scale(f, &DataType::Null)).filter(|_| field.as_deref() != Some("epoch")) {
            return self.with_fraction(args, scale, &want);
        }
        let value = match derived {
            Some((base, per)) => {
                let mut inner_args = args.clone();
                inner_args.args[0] = ColumnarValue::Scalar(ScalarValue::Utf8(Some(base.into())));
                let years = self.inner.invoke_with_args(inner_args)?.to_array(args.number_rows)?;
                let years = datafusion::arrow::compute::cast(&years, &DataType::Int64)?;
                let years = years.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                let out: datafusion::arrow::array::Int64Array = years.iter().map(|y| y.map(|y| period_of(y, per))).collect();
                ColumnarValue::Array(Arc::new(out) as ArrayRef)
            }
            None => self.inner.invoke_with_args(args)?,
        };
        value.cast_to(&want, None)
    }
}

impl Part {
    /// Seconds (`scale` 6) or milliseconds (3) with their fraction, which
    /// DataFusion's date_part drops: the microseconds, read at that scale.
    fn with_fraction(&self, mut args: ScalarFunctionArgs, scale: i8, want: &DataType) -> Result<ColumnarValue> {
        args.args[0] = ColumnarValue::Scalar(ScalarValue::Utf8(Some("microsecond".into())));
        args.return_field = self.inner_field(&args)?;
        let rows = args.number_rows;
        let micros = self.inner.invoke_with_args(args)?.to_array(rows)?;
        let micros = datafusion::arrow::compute::cast(&micros, &DataType::Int64)?;
        let micros = micros.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let exact: datafusion::arrow::array::Decimal128Array = micros.iter().map(|u| u.map(i128::from)).collect();
        let exact = exact.with_precision_and_scale(38, scale)?;
        ColumnarValue::Array(Arc::new(exact) as ArrayRef).cast_to(want, None)
    }
}

/// The decade (10), century (100) or millennium (1000) a year is in, as
/// PostgreSQL counts them (centuries and millennia start at year 1).
fn period_of(year: i64, per: i64) -> i64 {
    match per {
        10 => year.div_euclid(10),
        _ if year > 0 => (year + per - 1) / per,
        _ => -((per - 1 - (year - 1)) / per),
    }
}

mod arrow_field {
    pub use datafusion::arrow::datatypes::{Field, FieldRef};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Justify {
    Hours,
    Days,
    Interval,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JustifyFn {
    kind: Justify,
    signature: Signature,
}

/// Whole 24 hours become days, with the time keeping the days' sign.
fn justify_hours(v: IntervalMonthDayNano) -> IntervalMonthDayNano {
    let mut days = v.days as i64 + v.nanoseconds / DAY_NS;
    let mut ns = v.nanoseconds % DAY_NS;
    if days > 0 && ns < 0 {
        ns += DAY_NS;
        days -= 1;
    } else if days < 0 && ns > 0 {
        ns -= DAY_NS;
        days += 1;
    }
    IntervalMonthDayNano::new(v.months, days as i32, ns)
}

/// Whole 30 days become months, with the days keeping the months' sign.
fn justify_days(v: IntervalMonthDayNano) -> IntervalMonthDayNano {
    let mut months = v.months + v.days / 30;
    let mut days = v.days % 30;
    if months > 0 && days < 0 {
        days += 30;
        months -= 1;
    } else if months < 0 && days > 0 {
        days -= 30;
        months += 1;
    }
    IntervalMonthDayNano::new(months, days, v.nanoseconds)
}

impl ScalarUDFImpl for JustifyFn {
    fn name(&self) -> &str {
        match self.kind {
            Justify::Hours => "justify_hours",
            Justify::Days => "justify_days",
            Justify::Interval => "justify_interval",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [DataType::Interval(_) | DataType::Duration(_) | DataType::Null] => Ok(vec![DataType::Interval(IntervalUnit::MonthDayNano)]),
            other => plan_err!("function {}({other:?}) does not exist", self.name()),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let input = datafusion::arrow::compute::cast(&input, &DataType::Interval(IntervalUnit::MonthDayNano))?;
        let input = input.as_primitive::<IntervalMonthDayNanoType>();
        let mut out = IntervalMonthDayNanoBuilder::with_capacity(input.len());
        for v in input.iter() {
            out.append_option(v.map(|v| match self.kind {
                Justify::Hours => justify_hours(v),
                Justify::Days => justify_days(v),
                Justify::Interval => justify_days(justify_hours(v)),
            }));
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

/// `julian`, `timezone`, `timezone_hour` and `timezone_minute`, which
/// DataFusion's date_part does not know: numeric for `extract` (a
/// timestamp's julian day with 20 decimals, as PostgreSQL divides), else
/// double precision.
fn own_field(field: &str, args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
    let t = args.args[1].data_type();
    let with_zone = matches!(t, DataType::Timestamp(_, Some(_)));
    let is_date = matches!(t, DataType::Date32 | DataType::Date64);
    if field != "julian" && !with_zone {
        let name = if is_date { "date" } else { "timestamp without time zone" };
        return Err(pg_error(SqlState::FeatureNotSupported, format!("unit \"{field}\" not supported for type {name}")));
    }
    let scale = if field == "julian" && !is_date { 20 } else { 0 };
    let zone = session_zone(args);
    let input = args.args[1].to_array(args.number_rows)?;
    let micros: Vec<Option<i64>> = if is_date {
        let days = datafusion::arrow::compute::cast(&input, &DataType::Date32)?;
        days.as_primitive::<Date32Type>().iter().map(|d| d.map(|d| d as i64 * DAY_US)).collect()
    } else {
        let ts = datafusion::arrow::compute::cast(&input, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
        ts.as_primitive::<TimestampMicrosecondType>().iter().collect()
    };
    let values: Vec<Option<(i128, f64)>> = micros
        .into_iter()
        .map(|v| {
            v.map(|utc| {
                let offset = if with_zone { offset_at(&zone, utc) } else { 0 };
                match field {
                    "julian" => julian(utc + offset * 1_000_000, scale),
                    "timezone" => (offset as i128, offset as f64),
                    "timezone_hour" => ((offset / 3600) as i128, (offset / 3600) as f64),
                    _ => ((offset / 60 % 60) as i128, (offset / 60 % 60) as f64),
                }
            })
        })
        .collect();
    let array: ArrayRef = if args.return_field.data_type() == &DataType::Float64 {
        Arc::new(values.iter().map(|v| v.map(|v| v.1)).collect::<Float64Array>())
    } else {
        Arc::new(values.iter().map(|v| v.map(|v| v.0)).collect::<Decimal128Array>().with_precision_and_scale(38, scale)?)
    };
    Ok(ColumnarValue::Array(array))
}

/// The julian day of a local time: exact with `scale` decimals (rounded
/// half up), and as a double.
fn julian(local: i64, scale: i8) -> (i128, f64) {
    let (days, rem) = (local.div_euclid(DAY_US) + UNIX_JULIAN_DAY, local.rem_euclid(DAY_US));
    let unit = 10i128.pow(scale as u32);
    let day_us = DAY_US as i128;
    (days as i128 * unit + (rem as i128 * unit * 2 + day_us) / (2 * day_us), days as f64 + rem as f64 / DAY_US as f64)
}

/// A PostgreSQL error with its SQLSTATE, as a DataFusion error.
pub(super) fn pg_error(state: SqlState, message: impl Into<String>) -> DataFusionError {
    DataFusionError::External(Box::new(crate::SqlError::new(state, message)))
}

/// Microseconds in a day, and the julian day of 1970-01-01.
pub(super) const DAY_US: i64 = 86_400_000_000;
pub(super) const UNIX_JULIAN_DAY: i64 = 2_440_588;

/// Days from 1970-01-01 to a proleptic Gregorian date (year 0 is 1 BC).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    era * 146_097 + year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year - 719_468
}

/// The year, month and day of a count of days from 1970-01-01.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let m = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * m + 2) / 5 + 1;
    let month = if m < 10 { m + 3 } else { m - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

pub(super) fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A time's fields, as PostgreSQL's timestamp2tm gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub micro: i64,
}

impl Fields {
    pub fn of(micros: i64) -> Fields {
        let (year, month, day) = civil_from_days(micros.div_euclid(DAY_US));
        let t = micros.rem_euclid(DAY_US);
        Fields { year, month, day, hour: t / 3_600_000_000, minute: t / 60_000_000 % 60, second: t / 1_000_000 % 60, micro: t % 1_000_000 }
    }
}

/// The session's time zone (UTC when it names none weir knows).
pub(super) fn session_zone(args: &ScalarFunctionArgs) -> Zone {
    let name = args.config_options.execution.time_zone.clone().unwrap_or_else(|| "+00:00".into());
    Zone::parse(&name).unwrap_or(Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero offset")))
}

/// The zone's offset from UTC, in seconds, at a UTC instant.
pub(super) fn offset_at(zone: &Zone, utc: i64) -> i64 {
    match zone {
        Zone::Fixed(f) => f.local_minus_utc() as i64,
        Zone::Named(tz) => chrono::DateTime::from_timestamp_micros(utc)
            .map_or(0, |t| chrono::TimeZone::offset_from_utc_datetime(tz, &t.naive_utc()).fix().local_minus_utc() as i64),
    }
}

/// The wall-clock time (microseconds) of a UTC instant in the zone.
pub(super) fn to_local(zone: &Zone, utc: i64) -> i64 {
    utc + offset_at(zone, utc) * 1_000_000
}

/// The UTC instant of a wall-clock time in the zone, as PostgreSQL reads
/// it: in a fall-back overlap the later instant (standard time), in a
/// spring-forward gap the offset from before the change.
pub(super) fn from_local(zone: &Zone, local: i64) -> i64 {
    let before = local - offset_at(zone, local - DAY_US) * 1_000_000;
    let after = local - offset_at(zone, local + DAY_US) * 1_000_000;
    match (to_local(zone, before) == local, to_local(zone, after) == local) {
        (true, true) => before.max(after),
        (false, true) => after,
        _ => before,
    }
}

/// A double as C's `%02g` writes it (six significant digits, at least two
/// characters), with PostgreSQL's `NaN` and `Infinity`.
pub(super) fn c_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() };
    let text = if (-4..6).contains(&exp) {
        trim(&format!("{v:.*}", (5 - exp) as usize))
    } else {
        format!("{}e{}{:02}", trim(mantissa), if exp < 0 { '-' } else { '+' }, exp.abs())
    };
    if text.len() < 2 { format!("0{text}") } else { text }
}

/// PostgreSQL's names of the units `date_trunc` takes, as the unit each means.
pub(super) fn unit_of(text: &str) -> Option<&'static str> {
    Some(match text {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" => "microsecond",
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" => "millisecond",
        "second" | "seconds" | "s" | "sec" | "secs" => "second",
        "minute" | "minutes" | "m" | "min" | "mins" => "minute",
        "hour" | "hours" | "h" | "hr" | "hrs" => "hour",
        "day" | "days" | "d" => "day",
        "week" | "weeks" | "w" => "week",
        "month" | "months" | "mon" | "mons" => "month",
        "quarter" | "qtr" => "quarter",
        "year" | "years" | "y" | "yr" | "yrs" => "year",
        "decade" | "decades" | "dec" | "decs" => "decade",
        "century" | "centuries" | "c" | "cent" => "century",
        "millennium" | "millennia" | "millenniums" | "mil" | "mils" => "millennium",
        _ => return None,
    })
}

/// The error for a unit `date_trunc` does not take for `type_name`.
fn unit_error(text: &str, type_name: &str) -> DataFusionError {
    if text.starts_with("timezone") {
        pg_error(SqlState::FeatureNotSupported, format!("unit \"{text}\" not supported for type {type_name}"))
    } else {
        pg_error(SqlState::InvalidParameterValue, format!("unit \"{text}\" not recognized for type {type_name}"))
    }
}

/// The start of the decade, century or millennium of a local time, as
/// PostgreSQL counts them (centuries and millennia start at year 1; before
/// year 1 they count backwards).
fn trunc_years(local: i64, unit: &str) -> i64 {
    let y = Fields::of(local).year;
    let year = match unit {
        "decade" if y > 0 => y / 10 * 10,
        "decade" => -((8 - (y - 1)) / 10) * 10,
        "century" if y > 0 => (y + 99) / 100 * 100 - 99,
        "century" => -((99 - (y - 1)) / 100) * 100 + 1,
        _ if y > 0 => (y + 999) / 1000 * 1000 - 999,
        _ => -((999 - (y - 1)) / 1000) * 1000 + 1,
    };
    days_from_civil(year, 1, 1) * DAY_US
}

/// An interval truncated to a unit, field by field as PostgreSQL does
/// (years and months, days, hours, minutes, seconds; toward zero).
fn trunc_interval(v: IntervalMonthDayNano, unit: &str) -> IntervalMonthDayNano {
    const ORDER: [&str; 12] = ["millennium", "century", "decade", "year", "quarter", "month", "day", "hour", "minute", "second", "millisecond", "microsecond"];
    let rank = ORDER.iter().position(|u| *u == unit).unwrap_or(ORDER.len());
    let at_least = |u: &str| ORDER.iter().position(|o| *o == u).is_some_and(|r| rank <= r);
    let (mut years, mut months, mut days) = (v.months / 12, v.months % 12, v.days);
    let us = v.nanoseconds / 1000;
    let (mut hours, mut minutes, mut seconds, mut micros) = (us / 3_600_000_000, us / 60_000_000 % 60, us / 1_000_000 % 60, us % 1_000_000);
    years = match unit {
        "millennium" => years / 1000 * 1000,
        "century" => years / 100 * 100,
        "decade" => years / 10 * 10,
        _ => years,
    };
    if at_least("year") {
        months = 0;
    }
    if at_least("quarter") {
        months = months / 3 * 3;
    }
    if at_least("month") {
        days = 0;
    }
    if at_least("day") {
        hours = 0;
    }
    if at_least("hour") {
        minutes = 0;
    }
    if at_least("minute") {
        seconds = 0;
    }
    if at_least("second") {
        micros = 0;
    }
    if unit == "millisecond" {
        micros = micros / 1000 * 1000;
    }
    IntervalMonthDayNano::new(years * 12 + months, days, (((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + micros) * 1000)
}

/// `date_trunc(unit, x)`: DataFusion's for the units it knows, under
/// PostgreSQL's names for them too (`hours`, `mon`, `y`); the decade,
/// century and millennium as PostgreSQL counts them; a timestamptz cut in
/// the session's zone; and intervals, field by field.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Trunc {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

impl Trunc {
    fn timestamps(&self, text: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let t = args.args[1].data_type();
        let zone = matches!(t, DataType::Timestamp(_, Some(_))).then(|| session_zone(&args));
        let type_name = if zone.is_some() { "timestamp with time zone" } else { "timestamp without time zone" };
        let unit = unit_of(text).ok_or_else(|| unit_error(text, type_name))?;
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let input = args.args[1].to_array(rows)?;
        let local: TimestampMicrosecondArray =
            input.as_primitive::<TimestampMicrosecondType>().iter().map(|v| v.map(|v| zone.as_ref().map_or(v, |z| to_local(z, v)))).collect();
        let cut: TimestampMicrosecondArray = match unit {
            "decade" | "century" | "millennium" => local.iter().map(|v| v.map(|v| trunc_years(v, unit))).collect(),
            _ => {
                let naive = DataType::Timestamp(TimeUnit::Microsecond, None);
                let inner_args = ScalarFunctionArgs {
                    args: vec![ColumnarValue::Scalar(ScalarValue::Utf8(Some(unit.into()))), ColumnarValue::Array(Arc::new(local))],
                    arg_fields: vec![Arc::new(Field::new("unit", DataType::Utf8, true)), Arc::new(Field::new("t", naive.clone(), true))],
                    number_rows: rows,
                    return_field: Arc::new(Field::new("date_trunc", naive, true)),
                    config_options: args.config_options.clone(),
                };
                self.inner.invoke_with_args(inner_args)?.to_array(rows)?.as_primitive::<TimestampMicrosecondType>().clone()
            }
        };
        let back: TimestampMicrosecondArray = cut.iter().map(|v| v.map(|v| zone.as_ref().map_or(v, |z| from_local(z, v)))).collect();
        let array: ArrayRef = Arc::new(back.with_data_type(t));
        columnar(array, all_scalar)
    }

    fn intervals(text: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let unit = unit_of(text).ok_or_else(|| unit_error(text, "interval"))?;
        if unit == "week" {
            return Err(DataFusionError::External(Box::new(
                crate::SqlError::new(SqlState::FeatureNotSupported, format!("unit \"{text}\" not supported for type interval"))
                    .with_detail("Months usually have fractional weeks."),
            )));
        }
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let input = args.args[1].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let mut out = IntervalMonthDayNanoBuilder::with_capacity(input.len());
        for v in input.as_primitive::<IntervalMonthDayNanoType>().iter() {
            out.append_option(v.map(|v| trunc_interval(v, unit)));
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

impl ScalarUDFImpl for Trunc {
    fn name(&self) -> &str {
        "date_trunc"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [unit @ (DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null), x] = args else {
            return plan_err!("function date_trunc({args:?}) does not exist");
        };
        let x = match x {
            DataType::Interval(_) | DataType::Duration(_) => DataType::Interval(IntervalUnit::MonthDayNano),
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            DataType::Time32(_) | DataType::Time64(_) => x.clone(),
            DataType::Date32 | DataType::Date64 | DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => {
                DataType::Timestamp(TimeUnit::Microsecond, None)
            }
            other => return plan_err!("function date_trunc({unit}, {other}) does not exist"),
        };
        Ok(vec![DataType::Utf8, x])
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args.get(1).cloned().unwrap_or(DataType::Timestamp(TimeUnit::Microsecond, None)))
    }
    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(text) = field_name(&args.args) else { return self.inner.invoke_with_args(args) };
        match args.args[1].data_type() {
            DataType::Interval(_) => Self::intervals(&text, args),
            DataType::Timestamp(..) => self.timestamps(&text, args),
            _ => {
                // A time: DataFusion's, with the unit by the name it knows.
                args.args[0] = ColumnarValue::Scalar(ScalarValue::Utf8(Some(unit_of(&text).unwrap_or(&text).to_string())));
                self.inner.invoke_with_args(args)
            }
        }
    }
}

/// `isfinite(date | timestamp | timestamptz | interval)`: true for every
/// value (null for null), since weir has no `infinity` yet: DataFusion's
/// dates, timestamps and intervals are all finite.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IsFinite(Signature);

impl ScalarUDFImpl for IsFinite {
    fn name(&self) -> &str {
        "isfinite"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [t @ (DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) | DataType::Interval(_) | DataType::Duration(_) | DataType::Null)] => {
                Ok(vec![t.clone()])
            }
            other => plan_err!("function isfinite({other:?}) does not exist"),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let nulls = input.logical_nulls();
        let out: BooleanArray = (0..input.len()).map(|i| nulls.as_ref().is_none_or(|n| n.is_valid(i)).then_some(true)).collect();
        let array: ArrayRef = Arc::new(out);
        columnar(array, all_scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn justifies_like_postgres() {
        let hours = justify_hours(IntervalMonthDayNano::new(0, 0, 27 * 3_600_000_000_000));
        assert_eq!((hours.days, hours.nanoseconds), (1, 3 * 3_600_000_000_000));
        let neg = justify_hours(IntervalMonthDayNano::new(0, 0, -(69 * DAY_NS + 12 * 3_600_000_000_000)));
        assert_eq!((neg.days, neg.nanoseconds), (-69, -12 * 3_600_000_000_000));
        assert_eq!(justify_days(IntervalMonthDayNano::new(0, 65, 0)).months, 2);
        assert_eq!((period_of(2000, 100), period_of(2001, 100), period_of(2024, 10), period_of(2001, 1000)), (20, 21, 202, 3));
    }

    #[test]
    fn formats_doubles_as_c_g() {
        // As PostgreSQL's error messages print seconds (`%02g`).
        let cases = [(0.0, "00"), (5.0, "05"), (1.5, "1.5"), (-1.0, "-1"), (61.123456789, "61.1235"), (1e20, "1e+20"), (1e-6, "1e-06"), (60.0, "60")];
        for (v, want) in cases {
            assert_eq!(c_g(v), want, "{v}");
        }
        assert_eq!((c_g(f64::NAN), c_g(f64::INFINITY)), ("NaN".to_string(), "Infinity".to_string()));
    }

    #[test]
    fn counts_days_like_postgres() {
        for days in [-2_440_588, -719_528, -1, 0, 19_792, 2_145_042_905] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        // extract(julian from date '2024-03-10') is 2460380; from '4714-11-24 BC', 0.
        assert_eq!(days_from_civil(2024, 3, 10) + UNIX_JULIAN_DAY, 2_460_380);
        assert_eq!(days_from_civil(-4713, 11, 24) + UNIX_JULIAN_DAY, 0);
        // extract(julian from timestamp '2024-03-10 06:00:00.5') is 2460380.25000578703703703704.
        let t = days_from_civil(2024, 3, 10) * DAY_US + 21_600_500_000;
        assert_eq!(julian(t, 20).0, 246_038_025_000_578_703_703_703_704i128);
        assert_eq!(julian(days_from_civil(2024, 3, 10) * DAY_US + DAY_US / 2, 0).1, 2_460_380.5);
    }

    #[test]
    fn truncates_years_like_postgres() {
        // (astronomical year, unit, PostgreSQL's first year: 11 BC is -10)
        let cases = [
            (2024, "decade", 2020),
            (2024, "century", 2001),
            (2024, "millennium", 2001),
            (2000, "century", 1901),
            (2001, "century", 2001),
            (2000, "millennium", 1001),
            (2020, "decade", 2020),
            (5, "decade", 0),
            (5, "century", 1),
            (-4, "decade", -10),
            (-10, "decade", -10),
            (0, "decade", 0),
            (-9, "decade", -10),
            (-49, "century", -99),
            (-149, "century", -199),
            (-499, "millennium", -999),
        ];
        for (year, unit, want) in cases {
            let t = days_from_civil(year, 6, 1) * DAY_US + 3_600_000_000;
            assert_eq!(trunc_years(t, unit), days_from_civil(want, 1, 1) * DAY_US, "{unit} of {year}");
        }
    }

    #[test]
    fn truncates_intervals_like_postgres() {
        let us = |v: i64| v * 1000;
        // (months, days, microseconds), unit, PostgreSQL's (months, days, microseconds)
        let cases = [
            ((14, 3, 14_706_789_000), "hour", (14, 3, 14_400_000_000)),
            ((14_819, 0, 0), "decade", (14_760, 0, 0)),
            ((14_819, 0, 0), "century", (14_400, 0, 0)),
            ((-14_819, 0, 0), "millennium", (-12_000, 0, 0)),
            ((20, 5, 0), "quarter", (18, 0, 0)),
            ((0, -3, -14_706_000_000), "day", (0, -3, 0)),
            ((0, 0, -14_706_500_000), "minute", (0, 0, -14_700_000_000)),
            ((0, 0, 1_234_567), "millisecond", (0, 0, 1_234_000)),
            ((0, 0, -1_234_567), "second", (0, 0, -1_000_000)),
            ((20, 5, 10_800_000_000), "month", (20, 0, 0)),
            ((20, 5, 10_800_000_000), "year", (12, 0, 0)),
            ((0, 0, 180_000_000_000), "day", (0, 0, 0)),
            ((0, 0, 1_500_000), "microsecond", (0, 0, 1_500_000)),
        ];
        for ((m, d, t), unit, want) in cases {
            let got = trunc_interval(IntervalMonthDayNano::new(m, d, us(t)), unit);
            assert_eq!((got.months, got.days, got.nanoseconds / 1000), want, "{unit} of {m} {d} {t}");
        }
        assert_eq!(unit_of("hrs"), Some("hour"));
        assert_eq!(unit_of("millenniums"), Some("millennium"));
        assert_eq!(unit_of("quarters"), None);
    }
}
