//! `to_char(timestamp, pattern)` with PostgreSQL's template patterns
//! (`YYYY-MM-DD HH24:MI:SS`, `FMMonth`, `Dy`, `IW`, `TZ`, quoted text...),
//! for a time already moved into the zone it is shown in.

use chrono::{Datelike, NaiveDateTime, Timelike};

/// A time as `to_char` shows it: the local wall-clock time and the zone's
/// offset and abbreviation (none for `timestamp without time zone`).
pub struct Local {
    pub time: NaiveDateTime,
    pub offset_secs: Option<i32>,
    pub abbrev: Option<String>,
}

/// The template patterns, longest first where one is a prefix of another.
const PATTERNS: &[&str] = &[
    "A.D.", "A.M.", "B.C.", "P.M.", "a.d.", "a.m.", "b.c.", "p.m.", "Y,YYY", "y,yyy", "HH24", "HH12", "IDDD", "IYYY", "MONTH", "Month", "month", "SSSSS",
    "SSSS", "YYYY", "hh24", "hh12", "iddd", "iyyy", "sssss", "ssss", "yyyy", "DAY", "Day", "day", "DDD", "ddd", "FF1", "FF2", "FF3", "FF4", "FF5", "FF6",
    "ff1", "ff2", "ff3", "ff4", "ff5", "ff6", "IYY", "iyy", "MON", "Mon", "mon", "TZH", "TZM", "tzh", "tzm", "YYY", "yyy", "AD", "AM", "BC", "PM", "ad", "am",
    "bc", "pm", "CC", "cc", "DD", "dd", "DY", "Dy", "dy", "HH", "hh", "ID", "id", "IW", "iw", "IY", "iy", "MI", "mi", "MM", "mm", "MS", "ms", "OF", "of", "RM",
    "rm", "SS", "ss", "TZ", "tz", "US", "us", "WW", "ww", "YY", "yy", "D", "d", "I", "i", "J", "j", "Q", "q", "W", "w", "Y", "y",
];

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const ROMAN: [&str; 12] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];

/// `t` formatted by PostgreSQL's template `pattern`.
pub fn format(t: &Local, pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            // Quoted text is copied; a backslash escapes a quote inside it.
            let mut chars = r.char_indices();
            let mut end = r.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            out.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => out.push(c),
                }
            }
            rest = &r[end.min(r.len())..];
            continue;
        }
        if let Some(r) = rest.strip_prefix('\\')
            && let Some(c) = r.chars().next()
        {
            out.push(c);
            rest = &r[c.len_utf8()..];
            continue;
        }
        let (fill, after_fm) = match rest.strip_prefix("FM").or_else(|| rest.strip_prefix("fm")) {
            Some(r) => (false, r),
            None => (true, rest),
        };
        let after_tm = after_fm.strip_prefix("TM").or_else(|| after_fm.strip_prefix("tm")).unwrap_or(after_fm);
        match PATTERNS.iter().find(|p| after_tm.starts_with(**p)) {
            Some(p) => {
                let after = &after_tm[p.len()..];
                let (ordinal, after) = match after.get(..2) {
                    Some("TH") => (Some(true), &after[2..]),
                    Some("th") => (Some(false), &after[2..]),
                    _ => (None, after),
                };
                let mut field = field(t, p, fill);
                if let Some(upper) = ordinal
                    && let Ok(n) = field.trim().parse::<i64>()
                {
                    field.push_str(&suffix(n, upper));
                }
                out.push_str(&field);
                rest = after;
            }
            None => {
                let c = rest.chars().next().unwrap_or(' ');
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

pub(super) fn suffix(n: i64, upper: bool) -> String {
    let s = match (n % 100, n % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    };
    if upper { s.to_uppercase() } else { s.to_string() }
}

/// A number padded with zeros to `width` digits, unless in fill mode off.
fn num(n: i64, width: usize, fill: bool) -> String {
    if fill { if n < 0 { format!("-{:0width$}", -n, width = width) } else { format!("{n:0width$}") } } else { n.to_string() }
}

/// A name in the case the pattern is written in (`MONTH`, `Month`, `month`),
/// padded to `width` unless in fill mode off.
fn name(s: &str, pattern: &str, width: usize, fill: bool) -> String {
    let mut chars = pattern.chars();
    let first_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let second_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let s = match (first_upper, second_upper) {
        (true, true) => s.to_uppercase(),
        (true, false) => s.to_string(),
        _ => s.to_lowercase(),
    };
    if fill { format!("{s:<width$}") } else { s }
}

fn field(t: &Local, p: &str, fill: bool) -> String {
    let d = t.time;
    let year = d.year();
    // PostgreSQL counts years before 1 AD from 1 BC, without a year zero.
    let shown_year = if year <= 0 { 1 - year } else { year } as i64;
    let hour12 = match d.hour() % 12 {
        0 => 12,
        h => h,
    };
    let pm = d.hour() >= 12;
    let micros = (d.nanosecond() / 1000) as i64;
    let iso = d.iso_week();
    match p.to_uppercase().as_str() {
        "HH" | "HH12" => num(hour12 as i64, 2, fill),
        "HH24" => num(d.hour() as i64, 2, fill),
        "MI" => num(d.minute() as i64, 2, fill),
        "SS" => num(d.second() as i64, 2, fill),
        "MS" => num(micros / 1000, 3, fill),
        "US" => num(micros, 6, fill),
        "FF1" | "FF2" | "FF3" | "FF4" | "FF5" | "FF6" => {
            let digits = (p.as_bytes()[2] - b'0') as u32;
            num(micros / 10i64.pow(6 - digits), digits as usize, true)
        }
        "SSSS" | "SSSSS" => d.num_seconds_from_midnight().to_string(),
        "AM" | "PM" => name(if pm { "PM" } else { "AM" }, p, 0, false),
        "A.M." | "P.M." => name(if pm { "P.M." } else { "A.M." }, p, 0, false),
        "AD" | "BC" => name(if year > 0 { "AD" } else { "BC" }, p, 0, false),
        "A.D." | "B.C." => name(if year > 0 { "A.D." } else { "B.C." }, p, 0, false),
        "Y,YYY" => format!("{},{:03}", shown_year / 1000, shown_year % 1000),
        "YYYY" => num(shown_year, 4, fill),
        "YYY" => num(shown_year % 1000, 3, fill),
        "YY" => num(shown_year % 100, 2, fill),
        "Y" => num(shown_year % 10, 1, fill),
        "IYYY" => num(iso.year() as i64, 4, fill),
        "IYY" => num(iso.year() as i64 % 1000, 3, fill),
        "IY" => num(iso.year() as i64 % 100, 2, fill),
        "I" => num(iso.year() as i64 % 10, 1, fill),
        "MONTH" => name(MONTHS[d.month0() as usize], p, 9, fill),
        "MON" => name(&MONTHS[d.month0() as usize][..3], p, 3, fill),
        "MM" => num(d.month() as i64, 2, fill),
        "DAY" => name(DAYS[d.weekday().num_days_from_sunday() as usize], p, 9, fill),
        "DY" => name(&DAYS[d.weekday().num_days_from_sunday() as usize][..3], p, 3, fill),
        "DDD" => num(d.ordinal() as i64, 3, fill),
        "IDDD" => num(((iso.week() - 1) * 7 + d.weekday().number_from_monday()) as i64, 3, fill),
        "DD" => num(d.day() as i64, 2, fill),
        "D" => (d.weekday().num_days_from_sunday() + 1).to_string(),
        "ID" => d.weekday().number_from_monday().to_string(),
        "W" => ((d.day() - 1) / 7 + 1).to_string(),
        "WW" => num(((d.ordinal() - 1) / 7 + 1) as i64, 2, fill),
        "IW" => num(iso.week() as i64, 2, fill),
        "CC" => {
            let cc = if year > 0 { (year + 99) / 100 } else { -((99 - (year - 1)) / 100) };
            num(cc as i64, 2, fill)
        }
        "J" => (d.date().num_days_from_ce() as i64 + 1_721_425).to_string(),
        "Q" => ((d.month0() / 3) + 1).to_string(),
        "RM" => name(ROMAN[d.month0() as usize], p, 4, fill),
        "TZ" => name(t.abbrev.as_deref().unwrap_or(""), p, 0, false),
        "TZH" => t.offset_secs.map_or(String::new(), |o| format!("{}{:02}", if o < 0 { '-' } else { '+' }, o.abs() / 3600)),
        "TZM" => t.offset_secs.map_or(String::new(), |o| format!("{:02}", o.abs() % 3600 / 60)),
        "OF" => t.offset_secs.map_or(String::new(), offset_text),
        _ => String::new(),
    }
}

/// An offset as PostgreSQL prints it: `+05:30`, `-08`.
pub fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    if m == 0 { format!("{sign}{h:02}") } else { format!("{sign}{h:02}:{m:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Local {
        Local { time: NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap(), offset_secs: Some(19800), abbrev: Some("IST".into()) }
    }

    #[test]
    fn formats_like_postgres() {
        let t = at("2024-03-05 14:07:09.123456");
        assert_eq!(format(&t, "YYYY-MM-DD HH24:MI:SS"), "2024-03-05 14:07:09");
        assert_eq!(format(&t, "FMMonth DDth, YYYY HH12:MI am"), "March 05th, 2024 02:07 pm");
        assert_eq!(format(&t, "Day|Dy|MON|Q|IW|\"week\" WW|US|TZ|OF"), "Tuesday  |Tue|MAR|1|10|week 10|123456|IST|+05:30");
        assert_eq!(format(&t, "FMDD FMDay rm J"), "5 Tuesday iii  2460375");
    }
}
