//! The streaming planner: a `CREATE MATERIALIZED VIEW` query to a
//! [`StreamPlan`], plain data that the runtime executes and `EXPLAIN` prints.
//!
//! The query is planned by DataFusion against placeholder tables, so every
//! scalar function, CASE and type rule is DataFusion's; the logical plan is
//! then lowered to a pipeline of stages over one input:
//! input -> watermark -> window assignment -> [join] -> filters/projections/
//! OVER windows -> [aggregate -> filters/projections]. A join reads a second
//! relation: a table (looked up as each row arrives), or a stream whose
//! state a time bound frees, or a view with updates. What cannot run
//! continuously, or would keep state without bound, is refused here with
//! SQLSTATE 0A000 and a message that says what.

use crate::ddl::{Emit, literal_text};
use crate::error::{SqlError, SqlResult};
use crate::types::WeirTypePlanner;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::MemTable;
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{DFSchemaRef, ScalarValue, TableReference};
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{Distinct, Expr, LogicalPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{self, FunctionArg, FunctionArgExpr, Query, SetExpr, Statement, TableAlias, TableFactor};
use std::fmt;
use std::sync::Arc;

/// Name of the placeholder table that stands for `TUMBLE(...)` and friends.
const WINDOW_TABLE: &str = "__weir_window";

/// What kind of relation a view reads.
#[derive(Debug, Clone, PartialEq)]
pub enum RelationKind {
    Source { connector: String },
    View { append_only: bool },
    Table,
}

/// Event time of a relation: the column and how far behind the largest
/// timestamp seen the watermark trails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventTime {
    pub column: usize,
    pub delay_ns: i64,
}

/// A relation a view can read, as the catalog describes it.
#[derive(Debug, Clone)]
pub struct Relation {
    pub name: String,
    pub schema: SchemaRef,
    pub kind: RelationKind,
    pub event_time: Option<EventTime>,
    /// Columns whose values identify one row among the relation's current
    /// rows (a table's primary key, a view's GROUP BY columns); None when
    /// no such key is known.
    pub unique_key: Option<Vec<usize>>,
}

/// Looks relations up by name (the server's catalog implements it).
pub trait RelationLookup: Send + Sync {
    fn relation(&self, name: &str) -> Option<Relation>;
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowKind {
    Tumble {
        size_ns: i64,
        offset_ns: i64,
    },
    Hop {
        slide_ns: i64,
        size_ns: i64,
    },
    /// Sessions per value of the GROUP BY keys other than the window columns.
    Session {
        gap_ns: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowSpec {
    /// Index of the time column in the input schema.
    pub time_column: usize,
    pub kind: WindowKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    /// Any other aggregate (string_agg, array_agg, bool_and, DISTINCT sums,
    /// ...): a group keeps its input rows and is recomputed from them when
    /// it changes, so its cost per change is the group's size.
    Kept,
}

#[derive(Debug, Clone)]
pub struct AggCall {
    pub func: AggFunc,
    /// None for count(*).
    pub arg: Option<Expr>,
    /// `FILTER (WHERE ...)`: only rows for which it is true count.
    pub filter: Option<Expr>,
    /// For `AggFunc::Kept`, the aggregate itself.
    pub kept: Option<KeptAgg>,
}

/// An aggregate that weir recomputes from a group's kept rows.
#[derive(Debug, Clone)]
pub struct KeptAgg {
    pub udaf: Arc<datafusion::logical_expr::AggregateUDF>,
    pub args: Vec<Expr>,
    pub distinct: bool,
    /// `agg(x ORDER BY y)`: the kept rows are sorted by these before the aggregate runs.
    pub order_by: Vec<datafusion::logical_expr::SortExpr>,
}

#[derive(Debug, Clone)]
pub struct AggregateStage {
    pub group_by: Vec<Expr>,
    pub aggs: Vec<AggCall>,
    pub input: DFSchemaRef,
    pub output: DFSchemaRef,
    /// Positions of window_start and window_end in `group_by`, when grouped by window.
    pub window_columns: Option<(usize, usize)>,
}

/// A per-key OVER window: `agg(...) OVER (PARTITION BY keys ORDER BY time
/// RANGE BETWEEN INTERVAL ... PRECEDING AND CURRENT ROW)`. Each input row
/// leaves with its aggregates over the rows of its key that arrived so far
/// with a time in [time - range, time].
#[derive(Debug, Clone)]
pub struct OverStage {
    pub partition_by: Vec<Expr>,
    /// Index of the event-time column in the input schema.
    pub time_column: usize,
    pub range_ns: i64,
    pub aggs: Vec<AggCall>,
    pub input: DFSchemaRef,
    /// The input's columns followed by one per aggregate.
    pub output: DFSchemaRef,
}

#[derive(Debug, Clone)]
pub enum Stage {
    Filter { predicate: Expr, input: DFSchemaRef },
    Project { exprs: Vec<Expr>, input: DFSchemaRef, output: DFSchemaRef },
    Over(OverStage),
    Aggregate(AggregateStage),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    /// LEFT OUTER: a left row without a match leaves with NULLs for the right.
    Left,
}

/// `right.time - left.time` lies within [lo_ns, hi_ns] for every match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeBound {
    /// Event-time column indexes in the left and right schemas.
    pub left_time: usize,
    pub right_time: usize,
    pub lo_ns: i64,
    pub hi_ns: i64,
}

/// How a join keeps its state.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinStrategy {
    /// The right side is a table: each left row is matched against the
    /// table as it is when the row arrives; left rows are not kept.
    Lookup,
    /// Two append-only streams within a time bound: rows are kept until the
    /// other side's watermark passes the bound (an unmatched left row of a
    /// LEFT JOIN leaves then, with NULLs).
    Interval(TimeBound),
    /// Two views with updates: both sides' rows are kept (as many as the
    /// views hold), and a change on either side retracts or adds matches.
    Updating,
}

#[derive(Debug, Clone)]
pub struct JoinPlan {
    pub right: Relation,
    pub kind: JoinKind,
    /// Equality keys: `left_keys[i] = right_keys[i]`, over the two inputs' schemas.
    pub left_keys: Vec<Expr>,
    pub right_keys: Vec<Expr>,
    pub left_schema: DFSchemaRef,
    pub right_schema: DFSchemaRef,
    /// The rest of the ON condition, over the joined schema.
    pub filter: Option<Expr>,
    /// Left columns followed by right columns.
    pub schema: DFSchemaRef,
    pub strategy: JoinStrategy,
}

/// A continuous query: plain data.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// The relation read (the left side of a join).
    pub input: Relation,
    pub join: Option<JoinPlan>,
    pub window: Option<WindowSpec>,
    pub stages: Vec<Stage>,
    pub emit: Emit,
    pub output: SchemaRef,
    /// The view only ever adds rows (no updates or retractions).
    pub append_only: bool,
    /// The output column that carries event time, with the watermark the
    /// view passes on (an append-only view's rows arrive in its order, so
    /// views over it can use it as a source's).
    pub event_time: Option<EventTime>,
    /// Output columns that identify a row of the view (see [`Relation::unique_key`]).
    pub unique_key: Option<Vec<usize>>,
}

impl StreamPlan {
    /// Names of the relations the view reads.
    pub fn inputs(&self) -> Vec<&str> {
        let mut v = vec![self.input.name.as_str()];
        if let Some(j) = &self.join
            && j.right.name != self.input.name
        {
            v.push(j.right.name.as_str());
        }
        v
    }

    pub fn aggregate(&self) -> Option<&AggregateStage> {
        self.stages.iter().find_map(|s| match s {
            Stage::Aggregate(a) => Some(a),
            _ => None,
        })
    }
}

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::unsupported(what)
}

fn planning_context(config: &SessionConfig) -> SessionContext {
    let config = config.clone().with_default_catalog_and_schema("datafusion", "public").with_create_default_catalog_and_schema(true);
    let state = SessionStateBuilder::new().with_config(config).with_default_features().with_type_planner(Arc::new(WeirTypePlanner)).build();
    let ctx = SessionContext::new_with_state(state);
    crate::pgfunctions::register(&ctx);
    ctx
}

/// Evaluates a constant interval expression (`INTERVAL '1 minute'`, or a
/// string such as `'1 minute'`) to nanoseconds; it must be positive.
pub async fn interval_ns(ctx: &SessionContext, e: &ast::Expr) -> SqlResult<i64> {
    let ns = fixed_interval_ns(ctx, e).await?;
    if ns <= 0 {
        return Err(SqlError::new(crate::SqlState::InvalidParameterValue, format!("interval {e} must be positive")));
    }
    Ok(ns)
}

/// A constant interval of fixed length (no months) in nanoseconds, of any sign.
async fn fixed_interval_ns(ctx: &SessionContext, e: &ast::Expr) -> SqlResult<i64> {
    let text = match literal_text(e) {
        Some(t) => format!("INTERVAL '{}'", t.replace('\'', "''")),
        None => e.to_string(),
    };
    let batches = ctx.sql(&format!("SELECT {text}")).await?.collect().await?;
    let v = ScalarValue::try_from_array(batches[0].column(0), 0)?;
    let ns = match v {
        ScalarValue::IntervalMonthDayNano(Some(i)) if i.months == 0 => i.days as i64 * 86_400_000_000_000 + i.nanoseconds,
        ScalarValue::IntervalDayTime(Some(i)) => i.days as i64 * 86_400_000_000_000 + i.milliseconds as i64 * 1_000_000,
        ScalarValue::DurationNanosecond(Some(n)) => n,
        _ => return Err(SqlError::new(crate::SqlState::InvalidParameterValue, format!("{e} is not a fixed interval such as INTERVAL '1 minute'"))),
    };
    Ok(ns)
}

/// The watermark delay of `WATERMARK FOR col AS expr`: `col` or `col - INTERVAL ...`.
pub async fn watermark_delay(config: &SessionConfig, col: &ast::Ident, e: &ast::Expr) -> SqlResult<i64> {
    let ctx = planning_context(config);
    let is_col = |x: &ast::Expr| matches!(x, ast::Expr::Identifier(i) if i.value.eq_ignore_ascii_case(&col.value));
    match e {
        x if is_col(x) => Ok(0),
        // A zero delay is legal: a row exactly at the watermark is on time.
        ast::Expr::BinaryOp { left, op: ast::BinaryOperator::Minus, right } if is_col(left) => match fixed_interval_ns(&ctx, right).await? {
            ns if ns < 0 => Err(SqlError::new(crate::SqlState::InvalidParameterValue, format!("the watermark delay {right} must not be negative"))),
            ns => Ok(ns),
        },
        _ => Err(unsupported(format!("WATERMARK FOR {col} AS {e}: weir supports `{col}` or `{col} - INTERVAL '...'`"))),
    }
}

/// A window table function found in FROM.
struct WindowCall {
    relation: String,
    time_column: String,
    kind: WindowKind,
    session_keys: Vec<String>,
}

fn ident_of(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::Identifier(i) => Some(if i.quote_style.is_some() { i.value.clone() } else { i.value.to_lowercase() }),
        _ => None,
    }
}

/// Finds the relations in FROM, replacing a window call by the placeholder table.
struct FromScan<'a> {
    ctx: &'a SessionContext,
    relations: Vec<String>,
    window: Option<WindowCall>,
}

impl FromScan<'_> {
    async fn query(&mut self, q: &mut Query) -> SqlResult<()> {
        if q.with.is_some() {
            return Err(unsupported("WITH in a materialized view is not supported yet; use a subquery in FROM"));
        }
        self.set_expr(&mut q.body).await
    }

    async fn set_expr(&mut self, s: &mut SetExpr) -> SqlResult<()> {
        match s {
            SetExpr::Select(sel) => {
                if sel.from.is_empty() {
                    return Err(unsupported("a materialized view needs FROM a source, table or view"));
                }
                if sel.from.len() > 1 {
                    return Err(unsupported("a comma between relations in FROM is a join without a condition; write JOIN ... ON"));
                }
                for twj in sel.from.iter_mut() {
                    Box::pin(self.factor(&mut twj.relation)).await?;
                    if twj.joins.len() > 1 {
                        return Err(unsupported("a materialized view may join two relations; build a view on a view for a third"));
                    }
                    for j in twj.joins.iter_mut() {
                        match &j.join_operator {
                            ast::JoinOperator::Join(_) | ast::JoinOperator::Inner(_) | ast::JoinOperator::Left(_) | ast::JoinOperator::LeftOuter(_) => {}
                            other => {
                                let kind = format!("{other:?}");
                                let kind = kind.split('(').next().unwrap_or("this").trim_end_matches("Outer").trim_end_matches("Join").to_uppercase();
                                return Err(unsupported(format!("{kind} JOIN is not supported in a materialized view; weir has JOIN (inner) and LEFT JOIN")));
                            }
                        }
                        let windowed = self.window.is_some();
                        Box::pin(self.factor(&mut j.relation)).await?;
                        if !windowed && self.window.is_some() {
                            return Err(unsupported("a window function (TUMBLE, HOP, SESSION) may only be the first relation of a join"));
                        }
                    }
                }
                Ok(())
            }
            SetExpr::Query(q) => Box::pin(self.query(q)).await,
            _ => Err(unsupported("UNION, INTERSECT, EXCEPT and VALUES are not supported in materialized views")),
        }
    }

    async fn factor(&mut self, f: &mut TableFactor) -> SqlResult<()> {
        match f {
            TableFactor::Table { name, args: None, .. } => {
                self.relations.push(crate::names::object_name(name)?);
                Ok(())
            }
            TableFactor::Table { name, args: Some(args), alias, .. } => {
                let func = crate::names::object_name(name)?;
                let exprs: Vec<ast::Expr> = args
                    .args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.clone()),
                        other => Err(SqlError::syntax(format!("unexpected argument {other} to {func}"))),
                    })
                    .collect::<SqlResult<_>>()?;
                let call = self.window_call(&func, &exprs).await?;
                if self.window.is_some() {
                    return Err(unsupported("a materialized view may use one window function"));
                }
                let relation = call.relation.clone();
                self.relations.push(relation.clone());
                self.window = Some(call);
                *alias = alias.take().or_else(|| Some(TableAlias { explicit: true, name: ast::Ident::new(relation), columns: vec![], at: None }));
                *name = ast::ObjectName::from(vec![ast::Ident::new(WINDOW_TABLE)]);
                if let TableFactor::Table { args, .. } = f {
                    *args = None;
                }
                Ok(())
            }
            TableFactor::Derived { subquery, .. } => {
                if !self.relations.is_empty() {
                    return Err(unsupported("a join reads sources, tables or views by name; make the subquery a view"));
                }
                Box::pin(self.query(subquery)).await
            }
            other => Err(unsupported(format!("{other} is not supported in a materialized view"))),
        }
    }

    async fn window_call(&self, func: &str, args: &[ast::Expr]) -> SqlResult<WindowCall> {
        let usage = match func {
            "tumble" => "TUMBLE(relation, time_column, size [, offset])",
            "hop" => "HOP(relation, time_column, slide, size)",
            "session" => "SESSION(relation, time_column, gap, key_column [, ...])",
            other => return Err(unsupported(format!("table function {other} is not supported; weir has TUMBLE, HOP and SESSION"))),
        };
        let bad = || SqlError::syntax(format!("wrong arguments; use {usage}"));
        let relation = args.first().and_then(|e| match e {
            ast::Expr::Identifier(_) => ident_of(e),
            ast::Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [schema, name] => Some(crate::names::object_key(&crate::names::ident_name(schema), &crate::names::ident_name(name))),
                _ => parts.last().map(crate::names::ident_name),
            },
            _ => None,
        });
        let (Some(relation), Some(time_column)) = (relation, args.get(1).and_then(ident_of)) else { return Err(bad()) };
        let kind = match (func, args.len()) {
            ("tumble", 3 | 4) => WindowKind::Tumble {
                size_ns: interval_ns(self.ctx, &args[2]).await?,
                offset_ns: match args.get(3) {
                    Some(e) => interval_ns(self.ctx, e).await?,
                    None => 0,
                },
            },
            ("hop", 4) => {
                let (slide_ns, size_ns) = (interval_ns(self.ctx, &args[2]).await?, interval_ns(self.ctx, &args[3]).await?);
                if size_ns % slide_ns != 0 {
                    return Err(unsupported("HOP needs a size that is a whole multiple of the slide"));
                }
                WindowKind::Hop { slide_ns, size_ns }
            }
            ("session", n) if n >= 4 => WindowKind::Session { gap_ns: interval_ns(self.ctx, &args[2]).await? },
            _ => return Err(bad()),
        };
        let session_keys = if func == "session" { args[3..].iter().map(|e| ident_of(e).ok_or_else(bad)).collect::<SqlResult<_>>()? } else { vec![] };
        Ok(WindowCall { relation, time_column, kind, session_keys })
    }
}

fn has_subquery(e: &Expr) -> bool {
    e.exists(|e| Ok(matches!(e, Expr::ScalarSubquery(_) | Expr::InSubquery(_) | Expr::Exists(_)))).unwrap_or(false)
}

fn agg_call(e: &Expr) -> SqlResult<AggCall> {
    let e = match e {
        Expr::Alias(a) => a.expr.as_ref(),
        other => other,
    };
    let Expr::AggregateFunction(f) = e else {
        return Err(unsupported(format!("{e} is not supported as an aggregate in a materialized view")));
    };
    let p = &f.params;
    if p.args.iter().chain(p.filter.as_deref()).any(has_subquery) {
        return Err(unsupported("subqueries are not supported in materialized views"));
    }
    let filter = p.filter.as_deref().cloned();
    let name = f.func.name().to_lowercase();
    let native = match (name.as_str(), p.distinct) {
        _ if !p.order_by.is_empty() || p.args.len() > 1 => None,
        ("count", false) => Some(AggFunc::Count),
        ("count", true) => Some(AggFunc::CountDistinct),
        ("sum", false) => Some(AggFunc::Sum),
        ("avg", false) | ("mean", false) => Some(AggFunc::Avg),
        ("min", _) => Some(AggFunc::Min),
        ("max", _) => Some(AggFunc::Max),
        _ => None,
    };
    if let Some(func) = native {
        return Ok(AggCall { func, arg: agg_arg(func, p.args.first())?, filter, kept: None });
    }
    if f.func.supports_within_group_clause() && !p.order_by.is_empty() {
        return Err(unsupported(format!("the ordered-set aggregate {name} (WITHIN GROUP) is not supported in materialized views")));
    }
    let kept = KeptAgg { udaf: f.func.clone(), args: p.args.clone(), distinct: p.distinct, order_by: p.order_by.clone() };
    Ok(AggCall { func: AggFunc::Kept, arg: None, filter, kept: Some(kept) })
}

/// The argument of an aggregate (plain or OVER); None for count(*) and count(1): count rows.
fn agg_arg(func: AggFunc, arg: Option<&Expr>) -> SqlResult<Option<Expr>> {
    match arg {
        Some(Expr::Literal(v, _)) if func == AggFunc::Count && !v.is_null() => Ok(None),
        Some(a) if has_subquery(a) => Err(unsupported("subqueries are not supported in materialized views")),
        a => Ok(a.cloned()),
    }
}

/// A join as lowered, before the strategy is chosen.
struct RawJoin {
    kind: JoinKind,
    left_keys: Vec<Expr>,
    right_keys: Vec<Expr>,
    left_schema: DFSchemaRef,
    right_schema: DFSchemaRef,
    filter: Option<Expr>,
    schema: DFSchemaRef,
}

struct Lowering {
    stages: Vec<Stage>,
    join: Option<RawJoin>,
}

/// A relation read as is (a scan, perhaps under an alias).
fn is_scan(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::TableScan(_) => true,
        LogicalPlan::SubqueryAlias(a) => is_scan(&a.input),
        _ => false,
    }
}

/// True if every column `e` uses is in `schema` (and it uses one).
fn only_from(e: &Expr, schema: &DFSchemaRef) -> bool {
    let cols = e.column_refs();
    !cols.is_empty() && cols.iter().all(|c| schema.has_column(c))
}

/// Nanoseconds of a constant interval in a plan (`INTERVAL '10 minutes'`).
fn scalar_interval_ns(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::IntervalMonthDayNano(Some(i)) if i.months == 0 => Some(i.days as i64 * 86_400_000_000_000 + i.nanoseconds),
        ScalarValue::IntervalDayTime(Some(i)) => Some(i.days as i64 * 86_400_000_000_000 + i.milliseconds as i64 * 1_000_000),
        ScalarValue::DurationNanosecond(Some(n)) => Some(*n),
        _ => None,
    }
}

/// `column`, `column + INTERVAL`, `column - INTERVAL`: the column and the offset.
fn column_plus(e: &Expr) -> Option<(&datafusion::common::Column, i64)> {
    use datafusion::logical_expr::{BinaryExpr, Operator};
    match e {
        Expr::Column(c) => Some((c, 0)),
        Expr::Cast(c) => column_plus(&c.expr),
        Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Plus | Operator::Minus), right }) => {
            let (c, base) = column_plus(left)?;
            let Expr::Literal(v, _) = right.as_ref() else { return None };
            let ns = scalar_interval_ns(v)?;
            Some((c, if *op == Operator::Plus { base + ns } else { base - ns }))
        }
        _ => None,
    }
}

fn over_call(e: &Expr) -> SqlResult<(&datafusion::logical_expr::expr::WindowFunction, AggCall)> {
    let e = match e {
        Expr::Alias(a) => a.expr.as_ref(),
        other => other,
    };
    let Expr::WindowFunction(w) = e else { return Err(SqlError::internal(format!("unexpected window expression {e}"))) };
    let p = &w.params;
    let name = w.fun.name().to_lowercase();
    let func = match (name.as_str(), p.distinct) {
        ("count", false) => AggFunc::Count,
        ("count", true) => AggFunc::CountDistinct,
        ("sum", false) => AggFunc::Sum,
        ("avg", false) | ("mean", false) => AggFunc::Avg,
        _ => {
            return Err(unsupported(format!(
                "{}{name} OVER (...) is not supported in materialized views; weir keeps count, count(DISTINCT), sum and avg over a RANGE",
                if p.distinct { "DISTINCT " } else { "" }
            )));
        }
    };
    if p.filter.is_some() || p.args.len() > 1 {
        return Err(unsupported(format!("{name} OVER with FILTER or several arguments is not supported")));
    }
    Ok((w, AggCall { func, arg: agg_arg(func, p.args.first())?, filter: None, kept: None }))
}

/// A join's equality keys (from ON and its equalities between the two
/// sides) and the rest of its condition.
fn raw_join(j: &datafusion::logical_expr::Join) -> SqlResult<RawJoin> {
    let kind = match j.join_type {
        datafusion::common::JoinType::Inner => JoinKind::Inner,
        datafusion::common::JoinType::Left => JoinKind::Left,
        other => return Err(unsupported(format!("{other} JOIN is not supported in a materialized view; weir has JOIN and LEFT JOIN"))),
    };
    let (ls, rs) = (j.left.schema().clone(), j.right.schema().clone());
    let (mut left_keys, mut right_keys): (Vec<Expr>, Vec<Expr>) = j.on.iter().cloned().unzip();
    let mut rest = Vec::new();
    for c in j.filter.iter().flat_map(datafusion::logical_expr::utils::split_conjunction) {
        if has_subquery(c) {
            return Err(unsupported("subqueries are not supported in materialized views"));
        }
        if let Expr::BinaryExpr(b) = c
            && b.op == datafusion::logical_expr::Operator::Eq
        {
            if only_from(&b.left, &ls) && only_from(&b.right, &rs) {
                left_keys.push(*b.left.clone());
                right_keys.push(*b.right.clone());
                continue;
            }
            if only_from(&b.left, &rs) && only_from(&b.right, &ls) {
                left_keys.push(*b.right.clone());
                right_keys.push(*b.left.clone());
                continue;
            }
        }
        rest.push(c.clone());
    }
    if left_keys.is_empty() {
        return Err(unsupported("a join needs at least one equality between the two sides in ON, such as a.user_id = b.user_id"));
    }
    Ok(RawJoin { kind, left_keys, right_keys, left_schema: ls, right_schema: rs, filter: rest.into_iter().reduce(Expr::and), schema: j.schema.clone() })
}

impl Lowering {
    fn lower(&mut self, plan: &LogicalPlan) -> SqlResult<()> {
        match plan {
            LogicalPlan::TableScan(scan) => {
                if let Some(p) = &scan.projection {
                    let input = scan.source.schema();
                    if p.len() != input.fields().len() || p.iter().enumerate().any(|(i, j)| i != *j) {
                        return Err(SqlError::internal("unexpected projected scan in an unoptimized plan"));
                    }
                }
                if !scan.filters.is_empty() {
                    return Err(SqlError::internal("unexpected filters in an unoptimized plan"));
                }
                Ok(())
            }
            LogicalPlan::SubqueryAlias(a) => self.lower(&a.input),
            LogicalPlan::Projection(p) => {
                self.lower(&p.input)?;
                if p.expr.iter().any(has_subquery) {
                    return Err(unsupported("subqueries are not supported in materialized views"));
                }
                self.stages.push(Stage::Project { exprs: p.expr.clone(), input: p.input.schema().clone(), output: p.schema.clone() });
                Ok(())
            }
            LogicalPlan::Filter(f) => {
                self.lower(&f.input)?;
                if has_subquery(&f.predicate) {
                    return Err(unsupported("subqueries are not supported in materialized views"));
                }
                self.stages.push(Stage::Filter { predicate: f.predicate.clone(), input: f.input.schema().clone() });
                Ok(())
            }
            LogicalPlan::Aggregate(a) => {
                self.lower(&a.input)?;
                self.push_aggregate(
                    a.group_expr.clone(),
                    a.aggr_expr.iter().map(agg_call).collect::<SqlResult<_>>()?,
                    a.input.schema().clone(),
                    a.schema.clone(),
                )
            }
            LogicalPlan::Distinct(Distinct::All(input)) => {
                self.lower(input)?;
                let group = input.schema().columns().into_iter().map(Expr::Column).collect();
                self.push_aggregate(group, vec![], input.schema().clone(), input.schema().clone())
            }
            LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => {
                Err(unsupported("ORDER BY and LIMIT are not supported in a materialized view over a stream; put them in the SELECT that reads the view"))
            }
            LogicalPlan::Window(w) => {
                self.lower(&w.input)?;
                self.push_over(w)
            }
            LogicalPlan::Join(j) => {
                if !is_scan(&j.left) || !is_scan(&j.right) || self.join.is_some() {
                    return Err(unsupported("a join in a materialized view reads two sources, tables or views by name"));
                }
                self.join = Some(raw_join(j)?);
                Ok(())
            }
            other => Err(unsupported(format!("{} is not supported in a materialized view", other.display()))),
        }
    }

    fn push_over(&mut self, w: &datafusion::logical_expr::logical_plan::Window) -> SqlResult<()> {
        if self.stages.iter().any(|s| matches!(s, Stage::Aggregate(_))) {
            return Err(unsupported("OVER windows after GROUP BY are not supported; put the OVER in a view over this one"));
        }
        let mut aggs = Vec::new();
        let mut spec = None;
        for e in &w.window_expr {
            let (f, call) = over_call(e)?;
            let p = &f.params;
            let this = (&p.partition_by, &p.order_by, &p.window_frame);
            match spec {
                None => spec = Some(this),
                Some(s) if s == this => {}
                Some(_) => return Err(unsupported("the OVER windows of one SELECT must share PARTITION BY, ORDER BY and RANGE; split them into views")),
            }
            aggs.push(call);
        }
        let Some((partition_by, order_by, frame)) = spec else { return Err(SqlError::internal("a window node without expressions")) };
        let usage = "use OVER (PARTITION BY key ORDER BY event_time RANGE BETWEEN INTERVAL '10 minutes' PRECEDING AND CURRENT ROW)";
        let input = w.input.schema().clone();
        let time_column = match order_by.as_slice() {
            [s] if s.asc => match &s.expr {
                Expr::Column(c) => input.index_of_column(c).map_err(|_| SqlError::internal(format!("column {c} not in the window input")))?,
                other => return Err(unsupported(format!("OVER (ORDER BY {other}): order by the event-time column itself; {usage}"))),
            },
            _ => return Err(unsupported(format!("an OVER window needs ORDER BY one event-time column, ascending; {usage}"))),
        };
        use datafusion::logical_expr::{WindowFrameBound, WindowFrameUnits};
        let range_ns = match (&frame.units, &frame.start_bound, &frame.end_bound) {
            (WindowFrameUnits::Range, WindowFrameBound::Preceding(v), WindowFrameBound::CurrentRow) if !v.is_null() => scalar_interval_ns(v)
                .filter(|n| *n > 0)
                .ok_or_else(|| unsupported(format!("OVER RANGE {v} PRECEDING: the range must be a positive interval; {usage}")))?,
            _ => return Err(unsupported(format!("an OVER window in a materialized view keeps a RANGE interval up to the current row; {usage}"))),
        };
        if partition_by.iter().any(has_subquery) {
            return Err(unsupported("subqueries are not supported in materialized views"));
        }
        self.stages.push(Stage::Over(OverStage { partition_by: partition_by.clone(), time_column, range_ns, aggs, input, output: w.schema.clone() }));
        Ok(())
    }

    fn push_aggregate(&mut self, group_by: Vec<Expr>, aggs: Vec<AggCall>, input: DFSchemaRef, output: DFSchemaRef) -> SqlResult<()> {
        if self.stages.iter().any(|s| matches!(s, Stage::Aggregate(_))) {
            return Err(unsupported("a materialized view may aggregate once; build a view on a view for a second level"));
        }
        if group_by.iter().any(|g| matches!(g, Expr::GroupingSet(_))) {
            return Err(unsupported("GROUPING SETS, CUBE and ROLLUP are not supported in materialized views"));
        }
        let position = |name: &str| group_by.iter().position(|g| matches!(g, Expr::Column(c) if c.name == name));
        let window_columns = match (position("window_start"), position("window_end")) {
            (Some(s), Some(e)) => Some((s, e)),
            _ => None,
        };
        self.stages.push(Stage::Aggregate(AggregateStage { group_by, aggs, input, output, window_columns }));
        Ok(())
    }
}

/// Plans `query` as a continuous query over relations known to `lookup`.
pub async fn plan_view(config: &SessionConfig, lookup: &dyn RelationLookup, query: &Query, emit: Emit) -> SqlResult<StreamPlan> {
    let ctx = planning_context(config);
    let mut query = query.clone();
    crate::colnames::name_query_columns(&mut query);
    crate::pgsyntax::rewrite_query(&mut query);
    let mut scan = FromScan { ctx: &ctx, relations: vec![], window: None };
    scan.query(&mut query).await?;
    let names = scan.relations.clone();
    if names.is_empty() || names.len() > 2 {
        return Err(unsupported("a materialized view reads one relation, or joins two"));
    }
    let mut relations = Vec::new();
    for n in &names {
        let r = lookup.relation(n).ok_or_else(|| SqlError::undefined_table(n))?;
        register_placeholder(&ctx, &r)?;
        relations.push(r);
    }
    let right = relations.get(1).cloned();
    let input = relations.swap_remove(0);
    let window = match scan.window {
        None => None,
        Some(call) => Some(register_window(&ctx, &input, call)?),
    };
    let state = ctx.state();
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(Box::new(query))))).await?;
    let plan = crate::pgplan::apply(plan)?;
    let plan = state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})?;
    let mut lowering = Lowering { stages: vec![], join: None };
    lowering.lower(&plan)?;
    let stages = lowering.stages;
    let join = match (lowering.join, right) {
        (None, None) => None,
        (Some(raw), Some(right)) => Some(choose_join(&input, right, raw)?),
        _ => return Err(SqlError::internal("the join in FROM was not found in the plan")),
    };
    let agg = stages.iter().find_map(|s| if let Stage::Aggregate(a) = s { Some(a) } else { None });
    let windowed_agg = agg.is_some_and(|a| a.window_columns.is_some()) && window.is_some();
    if let Some((WindowSpec { kind: WindowKind::Session { .. }, .. }, keys)) = &window {
        check_session_keys(agg, keys)?;
    }
    if emit == Emit::OnWindowClose && !windowed_agg {
        return Err(unsupported("EMIT ON WINDOW CLOSE needs an aggregate grouped by window_start and window_end of TUMBLE, HOP or SESSION"));
    }
    if emit == Emit::OnWindowClose && input.event_time.is_none() && !matches!(input.kind, RelationKind::View { .. }) {
        return Err(unsupported(format!("EMIT ON WINDOW CLOSE needs a watermark on \"{}\"; declare WATERMARK FOR ... in the source", input.name)));
    }
    let input_append_only = match &join {
        None => append_only_relation(&input),
        Some(j) => j.strategy != JoinStrategy::Updating,
    };
    if emit == Emit::OnWindowClose && !input_append_only {
        return Err(unsupported(format!(
            "EMIT ON WINDOW CLOSE needs an append-only input, and \"{}\" has updates; use the default emit on update",
            input.name
        )));
    }
    let append_only = input_append_only && (agg.is_none() || emit == Emit::OnWindowClose);
    let output = Arc::new(plan.schema().as_arrow().clone());
    let time = match &join {
        None => input.event_time.map(|t| t.column),
        Some(j) => match &j.strategy {
            JoinStrategy::Lookup => input.event_time.map(|t| t.column),
            JoinStrategy::Interval(b) => Some(b.left_time),
            JoinStrategy::Updating => None,
        },
    };
    let time = stages_event_time(time, &stages, input_append_only, emit)?;
    let event_time = time.filter(|_| append_only).map(|column| EventTime { column, delay_ns: 0 });
    let unique_key = stages_unique_key(input_unique_key(&input, join.as_ref(), window.as_ref().map(|(w, _)| w)), &stages);
    Ok(StreamPlan { input, join, window: window.map(|(w, _)| w), stages, emit, output, append_only, event_time, unique_key })
}

/// Registers an empty table with a relation's columns under its name
/// (in its schema, which the planning context gets if it lacks it).
fn register_placeholder(ctx: &SessionContext, r: &Relation) -> SqlResult<()> {
    let (schema, name) = crate::names::split_key(&r.name);
    let table = TableReference::partial(schema, name);
    let catalog = ctx.catalog("datafusion").ok_or_else(|| SqlError::internal("the planning context has no catalog"))?;
    if catalog.schema(schema).is_none() {
        catalog.register_schema(schema, Arc::new(datafusion::catalog::MemorySchemaProvider::new()))?;
    }
    if ctx.table_exist(table.clone())? {
        return Ok(());
    }
    ctx.register_table(table, Arc::new(MemTable::try_new(r.schema.clone(), vec![vec![]])?))?;
    Ok(())
}

/// Registers the placeholder table of a window call in FROM (the input's
/// columns plus window_start and window_end); the window and its SESSION keys.
fn register_window(ctx: &SessionContext, input: &Relation, call: WindowCall) -> SqlResult<(WindowSpec, Vec<String>)> {
    let time_column = input
        .schema
        .index_of(&call.time_column)
        .map_err(|_| SqlError::new(crate::SqlState::UndefinedColumn, format!("column \"{}\" does not exist in \"{}\"", call.time_column, input.name)))?;
    let tz = match input.schema.field(time_column).data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => tz.clone(),
        other => {
            return Err(SqlError::new(
                crate::SqlState::DatatypeMismatch,
                format!("window time column \"{}\" must be a timestamp, not {other}", call.time_column),
            ));
        }
    };
    let mut fields: Vec<Field> = input.schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for n in ["window_start", "window_end"] {
        fields.push(Field::new(n, DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()), false));
    }
    let windowed: SchemaRef = Arc::new(Schema::new(fields));
    ctx.register_table(WINDOW_TABLE, Arc::new(MemTable::try_new(windowed, vec![vec![]])?))?;
    Ok((WindowSpec { time_column, kind: call.kind }, call.session_keys))
}

/// A SESSION view must group by exactly its session keys and the window.
fn check_session_keys(agg: Option<&AggregateStage>, keys: &[String]) -> SqlResult<()> {
    let Some(a) = agg.filter(|a| a.window_columns.is_some()) else {
        return Err(unsupported("a SESSION window needs an aggregate grouped by window_start and window_end"));
    };
    let (s, e) = a.window_columns.unwrap();
    let mut grouped: Vec<String> = a
        .group_by
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != s && *i != e)
        .map(|(_, g)| match g {
            Expr::Column(c) => Ok(c.name.clone()),
            other => Err(unsupported(format!("GROUP BY {other}: a SESSION view groups by its key columns and the window"))),
        })
        .collect::<SqlResult<_>>()?;
    let mut keys = keys.to_vec();
    grouped.sort();
    keys.sort();
    if grouped != keys {
        return Err(unsupported(format!("a SESSION view must GROUP BY its session keys ({}) and window_start, window_end", keys.join(", "))));
    }
    Ok(())
}

fn append_only_relation(r: &Relation) -> bool {
    match &r.kind {
        RelationKind::Source { .. } => true,
        RelationKind::View { append_only } => *append_only,
        RelationKind::Table => false,
    }
}

/// The unique key of the rows the stages read: the input's, unknown after a
/// join, and with `window_start` added for HOP, which copies each row into
/// every window it falls in (TUMBLE puts it in one).
fn input_unique_key(input: &Relation, join: Option<&JoinPlan>, window: Option<&WindowSpec>) -> Option<Vec<usize>> {
    if join.is_some() {
        return None;
    }
    let mut key = input.unique_key.clone()?;
    if let Some(WindowSpec { kind: WindowKind::Hop { .. }, .. }) = window {
        key.push(input.schema.fields().len()); // window_start, the first column the window adds
    }
    Some(key)
}

/// Follows a unique key through the stages: a filter keeps it, a projection
/// keeps it when it passes every key column on unchanged, and an aggregate
/// makes its GROUP BY columns (its first output columns) the key.
fn stages_unique_key(mut key: Option<Vec<usize>>, stages: &[Stage]) -> Option<Vec<usize>> {
    for stage in stages {
        key = match stage {
            Stage::Filter { .. } | Stage::Over(_) => key,
            Stage::Aggregate(a) => Some((0..a.group_by.len()).collect()),
            Stage::Project { exprs, input, .. } => key.and_then(|k| k.iter().map(|&col| passed_on(exprs, input, col)).collect()),
        };
    }
    key
}

/// The output position of a projection that passes input column `col` on
/// unchanged (possibly renamed), if one does.
fn passed_on(exprs: &[Expr], input: &DFSchemaRef, col: usize) -> Option<usize> {
    exprs.iter().position(|e| {
        let e = if let Expr::Alias(a) = e { a.expr.as_ref() } else { e };
        matches!(e, Expr::Column(c) if input.index_of_column(c).ok() == Some(col))
    })
}

/// Follows the event-time column through the stages (checking that OVER
/// windows order by it); the output column that carries it, if any.
fn stages_event_time(mut time: Option<usize>, stages: &[Stage], append_only: bool, emit: Emit) -> SqlResult<Option<usize>> {
    for stage in stages {
        time = match stage {
            Stage::Filter { .. } => time,
            Stage::Project { exprs, input, .. } => time.and_then(|t| passed_on(exprs, input, t)),
            Stage::Over(o) => {
                if !append_only {
                    return Err(unsupported("OVER windows need an append-only input (a source, or a view without updates)"));
                }
                if time != Some(o.time_column) {
                    return Err(unsupported(format!(
                        "OVER (ORDER BY {}): order by the input's event-time column (the one its WATERMARK is declared on), so that rows older than the range can be freed",
                        o.input.field(o.time_column).name()
                    )));
                }
                time
            }
            Stage::Aggregate(a) => match a.window_columns {
                Some((_, end)) if emit == Emit::OnWindowClose => Some(end),
                _ => None,
            },
        };
    }
    Ok(time)
}

/// The time bound `right.t - left.t in [lo, hi]` that the join's keys and
/// condition imply for the two event-time columns, if both ends are bounded.
fn time_bound(raw: &RawJoin, left_time: usize, right_time: usize) -> Option<TimeBound> {
    use datafusion::logical_expr::{Between, BinaryExpr, Operator};
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    // +1: right side, -1: left side, for a column plus offset.
    let side = |e: &Expr| -> Option<(i8, i64)> {
        let (c, off) = column_plus(e)?;
        if raw.left_schema.has_column(c) && raw.left_schema.index_of_column(c).ok() == Some(left_time) {
            Some((-1, off))
        } else if raw.right_schema.has_column(c) && raw.right_schema.index_of_column(c).ok() == Some(right_time) {
            Some((1, off))
        } else {
            None
        }
    };
    // x + a >= y + b, or <=: narrows lo or hi.
    let mut compare = |x: &Expr, ge: bool, y: &Expr| {
        let (Some((sx, a)), Some((sy, b))) = (side(x), side(y)) else { return };
        if sx == sy {
            return;
        }
        // With x the right side: r - l >= b - a (ge) or <= b - a. Else negate.
        let (d, ge) = if sx == 1 { (b - a, ge) } else { (a - b, !ge) };
        if ge { lo = lo.max(d) } else { hi = hi.min(d) }
    };
    for (l, r) in raw.left_keys.iter().zip(&raw.right_keys) {
        compare(r, true, l);
        compare(r, false, l);
    }
    for c in raw.filter.iter().flat_map(datafusion::logical_expr::utils::split_conjunction) {
        match c {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
                Operator::GtEq | Operator::Gt => compare(left, true, right),
                Operator::LtEq | Operator::Lt => compare(left, false, right),
                Operator::Eq => {
                    compare(left, true, right);
                    compare(left, false, right);
                }
                _ => {}
            },
            Expr::Between(Between { expr, negated: false, low, high }) => {
                compare(expr, true, low);
                compare(expr, false, high);
            }
            _ => {}
        }
    }
    (lo != i64::MIN && hi != i64::MAX && lo <= hi).then_some(TimeBound { left_time, right_time, lo_ns: lo, hi_ns: hi })
}

/// Chooses how a join keeps state, or refuses one whose state would grow without bound.
fn choose_join(left: &Relation, right: Relation, raw: RawJoin) -> SqlResult<JoinPlan> {
    let strategy = match (&left.kind, &right.kind) {
        (RelationKind::Table, RelationKind::Table) => {
            return Err(unsupported("a join of two tables does not change by itself; query the tables with SELECT, or join a stream with a table"));
        }
        (RelationKind::Table, _) => return Err(unsupported("put the stream first and the table second: FROM stream JOIN table ON ...")),
        (_, RelationKind::Table) if !append_only_relation(left) => {
            return Err(unsupported(format!(
                "a lookup in table \"{}\" needs an append-only stream on the left, and \"{}\" has updates (a retraction would meet a table that changed since)",
                right.name, left.name
            )));
        }
        (_, RelationKind::Table) => JoinStrategy::Lookup,
        _ => match (append_only_relation(left), append_only_relation(&right)) {
            (true, true) => {
                let bound = match (left.event_time, right.event_time) {
                    (Some(l), Some(r)) => time_bound(&raw, l.column, r.column),
                    _ => None,
                };
                match bound {
                    Some(b) => JoinStrategy::Interval(b),
                    None => {
                        return Err(unsupported(format!(
                            "a join of two streams (\"{}\" and \"{}\") would keep every row it has seen; bound it in event time, e.g. \
                             ON a.user_id = b.user_id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '30 minutes' over the columns their WATERMARKs \
                             are declared on, or join windowed views ON a.window_end = b.window_end",
                            left.name, right.name
                        ))
                        .with_hint("a stream joined with reference data is a lookup: make the reference data a TABLE (it may mirror a PostgreSQL table)"));
                    }
                }
            }
            (false, false) => JoinStrategy::Updating,
            _ => {
                return Err(unsupported(format!(
                    "a join of a stream with a view that has updates would keep every stream row; \
                     join the stream with a TABLE (a lookup), or join two views (\"{}\", \"{}\")",
                    left.name, right.name
                )));
            }
        },
    };
    Ok(JoinPlan {
        right,
        kind: raw.kind,
        left_keys: raw.left_keys,
        right_keys: raw.right_keys,
        left_schema: raw.left_schema,
        right_schema: raw.right_schema,
        filter: raw.filter,
        schema: raw.schema,
        strategy,
    })
}

fn duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    const UNITS: [(i64, &str); 5] = [(86_400_000_000_000, "d"), (3_600_000_000_000, "h"), (60_000_000_000, "min"), (1_000_000_000, "s"), (1_000_000, "ms")];
    for (n, u) in UNITS {
        if ns % n == 0 {
            return format!("{}{u}", ns / n);
        }
    }
    format!("{ns}ns")
}

fn signed_duration(ns: i64) -> String {
    if ns < 0 { format!("-{}", duration(-ns)) } else { duration(ns) }
}

fn agg_text(c: &AggCall) -> String {
    let arg = c.arg.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "*".into());
    let call = match (c.func, &c.kept) {
        (AggFunc::CountDistinct, _) => format!("count(DISTINCT {arg})"),
        (AggFunc::Kept, Some(k)) => {
            let order = if k.order_by.is_empty() {
                String::new()
            } else {
                format!(" ORDER BY {}", k.order_by.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", "))
            };
            format!("{}({}{}{order}) [recomputed from the group's kept rows]", k.udaf.name(), if k.distinct { "DISTINCT " } else { "" }, exprs(&k.args))
        }
        (other, _) => format!("{}({arg})", format!("{other:?}").to_lowercase()),
    };
    match &c.filter {
        Some(f) => format!("{call} FILTER (WHERE {f})"),
        None => call,
    }
}

fn exprs(list: &[Expr]) -> String {
    list.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for StreamPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = vec![self.input_line()];
        if let Some(t) = self.input.event_time.filter(|_| matches!(self.input.kind, RelationKind::Source { .. })) {
            lines.push(format!(
                "Watermark {} - {} per partition, min across partitions; late rows go to weir_dead_letters",
                self.input.schema.field(t.column).name(),
                duration(t.delay_ns)
            ));
        }
        if let Some(w) = &self.window {
            let col = self.input.schema.field(w.time_column).name();
            lines.push(match &w.kind {
                WindowKind::Tumble { size_ns, offset_ns } => format!("Window tumble({col}, size {}, offset {})", duration(*size_ns), duration(*offset_ns)),
                WindowKind::Hop { slide_ns, size_ns } => format!("Window hop({col}, slide {}, size {})", duration(*slide_ns), duration(*size_ns)),
                WindowKind::Session { gap_ns } => format!("Window session({col}, gap {}) per group key", duration(*gap_ns)),
            });
        }
        lines.extend(self.join.as_ref().map(join_line));
        lines.extend(self.stages.iter().map(|s| self.stage_line(s)));
        let emit = match self.emit {
            Emit::OnUpdate => "on update",
            Emit::OnWindowClose => "on window close",
        };
        let cols: Vec<&str> = self.output.fields().iter().map(|f| f.name().as_str()).collect();
        lines.push(format!(
            "Materialize [{}] emit {emit}, {}",
            cols.join(", "),
            if self.append_only { "append-only, rows in segment files on disk" } else { "upserts and retractions" }
        ));
        for (i, l) in lines.iter().rev().enumerate() {
            writeln!(f, "{}{l}", "  ".repeat(i))?;
        }
        Ok(())
    }
}

impl StreamPlan {
    fn input_line(&self) -> String {
        let kind = match &self.input.kind {
            RelationKind::Source { connector } => format!("source, connector {connector}"),
            RelationKind::View { .. } => "view".into(),
            RelationKind::Table => "table".into(),
        };
        format!("Input {} ({kind})", self.input.name)
    }

    fn stage_line(&self, s: &Stage) -> String {
        match s {
            Stage::Over(o) => {
                let aggs: Vec<String> = o.aggs.iter().map(agg_text).collect();
                format!(
                    "Over [{}] partition by [{}] order by {} range {} preceding; rows freed when the watermark passes them by the range",
                    aggs.join(", "),
                    exprs(&o.partition_by),
                    o.input.field(o.time_column).name(),
                    duration(o.range_ns)
                )
            }
            Stage::Filter { predicate, .. } => format!("Filter {predicate}"),
            Stage::Project { exprs: e, .. } => format!("Project {}", exprs(e)),
            Stage::Aggregate(a) => {
                let aggs: Vec<String> = a.aggs.iter().map(agg_text).collect();
                let state = if a.window_columns.is_some() && self.window.is_some() {
                    "; state per window, freed when the watermark passes its end"
                } else {
                    "; state per key, never freed (one entry for every key the input ever had)"
                };
                format!("Aggregate keys [{}] aggregates [{}]{state}", exprs(&a.group_by), aggs.join(", "))
            }
        }
    }
}

/// EXPLAIN's line for a join: its keys and how its state is kept and freed.
fn join_line(j: &JoinPlan) -> String {
    let keys: Vec<String> = j.left_keys.iter().zip(&j.right_keys).map(|(l, r)| format!("{l} = {r}")).collect();
    let filter = j.filter.as_ref().map(|f| format!(" and {f}")).unwrap_or_default();
    let kind = if j.kind == JoinKind::Left { "Left join" } else { "Join" };
    let how = match &j.strategy {
        JoinStrategy::Lookup => format!("lookup in table {} as each row arrives; stream rows not kept", j.right.name),
        JoinStrategy::Interval(b) => {
            let column = |schema: &DFSchemaRef, i: usize| {
                let (q, f) = schema.qualified_field(i);
                q.map(|q| format!("{q}.{}", f.name())).unwrap_or_else(|| f.name().clone())
            };
            format!(
                "interval join with {}: {} - {} within [{}, {}]; rows kept until the other side's watermark passes the bound",
                j.right.name,
                column(&j.right_schema, b.right_time),
                column(&j.left_schema, b.left_time),
                signed_duration(b.lo_ns),
                signed_duration(b.hi_ns)
            )
        }
        JoinStrategy::Updating => format!("with view {}; both sides' rows kept, never freed; changes retract and add matches", j.right.name),
    };
    format!("{kind} on {}{filter}: {how}", keys.join(" and "))
}
