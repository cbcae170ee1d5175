//! Arrow batches to PostgreSQL rows: column types for RowDescription and
//! values in text or binary format. Delegates to `arrow-pg`, except for
//! `jsonb`, which Arrow carries as tagged UTF-8.

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::Schema;
use bytes::{BufMut, BytesMut};
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use pgwire::types::ToSqlText;
use pgwire::types::format::FormatOptions;
use postgres_types::{IsNull, ToSql, to_sql_checked};
use std::error::Error;
use std::sync::Arc;
use weir_planner::types::is_jsonb;

/// RowDescription fields for a schema, in the formats the client asked for.
pub fn pg_fields(schema: &Schema, format: &Format) -> PgWireResult<Vec<FieldInfo>> {
    let mut fields = arrow_pg::datatypes::arrow_schema_to_pg_fields(schema, format, None)?;
    for (i, f) in schema.fields().iter().enumerate() {
        if is_jsonb(f) {
            fields[i] = FieldInfo::new(f.name().clone(), None, None, Type::JSONB, format.format_for(i));
        }
    }
    Ok(fields)
}

/// A `jsonb` value held as its JSON text.
#[derive(Debug)]
struct JsonbText<'a>(&'a str);

impl ToSql for JsonbText<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_u8(1); // jsonb binary format version
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }
    to_sql_checked!();
}

impl ToSqlText for JsonbText<'_> {
    fn to_sql_text(&self, _ty: &Type, out: &mut BytesMut, _f: &FormatOptions) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

/// Encodes every row of `batch` (whose columns match `fields`).
pub fn encode_batch(fields: &Arc<Vec<FieldInfo>>, batch: &RecordBatch) -> Vec<PgWireResult<DataRow>> {
    let schema = batch.schema();
    let mut encoder = DataRowEncoder::new(fields.clone());
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut result = Ok(());
        for (col, pg_field) in fields.iter().enumerate() {
            let array = batch.column(col);
            let field = schema.field(col);
            result = if *pg_field.datatype() == Type::JSONB {
                let value = array.as_any().downcast_ref::<StringArray>().filter(|a| !a.is_null(row)).map(|a| JsonbText(a.value(row)));
                encoder.encode_field_with_type_and_format(&value, pg_field.datatype(), pg_field.format(), pg_field.format_options())
            } else {
                arrow_pg::encoder::encode_value(&mut encoder, array, row, field, pg_field)
            };
            if result.is_err() {
                break;
            }
        }
        rows.push(result.map(|_| encoder.take_row()));
    }
    rows
}
