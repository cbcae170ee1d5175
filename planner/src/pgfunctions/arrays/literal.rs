//! An array's text form as PostgreSQL reads and writes it (`{1,2,3}`,
//! `{"a b",NULL,"x\"y"}`), for one dimension with lower bound 1. Reading
//! follows PostgreSQL 15's `array_in`: whitespace around an element is
//! dropped, `\` escapes the next character, an unquoted `NULL` is NULL, and
//! `[1:n]=` may come first. Writing follows `array_out`: an element is quoted
//! when it is empty, is `NULL`, or holds whitespace or `{}",\`.

use crate::{SqlError, SqlState};

/// Text that is not a one-dimensional array literal weir can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bad {
    /// Not an array literal; PostgreSQL's detail says why.
    Malformed(&'static str),
    /// Well-formed, but of a kind weir does not keep (several dimensions).
    Unsupported(&'static str),
    /// Dimensions whose upper bound is below the lower one.
    Bounds,
}

impl Bad {
    /// The error for a client, naming the text.
    pub fn error(&self, text: &str) -> SqlError {
        match self {
            Bad::Malformed(detail) => SqlError::new(SqlState::InvalidTextRepresentation, format!("malformed array literal: \"{text}\"")).with_detail(*detail),
            Bad::Unsupported(what) => SqlError::unsupported(format!("{what} are not supported by weir (array literal \"{text}\")"))
                .with_hint("weir's arrays have one dimension and start at subscript 1"),
            Bad::Bounds => SqlError::new(SqlState::ArraySubscriptError, "upper bound cannot be less than lower bound"),
        }
    }
}

/// What weir says of a multidimensional array.
pub const MULTIDIMENSIONAL: &str = "multidimensional arrays";

/// What weir says of an array whose subscripts do not start at 1.
pub const LOWER_BOUNDS: &str = "array lower bounds other than 1";

/// The whitespace PostgreSQL skips around array elements.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

/// The elements of an array literal, NULL as None.
pub fn parse(text: &str) -> Result<Vec<Option<String>>, Bad> {
    let mut p = Reader { chars: text.chars().peekable() };
    p.skip_space();
    let declared = if p.peek() == Some('[') { Some(p.dimension()?) } else { None };
    if p.next() != Some('{') {
        return Err(Bad::Malformed("Array value must start with \"{\" or dimension information."));
    }
    p.skip_space();
    let items = match p.peek() {
        Some('}') => {
            p.next();
            vec![]
        }
        Some('{') => return Err(Bad::Unsupported(MULTIDIMENSIONAL)),
        _ => p.elements()?,
    };
    p.skip_space();
    if p.next().is_some() {
        return Err(Bad::Malformed("Junk after closing right brace."));
    }
    match declared {
        Some(n) if n != items.len() => Err(Bad::Malformed("Specified array dimensions do not match array contents.")),
        _ => Ok(items),
    }
}

struct Reader<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Reader<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn next(&mut self) -> Option<char> {
        self.chars.next()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.next();
        }
    }

    /// A whole number, None when there is none here.
    fn number(&mut self) -> Option<i64> {
        self.skip_space();
        let mut digits = String::new();
        if let Some(sign @ ('-' | '+')) = self.peek() {
            digits.push(sign);
            self.next();
        }
        while let Some(d) = self.peek().filter(char::is_ascii_digit) {
            digits.push(d);
            self.next();
        }
        digits.parse().ok()
    }

    /// `[lb:ub]=` or `[ub]=` before the braces: the number of elements it declares.
    fn dimension(&mut self) -> Result<usize, Bad> {
        self.next();
        let first = self.number().ok_or(Bad::Malformed("\"[\" must introduce explicitly-specified array dimensions."))?;
        let (lower, upper) = if self.peek() == Some(':') {
            self.next();
            (first, self.number().ok_or(Bad::Malformed("Missing array dimension value."))?)
        } else {
            (1, first)
        };
        if self.next() != Some(']') {
            return Err(Bad::Malformed("Missing \"]\" after array dimensions."));
        }
        self.skip_space();
        match self.next() {
            Some('[') => Err(Bad::Unsupported(MULTIDIMENSIONAL)),
            Some('=') if upper < lower => Err(Bad::Bounds),
            Some('=') if lower != 1 => Err(Bad::Unsupported(LOWER_BOUNDS)),
            Some('=') => {
                self.skip_space();
                Ok((upper - lower + 1) as usize)
            }
            _ => Err(Bad::Malformed("Missing \"=\" after array dimensions.")),
        }
    }

    /// The elements after `{`, through the closing `}`.
    fn elements(&mut self) -> Result<Vec<Option<String>>, Bad> {
        let mut items = vec![];
        loop {
            self.skip_space();
            let item = match self.peek() {
                None => return Err(Bad::Malformed("Unexpected end of input.")),
                Some('"') => Some(self.quoted()?),
                Some(',') => return Err(Bad::Malformed("Unexpected \",\" character.")),
                Some('}') => return Err(Bad::Malformed("Unexpected \"}\" character.")),
                Some('{') => return Err(Bad::Malformed("Unexpected \"{\" character.")),
                Some(_) => self.unquoted()?,
            };
            items.push(item);
            self.skip_space();
            match self.next() {
                Some(',') => {}
                Some('}') => return Ok(items),
                None => return Err(Bad::Malformed("Unexpected end of input.")),
                Some(_) => return Err(Bad::Malformed("Unexpected array element.")),
            }
        }
    }

    /// A `"`-quoted element, through its closing quote.
    fn quoted(&mut self) -> Result<String, Bad> {
        self.next();
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Err(Bad::Malformed("Unexpected end of input.")),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.next().ok_or(Bad::Malformed("Unexpected end of input."))?),
                Some(c) => out.push(c),
            }
        }
    }

    /// An unquoted element, up to the `,` or `}` after it; None for `NULL`.
    fn unquoted(&mut self) -> Result<Option<String>, Bad> {
        let mut out = String::new();
        // Bytes of `out` up to its last character that is not plain whitespace.
        let mut kept = 0;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return Err(Bad::Malformed("Unexpected end of input.")),
                Some(',' | '}') => break,
                Some('"') => return Err(Bad::Malformed("Unexpected array element.")),
                Some('{') => return Err(Bad::Malformed("Unexpected \"{\" character.")),
                Some('\\') => {
                    self.next();
                    out.push(self.peek().ok_or(Bad::Malformed("Unexpected end of input."))?);
                    escaped = true;
                    kept = out.len();
                }
                Some(c) => {
                    out.push(c);
                    if !is_space(c) {
                        kept = out.len();
                    }
                }
            }
            self.next();
        }
        out.truncate(kept);
        Ok(if !escaped && out.eq_ignore_ascii_case("NULL") { None } else { Some(out) })
    }
}

/// Whether PostgreSQL quotes this element when it writes an array.
fn needs_quotes(item: &str) -> bool {
    item.is_empty() || item.eq_ignore_ascii_case("NULL") || item.chars().any(|c| is_space(c) || matches!(c, '{' | '}' | '"' | ',' | '\\'))
}

/// Appends one element as PostgreSQL writes it in an array (NULL for None).
pub fn push_item(out: &mut String, item: Option<&str>) {
    match item {
        None => out.push_str("NULL"),
        Some(s) if needs_quotes(s) => {
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        Some(s) => out.push_str(s),
    }
}

/// A one-dimensional array as PostgreSQL writes it, from its elements'
/// text forms (None for NULL): `{1,NULL,"a b"}`.
pub fn write<'a>(items: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_item(&mut out, item);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Option<&'static str>>, Bad> {
        parse(text).map(|items| items.into_iter().map(|i| i.map(|s| &*s.leak())).collect())
    }

    // Each expectation is what PostgreSQL 15 reads or refuses (`'...'::text[]`).
    #[test]
    fn reads_as_postgres() {
        assert_eq!(read(" {} "), Ok(vec![]));
        assert_eq!(read("{ }"), Ok(vec![]));
        assert_eq!(read("{ 1 , 2 }"), Ok(vec![Some("1"), Some("2")]));
        assert_eq!(read(r#"{"a b",c}"#), Ok(vec![Some("a b"), Some("c")]));
        assert_eq!(read(r#"{"a\"b"}"#), Ok(vec![Some("a\"b")]));
        assert_eq!(read(r"{a\,b}"), Ok(vec![Some("a,b")]));
        assert_eq!(read(r"{ a b }"), Ok(vec![Some("a b")]));
        assert_eq!(read(r"{x y   z}"), Ok(vec![Some("x y   z")]));
        assert_eq!(read(r"{a b\ }"), Ok(vec![Some("a b ")]));
        assert_eq!(read(r"{ \  }"), Ok(vec![Some(" ")]));
        assert_eq!(read(r"{\\}"), Ok(vec![Some("\\")]));
        assert_eq!(read(r#"{NULL,null,"NULL",\NULL, NULL ,NULL x}"#), Ok(vec![None, None, Some("NULL"), Some("NULL"), None, Some("NULL x")]));
        assert_eq!(read(r#"{""}"#), Ok(vec![Some("")]));
        assert_eq!(read(r#"{"a" , "b"}"#), Ok(vec![Some("a"), Some("b")]));
        assert_eq!(read("[1:2]={7,8}"), Ok(vec![Some("7"), Some("8")]));
        assert_eq!(read("[1:2] = {7,8}"), Ok(vec![Some("7"), Some("8")]));
        assert_eq!(read("[2]={7,8}"), Ok(vec![Some("7"), Some("8")]));
    }

    #[test]
    fn refuses_as_postgres() {
        let malformed = |t: &str| match parse(t) {
            Err(Bad::Malformed(d)) => d,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(malformed("{,}"), "Unexpected \",\" character.");
        assert_eq!(malformed("{1,,2}"), "Unexpected \",\" character.");
        assert_eq!(malformed("{1,}"), "Unexpected \"}\" character.");
        assert_eq!(malformed("{1,{2}}"), "Unexpected \"{\" character.");
        assert_eq!(malformed("{1 {2}}"), "Unexpected \"{\" character.");
        assert_eq!(malformed("{1,2"), "Unexpected end of input.");
        assert_eq!(malformed("{a\\}"), "Unexpected end of input.");
        assert_eq!(malformed("{\"}"), "Unexpected end of input.");
        assert_eq!(malformed("1,2}"), "Array value must start with \"{\" or dimension information.");
        assert_eq!(malformed(" "), "Array value must start with \"{\" or dimension information.");
        assert_eq!(malformed("{1,2} x"), "Junk after closing right brace.");
        assert_eq!(malformed("{}}"), "Junk after closing right brace.");
        assert_eq!(malformed("{a\"b\"}"), "Unexpected array element.");
        assert_eq!(malformed("{\"a\"b}"), "Unexpected array element.");
        assert_eq!(malformed("{\"a\" b}"), "Unexpected array element.");
        assert_eq!(malformed("[1:3]={7,8}"), "Specified array dimensions do not match array contents.");
        assert_eq!(malformed("[1:1]={}"), "Specified array dimensions do not match array contents.");
        assert_eq!(malformed("[1:2]{7,8}"), "Missing \"=\" after array dimensions.");
        assert_eq!(malformed("[1:2"), "Missing \"]\" after array dimensions.");
        assert_eq!(malformed("[a:2]={1,2}"), "\"[\" must introduce explicitly-specified array dimensions.");
        assert_eq!(parse("[1:0]={}"), Err(Bad::Bounds));
        assert_eq!(parse("{{1,2},{3,4}}"), Err(Bad::Unsupported(MULTIDIMENSIONAL)));
        assert_eq!(parse("[1:2][1:1]={{7},{8}}"), Err(Bad::Unsupported(MULTIDIMENSIONAL)));
        assert_eq!(parse("[0:1]={7,8}"), Err(Bad::Unsupported(LOWER_BOUNDS)));
    }

    // `SELECT ARRAY['null', 'Null x', E'a\tb', 'a}', '{a', 'é', 'a''b', ' ', 'x;y', E'\\', 'NULLS', '', 'x"y']` in PostgreSQL 15.
    #[test]
    fn writes_as_postgres() {
        let items = ["null", "Null x", "a\tb", "a}", "{a", "é", "a'b", " ", "x;y", "\\", "NULLS", "", "x\"y"];
        assert_eq!(write(items.iter().map(|s| Some(*s))), r#"{"null","Null x","a	b","a}","{a",é,a'b," ",x;y,"\\",NULLS,"","x\"y"}"#);
        assert_eq!(write([Some("1"), None]), "{1,NULL}");
        assert_eq!(write([]), "{}");
    }
}
