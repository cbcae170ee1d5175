//! The `WITH (...)` options of a definition, read with types: every option
//! a connector reads is checked, and any left over is an error that names it.

use crate::{ConnectorError, Result};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::time::Duration;

/// Option names and values, as written (names lower-cased).
#[derive(Debug, Default)]
pub struct Options {
    values: BTreeMap<String, String>,
    read: Mutex<Vec<String>>,
}

impl Clone for Options {
    fn clone(&self) -> Self {
        Options { values: self.values.clone(), read: Mutex::new(Vec::new()) }
    }
}

impl Options {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Options { values, read: Mutex::new(Vec::new()) }
    }

    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.read.lock().push(name.to_string());
        self.values.get(name).map(|s| s.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.str(name).ok_or_else(|| ConnectorError::Config(format!("missing option \"{name}\"")))
    }

    pub fn parse<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<Option<T>> {
        self.str(name).map(|v| v.trim().parse::<T>().map_err(|_| ConnectorError::Config(format!("option \"{name}\" must be {what}, not \"{v}\"")))).transpose()
    }

    pub fn duration(&self, name: &str) -> Result<Option<Duration>> {
        self.str(name).map(|v| parse_duration(v).map_err(|e| ConnectorError::Config(format!("option \"{name}\": {e}")))).transpose()
    }

    /// Fails on options that no one read, naming them and the valid ones.
    pub fn finish(&self, connector: &str, valid: &[&str]) -> Result<()> {
        let read = self.read.lock();
        let unknown: Vec<&String> = self.values.keys().filter(|k| *k != "connector" && !read.contains(k)).collect();
        match unknown.first() {
            None => Ok(()),
            Some(k) => Err(ConnectorError::Config(format!("unknown option \"{k}\" for connector {connector}; valid options: {}", valid.join(", ")))),
        }
    }
}

/// `'5s'`, `'2 minutes'`, `'10 milliseconds'`, `'1h'`, `'250ms'`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim().to_lowercase();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("\"{text}\" is not a duration such as '5s' or '2 minutes'"))?;
    let secs = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => n,
        "ms" | "millisecond" | "milliseconds" => n / 1e3,
        "us" | "microsecond" | "microseconds" => n / 1e6,
        "ns" | "nanosecond" | "nanoseconds" => n / 1e9,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60.0,
        "h" | "hour" | "hours" => n * 3600.0,
        "d" | "day" | "days" => n * 86400.0,
        u => return Err(format!("unknown unit \"{u}\" in \"{text}\"")),
    };
    if !(0.0..1e12).contains(&secs) {
        return Err(format!("\"{text}\" is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_unknown_options() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2 minutes").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("10 milliseconds").unwrap(), Duration::from_millis(10));
        assert!(parse_duration("soon").is_err());
        let o = Options::new([("rate".to_string(), "10".to_string()), ("rat".to_string(), "1".to_string())].into());
        assert_eq!(o.parse::<u64>("rate", "a number").unwrap(), Some(10));
        let err = o.finish("generator", &["rate"]).unwrap_err().to_string();
        assert!(err.contains("unknown option \"rat\""), "{err}");
    }
}
