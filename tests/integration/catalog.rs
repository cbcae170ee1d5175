//! psql's backslash commands against weir, compared with what the same psql
//! prints for the same objects in the real PostgreSQL 15 the suite runs
//! (differential: nothing here is an expected text typed by hand), and
//! weir's own objects (sources, materialized views) as psql shows them.

use crate::support::{Server, assert_same_session, postgres_url, psql, psql_session, temp_dir};
use std::process::Command;

/// The same statements in weir and PostgreSQL, as role `weir` in both (so owners agree).
const SETUP: &[&str] = &[
    "CREATE TABLE psql_diff_t (id int PRIMARY KEY, name varchar(20) NOT NULL, amount numeric(12,2), note text, seen timestamp, ok boolean)",
    "INSERT INTO psql_diff_t VALUES (1, 'a', 1.50, 'x', '2024-01-02 03:04:05', true)",
    "CREATE MATERIALIZED VIEW psql_diff_m AS SELECT name, count(*) AS n FROM psql_diff_t GROUP BY name",
    "CREATE VIEW psql_diff_v (ident, label) AS SELECT id, name FROM psql_diff_t WHERE ok",
];

const COMMANDS: &[&str] = &[
    r"\d psql_diff_t",
    r"\d+ psql_diff_t",
    r"\dt psql_diff_*",
    r"\dm psql_diff_*",
    r"\di psql_diff_*",
    r"\d psql_diff_t_pkey",
    r"\d psql_diff_m",
    r"\dv psql_diff_*",
    r"\d psql_diff_v",
    r"\dn public",
    r"\du weir",
    r"\dT",
];

#[test]
fn psql_describes_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&["DROP VIEW IF EXISTS psql_diff_v", "DROP MATERIALIZED VIEW IF EXISTS psql_diff_m", "DROP TABLE IF EXISTS psql_diff_t"]);
    for sql in SETUP {
        for url in [&weir, &pg] {
            let out = psql(url, sql);
            assert!(!out.contains("ERROR"), "{sql} in {url}: {out}");
        }
    }
    for command in COMMANDS {
        let expected = psql(&pg, command);
        assert!(!expected.contains("ERROR") && !expected.contains("Did not find"), "psql {command} in PostgreSQL: {expected}");
        assert_eq!(psql(&weir, command), expected, "psql {command}: weir (left) and PostgreSQL 15 (right) differ");
    }
}

#[test]
fn psql_lists_and_describes_weir_objects() {
    let mut server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let setup = "CREATE SOURCE clicks WITH (connector = 'generator', scenario = 'clickstream', rate = '10', out_of_order = '2s')";
    assert!(!psql(&weir, setup).contains("ERROR"));
    let listed = psql(&weir, r"\d");
    assert!(listed.contains("clicks | foreign table | weir"), "{listed}");
    let described = psql(&weir, r"\d clicks");
    assert!(described.contains("Foreign table \"public.clicks\""), "{described}");
    assert!(described.contains("Server: generator"), "{described}");
    assert!(described.contains("scenario 'clickstream'") && described.contains("watermark 'timestamp - 2s'"), "{described}");
    for command in [r"\l", r"\df", r"\dv", r"\conninfo", r"\dn", r"\du"] {
        let out = psql(&weir, command);
        assert!(!out.contains("ERROR"), "psql {command}: {out}");
    }
    assert!(psql(&weir, r"\l").contains("weir | weir  | UTF8"));

    // A plain view is a definition: it survives a restart and reads the rows of then.
    for sql in ["CREATE TABLE k (a int)", "INSERT INTO k VALUES (21)", "CREATE VIEW kv AS SELECT a * 2 AS b FROM k"] {
        assert!(!psql(&weir, sql).contains("ERROR"), "{sql}");
    }
    server.restart();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    assert!(!psql(&weir, "INSERT INTO k VALUES (1)").contains("ERROR"));
    let out = Command::new("psql").args([weir.as_str(), "-X", "-A", "-t", "-c", "SELECT b FROM kv ORDER BY b"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n42\n");
}

/// Statements on plain views, run one by one in weir and in PostgreSQL;
/// psql prints each result, or the error's SQLSTATE.
const VIEW_SCRIPT: &[&str] = &[
    "CREATE TABLE plain_t (id int PRIMARY KEY, name text, note text)",
    "INSERT INTO plain_t VALUES (1, 'a', 'x'), (2, 'b', 'y')",
    "CREATE VIEW plain_v1 AS SELECT id, name FROM plain_t",
    "CREATE VIEW plain_v2 (n) AS SELECT count(*) FROM plain_v1",
    "SELECT * FROM plain_v2",
    "INSERT INTO plain_t VALUES (3, 'c', 'z')",
    "SELECT * FROM plain_v1 ORDER BY id",
    "SELECT n FROM public.plain_v2",
    "CREATE VIEW plain_v1 AS SELECT 1",
    "CREATE OR REPLACE VIEW plain_v1 AS SELECT id FROM plain_t",
    "CREATE OR REPLACE VIEW plain_v1 AS SELECT id, note FROM plain_t",
    "CREATE OR REPLACE VIEW plain_v1 AS SELECT id, name, note FROM plain_t",
    "SELECT * FROM plain_v1 WHERE id = 3",
    "SELECT viewname FROM pg_views WHERE viewname LIKE 'plain_%' ORDER BY 1",
    "SELECT table_name, table_type FROM information_schema.tables WHERE table_name LIKE 'plain_%' ORDER BY 1",
    "DROP TABLE plain_t",
    "DROP VIEW plain_t",
    "DROP VIEW plain_v1",
    "DROP VIEW plain_v1 CASCADE",
    "SELECT count(*) AS views FROM pg_views WHERE viewname LIKE 'plain_%'",
    "DROP VIEW IF EXISTS plain_v2",
    "DROP TABLE plain_t",
];

#[test]
fn plain_views_behave_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&["DROP VIEW IF EXISTS plain_v2, plain_v1", "DROP TABLE IF EXISTS plain_t"]);
    let run = |url: &str, sql: &str| {
        let out = Command::new("psql").args([url, "-X", "-v", "VERBOSITY=sqlstate", "-c", sql]).output().unwrap();
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    // weir sends no NOTICE messages yet (PostgreSQL notes what CASCADE drops).
    let without_notices = |s: String| s.lines().filter(|l| !l.starts_with("NOTICE:")).collect::<Vec<_>>().join("\n");
    for sql in VIEW_SCRIPT {
        assert_eq!(run(&weir, sql), without_notices(run(&pg, sql)) + "\n", "{sql}: weir (left) and PostgreSQL 15 (right) differ");
    }
}

/// What psql prints for `sql` with `input` on its standard input, errors as SQLSTATEs.
fn psql_with_input(url: &str, sql: &str, input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("psql")
        .args([url, "-X", "-v", "VERBOSITY=sqlstate", "-c", sql])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn copy_to_and_from_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&["DROP TABLE IF EXISTS copy_t, copy_t2"]);
    let dir = temp_dir("copy");
    let steps: Vec<(String, &str)> = vec![
        ("CREATE TABLE copy_t (id int PRIMARY KEY, s text, ts timestamp, ok boolean, n numeric(8,2), d double precision)".into(), ""),
        ("CREATE TABLE copy_t2 (id int PRIMARY KEY, s text, ts timestamp, ok boolean, n numeric(8,2), d double precision)".into(), ""),
        ("INSERT INTO copy_t VALUES (1, 'a,b \"q\"', '2024-01-02 03:04:05.5', true, 1.5, 0.1), (2, NULL, NULL, false, NULL, NULL), (3, E'tab\there\nnewline \\ back', NULL, NULL, 0, -2.5e10), (4, '', NULL, true, 2, 1)".into(), ""),
        ("COPY copy_t TO STDOUT".into(), ""),
        ("COPY (SELECT id, s FROM copy_t ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)".into(), ""),
        ("COPY copy_t (id, d, s) TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'null')".into(), ""),
        ("COPY (SELECT id FROM copy_t WHERE id > 100) TO STDOUT WITH (FORMAT csv, HEADER true)".into(), ""),
        (format!("\\copy copy_t to '{}/out.csv' csv header", dir.display()), ""),
        (format!("\\copy copy_t2 from '{}/out.csv' csv header", dir.display()), ""),
        ("SELECT * FROM copy_t2 ORDER BY id".into(), ""),
        ("COPY copy_t2 (id, s, ok) FROM STDIN".into(), "10\tten\\tTAB\tt\n11\t\\N\tf\n"),
        ("COPY copy_t2 (id, s) FROM STDIN WITH (FORMAT csv)".into(), "20,\"quoted, \"\"comma\"\"\"\n21,\n22,\"\"\n"),
        ("COPY copy_t2 (id, s) FROM STDIN".into(), "30\n"),
        ("COPY copy_t2 (id, ok) FROM STDIN".into(), "31\tmaybe\n"),
        ("SELECT id, s, s IS NULL AS null_s, ok FROM copy_t2 WHERE id >= 10 ORDER BY id".into(), ""),
    ];
    for (sql, input) in &steps {
        let (w, p) = (psql_with_input(&weir, sql, input), psql_with_input(&pg, sql, input));
        // (the file names in \copy's output are the same on both sides)
        assert_eq!(w, p, "{sql}: weir (left) and PostgreSQL 15 (right) differ");
    }
    // Unlike PostgreSQL, weir writes no files on the server: COPY goes to and from the client.
    assert_eq!(psql_with_input(&weir, "COPY copy_t TO '/tmp/x'", ""), "ERROR:  0A000\n");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn time_zone_setting_shows_and_reads_timestamptz_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&[]);
    let zones = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York", "utc"];
    for zone in zones {
        let session = |url: &str| {
            let out = Command::new("psql")
                .args([url, "-X", "-v", "VERBOSITY=sqlstate"])
                .args(["-c", &format!("SET TimeZone = '{zone}'")])
                .args(["-c", "SELECT '2024-06-01 12:00:00+00'::timestamptz AS fixed, '2024-01-15 08:30:00'::timestamptz AS local"])
                .args(["-c", "SHOW TimeZone"])
                .output()
                .unwrap();
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        };
        assert_eq!(session(&weir), session(&pg), "TimeZone {zone}: weir (left) and PostgreSQL 15 (right) differ");
    }
    let bad = psql_with_input(&weir, "SET TimeZone = 'Mars/Olympus'", "");
    assert_eq!(bad, psql_with_input(&pg, "SET TimeZone = 'Mars/Olympus'", ""));
}

/// Schemas and search_path in one session: where objects go, what names
/// find, the catalog's view of it, psql's listing, and the errors.
const SCHEMA_SCRIPT: &str = r"
CREATE SCHEMA sp_a;
CREATE SCHEMA sp_a;
CREATE SCHEMA IF NOT EXISTS sp_a;
CREATE SCHEMA pg_mine;
CREATE TABLE sp_a.t (id int PRIMARY KEY, v text);
CREATE TABLE sp_t (id int);
CREATE TABLE sp_nowhere.t (id int);
INSERT INTO sp_a.t VALUES (1, 'in a');
INSERT INTO sp_t VALUES (2);
SELECT * FROM sp_a.t;
SELECT * FROM t;
SHOW search_path;
SELECT current_schema() AS s, current_schemas(false) AS path;
SET search_path TO sp_a, public;
SHOW search_path;
SELECT current_schema() AS s, current_schemas(false) AS path, current_schemas(true) AS implicit;
SELECT * FROM t;
SELECT * FROM sp_t;
CREATE TABLE u (x int);
INSERT INTO u VALUES (5), (6);
UPDATE u SET x = x + 1 WHERE x = 6;
DELETE FROM t WHERE id = 99;
CREATE VIEW w AS SELECT x * 2 AS y FROM u;
WITH u AS (SELECT 100 AS x) SELECT x FROM u;
SELECT schemaname, tablename FROM pg_tables WHERE tablename IN ('t', 'u', 'sp_t') ORDER BY 1, 2;
SELECT relname, relnamespace::regnamespace AS nsp FROM pg_class WHERE relname IN ('t', 'u', 'w', 't_pkey', 'sp_t') ORDER BY 1;
SELECT 't'::regclass::text AS t, 'sp_a.t'::regclass = 't'::regclass AS same, pg_table_is_visible('sp_a.t'::regclass) AS visible;
RESET search_path;
SELECT * FROM sp_a.w ORDER BY y;
SELECT 'sp_a.t'::regclass::text AS t, pg_table_is_visible('sp_a.t'::regclass) AS visible, to_regclass('t') AS bare, to_regclass('sp_a.u') IS NOT NULL AS found;
SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'sp_a' ORDER BY 2;
SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE table_schema = 'sp_a' ORDER BY 2, 3;
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sp%' ORDER BY 1;
SELECT schema_name, schema_owner FROM information_schema.schemata WHERE schema_name LIKE 'sp%' ORDER BY 1;
SELECT schemaname, viewname FROM pg_views WHERE schemaname = 'sp_a';
\dn sp*
\dt sp_a.*
\d sp_a.t
\dv sp_a.*
DROP SCHEMA sp_a;
DROP TABLE sp_a.missing;
DROP SCHEMA sp_a CASCADE;
SELECT * FROM sp_a.t;
DROP SCHEMA sp_a;
DROP SCHEMA IF EXISTS sp_a;
DROP SCHEMA public;
SET search_path TO nowhere;
CREATE TABLE x (a int);
SELECT current_schema() IS NULL AS none;
RESET search_path;
DROP TABLE sp_t;
";

#[test]
fn schemas_and_search_path_behave_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&["DROP SCHEMA IF EXISTS sp_a CASCADE", "DROP TABLE IF EXISTS sp_t"]);
    assert_same_session("the schema script", &weir, &pg, SCHEMA_SCRIPT);
}

/// A schema's objects, and views that found their inputs through the
/// search path, mean the same objects after a restart.
#[test]
fn objects_in_a_schema_keep_their_meaning_across_restart() {
    let mut server = Server::start();
    let url = |s: &Server| format!("postgresql://weir@127.0.0.1:{}/weir", s.port);
    let script = "CREATE SCHEMA shop; CREATE TABLE orders (n int); INSERT INTO orders VALUES (1000); \
        SET search_path = shop, public; CREATE TABLE orders (n int); INSERT INTO orders VALUES (1), (2); \
        CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS total FROM orders; CREATE VIEW doubled AS SELECT n * 2 AS d FROM orders;";
    let out = psql(&url(&server), script);
    assert!(!out.contains("ERROR"), "{out}");
    server.restart();
    let read = |sql: &str| {
        let out = Command::new("psql").args([url(&server).as_str(), "-X", "-A", "-t", "-c", sql]).output().unwrap();
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    assert_eq!(read("INSERT INTO shop.orders VALUES (3)"), "INSERT 0 1\n");
    // Summed over shop.orders (1 + 2, or with the 3 once a view over a table follows
    // later writes); public.orders would give 1000 and more.
    let total = read("SELECT total FROM shop.totals");
    assert!(total == "3\n" || total == "6\n", "the view over shop.orders gives {total}");
    assert_eq!(read("SELECT sum(d) FROM shop.doubled"), "12\n");
    let unqualified = read("SELECT count(*) FROM totals");
    assert!(unqualified.starts_with("ERROR:") && unqualified.contains("totals"), "{unqualified}");
}

/// psql's own commands over query results: `\x`, `\gset` and `\timing`
/// (its "Time:" lines differ run to run and are left out).
#[test]
fn psql_expanded_output_gset_and_timing_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&[]);
    let script =
        "\\x on\nSELECT 1 AS a, 'two' AS b;\n\\x off\nSELECT 41 + 1 AS answer \\gset\n\\echo :answer\n\\timing on\nSELECT 'timed' AS t;\n\\timing off\n";
    let without_times = |s: String| s.lines().filter(|l| !l.starts_with("Time:")).collect::<Vec<_>>().join("\n");
    assert_eq!(without_times(psql_session(&weir, script)), without_times(psql_session(&pg, script)));
}

/// What psql shows after typing `typed` and pressing Tab twice, in a
/// terminal (tmux) as a user would.
fn psql_tab_completion(url: &str, typed: &str) -> String {
    static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let session = format!("weir-tab-{}-{}", std::process::id(), SESSIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
    // A tmux server of its own (-L): one that is exiting after the last
    // session's end would refuse the next session.
    let tmux = |args: &[&str]| Command::new("tmux").args(["-L", session.as_str()]).args(args).output().unwrap();
    let cmd = format!("psql '{url}' -X -v PROMPT1='> '");
    tmux(&["new-session", "-d", "-s", &session, "-x", "160", "-y", "20", &cmd]);
    let capture = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).to_string();
    // On a loaded machine psql may take a while to start and to complete:
    // wait for its prompt, then for the screen to settle after Tab Tab.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !capture().lines().any(|l| l.trim_end() == ">") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    tmux(&["send-keys", "-t", &session, typed, "Tab", "Tab"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let (mut screen, mut settled) = (capture(), std::time::Instant::now());
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let now = capture();
        if now != screen {
            (screen, settled) = (now, std::time::Instant::now());
        } else if settled.elapsed() > std::time::Duration::from_millis(1000) && screen.contains(typed.trim_end()) {
            break;
        }
    }
    tmux(&["kill-server"]);
    // (psql's banner names the server's version when it differs from its own)
    screen.lines().map(str::trim_end).filter(|l| !l.is_empty() && !l.starts_with("psql (")).collect::<Vec<_>>().join("\n")
}

#[test]
fn psql_tab_completes_object_names_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&["DROP VIEW IF EXISTS tabc_view", "DROP TABLE IF EXISTS tabc_alpha, tabc_beta"]);
    for url in [&weir, &pg] {
        let out = psql(url, "CREATE TABLE tabc_alpha (a int); CREATE TABLE tabc_beta (b int); CREATE VIEW tabc_view AS SELECT a FROM tabc_alpha");
        assert!(!out.contains("ERROR"), "{out}");
    }
    for typed in ["SELECT * FROM tabc_", "\\d tabc_al", "SELECT * FROM tabc_alpha WHERE ", "DROP VIEW tabc"] {
        let (w, p) = (psql_tab_completion(&weir, typed), psql_tab_completion(&pg, typed));
        assert!(p.contains("tabc_"), "PostgreSQL completed nothing for {typed:?}: {p}");
        assert_eq!(w, p, "completing {typed:?}: weir (left) and PostgreSQL 15 (right) differ");
    }
}
