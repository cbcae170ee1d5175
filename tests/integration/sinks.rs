//! Sinks against the real services: after a finite input, what Redis,
//! PostgreSQL, S3 (moto and local files) and Kafka hold equals the view (or
//! source) the sink reads, row for row, updates and deletions included; a
//! Redis and a PostgreSQL that go away mid-run are caught up once they are
//! back; bad definitions get clear errors that never show secrets.

use crate::streaming::{text_rows, wait_views};
use crate::support::{Server, redis_connection, service, sqlstate, temp_dir};
use arrow::array::Array;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

const SINK_TIMEOUT: Duration = Duration::from_secs(180);

async fn pg(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

/// Waits until every named sink is `finished` (its input ended and all of it was delivered).
pub async fn wait_sinks(c: &Client, sinks: &[&str]) -> Vec<Vec<Option<String>>> {
    let started = Instant::now();
    loop {
        let rows = text_rows(c, "SELECT name, status, rows_written, errors, retries, lag_rows, last_error FROM weir_sink_status").await;
        for r in &rows {
            assert!(!r[1].as_deref().unwrap_or("").starts_with("failed"), "sink failed: {r:?}");
        }
        if sinks.iter().all(|s| rows.iter().any(|r| r[0].as_deref() == Some(s) && r[1].as_deref() == Some("finished"))) {
            return rows;
        }
        assert!(started.elapsed() < SINK_TIMEOUT, "sinks did not finish in {SINK_TIMEOUT:?}: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn redis_keys(con: &mut redis::aio::MultiplexedConnection, pattern: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(1000).query_async(con).await.unwrap();
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

/// Rows of every Parquet file under `prefix` in `store`, as (file path, batches).
async fn parquet_files(store: &dyn object_store::ObjectStore, prefix: Option<&object_store::path::Path>) -> Vec<(String, Vec<arrow::array::RecordBatch>)> {
    use object_store::ObjectStoreExt;
    // Data files only: the sink's manifests (_weir/<sink>/<epoch>.json) say which are committed.
    let metas: Vec<_> = store.list(prefix).map(|m| m.unwrap()).filter(|m| std::future::ready(m.location.as_ref().ends_with(".parquet"))).collect().await;
    let mut out = Vec::new();
    for m in metas {
        let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap();
        out.push((m.location.to_string(), reader.map(|b| b.unwrap()).collect()));
    }
    out
}

fn string_column(batch: &arrow::array::RecordBatch, name: &str) -> Vec<String> {
    let col = batch.column_by_name(name).unwrap_or_else(|| panic!("column {name}"));
    let col = arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8).unwrap();
    let a = col.as_any().downcast_ref::<arrow::array::StringArray>().unwrap();
    (0..a.len()).map(|i| a.value(i).to_string()).collect()
}

/// A consumer of `topic` from its start, in a consumer group of its own.
fn topic_reader(kafka: &str, group: String, topic: &str) -> rdkafka::consumer::StreamConsumer {
    use rdkafka::consumer::Consumer;
    let consumer: rdkafka::consumer::StreamConsumer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", kafka).set("group.id", group).set("auto.offset.reset", "earliest").create().unwrap();
    consumer.subscribe(&[topic]).unwrap();
    consumer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_deliver_views_and_sources_to_redis_postgres_s3_and_kafka() {
    let (pg_url, redis_url, kafka, s3) =
        (service("WEIR_TEST_PG_URL"), service("WEIR_TEST_REDIS_URL"), service("WEIR_TEST_KAFKA"), service("WEIR_TEST_S3_ENDPOINT"));
    let server = Server::start();
    let tag = format!("t{}", server.port);
    let bucket = format!("weir-sinks-{tag}");
    let status = std::process::Command::new("curl").args(["-sf", "-X", "PUT", &format!("{s3}/{bucket}")]).status().unwrap();
    assert!(status.success(), "create bucket");
    let local = temp_dir("parquet");
    let c = server.client().await;
    // 4000 clicks one second apart: windows over about 67 minutes, two hour partitions.
    c.batch_execute(
        "CREATE SOURCE clicks WITH (connector = 'generator', scenario = 'clickstream', count = 4000, rate = '2000', seed = 11,
            users = 60, start = '2026-01-01 00:00:00', event_interval = '1 second', out_of_order = '3s');
         CREATE MATERIALIZED VIEW clicks_1m AS SELECT window_start, window_end, event_type, count(*) AS event_count,
            count(DISTINCT user_id) AS unique_users FROM TUMBLE(clicks, \"timestamp\", INTERVAL '1 minute')
            GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE;
         CREATE MATERIALIZED VIEW light_users AS SELECT user_id, count(*) AS n, max(\"timestamp\") AS last_seen
            FROM clicks GROUP BY user_id HAVING count(*) < 66;
         CREATE MATERIALIZED VIEW purchases AS SELECT event_id, user_id, product_id, \"timestamp\" FROM clicks WHERE event_type = 'purchase';
         CREATE MATERIALIZED VIEW raw AS SELECT event_id, \"timestamp\" FROM clicks;",
    )
    .await
    .unwrap();
    let redis_client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut pubsub = redis_client.get_async_pubsub().await.unwrap();
    pubsub.subscribe(format!("purchases:{tag}")).await.unwrap();
    let sinks = format!(
        "CREATE SINK m_redis FROM clicks_1m WITH (connector = 'redis', url = '{redis_url}',
            key = 'metrics:{tag}:{{window_start}}:{{event_type}}', value = 'hash', ttl = '1h');
         CREATE SINK m_pg FROM clicks_1m WITH (connector = 'postgres', url = '{pg_url}', table = 'clicks_1m_{tag}',
            primary_key = 'window_start,event_type', create_table = 'true');
         CREATE SINK u_redis FROM light_users WITH (connector = 'redis', url = '{redis_url}', key = 'light:{tag}:{{user_id}}', value = 'json');
         CREATE SINK u_pg FROM light_users WITH (connector = 'postgres', url = '{pg_url}', table = 'light_{tag}',
            primary_key = 'user_id', create_table = 'true', hypertable = 'last_seen');
         CREATE SINK raw_s3 FROM clicks WITH (connector = 's3', path = 's3://{bucket}/clickstream/', endpoint = '{s3}',
            region = 'us-east-1', access_key_id = 'test', secret_access_key = 's3cr3t-value', format = 'parquet',
            partition_by = 'timestamp', rollover = '1 minute');
         CREATE SINK raw_file FROM clicks WITH (connector = 's3', path = 'file://{}', partition_by = 'timestamp');
         CREATE SINK p_kafka FROM purchases WITH (connector = 'kafka', bootstrap_servers = '{kafka}', topic = 'purchases_{tag}',
            key = 'event_id', format = 'json');
         CREATE SINK p_pub FROM purchases WITH (connector = 'redis', url = '{redis_url}', mode = 'publish', channel = 'purchases:{tag}');
         CREATE SINK p_list FROM purchases WITH (connector = 'redis', url = '{redis_url}', mode = 'list', key = 'recent:{tag}', max_length = '20');",
        local.display()
    );
    c.batch_execute(&sinks).await.unwrap_or_else(|e| panic!("{e:?}"));
    wait_views(&c, &["clicks_1m", "light_users", "purchases", "raw"], |r| r[1].as_deref() == Some("finished")).await;
    let all = ["m_redis", "m_pg", "u_redis", "u_pg", "raw_s3", "raw_file", "p_kafka", "p_pub", "p_list"];
    let status = wait_sinks(&c, &all).await;
    for r in &status {
        assert_eq!(r[3].as_deref(), Some("0"), "no errors: {r:?}");
        assert!(r[2].as_deref().unwrap().parse::<i64>().unwrap() > 0, "rows written: {r:?}");
    }

    // Redis hashes: one per window and event type, fields = columns, with a TTL.
    let mut con = redis_connection(&redis_url).await;
    let view = text_rows(&c, "SELECT window_start, event_type, window_end, event_count, unique_users FROM clicks_1m").await;
    assert!(view.len() > 200, "windows: {}", view.len());
    let keys = redis_keys(&mut con, &format!("metrics:{tag}:*")).await;
    assert_eq!(keys.len(), view.len(), "one Redis key per view row");
    for r in &view {
        let v = |i: usize| r[i].clone().unwrap();
        let key = format!("metrics:{tag}:{}:{}", v(0), v(1));
        let h: HashMap<String, String> = redis::cmd("HGETALL").arg(&key).query_async(&mut con).await.unwrap();
        let want: HashMap<String, String> =
            ["window_start", "event_type", "window_end", "event_count", "unique_users"].iter().enumerate().map(|(i, n)| (n.to_string(), v(i))).collect();
        assert_eq!(h, want, "{key}");
    }
    let ttl: i64 = redis::cmd("TTL").arg(keys.iter().next().unwrap()).query_async(&mut con).await.unwrap();
    assert!(ttl > 3000 && ttl <= 3600, "ttl {ttl}");

    // PostgreSQL upserts: the table equals the view.
    let target = pg(&pg_url).await;
    let in_pg =
        text_rows(&target, &format!("SELECT window_start::text, event_type, window_end::text, event_count::text, unique_users::text FROM clicks_1m_{tag}"))
            .await;
    assert_eq!(in_pg, view, "PostgreSQL holds the view");

    // An updating view with deletions (users leave it past 65 clicks): Redis JSON and PostgreSQL follow.
    let users = text_rows(&c, "SELECT user_id, n, last_seen FROM light_users").await;
    assert!(!users.is_empty() && users.len() < 60, "some users left the view: {} of 60 remain", users.len());
    let keys = redis_keys(&mut con, &format!("light:{tag}:*")).await;
    let want_keys: BTreeSet<String> = users.iter().map(|r| format!("light:{tag}:{}", r[0].as_deref().unwrap())).collect();
    assert_eq!(keys, want_keys, "deleted rows deleted their keys");
    for r in &users {
        let json: String = redis::cmd("GET").arg(format!("light:{tag}:{}", r[0].as_deref().unwrap())).query_async(&mut con).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["n"].to_string(), *r[1].as_ref().unwrap(), "{json}");
    }
    let in_pg = text_rows(&target, &format!("SELECT user_id, n::text, last_seen::text FROM light_{tag}")).await;
    assert_eq!(in_pg, users, "PostgreSQL follows updates and deletions");

    // S3 (moto) and local Parquet: every row of the source once, in its event-time partition.
    let raw = text_rows(&c, "SELECT event_id FROM raw").await;
    assert_eq!(raw.len(), 4000);
    let want_ids: Vec<String> = raw.iter().map(|r| r[0].clone().unwrap()).collect();
    let store = crate::support::moto_store(&s3, &bucket);
    let local_store = object_store::local::LocalFileSystem::new_with_prefix(&local).unwrap();
    for (what, files) in
        [("s3", parquet_files(&store, Some(&object_store::path::Path::from("clickstream"))).await), ("file", parquet_files(&local_store, None).await)]
    {
        let mut ids = Vec::new();
        let mut hours = BTreeSet::new();
        for (path, batches) in &files {
            assert!(path.ends_with(".parquet"), "{path}");
            for b in batches {
                for t in string_column(b, "timestamp") {
                    let dir = format!("dt={}/hour={}/", &t[..10], &t[11..13]);
                    assert!(path.contains(&dir), "{what}: row at {t} is in {path}");
                    hours.insert(dir);
                }
                ids.extend(string_column(b, "event_id"));
            }
        }
        ids.sort();
        assert_eq!(ids, want_ids, "{what}: the files hold every source row once");
        // (Out-of-order events put a few rows before midnight: 2025-12-31/hour=23.)
        assert!(hours.contains("dt=2026-01-01/hour=00/") && hours.contains("dt=2026-01-01/hour=01/"), "{what}: hour partitions: {hours:?}");
    }
    // Other readers take the files too.
    let script = "import sys, pyarrow.dataset as ds, duckdb
d = sys.argv[1]
print(ds.dataset(d, format='parquet', partitioning='hive').count_rows())
print(duckdb.sql(f\"SELECT count(DISTINCT event_id) FROM read_parquet('{d}/**/*.parquet', hive_partitioning = true)\").fetchall()[0][0])";
    let out = std::process::Command::new(service("WEIR_TEST_PYTHON")).args(["-c", script, &local.display().to_string()]).output().unwrap();
    assert!(out.status.success(), "pyarrow/duckdb: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>(), vec!["4000", "4000"]);

    // Kafka, pub/sub and the recent list: the purchases view.
    let purchases = text_rows(&c, "SELECT event_id, user_id FROM purchases").await;
    assert!(purchases.len() > 30, "purchases: {}", purchases.len());
    let want: BTreeSet<(String, String)> = purchases.iter().map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap())).collect();
    let consumer = topic_reader(&kafka, format!("weir-sink-test-{tag}"), &format!("purchases_{tag}"));
    use rdkafka::Message;
    let mut got = BTreeSet::new();
    let mut messages = 0;
    let mut stream = consumer.stream();
    while messages < purchases.len() {
        let m = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.expect("Kafka messages within 30 s").unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        assert_eq!(m.key().map(|k| String::from_utf8_lossy(k).to_string()), v["event_id"].as_str().map(str::to_string), "key is event_id");
        got.insert((v["event_id"].as_str().unwrap().to_string(), v["user_id"].as_str().unwrap().to_string()));
        messages += 1;
    }
    assert_eq!(got, want, "Kafka holds the view");
    let mut published = BTreeSet::new();
    let mut on_message = pubsub.on_message();
    while published.len() < purchases.len() {
        let m = tokio::time::timeout(Duration::from_secs(10), on_message.next()).await.expect("published messages").unwrap();
        let v: serde_json::Value = serde_json::from_str(&m.get_payload::<String>().unwrap()).unwrap();
        published.insert((v["event_id"].as_str().unwrap().to_string(), v["user_id"].as_str().unwrap().to_string()));
    }
    assert_eq!(published, want, "pub/sub carried every row");
    let list: Vec<String> = redis::cmd("LRANGE").arg(format!("recent:{tag}")).arg(0).arg(-1).query_async(&mut con).await.unwrap();
    assert_eq!(list.len(), 20, "the list keeps the 20 most recent");
    for item in &list {
        let v: serde_json::Value = serde_json::from_str(item).unwrap();
        assert!(want.contains(&(v["event_id"].as_str().unwrap().to_string(), v["user_id"].as_str().unwrap().to_string())));
    }

    // Secrets stay hidden.
    let shown = text_rows(&c, "SHOW SINKS").await;
    let s3_row = shown.iter().find(|r| r[0].as_deref() == Some("raw_s3")).unwrap();
    let opts = s3_row[3].clone().unwrap();
    assert!(opts.contains("secret_access_key = '***'") && !opts.contains("s3cr3t"), "{opts}");
    assert!(!server.log_text().contains("s3cr3t"), "the log never shows the secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_definitions_are_checked_and_secrets_never_shown() {
    let (pg_url, redis_url) = (service("WEIR_TEST_PG_URL"), service("WEIR_TEST_REDIS_URL"));
    let mut server = Server::start();
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = 100, rate = 'unlimited');
         CREATE MATERIALIZED VIEW per_user AS SELECT user_id, count(*) AS n FROM seq GROUP BY user_id;
         CREATE MATERIALIZED VIEW evens AS SELECT seq, user_id FROM seq WHERE seq % 2 = 0;",
    )
    .await
    .unwrap();
    let cases = [
        (
            format!("CREATE SINK s FROM evens WITH (connector = 'redis', url = '{redis_url}', key = 'k:{{seq}}', colour = 'red')"),
            "22023",
            "unknown option \"colour\"",
        ),
        ("CREATE SINK s FROM evens WITH (connector = 'redis', key = 'k:{seq}')".into(), "22023", "missing option \"url\""),
        ("CREATE SINK s FROM evens WITH (connector = 'nope')".into(), "22023", "unknown sink connector"),
        ("CREATE SINK s FROM evens WITH (url = 'x')".into(), "22023", "missing option \"connector\""),
        ("CREATE SINK s FROM nowhere WITH (connector = 'redis')".into(), "42P01", "nowhere"),
        (format!("CREATE SINK s FROM evens WITH (connector = 'redis', url = '{redis_url}', key = 'k:{{missing}}')"), "22023", "column \"missing\""),
        (format!("CREATE SINK s FROM evens WITH (connector = 'redis', url = '{redis_url}', key = 'k', ttl = 'soon')"), "22023", "option \"ttl\""),
        ("CREATE SINK s FROM evens WITH (connector = 'redis', url = 'redis://:hunter2@127.0.0.1:1', key = 'k:{seq}')".into(), "08001", "option \"url\""),
        ("CREATE SINK s FROM evens WITH (connector = 'postgres', url = 'postgres://u:hunter2@127.0.0.1:1/db', table = 't')".into(), "08001", "option \"url\""),
        (
            format!("CREATE SINK s FROM per_user WITH (connector = 'redis', url = '{redis_url}', mode = 'publish', channel = 'c')"),
            "22023",
            "updates and deletions",
        ),
        ("CREATE SINK s FROM per_user WITH (connector = 's3', path = 'file:///tmp/weir-never')".into(), "22023", "updates and deletions"),
        (format!("CREATE SINK s FROM per_user WITH (connector = 'postgres', url = '{pg_url}', table = 'x')"), "22023", "primary_key"),
        (format!("CREATE SINK s FROM evens WITH (connector = 'postgres', url = '{pg_url}', table = 'no_such_table_here')"), "22023", "create_table"),
        ("CREATE SINK s FROM evens WITH (connector = 's3', path = 'relative/dir')".into(), "22023", "absolute"),
        // Local paths only under --allow-local-path (the temporary directory here), the server's credentials never.
        ("CREATE SINK s FROM evens WITH (connector = 's3', path = 'file:///etc/weir-sink/')".into(), "42501", "--allow-local-path"),
        (
            format!("CREATE SINK s FROM evens WITH (connector = 's3', path = 'file://{}/../etc/weir-sink/')", std::env::temp_dir().display()),
            "42501",
            "is not under",
        ),
        ("CREATE SINK s FROM evens WITH (connector = 's3', path = 's3://bucket/p/', region = 'us-east-1')".into(), "42501", "--allow-env-credentials"),
        ("CREATE SINK per_user FROM evens WITH (connector = 's3', path = 'file:///tmp/x')".into(), "42P07", "already exists"),
    ];
    for (sql, code, text) in &cases {
        let e = c.batch_execute(sql).await.expect_err(sql);
        let msg = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_default();
        assert_eq!(sqlstate(&e), *code, "{sql}: {msg}");
        assert!(msg.contains(text), "{sql}: {msg}");
        assert!(!msg.contains("hunter2"), "the password never shows: {msg}");
    }
    assert!(!server.log_text().contains("hunter2"), "nor in the log");
    assert_eq!(text_rows(&c, "SHOW SINKS").await.len(), 0, "no failed CREATE left a sink");
    // SHOW CONNECTORS lists the registry CREATE checks against, with each connector's options.
    let mut listed: Vec<Vec<Option<String>>> = weir_connectors::registry::CONNECTORS
        .iter()
        .map(|k| vec![Some(k.name.to_string()), Some(k.role.to_string()), Some((k.options)().join(", "))])
        .collect();
    listed.sort();
    let shown: Vec<Vec<Option<String>>> = text_rows(&c, "SHOW CONNECTORS").await.into_iter().map(|r| r[..3].to_vec()).collect();
    assert_eq!(shown, listed);
    assert!(shown.iter().any(|r| r[0].as_deref() == Some("redis") && r[2].as_deref().unwrap().contains("ttl")), "{shown:?}");

    // A sink that works, survives a restart, and is removed by DROP ... CASCADE.
    let dir = temp_dir("sink-file");
    c.batch_execute(&format!("CREATE SINK evens_file FROM evens WITH (connector = 's3', path = '{}')", dir.display())).await.unwrap();
    c.batch_execute(&format!("CREATE SINK IF NOT EXISTS evens_file FROM evens WITH (connector = 's3', path = '{}')", dir.display())).await.unwrap();
    let e = c.batch_execute("DROP MATERIALIZED VIEW evens").await.unwrap_err();
    assert_eq!(sqlstate(&e), "2BP01");
    assert!(e.as_db_error().unwrap().detail().unwrap_or("").contains("sink evens_file"), "{e:?}");
    let e = c.batch_execute("DROP SINK nope").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42704");
    c.batch_execute("DROP SINK IF EXISTS nope").await.unwrap();
    let e = c.batch_execute("DROP SINK per_user").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42809");
    server.restart();
    let c = server.client().await;
    let shown = text_rows(&c, "SHOW SINKS").await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0][0].as_deref(), Some("evens_file"));
    c.batch_execute("DROP MATERIALIZED VIEW evens CASCADE").await.unwrap();
    assert_eq!(text_rows(&c, "SHOW SINKS").await.len(), 0);
    assert_eq!(text_rows(&c, "SELECT * FROM weir_sink_status").await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_catch_up_after_redis_and_postgres_restart() {
    let (pg_url, redis_url, services) = (service("WEIR_TEST_PG2_URL"), service("WEIR_TEST_REDIS2_URL"), service("WEIR_TEST_SERVICES"));
    let outage = |what: &str, name: &str| {
        let out = std::process::Command::new(&services).args([what, name]).output().unwrap();
        assert!(out.status.success(), "services.sh {what} {name}: {}", String::from_utf8_lossy(&out.stderr));
    };
    /// Brings the spare services back even when the test fails half-way.
    struct BackUp(String);
    impl Drop for BackUp {
        fn drop(&mut self) {
            for name in ["redis2", "pg2"] {
                let _ = std::process::Command::new(&self.0).args(["up", name]).output();
            }
        }
    }
    let _back_up = BackUp(services.clone());
    // A sink keeps at most 1 KiB of undelivered changes in memory: the epochs of the outage wait in their checkpoints only.
    let server = Server::start_with(temp_dir("outage"), &["--sink-memory", "1KiB"]);
    let tag = format!("t{}", server.port);
    let c = server.client().await;
    // 24000 events at 2000/s: about 12 seconds of input, updates to 40 keys throughout.
    c.batch_execute(&format!(
        "CREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = 24000, rate = '2000', users = 40);
         CREATE MATERIALIZED VIEW per_user AS SELECT user_id, count(*) AS n, max(seq) AS last_seq FROM seq GROUP BY user_id;
         CREATE SINK r FROM per_user WITH (connector = 'redis', url = '{redis_url}', key = 'u:{tag}:{{user_id}}');
         CREATE SINK p FROM per_user WITH (connector = 'postgres', url = '{pg_url}', table = 'per_user_{tag}', primary_key = 'user_id', create_table = 'true');
         CREATE SINK ra FROM per_user WITH (connector = 'redis', url = '{redis_url}', key = 'ua:{tag}:{{user_id}}', delivery = 'at_least_once');
         CREATE SINK pa FROM per_user WITH (connector = 'postgres', url = '{pg_url}', table = 'per_user_a_{tag}', primary_key = 'user_id',
            create_table = 'true', delivery = 'at_least_once');"
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    outage("down", "redis2");
    outage("down", "pg2");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let newest = "SELECT max(epoch) FROM weir_checkpoints";
    let epoch_before: i64 = c.query_one(newest, &[]).await.unwrap().get(0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = text_rows(&c, "SELECT name, status, errors FROM weir_sink_status").await;
    for r in &during {
        assert!(r[1].as_deref().unwrap().starts_with("retrying"), "the sink notices the outage: {during:?}");
    }
    // The view and the waiting sinks still checkpoint (their epochs wait in the checkpoints).
    let epoch_after: i64 = c.query_one(newest, &[]).await.unwrap().get(0);
    assert!(epoch_after > epoch_before, "checkpoints go on during the outage: {epoch_before} then {epoch_after}");
    // They are kept for the waiting sinks, but only the sinks' parts of the older ones.
    let kept = text_rows(&c, "SELECT name, undelivered_checkpoints, buffered_bytes FROM weir_sink_status WHERE name IN ('r', 'p')").await;
    assert!(kept.iter().all(|r| r[1].as_deref().unwrap().parse::<i64>().unwrap() >= 3), "checkpoints wait for the sinks: {kept:?}");
    assert!(kept.iter().all(|r| r[2].as_deref().unwrap().parse::<i64>().unwrap() <= 1024), "within --sink-memory: {kept:?}");
    let checkpoints = server.data_dir.join("checkpoints");
    let mut older: Vec<_> = std::fs::read_dir(&checkpoints).unwrap().flatten().map(|e| e.path()).filter(|d| d.extension().is_none()).collect();
    older.sort();
    // The newest holds every member's state; the one before it is trimmed just after the newest is written.
    older.truncate(older.len().saturating_sub(2));
    assert!(!older.is_empty(), "older checkpoints are kept for the sinks");
    for dir in &older {
        let members: Vec<String> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect();
        assert!(members.iter().all(|m| m == "MANIFEST" || m.starts_with("sink-")), "{}: only the sinks' parts stay: {members:?}", dir.display());
    }
    outage("up", "redis2");
    outage("up", "pg2");
    wait_views(&c, &["per_user"], |r| r[1].as_deref() == Some("finished")).await;
    let status = wait_sinks(&c, &["r", "p", "ra", "pa"]).await;
    for r in &status {
        assert!(r[4].as_deref().unwrap().parse::<i64>().unwrap() > 0, "it retried: {r:?}");
        assert_eq!(r[5].as_deref(), Some("0"), "no lag once finished: {r:?}");
    }
    let view = text_rows(&c, "SELECT user_id, n, last_seq FROM per_user").await;
    assert_eq!(view.len(), 40);
    let total: i64 = view.iter().map(|r| r[1].as_deref().unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(total, 24000);
    // Exactly once and at least once (written at once while the target is up, with the
    // checkpointed epochs while it is away) both end where the view is.
    let target = pg(&pg_url).await;
    let mut con = redis_connection(&redis_url).await;
    for (table, prefix) in [("per_user", "u"), ("per_user_a", "ua")] {
        let in_pg = text_rows(&target, &format!("SELECT user_id::text, n::text, last_seq::text FROM {table}_{tag}")).await;
        assert_eq!(in_pg, view, "PostgreSQL {table} caught up to the view");
        let mut in_redis = Vec::new();
        for r in &view {
            let h: BTreeMap<String, String> =
                redis::cmd("HGETALL").arg(format!("{prefix}:{tag}:{}", r[0].as_deref().unwrap())).query_async(&mut con).await.unwrap();
            in_redis.push(vec![h.get("user_id").cloned(), h.get("n").cloned(), h.get("last_seq").cloned()]);
        }
        in_redis.sort();
        assert_eq!(in_redis, view, "Redis {prefix}:* caught up to the view");
    }
    // Written at once: many more, smaller writes than one per checkpoint.
    let epochs = text_rows(&c, "SELECT name, batches FROM weir_sink_status WHERE name IN ('p', 'pa') ORDER BY name").await;
    let n = |i: usize| epochs[i][1].as_deref().unwrap().parse::<i64>().unwrap();
    assert!(n(1) > n(0), "the at-least-once sink writes as changes come: {epochs:?}");
}

/// Rows (k, n) for the connector-level tests.
fn kn_changes(rows: std::ops::Range<i64>) -> weir_connectors::sink::Changes {
    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    let schema = std::sync::Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, false), Field::new("n", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            std::sync::Arc::new(StringArray::from_iter_values(rows.clone().map(|i| format!("k{i}")))),
            std::sync::Arc::new(Int64Array::from_iter_values(rows)),
        ],
    )
    .unwrap();
    weir_connectors::sink::Changes { inserts: batch, deletes: RecordBatch::new_empty(schema) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_epoch_lands_once_and_numbering_continues_after_a_restart() {
    use weir_connectors::open_sink;
    use weir_connectors::sink::SinkInput;
    let (pg_url, redis_url, kafka) = (service("WEIR_TEST_PG_URL"), service("WEIR_TEST_REDIS_URL"), service("WEIR_TEST_KAFKA"));
    let tag = format!("r{}{}", std::process::id(), crate::support::free_port());
    let schema = kn_changes(0..0).inserts.schema();
    let targets: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("kafka", vec![("bootstrap_servers", kafka.clone()), ("topic", format!("retry_{tag}")), ("partitions", "2".into())]),
        ("postgres", vec![("url", pg_url.clone()), ("table", format!("retry_{tag}")), ("create_table", "true".into())]),
        ("redis", vec![("url", redis_url.clone()), ("mode", "list".into()), ("key", format!("retry:{tag}")), ("max_length", "1000".into())]),
    ];
    for (connector, opts) in targets {
        let options = || weir_connectors::Options::new(opts.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
        let input =
            SinkInput { sink: format!("retry_{connector}_{tag}"), schema: schema.clone(), append_only: true, unique_key: None, access: Default::default() };
        let mut sink = open_sink(connector, &options(), &input).await.unwrap_or_else(|e| panic!("{connector}: {e}"));
        assert_eq!(sink.last_epoch(), None, "{connector}: a new sink has no epochs");
        sink.write(1, &kn_changes(0..3)).await.unwrap();
        if connector == "kafka" {
            // Epoch 2 half delivered (its first two messages), then retried in full after a failure.
            sink.write(2, &kn_changes(3..5)).await.unwrap();
            sink.reconnect().await.unwrap();
            sink.write(2, &kn_changes(3..7)).await.unwrap();
        } else {
            // Epoch 2 committed, then retried (the acknowledgement was lost): applied once.
            sink.write(2, &kn_changes(3..7)).await.unwrap();
            sink.reconnect().await.unwrap();
            sink.write(2, &kn_changes(3..7)).await.unwrap();
        }
        let reopened = open_sink(connector, &options(), &input).await.unwrap();
        assert_eq!(reopened.last_epoch(), Some(2), "{connector}: numbering continues after the last epoch");
        let mut got: Vec<String> = match connector {
            "kafka" => {
                use rdkafka::Message;
                let consumer = topic_reader(&kafka, format!("check-{tag}"), &format!("retry_{tag}"));
                let mut got = Vec::new();
                let mut stream = consumer.stream();
                // Read until 3 s pass without a message: a duplicate would show up as an 8th.
                while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(3), stream.next()).await {
                    let v: serde_json::Value = serde_json::from_slice(m.unwrap().payload().unwrap()).unwrap();
                    got.push(v["k"].as_str().unwrap().to_string());
                }
                got
            }
            "postgres" => {
                let c = pg(&pg_url).await;
                c.query(&format!("SELECT k FROM retry_{tag}"), &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
            }
            _ => {
                let mut con = redis_connection(&redis_url).await;
                let items: Vec<String> = redis::cmd("LRANGE").arg(format!("retry:{tag}")).arg(0).arg(-1).query_async(&mut con).await.unwrap();
                items.iter().map(|i| serde_json::from_str::<serde_json::Value>(i).unwrap()["k"].as_str().unwrap().to_string()).collect()
            }
        };
        got.sort();
        let mut want: Vec<String> = (0..7).map(|i| format!("k{i}")).collect();
        want.sort();
        assert_eq!(got, want, "{connector}: every row exactly once");
    }
}

/// A key on an append-only input only routes rows: the Kafka topic gets
/// every row, in order. On an input with updates a key replaces and deletes
/// rows, so it must identify one row of the input: a key that does not is
/// refused at CREATE. `rows_written` counts what reached each target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_sinks_keep_every_row_and_refuse_keys_that_are_not_unique() {
    let (pg_url, redis_url, kafka) = (service("WEIR_TEST_PG_URL"), service("WEIR_TEST_REDIS_URL"), service("WEIR_TEST_KAFKA"));
    let server = Server::start();
    let tag = format!("k{}", server.port);
    let c = server.client().await;
    c.batch_execute(
        "CREATE SOURCE clicks WITH (connector = 'generator', scenario = 'clickstream', count = 3000, rate = '3000', seed = 5,
            users = 30, start = '2026-01-01 00:00:00', event_interval = '1 second', out_of_order = '3s');
         CREATE MATERIALIZED VIEW per_min AS SELECT window_start, window_end, event_type, count(*) AS n
            FROM TUMBLE(clicks, \"timestamp\", INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE;
         CREATE MATERIALIZED VIEW per_pair AS SELECT user_id, event_type, count(*) AS n FROM clicks GROUP BY user_id, event_type;
         CREATE MATERIALIZED VIEW busy_pairs AS SELECT event_type, user_id, n FROM per_pair WHERE n > 3;",
    )
    .await
    .unwrap();
    let refused = [
        format!("CREATE SINK s FROM per_pair WITH (connector = 'kafka', bootstrap_servers = '{kafka}', topic = 'never_{tag}', key = 'user_id')"),
        format!("CREATE SINK s FROM per_pair WITH (connector = 'redis', url = '{redis_url}', key = 'never:{{user_id}}')"),
        format!(
            "CREATE SINK s FROM busy_pairs WITH (connector = 'postgres', url = '{pg_url}', table = 'never_{tag}', primary_key = 'event_type', create_table = 'true')"
        ),
    ];
    for sql in &refused {
        let e = c.batch_execute(sql).await.expect_err(sql);
        let msg = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_default();
        assert_eq!(sqlstate(&e), "22023", "{sql}: {msg}");
        assert!(msg.contains("unique by (user_id, event_type)") || msg.contains("unique by (event_type, user_id)"), "{sql}: {msg}");
    }
    c.batch_execute(&format!(
        "CREATE SINK m_kafka FROM per_min WITH (connector = 'kafka', bootstrap_servers = '{kafka}', topic = 'per_min_{tag}', key = 'event_type');
         CREATE SINK m_pg FROM per_min WITH (connector = 'postgres', url = '{pg_url}', table = 'latest_{tag}', primary_key = 'event_type', create_table = 'true');
         CREATE SINK b_redis FROM busy_pairs WITH (connector = 'redis', url = '{redis_url}', key = 'busy:{tag}:{{user_id}}:{{event_type}}');"
    ))
    .await
    .unwrap();
    wait_views(&c, &["per_min", "busy_pairs"], |r| r[1].as_deref() == Some("finished")).await;
    let status = wait_sinks(&c, &["m_kafka", "m_pg", "b_redis"]).await;
    let view = text_rows(&c, "SELECT event_type, window_start, n FROM per_min").await;
    assert!(view.len() > 100, "windows: {}", view.len());

    // Kafka: one message per view row, keyed by event type, windows in order per key.
    use rdkafka::Message;
    let consumer = topic_reader(&kafka, format!("keyed-{tag}"), &format!("per_min_{tag}"));
    let mut got: Vec<(String, String, i64)> = Vec::new();
    let mut stream = consumer.stream();
    // Read until 3 s pass without a message, so that extra messages would show too.
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(if got.is_empty() { 30 } else { 3 }), stream.next()).await {
        let m = m.unwrap();
        let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        let key = String::from_utf8_lossy(m.key().unwrap()).to_string();
        assert_eq!(Some(key.as_str()), v["event_type"].as_str(), "the key is the event type");
        got.push((key, v["window_start"].as_str().unwrap().to_string(), v["n"].as_i64().unwrap()));
    }
    assert_eq!(got.len(), view.len(), "every row of the view is a message");
    let mut last: HashMap<String, String> = HashMap::new();
    for (key, start, _) in &got {
        if let Some(prev) = last.insert(key.clone(), start.clone()) {
            assert!(prev < *start, "{key}: window {start} after {prev}: messages keep the view's order");
        }
    }
    let mut counts: Vec<(String, i64)> = got.iter().map(|(k, _, n)| (k.clone(), *n)).collect();
    let mut want: Vec<(String, i64)> = view.iter().map(|r| (r[0].clone().unwrap(), r[2].as_deref().unwrap().parse().unwrap())).collect();
    counts.sort();
    want.sort();
    assert_eq!(counts, want, "the messages carry the view's counts");
    let written = |name: &str| status.iter().find(|r| r[0].as_deref() == Some(name)).and_then(|r| r[2].clone()).unwrap();
    assert_eq!(written("m_kafka"), view.len().to_string(), "rows_written counts the messages");

    // PostgreSQL keyed by event type over an append-only view: rows replace one another in order,
    // so the table holds each event type's latest window.
    let target = pg(&pg_url).await;
    let in_pg = text_rows(&target, &format!("SELECT event_type, window_start::text, n::text FROM latest_{tag}")).await;
    let mut latest: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for r in &view {
        let e = latest.entry(r[0].clone().unwrap()).or_insert_with(|| r.clone());
        if r[1] > e[1] {
            *e = r.clone();
        }
    }
    assert_eq!(in_pg, latest.into_values().collect::<Vec<_>>(), "the latest window per event type");

    // Redis keyed by the updating view's whole unique key: one hash per row.
    let busy = text_rows(&c, "SELECT user_id, event_type, n FROM busy_pairs").await;
    assert!(busy.len() > 20, "busy pairs: {}", busy.len());
    let mut con = redis_connection(&redis_url).await;
    let keys = redis_keys(&mut con, &format!("busy:{tag}:*")).await;
    assert_eq!(keys.len(), busy.len(), "one key per row");
    for r in &busy {
        let key = format!("busy:{tag}:{}:{}", r[0].as_deref().unwrap(), r[1].as_deref().unwrap());
        let n: Option<String> = redis::cmd("HGET").arg(&key).arg("n").query_async(&mut con).await.unwrap();
        assert_eq!(n, r[2], "{key}");
    }
}

/// A sink that failed (an error no retry fixes) stays failed across a
/// restart, with a status that says so, instead of taking the new-sink path
/// and delivering its whole input again: an append-only target gets no
/// duplicates even once the cause is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sink_stays_failed_after_a_restart_and_delivers_nothing_twice() {
    let mut server = Server::start();
    let table = format!("failing_{}", server.port);
    let url = crate::support::postgres_url(&[&format!("DROP TABLE IF EXISTS {table}")]);
    let target = pg(&url).await;
    // Rows from seq 3000 on break the target's CHECK: the sink fails (23514 is not retried).
    target.batch_execute(&format!("CREATE TABLE {table} (seq bigint, user_id text, CHECK (seq < 3000))")).await.unwrap();
    let c = server.client().await;
    c.batch_execute(&format!(
        "CREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = 8000, rate = '2000', users = 10);
         CREATE MATERIALIZED VIEW numbers AS SELECT seq, user_id FROM seq;
         CREATE SINK out FROM numbers WITH (connector = 'postgres', url = '{url}', table = '{table}');"
    ))
    .await
    .unwrap();
    let status = "SELECT status FROM weir_sink_status WHERE name = 'out'";
    let started = Instant::now();
    while !text_rows(&c, status).await[0][0].as_deref().unwrap_or("").starts_with("failed") {
        assert!(started.elapsed() < SINK_TIMEOUT, "the sink did not fail: {:?}", text_rows(&c, status).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let count = format!("SELECT count(*)::text, count(DISTINCT seq)::text FROM {table}");
    let before = text_rows(&target, &count).await;
    // The cause goes away; checkpoints after the failure are written; then a crash.
    target.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT {table}_seq_check")).await.unwrap();
    let newest = "SELECT coalesce(max(epoch), 0) FROM weir_checkpoints";
    let at_failure: i64 = c.query_one(newest, &[]).await.unwrap().get(0);
    while c.query_one(newest, &[]).await.unwrap().get::<_, i64>(0) < at_failure + 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.restart();
    let c = server.client().await;
    wait_views(&c, &["numbers"], |r| r[1].as_deref() == Some("finished")).await;
    let after_restart: i64 = c.query_one(newest, &[]).await.unwrap().get(0);
    while c.query_one(newest, &[]).await.unwrap().get::<_, i64>(0) < after_restart + 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = text_rows(&target, &count).await;
    assert_eq!(rows[0][0], rows[0][1], "no row was delivered twice: {rows:?}");
    assert_eq!(rows, before, "nothing more was delivered");
    let now = text_rows(&c, status).await;
    let shown = now[0][0].as_deref().unwrap_or("");
    assert!(shown.starts_with("failed") && shown.contains("before weir restarted"), "{now:?}");
}

/// A TCP relay to `target` on a port of its own, until `true` is sent on the
/// returned channel: then open connections are closed and new ones refused.
async fn cuttable_relay(target: String) -> (u16, tokio::sync::watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (cut, watch) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let mut watch = watch.clone();
            if *watch.borrow() {
                continue; // dropped: the client sees the connection close
            }
            let target = target.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = watch.wait_for(|c| *c) => {}
                }
            });
        }
    });
    (port, cut)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_whose_target_stays_away_fails_and_frees_its_checkpoints() {
    let redis_url = service("WEIR_TEST_REDIS_URL");
    let (port, cut) = cuttable_relay(redis_url.trim_start_matches("redis://").trim_end_matches('/').to_string()).await;
    let args = ["--checkpoint-interval", "200ms", "--max-undelivered-checkpoints", "5"];
    let server = Server::start_with(temp_dir("overdue"), &args);
    let tag = format!("o{}", server.port);
    let c = server.client().await;
    c.batch_execute(&format!(
        "CREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = 'unlimited', rate = '500', users = 20);
         CREATE MATERIALIZED VIEW per_user AS SELECT user_id, count(*) AS n FROM seq GROUP BY user_id;
         CREATE SINK away FROM per_user WITH (connector = 'redis', url = 'redis://127.0.0.1:{port}', key = 'away:{tag}:{{user_id}}');
         CREATE SINK stays FROM per_user WITH (connector = 'redis', url = '{redis_url}', key = 'stays:{tag}:{{user_id}}');"
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    cut.send(true).unwrap();
    let status = "SELECT name, status, undelivered_checkpoints, rows_written FROM weir_sink_status ORDER BY name";
    let started = Instant::now();
    let rows = loop {
        let rows = text_rows(&c, status).await;
        if rows[0][1].as_deref().is_some_and(|s| s.starts_with("failed")) {
            break rows;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the sink never gave up: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(rows[0][1].as_deref().unwrap().contains("--max-undelivered-checkpoints"), "it says why and what to do: {rows:?}");
    // Its checkpoints are freed; the other sink goes on delivering.
    let started = Instant::now();
    loop {
        let rows = text_rows(&c, status).await;
        let kept = std::fs::read_dir(server.data_dir.join("checkpoints")).unwrap().count();
        if rows[0][2].as_deref() == Some("0") && kept <= 3 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "checkpoints still kept ({kept} directories): {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let written = |rows: &[Vec<Option<String>>]| rows[1][3].as_deref().unwrap().parse::<i64>().unwrap();
    let before = written(&text_rows(&c, status).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = text_rows(&c, status).await;
    assert!(after[1][1].as_deref() == Some("running") && written(&after) > before, "the other sink is unaffected: {after:?}");
}

/// A secret planted in every place a definition takes one (a mirrored
/// table's URL, a sink's URL, an s3 secret key) shows nowhere a client or an
/// operator can look: no system relation (every relation
/// information_schema lists, read whole), no EXPLAIN, no SHOW, no error
/// message, detail or hint, no log line. The redaction itself does show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_secret_shows_nowhere() {
    const SECRET: &str = "pl4nted-s3cret-91";
    let mut server = Server::start();
    let (pg_url, s3) = (service("WEIR_TEST_PG_URL"), service("WEIR_TEST_S3_ENDPOINT"));
    let tag = server.port;
    let bucket = format!("secret-{tag}");
    assert!(std::process::Command::new("curl").args(["-sf", "-X", "PUT", &format!("{s3}/{bucket}")]).status().unwrap().success());
    let (pg, conn) = tokio_postgres::connect(&pg_url, NoTls).await.unwrap();
    tokio::spawn(conn);
    pg.batch_execute(&format!(
        "DROP TABLE IF EXISTS dim_{tag}; CREATE TABLE dim_{tag} (user_id INT PRIMARY KEY, level TEXT); INSERT INTO dim_{tag} VALUES (1, 'a');"
    ))
    .await
    .unwrap();
    let secret_url = format!("{pg_url}?password={SECRET}");
    let s3_options =
        format!("connector = 's3', path = 's3://{bucket}/p/', endpoint = '{s3}', region = 'us-east-1', access_key_id = 'test', secret_access_key = '{SECRET}'");
    let c = server.client().await;
    c.batch_execute(&format!(
        "CREATE TABLE dim (user_id INT PRIMARY KEY, level TEXT) WITH (connector = 'postgres', url = '{secret_url}', table = 'dim_{tag}');
         CREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = 200, rate = '2000', users = 3);
         CREATE MATERIALIZED VIEW m AS SELECT s.seq, s.user_id, d.level FROM seq s LEFT JOIN dim d ON s.user_id = d.user_id;
         CREATE VIEW pv AS SELECT * FROM m;
         CREATE SINK to_pg FROM m WITH (connector = 'postgres', url = '{secret_url}', table = 'secret_sink_{tag}', create_table = 'true');
         CREATE SINK to_s3 FROM m WITH ({s3_options});"
    ))
    .await
    .unwrap();
    wait_views(&c, &["m"], |r| r[1].as_deref() == Some("finished")).await;
    let mut seen = String::new();
    // Errors of statements that carry the secret.
    let failing = [
        format!("CREATE SINK to_pg FROM m WITH (connector = 'postgres', url = '{secret_url}', table = 'x')"),
        format!("CREATE SINK nowhere FROM m WITH (connector = 'postgres', url = 'postgres://u:{SECRET}@127.0.0.1:1/db', table = 't')"),
        format!("CREATE SINK bad FROM m WITH ({s3_options}, format = 'csv')"),
        format!("CREATE TABLE dim2 (user_id INT) WITH (connector = 'postgres', url = '{secret_url}', table = 'no_such_{tag}')"),
        format!("CREATE SINK typo FROM m WITH ({s3_options}, colour = 'blue')"),
    ];
    for sql in &failing {
        let e = c.batch_execute(sql).await.expect_err(sql);
        let db = e.as_db_error().unwrap_or_else(|| panic!("{sql}: {e:?}"));
        seen += &format!("{} {:?} {:?}\n", db.message(), db.detail(), db.hint());
    }
    // Every relation, EXPLAIN and SHOW.
    let relations = text_rows(&c, "SELECT table_schema, table_name FROM information_schema.tables").await;
    assert!(relations.len() > 40, "the catalogs list their relations: {}", relations.len());
    let mut reads: Vec<String> = relations.iter().map(|r| format!("SELECT * FROM \"{}\".\"{}\"", r[0].as_deref().unwrap(), r[1].as_deref().unwrap())).collect();
    reads.extend(["SHOW SINKS", "SHOW SOURCES", "SHOW MATERIALIZED VIEWS", "SHOW TABLES", "SHOW ALL", "SHOW CONNECTORS"].map(String::from));
    reads.extend(
        ["EXPLAIN SELECT * FROM dim", "EXPLAIN SELECT * FROM pv", "EXPLAIN CREATE MATERIALIZED VIEW m2 AS SELECT * FROM m JOIN dim d ON m.user_id = d.user_id"]
            .map(String::from),
    );
    reads.push("SELECT pg_get_viewdef('pv'::regclass), pg_get_viewdef('m'::regclass)".into());
    for sql in &reads {
        match c.simple_query(sql).await {
            Ok(msgs) => {
                for m in msgs {
                    if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                        seen += &(0..r.len()).map(|i| r.get(i).unwrap_or("")).collect::<Vec<_>>().join("|");
                        seen.push('\n');
                    }
                }
            }
            Err(e) => seen += &format!("{sql}: {e:?}\n"),
        }
    }
    server.restart(); // the log of a restart, too
    let _ = server.client().await;
    seen += &server.log_text();
    assert!(seen.contains("***"), "the redaction shows where a secret was");
    assert!(seen.contains("to_s3") && seen.contains("secret_sink_"), "the definitions themselves show");
    if let Some(at) = seen.find(SECRET) {
        panic!("the secret shows: ...{}...", &seen[at.saturating_sub(300)..(at + 100).min(seen.len())]);
    }
}
