//! `weir`: a declarative SQL streaming server that speaks the PostgreSQL
//! wire protocol. This file is the command line: `weir serve` and friends.

mod cli;
mod dataflow;
mod engine;
mod frontend;
mod session;
mod storage;

use clap::{Parser, Subcommand};
use cli::config::{Config, ServeArgs};
use cli::{apply, bench, migrate};
use std::sync::Arc;
use tokio::net::TcpListener;

/// mimalloc: faster than the system allocator for Arrow's many buffers, and it
/// hands freed memory back to the OS instead of keeping every peak.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stack of each runtime thread: planning recurses over the statement tree.
const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

#[derive(Parser)]
#[command(
    name = "weir",
    version,
    about = "weir: declarative SQL streaming over the PostgreSQL wire protocol",
    long_about = "weir keeps SQL tables and views queryable over the PostgreSQL wire protocol.\n\
Connect with any PostgreSQL client, e.g. `psql -h 127.0.0.1 -p 5433`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: listen for PostgreSQL clients and keep data in a data directory
    Serve(ServeArgs),
    /// Measure continuous queries over the generator: events per CPU-second and peak memory
    Bench(bench::BenchArgs),
    /// Apply the warm-store schema (migrations/) to a PostgreSQL database, each file once
    Migrate(migrate::MigrateArgs),
    /// Create what .sql pipeline files define on a running weir; show and refuse changes unless --replace
    Apply(apply::ApplyArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = Config::resolve(args)?;
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into()))
                .with_writer(std::io::stderr)
                .init();
            tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(THREAD_STACK_BYTES).build()?.block_on(serve(config))
        }
        Command::Migrate(args) => tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(migrate::run(args)),
        Command::Apply(args) => tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(apply::run(args)),
        Command::Bench(args) => {
            tracing_subscriber::fmt().with_env_filter("warn").with_writer(std::io::stderr).init();
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(bench::run(args))
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let engine = engine::Engine::open(&config.data_dir, config.query_threads, config.wal_compact_bytes, Some(config.checkpoint_interval), config.limits)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open data directory {}: {e}", config.data_dir.display()))?;
    if config.demo {
        load_demo(&engine, &config.data_dir).await?;
    }
    let tls = config.tls.as_ref().map(|(cert, key)| frontend::tls::acceptor(cert, key)).transpose()?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e} (is another server using it? try --listen)", config.listen))?;
    let auth = if config.password.is_some() { "scram-sha-256 password" } else { "trust (no password)" };
    tracing::info!(
        "weir {} listening on postgres://{} (data directory {}, authentication: {auth}, TLS: {})",
        env!("CARGO_PKG_VERSION"),
        listener.local_addr()?,
        config.data_dir.display(),
        if tls.is_some() { "offered" } else { "off" }
    );
    let shared = frontend::Shared::new(engine.clone(), config.password.clone(), config.max_connections);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (socket, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => { tracing::warn!("accept failed: {e}"); continue; }
                };
                let _ = socket.set_nodelay(true);
                let handlers = Arc::new(frontend::Handlers::new(shared.clone()));
                let tls = tls.clone();
                tokio::spawn(async move {
                    if let Err(e) = pgwire::tokio::process_socket(socket, tls, handlers).await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            signal = &mut shutdown => {
                tracing::info!("received {signal}, shutting down");
                break;
            }
        }
    }
    // Every commit is synced before it is acknowledged, so nothing is left to
    // flush; dataflows stop at their next batch boundary.
    engine.stop_all();
    Ok(())
}

/// The pipelines `--demo` loads: the demo, then the reference design's.
const DEMO_FILES: [(&str, &str); 5] = [
    ("demo.sql", include_str!("../../queries/demo.sql")),
    ("clickstream.sql", include_str!("../../queries/clickstream.sql")),
    ("fraud.sql", include_str!("../../queries/fraud.sql")),
    ("inventory.sql", include_str!("../../queries/inventory.sql")),
    ("product_analytics.sql", include_str!("../../queries/product_analytics.sql")),
];

/// Loads the pipelines in `queries/` on their generator sources (settings
/// from the environment or the files' defaults), leaving what exists alone.
/// Sinks write Parquet files under `<data_dir>/demo-sinks/<sink>/` instead of
/// Redis, PostgreSQL, Kafka or S3, so nothing outside weir is needed; sinks
/// of views with updates are left out (their views are queryable).
async fn load_demo(engine: &std::sync::Arc<engine::Engine>, data_dir: &std::path::Path) -> anyhow::Result<()> {
    use weir_planner::WeirStatement;
    let sinks = std::path::absolute(data_dir)?.join("demo-sinks");
    for (file, text) in DEMO_FILES {
        let sql = apply::substitute(text, &|k| std::env::var(k).ok()).map_err(|e| anyhow::anyhow!("queries/{file}: {e}"))?;
        for p in weir_planner::parse_sql(&sql)? {
            let name = match &p.statement {
                WeirStatement::CreateSource(cs) => weir_planner::names::object_name(&cs.name)?,
                WeirStatement::CreateView(cv) => weir_planner::names::object_name(&cv.name)?,
                WeirStatement::CreateSink(cs) => weir_planner::names::object_name(&cs.name)?,
                _ => anyhow::bail!("queries/{file} holds a statement other than CREATE SOURCE / MATERIALIZED VIEW / SINK"),
            };
            if engine.kind_of(&name).is_some() {
                continue;
            }
            match &p.statement {
                WeirStatement::CreateSource(cs) => engine.create_source(cs, &p.sql).await?,
                WeirStatement::CreateView(cv) => engine.create_view(cv, &p.sql).await?,
                WeirStatement::CreateSink(cs) => {
                    let from = weir_planner::names::object_name(&cs.from)?;
                    if !engine.view_plan(&from).is_ok_and(|p| p.append_only) && engine.kind_of(&from) != Some(weir_planner::names::ObjectKind::Source) {
                        continue;
                    }
                    let path = format!("file://{}/", sinks.join(&name).display());
                    let local = format!("CREATE SINK {name} FROM {from} WITH (connector = 's3', path = '{path}', format = 'parquet', rollover = '10 seconds')");
                    for p in weir_planner::parse_sql(&local)? {
                        if let WeirStatement::CreateSink(cs) = &p.statement {
                            engine.create_sink(cs, &p.sql).await?;
                        }
                    }
                }
                _ => unreachable!(),
            }
        }
    }
    tracing::info!(
        "demo pipelines loaded (sinks write Parquet under {}): try SELECT * FROM fraud_alerts LIMIT 10; SELECT * FROM clickstream_metrics_5m; SELECT * FROM clicks_by_type;",
        sinks.display()
    );
    Ok(())
}

async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
