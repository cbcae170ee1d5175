//! `weir`: a declarative SQL streaming server that speaks the PostgreSQL
//! wire protocol. This file is the command line: `weir serve` and friends.

mod apply;
mod bench;
mod checkpoint;
mod codec;
mod config;
mod encode;
mod engine;
mod frontend;
mod migrate;
mod objects;
mod pgcompat;
mod session;
mod settings;
mod sinks;
mod storage;
mod stream;
mod table;

use clap::{Parser, Subcommand};
use config::{Config, ServeArgs};
use std::sync::Arc;
use tokio::net::TcpListener;

/// mimalloc: faster than the system allocator for Arrow's many buffers, and it
/// hands freed memory back to the OS instead of keeping every peak.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stack of each runtime thread: planning recurses over the statement tree.
const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

#[derive(Parser)]
#[command(name = "weir", version, about = "weir: declarative SQL streaming over the PostgreSQL wire protocol",
    long_about = "weir keeps SQL tables and views queryable over the PostgreSQL wire protocol.\n\
Connect with any PostgreSQL client, e.g. `psql -h 127.0.0.1 -p 5433`.")]
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
    let engine = engine::Engine::open(&config.data_dir, config.query_threads, config.wal_compact_bytes, Some(config.checkpoint_interval))
        .await
        .map_err(|e| anyhow::anyhow!("cannot open data directory {}: {e}", config.data_dir.display()))?;
    if config.demo {
        load_demo(&engine).await?;
    }
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e} (is another server using it? try --listen)", config.listen))?;
    let auth = if config.password.is_some() { "scram-sha-256 password" } else { "trust (no password)" };
    tracing::info!(
        "weir {} listening on postgres://{} (data directory {}, authentication: {auth})",
        env!("CARGO_PKG_VERSION"),
        listener.local_addr()?,
        config.data_dir.display()
    );
    let shared = frontend::Shared::new(engine.clone(), config.password.clone());
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
                tokio::spawn(async move {
                    if let Err(e) = pgwire::tokio::process_socket(socket, None, handlers).await {
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

/// The demo pipeline, loaded with `--demo`.
const DEMO_SQL: &str = include_str!("../../queries/demo.sql");

async fn load_demo(engine: &std::sync::Arc<engine::Engine>) -> anyhow::Result<()> {
    for p in weir_planner::parse_sql(DEMO_SQL)? {
        match &p.statement {
            weir_planner::WeirStatement::CreateSource(cs) => engine.create_source(cs, &p.sql).await?,
            weir_planner::WeirStatement::CreateView(cv) => engine.create_view(cv, &p.sql).await?,
            weir_planner::WeirStatement::CreateSink(cs) => engine.create_sink(cs, &p.sql).await?,
            _ => anyhow::bail!("demo.sql holds a statement other than CREATE SOURCE / MATERIALIZED VIEW"),
        }
    }
    tracing::info!("demo pipeline loaded: try SELECT * FROM clicks_by_type; and SELECT * FROM clicks_1m;");
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
