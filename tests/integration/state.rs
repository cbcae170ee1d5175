//! State beyond memory: an append-only view's rows live in segment files
//! (merged in the background) within a memory limit, equal the batch
//! oracle before and after a SIGKILL, and a retention keeps only recent rows
//! queryable while a sink still gets every row.

use crate::streaming::{assert_same, text_rows, wait_views};
use crate::support::{Server, service, sqlstate, temp_dir};
use std::time::{Duration, Instant};

fn finished(r: &[Option<String>]) -> bool {
    r[1].as_deref() == Some("finished")
}

/// Segment files of every view in `data_dir`, by name.
fn segment_files(data_dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for member in std::fs::read_dir(data_dir.join("segments")).unwrap().flatten() {
        out.extend(std::fs::read_dir(member.path()).unwrap().flatten().map(|f| f.file_name().to_string_lossy().to_string()));
    }
    out
}

#[tokio::test]
async fn an_append_only_view_lives_on_disk_and_survives_a_sigkill() {
    let dir = temp_dir("state");
    let mut server = Server::start_with(dir.clone(), &["--checkpoint-interval", "100ms", "--memory-limit", "16MiB"]);
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE tx WITH (connector = 'generator', scenario = 'transactions', count = 60000, rate = '20000', seed = 3,
            start = '2026-01-01 00:00:00');
         CREATE MATERIALIZED VIEW all_tx AS SELECT transaction_id, user_id, amount, payment_method, \"timestamp\" FROM tx;
         CREATE MATERIALIZED VIEW big AS SELECT transaction_id, user_id, amount FROM all_tx WHERE amount > 500;",
    )
    .await
    .unwrap();
    wait_views(&c, &["all_tx", "big"], finished).await;
    let files = segment_files(&dir);
    assert!(files.len() >= 4, "rows went to segment files at the barriers: {files:?}");
    let stats = text_rows(&c, "SELECT rows, memory_bytes, disk_bytes FROM weir_views WHERE name = 'all_tx'").await;
    let [rows, memory, disk] = [0, 1, 2].map(|i| stats[0][i].as_deref().unwrap().parse::<i64>().unwrap());
    assert_eq!(rows, 60000);
    assert!(disk > 0 && memory <= 5 << 20, "the view keeps about a quarter of the memory limit in memory: {stats:?}");
    // The oracle: the same rows in a table, and the filter run in batch over it.
    c.batch_execute("CREATE TABLE tx_t AS SELECT * FROM all_tx").await.unwrap();
    let ids: std::collections::HashSet<_> = text_rows(&c, "SELECT transaction_id FROM tx_t").await.into_iter().collect();
    assert_eq!(ids.len(), 60000, "every row once");
    // A query that needs more than its quarter of the limit fails cleanly; the server goes on.
    let e = c.simple_query("SELECT count(DISTINCT transaction_id), count(DISTINCT amount) FROM tx_t").await.expect_err("4 MiB is too little");
    assert_eq!(sqlstate(&e), "53200", "{e:?}");
    assert_eq!(text_rows(&c, "SELECT 1").await, vec![vec![Some("1".into())]]);
    // So does a cursor over more rows than that (weir keeps a cursor's rows); a SELECT of them streams.
    let wide = "SELECT repeat('x', 1000) AS pad, g FROM generate_series(1, 20000) AS t(g)";
    let e = c.batch_execute(&format!("BEGIN; DECLARE wide CURSOR FOR {wide}")).await.expect_err("20 MB of rows do not fit in 4 MiB");
    assert_eq!(sqlstate(&e), "53200", "{e:?}");
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(text_rows(&c, "SELECT count(*) FROM (SELECT repeat('x', 1000) FROM generate_series(1, 20000)) s").await, vec![vec![Some("20000".into())]]);
    assert_same(&c, "big", "SELECT transaction_id, user_id, amount FROM tx_t WHERE amount > 500").await;
    // The background merges small segments; nothing is lost or repeated by it.
    let started = Instant::now();
    while segment_files(&dir).len() >= files.len() {
        assert!(started.elapsed() < Duration::from_secs(60), "segments were never merged: {:?}", segment_files(&dir));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_same(&c, "all_tx", "SELECT * FROM tx_t").await;
    server.restart();
    let c = server.client().await;
    wait_views(&c, &["all_tx", "big"], finished).await;
    assert_same(&c, "all_tx", "SELECT * FROM tx_t").await;
    assert_same(&c, "big", "SELECT transaction_id, user_id, amount FROM tx_t WHERE amount > 500").await;
}

#[tokio::test]
async fn retention_keeps_recent_rows_queryable_and_sinks_get_every_row() {
    let server = Server::start_with(temp_dir("retention"), &["--checkpoint-interval", "100ms"]);
    let c = server.client().await;
    let table = format!("retained_{}", server.port);
    let pg_url = service("WEIR_TEST_PG_URL");
    c.batch_execute(&format!(
        "CREATE SOURCE tx WITH (connector = 'generator', scenario = 'transactions', count = 20000, rate = '20000', seed = 4,
            start = '2026-01-01 00:00:00', event_interval = '100 milliseconds');
         CREATE MATERIALIZED VIEW recent WITH (retention = '5 minutes') AS SELECT transaction_id, amount, \"timestamp\" FROM tx;
         CREATE MATERIALIZED VIEW all_tx AS SELECT transaction_id, amount, \"timestamp\" FROM tx;
         CREATE SINK to_pg FROM recent WITH (connector = 'postgres', url = '{pg_url}', table = '{table}', create_table = 'true');"
    ))
    .await
    .unwrap();
    wait_views(&c, &["recent", "all_tx"], finished).await;
    crate::sinks::wait_sinks(&c, &["to_pg"]).await;
    // The oracle: the unbounded view's rows from the oldest retained one on.
    c.batch_execute("CREATE TABLE all_t AS SELECT * FROM all_tx").await.unwrap();
    let span = text_rows(&c, "SELECT count(*), max(\"timestamp\") - min(\"timestamp\") <= INTERVAL '5 minutes 10 seconds' FROM recent").await;
    let kept: i64 = span[0][0].as_deref().unwrap().parse().unwrap();
    assert!(kept > 1000 && kept < 20000, "only the last minutes stay: {span:?}");
    assert_eq!(span[0][1].as_deref(), Some("t"), "{span:?}");
    assert_same(&c, "recent", "SELECT * FROM all_t WHERE \"timestamp\" >= (SELECT min(\"timestamp\") FROM recent)").await;
    let (pg, conn) = tokio_postgres::connect(&pg_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let delivered: i64 = pg.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.unwrap().get(0);
    assert_eq!(delivered, 20000, "the sink got every row, retained or not");
    for (sql, code, text) in [
        ("CREATE MATERIALIZED VIEW v1 WITH (retention = 'soon') AS SELECT * FROM tx", "22023", "retention"),
        ("CREATE MATERIALIZED VIEW v1 WITH (retain = '1 hour') AS SELECT * FROM tx", "22023", "unrecognized"),
        ("CREATE MATERIALIZED VIEW v1 WITH (retention = '1 hour') AS SELECT user_id, count(*) FROM tx GROUP BY user_id", "0A000", "append-only"),
    ] {
        let e = c.batch_execute(sql).await.expect_err(sql);
        assert_eq!(sqlstate(&e), code, "{sql}: {e:?}");
        assert!(e.as_db_error().unwrap().message().contains(text), "{sql}: {e:?}");
    }
}

/// How many `.kv` state files the views in `data_dir` have.
/// The most state files one view has.
fn state_files(data_dir: &std::path::Path) -> usize {
    let members = std::fs::read_dir(data_dir.join("segments")).unwrap().flatten();
    members.map(|m| std::fs::read_dir(m.path()).unwrap().flatten().filter(|f| f.file_name().to_string_lossy().ends_with(".kv")).count()).max().unwrap_or(0)
}

/// Keyed state is checkpointed by what changed: over groups that only grow
/// (one per transaction) each checkpoint writes about the new groups, not
/// all of them; the state files merge in the background; after SIGKILLs the
/// views equal their batch oracle.
#[tokio::test]
async fn keyed_state_checkpoints_write_only_what_changed() {
    let dir = temp_dir("keyed");
    let mut server = Server::start_with(dir.clone(), &["--checkpoint-interval", "100ms"]);
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE tx WITH (connector = 'generator', scenario = 'transactions', count = 80000, rate = '20000', seed = 6,
            start = '2026-01-01 00:00:00');
         CREATE MATERIALIZED VIEW all_tx AS SELECT transaction_id, user_id, amount, payment_method FROM tx;
         CREATE MATERIALIZED VIEW per_tx AS SELECT transaction_id, count(*) AS n, sum(amount) AS s FROM tx GROUP BY transaction_id;
         CREATE MATERIALIZED VIEW per_user AS
            SELECT user_id, count(*) AS n, count(DISTINCT payment_method) AS methods, max(amount) AS top FROM tx GROUP BY user_id;",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.restart();
    let c = server.client().await;
    wait_views(&c, &["all_tx", "per_tx", "per_user"], finished).await;
    let bytes = |r: &[Option<String>]| r[0].as_deref().unwrap().parse::<i64>().unwrap();
    let state = bytes(&text_rows(&c, "SELECT disk_bytes FROM weir_views WHERE name = 'per_tx'").await[0]);
    let written: Vec<i64> = text_rows(&c, "SELECT bytes FROM weir_checkpoints ORDER BY epoch").await.iter().map(|r| bytes(r)).collect();
    let largest = *written.iter().max().unwrap();
    assert!(state > 4 << 20, "80,000 groups and rows take megabytes: {state}");
    assert!(largest < state / 4, "a checkpoint writes what changed ({largest} bytes at most), not all {state} bytes of state: {written:?}");
    // The oracle: the same rows in a table, aggregated in batch.
    c.batch_execute("CREATE TABLE t AS SELECT * FROM all_tx").await.unwrap();
    let per_tx = "SELECT transaction_id, count(*), sum(amount) FROM t GROUP BY transaction_id";
    let per_user = "SELECT user_id, count(*), count(DISTINCT payment_method), max(amount) FROM t GROUP BY user_id";
    assert_same(&c, "per_tx", per_tx).await;
    assert_same(&c, "per_user", per_user).await;
    // The background merges the state files into few: about 40 barriers wrote some, and a view keeps a
    // merged file and at most 16 newer ones (keyed.rs MAX_NEWER_FILES) once the merges have run.
    let started = Instant::now();
    while state_files(&dir) > 17 {
        assert!(started.elapsed() < Duration::from_secs(60), "state files were never merged: {:?}", segment_files(&dir));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.restart();
    let c = server.client().await;
    wait_views(&c, &["per_tx", "per_user"], finished).await;
    assert_same(&c, "per_tx", per_tx).await;
    assert_same(&c, "per_user", per_user).await;
}

/// Dead letters last as their counters do: after a SIGKILL mid-stream and
/// a clean restart, each failing row is one dead letter (the source reads
/// again what came after the checkpoint and sets it aside again; no row
/// twice, none lost), equal to the view's `rows_failed`.
#[tokio::test]
async fn dead_letters_survive_restarts_once_per_row() {
    let dir = temp_dir("dead");
    let mut server = Server::start_with(dir.clone(), &["--checkpoint-interval", "100ms"]);
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = 30000, rate = '10000', users = 7);
         CREATE MATERIALIZED VIEW ratio AS SELECT seq, 100 / (seq % 100) AS r FROM seq;",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = text_rows(&c, "SELECT count(*) FROM weir_dead_letters WHERE view = 'ratio'").await;
    assert_ne!(before[0][0].as_deref(), Some("0"), "rows failed before the kill");
    server.restart(); // SIGKILL, then start again
    let c = server.client().await;
    wait_views(&c, &["ratio"], finished).await;
    let count = "SELECT count(*), count(DISTINCT raw), min(error) FROM weir_dead_letters WHERE view = 'ratio'";
    let failed = "SELECT rows_failed, dead_letters FROM weir_views WHERE name = 'ratio'";
    let want = vec![vec![Some("300".to_string()), Some("300".into()), Some("division by zero (SQLSTATE 22012)".into())]];
    assert_eq!(text_rows(&c, count).await, want, "each row with seq % 100 = 0 once");
    assert_eq!(text_rows(&c, failed).await, vec![vec![Some("300".to_string()), Some("300".into())]]);
    server.terminate();
    server.restart();
    let c = server.client().await;
    wait_views(&c, &["ratio"], finished).await;
    assert_eq!(text_rows(&c, count).await, want, "and again after a clean restart");
}
