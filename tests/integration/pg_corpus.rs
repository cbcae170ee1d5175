//! The differential corpus: every statement of `tests/pg_corpus/expressions.sql`
//! runs on weir and on the suite's real PostgreSQL 15, and the two must agree
//! on the result's text rows, column names and type OIDs, or on the SQLSTATE
//! of the error. A mismatch fails the test unless `tests/pg_corpus/allowed.sql`
//! lists the statement under a reason; an allowed statement that now matches
//! fails it too, so the list only shrinks. `stream.sql` runs each of its
//! queries as a materialized view over a table in weir and compares the
//! view's rows with PostgreSQL's answer to the plain query.

use crate::support::{Server, postgres_url, psql, repo_root, service};
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// What a session starts with on both servers, so output does not depend on
/// either server's defaults.
const SESSION: &[&str] = &["SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, MDY'", "SET IntervalStyle = 'postgres'", "SET extra_float_digits = 1"];

/// One statement of a corpus file, with the category it is listed under.
struct Case {
    category: String,
    sql: String,
}

/// A statement's result as a client sees it.
#[derive(Debug, PartialEq)]
enum Outcome {
    Rows { columns: Vec<(String, u32)>, rows: Vec<Vec<Option<String>>> },
    Error(String),
}

impl Outcome {
    fn show(&self) -> String {
        let text = match self {
            Outcome::Error(code) => format!("ERROR {code}"),
            Outcome::Rows { columns, rows } => {
                let cols: Vec<String> = columns.iter().map(|(n, oid)| format!("{n}:{oid}")).collect();
                let rows: Vec<String> = rows.iter().map(|r| r.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect::<Vec<_>>().join("|")).collect();
                format!("[{}] {}", cols.join(", "), rows.join(" ; "))
            }
        };
        text.chars().take(300).collect()
    }
}

fn corpus_file(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("tests/pg_corpus").join(name)).unwrap_or_else(|e| panic!("tests/pg_corpus/{name}: {e}"))
}

/// The statements of a corpus file: one per line, `-- category: NAME` lines
/// naming the category of those after them, other `--` lines ignored.
fn cases(text: &str) -> Vec<Case> {
    let mut category = "uncategorized".to_string();
    let mut out = vec![];
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(c) = line.strip_prefix("-- category:") {
            category = c.trim().to_string();
        } else if !line.starts_with("--") {
            out.push(Case { category: category.clone(), sql: line.to_string() });
        }
    }
    out
}

/// The allow-list: each statement with the reason given above it.
fn allowed(text: &str) -> HashMap<String, String> {
    let mut why = String::new();
    let mut out = HashMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(w) = line.strip_prefix("-- why:") {
            why = w.trim().to_string();
        } else if !line.starts_with("--") {
            assert!(!why.is_empty(), "tests/pg_corpus/allowed.sql: {line} has no `-- why:` line above it");
            out.insert(line.to_string(), why.clone());
        }
    }
    out
}

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    for s in SESSION {
        client.batch_execute(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    client
}

fn code(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map(|d| d.code().code().to_string()).unwrap_or_else(|| format!("(not a server error: {e})"))
}

/// Describes `sql` (extended protocol: names and type OIDs, as drivers see
/// them) and runs it (simple protocol: the text forms, as psql sees them).
async fn outcome(c: &Client, sql: &str) -> Outcome {
    let columns = match c.prepare(sql).await {
        Ok(st) => st.columns().iter().map(|c| (c.name().to_string(), c.type_().oid())).collect(),
        Err(e) => return Outcome::Error(code(&e)),
    };
    match c.simple_query(sql).await {
        Ok(msgs) => {
            let rows = msgs
                .iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect()),
                    _ => None,
                })
                .collect();
            Outcome::Rows { columns, rows }
        }
        Err(e) => Outcome::Error(code(&e)),
    }
}

/// A fresh database in the suite's PostgreSQL, as role weir (its own, so
/// `current_schema` is `public` as in weir).
fn postgres_database(name: &str) -> String {
    let url = postgres_url(&[]);
    let admin = service("WEIR_TEST_PG_URL");
    for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name} OWNER weir")] {
        let out = psql(&admin, &sql);
        assert!(!out.contains("ERROR"), "{sql}: {out}");
    }
    url.rsplit_once('/').map(|(base, _)| format!("{base}/{name}")).unwrap()
}

/// Both servers with the corpus's tables (`database`: PostgreSQL's, one per test).
async fn servers(database: &str) -> (Server, Client, Client) {
    let server = Server::start();
    let weir = connect(&server.conn_str()).await;
    let pg = connect(&postgres_database(database)).await;
    for case in cases(&corpus_file("setup.sql")) {
        for (who, c) in [("weir", &weir), ("PostgreSQL", &pg)] {
            c.batch_execute(&case.sql).await.unwrap_or_else(|e| panic!("setup on {who}: {}: {e}", case.sql));
        }
    }
    (server, weir, pg)
}

#[derive(Default)]
struct Tally {
    total: usize,
    matched: usize,
    allowed: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expressions_match_postgres() {
    let (_server, weir, pg) = servers("weir_corpus_expressions").await;
    let corpus = cases(&corpus_file("expressions.sql"));
    let allow = allowed(&corpus_file("allowed.sql"));
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = vec![];
    let mut differing = std::collections::HashSet::new();
    for case in &corpus {
        let started = std::time::Instant::now();
        let w = outcome(&weir, &case.sql).await;
        if started.elapsed() > std::time::Duration::from_secs(1) {
            eprintln!("slow in weir ({:.1} s): {}", started.elapsed().as_secs_f64(), case.sql);
        }
        let p = outcome(&pg, &case.sql).await;
        let tally = by_category.entry(case.category.clone()).or_default();
        tally.total += 1;
        match (w == p, allow.contains_key(&case.sql)) {
            (true, _) => tally.matched += 1,
            (false, true) => tally.allowed += 1,
            (false, false) => failures.push(format!("[{}] {}\n    weir:       {}\n    PostgreSQL: {}", case.category, case.sql, w.show(), p.show())),
        }
        if w != p {
            differing.insert(case.sql.clone());
        }
    }
    let in_corpus = |a: &String| corpus.iter().any(|c| &c.sql == a);
    let stale: Vec<&String> = allow.keys().filter(|a| !in_corpus(a)).collect();
    // A statement may appear more than once (under other settings); it is
    // allowed while any of its runs differs.
    let now_matching: Vec<&String> = allow.keys().filter(|a| in_corpus(a) && !differing.contains(*a)).collect();
    eprintln!("{:<14} {:>6} {:>6} {:>8} {:>9}", "category", "cases", "match", "allowed", "mismatch");
    for (name, t) in &by_category {
        eprintln!("{name:<14} {:>6} {:>6} {:>8} {:>9}", t.total, t.matched, t.allowed, t.total - t.matched - t.allowed);
    }
    let matched: usize = by_category.values().map(|t| t.matched).sum();
    eprintln!("{matched} of {} expressions match PostgreSQL 15 ({} allowed to differ)", corpus.len(), allow.len());
    assert!(corpus.len() >= 600, "the corpus should hold at least 600 statements, has {}", corpus.len());
    assert!(stale.is_empty(), "tests/pg_corpus/allowed.sql lists statements the corpus no longer has: {stale:#?}");
    assert!(now_matching.is_empty(), "these allowed statements now match PostgreSQL; remove them from tests/pg_corpus/allowed.sql: {now_matching:#?}");
    assert!(failures.is_empty(), "{} statements differ from PostgreSQL 15:\n{}", failures.len(), failures.join("\n"));
}

/// The rows of an outcome in a fixed order, for views (which keep none).
fn sorted(o: Outcome) -> Outcome {
    match o {
        Outcome::Rows { columns, mut rows } => {
            rows.sort();
            Outcome::Rows { columns, rows }
        }
        e => e,
    }
}

/// Waits until a view over a table has read all of it; Err with its status when it failed.
async fn view_finished(c: &Client, view: &str) -> Result<(), String> {
    let started = std::time::Instant::now();
    loop {
        let row = c.query_one("SELECT status FROM weir_views WHERE name = $1", &[&view]).await.unwrap();
        let status: String = row.get(0);
        match status.as_str() {
            "finished" => return Ok(()),
            s if s.starts_with("failed") => return Err(status),
            _ => {}
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{view} did not finish: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn materialized_views_match_postgres() {
    let (_server, weir, pg) = servers("weir_corpus_views").await;
    let corpus = cases(&corpus_file("stream.sql"));
    let allow = allowed(&corpus_file("allowed_views.sql"));
    let mut failures = vec![];
    for (i, case) in corpus.iter().enumerate() {
        let query = case.sql.trim_end_matches(';');
        let view = format!("corpus_view_{i}");
        if let Err(e) = weir.batch_execute(&format!("CREATE MATERIALIZED VIEW {view} AS {query}")).await {
            failures.push((
                case.sql.clone(),
                format!(
                    "[{}] {query}\n    weir refused the view: {}",
                    case.category,
                    e.as_db_error().map_or(e.to_string(), |d| format!("{} ({})", d.message(), d.code().code()))
                ),
            ));
            continue;
        }
        if let Err(status) = view_finished(&weir, &view).await {
            failures.push((case.sql.clone(), format!("[{}] {query}\n    the view {status}", case.category)));
            continue;
        }
        let want = sorted(outcome(&pg, query).await);
        assert!(matches!(&want, Outcome::Rows { rows, .. } if !rows.is_empty()), "{query}: PostgreSQL returned no rows, so the comparison would prove nothing");
        let got = sorted(outcome(&weir, &format!("SELECT * FROM {view}")).await);
        if got != want {
            failures.push((case.sql.clone(), format!("[{}] {query}\n    view:       {}\n    PostgreSQL: {}", case.category, got.show(), want.show())));
        }
    }
    eprintln!("{} of {} materialized views match PostgreSQL 15", corpus.len() - failures.len(), corpus.len());
    assert!(corpus.len() >= 20, "stream.sql should hold at least 20 queries");
    let differing: Vec<&String> = failures.iter().map(|(sql, _)| sql).collect();
    let now_matching: Vec<&String> = allow.keys().filter(|a| !differing.contains(a)).collect();
    assert!(
        now_matching.is_empty(),
        "these views now match PostgreSQL (or left stream.sql); remove them from tests/pg_corpus/allowed_views.sql: {now_matching:#?}"
    );
    let unexplained: Vec<&String> = failures.iter().filter(|(sql, _)| !allow.contains_key(sql)).map(|(_, text)| text).collect();
    assert!(
        unexplained.is_empty(),
        "{} views differ from PostgreSQL 15:\n{}",
        unexplained.len(),
        unexplained.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}
