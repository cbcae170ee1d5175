//! Plain views (`CREATE [OR REPLACE] VIEW name [(columns)] AS query`): a
//! stored query, planned again each time a statement reads the view, so it
//! always sees the current rows of what it reads. Its columns are fixed when
//! it is created, as in PostgreSQL; `OR REPLACE` may add columns at the end
//! but not drop, rename or retype one.

use crate::engine::{Engine, Writer};
use arrow::datatypes::SchemaRef;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{CreateView, Query, Visit, Visitor};
use std::ops::ControlFlow;
use std::sync::Arc;
use weir_planner::names::{ObjectKind, ident_name, object_name};
use weir_planner::{SqlError, SqlResult, SqlState, parse_statements};

/// How deep views may read views before weir assumes a view reads itself.
pub const MAX_VIEW_DEPTH: usize = 32;

pub struct PlainView {
    pub id: u64,
    pub name: String,
    /// The query's SQL, as `pg_get_viewdef` and `pg_views` show it.
    pub query: String,
    /// The names the column list gives (empty: the query's own).
    pub columns: Vec<String>,
    pub schema: SchemaRef,
    /// The relations the query names (for DROP ... CASCADE).
    pub inputs: Vec<String>,
}

/// The relation names a query reads.
pub(crate) fn inputs_of(query: &Query) -> Vec<String> {
    struct Names(Vec<String>);
    impl Visitor for Names {
        type Break = ();
        fn pre_visit_relation(&mut self, r: &datafusion::sql::sqlparser::ast::ObjectName) -> ControlFlow<()> {
            if let Ok(n) = object_name(r) {
                self.0.push(n);
            }
            ControlFlow::Continue(())
        }
    }
    let mut names = Names(Vec::new());
    let _ = query.visit(&mut names);
    names.0.sort();
    names.0.dedup();
    names.0
}

/// Plans a view's query in `ctx`, with its column list applied.
async fn plan_query(ctx: &SessionContext, query: &str, columns: &[String]) -> SqlResult<LogicalPlan> {
    let mut stmt = parse_statements(query)?.pop().ok_or_else(|| SqlError::internal("empty view query"))?;
    weir_planner::colnames::name_columns(&mut stmt);
    let plan = weir_planner::pgplan::apply(ctx.state().statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?)?;
    if columns.is_empty() {
        return Ok(plan);
    }
    let fields = plan.schema().columns();
    if columns.len() > fields.len() {
        return Err(SqlError::syntax("CREATE VIEW specifies more column names than columns"));
    }
    let exprs = fields.iter().enumerate().map(|(i, c)| if i < columns.len() { col(c.clone()).alias(&columns[i]) } else { col(c.clone()) });
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

impl Engine {
    pub fn plain_view(&self, name: &str) -> Option<Arc<PlainView>> {
        self.plain_views.read().get(name).cloned()
    }

    pub(crate) fn plain_views_in_order(&self) -> Vec<Arc<PlainView>> {
        let mut v: Vec<Arc<PlainView>> = self.plain_views.read().values().cloned().collect();
        v.sort_by_key(|v| v.id);
        v
    }

    /// The plan a statement reading view `v` uses, planned now (`depth`: how
    /// many views deep this read already is).
    pub(crate) async fn expand_view(self: &Arc<Self>, v: &PlainView, depth: usize, scope: Option<crate::engine::SessionScope>) -> SqlResult<LogicalPlan> {
        if depth >= MAX_VIEW_DEPTH {
            return Err(SqlError::new(SqlState::ProgramLimitExceeded, format!("view \"{}\" reads views {MAX_VIEW_DEPTH} deep", v.name))
                .with_hint("a view that reads itself through other views cannot be expanded; replace one of them"));
        }
        let plan = plan_query(&self.context_at(depth + 1, scope), &v.query, &v.columns).await?;
        fit_to_columns(plan, v)
    }

    /// Plans a view definition, giving the view (with id `id`) it defines.
    pub(crate) async fn prepare_plain_view(self: &Arc<Self>, cv: &CreateView, id: u64) -> SqlResult<PlainView> {
        let name = object_name(&cv.name)?;
        let query = cv.query.to_string();
        let columns: Vec<String> = cv.columns.iter().map(|c| ident_name(&c.name)).collect();
        let plan = plan_query(&self.context(), &query, &columns).await?;
        let schema = Arc::new(plan.schema().as_arrow().clone());
        Ok(PlainView { id, name, inputs: inputs_of(&cv.query), query, columns, schema })
    }

    /// CREATE [OR REPLACE] VIEW.
    pub async fn create_plain_view(self: &Arc<Self>, cv: &CreateView, sql: &str) -> SqlResult<()> {
        let mut writer = self.writer().await;
        let name = object_name(&cv.name)?;
        let old = self.plain_view(&name);
        if old.is_none() && !self.claim_name(&name, cv.if_not_exists)? {
            return Ok(());
        }
        if old.is_some() && !cv.or_replace {
            return Err(SqlError::new(SqlState::DuplicateTable, format!("relation \"{name}\" already exists")).with_hint("use CREATE OR REPLACE VIEW"));
        }
        let mut view = self.prepare_plain_view(cv, 0).await?;
        if view.inputs.contains(&name) {
            return Err(SqlError::new(SqlState::InvalidParameterValue, format!("view \"{name}\" cannot read itself")));
        }
        if let Some(old) = &old {
            check_replacement(old, &view)?;
            self.undefine(&mut writer, old.id)?;
        }
        view.id = self.define(&mut writer, ObjectKind::PlainView, &name, sql)?;
        self.plain_views.write().insert(name, Arc::new(view));
        Ok(())
    }

    /// Drops view `name` now (its dependents are the caller's business).
    pub(crate) fn drop_plain_view_now(&self, writer: &mut Writer<'_>, name: &str) -> SqlResult<()> {
        let Some(v) = self.plain_view(name) else { return Ok(()) };
        self.undefine(writer, v.id)?;
        self.plain_views.write().remove(name);
        Ok(())
    }
}

/// A view keeps the columns it was created with, as PostgreSQL's do: a
/// `*` over a relation that later gained columns still gives the first ones.
fn fit_to_columns(plan: LogicalPlan, v: &PlainView) -> SqlResult<LogicalPlan> {
    let have = plan.schema().columns();
    let stale = || {
        SqlError::new(SqlState::InvalidTableDefinition, format!("view \"{}\" no longer matches the relations it reads", v.name))
            .with_hint("CREATE OR REPLACE the view, or drop it")
    };
    if have.len() < v.schema.fields().len() {
        return Err(stale());
    }
    if have.len() == v.schema.fields().len() {
        return Ok(plan);
    }
    let exprs = v.schema.fields().iter().zip(have).map(|(f, c)| col(c).alias(f.name()));
    let fitted = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
    let types_match = fitted.schema().fields().iter().zip(v.schema.fields()).all(|(a, b)| a.data_type() == b.data_type());
    if types_match { Ok(fitted) } else { Err(stale()) }
}

/// OR REPLACE keeps every existing column: same names and types, in order.
fn check_replacement(old: &PlainView, new: &PlainView) -> SqlResult<()> {
    for (i, f) in old.schema.fields().iter().enumerate() {
        let Some(g) = new.schema.fields().get(i) else {
            return Err(SqlError::new(SqlState::InvalidTableDefinition, "cannot drop columns from view"));
        };
        if g.name() != f.name() {
            return Err(SqlError::new(SqlState::InvalidTableDefinition, format!("cannot change name of view column \"{}\" to \"{}\"", f.name(), g.name())));
        }
        if g.data_type() != f.data_type() {
            return Err(SqlError::new(SqlState::InvalidTableDefinition, format!("cannot change data type of view column \"{}\"", f.name())));
        }
    }
    Ok(())
}
