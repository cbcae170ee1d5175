//! The `kafka` source connector (rdkafka): reads every partition of a topic
//! from `startup` (earliest, latest or a timestamp), decodes JSON messages
//! into Arrow rows, and turns malformed ones into dead letters. librdkafka
//! reconnects on its own when a broker goes away; the fetch position of each
//! partition is kept, so nothing is skipped or read twice.

use crate::json::{JsonDecoder, Message as JsonMessage};
use crate::options::Options;
use crate::{ConnectorError, Result, Source, SourceEvent, SourceShape};
use arrow::datatypes::SchemaRef;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

const VALID: &[&str] = &["topic", "bootstrap_servers", "startup", "group_id", "idle_timeout", "format"];
/// Most messages decoded into one batch.
pub const MAX_BATCH_MESSAGES: usize = 8192;
/// How long to wait for topic metadata before trying again later.
pub(crate) const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Startup {
    Earliest,
    Latest,
    /// Epoch milliseconds.
    At(i64),
}

struct Config {
    topic: String,
    brokers: String,
    startup: Startup,
    group_id: Option<String>,
}

fn config(o: &Options) -> Result<Config> {
    let startup = match o.str("startup").unwrap_or("earliest").trim() {
        "earliest" => Startup::Earliest,
        "latest" => Startup::Latest,
        t => {
            let parsed = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
                .map_err(|_| ConnectorError::Config(format!("option \"startup\" must be earliest, latest or a timestamp such as '2026-01-01 00:00:00', not \"{t}\"")))?;
            Startup::At(parsed.and_utc().timestamp_millis())
        }
    };
    if let Some(f) = o.str("format") {
        if !f.eq_ignore_ascii_case("json") {
            return Err(ConnectorError::Config(format!("format \"{f}\" is not supported; the kafka source reads JSON")));
        }
    }
    let c = Config {
        topic: o.required("topic")?.to_string(),
        brokers: o.required("bootstrap_servers")?.to_string(),
        startup,
        group_id: o.str("group_id").map(str::to_string),
    };
    o.duration("idle_timeout")?;
    o.finish("kafka", VALID)?;
    Ok(c)
}

pub fn shape(options: &Options, declared: Option<SchemaRef>) -> Result<SourceShape> {
    config(options)?;
    let schema = declared.ok_or_else(|| {
        ConnectorError::Config("a kafka source needs its columns declared, e.g. CREATE SOURCE s (id TEXT, ts TIMESTAMP) WITH (...)".into())
    })?;
    Ok(SourceShape { schema, default_watermark: None })
}

pub struct KafkaSource {
    consumer: BaseConsumer,
    c: Config,
    schema: SchemaRef,
    decoder: JsonDecoder,
    partitions: Vec<i32>,
    /// Decoded batches not handed out yet.
    pending: VecDeque<SourceEvent>,
    last_metadata_try: Option<Instant>,
}

impl KafkaSource {
    pub fn open(options: &Options, schema: SchemaRef, group_suffix: &str) -> Result<KafkaSource> {
        let c = config(options)?;
        let group = c.group_id.clone().unwrap_or_else(|| format!("weir-{}-{group_suffix}", c.topic));
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &c.brokers)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            // If an offset is gone (retention), read what is left rather than skip to the end.
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("fetch.max.bytes", "52428800")
            .set("max.partition.fetch.bytes", "10485760")
            .set("reconnect.backoff.ms", "100")
            .set("reconnect.backoff.max.ms", "5000")
            .create()
            .map_err(|e| ConnectorError::Config(format!("cannot create a Kafka consumer for {}: {e}", c.brokers)))?;
        Ok(KafkaSource {
            consumer,
            decoder: JsonDecoder::new(schema.clone()),
            schema,
            c,
            partitions: Vec::new(),
            pending: VecDeque::new(),
            last_metadata_try: None,
        })
    }

    /// Finds the topic's partitions and assigns them all at the start position.
    fn assign(&mut self) -> Result<bool> {
        if self.last_metadata_try.is_some_and(|t| t.elapsed() < METADATA_TIMEOUT) {
            return Ok(false);
        }
        self.last_metadata_try = Some(Instant::now());
        let md = match self.consumer.fetch_metadata(Some(&self.c.topic), METADATA_TIMEOUT) {
            Ok(md) => md,
            Err(_) => return Ok(false), // broker not reachable yet: try again later
        };
        let Some(topic) = md.topics().iter().find(|t| t.name() == self.c.topic) else { return Ok(false) };
        let parts: Vec<i32> = topic.partitions().iter().map(|p| p.id()).collect();
        if parts.is_empty() {
            return Ok(false);
        }
        let mut tpl = TopicPartitionList::new();
        for &p in &parts {
            let offset = match self.c.startup {
                Startup::Earliest => Offset::Beginning,
                Startup::Latest => Offset::End,
                Startup::At(ms) => Offset::Offset(ms),
            };
            tpl.add_partition_offset(&self.c.topic, p, offset).map_err(|e| ConnectorError::Internal(e.to_string()))?;
        }
        if matches!(self.c.startup, Startup::At(_)) {
            tpl = self
                .consumer
                .offsets_for_times(tpl, METADATA_TIMEOUT)
                .map_err(|e| ConnectorError::External(format!("cannot find offsets for the startup time: {e}")))?;
        }
        self.consumer.assign(&tpl).map_err(|e| ConnectorError::External(format!("cannot assign partitions: {e}")))?;
        self.partitions = parts;
        Ok(true)
    }
}

impl Source for KafkaSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn partitions(&self) -> Vec<i32> {
        self.partitions.clone()
    }

    fn next(&mut self, wait: Duration) -> Result<SourceEvent> {
        if let Some(e) = self.pending.pop_front() {
            return Ok(e);
        }
        if self.partitions.is_empty() && !self.assign()? {
            std::thread::sleep(wait.min(Duration::from_millis(100)));
            return Ok(SourceEvent::Idle);
        }
        let deadline = Instant::now() + wait;
        let mut by_partition: BTreeMap<i32, Vec<(i64, Vec<u8>)>> = BTreeMap::new();
        let mut n = 0;
        while n < MAX_BATCH_MESSAGES {
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = if n == 0 { left } else { Duration::ZERO };
            match self.consumer.poll(timeout) {
                Some(Ok(m)) => {
                    by_partition.entry(m.partition()).or_default().push((m.offset(), m.payload().unwrap_or_default().to_vec()));
                    n += 1;
                }
                // Transient errors (a broker away): librdkafka retries; keep what we have.
                Some(Err(_)) | None => {
                    if n > 0 || left.is_zero() {
                        break;
                    }
                }
            }
        }
        for (partition, msgs) in by_partition {
            let json: Vec<JsonMessage> = msgs.iter().map(|(o, p)| JsonMessage { partition, offset: *o, payload: p }).collect();
            let (batch, dead_letters) = self.decoder.decode(&json);
            self.pending.push_back(match batch {
                Some(batch) => SourceEvent::Batch { partition, batch, dead_letters },
                None => SourceEvent::DeadLetters(dead_letters),
            });
        }
        Ok(self.pending.pop_front().unwrap_or(SourceEvent::Idle))
    }
}

