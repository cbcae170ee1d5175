//! PostgreSQL's functions where DataFusion has one by the same name that
//! answers differently (its `to_char` takes chrono patterns): these replace
//! DataFusion's in every context weir plans in, for `SELECT` and for
//! materialized views alike. They run over whole Arrow arrays.

pub mod arrays;
mod build;
pub mod bytea;
mod datetime;
mod format;
mod from_char;
mod inet;
pub mod interval;
pub mod interval_input;
pub mod interval_text;
mod json;
mod jsonrows;
mod misc;
mod numeric;
pub(crate) mod numeric_fns;
mod numformat;
pub(crate) mod regex;
mod to_char;

pub use numeric::round_array_for_int;
use numeric::round_for_int;

pub use json::JsonOperators;
pub use jsonrows::{Items, SET_RETURNING};

use chrono::{Offset, TimeZone};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

/// Every function defined here.
pub fn all() -> Vec<ScalarUDF> {
    let mut all =
        vec![ScalarUDF::new_from_impl(ToChar::default()), timestamp_text(), ScalarUDF::new_from_impl(AtZone(Signature::user_defined(Volatility::Immutable)))];
    all.extend(json::all());
    all.extend(arrays::all());
    all.extend(bytea::all());
    all.extend(jsonrows::all());
    all.extend(misc::all());
    all.extend(datetime::all());
    all.extend(build::all());
    all.push(format::format());
    all.extend(inet::all());
    all.extend(numformat::all());
    all.extend(from_char::all());
    all.extend(regex::all());
    all.extend(interval::all());
    all.extend(numeric_fns::all());
    all.push(round_for_int());
    all.push(interval_text::udf());
    all
}

/// The functions, made once; `named` finds one for a rewrite that calls it.
static DEFINED: std::sync::LazyLock<Vec<Arc<ScalarUDF>>> = std::sync::LazyLock::new(|| all().into_iter().map(Arc::new).collect());

/// The function defined here by that name.
pub fn named(name: &str) -> Arc<ScalarUDF> {
    DEFINED.iter().find(|f| f.name() == name).cloned().unwrap_or_else(|| unreachable!("no function {name} is defined in pgfunctions"))
}

/// A function's result: one value when every argument was one, else the array.
pub(crate) fn columnar(array: ArrayRef, all_scalar: bool) -> Result<ColumnarValue> {
    Ok(if all_scalar { ColumnarValue::Scalar(datafusion::scalar::ScalarValue::try_from_array(&array, 0)?) } else { ColumnarValue::Array(array) })
}

/// A DataFusion session as weir's unit tests plan in: PostgreSQL's dialect,
/// one partition, session zone `zone` (else DataFusion's default), `1.5` read as numeric when
/// `numeric_floats` (as weir's sessions read it), and weir's functions.
#[cfg(test)]
pub(crate) fn test_context(zone: Option<&str>, numeric_floats: bool) -> datafusion::prelude::SessionContext {
    let mut config = datafusion::prelude::SessionConfig::new().with_target_partitions(1);
    config.options_mut().sql_parser.dialect = datafusion::config::Dialect::PostgreSQL;
    config.options_mut().sql_parser.parse_float_as_decimal = numeric_floats;
    if let Some(zone) = zone {
        config.options_mut().execution.time_zone = Some(zone.into());
    }
    let ctx = datafusion::prelude::SessionContext::new_with_config(config);
    register(&ctx);
    ctx
}

/// Drives `work` to its end. Planning and running a query over no table
/// never waits on I/O, so no runtime is needed.
#[cfg(test)]
pub(crate) fn ready<T>(work: impl std::future::Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = work.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// The first value of a result as Arrow writes it, and its type.
#[cfg(test)]
pub(crate) fn first_value(batches: &[datafusion::arrow::array::RecordBatch]) -> std::result::Result<(String, DataType), String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let column = batches[0].column(0);
    let value = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default()).map_err(|e| e.to_string())?.value(0).to_string();
    Ok((value, column.data_type().clone()))
}

/// Runs one statement through a DataFusion session with weir's functions
/// and operators in session zone `zone`: the first value as Arrow writes
/// it, and its type (for the unit tests of the functions here).
#[cfg(test)]
pub(crate) fn run_one(sql: &str, zone: &str) -> std::result::Result<(String, DataType), String> {
    let ctx = test_context(Some(zone), false);
    let batches = ready(async { ctx.sql(sql).await?.collect().await }).map_err(|e| crate::SqlError::from(e).to_string())?;
    first_value(&batches)
}

/// Registers every function and the JSON operators in `ctx`.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    use datafusion::execution::FunctionRegistry;
    for f in DEFINED.iter() {
        ctx.register_udf(f.as_ref().clone());
    }
    for (name, items) in jsonrows::SET_RETURNING {
        ctx.register_udtf(name, Arc::new(jsonrows::JsonTable { name, items: *items }));
    }
    let state = ctx.state_ref();
    let mut state = state.write();
    for planner in [
        Arc::new(JsonOperators) as Arc<dyn datafusion::logical_expr::planner::ExprPlanner>,
        Arc::new(inet::InetOperators),
        Arc::new(interval::IntervalOperators),
    ] {
        if let Err(e) = state.register_expr_planner(planner) {
            unreachable!("registering an expression planner cannot fail: {e}");
        }
    }
}

/// A session time zone as DataFusion's config names it (`+00:00`,
/// `America/New_York`).
enum Zone {
    Named(chrono_tz::Tz),
    Fixed(chrono::FixedOffset),
}

impl Zone {
    fn parse(name: &str) -> Option<Zone> {
        if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
            return Some(Zone::Named(tz));
        }
        let (sign, rest) = match name.as_bytes().first()? {
            b'+' => (1, &name[1..]),
            b'-' => (-1, &name[1..]),
            _ => return None,
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        chrono::FixedOffset::east_opt(sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60)).map(Zone::Fixed)
    }

    /// The wall-clock time, offset and abbreviation of a UTC instant.
    fn local(&self, utc: chrono::NaiveDateTime) -> to_char::Local {
        match self {
            Zone::Named(tz) => {
                let t = tz.from_utc_datetime(&utc);
                let offset = t.offset().fix().local_minus_utc();
                let abbrev = chrono_tz::OffsetName::abbreviation(t.offset()).map(str::to_string).unwrap_or_else(|| to_char::offset_text(offset));
                to_char::Local { time: t.naive_local(), offset_secs: Some(offset), abbrev: Some(abbrev) }
            }
            Zone::Fixed(f) => {
                let offset = f.local_minus_utc();
                let abbrev = if offset == 0 { "UTC".to_string() } else { to_char::offset_text(offset) };
                to_char::Local { time: utc + chrono::Duration::seconds(offset as i64), offset_secs: Some(offset), abbrev: Some(abbrev) }
            }
        }
    }
}

/// `weir_timestamp_text(ts)`: a timestamp as PostgreSQL's text cast gives
/// it (`2024-03-10 12:00:00.5`, a timestamptz in the session's zone with its
/// offset, `+00`), where DataFusion's cast writes ISO 8601 (`T`).
fn timestamp_text() -> ScalarUDF {
    ScalarUDF::new_from_impl(TimestampText(Signature::user_defined(Volatility::Stable)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TimestampText(Signature);

/// Seconds' fraction as PostgreSQL prints it: up to six digits, no trailing zeros.
fn fraction(micros: u32) -> String {
    if micros == 0 { String::new() } else { format!(".{micros:06}").trim_end_matches('0').to_string() }
}

impl ScalarUDFImpl for TimestampText {
    fn name(&self) -> &str {
        "weir_timestamp_text"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [DataType::Timestamp(_, tz)] => Ok(vec![DataType::Timestamp(TimeUnit::Microsecond, tz.clone())]),
            other => plan_err!("weir_timestamp_text({other:?}) is not defined"),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let with_zone = matches!(args.args[0].data_type(), DataType::Timestamp(_, Some(_)));
        let zone_name = args.config_options.execution.time_zone.clone().unwrap_or_else(|| "+00:00".into());
        let zone = Zone::parse(&zone_name).unwrap_or(Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero offset")));
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let times = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let times = times.as_primitive::<TimestampMicrosecondType>();
        let mut out = StringBuilder::with_capacity(times.len(), times.len() * 26);
        for v in times.iter() {
            let Some(v) = v else {
                out.append_null();
                continue;
            };
            let Some(utc) = chrono::DateTime::from_timestamp_micros(v).map(|t| t.naive_utc()) else {
                return exec_err!("timestamp out of range");
            };
            let (local, offset) = if with_zone {
                let l = zone.local(utc);
                (l.time, l.offset_secs.map(to_char::offset_text))
            } else {
                (utc, None)
            };
            let micros = chrono::Timelike::nanosecond(&local) / 1000;
            out.append_value(format!("{}{}{}", local.format("%Y-%m-%d %H:%M:%S"), fraction(micros), offset.unwrap_or_default()));
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

/// `timezone(zone, t)`, which `t AT TIME ZONE zone` means: a timestamptz
/// becomes the wall-clock time in `zone` (a timestamp), a timestamp is read
/// as a time in `zone` (a timestamptz).
#[derive(Debug, PartialEq, Eq, Hash)]
struct AtZone(Signature);

impl Zone {
    /// The UTC instant of a wall-clock time here (the earlier one in a DST overlap).
    fn utc_of(&self, local: chrono::NaiveDateTime) -> Option<chrono::NaiveDateTime> {
        match self {
            // A time a fall-back makes twice, or a spring-forward skips, as PostgreSQL reads it.
            Zone::Named(_) => chrono::DateTime::from_timestamp_micros(datetime::from_local(self, local.and_utc().timestamp_micros())).map(|t| t.naive_utc()),
            Zone::Fixed(f) => Some(local - chrono::Duration::seconds(f.local_minus_utc() as i64)),
        }
    }
}

impl ScalarUDFImpl for AtZone {
    fn name(&self) -> &str {
        "timezone"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8, DataType::Timestamp(_, tz)] => {
                Ok(vec![DataType::Utf8, DataType::Timestamp(TimeUnit::Microsecond, tz.clone())])
            }
            other => plan_err!("timezone({other:?}) is not supported by weir: it takes a zone name and a timestamp or timestamptz"),
        }
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match args.get(1) {
            Some(DataType::Timestamp(_, Some(_))) => DataType::Timestamp(TimeUnit::Microsecond, None),
            _ => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let to_local = matches!(args.args[1].data_type(), DataType::Timestamp(_, Some(_)));
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (zones, times) = (arrays[0].as_string::<i32>(), arrays[1].as_primitive::<TimestampMicrosecondType>());
        let mut out = datafusion::arrow::array::TimestampMicrosecondBuilder::with_capacity(times.len());
        for i in 0..times.len() {
            if zones.is_null(i) || times.is_null(i) {
                out.append_null();
                continue;
            }
            let name = zones.value(i);
            let zone = Zone::parse(name).or_else(|| name.eq_ignore_ascii_case("utc").then(|| Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero"))));
            let Some(zone) = zone else {
                return Err(datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(
                    crate::SqlState::InvalidParameterValue,
                    format!("time zone \"{name}\" not recognized"),
                ))));
            };
            let Some(t) = chrono::DateTime::from_timestamp_micros(times.value(i)).map(|t| t.naive_utc()) else { return exec_err!("timestamp out of range") };
            let moved = if to_local { Some(zone.local(t).time) } else { zone.utc_of(t) };
            out.append_option(moved.map(|m| m.and_utc().timestamp_micros()));
        }
        let want = self.return_type(&[DataType::Utf8, args.args[1].data_type()])?;
        let array: ArrayRef = Arc::new(out.finish().with_data_type(want));
        columnar(array, all_scalar)
    }
}

/// `to_char(timestamp | timestamptz | date | interval | number, text)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToChar {
    signature: Signature,
}

impl Default for ToChar {
    fn default() -> Self {
        ToChar { signature: Signature::user_defined(Volatility::Stable) }
    }
}

impl ScalarUDFImpl for ToChar {
    fn name(&self) -> &str {
        "to_char"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [value, _] = args else { return plan_err!("to_char takes a value and a pattern") };
        let value = match value {
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            DataType::Date32 | DataType::Date64 => DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Null => DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Interval(_) | DataType::Duration(_) => DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano),
            other => match numformat::number_type(other) {
                Some(t) => t,
                None => return plan_err!("function to_char({other}, text) is not supported by weir: it formats timestamps, dates, intervals and numbers"),
            },
        };
        Ok(vec![value, DataType::Utf8])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let zone_name = args.config_options.execution.time_zone.clone().unwrap_or_else(|| "+00:00".into());
        let with_zone = matches!(args.args[0].data_type(), DataType::Timestamp(_, Some(_)));
        let zone = if with_zone {
            Zone::parse(&zone_name).map(Some).ok_or_else(|| datafusion::error::DataFusionError::Plan(format!("unknown time zone {zone_name}")))?
        } else {
            None
        };
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        match arrays[0].data_type() {
            DataType::Interval(_) => return from_char::interval_to_char(&arrays[0], &arrays[1], all_scalar),
            DataType::Timestamp(..) => {}
            _ => return numformat::to_char(&arrays[0], &arrays[1], all_scalar),
        }
        let times = arrays[0].as_primitive::<TimestampMicrosecondType>();
        let patterns = arrays[1].as_string::<i32>();
        let mut out = StringBuilder::with_capacity(times.len(), times.len() * 16);
        for i in 0..times.len() {
            if times.is_null(i) || patterns.is_null(i) {
                out.append_null();
                continue;
            }
            let Some(utc) = chrono::DateTime::from_timestamp_micros(times.value(i)).map(|t| t.naive_utc()) else {
                return exec_err!("timestamp out of range");
            };
            let local = match &zone {
                Some(z) => z.local(utc),
                None => to_char::Local { time: utc, offset_secs: None, abbrev: None },
            };
            out.append_value(to_char::format(&local, patterns.value(i)));
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}
