//! `weir_catalog`: every object's definition with secrets hidden, and the
//! keyed hash of its full text, which `weir apply` compares its files against.

use crate::engine::Engine;
use crate::storage::Definition;
use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use std::sync::Arc;
use weir_planner::SqlResult;

/// `weir_catalog`: every object's definition (secrets hidden) and the hash
/// of its full text, for `weir apply` to compare against.
pub fn rows(engine: &Engine) -> SqlResult<(SchemaRef, RecordBatch)> {
    use arrow::array::StringArray;
    use arrow::datatypes::{DataType, Field};
    let defs = engine.definitions.read().clone();
    let schema = Arc::new(Schema::new(["name", "kind", "sql", "sql_hash"].map(|n| Field::new(n, DataType::Utf8, false)).to_vec()));
    let col = |f: &dyn Fn(&Definition) -> String| Arc::new(StringArray::from_iter_values(defs.iter().map(f))) as arrow::array::ArrayRef;
    let cols = vec![
        col(&|d| d.name.clone()),
        col(&|d| d.kind.to_string()),
        col(&|d| crate::engine::definition::redacted(&d.sql)),
        col(&|d| crate::engine::definition::definition_hash(&engine.definition_key, &d.sql)),
    ];
    Ok((schema.clone(), RecordBatch::try_new(schema, cols)?))
}
