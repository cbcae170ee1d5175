//! The shared state of a running weir: the catalog of objects, their data,
//! and the storage that makes both durable. Sessions read through DataFusion
//! (via [`WeirSchema`]); every write goes through [`Engine::commit`], which
//! logs it before it becomes visible.

pub mod activity;
pub mod definition;
pub mod mirror;
pub mod objects;
pub mod pg_catalog;
pub mod plain_views;
pub mod schemas;
pub mod sinks;
pub mod system;

use crate::dataflow::checkpoint::{Coordinator, MemberId, Restored};
use crate::dataflow::dead_letters::DeadLetters;
use crate::dataflow::segments::MemoryBudget;
use crate::dataflow::{Checkpointing, Gate, Status};
use crate::engine::objects::{SourceDef, View};
use crate::engine::sinks::SinkDef;
use crate::storage::table::Table;
use crate::storage::{Definition, Header, Recovered, Storage};
use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::common::Constraint;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use weir_planner::names::{ObjectKind, object_key, split_key};
use weir_planner::types::WeirTypePlanner;
use weir_planner::{SqlError, SqlResult, SqlState, WeirStatement, parse_statements};

pub use weir_planner::names::{CATALOG, SCHEMA};

/// A session's uncommitted table contents (of an open transaction), by
/// table name: what that session's queries read instead of the committed rows.
pub type Overlay = Arc<RwLock<std::collections::HashMap<String, Vec<RecordBatch>>>>;

/// What a session's queries see of their session: the table contents its
/// open transaction wrote, its search path and its settings. The session
/// keeps them current; catalog relations and functions read them.
#[derive(Debug, Clone, Default)]
pub struct SessionScope {
    pub overlay: Overlay,
    /// `search_path` as set, `$user` resolved; empty until the session sets it.
    pub search_path: Arc<RwLock<Vec<String>>>,
    /// Every setting, for `pg_settings`.
    pub settings: Arc<RwLock<Vec<pg_catalog::pg_settings::SettingRow>>>,
    /// The committed contents of every table as the running statement began,
    /// taken at once ([`Engine::table_snapshots`]), so that a statement never
    /// sees part of another session's transaction.
    pub tables: Arc<RwLock<std::collections::HashMap<String, Arc<crate::storage::table::TableData>>>>,
}

impl SessionScope {
    /// The search path a query plans with: the session's, or `public` outside any session.
    pub fn path(scope: Option<&SessionScope>) -> Vec<String> {
        match scope.map(|s| s.search_path.read().clone()) {
            Some(p) if !p.is_empty() => p,
            _ => vec![SCHEMA.to_string()],
        }
    }
}

/// A change to commit: logged first, then applied.
pub enum Change {
    CreateTable {
        name: String,
        sql: String,
        schema: SchemaRef,
        primary_key: Vec<usize>,
    },
    DropTable {
        table: Arc<Table>,
    },
    /// Rows to add; constraints are checked here, under the write lock.
    Append {
        table: Arc<Table>,
        batch: RecordBatch,
    },
    /// A table's new full contents; constraints are checked here too.
    Replace {
        table: Arc<Table>,
        batches: Vec<RecordBatch>,
    },
}

pub struct Engine {
    tables: RwLock<BTreeMap<String, Arc<Table>>>,
    pub(crate) sources: RwLock<BTreeMap<String, Arc<SourceDef>>>,
    pub(crate) views: RwLock<BTreeMap<String, Arc<View>>>,
    pub(crate) plain_views: RwLock<BTreeMap<String, Arc<plain_views::PlainView>>>,
    pub(crate) sinks: RwLock<BTreeMap<String, Arc<SinkDef>>>,
    /// Schemas made with CREATE SCHEMA, by name, with their ids (`public` is always there).
    pub(crate) schemas: RwLock<BTreeMap<String, u64>>,
    pub(crate) dead_letters: Arc<DeadLetters>,
    /// What each client session is doing (pg_stat_activity).
    pub sessions: activity::Sessions,
    definitions: RwLock<Vec<Definition>>,
    /// Tables that mirror a PostgreSQL table, by table id (engine/mirror.rs).
    mirrors: RwLock<std::collections::HashMap<u64, mirror::MirrorSpec>>,
    /// The write lock: one commit at a time, in log order.
    storage: tokio::sync::Mutex<Storage>,
    pub(crate) next_id: std::sync::atomic::AtomicU64,
    pub target_partitions: usize,
    pub(crate) coord: Arc<Coordinator>,
    /// The checkpoint a restart resumes from, while dataflows are being started.
    restored: parking_lot::Mutex<Option<Restored>>,
    /// Held closed until every restored dataflow and sink is in place.
    gate: parking_lot::Mutex<Option<Arc<Gate>>>,
    /// Held for writing while a transaction's tables change, for reading
    /// while a statement takes its snapshot of them.
    visibility: RwLock<()>,
    /// The key of definition hashes (engine/definition.rs).
    pub(crate) definition_key: Vec<u8>,
    /// Memory for the cached contents of views (a quarter of the memory limit; the other half is for operator state, buffers and the program).
    pub(crate) view_budget: Arc<MemoryBudget>,
    /// Query execution's memory pool (a quarter of the memory limit): past it sorts spill, then queries fail with 53200.
    runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>,
    /// Past this many checkpoints waiting for one sink, the sink fails and they go.
    max_undelivered_checkpoints: u64,
    max_objects: usize,
    /// What sinks may reach on this machine (`--allow-local-path`, `--allow-env-credentials`).
    pub(crate) host_access: weir_connectors::HostAccess,
    /// Bytes of undelivered changes each sink keeps in memory; the rest is read back from checkpoints.
    pub(crate) sink_memory: usize,
}

/// What the server may hold, and what clients may reach through it.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes: a quarter for views' cached contents, a quarter for queries.
    pub memory: u64,
    /// Checkpoints kept for a sink whose target is away before the sink fails.
    pub undelivered_checkpoints: u64,
    /// Tables, sources, views (materialized or not) and sinks at most.
    pub objects: usize,
    /// Bytes of undelivered changes one sink keeps in memory (past them, epochs wait in their checkpoints only).
    pub sink_memory: u64,
    /// Local paths and credentials of the server's machine that sinks may use.
    pub access: weir_connectors::HostAccess,
}

/// Undelivered changes a sink keeps in memory by default.
pub const DEFAULT_SINK_MEMORY: u64 = 64 << 20;

/// A day of checkpoints at the default interval.
pub const DEFAULT_MAX_UNDELIVERED_CHECKPOINTS: u64 = 86_400;

impl Limits {
    pub fn with_memory(memory: u64) -> Limits {
        Limits {
            memory,
            undelivered_checkpoints: DEFAULT_MAX_UNDELIVERED_CHECKPOINTS,
            objects: DEFAULT_MAX_OBJECTS,
            sink_memory: DEFAULT_SINK_MEMORY,
            access: Default::default(),
        }
    }
}

/// Tables, sources, views (materialized or not) and sinks one server holds at
/// most by default: each materialized view runs a thread.
pub const DEFAULT_MAX_OBJECTS: usize = 10_000;

/// How often the background thread looks for segments to merge and overdue sinks.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(2);

/// Starts the thread that merges views' small segments and fails sinks whose
/// target stayed away too long, until the engine is gone.
fn start_maintenance(engine: std::sync::Weak<Engine>) -> std::io::Result<()> {
    std::thread::Builder::new().name("weir-maintenance".into()).spawn(move || {
        while let Some(e) = engine.upgrade() {
            let views: Vec<Arc<View>> = e.views.read().values().cloned().collect();
            let durable = e.coord.durable();
            for s in e.sinks_in_order() {
                if e.coord.undelivered(&MemberId::Sink(s.id)) > e.max_undelivered_checkpoints {
                    s.status.overdue.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            drop(e);
            for v in views {
                // One merge at a time, then the next view: no view waits long for another.
                if let Err(err) = v.state.compact(durable) {
                    tracing::warn!("{}; it is tried again later", err.message);
                }
            }
            std::thread::sleep(MAINTENANCE_EVERY);
        }
    })?;
    Ok(())
}

fn io_error(what: &str, e: std::io::Error) -> SqlError {
    SqlError::new(SqlState::IoError, format!("could not {what}: {e}")).with_hint("check that the data directory is writable and the disk has space")
}

impl Engine {
    /// Opens the data directory and restores every definition and row.
    /// Without a checkpoint interval nothing is checkpointed (and sinks deliver nothing): for benchmarks.
    pub async fn open(
        data_dir: &Path,
        target_partitions: usize,
        wal_compact_bytes: u64,
        checkpoint_interval: Option<Duration>,
        limits: Limits,
    ) -> anyhow::Result<Arc<Engine>> {
        let memory_limit = limits.memory;
        let started = Instant::now();
        pg_catalog::functions::note_start();
        let (mut storage, recovered) = Storage::open(data_dir)?;
        storage.compact_bytes = wal_compact_bytes;
        let (coord, restored) = Coordinator::open(data_dir, checkpoint_interval.unwrap_or(Duration::MAX))?;
        let resumed = restored.as_ref().map(|r| r.epoch);
        let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(datafusion::execution::memory_pool::FairSpillPool::new((memory_limit / 4) as usize)))
            .with_temp_file_path(data_dir.join("spill"))
            .build_arc()?;
        let engine = Arc::new(Engine {
            tables: RwLock::default(),
            sources: RwLock::default(),
            views: RwLock::default(),
            plain_views: RwLock::default(),
            sinks: RwLock::default(),
            schemas: RwLock::default(),
            dead_letters: Arc::default(),
            sessions: Default::default(),
            definitions: RwLock::default(),
            mirrors: RwLock::default(),
            storage: tokio::sync::Mutex::new(storage),
            next_id: 1.into(),
            target_partitions,
            coord,
            restored: parking_lot::Mutex::new(restored),
            gate: parking_lot::Mutex::new(Some(Arc::new(Gate::default()))),
            visibility: RwLock::new(()),
            definition_key: definition::load_key(data_dir)?,
            view_budget: MemoryBudget::new(memory_limit / 4),
            max_undelivered_checkpoints: limits.undelivered_checkpoints,
            max_objects: limits.objects,
            host_access: limits.access.clone(),
            sink_memory: limits.sink_memory as usize,
            runtime,
        });
        engine.restore(recovered).await?;
        // Mirrored tables load again now, then on their schedule.
        let tables: Vec<Arc<Table>> = engine.tables.read().values().cloned().collect();
        for t in tables {
            engine.start_mirror(t, true);
        }
        // Views start once every table holds its recovered rows.
        let views: Vec<Arc<View>> = engine.views_in_order();
        for v in views {
            if let Err(e) = engine.start_view(&v) {
                tracing::error!("view {} could not start again: {}", v.name, e.message);
                v.state.set_status(Status::Failed(e.message.clone()));
            }
        }
        // Sinks start last: each takes its input's contents, then every change.
        for s in engine.sinks_in_order() {
            if let Err(e) = engine.start_sink(&s) {
                tracing::error!("sink {} could not start again: {}", s.name, e.message);
                s.status.set(Status::Failed(e.message.clone()));
            }
        }
        // Everything is in place: let the dataflows run, and checkpoints begin.
        engine.restored.lock().take();
        if let Some(g) = engine.gate.lock().take() {
            g.open();
        }
        if checkpoint_interval.is_some() {
            engine.coord.start()?;
            start_maintenance(Arc::downgrade(&engine))?;
        }
        match resumed {
            Some(e) => tracing::info!("recovered from checkpoint {e} in {:.3} s", started.elapsed().as_secs_f64()),
            None => tracing::info!("started in {:.3} s (no checkpoint to recover from)", started.elapsed().as_secs_f64()),
        }
        Ok(engine)
    }

    /// A dataflow's part in checkpoints, with its saved state (taken out of
    /// the restored checkpoint) when the server is restarting.
    pub(crate) fn checkpointing(&self, member: MemberId) -> SqlResult<Checkpointing> {
        let mut restored = self.restored.lock();
        let state = restored.as_mut().and_then(|r| r.parts.remove(&member.to_string()));
        if state.is_none() {
            self.coord.remove_segments(&member); // rows of a run that never checkpointed
        }
        Ok(Checkpointing { coord: self.coord.clone(), member, restored: state, gate: self.gate.lock().clone() })
    }

    /// A sink's saved epochs (taken out of the restored checkpoints), when the server is restarting.
    pub(crate) fn restored_sink_parts(&self, member: &MemberId) -> Vec<(u64, Vec<u8>)> {
        self.restored.lock().as_mut().map(|r| r.take_sink_parts(member)).unwrap_or_default()
    }

    async fn restore(self: &Arc<Self>, rec: Recovered) -> anyhow::Result<()> {
        for def in rec.definitions {
            self.restore_definition(def).await?;
        }
        for (id, batches) in rec.snapshot_tables {
            if let Some(t) = self.table_by_id(id) {
                let all = arrow::compute::concat_batches(&t.schema, &batches)?;
                t.replace(all)?;
            }
        }
        for r in rec.records {
            match r.header {
                Header::Define { def } => self.restore_definition(def).await?,
                Header::Drop { id } => {
                    self.tables.write().retain(|_, t| t.id != id);
                    self.sources.write().retain(|_, t| t.id != id);
                    self.views.write().retain(|_, t| t.id != id);
                    self.plain_views.write().retain(|_, t| t.id != id);
                    self.sinks.write().retain(|_, t| t.id != id);
                    self.schemas.write().retain(|_, s| *s != id);
                    self.definitions.write().retain(|d| d.id != id);
                }
                Header::Append { id } => {
                    if let Some(t) = self.table_by_id(id) {
                        for b in r.batches {
                            t.append(b.with_schema(t.schema.clone())?, vec![]);
                        }
                        t.rebuild_keys()?;
                    }
                }
                Header::Replace { id } => {
                    if let Some(t) = self.table_by_id(id) {
                        let all = arrow::compute::concat_batches(&t.schema, &r.batches)?;
                        t.replace(all)?;
                    }
                }
                // The group's records follow; the log holds only whole groups.
                Header::Group { .. } => {}
            }
        }
        Ok(())
    }

    async fn restore_definition(self: &Arc<Self>, def: Definition) -> anyhow::Result<()> {
        self.next_id.fetch_max(def.id + 1, std::sync::atomic::Ordering::SeqCst);
        match def.kind {
            ObjectKind::Schema => {
                self.schemas.write().insert(def.name.clone(), def.id);
            }
            ObjectKind::Table => {
                let ctx = self.context();
                let mut stmt = parse_statements(&def.sql)?.pop().ok_or_else(|| anyhow::anyhow!("empty definition"))?;
                let mirror = crate::engine::mirror::take_options(&mut stmt)?;
                let (schema, primary_key) = plan_create_table(&ctx, stmt).await?;
                let table = Arc::new(Table::new(def.id, def.name.clone(), schema, primary_key));
                if let Some(m) = mirror {
                    self.set_mirror(&table, m);
                }
                self.tables.write().insert(def.name.clone(), table);
            }
            ObjectKind::PlainView => {
                let Some(Statement::CreateView(cv)) = parse_statements(&def.sql)?.pop() else { anyhow::bail!("view {} has no definition", def.name) };
                let view = self.prepare_plain_view(&cv, def.id).await?;
                self.plain_views.write().insert(def.name.clone(), Arc::new(view));
            }
            ObjectKind::Source | ObjectKind::View | ObjectKind::Sink => {
                let parsed = weir_planner::parse_sql(&def.sql)?.pop().ok_or_else(|| anyhow::anyhow!("empty definition"))?;
                match parsed.statement {
                    WeirStatement::CreateSource(cs) => {
                        let src = self.prepare_source(&cs, def.id).await?;
                        self.sources.write().insert(src.name.clone(), Arc::new(src));
                    }
                    WeirStatement::CreateView(cv) => {
                        let view = self.prepare_view(&cv, def.id).await?;
                        self.views.write().insert(view.name.clone(), Arc::new(view));
                    }
                    WeirStatement::CreateSink(cs) => {
                        let sink = self.prepare_sink(&cs, def.id)?;
                        self.sinks.write().insert(sink.name.clone(), Arc::new(sink));
                    }
                    _ => anyhow::bail!("definition of {} is not a CREATE statement", def.name),
                }
            }
        }
        self.definitions.write().push(def);
        Ok(())
    }

    /// Logs a new source or view definition; returns its id.
    pub(crate) fn define(&self, writer: &mut Writer<'_>, kind: ObjectKind, name: &str, sql: &str) -> SqlResult<u64> {
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let def = Definition { id, kind, name: name.into(), sql: sql.into() };
        tokio::task::block_in_place(|| writer.0.append(&Header::Define { def: def.clone() }, None, &[])).map_err(|e| io_error("log the definition", e))?;
        self.definitions.write().push(def);
        Ok(id)
    }

    /// Logs that an object is gone.
    pub(crate) fn undefine(&self, writer: &mut Writer<'_>, id: u64) -> SqlResult<()> {
        tokio::task::block_in_place(|| writer.0.append(&Header::Drop { id }, None, &[])).map_err(|e| io_error("log the drop", e))?;
        self.definitions.write().retain(|d| d.id != id);
        Ok(())
    }

    fn object_count(&self) -> usize {
        self.tables.read().len() + self.sources.read().len() + self.views.read().len() + self.plain_views.read().len() + self.sinks.read().len()
    }

    /// Whether a new object may take `name`: Ok(false) when it exists and
    /// IF NOT EXISTS was given (nothing to do), 42P07 when it exists otherwise.
    pub(crate) fn claim_name(&self, name: &str, if_not_exists: bool) -> SqlResult<bool> {
        self.check_schema_of(name)?;
        match self.kind_of(name) {
            None if self.object_count() >= self.max_objects => Err(SqlError::new(
                SqlState::ProgramLimitExceeded,
                format!("cannot create \"{name}\": the server holds {} tables, sources, views and sinks, as many as it may", self.max_objects),
            )
            .with_hint("drop objects that are no longer needed, or start weir with a higher --max-objects")),
            None => Ok(true),
            Some(_) if if_not_exists => Ok(false),
            Some(kind) => {
                Err(SqlError::new(SqlState::DuplicateTable, format!("relation \"{name}\" already exists")).with_detail(format!("\"{name}\" is a {kind}")))
            }
        }
    }

    /// The kind of object called `name`, if any: names are shared by tables, sources, views and sinks.
    pub fn kind_of(&self, name: &str) -> Option<ObjectKind> {
        if self.tables.read().contains_key(name) {
            Some(ObjectKind::Table)
        } else if self.sources.read().contains_key(name) {
            Some(ObjectKind::Source)
        } else if self.views.read().contains_key(name) {
            Some(ObjectKind::View)
        } else if self.sinks.read().contains_key(name) {
            Some(ObjectKind::Sink)
        } else if self.plain_views.read().contains_key(name) {
            Some(ObjectKind::PlainView)
        } else {
            None
        }
    }

    /// The stored SQL of object `id`.
    pub fn definition_sql(&self, id: u64) -> Option<String> {
        self.definitions.read().iter().find(|d| d.id == id).map(|d| d.sql.clone())
    }

    fn table_by_id(&self, id: u64) -> Option<Arc<Table>> {
        self.tables.read().values().find(|t| t.id == id).cloned()
    }

    /// The committed contents of every table, all as of one moment.
    pub fn table_snapshots(&self) -> std::collections::HashMap<String, Arc<crate::storage::table::TableData>> {
        let _consistent = self.visibility.read();
        self.tables.read().iter().map(|(k, t)| (k.clone(), t.snapshot())).collect()
    }

    pub fn table(&self, name: &str) -> Option<Arc<Table>> {
        self.tables.read().get(name).cloned()
    }

    pub fn table_names(&self) -> Vec<String> {
        self.tables.read().keys().cloned().collect()
    }

    /// Every relation name SELECT can see: tables, sources, views, system relations.
    pub fn relation_names(&self) -> Vec<String> {
        let mut names = self.table_names();
        names.extend(self.sources.read().keys().cloned());
        names.extend(self.views.read().keys().cloned());
        names.extend(self.plain_views.read().keys().cloned());
        names.extend(system::NAMES.iter().map(|s| s.to_string()));
        names
    }

    /// A DataFusion context that sees weir's objects as the `public` schema.
    pub fn context(self: &Arc<Self>) -> SessionContext {
        self.context_at(0, None)
    }

    /// A context for one session: its queries read the session's `scope`
    /// (the tables its open transaction wrote, its search path, its settings).
    pub fn session_context(self: &Arc<Self>, scope: SessionScope) -> SessionContext {
        self.context_at(0, Some(scope))
    }

    /// A context for planning a view's query `depth` views deep.
    pub(crate) fn context_at(self: &Arc<Self>, depth: usize, scope: Option<SessionScope>) -> SessionContext {
        let mut config = SessionConfig::new()
            .with_default_catalog_and_schema(CATALOG, SCHEMA)
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(false)
            .with_target_partitions(self.target_partitions);
        // timestamptz is UTC, as the server's TimeZone setting says.
        config.options_mut().execution.time_zone = Some("+00:00".into());
        // `1.5` is numeric, as in PostgreSQL, not a double.
        config.options_mut().sql_parser.parse_float_as_decimal = true;
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_default_features()
            .with_type_planner(Arc::new(WeirTypePlanner))
            .build();
        let ctx = SessionContext::new_with_state(state);
        let functions = pg_catalog::functions::all(self, scope.as_ref());
        ctx.register_catalog(CATALOG, Arc::new(schemas::WeirCatalog { engine: Arc::downgrade(self), depth, scope }));
        for f in functions {
            ctx.register_udf(f);
        }
        weir_planner::pgfunctions::register(&ctx);
        ctx
    }

    /// The write lock: hold it from reading what a write depends on until
    /// the write is applied, so concurrent writers never lose an update.
    pub async fn writer(&self) -> Writer<'_> {
        Writer(self.storage.lock().await)
    }

    /// Makes a transaction's new table contents durable in one write, then
    /// visible. Each table must still hold what the transaction began from
    /// (`base`); otherwise another session changed it first and nothing is applied.
    pub fn apply_transaction(&self, writer: &mut Writer<'_>, tables: Vec<(Arc<Table>, Arc<crate::storage::table::TableData>, RecordBatch)>) -> SqlResult<()> {
        for (table, base, contents) in &tables {
            if !Arc::ptr_eq(base, &table.snapshot()) {
                return Err(SqlError::new(SqlState::SerializationFailure, "could not serialize access due to concurrent update")
                    .with_detail(format!("another session changed table \"{}\" during this transaction", table.name))
                    .with_hint("run the transaction again"));
            }
            table.check_replacement(std::slice::from_ref(contents))?;
        }
        let records: Vec<(Header, &SchemaRef, Vec<RecordBatch>)> =
            tables.iter().map(|(t, _, c)| (Header::Replace { id: t.id }, &t.schema, vec![c.clone()])).collect();
        tokio::task::block_in_place(|| writer.0.append_group(&records)).map_err(|e| io_error("log the transaction", e))?;
        let _all_at_once = self.visibility.write();
        for (table, _, contents) in tables {
            table.replace(contents)?;
        }
        self.compact_if_due(writer)
    }

    fn compact_if_due(&self, writer: &mut Writer<'_>) -> SqlResult<()> {
        let storage = &mut *writer.0;
        if storage.wants_compaction() {
            let defs = self.definitions.read().clone();
            let tables: Vec<_> = self.tables.read().values().map(|t| (t.id, t.schema.clone(), t.snapshot().batches.clone())).collect();
            tokio::task::block_in_place(|| storage.snapshot(&defs, &tables)).map_err(|e| io_error("write a snapshot", e))?;
        }
        Ok(())
    }

    /// Makes a change durable, then visible.
    pub fn apply(&self, writer: &mut Writer<'_>, change: Change) -> SqlResult<()> {
        let storage = &mut *writer.0;
        match change {
            Change::CreateTable { name, sql, schema, primary_key } => {
                self.claim_name(&name, false)?;
                let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let def = Definition { id, kind: ObjectKind::Table, name: name.clone(), sql };
                tokio::task::block_in_place(|| storage.append(&Header::Define { def: def.clone() }, None, &[]))
                    .map_err(|e| io_error("log the definition", e))?;
                self.definitions.write().push(def);
                self.tables.write().insert(name.clone(), Arc::new(Table::new(id, name, schema, primary_key)));
            }
            Change::DropTable { table } => {
                tokio::task::block_in_place(|| storage.append(&Header::Drop { id: table.id }, None, &[])).map_err(|e| io_error("log the drop", e))?;
                self.tables.write().remove(&table.name);
                self.definitions.write().retain(|d| d.id != table.id);
            }
            Change::Append { table, batch } => {
                if batch.num_rows() == 0 {
                    return Ok(());
                }
                let keys = table.check_rows(&batch, false)?;
                tokio::task::block_in_place(|| storage.append(&Header::Append { id: table.id }, Some(&table.schema), std::slice::from_ref(&batch)))
                    .map_err(|e| io_error("log the insert", e))?;
                table.append(batch, keys);
            }
            Change::Replace { table, batches } => {
                let all = table.check_replacement(&batches)?;
                tokio::task::block_in_place(|| storage.append(&Header::Replace { id: table.id }, Some(&table.schema), std::slice::from_ref(&all)))
                    .map_err(|e| io_error("log the change", e))?;
                table.replace(all)?;
            }
        }
        self.compact_if_due(writer)
    }
}

/// Proof of holding the engine's write lock.
pub struct Writer<'a>(pub(crate) tokio::sync::MutexGuard<'a, Storage>);

/// Plans `CREATE TABLE` with DataFusion, giving the Arrow schema (primary-key
/// columns made NOT NULL) and the key's column indexes.
pub async fn plan_create_table(ctx: &SessionContext, stmt: datafusion::sql::sqlparser::ast::Statement) -> SqlResult<(SchemaRef, Vec<usize>)> {
    let plan = ctx.state().statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?;
    let LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(cmt)) = plan else {
        return Err(SqlError::internal("expected a CREATE TABLE plan"));
    };
    let mut primary_key = Vec::new();
    for c in cmt.constraints.iter() {
        match c {
            Constraint::PrimaryKey(cols) => primary_key = cols.clone(),
            Constraint::Unique(_) => return Err(SqlError::unsupported("UNIQUE constraints other than the primary key are not supported")),
        }
    }
    let arrow_schema: &Schema = cmt.input.schema().as_arrow();
    let fields: Vec<_> = arrow_schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| if primary_key.contains(&i) { Arc::new(f.as_ref().clone().with_nullable(false)) } else { f.clone() })
        .collect();
    Ok((Arc::new(Schema::new(fields)), primary_key))
}

/// One schema of weir's objects as a DataFusion schema. Each lookup takes a
/// consistent snapshot of the table's committed rows.
#[derive(Debug)]
pub struct WeirSchema {
    engine: Weak<Engine>,
    /// Which schema: its objects' keys are `schema.name` (bare in `public`).
    schema: String,
    /// How many plain views deep the statement being planned is.
    depth: usize,
    scope: Option<SessionScope>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

#[async_trait]
impl SchemaProvider for WeirSchema {
    fn table_names(&self) -> Vec<String> {
        let names = self.engine.upgrade().map(|e| e.relation_names()).unwrap_or_default();
        names.iter().map(|k| split_key(k)).filter(|(s, _)| *s == self.schema).map(|(_, n)| n.to_string()).collect()
    }

    async fn table(&self, name: &str) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        let Some(engine) = self.engine.upgrade() else { return Ok(None) };
        let key = object_key(&self.schema, name);
        let name = key.as_str();
        if let Some(table) = engine.table(name) {
            let own = self.scope.as_ref().and_then(|s| s.overlay.read().get(name).cloned());
            let taken = || self.scope.as_ref().and_then(|s| s.tables.read().get(name).map(|d| d.batches.clone()));
            let batches = own.or_else(taken).unwrap_or_else(|| table.snapshot().batches.clone());
            return Ok(Some(Arc::new(MemTable::try_new(table.schema.clone(), vec![batches])?)));
        }
        if let Some(streaming) = engine.stream_relation(name)? {
            return Ok(Some(streaming));
        }
        if let Some(v) = engine.plain_view(name) {
            let plan = engine.expand_view(&v, self.depth, self.scope.clone()).await?;
            return Ok(Some(Arc::new(datafusion::datasource::ViewTable::new(plan, Some(v.query.clone())))));
        }
        // As in PostgreSQL, pg_catalog is searched too: `FROM pg_class` works unqualified.
        if self.schema != SCHEMA {
            return Ok(None);
        }
        let rows = match name {
            pg_catalog::pg_settings::NAME => Some(pg_catalog::pg_settings::relation(self.scope.as_ref())?),
            _ => system::relation(&engine, name)?.or(pg_catalog::relation(&engine, name)?),
        };
        let Some((schema, batch)) = rows else { return Ok(None) };
        Ok(Some(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        let key = object_key(&self.schema, name);
        self.engine.upgrade().is_some_and(|e| e.relation_names().contains(&key)) || (self.schema == SCHEMA && pg_catalog::spec(name).is_some())
    }
}

/// The two schemas of system relations besides weir's own.
#[derive(Debug, Clone, Copy)]
enum SystemSchema {
    PgCatalog,
    InformationSchema,
}

/// `pg_catalog` and `information_schema` as DataFusion schemas, built from
/// the catalog each time a query reads them.
#[derive(Debug)]
struct SystemRelations {
    engine: Weak<Engine>,
    which: SystemSchema,
    scope: Option<SessionScope>,
}

#[async_trait]
impl SchemaProvider for SystemRelations {
    fn table_names(&self) -> Vec<String> {
        let names = match self.which {
            SystemSchema::PgCatalog => pg_catalog::names().into_iter().chain(system::NAMES.iter().copied()).collect::<Vec<_>>(),
            SystemSchema::InformationSchema => pg_catalog::information_schema::names(),
        };
        names.into_iter().map(String::from).collect()
    }

    async fn table(&self, name: &str) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        let Some(engine) = self.engine.upgrade() else { return Ok(None) };
        let rows = match self.which {
            SystemSchema::PgCatalog if name == pg_catalog::pg_settings::NAME => Some(pg_catalog::pg_settings::relation(self.scope.as_ref())?),
            SystemSchema::PgCatalog => pg_catalog::relation(&engine, name)?.or(system::relation(&engine, name)?),
            SystemSchema::InformationSchema => pg_catalog::information_schema::relation(&engine, name)?,
        };
        let Some((schema, batch)) = rows else { return Ok(None) };
        Ok(Some(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        match self.which {
            SystemSchema::PgCatalog => pg_catalog::spec(name).is_some() || system::NAMES.contains(&name),
            SystemSchema::InformationSchema => pg_catalog::information_schema::spec(name).is_some(),
        }
    }
}
