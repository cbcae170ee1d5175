//! Where DataFusion's SQL semantics differ from PostgreSQL's and clients
//! notice: a plan rewrite that gives `text -> bytea` casts PostgreSQL's
//! input format (`'\xdeadbeef'` is four bytes, not ten characters), and
//! reads a text literal compared with a boolean as a boolean.

use arrow::array::{Array, BinaryArray, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, exec_err};
use datafusion::logical_expr::expr::{BinaryExpr, Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::logical_expr::{Operator, lit};
use datafusion::scalar::ScalarValue;
use std::sync::Arc;

/// `bytea` text input: `\x` followed by hex digit pairs, or the escape
/// format (`\000` octal, `\\`, other bytes as themselves).
pub fn bytea_from_text(s: &str) -> std::result::Result<Vec<u8>, String> {
    match s.strip_prefix("\\x") {
        Some(hex) if hex.len() % 2 == 0 => (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| "invalid hexadecimal digit in bytea input".to_string()))
            .collect(),
        Some(_) => Err("invalid hexadecimal data: odd number of digits".into()),
        None => weir_planner::pgfunctions::bytea::read_escape(s.as_bytes()).ok_or_else(|| "invalid input syntax for type bytea".to_string()),
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ByteaIn {
    signature: Signature,
}

impl ScalarUDFImpl for ByteaIn {
    fn name(&self) -> &str {
        "pg_bytea_in"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(text) = arrays[0].as_any().downcast_ref::<StringArray>() else {
            return exec_err!("pg_bytea_in expects text");
        };
        let out: BinaryArray = text
            .iter()
            .map(|v| v.map(bytea_from_text).transpose())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| datafusion::error::DataFusionError::ArrowError(Box::new(arrow::error::ArrowError::CastError(e)), None))?;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        if scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(datafusion::scalar::ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

fn bytea_in() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(ByteaIn { signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable) }))
}

/// Rewrites `plan` where PostgreSQL and DataFusion read the same SQL
/// differently: every cast from text to bytea takes PostgreSQL's bytea
/// input, and a boolean compared with a text literal (`indisprimary = 't'`)
/// reads the literal as a boolean, as PostgreSQL resolves an unknown literal;
/// and PostgreSQL's integer typing (`weir_planner::pgplan`).
pub fn rewrite(plan: LogicalPlan) -> Result<LogicalPlan> {
    let udf = bytea_in();
    let plan = plan.transform_up_with_subqueries(|node| {
        let inputs = node.inputs();
        // The schema the node's expressions are evaluated over.
        let schema: Arc<DFSchema> = match inputs.as_slice() {
            [] => Arc::new(DFSchema::empty()),
            [one] => one.schema().clone(),
            _ => node.schema().clone(),
        };
        node.map_expressions(|e| e.transform_up(|e| bytea_cast(e, &schema, &udf)?.transform_data(|e| bool_literal(e, &schema))))
    })?;
    weir_planner::pgplan::apply(plan.data)
}

fn bytea_cast(e: Expr, schema: &DFSchema, udf: &Arc<ScalarUDF>) -> Result<Transformed<Expr>> {
    let (inner, to) = match &e {
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => (expr, field.data_type()),
        _ => return Ok(Transformed::no(e)),
    };
    if *to != DataType::Binary || inner.get_type(schema).ok() != Some(DataType::Utf8) {
        return Ok(Transformed::no(e));
    }
    Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), vec![(**inner).clone()]))))
}

/// PostgreSQL's boolean input forms.
fn bool_text(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn bool_literal(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else { return Ok(Transformed::no(e)) };
    use Operator::*;
    if !matches!(op, Eq | NotEq | Lt | LtEq | Gt | GtEq | IsDistinctFrom | IsNotDistinctFrom) {
        return Ok(Transformed::no(e));
    }
    let as_bool = |x: &Expr| match x {
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)), _) => bool_text(s),
        _ => None,
    };
    let is_bool = |x: &Expr| x.get_type(schema).ok() == Some(DataType::Boolean);
    let new = match (as_bool(left), as_bool(right)) {
        (None, Some(b)) if is_bool(left) => Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(lit(b)))),
        (Some(b), None) if is_bool(right) => Expr::BinaryExpr(BinaryExpr::new(Box::new(lit(b)), *op, right.clone())),
        _ => return Ok(Transformed::no(e)),
    };
    Ok(Transformed::yes(new))
}
