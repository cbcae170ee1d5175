//! `weir migrate`: applies the warm-store schema in `migrations/` to a
//! PostgreSQL database, each file once, in name order, recording what it
//! applied in `weir_migrations` (with a checksum, so an edited file that was
//! already applied is an error, not a silent drift). Safe to run again, and
//! to run twice at once (an advisory lock serialises runners).
//!
//! A file may start with `-- weir:requires-extension NAME` (skipped, and
//! recorded as skipped, when the database cannot install NAME) and
//! `-- weir:no-transaction` (statements run one by one, for commands that
//! refuse a transaction block).

use clap::Args;
use tokio_postgres::NoTls;

/// The migrations, built into the binary so `weir migrate` runs from anywhere.
const MIGRATIONS: &[(&str, &str)] = &[
    ("001_dimensions.sql", include_str!("../../../migrations/001_dimensions.sql")),
    ("002_events.sql", include_str!("../../../migrations/002_events.sql")),
    ("003_realtime_metrics.sql", include_str!("../../../migrations/003_realtime_metrics.sql")),
    ("004_timescaledb.sql", include_str!("../../../migrations/004_timescaledb.sql")),
];
/// Advisory lock key held while migrating ("weirmigr").
const LOCK_KEY: i64 = 0x7765_6972_6d69_6772;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// PostgreSQL to migrate, e.g. postgres://user@127.0.0.1:5432/analytics [env: WEIR_DATABASE_URL]
    #[arg(long, env = "WEIR_DATABASE_URL", hide_env = true)]
    pub database_url: String,
}

fn checksum(sql: &str) -> String {
    format!("{:08x}", crc32fast::hash(sql.as_bytes()))
}

fn directive<'a>(sql: &'a str, name: &str) -> Option<&'a str> {
    sql.lines().take_while(|l| l.starts_with("--")).find_map(|l| l.trim_start_matches("--").trim().strip_prefix(&format!("weir:{name}")).map(str::trim))
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let (client, conn) = tokio_postgres::connect(&args.database_url, NoTls).await.map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    tokio::spawn(conn);
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS weir_migrations (
                name TEXT PRIMARY KEY, checksum TEXT NOT NULL, skipped BOOLEAN NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
    let (mut applied, mut skipped) = (0, 0);
    for (name, sql) in MIGRATIONS {
        let sum = checksum(sql);
        if let Some(row) = client.query_opt("SELECT checksum FROM weir_migrations WHERE name = $1", &[name]).await? {
            let recorded: String = row.get(0);
            anyhow::ensure!(recorded == sum, "migration {name} changed after it was applied (checksum {recorded}, now {sum}); add a new migration instead");
            continue;
        }
        if let Some(ext) = directive(sql, "requires-extension") {
            let available = client.query_opt("SELECT 1 FROM pg_available_extensions WHERE name = $1", &[&ext]).await?.is_some();
            if !available {
                println!("{name}: skipped (the database has no {ext} extension)");
                client.execute("INSERT INTO weir_migrations (name, checksum, skipped) VALUES ($1, $2, true)", &[name, &sum]).await?;
                skipped += 1;
                continue;
            }
        }
        if directive(sql, "no-transaction").is_some() {
            for stmt in sql.split_inclusive(";\n").map(str::trim).filter(|s| !s.is_empty() && !s.lines().all(|l| l.starts_with("--"))) {
                client.batch_execute(stmt).await.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            }
            client.execute("INSERT INTO weir_migrations (name, checksum, skipped) VALUES ($1, $2, false)", &[name, &sum]).await?;
        } else {
            client.batch_execute("BEGIN").await?;
            let result = async {
                client.batch_execute(sql).await?;
                client.execute("INSERT INTO weir_migrations (name, checksum, skipped) VALUES ($1, $2, false)", &[name, &sum]).await
            }
            .await;
            match result {
                Ok(_) => client.batch_execute("COMMIT").await?,
                Err(e) => {
                    let _ = client.batch_execute("ROLLBACK").await;
                    anyhow::bail!("{name}: {e}");
                }
            }
        }
        println!("{name}: applied");
        applied += 1;
    }
    client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await?;
    println!("migrations: {applied} applied, {skipped} skipped, {} already in place", MIGRATIONS.len() - applied - skipped);
    Ok(())
}
