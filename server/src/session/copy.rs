//! COPY's text and CSV forms, as PostgreSQL writes and reads them: the
//! options of a `COPY` statement, one row as a line, and the rows of the
//! data a client sends with `COPY ... FROM STDIN`. Values are PostgreSQL
//! text forms (the wire layer makes them); NULL is `None`.

use datafusion::sql::sqlparser::ast::{CopyLegacyCsvOption, CopyLegacyOption, CopyOption};
use weir_planner::{SqlError, SqlResult, SqlState};

/// How COPY data is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFormat {
    pub csv: bool,
    pub header: bool,
    pub delimiter: char,
    pub null: String,
    pub quote: char,
    pub escape: char,
}

impl CopyFormat {
    /// The format a COPY statement's options ask for.
    pub fn of(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> SqlResult<CopyFormat> {
        let mut csv = false;
        let (mut header, mut delimiter, mut null, mut quote, mut escape) = (false, None, None, '"', None);
        for o in options {
            match o {
                CopyOption::Format(f) => match f.value.to_lowercase().as_str() {
                    "csv" => csv = true,
                    "text" => csv = false,
                    other => return Err(unsupported_format(other)),
                },
                CopyOption::Header(h) => header = *h,
                CopyOption::Delimiter(d) => delimiter = Some(*d),
                CopyOption::Null(n) => null = Some(n.clone()),
                CopyOption::Quote(q) => quote = *q,
                CopyOption::Escape(e) => escape = Some(*e),
                CopyOption::Encoding(e) if matches!(e.to_uppercase().as_str(), "UTF8" | "UTF-8") => {}
                other => return Err(SqlError::unsupported(format!("COPY option {other} is not supported"))),
            }
        }
        for o in legacy {
            match o {
                CopyLegacyOption::Csv(opts) => {
                    csv = true;
                    for c in opts {
                        match c {
                            CopyLegacyCsvOption::Header => header = true,
                            CopyLegacyCsvOption::Quote(q) => quote = *q,
                            CopyLegacyCsvOption::Escape(e) => escape = Some(*e),
                            other => return Err(SqlError::unsupported(format!("COPY option {other} is not supported"))),
                        }
                    }
                }
                CopyLegacyOption::Delimiter(d) => delimiter = Some(*d),
                CopyLegacyOption::Null(n) => null = Some(n.clone()),
                CopyLegacyOption::Binary => return Err(unsupported_format("binary")),
                other => return Err(SqlError::unsupported(format!("COPY option {other} is not supported"))),
            }
        }
        if header && !csv {
            return Err(SqlError::unsupported("COPY HEADER is available only in CSV mode").with_hint("add FORMAT csv"));
        }
        Ok(CopyFormat {
            csv,
            header,
            delimiter: delimiter.unwrap_or(if csv { ',' } else { '\t' }),
            null: null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() }),
            quote,
            escape: escape.unwrap_or(quote),
        })
    }

    /// One row as a line of COPY output, newline included.
    pub fn line(&self, values: &[Option<&str>]) -> String {
        let mut out = String::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            match v {
                None => out.push_str(&self.null),
                Some(v) if self.csv => self.csv_field(v, &mut out),
                Some(v) => text_field(v, self.delimiter, &mut out),
            }
        }
        out.push('\n');
        out
    }

    fn csv_field(&self, v: &str, out: &mut String) {
        let needs = v.is_empty() && self.null.is_empty() || v == self.null || v.contains([self.delimiter, self.quote, '\n', '\r']) || v.starts_with("\\.");
        if !needs {
            out.push_str(v);
            return;
        }
        out.push(self.quote);
        for c in v.chars() {
            if c == self.quote || c == self.escape {
                out.push(self.escape);
            }
            out.push(c);
        }
        out.push(self.quote);
    }

    /// The rows of COPY FROM data, each with one value per column.
    pub fn parse(&self, data: &str, columns: usize) -> SqlResult<Vec<Vec<Option<String>>>> {
        let rows = if self.csv { self.parse_csv(data)? } else { self.parse_text(data)? };
        let mut rows: Vec<Vec<Option<String>>> = rows.into_iter().filter(|r| !(r.len() == 1 && r[0].as_deref() == Some("\\."))).collect();
        if self.header && !rows.is_empty() {
            rows.remove(0);
        }
        for (i, r) in rows.iter().enumerate() {
            if r.len() != columns {
                let what = if r.len() < columns { "missing data for a column" } else { "extra data after last expected column" };
                return Err(SqlError::new(SqlState::BadCopyFileFormat, what).with_detail(format!(
                    "COPY line {}: {} values, {columns} expected",
                    i + 1,
                    r.len()
                )));
            }
        }
        Ok(rows)
    }

    fn parse_text(&self, data: &str) -> SqlResult<Vec<Vec<Option<String>>>> {
        let mut rows = Vec::new();
        for line in data.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let fields = line.split(self.delimiter).map(|f| if f == self.null { Ok(None) } else { unescape(f).map(Some) }).collect::<SqlResult<Vec<_>>>()?;
            rows.push(fields);
        }
        Ok(rows)
    }

    fn parse_csv(&self, data: &str) -> SqlResult<Vec<Vec<Option<String>>>> {
        let mut rows = Vec::new();
        let mut row: Vec<Option<String>> = Vec::new();
        let mut field = String::new();
        let (mut quoted, mut in_quotes, mut any) = (false, false, false);
        let mut chars = data.chars().peekable();
        let end_field = |field: &mut String, quoted: &mut bool, row: &mut Vec<Option<String>>| {
            let v = std::mem::take(field);
            row.push(if !*quoted && v == self.null { None } else { Some(v) });
            *quoted = false;
        };
        while let Some(c) = chars.next() {
            any = true;
            if in_quotes {
                if c == self.escape && chars.peek() == Some(&self.quote) && (self.escape != self.quote || c == self.quote) {
                    chars.next();
                    field.push(self.quote);
                } else if c == self.quote {
                    in_quotes = false;
                } else {
                    field.push(c);
                }
            } else if c == self.quote {
                in_quotes = true;
                quoted = true;
            } else if c == self.delimiter {
                end_field(&mut field, &mut quoted, &mut row);
            } else if c == '\n' || c == '\r' {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                end_field(&mut field, &mut quoted, &mut row);
                rows.push(std::mem::take(&mut row));
                any = false;
            } else {
                field.push(c);
            }
        }
        if in_quotes {
            return Err(SqlError::new(SqlState::BadCopyFileFormat, "unterminated CSV quoted field"));
        }
        if any {
            end_field(&mut field, &mut quoted, &mut row);
            rows.push(row);
        }
        Ok(rows)
    }
}

fn unsupported_format(f: &str) -> SqlError {
    SqlError::unsupported(format!("COPY format \"{f}\" is not supported")).with_hint("weir reads and writes COPY as text or csv")
}

/// A value in COPY's text form: backslash, newline, carriage return, tab
/// and the delimiter escaped with a backslash.
fn text_field(v: &str, delimiter: char, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == delimiter => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// Reads COPY text escapes (`\n`, `\t`, `\\`, `\b`, `\f`, `\v`, octal, `\xHH`).
fn unescape(f: &str) -> SqlResult<String> {
    if !f.contains('\\') {
        return Ok(f.to_string());
    }
    let mut out = String::with_capacity(f.len());
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('x') => {
                let hex: String = std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_hexdigit())).take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).map_err(|_| bad_escape())? as char);
            }
            Some(d @ '0'..='7') => {
                let mut n = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(x) => {
                            n = n * 8 + x;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(n).ok_or_else(bad_escape)?);
            }
            Some(other) => out.push(other),
            None => return Err(bad_escape()),
        }
    }
    Ok(out)
}

fn bad_escape() -> SqlError {
    SqlError::new(SqlState::BadCopyFileFormat, "invalid escape in COPY data")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> CopyFormat {
        CopyFormat::of(&[], &[]).unwrap()
    }
    fn csv() -> CopyFormat {
        CopyFormat { csv: true, header: false, delimiter: ',', null: String::new(), quote: '"', escape: '"' }
    }

    #[test]
    fn text_lines_escape_and_read_back() {
        let f = text();
        let line = f.line(&[Some("a\tb"), None, Some("back\\slash\nnl")]);
        assert_eq!(line, "a\\tb\t\\N\tback\\\\slash\\nnl\n");
        assert_eq!(f.parse(&line, 3).unwrap(), vec![vec![Some("a\tb".into()), None, Some("back\\slash\nnl".into())]]);
        assert_eq!(f.parse("1\n", 2).unwrap_err().state.code(), "22P04");
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let f = csv();
        assert_eq!(f.line(&[Some("plain"), Some("a,b"), Some("say \"hi\""), None, Some("")]), "plain,\"a,b\",\"say \"\"hi\"\"\",,\"\"\n");
        let rows = f.parse("plain,\"a,b\",\"say \"\"hi\"\"\",,\"\"\r\n\"multi\nline\",x,y,z,w\n", 5).unwrap();
        assert_eq!(rows[0], vec![Some("plain".into()), Some("a,b".into()), Some("say \"hi\"".into()), None, Some(String::new())]);
        assert_eq!(rows[1][0].as_deref(), Some("multi\nline"));
        assert!(f.parse("\"open", 1).is_err());
    }
}
