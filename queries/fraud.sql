-- fraud.sql: the reference design's fraud scoring, as weir SQL.
--
-- Runs as is on the built-in transactions generator. To read Kafka instead,
-- change only the source's WITH clause, e.g.
--   CREATE SOURCE transactions (transaction_id TEXT, user_id TEXT, amount DOUBLE,
--     payment_method TEXT, ip_address TEXT, country TEXT, "timestamp" TIMESTAMP,
--     WATERMARK FOR "timestamp" AS "timestamp" - INTERVAL '5 seconds')
--   WITH (connector = 'kafka', topic = 'transactions', bootstrap_servers = '${KAFKA:-127.0.0.1:9092}') FORMAT JSON;
--
-- Apply with: weir apply queries/fraud.sql  (connection settings from the
-- environment: REDIS_URL, PG_URL, KAFKA; TX_COUNT and TX_RATE size the input).

CREATE SOURCE transactions WITH (connector = 'generator', scenario = 'transactions',
  count = '${TX_COUNT:-unlimited}', rate = '${TX_RATE:-200}', seed = 7, users = 500,
  suspicious_fraction = 0.1, out_of_order = '2s');

-- The reference rules, exactly: amount > 1000 adds 0.3, > 5000 another 0.2,
-- a prepaid or gift card 0.2, an IP in 10.0.0.0/8 0.1; capped at 1.0. Summed
-- left to right in double precision, as the reference's Python does, so the
-- edge cases come out the same (0.3 + 0.2 + 0.2 is 0.7, not above it: MEDIUM).
-- Risk HIGH above 0.7, MEDIUM above 0.4, LOW otherwise; review above 0.5.
CREATE MATERIALIZED VIEW fraud_scores AS
SELECT transaction_id, user_id, amount, payment_method, ip_address, country, "timestamp",
       fraud_score,
       CASE WHEN fraud_score > 0.7 THEN 'HIGH' WHEN fraud_score > 0.4 THEN 'MEDIUM' ELSE 'LOW' END AS risk_level,
       fraud_score > 0.5 AS requires_review
FROM (
  SELECT transaction_id, user_id, amount, payment_method, ip_address, country, "timestamp",
         least(0.0
           + CASE WHEN amount > 1000 THEN 0.3 ELSE 0.0 END
           + CASE WHEN amount > 5000 THEN 0.2 ELSE 0.0 END
           + CASE WHEN payment_method IN ('prepaid_card', 'gift_card') THEN 0.2 ELSE 0.0 END
           + CASE WHEN ip_address LIKE '10.%' THEN 0.1 ELSE 0.0 END, 1.0) AS fraud_score
  FROM transactions
) scored;

-- Velocity features, each in its own view: spend and count per user in
-- 10-minute windows, distinct countries per user per hour. (Sliding per-row
-- OVER windows and combining these with the score into one alert rule need
-- joins, which weir does not have yet; the alert rule below is the score's.)
CREATE MATERIALIZED VIEW user_velocity_10m AS
SELECT user_id, window_start, window_end, count(*) AS tx_count, sum(amount) AS spend
FROM TUMBLE(transactions, "timestamp", INTERVAL '10 minutes')
GROUP BY user_id, window_start, window_end
EMIT ON WINDOW CLOSE;

CREATE MATERIALIZED VIEW user_countries_1h AS
SELECT user_id, window_start, window_end, count(DISTINCT country) AS countries
FROM TUMBLE(transactions, "timestamp", INTERVAL '1 hour')
GROUP BY user_id, window_start, window_end
EMIT ON WINDOW CLOSE;

-- Alerts: every transaction that requires review, shaped like the warm
-- store's fraud_alerts table (migrations/002_events.sql).
CREATE MATERIALIZED VIEW fraud_alerts AS
SELECT transaction_id AS alert_id, transaction_id, user_id, fraud_score AS risk_score,
       concat('{"risk_level":"', risk_level, '","amount":', amount, ',"payment_method":"', payment_method,
              '","ip_address":"', ip_address, '"}') AS risk_factors,
       'review' AS action_taken, "timestamp" AS created_at
FROM fraud_scores
WHERE requires_review;

CREATE SINK fraud_alerts_pg FROM fraud_alerts WITH (connector = 'postgres',
  url = '${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}', table = '${ALERTS_TABLE:-fraud_alerts}',
  primary_key = 'alert_id', create_table = 'true');
CREATE SINK fraud_alerts_pubsub FROM fraud_alerts WITH (connector = 'redis',
  url = '${REDIS_URL:-redis://127.0.0.1:6379}', mode = 'publish', channel = '${ALERTS_CHANNEL:-fraud_alerts}');
CREATE SINK fraud_alerts_recent FROM fraud_alerts WITH (connector = 'redis',
  url = '${REDIS_URL:-redis://127.0.0.1:6379}', mode = 'list', key = '${RECENT_KEY:-fraud:recent}', max_length = 100);
CREATE SINK fraud_alerts_kafka FROM fraud_alerts WITH (connector = 'kafka',
  bootstrap_servers = '${KAFKA:-127.0.0.1:9092}', topic = '${ALERTS_TOPIC:-alerts}', key = 'transaction_id', format = 'json');
