//! COPY on the wire: `COPY ... TO STDOUT` streams each row as CopyData in
//! COPY's text or CSV form, and `COPY table FROM STDIN` gathers the client's
//! CopyData (up to [`MAX_COPY_IN_BYTES`]) and adds its rows in one commit
//! when the client says it is done.

use crate::frontend::encode::{Shown, encode_batch, pg_fields};
use crate::frontend::{Connection, to_pg_error};
use crate::session::copy::CopyFormat;
use crate::storage::table::Table;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use bytes::Bytes;
use datafusion::execution::SendableRecordBatchStream;
use futures::{Sink, SinkExt, StreamExt, stream};
use pgwire::api::ClientInfo;
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::Format;
use pgwire::api::results::{CopyResponse, Tag};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone};
use pgwire::messages::data::DataRow;
use std::fmt::Debug;
use std::sync::Arc;
use weir_planner::{SqlError, SqlState};

/// The most COPY FROM data one statement may send (it is held until COPY ends).
pub const MAX_COPY_IN_BYTES: usize = 256 << 20;

/// A COPY FROM STDIN waiting for its data.
pub struct PendingCopy {
    pub table: Arc<Table>,
    pub columns: Vec<usize>,
    pub format: CopyFormat,
    pub data: Vec<u8>,
    /// Set when the data went past the limit: the COPY fails at its end.
    pub too_big: bool,
}

/// The values of a text-format DataRow (length-prefixed, -1 for NULL).
fn row_values(row: &DataRow) -> Vec<Option<&str>> {
    let mut out = Vec::with_capacity(row.field_count as usize);
    let data = &row.data[..];
    let mut at = 0;
    for _ in 0..row.field_count {
        let len = i32::from_be_bytes(data[at..at + 4].try_into().unwrap_or_default());
        at += 4;
        if len < 0 {
            out.push(None);
        } else {
            let end = at + len as usize;
            out.push(std::str::from_utf8(&data[at..end]).ok());
            at = end;
        }
    }
    out
}

/// The CopyOut response for rows of `schema`, header line first when asked.
pub fn copy_out(schema: SchemaRef, rows: SendableRecordBatchStream, format: CopyFormat, shown: Shown) -> Result<CopyResponse, SqlError> {
    let fields = Arc::new(pg_fields(&schema, &Format::UnifiedText).map_err(|e| SqlError::internal(e.to_string()))?);
    let names: Vec<Option<&str>> = schema.fields().iter().map(|f| Some(f.name().as_str())).collect();
    // pgwire counts CopyData messages as rows, so the header travels with
    // the first row (alone only when there are no rows).
    let header = Arc::new(parking_lot::Mutex::new(format.header.then(|| format.line(&names))));
    let first = header.clone();
    let columns = schema.fields().len();
    let lines = rows.flat_map(move |batch| {
        let out: Vec<PgWireResult<CopyData>> = match batch {
            Ok(b) => encode_batch(&fields, &b, shown)
                .into_iter()
                .map(|row| {
                    let line = format.line(&row_values(&row?));
                    let data = match first.lock().take() {
                        Some(h) => h + &line,
                        None => line,
                    };
                    Ok(CopyData::new(Bytes::from(data)))
                })
                .collect(),
            Err(e) => vec![Err(to_pg_error(SqlError::from(e)))],
        };
        stream::iter(out)
    });
    let header_alone = stream::once(async move { header.lock().take() }).filter_map(|h| async move { h.map(|h| Ok(CopyData::new(Bytes::from(h)))) });
    Ok(CopyResponse::new(0, columns, lines.chain(header_alone)))
}

fn pg_error(e: SqlError) -> PgWireError {
    to_pg_error(e)
}

#[async_trait]
impl CopyHandler for Connection {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut pending = self.copy_in.lock();
        let Some(p) = pending.as_mut() else { return Err(pg_error(SqlError::new(SqlState::ProtocolViolation, "COPY data outside a COPY"))) };
        if p.data.len() + copy_data.data.len() > MAX_COPY_IN_BYTES {
            p.too_big = true;
            p.data = Vec::new();
        } else if !p.too_big {
            p.data.extend_from_slice(&copy_data.data);
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(p) = self.copy_in.lock().take() else { return Err(pg_error(SqlError::new(SqlState::ProtocolViolation, "COPY done outside a COPY"))) };
        if p.too_big {
            return Err(pg_error(
                SqlError::new(SqlState::ProgramLimitExceeded, format!("COPY data is larger than {} MiB", MAX_COPY_IN_BYTES >> 20))
                    .with_hint("split the data into several COPY statements"),
            ));
        }
        let text = String::from_utf8(p.data).map_err(|_| pg_error(SqlError::new(SqlState::BadCopyFileFormat, "COPY data is not valid UTF-8")))?;
        let rows = p.format.parse(&text, p.columns.len()).map_err(pg_error)?;
        let n = self.session.lock().await.copy_in(&p.table, &p.columns, rows).await.map_err(pg_error)?;
        client.send(PgWireBackendMessage::CommandComplete(Tag::new("COPY").with_rows(n).into())).await?;
        Ok(())
    }
}
