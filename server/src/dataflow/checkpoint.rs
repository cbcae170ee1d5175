//! Epoch checkpoints: the coordinator that asks for barriers, collects each
//! dataflow part's state for an epoch, and writes a checkpoint once every
//! part has reported; and the loader that finds the last good one at start.
//!
//! Every `interval` the coordinator requests epoch E. A view that reads a
//! source takes a barrier between two batches: it saves its source position,
//! watermark, aggregate state and contents, and sends `Msg::Barrier(E)` to
//! its subscribers, which save theirs when the barrier reaches them (one
//! input each, so no alignment is needed). A sink cuts its epoch at the
//! barrier and saves the epoch's changes. Once every member has reported E
//! the coordinator writes the parts to `checkpoints/E.tmp/`, syncs them,
//! writes `MANIFEST` (each file's length and CRC) and renames the directory
//! to `checkpoints/E`: a checkpoint without a valid manifest is never used.
//! Sinks write epoch E to their targets only after that, so a restart from
//! the newest checkpoint can deliver again whatever a crash interrupted.
//!
//! Rows appended to append-only views are saved once, as segment files the
//! view writes at the barrier (`segments/<member>/`, see `segments.rs`); a
//! checkpoint syncs the ones its parts name before its manifest is written,
//! and a restart from checkpoint E removes the files of later epochs.

use crate::dataflow::view::{Subscription, ViewState};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use weir_planner::SqlResult;

/// At most this many epochs are requested and not yet written.
const MAX_PENDING: u64 = 4;
/// Recent checkpoints listed by `weir_checkpoints`.
const HISTORY: usize = 100;

/// A dataflow part's name in checkpoints: the key of its state and the
/// folder of its segments. Formatted in one place, so every user agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberId {
    /// A view's dataflow, by the view's id.
    View(u64),
    /// The feed that reads a source for one side of a join view.
    JoinFeed(u64, JoinSide),
    /// A sink, by the sink's id.
    Sink(u64),
    /// The feed that reads a source for a sink.
    SinkFeed(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinSide {
    Left,
    Right,
}

/// How a sink's name in checkpoints begins.
const SINK_PREFIX: &str = "sink-";

impl MemberId {
    /// Whether a name in a checkpoint is a sink's.
    fn names_a_sink(name: &str) -> bool {
        name.starts_with(SINK_PREFIX)
    }
}

impl std::fmt::Display for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberId::View(id) => write!(f, "view-{id}"),
            MemberId::JoinFeed(id, JoinSide::Left) => write!(f, "view-{id}.left"),
            MemberId::JoinFeed(id, JoinSide::Right) => write!(f, "view-{id}.right"),
            MemberId::Sink(id) => write!(f, "{SINK_PREFIX}{id}"),
            MemberId::SinkFeed(id) => write!(f, "feed-{id}"),
        }
    }
}

/// One member's state for one epoch.
#[derive(Clone, Default)]
pub struct Part {
    pub state: Vec<u8>,
    /// Segment files an append-only view wrote since its previous checkpoint.
    pub segments: Vec<PathBuf>,
}

struct Member {
    /// The first epoch this member takes part in.
    first: u64,
    parts: BTreeMap<u64, Part>,
    /// A member whose input ended: this part stands for every later epoch.
    finished: Option<Part>,
    /// For sinks: the newest epoch delivered to the target.
    committed: Option<Arc<AtomicU64>>,
}

/// A written checkpoint, for `weir_checkpoints`.
#[derive(Clone)]
pub struct Info {
    pub epoch: u64,
    pub at_micros: i64,
    pub duration: Duration,
    pub bytes: u64,
    pub members: usize,
}

#[derive(Default)]
struct Inner {
    /// The newest epoch taken for writing: parts for it or older are refused.
    taken: u64,
    members: HashMap<String, Member>,
    /// When each requested, unwritten epoch was requested.
    requested_at: BTreeMap<u64, Instant>,
    history: VecDeque<Info>,
}

pub struct Coordinator {
    dir: PathBuf,
    segments: PathBuf,
    interval: Duration,
    requested: AtomicU64,
    durable: AtomicU64,
    inner: Mutex<Inner>,
    pub stop: AtomicBool,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    epoch: u64,
    at_micros: i64,
    files: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    member: String,
    len: u64,
    crc: u32,
}

fn epoch_name(e: u64) -> String {
    format!("{e:020}")
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// What the newest good checkpoint holds, found at start.
pub struct Restored {
    pub epoch: u64,
    /// Each member's state in the newest checkpoint.
    pub parts: HashMap<String, Vec<u8>>,
    /// Every kept checkpoint up to the newest, oldest first: (epoch, member states).
    older: Vec<(u64, HashMap<String, Vec<u8>>)>,
}

impl Restored {
    /// A sink's saved epochs, oldest first, from every kept checkpoint.
    pub fn take_sink_parts(&mut self, member: &MemberId) -> Vec<(u64, Vec<u8>)> {
        let member = &member.to_string();
        let mut out: Vec<(u64, Vec<u8>)> = self.older.iter_mut().filter_map(|(e, parts)| parts.remove(member).map(|p| (*e, p))).collect();
        out.extend(self.parts.remove(member).map(|p| (self.epoch, p)));
        out
    }
}

fn read_manifest(dir: &Path) -> io::Result<Manifest> {
    serde_json::from_slice(&fs::read(dir.join("MANIFEST"))?).map_err(io::Error::other)
}

/// The part `f` of the checkpoint in `dir`, checked against its manifest entry.
fn read_checked(dir: &Path, f: &FileEntry) -> io::Result<Vec<u8>> {
    let bytes = fs::read(dir.join(&f.member))?;
    if bytes.len() as u64 != f.len || crc32fast::hash(&bytes) != f.crc {
        return Err(io::Error::other(format!("part {} does not match its manifest", f.member)));
    }
    Ok(bytes)
}

/// One member's part of the checkpoint in `dir`.
fn read_part(dir: &Path, member: &str) -> io::Result<Vec<u8>> {
    let manifest = read_manifest(dir)?;
    let f = manifest.files.iter().find(|f| f.member == member).ok_or_else(|| io::Error::other(format!("checkpoint has no part {member}")))?;
    read_checked(dir, f)
}

fn read_checkpoint(dir: &Path) -> io::Result<(Manifest, HashMap<String, Vec<u8>>)> {
    let manifest = read_manifest(dir)?;
    let parts = manifest.files.iter().map(|f| Ok((f.member.clone(), read_checked(dir, f)?))).collect::<io::Result<HashMap<_, _>>>()?;
    Ok((manifest, parts))
}

impl Coordinator {
    /// Opens `<data>/checkpoints`, removes unfinished checkpoints and returns
    /// the coordinator with what the newest good checkpoint holds.
    pub fn open(data_dir: &Path, interval: Duration) -> io::Result<(Arc<Coordinator>, Option<Restored>)> {
        let dir = data_dir.join("checkpoints");
        let segments = data_dir.join("segments");
        fs::create_dir_all(&dir)?;
        fs::create_dir_all(&segments)?;
        let mut epochs = Vec::new();
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            match name.parse::<u64>() {
                Ok(e) => epochs.push(e),
                Err(_) => fs::remove_dir_all(entry.path()).or_else(|_| fs::remove_file(entry.path()))?,
            }
        }
        epochs.sort_unstable();
        let mut restored: Option<Restored> = None;
        let mut history = VecDeque::new();
        let mut bad = Vec::new();
        for &e in epochs.iter().rev() {
            match read_checkpoint(&dir.join(epoch_name(e))) {
                Ok((m, parts)) => match &mut restored {
                    None => {
                        let bytes = parts.values().map(|p| p.len() as u64).sum();
                        history.push_back(Info { epoch: e, at_micros: m.at_micros, duration: Duration::ZERO, bytes, members: parts.len() });
                        restored = Some(Restored { epoch: e, parts, older: vec![] });
                    }
                    Some(r) => r.older.insert(0, (e, parts)),
                },
                Err(err) if restored.is_none() => {
                    tracing::warn!("checkpoint {e} is incomplete or damaged ({err}); using an older one");
                    bad.push(e);
                }
                Err(err) => tracing::warn!("older checkpoint {e} cannot be read ({err}); sinks that still needed it may repeat rows"),
            }
        }
        for e in bad {
            fs::remove_dir_all(dir.join(epoch_name(e)))?;
        }
        let epoch = restored.as_ref().map(|r| r.epoch).unwrap_or(0);
        // Segments written after the checkpoint restarted from hold rows it does not cover.
        for member in fs::read_dir(&segments)?.flatten().filter(|m| m.path().is_dir()) {
            crate::dataflow::segments::clean_dir(&member.path(), epoch)?;
        }
        let inner = Inner { taken: epoch, history, ..Inner::default() };
        let c = Coordinator { dir, segments, interval, requested: epoch.into(), durable: epoch.into(), inner: Mutex::new(inner), stop: AtomicBool::new(false) };
        Ok((Arc::new(c), restored))
    }

    /// Starts the thread that requests epochs and writes checkpoints.
    pub fn start(self: &Arc<Self>) -> io::Result<std::thread::JoinHandle<()>> {
        let me = self.clone();
        std::thread::Builder::new().name("weir-checkpoints".into()).spawn(move || me.run())
    }

    pub fn requested(&self) -> u64 {
        self.requested.load(Ordering::Acquire)
    }

    pub fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// A member that reads a source joins at once: returns the epoch its
    /// next barrier follows (it reports every epoch after it).
    pub fn join_root(&self, member: &MemberId) -> u64 {
        let mut inner = self.inner.lock();
        let after = inner.taken;
        inner.members.insert(member.to_string(), Member { first: after + 1, parts: BTreeMap::new(), finished: None, committed: None });
        after
    }

    /// A member that reads another member's output subscribes to `input`
    /// while no checkpoint can be taken, and takes part from the barrier
    /// after the ones it missed. Sinks pass their commit counter. Returns the
    /// subscription and the barrier its changes start after.
    pub fn join(&self, member: &MemberId, committed: Option<Arc<AtomicU64>>, input: &ViewState) -> SqlResult<(Subscription, u64)> {
        let (mut subs, after) = self.join_all(member, committed, &[input])?;
        Ok((subs.pop().expect("one subscription"), after))
    }

    /// `join` for a member that reads several inputs (a join): it takes part
    /// from the barrier after the newest one any input had passed.
    pub fn join_all(&self, member: &MemberId, committed: Option<Arc<AtomicU64>>, inputs: &[&ViewState]) -> SqlResult<(Vec<Subscription>, u64)> {
        let mut inner = self.inner.lock();
        let subs = inputs.iter().map(|i| i.subscribe()).collect::<SqlResult<Vec<_>>>()?;
        let first = subs.iter().map(|s| s.after_barrier + 1).max().unwrap_or(0).max(inner.taken + 1);
        inner.members.insert(member.to_string(), Member { first, parts: BTreeMap::new(), finished: None, committed });
        Ok((subs, first - 1))
    }

    pub fn leave(&self, member: &MemberId) {
        self.inner.lock().members.remove(&member.to_string());
    }

    /// Records a member's state for `epoch`; false if the epoch is already
    /// written (or the member is not known), so the caller keeps its changes.
    pub fn report(&self, member: &MemberId, epoch: u64, part: Part) -> bool {
        let mut inner = self.inner.lock();
        let taken = inner.taken;
        match inner.members.get_mut(&member.to_string()) {
            Some(m) if epoch > taken && epoch >= m.first => {
                m.parts.insert(epoch, part);
                true
            }
            _ => false,
        }
    }

    /// A member whose input ended: `part` is its state for every later epoch.
    pub fn finish(&self, member: &MemberId, part: Part) {
        if let Some(m) = self.inner.lock().members.get_mut(&member.to_string()) {
            m.finished = Some(part);
        }
    }

    /// Written checkpoints a sink has not delivered yet (kept for it, trimmed to its parts).
    pub fn undelivered(&self, member: &MemberId) -> u64 {
        let inner = self.inner.lock();
        let committed = inner.members.get(&member.to_string()).and_then(|m| m.committed.as_ref()).map(|c| c.load(Ordering::Acquire));
        committed.map(|c| self.durable().saturating_sub(c)).unwrap_or(0)
    }

    pub fn history(&self) -> Vec<(Info, bool)> {
        let inner = self.inner.lock();
        let complete = min_committed(&inner, self.durable());
        inner.history.iter().map(|i| (i.clone(), i.epoch <= complete)).collect()
    }

    fn run(&self) {
        let mut next_request = Instant::now() + self.interval;
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5).min(self.interval));
            let now = Instant::now();
            if now >= next_request {
                next_request = now + self.interval;
                let mut inner = self.inner.lock();
                let e = self.requested();
                if !inner.members.is_empty() && e - self.durable() < MAX_PENDING {
                    inner.requested_at.insert(e + 1, now);
                    self.requested.store(e + 1, Ordering::Release);
                }
            }
            while let Some((epoch, parts, started)) = self.take_ready() {
                // Until it is on disk nothing of this epoch is delivered: retry (disk full, say).
                let mut wait = Duration::from_millis(100);
                let bytes = loop {
                    match self.write(epoch, &parts) {
                        Ok(bytes) => break bytes,
                        Err(e) => {
                            tracing::error!("could not write checkpoint {epoch}: {e}; retrying in {wait:?} (sinks deliver nothing meanwhile)");
                            if self.stop.load(Ordering::Relaxed) {
                                return;
                            }
                            std::thread::sleep(wait);
                            wait = (wait * 2).min(Duration::from_secs(5));
                        }
                    }
                };
                self.written(epoch, bytes, started);
            }
        }
    }

    /// Epoch `epoch` is on disk: it is durable, listed, and older checkpoints
    /// go (or, while a sink still needs one, keep only the sinks' parts).
    fn written(&self, epoch: u64, bytes: u64, started: Instant) {
        let mut inner = self.inner.lock();
        let previous = self.durable();
        self.durable.store(epoch, Ordering::Release);
        let members = inner.members.len();
        inner.history.push_back(Info { epoch, at_micros: chrono::Utc::now().timestamp_micros(), duration: started.elapsed(), bytes, members });
        while inner.history.len() > HISTORY {
            inner.history.pop_front();
        }
        let keep_from = min_committed(&inner, epoch);
        drop(inner);
        self.clean(epoch, keep_from);
        if previous > keep_from
            && previous > 0
            && let Err(e) = trim_to_sinks(&self.dir.join(epoch_name(previous)))
        {
            tracing::warn!("could not trim checkpoint {previous} to its sinks' parts: {e}");
        }
    }

    /// The next epoch once every member has reported it, with its parts.
    fn take_ready(&self) -> Option<(u64, Vec<(String, Part)>, Instant)> {
        let mut inner = self.inner.lock();
        let epoch = self.durable() + 1;
        if epoch > self.requested() {
            return None;
        }
        let ready = inner.members.values().all(|m| m.first > epoch || m.parts.contains_key(&epoch) || m.finished.is_some());
        if !ready {
            return None;
        }
        let mut parts = Vec::new();
        for (name, m) in inner.members.iter_mut() {
            if m.first > epoch {
                continue;
            }
            let part = match m.parts.remove(&epoch) {
                Some(p) => p,
                None => {
                    // A finished member: its segments are synced once, its state written every time.
                    let f = m.finished.as_mut().expect("checked above");
                    Part { state: f.state.clone(), segments: std::mem::take(&mut f.segments) }
                }
            };
            m.parts.retain(|e, _| *e > epoch);
            parts.push((name.clone(), part));
        }
        let started = inner.requested_at.remove(&epoch).unwrap_or_else(Instant::now);
        inner.taken = epoch;
        Some((epoch, parts, started))
    }

    fn write(&self, epoch: u64, parts: &[(String, Part)]) -> io::Result<u64> {
        let tmp = self.dir.join(format!("{}.tmp", epoch_name(epoch)));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp)?;
        let mut files = Vec::new();
        let mut bytes = 0u64;
        for (member, part) in parts {
            crate::dataflow::segments::sync_files(&part.segments)?;
            bytes += part.segments.iter().filter_map(|p| fs::metadata(p).ok()).map(|m| m.len()).sum::<u64>();
            write_synced(&tmp.join(member), &part.state)?;
            files.push(FileEntry { member: member.clone(), len: part.state.len() as u64, crc: crc32fast::hash(&part.state) });
            bytes += part.state.len() as u64;
        }
        let manifest = Manifest { epoch, at_micros: chrono::Utc::now().timestamp_micros(), files };
        write_synced(&tmp.join("MANIFEST"), &serde_json::to_vec(&manifest).map_err(io::Error::other)?)?;
        crate::storage::sync_dir(&tmp)?;
        fs::rename(&tmp, self.dir.join(epoch_name(epoch)))?;
        crate::storage::sync_dir(&self.dir)?;
        Ok(bytes)
    }

    /// Removes checkpoints older than `newest` that every sink has delivered.
    fn clean(&self, newest: u64, delivered: u64) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let Ok(e) = entry.file_name().to_string_lossy().parse::<u64>() else { continue };
            if e < newest
                && e <= delivered
                && let Err(err) = fs::remove_dir_all(entry.path())
            {
                tracing::warn!("could not remove old checkpoint {e}: {err}");
            }
        }
    }

    /// A member's part of the written checkpoint `epoch` (a sink reads its
    /// saved epochs back from there instead of keeping them all in memory).
    pub fn read_part(&self, epoch: u64, member: &MemberId) -> io::Result<Vec<u8>> {
        read_part(&self.dir.join(epoch_name(epoch)), &member.to_string())
    }

    /// Where a member's segment files are.
    pub fn segment_dir(&self, member: &MemberId) -> PathBuf {
        self.segments.join(member.to_string())
    }

    /// Forgets a dropped member's saved rows.
    pub fn remove_segments(&self, member: &MemberId) {
        let _ = fs::remove_dir_all(self.segments.join(member.to_string()));
    }
}

/// Leaves in an older checkpoint only the sinks' parts (the epochs they may
/// still have to deliver): a restart takes every other member's state from the
/// newest checkpoint, so a sink whose target is away holds back its own
/// undelivered changes, not copies of every view's state. The new manifest
/// replaces the old one atomically before any file goes.
fn trim_to_sinks(dir: &Path) -> io::Result<()> {
    let mut manifest = read_manifest(dir)?;
    let (sinks, others): (Vec<FileEntry>, Vec<FileEntry>) = manifest.files.into_iter().partition(|f| MemberId::names_a_sink(&f.member));
    if others.is_empty() {
        return Ok(());
    }
    manifest.files = sinks;
    write_synced(&dir.join("MANIFEST.tmp"), &serde_json::to_vec(&manifest).map_err(io::Error::other)?)?;
    fs::rename(dir.join("MANIFEST.tmp"), dir.join("MANIFEST"))?;
    crate::storage::sync_dir(dir)?;
    for f in others {
        fs::remove_file(dir.join(f.member))?;
    }
    Ok(())
}

/// The newest epoch every sink has delivered (`durable` when there are no sinks).
fn min_committed(inner: &Inner, durable: u64) -> u64 {
    inner.members.values().filter_map(|m| m.committed.as_ref().map(|c| c.load(Ordering::Acquire))).min().unwrap_or(durable).min(durable)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes and writes one epoch as the coordinator's thread would.
    fn checkpoint(c: &Coordinator, epoch: u64, state: &[u8]) {
        c.requested.store(epoch, Ordering::Release);
        let seg = c.segment_dir(&MemberId::View(1)).join(format!("{epoch:020}-{epoch:020}.arrow"));
        fs::create_dir_all(seg.parent().unwrap()).unwrap();
        fs::write(&seg, b"").unwrap();
        assert!(c.report(&MemberId::View(1), epoch, Part { state: state.to_vec(), segments: vec![seg] }));
        let (e, parts, _) = c.take_ready().expect("every member reported");
        c.write(e, &parts).unwrap();
        c.durable.store(e, Ordering::Release);
    }

    /// While a sink has not delivered them, older checkpoints stay with only
    /// the sink's parts; a restart takes the views' state from the newest one.
    #[test]
    fn checkpoints_a_sink_still_needs_keep_only_its_parts() {
        let dir = std::env::temp_dir().join(format!("weir-ckpt-trim-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (c, _) = Coordinator::open(&dir, Duration::from_secs(1)).unwrap();
        c.join_root(&MemberId::View(1));
        let delivered = Arc::new(AtomicU64::new(0));
        let sink = Member { first: 1, parts: BTreeMap::new(), finished: None, committed: Some(delivered.clone()) };
        c.inner.lock().members.insert(MemberId::Sink(2).to_string(), sink);
        for e in 1..=3u64 {
            c.requested.store(e, Ordering::Release);
            assert!(c.report(&MemberId::View(1), e, Part { state: vec![e as u8; 100], segments: vec![] }));
            assert!(c.report(&MemberId::Sink(2), e, Part { state: vec![e as u8], segments: vec![] }));
            let (e, parts, started) = c.take_ready().expect("both reported");
            let bytes = c.write(e, &parts).unwrap();
            c.written(e, bytes, started);
        }
        let files = |e: u64| {
            let mut f: Vec<String> =
                fs::read_dir(dir.join("checkpoints").join(epoch_name(e))).unwrap().map(|f| f.unwrap().file_name().to_string_lossy().to_string()).collect();
            f.sort();
            f
        };
        assert_eq!(files(1), vec!["MANIFEST", "sink-2"], "an older checkpoint keeps only the sink's epoch");
        assert_eq!(files(3), vec!["MANIFEST", "sink-2", "view-1"], "the newest is whole");
        drop(c);
        let (_, restored) = Coordinator::open(&dir, Duration::from_secs(1)).unwrap();
        let mut r = restored.expect("checkpoint 3");
        assert_eq!(r.parts["view-1"], vec![3u8; 100]);
        let sink_parts: Vec<u64> = r.take_sink_parts(&MemberId::Sink(2)).into_iter().map(|(e, _)| e).collect();
        assert_eq!(sink_parts, vec![1, 2, 3], "every undelivered epoch of the sink is still there");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_or_unfinished_checkpoint_is_never_used() {
        let dir = std::env::temp_dir().join(format!("weir-ckpt-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (c, restored) = Coordinator::open(&dir, Duration::from_secs(1)).unwrap();
        assert!(restored.is_none());
        assert_eq!(c.join_root(&MemberId::View(1)), 0);
        checkpoint(&c, 1, b"one");
        checkpoint(&c, 2, b"two");
        assert!(!c.report(&MemberId::View(1), 2, Part::default()), "an epoch already written takes no more parts");
        // A crash while writing epoch 3 leaves a .tmp directory; epoch 2's part is then torn.
        fs::create_dir_all(dir.join("checkpoints").join(format!("{}.tmp", epoch_name(3)))).unwrap();
        let part = dir.join("checkpoints").join(epoch_name(2)).join("view-1");
        fs::write(&part, b"tw").unwrap();
        drop(c);
        let (c, restored) = Coordinator::open(&dir, Duration::from_secs(1)).unwrap();
        let r = restored.expect("checkpoint 1 is intact");
        assert_eq!(r.epoch, 1);
        assert_eq!(r.parts["view-1"], b"one");
        assert_eq!(c.durable(), 1);
        let names: Vec<String> = fs::read_dir(dir.join("checkpoints")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        assert_eq!(names, vec![epoch_name(1)], "the torn and the unfinished checkpoints are removed");
        // The segment written with the torn checkpoint 2 is gone too.
        assert_eq!(fs::read_dir(dir.join("segments").join("view-1")).unwrap().count(), 1);
        let _ = fs::remove_dir_all(&dir);
    }
}
