//! `weir bench --soak-seconds N`: an unbounded generator at `--soak-rate`
//! events/s into a `SELECT *` view and a view with a one-minute retention,
//! inside `--memory-limit`, for N seconds. Every 10 s it prints the process's
//! resident memory, each view's rows and bytes in memory and on disk, its
//! segment files and the data directory's size; at the end it checks each
//! view's row count against what its input read.

use crate::dataflow::view::ViewState;
use crate::engine::Engine;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use weir_planner::{WeirStatement, parse_sql};

const PIPELINE: &str = "
CREATE SOURCE soak WITH (connector = 'generator', scenario = 'clickstream', count = 'unlimited', rate = 'RATE', users = '10000');
CREATE MATERIALIZED VIEW soak_all AS SELECT * FROM soak;
CREATE MATERIALIZED VIEW soak_recent WITH (retention = '1 minute') AS SELECT * FROM soak;";

pub async fn run(seconds: u64, rate: u64, memory_limit: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("weir-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::open(&dir, 1, crate::storage::WAL_COMPACT_BYTES, Some(Duration::from_secs(1)), memory_limit).await?;
    for p in parse_sql(&PIPELINE.replace("RATE", &rate.to_string()))? {
        match &p.statement {
            WeirStatement::CreateSource(cs) => engine.create_source(cs, &p.sql).await?,
            WeirStatement::CreateView(cv) => engine.create_view(cv, &p.sql).await?,
            _ => unreachable!("the pipeline holds sources and views"),
        }
    }
    let views: Vec<(&str, Arc<ViewState>)> = ["soak_all", "soak_recent"].into_iter().map(|v| (v, engine.view_state(v).expect("created"))).collect();
    eprintln!("soak: {rate} events/s for {seconds} s, memory limit {} MiB, data directory {}", memory_limit >> 20, dir.display());
    println!(
        "{:>6} {:>10} {:>8}  {:<12} {:>10} {:>10} {:>10} {:>6} {:>10}",
        "s", "events", "RSS MiB", "view", "rows", "mem MiB", "disk MiB", "files", "dir MiB"
    );
    let started = Instant::now();
    let mut peak_rss = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(10).min(Duration::from_secs(seconds).saturating_sub(started.elapsed()))).await;
        let rss = rss_mib();
        peak_rss = peak_rss.max(rss);
        for (name, v) in &views {
            anyhow::ensure!(!v.status().is_failed(), "{name}: {}", v.status());
            let (mem, disk) = v.state_bytes();
            println!(
                "{:>6} {:>10} {:>8}  {:<12} {:>10} {:>10.1} {:>10.1} {:>6} {:>10}",
                started.elapsed().as_secs(),
                v.stats.rows_in.load(Ordering::Relaxed),
                rss,
                name,
                v.row_count(),
                mem as f64 / 1048576.0,
                disk as f64 / 1048576.0,
                files(&dir.join("segments")),
                dir_bytes(&dir) >> 20
            );
        }
    }
    let (_, all) = &views[0];
    let read = all.stats.rows_in.load(Ordering::Relaxed) as usize;
    let scanned = all.snapshot()?.read_all()?.iter().map(|b| b.num_rows()).sum::<usize>();
    println!("peak RSS {peak_rss} MiB; soak_all holds {scanned} rows (scanned) of {read} read");
    anyhow::ensure!(scanned <= read && read - scanned <= rate as usize * 2, "soak_all lost rows: {scanned} scanned, {read} read");
    engine.stop_all();
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0) >> 10
}

/// Files under `dir`, any depth.
fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|e| e.flatten().map(|e| if e.path().is_dir() { files(&e.path()) } else { 1 }).sum()).unwrap_or(0)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|e| e.flatten().map(|e| if e.path().is_dir() { dir_bytes(&e.path()) } else { e.metadata().map(|m| m.len()).unwrap_or(0) }).sum())
        .unwrap_or(0)
}
