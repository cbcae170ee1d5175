//! Real PostgreSQL clients against a live weir: psql, psycopg 3, pgjdbc,
//! SQLAlchemy 2 with pandas, asyncpg, node-postgres and psqlODBC (compared
//! with the same calls against PostgreSQL 15).

use crate::support::{Server, service, temp_dir};
use std::process::Command;

fn check(out: std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{what} failed:\nstdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn psql_runs_ddl_dml_and_queries() {
    let server = Server::start();
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &server.port.to_string(), "-U", "weir", "-d", "weir", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(["-c", "CREATE TABLE p (id int PRIMARY KEY, name text)"])
        .args(["-c", "INSERT INTO p VALUES (1, 'one'), (2, 'two')"])
        .args(["-c", "UPDATE p SET name = 'TWO' WHERE id = 2"])
        .args(["-c", "SELECT id || ':' || name FROM p ORDER BY id"])
        .output()
        .unwrap();
    let stdout = check(out, "psql");
    assert_eq!(stdout.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>(), vec!["1:one", "2:TWO"]);
    let err = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &server.port.to_string(), "-U", "weir", "-d", "weir", "-X", "-c", "SELECT * FROM nope"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&err.stderr).contains("relation \"nope\" does not exist"));
}

const PSYCOPG_SCRIPT: &str = r#"
import sys, datetime, decimal, json, psycopg
from psycopg.types.json import Jsonb
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("CREATE TABLE py (id int PRIMARY KEY, name text, amount numeric(10,2), ts timestamp, ok boolean, doc jsonb)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO py VALUES (%s, %s, %s, %s, %s, %s)", [
            (1, "a", decimal.Decimal("1.50"), datetime.datetime(2024, 1, 2, 3, 4, 5), True, Jsonb({"k": 1})),
            (2, None, None, None, None, None),
        ])
    rows = conn.execute("SELECT id, name, amount, ts, ok, doc FROM py WHERE id >= %s ORDER BY id", (1,)).fetchall()
    assert rows[0] == (1, "a", decimal.Decimal("1.50"), datetime.datetime(2024, 1, 2, 3, 4, 5), True, {"k": 1}), rows
    assert rows[1] == (2, None, None, None, None, None), rows
    rows = conn.execute("SELECT id FROM py WHERE id = %s", (2,), binary=True).fetchall()
    assert rows == [(2,)], rows
    try:
        conn.execute("SELECT * FROM missing")
        raise SystemExit("expected an error")
    except psycopg.errors.UndefinedTable as e:
        assert 'relation "missing" does not exist' in str(e)
    # Named (server-side) cursors: DECLARE, FETCH FORWARD n, CLOSE, inside a transaction.
    conn.autocommit = False
    with conn.cursor(name="big") as cur:
        cur.itersize = 1
        cur.execute("SELECT id FROM py ORDER BY id")
        assert [r[0] for r in cur] == [1, 2]
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("DECLARE held CURSOR WITH HOLD FOR SELECT id FROM py ORDER BY id")
    conn.commit()
    assert conn.execute("FETCH 1 FROM held").fetchall() == [(1,)]
    assert conn.execute("FETCH ALL FROM held").fetchall() == [(2,)]
    conn.execute("CLOSE held")
    conn.commit()
    conn.autocommit = True
    # COPY both ways, as psycopg streams it.
    with conn.cursor() as cur:
        with cur.copy("COPY py (id, name) FROM STDIN") as copy:
            copy.write_row((3, "c"))
            copy.write_row((4, None))
        out = b""
        with cur.copy("COPY (SELECT id, name FROM py WHERE id >= 3 ORDER BY id) TO STDOUT") as copy:
            for data in copy:
                out += bytes(data)
        assert out == b"3\tc\n4\t\\N\n", out
    # Pipeline mode: several statements sent before one Sync.
    with conn.pipeline():
        a = conn.execute("SELECT count(*) FROM py")
        b = conn.execute("SELECT max(id) FROM py WHERE id < %s", (4,))
    assert a.fetchone() == (4,) and b.fetchone() == (3,)
    print("psycopg ok")
"#;

#[test]
fn psycopg3_parameters_types_and_errors() {
    let server = Server::start();
    let url = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let out = Command::new(service("WEIR_TEST_PYTHON")).args(["-c", PSYCOPG_SCRIPT, &url]).output().unwrap();
    assert!(check(out, "psycopg").contains("psycopg ok"));
}

const JDBC_PROGRAM: &str = r#"
import java.sql.*;
public class WeirJdbc {
  public static void main(String[] a) throws Exception {
    try (Connection c = DriverManager.getConnection(a[0], "weir", "")) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE j (id int PRIMARY KEY, name text, amount double precision, ts timestamp)");
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO j VALUES (?, ?, ?, ?)")) {
        for (int i = 1; i <= 7; i++) {   // past pgjdbc's prepareThreshold, so named statements are used too
          p.setInt(1, i); p.setString(2, "n" + i); p.setDouble(3, i * 1.5);
          p.setTimestamp(4, Timestamp.valueOf("2024-01-0" + Math.min(i, 9) + " 10:00:00"));
          if (p.executeUpdate() != 1) throw new AssertionError("insert count");
        }
      }
      try (PreparedStatement p = c.prepareStatement("SELECT id, name, amount, ts FROM j WHERE id > ? ORDER BY id")) {
        p.setInt(1, 5);
        try (ResultSet r = p.executeQuery()) {
          int n = 0;
          while (r.next()) {
            n++;
            if (r.getInt(1) != 5 + n) throw new AssertionError("id " + r.getInt(1));
            if (!r.getString(2).equals("n" + (5 + n))) throw new AssertionError("name");
            if (r.getDouble(3) != (5 + n) * 1.5) throw new AssertionError("amount");
            if (r.getTimestamp(4) == null) throw new AssertionError("ts");
          }
          if (n != 2) throw new AssertionError("rows " + n);
        }
      }
      // A fetch size inside a transaction: pgjdbc reads through a portal, two rows per Execute.
      c.setAutoCommit(false);
      try (PreparedStatement p = c.prepareStatement("SELECT id FROM j ORDER BY id")) {
        p.setFetchSize(2);
        try (ResultSet r = p.executeQuery()) {
          int n = 0;
          while (r.next()) {
            n++;
            if (r.getInt(1) != n) throw new AssertionError("fetch-size row " + n + " is " + r.getInt(1));
          }
          if (n != 7) throw new AssertionError("fetch-size rows " + n);
        }
      }
      c.commit();
      c.setAutoCommit(true);
      DatabaseMetaData md = c.getMetaData();
      try (ResultSet r = md.getTables(null, "public", "j", null)) {
        if (!r.next() || !"TABLE".equals(r.getString("TABLE_TYPE"))) throw new AssertionError("getTables");
      }
      try (ResultSet r = md.getColumns(null, "public", "j", "%")) {
        String[] names = {"id", "name", "amount", "ts"};
        int[] types = {Types.INTEGER, Types.VARCHAR, Types.DOUBLE, Types.TIMESTAMP};
        for (int i = 0; i < names.length; i++) {
          if (!r.next()) throw new AssertionError("getColumns: " + i + " columns");
          if (!names[i].equals(r.getString("COLUMN_NAME")) || r.getInt("DATA_TYPE") != types[i]) {
            throw new AssertionError("getColumns " + r.getString("COLUMN_NAME") + " " + r.getInt("DATA_TYPE"));
          }
        }
      }
      try (ResultSet r = md.getPrimaryKeys(null, "public", "j")) {
        if (!r.next() || !"id".equals(r.getString("COLUMN_NAME")) || r.getInt("KEY_SEQ") != 1 || !"j_pkey".equals(r.getString("PK_NAME"))) {
          throw new AssertionError("getPrimaryKeys");
        }
        if (r.next()) throw new AssertionError("getPrimaryKeys: one key column");
      }
      try (ResultSet r = md.getIndexInfo(null, "public", "j", true, false)) {
        if (!r.next() || !"j_pkey".equals(r.getString("INDEX_NAME")) || !"id".equals(r.getString("COLUMN_NAME"))) throw new AssertionError("getIndexInfo");
      }
      try (ResultSet r = md.getTypeInfo()) {
        java.util.Set<String> types = new java.util.HashSet<>();
        while (r.next()) types.add(r.getString("TYPE_NAME"));
        for (String t : new String[] {"int4", "text", "varchar", "numeric", "timestamptz", "jsonb", "uuid"}) {
          if (!types.contains(t)) throw new AssertionError("getTypeInfo lacks " + t + ": " + types);
        }
      }
      try (ResultSet r = md.getSchemas()) {
        java.util.Set<String> schemas = new java.util.HashSet<>();
        while (r.next()) schemas.add(r.getString("TABLE_SCHEM"));
        if (!schemas.contains("public") || !schemas.contains("pg_catalog")) throw new AssertionError("getSchemas " + schemas);
      }
      try (Statement s = c.createStatement()) {
        s.executeQuery("SELECT * FROM missing");
        throw new AssertionError("expected an error");
      } catch (SQLException e) {
        if (!"42P01".equals(e.getSQLState())) throw e;
      }
    }
    System.out.println("jdbc ok");
  }
}
"#;

#[test]
fn pgjdbc_prepared_statements_and_errors() {
    let server = Server::start();
    let jar = service("WEIR_TEST_JDBC_JAR");
    let dir = temp_dir("jdbc");
    std::fs::write(dir.join("WeirJdbc.java"), JDBC_PROGRAM).unwrap();
    check(Command::new("javac").arg("-d").arg(&dir).arg(dir.join("WeirJdbc.java")).output().unwrap(), "javac");
    let url = format!("jdbc:postgresql://127.0.0.1:{}/weir?sslmode=disable", server.port);
    let out = Command::new("java").arg("-cp").arg(format!("{}:{jar}", dir.display())).arg("WeirJdbc").arg(url).output().unwrap();
    assert!(check(out, "pgjdbc").contains("jdbc ok"));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The same objects in weir and PostgreSQL; every Inspector call a BI
/// tool's dataset sync makes (Superset's, for one) must answer the same.
const SQLALCHEMY_SCRIPT: &str = r#"
import sys, sqlalchemy as sa, pandas as pd
from sqlalchemy import text
weir, pg = (sa.create_engine(u) for u in sys.argv[1:3])
ddl = [
    "DROP VIEW IF EXISTS sa_v", "DROP MATERIALIZED VIEW IF EXISTS sa_m", "DROP TABLE IF EXISTS sa_t",
    "CREATE TABLE sa_t (id int PRIMARY KEY, name varchar(30) NOT NULL, amount numeric(10,2), seen timestamp, ok boolean, note text)",
    "INSERT INTO sa_t VALUES (1, 'a', 1.50, '2024-01-02 03:04:05', true, NULL), (2, 'b', NULL, NULL, false, 'x')",
    "CREATE VIEW sa_v AS SELECT id, name FROM sa_t WHERE ok",
    "CREATE MATERIALIZED VIEW sa_m AS SELECT name, count(*) AS n FROM sa_t GROUP BY name",
]
for engine in (weir, pg):
    with engine.begin() as c:
        for stmt in ddl:
            if engine is weir and stmt.startswith("DROP"):
                continue
            c.execute(text(stmt))

def reflect(engine):
    i = sa.inspect(engine)
    mine = lambda names: sorted(n for n in names if n.startswith("sa_"))
    out = {
        "schemas": sorted(s for s in i.get_schema_names() if s in ("public", "information_schema")),
        "tables": mine(i.get_table_names()),
        "views": mine(i.get_view_names()),
        "matviews": mine(i.get_materialized_view_names()),
        "has_table": [i.has_table("sa_t"), i.has_table("nope")],
    }
    for rel in ("sa_t", "sa_v", "sa_m"):
        out[rel] = {
            "columns": [(c["name"], repr(c["type"]), c["nullable"], c["default"], c.get("comment")) for c in i.get_columns(rel)],
            "pk": i.get_pk_constraint(rel),
            "fks": i.get_foreign_keys(rel),
            "indexes": i.get_indexes(rel),
            "unique": i.get_unique_constraints(rel),
            "checks": i.get_check_constraints(rel),
            "comment": i.get_table_comment(rel),
        }
    out["view_definition_reads_sa_t"] = "sa_t" in i.get_view_definition("sa_v")
    frame = pd.read_sql("SELECT id, name, amount, seen, ok, note FROM sa_t ORDER BY id", engine)
    out["frame"] = (frame.dtypes.astype(str).to_dict(), frame.to_json(date_format="iso"))
    return out

w, p = reflect(weir), reflect(pg)
for k in p:
    assert w[k] == p[k], f"{k}:\n weir:       {w[k]}\n PostgreSQL: {p[k]}"
print("sqlalchemy ok")
"#;

#[test]
fn sqlalchemy_inspector_and_pandas_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql+psycopg://weir@127.0.0.1:{}/weir", server.port);
    let pg = service("WEIR_TEST_PG_URL").replacen("postgres://", "postgresql+psycopg://", 1);
    let out = Command::new(service("WEIR_TEST_PYTHON")).args(["-c", SQLALCHEMY_SCRIPT, &weir, &pg]).output().unwrap();
    assert!(check(out, "sqlalchemy").contains("sqlalchemy ok"));
}

/// asyncpg: its own type introspection on prepare, executemany, typed
/// results, and a cursor over portals inside a transaction.
const ASYNCPG_SCRIPT: &str = r#"
import asyncio, asyncpg, sys, datetime, decimal
async def main(url):
    c = await asyncpg.connect(url)
    await c.execute("DROP TABLE IF EXISTS apg_t")
    await c.execute("CREATE TABLE apg_t (id int PRIMARY KEY, name varchar(10), amount numeric(8,2), ts timestamptz, doc jsonb, tags text[])")
    rows = [(1, 'a', decimal.Decimal('1.50'), datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc), '{"k": 1}', ['x', 'y']), (2, None, None, None, None, None)]
    await c.executemany("INSERT INTO apg_t VALUES ($1, $2, $3, $4, $5, $6)", rows)
    st = await c.prepare("SELECT id, name, amount, ts, doc, tags FROM apg_t WHERE id >= $1 ORDER BY id")
    print([a.name + ":" + a.type.name for a in st.get_attributes()])
    print([tuple(r) for r in await st.fetch(1)])
    async with c.transaction():
        print([r["id"] async for r in c.cursor("SELECT id FROM apg_t ORDER BY id", prefetch=1)])
    try:
        await c.fetch("SELECT * FROM apg_missing")
    except asyncpg.exceptions.UndefinedTableError as e:
        print("undefined table", e.sqlstate)
    await c.close()
asyncio.run(main(sys.argv[1]))
"#;

#[test]
fn asyncpg_prepares_introspects_and_uses_cursors_like_postgres() {
    let server = Server::start();
    let run = |url: &str| check(Command::new(service("WEIR_TEST_PYTHON")).args(["-c", ASYNCPG_SCRIPT, url]).output().unwrap(), "asyncpg");
    let weir = run(&format!("postgresql://weir@127.0.0.1:{}/weir", server.port));
    assert!(weir.contains("undefined table 42P01"), "{weir}");
    assert_eq!(weir, run(&service("WEIR_TEST_PG_URL")), "weir (left) and PostgreSQL 15 (right) differ");
}

/// node-postgres: parameters, its type parsing, array rows, a transaction,
/// a pg-cursor over a portal read a few rows at a time, and an error code.
const NODE_POSTGRES_SCRIPT: &str = r#"
const { Client } = require('pg');
const Cursor = require('pg-cursor');
(async () => {
  const c = new Client({ connectionString: process.argv[1] });
  await c.connect();
  const out = [];
  await c.query("DROP TABLE IF EXISTS np_t");
  await c.query("CREATE TABLE np_t (id int PRIMARY KEY, name varchar(10), amount numeric(8,2), ts timestamp, ok boolean, doc jsonb, big bigint)");
  await c.query("INSERT INTO np_t VALUES ($1, $2, $3, $4, $5, $6, $7), (2, NULL, NULL, NULL, NULL, NULL, NULL)",
    [1, 'a', '1.50', '2024-01-02 03:04:05', true, '{"k": [1, 2]}', '9007199254740993']);
  const r = await c.query("SELECT id, name, amount, ts, ok, doc, big FROM np_t WHERE id >= $1 ORDER BY id", [1]);
  out.push(r.fields.map(f => [f.name, f.dataTypeID]), r.rows, r.rowCount, r.command);
  out.push((await c.query({ text: "SELECT id, name FROM np_t ORDER BY id", rowMode: 'array' })).rows);
  await c.query("BEGIN");
  await c.query("UPDATE np_t SET name = 'b' WHERE id = 2");
  await c.query("ROLLBACK");
  out.push((await c.query("SELECT name FROM np_t WHERE id = 2")).rows);
  await c.query("BEGIN");
  const cursor = c.query(new Cursor("SELECT id FROM np_t ORDER BY id"));
  const read = n => new Promise((ok, fail) => cursor.read(n, (e, rows) => e ? fail(e) : ok(rows)));
  out.push(await read(1), await read(5), await read(5));
  await new Promise(ok => cursor.close(ok));
  await c.query("COMMIT");
  try { await c.query("SELECT * FROM np_missing"); } catch (e) { out.push(["error", e.code]); }
  await c.end();
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
"#;

#[test]
fn node_postgres_queries_types_and_cursors_like_postgres() {
    let server = Server::start();
    let run = |url: &str| {
        let out = Command::new("node").env("NODE_PATH", service("WEIR_TEST_NODE_PATH")).args(["-e", NODE_POSTGRES_SCRIPT, url]).output().unwrap();
        check(out, "node-postgres")
    };
    let weir = run(&format!("postgresql://weir@127.0.0.1:{}/weir", server.port));
    assert!(weir.contains(r#"["error","42P01"]"#), "{weir}");
    assert_eq!(weir, run(&service("WEIR_TEST_PG_URL")), "weir (left) and PostgreSQL 15 (right) differ");
}

/// psqlODBC through unixODBC (pyodbc): the catalog calls ODBC tools make
/// (SQLTables, SQLColumns, SQLPrimaryKeys, SQLStatistics, SQLGetTypeInfo),
/// parameters and typed results, with and without UseDeclareFetch (which
/// reads results through a cursor, a few rows per FETCH).
const ODBC_SCRIPT: &str = r#"
import sys, pyodbc
driver, server, port, user, db = sys.argv[1:6]
out = []
for declare_fetch in ("0", "1"):
    c = pyodbc.connect(f"DRIVER={{{driver}}};SERVER={server};PORT={port};UID={user};DATABASE={db};UseDeclareFetch={declare_fetch};Fetch=2", autocommit=True)
    cur = c.cursor()
    if declare_fetch == "0":
        cur.execute("DROP TABLE IF EXISTS odbc_t")
        cur.execute("CREATE TABLE odbc_t (id int PRIMARY KEY, name varchar(20) NOT NULL, amount numeric(10,2), seen timestamp, ok boolean)")
        cur.executemany("INSERT INTO odbc_t VALUES (?, ?, ?, ?, ?)", [(i, f"n{i}", f"{i}.25", "2024-01-02 03:04:05", i % 2 == 0) for i in range(1, 8)])
    cur.execute("SELECT id, name, amount, seen, ok FROM odbc_t WHERE id > ? ORDER BY id", 2)
    out.append([tuple(d[:2]) for d in cur.description])
    out.append([tuple(r) for r in cur.fetchall()])
    out.append([(r.table_schem, r.table_name, r.table_type) for r in cur.tables(table="odbc_%")])
    out.append([(r.column_name, r.type_name, r.column_size, r.decimal_digits, r.nullable, r.ordinal_position) for r in cur.columns(table="odbc_t")])
    out.append([(r.column_name, r.key_seq) for r in cur.primaryKeys("odbc_t")])
    out.append([(r.index_name, r.column_name, r.non_unique) for r in cur.statistics("odbc_t") if r.index_name])
    out.append(sorted({r.type_name for r in cur.getTypeInfo()} & {"int4", "text", "varchar", "numeric", "timestamp", "bool"}))
    try:
        cur.execute("SELECT * FROM odbc_missing")
    except pyodbc.Error as e:
        out.append(e.args[0])
    c.close()
for line in out:
    print(line)
"#;

#[test]
fn psqlodbc_catalog_calls_and_declare_fetch_like_postgres() {
    let server = Server::start();
    let run = |host: &str, port: &str, user: &str, db: &str| {
        let out =
            Command::new(service("WEIR_TEST_PYTHON")).args(["-c", ODBC_SCRIPT, &service("WEIR_TEST_ODBC_DRIVER"), host, port, user, db]).output().unwrap();
        check(out, "psqlODBC")
    };
    let weir = run("127.0.0.1", &server.port.to_string(), "weir", "weir");
    assert!(weir.contains("42P01"), "{weir}");
    // postgres://USER@HOST:PORT/DB
    let pg_url = service("WEIR_TEST_PG_URL");
    let (user, rest) = pg_url.trim_start_matches("postgres://").split_once('@').unwrap();
    let (host_port, db) = rest.split_once('/').unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    let pg = run(host, port, user, db);
    assert_eq!(weir, pg, "weir (left) and PostgreSQL 15 (right) differ");
}
