//! The Kafka sink: each new row as a JSON message on `topic`, keyed by the
//! text of the `key` column when given. Over an input with updates a key is
//! required: a changed row is a new message for its key and a retracted row
//! a tombstone (a message with no value), as compacted topics expect. The
//! topic is created (`partitions`, default 1) when it does not exist.
//!
//! An epoch is done once the broker has acknowledged every message of it.
//! A retried epoch may repeat messages: exactly-once comes with checkpoints.

use super::format::{json_rows, TextCells};
use super::{by_key, column_indexes, Changes, Sink, SinkInput};
use crate::{ConnectorError, Options, Result};
use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::time::Duration;

const VALID: &[&str] = &["bootstrap_servers", "topic", "key", "format", "partitions"];
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

pub struct KafkaSink {
    producer: FutureProducer,
    topic: String,
    key: Option<usize>,
}

impl KafkaSink {
    pub async fn open(options: &Options, input: &SinkInput) -> Result<KafkaSink> {
        let brokers = options.required("bootstrap_servers")?.to_string();
        let topic = options.required("topic")?.to_string();
        let key = options.str("key").map(|k| column_indexes(&input.schema, "key", k)).transpose()?;
        if key.as_ref().is_some_and(|k| k.len() > 1) {
            return Err(ConnectorError::Config("option \"key\" names one column".into()));
        }
        match options.str("format").unwrap_or("json") {
            f if f.eq_ignore_ascii_case("json") => {}
            other => return Err(ConnectorError::Config(format!("option \"format\": the kafka sink writes 'json', not \"{other}\""))),
        }
        let partitions = options.parse::<i32>("partitions", "a positive number")?.unwrap_or(1);
        options.finish("kafka", VALID)?;
        if key.is_none() && !input.append_only {
            return Err(ConnectorError::Config(
                "the sink's input has updates and deletions: give option \"key\" so changes become messages per key (tombstones for deletions)".into(),
            ));
        }
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &brokers).set("message.timeout.ms", "30000").set("linger.ms", "5").set("compression.type", "lz4");
        let producer: FutureProducer = config.create().map_err(|e| ConnectorError::Config(format!("option \"bootstrap_servers\": {e}")))?;
        let p = producer.clone();
        let t = topic.clone();
        let exists = tokio::task::spawn_blocking(move || {
            p.client().fetch_metadata(Some(&t), METADATA_TIMEOUT).map(|m| m.topics().iter().any(|x| x.name() == t && x.error().is_none() && !x.partitions().is_empty()))
        })
        .await
        .map_err(|e| ConnectorError::Internal(e.to_string()))?
        .map_err(|e| ConnectorError::External(format!("option \"bootstrap_servers\": cannot reach Kafka at {brokers}: {e}")))?;
        if !exists {
            let admin: AdminClient<DefaultClientContext> =
                config.create().map_err(|e| ConnectorError::Config(format!("option \"bootstrap_servers\": {e}")))?;
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
        Ok(KafkaSink { producer, topic, key: key.map(|k| k[0]) })
    }
}

#[async_trait]
impl Sink for KafkaSink {
    async fn write(&mut self, _epoch: u64, changes: &Changes) -> Result<()> {
        let changes = &changes.to_micros()?;
        let mut messages: Vec<(Option<String>, Option<String>)> = Vec::with_capacity(changes.rows());
        match self.key {
            None => messages.extend(json_rows(&changes.inserts)?.into_iter().map(|v| (None, Some(v)))),
            Some(k) => {
                let keys = |b: &arrow::array::RecordBatch| -> Result<Vec<String>> {
                    let cells = TextCells::new(b)?;
                    Ok((0..b.num_rows()).map(|i| cells.get(k, i).unwrap_or_default()).collect())
                };
                let keyed = by_key(changes, &keys)?;
                messages.extend(keys(&keyed.deletes)?.into_iter().map(|k| (Some(k), None)));
                let values = json_rows(&keyed.upserts)?;
                messages.extend(keys(&keyed.upserts)?.into_iter().zip(values).map(|(k, v)| (Some(k), Some(v))));
            }
        }
        let mut pending = Vec::with_capacity(messages.len());
        for (key, value) in &messages {
            let mut record: FutureRecord<'_, String, String> = FutureRecord::to(&self.topic);
            if let Some(k) = key {
                record = record.key(k);
            }
            if let Some(v) = value {
                record = record.payload(v);
            }
            // Waits for room in the producer queue rather than failing when it is full.
            pending.push(self.producer.send(record, Duration::from_secs(30)));
        }
        for r in futures::future::join_all(pending).await {
            r.map_err(|(e, _)| ConnectorError::External(format!("Kafka topic {}: {e}", self.topic)))?;
        }
        Ok(())
    }
}
