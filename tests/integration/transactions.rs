//! Transactions over tables and sessions: the same statements in weir and
//! in the suite's PostgreSQL 15 give the same rows and errors; other sessions
//! see all of a transaction or none of it; a crash before COMMIT leaves
//! nothing; pg_stat_activity shows each session as PostgreSQL does.

use crate::support::{Server, service, sqlstate};
use tokio_postgres::{Client, NoTls};

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// What a statement gives: its rows as text, or its SQLSTATE.
async fn outcome(c: &Client, sql: &str) -> String {
    match c.simple_query(sql).await {
        Ok(msgs) => msgs
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).unwrap_or("NULL")).collect::<Vec<_>>().join("|")),
                tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(format!("({n})")),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("ERROR {}", sqlstate(&e)),
    }
}

const SCRIPT: &[&str] = &[
    "CREATE TABLE txn_t (id int PRIMARY KEY, v text)",
    "CREATE TABLE txn_u (id int PRIMARY KEY, n int)",
    "BEGIN",
    "INSERT INTO txn_t VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO txn_u VALUES (1, 10)",
    "SELECT * FROM txn_t ORDER BY id",
    "SAVEPOINT s1",
    "UPDATE txn_t SET v = 'B' WHERE id = 2",
    "DELETE FROM txn_u",
    "SELECT count(*) AS n FROM txn_u",
    "ROLLBACK TO SAVEPOINT s1",
    "SELECT * FROM txn_t ORDER BY id",
    "SAVEPOINT s2",
    "INSERT INTO txn_t VALUES (3, 'c')",
    "RELEASE SAVEPOINT s2",
    "COMMIT",
    "SELECT * FROM txn_t ORDER BY id",
    "SELECT * FROM txn_u ORDER BY id",
    "BEGIN",
    "DELETE FROM txn_t WHERE id > 1",
    "ROLLBACK",
    "SELECT count(*) AS n FROM txn_t",
    "BEGIN",
    "INSERT INTO txn_t VALUES (4, 'd')",
    "INSERT INTO txn_t VALUES (1, 'dup')",
    "SELECT 1 AS one",
    "COMMIT",
    "SELECT count(*) AS n FROM txn_t",
    "BEGIN READ ONLY",
    "SELECT count(*) AS n FROM txn_t",
    "INSERT INTO txn_t VALUES (5, 'e')",
    "ROLLBACK",
    "SAVEPOINT outside",
    "RELEASE SAVEPOINT outside",
    "BEGIN",
    "RELEASE SAVEPOINT nope",
    "SELECT 1 AS one",
    "COMMIT",
    "BEGIN",
    "INSERT INTO txn_t VALUES (6, 'kept')",
    "SAVEPOINT before_error",
    "INSERT INTO txn_t VALUES (7, 'undone')",
    "INSERT INTO txn_t VALUES (1, 'dup')",
    "SELECT 1 AS one",
    "ROLLBACK TO SAVEPOINT nope",
    "ROLLBACK TO SAVEPOINT before_error",
    "SELECT id, v FROM txn_t WHERE id > 5 ORDER BY id",
    "INSERT INTO txn_t VALUES (8, 'after')",
    "COMMIT",
    "SELECT id, v FROM txn_t WHERE id > 5 ORDER BY id",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_behave_like_postgres() {
    let server = Server::start();
    let weir = connect(&server.conn_str()).await;
    let pg = connect(&service("WEIR_TEST_PG_URL")).await;
    pg.batch_execute("DROP TABLE IF EXISTS txn_t, txn_u").await.unwrap();
    for sql in SCRIPT {
        let (w, p) = (outcome(&weir, sql).await, outcome(&pg, sql).await);
        assert_eq!(w, p, "{sql}: weir (left) and PostgreSQL 15 (right) differ");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sessions_see_all_of_a_transaction_or_none_and_a_crash_keeps_none() {
    let mut server = Server::start();
    let a = server.client().await;
    let b = server.client().await;
    a.batch_execute("CREATE TABLE acct (id int PRIMARY KEY, balance int); CREATE TABLE audit (id int PRIMARY KEY, note text)").await.unwrap();
    a.batch_execute("INSERT INTO acct VALUES (1, 100), (2, 0)").await.unwrap();
    a.batch_execute("BEGIN; UPDATE acct SET balance = balance - 30 WHERE id = 1; UPDATE acct SET balance = balance + 30 WHERE id = 2; INSERT INTO audit VALUES (1, 'moved 30')").await.unwrap();
    assert_eq!(outcome(&b, "SELECT count(*) FROM audit").await, "0\n(1)", "b sees nothing of a's open transaction");
    assert_eq!(outcome(&b, "SELECT balance FROM acct ORDER BY id").await, "100\n0\n(2)");
    assert_eq!(outcome(&a, "SELECT balance FROM acct ORDER BY id").await, "70\n30\n(2)", "a reads its own writes");
    // A write by b to a table a's transaction wrote makes a's COMMIT fail rather than lose b's write.
    b.batch_execute("UPDATE acct SET balance = 1 WHERE id = 2").await.unwrap();
    assert_eq!(outcome(&a, "COMMIT").await, "ERROR 40001");
    assert_eq!(outcome(&b, "SELECT balance FROM acct ORDER BY id").await, "100\n1\n(2)");
    a.batch_execute("ROLLBACK").await.unwrap();
    a.batch_execute("BEGIN; UPDATE acct SET balance = 50 WHERE id = 1; INSERT INTO audit VALUES (2, 'set 50'); COMMIT").await.unwrap();
    assert_eq!(outcome(&b, "SELECT balance FROM acct WHERE id = 1").await, "50\n(1)");
    assert_eq!(outcome(&b, "SELECT count(*) FROM audit").await, "1\n(1)");

    // An open transaction at a crash is gone after the restart; what was committed stays.
    a.batch_execute("BEGIN; INSERT INTO audit VALUES (3, 'never committed'); UPDATE acct SET balance = 0").await.unwrap();
    server.kill();
    server.restart();
    let c = server.client().await;
    assert_eq!(outcome(&c, "SELECT id FROM audit ORDER BY id").await, "2\n(1)");
    assert_eq!(outcome(&c, "SELECT balance FROM acct ORDER BY id").await, "50\n1\n(2)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_stat_activity_shows_sessions_like_postgres() {
    let server = Server::start();
    let pg_url = service("WEIR_TEST_PG_URL");
    let mut seen = Vec::new();
    for url in [server.conn_str(), pg_url] {
        let (a, b) = (connect(&url).await, connect(&url).await);
        a.simple_query("SET application_name = 'activity_probe'").await.unwrap();
        a.simple_query("SELECT 1").await.unwrap();
        let other = outcome(&b, "SELECT application_name, state, query FROM pg_stat_activity WHERE application_name = 'activity_probe'").await;
        let own = outcome(&b, "SELECT state, query, usename = current_user AS mine FROM pg_stat_activity WHERE pid = pg_backend_pid()").await;
        a.simple_query("BEGIN").await.unwrap();
        let in_block = outcome(&b, "SELECT state FROM pg_stat_activity WHERE application_name = 'activity_probe'").await;
        seen.push((other, own, in_block));
    }
    assert_eq!(seen[0], seen[1], "weir (left) and PostgreSQL 15 (right) differ");
}

/// A transaction over two tables is seen whole by a query that reads both
/// while commits go on in another session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_two_tables_never_sees_half_a_commit() {
    let server = Server::start();
    let writer = server.client().await;
    let reader = server.client().await;
    writer
        .batch_execute("CREATE TABLE half_a (n int); CREATE TABLE half_b (n int); INSERT INTO half_a VALUES (0); INSERT INTO half_b VALUES (0)")
        .await
        .unwrap();
    let writes = tokio::spawn(async move {
        for _ in 0..150 {
            writer.batch_execute("BEGIN; UPDATE half_a SET n = n + 1; UPDATE half_b SET n = n + 1; COMMIT").await.unwrap();
        }
    });
    let mut reads = 0;
    while !writes.is_finished() {
        let seen = outcome(&reader, "SELECT a.n = b.n AS same, a.n FROM half_a a CROSS JOIN half_b b").await;
        assert!(seen.starts_with("t|"), "a query saw one table after a commit and the other before it: {seen}");
        reads += 1;
    }
    writes.await.unwrap();
    assert!(reads > 10, "only {reads} reads ran beside the commits");
}

/// SET in a transaction block is undone by ROLLBACK, SET LOCAL lasts until
/// the block ends, SET TRANSACTION READ ONLY acts in the block and nowhere
/// else: psql's output from weir equals PostgreSQL 15's, line for line.
#[test]
fn settings_follow_transaction_blocks_like_postgres() {
    use crate::support::{assert_same_session, postgres_url, psql};
    const SCRIPT: &str = "
SET TimeZone = 'Europe/Berlin';
BEGIN; SET TimeZone = 'Asia/Tokyo'; SHOW TimeZone; ROLLBACK;
SHOW TimeZone;
BEGIN; SET TimeZone = 'Asia/Tokyo'; COMMIT;
SHOW TimeZone;
BEGIN; SET LOCAL TimeZone = 'America/New_York'; SHOW TimeZone; COMMIT;
SHOW TimeZone;
SET LOCAL TimeZone = 'America/New_York';
SHOW TimeZone;
BEGIN; SET LOCAL statement_timeout = '5s'; SET statement_timeout = '7s'; SHOW statement_timeout; COMMIT;
SHOW statement_timeout;
BEGIN; SET TRANSACTION READ ONLY; SHOW transaction_read_only; INSERT INTO set_t VALUES (1); ROLLBACK;
SET TRANSACTION READ ONLY;
SHOW transaction_read_only;
INSERT INTO set_t VALUES (2);
BEGIN; SET transaction_read_only = on; INSERT INTO set_t VALUES (3); COMMIT;
BEGIN READ ONLY; SHOW transaction_read_only; COMMIT;
SHOW transaction_read_only;
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
SHOW transaction_read_only;
INSERT INTO set_t VALUES (4);
BEGIN READ WRITE; INSERT INTO set_t VALUES (5); COMMIT;
SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE;
BEGIN; SET TimeZone = 'Asia/Tokyo'; SELECT 1/0; COMMIT;
SHOW TimeZone;
SELECT a FROM set_t ORDER BY a;
";
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let pg = postgres_url(&["DROP TABLE IF EXISTS set_t"]);
    for url in [&weir, &pg] {
        let out = psql(url, "CREATE TABLE set_t (a int)");
        assert!(!out.contains("ERROR"), "setup in {url}: {out}");
    }
    assert_same_session("the settings script", &weir, &pg, SCRIPT);
}

/// Isolation levels weir does not give are refused, not accepted and ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stronger_isolation_levels_are_refused() {
    let server = Server::start();
    let c = server.client().await;
    for sql in [
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SET default_transaction_isolation = 'serializable'",
        "SET ROLE nobody",
    ] {
        let e = c.batch_execute(sql).await.expect_err(sql);
        assert_eq!(sqlstate(&e), "0A000", "{sql}: {e:?}");
    }
    c.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED; COMMIT; SET default_transaction_isolation = 'read uncommitted'").await.unwrap();
    assert!(!c.is_closed());
}
