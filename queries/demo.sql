-- The demo pipeline `weir serve --demo` loads (idempotently): a clickstream
-- from the built-in generator, and two views over it that stay fresh.
-- Try:  SELECT * FROM clicks_by_type ORDER BY events DESC;
--       SELECT * FROM clicks_1m ORDER BY window_start DESC, event_type LIMIT 10;

CREATE SOURCE IF NOT EXISTS clicks
  WITH (connector = 'generator', scenario = 'clickstream', rate = '1000', users = '2000', out_of_order = '2s');

-- One final row per minute and event type, once the watermark passes the minute.
CREATE MATERIALIZED VIEW IF NOT EXISTS clicks_1m AS
  SELECT window_start, window_end, event_type,
         count(*) AS events, count(DISTINCT user_id) AS users, count(DISTINCT session_id) AS sessions
  FROM TUMBLE(clicks, "timestamp", INTERVAL '1 minute')
  GROUP BY window_start, window_end, event_type
  EMIT ON WINDOW CLOSE;

-- Updated as every event arrives.
CREATE MATERIALIZED VIEW IF NOT EXISTS clicks_by_type AS
  SELECT event_type, count(*) AS events, count(DISTINCT user_id) AS users
  FROM clicks
  GROUP BY event_type;
