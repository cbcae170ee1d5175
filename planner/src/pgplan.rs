//! PostgreSQL's typing and arithmetic rules applied to a DataFusion logical
//! plan, before DataFusion's analyzer coerces it:
//! - an integer literal that fits in `int4` is `int4` (DataFusion makes every
//!   one `int8`), so `SELECT 1` is an integer and `1 + 2` too;
//! - `+`, `-` and `*` on integers fail on overflow (SQLSTATE 22003) instead
//!   of wrapping around, as DataFusion's kernels do.
//!
//! Result names stay what the planner gave them, so the nodes above still
//! find the columns they refer to.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// Applies the rules above to every node of `plan` and its subqueries.
pub fn apply(plan: LogicalPlan) -> Result<LogicalPlan> {
    let checked: Vec<Arc<ScalarUDF>> = [Operator::Plus, Operator::Minus, Operator::Multiply]
        .into_iter()
        .map(|op| Arc::new(ScalarUDF::new_from_impl(CheckedArithmetic { op, signature: Signature::user_defined(Volatility::Immutable) })))
        .collect();
    plan.transform_up_with_subqueries(|node| {
        // Their expressions must stay as the planner made them (LIMIT takes
        // an int8, VALUES carries its own schema).
        if matches!(node, LogicalPlan::Values(_) | LogicalPlan::Limit(_) | LogicalPlan::Statement(_) | LogicalPlan::Dml(_) | LogicalPlan::Ddl(_)) {
            return Ok(Transformed::no(node));
        }
        let schema = match node.inputs().as_slice() {
            [] => Arc::new(DFSchema::empty()),
            [one] => one.schema().clone(),
            _ => node.schema().clone(),
        };
        let names = NamePreserver::new(&node);
        let node = node.map_expressions(|e| {
            let saved = names.save(&e);
            let t = e.transform_up(|e| int4_literal(e)?.transform_data(|e| checked_arithmetic(e, &schema, &checked)))?;
            Ok(t.update_data(|e| saved.restore(e)))
        })?;
        // A child's columns may have changed type even where this node did not.
        node.map_data(|p| p.recompute_schema()).map(|t| Transformed::yes(t.data))
    })
    .map(|t| t.data)
}

fn int4_literal(e: Expr) -> Result<Transformed<Expr>> {
    Ok(match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), meta) if i32::try_from(v).is_ok() => Transformed::yes(Expr::Literal(ScalarValue::Int32(Some(v as i32)), meta)),
        e => Transformed::no(e),
    })
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
        Ok(if all_scalar { ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?) } else { ColumnarValue::Array(out) })
    }
}
