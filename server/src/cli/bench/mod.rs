//! `weir bench`: runs continuous queries in-process over the generator and
//! reports throughput per CPU core (CPU time from getrusage, not wall time)
//! and peak memory, and writes rows through sinks (`--redis`, `--postgres`,
//! `--parquet`), measures recovery (`--recovery-state-mb`) and fraud-alert
//! latency (`--alert-latency`, in latency.rs), and runs a view over an
//! unbounded source inside a memory limit (`--soak-seconds`, in soak.rs). The numbers in BENCHMARKS.md
//! come from here.

pub mod latency;
pub mod soak;

use crate::dataflow::Status;
use crate::engine::Engine;
use clap::Args;
use std::time::{Duration, Instant};
use weir_planner::{WeirStatement, parse_sql};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Events each query reads
    #[arg(long, default_value_t = 20_000_000)]
    pub events: u64,
    /// Which queries to run (comma-separated): filter, tumble, hop, session, over, join, clickstream, kafka
    #[arg(long, default_value = "filter,tumble,hop,clickstream")]
    pub queries: String,
    /// Events for the clickstream query (string-heavy, so slower)
    #[arg(long, default_value_t = 2_000_000)]
    pub clickstream_events: u64,
    /// Kafka brokers for the `kafka` query (JSON messages into the tumble view), e.g. 127.0.0.1:9092
    #[arg(long)]
    pub kafka: Option<String>,
    /// Messages the `kafka` query produces first and then reads
    #[arg(long, default_value_t = 2_000_000)]
    pub kafka_events: u64,
    /// Measure the Redis sink (hash upserts) against this server, e.g. redis://127.0.0.1:6379
    #[arg(long)]
    pub redis: Option<String>,
    /// Measure the PostgreSQL sink (upserts) against this database, e.g. postgres://postgres@127.0.0.1:5432/postgres
    #[arg(long)]
    pub postgres: Option<String>,
    /// Measure the Parquet sink writing under this path (an absolute local path, or s3://bucket/prefix/ with --s3-endpoint)
    #[arg(long)]
    pub parquet: Option<String>,
    /// S3 endpoint for an s3:// --parquet path, e.g. http://127.0.0.1:9000 (credentials from AWS_* variables)
    #[arg(long)]
    pub s3_endpoint: Option<String>,
    /// Rows each sink benchmark writes
    #[arg(long, default_value_t = 1_000_000)]
    pub sink_rows: usize,
    /// How often the queries checkpoint, e.g. 1s; `off` runs them without checkpoints
    #[arg(long, default_value = "1s")]
    pub checkpoint_interval: String,
    /// Measure recovery instead: a server whose view holds this many MiB is killed with SIGKILL and restarted
    #[arg(long)]
    pub recovery_state_mb: Option<u64>,
    /// With --recovery-state-mb: what the view keeps: `append` (every event, in segments) or `keyed` (a GROUP BY with a group per event: aggregate state in state files)
    #[arg(long, default_value = "append")]
    pub recovery_view: String,
    /// Measure fraud-alert latency instead: queries/fraud.sql on a Kafka topic (needs --kafka, --redis, --postgres),
    /// from producing a transaction to its alert on Redis pub/sub and in PostgreSQL
    #[arg(long)]
    pub alert_latency: bool,
    /// Transactions per second the latency benchmark produces
    #[arg(long, default_value_t = 10_000)]
    pub alert_rate: u64,
    /// Seconds the latency benchmark produces for
    #[arg(long, default_value_t = 20)]
    pub alert_seconds: u64,
    /// Run the soak instead: an unbounded generator into a SELECT * view for this many seconds, printing memory and disk every 10 s
    #[arg(long)]
    pub soak_seconds: Option<u64>,
    /// Events per second the soak generates
    #[arg(long, default_value_t = 10_000)]
    pub soak_rate: u64,
    /// The soak's --memory-limit, e.g. 256MiB
    #[arg(long, default_value = "256MiB")]
    pub memory_limit: String,
    /// The Kafka source's `fetch_wait` option in the latency benchmark, e.g. 50ms (default: the source's)
    #[arg(long)]
    pub fetch_wait: Option<String>,
}

/// Rows shaped like a per-minute metrics view (window_start, event_type,
/// counts), every row a distinct key, in epochs of 65,536 rows.
fn metric_epochs(rows: usize) -> anyhow::Result<(arrow::datatypes::SchemaRef, Vec<weir_connectors::sink::Changes>)> {
    use arrow::array::{Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("window_start", DataType::Timestamp(TimeUnit::Nanosecond, None), false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new("event_count", DataType::Int64, false),
        Field::new("unique_users", DataType::Int64, false),
    ]));
    let types = ["page_view", "click", "add_to_cart", "purchase", "search"];
    let mut out = Vec::new();
    for start in (0..rows).step_by(65_536) {
        let n = 65_536.min(rows - start);
        let idx = start..start + n;
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                // A distinct millisecond per row: every row its own key, all in one hour partition.
                Arc::new(TimestampNanosecondArray::from_iter_values(idx.clone().map(|i| 1_767_225_600_000_000_000 + i as i64 * 1_000_000))),
                Arc::new(StringArray::from_iter_values(idx.clone().map(|i| types[i % 5]))),
                Arc::new(Int64Array::from_iter_values(idx.clone().map(|i| (i % 997) as i64 + 1))),
                Arc::new(Int64Array::from_iter_values(idx.map(|i| (i % 113) as i64 + 1))),
            ],
        )?;
        out.push(weir_connectors::sink::Changes { inserts: batch, deletes: RecordBatch::new_empty(schema.clone()) });
    }
    Ok((schema, out))
}

/// Writes `--sink-rows` rows through each sink given on the command line.
async fn sink_benches(args: &BenchArgs) -> anyhow::Result<()> {
    let run = format!("{:x}", std::process::id());
    let mut targets: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    if let Some(url) = &args.redis {
        targets.push(("redis", vec![("url".into(), url.clone()), ("key".into(), format!("bench:{run}:{{window_start}}:{{event_type}}"))]));
    }
    if let Some(url) = &args.postgres {
        targets.push((
            "postgres",
            vec![
                ("url".into(), url.clone()),
                ("table".into(), format!("weir_bench_{run}")),
                ("primary_key".into(), "window_start,event_type".into()),
                ("create_table".into(), "true".into()),
            ],
        ));
    }
    if let Some(path) = &args.parquet {
        let mut o = vec![("path".into(), path.clone()), ("partition_by".into(), "window_start".into())];
        if let Some(e) = &args.s3_endpoint {
            o.push(("endpoint".into(), e.clone()));
        }
        targets.push(("s3", o));
    }
    if targets.is_empty() {
        return Ok(());
    }
    let (schema, epochs) = metric_epochs(args.sink_rows)?;
    println!("{:<12} {:>12} {:>10} {:>10} {:>16} {:>16}", "sink", "rows", "wall s", "cpu s", "rows/s", "rows/cpu-s");
    for (connector, options) in targets {
        let input = weir_connectors::sink::SinkInput {
            sink: format!("bench_{connector}_{run}"),
            schema: schema.clone(),
            append_only: true,
            unique_key: None,
            access: operator_access(),
        };
        let options = weir_connectors::Options::new(options.into_iter().collect());
        eprintln!("writing {} rows through the {connector} sink ...", args.sink_rows);
        let before = usage();
        let started = Instant::now();
        let mut sink = weir_connectors::open_sink(connector, &options, &input).await.map_err(|e| anyhow::anyhow!("{connector}: {e}"))?;
        for (i, changes) in epochs.iter().enumerate() {
            sink.write(i as u64 + 1, changes).await.map_err(|e| anyhow::anyhow!("{connector}: {e}"))?;
        }
        sink.flush().await.map_err(|e| anyhow::anyhow!("{connector}: {e}"))?;
        let (wall, cpu) = (started.elapsed(), usage().cpu - before.cpu);
        println!(
            "{:<12} {:>12} {:>10.2} {:>10.2} {:>16.0} {:>16.0}",
            connector,
            args.sink_rows,
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            args.sink_rows as f64 / wall.as_secs_f64(),
            args.sink_rows as f64 / cpu.as_secs_f64()
        );
    }
    Ok(())
}

/// Produces `n` clickstream-like JSON messages (about 200 bytes each) to a new
/// 3-partition topic, before the measurement starts. Returns the topic.
async fn produce_kafka(brokers: &str, n: u64) -> anyhow::Result<String> {
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let topic = format!("weir-bench-{}", std::process::id());
    let admin: AdminClient<_> = ClientConfig::new().set("bootstrap.servers", brokers).create()?;
    for r in admin.create_topics(&[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))], &AdminOptions::new()).await? {
        r.map_err(|(t, e)| anyhow::anyhow!("create topic {t}: {e}"))?;
    }
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let start_ms = 1_767_225_600_000i64;
    let types = ["page_view", "add_to_cart", "purchase", "product_search", "user_login"];
    for i in 0..n {
        let payload = format!(
            r#"{{"event_id":"evt-{i:012}","user_id":"user_{}","session_id":"session_{}","event_type":"{}","ts":{},"page_url":"/products","device_type":"mobile","ip_address":"192.168.{}.{}"}}"#,
            i % 10_000,
            i % 50_000,
            types[(i % 5) as usize],
            start_ms + i as i64 * 10,
            i % 256,
            (i / 256) % 256
        );
        let key = format!("user_{}", i % 10_000);
        send(&producer, BaseRecord::to(&topic).key(&key).payload(&payload));
    }
    producer.flush(Duration::from_secs(120))?;
    Ok(topic)
}

/// Sends a message, waiting while the producer's queue is full.
pub(crate) fn send(
    producer: &rdkafka::producer::ThreadedProducer<rdkafka::producer::DefaultProducerContext>,
    record: rdkafka::producer::BaseRecord<'_, String, String>,
) {
    let mut record = record;
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, r)) => {
                record = r;
                producer.poll(Duration::from_millis(1));
            }
        }
    }
}

struct Usage {
    cpu: Duration,
    max_rss_kib: i64,
}

fn usage() -> Usage {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Usage { cpu: tv(u.ru_utime) + tv(u.ru_stime), max_rss_kib: u.ru_maxrss }
}

fn cases(args: &BenchArgs) -> Vec<(&'static str, String, String, u64)> {
    let seq = |n: u64| {
        format!(
            "CREATE SOURCE seq_{n} WITH (connector = 'generator', scenario = 'sequence', count = '{n}', rate = 'unlimited',
                users = '10000', event_types = '5', event_interval = '10 milliseconds', out_of_order = '0s')"
        )
    };
    let n = args.events;
    vec![
        ("filter", seq(n), format!("SELECT seq, user_id * 2 AS u2, ts FROM seq_{n} WHERE event_type = 3 AND user_id < 100"), n),
        (
            "tumble",
            seq(n),
            format!(
                "SELECT window_start, window_end, event_type, count(*) AS events, count(DISTINCT user_id) AS users
             FROM TUMBLE(seq_{n}, ts, INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE"
            ),
            n,
        ),
        (
            "hop",
            seq(n),
            format!(
                "SELECT window_start, window_end, event_type, count(*) AS events
             FROM HOP(seq_{n}, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE"
            ),
            n,
        ),
        (
            "session",
            seq(n),
            format!(
                "SELECT user_id, window_start, window_end, count(*) AS events
             FROM SESSION(seq_{n}, ts, INTERVAL '30 seconds', user_id) GROUP BY user_id, window_start, window_end EMIT ON WINDOW CLOSE"
            ),
            n,
        ),
        (
            "over",
            seq(n),
            format!(
                "SELECT seq, event_type, count(*) OVER w AS n, sum(user_id) OVER w AS s FROM seq_{n}
             WINDOW w AS (PARTITION BY event_type ORDER BY ts RANGE BETWEEN INTERVAL '1 minute' PRECEDING AND CURRENT ROW)"
            ),
            n,
        ),
        // Both sides read the source (2n input events), each paced at 400K events/s: two
        // unpaced generators drift apart by millions of rows, and the side ahead keeps
        // its rows until the other side's watermark catches up.
        (
            "join",
            format!(
                "CREATE SOURCE seq_paced_{n} WITH (connector = 'generator', scenario = 'sequence', count = '{n}', rate = '400000',
                users = '10000', event_types = '5', event_interval = '10 milliseconds', out_of_order = '0s')"
            ),
            format!(
                "SELECT a.seq, b.seq AS other FROM seq_paced_{n} a JOIN seq_paced_{n} b
             ON a.user_id = b.user_id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1 second'"
            ),
            2 * n,
        ),
        (
            "clickstream",
            format!(
                "CREATE SOURCE clicks_bench WITH (connector = 'generator', scenario = 'clickstream', count = '{}', rate = 'unlimited', out_of_order = '2s')",
                args.clickstream_events
            ),
            "SELECT window_start, window_end, event_type, count(*) AS events, count(DISTINCT user_id) AS users, count(DISTINCT session_id) AS sessions
          FROM TUMBLE(clicks_bench, \"timestamp\", INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE"
                .into(),
            args.clickstream_events,
        ),
    ]
}

/// The bench is the operator's own tool: its sinks may write anywhere the
/// operator names and use the operator's credentials.
fn operator_access() -> weir_connectors::HostAccess {
    weir_connectors::HostAccess { local_roots: vec!["/".into()], env_credentials: true }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(mb) = args.recovery_state_mb {
        return recovery_bench(mb, &args.recovery_view).await;
    }
    if args.alert_latency {
        return alert_latency(&args).await;
    }
    if let Some(seconds) = args.soak_seconds {
        let limit = crate::cli::config::parse_bytes(&args.memory_limit)
            .ok_or_else(|| anyhow::anyhow!("--memory-limit: \"{}\" is not a size such as 256MiB", args.memory_limit))?;
        return soak::run(seconds, args.soak_rate, limit).await;
    }
    let dir = std::env::temp_dir().join(format!("weir-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let interval = match args.checkpoint_interval.as_str() {
        "off" => None,
        t => Some(weir_connectors::options::parse_duration(t).map_err(|e| anyhow::anyhow!("--checkpoint-interval: {e}"))?),
    };
    eprintln!("checkpoints: {}", args.checkpoint_interval);
    let engine = Engine::open(&dir, 1, crate::storage::WAL_COMPACT_BYTES, interval, crate::engine::Limits::with_memory(1 << 30)).await?;
    let wanted: Vec<&str> = args.queries.split(',').map(str::trim).collect();
    println!("{:<12} {:>12} {:>10} {:>10} {:>16} {:>16} {:>12}", "query", "events", "wall s", "cpu s", "events/s", "events/cpu-s", "peak RSS MiB");
    let mut all = cases(&args);
    if let (Some(brokers), true) = (&args.kafka, wanted.contains(&"kafka")) {
        eprintln!("producing {} JSON messages to Kafka at {brokers} ...", args.kafka_events);
        let topic = produce_kafka(brokers, args.kafka_events).await?;
        all.push((
            "kafka",
            format!(
                "CREATE SOURCE clicks_kafka (event_id TEXT, user_id TEXT, session_id TEXT, event_type TEXT, ts TIMESTAMP,
                    page_url TEXT, device_type TEXT, ip_address TEXT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
                 WITH (connector = 'kafka', topic = '{topic}', bootstrap_servers = '{brokers}') FORMAT JSON"
            ),
            "SELECT window_start, window_end, event_type, count(*) AS events, count(DISTINCT user_id) AS users
             FROM TUMBLE(clicks_kafka, ts, INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE"
                .into(),
            args.kafka_events,
        ));
    }
    for (name, source_sql, view_sql, events) in all {
        if wanted.contains(&name) {
            run_case(&engine, name, &source_sql, &view_sql, events).await?;
        }
    }
    engine.stop_all();
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    sink_benches(&args).await
}

/// `--alert-latency`: the fraud pipeline on Kafka (latency.rs).
async fn alert_latency(args: &BenchArgs) -> anyhow::Result<()> {
    let need = |v: &Option<String>, flag: &str| v.clone().ok_or_else(|| anyhow::anyhow!("--alert-latency needs {flag}"));
    let (kafka, redis, postgres) = (need(&args.kafka, "--kafka")?, need(&args.redis, "--redis")?, need(&args.postgres, "--postgres")?);
    latency::run(latency::LatencyArgs {
        kafka: &kafka,
        redis: &redis,
        postgres: &postgres,
        rate: args.alert_rate,
        seconds: args.alert_seconds,
        checkpoint_interval: &args.checkpoint_interval,
        fetch_wait: args.fetch_wait.as_deref(),
    })
    .await
}

/// Runs one query to the end of its input and prints its row of the table.
async fn run_case(engine: &std::sync::Arc<Engine>, name: &str, source_sql: &str, view_sql: &str, events: u64) -> anyhow::Result<()> {
    for p in parse_sql(source_sql)? {
        if let WeirStatement::CreateSource(cs) = &p.statement
            && engine.kind_of(&weir_planner::names::object_name(&cs.name)?).is_none()
        {
            engine.create_source(cs, &p.sql).await?;
        }
    }
    let view = format!("bench_{name}");
    let parsed = parse_sql(&format!("CREATE MATERIALIZED VIEW {view} AS {view_sql}"))?.pop().expect("one statement");
    let WeirStatement::CreateView(cv) = &parsed.statement else { unreachable!() };
    eprintln!("running {name} over {events} events ...");
    let before = usage();
    let started = Instant::now();
    engine.create_view(cv, &parsed.sql).await?;
    let state = engine.view_state(&view).expect("view exists");
    loop {
        let status = state.status();
        // A Kafka source never ends: it is done when every message has been read.
        let read = state.stats.rows_in.load(std::sync::atomic::Ordering::Relaxed);
        if status == Status::Finished || (name == "kafka" && read >= events) {
            break;
        }
        anyhow::ensure!(!status.is_failed(), "{name}: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    let after = usage();
    let cpu = after.cpu - before.cpu;
    let rows = state.row_count();
    println!(
        "{:<12} {:>12} {:>10.2} {:>10.2} {:>16.0} {:>16.0} {:>12}   ({rows} result rows)",
        name,
        events,
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        events as f64 / wall.as_secs_f64(),
        events as f64 / cpu.as_secs_f64(),
        after.max_rss_kib / 1024
    );
    engine.drop_streaming(weir_planner::names::ObjectKind::View, std::slice::from_ref(&view), false, false).await?;
    Ok(())
}

/// Total size of the files under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// A `weir serve` child process on a free port.
pub(crate) fn spawn_server(dir: &std::path::Path, port: u16, extra: &[&str]) -> anyhow::Result<std::process::Child> {
    Ok(std::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log", "info"])
        .args(extra)
        .arg("--data-dir")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.with_extension("log"))?)
        .spawn()?)
}

pub(crate) async fn connect(port: u16, deadline: Duration) -> anyhow::Result<tokio_postgres::Client> {
    let started = Instant::now();
    loop {
        match tokio_postgres::connect(&format!("host=127.0.0.1 port={port} user=weir dbname=weir"), tokio_postgres::NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                return Ok(client);
            }
            Err(e) if started.elapsed() > deadline => anyhow::bail!("weir did not answer within {deadline:?}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn rows_in(c: &tokio_postgres::Client) -> anyhow::Result<(i64, String)> {
    let r = c.query_one("SELECT rows_in, status FROM weir_views WHERE name = 'kept'", &[]).await?;
    Ok((r.get(0), r.get(1)))
}

/// Recovery: a view keeping every clickstream event grows until the data
/// directory holds `mb` MiB; the server is killed with SIGKILL and started
/// again. Reports the time until it answers, until the view processes again,
/// and until it is back where it was when killed.
async fn recovery_bench(mb: u64, view: &str) -> anyhow::Result<()> {
    let view = match view {
        "append" => "CREATE MATERIALIZED VIEW kept AS SELECT * FROM clicks;",
        "keyed" => {
            "CREATE MATERIALIZED VIEW kept AS SELECT event_id, count(*) AS n, max(\"timestamp\") AS last, min(user_id) AS user_id FROM clicks GROUP BY event_id;"
        }
        other => anyhow::bail!("--recovery-view: \"{other}\" is neither append nor keyed"),
    };
    let dir = std::env::temp_dir().join(format!("weir-bench-recovery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = spawn_server(&dir, port, &[])?;
    let c = connect(port, Duration::from_secs(30)).await?;
    c.batch_execute(
        "CREATE SOURCE clicks WITH (connector = 'generator', scenario = 'clickstream', count = 'unlimited', rate = '400000', out_of_order = '2s');",
    )
    .await?;
    c.batch_execute(view).await?;
    eprintln!("filling the view until the data directory holds {mb} MiB ...");
    while dir_bytes(&dir) < mb << 20 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, status) = rows_in(&c).await?;
        anyhow::ensure!(!status.starts_with("failed"), "the view failed: {status}");
    }
    let (before, _) = rows_in(&c).await?;
    let state = dir_bytes(&dir);
    child.kill()?;
    child.wait()?;
    let killed = Instant::now();
    let mut child = spawn_server(&dir, port, &[])?;
    let c = connect(port, Duration::from_secs(600)).await?;
    let answering = killed.elapsed();
    let (restored, _) = rows_in(&c).await?;
    let processing = loop {
        let (n, status) = rows_in(&c).await?;
        anyhow::ensure!(!status.starts_with("failed"), "the view failed: {status}");
        if n > restored {
            break killed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let caught_up = loop {
        if rows_in(&c).await?.0 >= before {
            break killed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    println!("state on disk: {:.0} MiB ({before} events in the view when killed, {restored} in the checkpoint it restarted from)", state as f64 / 1048576.0);
    println!("SIGKILL to answering queries: {:.2} s", answering.as_secs_f64());
    println!("SIGKILL to processing again:  {:.2} s", processing.as_secs_f64());
    println!("SIGKILL to caught up:         {:.2} s", caught_up.as_secs_f64());
    let log = std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default();
    if let Some(line) = log.lines().rev().find(|l| l.contains("recovered from checkpoint")) {
        println!("server log: {}", line.split("INFO").last().unwrap_or(line).trim());
    }
    child.kill()?;
    child.wait()?;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(dir.with_extension("log"));
    Ok(())
}
