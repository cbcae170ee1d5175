//! PostgreSQL's answers where DataFusion's date/time functions differ:
//! `extract` is numeric (seconds with six decimals, and the century, decade,
//! millennium fields), `date_part` is double precision, and `justify_hours`,
//! `justify_days`, `justify_interval` move whole days and months as
//! PostgreSQL does (`timestamp - timestamp` is justified by hours).

use super::columnar;
use datafusion::arrow::array::{ArrayRef, AsArray, IntervalMonthDayNanoBuilder};
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

const DAY_NS: i64 = 86_400_000_000_000;

pub fn all() -> Vec<ScalarUDF> {
    let date_part = datafusion::functions::datetime::date_part();
    let mut out = vec![
        ScalarUDF::new_from_impl(Part { name: "weir_extract", inner: date_part.clone() }),
        ScalarUDF::new_from_impl(Part { name: "date_part", inner: date_part }),
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
        let derived = match field.as_deref() {
            Some("decade") => Some(("year", 10)),
            Some("century") => Some(("year", 100)),
            Some("millennium") => Some(("year", 1000)),
            _ => None,
        };
        let mut args = args;
        args.return_field = self.inner_field(&args)?;
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
}
