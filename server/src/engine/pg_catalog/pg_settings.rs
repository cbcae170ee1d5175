//! `pg_settings`: the session's settings, one row each, with their types and
//! defaults. Unlike the other relations it shows the reading session's own
//! values, which the session publishes (engine::SessionScope).

use super::build::{Rows, Spec};
use crate::engine::SessionScope;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use weir_planner::SqlResult;

pub const NAME: &str = "pg_settings";

pub const COLUMNS: &str = "name:text setting:text unit:text category:text short_desc:text extra_desc:text context:text vartype:text \
    source:text min_val:text max_val:text enumvals:text[] boot_val:text reset_val:text sourcefile:text sourceline:int4 pending_restart:bool=f";

/// A setting as `pg_settings` shows it.
#[derive(Debug, Clone)]
pub struct SettingRow {
    pub name: String,
    pub setting: String,
    pub unit: Option<&'static str>,
    pub short_desc: &'static str,
    /// `internal` (reports the server), `superuser` or `user`.
    pub context: &'static str,
    /// `bool`, `integer`, `enum` or `string`.
    pub vartype: &'static str,
    pub boot_val: String,
}

/// The rows for a session's scope (none outside a session).
pub fn relation(scope: Option<&SessionScope>) -> SqlResult<(SchemaRef, RecordBatch)> {
    let mut rows = Rows::new(Spec::parse(COLUMNS));
    for s in scope.map(|s| s.settings.read().clone()).unwrap_or_default() {
        let source = if s.setting == s.boot_val { "default" } else { "session" };
        rows.add(vec![
            ("name", s.name.into()),
            ("setting", s.setting.into()),
            ("unit", s.unit.into()),
            ("category", "Client Connection Defaults".into()),
            ("short_desc", s.short_desc.into()),
            ("context", s.context.into()),
            ("vartype", s.vartype.into()),
            ("source", source.into()),
            ("boot_val", s.boot_val.clone().into()),
            ("reset_val", s.boot_val.into()),
        ]);
    }
    rows.finish()
}
