-- weir:requires-extension timescaledb
-- weir:no-transaction
-- With TimescaleDB: the event tables become hypertables, and the per-minute
-- parts of realtime_metrics become continuous aggregates. Skipped (and
-- recorded as skipped) where the extension is not available.
CREATE EXTENSION IF NOT EXISTS timescaledb;
SELECT create_hypertable('rt_transactions', 'processed_at', if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('rt_clickstream', 'event_timestamp', if_not_exists => TRUE, migrate_data => TRUE);

CREATE MATERIALIZED VIEW IF NOT EXISTS rt_clickstream_1m WITH (timescaledb.continuous) AS
    SELECT time_bucket('1 minute', event_timestamp) AS minute_bucket, user_id,
           count(*) AS event_count, count(DISTINCT session_id) AS unique_sessions
    FROM rt_clickstream GROUP BY 1, 2;

CREATE MATERIALIZED VIEW IF NOT EXISTS rt_transactions_1m WITH (timescaledb.continuous) AS
    SELECT time_bucket('1 minute', processed_at) AS minute_bucket, user_id, sum(amount) AS total_amount
    FROM rt_transactions GROUP BY 1, 2;

CREATE OR REPLACE VIEW realtime_metrics AS
SELECT coalesce(c.minute_bucket, t.minute_bucket) AS minute_bucket,
       coalesce(c.user_id, t.user_id)             AS user_id,
       coalesce(c.event_count, 0)                 AS event_count,
       coalesce(t.total_amount, 0)                AS total_amount,
       coalesce(c.unique_sessions, 0)             AS unique_sessions
FROM rt_clickstream_1m c
FULL JOIN rt_transactions_1m t ON c.minute_bucket = t.minute_bucket AND c.user_id = t.user_id;
