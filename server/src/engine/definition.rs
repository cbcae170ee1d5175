//! How a stored definition is shown and compared: `weir_catalog` lists each
//! object's SQL with secrets hidden and a keyed hash of its normalized text,
//! and `weir apply` asks the server for the same hash of its files' text
//! (`weir_definition_hash`). The key is the server's own
//! (`<data dir>/definition-key`, never shown), so the hash cannot be used to
//! guess the secrets in a definition.

use datafusion::sql::sqlparser::ast::{CreateTableOptions, Expr, SqlOption, Statement, Value};
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use std::path::Path;
use weir_planner::ddl::CreateSink;
use weir_planner::{WeirStatement, parse_sql};

/// The file in the data directory that holds the key of definition hashes.
const KEY_FILE: &str = "definition-key";

/// The server's key for definition hashes: read from the data directory,
/// or made (random, readable by the owner only) on first start.
pub fn load_key(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(key) if key.len() >= 32 => Ok(key),
        _ => {
            let key: [u8; 32] = rand::random();
            let tmp = data_dir.join(format!("{KEY_FILE}.tmp"));
            {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
                f.write_all(&key)?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, &path)?;
            crate::storage::sync_dir(data_dir)?;
            Ok(key.to_vec())
        }
    }
}

/// A definition's text with whitespace runs made one space, so layout changes are not changes.
pub fn normalized(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The hash `weir_catalog` shows for a definition: HMAC-SHA-256 under the
/// server's key of its normalized text (secrets included, so changing one is a change).
pub fn definition_hash(key: &[u8], sql: &str) -> String {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(normalized(sql).as_bytes());
    mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The definition as it may be shown: values of secret options, and
/// passwords in connection strings, replaced by `***`.
pub fn redacted(sql: &str) -> String {
    let Ok(parsed) = parse_sql(sql) else { return sql.to_string() };
    let mut out = sql.to_string();
    for p in parsed {
        let options = match &p.statement {
            WeirStatement::CreateSink(CreateSink { options, .. }) => options.clone(),
            WeirStatement::CreateSource(cs) => cs.options.clone(),
            WeirStatement::Sql(Statement::CreateTable(ct)) => table_options(&ct.table_options),
            _ => continue,
        };
        for (k, v) in options {
            let shown = weir_connectors::sink::redact(&k, &v);
            if shown != v && !v.is_empty() {
                out = out.replace(&format!("'{}'", v.replace('\'', "''")), &format!("'{shown}'"));
            }
        }
    }
    out
}

/// A CREATE TABLE's `WITH (...)` options (a mirrored table's connector, url, ...).
fn table_options(options: &CreateTableOptions) -> Vec<(String, String)> {
    let CreateTableOptions::With(list) = options else { return vec![] };
    list.iter()
        .filter_map(|o| match o {
            SqlOption::KeyValue { key, value: Expr::Value(v) } => match &v.value {
                Value::SingleQuotedString(s) => Some((key.value.to_lowercase(), s.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
