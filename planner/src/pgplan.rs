//! PostgreSQL's typing and arithmetic rules applied to a DataFusion logical
//! plan, before DataFusion's analyzer coerces it:
//! - an integer literal that fits in `int4` is `int4` (DataFusion makes every
//!   one `int8`), so `SELECT 1` is an integer and `1 + 2` too;
//! - `+`, `-` and `*` on integers fail on overflow (SQLSTATE 22003) instead
//!   of wrapping around, as DataFusion's kernels do;
//! - a cast to an integer rounds (`10.5::int` is 11), a cast to
//!   `varchar(n)` cuts the text to n characters, a timestamp cast to text
//!   reads as PostgreSQL writes it;
//! - `date + interval` is a timestamp, `date - date` an integer,
//!   `timestamp - timestamp` an interval of days and time;
//! - `concat` shows a boolean as `t` or `f`;
//! - `date_trunc` of a date is a timestamptz; `coalesce` is a CASE;
//! - arrays read and write PostgreSQL's text form (`pgfunctions::arrays`).
//!
//! Result names stay what the planner gave them, so the nodes above still
//! find the columns they refer to.

use crate::pgfunctions::columnar;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue, plan_err};
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, lit,
};
use std::sync::Arc;

/// Applies the rules above to every node of `plan` and its subqueries.
pub fn apply(plan: LogicalPlan) -> Result<LogicalPlan> {
    let checked: Vec<Arc<ScalarUDF>> = [Operator::Plus, Operator::Minus, Operator::Multiply]
        .into_iter()
        .map(|op| Arc::new(ScalarUDF::new_from_impl(CheckedArithmetic { op, signature: Signature::user_defined(Volatility::Immutable) })))
        .collect();
    let udfs = Udfs {
        round: crate::pgfunctions::named("weir_round_for_int"),
        left: datafusion::functions::unicode::left(),
        justify_hours: crate::pgfunctions::named("justify_hours"),
        timestamp_text: crate::pgfunctions::named("weir_timestamp_text"),
        interval_text: crate::pgfunctions::named("weir_interval_text"),
        text_forms: ["weir_inet_in", "weir_cidr_in", "weir_uuid_in", "weir_jsonb_in", "weir_json_in", "weir_untag", "weir_inet_text"]
            .map(crate::pgfunctions::named)
            .to_vec(),
    };
    plan.transform_up_with_subqueries(|node| {
        // Their expressions must stay as the planner made them (LIMIT takes
        // an int8, VALUES carries its own schema).
        if matches!(node, LogicalPlan::Limit(_) | LogicalPlan::Statement(_) | LogicalPlan::Dml(_) | LogicalPlan::Ddl(_)) {
            return Ok(Transformed::no(node));
        }
        if let LogicalPlan::Values(_) = node {
            // VALUES of an INSERT cast to the table's types: those casts round too.
            let empty = DFSchema::empty();
            return node.map_expressions(|e| {
                e.transform_up(|e| rounding_cast(e, &empty, &udfs)?.transform_data(|e| crate::pgfunctions::arrays::plan_rule(e, &empty)))
            });
        }
        let schema = match node.inputs().as_slice() {
            [] => Arc::new(DFSchema::empty()),
            [one] => one.schema().clone(),
            _ => node.schema().clone(),
        };
        let names = NamePreserver::new(&node);
        let node = node.map_expressions(|e| {
            let saved = names.save(&e);
            let t = e.transform_up(|e| {
                int4_literal(e)?
                    .transform_data(|e| checked_arithmetic(e, &schema, &checked))?
                    .transform_data(|e| pg_semantics(e, &schema, &udfs))?
                    .transform_data(|e| crate::pgfunctions::arrays::plan_rule(e, &schema))
            })?;
            Ok(t.update_data(|e| saved.restore(e)))
        })?;
        // A child's columns may have changed type even where this node did not.
        node.map_data(|p| p.recompute_schema()).map(|t| Transformed::yes(t.data))
    })
    .and_then(|t| crate::pgfunctions::arrays::one_dimensional_output(t.data))
}

fn int4_literal(e: Expr) -> Result<Transformed<Expr>> {
    Ok(match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), meta) if i32::try_from(v).is_ok() => {
            Transformed::yes(Expr::Literal(ScalarValue::Int32(Some(v as i32)), meta))
        }
        e => Transformed::no(e),
    })
}

/// The functions the rules call.
struct Udfs {
    round: Arc<ScalarUDF>,
    left: Arc<ScalarUDF>,
    justify_hours: Arc<ScalarUDF>,
    timestamp_text: Arc<ScalarUDF>,
    interval_text: Arc<ScalarUDF>,
    /// What reads text into a tagged type and back: weir_inet_in,
    /// weir_cidr_in, weir_uuid_in, weir_inet_text, weir_untag.
    text_forms: Vec<Arc<ScalarUDF>>,
}

impl Udfs {
    fn text_form(&self, name: &str) -> Option<&Arc<ScalarUDF>> {
        self.text_forms.iter().find(|f| f.name() == name)
    }
}

fn call(f: &Arc<ScalarUDF>, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction(ScalarFunction::new_udf(f.clone(), args))
}

/// A cast of a decimal or float to an integer, rounding first.
fn rounding_cast(e: Expr, schema: &DFSchema, udfs: &Udfs) -> Result<Transformed<Expr>> {
    let Expr::Cast(Cast { expr, field }) = &e else { return Ok(Transformed::no(e)) };
    if is_integer(field.data_type()) && matches!(expr.get_type(schema).ok(), Some(DataType::Decimal128(..) | DataType::Float32 | DataType::Float64)) {
        return Ok(Transformed::yes(Expr::Cast(Cast { expr: Box::new(call(&udfs.round, vec![(**expr).clone()])), field: field.clone() })));
    }
    Ok(Transformed::no(e))
}

/// Casts, date arithmetic and `concat` as PostgreSQL does them.
fn pg_semantics(e: Expr, schema: &DFSchema, udfs: &Udfs) -> Result<Transformed<Expr>> {
    let type_of = |x: &Expr| x.get_type(schema).ok();
    if let Some(numeric) = crate::pgfunctions::numeric_fns::rewrite(&e, schema)? {
        return Ok(Transformed::yes(numeric));
    }
    Ok(Transformed::yes(match &e {
        Expr::Cast(Cast { expr, field }) => {
            let from = type_of(expr);
            if is_integer(field.data_type()) && matches!(from, Some(DataType::Decimal128(..) | DataType::Float32 | DataType::Float64)) {
                return rounding_cast(e, schema, udfs);
            } else if matches!(from, Some(DataType::Timestamp(..))) && is_text(field.data_type()) {
                call(&udfs.timestamp_text, vec![(**expr).clone()])
            } else if matches!(from, Some(DataType::Interval(IntervalUnit::MonthDayNano))) && is_text(field.data_type()) {
                call(&udfs.interval_text, vec![(**expr).clone()])
            } else if let Some((t, f)) = tag_of(field).and_then(|t| Some((t, udfs.text_form(&format!("weir_{t}_in"))?))) {
                // Text read as inet, cidr, uuid or jsonb is checked and written as PostgreSQL writes it.
                if !from.as_ref().is_some_and(|d| is_text(d) || d == &DataType::Null) {
                    let from = from.map_or("unknown".into(), |d| crate::error::pg_type_name(&d.to_string()));
                    return Err(crate::SqlError::new(crate::SqlState::CannotCoerce, format!("cannot cast type {from} to {t}")).into());
                }
                call(f, vec![(**expr).clone()])
            } else if is_text(field.data_type())
                && tag_of(field).is_none()
                && let Some(t) = schema_tag(expr, schema)
            {
                // A tagged value as text: plain text, an inet with its netmask.
                let f = udfs.text_form(if t == "inet" || t == "cidr" { "weir_inet_text" } else { "weir_untag" }).expect("defined");
                call(f, vec![(**expr).clone()])
            } else if !is_text(field.data_type()) && tag_of(field).is_none() && schema_tag(expr, schema).is_some() {
                // `'123'::jsonb::int`: the result is the target type, not the tagged one.
                let plain = call(udfs.text_form("weir_untag").expect("defined"), vec![(**expr).clone()]);
                Expr::Cast(Cast { expr: Box::new(plain), field: field.clone() })
            } else if let Some(n) = varchar_length(field) {
                Expr::Cast(Cast { expr: Box::new(call(&udfs.left, vec![(**expr).clone(), lit(n)])), field: field.clone() })
            } else {
                return Ok(Transformed::no(e));
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Plus | Operator::Minus), right }) => match (type_of(left), type_of(right)) {
            (Some(DataType::Date32), Some(DataType::Interval(_))) => {
                let ts = Expr::Cast(Cast::new(left.clone(), DataType::Timestamp(TimeUnit::Nanosecond, None)));
                Expr::BinaryExpr(BinaryExpr::new(Box::new(ts), *op, right.clone()))
            }
            (Some(DataType::Date32), Some(DataType::Date32)) if *op == Operator::Minus => Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Int32)),
            (Some(DataType::Timestamp(..)), Some(DataType::Timestamp(..))) if *op == Operator::Minus => call(&udfs.justify_hours, vec![e.clone()]),
            _ => return Ok(Transformed::no(e)),
        },
        Expr::Case(case) => match float_over_numeric(case, &type_of) {
            Some(case) => Expr::Case(case),
            None => return Ok(Transformed::no(e)),
        },
        // DataFusion's optimizer turns coalesce into CASE and its kernel refuses
        // to run otherwise; a materialized view's plan is not optimized.
        Expr::ScalarFunction(f) if f.name() == "coalesce" && !f.args.is_empty() => {
            let (last, rest) = f.args.split_last().expect("not empty");
            let whens = rest.iter().map(|a| (Box::new(a.clone().is_not_null()), Box::new(a.clone()))).collect::<Vec<_>>();
            if whens.is_empty() { last.clone() } else { Expr::Case(datafusion::logical_expr::expr::Case::new(None, whens, Some(Box::new(last.clone())))) }
        }
        Expr::ScalarFunction(f) if f.name() == "date_trunc" && f.args.len() == 2 && type_of(&f.args[1]) == Some(DataType::Date32) => {
            // date_trunc(text, date) is date_trunc(text, timestamptz) in PostgreSQL.
            let ts = Expr::Cast(Cast::new(Box::new(f.args[1].clone()), DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into()))));
            Expr::ScalarFunction(ScalarFunction::new_udf(f.func.clone(), vec![f.args[0].clone(), ts]))
        }
        Expr::ScalarFunction(f) if matches!(f.name(), "concat" | "concat_ws") && f.args.iter().any(|a| type_of(a) == Some(DataType::Boolean)) => {
            let args = f.args.iter().map(|a| if type_of(a) == Some(DataType::Boolean) { bool_text(a.clone()) } else { a.clone() }).collect();
            Expr::ScalarFunction(ScalarFunction::new_udf(f.func.clone(), args))
        }
        _ => return Ok(Transformed::no(e)),
    }))
}

/// A CASE whose branches mix double precision and numeric is double
/// precision in PostgreSQL (DataFusion would pick the decimal).
fn float_over_numeric(
    case: &datafusion::logical_expr::expr::Case,
    type_of: &dyn Fn(&Expr) -> Option<DataType>,
) -> Option<datafusion::logical_expr::expr::Case> {
    let results: Vec<&Expr> = case.when_then_expr.iter().map(|(_, t)| t.as_ref()).chain(case.else_expr.as_deref()).collect();
    let types: Vec<Option<DataType>> = results.iter().map(|r| type_of(r)).collect();
    let float = types.iter().any(|t| matches!(t, Some(DataType::Float64 | DataType::Float32)));
    let decimal = types.iter().any(|t| matches!(t, Some(DataType::Decimal128(..))));
    if !(float && decimal) {
        return None;
    }
    let as_float = |e: &Expr| match type_of(e) {
        Some(DataType::Decimal128(..)) => Box::new(Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Float64))),
        _ => Box::new(e.clone()),
    };
    let mut out = case.clone();
    out.when_then_expr = case.when_then_expr.iter().map(|(w, t)| (w.clone(), as_float(t))).collect();
    out.else_expr = case.else_expr.as_deref().map(as_float);
    Some(out)
}

/// The PostgreSQL type a field is tagged with (`inet`, `uuid`, `varchar(3)`).
fn tag_of(field: &Field) -> Option<&str> {
    field.metadata().get(crate::pgtypes::PG_TYPE_KEY).map(String::as_str)
}

/// The tag of an expression's result, when it has one.
fn schema_tag(e: &Expr, schema: &DFSchema) -> Option<String> {
    e.to_field(schema).ok().and_then(|(_, f)| tag_of(&f).map(str::to_string))
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// `n` of a field tagged `varchar(n)`.
fn varchar_length(field: &Field) -> Option<i64> {
    let tag = field.metadata().get(crate::pgtypes::PG_TYPE_KEY)?;
    tag.strip_prefix("varchar(")?.strip_suffix(')')?.parse().ok()
}

/// A boolean as PostgreSQL's output function shows it.
fn bool_text(e: Expr) -> Expr {
    Expr::Case(datafusion::logical_expr::expr::Case::new(
        None,
        vec![(Box::new(e.clone().is_true()), Box::new(lit("t"))), (Box::new(e.is_false()), Box::new(lit("f")))],
        None,
    ))
}

fn is_integer(t: &DataType) -> bool {
    matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64)
}

fn checked_arithmetic(e: Expr, schema: &DFSchema, checked: &[Arc<ScalarUDF>]) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else { return Ok(Transformed::no(e)) };
    let Some(f) = checked.iter().find(|f| f.name() == CheckedArithmetic::name_of(*op)) else { return Ok(Transformed::no(e)) };
    let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else { return Ok(Transformed::no(e)) };
    if !is_integer(&l) || !is_integer(&r) {
        return Ok(Transformed::no(e));
    }
    Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(f.clone(), vec![(**left).clone(), (**right).clone()]))))
}

/// `+`, `-` or `*` of two integers that errors on overflow.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CheckedArithmetic {
    op: Operator,
    signature: Signature,
}

impl CheckedArithmetic {
    fn name_of(op: Operator) -> &'static str {
        match op {
            Operator::Plus => "weir_int_add",
            Operator::Minus => "weir_int_sub",
            Operator::Multiply => "weir_int_mul",
            _ => "",
        }
    }
}

/// The wider of two integer types, as PostgreSQL resolves `int2 + int4`.
fn wider(a: &DataType, b: &DataType) -> DataType {
    let rank = |t: &DataType| match t {
        DataType::Int8 => 0,
        DataType::Int16 => 1,
        DataType::Int32 => 2,
        _ => 3,
    };
    if rank(a) >= rank(b) { a.clone() } else { b.clone() }
}

impl ScalarUDFImpl for CheckedArithmetic {
    fn name(&self) -> &str {
        Self::name_of(self.op)
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = args else { return plan_err!("{} takes two integers", self.name()) };
        let t = wider(a, b);
        Ok(vec![t.clone(), t])
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match args {
            [a, b] => wider(a, b),
            _ => DataType::Int64,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: ArrayRef = match self.op {
            Operator::Plus => numeric::add(&arrays[0], &arrays[1]),
            Operator::Minus => numeric::sub(&arrays[0], &arrays[1]),
            _ => numeric::mul(&arrays[0], &arrays[1]),
        }
        .map_err(|e| match e {
            datafusion::arrow::error::ArrowError::ArithmeticOverflow(_) => datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(
                crate::SqlState::NumericValueOutOfRange,
                match args.return_field.data_type() {
                    DataType::Int16 => "smallint out of range",
                    DataType::Int32 => "integer out of range",
                    _ => "bigint out of range",
                },
            ))),
            e => e.into(),
        })?;
        columnar(out, all_scalar)
    }
}
