//! PostgreSQL's date/time template patterns read and applied outside
//! timestamps: `to_timestamp(text, pattern)` and `to_date(text, pattern)`
//! read text by a template (the text in the session's time zone, unless it
//! gives `TZH`/`TZM`), `to_timestamp(seconds)` is the Unix epoch plus that,
//! and `to_char(interval, pattern)` formats an interval's fields.

use super::columnar;
use super::datetime::{DAY_US, days_from_civil, days_in_month, from_local, session_zone};
use crate::{SqlError, SqlState};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Builder, StringBuilder, TimestampMicrosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, IntervalMonthDayNanoType, TimeUnit};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(FromChar { date: false, signature: Signature::user_defined(Volatility::Stable) }),
        ScalarUDF::new_from_impl(FromChar { date: true, signature: Signature::user_defined(Volatility::Stable) }),
    ]
}

/// The template patterns, longest first where one is a prefix of another.
const KEYS: &[&str] = &[
    "A.M.", "P.M.", "A.D.", "B.C.", "Y,YYY", "HH24", "HH12", "SSSSS", "SSSS", "MONTH", "YYYY", "IYYY", "IDDD", "DAY", "DDD", "FF1", "FF2", "FF3", "FF4", "FF5",
    "FF6", "YYY", "IYY", "MON", "TZH", "TZM", "AM", "PM", "AD", "BC", "CC", "DD", "DY", "YY", "HH", "MI", "MM", "MS", "SS", "US", "WW", "IW", "IY", "RM", "TZ",
    "OF", "ID", "D", "J", "Q", "W", "Y", "I",
];

/// One element of a template.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A pattern (upper case), as written, with `FM` and `TH` (upper or lower).
    Key {
        key: &'static str,
        written: String,
        fm: bool,
        th: Option<bool>,
    },
    /// Quoted text (true) or a character outside any pattern.
    Lit(String, bool),
    Space,
}

fn parse_template(pattern: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let Some((text, r)) = quoted(rest) {
            items.push(Item::Lit(text, true));
            rest = r;
            continue;
        }
        let fm = rest.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("FM"));
        let body = if fm { &rest[2..] } else { rest };
        match KEYS.iter().find(|k| body.get(..k.len()).is_some_and(|p| p.eq_ignore_ascii_case(k))) {
            Some(key) => {
                let after = &body[key.len()..];
                let th = after.get(..2).filter(|s| s.eq_ignore_ascii_case("TH")).map(|s| s.starts_with('T'));
                items.push(Item::Key { key, written: body[..key.len()].to_string(), fm, th });
                rest = if th.is_some() { &after[2..] } else { after };
            }
            None if c.is_whitespace() => {
                items.push(Item::Space);
                rest = &rest[c.len_utf8()..];
            }
            None => {
                items.push(Item::Lit(c.to_string(), false));
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    items
}

/// Quoted text at the start of `s` (a backslash escapes a character), and what follows.
fn quoted(s: &str) -> Option<(String, &str)> {
    let r = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = r.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &r[i + 1..])),
            '\\' => out.extend(chars.next().map(|(_, n)| n)),
            c => out.push(c),
        }
    }
    Some((out, ""))
}

/// `n` zero-padded to `width` digits after its sign, unless `fm`.
fn pad(n: i64, width: usize, fm: bool) -> String {
    match (fm, n < 0) {
        (true, _) => n.to_string(),
        (false, true) => format!("-{:0width$}", n.unsigned_abs()),
        (false, false) => format!("{n:0width$}"),
    }
}

/// An interval's fields as PostgreSQL's interval2tm gives them: every
/// field keeps the sign of its part, hours are all the time part's.
#[derive(Debug, Clone, Copy)]
pub struct IntervalFields {
    pub years: i64,
    pub months: i64,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
    pub micros: i64,
}

impl IntervalFields {
    pub fn of(months: i32, days: i32, nanos: i64) -> IntervalFields {
        let us = nanos / 1000;
        IntervalFields {
            years: months as i64 / 12,
            months: months as i64 % 12,
            days: days as i64,
            hours: us / 3_600_000_000,
            minutes: us / 60_000_000 % 60,
            seconds: us / 1_000_000 % 60,
            micros: us % 1_000_000,
        }
    }
}

fn interval_refused(key: &str) -> SqlError {
    let e = SqlError::new(SqlState::InvalidDatetimeFormat, "invalid format specification for an interval value");
    if matches!(key, "J" | "IW" | "IYYY" | "IYY" | "IY" | "I" | "IDDD") {
        return SqlError::unsupported(format!("to_char(interval) with \"{key}\" is not supported by weir"));
    }
    e.with_hint("Intervals are not tied to specific calendar dates.")
}

/// A name in the case of its pattern (`am` for `am`, `AM` otherwise).
fn cased(name: &str, written: &str) -> String {
    if written.starts_with(|c: char| c.is_ascii_lowercase()) { name.to_lowercase() } else { name.to_string() }
}

/// One pattern's text for an interval, and whether it is a number `TH` may follow.
fn interval_field(f: &IntervalFields, key: &str, written: &str, fm: bool) -> std::result::Result<(String, Option<i64>), SqlError> {
    let ddd = (f.years * 12 + f.months) * 30 + f.days;
    let number = |n: i64, width: usize| Ok((pad(n, width, fm), Some(n)));
    let printf = |n: i64, width: usize| Ok((if fm { n.to_string() } else { format!("{n:0width$}") }, Some(n)));
    match key {
        "HH" | "HH12" => number(if f.hours % 12 == 0 { 12 } else { f.hours % 12 }, 2),
        "HH24" => number(f.hours, 2),
        "MI" => number(f.minutes, 2),
        "SS" => number(f.seconds, 2),
        "MS" => printf(f.micros / 1000, 3),
        "US" => printf(f.micros, 6),
        "FF1" | "FF2" | "FF3" | "FF4" | "FF5" | "FF6" => {
            let digits = (key.as_bytes()[2] - b'0') as u32;
            printf(f.micros / 10i64.pow(6 - digits), digits as usize)
        }
        "SSSS" | "SSSSS" => Ok(((f.hours * 3600 + f.minutes * 60 + f.seconds).to_string(), None)),
        "AM" | "PM" => Ok((cased(if f.hours % 24 >= 12 { "PM" } else { "AM" }, written), None)),
        "A.M." | "P.M." => Ok((cased(if f.hours % 24 >= 12 { "P.M." } else { "A.M." }, written), None)),
        "Y,YYY" => Ok((format!("{},{:03}", f.years / 1000, (f.years % 1000).abs()), None)),
        "YYYY" => number(f.years, 4),
        "YYY" => number(f.years % 1000, 3),
        "YY" => number(f.years % 100, 2),
        "Y" => number(f.years % 10, 1),
        "CC" => number(f.years / 100, 2),
        "MM" => number(f.months, 2),
        "DD" => printf(f.days, 2),
        "DDD" => printf(ddd, 3),
        "W" => Ok((((f.days - 1) / 7 + 1).to_string(), Some((f.days - 1) / 7 + 1))),
        "WW" => number((ddd - 1) / 7 + 1, 2),
        "Q" if f.months == 0 => Ok((String::new(), None)),
        "Q" => Ok((((f.months - 1) / 3 + 1).to_string(), None)),
        "RM" => {
            const ROMAN: [&str; 12] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];
            let name = if (1..=12).contains(&f.months) { cased(ROMAN[f.months as usize - 1], written) } else { String::new() };
            Ok((if fm { name } else { format!("{name:<4}") }, None))
        }
        other => Err(interval_refused(other)),
    }
}

/// An interval formatted by a date/time template, as PostgreSQL's `to_char(interval, text)`.
pub fn format_interval(f: &IntervalFields, pattern: &str) -> std::result::Result<String, SqlError> {
    let mut out = String::new();
    for item in parse_template(pattern) {
        match item {
            Item::Key { key, written, fm, th } => {
                let (text, n) = interval_field(f, key, &written, fm)?;
                out.push_str(&text);
                if let (Some(upper), Some(n)) = (th, n) {
                    out.push_str(&super::to_char::suffix(n, upper));
                }
            }
            Item::Lit(s, _) => out.push_str(&s),
            Item::Space => out.push(' '),
        }
    }
    Ok(out)
}

/// `to_char(interval, pattern)` over arrays.
pub fn interval_to_char(values: &ArrayRef, patterns: &ArrayRef, all_scalar: bool) -> Result<ColumnarValue> {
    let (values, patterns) = (values.as_primitive::<IntervalMonthDayNanoType>(), patterns.as_string::<i32>());
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 12);
    for i in 0..values.len() {
        if values.is_null(i) || patterns.is_null(i) {
            out.append_null();
            continue;
        }
        let v = values.value(i);
        out.append_value(format_interval(&IntervalFields::of(v.months, v.days, v.nanoseconds), patterns.value(i))?);
    }
    let array: ArrayRef = Arc::new(out.finish());
    columnar(array, all_scalar)
}

const MONTHS: [&str; 12] = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const DAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/// The fields read from text; None for those it did not give.
#[derive(Debug, Default)]
struct Read {
    year: Option<(i64, &'static str, usize)>,
    bc: bool,
    century: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    julian: Option<i64>,
    hour: Option<i64>,
    clock12: bool,
    pm: Option<bool>,
    minute: Option<i64>,
    second: Option<i64>,
    micro: Option<i64>,
    tz_hour: Option<i64>,
    tz_minute: Option<i64>,
}

/// The digits a numeric pattern takes when another pattern follows it directly.
fn width(key: &str) -> usize {
    match key {
        "YYYY" | "IYYY" => 4,
        "YYY" | "DDD" | "MS" | "IYY" | "IDDD" => 3,
        "US" => 6,
        "Y" | "I" | "D" | "Q" | "W" | "ID" => 1,
        "J" | "SSSS" | "SSSSS" | "Y,YYY" => 9,
        k if k.starts_with("FF") => (k.as_bytes()[2] - b'0') as usize,
        _ => 2,
    }
}

fn bad_value(value: &str, written: &str, detail: &str) -> SqlError {
    SqlError::new(SqlState::InvalidDatetimeFormat, format!("invalid value \"{value}\" for \"{written}\"")).with_detail(detail)
}

/// The remaining text as it is being read.
struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn skip_chars(&mut self, n: usize) {
        let at = self.rest.char_indices().nth(n).map_or(self.rest.len(), |(i, _)| i);
        self.rest = &self.rest[at..];
    }

    /// A signed number of at most `max` digits, and how many digits it had.
    fn number(&mut self, max: usize, written: &str, shown: usize) -> std::result::Result<(i64, usize), SqlError> {
        self.skip_spaces();
        let neg = self.rest.starts_with('-');
        let body = self.rest.strip_prefix(['-', '+']).unwrap_or(self.rest);
        let digits = body.bytes().take(max).take_while(u8::is_ascii_digit).count();
        let value = body[..digits].parse::<i64>().map_err(|_| {
            let shown: String = self.rest.chars().take(shown).collect();
            bad_value(&shown, written, "Value must be an integer.")
        })?;
        self.rest = &body[digits..];
        Ok((if neg { -value } else { value }, digits))
    }

    /// Which of `names` the text starts with (case-insensitively), taken.
    fn name(&mut self, names: &[&str], written: &str) -> std::result::Result<usize, SqlError> {
        self.skip_spaces();
        let found = names.iter().position(|n| self.rest.get(..n.len()).is_some_and(|p| p.eq_ignore_ascii_case(n)));
        let word = self.rest.split_whitespace().next().unwrap_or("");
        let i = found.ok_or_else(|| bad_value(word, written, "The given value did not match any of the allowed values for this field."))?;
        self.rest = &self.rest[names[i].len()..];
        Ok(i)
    }
}

/// Reads one pattern's value into `r`.
fn read_key(c: &mut Cursor, r: &mut Read, key: &'static str, written: &str, fixed: bool) -> std::result::Result<(), SqlError> {
    let w = width(key);
    let max = if fixed { w } else { 9 };
    let abbrevs: Vec<String> = MONTHS.iter().map(|m| m[..3].to_string()).collect();
    let day_abbrevs: Vec<String> = DAYS.iter().map(|d| d[..3].to_string()).collect();
    match key {
        "MONTH" => r.month = Some(c.name(&MONTHS, written)? as i64 + 1),
        "MON" => r.month = Some(c.name(&abbrevs.iter().map(String::as_str).collect::<Vec<_>>(), written)? as i64 + 1),
        "DAY" => _ = c.name(&DAYS, written)?,
        "DY" => _ = c.name(&day_abbrevs.iter().map(String::as_str).collect::<Vec<_>>(), written)?,
        "AM" | "PM" | "A.M." | "P.M." => {
            let names = if key.len() == 2 { ["am", "pm"] } else { ["a.m.", "p.m."] };
            r.pm = Some(c.name(&names, written)? == 1);
            r.clock12 = true;
        }
        "AD" | "BC" | "A.D." | "B.C." => {
            let names = if key.len() == 2 { ["ad", "bc"] } else { ["a.d.", "b.c."] };
            r.bc = c.name(&names, written)? == 1;
        }
        "TZ" | "OF" => return Err(SqlError::unsupported(format!("\"{written}\" is not supported as input by weir"))),
        _ => read_number(c, r, key, written, max, w)?,
    }
    Ok(())
}

fn read_number(c: &mut Cursor, r: &mut Read, key: &'static str, written: &str, max: usize, w: usize) -> std::result::Result<(), SqlError> {
    if key == "Y,YYY" {
        let (thousands, _) = c.number(9, written, 5)?;
        c.rest = c.rest.strip_prefix(',').unwrap_or(c.rest);
        let (rest, _) = c.number(3, written, 5)?;
        r.year = Some((thousands * 1000 + rest, "YYYY", 4));
        return Ok(());
    }
    let (n, digits) = c.number(max, written, w)?;
    let scaled = |full: u32| n * 10i64.pow(full.saturating_sub(digits as u32));
    match key {
        "YYYY" | "YYY" | "YY" | "Y" => r.year = Some((n, key, digits)),
        "CC" => r.century = Some(n),
        "MM" => r.month = Some(n),
        "DD" => r.day = Some(n),
        "DDD" => r.day_of_year = Some(n),
        "J" => r.julian = Some(n),
        "HH" | "HH12" => (r.hour, r.clock12) = (Some(n), true),
        "HH24" => r.hour = Some(n),
        "MI" => r.minute = Some(n),
        "SS" => r.second = Some(n),
        "MS" => r.micro = Some(scaled(3) * 1000),
        "US" => r.micro = Some(scaled(6)),
        k if k.starts_with("FF") => r.micro = Some(scaled(w as u32) * 10i64.pow(6 - w as u32)),
        "TZH" => r.tz_hour = Some(n),
        "TZM" => r.tz_minute = Some(n),
        "SSSS" | "SSSSS" => (r.hour, r.minute, r.second) = (Some(n / 3600), Some(n / 60 % 60), Some(n % 60)),
        _ => return Err(SqlError::unsupported(format!("\"{written}\" is not supported as input by weir"))),
    }
    Ok(())
}

/// The fields `text` gives by the template `pattern`.
fn read(text: &str, pattern: &str) -> std::result::Result<Read, SqlError> {
    let items = parse_template(pattern);
    let mut c = Cursor { rest: text };
    let mut r = Read::default();
    for (i, item) in items.iter().enumerate() {
        if c.rest.is_empty() {
            break;
        }
        match item {
            Item::Space => {
                // A space also matches one separator where the text has no space.
                let before = c.rest.len();
                c.skip_spaces();
                if c.rest.len() == before && c.rest.starts_with(|ch: char| !ch.is_alphanumeric()) {
                    c.skip_chars(1);
                }
            }
            Item::Lit(s, true) => c.skip_chars(s.chars().count()),
            Item::Lit(s, false) if s.chars().all(|ch| !ch.is_alphanumeric()) => {
                c.skip_spaces();
                if c.rest.starts_with(|ch: char| !ch.is_alphanumeric()) {
                    c.skip_chars(1);
                }
            }
            Item::Lit(_, false) => c.skip_chars(1),
            Item::Key { key, written, .. } => {
                let fixed = matches!(items.get(i + 1), Some(Item::Key { .. }));
                read_key(&mut c, &mut r, key, written, fixed)?;
            }
        }
    }
    Ok(r)
}

/// The year the fields name (0 is 1 BC), with two- and three-digit years
/// in the nearest century as PostgreSQL places them.
fn year_of(r: &Read) -> i64 {
    let year = match r.year {
        Some((n, "YY", 2)) => n + if n < 70 { 2000 } else { 1900 },
        Some((n, "YYY", 3)) => n + if n < 100 { 2000 } else { 1000 },
        Some((n, "Y", 1)) => n + 2000,
        Some((n, _, _)) => n,
        None => r.century.map_or(0, |cc| (cc - 1) * 100 + 1),
    };
    if r.bc { 1 - year } else { year }
}

/// The day (days from 1970-01-01) the fields name, None if out of range.
fn day_of(r: &Read) -> Option<i64> {
    if let Some(j) = r.julian {
        return Some(j - super::datetime::UNIX_JULIAN_DAY);
    }
    let year = year_of(r);
    if r.month.is_none()
        && r.day.is_none()
        && let Some(doy) = r.day_of_year
    {
        let days_in_year = (1..=12).map(|m| days_in_month(year, m)).sum::<i64>();
        return (1..=days_in_year).contains(&doy).then(|| days_from_civil(year, 1, 1) + doy - 1);
    }
    let (month, day) = (r.month.unwrap_or(1), r.day.unwrap_or(1));
    ((1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day)).then(|| days_from_civil(year, month, day))
}

/// Microseconds since midnight the fields name, None if out of range.
fn time_of(r: &Read) -> std::result::Result<Option<i64>, SqlError> {
    let mut hour = r.hour.unwrap_or(0);
    if r.clock12 && r.hour.is_some() {
        if !(1..=12).contains(&hour) {
            return Err(SqlError::new(SqlState::InvalidDatetimeFormat, format!("hour \"{hour}\" is invalid for the 12-hour clock"))
                .with_hint("Use the 24-hour clock, or give an hour between 1 and 12."));
        }
        hour = match (r.pm.unwrap_or(false), hour) {
            (true, h) if h < 12 => h + 12,
            (false, 12) => 0,
            (_, h) => h,
        };
    }
    let (minute, second, micro) = (r.minute.unwrap_or(0), r.second.unwrap_or(0), r.micro.unwrap_or(0));
    let ok = (0..24).contains(&hour) && (0..60).contains(&minute) && (0..60).contains(&second) && (0..1_000_000).contains(&micro);
    Ok(ok.then(|| ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro))
}

fn out_of_range(text: &str) -> SqlError {
    SqlError::new(SqlState::DatetimeFieldOverflow, format!("date/time field value out of range: \"{text}\""))
}

/// Latest day Arrow's microsecond timestamps (and chrono) can hold, roughly.
const MAX_DAYS: i64 = 100_000_000;

/// The date `text` names by `pattern`, in days from 1970-01-01, as `to_date`.
pub fn parse_date(text: &str, pattern: &str) -> std::result::Result<i64, SqlError> {
    let r = read(text, pattern)?;
    day_of(&r).filter(|d| d.abs() < MAX_DAYS).ok_or_else(|| out_of_range(text))
}

/// The wall-clock time `text` names (microseconds from 1970-01-01) and
/// the offset it gives (seconds east of UTC), as `to_timestamp` reads them.
pub fn parse_timestamp(text: &str, pattern: &str) -> std::result::Result<(i64, Option<i64>), SqlError> {
    let r = read(text, pattern)?;
    let day = day_of(&r).filter(|d| d.abs() < MAX_DAYS).ok_or_else(|| out_of_range(text))?;
    let time = time_of(&r)?.ok_or_else(|| out_of_range(text))?;
    let offset = (r.tz_hour.is_some() || r.tz_minute.is_some()).then(|| {
        let h = r.tz_hour.unwrap_or(0);
        let m = r.tz_minute.unwrap_or(0);
        h * 3600 + if h < 0 { -m } else { m } * 60
    });
    Ok((day * DAY_US + time, offset))
}

/// Seconds since the Unix epoch as a timestamptz's microseconds, as PostgreSQL's `to_timestamp(float8)`.
pub fn epoch_micros(seconds: f64) -> std::result::Result<i64, SqlError> {
    if seconds.is_nan() {
        return Err(SqlError::new(SqlState::DatetimeFieldOverflow, "timestamp cannot be NaN"));
    }
    let micros = (seconds * 1e6).round();
    if !micros.is_finite() || micros.abs() > (MAX_DAYS * DAY_US) as f64 {
        return Err(SqlError::new(SqlState::DatetimeFieldOverflow, "timestamp out of range"));
    }
    Ok(micros as i64)
}

/// `to_timestamp(text, pattern)` (or of epoch seconds) and `to_date(text, pattern)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromChar {
    date: bool,
    signature: Signature,
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null)
}

impl ScalarUDFImpl for FromChar {
    fn name(&self) -> &str {
        if self.date { "to_date" } else { "to_timestamp" }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [a, b] if is_text(a) && is_text(b) => Ok(vec![DataType::Utf8, DataType::Utf8]),
            [a] if !self.date && (a.is_numeric() || is_text(a)) => Ok(vec![DataType::Float64]),
            other => plan_err!("function {}({other:?}) does not exist", self.name()),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.date { DataType::Date32 } else { DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())) })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let array: ArrayRef = match (self.date, arrays.as_slice()) {
            (_, [seconds]) => Arc::new(epoch_array(seconds)?),
            (true, [texts, patterns]) => Arc::new(date_array(texts, patterns)?),
            (false, [texts, patterns]) => {
                let zone = session_zone(&args);
                let (texts, patterns) = (texts.as_string::<i32>(), patterns.as_string::<i32>());
                let mut out = TimestampMicrosecondBuilder::with_capacity(texts.len());
                for i in 0..texts.len() {
                    if texts.is_null(i) || patterns.is_null(i) {
                        out.append_null();
                        continue;
                    }
                    let (local, offset) = parse_timestamp(texts.value(i), patterns.value(i))?;
                    let utc = match offset {
                        Some(secs) => secs.checked_mul(1_000_000).and_then(|o| local.checked_sub(o)),
                        None => Some(from_local(&zone, local)),
                    };
                    out.append_value(utc.ok_or_else(|| SqlError::new(SqlState::DatetimeFieldOverflow, "timestamp out of range"))?);
                }
                Arc::new(out.finish().with_timezone("+00:00"))
            }
            _ => return plan_err!("{} takes a text and a pattern", self.name()),
        };
        columnar(array, all_scalar)
    }
}

fn epoch_array(seconds: &ArrayRef) -> Result<datafusion::arrow::array::TimestampMicrosecondArray> {
    let seconds = seconds.as_primitive::<Float64Type>();
    let mut out = TimestampMicrosecondBuilder::with_capacity(seconds.len());
    for v in seconds.iter() {
        out.append_option(v.map(epoch_micros).transpose()?);
    }
    Ok(out.finish().with_timezone("+00:00"))
}

fn date_array(texts: &ArrayRef, patterns: &ArrayRef) -> Result<datafusion::arrow::array::Date32Array> {
    let (texts, patterns) = (texts.as_string::<i32>(), patterns.as_string::<i32>());
    let mut out = Date32Builder::with_capacity(texts.len());
    for i in 0..texts.len() {
        if texts.is_null(i) || patterns.is_null(i) {
            out.append_null();
            continue;
        }
        out.append_value(parse_date(texts.value(i), patterns.value(i))? as i32);
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str, pattern: &str) -> String {
        let (local, offset) = parse_timestamp(text, pattern).unwrap();
        let t = chrono::DateTime::from_timestamp_micros(local - offset.unwrap_or(0) * 1_000_000).unwrap();
        t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }

    fn date(text: &str, pattern: &str) -> String {
        let d = parse_date(text, pattern).unwrap();
        (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(d)).to_string()
    }

    /// Expected values are PostgreSQL 15's (session time zone UTC).
    #[test]
    fn reads_timestamps_like_postgres() {
        assert_eq!(ts("2024-03-10 14:05:09", "YYYY-MM-DD HH24:MI:SS"), "2024-03-10 14:05:09");
        assert_eq!(ts("10 Mar 2024", "DD Mon YYYY"), "2024-03-10 00:00:00");
        assert_eq!(ts("2024-03-10 02:05 PM", "YYYY-MM-DD HH12:MI AM"), "2024-03-10 14:05:00");
        assert_eq!(ts("20240310", "YYYYMMDD"), "2024-03-10 00:00:00");
        assert_eq!(ts("2024-03-10 14:05:09.123456", "YYYY-MM-DD HH24:MI:SS.US"), "2024-03-10 14:05:09.123456");
        assert_eq!(ts("2024-03-10 14:05:09.12", "YYYY-MM-DD HH24:MI:SS.MS"), "2024-03-10 14:05:09.120");
        assert_eq!(ts("2024-03-10 14:05:09.5", "YYYY-MM-DD HH24:MI:SS.FF3"), "2024-03-10 14:05:09.500");
        assert_eq!(ts("2024-03-10 14:05:09 +05:30", "YYYY-MM-DD HH24:MI:SS TZH:TZM"), "2024-03-10 08:35:09");
        assert_eq!(ts("2024-03-10 14:05:09 -08", "YYYY-MM-DD HH24:MI:SS TZH"), "2024-03-10 22:05:09");
        assert_eq!(ts("2024 +5", "YYYY TZH"), "2023-12-31 19:00:00");
        assert_eq!(ts("March 10, 2024", "Month DD, YYYY"), "2024-03-10 00:00:00");
        assert_eq!(ts("Sunday March 10 2024", "Day Month DD YYYY"), "2024-03-10 00:00:00");
        assert_eq!(ts("Sun 10 mar 24", "Dy DD mon YY"), "2024-03-10 00:00:00");
        assert_eq!(ts("2460380", "J"), "2024-03-10 00:00:00");
        assert_eq!(ts("12", "HH"), "0000-01-01 00:00:00");
        assert_eq!(ts("2024-03-10 12 PM", "YYYY-MM-DD HH AM"), "2024-03-10 12:00:00");
        assert_eq!(ts("2024-03-10 12 p.m.", "YYYY-MM-DD HH a.m."), "2024-03-10 12:00:00");
        assert_eq!(ts("2024-03-10 5:7:9", "YYYY-MM-DD HH24:MI:SS"), "2024-03-10 05:07:09");
        assert_eq!(ts("2024-03-10T14:05", "YYYY-MM-DD\"T\"HH24:MI"), "2024-03-10 14:05:00");
    }

    #[test]
    fn reads_dates_like_postgres() {
        assert_eq!(date("2024-03-10", "YYYY-MM-DD"), "2024-03-10");
        assert_eq!(date("10/03/2024", "DD/MM/YYYY"), "2024-03-10");
        assert_eq!(date("2024 069", "YYYY DDD"), "2024-03-09");
        assert_eq!(date("2024 366", "YYYY DDD"), "2024-12-31");
        assert_eq!(date("24-3-5", "YY-MM-DD"), "2024-03-05");
        assert_eq!(date("70-1-1", "YY-MM-DD"), "1970-01-01");
        assert_eq!(date("69-1-1", "YY-MM-DD"), "2069-01-01");
        assert_eq!(date("99-1-1", "YY-MM-DD"), "1999-01-01");
        assert_eq!(date("024-1-1", "YYY-MM-DD"), "2024-01-01");
        assert_eq!(date("4-1-1", "Y-MM-DD"), "2004-01-01");
        assert_eq!(date("1 2", "Y MM"), "2001-02-01");
        assert_eq!(date("2024  03   10", "YYYY MM DD"), "2024-03-10");
        assert_eq!(date("2024/03/10", "YYYY-MM-DD"), "2024-03-10");
        assert_eq!(date("2024-03-10", "YYYY MM DD"), "2024-03-10");
        assert_eq!(date("2024 03 10", "YYYY-MM-DD"), "2024-03-10");
        assert_eq!(date("2024x03x10", "YYYY\"x\"MM\"x\"DD"), "2024-03-10");
        assert_eq!(date("2024-03-10 extra", "YYYY-MM-DD"), "2024-03-10");
        assert_eq!(date("2024-03", "YYYY-MM-DD"), "2024-03-01");
        assert_eq!(date("2024 February 3", "YYYY Month DD"), "2024-02-03");
        assert_eq!(date("Mon 2024-03-10", "Dy YYYY-MM-DD"), "2024-03-10");
        assert_eq!(date("10 2024", "DDD YYYY"), "2024-01-10");
        assert_eq!(date("21", "CC"), "2001-01-01");
        assert_eq!(date("123-01-01", "YYYY-MM-DD"), "0123-01-01");
        // PostgreSQL's 12345-01-01; chrono writes years past 9999 with a `+`.
        assert_eq!(date("12345-01-01", "YYYY-MM-DD"), "+12345-01-01");
        assert_eq!(date(" 2024-03-10", "YYYY-MM-DD"), "2024-03-10");
        // 0000 and no year at all are 1 BC, which chrono calls year 0.
        assert_eq!(date("0000-01-01", "YYYY-MM-DD"), "0000-01-01");
        assert_eq!(date("", "YYYY"), "0000-01-01");
        assert_eq!(date("2024-03-10 BC", "YYYY-MM-DD BC"), "-2023-03-10");
    }

    fn err(r: std::result::Result<impl std::fmt::Debug, SqlError>) -> (String, String) {
        let e = r.unwrap_err();
        (e.state.code().to_string(), e.message)
    }

    #[test]
    fn refuses_like_postgres() {
        assert_eq!(err(parse_timestamp("abc", "YYYY")), ("22007".into(), "invalid value \"abc\" for \"YYYY\"".into()));
        assert_eq!(err(parse_timestamp("abc def", "YYYY")), ("22007".into(), "invalid value \"abc \" for \"YYYY\"".into()));
        assert_eq!(err(parse_date("2024x03-10", "YYYY-MM-DD")), ("22007".into(), "invalid value \"x0\" for \"MM\"".into()));
        assert_eq!(err(parse_date("2024-13-01", "YYYY-MM-DD")), ("22008".into(), "date/time field value out of range: \"2024-13-01\"".into()));
        assert_eq!(err(parse_date("2024-02-30", "YYYY-MM-DD")).0, "22008");
        assert_eq!(err(parse_date("2024--03", "YYYY-MM")).0, "22008");
        assert_eq!(err(parse_date("2024-3-10", "YYYYMMDD")).0, "22008");
        assert_eq!(err(parse_date("2023 366", "YYYY DDD")).0, "22008");
        assert_eq!(err(parse_timestamp("2024-03-10 25:00", "YYYY-MM-DD HH24:MI")).0, "22008");
        assert_eq!(err(parse_timestamp("2024-03-10 24:00", "YYYY-MM-DD HH24:MI")).0, "22008");
        assert_eq!(err(parse_timestamp("2024-03-10 14:05:61", "YYYY-MM-DD HH24:MI:SS")).0, "22008");
        assert_eq!(
            err(parse_timestamp("2024-03-10 13:00 PM", "YYYY-MM-DD HH12:MI PM")),
            ("22007".into(), "hour \"13\" is invalid for the 12-hour clock".into())
        );
        assert_eq!(err(parse_timestamp("2024-03-10 00 AM", "YYYY-MM-DD HH AM")).1, "hour \"0\" is invalid for the 12-hour clock");
        assert_eq!(err(parse_timestamp("2024-03-10 14", "YYYY-MM-DD HH")).1, "hour \"14\" is invalid for the 12-hour clock");
        assert_eq!(err(parse_date("2024-Foo-10", "YYYY-Mon-DD")), ("22007".into(), "invalid value \"Foo-10\" for \"Mon\"".into()));
        assert_eq!(err(parse_date("2024 feb 3", "YYYY Month DD")).1, "invalid value \"feb\" for \"Month\"");
        assert_eq!(err(parse_date("MARCH 2024", "Mon YYYY")).1, "invalid value \"CH 2\" for \"YYYY\"");
        assert_eq!(err(epoch_micros(f64::NAN)), ("22008".into(), "timestamp cannot be NaN".into()));
    }

    #[test]
    fn epoch_seconds_like_postgres() {
        assert_eq!(epoch_micros(1_700_000_000.0).unwrap(), 1_700_000_000_000_000);
        assert_eq!(epoch_micros(1_710_072_000.5).unwrap(), 1_710_072_000_500_000);
        assert_eq!(epoch_micros(-1.0).unwrap(), -1_000_000);
    }

    fn iv(months: i32, days: i32, nanos: i64, pattern: &str) -> std::result::Result<String, SqlError> {
        format_interval(&IntervalFields::of(months, days, nanos), pattern)
    }

    const H: i64 = 3_600_000_000_000;
    const M: i64 = 60_000_000_000;
    const S: i64 = 1_000_000_000;

    #[test]
    fn formats_intervals_like_postgres() {
        assert_eq!(iv(0, 1, 2 * H + 3 * M + 4 * S, "HH24:MI:SS").unwrap(), "02:03:04");
        assert_eq!(iv(0, 0, 26 * H, "HH24 DD").unwrap(), "26 00");
        assert_eq!(iv(14, 3, 4 * H + 5 * M + 6 * S + 789_000_000, "YYYY MM DD HH24 MI SS MS US").unwrap(), "0001 02 03 04 05 06 789 789000");
        assert_eq!(iv(0, 0, 15 * H, "HH HH12 AM PM").unwrap(), "03 03 PM PM");
        assert_eq!(iv(0, 0, 0, "HH HH12").unwrap(), "12 12");
        assert_eq!(iv(0, -1, -(2 * H + 3 * M + 4 * S), "DD HH24:MI:SS").unwrap(), "-1 -02:-03:-04");
        assert_eq!(iv(0, 0, 100 * H, "FMHH24 DDD SSSS").unwrap(), "100 000 360000");
        assert_eq!(iv(36, 0, 0, "Y YY YYY CC").unwrap(), "3 03 003 00");
        assert_eq!(iv(0, 1, 2 * H + 3 * M + 4 * S + 500_000_000, "FMDD \"days\" FMHH24:MI:SS.FF1").unwrap(), "1 days 2:03:04.5");
        assert_eq!(iv(-3, 0, 0, "MM FMMM YYYY").unwrap(), "-03 -3 0000");
        let long = (38, 40, 27 * H + 4 * M + 5 * S + 6_000_000);
        let f = |p: &str| iv(long.0, long.1, long.2, p).unwrap();
        assert_eq!(
            [f("DDD"), f("W"), f("WW"), f("Q"), f("RM"), f("SSSS"), f("AM"), f("a.m."), f("HH24th"), f("DDth"), f("Y,YYY")],
            ["1180", "6", "169", "1", "II  ", "97445", "AM", "a.m.", "27th", "40th", "0,003"]
        );
        let neg = iv(-27, -40, -(27 * H + 4 * M + 5 * S + 6_000_000), "YYYY MM DD DDD HH HH12 HH24 MI SS MS US SSSS CC AM").unwrap();
        assert_eq!(neg, "-0002 -03 -40 -850 -03 -03 -27 -04 -05 -06 -06000 -97445 00 AM");
        assert_eq!(iv(0, 5, H, "SSSS DDD").unwrap(), "3600 005");
        assert_eq!(iv(13, 0, 0, "YYYY MM").unwrap(), "0001 01");
        for p in ["Mon", "Month", "Day", "Dy", "D", "BC", "TZ", "OF"] {
            assert_eq!(iv(1, 0, 0, p).unwrap_err().state.code(), "22007", "{p}");
        }
    }
}

/// The functions planned and run by DataFusion, with weir's registered over its own.
#[cfg(test)]
mod planned {
    /// The one value `sql` gives, as Arrow writes it, and its type.
    fn one(sql: &str, zone: &str) -> Result<String, String> {
        super::super::run_one(sql, zone).map(|(value, t)| format!("{value}|{t}"))
    }

    /// Expected values are PostgreSQL 15's, as Arrow writes them.
    #[test]
    fn replaces_datafusions_functions() {
        let utc = "+00:00";
        for (sql, want) in [
            ("SELECT to_char(CAST(1234.5 AS DECIMAL(10, 2)), '9G999D00')", " 1,234.50|Utf8"),
            ("SELECT to_char(CAST(-12 AS INT), '999PR')", " <12>|Utf8"),
            ("SELECT to_char(CAST(1.5 AS DOUBLE), '9.999')", " 1.500|Utf8"),
            ("SELECT to_char(interval '1 day 2 hours 3 minutes 4 seconds', 'HH24:MI:SS')", "02:03:04|Utf8"),
            ("SELECT to_number('1,234.50', '9G999D99')", "1234.50|Decimal128(38, 2)"),
            ("SELECT to_timestamp('2024-03-10 14:05:09', 'YYYY-MM-DD HH24:MI:SS')", "2024-03-10T14:05:09Z|Timestamp(µs, \"+00:00\")"),
            ("SELECT to_timestamp(1700000000)", "2023-11-14T22:13:20Z|Timestamp(µs, \"+00:00\")"),
            ("SELECT to_date('2024 069', 'YYYY DDD')", "2024-03-09|Date32"),
        ] {
            assert_eq!(one(sql, utc).as_deref(), Ok(want), "{sql}");
        }
        // In New York, text is read in the session's zone; a gap and an overlap as PostgreSQL resolves them.
        let ny = "America/New_York";
        for (sql, want) in [
            ("SELECT to_timestamp('2024-03-10 14:05', 'YYYY-MM-DD HH24:MI')", "2024-03-10T18:05:00Z"),
            ("SELECT to_timestamp('2024-03-10 02:30', 'YYYY-MM-DD HH24:MI')", "2024-03-10T07:30:00Z"),
            ("SELECT to_timestamp('2024-11-03 01:30', 'YYYY-MM-DD HH24:MI')", "2024-11-03T06:30:00Z"),
            ("SELECT to_timestamp('2024-03-10 14:05 +02', 'YYYY-MM-DD HH24:MI TZH')", "2024-03-10T12:05:00Z"),
        ] {
            assert_eq!(one(sql, ny).map(|v| v.split('|').next().unwrap_or("").to_string()).as_deref(), Ok(want), "{sql}");
        }
        let got = one("SELECT to_date('2024-13-01', 'YYYY-MM-DD')", utc).unwrap_err();
        assert!(got.starts_with("date/time field value out of range: \"2024-13-01\" (22008)"), "{got}");
        let got = one("SELECT to_number('abc', '999')", utc).unwrap_err();
        assert!(got.starts_with("invalid input syntax for type numeric: \" \" (22P02)"), "{got}");
    }
}
