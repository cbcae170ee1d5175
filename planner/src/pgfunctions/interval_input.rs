//! PostgreSQL's `interval` input syntax, read into (months, days, microseconds).
//!
//! DataFusion (arrow) only understands a subset of PostgreSQL's interval
//! literals. This module follows PostgreSQL 15's `interval_in` (the
//! `ParseDateTime` / `DecodeInterval` / `DecodeISO8601Interval` rules and
//! `AdjustIntervalForTypmod` for field qualifiers) with the default
//! `IntervalStyle = postgres`, and can write the result back as text that
//! arrow's interval parser reads to the same value ([`canonical`]).

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;

/// PostgreSQL reads at most this many fields (MAXDATEFIELDS).
const MAX_FIELDS: usize = 25;

/// Field-qualifier bits (PostgreSQL's INTERVAL_MASK); 0 means no qualifier.
const YEAR: u8 = 1;
const MONTH: u8 = 2;
const DAY: u8 = 4;
const HOUR: u8 = 8;
const MINUTE: u8 = 16;
const SECOND: u8 = 32;
const QUALIFIER_NAMES: [&str; 6] = ["year", "month", "day", "hour", "minute", "second"];

/// Why decoding failed (PostgreSQL's DTERR_BAD_FORMAT / DTERR_FIELD_OVERFLOW).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fail {
    Syntax,
    FieldRange,
}

type Step<T = ()> = Result<T, Fail>;

/// PostgreSQL's interval input read into (months, days, microseconds).
pub fn parse(text: &str) -> Result<(i32, i32, i64), String> {
    parse_range(text, 0)
}

/// The same, with SQL's field qualifier (`INTERVAL '1 day 02:03:04.5' HOUR TO MINUTE`,
/// `INTERVAL '5' MINUTE`): `leading`/`last` are lower-case field names
/// "year","month","day","hour","minute","second" or None.
pub fn parse_qualified(text: &str, leading: Option<&str>, last: Option<&str>) -> Result<(i32, i32, i64), String> {
    parse_range(text, qualifier_range(leading, last)?)
}

/// A text DataFusion/arrow parses to exactly this interval, e.g.
/// "14 months 3 days 14706000000 microseconds".
///
/// Arrow keeps nanoseconds in an i64, so a time part beyond about ±106 days
/// (|micros| > 9_223_372_036_854_775) has no arrow value; such text is
/// rejected by arrow with an overflow error rather than silently changed.
pub fn canonical(months: i32, days: i32, micros: i64) -> String {
    format!("{months} months {days} days {micros} microseconds")
}

fn parse_range(text: &str, range: u8) -> Result<(i32, i32, i64), String> {
    let decoded = tokenize(text).and_then(|fields| decode(&fields, range));
    let fields = match decoded {
        Err(Fail::Syntax) => iso8601(text),
        other => other,
    };
    let interval = fields.map_err(|fail| message(fail, text))?.finish()?;
    Ok(truncate(interval, range))
}

fn message(fail: Fail, text: &str) -> String {
    match fail {
        Fail::Syntax => format!("invalid input syntax for type interval: \"{text}\""),
        Fail::FieldRange => format!("interval field value out of range: \"{text}\""),
    }
}

/// The qualifier as PostgreSQL's range bits; only SQL's valid qualifiers.
fn qualifier_range(leading: Option<&str>, last: Option<&str>) -> Result<u8, String> {
    let index = |name: &str| QUALIFIER_NAMES.iter().position(|n| *n == name).ok_or_else(|| format!("invalid interval field: \"{name}\""));
    match (leading, last) {
        (None, None) => Ok(0),
        (Some(one), None) => Ok(1 << index(one)?),
        (Some(from), Some(to)) => {
            let (from, to) = (index(from)?, index(to)?);
            let valid = from < to && (from >= 2 || to == 1);
            if !valid {
                return Err(format!("invalid interval qualifier: {} TO {}", QUALIFIER_NAMES[from], QUALIFIER_NAMES[to]));
            }
            Ok((from..=to).fold(0, |bits, i| bits | 1 << i))
        }
        (None, Some(to)) => Err(format!("invalid interval qualifier: TO {to}")),
    }
}

/// Drop the fields a qualifier excludes (PostgreSQL's AdjustIntervalForTypmod).
fn truncate((months, days, micros): (i32, i32, i64), range: u8) -> (i32, i32, i64) {
    let to = |unit: i64| micros / unit * unit;
    match range {
        0 => (months, days, micros),
        YEAR => (months / 12 * 12, 0, 0),
        r if r & (DAY | HOUR | MINUTE | SECOND) == 0 => (months, 0, 0),
        DAY => (months, days, 0),
        r if r & SECOND != 0 => (months, days, micros),
        r if r & MINUTE != 0 => (months, days, to(USECS_PER_MINUTE)),
        _ => (months, days, to(USECS_PER_HOUR)),
    }
}

/// The unit of a bare number: the qualifier's last field, else seconds.
fn default_unit(range: u8) -> Unit {
    let units = [(SECOND, Unit::Second), (MINUTE, Unit::Minute), (HOUR, Unit::Hour), (DAY, Unit::Day), (MONTH, Unit::Month), (YEAR, Unit::Year)];
    units.iter().find(|(bit, _)| range & bit != 0).map_or(Unit::Second, |(_, unit)| *unit)
}

/// Decoded fields before they become an interval (PostgreSQL's pg_itm_in).
#[derive(Debug, Default)]
struct Fields {
    years: i32,
    months: i32,
    days: i32,
    micros: i64,
}

impl Fields {
    fn finish(self) -> Result<(i32, i32, i64), String> {
        let months = i64::from(self.years) * 12 + i64::from(self.months);
        let months = i32::try_from(months).map_err(|_| "interval out of range".to_string())?;
        Ok((months, self.days, self.micros))
    }

    fn add_micros(&mut self, val: i64, frac: f64, scale: i64) -> Step {
        let whole = val.checked_mul(scale).ok_or(Fail::FieldRange)?;
        self.micros = self.micros.checked_add(whole).ok_or(Fail::FieldRange)?;
        self.add_fract_micros(frac, scale)
    }

    /// A fraction of `scale` microseconds, rounded to whole microseconds.
    fn add_fract_micros(&mut self, frac: f64, scale: i64) -> Step {
        if frac == 0.0 {
            return Ok(());
        }
        let frac = frac * scale as f64;
        let whole = frac as i64;
        let usec = whole + (frac - whole as f64).round_ties_even() as i64;
        self.micros = self.micros.checked_add(usec).ok_or(Fail::FieldRange)?;
        Ok(())
    }

    fn add_days(&mut self, val: i64, scale: i32) -> Step {
        let days = i32::try_from(val).ok().and_then(|v| v.checked_mul(scale));
        let total = days.and_then(|d| self.days.checked_add(d));
        self.days = total.ok_or(Fail::FieldRange)?;
        Ok(())
    }

    /// A fraction of `scale` days: whole days, the rest as microseconds.
    fn add_fract_days(&mut self, frac: f64, scale: i32) -> Step {
        if frac == 0.0 {
            return Ok(());
        }
        let frac = frac * f64::from(scale);
        let extra = frac as i32;
        self.days = self.days.checked_add(extra).ok_or(Fail::FieldRange)?;
        self.add_fract_micros(frac - f64::from(extra), USECS_PER_DAY)
    }

    fn add_months(&mut self, val: i64, frac: f64) -> Step {
        let total = i32::try_from(val).ok().and_then(|v| self.months.checked_add(v));
        self.months = total.ok_or(Fail::FieldRange)?;
        self.add_fract_days(frac, 30)
    }

    /// Whole years, and a fraction of them rounded to months.
    fn add_years(&mut self, val: i64, frac: f64, scale: i32) -> Step {
        let years = i32::try_from(val).ok().and_then(|v| v.checked_mul(scale));
        let total = years.and_then(|y| self.years.checked_add(y));
        self.years = total.ok_or(Fail::FieldRange)?;
        let extra = (frac * f64::from(scale) * 12.0).round_ties_even() as i32;
        self.months = self.months.checked_add(extra).ok_or(Fail::FieldRange)?;
        Ok(())
    }

    fn negate(&mut self) -> Step {
        let neg = |v: i32| v.checked_neg().ok_or(Fail::FieldRange);
        self.years = neg(self.years)?;
        self.months = neg(self.months)?;
        self.days = neg(self.days)?;
        self.micros = self.micros.checked_neg().ok_or(Fail::FieldRange)?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Micro,
    Milli,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
    Century,
    Millennium,
}

impl Unit {
    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// Fields a time like `02:03:04` sets (PostgreSQL's DTK_TIME_M).
const TIME_BITS: u16 = 0b11111;
/// Fields seconds with a fraction set (PostgreSQL's DTK_ALL_SECS_M).
const ALL_SECONDS_BITS: u16 = 0b111;

/// A word in an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Word {
    Unit(Unit),
    Ago,
    /// Known to PostgreSQL but no interval unit (`quarter`, `timezone`).
    Unusable,
}

/// PostgreSQL's unit words; only the first 10 letters count.
fn lookup(word: &str) -> Option<Word> {
    use Unit::*;
    let key = word.get(..10).unwrap_or(word);
    let unit = match key {
        "ago" => return Some(Word::Ago),
        "qtr" | "quarter" | "timezone" => return Some(Word::Unusable),
        "us" | "usec" | "usecs" | "usecond" | "useconds" | "microsecon" => Micro,
        "ms" | "msec" | "msecs" | "msecond" | "mseconds" | "millisecon" => Milli,
        "s" | "sec" | "secs" | "second" | "seconds" => Second,
        "m" | "min" | "mins" | "minute" | "minutes" => Minute,
        "h" | "hr" | "hrs" | "hour" | "hours" => Hour,
        "d" | "day" | "days" => Day,
        "w" | "week" | "weeks" => Week,
        "mon" | "mons" | "month" | "months" => Month,
        "y" | "yr" | "yrs" | "year" | "years" => Year,
        "dec" | "decs" | "decade" | "decades" => Decade,
        "c" | "cent" | "century" | "centuries" => Century,
        "mil" | "mils" | "millennia" | "millennium" => Millennium,
        _ => return None,
    };
    Some(Word::Unit(unit))
}

/// Unit words that are also date keywords, so a digit may follow them
/// directly (`1d2h`); other words followed by a digit read as a date.
const DATE_KEYWORD_UNITS: [&str; 7] = ["d", "dec", "h", "m", "mon", "s", "y"];

/// The kinds of field PostgreSQL's ParseDateTime splits input into.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Date,
    Time,
    /// A sign and a number or time (PostgreSQL's DTK_TZ).
    Signed,
    Word,
}

/// Split the input into fields (PostgreSQL's ParseDateTime).
fn tokenize(text: &str) -> Step<Vec<(Kind, String)>> {
    let mut lexer = Lexer { bytes: text.as_bytes(), at: 0 };
    let mut fields = Vec::new();
    while let Some(c) = lexer.peek() {
        if is_space(c) || (c.is_ascii_punctuation() && !b".+-".contains(&c)) {
            lexer.at += 1;
            continue;
        }
        if fields.len() >= MAX_FIELDS {
            return Err(Fail::Syntax);
        }
        fields.push(lexer.field(c)?);
    }
    Ok(fields)
}

/// C's isspace.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn peek_is(&self, test: impl Fn(u8) -> bool) -> bool {
        self.peek().is_some_and(test)
    }

    /// Move bytes to `out` (lower-cased) while they pass `test`.
    fn take(&mut self, out: &mut String, test: impl Fn(u8) -> bool) {
        while let Some(c) = self.peek().filter(|c| test(*c)) {
            out.push(c.to_ascii_lowercase() as char);
            self.at += 1;
        }
    }

    fn take_one(&mut self, out: &mut String) {
        if let Some(c) = self.peek() {
            out.push(c.to_ascii_lowercase() as char);
            self.at += 1;
        }
    }

    fn field(&mut self, first: u8) -> Step<(Kind, String)> {
        let mut out = String::new();
        let kind = if first.is_ascii_digit() {
            self.number(&mut out)
        } else if first == b'.' {
            self.take_one(&mut out);
            self.take(&mut out, |c| c.is_ascii_digit());
            Kind::Number
        } else if first.is_ascii_alphabetic() {
            self.word(&mut out)
        } else if first == b'+' || first == b'-' {
            self.signed(&mut out)?
        } else {
            return Err(Fail::Syntax);
        };
        Ok((kind, out))
    }

    /// Digits, maybe a time (`1:2:3`) or a date-like `1-2`, `1.5`, `1/2`.
    fn number(&mut self, out: &mut String) -> Kind {
        self.take(out, |c| c.is_ascii_digit());
        match self.peek() {
            Some(b':') => {
                self.take(out, |c| c.is_ascii_digit() || c == b':' || c == b'.');
                Kind::Time
            }
            Some(delim @ (b'-' | b'/' | b'.')) => {
                self.take_one(out);
                self.after_delimiter(out, delim)
            }
            _ => Kind::Number,
        }
    }

    fn after_delimiter(&mut self, out: &mut String, delim: u8) -> Kind {
        if !self.peek_is(|c| c.is_ascii_digit()) {
            self.take(out, |c| c.is_ascii_alphanumeric() || c == delim);
            return Kind::Date;
        }
        self.take(out, |c| c.is_ascii_digit());
        if self.peek() == Some(delim) {
            self.take(out, |c| c.is_ascii_digit() || c == delim);
            return Kind::Date;
        }
        if delim == b'.' { Kind::Number } else { Kind::Date }
    }

    /// Letters; followed by a date separator or digit they read as a date.
    fn word(&mut self, out: &mut String) -> Kind {
        self.take(out, |c| c.is_ascii_alphabetic());
        let date = match self.peek() {
            Some(b'-' | b'/' | b'.') => true,
            Some(c) if c == b'+' || c.is_ascii_digit() => !DATE_KEYWORD_UNITS.contains(&out.as_str()),
            _ => false,
        };
        if !date {
            return Kind::Word;
        }
        self.take_one(out);
        self.take(out, |c| c.is_ascii_alphanumeric() || b"+-/_.:".contains(&c));
        Kind::Date
    }

    /// A sign, spaces, then digits (a number or time) or letters.
    fn signed(&mut self, out: &mut String) -> Step<Kind> {
        self.take_one(out);
        while self.peek_is(is_space) {
            self.at += 1;
        }
        if self.peek_is(|c| c.is_ascii_digit()) {
            self.take(out, |c| c.is_ascii_digit() || b":.-".contains(&c));
            Ok(Kind::Signed)
        } else if self.peek_is(|c| c.is_ascii_alphabetic()) {
            self.take(out, |c| c.is_ascii_alphabetic());
            Ok(Kind::Word)
        } else {
            Err(Fail::Syntax)
        }
    }
}

/// The unit the next number (reading right to left) is in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pending {
    /// None yet: the qualifier's last field or seconds.
    Unset,
    Unit(Unit),
    /// A word that no number may precede (`ago`, `quarter`).
    Unusable,
}

/// PostgreSQL's DecodeInterval: reads the fields right to left.
struct Decoder {
    range: u8,
    fields: Fields,
    pending: Pending,
    seen: u16,
    ago: bool,
}

fn decode(tokens: &[(Kind, String)], range: u8) -> Step<Fields> {
    let mut decoder = Decoder { range, fields: Fields::default(), pending: Pending::Unset, seen: 0, ago: false };
    for (kind, text) in tokens.iter().rev() {
        decoder.field(*kind, text)?;
    }
    if decoder.seen == 0 {
        return Err(Fail::Syntax);
    }
    if decoder.ago {
        decoder.fields.negate()?;
    }
    Ok(decoder.fields)
}

impl Decoder {
    fn field(&mut self, kind: Kind, text: &str) -> Step {
        let bits = match kind {
            Kind::Time => self.time(text)?,
            Kind::Signed if self.signed_time(text) => TIME_BITS,
            Kind::Number | Kind::Date | Kind::Signed => self.number(text)?,
            Kind::Word => self.word(text)?,
        };
        if bits & self.seen != 0 {
            return Err(Fail::Syntax);
        }
        self.seen |= bits;
        Ok(())
    }

    /// A time sets the time part outright (as PostgreSQL does).
    fn time(&mut self, text: &str) -> Step<u16> {
        self.fields.micros = time_micros(text, self.range)?;
        self.pending = Pending::Unit(Unit::Day);
        Ok(TIME_BITS)
    }

    /// `-02:03` or `+1:00:00.5`; false when it is no valid time.
    fn signed_time(&mut self, text: &str) -> bool {
        let body = &text[1..];
        if !body.contains(':') {
            return false;
        }
        let Ok(micros) = time_micros(body, self.range) else {
            return false;
        };
        self.fields.micros = if text.starts_with('-') { -micros } else { micros };
        self.pending = Pending::Unit(Unit::Day);
        true
    }

    fn word(&mut self, text: &str) -> Step<u16> {
        self.pending = match lookup(text).ok_or(Fail::Syntax)? {
            Word::Unit(unit) => Pending::Unit(unit),
            Word::Ago => {
                self.ago = true;
                Pending::Unusable
            }
            Word::Unusable => Pending::Unusable,
        };
        Ok(0)
    }

    /// A number, a decimal fraction or SQL's `years-months`.
    fn number(&mut self, text: &str) -> Step<u16> {
        if self.pending == Pending::Unset {
            self.pending = Pending::Unit(default_unit(self.range));
        }
        let (mut val, rest) = strtol(text, i64::MIN, i64::MAX)?;
        let negative = text.starts_with('-');
        let mut frac = 0.0;
        if let Some(months) = rest.strip_prefix('-') {
            let (months, rest) = strtol(months, i32::MIN.into(), i32::MAX.into())?;
            if !(0..12).contains(&months) {
                return Err(Fail::FieldRange);
            }
            if !rest.is_empty() {
                return Err(Fail::Syntax);
            }
            let months = if negative { -months } else { months };
            let total = val.checked_mul(12).and_then(|v| v.checked_add(months));
            val = total.ok_or(Fail::FieldRange)?;
            self.pending = Pending::Unit(Unit::Month);
        } else if rest.starts_with('.') {
            frac = fraction(rest)?;
            if negative {
                frac = -frac;
            }
        } else if !rest.is_empty() {
            return Err(Fail::Syntax);
        }
        match self.pending {
            Pending::Unit(unit) => self.add(unit, val, frac),
            _ => Err(Fail::Syntax),
        }
    }

    /// Add `val.frac` of `unit`; returns the fields it sets.
    fn add(&mut self, unit: Unit, val: i64, frac: f64) -> Step<u16> {
        let f = &mut self.fields;
        match unit {
            Unit::Micro => f.add_micros(val, frac, 1)?,
            Unit::Milli => f.add_micros(val, frac, 1000)?,
            Unit::Second => f.add_micros(val, frac, USECS_PER_SEC)?,
            Unit::Minute => f.add_micros(val, frac, USECS_PER_MINUTE)?,
            Unit::Hour => {
                f.add_micros(val, frac, USECS_PER_HOUR)?;
                self.pending = Pending::Unit(Unit::Day);
            }
            Unit::Day => {
                f.add_days(val, 1)?;
                f.add_fract_micros(frac, USECS_PER_DAY)?;
            }
            Unit::Week => {
                f.add_days(val, 7)?;
                f.add_fract_days(frac, 7)?;
            }
            Unit::Month => f.add_months(val, frac)?,
            Unit::Year => f.add_years(val, frac, 1)?,
            Unit::Decade => f.add_years(val, frac, 10)?,
            Unit::Century => f.add_years(val, frac, 100)?,
            Unit::Millennium => f.add_years(val, frac, 1000)?,
        }
        let fractional_seconds = unit == Unit::Second && frac != 0.0;
        Ok(if fractional_seconds { ALL_SECONDS_BITS } else { unit.bit() })
    }
}

/// C's strtol limited to `min..=max`: the value and the text after it;
/// (0, whole text) when there are no digits.
fn strtol(text: &str, min: i64, max: i64) -> Step<(i64, &str)> {
    let unsigned = text.trim_start_matches(['+', '-']);
    let sign_len = text.len() - unsigned.len();
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    if sign_len > 1 || digits == 0 {
        return Ok((0, text));
    }
    let end = sign_len + digits;
    let value: i128 = text[..end].parse().unwrap_or(i128::MAX);
    if value < i128::from(min) || value > i128::from(max) {
        return Err(Fail::FieldRange);
    }
    Ok((value as i64, &text[end..]))
}

/// A fraction `.` or `.ddd` (PostgreSQL's ParseFraction).
fn fraction(text: &str) -> Step<f64> {
    let digits = &text[1..];
    if digits.is_empty() {
        return Ok(0.0);
    }
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(Fail::Syntax);
    }
    format!("0.{digits}").parse().map_err(|_| Fail::Syntax)
}

/// A time `h:m`, `h:m:s[.f]` or `m:s.f` in microseconds (PostgreSQL's DecodeTime).
fn time_micros(text: &str, range: u8) -> Step<i64> {
    let (first, rest) = strtol(text, i64::MIN, i64::MAX)?;
    let rest = rest.strip_prefix(':').ok_or(Fail::Syntax)?;
    let (second, rest) = strtol(rest, i32::MIN.into(), i32::MAX.into())?;
    let minutes_seconds = |usec: i64| -> Step<(i64, i64, i64, i64)> {
        i32::try_from(first).map_err(|_| Fail::FieldRange)?;
        Ok((0, first, second, usec))
    };
    let (hour, min, sec, usec) = if rest.is_empty() {
        if range == MINUTE | SECOND { minutes_seconds(0)? } else { (first, second, 0, 0) }
    } else if rest.starts_with('.') {
        minutes_seconds(fraction_micros(rest)?)?
    } else if let Some(rest) = rest.strip_prefix(':') {
        let (sec, rest) = strtol(rest, i32::MIN.into(), i32::MAX.into())?;
        let usec = match rest {
            "" => 0,
            _ if rest.starts_with('.') => fraction_micros(rest)?,
            _ => return Err(Fail::Syntax),
        };
        (first, second, sec, usec)
    } else {
        return Err(Fail::Syntax);
    };
    time_total(hour, min, sec, usec)
}

fn fraction_micros(text: &str) -> Step<i64> {
    Ok((fraction(text)? * 1e6).round_ties_even() as i64)
}

fn time_total(hour: i64, min: i64, sec: i64, usec: i64) -> Step<i64> {
    let sane = hour >= 0 && (0..60).contains(&min) && (0..=60).contains(&sec);
    if !sane || !(0..=USECS_PER_SEC).contains(&usec) {
        return Err(Fail::FieldRange);
    }
    let mut fields = Fields::default();
    fields.add_micros(hour, 0.0, USECS_PER_HOUR)?;
    fields.add_micros(min, 0.0, USECS_PER_MINUTE)?;
    fields.add_micros(sec, 0.0, USECS_PER_SEC)?;
    fields.add_micros(usec, 0.0, 1)?;
    Ok(fields.micros)
}

/// ISO 8601 `P1Y2M3DT4H5M6S` and `P0001-02-03T04:05:06`
/// (PostgreSQL's DecodeISO8601Interval).
fn iso8601(text: &str) -> Step<Fields> {
    let mut rest = text.strip_prefix('P').ok_or(Fail::Syntax)?;
    if rest.is_empty() {
        return Err(Fail::Syntax);
    }
    let mut f = Fields::default();
    let mut in_date = true;
    let mut have_field = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('T') {
            (in_date, have_field, rest) = (false, false, after);
            continue;
        }
        let start = rest;
        let (val, frac, after) = iso_number(rest)?;
        let unit = after.chars().next();
        rest = unit.map_or(after, |u| &after[u.len_utf8()..]);
        let number = IsoNumber { start, val, frac };
        if !in_date {
            if iso_time_field(&mut f, &number, unit, rest, have_field)? {
                return Ok(f);
            }
        } else if let Some(next) = iso_date_field(&mut f, &number, unit, rest, have_field)? {
            match next {
                None => return Ok(f),
                Some(after_t) => (in_date, have_field, rest) = (false, false, after_t),
            }
            continue;
        }
        have_field = true;
    }
    Ok(f)
}

struct IsoNumber<'a> {
    /// The text from the number on.
    start: &'a str,
    val: i64,
    frac: f64,
}

impl IsoNumber<'_> {
    /// Digits of the integer part (PostgreSQL's ISO8601IntegerWidth).
    fn width(&self) -> usize {
        let s = self.start.strip_prefix('-').unwrap_or(self.start);
        s.bytes().take_while(u8::is_ascii_digit).count()
    }
}

/// One date-part field. Ok(None): a unit field, go on. Ok(Some(None)): the
/// input ended. Ok(Some(Some(rest))): the date part ended at a `T`.
fn iso_date_field<'a>(f: &mut Fields, n: &IsoNumber, unit: Option<char>, rest: &'a str, have_field: bool) -> Step<Option<Option<&'a str>>> {
    match unit {
        Some('Y') => f.add_years(n.val, n.frac, 1)?,
        Some('M') => f.add_months(n.val, n.frac)?,
        Some('W') => {
            f.add_days(n.val, 7)?;
            f.add_fract_days(n.frac, 7)?;
        }
        Some('D') => {
            f.add_days(n.val, 1)?;
            f.add_fract_micros(n.frac, USECS_PER_DAY)?;
        }
        Some('T') | None if n.width() == 8 && !have_field => {
            f.add_years(n.val / 10000, 0.0, 1)?;
            f.add_months(n.val / 100 % 100, 0.0)?;
            f.add_days(n.val % 100, 1)?;
            f.add_fract_micros(n.frac, USECS_PER_DAY)?;
            return Ok(Some(unit.map(|_| rest)));
        }
        Some('T' | '-') | None if !have_field => {
            return iso_alternative_date(f, n, unit, rest).map(Some);
        }
        _ => return Err(Fail::Syntax),
    }
    Ok(None)
}

/// `YYYY[-MM[-DD]]` after its year: None at the end, else the text after `T`.
fn iso_alternative_date<'a>(f: &mut Fields, year: &IsoNumber, unit: Option<char>, rest: &'a str) -> Step<Option<&'a str>> {
    f.add_years(year.val, year.frac, 1)?;
    match unit {
        None => return Ok(None),
        Some('T') => return Ok(Some(rest)),
        _ => {}
    }
    let (val, frac, rest) = iso_number(rest)?;
    f.add_months(val, frac)?;
    let rest = match rest.as_bytes().first() {
        None => return Ok(None),
        Some(b'T') => return Ok(Some(&rest[1..])),
        Some(b'-') => &rest[1..],
        Some(_) => return Err(Fail::Syntax),
    };
    let (val, frac, rest) = iso_number(rest)?;
    f.add_days(val, 1)?;
    f.add_fract_micros(frac, USECS_PER_DAY)?;
    match rest.as_bytes().first() {
        None => Ok(None),
        Some(b'T') => Ok(Some(&rest[1..])),
        Some(_) => Err(Fail::Syntax),
    }
}

/// One time-part field; true when it ended the input.
fn iso_time_field(f: &mut Fields, n: &IsoNumber, unit: Option<char>, rest: &str, have_field: bool) -> Step<bool> {
    match unit {
        Some('H') => f.add_micros(n.val, n.frac, USECS_PER_HOUR)?,
        Some('M') => f.add_micros(n.val, n.frac, USECS_PER_MINUTE)?,
        Some('S') => f.add_micros(n.val, n.frac, USECS_PER_SEC)?,
        None if n.width() == 6 && !have_field => {
            f.add_micros(n.val / 10000, 0.0, USECS_PER_HOUR)?;
            f.add_micros(n.val / 100 % 100, 0.0, USECS_PER_MINUTE)?;
            f.add_micros(n.val % 100, 0.0, USECS_PER_SEC)?;
            f.add_fract_micros(n.frac, 1)?;
            return Ok(true);
        }
        Some(':') | None if !have_field => {
            iso_alternative_time(f, n, unit, rest)?;
            return Ok(true);
        }
        _ => return Err(Fail::Syntax),
    }
    Ok(false)
}

/// `hh[:mm[:ss]]` after its hours; must end the input.
fn iso_alternative_time(f: &mut Fields, hour: &IsoNumber, unit: Option<char>, rest: &str) -> Step {
    f.add_micros(hour.val, hour.frac, USECS_PER_HOUR)?;
    if unit.is_none() {
        return Ok(());
    }
    let (val, frac, rest) = iso_number(rest)?;
    f.add_micros(val, frac, USECS_PER_MINUTE)?;
    if rest.is_empty() {
        return Ok(());
    }
    let rest = rest.strip_prefix(':').ok_or(Fail::Syntax)?;
    let (val, frac, rest) = iso_number(rest)?;
    f.add_micros(val, frac, USECS_PER_SEC)?;
    if rest.is_empty() { Ok(()) } else { Err(Fail::Syntax) }
}

/// A decimal number as strtod reads it, split into integer part and
/// fraction, and the text after it (PostgreSQL's ParseISO8601Number).
fn iso_number(text: &str) -> Step<(i64, f64, &str)> {
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        return Err(Fail::Syntax);
    }
    let len = float_len(text.as_bytes());
    let value: f64 = text[..len].parse().map_err(|_| Fail::Syntax)?;
    if !(-1e15..=1e15).contains(&value) {
        return Err(Fail::FieldRange);
    }
    let whole = value.trunc();
    Ok((whole as i64, value - whole, &text[len..]))
}

/// Length of the leading `[-]digits[.digits][e[+-]digits]`; 0 if none.
fn float_len(b: &[u8]) -> usize {
    let digits_from = |at: usize| b[at.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut at = usize::from(b.first() == Some(&b'-'));
    let int_digits = digits_from(at);
    at += int_digits;
    let mut frac_digits = 0;
    if b.get(at) == Some(&b'.') {
        frac_digits = digits_from(at + 1);
        at += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return 0;
    }
    if matches!(b.get(at), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(at + 1), Some(b'+' | b'-')));
        let exp_digits = digits_from(at + 1 + sign);
        if exp_digits > 0 {
            at += 1 + sign + exp_digits;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    use datafusion::arrow::compute::{CastOptions, cast_with_options};
    use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNanoType, IntervalUnit};

    /// (input, (months, days, microseconds)), each from PostgreSQL 15.
    const PG_CASES: &[(&str, (i32, i32, i64))] = &[
        ("1 day", (0, 1, 0)),
        ("2 hours 30 minutes", (0, 0, 9000000000)),
        ("1 year 2 mons", (14, 0, 0)),
        ("3 weeks", (0, 21, 0)),
        ("1.5 days", (0, 1, 43200000000)),
        ("1.5 months", (1, 15, 0)),
        ("1.5 years", (18, 0, 0)),
        ("1 millennium", (12000, 0, 0)),
        ("2 centuries", (2400, 0, 0)),
        ("1 decade", (120, 0, 0)),
        ("10 ms", (0, 0, 10000)),
        ("10 milliseconds", (0, 0, 10000)),
        ("5 us", (0, 0, 5)),
        ("5 microseconds", (0, 0, 5)),
        ("3 min", (0, 0, 180000000)),
        ("3 mins", (0, 0, 180000000)),
        ("4 sec", (0, 0, 4000000)),
        ("4 secs", (0, 0, 4000000)),
        ("2 h", (0, 0, 7200000000)),
        ("2 hr", (0, 0, 7200000000)),
        ("2 hrs", (0, 0, 7200000000)),
        ("2 d", (0, 2, 0)),
        ("2 w", (0, 14, 0)),
        ("7 m", (0, 0, 420000000)),
        ("3 y", (36, 0, 0)),
        ("3 yr", (36, 0, 0)),
        ("1 microseconds", (0, 0, 1)),
        ("02:03:04", (0, 0, 7384000000)),
        ("02:03:04.5", (0, 0, 7384500000)),
        ("00:00:00.000001", (0, 0, 1)),
        ("-00:00:01", (0, 0, -1000000)),
        ("1 day 02:03:04", (0, 1, 7384000000)),
        ("1 02:03:04", (0, 1, 7384000000)),
        ("02:03", (0, 0, 7380000000)),
        ("-1 day +02:00", (0, -1, 7200000000)),
        ("-1 day 2 hours", (0, -1, 7200000000)),
        ("+1 day -2 hours", (0, 1, -7200000000)),
        ("@ 1 hour", (0, 0, 3600000000)),
        ("@ 1 day 2 hours ago", (0, -1, -7200000000)),
        ("1 day ago 2 hours", (0, -1, -7200000000)),
        ("P1Y2M3DT4H5M6S", (14, 3, 14706000000)),
        ("PT1H30M", (0, 0, 5400000000)),
        ("P1W", (0, 7, 0)),
        ("P0.5D", (0, 0, 43200000000)),
        ("PT0.5S", (0, 0, 500000)),
        ("P0001-02-03T04:05:06", (14, 3, 14706000000)),
        ("P1Y-2M", (10, 0, 0)),
        ("P-1.5W", (0, -10, -43200000000)),
        ("P00010203T040506", (14, 3, 14706000000)),
        ("PT1", (0, 0, 3600000000)),
        ("P1", (12, 0, 0)),
        ("P1T2", (12, 0, 7200000000)),
        ("P1E2D", (0, 100, 0)),
        ("PT", (0, 0, 0)),
        ("P1-2", (14, 0, 0)),
        ("P1-2-3T4:5", (14, 3, 14700000000)),
        ("PT1:30", (0, 0, 5400000000)),
        ("1-2", (14, 0, 0)),
        ("-1-2", (-14, 0, 0)),
        ("+1-2", (14, 0, 0)),
        ("0-5", (5, 0, 0)),
        ("1-", (12, 0, 0)),
        ("1 2:03:04", (0, 1, 7384000000)),
        ("5", (0, 0, 5000000)),
        ("-5", (0, 0, -5000000)),
        ("1.5", (0, 0, 1500000)),
        (".5", (0, 0, 500000)),
        (".", (0, 0, 0)),
        ("1. day", (0, 1, 0)),
        ("1day", (0, 1, 0)),
        ("1d2h", (0, 1, 7200000000)),
        ("1mon2days", (1, 2, 0)),
        ("1 day, 2 hours", (0, 1, 7200000000)),
        ("- 1 day", (0, -1, 0)),
        ("1 2 hours", (0, 1, 7200000000)),
        ("1 day hour", (0, 1, 0)),
        ("day 1", (0, 0, 1000000)),
        ("02:00 1.5 days", (0, 1, 7200000000)),
        ("1.5 days 02:00", (0, 1, 50400000000)),
        ("0.1 millennium", (1200, 0, 0)),
        ("1.05 years", (13, 0, 0)),
        ("0.04 years", (0, 0, 0)),
        ("0.0417 years", (1, 0, 0)),
        ("0.99 decade", (119, 0, 0)),
        ("-1.5 days", (0, -1, -43200000000)),
        ("-0.5 months", (0, -15, 0)),
        ("1.7 weeks", (0, 11, 77760000000)),
        ("0.333333 days", (0, 0, 28799971200)),
        ("1.23456789 seconds", (0, 0, 1234568)),
        ("0.0000005 seconds", (0, 0, 0)),
        ("0.0000015 seconds", (0, 0, 1)),
        ("-0.0000005 seconds", (0, 0, 0)),
        ("2562047788 hours", (0, 0, 9223372036800000000)),
        ("9223372036854775807 microseconds", (0, 0, 9223372036854775807)),
        ("-9223372036854775808 microseconds", (0, 0, -9223372036854775808)),
        ("2147483647 days", (0, 2147483647, 0)),
        ("2147483647 months", (2147483647, 0, 0)),
        ("178956970 years", (2147483640, 0, 0)),
        ("-178956970 years -8 months", (-2147483648, 0, 0)),
        ("1 day ago", (0, -1, 0)),
        ("02:03:60", (0, 0, 7440000000)),
        ("0:0:0.9999999", (0, 0, 1000000)),
        ("02:03.5", (0, 0, 123500000)),
        ("1 week 1 day", (0, 8, 0)),
        ("1 decade 1 year 1 century 1 millennium", (13332, 0, 0)),
        ("1 second 1 ms", (0, 0, 1001000)),
        ("1 sec 1 ms 1 us", (0, 0, 1001001)),
        ("1 day quarter", (0, 1, 0)),
        ("1 microsecondsxyz", (0, 0, 1)),
        ("1 millenniums", (12000, 0, 0)),
        ("P1.5Y", (18, 0, 0)),
        ("P1.5M", (1, 15, 0)),
        ("PT1.5H", (0, 0, 5400000000)),
        ("P1.5E1D", (0, 15, 0)),
        ("P-0.5M", (0, -15, 0)),
    ];

    /// (input, leading, last, expected), each from PostgreSQL 15.
    #[allow(clippy::type_complexity)]
    const PG_QUALIFIED: &[(&str, Option<&str>, Option<&str>, (i32, i32, i64))] = &[
        ("1 2", Some("day"), Some("hour"), (0, 1, 7200000000)),
        ("1 day 02:03:04.5", Some("hour"), Some("minute"), (0, 1, 7380000000)),
        ("5", Some("minute"), None, (0, 0, 300000000)),
        ("5", Some("year"), None, (60, 0, 0)),
        ("5", Some("month"), None, (5, 0, 0)),
        ("5", Some("day"), None, (0, 5, 0)),
        ("5", Some("hour"), None, (0, 0, 18000000000)),
        ("5", Some("second"), None, (0, 0, 5000000)),
        ("5", Some("year"), Some("month"), (5, 0, 0)),
        ("5", Some("day"), Some("second"), (0, 0, 5000000)),
        ("5", Some("day"), Some("minute"), (0, 0, 300000000)),
        ("1.5", Some("day"), None, (0, 1, 0)),
        ("1.5", Some("year"), None, (12, 0, 0)),
        ("1-2", Some("year"), None, (12, 0, 0)),
        ("1 year 5 months 3 days", Some("month"), None, (17, 0, 0)),
        ("1 year 2 days 3 hours 4 min", Some("hour"), None, (12, 2, 10800000000)),
        ("-1 day -02:30:45", Some("hour"), None, (0, -1, -7200000000)),
        ("-1 day -02:30:45", Some("minute"), None, (0, -1, -9000000000)),
        ("1 2:03:04", Some("day"), Some("second"), (0, 1, 7384000000)),
        ("1 2:03", Some("day"), Some("minute"), (0, 1, 7380000000)),
        ("2:03", Some("minute"), Some("second"), (0, 0, 123000000)),
        ("2:03", Some("hour"), Some("minute"), (0, 0, 7380000000)),
        ("2:03.5", Some("hour"), Some("minute"), (0, 0, 120000000)),
        ("1:2", Some("day"), Some("hour"), (0, 0, 3600000000)),
        ("-5", Some("minute"), None, (0, 0, -300000000)),
        ("P1Y2M3DT4H5M6S", Some("day"), Some("hour"), (14, 3, 14400000000)),
        ("1 day 02:03:04.5", Some("second"), None, (0, 1, 7384500000)),
        ("1 day 02:03:04.5", Some("day"), Some("second"), (0, 1, 7384500000)),
        ("1 day 02:03:04.5", Some("hour"), Some("second"), (0, 1, 7384500000)),
        ("1 day 02:03:04.5", Some("minute"), Some("second"), (0, 1, 7384500000)),
        ("1 day 02:03:04.5", Some("minute"), None, (0, 1, 7380000000)),
        ("1 day 02:03:04.5", Some("day"), None, (0, 1, 0)),
        ("1 day 02:03:04.5", Some("day"), Some("minute"), (0, 1, 7380000000)),
    ];

    /// (input, PostgreSQL 15's error message).
    const PG_ERRORS: &[(&str, &str)] = &[
        ("178956971 years", "interval out of range"),
        ("2147483648 days", "interval field value out of range: \"2147483648 days\""),
        ("9223372036854775808 microseconds", "interval field value out of range: \"9223372036854775808 microseconds\""),
        ("2147483647 days 1 day", "interval field value out of range: \"2147483647 days 1 day\""),
        ("-2147483648 days ago", "interval field value out of range: \"-2147483648 days ago\""),
        ("1:99", "interval field value out of range: \"1:99\""),
        ("-1:99", "invalid input syntax for type interval: \"-1:99\""),
        ("02:03:61", "interval field value out of range: \"02:03:61\""),
        ("1-12", "interval field value out of range: \"1-12\""),
        ("1:2:3:4", "invalid input syntax for type interval: \"1:2:3:4\""),
        ("1 day 1 day", "invalid input syntax for type interval: \"1 day 1 day\""),
        ("1 day 2 days", "invalid input syntax for type interval: \"1 day 2 days\""),
        ("1 hour 02:00", "invalid input syntax for type interval: \"1 hour 02:00\""),
        ("1.5 seconds 1 ms", "invalid input syntax for type interval: \"1.5 seconds 1 ms\""),
        ("abc", "invalid input syntax for type interval: \"abc\""),
        ("1 foo", "invalid input syntax for type interval: \"1 foo\""),
        ("5 ago", "invalid input syntax for type interval: \"5 ago\""),
        ("ago", "invalid input syntax for type interval: \"ago\""),
        ("@", "invalid input syntax for type interval: \"@\""),
        ("1 2", "invalid input syntax for type interval: \"1 2\""),
        ("1day2hours", "invalid input syntax for type interval: \"1day2hours\""),
        ("-.5 day", "invalid input syntax for type interval: \"-.5 day\""),
        ("p1d", "invalid input syntax for type interval: \"p1d\""),
        (" P1D", "invalid input syntax for type interval: \" P1D\""),
        ("P1D ", "invalid input syntax for type interval: \"P1D \""),
        ("P", "invalid input syntax for type interval: \"P\""),
        ("1 quarter", "invalid input syntax for type interval: \"1 quarter\""),
        ("99999999999 days", "interval field value out of range: \"99999999999 days\""),
        ("1.2.3", "invalid input syntax for type interval: \"1.2.3\""),
        ("1/2", "invalid input syntax for type interval: \"1/2\""),
        ("1 +day", "invalid input syntax for type interval: \"1 +day\""),
        ("1 day é", "invalid input syntax for type interval: \"1 day é\""),
        ("1e5 seconds", "invalid input syntax for type interval: \"1e5 seconds\""),
        ("P2147483648D", "interval field value out of range: \"P2147483648D\""),
        ("P1e16D", "interval field value out of range: \"P1e16D\""),
        ("", "invalid input syntax for type interval: \"\""),
        ("   ", "invalid input syntax for type interval: \"   \""),
    ];

    /// (input, leading, last, PostgreSQL 15's error message).
    const PG_QUALIFIED_ERRORS: &[(&str, Option<&str>, Option<&str>, &str)] = &[
        ("1 2", Some("day"), Some("second"), "invalid input syntax for type interval: \"1 2\""),
        ("1 day 5", Some("day"), None, "invalid input syntax for type interval: \"1 day 5\""),
    ];

    #[test]
    fn matches_postgres() {
        for (text, expected) in PG_CASES {
            assert_eq!(parse(text), Ok(*expected), "{text:?}");
        }
    }

    #[test]
    fn qualified_matches_postgres() {
        for (text, leading, last, expected) in PG_QUALIFIED {
            let got = parse_qualified(text, *leading, *last);
            assert_eq!(got, Ok(*expected), "{text:?} {leading:?} TO {last:?}");
        }
    }

    #[test]
    fn errors_match_postgres() {
        for (text, message) in PG_ERRORS {
            assert_eq!(parse(text), Err(message.to_string()), "{text:?}");
        }
        for (text, leading, last, message) in PG_QUALIFIED_ERRORS {
            let got = parse_qualified(text, *leading, *last);
            assert_eq!(got, Err(message.to_string()), "{text:?}");
        }
    }

    #[test]
    fn unqualified_is_same_as_no_qualifier() {
        for (text, expected) in PG_CASES {
            assert_eq!(parse_qualified(text, None, None), Ok(*expected), "{text:?}");
        }
    }

    #[test]
    fn rejects_qualifiers_sql_does_not_have() {
        let bad = [
            (Some("year"), Some("day")),
            (Some("month"), Some("year")),
            (Some("hour"), Some("hour")),
            (Some("month"), Some("day")),
            (None, Some("second")),
            (Some("week"), None),
        ];
        for (leading, last) in bad {
            assert!(parse_qualified("1", leading, last).is_err(), "{leading:?} {last:?}");
        }
    }

    /// Arrow's reading of `text` as MonthDayNano, or its error.
    fn arrow_reads(text: &str) -> Result<(i32, i32, i64), String> {
        let input = StringArray::from(vec![text]);
        let target = DataType::Interval(IntervalUnit::MonthDayNano);
        let options = CastOptions { safe: false, ..Default::default() };
        let cast = cast_with_options(&input, &target, &options).map_err(|e| e.to_string())?;
        let values = cast.as_primitive::<IntervalMonthDayNanoType>();
        assert!(!values.is_null(0));
        let v = values.value(0);
        Ok((v.months, v.days, v.nanoseconds))
    }

    /// Largest |microseconds| whose nanoseconds fit arrow's i64.
    const ARROW_MAX_MICROS: i64 = i64::MAX / 1000;

    #[test]
    fn canonical_round_trips_through_arrow() {
        let qualified = PG_QUALIFIED.iter().map(|(_, _, _, v)| v);
        for &(months, days, micros) in PG_CASES.iter().map(|(_, v)| v).chain(qualified) {
            let text = canonical(months, days, micros);
            if micros.unsigned_abs() > ARROW_MAX_MICROS.unsigned_abs() {
                assert!(arrow_reads(&text).is_err(), "{text}");
                continue;
            }
            assert_eq!(arrow_reads(&text), Ok((months, days, micros * 1000)), "{text}");
        }
    }

    #[test]
    fn canonical_round_trips_extremes() {
        let extremes = [(i32::MAX, i32::MAX, ARROW_MAX_MICROS), (i32::MIN, i32::MIN, -ARROW_MAX_MICROS), (0, 0, 0), (-1, -1, -1)];
        for (months, days, micros) in extremes {
            let text = canonical(months, days, micros);
            assert_eq!(arrow_reads(&text), Ok((months, days, micros * 1000)), "{text}");
        }
        assert_eq!(canonical(14, 3, 14706000000), "14 months 3 days 14706000000 microseconds");
    }
}
