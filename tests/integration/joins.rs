//! Joins and per-key OVER windows against the batch oracle: over finite
//! generated inputs (out of order, with late rows), each view must hold what
//! DataFusion computes in batch over the on-time rows, and the joins weir
//! cannot bound are refused with a message that says what to do instead.

use crate::streaming::{assert_same, text_rows, wait_views};
use crate::support::{Server, sqlstate};
use std::time::Duration;

/// (view, query, the same in batch over raw_c (clicks), raw_t (tx), raw_o (tx in order) and the table tiers).
fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        // Per-key OVER windows (input in time order, so arrival order is time order).
        ("velocity",
         "SELECT transaction_id, user_id, round(sum(amount) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '2 minutes' PRECEDING AND CURRENT ROW), 2) AS spend,
                 count(*) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '2 minutes' PRECEDING AND CURRENT ROW) AS n,
                 count(DISTINCT country) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '2 minutes' PRECEDING AND CURRENT ROW) AS countries
          FROM tx_ordered",
         "SELECT transaction_id, user_id, round(sum(amount) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '2 minutes' PRECEDING AND CURRENT ROW), 2),
                 count(*) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '2 minutes' PRECEDING AND CURRENT ROW),
                 count(DISTINCT country) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '2 minutes' PRECEDING AND CURRENT ROW)
          FROM raw_o"),
        ("velocity_flagged",
         "SELECT transaction_id, n FROM (SELECT transaction_id, count(*) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '5 minutes' PRECEDING AND CURRENT ROW) AS n FROM tx_ordered) v WHERE n >= 5",
         "SELECT transaction_id, n FROM (SELECT transaction_id, count(*) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '5 minutes' PRECEDING AND CURRENT ROW) AS n FROM raw_o) v WHERE n >= 5"),
        // Lookup joins with a table.
        ("clicks_tier",
         "SELECT c.event_id, c.user_id, t.tier FROM clicks c JOIN tiers t ON c.user_id = t.user_id",
         "SELECT c.event_id, c.user_id, t.tier FROM raw_c c JOIN tiers t ON c.user_id = t.user_id"),
        ("clicks_tier_left",
         "SELECT c.event_id, t.tier, upper(c.event_type) AS et FROM clicks c LEFT JOIN tiers t ON c.user_id = t.user_id AND t.tier <> 'bronze'",
         "SELECT c.event_id, t.tier, upper(c.event_type) FROM raw_c c LEFT JOIN tiers t ON c.user_id = t.user_id AND t.tier <> 'bronze'"),
        ("tier_counts",
         "SELECT t.tier, count(*) AS n FROM clicks c JOIN tiers t ON c.user_id = t.user_id GROUP BY t.tier",
         "SELECT t.tier, count(*) FROM raw_c c JOIN tiers t ON c.user_id = t.user_id GROUP BY t.tier"),
        // Interval joins of two streams, inner and left outer.
        ("clicks_then_tx",
         "SELECT c.event_id, t.transaction_id, t.amount FROM clicks c JOIN tx t
            ON c.user_id = t.user_id AND t.\"timestamp\" BETWEEN c.\"timestamp\" AND c.\"timestamp\" + INTERVAL '30 seconds'",
         "SELECT c.event_id, t.transaction_id, t.amount FROM raw_c c JOIN raw_t t
            ON c.user_id = t.user_id AND t.\"timestamp\" BETWEEN c.\"timestamp\" AND c.\"timestamp\" + INTERVAL '30 seconds'"),
        ("clicks_then_tx_left",
         "SELECT c.event_id, t.transaction_id FROM clicks c LEFT JOIN tx t
            ON c.user_id = t.user_id AND t.\"timestamp\" >= c.\"timestamp\" - INTERVAL '5 seconds' AND t.\"timestamp\" <= c.\"timestamp\" + INTERVAL '10 seconds'",
         "SELECT c.event_id, t.transaction_id FROM raw_c c LEFT JOIN raw_t t
            ON c.user_id = t.user_id AND t.\"timestamp\" >= c.\"timestamp\" - INTERVAL '5 seconds' AND t.\"timestamp\" <= c.\"timestamp\" + INTERVAL '10 seconds'"),
        // An aggregate over an interval join.
        ("tx_after_clicks",
         "SELECT c.user_id, count(*) AS pairs FROM clicks c JOIN tx t
            ON c.user_id = t.user_id AND t.\"timestamp\" BETWEEN c.\"timestamp\" AND c.\"timestamp\" + INTERVAL '30 seconds' GROUP BY c.user_id",
         "SELECT c.user_id, count(*) FROM raw_c c JOIN raw_t t
            ON c.user_id = t.user_id AND t.\"timestamp\" BETWEEN c.\"timestamp\" AND c.\"timestamp\" + INTERVAL '30 seconds' GROUP BY c.user_id"),
        // Window join of two windowed views.
        ("clicks_1m",
         "SELECT user_id, window_start, window_end, count(*) AS clicks FROM TUMBLE(clicks, \"timestamp\", INTERVAL '1 minute')
          GROUP BY user_id, window_start, window_end EMIT ON WINDOW CLOSE",
         "SELECT user_id, date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00'),
                 date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') + INTERVAL '1 minute', count(*) FROM raw_c GROUP BY 1, 2, 3"),
        ("tx_1m",
         "SELECT user_id, window_start, window_end, count(*) AS txs, max(amount) AS top FROM TUMBLE(tx, \"timestamp\", INTERVAL '1 minute')
          GROUP BY user_id, window_start, window_end EMIT ON WINDOW CLOSE",
         "SELECT user_id, date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00'),
                 date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') + INTERVAL '1 minute', count(*), max(amount) FROM raw_t GROUP BY 1, 2, 3"),
        ("window_join",
         "SELECT a.user_id, a.window_start, a.clicks, b.txs, b.top FROM clicks_1m a JOIN tx_1m b ON a.user_id = b.user_id AND a.window_end = b.window_end",
         "WITH a AS (SELECT user_id, date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') AS ws, count(*) AS clicks FROM raw_c GROUP BY 1, 2),
               b AS (SELECT user_id, date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') AS ws, count(*) AS txs, max(amount) AS top FROM raw_t GROUP BY 1, 2)
          SELECT a.user_id, a.ws, a.clicks, b.txs, b.top FROM a JOIN b ON a.user_id = b.user_id AND a.ws = b.ws"),
        // Joins of views with updates: retractions on both sides, NULL rows that come and go.
        ("clicks_per_user",
         "SELECT user_id, count(*) AS n FROM clicks GROUP BY user_id",
         "SELECT user_id, count(*) FROM raw_c GROUP BY user_id"),
        ("tx_per_user",
         "SELECT user_id, count(*) AS n, max(amount) AS top FROM tx GROUP BY user_id",
         "SELECT user_id, count(*), max(amount) FROM raw_t GROUP BY user_id"),
        ("users_joined",
         "SELECT a.user_id, a.n AS clicks, b.n AS txs, b.top FROM clicks_per_user a LEFT JOIN tx_per_user b ON a.user_id = b.user_id AND b.n > 50",
         "WITH a AS (SELECT user_id, count(*) AS n FROM raw_c GROUP BY user_id), b AS (SELECT user_id, count(*) AS n, max(amount) AS top FROM raw_t GROUP BY user_id)
          SELECT a.user_id, a.n, b.n, b.top FROM a LEFT JOIN b ON a.user_id = b.user_id AND b.n > 50"),
        ("users_busy",
         "SELECT count(*) AS users, sum(txs) AS txs FROM users_joined WHERE txs IS NOT NULL",
         "WITH a AS (SELECT user_id FROM raw_c GROUP BY user_id), b AS (SELECT user_id, count(*) AS n FROM raw_t GROUP BY user_id HAVING count(*) > 50)
          SELECT count(*), sum(b.n) FROM a JOIN b ON a.user_id = b.user_id"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_and_over_windows_equal_the_batch_oracle() {
    let server = Server::start();
    let c = server.client().await;
    let source = |name: &str, scenario: &str, count: u32, interval: &str, ooo: &str, late: f64, seed: u32| {
        format!(
            "CREATE SOURCE {name} WITH (connector = 'generator', scenario = '{scenario}', count = {count}, rate = 'unlimited', seed = {seed},
               users = 60, start = '2026-01-01 00:00:00', event_interval = '{interval}', out_of_order = '{ooo}', late_fraction = {late});"
        )
    };
    let mut setup = source("clicks", "clickstream", 8000, "100 milliseconds", "3s", 0.02, 7);
    setup += &source("tx", "transactions", 3000, "250 milliseconds", "2s", 0.01, 8);
    setup += &source("tx_ordered", "transactions", 3000, "250 milliseconds", "0s", 0.0, 9);
    setup += "CREATE MATERIALIZED VIEW raw_c_v AS SELECT * FROM clicks;
              CREATE MATERIALIZED VIEW raw_t_v AS SELECT * FROM tx;
              CREATE MATERIALIZED VIEW raw_o_v AS SELECT * FROM tx_ordered;
              CREATE TABLE tiers (user_id TEXT PRIMARY KEY, tier TEXT NOT NULL);";
    c.batch_execute(&setup).await.unwrap();
    let tiers: Vec<String> = (1..=40).map(|u| format!("('user_{u}', '{}')", ["gold", "silver", "bronze"][u % 3])).collect();
    c.batch_execute(&format!("INSERT INTO tiers VALUES {}", tiers.join(", "))).await.unwrap();
    for (name, query, _) in cases() {
        c.batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {query}")).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let mut names: Vec<&str> = cases().iter().map(|c| c.0).collect();
    names.extend(["raw_c_v", "raw_t_v", "raw_o_v"]);
    wait_views(&c, &names, |r| r[1].as_deref() == Some("finished")).await;
    c.batch_execute("CREATE TABLE raw_c AS SELECT * FROM raw_c_v; CREATE TABLE raw_t AS SELECT * FROM raw_t_v; CREATE TABLE raw_o AS SELECT * FROM raw_o_v;")
        .await
        .unwrap();
    let late = text_rows(&c, "SELECT sum(rows_late) FROM weir_views WHERE name IN ('raw_c_v', 'raw_t_v')").await;
    assert!(late[0][0].as_deref().unwrap().parse::<i64>().unwrap() > 50, "the inputs have late rows: {late:?}");
    for (name, _, batch) in cases() {
        assert_same(&c, name, batch).await;
    }
    // Every in-order transaction got exactly one velocity row.
    let n = text_rows(&c, "SELECT count(*), count(DISTINCT transaction_id) FROM velocity").await;
    assert_eq!(n, vec![vec![Some("3000".into()), Some("3000".into())]]);

    // The plan says how each join keeps its state.
    let explain = |q: &str| format!("EXPLAIN CREATE MATERIALIZED VIEW x AS {q}");
    let plan = text_rows(&c, &explain(cases()[5].1)).await.concat().into_iter().flatten().collect::<Vec<_>>().join("\n");
    assert!(plan.contains("interval join with tx") && plan.contains("t.timestamp - c.timestamp within [0s, 30s]"), "{plan}");
    let plan = text_rows(&c, &explain(cases()[2].1)).await.concat().into_iter().flatten().collect::<Vec<_>>().join("\n");
    assert!(plan.contains("lookup in table tiers"), "{plan}");

    // Joins weir cannot bound, and other shapes it does not run, are refused with a reason.
    let refused = [
        ("SELECT c.event_id FROM clicks c JOIN tx t ON c.user_id = t.user_id", "bound it in event time"),
        ("SELECT c.event_id FROM clicks c JOIN tx_per_user t ON c.user_id = t.user_id", "would keep every stream row"),
        ("SELECT c.event_id FROM tiers t JOIN clicks c ON c.user_id = t.user_id", "put the stream first"),
        ("SELECT c.user_id, t.tier FROM clicks_per_user c JOIN tiers t ON c.user_id = t.user_id", "needs an append-only stream"),
        ("SELECT c.event_id FROM clicks c RIGHT JOIN tiers t ON c.user_id = t.user_id", "JOIN is not supported"),
        ("SELECT c.event_id FROM clicks c, tx t WHERE c.user_id = t.user_id", "write JOIN ... ON"),
        ("SELECT c.event_id FROM clicks c JOIN tx t ON c.\"timestamp\" < t.\"timestamp\"", "at least one equality"),
        ("SELECT sum(amount) OVER (PARTITION BY user_id ORDER BY \"timestamp\" ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) FROM tx", "RANGE interval"),
        ("SELECT count(*) OVER (PARTITION BY user_id ORDER BY amount RANGE BETWEEN 10 PRECEDING AND CURRENT ROW) FROM tx", "positive interval"),
        (
            "SELECT count(*) OVER (PARTITION BY user_id ORDER BY t2 RANGE BETWEEN INTERVAL '1 minute' PRECEDING AND CURRENT ROW)
          FROM (SELECT user_id, \"timestamp\" + INTERVAL '1 second' AS t2 FROM tx) s",
            "event-time column",
        ),
        (
            "SELECT min(amount) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '1 minute' PRECEDING AND CURRENT ROW) FROM tx",
            "count, count(DISTINCT), sum and avg",
        ),
    ];
    for (q, want) in refused {
        let e = c.batch_execute(&format!("CREATE MATERIALIZED VIEW refused AS {q}")).await.expect_err(q);
        let msg = e.as_db_error().map(|d| format!("{} {}", d.message(), d.hint().unwrap_or(""))).unwrap_or_default();
        assert_eq!(sqlstate(&e), "0A000", "{q}: {msg}");
        assert!(msg.contains(want), "{q}: expected {want:?} in {msg:?}");
    }
    // A table a view looks up cannot be dropped from under it.
    let e = c.batch_execute("DROP TABLE tiers").await.expect_err("tiers is in use");
    assert_eq!(sqlstate(&e), "2BP01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_table_row_applies_to_events_that_arrive_after_it() {
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE levels (user_id INT PRIMARY KEY, level TEXT);
         INSERT INTO levels VALUES (1, 'old'), (2, 'old'), (3, 'old');
         CREATE SOURCE seqs WITH (connector = 'generator', scenario = 'sequence', count = 3000, rate = 600, users = 3, seed = 1);
         CREATE MATERIALIZED VIEW leveled AS SELECT s.seq, s.user_id, l.level FROM seqs s JOIN levels l ON s.user_id = l.user_id;",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.batch_execute("UPDATE levels SET level = 'new' WHERE user_id = 2").await.unwrap();
    wait_views(&c, &["leveled"], |r| r[1].as_deref() == Some("finished")).await;
    let counts = text_rows(&c, "SELECT level, count(*), min(seq), max(seq) FROM leveled WHERE user_id = 2 GROUP BY level").await;
    assert_eq!(counts.len(), 2, "user 2's events before and after the change: {counts:?}");
    let (new, old) = (&counts[0], &counts[1]);
    assert_eq!(new[0].as_deref(), Some("new"));
    let old_max: i64 = old[3].as_deref().unwrap().parse().unwrap();
    let new_min: i64 = new[2].as_deref().unwrap().parse().unwrap();
    assert!(old_max < new_min, "every event after the change sees it, none before: {counts:?}");
    let total = text_rows(&c, "SELECT count(*) FROM leveled").await;
    assert_eq!(total[0][0].as_deref(), Some("3000"), "one row per event");
    let others = text_rows(&c, "SELECT DISTINCT level FROM leveled WHERE user_id <> 2").await;
    assert_eq!(others, vec![vec![Some("old".into())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_mirrored_from_postgres_is_looked_up_and_refreshed() {
    let mut server = Server::start();
    let pg_url = crate::support::service("WEIR_TEST_PG_URL");
    let dim = format!("dim_levels_{}", server.port);
    let (pg, conn) = tokio_postgres::connect(&pg_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    pg.batch_execute(&format!(
        "DROP TABLE IF EXISTS {dim}; CREATE TABLE {dim} (user_id INT PRIMARY KEY, level TEXT, since TIMESTAMP);
         INSERT INTO {dim} VALUES (1, 'old', '2026-01-01 00:00:00'), (2, 'old', '2026-01-01 00:00:00'), (3, 'old', NULL);"
    ))
    .await
    .unwrap();
    let c = server.client().await;
    // A wrong table or URL fails the CREATE, with a hint.
    let e = c
        .batch_execute(&format!("CREATE TABLE nope (user_id INT) WITH (connector = 'postgres', url = '{pg_url}', table = 'no_such_table_{dim}')"))
        .await
        .expect_err("no such table");
    assert_eq!(sqlstate(&e), "08001", "{e:?}");
    c.batch_execute(&format!(
        "CREATE TABLE levels (user_id INT PRIMARY KEY, level TEXT, since TIMESTAMP)
           WITH (connector = 'postgres', url = '{pg_url}?password=planted-secret-7', table = '{dim}', refresh = '300ms');
         CREATE SOURCE seqs WITH (connector = 'generator', scenario = 'sequence', count = 4000, rate = 500, users = 3, seed = 1);
         CREATE MATERIALIZED VIEW leveled AS SELECT s.seq, s.user_id, l.level FROM seqs s LEFT JOIN levels l ON s.user_id = l.user_id;"
    ))
    .await
    .unwrap();
    // The mirror's password (trust ignores it) is never shown, not even through its hash.
    let catalog = text_rows(&c, "SELECT sql, sql_hash FROM weir_catalog WHERE name = 'levels'").await;
    let shown = format!("{catalog:?}");
    assert!(!shown.contains("planted-secret-7") && shown.contains("***"), "{shown}");
    let own: Vec<Vec<Option<String>>> = text_rows(&c, "SELECT weir_definition_hash(sql) FROM weir_catalog WHERE name = 'levels'").await;
    assert_ne!(own[0][0], catalog[0][1], "the hash is of the full text, not of what is shown");
    let rows = text_rows(&c, "SELECT user_id, level, since FROM levels").await;
    assert_eq!(rows.len(), 3, "loaded at CREATE: {rows:?}");
    assert_eq!(rows[0], vec![Some("1".into()), Some("old".into()), Some("2026-01-01 00:00:00".into())]);
    let e = c.batch_execute("INSERT INTO levels VALUES (4, 'x', NULL)").await.expect_err("mirrored tables are read-only");
    assert_eq!(sqlstate(&e), "0A000");
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.batch_execute(&format!("UPDATE {dim} SET level = 'new' WHERE user_id = 2; DELETE FROM {dim} WHERE user_id = 3")).await.unwrap();
    wait_views(&c, &["leveled"], |r| r[1].as_deref() == Some("finished")).await;
    let two = text_rows(&c, "SELECT level, min(seq), max(seq) FROM leveled WHERE user_id = 2 GROUP BY level").await;
    assert_eq!(two.len(), 2, "user 2's events before and after the change: {two:?}");
    let old_max: i64 = two[1][2].as_deref().unwrap().parse().unwrap();
    let new_min: i64 = two[0][1].as_deref().unwrap().parse().unwrap();
    assert!(old_max < new_min, "the change applies to later events only: {two:?}");
    // User 3's row went away: later events get NULLs (LEFT JOIN).
    let three = text_rows(&c, "SELECT level IS NULL, count(*) FROM leveled WHERE user_id = 3 GROUP BY 1").await;
    assert_eq!(three.len(), 2, "{three:?}");
    let total = text_rows(&c, "SELECT count(*) FROM leveled").await;
    assert_eq!(total[0][0].as_deref(), Some("4000"));
    // After a restart the table is mirrored still, and refreshed.
    server.restart();
    let c = server.client().await;
    pg.batch_execute(&format!("UPDATE {dim} SET level = 'newer' WHERE user_id = 1")).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let l = text_rows(&c, "SELECT level FROM levels WHERE user_id = 1").await;
        if l == vec![vec![Some("newer".to_string())]] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the mirror refreshes after a restart: {l:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(c.batch_execute("DELETE FROM levels").await.is_err(), "still read-only after a restart");
    pg.batch_execute(&format!("DROP TABLE {dim}")).await.unwrap();
}
