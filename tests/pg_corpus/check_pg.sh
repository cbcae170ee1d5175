#!/usr/bin/env bash
# Verify the pg_corpus files against a real PostgreSQL 15.
# Usage: tests/pg_corpus/check_pg.sh [corpus.sql ...]   (default: expressions.sql stream.sql)
# Env: PGHOST (127.0.0.1) PGPORT (5432) PGUSER (postgres) CHECK_DB (corpus_check) KEEP_DB=1 keeps the db.
# For every corpus it: creates a fresh database, runs setup.sql, runs every statement in one
# psql session (with the harness session settings) twice, and checks that both runs are
# identical. Prints statement counts per category and every statement that errored with its
# SQLSTATE. Per-statement results are written to $OUT_DIR (default /tmp/pg_corpus_check).
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
DB="${CHECK_DB:-corpus_check}"
OUT_DIR="${OUT_DIR:-/tmp/pg_corpus_check}"
mkdir -p "$OUT_DIR"
files=("$@")
[ ${#files[@]} -eq 0 ] && files=("$DIR/expressions.sql" "$DIR/stream.sql")

psqlc() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

fresh_db() {
  psqlc -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
  psqlc -d postgres -c "CREATE DATABASE $DB" >/dev/null
  psqlc -d "$DB" -f "$DIR/setup.sql" >/dev/null
}

status=0
for f in "${files[@]}"; do
  base="$(basename "$f" .sql)"
  # Build a psql script: session settings, then each statement followed by a marker.
  python3 - "$f" "$OUT_DIR/$base.psql" <<'PY'
import sys, re
src, dst = sys.argv[1], sys.argv[2]
out = ["\\set ON_ERROR_STOP 0", "\\set VERBOSITY sqlstate", "\\pset null '<NULL>'",
       "\\pset format unaligned", "\\pset fieldsep '|'", "\\pset footer off",
       "SET TimeZone = 'UTC';", "SET DateStyle = 'ISO, MDY';", "SET IntervalStyle = 'postgres';",
       "SET extra_float_digits = 1;"]
bad = 0
for no, line in enumerate(open(src, encoding="utf-8"), 1):
    l = line.rstrip("\n")
    if not l.strip() or l.lstrip().startswith("--"):
        continue
    if not l.rstrip().endswith(";"):
        print(f"{src}:{no}: statement does not end with ';': {l}", file=sys.stderr); bad += 1
    out.append(f"\\echo '@@BEGIN {no}'")
    out.append(l)
    out.append(f"\\echo '@@END {no}' :SQLSTATE")
open(dst, "w").write("\n".join(out) + "\n")
sys.exit(1 if bad else 0)
PY
  for run in 1 2; do
    fresh_db
    psql -X -d "$DB" -f "$OUT_DIR/$base.psql" >"$OUT_DIR/$base.run$run.out" 2>"$OUT_DIR/$base.run$run.err" || true
  done
  if ! cmp -s "$OUT_DIR/$base.run1.out" "$OUT_DIR/$base.run2.out"; then
    echo "!! $base: runs differ:"; diff "$OUT_DIR/$base.run1.out" "$OUT_DIR/$base.run2.out" | head -50; status=1
  fi
  python3 - "$f" "$OUT_DIR/$base.run1.out" "$OUT_DIR/$base.summary" <<'PY' || status=1
import sys, re, collections
src, res, summ = sys.argv[1:4]
cat = "none"; stmts = {}; cats = collections.OrderedDict()
for no, line in enumerate(open(src, encoding="utf-8"), 1):
    l = line.strip()
    m = re.match(r"--\s*category:\s*(\S+)", l)
    if m: cat = m.group(1); continue
    if not l or l.startswith("--"): continue
    stmts[no] = (cat, l); cats[cat] = cats.get(cat, 0) + 1
states = {}; bodies = {}; cur = None; buf = []
for line in open(res, encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    m = re.match(r"@@BEGIN (\d+)$", line)
    if m: cur = int(m.group(1)); buf = []; continue
    m = re.match(r"@@END (\d+) (\S*)$", line)
    if m:
        states[int(m.group(1))] = m.group(2); bodies[int(m.group(1))] = buf; cur = None; continue
    if cur is not None: buf.append(line)
ok = True
with open(summ, "w") as out:
    for no, (c, s) in stmts.items():
        st = states.get(no)
        if st is None:
            print(f"!! line {no}: no result marker: {s}"); ok = False; continue
        if not re.fullmatch(r"[0-9A-Z]{5}", st):
            print(f"!! line {no}: bad SQLSTATE {st!r}: {s}"); ok = False
        out.write(f"=== {no} [{c}] {st} {s}\n" + "\n".join(bodies[no]) + "\n")
errs = [(no, c, states.get(no), s) for no, (c, s) in stmts.items() if states.get(no, "00000") != "00000"]
print(f"--- {src}")
for c, n in cats.items(): print(f"  {c:12s} {n}")
print(f"  {'TOTAL':12s} {sum(cats.values())}   (errors: {len(errs)})")
if "--errors" in sys.argv or True:
    with open(summ + ".errors", "w") as out:
        for no, c, st, s in errs: out.write(f"{no}\t{c}\t{st}\t{s}\n")
sys.exit(0 if ok else 1)
PY
  echo "  details: $OUT_DIR/$base.summary, errors: $OUT_DIR/$base.summary.errors"
done
[ -n "${KEEP_DB:-}" ] || psqlc -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
exit $status
