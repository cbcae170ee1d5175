//! The `kafka` source connector (rdkafka): reads every partition of a topic
//! from `startup` (earliest, latest or a timestamp), decodes JSON messages
//! into Arrow rows, and turns malformed ones into dead letters. librdkafka
//! reconnects on its own when a broker goes away; the fetch position of each
//! partition is kept, so nothing is skipped or read twice.

use crate::format::{self, Decoder, Message as RawMessage};
use crate::options::Dur;
use crate::options::Options;
use crate::{ConnectorError, Result, Source, SourceEvent, SourceShape};
use arrow::datatypes::SchemaRef;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Longest a fetch may wait at the broker for new messages (`fetch_wait`, default
/// librdkafka's 500 ms). Kafka answers as soon as there are any; some brokers
/// (Tansu) hold every fetch this long, which is then the floor of the latency.
/// Shorter means more fetches per second from every reader of the topic, which
/// on this machine's Tansu slowed producers down (BENCHMARKS.md).
const DEFAULT_FETCH_WAIT: Duration = Duration::from_millis(500);
/// Most messages decoded into one batch.
pub const MAX_BATCH_MESSAGES: usize = 8192;
/// How long to wait for topic metadata before trying again later.
pub(crate) const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the topic's partitions are looked up again, so that partitions
/// added to it later are read too (Flink calls this partition discovery).
const PARTITION_DISCOVERY: Duration = Duration::from_secs(30);

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
    fetch_wait: Duration,
    format: &'static str,
}

/// The source's `WITH (...)` options.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KafkaSourceOptions {
    topic: String,
    bootstrap_servers: String,
    startup: Option<String>,
    group_id: Option<String>,
    /// Read by the server's watermark (checked here).
    #[allow(dead_code)]
    idle_timeout: Option<Dur>,
    format: Option<String>,
    fetch_wait: Option<Dur>,
}

fn config(options: &Options) -> Result<Config> {
    let o: KafkaSourceOptions = options.typed("kafka")?;
    let startup = match o.startup.as_deref().unwrap_or("earliest").trim() {
        "earliest" => Startup::Earliest,
        "latest" => Startup::Latest,
        t => {
            let parsed = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
                .map_err(|_| {
                    ConnectorError::Config(format!("option \"startup\" must be earliest, latest or a timestamp such as '2026-01-01 00:00:00', not \"{t}\""))
                })?;
            Startup::At(parsed.and_utc().timestamp_millis())
        }
    };
    Ok(Config {
        format: format::check(o.format.as_deref())?,
        topic: o.topic,
        brokers: o.bootstrap_servers,
        startup,
        group_id: o.group_id,
        fetch_wait: o.fetch_wait.map_or(DEFAULT_FETCH_WAIT, |d| d.0),
    })
}

pub fn shape(options: &Options, declared: Option<SchemaRef>) -> Result<SourceShape> {
    config(options)?;
    let schema = declared
        .ok_or_else(|| ConnectorError::Config("a kafka source needs its columns declared, e.g. CREATE SOURCE s (id TEXT, ts TIMESTAMP) WITH (...)".into()))?;
    Ok(SourceShape { schema, default_watermark: None })
}

pub struct KafkaSource {
    consumer: BaseConsumer,
    c: Config,
    schema: SchemaRef,
    decoder: Box<dyn Decoder>,
    partitions: Vec<i32>,
    /// Decoded batches not handed out yet, with their partition and the offset after them.
    pending: VecDeque<(SourceEvent, i32, i64)>,
    /// Per partition, the offset after the last record handed out (the position).
    next_offsets: BTreeMap<i32, i64>,
    last_metadata_try: Option<Instant>,
    /// When the partitions were last looked up, once they are assigned.
    last_discovery: Instant,
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
            .set("fetch.wait.max.ms", c.fetch_wait.as_millis().clamp(1, 300_000).to_string())
            .set("fetch.max.bytes", "52428800")
            .set("max.partition.fetch.bytes", "10485760")
            .set("reconnect.backoff.ms", "100")
            .set("reconnect.backoff.max.ms", "5000")
            .create()
            .map_err(|e| ConnectorError::Config(format!("cannot create a Kafka consumer for {}: {e}", c.brokers)))?;
        Ok(KafkaSource {
            consumer,
            decoder: format::decoder(c.format, schema.clone())?,
            schema,
            c,
            partitions: Vec::new(),
            pending: VecDeque::new(),
            next_offsets: BTreeMap::new(),
            last_metadata_try: None,
            last_discovery: Instant::now(),
        })
    }

    /// The topic's partitions, or None while the broker or topic cannot be found.
    fn topic_partitions(&self) -> Option<Vec<i32>> {
        let md = self.consumer.fetch_metadata(Some(&self.c.topic), METADATA_TIMEOUT).ok()?;
        let topic = md.topics().iter().find(|t| t.name() == self.c.topic)?;
        let parts: Vec<i32> = topic.partitions().iter().map(|p| p.id()).collect();
        (!parts.is_empty()).then_some(parts)
    }

    /// Looks for partitions added to the topic since they were assigned; a
    /// new one is read from its first record (all of it is new to weir).
    fn discover(&mut self) -> Result<()> {
        self.last_discovery = Instant::now();
        let Some(parts) = self.topic_partitions() else { return Ok(()) };
        let added: Vec<i32> = parts.iter().copied().filter(|p| !self.partitions.contains(p)).collect();
        if added.is_empty() {
            return Ok(());
        }
        for &p in &added {
            let (low, _) = self
                .consumer
                .fetch_watermarks(&self.c.topic, p, METADATA_TIMEOUT)
                .map_err(|e| ConnectorError::External(format!("cannot read the offsets of new partition {p}: {e}")))?;
            self.next_offsets.insert(p, low);
        }
        tracing::info!("Kafka topic {}: reading partitions {added:?}, added to it since the source started", self.c.topic);
        self.assign_at(parts)
    }

    /// Finds the topic's partitions and assigns them all at the start position.
    fn assign(&mut self) -> Result<bool> {
        if self.last_metadata_try.is_some_and(|t| t.elapsed() < METADATA_TIMEOUT) {
            return Ok(false);
        }
        self.last_metadata_try = Some(Instant::now());
        // None: the broker is not reachable or the topic not there yet; try again later.
        let Some(parts) = self.topic_partitions() else { return Ok(false) };
        self.assign_at(parts)?;
        self.last_discovery = Instant::now();
        Ok(true)
    }

    /// Assigns `parts`: those with a position continue there, the others start at `startup`.
    fn assign_at(&mut self, parts: Vec<i32>) -> Result<()> {
        // Partitions with a position (from a checkpoint) continue there; the others start at
        // `startup`, and get a position at once when it is a number, so that one that hands
        // out nothing before a checkpoint does not go back to `latest` (a later end) on restart.
        let mut startup = TopicPartitionList::new();
        for &p in parts.iter().filter(|p| !self.next_offsets.contains_key(p)) {
            let offset = match self.c.startup {
                Startup::Earliest => Offset::Beginning,
                Startup::Latest => Offset::End,
                Startup::At(ms) => Offset::Offset(ms),
            };
            startup.add_partition_offset(&self.c.topic, p, offset).map_err(|e| ConnectorError::Internal(e.to_string()))?;
        }
        if matches!(self.c.startup, Startup::At(_)) && startup.count() > 0 {
            startup = self
                .consumer
                .offsets_for_times(startup, METADATA_TIMEOUT)
                .map_err(|e| ConnectorError::External(format!("cannot find offsets for the startup time: {e}")))?;
        }
        let mut assign = TopicPartitionList::new();
        for &p in &parts {
            let offset = match (self.next_offsets.get(&p), startup.find_partition(&self.c.topic, p).map(|e| e.offset())) {
                (Some(&o), _) | (None, Some(Offset::Offset(o))) => Offset::Offset(o),
                (None, Some(Offset::End)) if matches!(self.c.startup, Startup::Latest) => {
                    let (_, high) = self
                        .consumer
                        .fetch_watermarks(&self.c.topic, p, METADATA_TIMEOUT)
                        .map_err(|e| ConnectorError::External(format!("cannot read the end offsets: {e}")))?;
                    Offset::Offset(high)
                }
                (None, other) => other.unwrap_or(Offset::Beginning), // earliest: the beginning again
            };
            if let Offset::Offset(o) = offset {
                self.next_offsets.insert(p, o);
            }
            assign.add_partition_offset(&self.c.topic, p, offset).map_err(|e| ConnectorError::Internal(e.to_string()))?;
        }
        self.consumer.assign(&assign).map_err(|e| ConnectorError::External(format!("cannot assign partitions: {e}")))?;
        self.partitions = parts;
        Ok(())
    }
}

impl Source for KafkaSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn partitions(&self) -> Vec<i32> {
        self.partitions.clone()
    }

    fn position(&self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(self.next_offsets.len() * 12);
        for (p, o) in &self.next_offsets {
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(&o.to_le_bytes());
        }
        Some(out)
    }

    fn seek(&mut self, position: &[u8]) -> Result<()> {
        if !position.len().is_multiple_of(12) || !self.partitions.is_empty() {
            return Err(ConnectorError::Internal("a Kafka position is (partition, offset) pairs, set before the first read".into()));
        }
        self.next_offsets = position
            .chunks_exact(12)
            .map(|c| (i32::from_le_bytes(c[..4].try_into().expect("4 bytes")), i64::from_le_bytes(c[4..].try_into().expect("8 bytes"))))
            .collect();
        Ok(())
    }

    fn next(&mut self, wait: Duration) -> Result<SourceEvent> {
        if let Some(e) = self.pop() {
            return Ok(e);
        }
        if self.partitions.is_empty() && !self.assign()? {
            std::thread::sleep(wait.min(Duration::from_millis(100)));
            return Ok(SourceEvent::Idle);
        }
        if self.last_discovery.elapsed() >= PARTITION_DISCOVERY {
            self.discover()?;
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
                // librdkafka retries on its own (a broker away); the error is
                // shown (the view's status, a log line) until records flow again.
                Some(Err(e)) if n == 0 => return Err(ConnectorError::External(format!("Kafka topic {}: {e}", self.c.topic))),
                Some(Err(_)) => break,
                None => {
                    if n > 0 || left.is_zero() {
                        break;
                    }
                }
            }
        }
        for (partition, msgs) in by_partition {
            let raw: Vec<RawMessage> = msgs.iter().map(|(o, p)| RawMessage { partition, offset: *o, payload: p }).collect();
            let (batch, dead_letters) = self.decoder.decode(&raw);
            let after = msgs.last().map(|(o, _)| o + 1).unwrap_or_default();
            self.pending.push_back((
                match batch {
                    Some(batch) => SourceEvent::Batch { partition, batch, dead_letters },
                    None => SourceEvent::DeadLetters(dead_letters),
                },
                partition,
                after,
            ));
        }
        Ok(self.pop().unwrap_or(SourceEvent::Idle))
    }
}

impl KafkaSource {
    /// The next decoded event, moving the position past it.
    fn pop(&mut self) -> Option<SourceEvent> {
        let (e, partition, after) = self.pending.pop_front()?;
        self.next_offsets.insert(partition, after);
        Some(e)
    }
}
