//! The wire protocol as clients see it: both query protocols, every type in
//! text and binary, parameters and portals, errors with SQLSTATEs, cancel,
//! many sessions at once, authentication and shutdown.

use crate::support::{Server, sqlstate, temp_dir};
use std::time::{Duration, Instant};
use tokio_postgres::types::Type;
use tokio_postgres::{NoTls, SimpleQueryMessage};

async fn simple_rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    c.simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect()),
            _ => None,
        })
        .collect()
}

const TYPES_TABLE: &str = "CREATE TABLE every_type (
    id int PRIMARY KEY, b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
    n numeric(12,3), t text, v varchar(20), by bytea, d date, tm time, ts timestamp, tz timestamptz,
    iv interval, j jsonb, ai int[], at text[])";

#[tokio::test]
async fn every_type_round_trips_in_text_and_binary_with_right_oids() {
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute(TYPES_TABLE).await.unwrap();
    c.batch_execute(
        "INSERT INTO every_type VALUES (1, true, -2, 40000, 9000000000, 1.5, -2.25, 12345.678, 'héllo', 'var',
            '\\xdeadbeef', '2024-02-29', '13:45:01.5', '2024-02-29 13:45:01.25', '2024-02-29 13:45:01+00',
            INTERVAL '1 day 2 hours', '{\"a\": [1, 2]}', ARRAY[1, NULL, 3], ARRAY['x', 'y'])",
    )
    .await
    .unwrap();
    c.batch_execute("INSERT INTO every_type (id) VALUES (2)").await.unwrap();

    // Text format (simple protocol): PostgreSQL's output forms.
    let rows = simple_rows(&c, "SELECT * FROM every_type ORDER BY id").await;
    let expect: Vec<Option<String>> = [
        "1",
        "t",
        "-2",
        "40000",
        "9000000000",
        "1.5",
        "-2.25",
        "12345.678",
        "héllo",
        "var",
        "\\xdeadbeef",
        "2024-02-29",
        "13:45:01.5",
        "2024-02-29 13:45:01.25",
        "2024-02-29 13:45:01+00",
        "1 day 02:00:00",
        "{\"a\": [1, 2]}",
        "{1,NULL,3}",
        "{x,y}",
    ]
    .iter()
    .map(|s| Some(s.to_string()))
    .collect();
    assert_eq!(rows[0], expect);
    assert!(rows[1][1..].iter().all(|v| v.is_none()), "NULL everywhere: {:?}", rows[1]);

    // Binary format (extended protocol) with the right type OIDs.
    let stmt = c.prepare("SELECT * FROM every_type WHERE id = $1").await.unwrap();
    assert_eq!(stmt.params(), &[Type::INT4]);
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        vec![
            Type::INT4,
            Type::BOOL,
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::FLOAT4,
            Type::FLOAT8,
            Type::NUMERIC,
            Type::TEXT,
            Type::VARCHAR,
            Type::BYTEA,
            Type::DATE,
            Type::TIME,
            Type::TIMESTAMP,
            Type::TIMESTAMPTZ,
            Type::INTERVAL,
            Type::JSONB,
            Type::INT4_ARRAY,
            Type::TEXT_ARRAY,
        ]
    );
    let r = c.query_one(&stmt, &[&1i32]).await.unwrap();
    assert!(r.get::<_, bool>(1));
    assert_eq!(r.get::<_, i16>(2), -2);
    assert_eq!(r.get::<_, i32>(3), 40000);
    assert_eq!(r.get::<_, i64>(4), 9_000_000_000);
    assert_eq!(r.get::<_, f32>(5), 1.5);
    assert_eq!(r.get::<_, f64>(6), -2.25);
    assert_eq!(r.get::<_, rust_decimal::Decimal>(7).to_string(), "12345.678");
    assert_eq!(r.get::<_, &str>(8), "héllo");
    assert_eq!(r.get::<_, Vec<u8>>(10), vec![0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(r.get::<_, chrono::NaiveDate>(11).to_string(), "2024-02-29");
    assert_eq!(r.get::<_, chrono::NaiveTime>(12).to_string(), "13:45:01.500");
    assert_eq!(r.get::<_, chrono::NaiveDateTime>(13).to_string(), "2024-02-29 13:45:01.250");
    assert_eq!(r.get::<_, chrono::DateTime<chrono::Utc>>(14).to_rfc3339(), "2024-02-29T13:45:01+00:00");
    assert_eq!(r.get::<_, crate::slt::PgInterval>(15).0, "1 day 02:00:00");
    assert_eq!(r.get::<_, serde_json::Value>(16), serde_json::json!({"a": [1, 2]}));
    assert_eq!(r.get::<_, Vec<Option<i32>>>(17), vec![Some(1), None, Some(3)]);
    assert_eq!(r.get::<_, Vec<String>>(18), vec!["x".to_string(), "y".to_string()]);
    let nulls = c.query_one(&stmt, &[&2i32]).await.unwrap();
    assert!((1..19).all(|i| crate::slt::text_of(&nulls, i, nulls.columns()[i].type_()) == "NULL"));

    // Binary parameters of each type, written and read back.
    c.execute(
        "INSERT INTO every_type (id, b, i2, i8, f8, n, t, by, d, ts, tz, j) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &3i32,
            &false,
            &7i16,
            &-5i64,
            &0.125f64,
            &rust_decimal::Decimal::new(-15, 1),
            &"p",
            &vec![1u8, 2],
            &chrono::NaiveDate::from_ymd_opt(2020, 1, 2).unwrap(),
            &chrono::NaiveDate::from_ymd_opt(2020, 1, 2).unwrap().and_hms_micro_opt(3, 4, 5, 6).unwrap(),
            &chrono::DateTime::<chrono::Utc>::from_timestamp(1_700_000_000, 0).unwrap(),
            &serde_json::json!({"k": "v"}),
        ],
    )
    .await
    .unwrap();
    let text = simple_rows(&c, "SELECT b, i2, i8, f8, n, t, by, d, ts, tz, j FROM every_type WHERE id = 3").await;
    let want: Vec<Option<String>> =
        ["f", "7", "-5", "0.125", "-1.500", "p", "\\x0102", "2020-01-02", "2020-01-02 03:04:05.000006", "2023-11-14 22:13:20+00", "{\"k\": \"v\"}"]
            .iter()
            .map(|s| Some(s.to_string()))
            .collect();
    assert_eq!(text[0], want);
}

#[tokio::test]
async fn extended_protocol_parameters_portals_and_sync_after_error() {
    let server = Server::start();
    let mut c = server.client().await;
    c.batch_execute("CREATE TABLE nums (n bigint PRIMARY KEY, label text)").await.unwrap();
    let ins = c.prepare("INSERT INTO nums VALUES ($1, $2)").await.unwrap();
    assert_eq!(ins.params(), &[Type::INT8, Type::TEXT]);
    for n in 0..10i64 {
        assert_eq!(c.execute(&ins, &[&n, &format!("n{n}")]).await.unwrap(), 1);
    }
    // An error in the extended protocol is followed by Sync; the session goes on.
    let err = c.prepare("SELECT * FROM no_such_table").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    let err = c.execute("INSERT INTO nums VALUES ($1, 'dup')", &[&3i64]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    // Portals with a row limit.
    let tx = c.transaction().await.unwrap();
    let sel = tx.prepare("SELECT n, label FROM nums WHERE n >= $1 ORDER BY n").await.unwrap();
    let portal = tx.bind(&sel, &[&2i64]).await.unwrap();
    let first = tx.query_portal(&portal, 3).await.unwrap();
    let rest = tx.query_portal(&portal, 100).await.unwrap();
    assert_eq!(first.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert_eq!(rest.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(), vec![5, 6, 7, 8, 9]);
    tx.commit().await.unwrap();
    // RETURNING through the extended protocol.
    let rows = c.query("UPDATE nums SET label = $1 WHERE n < $2 RETURNING n, label", &[&"small", &2i64]).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.get::<_, &str>(1) == "small"));
    let n: i64 = c.query_one("SELECT count(*) FROM nums WHERE label = 'small'", &[]).await.unwrap().get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn errors_carry_sqlstate_and_postgres_style_text_and_the_session_survives() {
    let server = Server::start();
    let c = server.client().await;
    c.batch_execute("CREATE TABLE e (a int PRIMARY KEY)").await.unwrap();
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM missing", "42P01"),
        ("SELECT nope FROM e", "42703"),
        ("CREATE TABLE e (a int)", "42P07"),
        ("SELECT 'abc'::int", "22P02"),
        ("SET extra_float_digits = 100", "22023"),
        ("CREATE INDEX i ON e (a)", "0A000"),
        ("INSERT INTO e VALUES (NULL)", "23502"),
        ("SET no_such_setting = 1", "42704"),
    ];
    for (sql, code) in cases {
        let err = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql}: {err:?}");
        let msg = err.as_db_error().unwrap().message().to_string();
        assert!(!msg.ends_with('.'), "{sql}: no trailing period: {msg}");
        let first = msg.split_whitespace().next().unwrap_or("");
        let sql_keyword = first.chars().all(|c| c.is_ascii_uppercase());
        assert!(sql_keyword || !first.starts_with(|c: char| c.is_uppercase()), "{sql}: lowercase start: {msg}");
        assert_eq!(simple_rows(&c, "SELECT 1").await, vec![vec![Some("1".to_string())]], "session usable after {sql}");
    }
    // A multi-statement query stops at its first error.
    let err = c.simple_query("INSERT INTO e VALUES (1); SELECT * FROM missing; INSERT INTO e VALUES (2)").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    assert_eq!(simple_rows(&c, "SELECT a FROM e ORDER BY a").await, vec![vec![Some("1".to_string())]]);
    // In a failed transaction block, only ROLLBACK runs.
    c.batch_execute("BEGIN").await.unwrap();
    assert!(c.simple_query("SELECT * FROM missing").await.is_err());
    assert_eq!(sqlstate(&c.simple_query("SELECT 1").await.unwrap_err()), "25P02");
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(simple_rows(&c, "SELECT 1").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_stops_a_running_query() {
    let server = Server::start();
    let c = server.client().await;
    let token = c.cancel_token();
    let slow = tokio::spawn(async move {
        let started = Instant::now();
        let r = c.simple_query("SELECT count(*) FROM generate_series(1, 5000000000)").await;
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    token.cancel_query(NoTls).await.unwrap();
    let (result, took) = tokio::time::timeout(Duration::from_secs(20), slow).await.expect("cancel took effect").unwrap();
    assert_eq!(sqlstate(&result.unwrap_err()), "57014");
    assert!(took < Duration::from_secs(15), "canceled after {took:?}");
    let c2 = server.client().await;
    assert_eq!(simple_rows(&c2, "SELECT 2").await.len(), 1);

    // statement_timeout stops a statement the same way, saying why.
    c2.batch_execute("SET statement_timeout = '300ms'").await.unwrap();
    let started = Instant::now();
    let err = c2.simple_query("SELECT count(*) FROM generate_series(1, 5000000000)").await.unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    assert!(err.as_db_error().unwrap().message().contains("statement timeout"), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "stopped after {:?}", started.elapsed());
    assert_eq!(simple_rows(&c2, "SELECT 3").await.len(), 1, "a statement within the limit runs");
    c2.batch_execute("SET statement_timeout = 0").await.unwrap();
    assert_eq!(sqlstate(&c2.batch_execute("SET statement_timeout = 'soon'").await.unwrap_err()), "22023");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_sessions_at_once_while_a_slow_query_runs() {
    const SESSIONS: usize = 64;
    let server = Server::start();
    let slow_client = server.client().await;
    let slow = tokio::spawn(async move { slow_client.simple_query("SELECT count(*) FROM generate_series(1, 3000000000)").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..SESSIONS {
        let c = server.client().await;
        tasks.push(tokio::spawn(async move {
            c.batch_execute(&format!("CREATE TABLE s{s} (k int PRIMARY KEY, v text)")).await.unwrap();
            for k in 0..10i32 {
                c.execute(&format!("INSERT INTO s{s} VALUES ($1, $2)"), &[&k, &format!("v{k}")]).await.unwrap();
            }
            let n: i64 = c.query_one(&format!("SELECT count(*) FROM s{s}"), &[]).await.unwrap().get(0);
            assert_eq!(n, 10);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let fast = started.elapsed();
    assert!(!slow.is_finished(), "the slow query should still be running after {fast:?}: the others did not wait for it");
    slow.abort();
}

#[tokio::test]
async fn password_authentication_uses_scram() {
    let server = Server::start_with(temp_dir("auth"), &["--password", "s3cret"]);
    let ok = format!("{} password=s3cret", server.conn_str());
    let (c, conn) = tokio_postgres::connect(&ok, NoTls).await.unwrap();
    tokio::spawn(conn);
    assert_eq!(simple_rows(&c, "SELECT 1").await.len(), 1);
    let bad = format!("{} password=wrong", server.conn_str());
    let err = tokio_postgres::connect(&bad, NoTls).await.err().expect("wrong password refused");
    assert_eq!(sqlstate(&err), "28P01");
    assert!(tokio_postgres::connect(&server.conn_str(), NoTls).await.is_err(), "no password refused");
}

#[tokio::test]
async fn startup_parameters_settings_and_clean_shutdown() {
    let mut server = Server::start();
    let c = server.client().await;
    for (name, want) in [
        ("server_version", "15.0"),
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("datestyle", "ISO, MDY"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
        ("timezone", "UTC"),
    ] {
        assert_eq!(simple_rows(&c, &format!("SHOW {name}")).await, vec![vec![Some(want.to_string())]], "{name}");
    }
    c.batch_execute("SET application_name = 'tests'; SET search_path TO public").await.unwrap();
    assert_eq!(simple_rows(&c, "SHOW application_name").await, vec![vec![Some("tests".into())]]);
    c.batch_execute("RESET application_name").await.unwrap();
    assert_eq!(simple_rows(&c, "SHOW application_name").await, vec![vec![Some("".into())]]);
    let status = server.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    let log = server.log_text();
    assert!(log.contains(&format!("listening on postgres://127.0.0.1:{}", server.port)), "{log}");
    assert!(log.contains("SIGTERM"), "{log}");
}

/// `--max-connections`: one session more than the limit is refused with
/// 53300 (FATAL, as PostgreSQL says it), the open ones go on, and a closed
/// one makes room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_beyond_max_connections_are_refused_and_the_others_go_on() {
    let server = Server::start_with(temp_dir("maxconn"), &["--max-connections", "3"]);
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(server.client().await);
    }
    let refused = match tokio_postgres::connect(&server.conn_str(), NoTls).await {
        Ok(_) => panic!("a fourth session was let in"),
        Err(e) => e,
    };
    assert_eq!(sqlstate(&refused), "53300", "{refused:?}");
    let db = refused.as_db_error().expect("an ErrorResponse");
    assert_eq!((db.severity(), db.message()), ("FATAL", "sorry, too many clients already"));
    for c in &open {
        assert_eq!(c.query_one("SELECT 1::int4", &[]).await.unwrap().get::<_, i32>(0), 1);
    }
    drop(open.pop());
    let started = Instant::now();
    let again = loop {
        match tokio_postgres::connect(&server.conn_str(), NoTls).await {
            Ok((c, conn)) => {
                tokio::spawn(conn);
                break c;
            }
            Err(e) => assert!(started.elapsed() < Duration::from_secs(10), "no room after a session closed: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(again.query_one("SELECT 2::int4", &[]).await.unwrap().get::<_, i32>(0), 2);
}

/// `--max-objects`: an object more than the limit is refused with 54000,
/// the session and another one go on, and a dropped object makes room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_beyond_max_objects_are_refused_and_the_server_goes_on() {
    let server = Server::start_with(temp_dir("maxobj"), &["--max-objects", "3"]);
    let (a, b) = (server.client().await, server.client().await);
    a.batch_execute(
        "CREATE TABLE t1 (x int); CREATE SOURCE s WITH (connector = 'generator', scenario = 'sequence', count = 10);
         CREATE MATERIALIZED VIEW v AS SELECT * FROM s;",
    )
    .await
    .unwrap();
    for sql in ["CREATE TABLE t2 (x int)", "CREATE VIEW pv AS SELECT 1", "CREATE MATERIALIZED VIEW v2 AS SELECT * FROM s"] {
        let e = a.batch_execute(sql).await.expect_err(sql);
        assert_eq!(sqlstate(&e), "54000", "{sql}: {e:?}");
        assert!(e.as_db_error().unwrap().message().contains("as many as it may"), "{e:?}");
    }
    assert_eq!(b.query_one("SELECT 1::int4", &[]).await.unwrap().get::<_, i32>(0), 1);
    a.batch_execute("DROP TABLE t1; CREATE TABLE t2 (x int); INSERT INTO t2 VALUES (7)").await.unwrap();
    assert_eq!(b.query_one("SELECT x FROM t2", &[]).await.unwrap().get::<_, i32>(0), 7);
}

/// psql against `conninfo` running `sql`: (succeeded, stdout and stderr).
fn psql_tls(conninfo: &str, sql: &str) -> (bool, String) {
    let out = std::process::Command::new("psql").args([conninfo, "-X", "-A", "-t", "-c", sql]).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// With --tls-cert and --tls-key a client that asks for TLS gets it (and can
/// verify the certificate); one that does not still connects, as with
/// PostgreSQL's default; without them, sslmode=require is refused.
#[test]
fn tls_sessions_when_a_certificate_is_configured() {
    let certs = temp_dir("tls-certs");
    let (cert, key) = (certs.join("cert.pem"), certs.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=weir-test", "-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    let server = Server::start_with(temp_dir("tls"), &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let base = format!("host=127.0.0.1 port={} user=weir dbname=weir", server.port);
    let (ok, out) = psql_tls(&format!("{base} sslmode=require"), "\\conninfo");
    assert!(ok && out.contains("SSL connection (protocol: TLSv1.3"), "{out}");
    let verify = format!("{base} sslmode=verify-full sslrootcert={}", cert.display());
    assert_eq!(psql_tls(&verify, "SELECT 41 + 1"), (true, "42\n".into()));
    let (ok, out) = psql_tls(&format!("{base} sslmode=disable"), "\\conninfo");
    assert!(ok && !out.contains("SSL connection"), "{out}");
    let plain = Server::start();
    let (ok, out) = psql_tls(&format!("host=127.0.0.1 port={} user=weir dbname=weir sslmode=require", plain.port), "SELECT 1");
    assert!(!ok && out.contains("server does not support SSL"), "{out}");
    let _ = std::fs::remove_dir_all(&certs);
}
