//! Character classes and case variants as PostgreSQL's regular expressions
//! see them in a `C.UTF-8` database, where they ask glibc (`iswalpha`,
//! `towlower`, ...): ASCII and the common scripts agree with Rust's Unicode
//! predicates, corrected here where glibc differs (other scripts' decimal
//! digits are letters, titlecase letters are upper case, no-break spaces
//! are not space). Characters newer than glibc's Unicode tables may differ.

/// A named class: `[[:alpha:]]`, and `\d` `\s` `\w` as `digit`, `space`, `word`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Alnum,
    Alpha,
    Ascii,
    Blank,
    Cntrl,
    Digit,
    Graph,
    Lower,
    Print,
    Punct,
    Space,
    Upper,
    Xdigit,
    Word,
}

/// The first of each run of ten decimal digits outside ASCII that glibc
/// counts as letters (`[[:alpha:]]`, `\w`); the run at U+1D7CE is fifty.
const OTHER_DIGITS: &[u32] = &[
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946,
    0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0,
    0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE,
    0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// Titlecase letters, which glibc counts as upper case.
const TITLECASE: &[u32] = &[0x1C5, 0x1C8, 0x1CB, 0x1F2, 0x1FBC, 0x1FCC, 0x1FFC];

impl Class {
    /// The class `[[:name:]]` names.
    pub fn named(name: &str) -> Option<Class> {
        Some(match name {
            "alnum" => Class::Alnum,
            "alpha" => Class::Alpha,
            "ascii" => Class::Ascii,
            "blank" => Class::Blank,
            "cntrl" => Class::Cntrl,
            "digit" => Class::Digit,
            "graph" => Class::Graph,
            "lower" => Class::Lower,
            "print" => Class::Print,
            "punct" => Class::Punct,
            "space" => Class::Space,
            "upper" => Class::Upper,
            "xdigit" => Class::Xdigit,
            "word" => Class::Word,
            _ => return None,
        })
    }

    /// The class a case-insensitive pattern means: upper and lower case are all letters.
    pub fn ignoring_case(self) -> Class {
        match self {
            Class::Upper | Class::Lower => Class::Alpha,
            other => other,
        }
    }

    pub fn contains(self, c: char) -> bool {
        match self {
            Class::Alnum => is_alpha(c) || c.is_ascii_digit(),
            Class::Alpha => is_alpha(c),
            Class::Ascii => c.is_ascii(),
            Class::Blank => c == ' ' || c == '\t',
            Class::Cntrl => is_cntrl(c),
            Class::Digit => c.is_ascii_digit(),
            Class::Graph => is_graph(c),
            Class::Lower => c.is_lowercase() || matches!(c as u32, 0x1C5 | 0x1C8 | 0x1CB | 0x1F2 | 0x295),
            Class::Print => is_graph(c) || (is_space(c) && !matches!(c, '\t'..='\r' | '\u{2028}' | '\u{2029}')),
            Class::Punct => is_graph(c) && !is_alpha(c) && !c.is_ascii_digit(),
            Class::Space => is_space(c),
            Class::Upper => c.is_uppercase() || is_titlecase(c),
            Class::Xdigit => c.is_ascii_hexdigit(),
            Class::Word => is_word(c),
        }
    }
}

/// A word character for `\w`, `\m`, `\M`, `\y`: a letter, digit or `_`.
pub fn is_word(c: char) -> bool {
    c == '_' || c.is_ascii_digit() || is_alpha(c)
}

fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    c.is_alphabetic() || is_other_digit(c as u32)
}

fn is_other_digit(u: u32) -> bool {
    let i = OTHER_DIGITS.partition_point(|&start| start <= u);
    i > 0 && u - OTHER_DIGITS[i - 1] < if OTHER_DIGITS[i - 1] == 0x1D7CE { 50 } else { 10 }
}

fn is_titlecase(c: char) -> bool {
    let u = c as u32;
    TITLECASE.contains(&u) || matches!(u, 0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF)
}

fn is_cntrl(c: char) -> bool {
    matches!(c as u32, 0..=0x1F | 0x7F..=0x9F)
}

fn is_space(c: char) -> bool {
    matches!(c as u32, 0x9..=0xD | 0x20 | 0x1680 | 0x2000..=0x2006 | 0x2008..=0x200A | 0x2028 | 0x2029 | 0x205F | 0x3000)
}

fn is_graph(c: char) -> bool {
    !is_cntrl(c) && !is_space(c) && !matches!(c as u32, 0xD800..=0xDFFF)
}

/// `c` and its lower- and upper-case forms (each `c` itself when it has none).
pub fn variants(c: char) -> [char; 3] {
    [c, lower(c), upper(c)]
}

/// `c` as back references compare it case-insensitively (its lower case).
pub fn fold(c: char) -> char {
    lower(c)
}

fn lower(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    single(c.to_lowercase(), c)
}

fn upper(c: char) -> char {
    // Greek letters with ypogegrammeni go to their titlecase forms.
    match c as u32 {
        u @ (0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7) => char::from_u32(u + 8).unwrap_or(c),
        u @ (0x1FB3 | 0x1FC3 | 0x1FF3) => char::from_u32(u + 9).unwrap_or(c),
        _ => single(c.to_uppercase(), c),
    }
}

/// The one character a case mapping gives, or `c` when it gives several.
fn single(mut mapped: impl Iterator<Item = char>, c: char) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_glibcs() {
        // Each expectation from PostgreSQL 15 in a C.UTF-8 database.
        assert!(Class::Alpha.contains('é') && Class::Word.contains('ж') && Class::Alpha.contains('\u{663}'));
        assert!(!Class::Digit.contains('\u{663}') && !Class::Alnum.contains('²'));
        assert!(Class::Punct.contains('\u{A0}') && !Class::Space.contains('\u{A0}') && Class::Space.contains('\u{3000}'));
        assert!(Class::Upper.contains('\u{1C5}') && Class::Lower.contains('\u{1C5}'));
        assert_eq!(variants('\u{212A}'), ['\u{212A}', 'k', '\u{212A}']);
        assert_eq!(variants('ſ'), ['ſ', 'ſ', 'S']);
        assert_eq!(variants('\u{1F80}')[2], '\u{1F88}');
    }
}
