//! The reference pipelines in queries/ applied with `weir apply` against the
//! real services: every transaction gets one row in fraud_scores carrying
//! exactly the reference rules' score and levels (computed here, independently),
//! and the alerts arrive in PostgreSQL and Redis.

use crate::sinks::wait_sinks;
use crate::streaming::{text_rows, wait_views};
use crate::support::{Server, repo_root, service};

/// The reference design's calculate_fraud_score, in tenths: the SQL's
/// literals are numeric, as in PostgreSQL, so its sums are exact.
fn reference_score(amount: f64, payment_method: &str, ip: &str) -> f64 {
    let mut tenths = 0;
    if amount > 1000.0 {
        tenths += 3;
    }
    if amount > 5000.0 {
        tenths += 2;
    }
    if payment_method == "prepaid_card" || payment_method == "gift_card" {
        tenths += 2;
    }
    if ip.starts_with("10.") {
        tenths += 1;
    }
    f64::from(i32::min(tenths, 10)) / 10.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fraud_pipeline_scores_every_transaction_by_the_reference_rules() {
    let server = Server::start();
    let tag = format!("f{}", server.port);
    let env = [
        ("TX_COUNT", "3000".to_string()),
        ("TX_RATE", "unlimited".to_string()),
        ("PG_URL", service("WEIR_TEST_PG_URL")),
        ("REDIS_URL", service("WEIR_TEST_REDIS_URL")),
        ("KAFKA", service("WEIR_TEST_KAFKA")),
        ("ALERTS_TABLE", format!("fraud_alerts_{tag}")),
        ("ALERTS_TOPIC", format!("alerts_{tag}")),
        ("ALERTS_CHANNEL", format!("fraud_alerts_{tag}")),
        ("RECENT_KEY", format!("fraud:recent:{tag}")),
    ];
    apply_file(&server, "queries/fraud.sql", &env);
    let c = server.client().await;
    wait_views(&c, &["fraud_scores", "fraud_alerts", "user_velocity_10m", "user_countries_1h"], |r| r[1].as_deref() == Some("finished")).await;

    let rows = text_rows(&c, "SELECT transaction_id, amount, payment_method, ip_address, fraud_score, risk_level, requires_review FROM fraud_scores").await;
    assert_eq!(rows.len(), 3000, "one row per transaction");
    let ids: std::collections::BTreeSet<_> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids.len(), 3000, "each transaction once");
    let mut levels = std::collections::BTreeMap::new();
    for r in &rows {
        let v = |i: usize| r[i].clone().unwrap();
        let score = reference_score(v(1).parse().unwrap(), &v(2), &v(3));
        assert_eq!(v(4).parse::<f64>().unwrap(), score, "score of {r:?}");
        let level = if score > 0.7 {
            "HIGH"
        } else if score > 0.4 {
            "MEDIUM"
        } else {
            "LOW"
        };
        assert_eq!(v(5), level, "risk level of {r:?}");
        assert_eq!(v(6), if score > 0.5 { "t" } else { "f" }, "review flag of {r:?}");
        *levels.entry(level).or_insert(0) += 1;
    }
    assert_eq!(levels.len(), 3, "the input exercises every level: {levels:?}");

    // Velocity, checked here: per transaction, over the same user's transactions that
    // arrived so far (the id ends with the generator's event number, its arrival order)
    // with a time in the 10 minutes (1 hour) up to its own.
    let velocity =
        text_rows(&c, "SELECT transaction_id, user_id, amount, country, \"timestamp\", spend_10m, tx_count_10m, countries_1h FROM fraud_scores").await;
    struct Tx {
        seq: u64,
        user: String,
        amount: f64,
        country: String,
        ts: i64,
    }
    let parse_ts = |t: &str| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").unwrap().and_utc().timestamp_nanos_opt().unwrap();
    let txs: Vec<Tx> = velocity
        .iter()
        .map(|r| Tx {
            seq: u64::from_str_radix(&r[0].as_deref().unwrap()[r[0].as_deref().unwrap().len() - 8..], 16).unwrap(),
            user: r[1].clone().unwrap(),
            amount: r[2].as_deref().unwrap().parse().unwrap(),
            country: r[3].clone().unwrap(),
            ts: parse_ts(r[4].as_deref().unwrap()),
        })
        .collect();
    let (ten_min, hour) = (600_000_000_000i64, 3_600_000_000_000i64);
    let mut out_of_order = 0;
    for (r, t) in velocity.iter().zip(&txs) {
        let before = |range: i64| txs.iter().filter(move |s| s.user == t.user && s.seq <= t.seq && s.ts <= t.ts && s.ts >= t.ts - range);
        let spend: f64 = before(ten_min).map(|s| s.amount).sum();
        let countries: std::collections::BTreeSet<&str> = before(hour).map(|s| s.country.as_str()).collect();
        assert_eq!(r[5].as_deref().unwrap().parse::<f64>().unwrap(), (spend * 100.0).round() / 100.0, "spend_10m of {r:?}");
        assert_eq!(r[6].as_deref().unwrap().parse::<usize>().unwrap(), before(ten_min).count(), "tx_count_10m of {r:?}");
        assert_eq!(r[7].as_deref().unwrap().parse::<usize>().unwrap(), countries.len(), "countries_1h of {r:?}");
        out_of_order += txs.iter().any(|s| s.user == t.user && s.seq < t.seq && s.ts > t.ts) as usize;
    }
    assert!(out_of_order > 10, "the input has transactions that arrive after a later one of their user ({out_of_order})");

    // Alerts: the file's rule over the score and the velocity features, in PostgreSQL and in the Redis list.
    let features = text_rows(&c, "SELECT transaction_id, requires_review, tx_count_10m, countries_1h FROM fraud_scores").await;
    let mut want_alerts = Vec::new();
    let mut actions = std::collections::BTreeMap::new();
    for r in &features {
        let (review, n, countries) =
            (r[1].as_deref() == Some("t"), r[2].as_deref().unwrap().parse::<i64>().unwrap(), r[3].as_deref().unwrap().parse::<i64>().unwrap());
        assert!(n >= 1 && countries >= 1, "a transaction counts itself: {r:?}");
        let action = if review {
            "review"
        } else if n >= 5 {
            "velocity"
        } else if countries >= 3 {
            "geography"
        } else {
            continue;
        };
        want_alerts.push(vec![r[0].clone(), Some(action.to_string())]);
        *actions.entry(action).or_insert(0) += 1;
    }
    want_alerts.sort();
    assert_eq!(actions.len(), 3, "the input triggers every kind of alert: {actions:?}");
    let got_alerts = text_rows(&c, "SELECT alert_id, action_taken FROM fraud_alerts").await;
    assert_eq!(got_alerts, want_alerts);
    let alerts = text_rows(&c, "SELECT alert_id FROM fraud_alerts").await;
    let want = alerts.len();
    wait_sinks(&c, &["fraud_alerts_pg", "fraud_alerts_pubsub", "fraud_alerts_recent", "fraud_alerts_kafka"]).await;
    let (pg, conn) = tokio_postgres::connect(&service("WEIR_TEST_PG_URL"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let in_pg = text_rows(&pg, &format!("SELECT alert_id FROM fraud_alerts_{tag}")).await;
    assert_eq!(in_pg, alerts, "PostgreSQL fraud_alerts holds every alert");
    let factors: String = pg.query_one(&format!("SELECT risk_factors FROM fraud_alerts_{tag} LIMIT 1"), &[]).await.unwrap().get(0);
    let v: serde_json::Value = serde_json::from_str(&factors).unwrap();
    assert!(v["risk_level"].is_string(), "risk_factors is JSON: {factors}");
    let mut con = crate::support::redis_connection(&service("WEIR_TEST_REDIS_URL")).await;
    let len: usize = redis::cmd("LLEN").arg(format!("fraud:recent:{tag}")).query_async(&mut con).await.unwrap();
    assert_eq!(len, want.min(100), "the 100 most recent alerts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickstream_pipeline_metrics_enrichment_and_archive() {
    let server = Server::start();
    let tag = format!("c{}", server.port);
    let s3 = service("WEIR_TEST_S3_ENDPOINT");
    let bucket = format!("lake-{tag}");
    assert!(std::process::Command::new("curl").args(["-sf", "-X", "PUT", &format!("{s3}/{bucket}")]).status().unwrap().success());
    let env = [
        ("CLICK_COUNT", "3000".to_string()),
        ("CLICK_RATE", "unlimited".to_string()),
        ("CLICK_START", "2026-01-05 08:20:00".to_string()),
        ("PG_URL", service("WEIR_TEST_PG_URL")),
        ("REDIS_URL", service("WEIR_TEST_REDIS_URL")),
        ("METRICS_PREFIX", format!("metrics:{tag}")),
        ("METRICS_TABLE", format!("metrics_{tag}")),
        ("LAKE_PATH", format!("s3://{bucket}/clickstream/")),
        ("S3_ENDPOINT", s3.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
    ];
    apply_file(&server, "queries/clickstream.sql", &env);
    let c = server.client().await;
    wait_views(&c, &["clickstream_metrics_5m", "clicks_enriched"], |r| r[1].as_deref() == Some("finished")).await;

    // Enrichment: hour, day of week and business hours of every event, computed here.
    let rows = text_rows(&c, "SELECT \"timestamp\", hour, day_of_week, is_business_hours FROM clicks_enriched").await;
    assert_eq!(rows.len(), 3000);
    let mut business = 0;
    for r in &rows {
        let t = chrono::NaiveDateTime::parse_from_str(r[0].as_deref().unwrap(), "%Y-%m-%d %H:%M:%S%.f").unwrap();
        use chrono::{Datelike, Timelike};
        let (h, dow) = (t.hour(), t.weekday().num_days_from_sunday());
        let is_business = (9..=17).contains(&h) && (1..=5).contains(&dow);
        assert_eq!(r[1].as_deref(), Some(h.to_string().as_str()), "{r:?}");
        assert_eq!(r[2].as_deref(), Some(dow.to_string().as_str()), "{r:?}");
        assert_eq!(r[3].as_deref(), Some(if is_business { "t" } else { "f" }), "{r:?}");
        business += is_business as usize;
    }
    assert!(business > 0 && business < 3000, "both kinds of hours occur: {business}");

    // The 5-minute metrics equal the batch query over the same events.
    c.batch_execute("CREATE TABLE events_t AS SELECT * FROM clicks_enriched").await.unwrap();
    let view = text_rows(&c, "SELECT window_start, event_type, event_count, unique_users, unique_sessions FROM clickstream_metrics_5m").await;
    let batch = text_rows(
        &c,
        "SELECT date_bin(INTERVAL '5 minutes', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00'), event_type, count(*),
                count(DISTINCT user_id), count(DISTINCT session_id) FROM events_t GROUP BY 1, 2",
    )
    .await;
    assert!(view.len() > 20);
    assert_eq!(view, batch, "the view equals the batch oracle");

    // Delivered: Redis (with a TTL), PostgreSQL, and every raw event as Parquet on S3.
    wait_sinks(&c, &["clickstream_metrics_redis", "clickstream_metrics_pg", "clickstream_archive"]).await;
    let mut con = crate::support::redis_connection(&service("WEIR_TEST_REDIS_URL")).await;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("metrics:{tag}:*")).query_async(&mut con).await.unwrap();
    assert_eq!(keys.len(), view.len());
    let ttl: i64 = redis::cmd("TTL").arg(&keys[0]).query_async(&mut con).await.unwrap();
    assert!(ttl > 3000, "one-hour TTL: {ttl}");
    let (pg, conn) = tokio_postgres::connect(&service("WEIR_TEST_PG_URL"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let in_pg =
        text_rows(&pg, &format!("SELECT window_start::text, event_type, event_count::text, unique_users::text, unique_sessions::text FROM metrics_{tag}"))
            .await;
    assert_eq!(in_pg, view);
    use futures::StreamExt;
    use object_store::{ObjectStore, ObjectStoreExt};
    let store = crate::support::moto_store(&s3, &bucket);
    let mut archived = 0;
    let files: Vec<_> = store.list(None).map(|m| m.unwrap().location).filter(|l| std::future::ready(l.as_ref().ends_with(".parquet"))).collect().await;
    for f in files {
        let bytes = store.get(&f).await.unwrap().bytes().await.unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap();
        archived += reader.map(|b| b.unwrap().num_rows()).sum::<usize>();
    }
    assert_eq!(archived, 3000, "every raw event archived once");
}

/// Runs `weir apply FILE` against `server` with `env`; fails the test on an error.
fn apply_file(server: &Server, file: &str, env: &[(&str, String)]) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["apply", repo_root().join(file).to_str().unwrap(), "--server", &server.conn_str()])
        // The tests compare every row a view ever held: keep them all.
        .env("RETENTION", "100000 days")
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .output()
        .unwrap();
    assert!(out.status.success(), "weir apply {file}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_and_product_analytics_pipelines() {
    let server = Server::start();
    let tag = format!("i{}", server.port);
    let common = [("PG_URL", service("WEIR_TEST_PG_URL")), ("REDIS_URL", service("WEIR_TEST_REDIS_URL"))];
    let mut env: Vec<(&str, String)> = common.to_vec();
    env.extend([
        ("INV_COUNT", "4000".to_string()),
        ("INV_RATE", "unlimited".to_string()),
        ("STOCK_TABLE", format!("stock_{tag}")),
        ("LOW_STOCK_PREFIX", format!("low:{tag}")),
        ("LOW_STOCK", "30".to_string()),
        ("CLICK_COUNT", "4000".to_string()),
        ("CLICK_RATE", "unlimited".to_string()),
        ("PRODUCT_PREFIX", format!("product:{tag}")),
    ]);
    apply_file(&server, "queries/inventory.sql", &env);
    apply_file(&server, "queries/product_analytics.sql", &env);
    let c = server.client().await;
    wait_views(&c, &["current_stock", "low_stock_alerts", "product_analytics_1h"], |r| r[1].as_deref() == Some("finished")).await;

    // Stock equals the batch computation over the same movements; alerts are its rows under 30.
    c.batch_execute("CREATE MATERIALIZED VIEW movements AS SELECT * FROM inventory").await.unwrap();
    wait_views(&c, &["movements"], |r| r[1].as_deref() == Some("finished")).await;
    c.batch_execute("CREATE TABLE movements_t AS SELECT * FROM movements").await.unwrap();
    let stock = text_rows(&c, "SELECT product_id, warehouse_id, stock, movements FROM current_stock").await;
    let batch = text_rows(&c, "SELECT product_id, warehouse_id, 50 + sum(quantity_change), count(*) FROM movements_t GROUP BY 1, 2").await;
    assert!(stock.len() > 100);
    assert_eq!(stock, batch, "current stock equals the batch oracle");
    let low = text_rows(&c, "SELECT product_id, warehouse_id, stock FROM low_stock_alerts").await;
    let want_low: Vec<_> = stock.iter().filter(|r| r[2].as_deref().unwrap().parse::<i64>().unwrap() < 30).map(|r| r[..3].to_vec()).collect();
    assert!(!want_low.is_empty());
    assert_eq!(low, want_low, "low-stock alerts");
    wait_sinks(&c, &["current_stock_pg", "low_stock_redis", "product_analytics_redis"]).await;
    let (pg, conn) = tokio_postgres::connect(&service("WEIR_TEST_PG_URL"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let in_pg = text_rows(&pg, &format!("SELECT product_id, warehouse_id, stock::text, movements::text FROM stock_{tag}")).await;
    assert_eq!(in_pg, stock, "PostgreSQL holds the current stock");
    let mut con = crate::support::redis_connection(&service("WEIR_TEST_REDIS_URL")).await;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("low:{tag}:*")).query_async(&mut con).await.unwrap();
    let mut keys: Vec<String> = keys.into_iter().map(|k| k.trim_start_matches(&format!("low:{tag}:")).to_string()).collect();
    keys.sort();
    let mut want_keys: Vec<String> = want_low.iter().map(|r| format!("{}:{}", r[0].as_deref().unwrap(), r[1].as_deref().unwrap())).collect();
    want_keys.sort();
    assert_eq!(keys, want_keys, "Redis holds exactly the current alerts (restocked products were deleted)");

    // Product analytics: each event counts in the 12 one-hour windows that hold it.
    let rows = text_rows(&c, "SELECT product_id, views, cart_adds, purchases, conversion_rate FROM product_analytics_1h").await;
    assert!(rows.len() > 100);
    for r in &rows {
        let n = |i: usize| r[i].as_deref().unwrap().parse::<f64>().unwrap();
        let rate = if n(1) > 0.0 { n(3) / n(1) } else { 0.0 };
        assert_eq!(n(4), rate, "conversion rate of {r:?}");
    }
    c.batch_execute("CREATE MATERIALIZED VIEW pc AS SELECT event_type, product_id FROM product_clicks").await.unwrap();
    wait_views(&c, &["pc"], |r| r[1].as_deref() == Some("finished")).await;
    let total = |col: usize| rows.iter().map(|r| r[col].as_deref().unwrap().parse::<i64>().unwrap()).sum::<i64>();
    for (col, event) in [(1, "page_view"), (2, "add_to_cart"), (3, "purchase")] {
        let n: i64 = c.query_one(&format!("SELECT count(*) FROM pc WHERE event_type = '{event}' AND product_id IS NOT NULL"), &[]).await.unwrap().get(0);
        assert_eq!(total(col), 12 * n, "{event}: every event in 12 windows");
    }
    let fresh: std::collections::HashMap<String, String> =
        redis::cmd("HGETALL").arg(format!("product:{tag}:{}:last_hour", rows[0][0].as_deref().unwrap())).query_async(&mut con).await.unwrap();
    assert!(fresh.contains_key("conversion_rate"), "{fresh:?}");
}

/// `text` without its CREATE SINK statements.
fn without_sinks(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("CREATE SINK") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(";\n").map(|e| i + e + 2).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out + rest
}

/// `text` with the WITH (...) clause of its CREATE SOURCE replaced by `with`.
fn with_source_options(text: &str, with: &str) -> String {
    let start = text.find("CREATE SOURCE").expect("a source");
    let open = start + text[start..].find("WITH (").expect("a WITH clause");
    let mut depth = 0;
    for (i, ch) in text[open..].char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return format!("{}{with}{}", &text[..open], &text[open + i + 1..]);
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced WITH clause");
}

/// Each pipeline runs on Kafka with only its source's WITH clause changed: a
/// server runs it on the generator and writes the generated events to a Kafka
/// topic (one partition, so the order is kept); a second server reads that
/// topic. Their per-event views must be equal, row for row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_run_on_kafka_by_changing_only_the_source_with_clause() {
    let kafka = service("WEIR_TEST_KAFKA");
    let cases: [(&str, &str, &str, &[&str]); 2] = [
        ("queries/fraud.sql", "transactions", "TX", &["fraud_scores", "fraud_alerts"]),
        ("queries/clickstream.sql", "clickstream", "CLICK", &["clicks_enriched"]),
    ];
    for (file, source, var, views) in cases {
        let generated = Server::start();
        let topic = format!("pipeline-{source}-{}", generated.port);
        let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
        let dir = crate::support::temp_dir("kafka-pipelines");
        let a = dir.join("generator.sql");
        std::fs::write(
            &a,
            format!(
                "{}\nCREATE SINK to_kafka FROM {source} WITH (connector = 'kafka', bootstrap_servers = '{kafka}', topic = '{topic}');\n",
                without_sinks(&text)
            ),
        )
        .unwrap();
        let n = 2500;
        let env = [(format!("{var}_COUNT"), n.to_string()), (format!("{var}_RATE"), "unlimited".to_string())];
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        apply_file(&generated, a.to_str().unwrap(), &env);
        let g = generated.client().await;
        wait_views(&g, views, |r| r[1].as_deref() == Some("finished")).await;
        wait_sinks(&g, &["to_kafka"]).await;

        let from_kafka = Server::start();
        let b = dir.join("kafka.sql");
        std::fs::write(
            &b,
            with_source_options(&without_sinks(&text), &format!("WITH (connector = 'kafka', topic = '{topic}', bootstrap_servers = '{kafka}')")),
        )
        .unwrap();
        apply_file(&from_kafka, b.to_str().unwrap(), &[]);
        let k = from_kafka.client().await;
        wait_views(&k, &[views[0]], |r| r[2].as_deref() == Some(n.to_string().as_str())).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        for v in views {
            let want = text_rows(&g, &format!("SELECT * FROM {v}")).await;
            let got = text_rows(&k, &format!("SELECT * FROM {v}")).await;
            assert!(want.len() > 100, "{file} {v}: {} rows", want.len());
            assert_eq!(got.len(), want.len(), "{file} {v}: rows from Kafka vs from the generator");
            assert!(got == want, "{file} {v}: the same rows from Kafka as from the generator");
        }
    }
}
