//! The catalog queries Grafana's and Metabase's PostgreSQL data sources send
//! while being set up and while syncing a database (their text as their
//! public sources and a capture of a Metabase sync give it), run through
//! psycopg against weir and PostgreSQL 15 over a schema of their own; the
//! answers must be the same.

use crate::support::{Server, service};
use std::process::Command;

const SCRIPT: &str = r#"
import sys, psycopg
SETUP = [
    "DROP SCHEMA IF EXISTS bi_shop CASCADE",
    "CREATE SCHEMA bi_shop",
    "CREATE TABLE bi_shop.orders (id int PRIMARY KEY, customer varchar(40) NOT NULL, amount numeric(12,2), placed timestamp, paid boolean)",
    "INSERT INTO bi_shop.orders VALUES (1, 'ann', 10.50, '2024-01-02 03:04:05', true), (2, 'bob', NULL, NULL, false)",
    "CREATE VIEW bi_shop.paid AS SELECT id, amount FROM bi_shop.orders WHERE paid",
    "CREATE MATERIALIZED VIEW bi_shop.by_customer AS SELECT customer, sum(amount) AS total FROM bi_shop.orders GROUP BY customer",
]
# Grafana: the search-path test its table and column lists share.
ON_PATH = """quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )"""
SYSTEM = "('information_schema','pg_catalog','_timescaledb_cache','_timescaledb_catalog','_timescaledb_internal','_timescaledb_config','timescaledb_information','timescaledb_experimental')"
GRAFANA = [
    ("-- ping", None),
    ("SELECT current_setting('server_version_num')::int/100 as version", None),
    ("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'", None),
    ("SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('information_schema', 'pg_catalog', 'pg_toast', "
     "'_timescaledb_cache', '_timescaledb_catalog', '_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', "
     "'timescaledb_experimental') ORDER BY schema_name", None),
    ("SELECT quote_ident(table_name) AS \"table\" FROM information_schema.tables WHERE quote_ident(table_schema) = quote_ident('bi_shop') ORDER BY 1", None),
    ("SELECT CASE WHEN " + ON_PATH + " THEN quote_ident(table_name) ELSE quote_ident(table_schema) || '.' || quote_ident(table_name) END AS \"table\" "
     "FROM information_schema.tables WHERE quote_ident(table_schema) NOT IN " + SYSTEM + " ORDER BY CASE WHEN " + ON_PATH + " THEN 0 ELSE 1 END, 1", None),
    ("SELECT quote_ident(column_name) AS \"column\", data_type AS \"type\" FROM information_schema.columns WHERE "
     "CASE WHEN array_length(parse_ident('orders'),1) = 2 THEN quote_ident(table_schema) = (parse_ident('orders'))[1] "
     "AND quote_ident(table_name) = (parse_ident('orders'))[2] ELSE quote_ident(table_name) = 'orders' AND " + ON_PATH + " END", None),
]
METABASE = [
    ("SET extra_float_digits = 3", None),
    ("SET application_name = 'Metabase v0.62.1.5 [d4fe74c4-96c3-4812-b3ae-35e513752b13]'", None),
    ("SELECT 1", None),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED", None),
    ("SHOW TRANSACTION ISOLATION LEVEL", None),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED", None),
    ("SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  "
     "OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], "
     "'pg_temp_', 'pg_toast_temp_'))  ORDER BY TABLE_SCHEM", None),
    ("""with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t""", None),
    ('SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN \'r\' THEN \'TABLE\' WHEN \'p\' THEN \'PARTITIONED TABLE\' '
     'WHEN \'v\' THEN \'VIEW\' WHEN \'f\' THEN \'FOREIGN TABLE\' WHEN \'m\' THEN \'MATERIALIZED VIEW\' ELSE NULL END AS "type", "d"."description" AS "description", '
     'NULLIF("stat"."n_live_tup", %s) AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" '
     'LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = %s) AND ("d"."classoid" = \'pg_class\'::regclass) '
     'LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") '
     'WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ %s) AND ("n"."nspname" <> %s) AND c.relkind in (\'r\', \'p\', \'v\', \'f\', \'m\') '
     'AND ("n"."nspname" IN (%s)) ORDER BY "type" ASC, "schema" ASC, "name" ASC', (0, 0, '^pg_', 'information_schema', 'bi_shop')),
    ('SELECT TRUE AS "_" FROM "bi_shop"."orders" WHERE 1 <> 1 LIMIT 0', None),
    ("show timezone;", None),
    ("SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)", None),
    ('SELECT "c"."column_name" AS "name", CASE WHEN "c"."udt_schema" IN (\'public\', \'pg_catalog\') THEN FORMAT(\'%%s\', "c"."udt_name") '
     'ELSE FORMAT(\'"%%s"."%%s"\', "c"."udt_schema", "c"."udt_name") END AS "database-type", "c"."ordinal_position" - 1 AS "database-position", '
     '"c"."table_schema" AS "table-schema", "c"."table_name" AS "table-name", "pk"."column_name" IS NOT NULL AS "pk?", '
     'COL_DESCRIPTION(CAST(CAST(FORMAT(\'%%I.%%I\', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment", '
     '(("column_default" IS NULL) OR (LOWER("column_default") = \'null\')) AND ("is_nullable" = \'NO\') AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE \'%%nextval(%%\')) '
     'OR ("is_identity" <> \'NO\')) AS "database-required", "column_default" AS "database-default", (("column_default" IS NOT NULL) AND ("column_default" LIKE \'%%nextval(%%\')) '
     'OR ("is_identity" <> \'NO\') AS "database-is-auto-increment", "is_generated" = %s AS "database-is-generated", "is_nullable" = \'YES\' AS "database-is-nullable" '
     'FROM "information_schema"."columns" AS "c" LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", "kc"."column_name" FROM "information_schema"."table_constraints" AS "tc" '
     'INNER JOIN "information_schema"."key_column_usage" AS "kc" ON ("tc"."constraint_name" = "kc"."constraint_name") AND ("tc"."table_schema" = "kc"."table_schema") '
     'AND ("tc"."table_name" = "kc"."table_name") WHERE "tc"."constraint_type" = \'PRIMARY KEY\') AS "pk" ON ("c"."table_schema" = "pk"."table_schema") '
     'AND ("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name") WHERE c.table_schema !~ \'^information_schema|catalog_history|pg_\' '
     'AND ("c"."table_schema" IN (%s)) UNION ALL SELECT "pa"."attname" AS "name", CASE WHEN "ptn"."nspname" IN (\'public\', \'pg_catalog\') THEN FORMAT(\'%%s\', "pt"."typname") '
     'ELSE FORMAT(\'"%%s"."%%s"\', "ptn"."nspname", "pt"."typname") END AS "database-type", "pa"."attnum" - 1 AS "database-position", "pn"."nspname" AS "table-schema", '
     '"pc"."relname" AS "table-name", FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", NULL AS "database-default", FALSE AS "database-is-auto-increment", '
     'FALSE AS "database-is-generated", FALSE AS "database-is-nullable" FROM "pg_catalog"."pg_class" AS "pc" INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = "pc"."relnamespace" '
     'INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid" INNER JOIN "pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid" '
     'INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" ON "ptn"."oid" = "pt"."typnamespace" WHERE ("pc"."relkind" = \'m\') AND ("pa"."attnum" >= 1) AND ("pn"."nspname" IN (%s)) '
     'ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC', ('ALWAYS', 'bi_shop', 'bi_shop')),
    ('SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name", "pk_ns"."nspname" AS "pk-table-schema", '
     '"pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name" FROM "pg_constraint" AS "c" INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid" '
     'INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid" INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid" '
     'INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid" INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid" '
     'INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid" WHERE fk_ns.nspname !~ \'^information_schema|catalog_history|pg_\' '
     'AND ("c"."contype" = \'f\'::char) AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey)) AND ("fk_ns"."nspname" IN (%s)) '
     'ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC', ('bi_shop',)),
    ("SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys'", None),
    ("SELECT * FROM (SELECT current_database() AS current_database, n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull  OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,"
     "a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,"
     "nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  "
     "FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  "
     "JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  "
     "LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  "
     "LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  "
     "AND n.nspname LIKE %s AND c.relname LIKE %s) c WHERE true  ORDER BY nspname,c.relname,attnum", ('bi_shop', 'orders')),
    ('SELECT        result.TABLE_CAT AS "TABLE_CAT",        result.TABLE_SCHEM AS "TABLE_SCHEM",        result.TABLE_NAME AS "TABLE_NAME",        result.COLUMN_NAME AS "COLUMN_NAME",        '
     'result.KEY_SEQ AS "KEY_SEQ",        result.PK_NAME AS "PK_NAME"FROM      (SELECT current_database() AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, '
     'a.attname AS COLUMN_NAME,   (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,   information_schema._pg_expandarray(i.indkey) AS KEYS, '
     'a.attnum AS A_ATTNUM, i.indnkeyatts as KEY_COUNT FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)   '
     'JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) '
     'WHERE true  AND n.nspname = %s AND ct.relname = %s AND i.indisprimary  ) result where  result.A_ATTNUM = (result.KEYS).x AND result.KEY_SEQ <= KEY_COUNT  '
     'ORDER BY result.table_name, result.pk_name, result.key_seq', ('bi_shop', 'orders')),
]

def ours(rows):
    """Rows about this test's objects: PostgreSQL's database holds other tests' too."""
    mine = lambda v: isinstance(v, str) and ("bi_shop" in v or v in ("orders", "paid", "by_customer"))
    keep = lambda r: any(mine(v) for v in r) or [v for v in r if v is not None] == ["public"]
    # (sorted: some of these queries have no ORDER BY)
    return sorted((r for r in rows if keep(r)), key=str) if any(keep(r) for r in rows) else rows

def run(url, database):
    out = []
    with psycopg.connect(url, autocommit=True) as c:
        for sql in SETUP:
            c.execute(sql)
        c.execute("SET search_path TO bi_shop")
        for (sql, params) in GRAFANA:
            cur = psycopg.ClientCursor(c).execute(sql)
            out.append(("grafana", sql, cur.description and [d.name for d in cur.description], cur.description and ours(cur.fetchall())))
        c.execute("RESET search_path")
        c.execute("SET TimeZone TO 'UTC'")  # as pgjdbc's startup sends the JVM's zone
        for (sql, params) in METABASE:
            cur = c.execute(sql, params)
            rows = cur.description and [tuple(database if v == database else v for v in r) for r in cur.fetchall()]
            out.append(("metabase", sql, cur.description and [d.name for d in cur.description], rows and ours(rows)))
    return out

w, p = run(sys.argv[1], "weir"), run(sys.argv[2], "postgres")
# Column names of unnamed expressions are DataFusion's until names follow PostgreSQL
# (its own issue); Metabase reads only that `SELECT 1` answers.
w, p = ([(t, q, None if q == "SELECT 1" else n, r) for (t, q, n, r) in side] for side in (w, p))
# estimated_row_count is pg_stat_user_tables.n_live_tup: weir's is exact at once,
# PostgreSQL's arrives when its statistics are next flushed.
estimate = lambda side: [(t, q, n, [x[:-1] for x in r] if "estimated_row_count" in q and r else r) for (t, q, n, r) in side]
w, p = estimate(w), estimate(p)
for a, b in zip(w, p):
    assert str(a).replace("'weir'", "'DB'") == str(b).replace("'postgres'", "'DB'"), f"\n{a[1][:300]}\n weir:       {a[2:]}\n PostgreSQL: {b[2:]}"
print(f"{len(w)} queries answered alike")
"#;

#[test]
fn grafana_and_metabase_catalog_queries_like_postgres() {
    let server = Server::start();
    let weir = format!("postgresql://weir@127.0.0.1:{}/weir", server.port);
    let out = Command::new(service("WEIR_TEST_PYTHON")).args(["-c", SCRIPT, &weir, &service("WEIR_TEST_PG_URL")]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("answered alike"), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
}
