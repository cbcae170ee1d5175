//! `weir apply PATH`: brings a running weir to the sources, tables, views and
//! sinks defined in versioned `.sql` files. `${NAME}` and `${NAME:-default}`
//! in the files are filled from the environment, so one set of files runs
//! against local services and production. Objects that are missing are
//! created, identical ones left alone, and a changed definition is refused
//! (with the difference shown) unless `--replace` is given; `--dry-run`
//! prints the plan only. The server's side is the `weir_catalog` relation:
//! each object's definition with secrets hidden, and a hash of the full text.

use crate::engine::definition::{normalized, redacted};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tokio_postgres::NoTls;
use weir_planner::{WeirStatement, parse_sql};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A .sql file, or a directory whose .sql files are applied in name order
    pub path: PathBuf,
    /// The weir server to apply to [env: WEIR_SERVER]
    #[arg(long, env = "WEIR_SERVER", hide_env = true, default_value = "postgres://weir@127.0.0.1:5433/weir")]
    pub server: String,
    /// Print what would change and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Drop and create again objects whose definition changed (their dependents are dropped too)
    #[arg(long)]
    pub replace: bool,
}

/// Fills `${NAME}` and `${NAME:-default}` from `env`; every missing name is listed in the error.
/// A value cannot change the statement: inside a quoted string its quotes
/// are doubled; elsewhere it must be one plain word or number.
pub fn substitute(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    let mut place = Place::Code;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        place = place_after(&rest[..start], place);
        let Some(len) = rest[start..].find('}') else {
            return Err(format!("\"${{\" without a closing \"}}\" near: {}", &rest[start..(start + 30).min(rest.len())]));
        };
        let inner = &rest[start + 2..start + len];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("\"${{{inner}}}\" is not a variable such as ${{NAME}} or ${{NAME:-default}}"));
        }
        match (env(name), default) {
            (Some(v), _) => out.push_str(&placed(name, &v, place)?),
            (None, Some(d)) => out.push_str(d),
            (None, None) => missing.push(name.to_string()),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        missing.dedup();
        Err(format!("environment variables not set and without a default: {}", missing.join(", ")))
    }
}

/// Where in SQL text a `${NAME}` stands.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Code,
    /// Inside a '...' string.
    Text,
    /// Inside a `--` comment (until the end of its line).
    Comment,
}

/// Where SQL `text`, begun at `place`, ends (a doubled quote toggles twice).
fn place_after(text: &str, mut place: Place) -> Place {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        place = match (place, c) {
            (Place::Code, '\'') => Place::Text,
            (Place::Text, '\'') => Place::Code,
            (Place::Code, '-') if chars.peek() == Some(&'-') => Place::Comment,
            (Place::Comment, '\n') => Place::Code,
            (p, _) => p,
        };
    }
    place
}

/// A variable's value as it may stand at `place`, so that it cannot change the statement.
fn placed(name: &str, value: &str, place: Place) -> Result<String, String> {
    match place {
        Place::Text => Ok(value.replace('\'', "''")),
        Place::Comment if !value.contains(['\n', '\r']) => Ok(value.to_string()),
        Place::Code if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) => Ok(value.to_string()),
        _ => Err(format!("${{{name}}} is outside quotes, so its value must be one word or number, not {value:?}; write '${{{name}}}' for a string")),
    }
}

/// The .sql files under `path` in name order (or `path` itself).
fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no .sql files in {}", path.display());
    Ok(files)
}

/// One object a file defines.
struct Wanted {
    kind: &'static str,
    name: String,
    sql: String,
    file: String,
    /// The server's hash of `sql` (it holds the key), as weir_catalog shows it.
    hash: String,
}

fn wanted(stmt: &WeirStatement) -> Option<(&'static str, String)> {
    use datafusion::sql::sqlparser::ast::{CreateTable, Statement};
    let name = |n: &datafusion::sql::sqlparser::ast::ObjectName| weir_planner::names::object_name(n).ok();
    match stmt {
        WeirStatement::CreateSource(cs) => Some(("source", name(&cs.name)?)),
        WeirStatement::CreateView(cv) => Some(("materialized view", name(&cv.name)?)),
        WeirStatement::CreateSink(cs) => Some(("sink", name(&cs.name)?)),
        WeirStatement::Sql(Statement::CreateTable(CreateTable { name: n, .. })) => Some(("table", name(n)?)),
        _ => None,
    }
}

/// A line diff of two definitions (both shown with secrets hidden).
fn diff(old: &str, new: &str) -> String {
    let (old, new) = (redacted(old), redacted(new));
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().map(str::trim).collect(), new.lines().map(str::trim).collect());
    let mut out = String::new();
    for l in &a {
        if !b.contains(l) {
            out.push_str(&format!("    - {l}\n"));
        }
    }
    for l in &b {
        if !a.contains(l) {
            out.push_str(&format!("    + {l}\n"));
        }
    }
    if out.is_empty() {
        out = format!("    - {}\n    + {}\n", normalized(&old), normalized(&new));
    }
    out
}

pub async fn run(args: ApplyArgs) -> anyhow::Result<()> {
    let mut want = read_files(&args.path)?;
    let (client, conn) = tokio_postgres::connect(&args.server, NoTls)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to weir at {}: {e}", weir_connectors::sink::redact_url(&args.server)))?;
    tokio::spawn(conn);
    for w in &mut want {
        w.hash = client.query_one("SELECT weir_definition_hash($1::text)", &[&w.sql]).await?.get(0);
    }
    let have = catalog(&client).await?;
    if plan(&args, &want, &have)? == 0 {
        println!("nothing to do");
        return Ok(());
    }
    if args.dry_run {
        return Ok(());
    }
    apply(&client, &want, have).await
}

/// The definitions in the files, in order, with `${NAME}`s filled.
fn read_files(path: &Path) -> anyhow::Result<Vec<Wanted>> {
    let mut want = Vec::new();
    for f in files(path)? {
        let text = std::fs::read_to_string(&f).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        let text = substitute(&text, &|n| std::env::var(n).ok()).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let parsed = parse_sql(&text).map_err(|e| anyhow::anyhow!("{}: {}", f.display(), e.message))?;
        for p in parsed {
            let Some((kind, name)) = wanted(&p.statement) else {
                anyhow::bail!(
                    "{}: `{}`: weir apply takes CREATE SOURCE, CREATE TABLE, CREATE MATERIALIZED VIEW and CREATE SINK only",
                    f.display(),
                    p.sql.chars().take(60).collect::<String>()
                );
            };
            want.push(Wanted { kind, name, sql: p.sql, file: f.display().to_string(), hash: String::new() });
        }
    }
    Ok(want)
}

/// The plan: how many objects change. Refuses changes (all of them listed)
/// before anything is applied; with --dry-run prints what would happen.
fn plan(args: &ApplyArgs, want: &[Wanted], have: &Catalog) -> anyhow::Result<usize> {
    let mut refused = Vec::new();
    let mut todo = 0;
    for w in want {
        match have.get(&w.name) {
            None => {
                todo += 1;
                if args.dry_run {
                    println!("would create {} {}", w.kind, w.name);
                }
            }
            Some((kind, _, hash)) if kind == w.kind && *hash == w.hash => println!("unchanged {} {}", w.kind, w.name),
            Some((kind, old, _)) => {
                let why = format!("{} {} ({}) differs from the running definition:\n{}", w.kind, w.name, w.file, diff(old, &w.sql));
                if kind == "table" || w.kind == "table" {
                    refused.push(format!("{why}  tables hold data: change them by hand"));
                } else if !args.replace {
                    refused.push(format!("{why}  run with --replace to drop it (and what depends on it) and create it again"));
                } else {
                    todo += 1;
                    if args.dry_run {
                        println!(
                            "would replace {} {} (what depends on it is dropped; what these files define is created again)\n{}",
                            w.kind,
                            w.name,
                            diff(old, &w.sql)
                        );
                    }
                }
            }
        }
    }
    if !refused.is_empty() {
        for r in &refused {
            eprintln!("error: {r}");
        }
        anyhow::bail!("{} definition(s) changed; nothing was applied", refused.len());
    }
    Ok(todo)
}

/// Applies the plan in file order, against the live catalog: a replace may have dropped dependents.
async fn apply(client: &tokio_postgres::Client, want: &[Wanted], mut have: Catalog) -> anyhow::Result<()> {
    let run = |sql: String, what: String| async move {
        client.batch_execute(&sql).await.map_err(|e| {
            let msg = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string());
            anyhow::anyhow!("{what}: {msg}")
        })
    };
    for w in want {
        match have.get(&w.name) {
            None => {
                run(w.sql.clone(), format!("create {} {}", w.kind, w.name)).await?;
                println!("created {} {}", w.kind, w.name);
            }
            Some((kind, _, hash)) if kind == w.kind && *hash == w.hash => {}
            Some((kind, _, _)) => {
                let cascade = if kind == "sink" { "" } else { " CASCADE" };
                run(format!("DROP {} {}{cascade}", kind.to_uppercase(), w.name), format!("drop {kind} {}", w.name)).await?;
                run(w.sql.clone(), format!("create {} {}", w.kind, w.name)).await?;
                println!("replaced {} {}", w.kind, w.name);
                have = catalog(client).await?;
            }
        }
    }
    Ok(())
}

/// What weir_catalog says the server runs, by name.
type Catalog = BTreeMap<String, (String, String, String)>;

/// name -> (kind, definition with secrets hidden, hash of the full definition).
async fn catalog(client: &tokio_postgres::Client) -> anyhow::Result<Catalog> {
    let mut have = BTreeMap::new();
    for row in client.query("SELECT name, kind, sql, sql_hash FROM weir_catalog", &[]).await? {
        have.insert(row.get(0), (row.get(1), row.get(2), row.get(3)));
    }
    Ok(have)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_hashes_and_redaction() {
        let env = |n: &str| (n == "BROKER").then(|| "k:9092".to_string());
        assert_eq!(substitute("a '${BROKER}' b ${REDIS:-redis://x} c", &env).unwrap(), "a 'k:9092' b redis://x c");
        let e = substitute("${NOPE} ${ALSO}", &env).unwrap_err();
        assert!(e.contains("NOPE, ALSO"), "{e}");
        assert!(substitute("${bad-name}", &env).is_err());
        // A value cannot change the statement: quotes are doubled in a string, refused outside one.
        let evil = |n: &str| (n == "X").then(|| "a'); DROP TABLE t; --".to_string());
        assert_eq!(substitute("url = '${X}', n = 'it''s ${X}'", &evil).unwrap(), "url = 'a''); DROP TABLE t; --', n = 'it''s a''); DROP TABLE t; --'");
        let e = substitute("WHERE stock < ${X}", &evil).unwrap_err();
        assert!(e.contains("outside quotes"), "{e}");
        let five = |n: &str| (n == "LOW").then(|| "5".to_string());
        assert_eq!(substitute("-- weir's own\nWHERE stock < ${LOW}", &five).unwrap(), "-- weir's own\nWHERE stock < 5");
        assert_eq!(substitute("-- see ${BROKER}\nSELECT 1", &env).unwrap(), "-- see k:9092\nSELECT 1");
        let newline = |_: &str| Some("x\nDROP TABLE t".to_string());
        assert!(substitute("-- ${X}\nSELECT 1", &newline).is_err(), "a value cannot end a comment");
        use crate::engine::definition::definition_hash;
        let key = b"a server's key";
        assert_eq!(definition_hash(key, "CREATE  SINK s\nFROM v"), definition_hash(key, "CREATE SINK s FROM v"));
        assert_ne!(definition_hash(key, "CREATE SINK s FROM v"), definition_hash(key, "CREATE SINK s FROM w"));
        assert_ne!(definition_hash(key, "CREATE SINK s FROM v"), definition_hash(b"another key", "CREATE SINK s FROM v"));
        let table = "CREATE TABLE d (a int) WITH (connector = 'postgres', url = 'postgres://u:hunter2@h/db', table = 'd')";
        assert!(!redacted(table).contains("hunter2"), "{}", redacted(table));
        let sql = "CREATE SINK s FROM v WITH (connector = 's3', path = 's3://b/', secret_access_key = 'abc', url = 'postgres://u:pw@h/db')";
        let shown = redacted(sql);
        assert!(shown.contains("secret_access_key = '***'") && !shown.contains("abc") && !shown.contains(":pw@"), "{shown}");
    }
}
