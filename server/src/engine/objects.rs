//! Streaming objects in the catalog: sources and materialized views. Their
//! definitions (the SQL as written) are logged like tables'; on restart they
//! are planned again and every view's dataflow starts again from its state in
//! the newest checkpoint (or from the start of its input without one). A view
//! reads a source itself, or another view's changes; a join that reads a
//! source gets a feed thread per source side.

use crate::dataflow::checkpoint::{JoinSide, MemberId};
use crate::dataflow::ops::{DEFAULT_IDLE_TIMEOUT, Watermark};
use crate::dataflow::segments::{AppendLog, Snapshot};
use crate::dataflow::view::ViewState;
use crate::dataflow::{self, Input, Pipeline};
use crate::engine::{Engine, Writer, plan_create_table};
use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use weir_connectors::{ConnectorError, Options};
use weir_planner::ddl::{CreateSource, CreateView};
use weir_planner::names::ObjectKind;
use weir_planner::names::object_name;
use weir_planner::stream::{EventTime, JoinStrategy, Relation, RelationKind, RelationLookup, StreamPlan, plan_view, watermark_delay};
use weir_planner::types::pg_type_name;
use weir_planner::{Emit, SqlError, SqlResult, SqlState, parse_statements};

pub struct SourceDef {
    pub id: u64,
    pub name: String,
    pub connector: String,
    pub options: BTreeMap<String, String>,
    pub schema: SchemaRef,
    pub event_time: Option<EventTime>,
}

pub struct View {
    pub id: u64,
    pub name: String,
    pub plan: StreamPlan,
    pub state: Arc<ViewState>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Sources a join reads, each on a thread of its own.
    feeds: Mutex<Vec<(Arc<ViewState>, std::thread::JoinHandle<()>)>>,
}

impl View {
    fn stop(&self) {
        self.state.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().take();
        if let Some(t) = thread {
            let _ = t.join();
        }
        for (state, t) in std::mem::take(&mut *self.feeds.lock()) {
            state.stop.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
    }

    /// Checkpoint members: its join feeds' and the view's.
    fn members(&self) -> [MemberId; 3] {
        [MemberId::JoinFeed(self.id, JoinSide::Left), MemberId::JoinFeed(self.id, JoinSide::Right), MemberId::View(self.id)]
    }
}

pub(crate) fn connector_error(e: ConnectorError) -> SqlError {
    match e {
        ConnectorError::Config(m) => SqlError::new(SqlState::InvalidParameterValue, m),
        ConnectorError::External(m) => {
            SqlError::new(SqlState::UnableToConnect, m).with_hint("check that the external system is running and reachable from weir")
        }
        ConnectorError::Denied(m) => SqlError::new(SqlState::InsufficientPrivilege, m),
        ConnectorError::Internal(m) => SqlError::internal(m),
    }
}

pub(crate) fn text_column(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

pub(crate) fn batch_of(fields: Vec<Field>, cols: Vec<ArrayRef>) -> SqlResult<(SchemaRef, RecordBatch)> {
    let schema = Arc::new(Schema::new(fields));
    Ok((schema.clone(), RecordBatch::try_new(schema, cols)?))
}

/// A source as seen by SELECT: its columns are in the catalog, but reading it
/// directly is refused with a hint, since it is an unbounded stream.
#[derive(Debug)]
struct StreamSource {
    name: String,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for StreamSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::View
    }
    async fn scan(&self, _: &dyn Session, _: Option<&Vec<usize>>, _: &[Expr], _: Option<usize>) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        Err(SqlError::unsupported(format!("\"{}\" is a source, an unbounded stream, and cannot be read directly", self.name))
            .with_hint(format!("create a materialized view over it, e.g. CREATE MATERIALIZED VIEW {0}_all AS SELECT * FROM {0}", self.name))
            .into())
    }
}

/// One SELECT's read of a view: the rows at one moment, a segment at a time.
#[derive(Clone)]
struct ViewScan {
    snapshot: Snapshot,
}

impl std::fmt::Debug for ViewScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ViewScan({} rows)", self.snapshot.rows)
    }
}

impl PartitionStream for ViewScan {
    fn schema(&self) -> &SchemaRef {
        &self.snapshot.schema
    }

    fn execute(&self, _: Arc<datafusion::execution::TaskContext>) -> datafusion::execution::SendableRecordBatchStream {
        let rows = self
            .snapshot
            .clone()
            .into_iter()
            .map(|b| b.map_err(|e| datafusion::error::DataFusionError::External(Box::new(SqlError::internal(format!("cannot read a view's rows: {e}"))))));
        Box::pin(RecordBatchStreamAdapter::new(self.snapshot.schema.clone(), futures::stream::iter(rows)))
    }
}

/// A view's `WITH (retention = '...')`: its event-time column and how long rows stay, in nanoseconds.
fn view_retention(options: &[(String, String)], plan: &StreamPlan) -> SqlResult<Option<(usize, i64)>> {
    let mut retention = None;
    for (key, value) in options {
        if key != "retention" {
            return Err(SqlError::new(SqlState::InvalidParameterValue, format!("unrecognized materialized view option \"{key}\""))
                .with_hint("the option a materialized view takes is retention, e.g. WITH (retention = '1 hour')"));
        }
        let keep = weir_connectors::options::parse_duration(value)
            .map_err(|e| SqlError::new(SqlState::InvalidParameterValue, format!("option \"retention\": {e}")))?;
        let column =
            plan.event_time.as_ref().map(|t| t.column).filter(|c| plan.append_only && matches!(plan.output.field(*c).data_type(), DataType::Timestamp(..)));
        let Some(column) = column else {
            return Err(SqlError::unsupported("retention needs an append-only materialized view with an event-time column")
                .with_hint("keep the source's event-time column (the one its WATERMARK is on) in the view, and no GROUP BY without EMIT ON WINDOW CLOSE"));
        };
        retention = Some((column, keep.as_nanos().min(i64::MAX as u128) as i64));
    }
    Ok(retention)
}

impl RelationLookup for Engine {
    fn relation(&self, name: &str) -> Option<Relation> {
        if let Some(t) = self.table(name) {
            return Some(Relation {
                name: name.into(),
                schema: t.schema.clone(),
                kind: RelationKind::Table,
                event_time: None,
                unique_key: Some(t.primary_key.clone()).filter(|k| !k.is_empty()),
            });
        }
        if let Some(s) = self.sources.read().get(name) {
            return Some(Relation {
                name: name.into(),
                schema: s.schema.clone(),
                kind: RelationKind::Source { connector: s.connector.clone() },
                event_time: s.event_time,
                unique_key: None,
            });
        }
        self.views.read().get(name).map(|v| Relation {
            name: name.into(),
            schema: v.state.schema.clone(),
            kind: RelationKind::View { append_only: v.plan.append_only },
            event_time: v.plan.event_time,
            unique_key: v.plan.unique_key.clone(),
        })
    }
}

impl Engine {
    /// Checks a CREATE SOURCE and describes the source (nothing is stored).
    pub(crate) async fn prepare_source(self: &Arc<Self>, cs: &CreateSource, id: u64) -> SqlResult<SourceDef> {
        let name = object_name(&cs.name)?;
        let options: BTreeMap<String, String> = cs.options.iter().cloned().collect();
        let connector = options.get("connector").cloned().ok_or_else(|| {
            SqlError::new(SqlState::InvalidParameterValue, "missing option \"connector\"").with_hint(format!(
                "e.g. WITH (connector = 'generator', scenario = 'clickstream'); weir's source connectors are: {}",
                weir_connectors::registry::names(weir_connectors::registry::Role::Source).join(", ")
            ))
        })?;
        let ctx = self.context();
        let declared = match &cs.columns {
            None => None,
            Some(cols) => {
                let list = cols.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ");
                let stmt = parse_statements(&format!("CREATE TABLE __weir_source ({list})"))?.pop().ok_or_else(|| SqlError::internal("columns"))?;
                Some(plan_create_table(&ctx, stmt).await?.0)
            }
        };
        let mut opts = options.clone();
        if let Some(f) = &cs.format {
            opts.insert("format".into(), f.clone());
        }
        let shape = weir_connectors::check_source(&connector, &Options::new(opts), declared).map_err(connector_error)?;
        let schema = shape.schema;
        let event_time = match &cs.watermark {
            Some((col, expr)) => {
                let column = schema
                    .index_of(&col.value.to_lowercase())
                    .or_else(|_| schema.index_of(&col.value))
                    .map_err(|_| SqlError::new(SqlState::UndefinedColumn, format!("WATERMARK FOR {col}: column \"{}\" does not exist", col.value)))?;
                if !matches!(schema.field(column).data_type(), DataType::Timestamp(TimeUnit::Nanosecond, _)) {
                    return Err(SqlError::new(SqlState::DatatypeMismatch, format!("WATERMARK FOR {col}: the column must be a TIMESTAMP")));
                }
                Some(EventTime { column, delay_ns: watermark_delay(&ctx.copied_config(), col, expr).await? })
            }
            None => shape
                .default_watermark
                .and_then(|(col, delay)| schema.index_of(&col).ok().map(|column| EventTime { column, delay_ns: delay.as_nanos() as i64 })),
        };
        let mut options = options;
        if let Some(f) = &cs.format {
            options.insert("format".into(), f.clone());
        }
        Ok(SourceDef { id, name, connector, options, schema, event_time })
    }

    /// Plans a CREATE MATERIALIZED VIEW (nothing is stored or started).
    pub(crate) async fn prepare_view(self: &Arc<Self>, cv: &CreateView, id: u64) -> SqlResult<View> {
        let name = object_name(&cv.name)?;
        let plan = self.plan_view(cv).await?;
        let retention = view_retention(&cv.options, &plan)?;
        let log = plan.append_only.then(|| AppendLog::new(plan.output.clone(), self.view_budget.clone(), retention));
        let state = ViewState::new(name.clone(), plan.output.clone(), log)?;
        Ok(View { id, name, plan, state, thread: Mutex::new(None), feeds: Mutex::default() })
    }

    pub(crate) async fn plan_view(self: &Arc<Self>, cv: &CreateView) -> SqlResult<StreamPlan> {
        if let Some(v) = crate::engine::plain_views::inputs_of(&cv.query).iter().find_map(|n| self.plain_view(n)) {
            return Err(SqlError::unsupported(format!("a materialized view cannot read the plain view \"{}\" yet", v.name))
                .with_hint(format!("write the view's query into the materialized view: {}", v.query)));
        }
        plan_view(&self.context().copied_config(), &**self, &cv.query, cv.emit).await
    }

    /// Opens a source for a dataflow `reader`, with its watermark.
    fn open_source(&self, name: &str, reader: &str) -> SqlResult<(Arc<SourceDef>, Box<dyn weir_connectors::Source>, Option<Watermark>)> {
        let src = self.sources.read().get(name).cloned().ok_or_else(|| SqlError::undefined_table(name))?;
        let source = weir_connectors::open_source(&src.connector, &Options::new(src.options.clone()), src.schema.clone(), reader).map_err(connector_error)?;
        let idle = match src.options.get("idle_timeout") {
            Some(t) => weir_connectors::options::parse_duration(t)
                .map_err(|e| SqlError::new(SqlState::InvalidParameterValue, format!("option \"idle_timeout\": {e}")))?,
            None => DEFAULT_IDLE_TIMEOUT,
        };
        let watermark = src.event_time.map(|t| Watermark::new(t.column, t.delay_ns).with_idle_timeout(idle));
        Ok((src, source, watermark))
    }

    /// Starts a view's dataflow (and, for a join that reads sources, their feeds).
    pub(crate) fn start_view(self: &Arc<Self>, view: &Arc<View>) -> SqlResult<()> {
        let plan = &view.plan;
        let [left_member, right_member, member] = view.members();
        let ckpt = self.checkpointing(member)?;
        let table = match &plan.join {
            Some(j) if j.strategy == JoinStrategy::Lookup => Some(self.table(&j.right.name).ok_or_else(|| SqlError::undefined_table(&j.right.name))?),
            _ => None,
        };
        let mut feeds = Vec::new();
        let input = match (&plan.join, &plan.input.kind) {
            (Some(j), _) if j.strategy != JoinStrategy::Lookup => {
                // Each side: a view's changes, or a source read by a feed of its own.
                let mut states = Vec::new();
                for (rel, m, side) in [(&plan.input, left_member, "left"), (&j.right, right_member, "right")] {
                    if let RelationKind::Source { .. } = rel.kind {
                        let (src, source, watermark) = self.open_source(&rel.name, &format!("{}-{side}", view.name))?;
                        let state = ViewState::feed(format!("{} ({})", view.name, rel.name), src.schema.clone())?;
                        feeds.push((state.clone(), Input::Source { name: src.name.clone(), source, watermark }, m));
                        states.push(state);
                    } else {
                        let up = self.views.read().get(&rel.name).cloned().ok_or_else(|| SqlError::undefined_table(&rel.name))?;
                        states.push(up.state.clone());
                    }
                }
                let (subs, after) = self.coord.join_all(&member, None, &[&states[0], &states[1]])?;
                let [l, r]: [_; 2] = subs.try_into().map_err(|_| SqlError::internal("a join has two inputs"))?;
                Input::Join { sides: [(l.snapshot, l.rx, l.after_barrier), (r.snapshot, r.rx, r.after_barrier)], after }
            }
            (_, RelationKind::Source { .. }) => {
                let (src, source, watermark) = self.open_source(&plan.input.name, &view.name)?;
                Input::Source { name: src.name.clone(), source, watermark }
            }
            (_, RelationKind::View { .. }) => {
                let up = self.views.read().get(&plan.input.name).cloned().ok_or_else(|| SqlError::undefined_table(&plan.input.name))?;
                let (sub, after) = self.coord.join(&ckpt.member, None, &up.state)?;
                Input::View { initial: sub.snapshot, rx: sub.rx, after }
            }
            (_, RelationKind::Table) => {
                let t = self.table(&plan.input.name).ok_or_else(|| SqlError::undefined_table(&plan.input.name))?;
                Input::Snapshot(t.snapshot().batches.clone())
            }
        };
        let leave_all = || {
            for m in view.members() {
                self.coord.leave(&m);
            }
        };
        let handle = Pipeline::compile(&self.context().state(), plan, table)
            .and_then(|pipeline| dataflow::spawn(view.state.clone(), pipeline, input, self.dead_letters.clone(), ckpt))
            .inspect_err(|_| leave_all())?;
        *view.thread.lock() = Some(handle);
        // Feeds start after the join subscribed to them, so it misses nothing.
        for (state, input, m) in feeds {
            let started = self.checkpointing(m).and_then(|c| dataflow::spawn(state.clone(), Pipeline::identity(), input, self.dead_letters.clone(), c));
            match started {
                Ok(t) => view.feeds.lock().push((state, t)),
                Err(e) => {
                    view.stop();
                    leave_all();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn views_in_order(&self) -> Vec<Arc<View>> {
        let mut v: Vec<Arc<View>> = self.views.read().values().cloned().collect();
        v.sort_by_key(|v| v.id);
        v
    }

    pub async fn create_source(self: &Arc<Self>, cs: &CreateSource, sql: &str) -> SqlResult<()> {
        let name = object_name(&cs.name)?;
        let mut writer = self.writer().await;
        if !self.claim_name(&name, cs.if_not_exists)? {
            return Ok(());
        }
        let mut src = self.prepare_source(cs, 0).await?;
        src.id = self.define(&mut writer, ObjectKind::Source, &name, sql)?;
        self.sources.write().insert(name, Arc::new(src));
        Ok(())
    }

    pub async fn create_view(self: &Arc<Self>, cv: &CreateView, sql: &str) -> SqlResult<()> {
        let name = object_name(&cv.name)?;
        let mut writer = self.writer().await;
        if !self.claim_name(&name, cv.if_not_exists)? {
            return Ok(());
        }
        let mut view = self.prepare_view(cv, 0).await?;
        view.id = self.define(&mut writer, ObjectKind::View, &name, sql)?;
        let view = Arc::new(view);
        if let Err(e) = self.start_view(&view) {
            let _ = self.undefine(&mut writer, view.id);
            return Err(e);
        }
        self.views.write().insert(name, view);
        Ok(())
    }

    /// Views and sinks that read `name` directly, as (kind, name).
    pub fn dependents(&self, name: &str) -> Vec<(ObjectKind, String)> {
        let views = self.views_in_order().into_iter().filter(|v| v.plan.inputs().contains(&name)).map(|v| (ObjectKind::View, v.name.clone()));
        let sinks = self.sinks_in_order().into_iter().filter(|s| s.from == name).map(|s| (ObjectKind::Sink, s.name.clone()));
        let plain = self.plain_views_in_order().into_iter().filter(|v| v.inputs.iter().any(|i| i == name)).map(|v| (ObjectKind::PlainView, v.name.clone()));
        views.chain(sinks).chain(plain).collect()
    }

    /// Drops views and sinks depending on `name` (CASCADE), deepest first.
    pub(crate) fn drop_dependents(&self, writer: &mut Writer<'_>, name: &str) -> SqlResult<()> {
        for (kind, d) in self.dependents(name) {
            if kind == ObjectKind::Sink {
                let id = self.sinks.read().get(&d).map(|s| s.id);
                if let Some(id) = id {
                    self.undefine(writer, id)?;
                    self.remove_sink(&d);
                }
                continue;
            }
            self.drop_dependents(writer, &d)?;
            if kind == ObjectKind::PlainView {
                self.drop_plain_view_now(writer, &d)?;
            } else {
                self.drop_view_now(writer, &d)?;
            }
        }
        Ok(())
    }

    fn drop_view_now(&self, writer: &mut Writer<'_>, name: &str) -> SqlResult<()> {
        let Some(v) = self.views.read().get(name).cloned() else { return Ok(()) };
        self.undefine(writer, v.id)?;
        v.stop();
        for member in v.members() {
            self.coord.leave(&member);
            self.coord.remove_segments(&member);
        }
        self.views.write().remove(name);
        Ok(())
    }

    /// Refuses to drop `name` while views read it, unless CASCADE.
    pub(crate) fn check_dependents(&self, kind: ObjectKind, name: &str, cascade: bool) -> SqlResult<()> {
        let deps = self.dependents(name);
        if deps.is_empty() || cascade {
            return Ok(());
        }
        Err(SqlError::new(SqlState::DependentObjectsStillExist, format!("cannot drop {kind} \"{name}\" because other objects depend on it"))
            .with_detail(deps.iter().map(|(k, d)| format!("{k} {d} depends on {kind} {name}")).collect::<Vec<_>>().join("\n"))
            .with_hint(format!("use DROP {} ... CASCADE to drop the dependent objects too", kind.sql_name().to_uppercase())))
    }

    /// DROP SOURCE / DROP MATERIALIZED VIEW / DROP VIEW.
    pub async fn drop_streaming(&self, kind: ObjectKind, names: &[String], if_exists: bool, cascade: bool) -> SqlResult<()> {
        let mut writer = self.writer().await;
        for name in names {
            match self.kind_of(name) {
                None if if_exists => continue,
                None => return Err(SqlError::new(SqlState::UndefinedTable, format!("{kind} \"{name}\" does not exist"))),
                Some(k) if k != kind => return Err(SqlError::wrong_kind(name, k, kind.sql_name())),
                Some(_) => {}
            }
            self.check_dependents(kind, name, cascade)?;
        }
        for name in names {
            self.drop_dependents(&mut writer, name)?;
            match kind {
                ObjectKind::Source => {
                    // (Bound first: a guard in an `if let` scrutinee lives through the body.)
                    let src = self.sources.read().get(name).cloned();
                    if let Some(s) = src {
                        self.undefine(&mut writer, s.id)?;
                        self.sources.write().remove(name);
                    }
                }
                ObjectKind::PlainView => self.drop_plain_view_now(&mut writer, name)?,
                _ => self.drop_view_now(&mut writer, name)?,
            }
        }
        Ok(())
    }

    /// Providers for SELECT over views and sources.
    pub(crate) fn stream_relation(&self, name: &str) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        let view = self.views.read().get(name).cloned();
        if let Some(v) = view {
            let scan = ViewScan { snapshot: v.state.snapshot()? };
            return Ok(Some(Arc::new(StreamingTable::try_new(v.state.schema.clone(), vec![Arc::new(scan)])?)));
        }
        let source = self.sources.read().get(name).map(|s| s.schema.clone());
        if let Some(schema) = source {
            return Ok(Some(Arc::new(StreamSource { name: name.into(), schema })));
        }
        Ok(None)
    }

    /// SHOW SOURCES
    pub fn show_sources(&self) -> SqlResult<(SchemaRef, RecordBatch)> {
        let sources: Vec<Arc<SourceDef>> = self.sources.read().values().cloned().collect();
        let columns = |s: &SourceDef| s.schema.fields().iter().map(|f| format!("{} {}", f.name(), pg_type_name(f))).collect::<Vec<_>>().join(", ");
        let watermark = |s: &SourceDef| s.event_time.map(|t| format!("{} - {}s", s.schema.field(t.column).name(), t.delay_ns as f64 / 1e9)).unwrap_or_default();
        batch_of(
            vec![text_column("name"), text_column("connector"), text_column("columns"), text_column("watermark")],
            vec![
                Arc::new(StringArray::from_iter_values(sources.iter().map(|s| s.name.clone()))),
                Arc::new(StringArray::from_iter_values(sources.iter().map(|s| s.connector.clone()))),
                Arc::new(StringArray::from_iter_values(sources.iter().map(|s| columns(s)))),
                Arc::new(StringArray::from_iter_values(sources.iter().map(|s| watermark(s)))),
            ],
        )
    }

    /// SHOW MATERIALIZED VIEWS
    pub fn show_views(&self) -> SqlResult<(SchemaRef, RecordBatch)> {
        let views = self.views_in_order();
        batch_of(
            vec![text_column("name"), text_column("input"), text_column("emit"), text_column("status")],
            vec![
                Arc::new(StringArray::from_iter_values(views.iter().map(|v| v.name.clone()))),
                Arc::new(StringArray::from_iter_values(views.iter().map(|v| v.plan.input.name.clone()))),
                Arc::new(StringArray::from_iter_values(views.iter().map(|v| emit_text(v.plan.emit)))),
                Arc::new(StringArray::from_iter_values(views.iter().map(|v| v.state.status().to_string()))),
            ],
        )
    }

    /// The plan of an existing view, for EXPLAIN MATERIALIZED VIEW.
    pub fn view_plan(&self, name: &str) -> SqlResult<StreamPlan> {
        let plan = self.views.read().get(name).map(|v| v.plan.clone());
        match plan {
            Some(p) => Ok(p),
            None => match self.kind_of(name) {
                Some(k) => Err(SqlError::wrong_kind(name, k, "materialized view")),
                None => Err(SqlError::undefined_table(name)),
            },
        }
    }

    /// The live state of a view.
    pub fn view_state(&self, name: &str) -> Option<Arc<ViewState>> {
        self.views.read().get(name).map(|v| v.state.clone())
    }

    /// Stops every sink (flushing what it buffers) and dataflow (at shutdown).
    pub fn stop_all(&self) {
        self.coord.stop.store(true, Ordering::Relaxed);
        self.stop_sinks();
        for v in self.views_in_order() {
            v.stop();
        }
    }
}

pub(crate) fn emit_text(e: Emit) -> &'static str {
    match e {
        Emit::OnUpdate => "on update",
        Emit::OnWindowClose => "on window close",
    }
}

/// EXPLAIN output: one text column, a row per line.
/// SHOW CONNECTORS: every connector in the registry, with its options.
pub fn show_connectors() -> SqlResult<(SchemaRef, RecordBatch)> {
    let all = weir_connectors::registry::CONNECTORS;
    batch_of(
        vec![text_column("name"), text_column("kind"), text_column("options"), text_column("description")],
        vec![
            Arc::new(StringArray::from_iter_values(all.iter().map(|c| c.name))),
            Arc::new(StringArray::from_iter_values(all.iter().map(|c| c.role.to_string()))),
            Arc::new(StringArray::from_iter_values(all.iter().map(|c| (c.options)().join(", ")))),
            Arc::new(StringArray::from_iter_values(all.iter().map(|c| c.about))),
        ],
    )
}

pub fn plan_rows(plan: &StreamPlan) -> SqlResult<(SchemaRef, RecordBatch)> {
    let text = plan.to_string();
    batch_of(vec![text_column("QUERY PLAN")], vec![Arc::new(StringArray::from_iter_values(text.lines().collect::<Vec<_>>()))])
}
