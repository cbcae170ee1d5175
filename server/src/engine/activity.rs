//! What each client session is doing, for `pg_stat_activity`: the front end
//! notes when a statement starts and ends, the catalog reads it.

use parking_lot::RwLock;
use std::collections::BTreeMap;

/// One session, as `pg_stat_activity` shows it.
#[derive(Debug, Clone)]
pub struct Activity {
    pub pid: i32,
    pub user: String,
    pub application_name: String,
    /// `active`, `idle` or `idle in transaction`.
    pub state: &'static str,
    /// The running statement, or the last one.
    pub query: String,
    /// Microseconds since the epoch.
    pub backend_start: i64,
    pub query_start: Option<i64>,
    pub state_change: i64,
}

/// Every open session, by backend pid.
#[derive(Debug, Default)]
pub struct Sessions(RwLock<BTreeMap<i32, Activity>>);

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Sessions {
    /// A statement starts in session `pid`.
    pub fn begin(&self, pid: i32, user: &str, application_name: &str, query: &str) {
        let now = now_micros();
        let mut all = self.0.write();
        let a = all.entry(pid).or_insert_with(|| Activity {
            pid,
            user: user.to_string(),
            application_name: String::new(),
            state: "idle",
            query: String::new(),
            backend_start: now,
            query_start: None,
            state_change: now,
        });
        a.application_name = application_name.to_string();
        a.state = "active";
        a.query = query.to_string();
        a.query_start = Some(now);
        a.state_change = now;
    }

    /// The statement of session `pid` ended; `in_transaction` if a block is still open.
    pub fn end(&self, pid: i32, application_name: &str, in_transaction: bool) {
        if let Some(a) = self.0.write().get_mut(&pid) {
            a.application_name = application_name.to_string();
            a.state = if in_transaction { "idle in transaction" } else { "idle" };
            a.state_change = now_micros();
        }
    }

    /// Session `pid` is gone.
    pub fn close(&self, pid: i32) {
        self.0.write().remove(&pid);
    }

    pub fn all(&self) -> Vec<Activity> {
        self.0.read().values().cloned().collect()
    }
}
