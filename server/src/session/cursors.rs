//! SQL cursors: `DECLARE name [BINARY] [[NO] SCROLL] CURSOR [WITH HOLD] FOR
//! query`, `FETCH`/`MOVE` in every direction and `CLOSE`. A cursor runs its
//! query when declared and keeps the rows; one without WITH HOLD lives until
//! its transaction ends, as in PostgreSQL.
//!
//! Moving follows PostgreSQL's portal code step by step (`DoPortalRunFetch`,
//! `PortalRunSelect`, `DoPortalRewind` in pquery.c): the same position, the
//! same "at start" and "at end" flags, so every FETCH returns the rows, every
//! MOVE the count, and a NO SCROLL cursor the error PostgreSQL's would.

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::SchemaRef;
use weir_planner::fetch::{Count, Direction};
use weir_planner::{SqlError, SqlResult, SqlState};

pub struct Cursor {
    pub schema: SchemaRef,
    batches: Vec<RecordBatch>,
    rows: u64,
    /// WITH HOLD: it outlives the transaction that declared it.
    pub hold: bool,
    /// BINARY: a simple-query FETCH sends its rows in binary.
    pub binary: bool,
    /// NO SCROLL: only forward steps. PostgreSQL decides by plan when
    /// neither is written; weir holds the rows, so it always can scroll then.
    no_scroll: bool,
    at_start: bool,
    at_end: bool,
    /// A step failed: the cursor cannot be used again (PostgreSQL's PORTAL_FAILED).
    failed: bool,
    /// Rows read so far, as PostgreSQL's portalPos (1-based; on a row unless at an end).
    pos: u64,
    /// Its rows' share of the query memory pool, given back when the cursor closes.
    _held: Option<datafusion::execution::memory_pool::MemoryReservation>,
}

/// The rows one step hands out: `len` rows from 0-based row `first`, in
/// reverse order when backward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Taken {
    pub first: u64,
    pub len: u64,
    pub backward: bool,
}

/// How a cursor was declared.
#[derive(Debug, Clone, Copy)]
pub struct CursorOptions {
    pub hold: bool,
    pub binary: bool,
    pub no_scroll: bool,
}

fn only_forward() -> SqlError {
    SqlError::new(SqlState::ObjectNotInPrerequisiteState, "cursor can only scan forward").with_hint("Declare it with SCROLL option to enable backward scan.")
}

impl Cursor {
    /// The cursor's rows count against the query memory pool while it is open.
    pub fn holding(mut self, held: datafusion::execution::memory_pool::MemoryReservation) -> Cursor {
        self._held = Some(held);
        self
    }

    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>, options: CursorOptions) -> Cursor {
        let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        let CursorOptions { hold, binary, no_scroll } = options;
        Cursor { schema, batches, rows, hold, binary, no_scroll, at_start: true, at_end: false, failed: false, pos: 0, _held: None }
    }

    /// One FETCH (or, with `is_move`, MOVE) in `direction` from cursor `name`:
    /// the rows it returns. A step that fails leaves the cursor unusable.
    pub fn step(&mut self, name: &str, direction: Direction, is_move: bool) -> SqlResult<Taken> {
        if self.failed {
            return Err(SqlError::new(SqlState::ObjectNotInPrerequisiteState, format!("portal \"{name}\" cannot be run")));
        }
        let taken = self.move_by(direction, is_move);
        self.failed = taken.is_err();
        taken
    }

    fn move_by(&mut self, direction: Direction, is_move: bool) -> SqlResult<Taken> {
        let (forward, count) = match direction {
            Direction::Forward(Count::Rows(n)) if n < 0 => (false, Count::Rows(-n)),
            Direction::Backward(Count::Rows(n)) if n < 0 => (true, Count::Rows(-n)),
            Direction::Forward(c) => (true, c),
            Direction::Backward(c) => (false, c),
            Direction::Absolute(n) => return self.absolute(n),
            Direction::Relative(n) if n > 0 => {
                self.select(true, Count::Rows(n - 1))?;
                return self.select(true, Count::Rows(1));
            }
            Direction::Relative(n) if n < 0 => {
                self.select(false, Count::Rows(-n - 1))?;
                return self.select(false, Count::Rows(1));
            }
            Direction::Relative(_) => (true, Count::Rows(0)),
        };
        if count == Count::Rows(0) {
            return self.current_row(forward, is_move);
        }
        if !forward && count == Count::All && is_move {
            // MOVE BACKWARD ALL rewinds, counting the rows it passes.
            let passed = if self.pos > 0 && !self.at_end { self.pos - 1 } else { self.pos };
            self.rewind()?;
            return Ok(Taken { len: passed, ..Taken::default() });
        }
        self.select(forward, count)
    }

    /// FETCH 0 / RELATIVE 0: the current row again, if the cursor is on one.
    fn current_row(&mut self, forward: bool, is_move: bool) -> SqlResult<Taken> {
        let on_row = !self.at_start && !self.at_end;
        if is_move {
            return Ok(Taken { len: on_row as u64, ..Taken::default() });
        }
        if !on_row {
            return self.select(forward, Count::Rows(0));
        }
        self.select(false, Count::Rows(1))?;
        self.select(true, Count::Rows(1))
    }

    fn absolute(&mut self, n: i64) -> SqlResult<Taken> {
        if n > 0 {
            let n = n as u64;
            if n - 1 <= self.pos / 2 {
                self.rewind()?;
                self.select(true, Count::Rows(n as i64 - 1))?;
            } else {
                let pos = self.pos + self.at_end as u64;
                if n <= pos {
                    self.select(false, Count::Rows((pos - n + 1) as i64))?;
                } else if n > pos + 1 {
                    self.select(true, Count::Rows((n - pos - 1) as i64))?;
                }
            }
            return self.select(true, Count::Rows(1));
        }
        if n < 0 {
            self.select(true, Count::All)?;
            self.select(false, Count::Rows(-n - 1))?;
            return self.select(false, Count::Rows(1));
        }
        self.rewind()?;
        self.select(true, Count::Rows(0))
    }

    fn rewind(&mut self) -> SqlResult<()> {
        if self.at_start && !self.at_end {
            return Ok(());
        }
        if self.no_scroll {
            return Err(only_forward());
        }
        (self.at_start, self.at_end, self.pos) = (true, false, 0);
        Ok(())
    }

    /// PostgreSQL's PortalRunSelect: up to `count` rows on from where the cursor is.
    fn select(&mut self, forward: bool, count: Count) -> SqlResult<Taken> {
        if !forward && self.no_scroll {
            return Err(only_forward());
        }
        let want = match count {
            Count::Rows(n) if n <= 0 => return Ok(Taken::default()),
            Count::Rows(n) => n as u64,
            Count::All => u64::MAX,
        };
        if forward {
            if self.at_end {
                return Ok(Taken::default());
            }
            let len = want.min(self.rows - self.pos);
            let taken = Taken { first: self.pos, len, backward: false };
            self.at_start &= len == 0;
            self.at_end = len < want;
            self.pos += len;
            return Ok(taken);
        }
        if self.at_start {
            return Ok(Taken::default());
        }
        // The executor stands past the last row when at the end, on row `pos` otherwise.
        let at = if self.at_end { self.rows + 1 } else { self.pos };
        let len = want.min(at - 1);
        let taken = Taken { first: at.saturating_sub(2), len, backward: true };
        if len > 0 && self.at_end {
            self.at_end = false;
            self.pos += 1;
        }
        if len < want {
            (self.at_start, self.pos) = (true, 0);
        } else {
            self.pos -= len;
        }
        Ok(taken)
    }

    /// The rows of `taken`, in the order the step passed them.
    pub fn rows(&self, taken: Taken) -> SqlResult<Vec<RecordBatch>> {
        let start = if taken.backward { (taken.first + 1).saturating_sub(taken.len) } else { taken.first };
        let mut out = Vec::new();
        let (mut offset, end) = (0u64, start + taken.len);
        for b in &self.batches {
            let n = b.num_rows() as u64;
            let (from, to) = (start.max(offset), end.min(offset + n));
            if from < to {
                out.push(b.slice((from - offset) as usize, (to - from) as usize));
            }
            offset += n;
        }
        if taken.backward {
            out.reverse();
            for b in &mut out {
                let reversed = UInt32Array::from_iter_values((0..b.num_rows() as u32).rev());
                *b = take_record_batch(b, &reversed)?;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn cursor(no_scroll: bool) -> Cursor {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, false)]));
        let b = |v: Vec<i32>| RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(v))]).unwrap();
        Cursor::new(schema.clone(), vec![b(vec![1, 2, 3]), b(vec![]), b(vec![4, 5])], CursorOptions { hold: false, binary: false, no_scroll })
    }

    fn fetch(c: &mut Cursor, d: Direction) -> Vec<i32> {
        let taken = c.step("c", d, false).unwrap();
        c.rows(taken).unwrap().iter().flat_map(|b| b.column(0).as_any().downcast_ref::<Int32Array>().unwrap().values().to_vec()).collect()
    }

    #[test]
    fn steps_across_batches_both_ways() {
        use Direction::*;
        let mut c = cursor(false);
        assert_eq!(fetch(&mut c, Forward(Count::Rows(2))), vec![1, 2]);
        assert_eq!(fetch(&mut c, Forward(Count::Rows(2))), vec![3, 4]);
        assert_eq!(fetch(&mut c, Backward(Count::All)), vec![3, 2, 1]);
        assert_eq!(fetch(&mut c, Absolute(-1)), vec![5]);
        assert_eq!(fetch(&mut c, Relative(-3)), vec![2]);
        assert_eq!(fetch(&mut c, Relative(0)), vec![2]);
        assert_eq!(fetch(&mut c, Forward(Count::All)), vec![3, 4, 5]);
        assert_eq!(fetch(&mut c, Forward(Count::Rows(1))), Vec::<i32>::new());
        assert_eq!(fetch(&mut c, Backward(Count::Rows(1))), vec![5]);
    }

    #[test]
    fn no_scroll_refuses_to_go_back_but_skips_ahead() {
        use Direction::*;
        let mut c = cursor(true);
        assert_eq!(fetch(&mut c, Forward(Count::Rows(2))), vec![1, 2]);
        assert_eq!(fetch(&mut c, Absolute(4)), vec![4]);
        assert_eq!(c.step("c", Relative(0), true).unwrap().len, 1, "MOVE 0 counts the current row without moving back");
        assert_eq!(c.step("c", Backward(Count::Rows(1)), false).unwrap_err().state, SqlState::ObjectNotInPrerequisiteState);
        assert_eq!(c.step("c", Forward(Count::Rows(1)), false).unwrap_err().state, SqlState::ObjectNotInPrerequisiteState, "a failed cursor stays failed");
    }
}
