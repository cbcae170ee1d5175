//! Where array syntax becomes calls of the functions in `arrays`: in the
//! statement before planning (`pgsyntax` calls `rewrite_syntax` and
//! `with_ordinality`) and in the planned expressions (`pgplan` calls
//! `plan_rule`), where the operands' types are known.

use super::{defines, is_multidimensional, is_text, list_element, multidimensional, multidimensional_call};
use crate::sqlast::{call, text};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{AggregateFunction, Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion::sql::sqlparser::ast::{self, AccessExpr, BinaryOperator, Subscript, TableFactor, Value};

/// PostgreSQL's array syntax that DataFusion reads otherwise, as calls:
/// `x op ANY (a)` and `x op ALL (a)` with PostgreSQL's NULLs
/// (`weir_array_any`/`weir_array_all`), and subscripts: slices `a[lo:hi]`,
/// `a[:hi]`, `a[lo:]` (`weir_array_slice`) and `a[i][j]`
/// (`weir_array_element`). (`a && b` of arrays is `weir_array_overlap`,
/// planned with the JSON operators.)
pub(crate) fn rewrite_syntax(e: &ast::Expr) -> Option<ast::Expr> {
    match e {
        ast::Expr::AnyOp { left, compare_op, right, .. } => quantified("weir_array_any", left, compare_op, right),
        ast::Expr::AllOp { left, compare_op, right } => quantified("weir_array_all", left, compare_op, right),
        ast::Expr::CompoundFieldAccess { root, access_chain } => subscripts(root, access_chain),
        _ => None,
    }
}

/// `x op ANY (a)` as `weir_array_any(a, x, 'op')`; a subquery stays a subquery.
fn quantified(f: &str, left: &ast::Expr, op: &BinaryOperator, right: &ast::Expr) -> Option<ast::Expr> {
    let op = match op {
        BinaryOperator::Eq => "=",
        BinaryOperator::NotEq => "<>",
        BinaryOperator::Lt => "<",
        BinaryOperator::LtEq => "<=",
        BinaryOperator::Gt => ">",
        BinaryOperator::GtEq => ">=",
        _ => return None,
    };
    if matches!(right, ast::Expr::Subquery(_)) {
        return None;
    }
    Some(call(f, vec![right.clone(), left.clone(), text(op)]))
}

fn number(n: i64) -> ast::Expr {
    ast::Expr::Value(Value::Number(n.to_string(), false).into())
}

/// The subscripts that end a chain, `a[...][...]`, with a slice among them:
/// `weir_array_slice(a, lo, hi, ...)`, a pair of bounds a subscript (a
/// missing bound is the array's first or last subscript, an index `i` is
/// `1:i`, as in PostgreSQL). Two indexes or more: `weir_array_element(a,
/// i, ...)`. One index stays DataFusion's `array_element` (for
/// `pgdialect`'s zero-based vector columns), which `plan_rule` replaces.
fn subscripts(root: &ast::Expr, chain: &[AccessExpr]) -> Option<ast::Expr> {
    let first = chain.iter().rposition(|a| !matches!(a, AccessExpr::Subscript(_))).map_or(0, |p| p + 1);
    let (before, after) = chain.split_at(first);
    let subs: Vec<&Subscript> = after.iter().filter_map(|a| if let AccessExpr::Subscript(s) = a { Some(s) } else { None }).collect();
    let sliced = subs.iter().any(|s| matches!(s, Subscript::Slice { .. }));
    if !sliced && subs.len() < 2 {
        return None;
    }
    let array = if before.is_empty() { root.clone() } else { ast::Expr::CompoundFieldAccess { root: Box::new(root.clone()), access_chain: before.to_vec() } };
    let mut args = vec![array];
    for s in subs {
        match s {
            Subscript::Index { index } if sliced => args.extend([number(1), index.clone()]),
            Subscript::Index { index } => args.push(index.clone()),
            Subscript::Slice { lower_bound, upper_bound, stride: None } => {
                args.push(lower_bound.clone().unwrap_or_else(|| number(1)));
                args.push(upper_bound.clone().unwrap_or_else(|| number(i32::MAX as i64)));
            }
            Subscript::Slice { stride: Some(_), .. } => return None,
        }
    }
    Some(call(if sliced { "weir_array_slice" } else { "weir_array_element" }, args))
}

/// `unnest(a, ...) WITH ORDINALITY` as `unnest(a, ..., weir_array_ordinals(a, ...))`,
/// whose last column numbers the rows from 1. With one array and no column
/// names, the columns are named as PostgreSQL names them: the alias (or
/// `unnest`) and `ordinality`.
pub(crate) fn with_ordinality(factor: &mut TableFactor) {
    let TableFactor::UNNEST { alias, array_exprs, with_offset: false, with_ordinality, .. } = factor else { return };
    if !*with_ordinality || array_exprs.is_empty() {
        return;
    }
    *with_ordinality = false;
    let arrays = array_exprs.len();
    array_exprs.push(call("weir_array_ordinals", array_exprs.clone()));
    let column = |name: &ast::Ident| ast::TableAliasColumnDef { name: name.clone(), data_type: None };
    let ordinality = ast::Ident::new("ordinality");
    match alias {
        None if arrays == 1 => {
            let name = ast::Ident::new("unnest");
            let columns = vec![column(&name), column(&ordinality)];
            *alias = Some(ast::TableAlias { explicit: true, name, columns, at: None });
        }
        Some(a) if a.columns.is_empty() && arrays == 1 => a.columns = vec![column(&a.name), column(&ordinality)],
        // Names for the arrays' columns only: the last is `ordinality`.
        Some(a) if a.columns.len() == arrays => a.columns.push(column(&ordinality)),
        _ => {}
    }
}

fn named(name: &str, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction(ScalarFunction::new_udf(crate::pgfunctions::named(name), args))
}

/// PostgreSQL's array semantics in a planned expression:
/// - text cast to an array is read as PostgreSQL's array literal
///   (`weir_array_in`, then each element cast to the element type);
/// - an array cast to text is written as PostgreSQL writes it;
/// - `a @> b` and `b <@ a`, which DataFusion plans as `array_has_all`,
///   treat NULL elements as PostgreSQL does (`weir_array_contains`);
/// - `a[i]` is NULL out of the array's range, negative `i` included, and
///   for an array of arrays (`weir_array_element`; DataFusion counts
///   negative subscripts from the end and gives a row of a 2-D array);
/// - a cast to an array of arrays, `array_agg` of arrays and the functions
///   here on arrays of arrays are refused (0A000), not answered for the
///   outer list.
pub(crate) fn plan_rule(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let new = match &e {
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => array_cast(expr, field, schema)?,
        Expr::ScalarFunction(f) => array_call(f, schema)?,
        // array_agg of arrays is a two-dimensional array in PostgreSQL.
        Expr::AggregateFunction(AggregateFunction { func, params }) if func.name() == "array_agg" => {
            if params.args.first().and_then(|a| a.get_type(schema).ok()).is_some_and(|t| list_element(&t).is_some()) {
                return Err(multidimensional());
            }
            None
        }
        _ => None,
    };
    Ok(new.map_or(Transformed::no(e), Transformed::yes))
}

/// A cast from text to an array or from an array to text, as PostgreSQL's
/// input and output of arrays.
fn array_cast(inner: &Expr, field: &FieldRef, schema: &DFSchema) -> Result<Option<Expr>> {
    let to = field.data_type();
    if is_multidimensional(to) {
        return Err(multidimensional());
    }
    let Ok(from) = inner.get_type(schema) else { return Ok(None) };
    Ok(if is_text(&from) && list_element(to).is_some() {
        let read = named("weir_array_in", vec![inner.clone()]);
        Some(Expr::Cast(Cast { expr: Box::new(read), field: field.clone() }))
    } else if list_element(&from).is_some() && is_text(to) {
        Some(named("weir_array_text", vec![inner.clone()]))
    } else {
        None
    })
}

/// DataFusion's array functions that array syntax is planned as, as the
/// functions here; a function here on arrays of arrays refused.
fn array_call(f: &ScalarFunction, schema: &DFSchema) -> Result<Option<Expr>> {
    Ok(match f.name() {
        "array_has_all" if f.args.len() == 2 => Some(named("weir_array_contains", f.args.clone())),
        // One subscript of a multidimensional array is NULL in PostgreSQL, not a row of it.
        "array_element" if f.args.len() == 2 => Some(named("weir_array_element", f.args.clone())),
        name if defines(name) => {
            let types: Vec<DataType> = f.args.iter().filter_map(|a| a.get_type(schema).ok()).collect();
            if multidimensional_call(name, &types) {
                return Err(multidimensional());
            }
            None
        }
        _ => None,
    })
}

/// A plan whose result has arrays of arrays, which weir cannot show as
/// PostgreSQL's multidimensional arrays, is refused (0A000).
pub(crate) fn one_dimensional_output(plan: LogicalPlan) -> Result<LogicalPlan> {
    if plan.schema().fields().iter().any(|f| is_multidimensional(f.data_type())) {
        return Err(multidimensional());
    }
    Ok(plan)
}
