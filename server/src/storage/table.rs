//! A weir table in memory: an immutable snapshot of Arrow batches swapped
//! atomically on each commit, plus the primary-key index that enforces
//! uniqueness. Readers clone the snapshot `Arc` and never see half a commit.

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow_row::{RowConverter, SortField};
use parking_lot::{Mutex, RwLock};
use std::collections::HashSet;
use std::sync::Arc;
use weir_planner::{SqlError, SqlResult, SqlState};

/// Small batches are merged once a table holds more than this many, so that
/// many single-row inserts do not make every scan slow.
const MAX_BATCHES_PER_TABLE: usize = 64;

/// Rows of one committed state of a table.
#[derive(Debug, Default)]
pub struct TableData {
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
}

#[derive(Debug)]
pub struct Table {
    pub id: u64,
    pub name: String,
    pub schema: SchemaRef,
    /// Column indexes of the primary key, in key order.
    pub primary_key: Vec<usize>,
    data: RwLock<Arc<TableData>>,
    /// Encoded primary keys of every committed row (empty without a key).
    /// Only writers touch it, and writers are serialised by the engine.
    pk_index: Mutex<HashSet<Vec<u8>>>,
}

impl Table {
    pub fn new(id: u64, name: String, schema: SchemaRef, primary_key: Vec<usize>) -> Self {
        Table { id, name, schema, primary_key, data: RwLock::new(Arc::default()), pk_index: Mutex::default() }
    }

    pub fn snapshot(&self) -> Arc<TableData> {
        self.data.read().clone()
    }

    /// Checks rows about to be added: NOT NULL columns and key uniqueness,
    /// against the committed rows (unless `replacing` them) and within the
    /// batch itself. Returns the new keys.
    pub fn check_rows(&self, batch: &RecordBatch, replacing: bool) -> SqlResult<Vec<Vec<u8>>> {
        for (i, field) in self.schema.fields().iter().enumerate() {
            if !field.is_nullable() && batch.column(i).null_count() > 0 {
                return Err(SqlError::new(
                    SqlState::NotNullViolation,
                    format!("null value in column \"{}\" of relation \"{}\" violates not-null constraint", field.name(), self.name),
                ));
            }
        }
        if self.primary_key.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.encode_keys(batch)?;
        let existing = self.pk_index.lock();
        let mut seen = HashSet::with_capacity(keys.len());
        for k in &keys {
            if (!replacing && existing.contains(k)) || !seen.insert(k.as_slice()) {
                let names: Vec<&str> = self.primary_key.iter().map(|&i| self.schema.field(i).name().as_str()).collect();
                return Err(SqlError::new(SqlState::UniqueViolation, format!("duplicate key value violates unique constraint \"{}_pkey\"", self.name))
                    .with_detail(format!("a row with the same ({}) already exists", names.join(", "))));
            }
        }
        Ok(keys)
    }

    fn encode_keys(&self, batch: &RecordBatch) -> SqlResult<Vec<Vec<u8>>> {
        let fields = self.primary_key.iter().map(|&i| SortField::new(self.schema.field(i).data_type().clone())).collect();
        let conv = RowConverter::new(fields)?;
        let cols: Vec<_> = self.primary_key.iter().map(|&i| batch.column(i).clone()).collect();
        let rows = conv.convert_columns(&cols)?;
        Ok(rows.iter().map(|r| r.as_ref().to_vec()).collect())
    }

    /// Adds checked rows (with the keys `check_rows` returned).
    pub fn append(&self, batch: RecordBatch, keys: Vec<Vec<u8>>) {
        self.pk_index.lock().extend(keys);
        let old = self.snapshot();
        let mut batches = old.batches.clone();
        if batch.num_rows() > 0 {
            batches.push(batch);
        }
        if batches.len() > MAX_BATCHES_PER_TABLE
            && let Ok(merged) = concat_batches(&self.schema, &batches)
        {
            batches = vec![merged];
        }
        let rows = batches.iter().map(|b| b.num_rows()).sum();
        *self.data.write() = Arc::new(TableData { batches, rows });
    }

    /// Replaces the whole contents, re-checking constraints over the new rows.
    pub fn check_replacement(&self, batches: &[RecordBatch]) -> SqlResult<RecordBatch> {
        let all = concat_batches(&self.schema, batches)?;
        self.check_rows(&all, true)?;
        Ok(all)
    }

    /// Installs checked contents (from `check_replacement`).
    pub fn replace(&self, all: RecordBatch) -> SqlResult<()> {
        let keys = if self.primary_key.is_empty() { HashSet::new() } else { self.encode_keys(&all)?.into_iter().collect() };
        *self.pk_index.lock() = keys;
        let rows = all.num_rows();
        let batches = if rows > 0 { vec![all] } else { vec![] };
        *self.data.write() = Arc::new(TableData { batches, rows });
        Ok(())
    }
}

impl Table {
    /// Rebuilds the key index from the committed rows (after a replay).
    pub fn rebuild_keys(&self) -> SqlResult<()> {
        if self.primary_key.is_empty() {
            return Ok(());
        }
        let data = self.snapshot();
        let mut keys = HashSet::with_capacity(data.rows);
        for b in &data.batches {
            keys.extend(self.encode_keys(b)?);
        }
        *self.pk_index.lock() = keys;
        Ok(())
    }
}
