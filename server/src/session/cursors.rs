//! SQL cursors: `DECLARE name [NO SCROLL] CURSOR [WITH HOLD] FOR query`,
//! `FETCH [FORWARD] n | ALL | NEXT FROM name` and `CLOSE name | ALL`. A
//! cursor runs its query when declared and hands its rows out in order;
//! one without WITH HOLD lives until its transaction ends, as in PostgreSQL.
//! Cursors move forward only (NO SCROLL).

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::sql::sqlparser::ast::{FetchDirection, Value, ValueWithSpan};
use std::collections::VecDeque;
use weir_planner::{SqlError, SqlResult, SqlState};

pub struct Cursor {
    pub schema: SchemaRef,
    rows: VecDeque<RecordBatch>,
    /// WITH HOLD: it outlives the transaction that declared it.
    pub hold: bool,
}

impl Cursor {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>, hold: bool) -> Cursor {
        Cursor { schema, rows: batches.into_iter().filter(|b| b.num_rows() > 0).collect(), hold }
    }

    /// The next `n` rows (all that are left for None).
    pub fn take(&mut self, n: Option<usize>) -> Vec<RecordBatch> {
        let mut want = n.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        while want > 0 {
            let Some(b) = self.rows.pop_front() else { break };
            if b.num_rows() <= want {
                want -= b.num_rows();
                out.push(b);
            } else {
                out.push(b.slice(0, want));
                self.rows.push_front(b.slice(want, b.num_rows() - want));
                want = 0;
            }
        }
        out
    }
}

/// How many rows a FETCH asks for (None: all the rest).
pub fn fetch_count(direction: &FetchDirection) -> SqlResult<Option<usize>> {
    let number = |v: &ValueWithSpan| match &v.value {
        Value::Number(n, _) => n.parse::<usize>().map_err(|_| SqlError::syntax(format!("invalid FETCH count {n}"))),
        other => Err(SqlError::syntax(format!("invalid FETCH count {other}"))),
    };
    match direction {
        FetchDirection::Next => Ok(Some(1)),
        FetchDirection::Count { limit } | FetchDirection::Forward { limit: Some(limit) } => number(limit).map(Some),
        FetchDirection::Forward { limit: None } => Ok(Some(1)),
        FetchDirection::All | FetchDirection::ForwardAll => Ok(None),
        other => Err(SqlError::new(SqlState::ObjectNotInPrerequisiteState, format!("cursor can only scan forward (FETCH {other} is not supported)"))
            .with_hint("weir's cursors are NO SCROLL: FETCH NEXT, FETCH n, FETCH FORWARD n or FETCH ALL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn takes_rows_across_batches_in_order() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, false)]));
        let b = |v: Vec<i32>| RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(v))]).unwrap();
        let mut c = Cursor::new(schema.clone(), vec![b(vec![1, 2, 3]), b(vec![]), b(vec![4, 5])], false);
        let rows =
            |bs: Vec<RecordBatch>| bs.iter().flat_map(|b| b.column(0).as_any().downcast_ref::<Int32Array>().unwrap().values().to_vec()).collect::<Vec<_>>();
        assert_eq!(rows(c.take(Some(2))), vec![1, 2]);
        assert_eq!(rows(c.take(Some(2))), vec![3, 4]);
        assert_eq!(rows(c.take(None)), vec![5]);
        assert!(c.take(Some(1)).is_empty());
    }
}
