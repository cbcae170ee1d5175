//! The `WITH (...)` options of a definition, read with types. A connector
//! declares its options as a struct (serde, `deny_unknown_fields`) and reads
//! them with [`Options::typed`]: each value is parsed from its text, and an
//! unknown option, a missing one or a value that does not parse is an error
//! that names the option.

use crate::{ConnectorError, Result};
use std::collections::BTreeMap;
use std::time::Duration;

/// Option names and values, as written (names lower-cased).
#[derive(Debug, Default, Clone)]
pub struct Options {
    values: BTreeMap<String, String>,
}

impl Options {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Options { values }
    }

    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// The options as the connector's struct `T`: field names are option
    /// names (`connector` itself excluded); numbers, booleans, enum names
    /// and durations ([`Dur`]) are parsed from the text, a `String` field
    /// takes it as written.
    pub fn typed<T: serde::de::DeserializeOwned>(&self, connector: &str) -> Result<T> {
        self.deserialize().map_err(|e| match e {
            OptionError::Unknown { name, valid } => {
                ConnectorError::Config(format!("unknown option \"{name}\" for connector {connector}; valid options: {}", valid.join(", ")))
            }
            OptionError::Message(m) => ConnectorError::Config(m),
        })
    }

    fn deserialize<T: serde::de::DeserializeOwned>(&self) -> std::result::Result<T, OptionError> {
        let entries = self.values.iter().filter(|(k, _)| *k != "connector").map(|(k, v)| (k.as_str(), Value { name: k, text: v }));
        T::deserialize(serde::de::value::MapDeserializer::new(entries))
    }
}

/// Why options did not fit a connector's struct.
#[derive(Debug)]
enum OptionError {
    Unknown { name: String, valid: Vec<&'static str> },
    Message(String),
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionError::Unknown { name, .. } => write!(f, "unknown option \"{name}\""),
            OptionError::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for OptionError {}

impl serde::de::Error for OptionError {
    fn custom<M: std::fmt::Display>(m: M) -> Self {
        OptionError::Message(m.to_string())
    }
    fn unknown_field(name: &str, valid: &'static [&'static str]) -> Self {
        OptionError::Unknown { name: name.to_string(), valid: valid.to_vec() }
    }
    fn missing_field(name: &'static str) -> Self {
        OptionError::Message(format!("missing option \"{name}\""))
    }
}

/// One option's text, parsed into whatever type its field has; errors name the option.
struct Value<'a> {
    name: &'a str,
    text: &'a str,
}

impl<'a> Value<'a> {
    fn parse<T: std::str::FromStr>(&self, what: &str) -> std::result::Result<T, OptionError> {
        self.text.trim().parse().map_err(|_| OptionError::Message(format!("option \"{}\" must be {what}, not \"{}\"", self.name, self.text)))
    }

    /// A visitor's own error, with the option's name in front.
    fn named(&self, e: OptionError) -> OptionError {
        match e {
            OptionError::Message(m) if !m.starts_with("option \"") => OptionError::Message(format!("option \"{}\": {m}", self.name)),
            e => e,
        }
    }
}

impl<'de, 'a> serde::de::IntoDeserializer<'de, OptionError> for Value<'a> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parse_as {
    ($($method:ident => $visit:ident, $ty:ty, $what:literal;)*) => {
        $(fn $method<V: serde::de::Visitor<'de>>(self, visitor: V) -> std::result::Result<V::Value, OptionError> {
            let v: $ty = self.parse($what)?;
            visitor.$visit(v).map_err(|e| self.named(e))
        })*
    };
}

impl<'de, 'a> serde::de::Deserializer<'de> for Value<'a> {
    type Error = OptionError;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> std::result::Result<V::Value, OptionError> {
        visitor.visit_str(self.text).map_err(|e| self.named(e))
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, visitor: V) -> std::result::Result<V::Value, OptionError> {
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, OptionError> {
        let text = self.text.trim().to_ascii_lowercase();
        visitor.visit_enum(serde::de::IntoDeserializer::<OptionError>::into_deserializer(text.as_str())).map_err(|e| self.named(e))
    }

    parse_as! {
        deserialize_bool => visit_bool, bool, "'true' or 'false'";
        deserialize_u16 => visit_u16, u16, "a positive whole number";
        deserialize_u32 => visit_u32, u32, "a positive whole number";
        deserialize_u64 => visit_u64, u64, "a positive whole number";
        deserialize_i32 => visit_i32, i32, "a whole number";
        deserialize_i64 => visit_i64, i64, "a whole number";
        deserialize_f64 => visit_f64, f64, "a number";
    }

    serde::forward_to_deserialize_any! {
        i8 i16 u8 f32 char str string bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// A duration option (`'5s'`, `'2 minutes'`, see [`parse_duration`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dur(pub Duration);

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Dur;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as '5s' or '2 minutes'")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> std::result::Result<Dur, E> {
                parse_duration(text).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

/// The names of the options of the struct `T`, as serde knows them: what
/// a struct with `deny_unknown_fields` lists when it refuses an option it
/// does not have. The registry shows them; nothing else needs to list them.
pub fn option_names<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
    match Options::new([("__probe".to_string(), String::new())].into()).deserialize::<T>() {
        Err(OptionError::Unknown { valid, .. }) => valid,
        _ => vec![],
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

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        rate: u64,
        every: Option<Dur>,
        on: Option<bool>,
    }

    fn read(pairs: &[(&str, &str)]) -> Result<Probe> {
        Options::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).typed("generator")
    }

    #[test]
    fn durations_and_typed_options() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2 minutes").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("10 milliseconds").unwrap(), Duration::from_millis(10));
        assert!(parse_duration("soon").is_err());
        let p = read(&[("rate", "10"), ("every", "2s"), ("on", "true"), ("connector", "generator")]).unwrap();
        assert_eq!((p.rate, p.every, p.on), (10, Some(Dur(Duration::from_secs(2))), Some(true)));
        let err = |pairs: &[(&str, &str)]| read(pairs).unwrap_err().to_string();
        assert_eq!(err(&[("rate", "10"), ("rat", "1")]), "unknown option \"rat\" for connector generator; valid options: rate, every, on");
        assert_eq!(err(&[("every", "1s")]), "missing option \"rate\"");
        assert_eq!(err(&[("rate", "ten")]), "option \"rate\" must be a positive whole number, not \"ten\"");
        assert!(err(&[("rate", "1"), ("every", "soon")]).starts_with("option \"every\": "), "{}", err(&[("rate", "1"), ("every", "soon")]));
        assert_eq!(err(&[("rate", "1"), ("on", "maybe")]), "option \"on\" must be 'true' or 'false', not \"maybe\"");
    }
}
