//! What a dataflow (a view's or a sink's) is doing, as `weir_views` and
//! `weir_sink_status` show it, and as a finished dataflow's checkpoint part
//! records it. One type, one text form: `starting`, `connecting`, `running`, `retrying: <error>`,
//! `finished`, `stopped[: <why>]`, `failed: <error>`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    /// Created; its thread has not begun reading.
    #[default]
    Starting,
    /// Opening its connection to the target (a sink).
    Connecting,
    Running,
    /// A retryable error (a target or input away); it tries again.
    Retrying(String),
    /// Its input ended and everything was passed on.
    Finished,
    /// Stopped on request (DROP, shutdown), or for the reason given.
    Stopped(Option<String>),
    /// A definition or data error, or a bug; it stays failed across restarts.
    Failed(String),
}

impl Status {
    /// Finished or failed: nothing more will come from it.
    pub fn ended(&self) -> bool {
        matches!(self, Status::Finished | Status::Failed(_))
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Status::Failed(_))
    }

    /// Reads the text form back (a checkpoint keeps an ended dataflow's status as text).
    pub fn parse(text: &str) -> Status {
        let (head, rest) = match text.split_once(": ") {
            Some((h, r)) => (h, Some(r.to_string())),
            None => (text, None),
        };
        match (head, rest) {
            ("starting", None) => Status::Starting,
            ("connecting", None) => Status::Connecting,
            ("running", None) => Status::Running,
            ("finished", None) => Status::Finished,
            ("stopped", why) => Status::Stopped(why),
            ("retrying", Some(e)) => Status::Retrying(e),
            ("failed", Some(e)) => Status::Failed(e),
            _ => Status::Failed(format!("unreadable status \"{text}\"")),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Starting => f.write_str("starting"),
            Status::Connecting => f.write_str("connecting"),
            Status::Running => f.write_str("running"),
            Status::Retrying(e) => write!(f, "retrying: {e}"),
            Status::Finished => f.write_str("finished"),
            Status::Stopped(None) => f.write_str("stopped"),
            Status::Stopped(Some(why)) => write!(f, "stopped: {why}"),
            Status::Failed(e) => write!(f, "failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_read_back() {
        for s in [
            Status::Starting,
            Status::Connecting,
            Status::Running,
            Status::Retrying("Redis at redis://h: refused".into()),
            Status::Finished,
            Status::Stopped(None),
            Status::Stopped(Some("its input was dropped".into())),
            Status::Failed("division by zero".into()),
        ] {
            assert_eq!(Status::parse(&s.to_string()), s);
        }
        assert!(Status::parse("bogus").is_failed());
    }
}
