//! psql's backslash commands against weir, compared with what the same psql
//! prints for the same objects in the real PostgreSQL 15 the suite runs
//! (differential: nothing here is an expected text typed by hand), and
//! weir's own objects (sources, materialized views) as psql shows them.

use crate::support::{Server, service};
use std::process::Command;

/// What psql prints for `command` (its errors included, so a failure shows in the diff).
fn psql(url: &str, command: &str) -> String {
    let out = Command::new("psql").args([url, "-X", "-v", "ON_ERROR_STOP=1", "-c", command]).output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The same statements in weir and PostgreSQL, as role `weir` in both (so owners agree).
const SETUP: &[&str] = &[
    "CREATE TABLE psql_diff_t (id int PRIMARY KEY, name varchar(20) NOT NULL, amount numeric(12,2), note text, seen timestamp, ok boolean)",
    "INSERT INTO psql_diff_t VALUES (1, 'a', 1.50, 'x', '2024-01-02 03:04:05', true)",
    "CREATE MATERIALIZED VIEW psql_diff_m AS SELECT name, count(*) AS n FROM psql_diff_t GROUP BY name",
];

const COMMANDS: &[&str] = &[
    r"\d psql_diff_t",
    r"\d+ psql_diff_t",
    r"\dt psql_diff_*",
    r"\dm psql_diff_*",
    r"\di psql_diff_*",
    r"\d psql_diff_t_pkey",
    r"\d psql_diff_m",
    r"\dn public",
    r"\du weir",
    r"\dT",
];

fn postgres_url() -> String {
    let admin = service("WEIR_TEST_PG_URL");
    for sql in [
        "DROP MATERIALIZED VIEW IF EXISTS psql_diff_m",
        "DROP TABLE IF EXISTS psql_diff_t",
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'weir') THEN CREATE ROLE weir SUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS; END IF; END $$",
    ] {
        let out = psql(&admin, sql);
        assert!(!out.contains("ERROR"), "{sql}: {out}");
    }
    admin.replacen("postgres@", "weir@", 1)
}

#[test]
fn psql_describes_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url();
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
    let server = Server::start();
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
}
