//! Session settings: what `SET`, `SHOW` and `RESET` read and write, with
//! PostgreSQL's names and defaults so that clients find what they expect.

use crate::engine::pg_catalog::pg_settings::SettingRow;
use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::{ContextModifier, Expr, Reset, Set, TransactionAccessMode, TransactionMode, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use weir_planner::{SqlError, SqlResult, SqlState};

pub use weir_planner::pgdialect::SERVER_VERSION;

/// (name, default, description) of every setting weir knows.
const KNOWN: &[(&str, &str, &str)] = &[
    ("application_name", "", "name of the client application"),
    ("bytea_output", "hex", "output format for bytea (hex or escape)"),
    ("client_encoding", "UTF8", "client's character set (weir speaks UTF8 only)"),
    ("client_min_messages", "notice", "lowest message level sent to the client"),
    ("datestyle", "ISO, MDY", "display format for dates"),
    ("default_transaction_isolation", "read committed", "isolation level of new transactions"),
    ("default_transaction_read_only", "off", "whether new transactions are read-only"),
    ("extra_float_digits", "1", "extra digits for floating-point output"),
    ("integer_datetimes", "on", "datetimes are 64-bit integers"),
    ("intervalstyle", "postgres", "display format for intervals"),
    ("is_superuser", "on", "whether the session user is a superuser"),
    ("lc_messages", "C", "language of messages"),
    ("max_identifier_length", "63", "longest identifier"),
    ("max_index_keys", "32", "most columns an index key can have"),
    ("search_path", "\"$user\", public", "schema search order"),
    ("server_encoding", "UTF8", "server's character set"),
    ("server_version", SERVER_VERSION, "PostgreSQL version weir is compatible with"),
    ("server_version_num", "150000", "PostgreSQL version as a number"),
    ("standard_conforming_strings", "on", "backslashes in ordinary strings are literal"),
    ("statement_timeout", "0", "longest a statement may run (0: no limit)"),
    ("timezone", "UTC", "time zone for displaying timestamps"),
    ("transaction_isolation", "read committed", "isolation level of the current transaction"),
    ("transaction_read_only", "off", "whether the current transaction is read-only"),
];

/// Settings that report the server and cannot be changed.
const READ_ONLY: &[&str] =
    &["integer_datetimes", "server_encoding", "server_version", "server_version_num", "max_identifier_length", "max_index_keys", "is_superuser"];

#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { values: KNOWN.iter().map(|(k, v, _)| (k.to_string(), v.to_string())).collect() }
    }
}

fn canonical(name: &str) -> String {
    match name.to_lowercase().as_str() {
        "time zone" => "timezone".into(),
        "transaction isolation level" => "transaction_isolation".into(),
        "session authorization" => "session_authorization".into(),
        n => n.to_string(),
    }
}

fn value_text(e: &Expr) -> String {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        Expr::Identifier(i) => i.value.clone(),
        other => other.to_string(),
    }
}

impl Settings {
    /// The column name `SHOW name` uses: the setting's name as PostgreSQL spells it.
    pub fn column_name(name: &str) -> String {
        match canonical(name).as_str() {
            "timezone" => "TimeZone".into(),
            "datestyle" => "DateStyle".into(),
            "intervalstyle" => "IntervalStyle".into(),
            other => other.to_string(),
        }
    }

    /// Every setting as `pg_settings` shows it.
    pub fn catalog_rows(&self) -> Vec<SettingRow> {
        self.values
            .iter()
            .map(|(name, value)| {
                let known = KNOWN.iter().find(|(k, _, _)| k == name);
                let (setting, unit) = match name.as_str() {
                    "statement_timeout" => (parse_duration(value).map_or(value.clone(), |d| d.as_millis().to_string()), Some("ms")),
                    _ => (value.clone(), None),
                };
                SettingRow {
                    name: Self::column_name(name),
                    setting,
                    unit,
                    short_desc: known.map_or("", |k| k.2),
                    context: if READ_ONLY.contains(&name.as_str()) {
                        "internal"
                    } else if name == "lc_messages" {
                        "superuser"
                    } else {
                        "user"
                    },
                    vartype: vartype(name),
                    boot_val: known.map_or_else(String::new, |k| if name == "statement_timeout" { "0".into() } else { k.1.to_string() }),
                }
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&canonical(name)).map(|s| s.as_str())
    }

    pub fn set(&mut self, name: &str, value: String) -> SqlResult<()> {
        let name = canonical(name);
        if READ_ONLY.contains(&name.as_str()) {
            return Err(SqlError::new(SqlState::CantChangeRuntimeParam, format!("parameter \"{name}\" cannot be changed")));
        }
        if !self.values.contains_key(&name) && !name.contains('.') {
            return Err(SqlError::new(SqlState::UndefinedObject, format!("unrecognized configuration parameter \"{name}\""))
                .with_hint("SHOW ALL lists the parameters weir knows; custom ones need a dotted name such as myapp.flag"));
        }
        if name == "client_encoding" && !matches!(value.to_uppercase().as_str(), "UTF8" | "UTF-8" | "UNICODE") {
            return Err(
                SqlError::new(SqlState::FeatureNotSupported, format!("client encoding \"{value}\" is not supported")).with_hint("weir speaks UTF8 only")
            );
        }
        let value = if name == "timezone" {
            // Stored as the zone's own name, as PostgreSQL shows it.
            let Some(tz) = parse_time_zone(&value) else {
                return Err(SqlError::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"TimeZone\": \"{value}\""))
                    .with_hint("use a zone name such as UTC or Europe/Berlin"));
            };
            tz.name().to_string()
        } else {
            value
        };
        if name.ends_with("transaction_isolation") {
            refuse_isolation(&value)?;
        }
        if let Some(hint) = unsupported_value(&name, &value) {
            return Err(SqlError::unsupported(format!("{name} = '{value}' is not supported")).with_hint(hint));
        }
        if name == "statement_timeout" && parse_duration(&value).is_none() {
            return Err(SqlError::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"statement_timeout\": \"{value}\""))
                .with_hint("valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\""));
        }
        if name == "extra_float_digits" && !value.trim().parse::<i32>().is_ok_and(|v| (-15..=3).contains(&v)) {
            return Err(SqlError::new(
                SqlState::InvalidParameterValue,
                format!("{value} is outside the valid range for parameter \"extra_float_digits\" (-15 .. 3)"),
            ));
        }
        self.values.insert(name, value);
        Ok(())
    }

    /// The session's TimeZone (None: UTC).
    pub fn time_zone(&self) -> Option<chrono_tz::Tz> {
        parse_time_zone(self.get("timezone")?).filter(|tz| *tz != chrono_tz::Tz::UTC)
    }

    /// Whether bytea is written in PostgreSQL's escape format (`bytea_output = escape`).
    pub fn bytea_escape(&self) -> bool {
        self.get("bytea_output").is_some_and(|v| v.trim_matches('\'').eq_ignore_ascii_case("escape"))
    }

    /// `statement_timeout` as a duration (None: no limit). Plain numbers are
    /// milliseconds; units as PostgreSQL takes them (`us`, `ms`, `s`, `min`, `h`, `d`).
    pub fn statement_timeout(&self) -> Option<std::time::Duration> {
        parse_duration(self.get("statement_timeout")?).filter(|d| !d.is_zero())
    }

    pub fn apply_set(&mut self, set: &Set) -> SqlResult<()> {
        match set {
            Set::SingleAssignment { variable, values, .. } => {
                let name = variable.to_string();
                let text = if canonical(&name) == "search_path" {
                    // Schema names keep their quotes: `"My Schema"` is not `my schema`.
                    values
                        .iter()
                        .map(|v| if matches!(v, Expr::Identifier(i) if i.quote_style.is_some()) { v.to_string() } else { value_text(v) })
                        .collect::<Vec<_>>()
                } else {
                    values.iter().map(value_text).collect()
                }
                .join(", ");
                if text.eq_ignore_ascii_case("default") {
                    return self.reset(&Reset::ConfigurationParameter(variable.clone()));
                }
                self.set(&name, text)
            }
            Set::SetTimeZone { value, .. } => self.set("timezone", value_text(value)),
            Set::SetNames { charset_name, .. } => self.set("client_encoding", charset_name.value.clone()),
            Set::SetTransaction { modes, session, .. } => self.set_transaction_modes(modes, *session),
            // Roles: weir has one user per connection and no SET ROLE; refused rather than ignored.
            other => Err(SqlError::unsupported(format!("{other} is not supported"))),
        }
    }

    /// `SET [SESSION CHARACTERISTICS AS] TRANSACTION ...`: the levels and
    /// access modes SHOW reports (weir runs every level as READ COMMITTED,
    /// as PostgreSQL runs READ UNCOMMITTED).
    fn set_transaction_modes(&mut self, modes: &[TransactionMode], session: bool) -> SqlResult<()> {
        for m in modes {
            let (name, value) = match m {
                TransactionMode::IsolationLevel(level) => {
                    let level = level.to_string().to_lowercase();
                    refuse_isolation(&level)?;
                    ("transaction_isolation", level)
                }
                TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => ("transaction_read_only", "on".to_string()),
                TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => ("transaction_read_only", "off".to_string()),
            };
            if session {
                self.values.insert(format!("default_{name}"), value.clone());
            }
            self.values.insert(name.to_string(), value);
        }
        Ok(())
    }

    /// The setting a SET changes, and whether it is `SET LOCAL`.
    pub fn target(set: &Set) -> Option<(String, bool)> {
        match set {
            Set::SingleAssignment { scope, variable, .. } => Some((canonical(&variable.to_string()), matches!(scope, Some(ContextModifier::Local)))),
            Set::SetTimeZone { local, .. } => Some(("timezone".into(), *local)),
            _ => None,
        }
    }

    /// Puts a setting back to `value` (None: it was not set).
    pub fn put_back(&mut self, name: &str, value: Option<String>) {
        match value {
            Some(v) => self.values.insert(name.to_string(), v),
            None => self.values.remove(name),
        };
    }

    /// BEGIN [modes]: the block's isolation and access mode, from its modes
    /// or else the session's defaults.
    pub fn begin_block(&mut self, modes: &[TransactionMode]) -> SqlResult<()> {
        self.end_block();
        self.set_transaction_modes(modes, false)
    }

    /// Outside a block the transaction's modes are the session's defaults
    /// (a SET TRANSACTION there lasts only for its own statement).
    pub fn end_block(&mut self) {
        for name in ["transaction_isolation", "transaction_read_only"] {
            let default = self.values.get(&format!("default_{name}")).cloned().unwrap_or_default();
            self.values.insert(name.to_string(), default);
        }
    }

    pub fn reset(&mut self, r: &Reset) -> SqlResult<()> {
        match r {
            Reset::ALL => {
                *self = Settings::default();
                Ok(())
            }
            Reset::ConfigurationParameter(name) => {
                let name = canonical(&name.to_string());
                match KNOWN.iter().find(|(k, _, _)| *k == name) {
                    Some((_, default, _)) => {
                        self.values.insert(name, default.to_string());
                        Ok(())
                    }
                    None if self.values.remove(&name).is_some() => Ok(()),
                    None => Err(SqlError::new(SqlState::UndefinedObject, format!("unrecognized configuration parameter \"{name}\""))),
                }
            }
        }
    }

    pub fn show_all_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("setting", DataType::Utf8, true),
            Field::new("description", DataType::Utf8, true),
        ]))
    }

    /// `SHOW name` (or `SHOW ALL`) as a result set.
    pub fn show(&self, name: &str) -> SqlResult<(SchemaRef, Vec<RecordBatch>)> {
        if name.eq_ignore_ascii_case("all") {
            let schema = Self::show_all_schema();
            let names: Vec<&str> = self.values.keys().map(|s| s.as_str()).collect();
            let settings: Vec<&str> = self.values.values().map(|s| s.as_str()).collect();
            let desc: Vec<&str> = self.values.keys().map(|k| KNOWN.iter().find(|(n, _, _)| n == k).map(|(_, _, d)| *d).unwrap_or("")).collect();
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(StringArray::from(names)), Arc::new(StringArray::from(settings)), Arc::new(StringArray::from(desc))],
            )?;
            return Ok((schema, vec![batch]));
        }
        let col = canonical(name);
        let value = self.get(&col).ok_or_else(|| SqlError::new(SqlState::UndefinedObject, format!("unrecognized configuration parameter \"{col}\"")))?;
        let schema = Arc::new(Schema::new(vec![Field::new(Self::column_name(&col), DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec![value]))])?;
        Ok((schema, vec![batch]))
    }
}

/// A PostgreSQL time setting: a number of milliseconds, or a number and a unit.
/// The type `pg_settings` gives a setting.
fn vartype(name: &str) -> &'static str {
    match name {
        "integer_datetimes" | "is_superuser" | "standard_conforming_strings" | "default_transaction_read_only" | "transaction_read_only" => "bool",
        "extra_float_digits" | "max_identifier_length" | "max_index_keys" | "server_version_num" | "statement_timeout" => "integer",
        "client_min_messages" | "intervalstyle" | "bytea_output" | "default_transaction_isolation" | "transaction_isolation" => "enum",
        _ => "string",
    }
}

fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let t = text.trim().trim_matches('\'');
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n.parse().ok()?;
    let ms = match unit.trim() {
        "" | "ms" => n,
        "us" => n / 1000.0,
        "s" => n * 1e3,
        "min" => n * 60e3,
        "h" => n * 3600e3,
        "d" => n * 86400e3,
        _ => return None,
    };
    (ms >= 0.0).then(|| std::time::Duration::from_micros((ms * 1000.0) as u64))
}

#[cfg(test)]
mod duration_tests {
    #[test]
    fn reads_postgres_time_settings() {
        use std::time::Duration;
        assert_eq!(super::parse_duration("250"), Some(Duration::from_millis(250)));
        assert_eq!(super::parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(super::parse_duration("'1min'"), Some(Duration::from_secs(60)));
        assert_eq!(super::parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(super::parse_duration("soon"), None);
    }
}

/// A time zone name as PostgreSQL takes them (`UTC`, `utc`, `Europe/Berlin`).
fn parse_time_zone(name: &str) -> Option<chrono_tz::Tz> {
    let name = name.trim().trim_matches('\'');
    name.parse().ok().or_else(|| match name.to_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "ZULU" | "UCT" => Some(chrono_tz::Tz::UTC),
        _ => chrono_tz::TZ_VARIANTS.iter().copied().find(|tz| tz.name().eq_ignore_ascii_case(name)),
    })
}

/// Output settings weir accepts only in the form it writes: any other value
/// would be taken and then not act, so it is refused with what is possible.
/// Only READ COMMITTED (and READ UNCOMMITTED, which PostgreSQL runs as it)
/// is what weir gives: a stronger level is refused rather than ignored.
fn refuse_isolation(level: &str) -> SqlResult<()> {
    match level.trim().trim_matches('\'').to_lowercase().as_str() {
        "read committed" | "read uncommitted" | "default" => Ok(()),
        other => Err(SqlError::unsupported(format!("transaction isolation level {} is not supported", other.to_uppercase()))
            .with_hint("weir runs every transaction block as READ COMMITTED (a COMMIT whose tables another session changed meanwhile fails with 40001)")),
    }
}

fn unsupported_value(name: &str, value: &str) -> Option<&'static str> {
    let v = value.trim().trim_matches('\'').to_lowercase();
    match name {
        "datestyle" if !v.split(',').any(|p| p.trim() == "iso") => Some("weir writes dates in ISO style: SET DateStyle = 'ISO, MDY'"),
        "intervalstyle" if v != "postgres" => Some("weir writes intervals in postgres style: SET IntervalStyle = 'postgres'"),
        "bytea_output" if v != "hex" && v != "escape" => Some("bytea_output is hex or escape"),
        "extra_float_digits" if v.parse::<i32>().is_ok_and(|d| d < 1) => {
            Some("weir always writes the shortest exact digits of a float (extra_float_digits 1 to 3)")
        }
        _ => None,
    }
}
