//! `weir apply` against a running server: creates what .sql files define
//! (with ${VAR} filled from the environment), leaves identical objects alone,
//! refuses a changed definition with the difference unless --replace, and
//! changes nothing on --dry-run. The catalog it compares with hides secrets.

use crate::streaming::text_rows;
use crate::support::{Server, service, temp_dir};
use std::process::{Command, Output};

fn apply(server: &Server, dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.arg("apply").arg(dir).arg("--server").arg(server.conn_str()).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_leaves_identical_alone_and_refuses_changes_without_replace() {
    let server = Server::start();
    let dir = temp_dir("apply");
    let s3 = service("WEIR_TEST_S3_ENDPOINT");
    let bucket = format!("apply-{}", server.port);
    assert!(Command::new("curl").args(["-sf", "-X", "PUT", &format!("{s3}/{bucket}")]).status().unwrap().success());
    std::fs::write(
        dir.join("01_sources.sql"),
        "-- the input\nCREATE SOURCE seq WITH (connector = 'generator', scenario = 'sequence', count = ${SEQ_COUNT:-300}, rate = 'unlimited');\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("02_views.sql"),
        "CREATE MATERIALIZED VIEW per_user AS SELECT user_id, count(*) AS n FROM seq GROUP BY user_id;
         CREATE MATERIALIZED VIEW evens AS SELECT seq FROM seq WHERE seq % 2 = 0;
         CREATE SINK evens_files FROM evens WITH (connector = 's3', path = 's3://${BUCKET}/evens/', endpoint = '${S3}',
           access_key_id = 'test', secret_access_key = '${SECRET:-hush}');\n",
    )
    .unwrap();
    let env = [("BUCKET", bucket.as_str()), ("S3", s3.as_str())];

    // A variable without a default that is not set: an error naming it, nothing applied.
    let o = apply(&server, &dir, &[], &[]);
    assert!(!o.status.success() && text(&o).contains("BUCKET, S3"), "{}", text(&o));
    let c = server.client().await;
    assert!(text_rows(&c, "SELECT name FROM weir_catalog").await.is_empty());

    // --dry-run prints the plan and changes nothing.
    let o = apply(&server, &dir, &["--dry-run"], &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("would create source seq") && text(&o).contains("would create sink evens_files"), "{}", text(&o));
    assert!(text_rows(&c, "SELECT name FROM weir_catalog").await.is_empty());

    let o = apply(&server, &dir, &[], &env);
    assert!(o.status.success(), "{}", text(&o));
    let catalog = text_rows(&c, "SELECT name, kind FROM weir_catalog").await;
    let names: Vec<_> = catalog.iter().map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap())).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&("evens_files".into(), "sink".into())) && names.contains(&("per_user".into(), "materialized view".into())));
    let sink_sql = text_rows(&c, "SELECT sql FROM weir_catalog WHERE name = 'evens_files'").await;
    assert!(!sink_sql[0][0].as_deref().unwrap().contains("hush"), "the catalog hides secrets: {sink_sql:?}");

    // Again, unchanged (layout differences are not changes).
    let o = apply(&server, &dir, &[], &env);
    assert!(o.status.success() && text(&o).contains("unchanged materialized view per_user") && text(&o).contains("nothing to do"), "{}", text(&o));

    // A changed view is refused with its difference; nothing changes.
    std::fs::write(dir.join("02_views.sql"), std::fs::read_to_string(dir.join("02_views.sql")).unwrap().replace("seq % 2 = 0", "seq % 3 = 0")).unwrap();
    let o = apply(&server, &dir, &[], &env);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("seq % 2 = 0") && text(&o).contains("seq % 3 = 0") && text(&o).contains("--replace"), "{}", text(&o));
    let n: i64 = c.query_one("SELECT count(*) FROM evens", &[]).await.unwrap().get(0);
    // A changed secret is a change too, shown without its value.
    let o = apply(&server, &dir, &["--dry-run", "--replace"], &[("BUCKET", bucket.as_str()), ("S3", s3.as_str()), ("SECRET", "other")]);
    assert!(o.status.success() && text(&o).contains("would replace sink evens_files") && !text(&o).contains("other'"), "{}", text(&o));

    // --replace drops the view (and the sink on it) and creates both again.
    let o = apply(&server, &dir, &["--replace"], &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("replaced materialized view evens") && text(&o).contains("created sink evens_files"), "{}", text(&o));
    crate::streaming::wait_views(&c, &["evens"], |r| r[1].as_deref() == Some("finished")).await;
    let m: i64 = c.query_one("SELECT count(*) FROM evens", &[]).await.unwrap().get(0);
    assert!(n == 150 && m == 100, "evens before {n}, after the change {m}");
    let o = apply(&server, &dir, &[], &env);
    assert!(o.status.success() && text(&o).contains("nothing to do"), "{}", text(&o));
}
