//! A corpus of bad input against a live server: garbage bytes, truncated and
//! oversized messages, invalid UTF-8, unknown message types, a 10 MB query,
//! unsupported statements. The server must answer afterwards and its memory
//! must not keep growing.

use crate::support::{Server, sqlstate};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A minimal frontend that speaks just enough protocol to send bad messages.
struct Raw(TcpStream);

impl Raw {
    fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw(s)
    }

    fn startup(port: u16) -> Raw {
        let mut r = Raw::connect(port);
        let mut body = Vec::new();
        body.extend_from_slice(&196608i32.to_be_bytes()); // protocol 3.0
        for kv in ["user", "weir", "database", "weir"] {
            body.extend_from_slice(kv.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut msg = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        msg.extend_from_slice(&body);
        r.0.write_all(&msg).unwrap();
        r.read_until(b'Z');
        r
    }

    /// Reads messages until one of type `want` (or the connection ends); returns the types seen.
    fn read_until(&mut self, want: u8) -> Vec<u8> {
        let mut seen = Vec::new();
        loop {
            let mut head = [0u8; 5];
            if self.0.read_exact(&mut head).is_err() {
                return seen;
            }
            let len = i32::from_be_bytes(head[1..5].try_into().unwrap()) as usize;
            let mut body = vec![0u8; len.saturating_sub(4)];
            if self.0.read_exact(&mut body).is_err() {
                return seen;
            }
            seen.push(head[0]);
            if head[0] == want {
                return seen;
            }
        }
    }

    fn send(&mut self, tag: u8, body: &[u8]) -> std::io::Result<()> {
        let mut msg = vec![tag];
        msg.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        msg.extend_from_slice(body);
        self.0.write_all(&msg)
    }
}

/// A deterministic stream of pseudo-random bytes (xorshift).
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn run_corpus(port: u16, round: u64) {
    // Random bytes instead of a startup message, and after one.
    let mut r = Raw::connect(port);
    let _ = r.0.write_all(&noise(round, 4096));
    let _ = r.read_until(b'Z');
    let mut r = Raw::startup(port);
    let _ = r.0.write_all(&noise(round + 1000, 4096));
    let _ = r.read_until(b'Z');
    // A truncated startup message, then hang up.
    let mut r = Raw::connect(port);
    let _ = r.0.write_all(&[0, 0, 0, 100, 0, 3, 0]);
    drop(r);
    // A truncated query message.
    let mut r = Raw::startup(port);
    let _ = r.0.write_all(&[b'Q', 0, 0, 1, 0, b'S', b'E']);
    drop(r);
    // An oversized length that is never sent.
    let mut r = Raw::startup(port);
    let _ = r.0.write_all(&[b'Q', 0x7f, 0xff, 0xff, 0xff, b'S']);
    let _ = r.read_until(b'Z');
    // Invalid UTF-8 in a query: an error, not a crash.
    let mut r = Raw::startup(port);
    let _ = r.send(b'Q', &[b'S', b'E', 0xff, 0xfe, b'\'', 0]);
    let seen = r.read_until(b'Z');
    assert!(seen.is_empty() || seen.contains(&b'E'), "invalid UTF-8 answered with {seen:?}");
    // An unknown message type.
    let mut r = Raw::startup(port);
    let _ = r.send(b'!', b"what");
    let _ = r.read_until(b'Z');
}

/// Upper bound on memory growth of the server over the corpus, in KiB.
const CORPUS_GROWTH_LIMIT_KIB: u64 = 16 * 1024;
/// Upper bound on memory growth over 20 more 10 MB queries, in KiB. A leak of
/// just the query text would be 200 MB.
const BIG_QUERY_GROWTH_LIMIT_KIB: u64 = 150 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_corpus_leaves_the_server_answering_without_leaking() {
    let mut server = Server::start();
    let port = server.port;
    tokio::task::spawn_blocking(move || run_corpus(port, 1)).await.unwrap();
    let warm_rss = server.rss_kib();
    tokio::task::spawn_blocking(move || {
        for round in 2..200 {
            run_corpus(port, round);
        }
    })
    .await
    .unwrap();
    assert!(server.is_running(), "weir crashed on bad input");
    let corpus_rss = server.rss_kib();
    assert!(corpus_rss < warm_rss + CORPUS_GROWTH_LIMIT_KIB, "memory grew from {warm_rss} KiB to {corpus_rss} KiB over 200 rounds of bad input");

    let c = server.client().await;
    // 10 MB queries: they run, and repeating them does not keep taking memory.
    let big = format!("SELECT length('{}')", "x".repeat(10 * 1024 * 1024));
    for _ in 0..2 {
        let n: i32 = c.query_one(big.as_str(), &[]).await.unwrap().get(0);
        assert_eq!(n, 10 * 1024 * 1024);
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let big_rss = server.rss_kib();
    for _ in 0..20 {
        c.simple_query(&big).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let after_rss = server.rss_kib();
    assert!(after_rss < big_rss + BIG_QUERY_GROWTH_LIMIT_KIB, "memory grew from {big_rss} KiB to {after_rss} KiB over 20 queries of 10 MB");
    // 10 MB of a left-nested expression, and deep nesting: refused, not a stack overflow.
    let deep = format!("SELECT 1{}", " + 1".repeat(2_500_000));
    let err = c.simple_query(&deep).await.unwrap_err();
    assert_eq!(sqlstate(&err), "54000", "{err:?}");
    let nested = format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(sqlstate(&c.simple_query(&nested).await.unwrap_err()), "54000");
    // Statements weir does not support.
    for sql in ["CREATE INDEX i ON t (a)", "LISTEN chan", "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql", "VACUUM", "GRANT ALL ON t TO bob"] {
        let err = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "0A000", "{sql}: {err:?}");
    }
    assert!(server.is_running(), "weir crashed");
    let rows = c.simple_query("SELECT 42").await.unwrap();
    assert_eq!(rows.len(), 3, "row description, row and completion");
}
