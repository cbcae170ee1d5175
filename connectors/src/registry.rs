//! The one list of connectors: every source and sink weir has, with the
//! options each takes, and the functions that check and open them by name.
//! CREATE checks names against it, error messages and hints list from it,
//! and `SHOW CONNECTORS` shows it.

use crate::options::option_names;
use crate::sink::{self, Sink, SinkInput};
use crate::{ConnectorError, Options, Result, Source, SourceShape};
use arrow::datatypes::SchemaRef;
use std::fmt;

/// What a connector does for weir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Rows come from it (`CREATE SOURCE`).
    Source,
    /// Rows go to it (`CREATE SINK`).
    Sink,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Source => "source",
            Role::Sink => "sink",
        })
    }
}

/// One connector: its name in `WITH (connector = '...')` and its options.
#[derive(Debug)]
pub struct Connector {
    pub name: &'static str,
    pub role: Role,
    /// Every option it reads besides `connector` (the fields of its options
    /// struct); any other is refused by name.
    pub options: fn() -> Vec<&'static str>,
    pub about: &'static str,
}

pub const CONNECTORS: &[Connector] = &[
    Connector {
        name: "generator",
        role: Role::Source,
        options: option_names::<crate::generator::GeneratorOptions>,
        about: "deterministic clickstream, transactions, inventory or sequence events",
    },
    Connector {
        name: "kafka",
        role: Role::Source,
        options: option_names::<crate::kafka::KafkaSourceOptions>,
        about: "every partition of a Kafka topic, JSON messages",
    },
    Connector {
        name: "kafka",
        role: Role::Sink,
        options: option_names::<crate::sink::kafka::KafkaSinkOptions>,
        about: "rows as JSON messages, optionally keyed",
    },
    Connector {
        name: "postgres",
        role: Role::Sink,
        options: option_names::<crate::sink::postgres::PostgresOptions>,
        about: "a PostgreSQL (TimescaleDB) table, appended or upserted",
    },
    Connector {
        name: "redis",
        role: Role::Sink,
        options: option_names::<crate::sink::redis::RedisOptions>,
        about: "Redis hashes or JSON per key, pub/sub, or a capped list",
    },
    Connector { name: "s3", role: Role::Sink, options: option_names::<crate::sink::object::ObjectOptions>, about: "Parquet files on S3 or a local directory" },
];

/// The names of the connectors with `role`.
pub fn names(role: Role) -> Vec<&'static str> {
    CONNECTORS.iter().filter(|c| c.role == role).map(|c| c.name).collect()
}

/// The connector `name` with `role`, or an error that lists the ones there are.
pub fn find(role: Role, name: &str) -> Result<&'static Connector> {
    CONNECTORS.iter().find(|c| c.role == role && c.name == name).ok_or_else(|| {
        // (A source's connector is the usual kind, so its message does not say "source".)
        let what = if role == Role::Sink { "sink connector" } else { "connector" };
        ConnectorError::Config(format!("unknown {what} \"{name}\"; weir's {role} connectors are: {}", names(role).join(", ")))
    })
}

/// Checks a source definition: options, and columns against what the
/// connector can give. `declared` is the column list of CREATE SOURCE (None
/// when omitted). Returns the source's schema and default watermark.
pub fn check_source(connector: &str, options: &Options, declared: Option<SchemaRef>) -> Result<SourceShape> {
    match find(Role::Source, connector)?.name {
        "generator" => crate::generator::shape(options, declared),
        "kafka" => crate::kafka::shape(options, declared),
        other => Err(ConnectorError::Internal(format!("source connector {other} is listed but cannot be checked"))),
    }
}

/// Opens a source whose definition `check_source` accepted.
pub fn open_source(connector: &str, options: &Options, schema: SchemaRef, group_suffix: &str) -> Result<Box<dyn Source>> {
    match find(Role::Source, connector)?.name {
        "generator" => Ok(Box::new(crate::generator::Generator::open(options, schema)?)),
        "kafka" => Ok(Box::new(crate::kafka::KafkaSource::open(options, schema, group_suffix)?)),
        other => Err(ConnectorError::Internal(format!("source connector {other} is listed but cannot be opened"))),
    }
}

/// Checks a sink's options against its input, connects, and returns the
/// open sink. Used at CREATE SINK (to fail early) and when a sink starts.
pub async fn open_sink(connector: &str, options: &Options, input: &SinkInput) -> Result<Box<dyn Sink>> {
    let sink: Box<dyn Sink> = match find(Role::Sink, connector)?.name {
        "redis" => Box::new(sink::redis::RedisSink::open(options, input).await?),
        "postgres" => Box::new(sink::postgres::PostgresSink::open(options, input).await?),
        "s3" => Box::new(sink::object::ObjectSink::open(options, input).await?),
        "kafka" => Box::new(sink::kafka::KafkaSink::open(options, input).await?),
        other => return Err(ConnectorError::Internal(format!("sink connector {other} is listed but cannot be opened"))),
    };
    Ok(sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_connector_once_and_unknown_ones_named() {
        for c in CONNECTORS {
            assert_eq!(CONNECTORS.iter().filter(|d| d.name == c.name && d.role == c.role).count(), 1, "{}", c.name);
            let options = (c.options)();
            assert!(!options.is_empty() && !options.contains(&"connector"), "{}: {options:?}", c.name);
        }
        assert_eq!(names(Role::Sink), vec!["kafka", "postgres", "redis", "s3"]);
        let redis = find(Role::Sink, "redis").unwrap();
        assert_eq!((redis.options)(), vec!["url", "mode", "key", "value", "ttl", "channel", "max_length"]);
        let e = find(Role::Source, "nope").unwrap_err().to_string();
        assert_eq!(e, "unknown connector \"nope\"; weir's source connectors are: generator, kafka");
    }
}
