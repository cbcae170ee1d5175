//! Tables and definitions survive SIGKILL and restart: every acknowledged
//! commit is on disk, and a torn write at the moment of the crash is ignored.

use crate::support::{Server, temp_dir};

async fn table_rows(c: &tokio_postgres::Client, sql: &str) -> Vec<(i64, Option<String>)> {
    c.query(sql, &[]).await.unwrap().iter().map(|r| (r.get(0), r.get(1))).collect()
}

#[tokio::test]
async fn committed_rows_and_definitions_survive_sigkill() {
    let mut server = Server::start();
    {
        let c = server.client().await;
        c.batch_execute(
            "CREATE TABLE kv (k bigint PRIMARY KEY, v text);
             CREATE TABLE gone (x int);
             INSERT INTO kv SELECT v, 'v' || v FROM generate_series(1, 1000) AS t(v);
             UPDATE kv SET v = 'changed' WHERE k <= 10;
             DELETE FROM kv WHERE k > 990;
             DROP TABLE gone;",
        )
        .await
        .unwrap();
    }
    server.restart(); // SIGKILL, then start on the same data directory
    let c = server.client().await;
    let rows = table_rows(&c, "SELECT k, v FROM kv ORDER BY k").await;
    assert_eq!(rows.len(), 990);
    assert_eq!(rows[0], (1, Some("changed".into())));
    assert_eq!(rows[10], (11, Some("v11".into())));
    assert!(c.simple_query("SELECT * FROM gone").await.is_err(), "dropped table stays dropped");
    // The primary key is still enforced after recovery.
    assert!(c.simple_query("INSERT INTO kv VALUES (5, 'dup')").await.is_err());
    c.batch_execute("INSERT INTO kv VALUES (5000, 'after restart')").await.unwrap();
    server.restart();
    let c = server.client().await;
    assert_eq!(table_rows(&c, "SELECT k, v FROM kv WHERE k = 5000").await, vec![(5000, Some("after restart".into()))]);
}

#[tokio::test]
async fn restart_after_snapshots_keeps_everything() {
    // A tiny WAL limit forces a snapshot on almost every commit.
    let mut server = Server::start_with(temp_dir("snap"), &["--wal-compact-bytes", "2048"]);
    {
        let c = server.client().await;
        c.batch_execute("CREATE TABLE big (k bigint PRIMARY KEY, v text)").await.unwrap();
        for i in 0..20 {
            c.batch_execute(&format!("INSERT INTO big SELECT v, repeat('x', 100) FROM generate_series({}, {}) AS t(v)", i * 100, i * 100 + 99)).await.unwrap();
        }
        c.batch_execute("DELETE FROM big WHERE k % 2 = 0").await.unwrap();
    }
    let snapshots = std::fs::read_dir(&server.data_dir).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("snapshot-")).count();
    assert_eq!(snapshots, 1, "old snapshots are removed");
    server.restart();
    let c = server.client().await;
    let n: i64 = c.query_one("SELECT count(*) FROM big", &[]).await.unwrap().get(0);
    assert_eq!(n, 1000);
}
