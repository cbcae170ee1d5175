//! Tables mirrored from PostgreSQL: `CREATE TABLE dim_products (...) WITH
//! (connector = 'postgres', url = '...', table = 'dim_products', refresh =
//! '1 minute')`. The rows are loaded when the table is created (so a wrong
//! URL or table fails the CREATE), then again every `refresh`; a changed
//! load replaces the table's rows in one commit, so a lookup join sees the
//! old rows or the new ones, never a mix. Users cannot write to such a table.

use crate::engine::{Change, Engine};
use crate::storage::table::Table;
use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::SchemaRef;
use datafusion::sql::sqlparser::ast::{CreateTableOptions, Expr, SqlOption, Statement, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{NoTls, SimpleQueryMessage};
use weir_connectors::sink::postgres::{quote, quote_table};
use weir_planner::{SqlError, SqlResult, SqlState};

const DEFAULT_REFRESH: Duration = Duration::from_secs(60);

/// Where a mirrored table's rows come from.
#[derive(Debug, Clone, PartialEq)]
pub struct MirrorSpec {
    pub url: String,
    /// The PostgreSQL table, `name` or `schema.name`.
    pub table: String,
    pub refresh: Duration,
}

impl MirrorSpec {
    pub fn describe(&self) -> String {
        format!("PostgreSQL table {} (refreshed every {:?})", self.table, self.refresh)
    }
}

fn bad(m: impl Into<String>) -> SqlError {
    SqlError::new(SqlState::InvalidParameterValue, m)
}

/// Takes the `WITH (...)` options off a CREATE TABLE; the mirror they ask for, if any.
pub fn take_options(stmt: &mut Statement) -> SqlResult<Option<MirrorSpec>> {
    let Statement::CreateTable(ct) = stmt else { return Ok(None) };
    let options = match std::mem::take(&mut ct.table_options) {
        CreateTableOptions::None => return Ok(None),
        CreateTableOptions::With(o) => o,
        other => {
            ct.table_options = other;
            return Ok(None);
        }
    };
    let mut kv = std::collections::BTreeMap::new();
    for o in options {
        let SqlOption::KeyValue { key, value } = o else { return Err(bad(format!("unexpected table option {o}"))) };
        let text = match &value {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            other => other.to_string(),
        };
        kv.insert(key.value.to_lowercase(), text);
    }
    let usage = "e.g. WITH (connector = 'postgres', url = 'postgres://user@host/db', table = 'dim_products', refresh = '1 minute')";
    match kv.remove("connector").as_deref() {
        Some("postgres") => {}
        Some(other) => return Err(bad(format!("a table can mirror connector 'postgres', not '{other}'")).with_hint(usage)),
        None => return Err(bad("table options need connector = 'postgres'").with_hint(usage)),
    }
    let url = kv.remove("url").ok_or_else(|| bad("missing option \"url\"").with_hint(usage))?;
    let table = kv.remove("table").ok_or_else(|| bad("missing option \"table\"").with_hint(usage))?;
    let refresh = match kv.remove("refresh") {
        Some(t) => weir_connectors::options::parse_duration(&t).map_err(|e| bad(format!("option \"refresh\": {e}")))?,
        None => DEFAULT_REFRESH,
    };
    if refresh.is_zero() {
        return Err(bad("option \"refresh\" must be positive"));
    }
    if let Some(k) = kv.keys().next() {
        return Err(bad(format!("unknown option \"{k}\" for a mirrored table")).with_hint(usage));
    }
    Ok(Some(MirrorSpec { url, table, refresh }))
}

/// Reads the PostgreSQL table's rows, as the weir table's columns.
pub async fn load(spec: &MirrorSpec, schema: &SchemaRef) -> SqlResult<RecordBatch> {
    let unreachable = |e: tokio_postgres::Error| {
        SqlError::new(
            SqlState::UnableToConnect,
            format!("cannot read PostgreSQL table {}: {}", spec.table, e.as_db_error().map(|d| d.message().to_string()).unwrap_or(e.to_string())),
        )
        .with_hint("check the url and table options, and that the table has the columns declared here")
    };
    let (client, conn) = tokio_postgres::connect(&spec.url, NoTls).await.map_err(unreachable)?;
    let conn = tokio::spawn(conn);
    let cols: Vec<String> = schema.fields().iter().map(|f| quote(f.name())).collect();
    let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
    let sql = format!("SELECT {} FROM {} ORDER BY {}", cols.join(", "), quote_table(&spec.table), order.join(", "));
    let msgs = client.simple_query(&sql).await.map_err(unreachable);
    drop(client);
    conn.abort();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); cols.len()];
    for m in msgs? {
        if let SimpleQueryMessage::Row(r) = m {
            for (i, c) in columns.iter_mut().enumerate() {
                c.push(r.get(i).map(str::to_string));
            }
        }
    }
    let opts = CastOptions { safe: false, ..Default::default() };
    let arrays = columns
        .into_iter()
        .zip(schema.fields())
        .map(|(vals, f)| {
            let text: ArrayRef = Arc::new(StringArray::from(vals));
            cast_with_options(&text, f.data_type(), &opts)
                .map_err(|e| SqlError::new(SqlState::DatatypeMismatch, format!("column \"{}\" of PostgreSQL table {}: {e}", f.name(), spec.table)))
        })
        .collect::<SqlResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), arrays)?)
}

impl Engine {
    /// Marks `table` as mirroring `spec`: users cannot write to it.
    pub(crate) fn set_mirror(&self, table: &Table, spec: MirrorSpec) {
        self.mirrors.write().insert(table.id, spec);
    }

    /// What `table` mirrors, if it is a mirror.
    pub(crate) fn mirror_of(&self, table: &Table) -> Option<MirrorSpec> {
        self.mirrors.read().get(&table.id).cloned()
    }

    /// Installs `rows` in a mirrored table unless they are what it holds.
    pub(crate) async fn mirror_rows(&self, table: &Arc<Table>, rows: RecordBatch) -> SqlResult<bool> {
        let current = table.snapshot();
        let same = arrow::compute::concat_batches(&table.schema, &current.batches).is_ok_and(|c| c == rows);
        if same {
            return Ok(false);
        }
        let mut writer = self.writer().await;
        self.apply(&mut writer, Change::Replace { table: table.clone(), batches: vec![rows] })?;
        Ok(true)
    }

    /// Refreshes a mirrored table every `refresh` (first at once, if
    /// `now`) until the table is dropped.
    pub(crate) fn start_mirror(self: &Arc<Self>, table: Arc<Table>, now: bool) {
        let Some(spec) = self.mirror_of(&table) else { return };
        let engine = Arc::downgrade(self);
        tokio::spawn(async move {
            for round in 0u64.. {
                if round > 0 || !now {
                    tokio::time::sleep(spec.refresh).await;
                }
                let Some(engine) = engine.upgrade() else { return };
                if !engine.table(&table.name).is_some_and(|t| Arc::ptr_eq(&t, &table)) {
                    engine.mirrors.write().remove(&table.id);
                    return; // dropped
                }
                let result = match load(&spec, &table.schema).await {
                    Ok(rows) => engine.mirror_rows(&table, rows).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(true) => tracing::info!("table {}: refreshed from {}", table.name, spec.table),
                    Ok(false) => {}
                    Err(e) => tracing::warn!("table {}: refresh from {} failed, keeping the rows it has: {}", table.name, spec.table, e.message),
                }
            }
        });
    }
}
