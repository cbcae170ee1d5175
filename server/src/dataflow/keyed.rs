//! Keyed state of a view (aggregate groups, OVER rows, a join's kept rows,
//! the contents of a view with updates), checkpointed by what changed.
//!
//! Every operator names its state as entries: an id, unique in the view and
//! starting with the operator's tag byte, and a value. At each barrier the
//! view writes the entries changed since the previous barrier (new values,
//! and the ids of entries that went away) as one file,
//! `segments/<member>/<first epoch>-<last epoch>.kv`, sorted by id; the
//! checkpoint that follows syncs it. A restart reads the files in epoch
//! order, newest value of an id first, in one streamed pass over all of them.
//! In the background the files are merged: the newer ones into one when
//! there are many, and everything into one (dropping what went away) once
//! the newer files hold as many bytes as the oldest.
//!
//! File layout: `WKV1`, then entries (`1`, id, value for a value; `0`, id
//! for an id that went away; lengths as u32 little-endian), then `2` and the
//! entry count. A file without its end is damaged and is not read.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"WKV1";
const EXT: &str = "kv";
/// Files newer than the oldest that are merged into one even while they are small.
const MAX_NEWER_FILES: usize = 16;

/// An id's tag byte: which operator's state it is.
pub const TAG_AGGREGATE: u8 = 0;
/// OVER windows take tags from here on, one each.
pub const TAG_FIRST_OVER: u8 = 1;
pub const TAG_JOIN: u8 = 0xFD;
pub const TAG_CONTENTS: u8 = 0xFE;

/// The entries that changed since the previous barrier: a new value, or None for gone.
#[derive(Default)]
pub struct Changed(Vec<(Vec<u8>, Option<Vec<u8>>)>);

impl Changed {
    pub fn put(&mut self, id: Vec<u8>, value: Vec<u8>) {
        self.0.push((id, Some(value)));
    }

    pub fn gone(&mut self, id: Vec<u8>) {
        self.0.push((id, None));
    }

    #[cfg(test)]
    pub fn into_entries(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.0
    }

    /// Writes the entries, sorted by id, as the state file of `epoch` in
    /// `dir` (not synced: the checkpoint syncs it); None when nothing changed.
    pub fn write(&mut self, dir: &Path, epoch: u64) -> io::Result<Option<PathBuf>> {
        if self.0.is_empty() {
            return Ok(None);
        }
        self.0.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        fs::create_dir_all(dir)?;
        let path = dir.join(file_name(epoch, epoch));
        let mut w = Writer::create(&path)?;
        for (id, value) in &self.0 {
            w.entry(id, value.as_deref())?;
        }
        w.finish()?;
        Ok(Some(path))
    }
}

/// The epochs a state file holds, from its name (`A-B.kv`).
pub fn file_epochs(name: &str) -> Option<(u64, u64)> {
    let (a, b) = name.strip_suffix(".kv")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn file_name(first: u64, last: u64) -> String {
    format!("{first:020}-{last:020}.{EXT}")
}

struct Writer {
    out: BufWriter<fs::File>,
    count: u64,
}

impl Writer {
    fn create(path: &Path) -> io::Result<Writer> {
        let mut out = BufWriter::with_capacity(1 << 16, fs::File::create(path)?);
        out.write_all(MAGIC)?;
        Ok(Writer { out, count: 0 })
    }

    fn entry(&mut self, id: &[u8], value: Option<&[u8]>) -> io::Result<()> {
        self.out.write_all(&[value.is_some() as u8])?;
        write_chunk(&mut self.out, id)?;
        if let Some(v) = value {
            write_chunk(&mut self.out, v)?;
        }
        self.count += 1;
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.out.write_all(&[2])?;
        self.out.write_all(&self.count.to_le_bytes())?;
        self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    }
}

fn write_chunk(w: &mut impl Write, b: &[u8]) -> io::Result<()> {
    let n = u32::try_from(b.len()).map_err(|_| io::Error::other("a state entry over 4 GiB"))?;
    w.write_all(&n.to_le_bytes())?;
    w.write_all(b)
}

/// Reads one state file's entries in order.
struct Reader {
    path: PathBuf,
    input: BufReader<fs::File>,
    count: u64,
    /// The entry read last and not yet taken (None once the file ended).
    head: Option<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Reader {
    fn open(path: &Path) -> io::Result<Reader> {
        let mut input = BufReader::with_capacity(1 << 16, fs::File::open(path)?);
        let mut magic = [0u8; 4];
        input.read_exact(&mut magic).map_err(|e| damaged(path, e))?;
        if &magic != MAGIC {
            return Err(damaged(path, "not a weir state file"));
        }
        let mut r = Reader { path: path.to_path_buf(), input, count: 0, head: None };
        r.advance()?;
        Ok(r)
    }

    fn advance(&mut self) -> io::Result<()> {
        let mut tag = [0u8; 1];
        self.input.read_exact(&mut tag).map_err(|e| damaged(&self.path, e))?;
        self.head = match tag[0] {
            0 | 1 => {
                let id = self.chunk()?;
                let value = if tag[0] == 1 { Some(self.chunk()?) } else { None };
                self.count += 1;
                Some((id, value))
            }
            2 => {
                let mut n = [0u8; 8];
                self.input.read_exact(&mut n).map_err(|e| damaged(&self.path, e))?;
                if u64::from_le_bytes(n) != self.count {
                    return Err(damaged(&self.path, "its entry count does not match"));
                }
                None
            }
            t => return Err(damaged(&self.path, format!("unknown entry tag {t}"))),
        };
        Ok(())
    }

    fn chunk(&mut self) -> io::Result<Vec<u8>> {
        let mut n = [0u8; 4];
        self.input.read_exact(&mut n).map_err(|e| damaged(&self.path, e))?;
        let mut b = vec![0u8; u32::from_le_bytes(n) as usize];
        self.input.read_exact(&mut b).map_err(|e| damaged(&self.path, e))?;
        Ok(b)
    }
}

fn damaged(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("state file {} is damaged: {e}", path.display()))
}

/// Reads `paths` (oldest first) as one: every id once, in id order, with
/// its newest value (None if it went away, unless `drop_gone`).
fn merged(paths: &[PathBuf], drop_gone: bool, mut f: impl FnMut(&[u8], Option<&[u8]>) -> io::Result<()>) -> io::Result<()> {
    let mut readers = paths.iter().map(|p| Reader::open(p)).collect::<io::Result<Vec<_>>>()?;
    loop {
        // The smallest id at the heads; of equal ones the newest file's wins.
        let mut best: Option<usize> = None;
        for (i, r) in readers.iter().enumerate() {
            let Some((id, _)) = &r.head else { continue };
            if best.is_none_or(|b| id <= &readers[b].head.as_ref().expect("head").0) {
                best = Some(i);
            }
        }
        let Some(b) = best else { return Ok(()) };
        let (id, value) = readers[b].head.take().expect("head");
        for r in readers.iter_mut() {
            if r.head.as_ref().is_some_and(|(other, _)| *other == id) {
                r.advance()?;
            }
        }
        readers[b].advance()?;
        if value.is_some() || !drop_gone {
            f(&id, value.as_deref())?;
        }
    }
}

/// The state files in `dir` with their epochs, oldest first.
fn files(dir: &Path) -> io::Result<Vec<((u64, u64), PathBuf)>> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(vec![]) };
    let mut files: Vec<((u64, u64), PathBuf)> =
        entries.flatten().filter_map(|e| file_epochs(&e.file_name().to_string_lossy()).map(|r| (r, e.path()))).collect();
    files.sort();
    Ok(files)
}

/// Calls `f` with every entry the state files in `dir` hold (after the
/// checkpoint restarted from cleaned the directory), in id order.
pub fn restore(dir: &Path, mut f: impl FnMut(&[u8], &[u8]) -> Result<(), String>) -> io::Result<()> {
    let paths: Vec<PathBuf> = files(dir)?.into_iter().map(|(_, p)| p).collect();
    merged(&paths, true, |id, value| f(id, value.expect("values only")).map_err(io::Error::other))
}

/// Bytes of state files in `dir`.
pub fn disk_bytes(dir: &Path) -> u64 {
    files(dir).unwrap_or_default().iter().filter_map(|(_, p)| fs::metadata(p).ok()).map(|m| m.len()).sum()
}

/// Merges state files of checkpoints up to `durable` when it pays; whether it did.
pub fn compact(dir: &Path, durable: u64) -> io::Result<bool> {
    let done: Vec<((u64, u64), PathBuf, u64)> = files(dir)?
        .into_iter()
        .filter(|((_, last), _)| *last <= durable)
        .map(|(r, p)| {
            let n = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            (r, p, n)
        })
        .collect();
    let Some((_, _, oldest)) = done.first() else { return Ok(false) };
    let newer: u64 = done[1..].iter().map(|f| f.2).sum();
    let run = if done.len() >= 2 && newer >= *oldest {
        &done[..]
    } else if done.len() > MAX_NEWER_FILES {
        &done[1..]
    } else {
        return Ok(false);
    };
    merge_files(dir, run, run.len() == done.len())?;
    Ok(true)
}

/// Writes the merge of `run` (synced), then removes its files; ids that
/// went away are left out when the run starts at the oldest file.
fn merge_files(dir: &Path, run: &[((u64, u64), PathBuf, u64)], from_oldest: bool) -> io::Result<()> {
    let (first, last) = (run[0].0.0, run[run.len() - 1].0.1);
    let path = dir.join(file_name(first, last));
    let tmp = path.with_extension("kv.tmp");
    let mut w = Writer::create(&tmp)?;
    let paths: Vec<PathBuf> = run.iter().map(|f| f.1.clone()).collect();
    merged(&paths, from_oldest, |id, value| w.entry(id, value))?;
    w.finish()?;
    fs::File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, &path)?;
    crate::storage::sync_dir(dir)?;
    for p in paths.iter().filter(|p| **p != path) {
        fs::remove_file(p)?;
    }
    Ok(())
}

/// Id helpers: fixed-width numbers in big-endian order (so ids sort as the numbers do).
pub fn push_len_prefixed(id: &mut Vec<u8>, b: &[u8]) {
    id.extend_from_slice(&(b.len() as u32).to_be_bytes());
    id.extend_from_slice(b);
}

/// Splits a length-prefixed part off the front of an id.
pub fn split_len_prefixed(id: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let bad = || "a state id is cut short".to_string();
    let n = u32::from_be_bytes(id.get(..4).ok_or_else(bad)?.try_into().expect("4 bytes")) as usize;
    let rest = &id[4..];
    Ok((rest.get(..n).ok_or_else(bad)?, &rest[n..]))
}

/// An i64 as 8 bytes that sort as the numbers do.
pub fn ordered_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn from_ordered_i64(b: &[u8]) -> Result<i64, String> {
    let b: [u8; 8] = b.get(..8).and_then(|b| b.try_into().ok()).ok_or("a state id is cut short")?;
    Ok((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("weir-keyed-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn read(dir: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut m = BTreeMap::new();
        restore(dir, |id, v| {
            m.insert(id.to_vec(), v.to_vec());
            Ok(())
        })
        .unwrap();
        m
    }

    /// Random puts and removals, one file per epoch, merged along the way:
    /// what a restart reads equals a map that saw every change.
    #[test]
    fn changes_and_merges_read_back_as_the_newest_values() {
        let dir = temp("merge");
        let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            seed >> 33
        };
        for epoch in 1..=60u64 {
            let mut c = Changed::default();
            let mut ids = std::collections::BTreeSet::new();
            for _ in 0..(next() % 40) {
                let id = (next() % 100).to_be_bytes().to_vec();
                if !ids.insert(id.clone()) {
                    continue;
                }
                if next() % 4 == 0 {
                    expected.remove(&id);
                    c.gone(id);
                } else {
                    let v = epoch.to_le_bytes().repeat(1 + (next() % 3) as usize);
                    expected.insert(id.clone(), v.clone());
                    c.put(id, v);
                }
            }
            c.write(&dir, epoch).unwrap();
            compact(&dir, epoch).unwrap();
            assert_eq!(read(&dir), expected, "after epoch {epoch}");
        }
        let left = files(&dir).unwrap().len();
        assert!(left <= MAX_NEWER_FILES + 1, "{left} files left");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_cut_short_is_refused() {
        let dir = temp("cut");
        let mut c = Changed::default();
        c.put(b"a".to_vec(), b"1".to_vec());
        c.put(b"b".to_vec(), b"2".to_vec());
        let path = c.write(&dir, 1).unwrap().unwrap();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = restore(&dir, |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("is damaged"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn ordered_numbers_sort_as_numbers() {
        let xs = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in xs.windows(2) {
            assert!(ordered_i64(w[0]) < ordered_i64(w[1]));
            assert_eq!(from_ordered_i64(&ordered_i64(w[0])).unwrap(), w[0]);
        }
    }
}
