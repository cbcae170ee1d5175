//! `weir migrate` against a real PostgreSQL 15: applies each file once, is
//! safe to run again, skips the TimescaleDB file where the extension is
//! missing, and the fixed realtime_metrics does not multiply clicks by
//! transactions.

use crate::support::service;
use std::process::Command;
use tokio_postgres::NoTls;

fn migrate(url: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_weir")).args(["migrate", "--database-url", url]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "weir migrate failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[tokio::test]
async fn migrate_applies_once_and_realtime_metrics_means_what_it_says() {
    let admin_url = service("WEIR_TEST_PG_URL");
    let (admin, conn) = tokio_postgres::connect(&admin_url, NoTls).await.unwrap();
    tokio::spawn(conn);
    let db = format!("weir_migrate_{}", std::process::id());
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).await.unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {db}")).await.unwrap();
    let url = admin_url.rsplit_once('/').map(|(base, _)| format!("{base}/{db}")).unwrap();

    let first = migrate(&url);
    assert!(first.contains("3 applied, 1 skipped"), "{first}");
    let again = migrate(&url);
    assert!(again.contains("0 applied, 0 skipped, 4 already in place"), "{again}");

    let (c, conn) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(conn);
    let recorded: i64 = c.query_one("SELECT count(*) FROM weir_migrations", &[]).await.unwrap().get(0);
    assert_eq!(recorded, 4);
    // One user, one minute: three clicks in two sessions and two transactions.
    c.batch_execute(
        "INSERT INTO rt_clickstream (event_id, user_id, session_id, event_type, event_timestamp) VALUES
           ('e1', 'u1', 's1', 'page_view', '2026-01-01 10:00:05+00'),
           ('e2', 'u1', 's1', 'add_to_cart', '2026-01-01 10:00:20+00'),
           ('e3', 'u1', 's2', 'purchase', '2026-01-01 10:00:40+00');
         INSERT INTO rt_transactions (transaction_id, user_id, order_id, amount, processed_at) VALUES
           ('t1', 'u1', 'o1', 10.00, '2026-01-01 10:00:30+00'),
           ('t2', 'u1', 'o2', 5.50, '2026-01-01 10:00:50+00'),
           ('t3', 'u1', 'o3', 100.00, '2026-01-01 11:30:00+00');",
    )
    .await
    .unwrap();
    let row = c
        .query_one(
            "SELECT event_count, total_amount::text, unique_sessions FROM realtime_metrics WHERE user_id = 'u1' AND minute_bucket = '2026-01-01 10:00:00+00'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 3, "clicks are not multiplied by transactions");
    assert_eq!(row.get::<_, String>(1), "15.50", "only the minute's transactions, each once");
    assert_eq!(row.get::<_, i64>(2), 2);
    // Editing an applied migration is refused.
    c.batch_execute("UPDATE weir_migrations SET checksum = 'x' WHERE name = '001_dimensions.sql'").await.unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weir")).args(["migrate", "--database-url", &url]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed after it was applied"));
    drop(c);
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await.unwrap();
}
