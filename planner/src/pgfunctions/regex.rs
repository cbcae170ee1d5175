//! PostgreSQL 15's regular expressions: `regexp_replace`, `regexp_match`,
//! `regexp_matches`, `regexp_count`, `regexp_instr`, `regexp_substr`,
//! `regexp_like`, `regexp_split_to_array` and `regexp_split_to_table`, the
//! operators `~`, `~*`, `!~`, `!~*`, `SIMILAR TO` and `similar_to_escape`,
//! and `substring(x FROM pattern FOR escape)`. Patterns are PostgreSQL's
//! AREs (or the ERE, BRE and literal forms the flags choose: `parse`),
//! matched by PostgreSQL's rules (`engine`: leftmost-longest, its
//! dissection of groups, back references, lookaround), with its errors.
//! The set-returning functions run in a select list as `unnest` of a
//! list-returning function, and in FROM as a subquery of that.

mod classes;
mod engine;
mod parse;

use crate::{SqlError, SqlState};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, Int32Builder, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::sql::sqlparser::ast;
use engine::{Match, Regex};
use parse::Options;
use std::collections::HashMap;
use std::sync::Arc;

/// The functions defined here.
pub fn all() -> Vec<ScalarUDF> {
    FUNCS.iter().map(|&func| ScalarUDF::new_from_impl(RegexFn { func, signature: Signature::user_defined(Volatility::Immutable) })).collect()
}

const FUNCS: [Func; 10] = [
    Func::Replace,
    Func::Match,
    Func::Matches,
    Func::Count,
    Func::Instr,
    Func::Substr,
    Func::Like,
    Func::SplitToArray,
    Func::SplitToTable,
    Func::SimilarEscape,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Func {
    Replace,
    Match,
    /// `regexp_matches`, as the list of its rows.
    Matches,
    Count,
    Instr,
    Substr,
    Like,
    SplitToArray,
    /// `regexp_split_to_table`, as the list of its rows.
    SplitToTable,
    SimilarEscape,
}

/// What an argument is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    Text,
    Int,
}

use Param::{Int, Text};

impl Func {
    fn name(self) -> &'static str {
        match self {
            Func::Replace => "regexp_replace",
            Func::Match => "regexp_match",
            Func::Matches => "weir_regexp_matches",
            Func::Count => "regexp_count",
            Func::Instr => "regexp_instr",
            Func::Substr => "regexp_substr",
            Func::Like => "regexp_like",
            Func::SplitToArray => "regexp_split_to_array",
            Func::SplitToTable => "weir_regexp_split_to_table",
            Func::SimilarEscape => "similar_to_escape",
        }
    }

    /// The name PostgreSQL's messages use.
    fn sql_name(self) -> &'static str {
        match self {
            Func::Matches => "regexp_matches",
            Func::SplitToTable => "regexp_split_to_table",
            other => other.name(),
        }
    }

    /// The parameters of the form `types` calls, if there is one.
    fn params(self, types: &[DataType]) -> Option<Vec<Param>> {
        let (all, fewest): (&[Param], usize) = match self {
            Func::Replace => {
                let fourth = if types.get(3).is_some_and(DataType::is_integer) { Int } else { Text };
                let all: &[Param] = match types.len() {
                    4 if fourth == Text => &[Text, Text, Text, Text],
                    _ => &[Text, Text, Text, Int, Int, Text],
                };
                (all, 3)
            }
            Func::Match | Func::Matches | Func::Like | Func::SplitToArray | Func::SplitToTable => (&[Text, Text, Text], 2),
            Func::Count => (&[Text, Text, Int, Text], 2),
            Func::Instr => (&[Text, Text, Int, Int, Int, Text, Int], 2),
            Func::Substr => (&[Text, Text, Int, Int, Text, Int], 2),
            Func::SimilarEscape => (&[Text, Text], 1),
        };
        (fewest..=all.len()).contains(&types.len()).then(|| all[..types.len()].to_vec())
    }

    fn result(self) -> DataType {
        let text_list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        match self {
            Func::Replace | Func::Substr | Func::SimilarEscape => DataType::Utf8,
            Func::Count | Func::Instr => DataType::Int32,
            Func::Like => DataType::Boolean,
            Func::Match | Func::SplitToArray | Func::SplitToTable => text_list(),
            Func::Matches => DataType::List(Arc::new(Field::new("item", text_list(), true))),
        }
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexFn {
    func: Func,
    signature: Signature,
}

impl ScalarUDFImpl for RegexFn {
    fn name(&self) -> &str {
        self.func.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let params = self.func.params(types).ok_or_else(|| undefined(self.func, types))?;
        types
            .iter()
            .zip(params)
            .map(|(t, p)| match p {
                Text if is_text(t) => Ok(if t == &DataType::Null { DataType::Utf8 } else { t.clone() }),
                // A string where PostgreSQL reads an integer is cast, as its unknown literals are.
                Int if t.is_integer() || is_text(t) => Ok(DataType::Int64),
                _ => Err(undefined(self.func, types)),
            })
            .collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.func.result())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let columns = args.args.iter().map(Column::of).collect::<Result<Vec<_>>>()?;
        let mut out = Output::new(self.func.result(), rows);
        let mut cache = Cache::default();
        for row in 0..rows {
            let call = Call { func: self.func, columns: &columns, row };
            if call.any_null() {
                out.null();
            } else {
                out.push(call.run(&mut cache)?)?;
            }
        }
        super::columnar(out.finish(), all_scalar)
    }
}

/// `function name(types) does not exist`, as PostgreSQL says it.
fn undefined(func: Func, types: &[DataType]) -> DataFusionError {
    let names: Vec<String> = types.iter().map(|t| if is_text(t) { "text".into() } else { crate::error::pg_type_name(&t.to_string()) }).collect();
    SqlError::new(SqlState::UndefinedFunction, format!("function {}({}) does not exist", func.sql_name(), names.join(", ")))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
        .into()
}

/// An argument's values: a column, or one value for every row.
struct Column {
    array: ArrayRef,
    scalar: bool,
}

impl Column {
    fn of(value: &ColumnarValue) -> Result<Column> {
        Ok(match value {
            ColumnarValue::Scalar(s) => Column { array: s.to_array_of_size(1)?, scalar: true },
            ColumnarValue::Array(a) => Column { array: Arc::clone(a), scalar: false },
        })
    }

    fn index(&self, row: usize) -> usize {
        if self.scalar { 0 } else { row }
    }

    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(self.index(row))
    }

    fn text(&self, row: usize) -> &str {
        let i = self.index(row);
        let a = self.array.as_ref();
        if let Some(s) = a.as_string_opt::<i32>() {
            s.value(i)
        } else if let Some(s) = a.as_string_opt::<i64>() {
            s.value(i)
        } else if let Some(s) = a.as_string_view_opt() {
            s.value(i)
        } else {
            ""
        }
    }

    fn int(&self, row: usize) -> i64 {
        let i = self.index(row);
        self.array.as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>().map_or(0, |a| a.value(i))
    }
}

/// One row's call of a function.
struct Call<'a> {
    func: Func,
    columns: &'a [Column],
    row: usize,
}

/// One row's result.
enum Value {
    Text(Option<String>),
    Int(i32),
    Bool(bool),
    List(Vec<Option<String>>),
    Lists(Vec<Vec<Option<String>>>),
}

impl Call<'_> {
    fn any_null(&self) -> bool {
        self.columns.iter().any(|c| c.is_null(self.row))
    }

    fn text(&self, i: usize) -> Option<&str> {
        self.columns.get(i).map(|c| c.text(self.row))
    }

    fn int(&self, i: usize) -> Option<i64> {
        self.columns.get(i).map(|c| c.int(self.row))
    }

    /// An optional positive (or, `zero_ok`, non-negative) integer argument.
    fn count_arg(&self, i: usize, name: &str, default: i64, zero_ok: bool) -> Result<i64> {
        match self.int(i) {
            None => Ok(default),
            Some(v) if v > 0 || (zero_ok && v == 0) => Ok(v),
            Some(v) => Err(invalid_parameter(name, v)),
        }
    }

    fn run(&self, cache: &mut Cache) -> Result<Value> {
        let subject = self.text(0).unwrap_or_default();
        match self.func {
            Func::SimilarEscape => similar_to_escape(subject, self.escape()?).map(|s| Value::Text(Some(s))),
            Func::Replace => self.replace(cache),
            Func::Count => {
                let start = self.count_arg(2, "start", 1, false)?;
                let re = self.regex(cache, 3, false)?;
                Ok(Value::Int(all_matches(&re, &chars(subject), start as usize - 1, true, false, false).len() as i32))
            }
            Func::Instr | Func::Substr => self.nth_match(cache),
            Func::Like => Ok(Value::Bool(self.regex(cache, 2, false)?.is_match(&chars(subject)))),
            Func::Match => {
                let re = self.regex(cache, 2, false)?;
                let hay = chars(subject);
                Ok(match re.find_at(&hay, 0, true) {
                    Some(m) => Value::List(match_texts(&re, &hay, &m)),
                    None => Value::Text(None),
                })
            }
            Func::Matches => {
                let (re, glob) = self.regex_glob(cache, 2)?;
                let hay = chars(subject);
                Ok(Value::Lists(all_matches(&re, &hay, 0, glob, false, true).iter().map(|m| match_texts(&re, &hay, m)).collect()))
            }
            Func::SplitToArray | Func::SplitToTable => {
                let re = self.regex(cache, 2, false)?;
                Ok(Value::List(split(&re, &chars(subject))))
            }
        }
    }

    /// The escape character of `similar_to_escape` (a backslash when not
    /// given, none when empty).
    fn escape(&self) -> Result<Option<char>> {
        let Some(e) = self.text(1) else { return Ok(Some('\\')) };
        let mut chars = e.chars();
        match (chars.next(), chars.next()) {
            (c, None) => Ok(c),
            _ => Err(SqlError::new(ESCAPE_ERROR, "invalid escape string").with_hint("Escape string must be empty or one character.").into()),
        }
    }

    /// The pattern (argument 1) compiled under the flags of argument
    /// `flags_at`, refused with `g` unless `glob_ok`.
    fn regex(&self, cache: &mut Cache, flags_at: usize, glob_ok: bool) -> Result<Arc<Regex>> {
        let (opts, glob) = flags(self.text(flags_at).unwrap_or(""))?;
        if glob && !glob_ok {
            let e = SqlError::new(SqlState::InvalidParameterValue, format!("{}() does not support the \"global\" option", self.func.sql_name()));
            let e = if self.func == Func::Match { e.with_hint("Use the regexp_matches function instead.") } else { e };
            return Err(e.into());
        }
        cache.get(self.text(1).unwrap_or(""), opts)
    }

    fn regex_glob(&self, cache: &mut Cache, flags_at: usize) -> Result<(Arc<Regex>, bool)> {
        let glob = flags(self.text(flags_at).unwrap_or(""))?.1;
        Ok((self.regex(cache, flags_at, true)?, glob))
    }

    /// `regexp_replace(source, pattern, replacement [, start [, N]] [, flags])`.
    fn replace(&self, cache: &mut Cache) -> Result<Value> {
        let four_text = self.columns.len() == 4 && self.columns[3].array.data_type() != &DataType::Int64;
        let (start, n, flags_at) = if four_text {
            (1, None, 3)
        } else {
            let start = self.count_arg(3, "start", 1, false)?;
            let n = if self.columns.len() > 4 { Some(self.count_arg(4, "n", 1, true)?) } else { None };
            (start, n, 5)
        };
        let (re, glob) = self.regex_glob(cache, flags_at)?;
        // Without N, 'g' replaces every match and its absence the first.
        let n = n.unwrap_or(if glob { 0 } else { 1 });
        let hay = chars(self.text(0).unwrap_or_default());
        Ok(Value::Text(Some(replace(&re, &hay, self.text(2).unwrap_or_default(), start as usize - 1, n as usize))))
    }

    /// `regexp_instr(string, pattern [, start [, N [, endoption [, flags [, subexpr]]]]])`
    /// and `regexp_substr(string, pattern [, start [, N [, flags [, subexpr]]]])`.
    fn nth_match(&self, cache: &mut Cache) -> Result<Value> {
        let instr = self.func == Func::Instr;
        let start = self.count_arg(2, "start", 1, false)?;
        let n = self.count_arg(3, "n", 1, false)?;
        let end_option = if instr { self.int(4).unwrap_or(0) } else { 0 };
        if end_option != 0 && end_option != 1 {
            return Err(invalid_parameter("endoption", end_option));
        }
        let (flags_at, subexpr_at) = if instr { (5, 6) } else { (4, 5) };
        let subexpr = self.int(subexpr_at).unwrap_or(0);
        if subexpr < 0 {
            return Err(invalid_parameter("subexpr", subexpr));
        }
        let re = self.regex(cache, flags_at, false)?;
        let hay = chars(self.text(0).unwrap_or_default());
        let found = all_matches(&re, &hay, start as usize - 1, true, false, subexpr > 0);
        // A pattern without groups has the whole match as its only one.
        let span = found.get(n as usize - 1).and_then(|m| match subexpr {
            0 => Some((m.start, m.end)),
            1 if re.groups == 0 => Some((m.start, m.end)),
            k => m.groups.get(k as usize).copied().flatten(),
        });
        Ok(match (instr, span) {
            (true, Some((s, e))) => Value::Int(if end_option == 1 { e } else { s } as i32 + 1),
            (true, None) => Value::Int(0),
            (false, span) => Value::Text(span.map(|(s, e)| hay[s..e].iter().collect())),
        })
    }
}

fn invalid_parameter(name: &str, value: i64) -> DataFusionError {
    SqlError::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"{name}\": {value}")).into()
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// A function's flags as compile options, and whether `g` was among them.
fn flags(text: &str) -> Result<(Options, bool)> {
    let mut o = Options::default();
    let mut glob = false;
    for c in text.chars() {
        match c {
            'g' => glob = true,
            'b' => (o.advanced, o.extended) = (false, false),
            // PostgreSQL sets the extended bit and then clears it with the
            // advanced ones: `e` gives basic REs (`(?e)` does give EREs).
            'e' => (o.advanced, o.extended) = (false, false),
            c if o.set_common(c) => {}
            other => return Err(SqlError::new(SqlState::InvalidParameterValue, format!("invalid regular expression option: \"{other}\"")).into()),
        }
    }
    Ok((o, glob))
}

type Compiled = HashMap<(String, Options), Arc<Regex>>;

/// Patterns compiled lately, shared by every call (as PostgreSQL keeps its
/// last 32), so a constant pattern is compiled once, not once a batch.
static RECENT: std::sync::LazyLock<std::sync::Mutex<Compiled>> = std::sync::LazyLock::new(Default::default);

/// The patterns one call over a batch has compiled, by pattern and options.
#[derive(Default)]
struct Cache {
    compiled: Compiled,
}

impl Cache {
    fn get(&mut self, pattern: &str, opts: Options) -> Result<Arc<Regex>> {
        let key = (pattern.to_string(), opts);
        if let Some(re) = self.compiled.get(&key) {
            return Ok(Arc::clone(re));
        }
        let shared = RECENT.lock().ok().and_then(|recent| recent.get(&key).cloned());
        let re = match shared {
            Some(re) => re,
            None => {
                let re = Arc::new(compile(pattern, opts)?);
                remember(&mut RECENT.lock().unwrap_or_else(|p| p.into_inner()), key.clone(), &re);
                re
            }
        };
        remember(&mut self.compiled, key, &re);
        Ok(re)
    }
}

/// Keeps `re` in `cache`, which forgets everything when it grows past 64.
fn remember(cache: &mut Compiled, key: (String, Options), re: &Arc<Regex>) {
    if cache.len() >= 64 {
        cache.clear();
    }
    cache.insert(key, Arc::clone(re));
}

/// A pattern compiled, or PostgreSQL's error for it (2201B).
fn compile(pattern: &str, opts: Options) -> Result<Regex> {
    Regex::new(pattern, opts).map_err(|e| SqlError::new(SqlState::InvalidRegularExpression, format!("invalid regular expression: {}", e.0)).into())
}

/// The matches from `start` on, as PostgreSQL's functions find them: every
/// one when `glob` (an empty match moves the search on a character), and
/// without empty matches at either end or right after the previous match
/// when `skip_degenerate` (for splitting).
fn all_matches(re: &Regex, hay: &[char], start: usize, glob: bool, skip_degenerate: bool, groups: bool) -> Vec<Match> {
    let mut out = vec![];
    let mut from = start;
    let mut prev_end = 0;
    while from <= hay.len() {
        let Some(m) = re.find_at(hay, from, groups) else { break };
        let (s, e) = (m.start, m.end);
        if !skip_degenerate || (s < hay.len() && e > prev_end) {
            out.push(m);
        }
        prev_end = e;
        if !glob {
            break;
        }
        from = if s == e { e + 1 } else { e };
    }
    out
}

/// A match as `regexp_match` gives it: its groups, or the whole match when none.
fn match_texts(re: &Regex, hay: &[char], m: &Match) -> Vec<Option<String>> {
    let text = |(s, e): (usize, usize)| hay[s..e].iter().collect::<String>();
    if re.groups == 0 {
        return vec![Some(text((m.start, m.end)))];
    }
    m.groups[1..].iter().map(|g| g.map(text)).collect()
}

/// The pieces between the matches.
fn split(re: &Regex, hay: &[char]) -> Vec<Option<String>> {
    let mut pieces = vec![];
    let mut from = 0;
    for m in all_matches(re, hay, 0, true, true, false) {
        pieces.push(Some(hay[from..m.start].iter().collect()));
        from = m.end;
    }
    pieces.push(Some(hay[from..].iter().collect()));
    pieces
}

/// `hay` with its `n`th match from `start` replaced (every one when `n` is 0).
fn replace(re: &Regex, hay: &[char], replacement: &str, start: usize, n: usize) -> String {
    let wants_groups = replacement.contains('\\');
    let mut out = String::new();
    let mut copied = 0;
    let mut seen = 0;
    let mut from = start;
    while from <= hay.len() {
        let Some(m) = re.find_at(hay, from, wants_groups) else { break };
        seen += 1;
        if n == 0 || seen == n {
            out.extend(&hay[copied..m.start]);
            substitute(&mut out, replacement, hay, &m);
            copied = m.end;
            if n != 0 {
                break;
            }
        }
        from = if m.start == m.end { m.end + 1 } else { m.end };
    }
    out.extend(&hay[copied.min(hay.len())..]);
    out
}

/// The replacement text for one match: `\1`..`\9` its groups, `\&` all of
/// it, `\\` a backslash; any other backslash stays.
fn substitute(out: &mut String, replacement: &str, hay: &[char], m: &Match) {
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let span = match chars.peek() {
            // A group that did not match, or that the pattern lacks, is empty.
            Some(&d @ '1'..='9') => Some(m.groups.get(d as usize - '0' as usize).copied().flatten().unwrap_or((0, 0))),
            Some('&') => Some((m.start, m.end)),
            Some('\\') => {
                chars.next();
                out.push('\\');
                continue;
            }
            _ => None,
        };
        match span {
            Some((s, e)) => {
                chars.next();
                out.extend(&hay[s..e]);
            }
            None => out.push('\\'),
        }
    }
}

/// The SQLSTATE of an escape PostgreSQL refuses (its are 22025 and 2200C,
/// which `SqlState` does not have yet).
const ESCAPE_ERROR: SqlState = SqlState::InvalidParameterValue;

/// A SQL regular expression (`SIMILAR TO`) as the ARE PostgreSQL's
/// `similar_to_escape` makes of it: anchored, `%` `.*`, `_` `.`, groups
/// non-capturing, and the escape character's `"` cutting out the part
/// `substring` returns.
fn similar_to_escape(pattern: &str, escape: Option<char>) -> Result<String> {
    let mut t = Similar { out: String::from("^(?:"), quotes: 0, depth: 0, bracket_pos: 0 };
    let mut after_escape = false;
    for c in pattern.chars() {
        if after_escape {
            t.escaped(c)?;
            after_escape = false;
        } else if Some(c) == escape {
            after_escape = true;
        } else if t.depth > 0 {
            t.in_bracket(c);
        } else {
            t.plain(c);
        }
    }
    t.out.push_str(")$");
    Ok(t.out)
}

/// The translation of a SQL regular expression so far.
struct Similar {
    out: String,
    /// Escape-double-quote separators seen.
    quotes: u32,
    /// Bracket expressions open (`[[:alpha:]` nests).
    depth: u32,
    /// Where in a bracket expression: 1 just after `[`, 2 after `[^`, 3 later
    /// (a `]` closes it only then).
    bracket_pos: u32,
}

impl Similar {
    fn escaped(&mut self, c: char) -> Result<()> {
        if c == '"' && self.depth == 0 {
            self.out.push_str(match self.quotes {
                0 => "){1,1}?(",
                1 => "){1,1}(?:",
                _ => return Err(SqlError::new(ESCAPE_ERROR, "SQL regular expression may not contain more than two escape-double-quote separators").into()),
            });
            self.quotes += 1;
        } else {
            self.out.push('\\');
            self.out.push(c);
            self.bracket_pos = 3;
        }
        Ok(())
    }

    fn in_bracket(&mut self, c: char) {
        if c == '\\' {
            self.out.push('\\');
        }
        self.out.push(c);
        match c {
            ']' if self.bracket_pos > 2 => self.depth -= 1,
            '[' => (self.depth, self.bracket_pos) = (self.depth + 1, 3),
            '^' => self.bracket_pos += 1,
            _ => self.bracket_pos = 3,
        }
    }

    fn plain(&mut self, c: char) {
        match c {
            '[' => (self.depth, self.bracket_pos) = (1, 1),
            '%' => return self.out.push_str(".*"),
            '_' => return self.out.push('.'),
            '(' => return self.out.push_str("(?:"),
            '\\' | '.' | '^' | '$' => self.out.push('\\'),
            _ => {}
        }
        self.out.push(c);
    }
}

/// The builder of a function's results.
enum Output {
    Text(StringBuilder),
    Int(Int32Builder),
    Bool(BooleanBuilder),
    List(ListBuilder<StringBuilder>),
    Lists(ListBuilder<ListBuilder<StringBuilder>>),
}

impl Output {
    fn new(t: DataType, rows: usize) -> Output {
        match t {
            DataType::Utf8 => Output::Text(StringBuilder::with_capacity(rows, rows * 8)),
            DataType::Int32 => Output::Int(Int32Builder::with_capacity(rows)),
            DataType::Boolean => Output::Bool(BooleanBuilder::with_capacity(rows)),
            DataType::List(f) if f.data_type() == &DataType::Utf8 => Output::List(ListBuilder::new(StringBuilder::new())),
            _ => Output::Lists(ListBuilder::new(ListBuilder::new(StringBuilder::new()))),
        }
    }

    fn null(&mut self) {
        match self {
            Output::Text(b) => b.append_null(),
            Output::Int(b) => b.append_null(),
            Output::Bool(b) => b.append_null(),
            Output::List(b) => b.append_null(),
            Output::Lists(b) => b.append_null(),
        }
    }

    fn push(&mut self, v: Value) -> Result<()> {
        match (self, v) {
            (Output::Text(b), Value::Text(t)) => b.append_option(t),
            (Output::Int(b), Value::Int(i)) => b.append_value(i),
            (Output::Bool(b), Value::Bool(x)) => b.append_value(x),
            (Output::List(b), Value::Text(None)) => b.append_null(),
            (Output::List(b), Value::List(items)) => b.append_value(items),
            (Output::Lists(b), Value::Lists(rows)) => {
                for row in rows {
                    b.values().append_value(row);
                }
                b.append(true);
            }
            _ => return Err(DataFusionError::Internal("a regex function's result does not fit its type".into())),
        }
        Ok(())
    }

    fn finish(self) -> ArrayRef {
        match self {
            Output::Text(mut b) => Arc::new(b.finish()),
            Output::Int(mut b) => Arc::new(b.finish()),
            Output::Bool(mut b) => Arc::new(b.finish()),
            Output::List(mut b) => Arc::new(b.finish()),
            Output::Lists(mut b) => Arc::new(b.finish()),
        }
    }
}

// ---- Rewrites of PostgreSQL's syntax (called from `pgsyntax` and `pgdialect`).

fn call(name: &str, args: Vec<ast::Expr>) -> ast::Expr {
    crate::sqlast::call(name, args)
}

fn literal(s: &str) -> ast::Expr {
    crate::sqlast::text(s)
}

/// `x ~ p` and its kin, `x SIMILAR TO p [ESCAPE e]`,
/// `substring(x FROM p FOR e)` and the set-returning functions as calls of
/// the functions here.
pub(crate) fn rewrite_expr(e: &ast::Expr) -> Option<ast::Expr> {
    use ast::BinaryOperator as B;
    match e {
        ast::Expr::Function(f) => set_returning(f),
        ast::Expr::BinaryOp { left, op: op @ (B::PGRegexMatch | B::PGRegexIMatch | B::PGRegexNotMatch | B::PGRegexNotIMatch), right } => {
            let mut args = vec![(**left).clone(), (**right).clone()];
            if matches!(op, B::PGRegexIMatch | B::PGRegexNotIMatch) {
                args.push(literal("i"));
            }
            Some(negated(call("regexp_like", args), matches!(op, B::PGRegexNotMatch | B::PGRegexNotIMatch)))
        }
        ast::Expr::SimilarTo { negated: not, expr, pattern, escape_char } => {
            let mut args = vec![(**pattern).clone()];
            if let Some(esc) = escape_char {
                args.push(ast::Expr::Value(esc.clone()));
            }
            let like = call("regexp_like", vec![(**expr).clone(), call("similar_to_escape", args)]);
            Some(negated(like, *not))
        }
        ast::Expr::Substring { expr, substring_from: Some(pattern), substring_for: Some(escape), .. } if is_string(pattern) && is_string(escape) => {
            let re = call("similar_to_escape", vec![(**pattern).clone(), (**escape).clone()]);
            Some(call("array_element", vec![call("regexp_match", vec![(**expr).clone(), re]), ast::Expr::Value(ast::Value::Number("1".into(), false).into())]))
        }
        _ => None,
    }
}

fn is_string(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Value(v) if matches!(v.value, ast::Value::SingleQuotedString(_)))
}

fn negated(e: ast::Expr, not: bool) -> ast::Expr {
    if not { ast::Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(ast::Expr::Nested(Box::new(e))) } } else { e }
}

/// The list-returning function that gives the rows of the set-returning
/// function `name` names.
fn rows_function(name: &ast::ObjectName) -> Option<&'static str> {
    let last = name.0.last()?.as_ident()?.value.to_lowercase();
    match last.as_str() {
        "regexp_matches" => Some(Func::Matches.name()),
        "regexp_split_to_table" => Some(Func::SplitToTable.name()),
        _ => None,
    }
}

/// `regexp_matches(...)` or `regexp_split_to_table(...)` in a select list
/// (at its top or inside an expression) as the `unnest` of the list of its rows.
fn set_returning(f: &ast::Function) -> Option<ast::Expr> {
    let rows = rows_function(&f.name)?;
    let mut list = f.clone();
    list.name = ast::ObjectName::from(vec![ast::Ident::new(rows)]);
    Some(call("unnest", vec![ast::Expr::Function(list)]))
}

/// `FROM regexp_split_to_table(...) [AS t [(c)]]` (or `regexp_matches`)
/// as `FROM (SELECT unnest(...) AS c) AS t`, the column named by the alias
/// as PostgreSQL names a single-column function's.
pub(crate) fn set_returning_in_from(factor: &mut ast::TableFactor) {
    let ast::TableFactor::Table { name, args: Some(args), alias, with_ordinality: false, .. } = factor else { return };
    let Some(rows) = rows_function(name) else { return };
    let function = if rows == Func::Matches.name() { "regexp_matches" } else { "regexp_split_to_table" };
    let alias = alias.clone().unwrap_or_else(|| ast::TableAlias { explicit: true, name: ast::Ident::new(function), columns: vec![], at: None });
    let column = alias.columns.first().map_or(alias.name.clone(), |c| c.name.clone());
    let args = args.args.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let select = format!("SELECT unnest({rows}({args})) AS {column}");
    let Ok(Some(ast::Statement::Query(subquery))) = crate::parse_statements(&select).map(|mut v| v.pop()) else { return };
    *factor = ast::TableFactor::Derived { lateral: false, subquery, alias: Some(ast::TableAlias { columns: vec![], ..alias }), sample: None };
}
