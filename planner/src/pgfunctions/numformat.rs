//! PostgreSQL's number templates (`9`, `0`, `.`, `,`, `D`, `G`, `S`, `PR`,
//! `MI`, `PL`, `SG`, `L`, `FM`, `EEEE`, `RN`, `TH`, `V`): `to_char` of a
//! numeric, integer or float, and `to_number(text, pattern)`, which reads
//! text by such a template into a numeric.

use super::columnar;
use crate::{SqlError, SqlState};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Float32Type, Float64Type, Int64Type};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

pub fn all() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(ToNumber(Signature::user_defined(Volatility::Immutable)))]
}

/// One element of a number template.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// `9` (false) or `0` (true).
    Digit(bool),
    Point,
    Group,
    /// `S`, anchored to the number.
    S,
    Pr,
    Mi,
    Pl,
    Sg,
    Currency,
    Th(bool),
    Lit(String),
}

/// A parsed number template.
#[derive(Debug, Default)]
struct Template {
    toks: Vec<Tok>,
    fm: bool,
    /// Digit positions before and after the decimal point (`V`'s digits count before).
    pre: usize,
    post: usize,
    /// Digits after `V`: the value is multiplied by 10 to that power.
    multi: u32,
    /// The first pre-point position of a `0`: from there on, digits are shown.
    zero_start: Option<usize>,
    /// Post-point positions up to the last `0`: kept under `FM`.
    zero_end: usize,
    eeee: bool,
    roman: Option<bool>,
    /// `S` comes after the last pre-point digit: the sign follows the number.
    s_after: bool,
}

fn syntax(message: &str) -> SqlError {
    SqlError::new(SqlState::SyntaxError, message)
}

/// The keywords, longest first; matched case-insensitively, `rn`/`th` keep their case.
const KEYWORDS: &[&str] = &["EEEE", "FM", "PR", "MI", "PL", "SG", "RN", "TH", "9", "0", ".", ",", "D", "G", "S", "L", "V"];

impl Template {
    fn parse(pattern: &str) -> std::result::Result<Template, SqlError> {
        let mut t = Template::default();
        let (mut rest, mut after_point, mut after_v, mut point) = (pattern, false, false, false);
        while !rest.is_empty() {
            if let Some((lit, r)) = quoted(rest) {
                t.toks.push(Tok::Lit(lit));
                rest = r;
                continue;
            }
            let Some(k) = KEYWORDS.iter().find(|k| rest.get(..k.len()).is_some_and(|p| p.eq_ignore_ascii_case(k))) else {
                let c = rest.chars().next().unwrap_or(' ');
                t.toks.push(Tok::Lit(c.to_string()));
                rest = &rest[c.len_utf8()..];
                continue;
            };
            let lower = rest.starts_with(|c: char| c.is_ascii_lowercase());
            rest = &rest[k.len()..];
            match *k {
                "9" | "0" => {
                    let zero = *k == "0";
                    if after_point {
                        t.post += 1;
                        if zero {
                            t.zero_end = t.post;
                        }
                    } else {
                        if zero && t.zero_start.is_none() {
                            t.zero_start = Some(t.pre);
                        }
                        t.pre += 1;
                        t.multi += after_v as u32;
                    }
                    t.toks.push(Tok::Digit(zero));
                }
                "." | "D" => {
                    if after_v {
                        return Err(syntax("cannot use \"V\" and decimal point together"));
                    }
                    if point {
                        return Err(syntax("multiple decimal points"));
                    }
                    (after_point, point) = (true, true);
                    t.toks.push(Tok::Point);
                }
                "V" => {
                    if point {
                        return Err(syntax("cannot use \"V\" and decimal point together"));
                    }
                    after_v = true;
                }
                "," | "G" => t.toks.push(Tok::Group),
                "FM" => t.fm = true,
                "EEEE" => t.eeee = true,
                "RN" => t.roman = Some(!lower),
                "TH" => t.toks.push(Tok::Th(!lower)),
                "S" => t.toks.push(Tok::S),
                "PR" => t.toks.push(Tok::Pr),
                "MI" => t.toks.push(Tok::Mi),
                "PL" => t.toks.push(Tok::Pl),
                "SG" => t.toks.push(Tok::Sg),
                _ => t.toks.push(Tok::Currency),
            }
        }
        t.s_after = t.s_after_digits();
        if t.eeee && (t.fm || t.roman.is_some() || t.multi > 0 || t.toks.iter().any(|k| !matches!(k, Tok::Digit(_) | Tok::Point | Tok::Lit(_)))) {
            return Err(
                syntax("\"EEEE\" is incompatible with other formats").with_detail("\"EEEE\" may only be used together with digit and decimal point patterns.")
            );
        }
        Ok(t)
    }

    /// Whether `S` follows every pre-point digit.
    fn s_after_digits(&self) -> bool {
        let Some(s) = self.toks.iter().position(|k| *k == Tok::S) else { return false };
        let first_point = self.toks.iter().position(|k| *k == Tok::Point).unwrap_or(self.toks.len());
        s > first_point || !self.toks[s..first_point].iter().any(|k| matches!(k, Tok::Digit(_)))
    }

    fn has(&self, tok: &Tok) -> bool {
        self.toks.contains(tok)
    }

    /// The sign written just before the first digit shown, if any.
    fn leading_sign(&self, neg: bool) -> &'static str {
        let blank = if self.fm { "" } else { " " };
        if self.has(&Tok::Pr) {
            if neg { "<" } else { blank }
        } else if self.has(&Tok::S) {
            if self.s_after {
                ""
            } else if neg {
                "-"
            } else {
                "+"
            }
        } else if self.has(&Tok::Mi) || self.has(&Tok::Sg) {
            ""
        } else if neg {
            "-"
        } else {
            blank
        }
    }
}

/// Quoted text at the start of `s` (a backslash escapes the next character),
/// and what follows it; or a backslash-escaped character.
fn quoted(s: &str) -> Option<(String, &str)> {
    if let Some(r) = s.strip_prefix('\\') {
        let c = r.chars().next()?;
        return Some((c.to_string(), &r[c.len_utf8()..]));
    }
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

/// A value to format.
#[derive(Debug, Clone, Copy)]
pub enum Num {
    Decimal(i128, i8),
    Int(i64),
    F64(f64),
    F32(f32),
}

/// A number's digits as the template shows them: the sign, the integer
/// part ("0" for none, `#`s on overflow) and the fraction (None: no point).
#[derive(Debug)]
struct Digits {
    neg: bool,
    int: String,
    frac: Option<String>,
}

/// `digits` (a decimal integer's digits) rounded half up to its first
/// `keep` digits; the result may be one digit longer.
fn round_prefix(digits: &str, keep: usize) -> String {
    if digits.len() <= keep {
        return digits.to_string();
    }
    let mut out: Vec<u8> = digits.as_bytes()[..keep].to_vec();
    if digits.as_bytes()[keep] >= b'5' {
        let mut i = out.len();
        loop {
            if i == 0 {
                out.insert(0, b'1');
                break;
            }
            i -= 1;
            if out[i] == b'9' {
                out[i] = b'0';
            } else {
                out[i] += 1;
                break;
            }
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The absolute digits of `v` at `scale`, with at least one integer digit.
fn padded_digits(v: i128, scale: usize) -> String {
    let s = v.unsigned_abs().to_string();
    format!("{}{s}", "0".repeat((scale + 1).saturating_sub(s.len())))
}

/// A decimal `v` at `scale` rounded half away from zero to `post` places.
fn decimal_digits(v: i128, scale: i8, post: usize) -> Digits {
    let (digits, scale) =
        if scale < 0 { (format!("{}{}", v.unsigned_abs(), "0".repeat(-scale as usize)), 0) } else { (padded_digits(v, scale as usize), scale as usize) };
    let digits = if scale >= post { round_prefix(&digits, digits.len() - (scale - post)) } else { format!("{digits}{}", "0".repeat(post - scale)) };
    let digits = format!("{}{digits}", "0".repeat((post + 1).saturating_sub(digits.len())));
    let (int, frac) = digits.split_at(digits.len() - post);
    let int = int.trim_start_matches('0');
    let neg = v < 0 && digits.bytes().any(|b| b != b'0');
    Digits { neg, int: if int.is_empty() { "0".into() } else { int.into() }, frac: (post > 0).then(|| frac.to_string()) }
}

/// A float as C's `%.*f` writes it, to no more than `max_digits` significant places.
fn float_digits(v: f64, post: usize, max_digits: usize) -> Digits {
    if v.is_nan() {
        return Digits { neg: false, int: "NaN".into(), frac: None };
    }
    let int_len = format!("{:.0}", v.abs()).len();
    let post = if int_len >= max_digits { 0 } else { post.min(max_digits - int_len) };
    let text = format!("{v:.post$}");
    let neg = text.starts_with('-');
    let text = text.trim_start_matches('-');
    let (int, frac) = text.split_once('.').map_or((text, None), |(i, f)| (i, Some(f.to_string())));
    Digits { neg, int: int.into(), frac }
}

impl Num {
    /// The value times 10^`multi`, for `V`.
    /// (More than 38 `V` digits count as 38: past Decimal128's digits.)
    fn scaled(self, multi: u32) -> Num {
        if multi == 0 {
            return self;
        }
        let m = multi.min(38) as i8;
        match self {
            Num::Decimal(v, s) => Num::Decimal(v, s.saturating_sub(m)),
            Num::Int(v) => Num::Decimal(v as i128, -m),
            Num::F64(v) => Num::F64(v * 10f64.powi(multi as i32)),
            Num::F32(v) => Num::F64(v as f64 * 10f64.powi(multi as i32)),
        }
    }

    fn digits(self, post: usize) -> Digits {
        match self {
            Num::Decimal(v, s) => decimal_digits(v, s, post),
            Num::Int(v) => decimal_digits(v as i128, 0, post),
            Num::F64(v) => float_digits(v, post, 15),
            Num::F32(v) => float_digits(v as f64, post, 6),
        }
    }

    fn is_infinite(self) -> bool {
        match self {
            Num::F64(v) => v.is_infinite(),
            Num::F32(v) => v.is_infinite(),
            _ => false,
        }
    }

    /// The value rounded to a whole number as PostgreSQL does for `RN`.
    fn rounded(self) -> Option<i64> {
        match self {
            Num::Decimal(v, s) => {
                let d = decimal_digits(v, s, 0);
                d.int.parse::<i64>().ok().map(|n| if d.neg { -n } else { n })
            }
            Num::Int(v) => Some(v),
            Num::F64(v) => v.is_finite().then(|| v.round_ties_even() as i64),
            Num::F32(v) => v.is_finite().then(|| v.round_ties_even() as i64),
        }
    }
}

/// `v` formatted by the number template `pattern`, as PostgreSQL's `to_char`.
pub fn format(v: Num, pattern: &str) -> std::result::Result<String, SqlError> {
    let t = Template::parse(pattern)?;
    if let Some(upper) = t.roman {
        return Ok(roman_output(&t, v, upper));
    }
    if t.eeee {
        return Ok(scientific(v, t.pre, t.post));
    }
    let v = v.scaled(t.multi);
    let mut d = v.digits(t.post);
    if d.int.len() > t.pre || v.is_infinite() {
        let post = d.frac.as_ref().map_or(t.post, String::len);
        d = Digits { neg: d.neg, int: "#".repeat(t.pre), frac: Some("#".repeat(post)) };
    }
    Ok(Render::new(&t, &d).run())
}

/// The output of a template with digits laid out.
struct Render<'a> {
    t: &'a Template,
    d: &'a Digits,
    /// The fraction digits shown (under `FM`, without the trailing zeros).
    frac: String,
    /// Whether a lone zero before the point is left out (`.5` for `9.9`).
    hide_zero: bool,
    out: String,
    shown: bool,
    sign_done: bool,
}

impl<'a> Render<'a> {
    fn new(t: &'a Template, d: &'a Digits) -> Render<'a> {
        let mut frac = d.frac.clone().unwrap_or_default();
        if t.fm && !frac.contains('#') {
            let relevant = frac.trim_end_matches('0').len().max(t.zero_end.min(frac.len()));
            frac.truncate(relevant);
        }
        let hide_zero = d.int == "0" && t.post > 0 && d.frac.is_some() && !frac.is_empty();
        Render { t, d, frac, hide_zero, out: String::new(), shown: false, sign_done: false }
    }

    fn blank(&mut self) {
        if !self.t.fm {
            self.out.push(' ');
        }
    }

    /// Writes something of the number, the leading sign first.
    fn show(&mut self, s: &str) {
        if !self.sign_done {
            self.out.push_str(self.t.leading_sign(self.d.neg));
            self.sign_done = true;
        }
        self.shown = true;
        self.out.push_str(s);
    }

    /// The character of the pre-point digit position `i`, None for a blank.
    fn pre_digit(&self, i: usize) -> Option<char> {
        let lead = self.t.pre - self.d.int.len();
        if i < lead {
            return self.t.zero_start.is_some_and(|z| i >= z).then_some('0');
        }
        let forced = self.t.zero_start.is_some_and(|z| i >= z);
        if self.hide_zero && !forced {
            return None;
        }
        self.d.int.chars().nth(i - lead)
    }

    fn run(mut self) -> String {
        let (mut pre_i, mut post_i, mut after_point) = (0, 0, false);
        let neg = self.d.neg;
        let blank = if self.t.fm { "" } else { " " };
        for tok in &self.t.toks {
            match tok {
                Tok::Digit(_) if after_point => {
                    if let Some(c) = self.frac.chars().nth(post_i) {
                        self.show(&c.to_string());
                    }
                    post_i += 1;
                }
                Tok::Digit(_) => {
                    match self.pre_digit(pre_i) {
                        Some(c) => self.show(&c.to_string()),
                        None => self.blank(),
                    }
                    pre_i += 1;
                }
                Tok::Point => {
                    after_point = true;
                    if self.d.frac.is_some() {
                        self.show(".");
                    }
                }
                Tok::Group if self.shown => self.out.push(','),
                Tok::Group => self.blank(),
                Tok::S if self.t.s_after => self.out.push(if neg { '-' } else { '+' }),
                Tok::S => {}
                Tok::Pr => self.out.push_str(if neg { ">" } else { blank }),
                Tok::Mi => self.out.push_str(if neg { "-" } else { blank }),
                Tok::Pl => self.out.push_str(if neg { blank } else { "+" }),
                Tok::Sg => self.out.push(if neg { '-' } else { '+' }),
                Tok::Currency => self.out.push(' '),
                Tok::Th(upper) => {
                    if !neg && self.d.frac.is_none() {
                        self.out.push_str(&ordinal(&self.d.int, *upper));
                    }
                }
                Tok::Lit(s) => self.out.push_str(s),
            }
        }
        if !self.sign_done {
            self.show("");
        }
        self.out
    }
}

/// The English ordinal suffix of a number's digits (its last two decide).
fn ordinal(int: &str, upper: bool) -> String {
    let n: i64 = int.get(int.len().saturating_sub(2)..).and_then(|s| s.parse().ok()).unwrap_or(0);
    super::to_char::suffix(n, upper)
}

/// A whole number from 1 to 3999 in Roman numerals.
fn roman(mut n: i64) -> String {
    const STEPS: [(i64, &str); 13] =
        [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")];
    let mut out = String::new();
    for (value, letters) in STEPS {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

/// `RN`: the template's text with the numeral, padded to 15 unless `FM`.
fn roman_output(t: &Template, v: Num, upper: bool) -> String {
    let numeral = match v.rounded() {
        Some(n @ 1..=3999) => roman(n),
        _ => "#".repeat(15),
    };
    let numeral = if upper { numeral } else { numeral.to_lowercase() };
    let numeral = if t.fm { numeral } else { format!("{numeral:>15}") };
    let before: String = t.toks.iter().take_while(|k| matches!(k, Tok::Lit(_))).map(|k| if let Tok::Lit(s) = k { s.as_str() } else { "" }).collect();
    let after: String =
        t.toks.iter().skip_while(|k| matches!(k, Tok::Lit(_))).filter_map(|k| if let Tok::Lit(s) = k { Some(s.as_str()) } else { None }).collect();
    format!("{before}{numeral}{after}")
}

/// `EEEE`: the value in scientific notation with `post` decimals.
fn scientific(v: Num, pre: usize, post: usize) -> String {
    let text = match v {
        Num::Decimal(d, s) => decimal_scientific(d, s, post),
        Num::Int(i) => float_scientific(i as f64, post),
        Num::F64(f) if f.is_finite() => float_scientific(f, post),
        Num::F32(f) if f.is_finite() => float_scientific(f as f64, post),
        _ => return format!(" {}.{}", "#".repeat(pre), "#".repeat(post + 4)),
    };
    if text.starts_with('-') { text } else { format!(" {text}") }
}

fn exponent_text(e: i64) -> String {
    format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

fn float_scientific(v: f64, post: usize) -> String {
    let text = format!("{v:.post$e}");
    let (mantissa, e) = text.split_once('e').unwrap_or((&text, "0"));
    format!("{mantissa}{}", exponent_text(e.parse().unwrap_or(0)))
}

/// A decimal in scientific notation as PostgreSQL's numeric writes it: the
/// exponent is that of the unrounded value, so 9.99 to one place is `10.0e+00`.
fn decimal_scientific(v: i128, scale: i8, post: usize) -> String {
    let digits = v.unsigned_abs().to_string();
    let sign = if v < 0 { "-" } else { "" };
    if v == 0 {
        let frac = if post > 0 { format!(".{}", "0".repeat(post)) } else { String::new() };
        return format!("0{frac}{}", exponent_text(0));
    }
    let e = digits.len() as i64 - 1 - scale as i64;
    let mut kept = round_prefix(&digits, post + 1);
    kept.push_str(&"0".repeat((post + 1).saturating_sub(kept.len())));
    let (int, frac) = kept.split_at(kept.len() - post);
    let frac = if post > 0 { format!(".{frac}") } else { String::new() };
    format!("{sign}{int}{frac}{}", exponent_text(e))
}

/// What `to_number` read: the sign and the digits before and after the point.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    pub neg: bool,
    pub int: String,
    pub frac: String,
}

/// No digits were read: PostgreSQL's message shows the sign it read, or a blank.
fn bad_numeric(neg: bool) -> SqlError {
    let shown = if neg { "-" } else { " " };
    SqlError::new(SqlState::InvalidTextRepresentation, format!("invalid input syntax for type numeric: \"{shown}\""))
}

/// Reads the text by the template, as PostgreSQL's `to_number`; the
/// template's scale (digits after the point, and `V`'s) comes with it.
pub fn parse(text: &str, pattern: &str) -> std::result::Result<(Parsed, u32), SqlError> {
    let t = Template::parse(pattern)?;
    if t.eeee {
        return Err(SqlError::new(SqlState::FeatureNotSupported, "\"EEEE\" not supported for input"));
    }
    if t.roman.is_some() {
        return Err(SqlError::new(SqlState::FeatureNotSupported, "\"RN\" not supported for input"));
    }
    let explicit_sign = t.toks.iter().any(|k| matches!(k, Tok::S | Tok::Pr | Tok::Mi | Tok::Pl | Tok::Sg));
    let mut r = Reader { rest: text, p: Parsed::default(), after_point: false, any_digit: false };
    if t.has(&Tok::Pr)
        && let Some(rest) = text.trim_start().strip_prefix('<')
    {
        (r.rest, r.p.neg) = (rest, true);
    }
    for tok in &t.toks {
        r.step(tok, explicit_sign);
    }
    if !r.any_digit {
        return Err(bad_numeric(r.p.neg));
    }
    Ok((r.p, t.post as u32 + t.multi))
}

struct Reader<'a> {
    rest: &'a str,
    p: Parsed,
    after_point: bool,
    any_digit: bool,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn skip(&mut self) {
        if let Some(c) = self.peek() {
            self.rest = &self.rest[c.len_utf8()..];
        }
    }

    /// A sign at the reading point, taken if present.
    fn sign(&mut self) {
        match self.peek() {
            Some('-') => {
                self.p.neg = true;
                self.skip();
            }
            Some('+') => self.skip(),
            _ => {}
        }
    }

    fn digit(&mut self, explicit_sign: bool) {
        if !self.any_digit {
            self.rest = self.rest.trim_start_matches(' ');
            if !explicit_sign {
                self.sign();
            }
        }
        if let Some(c) = self.peek().filter(char::is_ascii_digit) {
            self.skip();
            self.any_digit = true;
            if self.after_point { self.p.frac.push(c) } else { self.p.int.push(c) }
        }
    }

    fn step(&mut self, tok: &Tok, explicit_sign: bool) {
        match tok {
            Tok::Digit(_) => self.digit(explicit_sign),
            Tok::Point => {
                self.after_point = true;
                if self.peek() == Some('.') {
                    self.skip();
                }
            }
            Tok::Group if self.peek() == Some(',') => self.skip(),
            Tok::Group | Tok::Th(_) => {}
            Tok::S | Tok::Mi | Tok::Pl | Tok::Sg => {
                self.rest = self.rest.trim_start_matches(' ');
                self.sign();
            }
            Tok::Pr => match self.peek() {
                Some('<') => {
                    self.p.neg = true;
                    self.skip();
                }
                Some('>') => self.skip(),
                _ => {}
            },
            Tok::Currency => {
                if self.peek().is_some_and(|c| !c.is_ascii_digit() && c != '-' && c != '+') {
                    self.skip();
                }
            }
            Tok::Lit(s) => {
                for _ in s.chars() {
                    self.skip();
                }
            }
        }
    }
}

/// The parsed digits as a decimal's unscaled value at `scale`, or None if
/// it does not fit in 38 digits.
pub fn unscaled(p: &Parsed, scale: u32) -> Option<i128> {
    let mut frac = p.frac.clone();
    frac.truncate(scale as usize);
    frac.push_str(&"0".repeat(scale as usize - frac.len()));
    let digits = format!("{}{frac}", p.int);
    let digits = digits.trim_start_matches('0');
    if digits.len() > 38 {
        return None;
    }
    let v: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    Some(if p.neg { -v } else { v })
}

/// The value of a number array's row, for formatting.
pub fn num_at(a: &dyn Array, i: usize) -> Option<Num> {
    Some(match a.data_type() {
        DataType::Decimal128(_, s) => Num::Decimal(a.as_primitive::<Decimal128Type>().value(i), *s),
        DataType::Int64 => Num::Int(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => Num::F64(a.as_primitive::<Float64Type>().value(i)),
        DataType::Float32 => Num::F32(a.as_primitive::<Float32Type>().value(i)),
        _ => return None,
    })
}

/// The type `to_char` formats a number argument as, if it is one.
pub fn number_type(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Decimal128(..) | DataType::Float64 | DataType::Float32 => Some(t.clone()),
        DataType::Decimal256(_, s) => Some(DataType::Decimal128(38, *s)),
        t if t.is_integer() => Some(DataType::Int64),
        _ => None,
    }
}

/// `to_char(number, pattern)` over arrays (`values` is a number array).
pub fn to_char(values: &ArrayRef, patterns: &ArrayRef, all_scalar: bool) -> Result<ColumnarValue> {
    let patterns = patterns.as_string::<i32>();
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 12);
    for i in 0..values.len() {
        match num_at(values.as_ref(), i).filter(|_| !values.is_null(i) && !patterns.is_null(i)) {
            Some(v) => out.append_value(format(v, patterns.value(i))?),
            None => out.append_null(),
        }
    }
    let array: ArrayRef = Arc::new(out.finish());
    columnar(array, all_scalar)
}

/// `to_number(text, pattern)`: numeric, at the scale the pattern's digits after the point imply.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToNumber(Signature);

/// The scale for a pattern not known when planning.
const DEFAULT_SCALE: i8 = 16;

impl ScalarUDFImpl for ToNumber {
    fn name(&self) -> &str {
        "to_number"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [a, b] if [a, b].iter().all(|t| t.is_null() || matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)) => {
                Ok(vec![DataType::Utf8, DataType::Utf8])
            }
            other => plan_err!("function to_number({other:?}) does not exist"),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, DEFAULT_SCALE))
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let pattern = args.scalar_arguments.get(1).and_then(|a| a.and_then(|v| v.try_as_str().flatten()));
        let scale = pattern.and_then(|p| Template::parse(p).ok()).map_or(DEFAULT_SCALE, |t| (t.post as u32 + t.multi).min(38) as i8);
        Ok(Arc::new(Field::new("to_number", DataType::Decimal128(38, scale), true)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Decimal128(_, scale) = *args.return_field.data_type() else { return plan_err!("to_number returns numeric") };
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (texts, patterns) = (arrays[0].as_string::<i32>(), arrays[1].as_string::<i32>());
        let mut out = Decimal128Builder::with_capacity(texts.len());
        for i in 0..texts.len() {
            // An empty pattern reads nothing: null, as in PostgreSQL.
            if texts.is_null(i) || patterns.is_null(i) || patterns.value(i).is_empty() {
                out.append_null();
                continue;
            }
            let (parsed, _) = parse(texts.value(i), patterns.value(i))?;
            let v = unscaled(&parsed, scale as u32).ok_or_else(|| SqlError::new(SqlState::NumericValueOutOfRange, "numeric field overflow"))?;
            out.append_value(v);
        }
        let array: ArrayRef = Arc::new(out.finish().with_precision_and_scale(38, scale)?);
        columnar(array, all_scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: Num, p: &str) -> String {
        format(v, p).unwrap()
    }

    /// A numeric literal as Arrow carries it.
    fn dec(s: &str) -> Num {
        let scale = s.split_once('.').map_or(0, |(_, f)| f.len());
        Num::Decimal(s.replace('.', "").parse().unwrap(), scale as i8)
    }

    /// Every expected value below is PostgreSQL 15's answer.
    #[test]
    fn formats_numerics_like_postgres() {
        let cases = [
            ("1234.5", "9999.99", " 1234.50"),
            ("1234.5", "FM9999.99", "1234.5"),
            ("1234.5", "9G999D00", " 1,234.50"),
            ("-1234.5", "00000.0", "-01234.5"),
            ("0.5", "0.9", " 0.5"),
            ("0.5", "9.9", "  .5"),
            ("12", "999PR", "  12 "),
            ("-12", "999PR", " <12>"),
            ("-12", "S999", " -12"),
            ("12345", "999", " ###"),
            ("-0.0", "9.9", "  .0"),
            ("-0.04", "9.9", "  .0"),
            ("2.5", "9", " 3"),
            ("1.250", "FM9.999", "1.25"),
            ("1.000", "FM9.999", "1."),
            ("10", "FM99.99", "10."),
            ("10", "FM99.00", "10.00"),
            ("10", "FM99.90", "10.00"),
            ("12", "999MI", " 12 "),
            ("-12", "999MI", " 12-"),
            ("-12", "MI999", "- 12"),
            ("12", "PL999", "+  12"),
            ("-12", "PL999", "  -12"),
            ("12", "999PL", "  12+"),
            ("-12", "SG999", "- 12"),
            ("-12", "999SG", " 12-"),
            ("12", "999S", " 12+"),
            ("12", "9S99", " +12"),
            ("12", "L999", "   12"),
            ("1", "9th", " 1st"),
            ("2", "99TH", "  2ND"),
            ("-3", "999th", "  -3"),
            ("1.5", "9.9th", " 1.5"),
            ("12.45", "99V9", " 125"),
            ("12345", "9,999", " #,###"),
            ("-123", "9,999", "  -123"),
            ("123", "0,999", " 0,123"),
            ("12", "9,9,9", "   1,2"),
            ("0", "999", "   0"),
            ("0", "FM999", "0"),
            ("0", "9.99", "  .00"),
            ("0", "FM9.99", "0."),
            ("0", "FM9.90", ".00"),
            ("0.1", "FM999.99", ".1"),
            ("-999.5", "999", "-###"),
            ("12345", "999.99", " ###.##"),
            ("-12", "9099", " -012"),
            ("-12", "9909", "  -12"),
            ("0.5", "09.9", " 00.5"),
            ("-0.5", "9.9", " -.5"),
            ("-0.5", ".9", "-.#"),
            ("12", "9.", " #."),
            ("12", "99.", " 12"),
            ("-12.5", "FM999.99PR", "<12.5>"),
            ("12.5", "99.9 \"x\" 9", " 12.5 x 0"),
            ("-1234", "9 9 9 9", "-1 2 3 4"),
            ("12.5", "99D9S", "12.5+"),
            ("123", "\"Total:\" 999", "Total:  123"),
        ];
        for (v, p, want) in cases {
            assert_eq!(f(dec(v), p), want, "to_char({v}, '{p}')");
        }
    }

    #[test]
    fn formats_roman_and_scientific_like_postgres() {
        assert_eq!(f(dec("485"), "RN"), "        CDLXXXV");
        assert_eq!(f(dec("485"), "FMRN"), "CDLXXXV");
        assert_eq!(f(dec("485"), "rn"), "        cdlxxxv");
        assert_eq!(f(dec("2.5"), "RN"), "            III");
        assert_eq!(f(Num::F64(2.5), "RN"), "             II");
        assert_eq!(f(dec("4000"), "RN"), "###############");
        assert_eq!(f(dec("1.5"), "\"a\"RN"), "a             II");
        assert_eq!(f(dec("1234.5"), "9.99EEEE"), " 1.23e+03");
        assert_eq!(f(dec("-0.000123"), "9.99EEEE"), "-1.23e-04");
        assert_eq!(f(dec("0"), "9.99EEEE"), " 0.00e+00");
        assert_eq!(f(dec("9.99"), "9.9EEEE"), " 10.0e+00");
        assert_eq!(f(dec("0.95"), "9EEEE"), " 10e-01");
        assert_eq!(f(Num::F64(9.99), "9.9EEEE"), " 1.0e+01");
        assert_eq!(f(Num::Int(95), "9EEEE"), " 1e+02");
        assert_eq!(f(Num::F64(1e100), "9.9EEEE"), " 1.0e+100");
        assert_eq!(f(Num::F64(f64::INFINITY), "9.9EEEE"), " #.#####");
        assert_eq!(format(dec("1"), "FM9.9EEEE").unwrap_err().state, SqlState::SyntaxError);
        assert_eq!(format(dec("1"), "9.9V9").unwrap_err().state, SqlState::SyntaxError);
    }

    #[test]
    fn formats_floats_and_ints_like_postgres() {
        assert_eq!(f(Num::F64(1.5), "9.999"), " 1.500");
        assert_eq!(f(Num::F64(-0.0), "9.9"), " -.0");
        assert_eq!(f(Num::F64(2.5), "9"), " 2");
        assert_eq!(f(Num::F64(3.5), "9"), " 4");
        assert_eq!(f(Num::F64(0.125), "9.99"), "  .12");
        assert_eq!(f(Num::F64(0.1), "9.99999999999999999999"), "  .10000000000000");
        assert_eq!(f(Num::F32(0.1), "9.9999999999"), "  .10000");
        assert_eq!(f(Num::F32(1.5), "9.999"), " 1.500");
        assert_eq!(f(Num::F64(1e20), "999999999999999999999"), " 100000000000000000000");
        assert_eq!(f(Num::F64(f64::NAN), "999.9"), " NaN");
        assert_eq!(f(Num::F64(f64::NAN), "9"), " #");
        assert_eq!(f(Num::F64(f64::NAN), "99999.99"), "   NaN");
        assert_eq!(f(Num::F64(f64::NEG_INFINITY), "999.9"), "-###.#");
        assert_eq!(f(Num::F64(5.5), "FM9th"), "6th");
        assert_eq!(f(Num::Int(12), "99V9"), " 120");
        assert_eq!(f(Num::Int(123456789012), "999,999,999,999"), " 123,456,789,012");
        assert_eq!(f(Num::Int(12), "FMS999"), "+12");
        assert_eq!(f(Num::Int(-12), "FM999PR"), "<12>");
        assert_eq!(f(Num::Int(1234), "0G000"), " 1,234");
        assert_eq!(f(Num::Int(-12), "00S"), "12-");
    }

    fn num(text: &str, pattern: &str) -> std::result::Result<String, SqlError> {
        let (p, scale) = parse(text, pattern)?;
        let v = unscaled(&p, scale).unwrap();
        let digits = padded_digits(v, scale as usize);
        let (i, f) = digits.split_at(digits.len() - scale as usize);
        Ok(format!("{}{i}{}{f}", if v < 0 { "-" } else { "" }, if scale > 0 { "." } else { "" }))
    }

    #[test]
    fn reads_numbers_like_postgres() {
        assert_eq!(num("1,234.50", "9G999D99").unwrap(), "1234.50");
        assert_eq!(num("-12.5", "S99.9").unwrap(), "-12.5");
        assert_eq!(num("$1,234", "L9G999").unwrap(), "1234");
        assert_eq!(num("12,454.8-", "99G999D9S").unwrap(), "-12454.8");
        assert_eq!(num("<12>", "99PR").unwrap(), "-12");
        assert_eq!(num("12.345", "99.9").unwrap(), "12.3");
        assert_eq!(num("12.36", "99.9").unwrap(), "12.3");
        assert_eq!(num("  12", "9999").unwrap(), "12");
        assert_eq!(num("1234", "99").unwrap(), "12");
        assert_eq!(num("-1234", "9999").unwrap(), "-1234");
        assert_eq!(num("1234-", "9999MI").unwrap(), "-1234");
        assert_eq!(num("1 2 3", "9 9 9").unwrap(), "123");
        assert_eq!(num("123abc", "999").unwrap(), "123");
        assert_eq!(num(".5", "9.9").unwrap(), "0.5");
        assert_eq!(num("1,2", "9,9").unwrap(), "12");
        let e = num("abc", "999").unwrap_err();
        assert_eq!((e.state.code(), e.message.as_str()), ("22P02", "invalid input syntax for type numeric: \" \""));
        assert_eq!(num("", "999").unwrap_err().state.code(), "22P02");
        assert_eq!(num("-", "9").unwrap_err().message, "invalid input syntax for type numeric: \"-\"");
        assert_eq!(num("1.5e3", "9.9EEEE").unwrap_err().state.code(), "0A000");
    }
}
