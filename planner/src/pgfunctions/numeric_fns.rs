//! PostgreSQL's numeric functions, where numeric is an Arrow Decimal128:
//! ceil (ceiling), floor, trunc, round, sign, scale, min_scale, trim_scale,
//! mod, div, gcd, lcm, factorial, to_hex, width_bucket, sqrt, exp, ln, log,
//! log10, power (pow, `^`), and `/` of numerics and of floats, each with
//! PostgreSQL's forms (numeric, double precision, integer), result type,
//! scale and errors. They replace DataFusion's functions of the same names,
//! which compute numerics in double precision or keep the input's scale.
//!
//! PostgreSQL keeps a scale per value, and picks the scale of a division,
//! sqrt, exp, ln, log and power per value (16 significant digits at least).
//! An Arrow column has one scale, so:
//! - a call on constants is worked out when planning, at PostgreSQL's scale
//!   exactly ([`rewrite`], called by `pgplan`): `1::numeric / 3` is
//!   `0.33333333333333333333`, `10::numeric / 4` is `2.5000000000000000`;
//! - on columns the result's scale is the one PostgreSQL picks for results
//!   of 1 to 9999 (16 decimals for a division, 15 for sqrt). Each value is
//!   PostgreSQL's, padded with zeros where PostgreSQL's own scale is
//!   coarser (a quotient of 10000 or more) and rounded to the column's
//!   scale where it is finer (a quotient below 1).
//!
//! sqrt, integer powers and division are exact; exp, ln, log and other
//! powers are computed with 38 significant digits, and a result that would
//! need more than 34 of them is refused rather than given inexactly.
//! Numbers of more than 38 digits, NaN and Infinity do not fit Decimal128:
//! they are refused with 22003, never rounded or wrapped.

use super::columnar;
use crate::{SqlError, SqlState};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float32Array, Float64Array, Int32Array, StringArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Float32Type, Float64Type, Int32Type, Int64Type, i256};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, Operator, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::cmp::Ordering;
use std::sync::{Arc, LazyLock};

/// What a function computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Ceil,
    Floor,
    Trunc,
    Round,
    Sign,
    Scale,
    MinScale,
    TrimScale,
    Mod,
    Div,
    Gcd,
    Lcm,
    Factorial,
    ToHex,
    WidthBucket,
    Sqrt,
    Exp,
    Ln,
    Log,
    Log10,
    Power,
    /// `numeric / numeric`.
    NumericDiv,
    /// `/` with a double precision operand.
    FloatDiv,
}

/// The functions by name, with their other names.
const FUNCTIONS: [(&str, &[&str], Op); 23] = [
    ("ceil", &["ceiling"], Op::Ceil),
    ("floor", &[], Op::Floor),
    ("trunc", &[], Op::Trunc),
    ("round", &[], Op::Round),
    ("sign", &[], Op::Sign),
    ("scale", &[], Op::Scale),
    ("min_scale", &[], Op::MinScale),
    ("trim_scale", &[], Op::TrimScale),
    ("mod", &[], Op::Mod),
    ("div", &[], Op::Div),
    ("gcd", &[], Op::Gcd),
    ("lcm", &[], Op::Lcm),
    ("factorial", &[], Op::Factorial),
    ("to_hex", &[], Op::ToHex),
    ("width_bucket", &[], Op::WidthBucket),
    ("sqrt", &[], Op::Sqrt),
    ("exp", &[], Op::Exp),
    ("ln", &[], Op::Ln),
    ("log", &[], Op::Log),
    ("log10", &[], Op::Log10),
    ("power", &["pow"], Op::Power),
    ("weir_numeric_div", &[], Op::NumericDiv),
    ("weir_float_div", &[], Op::FloatDiv),
];

/// Every function of this file.
pub(super) fn all() -> Vec<ScalarUDF> {
    FUNCTIONS
        .iter()
        .map(|&(name, aliases, op)| {
            let aliases = aliases.iter().map(|a| a.to_string()).collect();
            ScalarUDF::new_from_impl(NumericFn { name, aliases, op, signature: Signature::user_defined(Volatility::Immutable) })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct NumericFn {
    name: &'static str,
    aliases: Vec<String>,
    op: Op,
    signature: Signature,
}

/// The significant digits of a double read as a numeric (PostgreSQL's DBL_DIG).
const FLOAT_DIGITS: usize = 15;
/// The largest number of decimal digits a numeric holds here.
const MAX_DIGITS: u32 = 38;
/// The most significant digits exp, ln, log and power give (of the 38 they work with).
const SURE_DIGITS: u32 = 34;
/// PostgreSQL's NUMERIC_MIN_SIG_DIGITS: the significant digits a division,
/// sqrt, exp, ln, log or power gives at least.
const MIN_SIG_DIGITS: i32 = 16;
/// Why numeric NaN and Infinity are refused.
const NO_NAN: &str = "numeric NaN and Infinity are not supported: weir's numeric is a decimal of at most 38 digits";
/// PostgreSQL's NUMERIC_MAX_DISPLAY_SCALE.
const MAX_DISPLAY_SCALE: i32 = 1000;

fn fail(state: SqlState, message: impl Into<String>) -> DataFusionError {
    SqlError::new(state, message).into()
}

/// A value too large for Decimal128 (PostgreSQL's numeric holds it).
fn overflow() -> DataFusionError {
    fail(SqlState::NumericValueOutOfRange, "value overflows numeric format: weir's numeric holds at most 38 digits")
}

fn division_by_zero() -> DataFusionError {
    fail(SqlState::DivisionByZero, "division by zero")
}

/// `function name(types) does not exist`, as PostgreSQL says it.
fn undefined(name: &str, types: &[DataType]) -> DataFusionError {
    let types: Vec<String> = types.iter().map(|t| crate::error::pg_type_name(&t.to_string())).collect();
    fail(SqlState::UndefinedFunction, format!("function {name}({}) does not exist", types.join(", ")))
}

// ---------------------------------------------------------------------------
// Which form of a function PostgreSQL picks, and its result type.

/// The numeric kind of an argument's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Decimal,
    Float,
    Null,
    Other,
}

fn kind(t: &DataType) -> Kind {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Kind::Int,
        Decimal128(..) | Decimal256(..) => Kind::Decimal,
        Float16 | Float32 | Float64 => Kind::Float,
        Null => Kind::Null,
        _ => Kind::Other,
    }
}

/// The form of a function PostgreSQL runs: on double precision, on numeric
/// or on integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Float,
    Numeric,
    Integer,
}

impl Op {
    /// The fewest and most arguments.
    fn arity(self) -> (usize, usize) {
        match self {
            Op::Trunc | Op::Round | Op::Log => (1, 2),
            Op::Mod | Op::Div | Op::Gcd | Op::Lcm | Op::Power | Op::NumericDiv | Op::FloatDiv => (2, 2),
            Op::WidthBucket => (4, 4),
            _ => (1, 1),
        }
    }

    /// Whether PostgreSQL has a double precision form with `n` arguments.
    fn has_float(self, n: usize) -> bool {
        use Op::*;
        matches!(self, Ceil | Floor | Sign | Sqrt | Exp | Ln | Log10 | Power | WidthBucket | FloatDiv) || (matches!(self, Trunc | Round | Log) && n == 1)
    }

    fn has_numeric(self) -> bool {
        !matches!(self, Op::ToHex | Op::Factorial | Op::FloatDiv)
    }

    fn has_integer(self) -> bool {
        matches!(self, Op::Mod | Op::Gcd | Op::Lcm | Op::ToHex | Op::Factorial)
    }

    /// Whether argument `i` is an integer in every form (round's digits,
    /// width_bucket's count).
    fn integer_argument(self, i: usize) -> bool {
        matches!((self, i), (Op::Round | Op::Trunc, 1) | (Op::WidthBucket, 3))
    }

    /// Whether PostgreSQL picks the result's scale by its value.
    fn value_scaled(self) -> bool {
        matches!(self, Op::NumericDiv | Op::Sqrt | Op::Exp | Op::Ln | Op::Log | Op::Log10 | Op::Power | Op::TrimScale)
    }
}

/// The form PostgreSQL resolves a call to: double precision when an
/// argument is one, numeric when an argument is numeric, else the integer
/// form, else double precision (its preferred numeric type), else numeric.
fn resolve(op: Op, name: &str, types: &[DataType]) -> Result<Form> {
    let (fewest, most) = op.arity();
    if types.len() < fewest || types.len() > most {
        return Err(undefined(name, types));
    }
    let mut kinds = vec![];
    for (i, t) in types.iter().enumerate() {
        match kind(t) {
            Kind::Int | Kind::Null if op.integer_argument(i) => {}
            _ if op.integer_argument(i) => return Err(undefined(name, types)),
            Kind::Other => return Err(undefined(name, types)),
            k => kinds.push(k),
        }
    }
    let form = if kinds.contains(&Kind::Float) && matches!(op, Op::Round | Op::Trunc) && types.len() == 2 {
        // PostgreSQL has no round(float8, int): weir takes it as numeric, as
        // for `round(avg(i), 2)`, whose avg is numeric in PostgreSQL and a
        // double here.
        Form::Numeric
    } else if kinds.contains(&Kind::Float) {
        Form::Float
    } else if kinds.contains(&Kind::Decimal) {
        Form::Numeric
    } else if op.has_integer() {
        Form::Integer
    } else if op.has_float(types.len()) {
        Form::Float
    } else {
        Form::Numeric
    };
    let defined = match form {
        Form::Float => op.has_float(types.len()),
        Form::Numeric => op.has_numeric(),
        Form::Integer => true,
    };
    if defined { Ok(form) } else { Err(undefined(name, types)) }
}

/// Bits of an integer type, 0 for null.
fn int_bits(t: &DataType) -> u8 {
    match t {
        DataType::Null => 0,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => 16,
        DataType::Int32 | DataType::UInt16 => 32,
        _ => 64,
    }
}

fn int_type(bits: u8) -> DataType {
    match bits {
        16 => DataType::Int16,
        0 | 32 => DataType::Int32,
        _ => DataType::Int64,
    }
}

/// The types the arguments are cast to. Numeric forms take their arguments
/// as they are, so a constant stays a constant for the result type.
fn coerced(op: Op, form: Form, types: &[DataType]) -> Vec<DataType> {
    let widest = types.iter().map(int_bits).max().unwrap_or(0);
    let all_f32 = types.iter().all(|t| *t == DataType::Float32);
    types
        .iter()
        .enumerate()
        .map(|(i, t)| match (form, t) {
            (_, DataType::Null) if op.integer_argument(i) => DataType::Int32,
            _ if op == Op::WidthBucket && i == 3 => DataType::Int32,
            _ if op.integer_argument(i) => t.clone(),
            (Form::Float, _) if op == Op::FloatDiv && all_f32 => DataType::Float32,
            (Form::Float, _) => DataType::Float64,
            (Form::Numeric, DataType::Decimal256(_, s)) => DataType::Decimal128(38, (*s).clamp(0, 38)),
            (Form::Numeric, DataType::Null) => DataType::Int64,
            (Form::Numeric, _) => t.clone(),
            (Form::Integer, _) => match op {
                Op::Mod => int_type(widest),
                Op::Factorial => DataType::Int64,
                _ => int_type(widest.max(32)),
            },
        })
        .collect()
}

/// The scale of a numeric argument's type (an integer's is 0).
fn type_scale(t: &DataType) -> i32 {
    match t {
        DataType::Decimal128(_, s) | DataType::Decimal256(_, s) => (*s).max(0) as i32,
        _ => 0,
    }
}

/// An integer constant's value.
fn int_value(v: &ScalarValue) -> Option<i64> {
    match v.cast_to(&DataType::Int64).ok()? {
        ScalarValue::Int64(n) => n,
        _ => None,
    }
}

/// The scale of a numeric result over columns of these types (see the
/// module's comment); `digits` is round's or trunc's second argument when
/// it is a constant.
fn column_scale(op: Op, types: &[DataType], digits: Option<&ScalarValue>) -> Result<i32> {
    let s: Vec<i32> = types.iter().map(type_scale).collect();
    let widest = s.iter().copied().max().unwrap_or(0);
    let scale = match op {
        Op::Round | Op::Trunc if types.len() == 2 => match digits.and_then(int_value) {
            Some(n) if n > i64::from(MAX_DIGITS) => return Err(overflow()),
            Some(n) => n.max(0) as i32,
            None if kind(&types[0]) == Kind::Float => FLOAT_DIGITS as i32,
            None => s[0],
        },
        Op::Mod | Op::Gcd | Op::Lcm | Op::TrimScale => widest,
        Op::Sqrt => s[0].max(MIN_SIG_DIGITS - 1),
        Op::Power if kind(&types[1]) == Kind::Int => s[0].max(MIN_SIG_DIGITS),
        Op::Exp | Op::Ln | Op::Log | Op::Log10 | Op::Power | Op::NumericDiv => widest.max(MIN_SIG_DIGITS),
        _ => 0,
    };
    Ok(scale.min(MAX_DIGITS as i32))
}

fn result_type(op: Op, form: Form, types: &[DataType], digits: Option<&ScalarValue>) -> Result<DataType> {
    Ok(match (form, op) {
        (_, Op::Scale | Op::MinScale | Op::WidthBucket) => DataType::Int32,
        (_, Op::ToHex) => DataType::Utf8,
        (Form::Float, Op::FloatDiv) if types.iter().all(|t| *t == DataType::Float32) => DataType::Float32,
        (Form::Float, _) => DataType::Float64,
        (Form::Integer, Op::Factorial) => DataType::Decimal128(38, 0),
        (Form::Integer, _) => types[0].clone(),
        (Form::Numeric, _) => DataType::Decimal128(38, column_scale(op, types, digits)? as i8),
    })
}

impl ScalarUDFImpl for NumericFn {
    fn name(&self) -> &str {
        self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let form = resolve(self.op, self.name, types)?;
        Ok(coerced(self.op, form, types))
    }
    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        result_type(self.op, resolve(self.op, self.name, types)?, types, None)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        let digits = if matches!(self.op, Op::Round | Op::Trunc) { args.scalar_arguments.get(1).copied().flatten() } else { None };
        let t = result_type(self.op, resolve(self.op, self.name, &types)?, &types, digits)?;
        Ok(Arc::new(Field::new(self.name, t, true)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let types: Vec<DataType> = arrays.iter().map(|a| a.data_type().clone()).collect();
        let out = match resolve(self.op, self.name, &types)? {
            Form::Float => float_form(self.op, &arrays)?,
            Form::Integer => integer_form(self.op, &arrays, args.return_field.data_type())?,
            Form::Numeric => numeric_form(self.op, &arrays, args.return_field.data_type())?,
        };
        columnar(out, all_scalar)
    }
}

// ---------------------------------------------------------------------------
// The numeric form, value by value.

/// A numeric value: `v × 10^-s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Num {
    v: i128,
    s: i32,
}

/// A cast that fails on a value it cannot hold, where Arrow's default gives null.
fn cast_strict(a: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    Ok(cast_with_options(a, to, &CastOptions { safe: false, ..Default::default() })?)
}

/// The argument as decimals, and their scale (integers have scale 0).
fn decimals(a: &ArrayRef) -> Result<(Decimal128Array, i32)> {
    let a = match a.data_type() {
        DataType::Decimal128(_, s) if *s >= 0 => a.clone(),
        DataType::Decimal128(..) | DataType::Decimal256(..) => cast_strict(a, &DataType::Decimal128(38, type_scale(a.data_type()) as i8))?,
        _ => cast_strict(a, &DataType::Decimal128(38, 0))?,
    };
    let scale = type_scale(a.data_type());
    Ok((a.as_primitive::<Decimal128Type>().clone(), scale))
}

/// A numeric argument: decimals of one scale, or doubles (round's and
/// trunc's, see [`resolve`]).
enum Column {
    Decimal(Decimal128Array, i32),
    Float(Float64Array),
}

impl Column {
    fn of(a: &ArrayRef) -> Result<Column> {
        Ok(match kind(a.data_type()) {
            Kind::Float => Column::Float(cast_strict(a, &DataType::Float64)?.as_primitive::<Float64Type>().clone()),
            _ => {
                let (a, s) = decimals(a)?;
                Column::Decimal(a, s)
            }
        })
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            Column::Decimal(a, _) => a.is_null(row),
            Column::Float(a) => a.is_null(row),
        }
    }

    fn at(&self, row: usize) -> Result<Num> {
        match self {
            Column::Decimal(a, s) => Ok(Num { v: a.value(row), s: *s }),
            Column::Float(a) => float_num(a.value(row)),
        }
    }
}

/// A double as PostgreSQL's cast to numeric reads it: its first 15
/// significant digits, without trailing zeros.
fn float_num(f: f64) -> Result<Num> {
    if !f.is_finite() {
        return Err(fail(SqlState::FeatureNotSupported, NO_NAN));
    }
    let text = format!("{f:.*e}", FLOAT_DIGITS - 1);
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let v: i128 = mantissa.replace('.', "").parse().map_err(|_| overflow())?;
    let s = FLOAT_DIGITS as i32 - 1 - exp.parse::<i32>().map_err(|_| overflow())?;
    let v = if s < 0 { v.checked_mul(10i128.checked_pow(s.unsigned_abs()).ok_or_else(overflow)?).ok_or_else(overflow)? } else { v };
    Ok(min_scale(Num { v, s: s.max(0) }))
}

fn numeric_form(op: Op, arrays: &[ArrayRef], out: &DataType) -> Result<ArrayRef> {
    if op == Op::WidthBucket {
        return width_bucket_numeric(arrays);
    }
    let mut values = vec![];
    let mut digits = None;
    for (i, a) in arrays.iter().enumerate() {
        if op.integer_argument(i) {
            digits = Some(cast_strict(a, &DataType::Int64)?);
        } else {
            values.push(Column::of(a)?);
        }
    }
    let digits = digits.as_ref().map(|d| d.as_primitive::<Int64Type>());
    let rows = arrays[0].len();
    if let (Op::Scale | Op::MinScale, Column::Decimal(a, s)) = (op, &values[0]) {
        let out: Int32Array = a.iter().map(|v| v.map(|v| if op == Op::Scale { *s } else { min_scale(Num { v, s: *s }).s })).collect();
        return Ok(Arc::new(out));
    }
    let target = type_scale(out);
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if values.iter().any(|c| c.is_null(row)) || digits.is_some_and(|d| d.is_null(row)) {
            out.push(None);
            continue;
        }
        let x = values.iter().map(|c| c.at(row)).collect::<Result<Vec<Num>>>()?;
        let (v, s) = numeric_value(op, &x, digits.map(|d| d.value(row)), target)?;
        out.push(Some(fit(v, s, target)?));
    }
    Ok(Arc::new(Decimal128Array::from(out).with_precision_and_scale(38, target as i8)?))
}

/// One value of a numeric function, and its scale: PostgreSQL's, or
/// `target` where PostgreSQL's is finer.
fn numeric_value(op: Op, x: &[Num], digits: Option<i64>, target: i32) -> Result<(i256, i32)> {
    let wide = |n: Num| i256::from_i128(n.v);
    Ok(match op {
        Op::Ceil => (i256::from_i128(reduce(x[0].v, x[0].s, Rounding::Ceil)), 0),
        Op::Floor => (i256::from_i128(reduce(x[0].v, x[0].s, Rounding::Floor)), 0),
        Op::Round | Op::Trunc => {
            let mode = if op == Op::Round { Rounding::HalfAway } else { Rounding::Toward };
            let n = digits.unwrap_or(0).clamp(-40, 40) as i32;
            if n >= x[0].s { (wide(x[0]), x[0].s) } else { (i256::from_i128(reduce(x[0].v, x[0].s - n, mode)), n) }
        }
        Op::Sign => (i256::from_i128(x[0].v.signum()), 0),
        Op::TrimScale => {
            let t = min_scale(x[0]);
            (wide(t), t.s)
        }
        Op::Mod | Op::Div | Op::Gcd | Op::Lcm => integer_like(op, x[0], x[1])?,
        Op::NumericDiv => {
            if x[1].v == 0 {
                return Err(division_by_zero());
            }
            let r = div_scale(x[0], x[1]).min(target);
            (divide(x[0], x[1], r)?, r)
        }
        Op::Sqrt => sqrt(x[0], target)?,
        Op::Exp => {
            let r = exp_scale(x[0]).min(target);
            (from_dec(exp(Dec::num(x[0]))?, r, "exp")?, r)
        }
        Op::Ln => {
            check_log(x[0])?;
            let r = ln_scale(x[0]).min(target);
            (from_dec(ln(Dec::num(x[0])), r, "ln")?, r)
        }
        Op::Log | Op::Log10 if x.len() == 1 => log(Num { v: 10, s: 0 }, x[0], target)?,
        Op::Log => log(x[0], x[1], target)?,
        Op::Power => power(x[0], x[1], target)?,
        _ => return Err(SqlError::internal(format!("{op:?} has no numeric form")).into()),
    })
}

/// mod, div, gcd and lcm: on the two values as integers at their common scale.
fn integer_like(op: Op, a: Num, b: Num) -> Result<(i256, i32)> {
    let scale = a.s.max(b.s);
    let (x, y) = (i256::from_i128(a.v) * p10(scale - a.s), i256::from_i128(b.v) * p10(scale - b.s));
    if matches!(op, Op::Mod | Op::Div) && y == i256::ZERO {
        return Err(division_by_zero());
    }
    Ok(match op {
        Op::Mod => (x % y, scale),
        Op::Div => (x / y, 0),
        Op::Gcd => (gcd(x, y), scale),
        _ if x == i256::ZERO || y == i256::ZERO => (i256::ZERO, scale),
        _ => ((x / gcd(x, y)).checked_mul(y).ok_or_else(overflow)?.wrapping_abs(), scale),
    })
}

/// The greatest common divisor of two integers, not negative.
fn gcd(a: i256, b: i256) -> i256 {
    let (mut a, mut b) = (a.wrapping_abs(), b.wrapping_abs());
    while b != i256::ZERO {
        (a, b) = (b, a % b);
    }
    a
}

/// The value without trailing zeros after the point (scale 0 at least).
fn min_scale(x: Num) -> Num {
    let mut x = x;
    while x.s > 0 && x.v % 10 == 0 {
        x = Num { v: x.v / 10, s: x.s - 1 };
    }
    x
}

fn check_log(x: Num) -> Result<()> {
    match x.v.cmp(&0) {
        Ordering::Equal => Err(fail(SqlState::InvalidArgumentForLog, "cannot take logarithm of zero")),
        Ordering::Less => Err(fail(SqlState::InvalidArgumentForLog, "cannot take logarithm of a negative number")),
        Ordering::Greater => Ok(()),
    }
}

/// `log(base, x)`, at PostgreSQL's scale (or `target`'s where finer).
fn log(base: Num, x: Num, target: i32) -> Result<(i256, i32)> {
    check_log(base)?;
    check_log(x)?;
    let divisor = ln(Dec::num(base));
    if divisor.is_zero() {
        return Err(division_by_zero());
    }
    let r = log_scale(base, x).min(target);
    Ok((from_dec(ln(Dec::num(x)).div(divisor), r, "log")?, r))
}

/// `sqrt(x)`, exactly: the integer square root of x at one more decimal,
/// rounded half up.
fn sqrt(x: Num, target: i32) -> Result<(i256, i32)> {
    if x.v < 0 {
        return Err(fail(SqlState::InvalidArgumentForPower, "cannot take square root of a negative number"));
    }
    let r = sqrt_scale(x).min(target);
    let shift = 2 * (r + 1) - x.s;
    let n = if shift >= 0 { i256::from_i128(x.v).checked_mul(p10_checked(shift)?) } else { Some(i256::from_i128(x.v) / p10(-shift)) };
    let root = isqrt(n.ok_or_else(|| too_many_digits("sqrt"))?);
    Ok(((root + i256::from_i128(5)) / i256::from_i128(10), r))
}

/// `power(x, y)`, PostgreSQL's way: an integer exponent by multiplication
/// (exactly, where the digits fit), another as `exp(y × ln x)`.
fn power(x: Num, y: Num, target: i32) -> Result<(i256, i32)> {
    if x.v == 0 && y.v < 0 {
        return Err(fail(SqlState::InvalidArgumentForPower, "zero raised to a negative power is undefined"));
    }
    if let Some(n) = integer_exponent(y) {
        let r = x.s.clamp(MIN_SIG_DIGITS, MAX_DISPLAY_SCALE).min(target);
        return Ok((integer_power(x, n, r)?, r));
    }
    if x.v == 0 {
        return Ok((i256::ZERO, MIN_SIG_DIGITS.min(target)));
    }
    if x.v < 0 {
        return Err(fail(SqlState::InvalidArgumentForPower, "a negative number raised to a non-integer power yields a complex result"));
    }
    let exponent = ln(Dec::num(x)).mul(Dec::num(y));
    let r = power_scale(x, y, exponent.to_f64()).min(target);
    Ok((from_dec(exp(exponent)?, r, "power")?, r))
}

/// The exponent as an int4, if it is a whole number that fits one.
fn integer_exponent(y: Num) -> Option<i32> {
    let unit = p10(y.s).to_i128()?;
    if y.v % unit != 0 {
        return None;
    }
    i32::try_from(y.v / unit).ok()
}

/// `x^n` rounded to `r` decimals: exactly where the digits fit i256.
fn integer_power(x: Num, n: i32, r: i32) -> Result<i256> {
    if n == 0 {
        return Ok(p10(r));
    }
    if x.v == 0 {
        return Ok(i256::ZERO);
    }
    let base = i256::from_i128(x.v);
    let (k, exact_scale) = (n.unsigned_abs(), i64::from(x.s) * i64::from(n.unsigned_abs()));
    if exact_scale <= 76 {
        let exact = match base.checked_pow(k) {
            Some(p) if n > 0 => round_to(p, exact_scale as i32, r),
            Some(d) => p10_checked(exact_scale as i32 + r).ok().map(|one| round_div(one, d)),
            None => None,
        };
        if let Some(v) = exact {
            return Ok(v);
        }
    }
    let magnitude = f64::from(n) * ((x.v.unsigned_abs() as f64).log10() - f64::from(x.s));
    if magnitude > f64::from(MAX_DIGITS) + 1.0 {
        return Err(overflow());
    }
    if magnitude < -f64::from(r) - 2.0 {
        return Ok(i256::ZERO);
    }
    let p = Dec::num(x).powi(k);
    from_dec(if n < 0 { Dec::ONE.div(p) } else { p }, r, "power")
}

/// `v × 10^-from` rounded (half away from zero) to `to` decimals; None
/// when it does not fit i256.
fn round_to(v: i256, from: i32, to: i32) -> Option<i256> {
    match to - from {
        0.. if v == i256::ZERO => Some(v),
        up @ 0.. => v.checked_mul(*POWERS.get(up as usize)?),
        down if -down > 76 => Some(i256::ZERO),
        down => Some(round_div(v, p10(-down))),
    }
}

/// The quotient `a / b` rounded to `r` decimals.
fn divide(a: Num, b: Num, r: i32) -> Result<i256> {
    let shift = r + b.s - a.s;
    let (n, d) = if shift >= 0 {
        (i256::from_i128(a.v).checked_mul(p10_checked(shift)?).ok_or_else(overflow)?, i256::from_i128(b.v))
    } else {
        (i256::from_i128(a.v), i256::from_i128(b.v).checked_mul(p10_checked(-shift)?).ok_or_else(overflow)?)
    };
    Ok(round_div(n, d))
}

/// A value of scale `from` at scale `to`: exactly when finer, rounded half
/// away from zero when coarser; an error when it takes more than 38 digits.
fn fit(v: i256, from: i32, to: i32) -> Result<i128> {
    let out = round_to(v, from, to).ok_or_else(overflow)?;
    match out.to_i128() {
        Some(n) if n.unsigned_abs() < 10u128.pow(MAX_DIGITS) => Ok(n),
        _ => Err(overflow()),
    }
}

/// How a value is cut to fewer decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    HalfAway,
    Toward,
    Floor,
    Ceil,
}

/// `v / 10^by`, rounded as `mode` says (`by` may exceed 38).
fn reduce(v: i128, by: i32, mode: Rounding) -> i128 {
    if by <= 0 {
        return v;
    }
    let (q, r) = if by > 38 { (0, v) } else { (v / 10i128.pow(by as u32), v % 10i128.pow(by as u32)) };
    let half_or_more = by <= 38 && r.unsigned_abs() * 2 >= 10u128.pow(by as u32);
    match mode {
        Rounding::HalfAway if half_or_more => q + v.signum(),
        Rounding::Floor if r < 0 => q - 1,
        Rounding::Ceil if r > 0 => q + 1,
        _ => q,
    }
}

/// `n / d` rounded half away from zero.
fn round_div(n: i256, d: i256) -> i256 {
    let (q, r) = (n / d, n % d);
    let (r, d_abs) = (r.wrapping_abs(), d.wrapping_abs());
    if r >= d_abs - r { if n.is_negative() != d.is_negative() { q - i256::ONE } else { q + i256::ONE } } else { q }
}

/// The integer square root (rounded down) of `n ≥ 0`.
fn isqrt(n: i256) -> i256 {
    if n <= i256::ONE {
        return n;
    }
    // Newton's method from above: 2^ceil(bits / 2) is at least the root.
    let bits = 256 - n.leading_zeros();
    let mut x = i256::ONE << (bits.div_ceil(2) as u8);
    loop {
        let y = (x + n / x) >> 1;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// Powers of ten that fit i256.
static POWERS: LazyLock<Vec<i256>> = LazyLock::new(|| (0..=76).map(|n| i256::from_i128(10).wrapping_pow(n)).collect());

/// The decimal digits of `m ≠ 0` (of its magnitude).
fn digit_count(m: i256) -> u32 {
    let magnitude = m.wrapping_abs();
    POWERS.partition_point(|p| *p <= magnitude) as u32
}

/// `10^n` for `0 ≤ n ≤ 76`.
fn p10(n: i32) -> i256 {
    POWERS[n as usize]
}

/// `10^n`, or an error when it does not fit.
fn p10_checked(n: i32) -> Result<i256> {
    POWERS.get(usize::try_from(n).map_err(|_| overflow())?).copied().ok_or_else(overflow)
}

// ---------------------------------------------------------------------------
// PostgreSQL's choice of a result's scale (numeric.c), from its values.

/// A number's base-10000 digits as PostgreSQL holds them: the weight of the
/// first (the power of 10000 it stands for) and the digits, without leading
/// or trailing zero digits. Zero has weight 0 and no digits.
fn base10000(v: i128, s: i32) -> (i32, Vec<u32>) {
    if v == 0 {
        return (0, vec![]);
    }
    let fraction = s.max(0) as usize;
    let fraction_groups = fraction.div_ceil(4);
    let mut text = v.unsigned_abs().to_string();
    text.push_str(&"0".repeat(fraction_groups * 4 - fraction));
    let fraction = fraction_groups * 4;
    if text.len() < fraction {
        text.insert_str(0, &"0".repeat(fraction - text.len()));
    }
    let whole = text.len() - fraction;
    text.insert_str(0, &"0".repeat((4 - whole % 4) % 4));
    let whole_groups = whole.div_ceil(4) as i32;
    let groups: Vec<u32> = text.as_bytes().chunks(4).map(|g| g.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))).collect();
    let first = groups.iter().position(|g| *g != 0).unwrap_or(0);
    let last = groups.iter().rposition(|g| *g != 0).unwrap_or(0);
    (whole_groups - 1 - first as i32, groups[first..=last].to_vec())
}

fn clamp_scale(s: i32) -> i32 {
    s.clamp(0, MAX_DISPLAY_SCALE)
}

/// The weight and value of a number's first base-10000 digit (as
/// [`base10000`], without writing the digits out); zero's are 0 and 0.
fn leading_group(v: i128, s: i32) -> (i32, u32) {
    if v == 0 {
        return (0, 0);
    }
    let u = v.unsigned_abs();
    let exponent = u.ilog10() as i32 - s;
    let weight = exponent.div_euclid(4);
    let shift = 4 * weight + s;
    // The first digit holds at most 4 decimal digits: a shift below 0 is at most 3.
    let first = if shift >= 0 { u / 10u128.pow(shift as u32) } else { u * 10u128.pow(shift.unsigned_abs()) };
    (weight, first as u32)
}

/// select_div_scale: 16 significant digits of the quotient, estimated from
/// the operands' first base-10000 digits, and no fewer decimals than either.
fn div_scale(a: Num, b: Num) -> i32 {
    let ((wa, fa), (wb, fb)) = (leading_group(a.v, a.s), leading_group(b.v, b.s));
    let quotient_weight = wa - wb - i32::from(fa <= fb);
    clamp_scale((MIN_SIG_DIGITS - quotient_weight * 4).max(a.s).max(b.s))
}

/// numeric_sqrt's scale: 16 significant digits (by the input's weight), no
/// fewer decimals than the input.
fn sqrt_scale(x: Num) -> i32 {
    let (weight, _) = leading_group(x.v, x.s);
    let root_weight = (weight + 1) * 4 / 2 - 1;
    clamp_scale((MIN_SIG_DIGITS - root_weight).max(x.s))
}

/// numeric_exp's scale: 16 significant digits by the result's estimated
/// decimal weight.
fn exp_scale(x: Num) -> i32 {
    let weight = (x.v as f64 / 10f64.powi(x.s) * std::f64::consts::LOG10_E).clamp(-2000.0, 2000.0);
    clamp_scale((MIN_SIG_DIGITS - weight as i32).max(x.s))
}

fn ln_scale(x: Num) -> i32 {
    clamp_scale((MIN_SIG_DIGITS - ln_weight(x)).max(x.s))
}

fn log_scale(base: Num, x: Num) -> i32 {
    clamp_scale((MIN_SIG_DIGITS - (ln_weight(x) - ln_weight(base))).max(base.s).max(x.s))
}

/// power_var's scale for a non-integer exponent, from `y × ln x`.
fn power_scale(x: Num, y: Num, exponent: f64) -> i32 {
    let weight = (exponent * std::f64::consts::LOG10_E).clamp(-2000.0, 2000.0);
    clamp_scale((MIN_SIG_DIGITS - weight as i32).max(x.s).max(y.s))
}

/// estimate_ln_dweight: the decimal weight of `ln x` for `x > 0`, from
/// `x - 1` near 1 and from x's first two base-10000 digits elsewhere.
fn ln_weight(x: Num) -> i32 {
    let one = p10(x.s);
    let v = i256::from_i128(x.v) * i256::from_i128(10);
    if v >= one * i256::from_i128(9) && v <= one * i256::from_i128(11) {
        let less_one = x.v - one.as_i128();
        let (weight, digits) = base10000(less_one, x.s);
        return match digits.first() {
            Some(d) => weight * 4 + (f64::from(*d).log10() as i32),
            None => 0,
        };
    }
    let (weight, d) = base10000(x.v, x.s);
    let Some(first) = d.first() else { return 0 };
    let (mut digits, mut dweight) = (f64::from(*first), weight * 4);
    if let Some(second) = d.get(1) {
        digits = digits * 10000.0 + f64::from(*second);
        dweight -= 4;
    }
    let ln = digits.ln() + f64::from(dweight) * std::f64::consts::LN_10;
    ln.abs().log10() as i32
}

// ---------------------------------------------------------------------------
// Decimal floating point with 38 significant digits, for exp, ln and power.

/// `m × 10^e` with `m` of exactly 38 digits (or zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dec {
    m: i256,
    e: i32,
}

impl Dec {
    const ZERO: Dec = Dec { m: i256::ZERO, e: 0 };
    const ONE: Dec = Dec { m: i256::from_i128(10i128.pow(MAX_DIGITS - 1)), e: 1 - MAX_DIGITS as i32 };

    /// `m × 10^e`, normalized.
    fn new(m: i256, e: i32) -> Dec {
        if m == i256::ZERO {
            return Dec::ZERO;
        }
        let digits = digit_count(m);
        if digits > MAX_DIGITS {
            let cut = (digits - MAX_DIGITS) as i32;
            return Dec::new(round_div(m, p10(cut)), e + cut).shrink();
        }
        Dec { m: m * p10((MAX_DIGITS - digits) as i32), e: e - (MAX_DIGITS - digits) as i32 }
    }

    /// A mantissa that rounding carried to 39 digits, back to 38.
    fn shrink(self) -> Dec {
        if self.m.wrapping_abs() >= p10(MAX_DIGITS as i32) { Dec { m: round_div(self.m, p10(1)), e: self.e + 1 } } else { self }
    }

    fn int(v: i128) -> Dec {
        Dec::new(i256::from_i128(v), 0)
    }

    fn num(x: Num) -> Dec {
        Dec::new(i256::from_i128(x.v), -x.s)
    }

    fn is_zero(self) -> bool {
        self.m == i256::ZERO
    }

    fn mul(self, o: Dec) -> Dec {
        Dec::new(self.m * o.m, self.e + o.e)
    }

    fn div(self, o: Dec) -> Dec {
        Dec::new(round_div(self.m * p10(MAX_DIGITS as i32), o.m), self.e - MAX_DIGITS as i32 - o.e)
    }

    /// `self / d` for a small `d > 0`, which i256 divides fast.
    fn div_small(self, d: u64) -> Dec {
        Dec::new(round_div(self.m * p10(19), i256::from_i128(d.into())), self.e - 19)
    }

    fn add(self, o: Dec) -> Dec {
        let (hi, lo) = if self.e >= o.e { (self, o) } else { (o, self) };
        if lo.is_zero() {
            return hi;
        }
        if hi.is_zero() {
            return lo;
        }
        match hi.e - lo.e {
            d if d > 40 => hi,
            d if d <= MAX_DIGITS as i32 => Dec::new(hi.m * p10(d) + lo.m, lo.e),
            d => Dec::new(hi.m * p10(MAX_DIGITS as i32) + round_div(lo.m, p10(d - MAX_DIGITS as i32)), hi.e - MAX_DIGITS as i32),
        }
    }

    fn sub(self, o: Dec) -> Dec {
        self.add(Dec { m: -o.m, e: o.e })
    }

    /// The decimal exponent of the first digit.
    fn magnitude(self) -> i32 {
        self.e + MAX_DIGITS as i32 - 1
    }

    fn to_f64(self) -> f64 {
        self.m.as_i128() as f64 * 10f64.powi(self.e)
    }

    /// `self^n` by squaring.
    fn powi(self, mut n: u32) -> Dec {
        let (mut base, mut out) = (self, Dec::ONE);
        while n > 0 {
            if n & 1 == 1 {
                out = out.mul(base);
            }
            base = base.mul(base);
            n >>= 1;
        }
        out
    }

    /// The value × 10^r, rounded half away from zero, if it fits i256.
    fn scaled(self, r: i32) -> Option<i256> {
        let shift = self.e + r;
        match shift {
            s if s >= 0 => self.m.checked_mul(*POWERS.get(s as usize)?),
            s if -s > 76 => Some(i256::ZERO),
            s => Some(round_div(self.m, p10(-s))),
        }
    }
}

/// A result of exp, ln, log or power at `r` decimals; refused when it would
/// need more significant digits than this arithmetic is sure of.
fn from_dec(d: Dec, r: i32, name: &str) -> Result<i256> {
    let v = d.scaled(r).ok_or_else(overflow)?;
    if v != i256::ZERO && digit_count(v) > SURE_DIGITS {
        return Err(too_many_digits(name));
    }
    Ok(v)
}

fn too_many_digits(name: &str) -> DataFusionError {
    fail(
        SqlState::NumericValueOutOfRange,
        format!("{name} of numeric: the result needs more significant digits than weir computes ({SURE_DIGITS}; its numeric holds {MAX_DIGITS})"),
    )
}

/// `atanh(z) = z + z^3/3 + z^5/5 + ...` for small `|z|`.
fn atanh(z: Dec) -> Dec {
    let square = z.mul(z);
    let (mut term, mut sum) = (z, z);
    for k in 1.. {
        term = term.mul(square);
        let t = term.div_small(2 * k + 1);
        if t.is_zero() || t.magnitude() < sum.magnitude() - 40 {
            break;
        }
        sum = sum.add(t);
    }
    sum
}

/// ln 2 and ln 10, to 38 digits.
static LN2: LazyLock<Dec> = LazyLock::new(|| atanh(Dec::ONE.div_small(3)).mul(Dec::int(2)));
static LN10: LazyLock<Dec> = LazyLock::new(|| LN2.mul(Dec::int(3)).add(atanh(Dec::ONE.div_small(9)).mul(Dec::int(2))));
/// `ln(i / 32)` for `i` in 22..=46, by which [`ln`] brings its argument near 1.
static LN_32THS: LazyLock<Vec<Dec>> = LazyLock::new(|| (22..=46).map(|i: i128| atanh(Dec::int(i - 32).div(Dec::int(i + 32))).mul(Dec::int(2))).collect());

/// `ln x` for `x > 0`: x = g × i/32 × 2^j × 10^k with g near 1, and
/// `ln g = 2 atanh((g - 1) / (g + 1))`.
fn ln(x: Dec) -> Dec {
    let k = (((x.m.as_i128() as f64).log10() + f64::from(x.e)).round()) as i32;
    let f = Dec { m: x.m, e: x.e - k };
    let j = f.to_f64().log2().round() as i32;
    let two_j = Dec::int(1 << j.unsigned_abs());
    let g = if j >= 0 { f.div(two_j) } else { f.mul(two_j) };
    let i = ((g.to_f64() * 32.0).round() as i128).clamp(22, 46);
    let g = g.mul(Dec::int(32)).div_small(i as u64);
    let z = g.sub(Dec::ONE).div(g.add(Dec::ONE));
    let parts = [LN_32THS[(i - 22) as usize], LN2.mul(Dec::int(j.into())), LN10.mul(Dec::int(k.into()))];
    parts.into_iter().fold(atanh(z).mul(Dec::int(2)), Dec::add)
}

/// `e^x`: x = r + k ln 10, and `e^r` by its series at r / 16, squared four times.
fn exp(x: Dec) -> Result<Dec> {
    let approx = x.to_f64();
    if approx > 200.0 {
        return Err(overflow());
    }
    if approx < -200.0 {
        return Ok(Dec::ZERO);
    }
    let k = (approx / std::f64::consts::LN_10).round() as i32;
    let h = x.sub(LN10.mul(Dec::int(k.into()))).div(Dec::int(16));
    let (mut term, mut sum) = (Dec::ONE, Dec::ONE);
    for n in 1.. {
        term = term.mul(h).div_small(n);
        if term.is_zero() || term.magnitude() < -42 {
            break;
        }
        sum = sum.add(term);
    }
    for _ in 0..4 {
        sum = sum.mul(sum);
    }
    Ok(Dec { m: sum.m, e: sum.e + k })
}

// ---------------------------------------------------------------------------
// width_bucket.

fn width_bucket_numeric(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let columns = arrays[..3].iter().map(decimals).collect::<Result<Vec<_>>>()?;
    let counts = cast_strict(&arrays[3], &DataType::Int32)?;
    let counts = counts.as_primitive::<Int32Type>();
    let mut out = Vec::with_capacity(counts.len());
    for row in 0..counts.len() {
        if columns.iter().any(|(a, _)| a.is_null(row)) || counts.is_null(row) {
            out.push(None);
            continue;
        }
        let [x, lo, hi] = [0, 1, 2].map(|i| Num { v: columns[i].0.value(row), s: columns[i].1 });
        out.push(Some(bucket_numeric(x, lo, hi, counts.value(row))?));
    }
    Ok(Arc::new(Int32Array::from(out)))
}

fn bucket_error(message: &str) -> DataFusionError {
    fail(SqlState::InvalidArgumentForWidthBucket, message)
}

/// The bucket of `x` among `count` equal ones from `lo` to `hi`, exactly.
fn bucket_numeric(x: Num, lo: Num, hi: Num, count: i32) -> Result<i32> {
    if count <= 0 {
        return Err(bucket_error("count must be greater than zero"));
    }
    let scale = x.s.max(lo.s).max(hi.s);
    let [x, lo, hi] = [x, lo, hi].map(|n| i256::from_i128(n.v) * p10(scale - n.s));
    let (from, to, at) = match lo.cmp(&hi) {
        Ordering::Equal => return Err(bucket_error("lower bound cannot equal upper bound")),
        Ordering::Less => (lo, hi, x),
        // A descending range counts from the top.
        Ordering::Greater => (-lo, -hi, -x),
    };
    if at < from {
        return Ok(0);
    }
    if at >= to {
        return count.checked_add(1).ok_or_else(|| fail(SqlState::NumericValueOutOfRange, "integer out of range"));
    }
    let bucket = (at - from).checked_mul(i256::from(count)).ok_or_else(overflow)? / (to - from);
    Ok(bucket.as_i128() as i32 + 1)
}

/// width_bucket on double precision, as float.c computes it.
fn bucket_float(x: f64, lo: f64, hi: f64, count: i32) -> Result<i32> {
    if count <= 0 {
        return Err(bucket_error("count must be greater than zero"));
    }
    if x.is_nan() || lo.is_nan() || hi.is_nan() {
        return Err(bucket_error("operand, lower bound, and upper bound cannot be NaN"));
    }
    if lo.is_infinite() || hi.is_infinite() {
        return Err(bucket_error("lower and upper bounds must be finite"));
    }
    let past = || count.checked_add(1).ok_or_else(|| fail(SqlState::NumericValueOutOfRange, "integer out of range"));
    match lo.partial_cmp(&hi) {
        Some(Ordering::Less) if x < lo => Ok(0),
        Some(Ordering::Less) if x >= hi => past(),
        Some(Ordering::Less) => Ok((f64::from(count) * (x - lo) / (hi - lo) + 1.0) as i32),
        Some(Ordering::Greater) if x > lo => Ok(0),
        Some(Ordering::Greater) if x <= hi => past(),
        Some(Ordering::Greater) => Ok((f64::from(count) * (lo - x) / (lo - hi) + 1.0) as i32),
        _ => Err(bucket_error("lower bound cannot equal upper bound")),
    }
}

// ---------------------------------------------------------------------------
// The double precision form.

fn float_error(message: &str) -> DataFusionError {
    fail(SqlState::NumericValueOutOfRange, message)
}

fn float_form(op: Op, arrays: &[ArrayRef]) -> Result<ArrayRef> {
    if op == Op::FloatDiv && arrays.iter().all(|a| *a.data_type() == DataType::Float32) {
        let (a, b) = (arrays[0].as_primitive::<Float32Type>(), arrays[1].as_primitive::<Float32Type>());
        let out = a.iter().zip(b.iter()).map(|(x, y)| x.zip(y).map(|(x, y)| divide_float4(x, y)).transpose());
        return Ok(Arc::new(out.collect::<Result<Float32Array>>()?));
    }
    let columns = arrays.iter().take(if op == Op::WidthBucket { 3 } else { arrays.len() });
    let columns = columns.map(|a| cast_strict(a, &DataType::Float64)).collect::<Result<Vec<_>>>()?;
    let values: Vec<&Float64Array> = columns.iter().map(|a| a.as_primitive::<Float64Type>()).collect();
    let rows = arrays[0].len();
    if op == Op::WidthBucket {
        let counts = cast_strict(&arrays[3], &DataType::Int32)?;
        let counts = counts.as_primitive::<Int32Type>();
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if values.iter().any(|a| a.is_null(row)) || counts.is_null(row) {
                out.push(None);
            } else {
                out.push(Some(bucket_float(values[0].value(row), values[1].value(row), values[2].value(row), counts.value(row))?));
            }
        }
        return Ok(Arc::new(Int32Array::from(out)));
    }
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if values.iter().any(|a| a.is_null(row)) {
            out.push(None);
        } else {
            let x: Vec<f64> = values.iter().map(|a| a.value(row)).collect();
            out.push(Some(float_value(op, &x)?));
        }
    }
    Ok(Arc::new(Float64Array::from(out)))
}

/// One value of a double precision function, with PostgreSQL's errors.
fn float_value(op: Op, x: &[f64]) -> Result<f64> {
    let log_of = |v: f64, f: fn(f64) -> f64| match v {
        0.0 => Err(fail(SqlState::InvalidArgumentForLog, "cannot take logarithm of zero")),
        v if v < 0.0 => Err(fail(SqlState::InvalidArgumentForLog, "cannot take logarithm of a negative number")),
        v => Ok(f(v)),
    };
    match op {
        Op::Ceil => Ok(x[0].ceil()),
        Op::Floor => Ok(x[0].floor()),
        Op::Trunc => Ok(x[0].trunc()),
        Op::Round => Ok(x[0].round_ties_even()),
        Op::Sign => Ok(if x[0] > 0.0 {
            1.0
        } else if x[0] < 0.0 {
            -1.0
        } else {
            0.0
        }),
        Op::Sqrt if x[0] < 0.0 => Err(fail(SqlState::InvalidArgumentForPower, "cannot take square root of a negative number")),
        Op::Sqrt => Ok(x[0].sqrt()),
        Op::Exp => exp_float(x[0]),
        Op::Ln => log_of(x[0], f64::ln),
        Op::Log | Op::Log10 => log_of(x[0], f64::log10),
        Op::Power => power_float(x[0], x[1]),
        Op::FloatDiv => divide_float(x[0], x[1]),
        _ => Err(SqlError::internal(format!("{op:?} has no double precision form")).into()),
    }
}

fn exp_float(x: f64) -> Result<f64> {
    if x.is_nan() || x.is_infinite() {
        return Ok(x.exp());
    }
    match x.exp() {
        r if r.is_infinite() => Err(float_error("value out of range: overflow")),
        0.0 => Err(float_error("value out of range: underflow")),
        r => Ok(r),
    }
}

/// dpow's rules: NaN to the 0th and 1 to the NaNth are 1; 0 to a negative
/// and a negative to a fraction are errors; a finite result out of range too.
fn power_float(x: f64, y: f64) -> Result<f64> {
    if x.is_nan() {
        return Ok(if y == 0.0 { 1.0 } else { f64::NAN });
    }
    if y.is_nan() {
        return Ok(if x == 1.0 { 1.0 } else { f64::NAN });
    }
    if x == 0.0 && y < 0.0 {
        return Err(fail(SqlState::InvalidArgumentForPower, "zero raised to a negative power is undefined"));
    }
    if x < 0.0 && y.floor() != y {
        return Err(fail(SqlState::InvalidArgumentForPower, "a negative number raised to a non-integer power yields a complex result"));
    }
    let r = x.powf(y);
    if x.is_infinite() || y.is_infinite() {
        return Ok(r);
    }
    if r.is_infinite() {
        return Err(float_error("value out of range: overflow"));
    }
    if r == 0.0 && x != 0.0 {
        return Err(float_error("value out of range: underflow"));
    }
    Ok(r)
}

/// float8div: a zero divisor is an error (unless the dividend is NaN), and
/// so is a finite quotient out of range.
fn divide_float(x: f64, y: f64) -> Result<f64> {
    if y == 0.0 && !x.is_nan() {
        return Err(division_by_zero());
    }
    let q = x / y;
    if q.is_infinite() && !x.is_infinite() {
        return Err(float_error("value out of range: overflow"));
    }
    if q == 0.0 && x != 0.0 && !y.is_infinite() {
        return Err(float_error("value out of range: underflow"));
    }
    Ok(q)
}

/// float4div: float8div's rules, on real.
fn divide_float4(x: f32, y: f32) -> Result<f32> {
    let q = divide_float(x.into(), y.into())? as f32;
    if q.is_infinite() && !x.is_infinite() {
        return Err(float_error("value out of range: overflow"));
    }
    if q == 0.0 && x != 0.0 && !y.is_infinite() {
        return Err(float_error("value out of range: underflow"));
    }
    Ok(q)
}

// ---------------------------------------------------------------------------
// The integer forms: mod, gcd, lcm, to_hex, factorial.

fn integer_form(op: Op, arrays: &[ArrayRef], t: &DataType) -> Result<ArrayRef> {
    let columns = arrays.iter().map(|a| cast_strict(a, &DataType::Int64)).collect::<Result<Vec<_>>>()?;
    let values: Vec<_> = columns.iter().map(|a| a.as_primitive::<Int64Type>()).collect();
    let rows = arrays[0].len();
    let at = |row: usize| -> Option<Vec<i64>> { values.iter().all(|a| !a.is_null(row)).then(|| values.iter().map(|a| a.value(row)).collect()) };
    match op {
        Op::ToHex => {
            let hex = |v: i64| if arrays[0].data_type() == &DataType::Int64 { format!("{:x}", v as u64) } else { format!("{:x}", v as i32 as u32) };
            Ok(Arc::new((0..rows).map(|row| at(row).map(|x| hex(x[0]))).collect::<StringArray>()))
        }
        Op::Factorial => {
            let out = (0..rows).map(|row| at(row).map(|x| factorial(x[0])).transpose()).collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(Decimal128Array::from(out).with_precision_and_scale(38, 0)?))
        }
        _ => {
            let out = (0..rows).map(|row| at(row).map(|x| integer_value(op, x[0], x[1], t)).transpose()).collect::<Result<Vec<_>>>()?;
            let out: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(out));
            cast_strict(&out, t)
        }
    }
}

/// mod, gcd or lcm of two integers of type `t`, with PostgreSQL's errors.
fn integer_value(op: Op, a: i64, b: i64, t: &DataType) -> Result<i64> {
    let out_of_range = || {
        let name = match t {
            DataType::Int16 => "smallint",
            DataType::Int32 => "integer",
            _ => "bigint",
        };
        fail(SqlState::NumericValueOutOfRange, format!("{name} out of range"))
    };
    let (max, a, b) = (int_max(t), i128::from(a), i128::from(b));
    let v = match op {
        Op::Mod if b == 0 => return Err(division_by_zero()),
        Op::Mod => a % b,
        Op::Gcd => gcd(i256::from_i128(a), i256::from_i128(b)).as_i128(),
        _ if a == 0 || b == 0 => 0,
        _ => (a / gcd(i256::from_i128(a), i256::from_i128(b)).as_i128() * b).abs(),
    };
    if v > max || v < -max - 1 {
        return Err(out_of_range());
    }
    Ok(v as i64)
}

fn int_max(t: &DataType) -> i128 {
    match t {
        DataType::Int16 => i16::MAX.into(),
        DataType::Int32 => i32::MAX.into(),
        _ => i64::MAX.into(),
    }
}

/// `n!` as a numeric.
fn factorial(n: i64) -> Result<i128> {
    if n < 0 {
        return Err(fail(SqlState::NumericValueOutOfRange, "factorial of a negative number is undefined"));
    }
    let mut product: i128 = 1;
    for k in 2..=n {
        product = product.checked_mul(k.into()).filter(|p| p.unsigned_abs() < 10u128.pow(MAX_DIGITS)).ok_or_else(overflow)?;
    }
    Ok(product)
}

// ---------------------------------------------------------------------------
// The rewrite `pgplan` makes.

/// `/` as PostgreSQL divides, and the calls of this file's functions with
/// their constant arguments folded, for `pgplan`: `/` with a numeric
/// operand (and no float) is `weir_numeric_div`, with a float
/// `weir_float_div`; a call whose result's scale PostgreSQL picks by value
/// (division, sqrt, exp, ln, log, power, trim_scale) is worked out here
/// when its arguments are constants, at exactly PostgreSQL's scale. None
/// when `e` is none of these or nothing changed.
pub(crate) fn rewrite(e: &Expr, schema: &DFSchema) -> Result<Option<Expr>> {
    let (func, args, op, renamed) = match e {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right }) => {
            let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else { return Ok(None) };
            let numeric = |k| matches!(k, Kind::Int | Kind::Decimal | Kind::Float | Kind::Null);
            let (l, r) = (kind(&l), kind(&r));
            let (name, op) = match (l, r) {
                _ if !numeric(l) || !numeric(r) => return Ok(None),
                (Kind::Float, _) | (_, Kind::Float) => ("weir_float_div", Op::FloatDiv),
                (Kind::Decimal, _) | (_, Kind::Decimal) => ("weir_numeric_div", Op::NumericDiv),
                _ => return Ok(None),
            };
            (super::named(name), vec![(**left).clone(), (**right).clone()], op, true)
        }
        Expr::Cast(datafusion::logical_expr::expr::Cast { expr, field }) if kind(field.data_type()) == Kind::Decimal => {
            return match &**expr {
                Expr::Literal(v, _) if v.try_as_str().flatten().is_some_and(not_a_decimal) => Err(fail(SqlState::FeatureNotSupported, NO_NAN)),
                _ => Ok(None),
            };
        }
        Expr::ScalarFunction(f) => match f.func.inner().downcast_ref::<NumericFn>() {
            Some(n) => (f.func.clone(), f.args.clone(), n.op, false),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let folded: Vec<Expr> = args.iter().map(|a| constant(a).unwrap_or_else(|| a.clone())).collect();
    if op.value_scaled()
        && let Some(value) = exact(&func, &folded)?
    {
        return Ok(Some(value));
    }
    if !renamed && folded == args {
        return Ok(None);
    }
    Ok(Some(Expr::ScalarFunction(ScalarFunction::new_udf(func, folded))))
}

/// Whether numeric's input text is NaN or an infinity, which Decimal128 cannot hold.
fn not_a_decimal(text: &str) -> bool {
    let t = text.trim().trim_start_matches(['+', '-']).to_ascii_lowercase();
    matches!(t.as_str(), "nan" | "inf" | "infinity")
}

/// A constant expression as the literal it evaluates to.
fn constant(e: &Expr) -> Option<Expr> {
    if matches!(e, Expr::Literal(..)) || !e.column_refs().is_empty() || e.is_volatile() {
        return None;
    }
    use datafusion::optimizer::simplify_expressions::ExprSimplifier;
    let simplifier = ExprSimplifier::new(datafusion::logical_expr::simplify::SimplifyContext::default());
    let coerced = simplifier.coerce(e.clone(), &DFSchema::empty()).ok()?;
    match simplifier.simplify(coerced).ok()? {
        lit @ Expr::Literal(..) => Some(lit),
        _ => None,
    }
}

/// The call on these literals as the literal of its value, at the scale
/// PostgreSQL gives that value. None when an argument is not a literal or
/// the call fails, so that it fails when run, unless the value does not
/// fit a numeric (that is refused now).
fn exact(func: &Arc<ScalarUDF>, args: &[Expr]) -> Result<Option<Expr>> {
    let values: Option<Vec<ScalarValue>> = args.iter().map(|a| if let Expr::Literal(v, _) = a { Some(v.clone()) } else { None }).collect();
    let Some(values) = values else { return Ok(None) };
    let Some(f) = func.inner().downcast_ref::<NumericFn>() else { return Ok(None) };
    let types: Vec<DataType> = values.iter().map(ScalarValue::data_type).collect();
    if values.iter().any(ScalarValue::is_null) || resolve(f.op, f.name, &types).ok() != Some(Form::Numeric) {
        return Ok(None);
    }
    let nums = values.iter().map(scalar_num).collect::<Option<Vec<_>>>();
    let Some(nums) = nums else { return Ok(None) };
    let value = numeric_value(f.op, &nums, None, MAX_DISPLAY_SCALE);
    let (v, s) = match value {
        Ok(v) => v,
        Err(e) if refused_now(&e) => return Err(e),
        Err(_) => return Ok(None),
    };
    if s > MAX_DIGITS as i32 {
        return Err(fail(
            SqlState::NumericValueOutOfRange,
            format!("value overflows numeric format: its scale would be {s}, and weir's numeric holds at most 38 digits"),
        ));
    }
    let unscaled = fit(v, s, s)?;
    Ok(Some(Expr::Literal(ScalarValue::Decimal128(Some(unscaled), 38, s as i8), None)))
}

/// Whether a failure of a constant call is raised when planning: a value
/// that does not fit, which no run could give.
fn refused_now(e: &DataFusionError) -> bool {
    matches!(e, DataFusionError::External(inner) if inner.downcast_ref::<SqlError>().is_some_and(|s| s.state == SqlState::NumericValueOutOfRange))
}

/// A numeric or integer literal's value.
fn scalar_num(v: &ScalarValue) -> Option<Num> {
    match v {
        ScalarValue::Decimal128(Some(v), _, s) if *s >= 0 => Some(Num { v: *v, s: (*s).into() }),
        ScalarValue::UInt64(Some(v)) => Some(Num { v: (*v).into(), s: 0 }),
        ScalarValue::Decimal128(Some(v), _, s) => Some(Num { v: v.checked_mul(10i128.checked_pow(u32::from(s.unsigned_abs()))?)?, s: 0 }),
        other => int_value(other).map(|v| Num { v: v.into(), s: 0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extreme values give a value or an error, never a panic.
    #[test]
    fn extremes_do_not_panic() {
        let big = 10i128.pow(38) - 1;
        let values = [0, 1, -1, 2, 7, big, -big, 10i128.pow(37), 5];
        let ops = [Op::Ceil, Op::Floor, Op::Round, Op::Trunc, Op::Sign, Op::TrimScale, Op::Mod, Op::Div, Op::Gcd, Op::Lcm];
        let more = [Op::NumericDiv, Op::Sqrt, Op::Exp, Op::Ln, Op::Log, Op::Log10, Op::Power];
        for op in ops.into_iter().chain(more) {
            for (a, b) in values.iter().flat_map(|a| values.iter().map(move |b| (*a, *b))) {
                for (sa, sb) in [(0, 0), (38, 0), (0, 38), (38, 38), (19, 3)] {
                    let x = [Num { v: a, s: sa }, Num { v: b, s: sb }];
                    let n = if op.arity().1 == 1 || matches!(op, Op::Round | Op::Trunc) { 1 } else { 2 };
                    for digits in [None, Some(-50), Some(3), Some(50)] {
                        let _ = numeric_value(op, &x[..n], digits, 38).and_then(|(v, s)| fit(v, s, 38));
                        let _ = numeric_value(op, &x[..n], digits, MAX_DISPLAY_SCALE);
                    }
                }
            }
        }
        for (a, b) in [(i64::MIN, -1), (i64::MIN, 0), (i64::MAX, i64::MAX), (i64::MIN, i64::MIN)] {
            for op in [Op::Mod, Op::Gcd, Op::Lcm] {
                let _ = integer_value(op, a, b, &DataType::Int64);
            }
        }
        assert!(factorial(34).is_err() && factorial(-1).is_err());
    }

    #[test]
    fn postgres_scale_rules() {
        assert_eq!(base10000(7000000, 0), (1, vec![700]));
        assert_eq!(base10000(5, 1), (-1, vec![5000]));
        assert_eq!(base10000(123456789, 4), (1, vec![1, 2345, 6789]));
        for (v, s) in [(7000000, 0), (5, 1), (123456789, 4), (1, 30), (99999, 2), (10000, 0), (-42, 3), (i128::MAX, 0), (i128::MAX, 38)] {
            let (weight, digits) = base10000(v, s);
            assert_eq!(leading_group(v, s), (weight, digits[0]), "{v} at scale {s}");
        }
        assert_eq!(div_scale(Num { v: 1, s: 0 }, Num { v: 3, s: 0 }), 20);
        assert_eq!(div_scale(Num { v: 10, s: 0 }, Num { v: 4, s: 0 }), 16);
        assert_eq!(sqrt_scale(Num { v: 1, s: 10 }), 21);
        let ln10 = LN10.scaled(37).expect("fits");
        assert_eq!(ln10.to_string(), "23025850929940456840179914546843642076");
    }
}
