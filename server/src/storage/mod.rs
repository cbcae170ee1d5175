//! Durability for tables and definitions: an append-only write-ahead log
//! plus periodic snapshots in the data directory.
//!
//! Layout of the data directory:
//! - `snapshot-<gen>/catalog.json` and `snapshot-<gen>/table-<id>.arrow`:
//!   the state as of the start of generation `gen`, made visible by renaming
//!   a fully written and synced `.tmp` directory;
//! - `wal-<gen>.log`: every commit since that snapshot, one framed record
//!   each, synced before the commit is acknowledged.
//!
//! A record is `[magic u32][header len u32][body len u64][crc32 u32][header
//! JSON][body: Arrow IPC stream]`. A torn or corrupt tail (a crash in the
//! middle of a write) ends the replay there and is truncated away: it was
//! never acknowledged. A write that fails (ENOSPC, EIO) is cut back before
//! the commit is refused, so a later commit is never written behind it.

pub mod codec;
pub mod table;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use weir_planner::names::ObjectKind;

const RECORD_MAGIC: u32 = 0x5745_4952; // "WEIR"
/// By default a WAL larger than this is folded into a new snapshot.
pub const WAL_COMPACT_BYTES: u64 = 64 * 1024 * 1024;
/// Upper bound on one record's header, to reject garbage lengths early.
const HEADER_MAX_BYTES: u32 = 16 * 1024 * 1024;

/// A persisted catalog object: its kind, name and the SQL that defines it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Definition {
    pub id: u64,
    pub kind: ObjectKind,
    pub name: String,
    pub sql: String,
}

/// One logged change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Header {
    Define {
        def: Definition,
    },
    Drop {
        id: u64,
    },
    /// Rows appended to a table; the body holds them.
    Append {
        id: u64,
    },
    /// A table's full new contents; the body holds them.
    Replace {
        id: u64,
    },
    /// The next `records` records are one commit (a transaction over several
    /// tables): recovery keeps all of them or, if the log ends inside, none.
    Group {
        records: usize,
    },
}

#[derive(Debug)]
pub struct Record {
    pub header: Header,
    pub batches: Vec<RecordBatch>,
}

/// What a restart finds on disk.
#[derive(Debug, Default)]
pub struct Recovered {
    pub definitions: Vec<Definition>,
    /// Table contents from the snapshot, by table id.
    pub snapshot_tables: Vec<(u64, Vec<RecordBatch>)>,
    /// Records logged after the snapshot, in commit order.
    pub records: Vec<Record>,
}

pub struct Storage {
    dir: PathBuf,
    generation: u64,
    wal: File,
    wal_bytes: u64,
    /// Snapshot once the WAL is larger than this.
    pub compact_bytes: u64,
    /// Why the log takes no more writes (a failed write that could not be cut back).
    broken: Option<String>,
    /// Test-only fault: the next write stops after this many bytes and fails with ENOSPC.
    #[cfg(test)]
    fail_next_write_after: Option<usize>,
}

pub(crate) fn encode_batches(schema: Option<&SchemaRef>, batches: &[RecordBatch]) -> io::Result<Vec<u8>> {
    let Some(schema) = schema.or(batches.first().map(|b| b.schema_ref())) else {
        return Ok(Vec::new());
    };
    let mut buf = Vec::new();
    let mut w = StreamWriter::try_new(&mut buf, schema).map_err(io::Error::other)?;
    for b in batches {
        w.write(b).map_err(io::Error::other)?;
    }
    w.finish().map_err(io::Error::other)?;
    drop(w);
    Ok(buf)
}

pub(crate) fn decode_batches(body: &[u8]) -> io::Result<Vec<RecordBatch>> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    StreamReader::try_new(body, None).map_err(io::Error::other)?.collect::<Result<Vec<_>, _>>().map_err(io::Error::other)
}

pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Storage {
    /// Opens (creating if needed) the data directory and reads what it holds.
    pub fn open(dir: &Path) -> io::Result<(Storage, Recovered)> {
        fs::create_dir_all(dir)?;
        let mut generation = 0u64;
        for entry in fs::read_dir(dir)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            if name.ends_with(".tmp") {
                fs::remove_dir_all(dir.join(&name)).or_else(|_| fs::remove_file(dir.join(&name)))?;
            } else if let Some(g) = name.strip_prefix("snapshot-").and_then(|g| g.parse::<u64>().ok()) {
                generation = generation.max(g);
            }
        }
        let mut recovered = Recovered::default();
        if generation > 0 {
            let snap = dir.join(format!("snapshot-{generation}"));
            let defs: Vec<Definition> = serde_json::from_slice(&fs::read(snap.join("catalog.json"))?).map_err(io::Error::other)?;
            for d in &defs {
                let path = snap.join(format!("table-{}.arrow", d.id));
                if path.exists() {
                    recovered.snapshot_tables.push((d.id, decode_batches(&fs::read(path)?)?));
                }
            }
            recovered.definitions = defs;
        }
        let wal_path = dir.join(format!("wal-{generation}.log"));
        let valid_len = if wal_path.exists() { read_wal(&wal_path, &mut recovered.records)? } else { 0 };
        let wal = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&wal_path)?;
        wal.set_len(valid_len)?; // drop a torn tail: it was never acknowledged
        let mut storage = Storage {
            dir: dir.to_path_buf(),
            generation,
            wal,
            wal_bytes: valid_len,
            compact_bytes: WAL_COMPACT_BYTES,
            broken: None,
            #[cfg(test)]
            fail_next_write_after: None,
        };
        storage.seek_end()?;
        storage.remove_old_generations()?;
        Ok((storage, recovered))
    }

    fn seek_end(&mut self) -> io::Result<()> {
        use std::io::Seek;
        self.wal.seek(io::SeekFrom::End(0))?;
        Ok(())
    }

    /// Appends one record and syncs it. When this returns Ok the change is durable.
    pub fn append(&mut self, header: &Header, schema: Option<&SchemaRef>, batches: &[RecordBatch]) -> io::Result<()> {
        let frame = frame(header, schema, batches)?;
        self.write_synced(&frame)
    }

    /// Appends several records as one commit, in one write (see [`Header::Group`]).
    pub fn append_group(&mut self, records: &[(Header, &SchemaRef, Vec<RecordBatch>)]) -> io::Result<()> {
        let mut all = frame(&Header::Group { records: records.len() }, None, &[])?;
        for (header, schema, batches) in records {
            all.extend(frame(header, Some(schema), batches)?);
        }
        self.write_synced(&all)
    }

    /// Appends and syncs `bytes`. A write or sync that fails (ENOSPC, EIO)
    /// may have left part of them in the file: the log is cut back to its
    /// last acknowledged byte, so a later commit never lands behind garbage
    /// that recovery would stop at. If even that fails, the log takes no
    /// more writes until restart.
    fn write_synced(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(why) = &self.broken {
            return Err(io::Error::other(format!("the write-ahead log takes no more writes after an earlier failure ({why}); fix the disk and restart weir")));
        }
        match self.write_at_end(bytes) {
            Ok(()) => {
                self.wal_bytes += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                if let Err(undo) = self.cut_back() {
                    tracing::error!("write-ahead log: a write failed ({e}) and cutting it back failed too ({undo}); refusing later writes");
                    self.broken = Some(format!("{e}; cutting it back: {undo}"));
                }
                Err(e)
            }
        }
    }

    fn write_at_end(&mut self, bytes: &[u8]) -> io::Result<()> {
        #[cfg(test)]
        if let Some(n) = self.fail_next_write_after.take() {
            self.wal.write_all(&bytes[..n.min(bytes.len())])?;
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC
        }
        self.wal.write_all(bytes)?;
        self.wal.sync_data()
    }

    /// Drops whatever follows the last acknowledged record.
    fn cut_back(&mut self) -> io::Result<()> {
        self.wal.set_len(self.wal_bytes)?;
        self.wal.sync_all()?;
        self.seek_end()
    }

    pub fn wants_compaction(&self) -> bool {
        self.wal_bytes > self.compact_bytes
    }

    /// Writes a snapshot of the whole state and starts a fresh WAL.
    pub fn snapshot(&mut self, defs: &[Definition], tables: &[(u64, SchemaRef, Vec<RecordBatch>)]) -> io::Result<()> {
        let next = self.generation + 1;
        let tmp = self.dir.join(format!("snapshot-{next}.tmp"));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        let write = |path: PathBuf, bytes: &[u8]| -> io::Result<()> {
            let mut f = File::create(path)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        write(tmp.join("catalog.json"), &serde_json::to_vec_pretty(defs).map_err(io::Error::other)?)?;
        for (id, schema, batches) in tables {
            write(tmp.join(format!("table-{id}.arrow")), &encode_batches(Some(schema), batches)?)?;
        }
        sync_dir(&tmp)?;
        let wal_path = self.dir.join(format!("wal-{next}.log"));
        let wal = OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&wal_path)?;
        fs::rename(&tmp, self.dir.join(format!("snapshot-{next}")))?;
        sync_dir(&self.dir)?;
        self.wal = wal;
        self.wal_bytes = 0;
        self.generation = next;
        self.remove_old_generations()
    }

    fn remove_old_generations(&self) -> io::Result<()> {
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            let old = |prefix: &str, suffix: &str| {
                name.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)).and_then(|g| g.parse::<u64>().ok()).is_some_and(|g| g < self.generation)
            };
            if old("snapshot-", "") {
                fs::remove_dir_all(self.dir.join(&name))?;
            } else if old("wal-", ".log") {
                fs::remove_file(self.dir.join(&name))?;
            }
        }
        Ok(())
    }
}

/// Reads every intact record; returns the length of the intact prefix.
/// One record as it is written: magic, lengths, checksum, header, body.
fn frame(header: &Header, schema: Option<&SchemaRef>, batches: &[RecordBatch]) -> io::Result<Vec<u8>> {
    let head = serde_json::to_vec(header).map_err(io::Error::other)?;
    let body = encode_batches(schema, batches)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    crc.update(&body);
    let mut frame = Vec::with_capacity(20 + head.len() + body.len());
    frame.extend_from_slice(&RECORD_MAGIC.to_le_bytes());
    frame.extend_from_slice(&(head.len() as u32).to_le_bytes());
    frame.extend_from_slice(&(body.len() as u64).to_le_bytes());
    frame.extend_from_slice(&crc.finalize().to_le_bytes());
    frame.extend_from_slice(&head);
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// Reads the log's records; returns how many bytes of it are whole
/// records (a torn tail, or a group cut short, is left out).
fn read_wal(path: &Path, out: &mut Vec<Record>) -> io::Result<u64> {
    let first = out.len();
    let mut starts = Vec::new();
    let valid = read_frames(path, out, &mut starts)?;
    // A group the log ends inside was never acknowledged: drop it.
    for (i, r) in out.iter().enumerate().skip(first) {
        if let Header::Group { records } = r.header
            && out.len() - i - 1 < records
        {
            let cut = starts[i - first];
            out.truncate(i);
            return Ok(cut);
        }
    }
    Ok(valid)
}

fn read_frames(path: &Path, out: &mut Vec<Record>, starts: &mut Vec<u64>) -> io::Result<u64> {
    let mut r = BufReader::new(File::open(path)?);
    let mut valid = 0u64;
    loop {
        let mut fixed = [0u8; 20];
        if r.read_exact(&mut fixed).is_err() {
            break;
        }
        let magic = u32::from_le_bytes(fixed[0..4].try_into().unwrap());
        let head_len = u32::from_le_bytes(fixed[4..8].try_into().unwrap());
        let body_len = u64::from_le_bytes(fixed[8..16].try_into().unwrap());
        let crc = u32::from_le_bytes(fixed[16..20].try_into().unwrap());
        if magic != RECORD_MAGIC || head_len > HEADER_MAX_BYTES {
            break;
        }
        let mut head = vec![0u8; head_len as usize];
        let mut body = Vec::new();
        if r.read_exact(&mut head).is_err() || (&mut r).take(body_len).read_to_end(&mut body)? as u64 != body_len {
            break;
        }
        let mut h = crc32fast::Hasher::new();
        h.update(&head);
        h.update(&body);
        if h.finalize() != crc {
            break;
        }
        let Ok(header) = serde_json::from_slice::<Header>(&head) else { break };
        starts.push(valid);
        out.push(Record { header, batches: decode_batches(&body)? });
        valid += 20 + head_len as u64 + body_len;
    }
    Ok(valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(v: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(v.to_vec()))]).unwrap()
    }

    #[test]
    fn a_group_cut_short_is_dropped_whole() {
        let dir = std::env::temp_dir().join(format!("weir-storage-group-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let schema = batch(&[]).schema();
        {
            let (mut s, _) = Storage::open(&dir).unwrap();
            s.append(&Header::Append { id: 1 }, None, &[batch(&[1])]).unwrap();
            s.append_group(&[(Header::Replace { id: 1 }, &schema, vec![batch(&[2])]), (Header::Replace { id: 2 }, &schema, vec![batch(&[3])])]).unwrap();
        }
        let wal = dir.join("wal-0.log");
        let whole = fs::metadata(&wal).unwrap().len();
        {
            let (_, rec) = Storage::open(&dir).unwrap();
            assert_eq!(rec.records.len(), 4, "the append, the group marker and its two records");
        }
        // The crash came while the group was being written: its last record is torn.
        OpenOptions::new().write(true).open(&wal).unwrap().set_len(whole - 10).unwrap();
        {
            let (mut s, rec) = Storage::open(&dir).unwrap();
            assert_eq!(rec.records.len(), 1, "nothing of the group survives");
            s.append(&Header::Append { id: 1 }, None, &[batch(&[4])]).unwrap();
        }
        let (_, rec) = Storage::open(&dir).unwrap();
        assert_eq!(rec.records.len(), 2, "a later commit follows the first record, not the torn group");
        assert_eq!(rec.records[1].batches[0].num_rows(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A write that fails half way (ENOSPC, EIO) must not leave its partial
    /// frame in front of later commits, which recovery would then cut off.
    #[test]
    fn a_failed_write_leaves_no_partial_frame_before_later_commits() {
        let dir = std::env::temp_dir().join(format!("weir-storage-enospc-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        {
            let (mut s, _) = Storage::open(&dir).unwrap();
            s.append(&Header::Append { id: 1 }, None, &[batch(&[1])]).unwrap();
            s.fail_next_write_after = Some(30);
            let e = s.append(&Header::Append { id: 1 }, None, &[batch(&[2])]).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(28));
            s.append(&Header::Append { id: 1 }, None, &[batch(&[3])]).unwrap();
        }
        let (_, rec) = Storage::open(&dir).unwrap();
        let values: Vec<usize> = rec.records.iter().map(|r| r.batches[0].num_rows()).collect();
        assert_eq!(values.len(), 2, "the first and the third commit were acknowledged and must survive");
        let last = rec.records[1].batches[0].column(0).as_any().downcast_ref::<Int64Array>().unwrap().value(0);
        assert_eq!(last, 3);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn torn_tail_is_dropped_and_snapshots_roll_over() {
        let dir = std::env::temp_dir().join(format!("weir-storage-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let def = Definition { id: 1, kind: ObjectKind::Table, name: "t".into(), sql: "create table t (a bigint)".into() };
        {
            let (mut s, rec) = Storage::open(&dir).unwrap();
            assert!(rec.records.is_empty());
            s.append(&Header::Define { def: def.clone() }, None, &[]).unwrap();
            s.append(&Header::Append { id: 1 }, None, &[batch(&[1, 2])]).unwrap();
        }
        // A torn write: half a frame at the end.
        let wal = dir.join("wal-0.log");
        let mut f = OpenOptions::new().append(true).open(&wal).unwrap();
        f.write_all(&RECORD_MAGIC.to_le_bytes()).unwrap();
        f.write_all(&[7, 0, 0]).unwrap();
        drop(f);
        let (mut s, rec) = Storage::open(&dir).unwrap();
        assert_eq!(rec.records.len(), 2);
        assert_eq!(rec.records[1].batches[0].num_rows(), 2);
        let schema = batch(&[]).schema();
        s.snapshot(&[def.clone()], &[(1, schema, vec![batch(&[1, 2, 3])])]).unwrap();
        s.append(&Header::Append { id: 1 }, None, &[batch(&[4])]).unwrap();
        drop(s);
        let (_s, rec) = Storage::open(&dir).unwrap();
        assert_eq!(rec.definitions, vec![def]);
        assert_eq!(rec.snapshot_tables[0].1[0].num_rows(), 3);
        assert_eq!(rec.records.len(), 1);
        assert!(!wal.exists(), "old generation is removed");
        fs::remove_dir_all(&dir).unwrap();
    }
}
