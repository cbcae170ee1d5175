//! The PostgreSQL wire protocol front end (pgwire): startup and
//! authentication, simple and extended query protocols, cancel requests.
//! Each connection gets its own [`Connection`] holding its [`Session`].

pub mod copy;
pub mod encode;
mod numeric;
pub mod tls;

use crate::engine::Engine;
use crate::frontend::copy::{PendingCopy, copy_out};
use crate::frontend::encode::{Shown, encode_batch, pg_fields};
use crate::session::settings::SERVER_VERSION;
use crate::session::{Description, Output, Session};
use arrow::datatypes::DataType;
use async_trait::async_trait;
use bytes::Bytes;
use datafusion::common::ParamValues;
use datafusion::sql::sqlparser::ast::Statement;
use futures::{FutureExt, Sink, SinkExt, StreamExt, stream};
use pgwire::api::DEFAULT_NAME;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::Entry;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, PgWireServerHandlers, PidSecretKeyGenerator, RandomPidSecretKeyGenerator, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::data::{NoData, ParameterDescription};
use pgwire::messages::extendedquery::{Describe, Execute, TARGET_TYPE_BYTE_PORTAL, TARGET_TYPE_BYTE_STATEMENT};
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::simplequery::Query;
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use tokio_util::sync::CancellationToken;
use weir_planner::{Parsed, SqlError, SqlState, WeirStatement, parse_sql};

/// COMMIT and ROLLBACK end a transaction block, even a failed one.
fn ends_block(stmt: &WeirStatement) -> bool {
    matches!(stmt, WeirStatement::Sql(Statement::Rollback { .. } | Statement::Commit { .. }))
}

/// `ROLLBACK TO SAVEPOINT`, which takes a failed block back to a savepoint.
fn rolls_back_to_savepoint(stmt: &WeirStatement) -> bool {
    matches!(stmt, WeirStatement::Sql(Statement::Rollback { savepoint: Some(_), .. }))
}

/// pgwire keeps a failed block failed whatever runs in it. Before a
/// `ROLLBACK TO SAVEPOINT` in one, the status is set back to "in a block":
/// if the rollback succeeds, the block goes on, as in PostgreSQL; if it
/// fails, its error makes the block failed again.
fn before_rollback_to<C: ClientInfo>(client: &mut C, is_rollback_to: impl FnOnce(&C) -> bool) {
    if matches!(client.transaction_status(), TransactionStatus::Error) && is_rollback_to(client) {
        client.set_transaction_status(TransactionStatus::Transaction);
    }
}

/// SCRAM iterations for password hashing (PostgreSQL's default).
const SCRAM_ITERATIONS: usize = 4096;

/// State shared by every connection.
pub struct Shared {
    pub engine: Arc<Engine>,
    pub password: Option<String>,
    cancels: Cancels,
    pids: RandomPidSecretKeyGenerator,
    /// Most client sessions at once (`--max-connections`); one more is refused with 53300.
    max_connections: usize,
    /// Open connections (sockets with handlers).
    connections: std::sync::atomic::AtomicUsize,
}

impl Shared {
    pub fn new(engine: Arc<Engine>, password: Option<String>, max_connections: usize) -> Arc<Self> {
        Arc::new(Shared { engine, password, cancels: Cancels::default(), pids: Default::default(), max_connections, connections: Default::default() })
    }

    /// A new client's startup: refused once `max_connections` sessions are open, as PostgreSQL does.
    fn admit(&self) -> PgWireResult<()> {
        if self.connections.load(Ordering::Relaxed) > self.max_connections {
            tracing::warn!("refused a connection: {} sessions are open (max_connections)", self.max_connections);
            let mut info = ErrorInfo::new("FATAL".into(), "53300".into(), "sorry, too many clients already".into());
            info.hint = Some(format!("weir takes at most {} sessions at once (--max-connections); close idle ones or raise the limit", self.max_connections));
            return Err(PgWireError::UserError(Box::new(info)));
        }
        Ok(())
    }
}

/// The running statement of each connection, by backend pid, so that a
/// CancelRequest (which arrives on a new connection) can stop it: while it
/// plans, while it computes, and while its rows stream out.
#[derive(Default)]
struct Cancels {
    running: parking_lot::Mutex<HashMap<i32, (Bytes, CancellationToken)>>,
}

impl Cancels {
    /// Registers a new statement of connection `pid`, replacing the last one.
    fn begin(&self, pid: i32, key: &SecretKey) -> CancellationToken {
        let token = CancellationToken::new();
        self.running.lock().insert(pid, (key.to_bytes(), token.clone()));
        token
    }

    fn cancel(&self, pid: i32, key: &SecretKey) {
        if let Some((k, token)) = self.running.lock().get(&pid)
            && *k == key.to_bytes()
        {
            token.cancel();
        }
    }

    fn forget(&self, pid: i32) {
        self.running.lock().remove(&pid);
    }
}

fn canceled() -> SqlError {
    SqlError::new(SqlState::QueryCanceled, "canceling statement due to user request")
}

/// Why a statement was stopped: the client's cancel request or its statement_timeout.
#[derive(Clone, Default)]
struct Stop(Arc<std::sync::atomic::AtomicBool>);

impl Stop {
    /// Cancels `token` once `timeout` passes (the timer outlives nothing: a
    /// token belongs to one statement).
    fn after(timeout: Option<std::time::Duration>, token: &CancellationToken) -> Stop {
        let stop = Stop::default();
        if let Some(t) = timeout {
            let (flag, token) = (stop.0.clone(), token.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep(t) => {
                        flag.store(true, Ordering::Relaxed);
                        token.cancel();
                    }
                    _ = token.cancelled() => {}
                }
            });
        }
        stop
    }

    fn error(&self) -> SqlError {
        if self.0.load(Ordering::Relaxed) {
            SqlError::new(SqlState::QueryCanceled, "canceling statement due to statement timeout")
                .with_hint("SET statement_timeout to allow longer statements (0: no limit)")
        } else {
            canceled()
        }
    }
}

/// Answers CancelRequest messages from the registry.
pub struct CancelByPid(Arc<Shared>);

#[async_trait]
impl CancelHandler for CancelByPid {
    async fn on_cancel_request(&self, req: CancelRequest) {
        self.0.cancels.cancel(req.pid, &req.secret_key);
    }
}

fn server_parameters() -> DefaultServerParameterProvider {
    let mut p = DefaultServerParameterProvider::default();
    p.server_version = SERVER_VERSION.to_string();
    p.time_zone = "UTC".into();
    p.date_style = "ISO, MDY".into();
    p.interval_style = "postgres".into();
    p
}

pub fn to_pg_error(e: SqlError) -> PgWireError {
    let mut info = ErrorInfo::new("ERROR".into(), e.state.code().into(), e.message);
    info.hint = e.hint;
    info.detail = e.detail;
    PgWireError::UserError(Box::new(info))
}

fn error_response(e: SqlError) -> Response {
    match to_pg_error(e) {
        PgWireError::UserError(info) => Response::Error(info),
        _ => unreachable!("to_pg_error gives user errors"),
    }
}

/// A statement prepared with Parse: its text, AST and shape.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub statement: WeirStatement,
    pub sql: String,
    pub description: Description,
}

/// One client connection.
pub struct Connection {
    shared: Arc<Shared>,
    session: tokio::sync::Mutex<Session>,
    /// Backend pid, once a statement has run (0 before).
    pid: AtomicI32,
    /// The user named at startup, once a statement has run.
    user: parking_lot::Mutex<Option<String>>,
    /// A `COPY ... FROM STDIN` waiting for the client's data.
    copy_in: parking_lot::Mutex<Option<PendingCopy>>,
    /// Startup settings not yet given to the session.
    startup: parking_lot::Mutex<Vec<(String, String)>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let pid = self.pid.load(Ordering::Relaxed);
        self.shared.connections.fetch_sub(1, Ordering::Relaxed);
        self.shared.cancels.forget(pid);
        self.shared.engine.sessions.close(pid);
    }
}

impl Connection {
    pub fn new(shared: Arc<Shared>) -> Arc<Self> {
        let session = Session::new(shared.engine.clone());
        shared.connections.fetch_add(1, Ordering::Relaxed);
        Arc::new(Connection {
            shared,
            session: tokio::sync::Mutex::new(session),
            pid: AtomicI32::new(0),
            user: Default::default(),
            copy_in: Default::default(),
            startup: Default::default(),
        })
    }

    fn begin_statement<C: ClientInfo>(&self, client: &C) -> CancellationToken {
        let (pid, key) = client.pid_and_secret_key();
        self.pid.store(pid, Ordering::Relaxed);
        let mut user = self.user.lock();
        if user.is_none() {
            *user = client.metadata().get(pgwire::api::METADATA_USER).cloned();
            // Settings the client sent at startup (TimeZone, application_name, ...) act as if SET.
            let settings = client.metadata().iter().filter(|(k, _)| !matches!(k.as_str(), "user" | "database" | "options" | "replication"));
            *self.startup.lock() = settings.map(|(k, v)| (k.clone(), v.clone())).collect();
        }
        self.shared.cancels.begin(pid, &key)
    }

    /// Tells the session who it serves (for current_user and pg_backend_pid).
    fn identify(&self, session: &mut Session) {
        session.pid = self.pid.load(Ordering::Relaxed);
        if let Some(user) = self.user.lock().clone() {
            session.user = user;
        }
        for (name, value) in std::mem::take(&mut *self.startup.lock()) {
            if let Err(e) = session.settings.set(&name, value) {
                tracing::warn!("startup parameter {name} ignored: {}", e.message);
            }
        }
    }

    /// Whether the client's transaction block has failed (pgwire tracks it,
    /// also for errors met while rows were streaming out).
    fn block_failed<C: ClientInfo>(client: &C) -> bool {
        matches!(client.transaction_status(), TransactionStatus::Error)
    }

    async fn run(
        &self,
        stmt: WeirStatement,
        sql: &str,
        params: &ParamValues,
        format: &Format,
        block_failed: bool,
        cancel: CancellationToken,
    ) -> Result<Response, SqlError> {
        if block_failed && !ends_block(&stmt) {
            return Err(SqlError::new(SqlState::InFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
                .with_hint("send ROLLBACK to end the failed transaction"));
        }
        let (output, stop, shown) = {
            let mut session = self.session.lock().await;
            self.identify(&mut session);
            if block_failed {
                // COMMIT of a failed block rolls it back, its SETs included.
                session.fail_block();
            }
            let stop = Stop::after(session.settings.statement_timeout(), &cancel);
            let sessions = &self.shared.engine.sessions;
            sessions.begin(session.pid, &session.user, session.settings.get("application_name").unwrap_or(""), sql);
            let shown = Shown { time_zone: session.settings.time_zone(), bytea_escape: session.settings.bytea_escape() };
            // A panic is a bug in weir: it fails this statement, not the server.
            let run = std::panic::AssertUnwindSafe(session.execute_weir(stmt, sql, params)).catch_unwind();
            let out = tokio::select! {
                out = run => out.map_err(|p| {
                    let what = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                    tracing::error!("statement panicked: {what}");
                    SqlError::internal(format!("internal error: {what}")).with_hint("this is a bug in weir; please report it with the statement")
                }).and_then(|r| r),
                _ = cancel.cancelled() => Err(stop.error()),
            };
            sessions.end(session.pid, session.settings.get("application_name").unwrap_or(""), session.in_transaction());
            (out?, stop, shown)
        };
        Ok(match output {
            Output::Rows { schema, stream, tag } => {
                let fields = Arc::new(pg_fields(&schema, format).map_err(|e| SqlError::internal(e.to_string()))?);
                let f = fields.clone();
                // Rows stream out after this returns; a cancel ends the stream with an error.
                let stopped = Box::pin(cancel.clone().cancelled_owned());
                let batches = stream.map(Some).take_until(stopped).chain(stream::once(async { None }));
                let mut failed = false;
                let rows = batches
                    .filter_map(move |b| {
                        let out = match b {
                            _ if failed => None,
                            Some(Ok(b)) => Some(encode_batch(&f, &b, shown)),
                            Some(Err(e)) => Some(vec![Err(to_pg_error(SqlError::from(e)))]),
                            None if cancel.is_cancelled() => Some(vec![Err(to_pg_error(stop.error()))]),
                            None => None,
                        };
                        failed |= out.as_ref().is_some_and(|rows| rows.last().is_some_and(|r| r.is_err()));
                        futures::future::ready(out)
                    })
                    .map(stream::iter)
                    .flatten();
                let mut resp = QueryResponse::new(fields, rows);
                resp.set_command_tag(&tag);
                Response::Query(resp)
            }
            Output::Command { tag, rows } => {
                let mut t = Tag::new(&tag);
                if let Some(n) = rows {
                    t = t.with_rows(n);
                }
                Response::Execution(t)
            }
            Output::CopyOut { schema, stream, format } => Response::CopyOut(copy_out(schema, stream, format, shown)?),
            Output::CopyIn { table, columns, format } => {
                let n = columns.len();
                *self.copy_in.lock() = Some(PendingCopy { table, columns, format, data: Vec::new(), too_big: false });
                Response::CopyIn(pgwire::api::results::CopyResponse::new(0, n, stream::empty()))
            }
            Output::TransactionStart => Response::TransactionStart(Tag::new("BEGIN")),
            Output::TransactionEnd { tag } => Response::TransactionEnd(Tag::new(&tag)),
        })
    }
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        before_rollback_to(client, |_| parse_sql(&query.query).is_ok_and(|p| p.first().is_some_and(|p| rolls_back_to_savepoint(&p.statement))));
        self._on_query(client, query).await
    }

    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = parse_sql(query).map_err(to_pg_error)?;
        if statements.is_empty() {
            // Only comments: an empty query, as PostgreSQL answers it.
            return Ok(vec![Response::EmptyQuery]);
        }
        let cancel = self.begin_statement(client);
        let mut responses = Vec::with_capacity(statements.len());
        // In a failed transaction block only COMMIT/ROLLBACK run, as in PostgreSQL.
        let mut failed = matches!(client.transaction_status(), TransactionStatus::Error);
        for Parsed { statement, sql } in statements {
            let ends = ends_block(&statement);
            // A FETCH from a BINARY cursor answers in binary, as PostgreSQL's simple query does.
            let binary = self.session.lock().await.fetches_binary(&statement);
            let format = if binary { Format::UnifiedBinary } else { Format::UnifiedText };
            match self.run(statement, &sql, &ParamValues::List(vec![]), &format, failed, cancel.clone()).await {
                Ok(r) => {
                    failed &= !ends;
                    responses.push(r)
                }
                Err(e) => {
                    responses.push(error_response(e));
                    break; // PostgreSQL stops a multi-statement query at its first error
                }
            }
        }
        Ok(responses)
    }
}

/// Parses and describes statements for the extended protocol.
pub struct Parser {
    conn: std::sync::Weak<Connection>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(&self, _client: &C, sql: &str, _types: &[Option<Type>]) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut statements = parse_sql(sql).map_err(to_pg_error)?;
        if statements.len() > 1 {
            return Err(to_pg_error(SqlError::syntax("cannot insert multiple commands into a prepared statement")));
        }
        let Some(Parsed { statement, sql }) = statements.pop() else { return Ok(None) };
        let conn = self.conn.upgrade().ok_or_else(|| PgWireError::IoError(std::io::ErrorKind::BrokenPipe.into()))?;
        let mut session = conn.session.lock().await;
        conn.identify(&mut session);
        let description = session.describe_weir(&statement).await.map_err(to_pg_error)?;
        drop(session);
        Ok(Some(Prepared { statement, sql, description }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        let d = &stmt.description;
        d.params
            .iter()
            .enumerate()
            .map(|(i, t)| match t {
                _ if d.jsonb_params.contains(&i) => Ok(Type::JSONB),
                Some(t) => arrow_pg::datatypes::into_pg_type(t),
                None => Ok(Type::UNKNOWN),
            })
            .collect()
    }

    fn get_result_schema(&self, stmt: &Prepared, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        match &stmt.description.schema {
            Some(schema) => pg_fields(schema, format.unwrap_or(&Format::UnifiedBinary)),
            None => Ok(vec![]),
        }
    }
}

/// The handler pgwire calls for one connection's extended-protocol messages.
pub struct Extended {
    conn: Arc<Connection>,
    parser: Arc<Parser>,
}

#[async_trait]
impl ExtendedQueryHandler for Extended {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        before_rollback_to(
            client,
            |c| matches!(c.portal_store().get_portal(name), Some(Entry::Value(p)) if rolls_back_to_savepoint(&p.statement.statement.statement)),
        );
        self._on_execute(client, message).await
    }

    /// As pgwire's, except that a statement with parameters but no result
    /// columns answers NoData (pgwire would send an empty RowDescription,
    /// which JDBC takes for a result set).
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if message.target_type == TARGET_TYPE_BYTE_STATEMENT {
            let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
            if let Some(Entry::Value(stmt)) = client.portal_store().get_statement(name) {
                let described = self.do_describe_statement(client, &stmt).await?;
                if described.fields.is_empty() {
                    let types = described.parameters.iter().map(|t| t.oid()).collect();
                    client.feed(PgWireBackendMessage::ParameterDescription(ParameterDescription::new(types))).await?;
                    client.send(PgWireBackendMessage::NoData(NoData::new())).await?;
                    return Ok(());
                }
            }
        }
        if message.target_type == TARGET_TYPE_BYTE_PORTAL {
            let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
            let cursor = if client.portal_store().get_portal(name).is_none() { self.conn.session.lock().await.cursor_schema(name) } else { None };
            if let Some(schema) = cursor {
                // A portal opened by SQL DECLARE: its rows come in text from FETCH.
                let fields = pg_fields(&schema, &Format::UnifiedText)?;
                let row = pgwire::messages::data::RowDescription::new(fields.iter().map(Into::into).collect());
                client.send(PgWireBackendMessage::RowDescription(row)).await?;
                return Ok(());
            }
        }
        self._on_describe(client, message).await
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Prepared>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = &portal.statement.statement;
        let types: Vec<Option<&DataType>> = prepared.description.params.iter().map(|t| t.as_ref()).collect();
        let params = arrow_pg::datatypes::df::deserialize_parameters(&json_params_as_text(portal), &types)?;
        let failed = Connection::block_failed(client);
        let cancel = self.conn.begin_statement(client);
        self.conn.run(prepared.statement.clone(), &prepared.sql, &params, &portal.result_column_format, failed, cancel).await.map_err(to_pg_error)
    }
}

/// A copy of `portal` whose `json`/`jsonb` parameters are plain text (the
/// binary `jsonb` form is a version byte and the text), which is how weir
/// holds JSON.
fn json_params_as_text(portal: &Portal<Prepared>) -> Portal<()> {
    let mut types = portal.statement.parameter_types.clone();
    types.resize(portal.parameters.len(), None);
    let mut values = portal.parameters.clone();
    let described = &portal.statement.statement.description.jsonb_params;
    for (i, t) in types.iter_mut().enumerate() {
        // The client's type if it sent one, else the one weir described.
        if t.is_none() && described.contains(&i) {
            *t = Some(Type::JSONB);
        }
        if matches!(t, Some(ty) if *ty == Type::JSONB || *ty == Type::JSON) {
            if portal.parameter_format.is_binary(i)
                && *t == Some(Type::JSONB)
                && let Some(Some(v)) = values.get_mut(i)
            {
                *v = v.slice(1.min(v.len())..);
            }
            *t = Some(Type::TEXT);
        }
    }
    let statement = StoredStatement::new(portal.statement.id.clone(), (), types);
    let mut copy = Portal::default();
    copy.name = portal.name.clone();
    copy.statement = Arc::new(statement);
    copy.parameter_format = portal.parameter_format.clone();
    copy.parameters = values;
    copy.result_column_format = portal.result_column_format.clone();
    copy
}

/// Trust authentication: no password, but the same startup messages and
/// cancel registration as the password path.
pub struct TrustStartup {
    shared: Arc<Shared>,
}

#[async_trait]
impl StartupHandler for TrustStartup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let PgWireFrontendMessage::Startup(ref startup) = message {
            protocol_negotiation(client, startup).await?;
            save_startup_parameters_to_metadata(client, startup);
            let (pid, key) = self.shared.pids.generate(client);
            client.set_pid_and_secret_key(pid, key);
            finish_authentication(client, &server_parameters()).await?;
            client.set_state(PgWireConnectionState::ReadyForQuery);
        }
        Ok(())
    }
}

/// The configured password, for SCRAM-SHA-256.
#[derive(Debug)]
struct ConfiguredPassword(String);

#[async_trait]
impl AuthSource for ConfiguredPassword {
    async fn get_password(&self, _login: &LoginInfo) -> PgWireResult<Password> {
        let salt: [u8; 16] = rand::random();
        let hashed = gen_salted_password(&self.0, &salt, SCRAM_ITERATIONS);
        Ok(Password::new(Some(salt.to_vec()), hashed))
    }
}

/// The handlers of one connection, as pgwire asks for them.
pub struct Handlers {
    conn: Arc<Connection>,
    extended: Arc<Extended>,
    cancel: Arc<CancelByPid>,
}

impl Handlers {
    pub fn new(shared: Arc<Shared>) -> Self {
        let conn = Connection::new(shared.clone());
        let parser = Arc::new(Parser { conn: Arc::downgrade(&conn) });
        let extended = Arc::new(Extended { conn: conn.clone(), parser });
        let cancel = Arc::new(CancelByPid(shared));
        Handlers { conn, extended, cancel }
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.conn.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.extended.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::new(AnyStartup::new(self.conn.shared.clone()))
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        self.conn.clone()
    }
}

/// Trust or SCRAM-SHA-256, depending on whether a password is configured.
pub enum AnyStartup {
    Trust(TrustStartup),
    Scram(SASLAuthStartupHandler<DefaultServerParameterProvider>, Arc<Shared>),
}

impl AnyStartup {
    fn new(shared: Arc<Shared>) -> Self {
        match shared.password.clone() {
            None => AnyStartup::Trust(TrustStartup { shared }),
            Some(pw) => {
                let mut scram = ScramAuth::new(Arc::new(ConfiguredPassword(pw)));
                scram.set_iterations(SCRAM_ITERATIONS);
                AnyStartup::Scram(SASLAuthStartupHandler::new(Arc::new(server_parameters())).with_scram(scram), shared)
            }
        }
    }
}

#[async_trait]
impl StartupHandler for AnyStartup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let (PgWireFrontendMessage::Startup(_), AnyStartup::Trust(TrustStartup { shared }) | AnyStartup::Scram(_, shared)) = (&message, self) {
            shared.admit()?;
        }
        match self {
            AnyStartup::Trust(t) => t.on_startup(client, message).await,
            AnyStartup::Scram(s, _) => s.on_startup(client, message).await,
        }
    }
}
