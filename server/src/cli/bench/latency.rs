//! `weir bench --alert-latency`: the fraud pipeline (queries/fraud.sql, its
//! source switched to a Kafka topic) in a `weir serve` child process, fed
//! transactions at a fixed rate; reports the time from producing a
//! transaction to its alert arriving on Redis pub/sub and committed in
//! PostgreSQL (p50, p99, max), and the server's CPU use.
//!
//! Each transaction id carries the microsecond it was produced, so the
//! latency is read off the alert itself. PostgreSQL arrivals are seen
//! through LISTEN/NOTIFY from a trigger on the alerts table (at commit).

use crate::dataflow::now_micros;
use futures::StreamExt;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct LatencyArgs<'a> {
    pub kafka: &'a str,
    pub redis: &'a str,
    pub postgres: &'a str,
    pub rate: u64,
    pub seconds: u64,
    pub checkpoint_interval: &'a str,
    pub fetch_wait: Option<&'a str>,
}

/// The produce time in an id `tx_<seq>_<micros>`.
fn produced_at(id: &str) -> Option<i64> {
    id.rsplit('_').next()?.parse().ok()
}

/// CPU seconds a process used so far (utime + stime from /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after "(comm)": state is 0, utime 11, stime 12.
    (ticks(11) + ticks(12)) / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn percentiles(name: &str, mut v: Vec<i64>, expected: usize) {
    if v.is_empty() {
        println!("{name:<22} no alerts arrived (expected {expected})");
        return;
    }
    v.sort();
    let p = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1] as f64 / 1000.0;
    println!(
        "{name:<22} {:>8} of {expected:<8} p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms",
        v.len(),
        p(0.50),
        p(0.99),
        *v.last().unwrap() as f64 / 1000.0
    );
}

/// Arrival times (Unix microseconds) of alerts, by alert id.
type Arrivals = Arc<Mutex<Vec<(String, i64)>>>;

pub async fn run(a: LatencyArgs<'_>) -> anyhow::Result<()> {
    let tag = format!("{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("weir-bench-latency-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = crate::cli::bench::spawn_server(&dir, port, &["--checkpoint-interval", a.checkpoint_interval])?;
    let weir = crate::cli::bench::connect(port, Duration::from_secs(30)).await?;
    let (topic, table, channel) = (format!("weir-bench-tx-{tag}"), format!("bench_alerts_{tag}"), format!("bench_alerts_{tag}"));
    load_pipeline(&weir, &a, &tag, &topic, &table, &channel).await?;
    let started = Instant::now();
    let (pg, pg_arrivals) = watch_postgres(a.postgres, &table, &channel).await?;
    let redis_arrivals = watch_redis(a.redis, &channel).await?;

    let (rate, seconds, brokers, t) = (a.rate, a.seconds, a.kafka.to_string(), topic.clone());
    eprintln!("producing {rate} transactions/s for {seconds} s to {topic} ...");
    let cpu_before = cpu_seconds(child.id());
    let producer = std::thread::spawn(move || produce(&brokers, &t, rate, seconds));
    let (sent, alerting) = tokio::task::spawn_blocking(move || producer.join().map_err(|_| anyhow::anyhow!("the producer panicked"))).await???;
    let produced_for = started.elapsed();
    // Wait for the last alerts (up to 30 s).
    let waited = Instant::now();
    while (redis_arrivals.lock().len() < alerting as usize || pg_arrivals.lock().len() < alerting as usize) && waited.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu = cpu_seconds(child.id()) - cpu_before;
    let latencies = |v: &Mutex<Vec<(String, i64)>>| -> Vec<i64> {
        let mut seen = std::collections::HashSet::new();
        v.lock().iter().filter(|(id, _)| seen.insert(id.clone())).filter_map(|(id, at)| produced_at(id).map(|p| at - p)).collect()
    };
    println!(
        "fraud pipeline on Kafka: {sent} transactions in {:.1} s ({:.0}/s), {alerting} alerts expected; checkpoint interval {}, fetch_wait {}",
        produced_for.as_secs_f64(),
        sent as f64 / produced_for.as_secs_f64(),
        a.checkpoint_interval,
        a.fetch_wait.unwrap_or("default")
    );
    percentiles("Redis pub/sub", latencies(&redis_arrivals), alerting as usize);
    percentiles("PostgreSQL commit", latencies(&pg_arrivals), alerting as usize);
    let wall = started.elapsed().as_secs_f64();
    println!("weir server CPU: {cpu:.1} s in {wall:.1} s ({:.2} cores; {:.0} transactions per CPU-second)", cpu / wall, sent as f64 / cpu);
    let _ = pg.batch_execute(&format!("DROP TABLE IF EXISTS {table}; DROP FUNCTION IF EXISTS {table}_notify();")).await;
    child.kill()?;
    child.wait()?;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(dir.with_extension("log"));
    Ok(())
}

/// Creates the transactions topic and applies queries/fraud.sql with only its source switched to it.
async fn load_pipeline(weir: &tokio_postgres::Client, a: &LatencyArgs<'_>, tag: &str, topic: &str, table: &str, channel: &str) -> anyhow::Result<()> {
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<_> = ClientConfig::new().set("bootstrap.servers", a.kafka).create()?;
    for r in admin.create_topics(&[NewTopic::new(topic, 3, TopicReplication::Fixed(1))], &AdminOptions::new()).await? {
        r.map_err(|(t, e)| anyhow::anyhow!("create topic {t}: {e}"))?;
    }
    let vars: HashMap<&str, String> = HashMap::from([
        ("KAFKA", a.kafka.to_string()),
        ("REDIS_URL", a.redis.to_string()),
        ("PG_URL", a.postgres.to_string()),
        ("ALERTS_TABLE", table.to_string()),
        ("ALERTS_CHANNEL", channel.to_string()),
        ("ALERTS_TOPIC", format!("weir-bench-alerts-{tag}")),
        ("RECENT_KEY", format!("bench:recent:{tag}")),
    ]);
    let sql = crate::cli::apply::substitute(include_str!("../../../../queries/fraud.sql"), &|k| vars.get(k).cloned()).map_err(|e| anyhow::anyhow!(e))?;
    let kafka_source = format!(
        "CREATE SOURCE transactions (transaction_id TEXT, user_id TEXT, amount DOUBLE, payment_method TEXT, ip_address TEXT,
           country TEXT, \"timestamp\" TIMESTAMP, WATERMARK FOR \"timestamp\" AS \"timestamp\" - INTERVAL '5 seconds')
         WITH (connector = 'kafka', topic = '{topic}', bootstrap_servers = '{}'{}) FORMAT JSON",
        a.kafka,
        a.fetch_wait.map(|w| format!(", fetch_wait = '{w}'")).unwrap_or_default()
    );
    for p in weir_planner::parse_sql(&sql)? {
        let stmt = if matches!(p.statement, weir_planner::WeirStatement::CreateSource(_)) { kafka_source.clone() } else { p.sql.clone() };
        weir.batch_execute(&stmt).await.map_err(|e| anyhow::anyhow!("{stmt}: {e}"))?;
    }
    Ok(())
}

/// PostgreSQL: once the sink created the alerts table, a trigger on it notifies at commit.
async fn watch_postgres(url: &str, table: &str, channel: &str) -> anyhow::Result<(tokio_postgres::Client, Arrivals)> {
    let (pg, mut conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
    tokio::spawn(async move {
        while let Some(Ok(m)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = m {
                seen.lock().push((n.payload().to_string(), now_micros()));
            }
        }
    });
    let started = Instant::now();
    while pg.query_opt("SELECT 1 FROM pg_tables WHERE tablename = $1", &[&table]).await?.is_none() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "the PostgreSQL sink did not create {table}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.batch_execute(&format!(
        "CREATE FUNCTION {table}_notify() RETURNS trigger AS $$ BEGIN PERFORM pg_notify('{channel}', NEW.alert_id); RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_notify();
         LISTEN {channel};"
    ))
    .await?;
    Ok((pg, arrivals))
}

/// Redis pub/sub: when each alert arrives on `channel`.
async fn watch_redis(url: &str, channel: &str) -> anyhow::Result<Arrivals> {
    let mut pubsub = redis::Client::open(url)?.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    tokio::spawn(async move {
        let mut s = pubsub.into_on_message();
        while let Some(m) = s.next().await {
            let at = now_micros();
            let payload: String = m.get_payload().unwrap_or_default();
            let id = serde_json::from_str::<serde_json::Value>(&payload).ok().and_then(|v| v["alert_id"].as_str().map(str::to_string)).unwrap_or_default();
            seen.lock().push((id, at));
        }
    });
    Ok(arrivals)
}

/// Produces `rate` transactions a second for `seconds`, one in 50 asking for
/// review (amount and card); returns how many were sent and how many should alert.
fn produce(brokers: &str, topic: &str, rate: u64, seconds: u64) -> anyhow::Result<(u64, u64)> {
    use rdkafka::ClientConfig;
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).set("linger.ms", "1").set("queue.buffering.max.messages", "1000000").create()?;
    let (mut sent, mut alerting) = (0u64, 0u64);
    let begin = Instant::now();
    let total = rate * seconds;
    while sent < total {
        // Send what is due by now, then wait a millisecond.
        let due = ((begin.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while sent < due {
            let alert = sent % 50 == 7;
            let at = now_micros();
            let (amount, method) = if alert { (6000.0 + (sent % 100) as f64, "gift_card") } else { (20.0 + (sent % 900) as f64, "credit_card") };
            let payload = format!(
                r#"{{"transaction_id":"tx_{sent}_{at}","user_id":"user_{}","amount":{amount},"payment_method":"{method}","ip_address":"192.168.1.{}","country":"US","timestamp":{}}}"#,
                sent % 100_000,
                sent % 250,
                at / 1000
            );
            let key = format!("user_{}", sent % 100_000);
            crate::cli::bench::send(&producer, BaseRecord::to(topic).key(&key).payload(&payload));
            sent += 1;
            alerting += alert as u64;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    producer.flush(Duration::from_secs(60))?;
    Ok((sent, alerting))
}
