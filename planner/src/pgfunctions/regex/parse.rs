//! PostgreSQL's regular-expression syntax read into a tree: advanced REs
//! (AREs), and the extended, basic and literal forms the flags `e`, `b` and
//! `q` (or `(?e)`, `***=`, ...) choose, with PostgreSQL's error for each
//! pattern it refuses.

use super::classes::{self, Class};

/// How a pattern is read: the compile flags of PostgreSQL's regex library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Options {
    /// Case-insensitive (`i`).
    pub icase: bool,
    /// `.` and `[^...]` do not match a newline (`n`, `p`).
    pub nl_stop: bool,
    /// `^` and `$` also match after and before a newline (`n`, `w`).
    pub nl_anchor: bool,
    /// White space and `#` comments are ignored (`x`).
    pub expanded: bool,
    /// Extended syntax: `|`, `+`, `?`, `{}` and `()` without backslashes.
    pub extended: bool,
    /// Advanced features: escapes, non-greedy quantifiers, `(?...)`.
    pub advanced: bool,
    /// The whole pattern is a literal string (`q`, `***=`).
    pub quote: bool,
}

impl Default for Options {
    /// An ARE, as PostgreSQL's functions and operators read a pattern.
    fn default() -> Self {
        Options { icase: false, nl_stop: false, nl_anchor: false, expanded: false, extended: true, advanced: true, quote: false }
    }
}

impl Options {
    /// Sets a flag that means the same as a function's flag and as an
    /// embedded `(?...)` option (c i m n p q s t w x); false for any other.
    pub fn set_common(&mut self, c: char) -> bool {
        match c {
            'c' => self.icase = false,
            'i' => self.icase = true,
            'm' | 'n' => (self.nl_stop, self.nl_anchor) = (true, true),
            'p' => (self.nl_stop, self.nl_anchor) = (true, false),
            'q' => (self.quote, self.advanced, self.extended) = (true, false, false),
            's' => (self.nl_stop, self.nl_anchor) = (false, false),
            't' => self.expanded = false,
            'w' => (self.nl_stop, self.nl_anchor) = (false, true),
            'x' => self.expanded = true,
            _ => return false,
        }
        true
    }
}

/// A pattern PostgreSQL refuses, in its words (after "invalid regular expression: ").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub &'static str);

pub const EESCAPE: Error = Error("invalid escape \\ sequence");
pub const ESUBREG: Error = Error("invalid backreference number");
pub const EBRACK: Error = Error("brackets [] not balanced");
pub const EPAREN: Error = Error("parentheses () not balanced");
pub const EBRACE: Error = Error("braces {} not balanced");
pub const BADBR: Error = Error("invalid repetition count(s)");
pub const ERANGE: Error = Error("invalid character range");
pub const BADRPT: Error = Error("quantifier operand invalid");
pub const BADOPT: Error = Error("invalid embedded option");
pub const ECTYPE: Error = Error("invalid character class");
pub const ECOLLATE: Error = Error("invalid collating element");
pub const BADPAT: Error = Error("invalid regexp (reg version 0.8)");
pub const INVARG: Error = Error("invalid argument to regex function");

type Result<T> = std::result::Result<T, Error>;

/// The largest bound of `{m,n}`.
const DUPMAX: u32 = 255;

/// Alternatives (`a|b`), each a sequence of items.
#[derive(Debug, Clone, Default)]
pub struct Re {
    pub branches: Vec<Vec<Item>>,
}

/// One element of a branch.
#[derive(Debug, Clone)]
pub enum Item {
    /// A zero-width constraint (`^`, `\m`, ...).
    Look(Look),
    /// A lookahead or lookbehind constraint.
    Around { behind: bool, negate: bool, re: Re },
    /// An atom with its quantifier (`{1,1}` when it has none).
    Atom { atom: Atom, min: u32, max: Option<u32>, pref: Pref },
}

#[derive(Debug, Clone)]
pub enum Atom {
    Set(Set),
    /// Parentheses, capturing group `cap` (numbered from 1) or not.
    Group {
        cap: Option<usize>,
        re: Re,
    },
    /// `\n`, with what group `n` can match (its constraints dropped), which
    /// the text must repeat.
    Backref {
        n: usize,
        re: Re,
    },
}

/// Whether a quantifier prefers the longest or the shortest match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pref {
    None,
    Longer,
    Shorter,
}

/// A zero-width constraint at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// The start of the string, or of a line when `lines`.
    Start {
        lines: bool,
    },
    /// The end of the string, or of a line when `lines`.
    End {
        lines: bool,
    },
    WordStart,
    WordEnd,
    Boundary,
    NotBoundary,
}

/// The characters one atom matches.
#[derive(Debug, Clone, Default)]
pub struct Set {
    pub negated: bool,
    pub ranges: Vec<(char, char)>,
    pub classes: Vec<Class>,
    pub not_classes: Vec<Class>,
    /// Membership of each ASCII character, worked out once.
    ascii: u128,
}

impl Set {
    fn of(c: char, icase: bool) -> Set {
        let mut s = Set::default();
        s.add_char(c, icase);
        s.done()
    }

    fn add_char(&mut self, c: char, icase: bool) {
        if icase {
            for v in classes::variants(c) {
                self.ranges.push((v, v));
            }
        } else {
            self.ranges.push((c, c));
        }
    }

    /// `a-b`, with every case variant outside the range when `icase`.
    fn add_range(&mut self, a: char, b: char, icase: bool) {
        self.ranges.push((a, b));
        if icase {
            for c in (a..=b).flat_map(classes::variants) {
                if c < a || c > b {
                    self.ranges.push((c, c));
                }
            }
        }
    }

    fn done(mut self) -> Set {
        self.ascii = (0..128u8).filter(|&b| self.slow_contains(b as char)).fold(0, |m, b| m | 1 << b);
        self
    }

    fn slow_contains(&self, c: char) -> bool {
        let listed =
            self.ranges.iter().any(|&(a, b)| a <= c && c <= b) || self.classes.iter().any(|k| k.contains(c)) || self.not_classes.iter().any(|k| !k.contains(c));
        listed != self.negated
    }

    pub fn contains(&self, c: char) -> bool {
        if c.is_ascii() { self.ascii >> (c as u32) & 1 == 1 } else { self.slow_contains(c) }
    }
}

/// A parsed pattern.
#[derive(Debug)]
pub struct Parsed {
    pub re: Re,
    /// The number of capturing groups.
    pub groups: usize,
    /// The options in force after the pattern's own (`(?i)`, `***=`).
    pub opts: Options,
}

/// Reads `pattern` under `opts` (from the function's flags).
pub fn parse(pattern: &str, opts: Options) -> Result<Parsed> {
    if opts.quote && (opts.advanced || opts.expanded || opts.nl_stop || opts.nl_anchor) {
        return Err(INVARG);
    }
    let mut p = Parser { s: pattern.chars().collect(), i: 0, opts, ncap: 0, closed: vec![None], last: Last::Start, in_around: false };
    p.prefixes()?;
    let re = p.parse_re(false)?;
    Ok(Parsed { re, groups: p.ncap, opts: p.opts })
}

/// What came before a token, which some BRE tokens depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Start,
    Open,
    Caret,
    Other,
}

/// A token of the main (not bracket or bound) context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    End,
    Or,
    Close,
    Open { cap: bool },
    Around { behind: bool, negate: bool },
    Star { greedy: bool },
    Plus { greedy: bool },
    Quest { greedy: bool },
    Brace,
    Bracket { negated: bool },
    Dot,
    Caret,
    Dollar,
    Char(char),
    Nothing,
    Class(Class, bool),
    Look(Look),
    Backref(usize),
}

/// What a backslash escape stands for.
enum Esc {
    Char(char),
    /// A character code no text holds.
    Nothing,
    Class(Class, bool),
    Look(Look),
    Backref(usize),
}

struct Parser {
    s: Vec<char>,
    i: usize,
    opts: Options,
    /// Capturing groups opened so far.
    ncap: usize,
    /// The groups complete (and not cancelled by `{0}`), by number, as a
    /// back reference to each matches.
    closed: Vec<Option<Re>>,
    last: Last,
    in_around: bool,
}

impl Parser {
    fn peek_char(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn at(&self, text: &str) -> bool {
        text.chars().enumerate().all(|(k, c)| self.peek_char(k) == Some(c))
    }

    /// `***=`, `***:` and embedded options `(?ix)` at the start.
    fn prefixes(&mut self) -> Result<()> {
        if self.opts.quote {
            return Ok(());
        }
        if self.s.len() >= 4 && self.at("***") {
            match self.s[3] {
                '?' => return Err(BADPAT),
                '=' => {
                    self.opts = Options { quote: true, advanced: false, extended: false, expanded: false, nl_stop: false, nl_anchor: false, ..self.opts };
                    self.i = 4;
                    return Ok(());
                }
                ':' => {
                    self.opts.advanced = true;
                    self.opts.extended = true;
                    self.i = 4;
                }
                _ => return Err(BADRPT),
            }
        }
        let options = self.at("(?") && self.peek_char(2).is_some_and(|c| c.is_ascii_alphabetic());
        if !self.opts.advanced || !options {
            return Ok(());
        }
        self.i += 2;
        while let Some(c) = self.peek_char(0).filter(char::is_ascii_alphabetic) {
            self.embedded_option(c)?;
            self.i += 1;
        }
        if self.peek_char(0) != Some(')') {
            return Err(BADOPT);
        }
        self.i += 1;
        if self.opts.quote {
            self.opts.expanded = false;
            self.opts.nl_stop = false;
            self.opts.nl_anchor = false;
        }
        Ok(())
    }

    fn embedded_option(&mut self, c: char) -> Result<()> {
        let o = &mut self.opts;
        match c {
            'b' => (o.advanced, o.extended, o.quote) = (false, false, false),
            'e' => (o.advanced, o.extended, o.quote) = (false, true, false),
            c if o.set_common(c) => {}
            _ => return Err(BADOPT),
        }
        Ok(())
    }

    /// Alternatives up to the end, or to the `)` of the group being read.
    fn parse_re(&mut self, in_group: bool) -> Result<Re> {
        let mut re = Re::default();
        loop {
            re.branches.push(self.parse_branch(in_group)?);
            let (tok, end) = self.token()?;
            match tok {
                Tok::Or => {
                    self.commit(end, Last::Other);
                    continue;
                }
                Tok::Close if in_group => {
                    self.commit(end, Last::Other);
                    return Ok(re);
                }
                Tok::End if !in_group => return Ok(re),
                _ => return Err(EPAREN),
            }
        }
    }

    fn parse_branch(&mut self, in_group: bool) -> Result<Vec<Item>> {
        let mut items = vec![];
        loop {
            let (tok, end) = self.token()?;
            match tok {
                Tok::End | Tok::Or => return Ok(items),
                Tok::Close if in_group => return Ok(items),
                // A stray `)` is an ordinary character in an ERE, an error otherwise.
                Tok::Close if self.opts.extended && !self.opts.advanced => {
                    self.commit(end, Last::Other);
                    self.quantified(Atom::Set(Set::of(')', self.opts.icase)), &mut items)?;
                }
                Tok::Close => return Err(EPAREN),
                _ => {
                    self.commit(end, Last::Other);
                    self.item(tok, &mut items)?;
                }
            }
        }
    }

    fn commit(&mut self, end: usize, last: Last) {
        self.i = end;
        self.last = last;
    }

    /// The item a token starts, added to `items`.
    fn item(&mut self, tok: Tok, items: &mut Vec<Item>) -> Result<()> {
        let icase = self.opts.icase;
        let atom = match tok {
            Tok::Caret => {
                self.last = Last::Caret;
                return self.constraint(Look::Start { lines: self.opts.nl_anchor }, items);
            }
            Tok::Dollar => return self.constraint(Look::End { lines: self.opts.nl_anchor }, items),
            Tok::Look(l) => return self.constraint(l, items),
            Tok::Around { behind, negate } => {
                let outer = std::mem::replace(&mut self.in_around, true);
                let re = self.parse_re(true);
                self.in_around = outer;
                items.push(Item::Around { behind, negate, re: re? });
                return Ok(());
            }
            Tok::Star { .. } | Tok::Plus { .. } | Tok::Quest { .. } | Tok::Brace => return Err(BADRPT),
            Tok::Char(c) => Atom::Set(Set::of(c, icase)),
            Tok::Nothing => Atom::Set(Set::default().done()),
            Tok::Dot => Atom::Set(self.any()),
            Tok::Bracket { negated } => Atom::Set(self.bracket(negated)?),
            Tok::Class(k, negated) => Atom::Set(self.class_set(k, negated)),
            Tok::Open { cap } => self.group(cap)?,
            Tok::Backref(n) => match self.closed.get(n).cloned().flatten() {
                Some(re) if !self.in_around => Atom::Backref { n, re },
                _ => return Err(ESUBREG),
            },
            Tok::End | Tok::Or | Tok::Close => unreachable!("the branch loop handles {tok:?}"),
        };
        self.quantified(atom, items)
    }

    fn constraint(&mut self, look: Look, items: &mut Vec<Item>) -> Result<()> {
        items.push(Item::Look(look));
        Ok(())
    }

    fn any(&self) -> Set {
        let mut s = Set { negated: true, ..Set::default() };
        if self.opts.nl_stop {
            s.ranges.push(('\n', '\n'));
        }
        s.done()
    }

    fn class_set(&self, k: Class, negated: bool) -> Set {
        let k = if self.opts.icase { k.ignoring_case() } else { k };
        let s = if negated { Set { not_classes: vec![k], ..Set::default() } } else { Set { classes: vec![k], ..Set::default() } };
        s.done()
    }

    fn group(&mut self, cap: bool) -> Result<Atom> {
        let n = (cap && !self.in_around).then(|| {
            self.ncap += 1;
            self.closed.push(None);
            self.ncap
        });
        self.last = Last::Open;
        let re = self.parse_re(true)?;
        if let Some(n) = n {
            self.closed[n] = Some(without_constraints(&re));
        }
        Ok(Atom::Group { cap: n, re })
    }

    /// An atom and the quantifier after it, if any.
    fn quantified(&mut self, atom: Atom, items: &mut Vec<Item>) -> Result<()> {
        let (tok, end) = self.token()?;
        let (min, max, pref) = match tok {
            Tok::Star { greedy } => (0, None, greedy),
            Tok::Plus { greedy } => (1, None, greedy),
            Tok::Quest { greedy } => (0, Some(1), greedy),
            Tok::Brace => {
                self.i = end;
                let (min, max, pref) = self.bound()?;
                return self.push_atom(atom, min, max, pref, items);
            }
            _ => {
                items.push(Item::Atom { atom, min: 1, max: Some(1), pref: Pref::None });
                return Ok(());
            }
        };
        self.commit(end, Last::Other);
        self.push_atom(atom, min, max, if pref { Pref::Longer } else { Pref::Shorter }, items)
    }

    fn push_atom(&mut self, atom: Atom, min: u32, max: Option<u32>, pref: Pref, items: &mut Vec<Item>) -> Result<()> {
        // `{0}` cancels the atom, and a group's number stays unmatched.
        if max == Some(0) {
            if let Atom::Group { cap: Some(n), .. } = atom {
                self.closed[n] = None;
            }
            return Ok(());
        }
        items.push(Item::Atom { atom, min, max, pref });
        Ok(())
    }

    /// `{m}`, `{m,}`, `{m,n}` after its `{` (BRE: `\{m,n\}`), with `?` after it
    /// for the non-greedy form in an ARE.
    fn bound(&mut self) -> Result<(u32, Option<u32>, Pref)> {
        let min = self.bound_number()?;
        let (max, pref_given) = if self.bound_char()? == Some(',') {
            self.i += 1;
            let max = if self.bound_char()?.is_some_and(|c| c.is_ascii_digit()) { Some(self.bound_number()?) } else { None };
            if max.is_some_and(|n| n < min) {
                return Err(BADBR);
            }
            (max, true)
        } else {
            (Some(min), false)
        };
        let bre = !self.opts.extended;
        match self.bound_char()? {
            Some('\\') if bre && self.peek_char(1) == Some('}') => self.i += 2,
            Some('}') if !bre => self.i += 1,
            _ => return Err(BADBR),
        }
        self.last = Last::Other;
        let greedy = !(self.opts.advanced && self.peek_char(0) == Some('?') && {
            self.i += 1;
            true
        });
        let pref = match (pref_given, greedy) {
            (false, _) => Pref::None,
            (true, true) => Pref::Longer,
            (true, false) => Pref::Shorter,
        };
        Ok((min, max, pref))
    }

    /// The next character inside a bound (after white space in expanded
    /// syntax); the bound must end before the pattern does.
    fn bound_char(&mut self) -> Result<Option<char>> {
        if self.opts.expanded {
            self.skip();
        }
        match self.peek_char(0) {
            None => Err(EBRACE),
            c => Ok(c),
        }
    }

    /// A bound's number; none at all is 0 (`\{\}` in a BRE).
    fn bound_number(&mut self) -> Result<u32> {
        let mut n = 0;
        while let Some(d) = self.bound_char()?.and_then(|c| c.to_digit(10)) {
            if n > DUPMAX {
                return Err(BADBR);
            }
            n = n * 10 + d;
            self.i += 1;
        }
        if n > DUPMAX { Err(BADBR) } else { Ok(n) }
    }

    /// White space and `#` comments, skipped in expanded syntax.
    fn skip(&mut self) {
        loop {
            while self.peek_char(0).is_some_and(|c| Class::Space.contains(c)) {
                self.i += 1;
            }
            if self.peek_char(0) != Some('#') {
                return;
            }
            while self.peek_char(0).is_some_and(|c| c != '\n') {
                self.i += 1;
            }
        }
    }

    /// The next token and where it ends, without taking it.
    fn token(&mut self) -> Result<(Tok, usize)> {
        let start = self.i;
        let found = self.read_token();
        let end = self.i;
        self.i = start;
        found.map(|t| (t, end))
    }

    fn read_token(&mut self) -> Result<Tok> {
        if self.opts.quote {
            return Ok(self.next_char().map_or(Tok::End, Tok::Char));
        }
        loop {
            if self.opts.expanded {
                self.skip();
            }
            let Some(c) = self.next_char() else { return Ok(Tok::End) };
            if !self.opts.extended {
                return self.bre_token(c);
            }
            // `(?#...)` is a comment in an ARE.
            if c == '(' && self.opts.advanced && self.peek_char(0) == Some('?') && self.peek_char(1) == Some('#') {
                while self.next_char().is_some_and(|c| c != ')') {}
                continue;
            }
            return self.ere_token(c);
        }
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek_char(0)?;
        self.i += 1;
        Some(c)
    }

    /// A non-greedy `?` after a quantifier, in an ARE.
    fn lazy(&mut self) -> bool {
        if self.opts.advanced && self.peek_char(0) == Some('?') {
            self.i += 1;
            return false;
        }
        true
    }

    fn ere_token(&mut self, c: char) -> Result<Tok> {
        Ok(match c {
            '|' => Tok::Or,
            '*' => Tok::Star { greedy: self.lazy() },
            '+' => Tok::Plus { greedy: self.lazy() },
            '?' => Tok::Quest { greedy: self.lazy() },
            '{' => {
                if self.opts.expanded {
                    self.skip();
                }
                if self.peek_char(0).is_some_and(|c| c.is_ascii_digit()) { Tok::Brace } else { Tok::Char('{') }
            }
            '(' if self.opts.advanced && self.peek_char(0) == Some('?') => self.paren_extension()?,
            '(' => Tok::Open { cap: true },
            ')' => Tok::Close,
            '[' => self.bracket_token(),
            '.' => Tok::Dot,
            '^' => Tok::Caret,
            '$' => Tok::Dollar,
            '\\' => match self.next_char() {
                None => return Err(EESCAPE),
                Some(c) if !self.opts.advanced => Tok::Char(c),
                Some(c) => match self.escape(c)? {
                    Esc::Char(c) => Tok::Char(c),
                    Esc::Nothing => Tok::Nothing,
                    Esc::Class(k, negated) => Tok::Class(k, negated),
                    Esc::Look(l) => Tok::Look(l),
                    Esc::Backref(n) => Tok::Backref(n),
                },
            },
            c => Tok::Char(c),
        })
    }

    /// `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` after the `(`.
    fn paren_extension(&mut self) -> Result<Tok> {
        self.i += 1;
        let tok = match self.next_char() {
            Some(':') => Tok::Open { cap: false },
            Some('=') => Tok::Around { behind: false, negate: false },
            Some('!') => Tok::Around { behind: false, negate: true },
            Some('<') => match self.next_char() {
                Some('=') => Tok::Around { behind: true, negate: false },
                Some('!') => Tok::Around { behind: true, negate: true },
                _ => return Err(BADRPT),
            },
            _ => return Err(BADRPT),
        };
        Ok(tok)
    }

    /// `[`, `[^`, or the word constraints `[[:<:]]` and `[[:>:]]`.
    fn bracket_token(&mut self) -> Tok {
        if self.at("[:<:]]") || self.at("[:>:]]") {
            let start = self.peek_char(2) == Some('<');
            self.i += 6;
            return Tok::Look(if start { Look::WordStart } else { Look::WordEnd });
        }
        let negated = self.peek_char(0) == Some('^');
        if negated {
            self.i += 1;
        }
        Tok::Bracket { negated }
    }

    fn bre_token(&mut self, c: char) -> Result<Tok> {
        let after_open = matches!(self.last, Last::Start | Last::Open);
        Ok(match c {
            '*' if after_open || self.last == Last::Caret => Tok::Char('*'),
            '*' => Tok::Star { greedy: true },
            '[' => self.bracket_token(),
            '.' => Tok::Dot,
            '^' if after_open => Tok::Caret,
            '$' => {
                if self.opts.expanded {
                    self.skip();
                }
                if self.peek_char(0).is_none() || self.at("\\)") { Tok::Dollar } else { Tok::Char('$') }
            }
            '\\' => match self.next_char() {
                None => return Err(EESCAPE),
                Some('{') => Tok::Brace,
                Some('(') => Tok::Open { cap: true },
                Some(')') => Tok::Close,
                Some('<') => Tok::Look(Look::WordStart),
                Some('>') => Tok::Look(Look::WordEnd),
                Some(d @ '1'..='9') => Tok::Backref(d as usize - '0' as usize),
                Some(c) => Tok::Char(c),
            },
            c => Tok::Char(c),
        })
    }

    /// An ARE escape after its backslash.
    fn escape(&mut self, c: char) -> Result<Esc> {
        if !c.is_ascii_alphanumeric() {
            return Ok(Esc::Char(c));
        }
        let class = |k, negated| Ok(Esc::Class(k, negated));
        let chr = |c: char| Ok(Esc::Char(c));
        match c {
            'a' => chr('\u{7}'),
            'A' => Ok(Esc::Look(Look::Start { lines: false })),
            'b' => chr('\u{8}'),
            'B' => chr('\\'),
            'c' => match self.next_char() {
                Some(x) => chr(char::from_u32(x as u32 & 0x1F).unwrap_or('\0')),
                None => Err(EESCAPE),
            },
            'd' => class(Class::Digit, false),
            'D' => class(Class::Digit, true),
            'e' => chr('\u{1B}'),
            'f' => chr('\u{C}'),
            'm' => Ok(Esc::Look(Look::WordStart)),
            'M' => Ok(Esc::Look(Look::WordEnd)),
            'n' => chr('\n'),
            'r' => chr('\r'),
            's' => class(Class::Space, false),
            'S' => class(Class::Space, true),
            't' => chr('\t'),
            'u' => self.code_point(4, 4),
            'U' => self.code_point(8, 8),
            'v' => chr('\u{B}'),
            'w' => class(Class::Word, false),
            'W' => class(Class::Word, true),
            'x' => self.code_point(1, 255),
            'y' => Ok(Esc::Look(Look::Boundary)),
            'Y' => Ok(Esc::Look(Look::NotBoundary)),
            'Z' => Ok(Esc::Look(Look::End { lines: false })),
            '1'..='9' => self.digit_escape(),
            '0' => self.octal(),
            _ => Err(EESCAPE),
        }
    }

    /// `\1`..`\9`: a backreference when one digit, or when the number is
    /// of a group opened so far; else an octal character.
    fn digit_escape(&mut self) -> Result<Esc> {
        let first = self.i - 1;
        self.i = first;
        let (n, len) = self.digits(10, 255);
        if len == 1 || (n > 0 && n as usize <= self.ncap) {
            return Ok(Esc::Backref(n as usize));
        }
        self.i = first + 1;
        self.octal()
    }

    /// Up to three octal digits, the first already read.
    fn octal(&mut self) -> Result<Esc> {
        self.i -= 1;
        let (mut n, len) = self.digits(8, 3);
        if len == 0 {
            return Err(EESCAPE);
        }
        if n > 0xFF {
            self.i -= 1;
            n >>= 3;
        }
        Ok(char::from_u32(n).map_or(Esc::Nothing, Esc::Char))
    }

    /// A character by hexadecimal code (one no text can hold, a surrogate or
    /// beyond U+10FFFF, is nothing).
    fn code_point(&mut self, min: usize, max: usize) -> Result<Esc> {
        let (n, len) = self.digits(16, max);
        if len < min || n > 0x7FFF_FFFE {
            return Err(EESCAPE);
        }
        Ok(char::from_u32(n).map_or(Esc::Nothing, Esc::Char))
    }

    /// Digits of `base`, at most `max` of them: their value and count.
    fn digits(&mut self, base: u32, max: usize) -> (u32, usize) {
        let mut n: u32 = 0;
        let mut len = 0;
        while len < max {
            let Some(d) = self.peek_char(0).and_then(|c| c.to_digit(base)) else { break };
            n = n.wrapping_mul(base).wrapping_add(d);
            self.i += 1;
            len += 1;
        }
        (n, len)
    }

    /// A bracket expression after its `[` (and `^`).
    fn bracket(&mut self, negated: bool) -> Result<Set> {
        let icase = self.opts.icase;
        let mut set = Set { negated, ..Set::default() };
        let mut first = true;
        loop {
            let c = self.next_char().ok_or(EBRACK)?;
            if c == ']' && !first {
                break;
            }
            if c == '-' && !first && self.peek_char(0) != Some(']') {
                return Err(ERANGE);
            }
            first = false;
            let start = match self.bracket_element(c)? {
                Element::Char(c) => c,
                Element::Class(k) => {
                    set.classes.push(if icase { k.ignoring_case() } else { k });
                    continue;
                }
                Element::NotClass(k) => {
                    set.not_classes.push(if icase { k.ignoring_case() } else { k });
                    continue;
                }
                Element::Equivalent(c) => {
                    set.add_char(c, icase);
                    continue;
                }
                Element::Nothing => continue,
            };
            if self.peek_char(0) == Some('-') && self.peek_char(1).is_some_and(|c| c != ']') {
                self.i += 1;
                let end = self.range_end()?;
                if start > end {
                    return Err(ERANGE);
                }
                set.add_range(start, end, icase);
            } else {
                set.add_char(start, icase);
            }
        }
        if negated && self.opts.nl_stop {
            set.ranges.push(('\n', '\n'));
        }
        Ok(set.done())
    }

    /// The character that ends a range `a-z`.
    fn range_end(&mut self) -> Result<char> {
        let c = self.next_char().ok_or(EBRACK)?;
        if c == '[' && matches!(self.peek_char(0), Some(':' | '=')) {
            return Err(ERANGE);
        }
        match self.bracket_element(c)? {
            Element::Char(c) => Ok(c),
            _ => Err(ERANGE),
        }
    }

    /// One element of a bracket expression, its first character read.
    fn bracket_element(&mut self, c: char) -> Result<Element> {
        match c {
            '[' if matches!(self.peek_char(0), Some('.' | '=' | ':')) => {
                let kind = self.next_char().unwrap_or('.');
                let name = self.bracket_name(kind)?;
                match kind {
                    ':' => Class::named(&name).map(Element::Class).ok_or(ECTYPE),
                    '=' => collating(&name).map(Element::Equivalent),
                    _ => collating(&name).map(Element::Char),
                }
            }
            '\\' if self.opts.advanced => {
                let c = self.next_char().ok_or(EBRACK)?;
                match self.escape(c)? {
                    Esc::Char(c) => Ok(Element::Char(c)),
                    Esc::Nothing => Ok(Element::Nothing),
                    Esc::Class(k, false) => Ok(Element::Class(k)),
                    Esc::Class(k, true) => Ok(Element::NotClass(k)),
                    _ => Err(EESCAPE),
                }
            }
            c => Ok(Element::Char(c)),
        }
    }

    /// The text of `[.x.]`, `[=x=]` or `[:x:]` up to its closing `.]`, `=]`, `:]`.
    fn bracket_name(&mut self, kind: char) -> Result<String> {
        let mut name = String::new();
        loop {
            let c = self.next_char().ok_or(EBRACK)?;
            if c == kind && self.peek_char(0) == Some(']') {
                self.i += 1;
                break;
            }
            name.push(c);
        }
        if name.is_empty() {
            return Err(if kind == ':' { ECTYPE } else { ECOLLATE });
        }
        Ok(name)
    }
}

enum Element {
    Char(char),
    Nothing,
    Class(Class),
    NotClass(Class),
    Equivalent(char),
}

/// The character a collating element `[.x.]` names: one character, or a
/// POSIX name of an ASCII character.
fn collating(name: &str) -> Result<char> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(c);
    }
    CHARACTER_NAMES.iter().find(|(n, _)| *n == name).map(|&(_, c)| c).ok_or(ECOLLATE)
}

/// What `re` matches with its constraints taken as always holding (what
/// PostgreSQL lets a back reference to it match before comparing).
fn without_constraints(re: &Re) -> Re {
    let branch = |items: &Vec<Item>| {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Look(_) | Item::Around { .. } => None,
                Item::Atom { atom: Atom::Group { cap, re }, min, max, pref } => {
                    Some(Item::Atom { atom: Atom::Group { cap: *cap, re: without_constraints(re) }, min: *min, max: *max, pref: *pref })
                }
                other => Some(other.clone()),
            })
            .collect()
    };
    Re { branches: re.branches.iter().map(branch).collect() }
}

/// POSIX's names of the ASCII characters.
const CHARACTER_NAMES: &[(&str, char)] = &[
    ("NUL", '\0'),
    ("SOH", '\u{1}'),
    ("STX", '\u{2}'),
    ("ETX", '\u{3}'),
    ("EOT", '\u{4}'),
    ("ENQ", '\u{5}'),
    ("ACK", '\u{6}'),
    ("BEL", '\u{7}'),
    ("alert", '\u{7}'),
    ("BS", '\u{8}'),
    ("backspace", '\u{8}'),
    ("HT", '\t'),
    ("tab", '\t'),
    ("LF", '\n'),
    ("newline", '\n'),
    ("VT", '\u{B}'),
    ("vertical-tab", '\u{B}'),
    ("FF", '\u{C}'),
    ("form-feed", '\u{C}'),
    ("CR", '\r'),
    ("carriage-return", '\r'),
    ("SO", '\u{E}'),
    ("SI", '\u{F}'),
    ("DLE", '\u{10}'),
    ("DC1", '\u{11}'),
    ("DC2", '\u{12}'),
    ("DC3", '\u{13}'),
    ("DC4", '\u{14}'),
    ("NAK", '\u{15}'),
    ("SYN", '\u{16}'),
    ("ETB", '\u{17}'),
    ("CAN", '\u{18}'),
    ("EM", '\u{19}'),
    ("SUB", '\u{1A}'),
    ("ESC", '\u{1B}'),
    ("IS4", '\u{1C}'),
    ("FS", '\u{1C}'),
    ("IS3", '\u{1D}'),
    ("GS", '\u{1D}'),
    ("IS2", '\u{1E}'),
    ("RS", '\u{1E}'),
    ("IS1", '\u{1F}'),
    ("US", '\u{1F}'),
    ("space", ' '),
    ("exclamation-mark", '!'),
    ("quotation-mark", '"'),
    ("number-sign", '#'),
    ("dollar-sign", '$'),
    ("percent-sign", '%'),
    ("ampersand", '&'),
    ("apostrophe", '\''),
    ("left-parenthesis", '('),
    ("right-parenthesis", ')'),
    ("asterisk", '*'),
    ("plus-sign", '+'),
    ("comma", ','),
    ("hyphen", '-'),
    ("hyphen-minus", '-'),
    ("period", '.'),
    ("full-stop", '.'),
    ("slash", '/'),
    ("solidus", '/'),
    ("zero", '0'),
    ("one", '1'),
    ("two", '2'),
    ("three", '3'),
    ("four", '4'),
    ("five", '5'),
    ("six", '6'),
    ("seven", '7'),
    ("eight", '8'),
    ("nine", '9'),
    ("colon", ':'),
    ("semicolon", ';'),
    ("less-than-sign", '<'),
    ("equals-sign", '='),
    ("greater-than-sign", '>'),
    ("question-mark", '?'),
    ("commercial-at", '@'),
    ("left-square-bracket", '['),
    ("backslash", '\\'),
    ("reverse-solidus", '\\'),
    ("right-square-bracket", ']'),
    ("circumflex", '^'),
    ("circumflex-accent", '^'),
    ("underscore", '_'),
    ("low-line", '_'),
    ("grave-accent", '`'),
    ("left-brace", '{'),
    ("left-curly-bracket", '{'),
    ("vertical-line", '|'),
    ("right-brace", '}'),
    ("right-curly-bracket", '}'),
    ("tilde", '~'),
    ("DEL", '\u{7F}'),
];
