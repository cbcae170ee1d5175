#!/usr/bin/env python3
"""Writes tests/pg_corpus/allowed.sql (and allowed_views.sql) from a failing
run of the corpus tests:

    cargo test -p weir --test integration -- pg_corpus 2>&1 | tests/pg_corpus/allow.py

Each mismatch the test printed is filed under a reason: what kind of
difference it is (weir refuses, weir accepts what PostgreSQL refuses, another
SQLSTATE, or another answer) and, for other answers, why weir differs in that
category. Review the diff of allowed.sql before committing it: an entry there
is a promise to explain, not a way to hide a bug."""

import re
import sys
from collections import defaultdict

# Why weir answers differently, per category (kind "answer").
ANSWER = {
    "numeric": "numeric is Arrow's Decimal128: one scale per column (PostgreSQL keeps each value's scale and picks a division's scale per value), 38 digits at most, no NaN or Infinity; sqrt, exp, ln, log, power run in double precision. Will change with a numeric type of weir's own.",
    "float": "floats print with the shortest round-trip digits whatever extra_float_digits says, float4 arithmetic is widened to double, and some float functions run on DataFusion's kernels. Will change.",
    "datetime": "DataFusion's date and time types: no infinity, no BC or six-digit years, timestamps rounded to microseconds by truncation, timestamp(p) and OVERLAPS missing, current_time without a zone. Will change.",
    "timezone": "zone names go through chrono-tz (POSIX offsets such as '+02' and abbreviations such as PST are not read as PostgreSQL reads them), and timetz is not a type. Will change.",
    "interval": "intervals are Arrow's month-day-nanosecond (about 2.5 million hours at most); some input forms (@, ISO 8601, 'ago', millennium), IntervalStyle other than postgres and avg of intervals are missing. Will change.",
    "casts": "unconstrained numeric casts get ten decimals, char(n) is not padded, text casts of floats and some inputs differ. Will change.",
    "strings": "string functions are DataFusion's: upper/lower follow Unicode rather than the C locale, format width and some argument types differ. Will change.",
    "regex": "regular expressions use the Rust regex crate (no backreferences or lookaround) and DataFusion's regexp functions return other shapes. Will change for shapes; the syntax limit stays.",
    "like": "an ESCAPE of more than one character is accepted. Will change.",
    "arrays": "arrays are Arrow lists: one dimension, lower bound 1, int8 elements from DataFusion's functions, no text input of arrays. Will change.",
    "json": "json keeps its text but ->, #> and functions write their results compactly, json_object and json_strip_nulls are missing, a whole row in json_agg is not set on its own line, and numbers built into JSON lose trailing zeros (1.50 is 1.5). Will change.",
    "jsonb": "jsonb is text normalized by serde_json: numbers lose trailing zeros (1.50 is 1.5), = compares texts (1 and 1.0 differ), set-returning functions keep text's type OID in a select list, and jsonb_insert, jsonb_pretty and the jsonpath functions are missing. Will change.",
    "uuid": "uuid is tagged text: md5()::uuid is not reformatted and substr of a uuid's text is named substring. Will change.",
    "inet": "inet and cidr are tagged text: abbrev, inet arithmetic (+, -), inet_merge and ordering by address (text order here) are missing. Will change.",
    "bytea": "bytea_output = escape is not a setting yet, and bytea text input does not read escapes (`\000`, `\\`). Will change.",
    "boolean": "`SELECT true` is named bool as PostgreSQL's grammar names it only in a cast; every and some boolean forms are missing. Will change.",
    "conditional": "greatest/least/coalesce of mixed numeric scales keep one scale per column, and a few mixed-type CASE forms resolve otherwise. Will change.",
    "session": "DateStyle other than ISO, extra_float_digits other than 1, txid_current, inet_client_addr, and the type of some expressions (pg_typeof of avg, sum, sqrt) differ. Will change.",
    "aggregates": "avg of integers is double precision (numeric in PostgreSQL), sum of bigint is bigint, stddev/variance/every/ordered-set aggregates are missing. Will change.",
    "names": "EXISTS without FROM, a few value functions and `SELECT true` (named bool here) differ. Will change.",
    "integer": "a few integer functions (gcd, lcm, factorial, to_hex, sign) come from DataFusion with int8 results, and prefix operators (~, |/, @) are missing. Will change.",
    "errors": "weir answers or fails with another error where PostgreSQL fails. Will change.",
    "tables": "a few store-time checks (bigint and numeric range on INSERT, NaN) differ. Will change.",
}

KINDS = {
    "refuses": "weir refuses what PostgreSQL answers: the function, operator or input form is not implemented yet. Will change.",
    "accepts": "weir answers where PostgreSQL refuses: weir is more lenient here. Will change (it should refuse).",
    "sqlstate": "both refuse, but weir's SQLSTATE is another: DataFusion's error classes are mapped coarsely. Will change.",
}


def kind_of(w, p):
    if w.startswith("ERROR") and p.startswith("ERROR"):
        return "sqlstate"
    if w.startswith("ERROR"):
        return "refuses"
    if p.startswith("ERROR"):
        return "accepts"
    return "answer"


def mismatches(text):
    """(file, category, kind, statement) of each difference the tests printed."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines[:-1]):
        m = re.match(r"^\[(\w+)\] (.*)$", line)
        if not m:
            continue
        category, sql = m.group(1), m.group(2)
        following = lines[i + 1]
        if following.startswith("    weir:") and i + 2 < len(lines):
            w, p = following.split(":", 1)[1].strip(), lines[i + 2].split(":", 1)[1].strip()
            out.append(("allowed.sql", category, kind_of(w, p), sql))
        elif following.startswith("    view:"):
            out.append(("allowed_views.sql", category, "answer", sql + ";"))
        elif following.startswith("    weir refused the view") or following.startswith("    the view"):
            out.append(("allowed_views.sql", category, "refuses", sql + ";"))
    return out


HEADER = """-- Statements of {corpus} whose result in weir is allowed to differ from
-- PostgreSQL 15's, each under a `-- why:` line that says why weir differs and
-- whether that will change. tests/integration/pg_corpus.rs fails on any other
-- difference, and on an entry here that matches again (remove it then).
-- Written by tests/pg_corpus/allow.py from a run of the tests; review its diff.
"""


def main():
    groups = defaultdict(lambda: defaultdict(list))
    for file, category, kind, sql in mismatches(sys.stdin.read()):
        groups[file][(category, kind)].append(sql)
    for file, corpus in [("allowed.sql", "expressions.sql"), ("allowed_views.sql", "stream.sql (as materialized views)")]:
        with open(__file__.rsplit("/", 1)[0] + "/" + file, "w") as f:
            f.write(HEADER.format(corpus=corpus))
            for (category, kind), sqls in sorted(groups[file].items()):
                why = ANSWER.get(category, "weir answers otherwise. Will change.") if kind == "answer" else KINDS[kind]
                f.write(f"\n-- why: [{category}, {kind}] {why}\n")
                for sql in dict.fromkeys(sqls):
                    f.write(sql + "\n")
        total = sum(len(v) for v in groups[file].values())
        print(f"{file}: {total} statements in {len(groups[file])} groups", file=sys.stderr)


if __name__ == "__main__":
    main()
