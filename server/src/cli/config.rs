//! Server settings. Precedence: command-line flags, then `WEIR_*`
//! environment variables (both handled by clap), then `weir.yaml`
//! (`--config PATH`), then built-in defaults.

use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:5433";
pub const DEFAULT_DATA_DIR: &str = "./weir-data";
/// Most client sessions at once by default (PostgreSQL's default too).
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;

/// Flags of `weir serve`. Each may also come from the environment or weir.yaml.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address for PostgreSQL clients [env: WEIR_LISTEN] [default: 127.0.0.1:5433]
    #[arg(long, env = "WEIR_LISTEN", hide_env = true)]
    pub listen: Option<String>,
    /// Directory holding the catalog, tables and logs [env: WEIR_DATA_DIR] [default: ./weir-data]
    #[arg(long, env = "WEIR_DATA_DIR", hide_env = true)]
    pub data_dir: Option<PathBuf>,
    /// YAML file with any of these settings (keys: listen, data_dir, password, log, query_threads, wal_compact_bytes, checkpoint_interval, max_connections, memory_limit, max_undelivered_checkpoints, max_objects, tls_cert, tls_key, sink_memory, allow_local_path, allow_env_credentials) [env: WEIR_CONFIG]
    #[arg(long, env = "WEIR_CONFIG", hide_env = true)]
    pub config: Option<PathBuf>,
    /// Require this password (SCRAM-SHA-256) from every client; without it weir trusts every local client [env: WEIR_PASSWORD]
    #[arg(long, env = "WEIR_PASSWORD", hide_env = true)]
    pub password: Option<String>,
    /// Log filter, e.g. info or weir=debug [env: WEIR_LOG] [default: info]
    #[arg(long, env = "WEIR_LOG", hide_env = true)]
    pub log: Option<String>,
    /// Partitions DataFusion splits a query into [env: WEIR_QUERY_THREADS] [default: number of cores]
    #[arg(long, env = "WEIR_QUERY_THREADS", hide_env = true)]
    pub query_threads: Option<usize>,
    /// Fold the write-ahead log into a snapshot once it grows past this many bytes [env: WEIR_WAL_COMPACT_BYTES] [default: 67108864]
    #[arg(long, env = "WEIR_WAL_COMPACT_BYTES", hide_env = true)]
    pub wal_compact_bytes: Option<u64>,
    /// How often dataflows checkpoint their state (and sinks deliver, exactly once), e.g. 1s or 200ms [env: WEIR_CHECKPOINT_INTERVAL] [default: 1s]
    #[arg(long, env = "WEIR_CHECKPOINT_INTERVAL", hide_env = true)]
    pub checkpoint_interval: Option<String>,
    /// Most client sessions at once; one more is refused with SQLSTATE 53300 [env: WEIR_MAX_CONNECTIONS] [default: 100]
    #[arg(long, env = "WEIR_MAX_CONNECTIONS", hide_env = true)]
    pub max_connections: Option<usize>,
    /// Memory weir may use, e.g. 4GiB or 512MiB: a quarter for views' contents cached in memory (the rest is read from disk), a quarter for running queries (past it they spill, then fail with SQLSTATE 53200) [env: WEIR_MEMORY_LIMIT] [default: half the machine's memory]
    #[arg(long, env = "WEIR_MEMORY_LIMIT", hide_env = true)]
    pub memory_limit: Option<String>,
    /// Checkpoints kept for a sink whose target is away; past them the sink fails (DROP SINK and CREATE SINK deliver its input anew) and they are freed [env: WEIR_MAX_UNDELIVERED_CHECKPOINTS] [default: 86400, a day at 1s]
    #[arg(long, env = "WEIR_MAX_UNDELIVERED_CHECKPOINTS", hide_env = true)]
    pub max_undelivered_checkpoints: Option<u64>,
    /// Tables, sources, views and sinks the server holds at most; one more is refused with SQLSTATE 54000 [env: WEIR_MAX_OBJECTS] [default: 10000]
    #[arg(long, env = "WEIR_MAX_OBJECTS", hide_env = true)]
    pub max_objects: Option<usize>,
    /// PEM file with the server's TLS certificate chain; with --tls-key, clients may connect with TLS (sslmode=require or verify-full) [env: WEIR_TLS_CERT]
    #[arg(long, env = "WEIR_TLS_CERT", hide_env = true)]
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the private key of --tls-cert [env: WEIR_TLS_KEY]
    #[arg(long, env = "WEIR_TLS_KEY", hide_env = true)]
    pub tls_key: Option<PathBuf>,
    /// Undelivered changes each sink keeps in memory, e.g. 64MiB; epochs past it (a target away for long) wait only in their checkpoints on disk and are read back in turn [env: WEIR_SINK_MEMORY] [default: 64MiB]
    #[arg(long, env = "WEIR_SINK_MEMORY", hide_env = true)]
    pub sink_memory: Option<String>,
    /// Directory under which sinks may write local files (`file://` paths of s3 sinks); without it no client may name a local path. With --demo, <data-dir>/demo-sinks too [env: WEIR_ALLOW_LOCAL_PATH]
    #[arg(long, env = "WEIR_ALLOW_LOCAL_PATH", hide_env = true)]
    pub allow_local_path: Option<PathBuf>,
    /// Let s3 sinks without keys in their options use this server's AWS environment and instance credentials [env: WEIR_ALLOW_ENV_CREDENTIALS]
    #[arg(long, env = "WEIR_ALLOW_ENV_CREDENTIALS", hide_env = true)]
    pub allow_env_credentials: bool,
    /// Load the demo pipeline (queries/demo.sql: a generated clickstream and live views) if it is not there yet
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    password: Option<String>,
    log: Option<String>,
    query_threads: Option<usize>,
    wal_compact_bytes: Option<u64>,
    checkpoint_interval: Option<String>,
    max_connections: Option<usize>,
    memory_limit: Option<String>,
    max_undelivered_checkpoints: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_objects: Option<usize>,
    sink_memory: Option<String>,
    allow_local_path: Option<PathBuf>,
    allow_env_credentials: Option<bool>,
}

/// The settings a server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub password: Option<String>,
    pub log: String,
    pub query_threads: usize,
    pub wal_compact_bytes: u64,
    pub checkpoint_interval: std::time::Duration,
    pub max_connections: usize,
    pub limits: crate::engine::Limits,
    /// The TLS certificate chain and key files, when clients may use TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub demo: bool,
}

impl Config {
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let interval = args.checkpoint_interval.or(file.checkpoint_interval).unwrap_or_else(|| "1s".into());
        let checkpoint_interval = weir_connectors::options::parse_duration(&interval)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| anyhow::anyhow!("checkpoint_interval \"{interval}\" is not a duration above zero (examples: 1s, 500ms)"))?;
        let memory_limit = match args.memory_limit.or(file.memory_limit) {
            Some(text) => parse_bytes(&text)
                .filter(|b| *b >= MIN_MEMORY_LIMIT)
                .ok_or_else(|| anyhow::anyhow!("memory_limit \"{text}\" is not a size of at least 16MiB (examples: 512MiB, 4GiB)"))?,
            None => default_memory_limit(),
        };
        let sink_memory = match args.sink_memory.or(file.sink_memory) {
            Some(text) => parse_bytes(&text).ok_or_else(|| anyhow::anyhow!("sink_memory \"{text}\" is not a size (examples: 64MiB, 1GiB)"))?,
            None => crate::engine::DEFAULT_SINK_MEMORY,
        };
        let tls = match (args.tls_cert.or(file.tls_cert), args.tls_key.or(file.tls_key)) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => anyhow::bail!("TLS needs both tls_cert and tls_key (PEM files): give both or neither"),
        };
        let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| DEFAULT_DATA_DIR.into());
        let access = weir_connectors::HostAccess {
            local_roots: local_roots(args.allow_local_path.or(file.allow_local_path), args.demo.then(|| data_dir.join("demo-sinks")))?,
            env_credentials: args.allow_env_credentials || file.allow_env_credentials.unwrap_or(false),
        };
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Ok(Config {
            listen: args.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.into()),
            data_dir,
            password: args.password.or(file.password).filter(|p| !p.is_empty()),
            log: args.log.or(file.log).unwrap_or_else(|| "info".into()),
            query_threads: args.query_threads.or(file.query_threads).unwrap_or(cores).max(1),
            demo: args.demo,
            tls,
            max_connections: args.max_connections.or(file.max_connections).unwrap_or(DEFAULT_MAX_CONNECTIONS).max(1),
            checkpoint_interval,
            limits: crate::engine::Limits {
                memory: memory_limit,
                undelivered_checkpoints: args
                    .max_undelivered_checkpoints
                    .or(file.max_undelivered_checkpoints)
                    .unwrap_or(crate::engine::DEFAULT_MAX_UNDELIVERED_CHECKPOINTS)
                    .max(1),
                objects: args.max_objects.or(file.max_objects).unwrap_or(crate::engine::DEFAULT_MAX_OBJECTS).max(1),
                sink_memory,
                access,
            },
            wal_compact_bytes: args.wal_compact_bytes.or(file.wal_compact_bytes).unwrap_or(crate::storage::WAL_COMPACT_BYTES),
        })
    }
}

/// The directories local sink paths must be under (the one given, and the
/// demo's own), made and named by their real paths (so a link in a name cannot widen them).
fn local_roots(given: Option<PathBuf>, demo: Option<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    given
        .into_iter()
        .chain(demo)
        .map(|dir| {
            std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("allow_local_path {}: cannot create it: {e}", dir.display()))?;
            dir.canonicalize().map_err(|e| anyhow::anyhow!("allow_local_path {}: {e}", dir.display()))
        })
        .collect()
}

/// The smallest memory limit weir runs with.
const MIN_MEMORY_LIMIT: u64 = 16 << 20;

/// `4GiB`, `512MiB`, `64MB`, `1024kB` or a number of bytes.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "kib" | "k" => 1 << 10,
        "mb" | "mib" | "m" => 1 << 20,
        "gb" | "gib" | "g" => 1 << 30,
        "tb" | "tib" | "t" => 1 << 40,
        _ => return None,
    };
    let bytes = n * scale as f64;
    (bytes.is_finite() && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Half the machine's memory (MemTotal), or 1 GiB where it cannot be read.
fn default_memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()));
    total.map(|kib| kib * 1024 / 2).unwrap_or(1 << 30).max(MIN_MEMORY_LIMIT)
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_and_file_beats_defaults() {
        let path = std::env::temp_dir().join(format!("weir-config-test-{}.yaml", std::process::id()));
        std::fs::write(&path, "listen: 127.0.0.1:7000\ndata_dir: /tmp/from-file\n").unwrap();
        let args = ServeArgs { listen: Some("127.0.0.1:6000".into()), config: Some(path.clone()), ..Default::default() };
        let c = Config::resolve(args).unwrap();
        assert_eq!(c.listen, "127.0.0.1:6000");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/from-file"));
        assert_eq!(c.password, None);
        assert_eq!(c.checkpoint_interval, std::time::Duration::from_secs(1), "checkpoints every second by default");
        std::fs::write(&path, "checkpoint_interval: 250ms\n").unwrap();
        let c = Config::resolve(ServeArgs { config: Some(path.clone()), ..Default::default() }).unwrap();
        assert_eq!(c.checkpoint_interval, std::time::Duration::from_millis(250));
        let err = Config::resolve(ServeArgs { checkpoint_interval: Some("0s".into()), ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("not a duration above zero"), "{err}");
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes("1.5 GiB"), Some(3 << 29));
        assert_eq!(parse_bytes("lots"), None);
        let err = Config::resolve(ServeArgs { memory_limit: Some("1MiB".into()), ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("at least 16MiB"), "{err}");
        assert!(c.limits.memory >= MIN_MEMORY_LIMIT, "a default limit");
        std::fs::write(&path, "listn: typo\n").unwrap();
        let err = Config::resolve(ServeArgs { config: Some(path.clone()), ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        std::fs::remove_file(path).unwrap();
    }
}
