//! How PostgreSQL turns numbers into integers: numeric rounds half away from
//! zero (`10.5::int` is 11), double precision to the nearest even (`2.5::int`
//! is 2), where Arrow's casts truncate. `weir_round_for_int` rounds first, so
//! the cast after it is exact.

use super::columnar;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float32Array, Float64Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

pub(super) fn round_for_int() -> ScalarUDF {
    ScalarUDF::new_from_impl(RoundForInt(Signature::any(1, Volatility::Immutable)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RoundForInt(Signature);

/// A decimal's value rounded to a whole number (half away from zero), at the same scale.
fn round_decimal(v: i128, scale: i8) -> i128 {
    if scale <= 0 {
        return v;
    }
    let unit = 10i128.pow(scale as u32);
    let (q, r) = (v / unit, v % unit);
    let q = if r.abs() * 2 >= unit { q + v.signum() } else { q };
    q * unit
}

impl ScalarUDFImpl for RoundForInt {
    fn name(&self) -> &str {
        "weir_round_for_int"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [t @ (DataType::Decimal128(..) | DataType::Float32 | DataType::Float64)] => Ok(t.clone()),
            other => plan_err!("weir_round_for_int({other:?}) is not defined"),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let out: ArrayRef = match input.data_type() {
            DataType::Decimal128(p, s) => {
                let a = input.as_primitive::<Decimal128Type>();
                Arc::new(a.iter().map(|v| v.map(|v| round_decimal(v, *s))).collect::<Decimal128Array>().with_precision_and_scale(*p, *s)?)
            }
            DataType::Float32 => Arc::new(input.as_primitive::<Float32Type>().iter().map(|v| v.map(f32::round_ties_even)).collect::<Float32Array>()),
            _ => Arc::new(input.as_primitive::<Float64Type>().iter().map(|v| v.map(f64::round_ties_even)).collect::<Float64Array>()),
        };
        columnar(out, all_scalar)
    }
}

/// `a` with every decimal or float rounded as PostgreSQL rounds it to an integer.
pub fn round_array_for_int(a: &ArrayRef) -> Result<ArrayRef> {
    if !matches!(a.data_type(), DataType::Decimal128(..) | DataType::Float32 | DataType::Float64) || a.is_empty() {
        return Ok(a.clone());
    }
    let f = super::named("weir_round_for_int");
    let args = ScalarFunctionArgs {
        args: vec![ColumnarValue::Array(a.clone())],
        arg_fields: vec![Arc::new(datafusion::arrow::datatypes::Field::new("a", a.data_type().clone(), true))],
        number_rows: a.len(),
        return_field: Arc::new(datafusion::arrow::datatypes::Field::new("r", a.data_type().clone(), true)),
        config_options: Default::default(),
    };
    f.invoke_with_args(args)?.to_array(a.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!([round_decimal(1050, 2), round_decimal(1049, 2), round_decimal(-1050, 2), round_decimal(250, 2)], [1100, 1000, -1100, 300]);
    }
}
