//! The one error type of weir's SQL boundary: every failure a client can see,
//! with its PostgreSQL SQLSTATE. The class of the code says who must act:
//! `42`/`22`/`23` the user (fix the statement or the data), `0A` nobody yet
//! (a feature weir lacks), `57` the operator, `XX` us (a bug in weir).

use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, SchemaError};
use std::fmt;

/// SQLSTATE codes weir reports. Values are PostgreSQL's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlState {
    SyntaxError,
    UndefinedTable,
    UndefinedColumn,
    UndefinedObject,
    UndefinedSchema,
    UndefinedFunction,
    DuplicateObject,
    DuplicateTable,
    DuplicateSchema,
    ReservedName,
    InvalidName,
    InvalidTableDefinition,
    InvalidTextRepresentation,
    BadCopyFileFormat,
    InvalidParameterValue,
    InvalidDatetimeFormat,
    DatatypeMismatch,
    DivisionByZero,
    NumericValueOutOfRange,
    StringDataRightTruncation,
    DatetimeFieldOverflow,
    InvalidRegularExpression,
    InvalidArgumentForPower,
    InvalidArgumentForLog,
    InvalidArgumentForWidthBucket,
    SubstringError,
    ArraySubscriptError,
    CannotCoerce,
    CharacterNotInRepertoire,
    NotNullViolation,
    NullValueNotAllowed,
    UniqueViolation,
    DependentObjectsStillExist,
    FeatureNotSupported,
    QueryCanceled,
    InFailedTransaction,
    ReadOnlySqlTransaction,
    NoActiveSqlTransaction,
    InvalidSavepoint,
    InvalidCursorName,
    DuplicateCursor,
    ObjectNotInPrerequisiteState,
    SerializationFailure,
    CantChangeRuntimeParam,
    WrongObjectType,
    /// The operator has not allowed it (a local path, the server's credentials).
    InsufficientPrivilege,
    ProtocolViolation,
    ProgramLimitExceeded,
    /// A query needed more memory than the server's limit gives queries.
    OutOfMemory,
    IoError,
    /// An external system (broker, sink target) cannot be reached.
    UnableToConnect,
    Internal,
}

impl SqlState {
    pub fn code(self) -> &'static str {
        use SqlState::*;
        match self {
            SyntaxError => "42601",
            UndefinedTable => "42P01",
            UndefinedColumn => "42703",
            UndefinedObject => "42704",
            UndefinedSchema => "3F000",
            UndefinedFunction => "42883",
            DuplicateObject => "42710",
            DuplicateTable => "42P07",
            DuplicateSchema => "42P06",
            ReservedName => "42939",
            InvalidName => "42602",
            InvalidTableDefinition => "42P16",
            InvalidTextRepresentation => "22P02",
            BadCopyFileFormat => "22P04",
            InvalidParameterValue => "22023",
            InvalidDatetimeFormat => "22007",
            DatatypeMismatch => "42804",
            DivisionByZero => "22012",
            NumericValueOutOfRange => "22003",
            NotNullViolation => "23502",
            NullValueNotAllowed => "22004",
            UniqueViolation => "23505",
            DependentObjectsStillExist => "2BP01",
            FeatureNotSupported => "0A000",
            QueryCanceled => "57014",
            InFailedTransaction => "25P02",
            ReadOnlySqlTransaction => "25006",
            NoActiveSqlTransaction => "25P01",
            InvalidSavepoint => "3B001",
            InvalidCursorName => "34000",
            DuplicateCursor => "42P03",
            ObjectNotInPrerequisiteState => "55000",
            SerializationFailure => "40001",
            CantChangeRuntimeParam => "55P02",
            WrongObjectType => "42809",
            ProtocolViolation => "08P01",
            ProgramLimitExceeded => "54000",
            InsufficientPrivilege => "42501",
            OutOfMemory => "53200",
            StringDataRightTruncation => "22001",
            DatetimeFieldOverflow => "22008",
            InvalidRegularExpression => "2201B",
            InvalidArgumentForPower => "2201F",
            InvalidArgumentForLog => "2201E",
            InvalidArgumentForWidthBucket => "2201G",
            SubstringError => "22011",
            ArraySubscriptError => "2202E",
            CannotCoerce => "42846",
            CharacterNotInRepertoire => "22021",
            IoError => "58030",
            UnableToConnect => "08001",
            Internal => "XX000",
        }
    }
}

/// An error for the client: PostgreSQL-style text (lowercase, no trailing
/// period), with an optional hint that says what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub state: SqlState,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

pub type SqlResult<T> = Result<T, SqlError>;

impl SqlError {
    pub fn new(state: SqlState, message: impl Into<String>) -> Self {
        SqlError { state, message: message.into(), detail: None, hint: None }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn syntax(message: impl Into<String>) -> Self {
        Self::new(SqlState::SyntaxError, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(SqlState::FeatureNotSupported, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(SqlState::Internal, message)
    }
    pub fn undefined_table(name: &str) -> Self {
        Self::new(SqlState::UndefinedTable, format!("relation \"{name}\" does not exist"))
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.state.code())?;
        if let Some(h) = &self.hint {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SqlError {}

/// PostgreSQL style: first letter lowercase, no trailing period.
fn pg_style(s: &str) -> String {
    let s = s.trim().trim_end_matches('.');
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() && !chars.clone().next().is_some_and(|n| n.is_uppercase()) => c.to_lowercase().chain(chars).collect(),
        _ => s.to_string(),
    }
}

/// A failed cast as PostgreSQL classifies it: a value out of the type's
/// range (22003), a well-formed date that does not exist (22008), date/time
/// text that is not one (22007), or other text that is not the type's
/// input (22P02).
fn cast_error(m: &str) -> SqlError {
    if m.starts_with("Can't cast value") || (m.starts_with("value of ") && m.contains(" is out of range Int")) {
        return SqlError::new(SqlState::NumericValueOutOfRange, format!("{} out of range", int_name(m)));
    }
    let quoted = m.split('\'').nth(1).unwrap_or("");
    let lower = m.to_lowercase();
    if lower.contains("to value of int") && quoted.trim_start_matches(['-', '+']).bytes().all(|b| b.is_ascii_digit()) && !quoted.is_empty() {
        return SqlError::new(SqlState::NumericValueOutOfRange, format!("value \"{quoted}\" is out of range for type {}", int_name(m)));
    }
    let kind = ["date32", "timestamp", "interval"].into_iter().find(|k| lower.contains(k));
    match kind {
        Some(_) if date_like(quoted) => SqlError::new(SqlState::DatetimeFieldOverflow, format!("date/time field value out of range: \"{quoted}\"")),
        Some(k) => {
            let (name, value) = if k == "interval" { ("interval", m.rsplit('"').nth(1).unwrap_or(quoted)) } else { (k.trim_end_matches("32"), quoted) };
            SqlError::new(SqlState::InvalidDatetimeFormat, format!("invalid input syntax for type {name}: \"{value}\""))
        }
        None => SqlError::new(SqlState::InvalidTextRepresentation, pg_style(m)),
    }
}

/// The integer type a cast message names (`... Int16`), as PostgreSQL names it.
fn int_name(m: &str) -> &'static str {
    if m.contains("Int16") {
        "smallint"
    } else if m.contains("Int32") {
        "integer"
    } else {
        "bigint"
    }
}

/// `YYYY-MM-DD...` with a year of any length: a date whose fields are out of range.
fn date_like(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mut parts = s.splitn(3, '-');
    let (Some(y), Some(m), Some(rest)) = (parts.next(), parts.next(), parts.next()) else { return false };
    digits(y) && y.len() >= 4 && digits(m) && rest.get(..2).is_some_and(digits)
}

/// Failures DataFusion reports in words that PostgreSQL gives a SQLSTATE of
/// its own, found by a phrase of the message.
const BY_PHRASE: &[(&str, SqlState)] = &[
    ("square root of a negative", SqlState::InvalidArgumentForPower),
    ("zero raised to a negative power", SqlState::InvalidArgumentForPower),
    ("factorial of a negative", SqlState::NumericValueOutOfRange),
    ("regex parse error", SqlState::InvalidRegularExpression),
    ("regular expression did not compile", SqlState::InvalidRegularExpression),
    ("supported scale", SqlState::NumericValueOutOfRange),
    ("invalid hexadecimal digit", SqlState::InvalidParameterValue),
    ("invalid hexadecimal data", SqlState::InvalidParameterValue),
    ("month value", SqlState::DatetimeFieldOverflow),
    ("day value", SqlState::DatetimeFieldOverflow),
];

/// The error PostgreSQL gives for a failure DataFusion words its own way,
/// if this message is one.
fn by_phrase(m: &str) -> Option<SqlError> {
    // ASCII lower case keeps byte offsets, so an offset in it slices `m`.
    let lower = m.to_ascii_lowercase();
    // A phrase counts only in DataFusion's words, not in a quoted value of the user's.
    let words = unquoted(&lower);
    if words.contains("negative count not allowed") {
        return Some(SqlError::new(SqlState::SubstringError, "negative substring length not allowed"));
    }
    if let Some(e) = operator_error(m) {
        return Some(e);
    }
    let (phrase, state) = BY_PHRASE.iter().find(|(p, _)| words.contains(p))?;
    let text = match state {
        SqlState::InvalidRegularExpression => {
            let why = m.lines().rev().find_map(|l| l.trim().strip_prefix("error: ")).unwrap_or("cannot be compiled");
            format!("invalid regular expression: {why}")
        }
        _ => {
            // The sentence with the phrase, without the layers' prefixes ("Execution error: ").
            let at = lower.find(phrase).unwrap_or(0);
            pg_style(&m[m[..at].rfind(": ").map_or(0, |i| i + 2)..])
        }
    };
    Some(SqlError::new(*state, text))
}

/// `s` without its single- or double-quoted parts.
fn unquoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut quote = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// An operator or cast between types that has none, in PostgreSQL's words:
/// `operator does not exist: date + date` (42883), `cannot cast type boolean
/// to date` (42846).
fn operator_error(m: &str) -> Option<SqlError> {
    let lower = m.to_ascii_lowercase();
    let between = |prefix: &str| lower.find(prefix).map(|at| m[at + prefix.len()..].split([':', '\n']).next().unwrap_or("").trim().to_string());
    if let Some(rest) = between("unsupported cast from ") {
        let (from, to) = rest.split_once(" to ")?;
        return Some(SqlError::new(SqlState::CannotCoerce, format!("cannot cast type {} to {}", pg_type_name(from), pg_type_name(to))));
    }
    let rest = between("cannot coerce arithmetic expression ")
        .map(|r| r.trim_end_matches(" to valid types").to_string())
        .or_else(|| between("invalid interval arithmetic operation: "))?;
    let mut words = rest.split_whitespace();
    let (left, op, right) = (words.next()?, words.next()?, words.next()?);
    Some(SqlError::new(SqlState::UndefinedFunction, format!("operator does not exist: {} {op} {}", pg_type_name(left), pg_type_name(right))))
}

/// An Arrow type as DataFusion prints it, named as PostgreSQL names the type.
pub(crate) fn pg_type_name(arrow: &str) -> String {
    let name = match arrow.split('(').next().unwrap_or(arrow) {
        "Boolean" => "boolean",
        "Int16" => "smallint",
        "Int32" => "integer",
        "Int64" => "bigint",
        "Float32" => "real",
        "Float64" => "double precision",
        "Utf8" | "Utf8View" | "LargeUtf8" => "text",
        "Binary" | "BinaryView" | "LargeBinary" => "bytea",
        "Date32" => "date",
        "Decimal128" => "numeric",
        "Interval" => "interval",
        "Time64" => "time without time zone",
        "Timestamp" if arrow.contains("None") => "timestamp without time zone",
        "Timestamp" => "timestamp with time zone",
        other => return other.to_lowercase(),
    };
    name.to_string()
}

fn from_arrow(e: &ArrowError) -> SqlError {
    match e {
        ArrowError::CastError(m) | ArrowError::ParseError(m) => cast_error(m),
        ArrowError::InvalidArgumentError(m) if m.contains("too large to store in a Decimal") => {
            SqlError::new(SqlState::NumericValueOutOfRange, "numeric field overflow")
        }
        ArrowError::DivideByZero => SqlError::new(SqlState::DivisionByZero, "division by zero"),
        ArrowError::ArithmeticOverflow(m) => SqlError::new(SqlState::NumericValueOutOfRange, pg_style(m)),
        ArrowError::ComputeError(m) if m.contains("Overflow") || m.contains("overflow") => SqlError::new(SqlState::NumericValueOutOfRange, pg_style(m)),
        ArrowError::InvalidArgumentError(m) | ArrowError::ComputeError(m) => SqlError::new(SqlState::InvalidParameterValue, pg_style(m)),
        other => SqlError::internal(pg_style(&other.to_string())),
    }
}

impl From<DataFusionError> for SqlError {
    fn from(e: DataFusionError) -> Self {
        let root = e.find_root();
        if !matches!(root, DataFusionError::External(inner) if inner.is::<SqlError>())
            && let Some(known) = by_phrase(&root.to_string())
        {
            return known;
        }
        match root {
            DataFusionError::SQL(pe, _) => SqlError::syntax(pg_style(pe.to_string().trim_start_matches("sql parser error: "))),
            DataFusionError::SchemaError(se, _) => match se.as_ref() {
                SchemaError::FieldNotFound { field, .. } => SqlError::new(SqlState::UndefinedColumn, format!("column \"{}\" does not exist", field.name)),
                SchemaError::AmbiguousReference { field } => {
                    SqlError::new(SqlState::UndefinedColumn, format!("column reference \"{}\" is ambiguous", field.name))
                }
                other => SqlError::new(SqlState::DuplicateObject, pg_style(&other.to_string())),
            },
            DataFusionError::NotImplemented(m) => SqlError::unsupported(pg_style(m)),
            DataFusionError::ArrowError(ae, _) => from_arrow(ae),
            DataFusionError::Plan(m) => classify_plan_message(m),
            DataFusionError::Execution(m) => {
                if m.contains("Divide by zero") || m.contains("division by zero") {
                    SqlError::new(SqlState::DivisionByZero, "division by zero")
                } else if m.contains("Cannot cast") || m.contains("Error parsing") || m.contains("Unsupported") && m.contains("cast") {
                    SqlError::new(SqlState::InvalidTextRepresentation, pg_style(m))
                } else {
                    SqlError::new(SqlState::InvalidParameterValue, pg_style(m))
                }
            }
            DataFusionError::ResourcesExhausted(m) => SqlError::new(SqlState::OutOfMemory, format!("out of memory: {}", pg_style(m)))
                .with_hint("the query needs more memory than --memory-limit gives queries (a quarter of it): raise the limit, or narrow the query"),
            DataFusionError::External(inner) => match inner.downcast_ref::<SqlError>() {
                Some(se) => se.clone(),
                None => SqlError::internal(pg_style(&inner.to_string())),
            },
            other => SqlError::internal(pg_style(&other.to_string())),
        }
    }
}

fn classify_plan_message(m: &str) -> SqlError {
    let lower = m.to_lowercase();
    if let Some(rest) = lower.strip_prefix("table '")
        && let Some(name) = rest.split('\'').next()
        && lower.contains("not found")
    {
        let name = name.rsplit('.').next().unwrap_or(name);
        return SqlError::undefined_table(name);
    }
    if lower.contains("invalid function") || lower.contains("no function matches") {
        return SqlError::new(SqlState::UndefinedFunction, pg_style(m)).with_hint("check the function name and argument types");
    }
    if lower.contains("placeholder") || lower.contains("parameter") {
        return SqlError::new(SqlState::InvalidParameterValue, pg_style(m));
    }
    if lower.contains("cannot be cast") || lower.contains("cannot coerce") || lower.contains("type coercion") {
        return SqlError::new(SqlState::DatatypeMismatch, pg_style(m));
    }
    SqlError::syntax(pg_style(m))
}

impl From<ArrowError> for SqlError {
    fn from(e: ArrowError) -> Self {
        from_arrow(&e)
    }
}

/// Lets a `SqlError` travel through DataFusion and come back out intact.
impl From<SqlError> for DataFusionError {
    fn from(e: SqlError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_datafusion_words_not_user_text() {
        // Multi-byte text in a value must not split a character.
        assert_eq!(cast_error("Cannot cast string '2024-01-€' to value of Date32 type").state, SqlState::InvalidDatetimeFormat);
        assert!(by_phrase("Cannot cast string '\u{212A} day value' to value of Int32 type").is_none());
        assert_eq!(by_phrase("\u{212A} month value '13' is out of range").map(|e| e.state), Some(SqlState::DatetimeFieldOverflow));
        assert!(by_phrase("Cannot cast string 'regex parse error' to value of Int32 type").is_none());
        assert_eq!(by_phrase("Execution error: cannot take square root of a negative number").map(|e| e.state), Some(SqlState::InvalidArgumentForPower));
        let op = by_phrase("Error during planning: Cannot coerce arithmetic expression Date32 + Date32 to valid types").expect("an operator error");
        assert_eq!((op.state, op.message.as_str()), (SqlState::UndefinedFunction, "operator does not exist: date + date"));
    }
}
