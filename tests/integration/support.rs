//! Test support: start and stop a real weir server, connect to it, and find
//! the real services started by `tests/services.sh`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections after start.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A URL or address of a real service, from `tests/services.sh env`.
/// Panics (fails the test) when the service is not configured: a test of a
/// real service never passes without it.
pub fn service(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the suite with tests/run.sh, which starts the real services (or `eval \"$(tests/services.sh env)\"`)")
    })
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weir-test-{tag}-{}-{}", std::process::id(), free_port()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running weir server on a free port with its own data directory.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    args: Vec<String>,
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(temp_dir("server"), &[])
    }

    pub fn start_with(data_dir: PathBuf, args: &[&str]) -> Server {
        let mut s =
            Server { child: None, port: free_port(), log: data_dir.with_extension("log"), data_dir, args: args.iter().map(|s| s.to_string()).collect() };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_weir"))
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.args)
            .env_remove("WEIR_PASSWORD")
            // Sinks of the tests write under the temporary directory; a test may pass its own.
            .env("WEIR_ALLOW_LOCAL_PATH", std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start weir");
        self.child = Some(child);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("weir exited with {status} at start; log:\n{}", self.log_text());
            }
            assert!(Instant::now() < deadline, "weir did not listen within {STARTUP_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn conn_str(&self) -> String {
        format!("host=127.0.0.1 port={} user=weir dbname=weir", self.port)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.conn_str(), tokio_postgres::NoTls).await.expect("connect to weir");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        c.wait().unwrap()
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
            let _ = std::fs::remove_file(&self.log);
        } else {
            eprintln!("weir log ({}):\n{}", self.log.display(), self.log_text());
        }
    }
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The SQLSTATE of an error from tokio-postgres.
pub fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map(|d| d.code().code().to_string()).unwrap_or_else(|| format!("not a server error: {e}"))
}

/// An S3 client for a bucket on the test's moto server (any credentials do).
pub fn moto_store(endpoint: &str, bucket: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_allow_http(true)
        .build()
        .unwrap()
}

/// A Redis connection with timeouts that tolerate a loaded machine.
pub async fn redis_connection(url: &str) -> redis::aio::MultiplexedConnection {
    let config = redis::AsyncConnectionConfig::new().set_connection_timeout(Some(Duration::from_secs(30))).set_response_timeout(Some(Duration::from_secs(30)));
    redis::Client::open(url).unwrap().get_multiplexed_async_connection_with_config(&config).await.unwrap()
}

/// What psql prints for `command` (its errors included, so a failure shows in the diff).
pub fn psql(url: &str, command: &str) -> String {
    let out = Command::new("psql").args([url, "-X", "-v", "ON_ERROR_STOP=1", "-c", command]).output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The URL of the suite's PostgreSQL as role `weir` (created once), after
/// dropping what `cleanup` names (each test drops only its own objects).
pub fn postgres_url(cleanup: &[&str]) -> String {
    let admin = service("WEIR_TEST_PG_URL");
    let role = "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'weir') THEN \
        CREATE ROLE weir SUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS; END IF; END $$";
    let out = psql(&admin, role);
    // Two tests may race to create the role; either way it exists.
    assert!(!out.contains("ERROR") || out.contains("already exists") || out.contains("duplicate key"), "{out}");
    for sql in cleanup {
        let out = psql(&admin, sql);
        assert!(!out.contains("ERROR"), "{sql}: {out}");
    }
    admin.replacen("postgres@", "weir@", 1)
}

/// What psql prints for `script` run in one session, each statement echoed,
/// errors as SQLSTATEs in place, NOTICE and WARNING lines left out (weir sends none yet).
pub fn psql_session(url: &str, script: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("sh")
        .args(["-c", "exec psql \"$1\" -X -a -v VERBOSITY=sqlstate -f - 2>&1", "sh", url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.contains("NOTICE:  ") && !l.contains("WARNING:  ")).map(|l| format!("{l}\n")).collect()
}

/// Runs `script` through psql in weir and in PostgreSQL and fails at the
/// first line where their outputs differ.
pub fn assert_same_session(what: &str, weir_url: &str, pg_url: &str, script: &str) {
    assert_same_lines(what, &psql_session(weir_url, script), &psql_session(pg_url, script));
}

/// Fails at the first line where weir's output `w` and PostgreSQL's `p` differ.
pub fn assert_same_lines(what: &str, w: &str, p: &str) {
    for (i, (wl, pl)) in w.lines().zip(p.lines()).enumerate() {
        assert_eq!(wl, pl, "line {} of {what}: weir (left) and PostgreSQL 15 (right) differ\nweir:\n{w}", i + 1);
    }
    assert_eq!(w.lines().count(), p.lines().count(), "{what}\nweir:\n{w}\nPostgreSQL:\n{p}");
}
