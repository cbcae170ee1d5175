//! `pg_foreign_table`: each source, with its connector's server and its
//! options (secrets redacted) and watermark as the table's options.

use super::build::Rows;
use super::pg_foreign_server::server_oid;
use super::relation_oid;
use crate::engine::Engine;
use crate::engine::objects::SourceDef;
use weir_planner::SqlResult;

pub const COLUMNS: &str = "ftrelid:oid ftserver:oid ftoptions:text[]";

/// A source's options as `name=value` texts, with its watermark last.
pub fn options(s: &SourceDef) -> Vec<String> {
    let mut out: Vec<String> = s.options.iter().map(|(k, v)| format!("{k}={}", weir_connectors::sink::redact(k, v))).collect();
    if let Some(t) = s.event_time {
        out.push(format!("watermark={} - {}s", s.schema.field(t.column).name(), t.delay_ns as f64 / 1e9));
    }
    out
}

pub fn fill(engine: &Engine, rows: &mut Rows) -> SqlResult<()> {
    for s in engine.sources.read().values() {
        rows.add(vec![("ftrelid", relation_oid(s.id).into()), ("ftserver", server_oid(&s.connector).into()), ("ftoptions", options(s).into())]);
    }
    Ok(())
}
