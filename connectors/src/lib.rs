//! weir's connectors: where rows come from (sources) and where they go
//! (sinks, in [`sink`]), behind small traits. The planner never sees a
//! concrete connector; the server checks and opens them through
//! [`registry`], the one list of connectors.

pub mod format;
pub mod generator;
pub mod kafka;
pub mod options;
pub mod registry;
pub mod sink;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use std::time::Duration;

pub use options::Options;
pub use registry::{check_source, open_sink, open_source};

/// An error a connector reports, saying who must act.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The definition is wrong (options, columns): the user must fix it.
    #[error("{0}")]
    Config(String),
    /// The external system failed or went away; weir retries.
    #[error("{0}")]
    External(String),
    /// The operator has not allowed what the definition asks for (a local
    /// path, the server's own credentials): the operator must allow it, or
    /// the user must ask for something else.
    #[error("{0}")]
    Denied(String),
    /// A bug in weir.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the operator lets a client's definitions reach on the server's own
/// machine; nothing unless allowed.
#[derive(Debug, Clone, Default)]
pub struct HostAccess {
    /// Directories local paths must be under, as real paths (`--allow-local-path`, the demo's own); none: no local paths.
    pub local_roots: Vec<std::path::PathBuf>,
    /// Whether S3 sinks without keys in their options may use the server's
    /// environment and instance credentials (`--allow-env-credentials`).
    pub env_credentials: bool,
}

pub type Result<T> = std::result::Result<T, ConnectorError>;

/// A record a source could not turn into a row; kept in the dead-letter relation.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub partition: i32,
    pub offset: i64,
    pub raw: String,
    pub error: String,
}

/// What a source yields next.
#[derive(Debug)]
pub enum SourceEvent {
    /// Rows from one partition, in the source's schema.
    Batch { partition: i32, batch: RecordBatch, dead_letters: Vec<DeadLetter> },
    /// Records that all failed to decode.
    DeadLetters(Vec<DeadLetter>),
    /// Nothing right now; ask again.
    Idle,
    /// A finite source is done.
    End,
}

/// A source of rows. `next` may block for up to `wait`.
pub trait Source: Send {
    fn schema(&self) -> SchemaRef;
    fn next(&mut self, wait: Duration) -> Result<SourceEvent>;
    /// Partitions the source reads, so idle ones can be told apart from absent ones.
    fn partitions(&self) -> Vec<i32> {
        vec![0]
    }
    /// Where the source is: everything handed out so far is before it. Saved
    /// in checkpoints; None when the source cannot resume from a position.
    fn position(&self) -> Option<Vec<u8>> {
        None
    }
    /// Continues from a position `position` returned, before the first `next`.
    fn seek(&mut self, _position: &[u8]) -> Result<()> {
        Err(ConnectorError::Internal("this source cannot resume from a checkpoint".into()))
    }
}

/// What a source's definition says before it runs: its full schema and the
/// watermark it carries by default (event-time column and allowed disorder).
#[derive(Debug, Clone)]
pub struct SourceShape {
    pub schema: SchemaRef,
    pub default_watermark: Option<(String, Duration)>,
}
