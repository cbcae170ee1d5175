//! Aggregates weir does not maintain natively (string_agg, array_agg,
//! bool_and, json_agg, DISTINCT sums, ...): each group keeps its input rows
//! as row bytes in arrival order, and when the group changes DataFusion's own
//! accumulator for the aggregate runs over them. A change costs the group's
//! size, so these suit groups of modest size; EXPLAIN says which aggregates
//! are kept this way.

use crate::storage::codec::{Dec, DecResult, Enc};
use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::compute::kernels::sort::SortOptions;
use arrow::datatypes::DataType;
use arrow_row::{RowConverter, Rows, SortField};
use datafusion::common::{DFSchemaRef, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::{AggregateExprBuilder, AggregateFunctionExpr};
use std::sync::Arc;
use weir_planner::stream::KeptAgg;
use weir_planner::{SqlError, SqlResult};

/// A kept aggregate: how to turn input rows into kept rows, and the
/// aggregate that runs over a group's kept rows.
pub struct Kept {
    args: Vec<Arc<dyn PhysicalExpr>>,
    args_conv: RowConverter,
    /// `agg(x ORDER BY y)`: the sort keys, and their row format.
    order: Vec<Arc<dyn PhysicalExpr>>,
    order_conv: Option<RowConverter>,
    /// `agg(DISTINCT ...)`: equal argument rows count once.
    distinct: bool,
    agg: AggregateFunctionExpr,
}

/// One group's kept rows in arrival order: (sort key bytes, argument bytes).
#[derive(Default)]
pub struct KeptRows(Vec<(Box<[u8]>, Box<[u8]>)>);

/// A batch's rows in the kept form.
pub struct KeptBatch {
    order: Option<Rows>,
    args: Rows,
}

impl Kept {
    pub fn new(state: &SessionState, k: &KeptAgg, input: &DFSchemaRef) -> SqlResult<Kept> {
        let schema = Arc::new(input.as_arrow().clone());
        let args = k.args.iter().map(|e| state.create_physical_expr(e.clone(), input)).collect::<datafusion::common::Result<Vec<_>>>()?;
        // Ascending with NULLs last, the order PostgreSQL's DISTINCT gives.
        let arg_fields =
            args.iter().map(|a| Ok(SortField::new_with_options(a.data_type(&schema)?, SortOptions::new(false, false)))).collect::<SqlResult<Vec<_>>>()?;
        let order = k.order_by.iter().map(|s| state.create_physical_expr(s.expr.clone(), input)).collect::<datafusion::common::Result<Vec<_>>>()?;
        let order_fields = order
            .iter()
            .zip(&k.order_by)
            .map(|(e, s)| Ok(SortField::new_with_options(e.data_type(&schema)?, SortOptions::new(!s.asc, s.nulls_first))))
            .collect::<SqlResult<Vec<_>>>()?;
        let agg = AggregateExprBuilder::new(k.udaf.clone(), args.clone())
            .schema(schema)
            .alias(k.udaf.name())
            .build()
            .map_err(|e| SqlError::unsupported(format!("{} cannot be kept in a materialized view: {e}", k.udaf.name())))?;
        // An aggregate DataFusion cannot run this way is refused when the view is made.
        agg.create_accumulator().map_err(|e| SqlError::unsupported(format!("{} cannot be kept in a materialized view: {e}", k.udaf.name())))?;
        let order_conv = if order.is_empty() { None } else { Some(RowConverter::new(order_fields)?) };
        Ok(Kept { args, args_conv: RowConverter::new(arg_fields)?, order, order_conv, distinct: k.distinct, agg })
    }

    pub fn prepare(&self, batch: &RecordBatch) -> SqlResult<KeptBatch> {
        let n = batch.num_rows();
        let eval = |exprs: &[Arc<dyn PhysicalExpr>]| exprs.iter().map(|e| e.evaluate(batch)?.into_array(n)).collect::<datafusion::common::Result<Vec<_>>>();
        let args = self.args_conv.convert_columns(&eval(&self.args)?)?;
        let order = match &self.order_conv {
            Some(conv) => Some(conv.convert_columns(&eval(&self.order)?)?),
            None => None,
        };
        Ok(KeptBatch { order, args })
    }

    /// The aggregate over one group's kept rows: sorted by the ORDER BY
    /// keys (stable, so ties keep arrival order) and, for DISTINCT, each
    /// argument row once (by value when there is no ORDER BY, as in PostgreSQL).
    fn value(&self, rows: &KeptRows) -> SqlResult<ScalarValue> {
        let mut sorted: Vec<&(Box<[u8]>, Box<[u8]>)> = rows.0.iter().collect();
        if self.order_conv.is_some() {
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
        } else if self.distinct {
            sorted.sort_by(|a, b| a.1.cmp(&b.1));
        }
        if self.distinct {
            let mut seen = std::collections::HashSet::new();
            sorted.retain(|(_, a)| seen.insert(a));
        }
        let parser = self.args_conv.parser();
        let columns = self.args_conv.convert_rows(sorted.iter().map(|(_, a)| parser.parse(a)))?;
        let mut acc = self.agg.create_accumulator()?;
        acc.update_batch(&columns)?;
        Ok(acc.evaluate()?)
    }

    /// The output column of this aggregate for the given groups.
    pub fn output(&self, groups: &[&KeptRows], out_type: &DataType) -> SqlResult<ArrayRef> {
        if groups.is_empty() {
            return Ok(arrow::array::new_empty_array(out_type));
        }
        let values = groups.iter().map(|g| self.value(g)).collect::<SqlResult<Vec<_>>>()?;
        let array = ScalarValue::iter_to_array(values)?;
        Ok(if array.data_type() == out_type { array } else { cast(&array, out_type)? })
    }
}

impl KeptRows {
    /// Adds row `i` of `b` `d` times, or takes its latest copies away when `d` is negative.
    pub fn update(&mut self, b: &KeptBatch, i: usize, d: i64) {
        let row = b.args.row(i);
        let args: &[u8] = row.as_ref();
        let order: Box<[u8]> = b.order.as_ref().map(|o| o.row(i).as_ref().into()).unwrap_or_default();
        if d > 0 {
            (0..d).for_each(|_| self.0.push((order.clone(), args.into())));
            return;
        }
        for _ in 0..-d {
            match self.0.iter().rposition(|(o, a)| **a == *args && *o == order) {
                Some(p) => {
                    self.0.remove(p);
                }
                None => break,
            }
        }
    }

    pub fn merge(&mut self, other: KeptRows) {
        self.0.extend(other.0);
    }

    pub fn snapshot(&self, e: &mut Enc) {
        e.u64(self.0.len() as u64);
        for (o, a) in &self.0 {
            e.bytes(o).bytes(a);
        }
    }

    pub fn restore(d: &mut Dec<'_>) -> DecResult<KeptRows> {
        Ok(KeptRows((0..d.u64()?).map(|_| Ok((Box::from(d.bytes()?), Box::from(d.bytes()?)))).collect::<DecResult<_>>()?))
    }
}
