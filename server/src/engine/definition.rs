//! How a stored definition is shown and compared: `weir_catalog` lists each
//! object's SQL with secrets hidden and a hash of its normalized text, and
//! `weir apply` compares files against them.

use sha2::{Digest, Sha256};
use weir_planner::ddl::CreateSink;
use weir_planner::{WeirStatement, parse_sql};

/// A definition's text with whitespace runs made one space, so layout changes are not changes.
pub fn normalized(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The hash `weir_catalog` shows for a definition (of its normalized text, secrets included).
pub fn definition_hash(sql: &str) -> String {
    let digest = Sha256::digest(normalized(sql).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
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
