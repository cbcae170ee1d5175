//! The Kafka sink: each new row as a JSON message on `topic`, keyed by the
//! text of the `key` column when given. Over an input with updates a key is
//! required: a changed row is a new message for its key and a retracted row
//! a tombstone (a message with no value), as compacted topics expect. The
//! topic is created (`partitions`, default 1) when it does not exist.
//!
//! Every message carries headers `weir-sink`, `weir-epoch` and `weir-seq`
//! (its place in the epoch). An epoch is done once the broker acknowledged
//! every message of it. After a failed epoch the sink reads the tail of each
//! partition, finds which messages of that epoch already arrived and sends
//! only the others, so a retried epoch never repeats a message (no broker
//! transactions needed). At open, the newest epoch in the tails is where the
//! sink's numbering continues.

use super::format::{TextCells, json_rows};
use super::{Changes, Sink, SinkInput, by_key_in_order, column_indexes, require_unique_key};
use crate::kafka::METADATA_TIMEOUT;
use crate::{ConnectorError, Options, Result};
use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// The sink's `WITH (...)` options.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KafkaSinkOptions {
    bootstrap_servers: String,
    topic: String,
    key: Option<String>,
    format: Option<String>,
    partitions: Option<i32>,
}

pub struct KafkaSink {
    producer: FutureProducer,
    brokers: String,
    topic: String,
    sink: String,
    key: Option<usize>,
    last_epoch: Option<u64>,
    /// Set after a failed epoch: the next write first looks for what already arrived.
    verify: bool,
    /// Messages acknowledged by the broker.
    delivered: u64,
}

/// Messages of one sink found in the tail of a topic: their (epoch, seq).
struct Tail {
    newest_epoch: Option<u64>,
    seqs: HashSet<u64>,
}

const HEADER_SINK: &str = "weir-sink";
const HEADER_EPOCH: &str = "weir-epoch";
const HEADER_SEQ: &str = "weir-seq";
/// Messages read back per partition and step when searching the tail.
const TAIL_STEP: i64 = 10_000;
/// Farthest back (in messages per partition) the search goes: a topic that
/// other producers fill does not get read whole to find a new sink's messages.
const TAIL_MAX: i64 = 1_000_000;

/// The (sink, epoch, seq) headers of a message, if it has them.
fn headers_of<M: Message>(m: &M) -> Option<(String, u64, u64)> {
    let h = m.headers()?;
    let (mut sink, mut epoch, mut seq) = (None, None, None);
    for header in h.iter() {
        let v = header.value.and_then(|v| std::str::from_utf8(v).ok());
        match header.key {
            HEADER_SINK => sink = v.map(str::to_string),
            HEADER_EPOCH => epoch = v.and_then(|v| v.parse().ok()),
            HEADER_SEQ => seq = v.and_then(|v| v.parse().ok()),
            _ => {}
        }
    }
    Some((sink?, epoch?, seq?))
}

/// Reads the tail of every partition of `topic` for this sink's messages:
/// the newest epoch found, and the seqs of `epoch` (when given). Steps back
/// from the end of each partition until it finds a message of the sink (or,
/// with `epoch`, one older than it), or the beginning.
fn read_tail(brokers: &str, topic: &str, sink: &str, epoch: Option<u64>) -> Result<Tail> {
    let err = |e: rdkafka::error::KafkaError| ConnectorError::External(format!("Kafka topic {topic}: reading the tail: {e}"));
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("weir-sink-tail-{sink}"))
        .set("enable.auto.commit", "false")
        .set("fetch.max.bytes", "52428800")
        .set("enable.partition.eof", "true")
        .create()
        .map_err(err)?;
    let meta = consumer.fetch_metadata(Some(topic), METADATA_TIMEOUT).map_err(err)?;
    let partitions: Vec<i32> = meta.topics().iter().filter(|t| t.name() == topic).flat_map(|t| t.partitions().iter().map(|p| p.id())).collect();
    let mut tail = Tail { newest_epoch: None, seqs: HashSet::new() };
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, METADATA_TIMEOUT).map_err(err)?;
        // The first step reads to the partition's end (told by a partition-EOF event, not
        // by the watermark, which may lag what was just written); later steps stop where
        // the previous one started.
        let mut end: Option<i64> = None;
        let mut from = high;
        let mut step = TAIL_STEP;
        while from > low || end.is_none() {
            let start = (from - step).max(low);
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, p, Offset::Offset(start)).map_err(err)?;
            consumer.assign(&tpl).map_err(err)?;
            let mut done = false;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if Instant::now() > deadline {
                    return Err(ConnectorError::External(format!("Kafka topic {topic}: reading the tail of partition {p} timed out")));
                }
                let m = match consumer.poll(Duration::from_millis(200)) {
                    None => continue,
                    Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) if end.is_none() => break,
                    Some(m) => m.map_err(err)?,
                };
                if end.is_some_and(|e| m.offset() >= e) {
                    break;
                }
                let Some((s, e, seq)) = headers_of(&m) else { continue };
                if s != sink {
                    continue;
                }
                tail.newest_epoch = tail.newest_epoch.max(Some(e));
                match epoch {
                    Some(want) if e == want => {
                        tail.seqs.insert(seq);
                    }
                    Some(want) if e < want => done = true,
                    None => done = true,
                    _ => {}
                }
            }
            if done || start <= low || high - start >= TAIL_MAX {
                break;
            }
            end = Some(start);
            from = start;
            step *= 2;
        }
    }
    Ok(tail)
}

impl KafkaSink {
    pub async fn open(options: &Options, input: &SinkInput) -> Result<KafkaSink> {
        let o: KafkaSinkOptions = options.typed("kafka")?;
        let (brokers, topic) = (o.bootstrap_servers, o.topic);
        let key = o.key.as_deref().map(|k| column_indexes(&input.schema, "key", k)).transpose()?;
        if key.as_ref().is_some_and(|k| k.len() > 1) {
            return Err(ConnectorError::Config("option \"key\" names one column".into()));
        }
        match o.format.as_deref().unwrap_or("json") {
            f if f.eq_ignore_ascii_case("json") => {}
            other => return Err(ConnectorError::Config(format!("option \"format\": the kafka sink writes 'json', not \"{other}\""))),
        }
        let partitions = o.partitions.unwrap_or(1);
        if key.is_none() && !input.append_only {
            return Err(ConnectorError::Config(
                "the sink's input has updates and deletions: give option \"key\" so changes become messages per key (tombstones for deletions)".into(),
            ));
        }
        if let Some(k) = &key {
            if let Some(unique) = input.unique_key.as_ref().filter(|u| !input.append_only && u.len() > 1) {
                let names: Vec<&str> = unique.iter().map(|&c| input.schema.field(c).name().as_str()).collect();
                return Err(ConnectorError::Config(format!(
                    "option \"key\": the kafka sink keys messages by one column, and this input has updates and rows unique by ({}); \
                     sink from a view with one GROUP BY column, or use a redis or postgres sink",
                    names.join(", ")
                )));
            }
            require_unique_key(input, "key", k)?;
        }
        let mut config = ClientConfig::new();
        // One request in flight per broker: a retried request cannot land after
        // a later one, so messages of a key keep the view's order.
        config
            .set("bootstrap.servers", &brokers)
            .set("message.timeout.ms", "30000")
            .set("linger.ms", "5")
            .set("compression.type", "lz4")
            .set("max.in.flight.requests.per.connection", "1");
        let producer: FutureProducer = config.create().map_err(|e| ConnectorError::Config(format!("option \"bootstrap_servers\": {e}")))?;
        let p = producer.clone();
        let t = topic.clone();
        let exists = tokio::task::spawn_blocking(move || {
            p.client()
                .fetch_metadata(Some(&t), METADATA_TIMEOUT)
                .map(|m| m.topics().iter().any(|x| x.name() == t && x.error().is_none() && !x.partitions().is_empty()))
        })
        .await
        .map_err(|e| ConnectorError::Internal(e.to_string()))?
        .map_err(|e| ConnectorError::External(format!("option \"bootstrap_servers\": cannot reach Kafka at {brokers}: {e}")))?;
        if !exists {
            let admin: AdminClient<DefaultClientContext> = config.create().map_err(|e| ConnectorError::Config(format!("option \"bootstrap_servers\": {e}")))?;
            let created = admin
                .create_topics(&[NewTopic::new(&topic, partitions, TopicReplication::Fixed(1))], &AdminOptions::new().operation_timeout(Some(METADATA_TIMEOUT)))
                .await
                .map_err(|e| ConnectorError::External(format!("cannot create topic {topic}: {e}")))?;
            for r in created {
                match r {
                    Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((_, code)) => return Err(ConnectorError::External(format!("option \"topic\": cannot create topic {topic}: {code}"))),
                }
            }
            tracing::info!("sink {}: created topic {topic} with {partitions} partition(s)", input.sink);
        }
        let (b, t, sink) = (brokers.clone(), topic.clone(), input.sink.clone());
        let tail = tokio::task::spawn_blocking(move || read_tail(&b, &t, &sink, None)).await.map_err(|e| ConnectorError::Internal(e.to_string()))??;
        Ok(KafkaSink {
            producer,
            brokers,
            topic,
            sink: input.sink.clone(),
            key: key.map(|k| k[0]),
            last_epoch: tail.newest_epoch,
            verify: tail.newest_epoch.is_some(),
            delivered: 0,
        })
    }
}

#[async_trait]
impl Sink for KafkaSink {
    fn last_epoch(&self) -> Option<u64> {
        self.last_epoch
    }

    async fn reconnect(&mut self) -> Result<()> {
        self.verify = true;
        Ok(())
    }

    async fn write(&mut self, epoch: u64, changes: &Changes) -> Result<()> {
        let arrived = if std::mem::take(&mut self.verify) {
            let (b, t, sink) = (self.brokers.clone(), self.topic.clone(), self.sink.clone());
            let tail = tokio::task::spawn_blocking(move || read_tail(&b, &t, &sink, Some(epoch)));
            match tail.await.map_err(|e| ConnectorError::Internal(e.to_string()))? {
                Ok(t) => t.seqs,
                Err(e) => {
                    self.verify = true;
                    return Err(e);
                }
            }
        } else {
            HashSet::new()
        };
        let changes = &changes.to_micros()?;
        let mut messages: Vec<(Option<String>, Option<String>)> = Vec::with_capacity(changes.rows());
        match self.key {
            None => messages.extend(json_rows(&changes.inserts)?.into_iter().map(|v| (None, Some(v)))),
            Some(k) => {
                let keys = |b: &arrow::array::RecordBatch| -> Result<Vec<String>> {
                    let cells = TextCells::new(b)?;
                    Ok((0..b.num_rows()).map(|i| cells.get(k, i).unwrap_or_default()).collect())
                };
                // Every row of an append-only input is a message; with updates, the last change per key.
                let keyed = by_key_in_order(changes, &keys)?;
                messages.extend(keys(&keyed.deletes)?.into_iter().map(|k| (Some(k), None)));
                let values = json_rows(&keyed.upserts)?;
                messages.extend(keys(&keyed.upserts)?.into_iter().zip(values).map(|(k, v)| (Some(k), Some(v))));
            }
        }
        let mut pending = Vec::with_capacity(messages.len());
        let epoch_text = epoch.to_string();
        for (seq, (key, value)) in messages.iter().enumerate() {
            if arrived.contains(&(seq as u64)) {
                continue;
            }
            let seq_text = seq.to_string();
            let headers = OwnedHeaders::new()
                .insert(Header { key: HEADER_SINK, value: Some(self.sink.as_str()) })
                .insert(Header { key: HEADER_EPOCH, value: Some(epoch_text.as_str()) })
                .insert(Header { key: HEADER_SEQ, value: Some(seq_text.as_str()) });
            let mut record: FutureRecord<'_, String, String> = FutureRecord::to(&self.topic).headers(headers);
            if let Some(k) = key {
                record = record.key(k);
            }
            if let Some(v) = value {
                record = record.payload(v);
            }
            // Waits for room in the producer queue rather than failing when it is full.
            pending.push(self.producer.send(record, Duration::from_secs(30)));
        }
        // Counted as acknowledged, failed attempt or not: a retry sends only the rest.
        let mut failed = None;
        for r in futures::future::join_all(pending).await {
            match r {
                Ok(_) => self.delivered += 1,
                Err((e, _)) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            self.verify = true;
            return Err(ConnectorError::External(format!("Kafka topic {}: {e}", self.topic)));
        }
        Ok(())
    }

    fn rows_delivered(&self) -> u64 {
        self.delivered
    }
}
