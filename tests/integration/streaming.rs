//! Continuous dataflows against an independent oracle: for a finite input,
//! once the watermark has passed everything, each view must hold exactly
//! what DataFusion computes in batch over the same rows (the on-time ones).

use crate::support::{Server, service, sqlstate};
use std::time::{Duration, Instant};
use tokio_postgres::{Client, SimpleQueryMessage};

/// Longest a finite input may take to flow through every view (debug build).
const FINISH_TIMEOUT: Duration = Duration::from_secs(240);

pub async fn text_rows(c: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let msgs = c.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let mut rows: Vec<Vec<Option<String>>> = msgs
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect()),
            _ => None,
        })
        .collect();
    rows.sort();
    rows
}

/// Waits until every view's status is `want` for all `views` (or fails, with the statuses).
pub async fn wait_views(c: &Client, views: &[&str], done: impl Fn(&[Option<String>]) -> bool) {
    let started = Instant::now();
    loop {
        let rows = text_rows(c, "SELECT name, status, rows_in, rows_late, dead_letters, watermark FROM weir_views").await;
        let all = views.iter().all(|v| rows.iter().any(|r| r[0].as_deref() == Some(v) && done(r)));
        if all {
            return;
        }
        for r in &rows {
            if r[1].as_deref().is_some_and(|s| s.starts_with("failed")) {
                panic!("view failed: {r:?}");
            }
        }
        assert!(started.elapsed() < FINISH_TIMEOUT, "views did not finish in {FINISH_TIMEOUT:?}: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asserts that a view holds exactly the rows of a batch query (which must return some).
pub async fn assert_same(c: &Client, view: &str, batch: &str) {
    let got = text_rows(c, &format!("SELECT * FROM {view}")).await;
    let want = text_rows(c, batch).await;
    assert!(!want.is_empty(), "{view}: the oracle query returned nothing, so the comparison would prove nothing");
    if got != want {
        let missing: Vec<_> = want.iter().filter(|r| !got.contains(r)).take(5).collect();
        let extra: Vec<_> = got.iter().filter(|r| !want.contains(r)).take(5).collect();
        panic!("{view}: {} rows streamed, {} in batch\nmissing (first 5): {missing:?}\nextra (first 5): {extra:?}", got.len(), want.len());
    }
}

const TUMBLE_1M: &str = "date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00')";

fn hop_start(slide_s: i64) -> String {
    format!(
        "CAST(to_timestamp_nanos(CAST(date_bin(INTERVAL '{slide_s} seconds', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') AS BIGINT) - g.value * {}) AS TIMESTAMP)",
        slide_s * 1_000_000_000
    )
}

/// Sessions per user, batch style: a new session where the gap to the previous event is at least `gap_s`.
fn sessions_sql(table: &str, gap_s: i64, filter: &str) -> String {
    format!(
        "WITH o AS (SELECT user_id, \"timestamp\" AS ts, CAST(\"timestamp\" AS BIGINT) AS tn,
                lag(CAST(\"timestamp\" AS BIGINT)) OVER (PARTITION BY user_id ORDER BY \"timestamp\") AS prev FROM {table} {filter}),
              s AS (SELECT user_id, ts, sum(CASE WHEN prev IS NULL OR tn - prev >= {gap} THEN 1 ELSE 0 END)
                OVER (PARTITION BY user_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid FROM o)
         SELECT user_id, min(ts), max(ts) + INTERVAL '{gap_s} seconds', count(*) FROM s GROUP BY user_id, sid",
        gap = gap_s * 1_000_000_000
    )
}

/// (view name, view query, the same query in batch over the table `raw_t`).
fn oracle_cases() -> Vec<(&'static str, String, String)> {
    let hop = hop_start(10);
    vec![
        ("tumble_eowc",
         "SELECT window_start, window_end, event_type, count(*) AS events, count(DISTINCT user_id) AS users, count(DISTINCT session_id) AS sessions
          FROM TUMBLE(clicks, \"timestamp\", INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE".into(),
         format!("SELECT {TUMBLE_1M}, {TUMBLE_1M} + INTERVAL '1 minute', event_type, count(*), count(DISTINCT user_id), count(DISTINCT session_id) FROM raw_t GROUP BY 1, 2, 3")),
        ("tumble_update",
         "SELECT window_start, window_end, event_type, count(*) AS events FROM TUMBLE(clicks, \"timestamp\", INTERVAL '1 minute') GROUP BY window_start, window_end, event_type".into(),
         format!("SELECT {TUMBLE_1M}, {TUMBLE_1M} + INTERVAL '1 minute', event_type, count(*) FROM raw_t GROUP BY 1, 2, 3")),
        ("tumble_offset",
         "SELECT window_start, count(*) AS n FROM TUMBLE(clicks, \"timestamp\", INTERVAL '1 minute', INTERVAL '30 seconds') GROUP BY window_start, window_end".into(),
         "SELECT date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:30'), count(*) FROM raw_t GROUP BY 1".into()),
        ("tumble_filtered",
         "SELECT window_start, window_end, count(*) AS views FROM TUMBLE(clicks, \"timestamp\", INTERVAL '5 minutes') WHERE event_type = 'page_view' GROUP BY window_start, window_end EMIT ON WINDOW CLOSE".into(),
         "SELECT date_bin(INTERVAL '5 minutes', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') AS s, date_bin(INTERVAL '5 minutes', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') + INTERVAL '5 minutes', count(*) FROM raw_t WHERE event_type = 'page_view' GROUP BY 1, 2".into()),
        ("tumble_case",
         "SELECT window_start, sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchases, max(device_type) AS maxdev, min(page_url) AS minpage FROM TUMBLE(clicks, \"timestamp\", INTERVAL '2 minutes') GROUP BY window_start, window_end".into(),
         "SELECT date_bin(INTERVAL '2 minutes', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00'), sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END), max(device_type), min(page_url) FROM raw_t GROUP BY 1".into()),
        ("hop_update",
         "SELECT window_start, window_end, user_id, count(*) AS events FROM HOP(clicks, \"timestamp\", INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY window_start, window_end, user_id".into(),
         format!("SELECT {hop}, {hop} + INTERVAL '1 minute', user_id, count(*) FROM raw_t CROSS JOIN generate_series(0, 5) AS g(value) GROUP BY 1, 2, 3")),
        ("hop_eowc_distinct",
         "SELECT window_start, window_end, count(DISTINCT user_id) AS users FROM HOP(clicks, \"timestamp\", INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY window_start, window_end EMIT ON WINDOW CLOSE".into(),
         format!("SELECT {hop}, {hop} + INTERVAL '1 minute', count(DISTINCT user_id) FROM raw_t CROSS JOIN generate_series(0, 5) AS g(value) GROUP BY 1, 2")),
        ("sessions_update",
         "SELECT user_id, window_start, window_end, count(*) AS events FROM SESSION(clicks, \"timestamp\", INTERVAL '30 seconds', user_id) GROUP BY user_id, window_start, window_end".into(),
         sessions_sql("raw_t", 30, "")),
        ("sessions_eowc",
         "SELECT user_id, window_start, window_end, count(*) AS events FROM SESSION(clicks, \"timestamp\", INTERVAL '20 seconds', user_id) WHERE device_type <> 'tablet' GROUP BY user_id, window_start, window_end EMIT ON WINDOW CLOSE".into(),
         sessions_sql("raw_t", 20, "WHERE device_type <> 'tablet'")),
        ("filter_project",
         "SELECT event_id, user_id, upper(event_type) AS et, length(page_url) AS len FROM clicks WHERE device_type = 'mobile' AND page_url <> '/home'".into(),
         "SELECT event_id, user_id, upper(event_type), length(page_url) FROM raw_t WHERE device_type = 'mobile' AND page_url <> '/home'".into()),
        ("case_flags",
         "SELECT event_id, CASE WHEN event_type = 'purchase' THEN 'buy' WHEN event_type = 'add_to_cart' THEN 'cart' ELSE 'other' END AS kind, product_id IS NULL AS no_product FROM clicks".into(),
         "SELECT event_id, CASE WHEN event_type = 'purchase' THEN 'buy' WHEN event_type = 'add_to_cart' THEN 'cart' ELSE 'other' END, product_id IS NULL FROM raw_t".into()),
        ("unbounded_count",
         "SELECT event_type, count(*) AS n, count(product_id) AS with_product FROM clicks GROUP BY event_type".into(),
         "SELECT event_type, count(*), count(product_id) FROM raw_t GROUP BY event_type".into()),
        ("unbounded_distinct",
         "SELECT device_type, count(DISTINCT user_id) AS users, count(DISTINCT page_url) AS pages FROM clicks GROUP BY device_type".into(),
         "SELECT device_type, count(DISTINCT user_id), count(DISTINCT page_url) FROM raw_t GROUP BY device_type".into()),
        ("first_last_seen",
         "SELECT user_id, min(\"timestamp\") AS first_seen, max(\"timestamp\") AS last_seen, count(*) AS n FROM clicks GROUP BY user_id".into(),
         "SELECT user_id, min(\"timestamp\"), max(\"timestamp\"), count(*) FROM raw_t GROUP BY user_id".into()),
        ("sum_avg",
         "SELECT page_url, sum(length(event_id)) AS total, round(avg(length(user_id)), 6) AS avg_len FROM clicks GROUP BY page_url".into(),
         "SELECT page_url, sum(length(event_id)), round(avg(length(user_id)), 6) FROM raw_t GROUP BY page_url".into()),
        ("having",
         "SELECT user_id, count(*) AS n FROM clicks GROUP BY user_id HAVING count(*) > 100".into(),
         "SELECT user_id, count(*) FROM raw_t GROUP BY user_id HAVING count(*) > 100".into()),
        ("hourly_expression_key",
         "SELECT date_trunc('hour', \"timestamp\") AS h, extract(hour FROM \"timestamp\") AS hr, count(*) AS n FROM clicks GROUP BY date_trunc('hour', \"timestamp\"), extract(hour FROM \"timestamp\")".into(),
         "SELECT date_trunc('hour', \"timestamp\"), extract(hour FROM \"timestamp\"), count(*) FROM raw_t GROUP BY 1, 2".into()),
        ("distinct_pairs",
         "SELECT DISTINCT device_type, page_url FROM clicks".into(),
         "SELECT DISTINCT device_type, page_url FROM raw_t".into()),
        ("subquery_in_from",
         "SELECT et, count(*) AS n FROM (SELECT upper(event_type) AS et FROM clicks WHERE referrer <> 'direct') AS s GROUP BY et".into(),
         "SELECT upper(event_type), count(*) FROM raw_t WHERE referrer <> 'direct' GROUP BY 1".into()),
        // Views on views: an append-only one, and one with retractions underneath.
        ("on_eowc_view",
         "SELECT event_type, sum(events) AS events, max(users) AS peak_users FROM tumble_eowc GROUP BY event_type".into(),
         format!("SELECT event_type, sum(n), max(u) FROM (SELECT {TUMBLE_1M}, event_type, count(*) AS n, count(DISTINCT user_id) AS u FROM raw_t GROUP BY 1, 2) AS w GROUP BY event_type")),
        ("on_update_view",
         "SELECT count(*) AS busy_users, sum(n) AS events FROM first_last_seen WHERE n > 90".into(),
         "SELECT count(*), sum(n) FROM (SELECT user_id, count(*) AS n FROM raw_t GROUP BY user_id) AS u WHERE n > 90".into()),
        // Windows over a view whose rows move between windows (retractions).
        ("tumble_on_update_view",
         "SELECT window_start, window_end, count(*) AS users FROM TUMBLE(first_last_seen, last_seen, INTERVAL '1 minute') GROUP BY window_start, window_end".into(),
         "SELECT date_bin(INTERVAL '1 minute', m, TIMESTAMP '1970-01-01 00:00:00'), date_bin(INTERVAL '1 minute', m, TIMESTAMP '1970-01-01 00:00:00') + INTERVAL '1 minute', count(*)
          FROM (SELECT user_id, max(\"timestamp\") AS m FROM raw_t GROUP BY user_id) AS u GROUP BY 1, 2".into()),
        // Aggregates recomputed from each group's kept rows, and FILTER.
        ("kept_aggregates",
         "SELECT device_type, string_agg(DISTINCT event_type, ',' ORDER BY event_type) AS types, bool_or(product_id IS NULL) AS some_null,
                 count(*) FILTER (WHERE event_type = 'purchase') AS purchases, array_agg(DISTINCT page_url ORDER BY page_url) AS pages,
                 sum(DISTINCT length(page_url)) AS lens, max(user_id) FILTER (WHERE device_type <> 'mobile') AS top_user FROM clicks GROUP BY device_type".into(),
         "SELECT device_type, string_agg(DISTINCT event_type, ',' ORDER BY event_type), bool_or(product_id IS NULL), count(*) FILTER (WHERE event_type = 'purchase'),
                 array_agg(DISTINCT page_url ORDER BY page_url), sum(DISTINCT length(page_url)), max(user_id) FILTER (WHERE device_type <> 'mobile') FROM raw_t GROUP BY device_type".into()),
        ("kept_windowed",
         "SELECT window_start, window_end, string_agg(event_id, '|' ORDER BY event_id) AS ids, bool_and(product_id IS NOT NULL) AS all_products
          FROM TUMBLE(clicks, \"timestamp\", INTERVAL '1 minute') GROUP BY window_start, window_end EMIT ON WINDOW CLOSE".into(),
         format!("SELECT {TUMBLE_1M}, {TUMBLE_1M} + INTERVAL '1 minute', string_agg(event_id, '|' ORDER BY event_id), bool_and(product_id IS NOT NULL) FROM raw_t GROUP BY 1, 2")),
        // Kept rows taken away again: the counts underneath change.
        ("kept_on_update_view",
         "SELECT n > 133 AS busy, string_agg(user_id, ',' ORDER BY user_id) AS users, jsonb_agg(n ORDER BY user_id) AS counts, sum(DISTINCT n) AS distinct_n,
                 count(*) FILTER (WHERE n > 140) AS very_busy FROM first_last_seen GROUP BY n > 133".into(),
         "SELECT n > 133, string_agg(user_id, ',' ORDER BY user_id), jsonb_agg(n ORDER BY user_id), sum(DISTINCT n), count(*) FILTER (WHERE n > 140)
          FROM (SELECT user_id, count(*) AS n FROM raw_t GROUP BY user_id) AS u GROUP BY n > 133".into()),
        ("on_update_view_filter",
         "SELECT * FROM having WHERE n > 110".into(),
         "SELECT user_id, count(*) FROM raw_t GROUP BY user_id HAVING count(*) > 110".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_over_a_generator_equal_the_batch_oracle() {
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE clicks WITH (connector = 'generator', scenario = 'clickstream', count = 20000, rate = 'unlimited',
            seed = 7, users = 150, start = '2026-01-01 00:00:00', event_interval = '50 milliseconds',
            out_of_order = '3s', late_fraction = 0.02);
         CREATE MATERIALIZED VIEW raw AS SELECT * FROM clicks;",
    )
    .await
    .unwrap();
    let cases = oracle_cases();
    for (name, query, _) in &cases {
        c.batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {query}")).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let mut names: Vec<&str> = cases.iter().map(|(n, _, _)| *n).collect();
    names.push("raw");
    wait_views(&c, &names, |r| r[1].as_deref() == Some("finished")).await;
    // Late rows are decided row by row at the source, so every view drops the same ones.
    let late = text_rows(&c, "SELECT DISTINCT rows_late FROM weir_views WHERE input = 'clicks'").await;
    assert_eq!(late.len(), 1, "every view saw the same late rows: {late:?}");
    let n_late: i64 = late[0][0].as_deref().unwrap().parse().unwrap();
    assert!(n_late > 100, "the input has late rows ({n_late})");
    let dead = text_rows(&c, "SELECT count(*) FROM weir_dead_letters WHERE reason = 'late' AND view = 'raw'").await;
    assert_eq!(dead[0][0].as_deref(), Some(n_late.to_string().as_str()), "late rows are kept in weir_dead_letters");
    c.batch_execute("CREATE TABLE raw_t AS SELECT * FROM raw").await.unwrap();
    let n: i64 = c.query_one("SELECT count(*) FROM raw_t", &[]).await.unwrap().get(0);
    assert_eq!(n + n_late, 20000, "every generated row is either in the views or late");
    for (name, _, batch) in &cases {
        assert_same(&c, name, batch).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_ddl_errors_explain_show_drop_and_restart() {
    let mut server = Server::start();
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE tx WITH (connector = 'generator', scenario = 'transactions', rate = '20000', count = '3000', seed = '7', start = '2026-01-01 00:00:00')",
    )
    .await
    .unwrap();
    let errors = [
        ("CREATE SOURCE s1 WITH (connector = 'generator', scenario = 'transactions', rat = 5)", "22023", "unknown option \"rat\""),
        ("CREATE SOURCE s1 WITH (connector = 'nope')", "22023", "unknown connector"),
        ("CREATE SOURCE s1 WITH (scenario = 'transactions')", "22023", "missing option \"connector\""),
        ("CREATE SOURCE s1 (nope TEXT) WITH (connector = 'generator', scenario = 'transactions')", "22023", "column \"nope\""),
        ("CREATE SOURCE s1 (amount TEXT) WITH (connector = 'generator', scenario = 'transactions')", "22023", "amount"),
        ("CREATE SOURCE tx WITH (connector = 'generator', scenario = 'transactions')", "42P07", "already exists"),
        ("CREATE MATERIALIZED VIEW v1 AS SELECT nope FROM tx", "42703", "nope"),
        ("CREATE MATERIALIZED VIEW v1 AS SELECT * FROM tx ORDER BY amount", "0A000", "ORDER BY"),
        ("CREATE MATERIALIZED VIEW v1 AS SELECT user_id, count(*) FROM tx GROUP BY user_id EMIT ON WINDOW CLOSE", "0A000", "EMIT ON WINDOW CLOSE"),
        ("CREATE MATERIALIZED VIEW v1 AS SELECT a.user_id FROM tx a JOIN tx b ON a.user_id = b.user_id", "0A000", "bound it in event time"),
        ("CREATE MATERIALIZED VIEW v1 AS SELECT amount + 'x' FROM tx", "42", ""),
        ("CREATE MATERIALIZED VIEW v1 AS SELECT * FROM TUMBLE(tx, \"timestamp\")", "42601", "TUMBLE"),
        ("SELECT * FROM tx", "0A000", "unbounded stream"),
    ];
    for (sql, code, text) in errors {
        let err = c.simple_query(sql).await.expect_err(sql);
        let db = err.as_db_error().unwrap_or_else(|| panic!("{sql}: {err:?}"));
        assert!(sqlstate(&err).starts_with(code), "{sql}: {} {}", db.code().code(), db.message());
        assert!(db.message().contains(text), "{sql}: {}", db.message());
    }
    c.batch_execute(
        "CREATE MATERIALIZED VIEW spend AS SELECT user_id, count(*) AS n, round(sum(amount), 2) AS total FROM tx GROUP BY user_id;
         CREATE MATERIALIZED VIEW big_spenders AS SELECT user_id, total FROM spend WHERE total > 1000;",
    )
    .await
    .unwrap();
    let plan = text_rows(&c, "EXPLAIN MATERIALIZED VIEW spend").await.into_iter().map(|r| r[0].clone().unwrap()).collect::<Vec<_>>().join("\n");
    assert!(plan.contains("Aggregate keys [tx.user_id]") && plan.contains("Watermark timestamp - 5s") && plan.contains("Input tx"), "{plan}");
    assert!(plan.contains("state per key, never freed"), "a GROUP BY on an unbounded key with no window says its state is never freed: {plan}");
    let plan = text_rows(&c, "EXPLAIN CREATE MATERIALIZED VIEW x AS SELECT window_start, count(*) FROM HOP(tx, \"timestamp\", INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY window_start, window_end EMIT ON WINDOW CLOSE").await;
    let plan = plan.into_iter().map(|r| r[0].clone().unwrap()).collect::<Vec<_>>().join("\n");
    assert!(plan.contains("Window hop(timestamp, slide 10s, size 1min)") && plan.contains("emit on window close"), "{plan}");
    assert_eq!(text_rows(&c, "SHOW SOURCES").await[0][0].as_deref(), Some("tx"));
    assert_eq!(text_rows(&c, "SHOW MATERIALIZED VIEWS").await.len(), 2);
    // Dependants block a plain DROP.
    let err = c.simple_query("DROP SOURCE tx").await.unwrap_err();
    assert_eq!(sqlstate(&err), "2BP01");
    let err = c.simple_query("DROP MATERIALIZED VIEW spend").await.unwrap_err();
    assert_eq!(sqlstate(&err), "2BP01");
    assert_eq!(sqlstate(&c.simple_query("DROP SOURCE spend").await.unwrap_err()), "42809");
    wait_views(&c, &["spend", "big_spenders"], |r| r[1].as_deref() == Some("finished")).await;
    let before = text_rows(&c, "SELECT * FROM big_spenders").await;
    assert!(!before.is_empty());
    // A restart on the same data directory brings sources and views back, with the same contents.
    server.restart();
    let c = server.client().await;
    wait_views(&c, &["spend", "big_spenders"], |r| r[1].as_deref() == Some("finished")).await;
    assert_eq!(text_rows(&c, "SELECT * FROM big_spenders").await, before);
    c.batch_execute("DROP SOURCE tx CASCADE").await.unwrap();
    assert!(text_rows(&c, "SHOW MATERIALIZED VIEWS").await.is_empty());
    assert!(text_rows(&c, "SHOW SOURCES").await.is_empty());
    server.restart();
    let c = server.client().await;
    assert!(text_rows(&c, "SHOW SOURCES").await.is_empty(), "the drop is durable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_over_kafka_equal_the_batch_oracle_and_malformed_messages_are_dead_letters() {
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    const EVENTS: usize = 6000;
    let brokers = service("WEIR_TEST_KAFKA");
    let topic = format!("weir-clicks-{}", std::process::id());
    let admin: AdminClient<_> = ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
    for r in admin.create_topics(&[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))], &AdminOptions::new()).await.unwrap() {
        r.unwrap();
    }
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", &brokers).set("linger.ms", "5").create().unwrap();
    let start = 1_767_225_600_000i64; // 2026-01-01 in epoch milliseconds
    let types = ["page_view", "add_to_cart", "purchase"];
    // (key, partition, payload)
    let mut messages: Vec<(String, Option<i32>, String)> = Vec::new();
    for i in 0..EVENTS {
        let user = format!("user_{}", i % 97);
        // Timestamps within a partition are slightly out of order; half as text, half as epoch ms.
        let ms = start + (i as i64) * 100 - (i as i64 % 7) * 30;
        let ts = if i % 2 == 0 { serde_json::json!(ms) } else { serde_json::json!(chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339()) };
        let ev = serde_json::json!({"event_id": format!("e{i}"), "user_id": user, "event_type": types[i % 3], "ts": ts, "extra": {"ignored": true}});
        messages.push((user, None, ev.to_string()));
    }
    messages.push(("user_1".into(), None, "{not json".into()));
    messages.push(("user_2".into(), None, r#"{"event_id": "bad", "user_id": 5, "ts": "yesterday"}"#.into()));
    // One far-future event per partition pushes every partition's watermark past the data.
    for p in 0..3 {
        let ev = serde_json::json!({"event_id": format!("flush{p}"), "user_id": "flush", "event_type": "flush", "ts": start + 86_400_000});
        messages.push(("flush".into(), Some(p), ev.to_string()));
    }
    let mut sent = Vec::new();
    for (key, partition, payload) in &messages {
        let mut record = FutureRecord::to(&topic).key(key).payload(payload);
        if let Some(p) = partition {
            record = record.partition(*p);
        }
        sent.push(producer.send(record, Duration::from_secs(10)));
    }
    for s in sent {
        s.await.map_err(|(e, _)| e).unwrap();
    }
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute(&format!(
        "CREATE SOURCE clicks (event_id TEXT NOT NULL, user_id TEXT NOT NULL, event_type TEXT, ts TIMESTAMP NOT NULL,
            WATERMARK FOR ts AS ts - INTERVAL '1 hour')
         WITH (connector = 'kafka', topic = '{topic}', bootstrap_servers = '{brokers}', startup = 'earliest') FORMAT JSON;
         CREATE MATERIALIZED VIEW k_raw AS SELECT * FROM clicks;
         CREATE MATERIALIZED VIEW k_tumble AS SELECT window_start, window_end, event_type, count(*) AS n, count(DISTINCT user_id) AS users
            FROM TUMBLE(clicks, ts, INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE;
         CREATE MATERIALIZED VIEW k_users AS SELECT user_id, count(*) AS n, max(ts) AS last FROM clicks GROUP BY user_id;
         CREATE MATERIALIZED VIEW k_sessions AS SELECT user_id, window_start, window_end, count(*) AS n
            FROM SESSION(clicks, ts, INTERVAL '2 minutes', user_id) GROUP BY user_id, window_start, window_end EMIT ON WINDOW CLOSE;"
    ))
    .await
    .unwrap();
    let total = (EVENTS + 3).to_string();
    wait_views(&c, &["k_raw", "k_tumble", "k_users", "k_sessions"], |r| {
        r[2].as_deref() == Some(total.as_str()) && r[4].as_deref() == Some("2") && r[5].as_deref().is_some_and(|w| w.starts_with("2026-01-01 23"))
    })
    .await;
    let dead = text_rows(&c, "SELECT reason, raw FROM weir_dead_letters WHERE view = 'k_raw'").await;
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(dead.iter().any(|r| r[1].as_deref() == Some("{not json")));
    assert!(dead.iter().all(|r| r[0].as_deref() == Some("malformed")));
    c.batch_execute("CREATE TABLE raw_t AS SELECT * FROM k_raw").await.unwrap();
    let n: i64 = c.query_one("SELECT count(*) FROM raw_t", &[]).await.unwrap().get(0);
    assert_eq!(n as usize, EVENTS + 3);
    let bin = "date_bin(INTERVAL '1 minute', ts, TIMESTAMP '1970-01-01 00:00:00')";
    // The flush events' own windows end after the final watermark, so they never close.
    assert_same(
        &c,
        "k_tumble",
        &format!(
            "SELECT {bin}, {bin} + INTERVAL '1 minute', event_type, count(*), count(DISTINCT user_id) FROM raw_t WHERE user_id <> 'flush' GROUP BY 1, 2, 3"
        ),
    )
    .await;
    assert_same(&c, "k_users", "SELECT user_id, count(*), max(ts) FROM raw_t GROUP BY user_id").await;
    let sessions = sessions_sql("raw_t", 120, "WHERE user_id <> 'flush'").replace("\"timestamp\"", "ts");
    assert_same(&c, "k_sessions", &sessions).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pipeline_shows_live_data_without_external_services() {
    let dir = crate::support::temp_dir("demo");
    let server = Server::start_with(dir.clone(), &["--demo"]);
    let c = server.client().await;
    let total = |rows: Vec<Vec<Option<String>>>| rows[0][0].as_deref().and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let started = Instant::now();
    let mut first = 0;
    while first == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the demo view stayed empty");
        tokio::time::sleep(Duration::from_millis(200)).await;
        first = total(text_rows(&c, "SELECT sum(events) FROM clicks_by_type").await);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = total(text_rows(&c, "SELECT sum(events) FROM clicks_by_type").await);
    assert!(later > first, "the view keeps updating ({first} then {later})");
    // The reference pipelines run too: fraud alerts and 5-minute metrics within seconds,
    // and their sinks write Parquet files in the data directory.
    let parquet = |sink: &str| {
        std::fs::read_dir(dir.join("demo-sinks").join(sink))
            .map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "parquet")).count())
            .unwrap_or(0)
    };
    let started = Instant::now();
    loop {
        let alerts = total(text_rows(&c, "SELECT count(*) FROM fraud_alerts").await);
        let metrics = total(text_rows(&c, "SELECT count(*) FROM clickstream_metrics_5m").await);
        let stock = total(text_rows(&c, "SELECT count(*) FROM current_stock").await);
        if alerts > 0 && metrics > 0 && stock > 0 && parquet("fraud_alerts_pg") > 0 && parquet("clickstream_archive") > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "demo pipelines: {alerts} alerts, {metrics} metric rows, {stock} stock rows, {} alert files, {} archive files",
            parquet("fraud_alerts_pg"),
            parquet("clickstream_archive")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let sinks = text_rows(&c, "SELECT count(*) FROM weir_sink_status WHERE status LIKE 'failed%'").await;
    assert_eq!(total(sinks), 0, "no demo sink failed");
}

/// A row an expression fails on (division by zero in a projection, a filter
/// or an aggregate's argument) becomes a dead letter with its error; the
/// view goes on and equals the batch query over the other rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_fails_an_expression_is_a_dead_letter_and_the_view_goes_on() {
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = 3000, rate = '100000', users = 7);
         CREATE MATERIALIZED VIEW raw AS SELECT * FROM seq;
         CREATE MATERIALIZED VIEW ratio AS SELECT seq, 100 / (seq % 100) AS r FROM seq;
         CREATE MATERIALIZED VIEW ratio_filter AS SELECT seq FROM seq WHERE 10 / (seq % 50) > 0;
         CREATE MATERIALIZED VIEW ratio_sum AS SELECT user_id, sum(1000 / (seq % 100)) AS s, count(*) AS n FROM seq GROUP BY user_id;",
    )
    .await
    .unwrap();
    let views = ["raw", "ratio", "ratio_filter", "ratio_sum"];
    wait_views(&c, &views, |r| r[1].as_deref() == Some("finished")).await;
    let failed = text_rows(&c, "SELECT name, rows_failed FROM weir_views").await;
    let want: Vec<Vec<Option<String>>> = [("ratio", "30"), ("ratio_filter", "60"), ("ratio_sum", "30"), ("raw", "0")]
        .iter()
        .map(|(v, n)| vec![Some(v.to_string()), Some(n.to_string())])
        .collect();
    assert_eq!(failed, want);
    let dead = text_rows(&c, "SELECT DISTINCT view, reason, source, error FROM weir_dead_letters").await;
    assert_eq!(dead.len(), 3, "one kind of dead letter per failing view: {dead:?}");
    for r in &dead {
        assert_eq!((r[1].as_deref(), r[2].as_deref()), (Some("error"), Some("seq")), "{r:?}");
        assert!(r[3].as_deref().is_some_and(|e| e.contains("division by zero") && e.contains("22012")), "{r:?}");
    }
    let one = text_rows(&c, "SELECT raw FROM weir_dead_letters WHERE view = 'ratio' ORDER BY raw LIMIT 1").await;
    assert!(one[0][0].as_deref().is_some_and(|r| r.contains("\"seq\":0")), "the failing row is shown: {one:?}");
    c.batch_execute("CREATE TABLE raw_t AS SELECT * FROM raw").await.unwrap();
    assert_same(&c, "ratio", "SELECT seq, 100 / nullif(seq % 100, 0) FROM raw_t WHERE seq % 100 <> 0").await;
    assert_same(&c, "ratio_filter", "SELECT seq FROM raw_t WHERE 10 / nullif(seq % 50, 0) > 0").await;
    assert_same(&c, "ratio_sum", "SELECT user_id, sum(1000 / nullif(seq % 100, 0)), count(*) FROM raw_t WHERE seq % 100 <> 0 GROUP BY user_id").await;
}
