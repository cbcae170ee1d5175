//! `weir bench --soak-seconds N`: the generator at `--soak-rate` events/s for
//! N seconds into a `SELECT *` view, the same with a one-minute retention, a
//! tumble view, an OVER view and an interval join, inside `--memory-limit`.
//! Every 10 s it prints the process's resident memory, each view's rows and
//! bytes in memory and on disk, and the newest checkpoint's bytes and
//! duration; once the input ends it checks the tumble, OVER and join views
//! against the same queries run in batch over the `SELECT *` view's rows,
//! then reopens the data directory, prints how long the restore took for
//! how much state, and checks them again.

use crate::dataflow::view::ViewState;
use crate::engine::Engine;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use weir_planner::{WeirStatement, parse_sql};

const PIPELINE: &str = "
CREATE SOURCE soak WITH (connector = 'generator', scenario = 'clickstream', count = 'COUNT', rate = 'RATE', users = '10000', out_of_order = '0s');
CREATE MATERIALIZED VIEW soak_all AS SELECT * FROM soak;
CREATE MATERIALIZED VIEW soak_recent WITH (retention = '1 minute') AS SELECT event_id, event_type, \"timestamp\" FROM soak;
CREATE MATERIALIZED VIEW soak_1m AS SELECT window_start, event_type, count(*) AS n
  FROM TUMBLE(soak, \"timestamp\", INTERVAL '1 minute') GROUP BY window_start, window_end, event_type EMIT ON WINDOW CLOSE;
CREATE MATERIALIZED VIEW soak_over AS SELECT event_id,
  count(*) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '10 seconds' PRECEDING AND CURRENT ROW) AS n FROM soak;
CREATE MATERIALIZED VIEW soak_next AS SELECT a.event_id, b.event_id AS next_id FROM soak a JOIN soak b
  ON a.user_id = b.user_id AND b.\"timestamp\" > a.\"timestamp\" AND b.\"timestamp\" <= a.\"timestamp\" + INTERVAL '2 seconds';";

/// Each view checked at the end, and the batch query over `soak_all` it must equal.
const ORACLES: [(&str, &str); 3] = [
    (
        "soak_1m",
        "SELECT date_bin(INTERVAL '1 minute', \"timestamp\", TIMESTAMP '1970-01-01 00:00:00') AS window_start, event_type, count(*) AS n FROM soak_all GROUP BY 1, 2",
    ),
    (
        "soak_over",
        "SELECT event_id, count(*) OVER (PARTITION BY user_id ORDER BY \"timestamp\" RANGE BETWEEN INTERVAL '10 seconds' PRECEDING AND CURRENT ROW) AS n FROM soak_all",
    ),
    (
        "soak_next",
        "SELECT a.event_id, b.event_id AS next_id FROM soak_all a JOIN soak_all b
           ON a.user_id = b.user_id AND b.\"timestamp\" > a.\"timestamp\" AND b.\"timestamp\" <= a.\"timestamp\" + INTERVAL '2 seconds'",
    ),
];

/// The views the soak creates.
const VIEWS: [&str; 5] = ["soak_all", "soak_recent", "soak_1m", "soak_over", "soak_next"];

pub async fn run(seconds: u64, rate: u64, memory_limit: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("weir-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let open = || Engine::open(&dir, 1, crate::storage::WAL_COMPACT_BYTES, Some(Duration::from_secs(1)), crate::engine::Limits::with_memory(memory_limit));
    let engine = open().await?;
    for p in parse_sql(&PIPELINE.replace("COUNT", &(rate * seconds).to_string()).replace("RATE", &rate.to_string()))? {
        match &p.statement {
            WeirStatement::CreateSource(cs) => engine.create_source(cs, &p.sql).await?,
            WeirStatement::CreateView(cv) => engine.create_view(cv, &p.sql).await?,
            _ => unreachable!("the pipeline holds sources and views"),
        }
    }
    let views: Vec<(&str, Arc<ViewState>)> = VIEWS.into_iter().map(|v| (v, engine.view_state(v).expect("created"))).collect();
    eprintln!("soak: {rate} events/s for {seconds} s, memory limit {} MiB, data directory {}", memory_limit >> 20, dir.display());
    println!(
        "{:>5} {:>9} {:>7} {:>9} {:>9}  {:<11} {:>9} {:>8} {:>8} {:>6}",
        "s", "events", "RSS MiB", "ckpt KiB", "ckpt ms", "view", "rows", "mem MiB", "disk MiB", "files"
    );
    let started = Instant::now();
    let mut peak_rss = 0;
    while views.iter().any(|(_, v)| !v.status().ended()) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let rss = rss_mib();
        peak_rss = peak_rss.max(rss);
        let (ckpt_kib, ckpt_ms) = engine.coord.history().last().map(|(i, _)| (i.bytes >> 10, i.duration.as_millis())).unwrap_or_default();
        let files = files(&dir.join("segments"));
        for (name, v) in &views {
            anyhow::ensure!(!v.status().is_failed(), "{name}: {}", v.status());
            let (mem, disk) = v.state_bytes();
            let mib = |b: u64| b as f64 / 1048576.0;
            let (s, read) = (started.elapsed().as_secs(), v.stats.rows_in.load(Ordering::Relaxed));
            println!("{s:>5} {read:>9} {rss:>7} {ckpt_kib:>9} {ckpt_ms:>9}  {name:<11} {:>9} {:>8.1} {:>8.1} {files:>6}", v.row_count(), mib(mem), mib(disk));
        }
    }
    println!("peak RSS {peak_rss} MiB; the input ended after {:.0} s", started.elapsed().as_secs_f64());
    check_oracles(&engine, &views[0].1).await?;
    let state: u64 = views.iter().map(|(_, v)| v.state_bytes().1).sum();
    engine.stop_all();
    drop((views, engine));
    let started = Instant::now();
    let engine = open().await?;
    println!("reopened in {:.2} s with {:.1} MiB of state on disk", started.elapsed().as_secs_f64(), state as f64 / 1048576.0);
    check_oracles(&engine, &engine.view_state("soak_all").expect("restored")).await?;
    engine.stop_all();
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The views against their batch queries, row for row (as sorted text).
async fn check_oracles(engine: &Arc<Engine>, all: &ViewState) -> anyhow::Result<()> {
    let read = all.stats.rows_in.load(Ordering::Relaxed) as usize;
    anyhow::ensure!(all.row_count() == read, "soak_all holds {} rows of {read} read", all.row_count());
    let ctx = engine.context();
    for (view, batch) in ORACLES {
        let got = sorted_rows(&ctx, &format!("SELECT * FROM {view}")).await?;
        let want = sorted_rows(&ctx, batch).await?;
        anyhow::ensure!(got == want, "{view}: {} rows streamed, {} in batch, and they differ", got.len(), want.len());
        println!("{view}: {} rows, equal to the batch query over soak_all", got.len());
    }
    Ok(())
}

async fn sorted_rows(ctx: &datafusion::prelude::SessionContext, sql: &str) -> anyhow::Result<Vec<String>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let mut rows = Vec::new();
    for b in &batches {
        let cols: Vec<_> =
            b.columns().iter().map(|c| arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &Default::default())).collect::<Result<_, _>>()?;
        rows.extend((0..b.num_rows()).map(|r| cols.iter().map(|c| c.value(r).to_string()).collect::<Vec<_>>().join("|")));
    }
    rows.sort();
    Ok(rows)
}

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0) >> 10
}

/// Files under `dir`, any depth.
fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|e| e.flatten().map(|e| if e.path().is_dir() { files(&e.path()) } else { 1 }).sum()).unwrap_or(0)
}
