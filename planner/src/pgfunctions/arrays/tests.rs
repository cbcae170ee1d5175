//! Arrays as weir plans them, each expectation PostgreSQL 15's answer
//! (`psql -Atc`), with the SQLSTATE where PostgreSQL refuses.

use super::*;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::sqlparser::ast;

/// The statement with the rewrites `pgsyntax` makes for arrays.
struct Syntax;

impl ast::VisitorMut for Syntax {
    type Break = ();

    fn post_visit_table_factor(&mut self, factor: &mut ast::TableFactor) -> std::ops::ControlFlow<()> {
        with_ordinality(factor);
        std::ops::ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut ast::Expr) -> std::ops::ControlFlow<()> {
        if let Some(new) = rewrite_syntax(e) {
            *e = new;
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// The plan with the rules `pgplan` applies for arrays, and an integer
/// literal that fits typed int4 (as `pgplan` types it).
fn plan_rules(plan: LogicalPlan) -> Result<LogicalPlan> {
    let int4 = |e: Expr| match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), meta) if i32::try_from(v).is_ok() => Expr::Literal(ScalarValue::Int32(Some(v as i32)), meta),
        e => e,
    };
    let plan = plan.transform_up_with_subqueries(|node| {
        let schema = match node.inputs().as_slice() {
            [one] => one.schema().clone(),
            _ => Arc::new(DFSchema::empty()),
        };
        let names = NamePreserver::new(&node);
        let node = node.map_expressions(|e| {
            let saved = names.save(&e);
            Ok(e.transform_up(|e| plan_rule(int4(e), &schema))?.update_data(|e| saved.restore(e)))
        })?;
        node.map_data(|p| p.recompute_schema()).map(|t| Transformed::yes(t.data))
    })?;
    one_dimensional_output(plan.data)
}

/// Runs one statement with the array rewrites weir plans with: the first
/// value as psql shows it (`NULL` for NULL, `t` for true, an array in
/// PostgreSQL's text form) and its type; an error as its SQLSTATE.
fn pg(sql: &str) -> std::result::Result<(String, DataType), String> {
    let code = |e: DataFusionError| crate::SqlError::from(e).state.code().to_string();
    let mut stmt = crate::parse_statements(sql).map_err(|e| e.state.code().to_string())?.remove(0);
    let _ = ast::VisitMut::visit(&mut stmt, &mut Syntax);
    // As weir's sessions read `1.5`: numeric, as in PostgreSQL.
    let ctx = crate::pgfunctions::test_context(Some("UTC"), true);
    let batches = crate::pgfunctions::ready(async {
        let plan = ctx.state().statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(stmt))).await?;
        ctx.execute_logical_plan(plan_rules(plan)?).await?.collect().await
    })
    .map_err(code)?;
    let column = batches.iter().find(|b| b.num_rows() > 0).map(|b| b.column(0).clone()).ok_or("no rows")?;
    let shown = if column.is_null(0) {
        "NULL".to_string()
    } else if let Some(b) = column.as_boolean_opt() {
        (if b.value(0) { "t" } else { "f" }).to_string()
    } else if let Some(list) = column.as_list_opt::<i32>() {
        to_text(list, &Arc::new(ConfigOptions::default())).map_err(code)?.value(0).to_string()
    } else {
        ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default()).map_err(|e| e.to_string())?.value(0).to_string()
    };
    Ok((shown, column.data_type().clone()))
}

/// Each statement's value, or its error's SQLSTATE.
fn values(cases: &[(&str, &str)]) {
    for (sql, want) in cases {
        let got = match pg(sql) {
            Ok((v, _)) => v,
            Err(code) => format!("ERROR {code}"),
        };
        assert_eq!(&got, want, "{sql}");
    }
}

fn type_of(sql: &str) -> DataType {
    pg(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).1
}

#[test]
fn sizes_are_int4_as_postgres() {
    values(&[
        ("SELECT array_length(ARRAY[1, 2, 3], 1)", "3"),
        ("SELECT array_length(ARRAY[]::int[], 1)", "NULL"),
        ("SELECT array_length(ARRAY[1, 2], 0)", "NULL"),
        ("SELECT array_length(ARRAY[1, 2], NULL)", "NULL"),
        ("SELECT array_length(NULL::int[], 1)", "NULL"),
        ("SELECT cardinality(ARRAY[]::int[])", "0"),
        ("SELECT cardinality(ARRAY['a', NULL])", "2"),
        ("SELECT cardinality(NULL::int[])", "NULL"),
        ("SELECT array_ndims(ARRAY[1, 2])", "1"),
        ("SELECT array_ndims('{}'::int[])", "NULL"),
        ("SELECT array_dims(ARRAY[1, 2])", "[1:2]"),
        ("SELECT array_dims('{}'::int[])", "NULL"),
    ]);
    for f in ["array_length(ARRAY[1], 1)", "cardinality(ARRAY[1])", "array_ndims(ARRAY[1])", "array_position(ARRAY[1], 1)"] {
        assert_eq!(type_of(&format!("SELECT {f}")), DataType::Int32, "{f}");
    }
    assert_eq!(type_of("SELECT array_positions(ARRAY[1], 1)"), list_of(DataType::Int32));
}

#[test]
fn searches_as_postgres() {
    values(&[
        ("SELECT array_position(ARRAY['a', 'b', 'c'], 'b')", "2"),
        ("SELECT array_position(ARRAY[1, 2, 1], 1, 2)", "3"),
        ("SELECT array_position(ARRAY[1, 2], 3)", "NULL"),
        ("SELECT array_position(ARRAY[1, NULL, 3], NULL)", "2"),
        ("SELECT array_position(ARRAY[1, 2, 3], 2, 0)", "2"),
        ("SELECT array_position(ARRAY[1, 2, 3], 2, -5)", "2"),
        ("SELECT array_position(ARRAY[1, 2, 3], 2, 10)", "NULL"),
        ("SELECT array_position(ARRAY[1, 2, 3], 2, NULL)", "ERROR 22004"),
        ("SELECT array_position(NULL::int[], 2)", "NULL"),
        ("SELECT array_positions(ARRAY[1, 2, 1, 1], 1)", "{1,3,4}"),
        ("SELECT array_positions(ARRAY[1, NULL, NULL], NULL)", "{2,3}"),
        ("SELECT array_positions(ARRAY[1, 2], 5)", "{}"),
        ("SELECT array_positions(NULL::int[], 5)", "NULL"),
    ]);
}

#[test]
fn edits_as_postgres() {
    values(&[
        ("SELECT array_remove(ARRAY[1, 2, 1, 3], 1)", "{2,3}"),
        ("SELECT array_remove(ARRAY[1, NULL, 2], NULL)", "{1,2}"),
        ("SELECT array_remove(ARRAY[1, 2], 5)", "{1,2}"),
        ("SELECT array_remove(NULL::int[], 5)", "NULL"),
        ("SELECT array_remove(ARRAY[]::int[], 5)", "{}"),
        ("SELECT array_replace(ARRAY[1, 2, 1], 1, 9)", "{9,2,9}"),
        ("SELECT array_replace(ARRAY[1, NULL, 2], NULL, 7)", "{1,7,2}"),
        ("SELECT array_replace(ARRAY[1, 2, 1], 1, NULL)", "{NULL,2,NULL}"),
        ("SELECT trim_array(ARRAY[1, 2, 3, 4], 2)", "{1,2}"),
        ("SELECT trim_array(ARRAY[1, 2, 3], 0)", "{1,2,3}"),
        ("SELECT trim_array(ARRAY[1, 2, 3], 3)", "{}"),
        ("SELECT trim_array(ARRAY[1, 2, 3], 4)", "ERROR 2202E"),
        ("SELECT trim_array(ARRAY[1, 2, 3], -1)", "ERROR 2202E"),
        ("SELECT trim_array(ARRAY[1, 2, 3], NULL)", "NULL"),
        ("SELECT array_fill(7, ARRAY[3])", "{7,7,7}"),
        ("SELECT array_fill(7, ARRAY[0])", "{}"),
        ("SELECT array_fill(7, ARRAY[]::int[])", "{}"),
        ("SELECT array_fill('x'::text, ARRAY[2])", "{x,x}"),
        ("SELECT array_fill(NULL::int, ARRAY[2])", "{NULL,NULL}"),
        ("SELECT array_fill(7, ARRAY[2], ARRAY[1])", "{7,7}"),
        ("SELECT array_fill(7, ARRAY[-1])", "ERROR 54000"),
        ("SELECT array_fill(7, NULL)", "ERROR 22004"),
        ("SELECT array_fill(1, ARRAY[NULL]::int[])", "ERROR 22004"),
    ]);
    assert_eq!(type_of("SELECT array_remove(ARRAY[1, 2], 1)"), list_of(DataType::Int32));
}

#[test]
fn slices_as_postgres() {
    values(&[
        ("SELECT (ARRAY[10, 20, 30, 40])[:2]", "{10,20}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[3:]", "{30,40}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[2:3]", "{20,30}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[0:2]", "{10,20}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[-1:2]", "{10,20}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[3:2]", "{}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[5:6]", "{}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[:]", "{10,20,30,40}"),
        ("SELECT (ARRAY[10, 20, 30, 40])[NULL:2]", "NULL"),
        ("SELECT (NULL::int[])[1:2]", "NULL"),
        ("SELECT (ARRAY[10, 20, 30])[1:2][2]", "{}"),
        ("SELECT (ARRAY[10, 20, 30])[2:3][1:1]", "{}"),
        ("SELECT (ARRAY[10, 20, 30])[2]", "20"),
        ("SELECT (ARRAY[10, 20, 30])[5]", "NULL"),
        ("SELECT (ARRAY[10, 20, 30])[0]", "NULL"),
        ("SELECT (ARRAY[10, 20, 30])[-1]", "NULL"),
        ("SELECT (ARRAY[10, 20, 30])[NULL]", "NULL"),
        ("SELECT (ARRAY[10, 20, 30])[2][1]", "NULL"),
        ("SELECT (ARRAY[[1, 2], [3, 4]])[2][1]", "3"),
        ("SELECT (ARRAY[[1, 2], [3, 4]])[2][3]", "NULL"),
        ("SELECT (ARRAY[[1, 2], [3, 4]])[2]", "NULL"),
    ]);
}

#[test]
fn compares_as_postgres() {
    values(&[
        ("SELECT 5 = ANY(ARRAY[1, NULL])", "NULL"),
        ("SELECT 5 = ANY(ARRAY[5, NULL])", "t"),
        ("SELECT 2 = ANY(ARRAY[1, 2, 3])", "t"),
        ("SELECT 5 = ANY(ARRAY[1, 2, 3])", "f"),
        ("SELECT NULL::int = ANY(ARRAY[5])", "NULL"),
        ("SELECT NULL::int = ANY(ARRAY[]::int[])", "f"),
        ("SELECT 5 = ANY(NULL::int[])", "NULL"),
        ("SELECT 5 <> ALL(ARRAY[1, NULL])", "NULL"),
        ("SELECT 5 > ALL(ARRAY[1, NULL])", "NULL"),
        ("SELECT 0 > ALL(ARRAY[1, NULL])", "f"),
        ("SELECT 5 < ANY(ARRAY[1, NULL])", "NULL"),
        ("SELECT 5 > ANY(ARRAY[1, NULL])", "t"),
        ("SELECT 5 <> ANY(ARRAY[5, 5])", "f"),
        ("SELECT 1 < ALL(ARRAY[2, 3])", "t"),
        ("SELECT 1 = ALL(ARRAY[]::int[])", "t"),
        ("SELECT 2.5 = ANY(ARRAY[1, 2])", "f"),
        ("SELECT 'b' = ANY('{a,b}'::text[])", "t"),
        ("SELECT 1 = ANY('{1,2}')", "t"),
        ("SELECT ARRAY[1, 2] && ARRAY[2, 3]", "t"),
        ("SELECT ARRAY[1, 2] && ARRAY[NULL, 2]", "t"),
        ("SELECT ARRAY[1, NULL] && ARRAY[NULL::int]", "f"),
        ("SELECT ARRAY[]::int[] && ARRAY[1]", "f"),
        ("SELECT NULL::int[] && ARRAY[1]", "NULL"),
        ("SELECT ARRAY[1, 2] && ARRAY[1.0]", "ERROR 42883"),
        ("SELECT ARRAY[1, 2] @> ARRAY[2]", "t"),
        ("SELECT ARRAY[1, NULL] @> ARRAY[NULL::int]", "f"),
        ("SELECT ARRAY[1, 2] @> ARRAY[]::int[]", "t"),
        ("SELECT ARRAY[1, 2] @> ARRAY[2, 2, 1]", "t"),
        ("SELECT ARRAY[1] <@ ARRAY[1, NULL]", "t"),
        ("SELECT ARRAY[3] <@ ARRAY[1, 2]", "f"),
    ]);
}

#[test]
fn reads_text_as_postgres() {
    values(&[
        ("SELECT '{1,2,3}'::int[]", "{1,2,3}"),
        ("SELECT '{ 1 , 2 }'::int[]", "{1,2}"),
        ("SELECT '{a,b}'::text[]", "{a,b}"),
        ("SELECT '{\"a b\",NULL,\"NULL\",\"\"}'::text[]", "{\"a b\",NULL,\"NULL\",\"\"}"),
        ("SELECT cardinality('{}'::int[])", "0"),
        ("SELECT '[1:2]={7,8}'::int[]", "{7,8}"),
        ("SELECT '{1,x}'::int[]", "ERROR 22P02"),
        ("SELECT '{1,2'::int[]", "ERROR 22P02"),
        ("SELECT '[1:0]={}'::int[]", "ERROR 2202E"),
        ("SELECT '{t,f}'::bool[]", "{t,f}"),
    ]);
    assert_eq!(type_of("SELECT '{1,2,3}'::int[]"), list_of(DataType::Int32));
}

#[test]
fn writes_text_as_postgres() {
    values(&[
        ("SELECT ARRAY[1, 2, 3]::text", "{1,2,3}"),
        ("SELECT ARRAY['a', 'b c', NULL]::text", "{a,\"b c\",NULL}"),
        ("SELECT ARRAY['', 'x\"y', 'back\\slash', 'NULL', 'a,b', '{}']::text", r#"{"","x\"y","back\\slash","NULL","a,b","{}"}"#),
        ("SELECT ARRAY[true, NULL]::text", "{t,NULL}"),
        ("SELECT ARRAY[date '2024-03-10']::text", "{2024-03-10}"),
        ("SELECT ARRAY[timestamp '2024-03-10 12:00:00']::text", "{\"2024-03-10 12:00:00\"}"),
        ("SELECT ARRAY[interval '1 day']::text", "{\"1 day\"}"),
        ("SELECT ARRAY[decode('0102', 'hex')]::text", r#"{"\\x0102"}"#),
        ("SELECT ARRAY[1.50]::text", "{1.50}"),
        ("SELECT ARRAY[]::int[]::text", "{}"),
    ]);
    assert_eq!(type_of("SELECT ARRAY[1]::text"), DataType::Utf8);
}

#[test]
fn numbers_rows_with_ordinality() {
    let sql = "SELECT string_agg(val || ':' || pos, ',' ORDER BY pos) FROM unnest(ARRAY['x', 'y', 'z']) WITH ORDINALITY AS u(val, pos)";
    values(&[(sql, "x:1,y:2,z:3")]);
    assert_eq!(type_of("SELECT pos FROM unnest(ARRAY['x']) WITH ORDINALITY AS u(val, pos)"), DataType::Int64);
    values(&[
        ("SELECT ordinality FROM unnest(ARRAY['x', 'y']) WITH ORDINALITY ORDER BY 1 DESC", "2"),
        ("SELECT u FROM unnest(ARRAY['x', 'y']) WITH ORDINALITY AS u ORDER BY ordinality DESC", "y"),
        ("SELECT count(*) FROM unnest(ARRAY[]::int[]) WITH ORDINALITY AS u(a, b)", "0"),
        ("SELECT max(ordinality) FROM unnest(ARRAY['x', 'y']) WITH ORDINALITY AS u(val)", "2"),
        ("SELECT max(ordinality) FROM unnest(ARRAY['x'], ARRAY[1, 2]) WITH ORDINALITY AS u(a, b)", "2"),
        ("SELECT count(*) FROM unnest(NULL::int[]) WITH ORDINALITY AS u(a, b)", "0"),
    ]);
}

/// PostgreSQL answers these; weir refuses (0A000) the arrays it does not
/// keep (of more than one dimension, or not starting at 1) rather than
/// answering for the outer list.
#[test]
fn refuses_what_weir_does_not_keep() {
    values(&[
        ("SELECT cardinality(ARRAY[[1, 2], [3, 4]])", "ERROR 0A000"),
        ("SELECT array_length(ARRAY[[1, 2], [3, 4]], 2)", "ERROR 0A000"),
        ("SELECT array_fill(0, ARRAY[2, 2])", "ERROR 0A000"),
        ("SELECT array_fill(7, ARRAY[2], ARRAY[0])", "ERROR 0A000"),
        ("SELECT '{{1,2},{3,4}}'::int[]", "ERROR 0A000"),
        ("SELECT '[0:1]={7,8}'::int[]", "ERROR 0A000"),
        ("SELECT ARRAY[[1, 2], [3, 4]]::text", "ERROR 0A000"),
        ("SELECT array_agg(ARRAY[x, x]) FROM (VALUES (1), (2)) AS t(x)", "ERROR 0A000"),
        ("SELECT '{{1}}'::int[][]", "ERROR 0A000"),
        ("SELECT ARRAY[[1, 2], [3, 4]]", "ERROR 0A000"),
        ("SELECT (ARRAY[[1, 2], [3, 4]])[1:2][2]", "ERROR 0A000"),
    ]);
}
