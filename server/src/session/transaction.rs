//! A transaction block over tables. Between BEGIN and COMMIT a session's
//! writes change its own copy of each table it writes (the session's reads
//! see that copy); COMMIT logs every copy in one write and makes them
//! visible together, ROLLBACK forgets them. A table another session changed
//! meanwhile fails the COMMIT (40001) rather than losing that change.
//! Savepoints keep earlier copies to return to.

use crate::storage::table::{Table, TableData};
use arrow::array::RecordBatch;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use weir_planner::{SqlError, SqlResult, SqlState};

/// One table a transaction wrote: what it began from and what it holds now.
#[derive(Clone)]
pub struct Pending {
    pub table: Arc<Table>,
    pub base: Arc<TableData>,
    pub contents: RecordBatch,
}

pub struct Transaction {
    pub read_only: bool,
    /// The session's settings when the block began: ROLLBACK puts them back
    /// (a SET in a block is undone with it, as in PostgreSQL).
    pub settings_before: super::settings::Settings,
    /// Settings changed by SET LOCAL, with their values before: COMMIT puts them back.
    pub locals: Vec<(String, Option<String>)>,
    /// A statement failed: only ROLLBACK (or COMMIT, which rolls back) may follow.
    pub failed: bool,
    pub writes: BTreeMap<String, Pending>,
    savepoints: Vec<(String, BTreeMap<String, Pending>)>,
}

impl Transaction {
    pub fn new(read_only: bool, settings_before: super::settings::Settings) -> Self {
        Transaction { read_only, settings_before, locals: Vec::new(), failed: false, writes: BTreeMap::new(), savepoints: Vec::new() }
    }

    /// Keeps what COMMIT gives a setting back after SET LOCAL: its session
    /// value, which a plain SET in the block replaces (as in PostgreSQL).
    pub fn track_local(&mut self, name: &str, local: bool, before: Option<&str>, now: Option<&str>) {
        match self.locals.iter_mut().find(|(n, _)| n == name) {
            Some((_, session)) if !local => *session = now.map(str::to_string),
            Some(_) => {}
            None if local => self.locals.push((name.to_string(), before.map(str::to_string))),
            None => {}
        }
    }

    /// The table's contents as this transaction sees them, and what they began from.
    fn current(&self, table: &Arc<Table>) -> (Arc<TableData>, Vec<RecordBatch>) {
        match self.writes.get(&table.name) {
            Some(p) => (p.base.clone(), vec![p.contents.clone()]),
            None => {
                let base = table.snapshot();
                let batches = base.batches.clone();
                (base, batches)
            }
        }
    }

    /// Adds rows to the transaction's copy of `table`.
    pub fn append(&mut self, table: &Arc<Table>, batch: RecordBatch) -> SqlResult<()> {
        let (base, mut batches) = self.current(table);
        batches.push(batch);
        self.replace_from(table, base, &batches)
    }

    /// Gives the transaction's copy of `table` new contents.
    pub fn replace(&mut self, table: &Arc<Table>, batches: &[RecordBatch]) -> SqlResult<()> {
        let (base, _) = self.current(table);
        self.replace_from(table, base, batches)
    }

    fn replace_from(&mut self, table: &Arc<Table>, base: Arc<TableData>, batches: &[RecordBatch]) -> SqlResult<()> {
        let contents = table.check_replacement(batches)?;
        self.writes.insert(table.name.clone(), Pending { table: table.clone(), base, contents });
        Ok(())
    }

    /// The contents queries in this transaction read, by table name.
    pub fn overlay(&self) -> HashMap<String, Vec<RecordBatch>> {
        self.writes.iter().map(|(n, p)| (n.clone(), vec![p.contents.clone()])).collect()
    }

    pub fn savepoint(&mut self, name: &str) {
        self.savepoints.push((name.to_string(), self.writes.clone()));
    }

    fn find(&self, name: &str) -> SqlResult<usize> {
        self.savepoints
            .iter()
            .rposition(|(n, _)| n == name)
            .ok_or_else(|| SqlError::new(SqlState::InvalidSavepoint, format!("savepoint \"{name}\" does not exist")))
    }

    /// RELEASE SAVEPOINT: forgets it and the savepoints after it, keeping the writes.
    pub fn release(&mut self, name: &str) -> SqlResult<()> {
        let at = self.find(name)?;
        self.savepoints.truncate(at);
        Ok(())
    }

    /// ROLLBACK TO SAVEPOINT: back to the writes as they were; the savepoint stays.
    pub fn rollback_to(&mut self, name: &str) -> SqlResult<()> {
        let at = self.find(name)?;
        // As in PostgreSQL, this also ends a failed state: the block goes on from the savepoint.
        self.failed = false;
        self.writes = self.savepoints[at].1.clone();
        self.savepoints.truncate(at + 1);
        Ok(())
    }
}
