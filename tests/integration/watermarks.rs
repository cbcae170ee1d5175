//! Event time over a real Kafka-protocol broker (Tansu): what a watermark
//! lets through, and how a silent partition stops holding windows back.
//! (Partitions added to a topic later are not tested here: Tansu refuses
//! CreatePartitions with UnsupportedFeature.)

use crate::streaming::text_rows;
use crate::support::{Server, service};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::{Duration, Instant};

/// 2026-01-01 00:00:00 in epoch milliseconds.
const START_MS: i64 = 1_767_225_600_000;

struct Topic {
    name: String,
    brokers: String,
    producer: FutureProducer,
}

impl Topic {
    async fn create(tag: &str, partitions: i32) -> Topic {
        let brokers = service("WEIR_TEST_KAFKA");
        let name = format!("weir-{tag}-{}", std::process::id());
        let admin: AdminClient<_> = ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
        for r in admin.create_topics(&[NewTopic::new(&name, partitions, TopicReplication::Fixed(1))], &AdminOptions::new()).await.unwrap() {
            r.unwrap();
        }
        let producer = ClientConfig::new().set("bootstrap.servers", &brokers).set("linger.ms", "0").create().unwrap();
        Topic { name, brokers, producer }
    }

    /// Sends one click with event time `START_MS + ms` to `partition` and waits for the broker.
    async fn send(&self, partition: i32, id: &str, ms: i64) {
        let payload = serde_json::json!({"id": id, "ts": START_MS + ms}).to_string();
        let record = FutureRecord::to(&self.name).key(id).payload(&payload).partition(partition);
        self.producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e).unwrap();
    }

    /// The source over this topic; `idle` sets `idle_timeout` (else its default, 5 s).
    fn source_sql(&self, watermark: &str, idle: Option<&str>) -> String {
        let idle = idle.map(|i| format!(", idle_timeout = '{i}'")).unwrap_or_default();
        format!(
            "CREATE SOURCE clicks (id TEXT NOT NULL, ts TIMESTAMP NOT NULL, WATERMARK FOR ts AS {watermark})
             WITH (connector = 'kafka', topic = '{}', bootstrap_servers = '{}', startup = 'earliest'{idle}) FORMAT JSON",
            self.name, self.brokers
        )
    }
}

/// Polls `sql` until `done` holds for its rows, or fails after `limit` with the last rows.
async fn wait_for(c: &tokio_postgres::Client, sql: &str, limit: Duration, done: impl Fn(&[Vec<Option<String>>]) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let rows = text_rows(c, sql).await;
        if done(&rows) {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{sql}: not there after {limit:?}: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn one(rows: &[Vec<Option<String>>]) -> Option<&str> {
    rows.first().and_then(|r| r[0].as_deref())
}

/// `WATERMARK FOR ts AS ts - INTERVAL '0 seconds'`: a row exactly at the
/// watermark is on time, one behind it is late (and a dead letter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_delay_watermark_keeps_rows_at_it_and_sets_earlier_ones_aside() {
    let topic = Topic::create("wm-zero", 1).await;
    for (id, ms) in [("a", 10_000), ("b", 20_000), ("at", 20_000), ("behind", 19_999), ("c", 30_000)] {
        topic.send(0, id, ms).await;
    }
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute(&topic.source_sql("ts - INTERVAL '0 seconds'", None)).await.unwrap();
    c.batch_execute("CREATE MATERIALIZED VIEW raw AS SELECT * FROM clicks").await.unwrap();
    wait_for(&c, "SELECT count(*) FROM raw", Duration::from_secs(60), |r| one(r) == Some("4")).await;
    let ids = text_rows(&c, "SELECT id FROM raw").await;
    assert_eq!(ids, [["a"], ["at"], ["b"], ["c"]].map(|r| vec![Some(r[0].to_string())]));
    let late = text_rows(&c, "SELECT rows_late FROM weir_views WHERE name = 'raw'").await;
    assert_eq!(one(&late), Some("1"));
    let dead = text_rows(&c, "SELECT reason, raw FROM weir_dead_letters WHERE view = 'raw'").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0][1].as_deref().is_some_and(|r| r.contains("behind")), "{dead:?}");
    // `AS ts` means the same; a negative delay is refused.
    c.batch_execute("DROP MATERIALIZED VIEW raw; DROP SOURCE clicks").await.unwrap();
    c.batch_execute(&topic.source_sql("ts", None)).await.unwrap();
    c.batch_execute("DROP SOURCE clicks").await.unwrap();
    let e = c.batch_execute(&topic.source_sql("ts - INTERVAL '-1 second'", None)).await.unwrap_err();
    assert!(e.as_db_error().is_some_and(|d| d.message().contains("must not be negative")), "{e:?}");
}

/// Two partitions; one falls silent while the other goes on. Once the silent
/// one has been idle for `idle_timeout`, the windows it held back close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_partition_stops_holding_windows_back_after_its_idle_timeout() {
    let topic = Topic::create("wm-idle", 2).await;
    topic.send(0, "p0-first", 1_000).await;
    topic.send(1, "p1-first", 2_000).await;
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute(&topic.source_sql("ts", None)).await.unwrap();
    c.batch_execute(
        "CREATE MATERIALIZED VIEW per_minute AS SELECT count(*) AS n, window_start, window_end
         FROM TUMBLE(clicks, ts, INTERVAL '1 minute') GROUP BY window_start, window_end EMIT ON WINDOW CLOSE",
    )
    .await
    .unwrap();
    wait_for(&c, "SELECT rows_in FROM weir_views WHERE name = 'per_minute'", Duration::from_secs(60), |r| one(r) == Some("2")).await;
    // Partition 1 is silent from here on; partition 0 moves event time past the first minute.
    let silent_since = Instant::now();
    let closed = wait_for(&c, "SELECT n FROM per_minute", Duration::from_secs(30), |r| one(r) == Some("2"));
    tokio::pin!(closed);
    for i in 0.. {
        let feed = async {
            topic.send(0, &format!("p0-{i}"), 61_000 + i * 1_000).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        tokio::select! {
            _ = &mut closed => break,
            _ = feed => {}
        }
    }
    let after = silent_since.elapsed();
    eprintln!("the first minute closed {after:?} after partition 1 fell silent");
    // Idle after the default 5 s; allow for the broker's fetch wait and polling.
    assert!(after < Duration::from_secs(12), "the first minute closed {after:?} after partition 1 fell silent");
}
