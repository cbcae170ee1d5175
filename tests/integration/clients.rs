//! Real PostgreSQL clients against a live weir: psql, psycopg 3 and pgjdbc.

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
