-- clickstream.sql: the reference design's clickstream job, as weir SQL.
--
-- 5-minute metrics per event type (events, unique users, unique sessions),
-- kept in Redis for an hour and in PostgreSQL; events enriched with hour,
-- day of week and business hours; every raw event archived as Parquet.
-- Runs as is on the built-in generator; for Kafka (JSON events with these
-- fields) change only the source's WITH clause: WITH (connector = 'kafka',
-- topic = 'clickstream', bootstrap_servers = '${KAFKA:-127.0.0.1:9092}').
--
-- Apply with: weir apply queries/clickstream.sql (REDIS_URL, PG_URL, LAKE_PATH,
-- S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from the environment).

CREATE SOURCE clickstream (event_id TEXT, user_id TEXT, session_id TEXT, event_type TEXT, product_id TEXT,
  "timestamp" TIMESTAMP, page_url TEXT, referrer TEXT, device_type TEXT, ip_address TEXT,
  WATERMARK FOR "timestamp" AS "timestamp" - INTERVAL '5 seconds')
WITH (connector = 'generator', scenario = 'clickstream',
  count = '${CLICK_COUNT:-unlimited}', rate = '${CLICK_RATE:-1000}', users = 2000, out_of_order = '5s',
  start = '${CLICK_START:-2026-01-05 08:00:00}', event_interval = '${CLICK_INTERVAL:-1 second}');

CREATE MATERIALIZED VIEW clickstream_metrics_5m AS
SELECT window_start, window_end, event_type,
       count(*) AS event_count,
       count(DISTINCT user_id) AS unique_users,
       count(DISTINCT session_id) AS unique_sessions
FROM TUMBLE(clickstream, "timestamp", INTERVAL '5 minutes')
GROUP BY window_start, window_end, event_type
EMIT ON WINDOW CLOSE;

-- Business hours: 09:00 to 17:59 UTC, Monday to Friday (day_of_week 1-5, Sunday is 0).
CREATE MATERIALIZED VIEW clicks_enriched WITH (retention = '${RETENTION:-1 hour}') AS
SELECT event_id, user_id, session_id, event_type, product_id, "timestamp", device_type,
       CAST(date_part('hour', "timestamp") AS INT) AS hour,
       CAST(date_part('dow', "timestamp") AS INT) AS day_of_week,
       date_part('hour', "timestamp") BETWEEN 9 AND 17 AND date_part('dow', "timestamp") BETWEEN 1 AND 5 AS is_business_hours
FROM clickstream;

CREATE SINK clickstream_metrics_redis FROM clickstream_metrics_5m WITH (connector = 'redis',
  url = '${REDIS_URL:-redis://127.0.0.1:6379}', key = '${METRICS_PREFIX:-metrics}:{window_start}:{event_type}',
  value = 'hash', ttl = '1h');
CREATE SINK clickstream_metrics_pg FROM clickstream_metrics_5m WITH (connector = 'postgres',
  url = '${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}', table = '${METRICS_TABLE:-clickstream_metrics_5m}',
  primary_key = 'window_start,event_type', create_table = 'true');
CREATE SINK clickstream_archive FROM clickstream WITH (connector = 's3',
  path = '${LAKE_PATH:-file:///tmp/weir-lake/clickstream/}', endpoint = '${S3_ENDPOINT:-}', region = 'us-east-1',
  access_key_id = '${AWS_ACCESS_KEY_ID:-}', secret_access_key = '${AWS_SECRET_ACCESS_KEY:-}',
  format = 'parquet', partition_by = 'timestamp', rollover = '1 minute');
