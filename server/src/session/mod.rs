//! One client session: runs parsed statements against the engine and says
//! what to send back. Knows nothing of the wire; `frontend` does.
//!
//! Reads are planned and run by DataFusion. Writes (INSERT, UPDATE, DELETE)
//! hold the engine's write lock from reading what they depend on until their
//! change is logged and applied.

pub mod copy;
pub mod cursors;
pub mod pgcompat;
mod schemas;
pub mod settings;
pub mod transaction;

use crate::engine::objects::plan_rows;
use crate::engine::{Change, Engine, plan_create_table};
use crate::session::copy::CopyFormat;
use crate::session::cursors::{Cursor, CursorOptions};
use crate::session::settings::Settings;
use crate::session::transaction::Transaction;
use crate::storage::table::Table;
use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::common::ParamValues;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{LogicalPlan, WriteOp};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{self, AssignmentTarget, FromTable, ObjectName, ObjectType, SelectItem, Statement, TableFactor, TableObject};
use futures::StreamExt;
use std::sync::Arc;
use weir_planner::ddl::ShowObjects;
use weir_planner::fetch::CursorStep;
use weir_planner::names::{ObjectKind, ident_name, object_name};
use weir_planner::pgdialect::{Rewritten, SessionValues};
use weir_planner::types::{is_jsonb, normalize_jsonb};
use weir_planner::{SqlError, SqlResult, SqlState, WeirStatement, parse_statements};

/// What a statement produced.
pub enum Output {
    /// Rows to send; `tag` is the command tag before the row count
    /// (`SELECT`, or `INSERT 0` for INSERT ... RETURNING).
    Rows {
        schema: SchemaRef,
        stream: SendableRecordBatchStream,
        tag: String,
    },
    /// A command tag, with the affected row count where the command has one.
    Command {
        tag: String,
        rows: Option<usize>,
    },
    /// `COPY ... TO STDOUT`: rows to send as COPY data.
    CopyOut {
        schema: SchemaRef,
        stream: SendableRecordBatchStream,
        format: CopyFormat,
    },
    /// `COPY table FROM STDIN`: the client sends the rows next, for
    /// [`Session::copy_in`]; `columns` are the table's columns they fill.
    CopyIn {
        table: Arc<Table>,
        columns: Vec<usize>,
        format: CopyFormat,
    },
    /// A transaction began or ended (the tag is sent as is).
    TransactionStart,
    TransactionEnd {
        tag: String,
    },
}

/// The shape of a statement before it runs: parameter types and result columns.
#[derive(Debug, Clone, Default)]
pub struct Description {
    pub params: Vec<Option<DataType>>,
    /// Parameters that are `jsonb` (Arrow holds them as text).
    pub jsonb_params: Vec<usize>,
    pub schema: Option<SchemaRef>,
}

pub struct Session {
    engine: Arc<Engine>,
    ctx: SessionContext,
    pub settings: Settings,
    /// The user the client connected as, and its backend pid.
    pub user: String,
    pub pid: i32,
    /// The open transaction block, if any, and the table contents it wrote (read by `ctx`).
    txn: Option<Transaction>,
    /// What the session's queries read of it: the open transaction's tables, the search path, settings.
    scope: crate::engine::SessionScope,
    cursors: std::collections::HashMap<String, Cursor>,
}

/// What catalog rewrites read from the session (weir_planner::pgdialect).
struct Values<'a> {
    settings: &'a mut Settings,
    user: &'a str,
    pid: i32,
    engine: &'a Engine,
}

impl SessionValues for Values<'_> {
    fn setting(&self, name: &str) -> Option<String> {
        self.settings.get(name).map(String::from)
    }
    fn set_setting(&mut self, name: &str, value: &str) -> SqlResult<()> {
        self.settings.set(name, value.to_string())
    }
    fn user(&self) -> String {
        self.user.to_string()
    }
    fn backend_pid(&self) -> i32 {
        self.pid
    }
    fn columns(&self, relation: &str) -> Option<Vec<String>> {
        let relations = crate::engine::pg_catalog::user_relations(self.engine);
        let r = relations.iter().find(|r| r.name == relation || format!("{}.{}", r.nspname, r.name) == relation)?;
        Some(r.schema.fields().iter().map(|f| f.name().clone()).collect())
    }
}

const HIT: &str = "__weir_hit";

/// The setting `SHOW a b c` names: a few PostgreSQL forms are several
/// words (`SHOW TRANSACTION ISOLATION LEVEL`); otherwise parts are dotted.
fn setting_name(parts: &[ast::Ident]) -> String {
    let words: Vec<String> = parts.iter().map(|i| i.value.to_lowercase()).collect();
    match words.join(" ").as_str() {
        w @ ("transaction isolation level" | "time zone" | "session authorization") => w.to_string(),
        _ => words.join("."),
    }
}

fn no_cursor(name: &str) -> SqlError {
    SqlError::new(SqlState::InvalidCursorName, format!("cursor \"{name}\" does not exist"))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn one_column(name: &str, values: Vec<String>) -> SqlResult<(SchemaRef, Vec<RecordBatch>)> {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(values))])?;
    Ok((schema, vec![batch]))
}

fn rows_output(schema: SchemaRef, batches: Vec<RecordBatch>, tag: &str) -> Output {
    let stream = futures::stream::iter(batches.into_iter().map(Ok));
    Output::Rows { schema: schema.clone(), stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)), tag: tag.into() }
}

/// The columns of a query known to return no rows (as text).
fn empty_result(r: &Rewritten) -> Option<SchemaRef> {
    let names = r.names.as_ref().filter(|_| r.empty)?;
    Some(Arc::new(Schema::new(names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect::<Vec<_>>())))
}

/// `schema` with PostgreSQL's column names (which may repeat, as in
/// `SELECT 1, 2`, where a DataFusion plan's may not), when there are as many.
/// The fields are nullable: DataFusion may declare a column non-null that a
/// scalar subquery fills with NULL, and the renamed batches are checked.
fn named(schema: &SchemaRef, names: Option<&[String]>) -> SchemaRef {
    match names {
        Some(names) if names.len() == schema.fields().len() && names.iter().zip(schema.fields()).any(|(n, f)| n != f.name()) => {
            Arc::new(Schema::new_with_metadata(
                schema.fields().iter().zip(names).map(|(f, n)| f.as_ref().clone().with_name(n).with_nullable(true)).collect::<Vec<_>>(),
                schema.metadata().clone(),
            ))
        }
        _ => schema.clone(),
    }
}

/// A query's rows under PostgreSQL's column names.
fn output_named(out: Output, names: Option<&[String]>) -> Output {
    let Output::Rows { schema, stream, tag } = out else { return out };
    let renamed = named(&schema, names);
    if Arc::ptr_eq(&renamed, &schema) {
        return Output::Rows { schema, stream, tag };
    }
    let to = renamed.clone();
    let stream = stream.map(move |b| b.and_then(|b| Ok(RecordBatch::try_new(to.clone(), b.columns().to_vec())?)));
    Output::Rows { schema: renamed.clone(), stream: Box::pin(RecordBatchStreamAdapter::new(renamed, stream)), tag }
}

fn bytea_column(c: &ArrayRef) -> SqlResult<arrow::array::BinaryArray> {
    let text = c.as_any().downcast_ref::<StringArray>().ok_or_else(|| SqlError::internal("bytea input is not text"))?;
    text.iter()
        .map(|v| v.map(|s| crate::session::pgcompat::bytea_from_text(s).map_err(|e| SqlError::new(SqlState::InvalidTextRepresentation, e))).transpose())
        .collect()
}

/// An INSERT as DataFusion plans it: without RETURNING (weir evaluates that
/// itself) and, as in PostgreSQL, with VALUES rows shorter than the table
/// filling its first columns.
fn plain_insert(mut ins: ast::Insert, table: &Table) -> ast::Insert {
    ins.returning = None;
    if ins.columns.is_empty()
        && let Some(ast::SetExpr::Values(v)) = ins.source.as_ref().map(|q| q.body.as_ref())
    {
        let width = v.rows.iter().map(|r| r.len()).max().unwrap_or(0);
        if width < table.schema.fields().len() {
            ins.columns = table.schema.fields().iter().take(width).map(|f| ObjectName::from(vec![ast::Ident::with_quote('"', f.name())])).collect();
        }
    }
    ins
}

/// Indexes (0-based) of the `$n` placeholders that an INSERT ... VALUES puts
/// straight into `jsonb` columns, so clients are told to send jsonb.
fn jsonb_placeholders(ins: &ast::Insert, table: &Table) -> Vec<usize> {
    let Some(ast::SetExpr::Values(v)) = ins.source.as_ref().map(|q| q.body.as_ref()) else { return vec![] };
    let columns: Vec<usize> = if ins.columns.is_empty() {
        (0..table.schema.fields().len()).collect()
    } else {
        ins.columns.iter().filter_map(|c| c.0.last().and_then(|p| p.as_ident()).and_then(|i| table.schema.index_of(&ident_name(i)).ok())).collect()
    };
    let mut out = Vec::new();
    for row in &v.rows {
        for (expr, col) in row.iter().zip(&columns) {
            if let ast::Expr::Value(v) = expr
                && let ast::Value::Placeholder(p) = &v.value
                && let Some(n) = p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1)
                && is_jsonb(table.schema.field(*col))
            {
                out.push(n - 1);
            }
        }
    }
    out
}

/// Casts `batch` to exactly the table's schema (names, types, nullability);
/// `jsonb` values are validated and normalized.
/// A value too large for an integer column, as PostgreSQL says it.
fn out_of_range(to: &DataType) -> SqlError {
    let what = match to {
        DataType::Int16 => "smallint",
        DataType::Int32 => "integer",
        _ => "bigint",
    };
    SqlError::new(SqlState::NumericValueOutOfRange, format!("{what} out of range"))
}

/// Text for a `varchar(n)` or `char(n)` column: longer values fail with
/// 22001, unless what passes `n` is only spaces, which PostgreSQL cuts off.
fn fit_length(c: ArrayRef, f: &Field) -> SqlResult<ArrayRef> {
    let Some((kind, n)) = f.metadata().get(weir_planner::types::PG_TYPE_KEY).and_then(|t| {
        let (kind, rest) = t.split_once('(')?;
        Some((kind.to_string(), rest.strip_suffix(')')?.parse::<usize>().ok()?))
    }) else {
        return Ok(c);
    };
    let Some(text) = c.as_any().downcast_ref::<StringArray>() else { return Ok(c) };
    if text.iter().flatten().all(|s| s.chars().count() <= n) {
        return Ok(c);
    }
    let fitted: StringArray = text
        .iter()
        .map(|v| {
            v.map(|s| match s.char_indices().nth(n) {
                Some((at, _)) if s[at..].chars().all(|c| c == ' ') => Ok(s[..at].to_string()),
                Some(_) => {
                    let name = if kind == "bpchar" { "character" } else { "character varying" };
                    Err(SqlError::new(SqlState::StringDataRightTruncation, format!("value too long for type {name}({n})")))
                }
                None => Ok(s.to_string()),
            })
            .transpose()
        })
        .collect::<SqlResult<_>>()?;
    Ok(Arc::new(fitted))
}

fn conform(table: &Table, batch: &RecordBatch, time_zone: &str) -> SqlResult<RecordBatch> {
    let opts = CastOptions { safe: false, ..Default::default() };
    let cols = table
        .schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| {
            let c = match (c.data_type(), f.data_type()) {
                (a, b) if a == b => c.clone(),
                (DataType::Utf8, DataType::Binary) => Arc::new(bytea_column(c)?) as ArrayRef,
                // Text without an offset is a time in the session's TimeZone.
                (DataType::Utf8, DataType::Timestamp(unit, Some(_))) => {
                    let local = cast_with_options(c, &DataType::Timestamp(*unit, Some(time_zone.into())), &opts)?;
                    cast_with_options(&local, f.data_type(), &opts)?
                }
                (DataType::Decimal128(..) | DataType::Float32 | DataType::Float64, to) if to.is_integer() => {
                    cast_with_options(&weir_planner::pgfunctions::round_array_for_int(c)?, to, &opts).map_err(|_| out_of_range(to))?
                }
                _ => cast_with_options(c, f.data_type(), &opts)?,
            };
            let c = fit_length(c, f)?;
            if !is_jsonb(f) {
                return Ok(c);
            }
            let text = c.as_any().downcast_ref::<StringArray>().ok_or_else(|| SqlError::internal("jsonb column is not text"))?;
            let normalized: StringArray = text.iter().map(|v| v.map(normalize_jsonb).transpose()).collect::<SqlResult<_>>()?;
            Ok(Arc::new(normalized) as ArrayRef)
        })
        .collect::<SqlResult<Vec<_>>>()?;
    RecordBatch::try_new_with_options(table.schema.clone(), cols, &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()))).map_err(
        |e| {
            if e.to_string().contains("non-nullable") {
                let col = table.schema.fields().iter().zip(batch.columns()).find(|(f, c)| !f.is_nullable() && c.null_count() > 0);
                let name = col.map(|(f, _)| f.name().clone()).unwrap_or_default();
                SqlError::new(
                    SqlState::NotNullViolation,
                    format!("null value in column \"{name}\" of relation \"{}\" violates not-null constraint", table.name),
                )
            } else {
                SqlError::from(e)
            }
        },
    )
}

impl Session {
    pub fn new(engine: Arc<Engine>) -> Self {
        let scope = crate::engine::SessionScope::default();
        let ctx = engine.session_context(scope.clone());
        Session {
            engine,
            ctx,
            settings: Settings::default(),
            user: crate::engine::pg_catalog::OWNER.into(),
            pid: 0,
            txn: None,
            scope,
            cursors: Default::default(),
        }
    }

    /// Rewrites the PostgreSQL forms DataFusion does not plan and names the
    /// result's columns as PostgreSQL does. With `apply` false (describing,
    /// not running), `set_config` changes nothing.
    fn rewrite_pg(&mut self, stmt: &mut Statement, apply: bool) -> SqlResult<Rewritten> {
        let mut scratch = self.settings.clone();
        let settings = if apply { &mut self.settings } else { &mut scratch };
        let mut values = Values { settings, user: &self.user, pid: self.pid, engine: &self.engine };
        weir_planner::pgdialect::rewrite(stmt, &mut values)
    }

    /// A table about to be written.
    fn table(&self, name: &ObjectName) -> SqlResult<Arc<Table>> {
        let n = object_name(name)?;
        let t = self.engine.table(&n).ok_or_else(|| SqlError::undefined_table(&n))?;
        if let Some(m) = self.engine.mirror_of(&t) {
            return Err(SqlError::unsupported(format!("table \"{n}\" mirrors {}; weir does not write to it", m.describe()))
                .with_hint("change the rows in PostgreSQL; weir loads them again at the next refresh"));
        }
        Ok(t)
    }

    /// Plans a statement, with its types resolved (DataFusion's analyzer), so
    /// the columns described are the columns sent (`CASE ... 1 ELSE 2.5` is numeric).
    async fn plan(&self, stmt: Statement) -> SqlResult<LogicalPlan> {
        let state = self.ctx.state();
        let plan = crate::session::pgcompat::rewrite(state.statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?)?;
        Ok(state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})?)
    }

    async fn plan_sql(&self, sql: &str) -> SqlResult<LogicalPlan> {
        let stmt = parse_statements(sql)?.pop().ok_or_else(|| SqlError::internal("empty rewrite"))?;
        self.plan(stmt).await
    }

    async fn collect(&self, plan: LogicalPlan, params: &ParamValues) -> SqlResult<Vec<RecordBatch>> {
        let plan = plan.with_param_values(params.clone())?;
        Ok(self.ctx.execute_logical_plan(plan).await?.collect().await?)
    }

    /// Runs a cursor's query: its rows count against the query memory pool
    /// while it is open, so cursors over more rows than the pool holds fail
    /// with 53200 instead of taking the server's memory.
    async fn collect_for_cursor(&self, plan: LogicalPlan, params: &ParamValues) -> SqlResult<(Vec<RecordBatch>, MemoryReservation)> {
        let plan = plan.with_param_values(params.clone())?;
        let mut stream = self.ctx.execute_logical_plan(plan).await?.execute_stream().await?;
        let held = MemoryConsumer::new("a cursor's rows").register(&self.ctx.runtime_env().memory_pool);
        let mut batches = Vec::new();
        while let Some(b) = stream.next().await {
            let b = b?;
            held.try_grow(b.get_array_memory_size()).map_err(|e| {
                SqlError::from(e).with_hint("weir keeps a cursor's rows in memory: a plain SELECT streams them instead, or narrow the cursor's query")
            })?;
            batches.push(b);
        }
        Ok((batches, held))
    }

    /// Runs one statement, PostgreSQL's or weir's own; `sql` is its text.
    /// A statement that fails inside a transaction block fails the block.
    pub async fn execute_weir(&mut self, mut stmt: WeirStatement, sql: &str, params: &ParamValues) -> SqlResult<Output> {
        self.publish_scope();
        let out = match self.qualify(&mut stmt, sql) {
            Ok(sql) => self.run_weir(stmt, &sql, params).await,
            Err(e) => Err(e),
        };
        if out.is_err()
            && let Some(t) = self.txn.as_mut()
        {
            t.failed = true;
        }
        out
    }

    /// The session's TimeZone as Arrow names it.
    fn time_zone_name(&self) -> String {
        self.settings.time_zone().map_or_else(|| "+00:00".to_string(), |tz| tz.name().to_string())
    }

    /// Makes DataFusion read timestamptz input in the session's TimeZone.
    fn sync_time_zone(&self) {
        let want = self.time_zone_name();
        let state = self.ctx.state_ref();
        let mut state = state.write();
        let tz = &mut state.config_mut().options_mut().execution.time_zone;
        if tz.as_deref() != Some(want.as_str()) {
            *tz = Some(want);
        }
    }

    async fn run_weir(&mut self, stmt: WeirStatement, sql: &str, params: &ParamValues) -> SqlResult<Output> {
        self.sync_time_zone();
        let command = |tag: &str| Ok(Output::Command { tag: tag.into(), rows: None });
        match stmt {
            WeirStatement::Sql(mut s) => {
                let rewritten = self.rewrite_pg(&mut s, true)?;
                if let Some(schema) = empty_result(&rewritten) {
                    return Ok(rows_output(schema, vec![], "SELECT"));
                }
                Ok(output_named(self.execute(s, params).await?, rewritten.names.as_deref()))
            }
            WeirStatement::CreateSource(cs) => {
                self.engine.create_source(&cs, sql).await?;
                command("CREATE SOURCE")
            }
            WeirStatement::CreateView(cv) => {
                self.engine.create_view(&cv, sql).await?;
                command("CREATE MATERIALIZED VIEW")
            }
            WeirStatement::CreateSink(cs) => {
                self.engine.create_sink(&cs, sql).await?;
                command("CREATE SINK")
            }
            WeirStatement::DropSink { names, if_exists } => {
                let names = names.iter().map(object_name).collect::<SqlResult<Vec<_>>>()?;
                self.engine.drop_sinks(&names, if_exists).await?;
                command("DROP SINK")
            }
            WeirStatement::DropSource { names, if_exists, cascade } => {
                let names = names.iter().map(object_name).collect::<SqlResult<Vec<_>>>()?;
                self.engine.drop_streaming(ObjectKind::Source, &names, if_exists, cascade).await?;
                command("DROP SOURCE")
            }
            WeirStatement::ExplainCreateView(cv) => {
                let (schema, batch) = plan_rows(&self.engine.plan_view(&cv).await?)?;
                Ok(rows_output(schema, vec![batch], "EXPLAIN"))
            }
            WeirStatement::ExplainView(name) => {
                let (schema, batch) = plan_rows(&self.engine.view_plan(&object_name(&name)?)?)?;
                Ok(rows_output(schema, vec![batch], "EXPLAIN"))
            }
            WeirStatement::Show(what) => {
                let (schema, batch) = self.show_objects(what)?;
                Ok(rows_output(schema, vec![batch], "SHOW"))
            }
            WeirStatement::Fetch(step) => self.fetch(step),
        }
    }

    fn show_objects(&self, what: ShowObjects) -> SqlResult<(SchemaRef, RecordBatch)> {
        match what {
            ShowObjects::Sources => self.engine.show_sources(),
            ShowObjects::MaterializedViews => self.engine.show_views(),
            ShowObjects::Sinks => self.engine.show_sinks(),
            ShowObjects::Connectors => crate::engine::objects::show_connectors(),
        }
    }

    /// Parameter types and result columns of any statement, without running it.
    pub async fn describe_weir(&mut self, stmt: &WeirStatement) -> SqlResult<Description> {
        self.publish_scope();
        let mut stmt = stmt.clone();
        self.qualify(&mut stmt, "")?;
        match &stmt {
            WeirStatement::Sql(s) => {
                let mut s = s.clone();
                let rewritten = self.rewrite_pg(&mut s, false)?;
                if let Some(schema) = empty_result(&rewritten) {
                    return Ok(Description { schema: Some(schema), ..Default::default() });
                }
                let mut d = self.describe(&s).await?;
                d.schema = d.schema.map(|schema| named(&schema, rewritten.names.as_deref()));
                Ok(d)
            }
            WeirStatement::ExplainCreateView(_) | WeirStatement::ExplainView(_) => {
                Ok(Description { schema: Some(one_column("QUERY PLAN", vec![])?.0), ..Default::default() })
            }
            WeirStatement::Show(what) => Ok(Description { schema: Some(self.show_objects(*what)?.0), ..Default::default() }),
            WeirStatement::Fetch(f) if !f.is_move => Ok(Description { schema: self.cursor_schema(&ident_name(&f.cursor)), ..Default::default() }),
            _ => Ok(Description::default()),
        }
    }

    /// Parameter types and result columns of a statement, without running it.
    pub async fn describe(&self, stmt: &Statement) -> SqlResult<Description> {
        let params_of = |plan: &LogicalPlan| -> SqlResult<Vec<Option<DataType>>> {
            let types = plan.get_parameter_types()?;
            let mut out = vec![None; types.len()];
            for (k, v) in types {
                if let Some(i) = k.trim_start_matches('$').parse::<usize>().ok().filter(|i| *i >= 1 && *i <= out.len()) {
                    out[i - 1] = v;
                }
            }
            Ok(out)
        };
        match stmt {
            Statement::Query(_) | Statement::Explain { .. } => {
                let plan = self.plan(stmt.clone()).await?;
                Ok(Description { params: params_of(&plan)?, schema: Some(Arc::new(plan.schema().as_arrow().clone())), ..Default::default() })
            }
            Statement::Insert(ins) => {
                let TableObject::TableName(name) = &ins.table else {
                    return Err(SqlError::unsupported("INSERT INTO a table function is not supported"));
                };
                let table = self.table(name)?;
                let bare = plain_insert(ins.clone(), &table);
                let jsonb_params = jsonb_placeholders(&bare, &table);
                let plan = self.plan(Statement::Insert(bare)).await?;
                let schema = match &ins.returning {
                    Some(items) => Some(self.returning_schema(&table, items).await?),
                    None => None,
                };
                Ok(Description { params: params_of(&plan)?, schema, jsonb_params })
            }
            Statement::Update(u) => {
                let (table, sql) = self.update_query(u)?;
                let plan = self.plan_sql(&sql).await?;
                let schema = match &u.returning {
                    Some(items) => Some(self.returning_schema(&table, items).await?),
                    None => None,
                };
                Ok(Description { params: params_of(&plan)?, schema, ..Default::default() })
            }
            Statement::Delete(d) => {
                let (table, sql) = self.delete_query(d)?;
                let plan = self.plan_sql(&sql).await?;
                let schema = match &d.returning {
                    Some(items) => Some(self.returning_schema(&table, items).await?),
                    None => None,
                };
                Ok(Description { params: params_of(&plan)?, schema, ..Default::default() })
            }
            Statement::ShowVariable { variable } => {
                let name = setting_name(variable);
                let schema = match name.as_str() {
                    "all" => Settings::show_all_schema(),
                    _ => one_column(&Settings::column_name(&name), vec![])?.0,
                };
                Ok(Description { schema: Some(schema), ..Default::default() })
            }
            Statement::ShowTables { .. } => Ok(Description { schema: Some(one_column("name", vec![])?.0), ..Default::default() }),
            _ => Ok(Description::default()),
        }
    }

    /// Runs one statement with the given parameter values.
    pub async fn execute(&mut self, stmt: Statement, params: &ParamValues) -> SqlResult<Output> {
        match stmt {
            Statement::Query(_) | Statement::Explain { .. } => {
                let plan = self.plan(stmt).await?.with_param_values(params.clone())?;
                let df = self.ctx.execute_logical_plan(plan).await?;
                let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
                let stream = df.execute_stream().await?;
                Ok(Output::Rows { schema, stream, tag: "SELECT".into() })
            }
            Statement::CreateTable(ct) => self.create_table(ct, params).await,
            Statement::Copy { source, to, target, options, legacy_options, .. } => {
                let format = CopyFormat::of(&options, &legacy_options)?;
                self.copy(source, to, target, format, params).await
            }
            Statement::CreateView(cv) if !cv.materialized => {
                let sql = Statement::CreateView(cv.clone()).to_string();
                self.engine.create_plain_view(&cv, &sql).await?;
                Ok(Output::Command { tag: "CREATE VIEW".into(), rows: None })
            }
            Statement::Insert(ins) => self.insert(ins, params).await,
            Statement::Update(u) => self.update(u, params).await,
            Statement::Delete(d) => self.delete(d, params).await,
            Statement::Drop { object_type: ObjectType::Schema, if_exists, names, cascade, .. } => self.drop_schemas(&names, if_exists, cascade).await,
            Statement::Drop { object_type, if_exists, names, cascade, .. } => self.drop(object_type, if_exists, names, cascade).await,
            Statement::CreateSchema { schema_name, if_not_exists, .. } => self.create_schema(&schema_name, if_not_exists).await,
            Statement::ShowTables { .. } => {
                let (schema, batches) = one_column("name", self.engine.table_names())?;
                Ok(rows_output(schema, batches, "SHOW"))
            }
            Statement::ShowVariable { variable } => {
                let name = setting_name(&variable);
                let (schema, batches) = self.settings.show(&name)?;
                Ok(rows_output(schema, batches, "SHOW"))
            }
            Statement::Set(set) => self.set(&set),
            Statement::Reset(r) => {
                self.settings.reset(&r.reset)?;
                Ok(Output::Command { tag: "RESET".into(), rows: None })
            }
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. } => self.transaction_control(stmt).await,
            Statement::Declare { .. } | Statement::Close { .. } => self.cursor_statement(stmt, params).await,
            Statement::Discard { .. } => Ok(Output::Command { tag: "DISCARD ALL".into(), rows: None }),
            Statement::Deallocate { .. } => Ok(Output::Command { tag: "DEALLOCATE".into(), rows: None }),
            other => {
                let kind = other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ").to_uppercase();
                Err(SqlError::unsupported(format!("{kind} is not supported"))
                    .with_hint("weir supports SELECT, CREATE/DROP TABLE, INSERT, UPDATE, DELETE, SET, SHOW and transactions control statements"))
            }
        }
    }

    async fn create_table(&mut self, ct: ast::CreateTable, params: &ParamValues) -> SqlResult<Output> {
        let name = object_name(&ct.name)?;
        if !self.engine.claim_name(&name, ct.if_not_exists)? {
            return Ok(Output::Command { tag: "CREATE TABLE".into(), rows: None });
        }
        let query = ct.query.clone();
        let mut stmt = Statement::CreateTable(ct);
        let sql = stmt.to_string();
        let mirror = crate::engine::mirror::take_options(&mut stmt)?;
        let (schema, primary_key) = plan_create_table(&self.ctx, stmt).await?;
        if let Some(spec) = mirror {
            if query.is_some() {
                return Err(SqlError::unsupported("a mirrored table takes its rows from PostgreSQL, not from AS SELECT"));
            }
            // The first load fails the CREATE if PostgreSQL or the table is not there.
            let rows = crate::engine::mirror::load(&spec, &schema).await?;
            let mut writer = self.engine.writer().await;
            self.fresh_snapshot();
            self.engine.apply(&mut writer, Change::CreateTable { name: name.clone(), sql, schema, primary_key })?;
            let table = self.engine.table(&name).ok_or_else(|| SqlError::internal("table vanished"))?;
            self.engine.set_mirror(&table, spec);
            self.engine.apply(&mut writer, Change::Replace { table: table.clone(), batches: vec![rows] })?;
            self.engine.start_mirror(table, false);
            return Ok(Output::Command { tag: "CREATE TABLE".into(), rows: None });
        }
        let mut writer = self.engine.writer().await;
        self.fresh_snapshot();
        self.engine.apply(&mut writer, Change::CreateTable { name: name.clone(), sql, schema, primary_key })?;
        let Some(query) = query else {
            return Ok(Output::Command { tag: "CREATE TABLE".into(), rows: None });
        };
        // CREATE TABLE ... AS: the definition is the query's shape; its rows go in now.
        let table = self.engine.table(&name).ok_or_else(|| SqlError::internal("table vanished"))?;
        let batches = self.collect(self.plan(Statement::Query(query)).await?, params).await?;
        let all = arrow::compute::concat_batches(&batches.first().map(|b| b.schema()).unwrap_or(table.schema.clone()), &batches)?;
        let batch = conform(&table, &all, &self.time_zone_name())?;
        let n = batch.num_rows();
        self.engine.apply(&mut writer, Change::Append { table, batch })?;
        Ok(Output::Command { tag: "SELECT".into(), rows: Some(n) })
    }

    /// SET: the current transaction's modes act in a block and last only as
    /// long as it; SET LOCAL lasts until the block ends (outside one it does nothing).
    fn set(&mut self, set: &ast::Set) -> SqlResult<Output> {
        let before = self.settings.clone();
        self.settings.apply_set(set)?;
        let target = Settings::target(set);
        let local = target.as_ref().is_some_and(|(_, local)| *local);
        match self.txn.as_mut() {
            Some(txn) => {
                txn.read_only = self.settings.get("transaction_read_only") == Some("on");
                if let Some((name, _)) = target {
                    txn.track_local(&name, local, before.get(&name), self.settings.get(&name));
                }
            }
            None if local => self.settings = before,
            None => self.settings.end_block(),
        }
        Ok(Output::Command { tag: "SET".into(), rows: None })
    }

    /// BEGIN, COMMIT, ROLLBACK [TO SAVEPOINT], SAVEPOINT, RELEASE SAVEPOINT.
    async fn transaction_control(&mut self, stmt: Statement) -> SqlResult<Output> {
        match stmt {
            Statement::StartTransaction { modes, .. } => {
                if self.txn.is_none() {
                    let before = self.settings.clone();
                    self.settings.begin_block(&modes)?;
                    self.txn = Some(Transaction::new(self.settings.get("transaction_read_only") == Some("on"), before));
                }
                Ok(Output::TransactionStart)
            }
            Statement::Commit { .. } => self.commit().await,
            Statement::Rollback { savepoint: Some(name), .. } => {
                self.open_transaction("ROLLBACK TO SAVEPOINT")?.rollback_to(&ident_name(&name))?;
                self.refresh_overlay();
                Ok(Output::Command { tag: "ROLLBACK".into(), rows: None })
            }
            Statement::Rollback { .. } => {
                if let Some(txn) = self.txn.take() {
                    self.settings = txn.settings_before;
                }
                self.end_transaction();
                Ok(Output::TransactionEnd { tag: "ROLLBACK".into() })
            }
            Statement::Savepoint { name } => {
                self.open_transaction("SAVEPOINT")?.savepoint(&ident_name(&name));
                Ok(Output::Command { tag: "SAVEPOINT".into(), rows: None })
            }
            Statement::ReleaseSavepoint { name } => {
                self.open_transaction("RELEASE SAVEPOINT")?.release(&ident_name(&name))?;
                Ok(Output::Command { tag: "RELEASE".into(), rows: None })
            }
            _ => Err(SqlError::internal("not a transaction statement")),
        }
    }

    /// DECLARE ... CURSOR, CLOSE.
    async fn cursor_statement(&mut self, stmt: Statement, params: &ParamValues) -> SqlResult<Output> {
        match stmt {
            Statement::Declare { stmts } => self.declare(stmts, params).await,
            Statement::Close { cursor } => {
                let tag = match cursor {
                    ast::CloseCursor::All => {
                        self.cursors.clear();
                        "CLOSE CURSOR ALL"
                    }
                    ast::CloseCursor::Specific { name } => {
                        let name = ident_name(&name);
                        self.cursors.remove(&name).ok_or_else(|| no_cursor(&name))?;
                        "CLOSE CURSOR"
                    }
                };
                Ok(Output::Command { tag: tag.into(), rows: None })
            }
            _ => Err(SqlError::internal("not a cursor statement")),
        }
    }

    /// FETCH: the rows of one step; MOVE: the step, their count in the tag.
    fn fetch(&mut self, step: CursorStep) -> SqlResult<Output> {
        let name = ident_name(&step.cursor);
        let cursor = self.cursors.get_mut(&name).ok_or_else(|| no_cursor(&name))?;
        let taken = cursor.step(&name, step.direction, step.is_move)?;
        if step.is_move {
            return Ok(Output::Command { tag: "MOVE".into(), rows: Some(taken.len as usize) });
        }
        Ok(rows_output(cursor.schema.clone(), cursor.rows(taken)?, "FETCH"))
    }

    /// Whether a simple-query `stmt` sends binary rows: a FETCH from a BINARY cursor, as in PostgreSQL.
    pub fn fetches_binary(&self, stmt: &WeirStatement) -> bool {
        matches!(stmt, WeirStatement::Fetch(f) if !f.is_move && self.cursors.get(&ident_name(&f.cursor)).is_some_and(|c| c.binary))
    }

    fn open_transaction(&mut self, what: &str) -> SqlResult<&mut Transaction> {
        self.txn.as_mut().ok_or_else(|| SqlError::new(SqlState::NoActiveSqlTransaction, format!("{what} can only be used in transaction blocks")))
    }

    fn refresh_overlay(&self) {
        *self.scope.overlay.write() = self.txn.as_ref().map(|t| t.overlay()).unwrap_or_default();
    }

    fn end_transaction(&mut self) {
        self.txn = None;
        self.settings.end_block();
        self.refresh_overlay();
        self.cursors.retain(|_, c| c.hold);
    }

    /// The client saw the block fail (an error while its rows streamed out).
    pub fn fail_block(&mut self) {
        if let Some(t) = self.txn.as_mut() {
            t.failed = true;
        }
    }

    /// Whether a transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    /// The columns of cursor `name`, if it is open (a client may Describe it as a portal).
    pub fn cursor_schema(&self, name: &str) -> Option<SchemaRef> {
        self.cursors.get(name).map(|c| c.schema.clone())
    }

    /// DECLARE ... CURSOR: runs the query now; FETCH hands its rows out.
    async fn declare(&mut self, stmts: Vec<ast::Declare>, params: &ParamValues) -> SqlResult<Output> {
        for d in stmts {
            let Some(query) = d.for_query else { return Err(SqlError::unsupported("DECLARE without a cursor query is not supported")) };
            let options = CursorOptions { hold: d.hold == Some(true), binary: d.binary == Some(true), no_scroll: d.scroll == Some(false) };
            let hold = options.hold;
            if !hold && self.txn.is_none() {
                return Err(SqlError::new(SqlState::NoActiveSqlTransaction, "DECLARE CURSOR can only be used in transaction blocks"));
            }
            for name in &d.names {
                let name = ident_name(name);
                if self.cursors.contains_key(&name) {
                    return Err(SqlError::new(SqlState::DuplicateCursor, format!("cursor \"{name}\" already exists")));
                }
                let plan = self.plan(Statement::Query(query.clone())).await?;
                let schema: SchemaRef = Arc::new(plan.schema().as_arrow().clone());
                let (batches, held) = self.collect_for_cursor(plan, params).await?;
                self.cursors.insert(name, Cursor::new(schema, batches, options).holding(held));
            }
        }
        Ok(Output::Command { tag: "DECLARE CURSOR".into(), rows: None })
    }

    /// COMMIT: every table the transaction wrote, in one log write; a
    /// failed transaction rolls back instead, as in PostgreSQL.
    async fn commit(&mut self) -> SqlResult<Output> {
        let Some(txn) = self.txn.take() else { return Ok(Output::TransactionEnd { tag: "COMMIT".into() }) };
        if txn.failed {
            self.settings = txn.settings_before;
            self.end_transaction();
            return Ok(Output::TransactionEnd { tag: "ROLLBACK".into() });
        }
        for (name, was) in &txn.locals {
            self.settings.put_back(name, was.clone());
        }
        self.end_transaction();
        if !txn.writes.is_empty() {
            let mut writer = self.engine.writer().await;
            self.fresh_snapshot();
            let tables = txn.writes.into_values().map(|p| (p.table, p.base, p.contents)).collect();
            self.engine.apply_transaction(&mut writer, tables)?;
        }
        Ok(Output::TransactionEnd { tag: "COMMIT".into() })
    }

    /// A DML write: applied now, or in an open transaction, kept in its
    /// copy of the table until COMMIT. `what` names the statement.
    fn write(&mut self, writer: &mut crate::engine::Writer<'_>, change: Change, what: &str) -> SqlResult<()> {
        // A statement outside a block is a transaction of its own, in the default mode.
        let read_only = match &self.txn {
            Some(txn) => txn.read_only,
            None => self.settings.get("default_transaction_read_only") == Some("on"),
        };
        if read_only {
            return Err(SqlError::new(SqlState::ReadOnlySqlTransaction, format!("cannot execute {what} in a read-only transaction")));
        }
        let Some(txn) = self.txn.as_mut() else { return self.engine.apply(writer, change) };
        match change {
            Change::Append { table, batch } => txn.append(&table, batch)?,
            Change::Replace { table, batches } => txn.replace(&table, &batches)?,
            other => return self.engine.apply(writer, other),
        }
        self.refresh_overlay();
        Ok(())
    }

    /// COPY: out to the client from a table or query, or in to a table.
    async fn copy(&mut self, source: ast::CopySource, to: bool, target: ast::CopyTarget, format: CopyFormat, params: &ParamValues) -> SqlResult<Output> {
        let wanted = if to { ast::CopyTarget::Stdout } else { ast::CopyTarget::Stdin };
        if target != wanted {
            return Err(SqlError::unsupported(format!("COPY {} {target} is not supported", if to { "TO" } else { "FROM" }))
                .with_hint("weir copies only to STDOUT and from STDIN; psql's \\copy reads and writes files on the client"));
        }
        let query = match (source, to) {
            (ast::CopySource::Query(q), true) => *q,
            (ast::CopySource::Table { table_name, columns }, true) => {
                let cols = if columns.is_empty() { "*".to_string() } else { columns.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ") };
                let sql = format!("SELECT {cols} FROM {table_name}");
                let Some(Statement::Query(q)) = parse_statements(&sql)?.pop() else { return Err(SqlError::internal("COPY query")) };
                *q
            }
            (ast::CopySource::Table { table_name, columns }, false) => {
                let table = self.table(&table_name)?;
                let columns = columns
                    .iter()
                    .map(|c| {
                        table
                            .schema
                            .index_of(&ident_name(c))
                            .map_err(|_| SqlError::new(SqlState::UndefinedColumn, format!("column \"{c}\" of relation \"{}\" does not exist", table.name)))
                    })
                    .collect::<SqlResult<Vec<_>>>()?;
                let columns = if columns.is_empty() { (0..table.schema.fields().len()).collect() } else { columns };
                return Ok(Output::CopyIn { table, columns, format });
            }
            (ast::CopySource::Query(_), false) => return Err(SqlError::syntax("COPY FROM needs a table, not a query")),
        };
        let plan = self.plan(Statement::Query(Box::new(query))).await?.with_param_values(params.clone())?;
        let df = self.ctx.execute_logical_plan(plan).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        Ok(Output::CopyOut { schema, stream: df.execute_stream().await?, format })
    }

    /// The rows a client sent for `COPY table FROM STDIN`, added in one commit.
    pub async fn copy_in(&mut self, table: &Arc<Table>, columns: &[usize], rows: Vec<Vec<Option<String>>>) -> SqlResult<usize> {
        let width = table.schema.fields().len();
        let mut values: Vec<Vec<Option<String>>> = vec![vec![None; rows.len()]; width];
        for (r, row) in rows.into_iter().enumerate() {
            for (v, c) in row.into_iter().zip(columns) {
                values[*c][r] = v;
            }
        }
        let text = Arc::new(Schema::new(table.schema.fields().iter().map(|f| Field::new(f.name(), DataType::Utf8, true)).collect::<Vec<_>>()));
        let arrays = values.into_iter().map(|v| Arc::new(StringArray::from(v)) as ArrayRef).collect();
        let batch = conform(table, &RecordBatch::try_new(text, arrays)?, &self.time_zone_name())?;
        let n = batch.num_rows();
        let engine = self.engine.clone();
        let mut writer = engine.writer().await;
        self.fresh_snapshot();
        self.write(&mut writer, Change::Append { table: table.clone(), batch }, "COPY")?;
        Ok(n)
    }

    async fn insert(&mut self, ins: ast::Insert, params: &ParamValues) -> SqlResult<Output> {
        let TableObject::TableName(name) = &ins.table else {
            return Err(SqlError::unsupported("INSERT INTO a table function is not supported"));
        };
        if ins.on.is_some() {
            return Err(SqlError::unsupported("INSERT ... ON CONFLICT is not supported yet"));
        }
        let table = self.table(name)?;
        let returning = ins.returning.clone();
        let bare = plain_insert(ins, &table);
        let engine = self.engine.clone();
        let mut writer = engine.writer().await;
        self.fresh_snapshot();
        let plan = self.plan(Statement::Insert(bare)).await?;
        let LogicalPlan::Dml(dml) = plan else { return Err(SqlError::internal("expected an INSERT plan")) };
        if !matches!(dml.op, WriteOp::Insert(_)) {
            return Err(SqlError::internal("expected an INSERT plan"));
        }
        let batches = self.collect(Arc::unwrap_or_clone(dml.input), params).await?;
        let tz = self.time_zone_name();
        let parts = batches.iter().map(|b| conform(&table, b, &tz)).collect::<SqlResult<Vec<_>>>()?;
        let batch = arrow::compute::concat_batches(&table.schema, &parts)?;
        let n = batch.num_rows();
        self.write(&mut writer, Change::Append { table: table.clone(), batch: batch.clone() }, "INSERT")?;
        drop(writer);
        match returning {
            Some(items) => {
                let (schema, out) = self.returning(&table, batch, &items).await?;
                Ok(rows_output(schema, out, "INSERT 0"))
            }
            None => Ok(Output::Command { tag: "INSERT 0".into(), rows: Some(n) }),
        }
    }

    /// The query giving each row's new values plus whether UPDATE hits it.
    fn update_query(&self, u: &ast::Update) -> SqlResult<(Arc<Table>, String)> {
        if u.from.is_some() || !u.table.joins.is_empty() {
            return Err(SqlError::unsupported("UPDATE ... FROM is not supported"));
        }
        let TableFactor::Table { name, .. } = &u.table.relation else {
            return Err(SqlError::unsupported("UPDATE of this kind of relation is not supported"));
        };
        let table = self.table(name)?;
        let pred = u.selection.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "TRUE".into());
        let mut exprs: Vec<Option<String>> = vec![None; table.schema.fields().len()];
        for a in &u.assignments {
            let AssignmentTarget::ColumnName(col) = &a.target else {
                return Err(SqlError::unsupported("assigning to a tuple of columns is not supported"));
            };
            let col = col.0.last().and_then(|p| p.as_ident()).map(ident_name).unwrap_or_default();
            let idx = table
                .schema
                .index_of(&col)
                .map_err(|_| SqlError::new(SqlState::UndefinedColumn, format!("column \"{col}\" of relation \"{}\" does not exist", table.name)))?;
            exprs[idx] = Some(a.value.to_string());
        }
        let cols: Vec<String> = table
            .schema
            .fields()
            .iter()
            .zip(exprs)
            .map(|(f, e)| match e {
                Some(e) => format!("CASE WHEN ({pred}) IS TRUE THEN ({e}) ELSE {c} END AS {c}", c = quote(f.name())),
                None => quote(f.name()),
            })
            .collect();
        Ok((table.clone(), format!("SELECT {}, ({pred}) IS TRUE AS {HIT} FROM {}", cols.join(", "), quote(&table.name))))
    }

    fn delete_query(&self, d: &ast::Delete) -> SqlResult<(Arc<Table>, String)> {
        let from = match &d.from {
            FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
        };
        if from.len() != 1 || !from[0].joins.is_empty() || d.using.is_some() {
            return Err(SqlError::unsupported("DELETE from several tables or with USING is not supported"));
        }
        let TableFactor::Table { name, .. } = &from[0].relation else {
            return Err(SqlError::unsupported("DELETE from this kind of relation is not supported"));
        };
        let table = self.table(name)?;
        let pred = d.selection.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "TRUE".into());
        Ok((table.clone(), format!("SELECT *, ({pred}) IS TRUE AS {HIT} FROM {}", quote(&table.name))))
    }

    /// Runs a rewrite query and splits its rows into (all rows, rows hit).
    async fn split_hits(&self, table: &Table, sql: &str, params: &ParamValues) -> SqlResult<(Vec<(RecordBatch, BooleanArray)>, usize)> {
        let batches = self.collect(self.plan_sql(sql).await?, params).await?;
        let mut out = Vec::with_capacity(batches.len());
        let mut hits = 0;
        for b in batches {
            let hit = b.column(b.num_columns() - 1).as_any().downcast_ref::<BooleanArray>().cloned().ok_or_else(|| SqlError::internal("hit column"))?;
            hits += hit.true_count();
            let rows = conform(table, &b.project(&(0..b.num_columns() - 1).collect::<Vec<_>>())?, &self.time_zone_name())?;
            out.push((rows, hit));
        }
        Ok((out, hits))
    }

    async fn update(&mut self, u: ast::Update, params: &ParamValues) -> SqlResult<Output> {
        let engine = self.engine.clone();
        let mut writer = engine.writer().await;
        self.fresh_snapshot();
        let (table, sql) = self.update_query(&u)?;
        let (parts, hits) = self.split_hits(&table, &sql, params).await?;
        let mut changed = Vec::new();
        if u.returning.is_some() {
            for (rows, hit) in &parts {
                changed.push(filter_record_batch(rows, hit)?);
            }
        }
        if hits > 0 {
            let all = parts.into_iter().map(|(rows, _)| rows).collect();
            self.write(&mut writer, Change::Replace { table: table.clone(), batches: all }, "UPDATE")?;
        }
        drop(writer);
        self.finish_dml(&table, "UPDATE", hits, u.returning, changed).await
    }

    async fn delete(&mut self, d: ast::Delete, params: &ParamValues) -> SqlResult<Output> {
        let engine = self.engine.clone();
        let mut writer = engine.writer().await;
        self.fresh_snapshot();
        let (table, sql) = self.delete_query(&d)?;
        let (parts, hits) = self.split_hits(&table, &sql, params).await?;
        let mut keep = Vec::with_capacity(parts.len());
        let mut gone = Vec::new();
        for (rows, hit) in parts {
            if d.returning.is_some() {
                gone.push(filter_record_batch(&rows, &hit)?);
            }
            let not_hit = arrow::compute::not(&hit)?;
            keep.push(filter_record_batch(&rows, &not_hit)?);
        }
        if hits > 0 {
            self.write(&mut writer, Change::Replace { table: table.clone(), batches: keep }, "DELETE")?;
        }
        drop(writer);
        self.finish_dml(&table, "DELETE", hits, d.returning, gone).await
    }

    async fn finish_dml(&self, table: &Table, tag: &str, n: usize, returning: Option<Vec<SelectItem>>, rows: Vec<RecordBatch>) -> SqlResult<Output> {
        match returning {
            Some(items) => {
                let all = arrow::compute::concat_batches(&table.schema, &rows)?;
                let (schema, out) = self.returning(table, all, &items).await?;
                Ok(rows_output(schema, out, tag))
            }
            None => Ok(Output::Command { tag: tag.into(), rows: Some(n) }),
        }
    }

    /// Evaluates RETURNING items over the rows a write touched.
    async fn returning(&self, table: &Table, rows: RecordBatch, items: &[SelectItem]) -> SqlResult<(SchemaRef, Vec<RecordBatch>)> {
        let ctx = SessionContext::new();
        ctx.register_table(quote(&table.name).as_str(), Arc::new(MemTable::try_new(table.schema.clone(), vec![vec![rows]])?))?;
        let list = items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        let df = ctx.sql(&format!("SELECT {list} FROM {}", quote(&table.name))).await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        Ok((schema, df.collect().await?))
    }

    async fn returning_schema(&self, table: &Table, items: &[SelectItem]) -> SqlResult<SchemaRef> {
        Ok(self.returning(table, RecordBatch::new_empty(table.schema.clone()), items).await?.0)
    }

    async fn drop(&mut self, kind: ObjectType, if_exists: bool, names: Vec<ObjectName>, cascade: bool) -> SqlResult<Output> {
        if matches!(kind, ObjectType::MaterializedView | ObjectType::View) {
            let names = names.iter().map(object_name).collect::<SqlResult<Vec<_>>>()?;
            let (weir_kind, tag) = if kind == ObjectType::View { (ObjectKind::PlainView, "DROP VIEW") } else { (ObjectKind::View, "DROP MATERIALIZED VIEW") };
            self.engine.drop_streaming(weir_kind, &names, if_exists, cascade).await?;
            return Ok(Output::Command { tag: tag.into(), rows: None });
        }
        if kind != ObjectType::Table {
            return Err(SqlError::unsupported(format!("DROP {kind} is not supported")));
        }
        let mut writer = self.engine.writer().await;
        self.fresh_snapshot();
        // Check every name first, so a failing DROP of several drops nothing.
        let mut tables = Vec::new();
        for n in &names {
            let name = object_name(n)?;
            match self.engine.table(&name) {
                Some(t) => {
                    self.engine.check_dependents(ObjectKind::Table, &name, cascade)?;
                    tables.push(t)
                }
                None if if_exists => {}
                None => match self.engine.kind_of(&name) {
                    Some(k) => return Err(SqlError::wrong_kind(&name, k, "table")),
                    None => return Err(SqlError::new(SqlState::UndefinedTable, format!("table \"{name}\" does not exist"))),
                },
            }
        }
        for table in tables {
            self.engine.drop_dependents(&mut writer, &table.name)?;
            self.engine.apply(&mut writer, Change::DropTable { table })?;
        }
        Ok(Output::Command { tag: "DROP TABLE".into(), rows: None })
    }
}
