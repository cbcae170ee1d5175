//! An interval's text as PostgreSQL writes it (IntervalStyle `postgres`):
//! `1 year 2 mons -3 days +04:05:06.5`. Used on the wire and by
//! `weir_interval_text`, which `interval::text` casts are planned as.

use super::columnar;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::fmt::Write;
use std::sync::Arc;

/// PostgreSQL's text of an interval of `months`, `days` and `nanos`
/// (shown to the microsecond, as PostgreSQL keeps it).
pub fn text(v: IntervalMonthDayNano) -> String {
    let micros = v.nanoseconds / 1000;
    let (years, months) = (v.months / 12, v.months % 12);
    let mut out = String::new();
    // A field after a negative one carries its sign, `+` included.
    let mut after_negative = false;
    for (n, unit) in [(years as i64, "year"), (months as i64, "mon"), (v.days as i64, "day")] {
        if n != 0 {
            let sign = if after_negative && n > 0 { "+" } else { "" };
            let plural = if n == 1 { "" } else { "s" };
            let _ = write!(out, "{}{sign}{n} {unit}{plural}", if out.is_empty() { "" } else { " " });
            after_negative = n < 0;
        }
    }
    if micros != 0 || out.is_empty() {
        let sign = if micros < 0 {
            "-"
        } else if after_negative {
            "+"
        } else {
            ""
        };
        let m = micros.unsigned_abs();
        let (h, rest) = (m / 3_600_000_000, m % 3_600_000_000);
        let (min, rest) = (rest / 60_000_000, rest % 60_000_000);
        let (s, frac) = (rest / 1_000_000, rest % 1_000_000);
        let frac = if frac == 0 { String::new() } else { format!(".{frac:06}").trim_end_matches('0').to_string() };
        let _ = write!(out, "{}{sign}{h:02}:{min:02}:{s:02}{frac}", if out.is_empty() { "" } else { " " });
    }
    out
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(IntervalText(Signature::exact(vec![DataType::Interval(IntervalUnit::MonthDayNano)], Volatility::Immutable)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalText(Signature);

impl ScalarUDFImpl for IntervalText {
    fn name(&self) -> &str {
        "weir_interval_text"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let values = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let values = values.as_primitive::<IntervalMonthDayNanoType>();
        let mut out = StringBuilder::with_capacity(values.len(), values.len() * 16);
        for i in 0..values.len() {
            if values.is_null(i) { out.append_null() } else { out.append_value(text(values.value(i))) }
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_intervals_as_postgres() {
        // Each expected text is what PostgreSQL 15 printed for the interval in the comment.
        let cases = [
            ((0, -1, 2 * 3_600_000_000_000), "-1 days +02:00:00"),        // '-1 day +2 hours'
            ((-1, 1, 0), "-1 mons +1 day"),                               // '-1 mon 1 day'
            ((1, -1, -2 * 3_600_000_000_000), "1 mon -1 days -02:00:00"), // '1 mon -1 day -2 hours'
            ((-12, 0, 0), "-1 years"),                                    // '-1 year'
            ((0, 0, 0), "00:00:00"),                                      // '0'
            ((0, 0, -500_000_000), "-00:00:00.5"),                        // '-0.5 sec'
            ((11, 0, 0), "11 mons"),                                      // '1 year -1 mon'
            ((0, 0, 90_000_250_000_000), "25:00:00.25"),                  // '25 hours 0.25 sec'
        ];
        for ((months, days, nanos), want) in cases {
            assert_eq!(text(IntervalMonthDayNano { months, days, nanoseconds: nanos }), want);
        }
    }
}
