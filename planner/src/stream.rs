//! The streaming planner: a `CREATE MATERIALIZED VIEW` query to a
//! [`StreamPlan`], plain data that the runtime executes and `EXPLAIN` prints.
//!
//! The query is planned by DataFusion against placeholder tables, so every
//! scalar function, CASE and type rule is DataFusion's; the logical plan is
//! then lowered to a pipeline of stages over one input:
//! input -> watermark -> window assignment -> filters/projections ->
//! [aggregate -> filters/projections]. What cannot run continuously is
//! refused here with SQLSTATE 0A000 and a message that says what.

use crate::ddl::{literal_text, Emit};
use crate::error::{SqlError, SqlResult};
use crate::types::WeirTypePlanner;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::MemTable;
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{DFSchemaRef, ScalarValue};
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{Distinct, Expr, LogicalPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    self, FunctionArg, FunctionArgExpr, Query, SetExpr, Statement, TableAlias, TableFactor,
};
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
}

/// Looks relations up by name (the server's catalog implements it).
pub trait RelationLookup: Send + Sync {
    fn relation(&self, name: &str) -> Option<Relation>;
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowKind {
    Tumble { size_ns: i64, offset_ns: i64 },
    Hop { slide_ns: i64, size_ns: i64 },
    /// Sessions per value of the GROUP BY keys other than the window columns.
    Session { gap_ns: i64 },
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
}

#[derive(Debug, Clone)]
pub struct AggCall {
    pub func: AggFunc,
    /// None for count(*).
    pub arg: Option<Expr>,
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

#[derive(Debug, Clone)]
pub enum Stage {
    Filter { predicate: Expr, input: DFSchemaRef },
    Project { exprs: Vec<Expr>, input: DFSchemaRef, output: DFSchemaRef },
    Aggregate(AggregateStage),
}

/// A continuous query: plain data.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    pub input: Relation,
    pub window: Option<WindowSpec>,
    pub stages: Vec<Stage>,
    pub emit: Emit,
    pub output: SchemaRef,
    /// The view only ever adds rows (no updates or retractions).
    pub append_only: bool,
}

impl StreamPlan {
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
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_type_planner(Arc::new(WeirTypePlanner))
        .build();
    SessionContext::new_with_state(state)
}

/// Evaluates a constant interval expression (`INTERVAL '1 minute'`, or a
/// string such as `'1 minute'`) to nanoseconds.
pub async fn interval_ns(ctx: &SessionContext, e: &ast::Expr) -> SqlResult<i64> {
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
    if ns <= 0 {
        return Err(SqlError::new(crate::SqlState::InvalidParameterValue, format!("interval {e} must be positive")));
    }
    Ok(ns)
}

/// The watermark delay of `WATERMARK FOR col AS expr`: `col` or `col - INTERVAL ...`.
pub async fn watermark_delay(config: &SessionConfig, col: &ast::Ident, e: &ast::Expr) -> SqlResult<i64> {
    let ctx = planning_context(config);
    let is_col = |x: &ast::Expr| matches!(x, ast::Expr::Identifier(i) if i.value.eq_ignore_ascii_case(&col.value));
    match e {
        x if is_col(x) => Ok(0),
        ast::Expr::BinaryOp { left, op: ast::BinaryOperator::Minus, right } if is_col(left) => interval_ns(&ctx, right).await,
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

fn object_to_name(n: &ast::ObjectName) -> SqlResult<String> {
    let last = n.0.last().and_then(|p| p.as_ident()).ok_or_else(|| SqlError::syntax(format!("invalid name {n}")))?;
    if n.0.len() > 1 {
        let schema = n.0[n.0.len() - 2].as_ident().map(|i| i.value.to_lowercase());
        if schema.as_deref() != Some("public") {
            return Err(SqlError::undefined_table(&n.to_string()));
        }
    }
    Ok(if last.quote_style.is_some() { last.value.clone() } else { last.value.to_lowercase() })
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
                for twj in sel.from.iter_mut() {
                    if !twj.joins.is_empty() {
                        return Err(unsupported("joins in materialized views are not supported yet"));
                    }
                    Box::pin(self.factor(&mut twj.relation)).await?;
                }
                if sel.from.len() > 1 {
                    return Err(unsupported("joins in materialized views are not supported yet"));
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
                self.relations.push(object_to_name(name)?);
                Ok(())
            }
            TableFactor::Table { name, args: Some(args), alias, .. } => {
                let func = object_to_name(name)?;
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
            TableFactor::Derived { subquery, .. } => Box::pin(self.query(subquery)).await,
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
            ast::Expr::CompoundIdentifier(parts) => parts.last().map(|i| if i.quote_style.is_some() { i.value.clone() } else { i.value.to_lowercase() }),
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
    if p.filter.is_some() || !p.order_by.is_empty() {
        return Err(unsupported("FILTER and ORDER BY inside aggregates are not supported in materialized views"));
    }
    let name = f.func.name().to_lowercase();
    let func = match (name.as_str(), p.distinct) {
        ("count", false) => AggFunc::Count,
        ("count", true) => AggFunc::CountDistinct,
        ("sum", false) => AggFunc::Sum,
        ("avg", false) | ("mean", false) => AggFunc::Avg,
        ("min", _) => AggFunc::Min,
        ("max", _) => AggFunc::Max,
        _ => {
            return Err(unsupported(format!(
                "aggregate {}{name} is not supported in materialized views; weir maintains count, count(DISTINCT), sum, avg, min and max",
                if p.distinct { "DISTINCT " } else { "" }
            )))
        }
    };
    if p.args.len() > 1 {
        return Err(unsupported(format!("{name} with several arguments is not supported")));
    }
    let arg = match p.args.first() {
        // count(*) and count(1): count rows.
        Some(Expr::Literal(v, _)) if func == AggFunc::Count && !v.is_null() => None,
        Some(a) => {
            if has_subquery(a) {
                return Err(unsupported("subqueries are not supported in materialized views"));
            }
            Some(a.clone())
        }
        None => None,
    };
    Ok(AggCall { func, arg })
}

struct Lowering {
    stages: Vec<Stage>,
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
                self.push_aggregate(a.group_expr.clone(), a.aggr_expr.iter().map(agg_call).collect::<SqlResult<_>>()?, a.input.schema().clone(), a.schema.clone())
            }
            LogicalPlan::Distinct(Distinct::All(input)) => {
                self.lower(input)?;
                let group = input.schema().columns().into_iter().map(Expr::Column).collect();
                self.push_aggregate(group, vec![], input.schema().clone(), input.schema().clone())
            }
            LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => Err(unsupported(
                "ORDER BY and LIMIT are not supported in a materialized view over a stream; put them in the SELECT that reads the view",
            )),
            LogicalPlan::Window(_) => Err(unsupported("OVER windows are not supported in materialized views yet")),
            LogicalPlan::Join(_) => Err(unsupported("joins in materialized views are not supported yet")),
            other => Err(unsupported(format!("{} is not supported in a materialized view", other.display()))),
        }
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
    let mut scan = FromScan { ctx: &ctx, relations: vec![], window: None };
    scan.query(&mut query).await?;
    let mut names = scan.relations.clone();
    names.dedup();
    if names.len() != 1 {
        return Err(unsupported("a materialized view reads one relation for now (joins come later)"));
    }
    let input = lookup.relation(&names[0]).ok_or_else(|| SqlError::undefined_table(&names[0]))?;
    ctx.register_table(input.name.as_str(), Arc::new(MemTable::try_new(input.schema.clone(), vec![vec![]])?))?;
    let window = match scan.window {
        None => None,
        Some(call) => {
            let time_column = input.schema.index_of(&call.time_column).map_err(|_| {
                SqlError::new(crate::SqlState::UndefinedColumn, format!("column \"{}\" does not exist in \"{}\"", call.time_column, input.name))
            })?;
            let tz = match input.schema.field(time_column).data_type() {
                DataType::Timestamp(TimeUnit::Nanosecond, tz) => tz.clone(),
                other => {
                    return Err(SqlError::new(crate::SqlState::DatatypeMismatch, format!("window time column \"{}\" must be a timestamp, not {other}", call.time_column)))
                }
            };
            let mut fields: Vec<Field> = input.schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            for n in ["window_start", "window_end"] {
                fields.push(Field::new(n, DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()), false));
            }
            let windowed: SchemaRef = Arc::new(Schema::new(fields));
            ctx.register_table(WINDOW_TABLE, Arc::new(MemTable::try_new(windowed, vec![vec![]])?))?;
            Some((WindowSpec { time_column, kind: call.kind }, call.session_keys))
        }
    };
    let state = ctx.state();
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(Box::new(query))))).await?;
    let plan = state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})?;
    let mut lowering = Lowering { stages: vec![] };
    lowering.lower(&plan)?;
    let stages = lowering.stages;
    let agg = stages.iter().find_map(|s| if let Stage::Aggregate(a) = s { Some(a) } else { None });
    let windowed_agg = agg.is_some_and(|a| a.window_columns.is_some()) && window.is_some();
    if let Some((spec, keys)) = &window {
        if let WindowKind::Session { .. } = spec.kind {
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
            let mut keys = keys.clone();
            grouped.sort();
            keys.sort();
            if grouped != keys {
                return Err(unsupported(format!("a SESSION view must GROUP BY its session keys ({}) and window_start, window_end", keys.join(", "))));
            }
        }
    }
    if emit == Emit::OnWindowClose && !windowed_agg {
        return Err(unsupported("EMIT ON WINDOW CLOSE needs an aggregate grouped by window_start and window_end of TUMBLE, HOP or SESSION"));
    }
    if emit == Emit::OnWindowClose && input.event_time.is_none() && !matches!(input.kind, RelationKind::View { .. }) {
        return Err(unsupported(format!("EMIT ON WINDOW CLOSE needs a watermark on \"{}\"; declare WATERMARK FOR ... in the source", input.name)));
    }
    let input_append_only = match &input.kind {
        RelationKind::Source { .. } => true,
        RelationKind::View { append_only } => *append_only,
        RelationKind::Table => false,
    };
    if emit == Emit::OnWindowClose && !input_append_only {
        return Err(unsupported(format!(
            "EMIT ON WINDOW CLOSE needs an append-only input, and \"{}\" has updates; use the default emit on update",
            input.name
        )));
    }
    let append_only = input_append_only && (agg.is_none() || emit == Emit::OnWindowClose);
    let output = Arc::new(plan.schema().as_arrow().clone());
    Ok(StreamPlan { input, window: window.map(|(w, _)| w), stages, emit, output, append_only })
}

fn duration(ns: i64) -> String {
    const UNITS: [(i64, &str); 5] = [(86_400_000_000_000, "d"), (3_600_000_000_000, "h"), (60_000_000_000, "min"), (1_000_000_000, "s"), (1_000_000, "ms")];
    for (n, u) in UNITS {
        if ns % n == 0 {
            return format!("{}{u}", ns / n);
        }
    }
    format!("{ns}ns")
}

fn exprs(list: &[Expr]) -> String {
    list.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for StreamPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = Vec::new();
        let kind = match &self.input.kind {
            RelationKind::Source { connector } => format!("source, connector {connector}"),
            RelationKind::View { .. } => "view".into(),
            RelationKind::Table => "table".into(),
        };
        lines.push(format!("Input {} ({kind})", self.input.name));
        if let Some(t) = self.input.event_time {
            lines.push(format!(
                "Watermark {} - {} per partition, min across partitions; late rows go to weir_dead_letters",
                self.input.schema.field(t.column).name(),
                duration(t.delay_ns)
            ));
        }
        if let Some(w) = &self.window {
            let col = self.input.schema.field(w.time_column).name();
            lines.push(match &w.kind {
                WindowKind::Tumble { size_ns, offset_ns } => format!("Window tumble({col}, size {}, offset {})", duration(*size_ns), duration(*offset_ns).replace("0d", "0")),
                WindowKind::Hop { slide_ns, size_ns } => format!("Window hop({col}, slide {}, size {})", duration(*slide_ns), duration(*size_ns)),
                WindowKind::Session { gap_ns } => format!("Window session({col}, gap {}) per group key", duration(*gap_ns)),
            });
        }
        for s in &self.stages {
            lines.push(match s {
                Stage::Filter { predicate, .. } => format!("Filter {predicate}"),
                Stage::Project { exprs: e, .. } => format!("Project {}", exprs(e)),
                Stage::Aggregate(a) => {
                    let aggs: Vec<String> = a
                        .aggs
                        .iter()
                        .map(|c| {
                            let arg = c.arg.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "*".into());
                            match c.func {
                                AggFunc::CountDistinct => format!("count(DISTINCT {arg})"),
                                other => format!("{}({arg})", format!("{other:?}").to_lowercase()),
                            }
                        })
                        .collect();
                    let state = if a.window_columns.is_some() && self.window.is_some() { "; state per window, freed when the watermark passes its end" } else { "; state per key, kept" };
                    format!("Aggregate keys [{}] aggregates [{}]{state}", exprs(&a.group_by), aggs.join(", "))
                }
            });
        }
        let emit = match self.emit {
            Emit::OnUpdate => "on update",
            Emit::OnWindowClose => "on window close",
        };
        let cols: Vec<&str> = self.output.fields().iter().map(|f| f.name().as_str()).collect();
        lines.push(format!(
            "Materialize [{}] emit {emit}, {}",
            cols.join(", "),
            if self.append_only { "append-only" } else { "upserts and retractions" }
        ));
        for (i, l) in lines.iter().rev().enumerate() {
            writeln!(f, "{}{l}", "  ".repeat(i))?;
        }
        Ok(())
    }
}
