//! Tests of PostgreSQL's regular-expression functions (`pgfunctions/regex`)
//! through the whole PostgreSQL dialect (`pgdialect`): a test-only module at
//! the crate's root, so that `pgfunctions` need not depend on `pgdialect`.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;

struct Session;

impl crate::pgdialect::SessionValues for Session {
    fn setting(&self, _: &str) -> Option<String> {
        None
    }
    fn set_setting(&mut self, _: &str, _: &str) -> crate::SqlResult<()> {
        Ok(())
    }
    fn user(&self) -> String {
        "weir".into()
    }
    fn backend_pid(&self) -> i32 {
        1
    }
}

/// A statement's result as `psql -A` prints it, the header and rows
/// joined by ` ; ` (NULL as `<NULL>`), or `ERROR` and the SQLSTATE.
fn psql(sql: &str) -> String {
    run(sql).unwrap_or_else(|e| format!("ERROR {}", e.state.code()))
}

fn run(sql: &str) -> Result<String, crate::SqlError> {
    let mut stmt = crate::parse_statements(sql)?.remove(0);
    let names = crate::pgdialect::rewrite(&mut stmt, &mut Session)?.names;
    let ctx = crate::pgfunctions::test_context(None, false);
    let sql = stmt.to_string();
    let batches = crate::pgfunctions::ready(async { ctx.sql(&sql).await?.collect().await })?;
    let header = names.unwrap_or_else(|| batches[0].schema().fields().iter().map(|f| f.name().clone()).collect());
    let mut lines = vec![header.join("|")];
    for b in &batches {
        for row in 0..b.num_rows() {
            lines.push(b.columns().iter().map(|c| cell(c.as_ref(), row)).collect::<Vec<_>>().join("|"));
        }
    }
    Ok(lines.join(" ; "))
}

/// A value as PostgreSQL prints it.
fn cell(a: &dyn Array, i: usize) -> String {
    if a.is_null(i) {
        return "<NULL>".into();
    }
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::Boolean => (if a.as_boolean().value(i) { "t" } else { "f" }).to_string(),
        DataType::Int32 => a.as_primitive::<datafusion::arrow::datatypes::Int32Type>().value(i).to_string(),
        DataType::Int64 => a.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(i).to_string(),
        DataType::List(_) => {
            let items = a.as_list::<i32>().value(i);
            let texts = items.as_string::<i32>();
            let shown: Vec<String> = (0..texts.len()).map(|k| if texts.is_null(k) { "NULL".into() } else { element(texts.value(k)) }).collect();
            format!("{{{}}}", shown.join(","))
        }
        other => format!("({other})"),
    }
}

/// An array element as PostgreSQL's array output writes it.
fn element(s: &str) -> String {
    let plain = !s.is_empty() && !s.eq_ignore_ascii_case("null") && !s.chars().any(|c| "{},\"\\".contains(c) || c.is_ascii_whitespace() || c == '\u{b}');
    if plain { s.to_string() } else { format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")) }
}

/// Each statement and what PostgreSQL 15 prints for it.
fn check(cases: &[(&str, &str)]) {
    for (sql, want) in cases {
        assert_eq!(psql(sql), *want, "{sql}");
    }
}

#[test]
fn replace_as_postgres() {
    check(&[
        (r"SELECT regexp_replace('aaa','a','b',1,2,'g')", "regexp_replace ; aba"),
        (r"SELECT regexp_replace('aaa','a','b',1,0)", "regexp_replace ; bbb"),
        (r"SELECT regexp_replace('aaa','a','b',0)", "ERROR 22023"),
        (r"SELECT regexp_replace('aaa','a','b',1,-1)", "ERROR 22023"),
        (r"SELECT regexp_replace('aaa','^a','b',2), regexp_replace('aaa','^a','b','g')", "regexp_replace|regexp_replace ; aaa|baa"),
        (r"SELECT regexp_replace('abc','b','x','z')", "ERROR 22023"),
        (
            r"SELECT regexp_replace('aaaa','a','b',2), regexp_replace('aaaa','a','b',2,0), regexp_replace('aaa','a','b',1,1,'i')",
            "regexp_replace|regexp_replace|regexp_replace ; abaa|abbb|baa",
        ),
        (r"SELECT regexp_replace('aaa','a','b',2,'g')", "ERROR 22P02"),
        (
            r"SELECT regexp_replace('abc','b','\x'), regexp_replace('abc','b','\0'), regexp_replace('abc','(b)','\2|\1'), regexp_replace('abc','b','\\'), regexp_replace('abc','b','x\'), regexp_replace('abc','(b)|(z)','[\2]')",
            r"regexp_replace|regexp_replace|regexp_replace|regexp_replace|regexp_replace|regexp_replace ; a\xc|a\0c|a|bc|a\c|ax\c|a[]c",
        ),
        (
            r"SELECT regexp_replace('abc', 'x*', '-', 'g'), regexp_count('abc', 'x*'), regexp_count('abc','a',10), regexp_replace('abc','a','x',10), regexp_instr('abc','c',10)",
            "regexp_replace|regexp_count|regexp_count|regexp_replace|regexp_instr ; -a-b-c-|4|0|abc|0",
        ),
        (r"SELECT regexp_replace('abc', '', 'X', 'g'), regexp_replace('abc', 'b*', 'X', 'g')", "regexp_replace|regexp_replace ; XaXbXcX|XaXXcX"),
        (
            r"SELECT regexp_replace('Hello World', '(\w+) (\w+)', '\2 \1'), regexp_replace('abc', '.', '[\&]', 'g'), regexp_replace('ABC', 'b', 'x', 'i')",
            "regexp_replace|regexp_replace|regexp_replace ; World Hello|[a][b][c]|AxC",
        ),
        (r"SELECT regexp_replace(s, p, 'X', 'g') FROM (VALUES ('banana', 'an'), ('apple', 'p+')) v(s, p)", "regexp_replace ; bXXa ; aXle"),
        (r"SELECT regexp_replace(s, p, 'X', 'g') FROM (VALUES ('banana', 'an'), ('apple', 'p+'), ('x', '(')) v(s, p)", "ERROR 2201B"),
        (r"SELECT regexp_replace('x', 'x', 'y', 1.5)", "ERROR 42883"),
        // Utf8View and LargeUtf8 inputs, as PostgreSQL answers regexp_replace('abc', 'b', 'x').
        (
            r"SELECT regexp_replace(arrow_cast('abc', 'Utf8View'), 'b', 'x') AS v, regexp_replace(arrow_cast('abc', 'LargeUtf8'), arrow_cast('b', 'Utf8View'), 'x') AS l",
            "v|l ; axc|axc",
        ),
    ]);
}

#[test]
fn positions_and_counts_as_postgres() {
    check(&[
        (
            r"SELECT regexp_instr('abcabc','b',1,2,1), regexp_instr('abc','(x)|b',1,1,0,'',1), regexp_instr('abc','(b)',1,1,0,'',2), regexp_substr('abc','(x)|b',1,1,'',1), regexp_substr('abcabc','(b)(c)',1,2,'',2)",
            "regexp_instr|regexp_instr|regexp_instr|regexp_substr|regexp_substr ; 6|0|0|<NULL>|c",
        ),
        (
            r"SELECT regexp_instr('abc','b',1,1,1), regexp_instr('aXbX','x',1,2,0,'i'), regexp_substr('aXbX','x',1,2,'i'), regexp_instr('abc', '(a)(b)', 1, 1, 1, '', 2)",
            "regexp_instr|regexp_instr|regexp_substr|regexp_instr ; 3|4|X|3",
        ),
        (
            r"SELECT regexp_count('abc','x*',4), regexp_count('abc','x*',5), regexp_replace('abc','x*','-',4), regexp_replace('abc','x*','-',5), regexp_count('', 'x*')",
            "regexp_count|regexp_count|regexp_replace|regexp_replace|regexp_count ; 1|0|abc-|abc|1",
        ),
        (
            r"SELECT regexp_instr('ñaña', 'a', 1, 2), regexp_substr('ñaña', 'ña', 2), regexp_count('ñaña', 'ñ')",
            "regexp_instr|regexp_substr|regexp_count ; 4|ña|2",
        ),
        (r"SELECT regexp_count(s, 'a') FROM (VALUES ('banana'), ('apple'), (NULL)) v(s)", "regexp_count ; 3 ; 1 ; <NULL>"),
        (r"SELECT regexp_count('a','a',0)", "ERROR 22023"),
        (r"SELECT regexp_instr('a','a',1,0)", "ERROR 22023"),
        (r"SELECT regexp_instr('a','a',1,1,2)", "ERROR 22023"),
        (r"SELECT regexp_instr('a','a',1,1,0,'',-1)", "ERROR 22023"),
        (r"SELECT regexp_count('a','a',1,'g')", "ERROR 22023"),
        (r"SELECT regexp_substr('a','a',1,1,'g')", "ERROR 22023"),
        (r"SELECT regexp_count(123, '1')", "ERROR 42883"),
        (r"SELECT regexp_like('Hello', 'h.*O', 'i'), regexp_like('abc', NULL), regexp_like('abc', '^b')", "regexp_like|regexp_like|regexp_like ; t|<NULL>|f"),
        (r"SELECT regexp_like('a','a','g')", "ERROR 22023"),
    ]);
}

#[test]
fn matches_and_splits_as_postgres() {
    check(&[
        (r"SELECT regexp_matches('abc', '(a)(x)?'), regexp_match('abc','(a)(x)?')", "regexp_matches|regexp_match ; {a,NULL}|{a,NULL}"),
        (
            r"SELECT regexp_split_to_array(',a,,b,', ','), regexp_split_to_array('abc', '(?=b)'), regexp_split_to_array('aXbX', 'x', 'i')",
            r#"regexp_split_to_array|regexp_split_to_array|regexp_split_to_array ; {"",a,"",b,""}|{a,bc}|{a,b,""}"#,
        ),
        (
            r"SELECT regexp_split_to_array('abc',''), regexp_split_to_array('','a'), regexp_split_to_array('abc','x*'), regexp_split_to_array('abc','b*')",
            r#"regexp_split_to_array|regexp_split_to_array|regexp_split_to_array|regexp_split_to_array ; {a,b,c}|{""}|{a,b,c}|{a,c}"#,
        ),
        (r"SELECT regexp_matches('a1b2', '[0-9]', 'g')", "regexp_matches ; {1} ; {2}"),
        (r"SELECT regexp_matches(NULL, 'a')", "regexp_matches"),
        (r"SELECT regexp_matches('a1b2', '([a-z])([0-9])', 'g'), 1 AS x", "regexp_matches|x ; {a,1}|1 ; {b,2}|1"),
        (r"SELECT regexp_split_to_table('a b c', ' ') AS w, 'x' AS y", "w|y ; a|x ; b|x ; c|x"),
        (r"SELECT upper(regexp_split_to_table('a b', ' '))", "upper ; A ; B"),
        (r"SELECT (regexp_matches('abc', '(b)'))[1]", "regexp_matches ; b"),
        (r"SELECT regexp_split_to_table('a b', ' ') || 'x', regexp_split_to_table('c d e', ' ')", "?column?|regexp_split_to_table ; ax|c ; bx|d ; <NULL>|e"),
        (r"SELECT * FROM regexp_split_to_table('a,b', ',') AS w", "w ; a ; b"),
        (r"SELECT * FROM regexp_split_to_table('a,b', ',')", "regexp_split_to_table ; a ; b"),
        (r"SELECT * FROM regexp_matches('a1b2', '([a-z])([0-9])', 'g') AS m", "m ; {a,1} ; {b,2}"),
        (r"SELECT * FROM regexp_split_to_table('a b', ' ') AS t(x)", "x ; a ; b"),
        (r"SELECT w FROM regexp_split_to_table('a b', ' ') AS w ORDER BY w DESC", "w ; b ; a"),
        (r"SELECT regexp_split_to_table('a,b', ',', 'g')", "ERROR 22023"),
        (r"SELECT regexp_match('a','a','g')", "ERROR 22023"),
        (r"SELECT regexp_matches('abc','b','z')", "ERROR 22023"),
    ]);
}

#[test]
fn patterns_as_postgres() {
    check(&[
        (
            r"SELECT regexp_match('a{b', 'a{b'), regexp_match('a{', 'a{'), regexp_match('a}', 'a}'), regexp_match('a]', 'a]'), regexp_match('abc', '(?#comment)b')",
            r#"regexp_match|regexp_match|regexp_match|regexp_match|regexp_match ; {"a{b"}|{"a{"}|{"a}"}|{a]}|{b}"#,
        ),
        (
            r"SELECT regexp_match('a+b', 'a+b', 'b'), regexp_match('aab', 'a\{2\}b', 'b'), regexp_match('ab', '\(a\)b', 'b')",
            "regexp_match|regexp_match|regexp_match ; {a+b}|{aab}|{a}",
        ),
        (r"SELECT regexp_match('a\b', 'a\b', 'e'), regexp_match('a)', 'a)', 'e')", "regexp_match|regexp_match ; <NULL>|{a)}"),
        (
            r#"SELECT regexp_match('ab', 'a b # c', 'x'), regexp_match('a b', 'a[ ]b', 'x'), regexp_match('a b', 'a\ b', 'x')"#,
            r#"regexp_match|regexp_match|regexp_match ; {ab}|{"a b"}|{"a b"}"#,
        ),
        (
            r"SELECT regexp_match('ab', '(?x) a b'), regexp_match('AB', '(?i)ab'), regexp_match('a.b', '***=a.b'), regexp_match('ab', '***:ab')",
            "regexp_match|regexp_match|regexp_match|regexp_match ; {ab}|{AB}|{a.b}|{ab}",
        ),
        (
            r"SELECT regexp_match(E'a\nb', 'a.b'), regexp_match(E'a\nb', 'a.b', 'n'), regexp_match(E'a\nb', '^b', 'n'), regexp_match(E'a\nb', '^b', 'p'), regexp_match(E'a\nb', '^b', 'w'), regexp_match(E'a\nb', 'a[^x]b', 'p'), regexp_match(E'a\nb', 'a$', 'w')",
            "regexp_match|regexp_match|regexp_match|regexp_match|regexp_match|regexp_match|regexp_match ; {\"a\nb\"}|<NULL>|{b}|<NULL>|{b}|<NULL>|{a}",
        ),
        (
            r"SELECT regexp_match('abc', 'a(?:b|c)+'), regexp_match('abab', '(ab)+'), regexp_match('abab', '(ab)+?'), regexp_match('abcabc', '(a|ab)(c|bcd)*')",
            "regexp_match|regexp_match|regexp_match|regexp_match ; {abc}|{ab}|{ab}|{ab,c}",
        ),
        (
            r"SELECT regexp_match('aaa', 'a{2}?'), regexp_match('aaa', 'a{2,}?'), regexp_match('aaa', '(a{1,2}?)(a*)'), regexp_match('aaa', '(a*?)(a*?)$')",
            r#"regexp_match|regexp_match|regexp_match|regexp_match ; {aa}|{aa}|{a,""}|{"",aaa}"#,
        ),
        (
            r"SELECT regexp_match('foo bar', '(?<=foo )bar'), regexp_match('foo bar', '(?<!foo )bar'), regexp_match('foobar', 'foo(?!bar)'), regexp_match('foobaz', 'foo(?!bar)')",
            "regexp_match|regexp_match|regexp_match|regexp_match ; {bar}|<NULL>|<NULL>|{foo}",
        ),
        (r"SELECT regexp_match('abc', '(?=b)'), regexp_match('abcb', '(a)(b)?c\2')", r#"regexp_match|regexp_match ; {""}|{a,b}"#),
        (
            r"SELECT regexp_match('a-b', '[a\-z]'), regexp_match('a]b', '[]]'), regexp_match('a^b', '[\^]'), regexp_match('a-b', '[-a]+'), regexp_match('ab-', '[a-]+')",
            "regexp_match|regexp_match|regexp_match|regexp_match|regexp_match ; {a}|{]}|{^}|{a-}|{a}",
        ),
        (
            r"SELECT regexp_match('abc', '[[.b.]]'), regexp_match('a-c', '[[.hyphen.]]'), regexp_match('a c', '[[.space.]]'), regexp_match('abc', '[[=b=]]')",
            r#"regexp_match|regexp_match|regexp_match|regexp_match ; {b}|{-}|{" "}|{b}"#,
        ),
        (
            r"SELECT regexp_match('The quick brown fox', '\m(\w)(\w*)\M'), regexp_match('abc123def', '[[:digit:]]+'), regexp_match('abc', '[[:<:]]b')",
            "regexp_match|regexp_match|regexp_match ; {T,he}|{123}|<NULL>",
        ),
        (
            r"SELECT regexp_match('äöü', '[[:alpha:]]+'), regexp_match('ÄÖÜ', 'ä', 'i'), regexp_replace('straße', 'SS', 'x', 'i'), regexp_match('Ǆ', 'ǆ', 'i')",
            "regexp_match|regexp_match|regexp_replace|regexp_match ; {äöü}|{Ä}|straße|{Ǆ}",
        ),
        (
            r"SELECT regexp_match('abc', '(a)|b'), regexp_match('b', '(a)|b'), regexp_match('abc', '(?:(a)|b)+')",
            "regexp_match|regexp_match|regexp_match ; {a}|{NULL}|{NULL}",
        ),
        (
            r"SELECT regexp_match('xyy', 'x+?y*'), regexp_match('abbc','a*?b*(b*c)'), regexp_match('', '(a*)*'), regexp_match('b','(a)*'), regexp_match('ab','(a|ab)*')",
            r#"regexp_match|regexp_match|regexp_match|regexp_match|regexp_match ; {x}|{c}|{""}|{NULL}|{ab}"#,
        ),
        (
            r"SELECT regexp_match('abcabc', '(a)(b)?c\1\2'), regexp_match('AbcaBC', '(a)(b)c\1\2', 'i'), regexp_count('aXbxcX', '(x)', 1, 'i')",
            "regexp_match|regexp_match|regexp_count ; {a,b}|{A,b}|3",
        ),
        (
            r"SELECT regexp_match('XY1234Z', 'Y*?([0-9]{1,3})'), regexp_match('a x b x c', '(.*?)x(.*)'), regexp_match('abcd', '(a|ab)(c|bcd)(d*)')",
            r#"regexp_match|regexp_match|regexp_match ; {1}|{"a ",""}|{ab,c,d}"#,
        ),
        (r"SELECT regexp_match('a.b', 'a.b', 'qx')", "ERROR 2201B"),
        (r"SELECT regexp_match('ab', 'a(?i)b')", "ERROR 2201B"),
        (r"SELECT regexp_match('abc', 'a{256}')", "ERROR 2201B"),
        (r"SELECT regexp_match('abc', '[[:foo:]]')", "ERROR 2201B"),
        (r"SELECT regexp_match('abc', '\3')", "ERROR 2201B"),
        (r"SELECT regexp_match('abc', '^*')", "ERROR 2201B"),
        (r"SELECT 'a' ~ '\e', 'a' ~ '\k'", "ERROR 2201B"),
    ]);
}

#[test]
fn operators_and_similar_to_as_postgres() {
    check(&[
        (
            r"SELECT 'abc' ~ 'B', 'abc' ~* 'B', 'abc' !~ 'B', 'abc' !~* 'B', E'a\nb' ~ 'a.b', 'abc' ~ '(?i)B'",
            "?column?|?column?|?column?|?column?|?column?|?column? ; f|t|t|f|t|t",
        ),
        (
            r"SELECT 'abc' SIMILAR TO 'a_c', 'abc' SIMILAR TO 'A%', 'a%c' SIMILAR TO 'a#%c' ESCAPE '#', 'abc' NOT SIMILAR TO 'a%' ESCAPE '', 'ab' SIMILAR TO '(a|b)*', 'a.c' SIMILAR TO 'a.c'",
            "?column?|?column?|?column?|?column?|?column?|?column? ; t|f|t|f|t|t",
        ),
        (
            r#"SELECT substring('foobar' from '%#"o*b#"%' for '#'), substring('foobar' from 'o.b'), substring('foobar' from '(o)b')"#,
            "substring|substring|substring ; oob|oob|o",
        ),
        (
            r#"SELECT similar_to_escape('[]%]'), similar_to_escape('[^]%]'), similar_to_escape('[^%]%'), similar_to_escape('[]]%'), similar_to_escape('[[%]%'), similar_to_escape('[a]]%')"#,
            r"similar_to_escape|similar_to_escape|similar_to_escape|similar_to_escape|similar_to_escape|similar_to_escape ; ^(?:[]%])$|^(?:[^]%])$|^(?:[^%].*)$|^(?:[]].*)$|^(?:[[%]%)$|^(?:[a]].*)$",
        ),
        (
            r#"SELECT similar_to_escape('a#b', '#'), similar_to_escape('a##b', '#'), similar_to_escape('a#%b', '#'), similar_to_escape('[#]]%', '#'), similar_to_escape('a#', '#'), similar_to_escape('a#"b#"c', '#')"#,
            r"similar_to_escape|similar_to_escape|similar_to_escape|similar_to_escape|similar_to_escape|similar_to_escape ; ^(?:a\b)$|^(?:a\#b)$|^(?:a\%b)$|^(?:[\]].*)$|^(?:a)$|^(?:a){1,1}?(b){1,1}(?:c)$",
        ),
        (r"SELECT similar_to_escape('a', NULL) IS NULL, 'abc' SIMILAR TO 'a%' ESCAPE NULL", "?column?|?column? ; t|<NULL>"),
    ]);
}
