-- Per-minute, per-user metrics (the reference design's mv_realtime_metrics).
--
-- The reference joined rt_clickstream to rt_transactions on user_id alone, with
-- no time bound: every click of a user paired with every transaction that user
-- ever made, so event_count and total_amount were multiplied by each other and
-- mixed minutes. Here clicks and transactions are aggregated per minute and
-- user separately, and only then joined on (minute, user): event_count counts
-- the minute's clicks, total_amount sums the minute's transactions.
CREATE OR REPLACE VIEW realtime_metrics AS
WITH clicks AS (
    SELECT date_trunc('minute', event_timestamp) AS minute_bucket, user_id,
           count(*) AS event_count, count(DISTINCT session_id) AS unique_sessions
    FROM rt_clickstream GROUP BY 1, 2
), tx AS (
    SELECT date_trunc('minute', processed_at) AS minute_bucket, user_id,
           sum(amount) AS total_amount
    FROM rt_transactions GROUP BY 1, 2
)
SELECT coalesce(c.minute_bucket, t.minute_bucket) AS minute_bucket,
       coalesce(c.user_id, t.user_id)             AS user_id,
       coalesce(c.event_count, 0)                 AS event_count,
       coalesce(t.total_amount, 0)                AS total_amount,
       coalesce(c.unique_sessions, 0)             AS unique_sessions
FROM clicks c
FULL JOIN tx t ON c.minute_bucket = t.minute_bucket AND c.user_id = t.user_id;
