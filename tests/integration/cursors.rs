//! SQL cursors against PostgreSQL 15: every FETCH and MOVE direction on
//! SCROLL, NO SCROLL and default cursors, WITH HOLD, the errors, BINARY
//! cursors' rows byte for byte, and psycopg's scrollable server cursors.
//! Each is run in weir and in PostgreSQL and the outputs compared.

use crate::support::{Server, assert_same_lines, assert_same_session, postgres_url, psql, service};
use std::process::Command;

const SETUP: &str = "DROP TABLE IF EXISTS cur_t;
CREATE TABLE cur_t (id int PRIMARY KEY, name text, amount numeric(10,2), ok boolean, ts timestamp, ratio double precision);
INSERT INTO cur_t VALUES (1, 'one', 1.50, true, '2024-01-02 03:04:05', 0.5), (2, 'two', -20.05, false, '1999-12-31 23:59:59.5', -1e10),
  (3, NULL, NULL, NULL, NULL, NULL), (4, 'four', 12345678.90, true, '2030-06-01 00:00:00', 3.25), (5, 'five', 0.00, false, '2000-01-01 00:00:00', 0);
";

/// Errors roll back to an implicit savepoint (psql's ON_ERROR_ROLLBACK), so
/// one script shows a cursor that failed staying failed, as PostgreSQL's does.
const SCRIPT: &str = r"
\set ON_ERROR_ROLLBACK on
DECLARE outside CURSOR FOR SELECT 1;
BEGIN;
DECLARE s SCROLL CURSOR FOR SELECT id, name FROM cur_t ORDER BY id;
FETCH 2 s; FETCH PRIOR s; FETCH PRIOR s; FETCH PRIOR s; FETCH s;
FETCH LAST s; FETCH s; FETCH s; FETCH PRIOR s; FETCH ABSOLUTE -5 s; FETCH ABSOLUTE -6 s; FETCH RELATIVE 2 s;
FETCH RELATIVE -1 s; FETCH RELATIVE 0 s; FETCH FORWARD 0 s; FETCH BACKWARD 0 s; FETCH -2 s; FETCH FORWARD -1 s; FETCH BACKWARD -2 s;
MOVE ALL s; MOVE BACKWARD ALL s; MOVE 0 s; MOVE 3 s; MOVE 0 s; MOVE BACKWARD ALL s; MOVE ABSOLUTE 9 s; MOVE RELATIVE -1 s;
MOVE LAST s; MOVE FIRST s; FETCH ALL s; FETCH BACKWARD ALL s; FETCH FIRST s;
FETCH ABSOLUTE 4 s; FETCH ABSOLUTE 2 s; FETCH ABSOLUTE 5 s; FETCH ABSOLUTE 6 s; FETCH ABSOLUTE 0 s; FETCH ABSOLUTE 1 s;
FETCH 2 FROM s; FETCH PRIOR IN s; FETCH BACKWARD 5 s; FETCH NEXT FROM s; FETCH FORWARD ALL IN s;
DECLARE s CURSOR FOR SELECT 1;
DECLARE n NO SCROLL CURSOR FOR SELECT id FROM cur_t ORDER BY id;
FETCH n; FETCH ABSOLUTE 3 n; FETCH RELATIVE 1 n; MOVE 0 n; FETCH RELATIVE 0 n;
FETCH n; MOVE BACKWARD ALL n;
DECLARE z NO SCROLL CURSOR FOR SELECT id FROM cur_t ORDER BY id;
MOVE BACKWARD ALL z; FETCH ABSOLUTE 0 z; FETCH RELATIVE 0 z; FETCH 0 z; MOVE 0 z; MOVE RELATIVE 2 z; FETCH RELATIVE 2 z; FETCH ALL z; FETCH 0 z; FETCH LAST z;
DECLARE e SCROLL CURSOR FOR SELECT id FROM cur_t WHERE id > 99;
FETCH e; FETCH PRIOR e; FETCH LAST e; MOVE ALL e; MOVE BACKWARD ALL e; FETCH ABSOLUTE 1 e; FETCH RELATIVE 0 e;
DECLARE d CURSOR FOR SELECT id, id * 10 AS ten FROM cur_t ORDER BY id;
FETCH 2 FROM d; FETCH PRIOR IN d; FETCH BACKWARD 5 d; FETCH d;
DECLARE held SCROLL CURSOR WITH HOLD FOR SELECT id FROM cur_t ORDER BY id DESC;
FETCH 2 held;
COMMIT;
FETCH held; FETCH PRIOR held; MOVE LAST held; FETCH d; FETCH missing;
CLOSE held; CLOSE held;
BEGIN;
DECLARE a CURSOR FOR SELECT 1 AS one;
DECLARE b CURSOR FOR SELECT 2 AS two;
CLOSE ALL;
FETCH a;
ROLLBACK;
";

/// Both tests here recreate `cur_t` in the suite's PostgreSQL: one at a time,
/// so that one's setup never drops the table under the other.
static PG_TABLE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn weir_and_postgres() -> (Server, String, String) {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&["DROP TABLE IF EXISTS cur_t"]);
    for url in [&weir, &pg] {
        let out = psql(url, SETUP);
        assert!(!out.contains("ERROR"), "setup in {url}: {out}");
    }
    (server, weir, pg)
}

#[test]
fn fetch_and_move_in_every_direction_like_postgres() {
    let _one_at_a_time = PG_TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let (_server, weir, pg) = weir_and_postgres();
    assert_same_session("the cursor script", &weir, &pg, SCRIPT);
}

/// A BINARY cursor's rows (read raw through libpq), then psycopg's
/// scrollable and NO SCROLL server cursors, printed for comparison.
const PSYCOPG_SCRIPT: &str = r#"
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    pg = conn.pgconn
    def show(sql):
        r = pg.exec_(sql.encode())
        cols = [(r.fname(i), r.ftype(i), r.fformat(i)) for i in range(r.nfields)]
        rows = [[r.get_value(t, c) for c in range(r.nfields)] for t in range(r.ntuples)]
        print(sql, r.status, r.command_status, cols, rows, (r.error_field(ord("C")) or b"").decode())
    show("BEGIN")
    show("DECLARE bc BINARY CURSOR FOR SELECT id, name, amount, ok, ts, ratio, id::bigint AS big, id::smallint AS small FROM cur_t ORDER BY id")
    show("DECLARE tc CURSOR FOR SELECT id, name FROM cur_t ORDER BY id")
    show("FETCH 3 FROM bc")
    show("FETCH 1 FROM tc")
    show("MOVE BACKWARD 1 IN bc")
    show("FETCH PRIOR FROM bc")
    show("FETCH ALL FROM bc")
    show("COMMIT")
    conn.autocommit = False
    with conn.cursor(name="sc", scrollable=True) as cur:
        cur.execute("SELECT id, name FROM cur_t ORDER BY id")
        print(cur.fetchmany(3))
        cur.scroll(-2)
        print(cur.fetchone())
        cur.scroll(0, mode="absolute")
        print(cur.fetchall())
        cur.scroll(2, mode="absolute")
        print(cur.fetchmany(2))
    conn.commit()
    with conn.cursor(name="fw", scrollable=False) as cur:
        cur.execute("SELECT id FROM cur_t ORDER BY id")
        print(cur.fetchmany(2))
        try:
            cur.scroll(-1)
        except psycopg.Error as e:
            print(type(e).__name__, e.sqlstate)
    conn.rollback()
"#;

#[test]
fn binary_and_scrollable_cursors_through_psycopg_like_postgres() {
    let _one_at_a_time = PG_TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let (_server, weir, pg) = weir_and_postgres();
    let run = |url: &str| {
        let out = Command::new(service("WEIR_TEST_PYTHON")).args(["-c", PSYCOPG_SCRIPT, url]).output().unwrap();
        assert!(out.status.success(), "psycopg against {url}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let w = run(&weir);
    assert_same_lines("the psycopg cursor script", &w, &run(&pg));
    // Format code 1 (binary) from the BINARY cursor, 0 (text) from the other.
    assert!(w.contains("(b'id', 23, 1)") && w.contains("(b'id', 23, 0)"), "both FETCHes ran, in their formats:\n{w}");
}
