//! The reference pipelines in queries/ applied with `weir apply` against the
//! real services: every transaction gets one row in fraud_scores carrying
//! exactly the reference rules' score and levels (computed here, independently),
//! and the alerts arrive in PostgreSQL and Redis.

use crate::streaming::{text_rows, wait_views};
use crate::support::{repo_root, service, Server};

/// The reference design's calculate_fraud_score, in the same order of additions.
fn reference_score(amount: f64, payment_method: &str, ip: &str) -> f64 {
    let mut score = 0.0;
    if amount > 1000.0 {
        score += 0.3;
    }
    if amount > 5000.0 {
        score += 0.2;
    }
    if payment_method == "prepaid_card" || payment_method == "gift_card" {
        score += 0.2;
    }
    if ip.starts_with("10.") {
        score += 0.1;
    }
    f64::min(score, 1.0)
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
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["apply", repo_root().join("queries/fraud.sql").to_str().unwrap(), "--server", &server.conn_str()])
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .output()
        .unwrap();
    assert!(out.status.success(), "weir apply: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
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
        let level = if score > 0.7 { "HIGH" } else if score > 0.4 { "MEDIUM" } else { "LOW" };
        assert_eq!(v(5), level, "risk level of {r:?}");
        assert_eq!(v(6), if score > 0.5 { "t" } else { "f" }, "review flag of {r:?}");
        *levels.entry(level).or_insert(0) += 1;
    }
    assert_eq!(levels.len(), 3, "the input exercises every level: {levels:?}");

    // Alerts: the transactions that require review, in PostgreSQL and in the Redis list.
    let alerts = text_rows(&c, "SELECT alert_id FROM fraud_alerts").await;
    let want = rows.iter().filter(|r| r[6].as_deref() == Some("t")).count();
    assert_eq!(alerts.len(), want);
    let started = std::time::Instant::now();
    loop {
        let status = text_rows(&c, "SELECT name, status FROM weir_sink_status").await;
        if status.iter().all(|r| r[1].as_deref() == Some("finished")) {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "sinks: {status:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (pg, conn) = tokio_postgres::connect(&service("WEIR_TEST_PG_URL"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let in_pg = text_rows(&pg, &format!("SELECT alert_id FROM fraud_alerts_{tag}")).await;
    assert_eq!(in_pg, alerts, "PostgreSQL fraud_alerts holds every alert");
    let factors: String = pg.query_one(&format!("SELECT risk_factors FROM fraud_alerts_{tag} LIMIT 1"), &[]).await.unwrap().get(0);
    let v: serde_json::Value = serde_json::from_str(&factors).unwrap();
    assert!(v["risk_level"].is_string(), "risk_factors is JSON: {factors}");
    let mut con = redis::Client::open(service("WEIR_TEST_REDIS_URL")).unwrap().get_multiplexed_async_connection().await.unwrap();
    let len: usize = redis::cmd("LLEN").arg(format!("fraud:recent:{tag}")).query_async(&mut con).await.unwrap();
    assert_eq!(len, want.min(100), "the 100 most recent alerts");
}
