//! Checkpoints and exactly-once delivery across crashes: a pipeline whose
//! server is SIGKILLed again and again, at random moments, ends with views
//! and sinks (PostgreSQL append and upsert, Redis hash and list, Kafka,
//! Parquet on S3 and local files) exactly as in a run of the same pipeline that never
//! crashed: no row lost, none repeated, no window emitted twice.

use crate::sinks::wait_sinks;
use crate::streaming::{text_rows, wait_views};
use crate::support::{Server, redis_connection, service, temp_dir};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_postgres::{Client, NoTls};

const EVENTS: usize = 24_000;

async fn pg(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

/// A generated source: the same events whenever it is read, some out of order, some late.
fn generator_source() -> String {
    format!(
        "CREATE SOURCE tx WITH (connector = 'generator', scenario = 'transactions', count = {EVENTS}, rate = '2000', seed = 5,
            users = 40, start = '2026-01-01 00:00:00', event_interval = '100 milliseconds', out_of_order = '2s', late_fraction = 0.01);"
    )
}

/// The pipeline over source `tx`, its targets named by `tag`.
fn pipeline(source: &str, tag: &str, pg_url: &str, redis_url: &str, kafka: &str, archive: &Archive) -> String {
    format!(
        "{source}
         CREATE MATERIALIZED VIEW tx_1m AS SELECT window_start, window_end, user_id, count(*) AS n, sum(amount) AS total
            FROM TUMBLE(tx, \"timestamp\", INTERVAL '1 minute') GROUP BY window_start, window_end, user_id EMIT ON WINDOW CLOSE;
         CREATE MATERIALIZED VIEW per_user AS SELECT user_id, count(*) AS n, round(sum(amount)) AS total,
            count(DISTINCT payment_method) AS methods FROM tx GROUP BY user_id;
         CREATE MATERIALIZED VIEW busy AS SELECT user_id, n FROM per_user WHERE n > 560;
         CREATE MATERIALIZED VIEW big AS SELECT transaction_id, user_id, amount FROM tx WHERE amount > 1000;
         CREATE MATERIALIZED VIEW velocity AS SELECT transaction_id,
            count(*) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '30 seconds' PRECEDING AND CURRENT ROW) AS n,
            round(sum(amount) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '30 seconds' PRECEDING AND CURRENT ROW)) AS spend
            FROM tx;
         CREATE MATERIALIZED VIEW followed AS SELECT a.transaction_id, b.transaction_id AS next_id FROM tx a LEFT JOIN tx b
            ON a.user_id = b.user_id AND b.\"timestamp\" > a.\"timestamp\" AND b.\"timestamp\" <= a.\"timestamp\" + INTERVAL '3 seconds';
         CREATE SINK w_pg FROM tx_1m WITH (connector = 'postgres', url = '{pg_url}', table = 'ck_windows_{tag}', create_table = 'true');
         CREATE SINK u_pg FROM per_user WITH (connector = 'postgres', url = '{pg_url}', table = 'ck_users_{tag}',
            primary_key = 'user_id', create_table = 'true');
         CREATE SINK ua_pg FROM per_user WITH (connector = 'postgres', url = '{pg_url}', table = 'ck_users_a_{tag}',
            primary_key = 'user_id', create_table = 'true', delivery = 'at_least_once');
         CREATE SINK b_redis FROM busy WITH (connector = 'redis', url = '{redis_url}', key = 'ck:{tag}:busy:{{user_id}}', value = 'hash');
         CREATE SINK big_list FROM big WITH (connector = 'redis', url = '{redis_url}', mode = 'list', key = 'ck:{tag}:big',
            max_length = '1000000');
         CREATE SINK big_kafka FROM big WITH (connector = 'kafka', bootstrap_servers = '{kafka}', topic = 'ck_big_{tag}',
            key = 'transaction_id');
         CREATE SINK raw_file FROM tx WITH (connector = 's3', {}, partition_by = 'timestamp', rollover = '2s');",
        archive.options()
    )
}

/// Where the raw events are archived as Parquet.
enum Archive {
    Local(std::path::PathBuf),
    /// moto: endpoint, bucket.
    S3(String, String),
}

impl Archive {
    fn s3(tag: &str) -> Archive {
        let endpoint = service("WEIR_TEST_S3_ENDPOINT");
        let bucket = format!("ck-{tag}");
        let status = std::process::Command::new("curl").args(["-sf", "-X", "PUT", &format!("{endpoint}/{bucket}")]).status().unwrap();
        assert!(status.success(), "create bucket {bucket}");
        Archive::S3(endpoint, bucket)
    }

    fn options(&self) -> String {
        match self {
            Archive::Local(dir) => format!("path = 'file://{}'", dir.display()),
            Archive::S3(endpoint, bucket) => {
                format!("path = 's3://{bucket}/raw/', endpoint = '{endpoint}', region = 'us-east-1', access_key_id = 'test', secret_access_key = 'test'")
            }
        }
    }

    /// "rows distinct-transaction-ids" over every Parquet data file (manifests aside).
    async fn count(&self) -> String {
        match self {
            Archive::Local(dir) => {
                let script = "import duckdb, sys
d = sys.argv[1]
print(*duckdb.sql(f\"SELECT count(*), count(DISTINCT transaction_id) FROM read_parquet('{d}/**/*.parquet', hive_partitioning = true)\").fetchall()[0])";
                let py = std::process::Command::new(service("WEIR_TEST_PYTHON")).args(["-c", script, &dir.display().to_string()]).output().unwrap();
                assert!(py.status.success(), "duckdb: {}", String::from_utf8_lossy(&py.stderr));
                String::from_utf8_lossy(&py.stdout).trim().to_string()
            }
            Archive::S3(endpoint, bucket) => {
                use object_store::{ObjectStore, ObjectStoreExt};
                let store = crate::support::moto_store(endpoint, bucket);
                let files: Vec<_> = store.list(None).map(|m| m.unwrap().location).collect().await;
                let (mut rows, mut ids) = (0, std::collections::HashSet::new());
                for f in files.iter().filter(|f| f.as_ref().ends_with(".parquet")) {
                    let bytes = store.get(f).await.unwrap().bytes().await.unwrap();
                    for b in parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap() {
                        let b = b.unwrap();
                        rows += b.num_rows();
                        let col = arrow::compute::cast(b.column_by_name("transaction_id").unwrap(), &arrow::datatypes::DataType::Utf8).unwrap();
                        let col = col.as_any().downcast_ref::<arrow::array::StringArray>().unwrap();
                        ids.extend(col.iter().flatten().map(str::to_string));
                    }
                }
                format!("{rows} {}", ids.len())
            }
        }
    }
}

const VIEWS: [&str; 6] = ["tx_1m", "per_user", "busy", "big", "velocity", "followed"];
const SINKS: [&str; 7] = ["w_pg", "u_pg", "ua_pg", "b_redis", "big_list", "big_kafka", "raw_file"];

/// Everything the pipeline produced, as sorted text, per target.
async fn outcome(c: &Client, tag: &str, kafka: &str, archive: &Archive) -> BTreeMap<String, Vec<String>> {
    static READS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let read = READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut out = BTreeMap::new();
    for v in VIEWS {
        let mut rows: Vec<String> = text_rows(c, &format!("SELECT * FROM {v}")).await.iter().map(|r| format!("{r:?}")).collect();
        rows.sort();
        out.insert(format!("view {v}"), rows);
    }
    let p = pg(&service("WEIR_TEST_PG_URL")).await;
    // users_a: delivered at least once, by upsert, so it must end the same too.
    for t in ["windows", "users", "users_a"] {
        let rows = p.simple_query(&format!("SELECT * FROM ck_{t}_{tag}")).await.unwrap();
        let mut rows: Vec<String> = rows
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).unwrap_or("NULL").to_string()).collect::<Vec<_>>().join("|")),
                _ => None,
            })
            .collect();
        rows.sort();
        out.insert(format!("postgres {t}"), rows);
    }
    let mut con = redis_connection(&service("WEIR_TEST_REDIS_URL")).await;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("ck:{tag}:busy:*")).query_async(&mut con).await.unwrap();
    let mut hashes = Vec::new();
    for k in keys {
        let h: BTreeMap<String, String> = redis::cmd("HGETALL").arg(&k).query_async(&mut con).await.unwrap();
        hashes.push(format!("{}={h:?}", k.rsplit(':').next().unwrap()));
    }
    hashes.sort();
    out.insert("redis hashes".into(), hashes);
    let mut list: Vec<String> = redis::cmd("LRANGE").arg(format!("ck:{tag}:big")).arg(0).arg(-1).query_async(&mut con).await.unwrap();
    list.sort();
    out.insert("redis list".into(), list);
    // Kafka: every message of the topic, read to its end.
    use rdkafka::Message;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka)
        .set("group.id", format!("ck-check-{tag}-{read}"))
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    consumer.subscribe(&[&format!("ck_big_{tag}")]).unwrap();
    let want = out["view big"].len();
    let mut messages = Vec::new();
    let mut stream = consumer.stream();
    loop {
        match tokio::time::timeout(Duration::from_secs(if messages.len() >= want { 3 } else { 30 }), stream.next()).await {
            Ok(Some(Ok(m))) => messages.push(String::from_utf8_lossy(m.payload().unwrap()).to_string()),
            Ok(Some(Err(rdkafka::error::KafkaError::PartitionEOF(_)))) if messages.len() >= want => break,
            Ok(Some(Err(_))) => {}
            Ok(None) => break,
            Err(_) => break, // quiet for a while: the topic's end
        }
    }
    messages.sort();
    out.insert("kafka".into(), messages);
    // Parquet: every source row once.
    out.insert("parquet count, distinct".into(), vec![archive.count().await]);
    out
}

/// Kills and restarts `server` at pseudo-random moments (a fixed seed, so a
/// failure can be re-run), at least 10 times, waiting for it to answer in
/// between so each run gets some work done; stops early after 10 once
/// `done` holds. Returns the number of kills.
async fn crash_repeatedly(server: &mut Server, done: impl AsyncFn(&Client) -> bool) -> usize {
    let mut seed: u64 = 0x5eed;
    let mut kills = 0;
    while kills < 14 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(300 + (seed >> 33) % 1200)).await;
        server.restart();
        kills += 1;
        let c = server.client().await;
        if kills >= 10 && done(&c).await {
            break;
        }
    }
    let log = server.log_text();
    let recoveries = log.matches("recovered from checkpoint").count();
    assert!(recoveries + 1 >= kills, "restarts resume from a checkpoint ({recoveries} of {kills}):\n{log}");
    kills
}

/// Asserts that two outcomes are equal, target by target, showing a few differing rows.
fn assert_same_outcome(want: &BTreeMap<String, Vec<String>>, got: &BTreeMap<String, Vec<String>>, kills: usize) {
    let mut differences = Vec::new();
    for (what, rows) in want {
        assert!(!rows.is_empty(), "{what} is not empty");
        let other = &got[what];
        if rows != other {
            let extra: Vec<_> = other.iter().filter(|r| !rows.contains(r)).take(5).collect();
            let missing: Vec<_> = rows.iter().filter(|r| !other.contains(r)).take(5).collect();
            differences.push(format!("{what}: {} rows instead of {}; extra {extra:?}; missing {missing:?}", other.len(), rows.len()));
        }
    }
    assert!(differences.is_empty(), "after {kills} crashes (got vs the calm run's want):\n{}", differences.join("\n"));
}

#[tokio::test]
async fn sigkill_at_random_moments_loses_and_repeats_nothing() {
    let (pg_url, redis_url, kafka) = (service("WEIR_TEST_PG_URL"), service("WEIR_TEST_REDIS_URL"), service("WEIR_TEST_KAFKA"));
    let args = ["--checkpoint-interval", "200ms"];
    // The oracle: the same pipeline, never interrupted.
    let calm = Server::start_with(temp_dir("calm"), &args);
    let calm_tag = format!("c{}", calm.port);
    let calm_files = Archive::Local(temp_dir("calm-files"));
    let cc = calm.client().await;
    cc.batch_execute(&pipeline(&generator_source(), &calm_tag, &pg_url, &redis_url, &kafka, &calm_files)).await.unwrap();

    let mut crashing = Server::start_with(temp_dir("crash"), &args);
    let tag = format!("k{}", crashing.port);
    let files = Archive::Local(temp_dir("crash-files"));
    crashing.client().await.batch_execute(&pipeline(&generator_source(), &tag, &pg_url, &redis_url, &kafka, &files)).await.unwrap();
    let kills = crash_repeatedly(&mut crashing, async |c: &Client| {
        let done: i64 = c.query_one("SELECT count(*) FROM weir_sink_status WHERE status = 'finished'", &[]).await.unwrap().get(0);
        done == SINKS.len() as i64
    })
    .await;
    let c = crashing.client().await;
    wait_views(&c, &VIEWS, |r| r[1].as_deref() == Some("finished")).await;
    wait_sinks(&c, &SINKS).await;
    wait_views(&cc, &VIEWS, |r| r[1].as_deref() == Some("finished")).await;
    wait_sinks(&cc, &SINKS).await;
    let checkpoints = text_rows(&c, "SELECT epoch, bytes, complete FROM weir_checkpoints").await;
    assert!(!checkpoints.is_empty(), "weir_checkpoints lists checkpoints");

    let want = outcome(&cc, &calm_tag, &kafka, &calm_files).await;
    let got = outcome(&c, &tag, &kafka, &files).await;
    assert_eq!(want["parquet count, distinct"], vec![format!("{EVENTS} {EVENTS}")], "the calm run archived every event once");
    assert_same_outcome(&want, &got, kills);
}

/// As above with a Kafka source of sequence-numbered events, keyed by user
/// over three partitions and produced while the server is being killed.
#[tokio::test]
async fn kafka_source_resumes_at_its_offsets_after_sigkill() {
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let (pg_url, redis_url, kafka) = (service("WEIR_TEST_PG_URL"), service("WEIR_TEST_REDIS_URL"), service("WEIR_TEST_KAFKA"));
    let topic = format!("ck-events-{}", std::process::id());
    let admin: AdminClient<_> = ClientConfig::new().set("bootstrap.servers", &kafka).create().unwrap();
    for r in admin.create_topics(&[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))], &AdminOptions::new()).await.unwrap() {
        r.unwrap();
    }
    let source = format!(
        "CREATE SOURCE tx (transaction_id TEXT NOT NULL, user_id TEXT NOT NULL, amount DOUBLE PRECISION NOT NULL,
            payment_method TEXT, \"timestamp\" TIMESTAMP NOT NULL, WATERMARK FOR \"timestamp\" AS \"timestamp\" - INTERVAL '2 seconds')
         WITH (connector = 'kafka', topic = '{topic}', bootstrap_servers = '{kafka}', startup = 'earliest') FORMAT JSON;"
    );
    let kafka_for_producer = kafka.clone();
    let args = ["--checkpoint-interval", "200ms"];
    let calm = Server::start_with(temp_dir("kcalm"), &args);
    let calm_tag = format!("c{}", calm.port);
    let calm_files = Archive::s3(&calm_tag);
    let cc = calm.client().await;
    cc.batch_execute(&pipeline(&source, &calm_tag, &pg_url, &redis_url, &kafka, &calm_files)).await.unwrap();
    let mut crashing = Server::start_with(temp_dir("kcrash"), &args);
    let tag = format!("k{}", crashing.port);
    let files = Archive::s3(&tag);
    crashing.client().await.batch_execute(&pipeline(&source, &tag, &pg_url, &redis_url, &kafka, &files)).await.unwrap();

    // Events 100 ms apart in event time, in order within each partition (so none is ever
    // late, however partitions interleave), produced over about 12 seconds.
    // On a thread of its own, so the test's runtime (busy restarting the server) never slows it.
    let produce = std::thread::spawn(move || {
        let producer: ThreadedProducer<DefaultProducerContext> =
            ClientConfig::new().set("bootstrap.servers", &kafka_for_producer).set("linger.ms", "5").create().unwrap();
        let start = 1_767_225_600_000i64;
        let methods = ["credit_card", "paypal", "gift_card"];
        for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(400) {
            for &i in chunk {
                let user = format!("user_{}", i % 40);
                let amount = ((i * 7919) % 2400) as f64 + 0.25;
                let ev = serde_json::json!({"transaction_id": format!("t{i:06}"), "user_id": user, "amount": amount,
                    "payment_method": methods[i % 3], "timestamp": start + i as i64 * 100})
                .to_string();
                producer.send(BaseRecord::to(&topic).key(&user).payload(&ev)).map_err(|(e, _)| e).unwrap();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // One event an hour later on each partition: every watermark passes all the
        // others, so what waits for one (a LEFT JOIN's NULL rows, windows) comes out in
        // both servers alike, whenever their partitions went idle.
        for p in 0..3 {
            let ev = serde_json::json!({"transaction_id": format!("flush{p}"), "user_id": format!("user_{p}"), "amount": 0.25,
                "payment_method": "paypal", "timestamp": start + EVENTS as i64 * 100 + 3_600_000})
            .to_string();
            producer.send(BaseRecord::to(&topic).partition(p).key("flush").payload(&ev)).map_err(|(e, _)| e).unwrap();
        }
        producer.flush(Duration::from_secs(30)).unwrap();
    });
    let kills = crash_repeatedly(&mut crashing, async |_: &Client| produce.is_finished()).await;
    produce.join().unwrap();
    // Both servers have everything once their sources are at the end and sinks caught up.
    let c = crashing.client().await;
    let started = std::time::Instant::now();
    let (mut want, mut got);
    loop {
        want = outcome(&cc, &calm_tag, &kafka, &calm_files).await;
        got = outcome(&c, &tag, &kafka, &files).await;
        if want == got || started.elapsed() > Duration::from_secs(90) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if want != got {
        for (who, client) in [("calm", &cc), ("crashed", &c)] {
            eprintln!("{who}: {:?}", text_rows(client, "SELECT name, status, rows_in, rows_late, dead_letters, watermark FROM weir_views").await);
            eprintln!("{who} sinks: {:?}", text_rows(client, "SELECT * FROM weir_sink_status").await);
            eprintln!("{who} checkpoints: {:?}", text_rows(client, "SELECT * FROM weir_checkpoints ORDER BY epoch DESC LIMIT 5").await);
        }
    }
    assert_eq!(want["parquet count, distinct"], vec![format!("{0} {0}", EVENTS + 3)], "the calm run archived every event once");
    assert_same_outcome(&want, &got, kills);
    drop(crashing);
    drop(calm);
    drop(admin);
}
