-- fraud.sql: the reference design's fraud scoring, as weir SQL.
--
-- Runs as is on the built-in transactions generator. To read Kafka (JSON
-- events with these fields) instead, change only the source's WITH clause:
--   WITH (connector = 'kafka', topic = 'transactions', bootstrap_servers = '${KAFKA:-127.0.0.1:9092}');
--
-- Apply with: weir apply queries/fraud.sql  (connection settings from the
-- environment: REDIS_URL, PG_URL, KAFKA; TX_COUNT and TX_RATE size the input).

CREATE SOURCE transactions (transaction_id TEXT, user_id TEXT, amount DOUBLE PRECISION,
  payment_method TEXT, ip_address TEXT, country TEXT, "timestamp" TIMESTAMP,
  WATERMARK FOR "timestamp" AS "timestamp" - INTERVAL '2 seconds')
WITH (connector = 'generator', scenario = 'transactions',
  count = '${TX_COUNT:-unlimited}', rate = '${TX_RATE:-200}', seed = 7, users = 500,
  suspicious_fraction = 0.1, out_of_order = '2s');

-- The reference rules, exactly: amount > 1000 adds 0.3, > 5000 another 0.2,
-- a prepaid or gift card 0.2, an IP in 10.0.0.0/8 0.1; capped at 1.0. The
-- literals are numeric, as in PostgreSQL, so the sums are exact and the edge
-- cases come out as the rules say (0.3 + 0.2 + 0.2 is 0.7, not above it: MEDIUM).
-- Risk HIGH above 0.7, MEDIUM above 0.4, LOW otherwise; review above 0.5.
--
-- Velocity features ride along, computed per transaction as it arrives
-- (per-key OVER windows): the user's spend and number of transactions in the
-- 10 minutes up to this one, and the countries they paid from in the hour up
-- to it (this one included; a transaction that arrives after a later one of
-- the same user counts for later ones only).
CREATE MATERIALIZED VIEW fraud_scores WITH (retention = '${RETENTION:-1 hour}') AS
SELECT transaction_id, user_id, amount, payment_method, ip_address, country, "timestamp",
       fraud_score,
       CASE WHEN fraud_score > 0.7 THEN 'HIGH' WHEN fraud_score > 0.4 THEN 'MEDIUM' ELSE 'LOW' END AS risk_level,
       fraud_score > 0.5 AS requires_review,
       spend_10m, tx_count_10m, countries_1h
FROM (
  SELECT transaction_id, user_id, amount, payment_method, ip_address, country, "timestamp", fraud_score, countries_1h,
         round(sum(amount) OVER (PARTITION BY user_id ORDER BY "timestamp" RANGE BETWEEN INTERVAL '10 minutes' PRECEDING AND CURRENT ROW), 2) AS spend_10m,
         count(*) OVER (PARTITION BY user_id ORDER BY "timestamp" RANGE BETWEEN INTERVAL '10 minutes' PRECEDING AND CURRENT ROW) AS tx_count_10m
  FROM (
    SELECT transaction_id, user_id, amount, payment_method, ip_address, country, "timestamp",
           least(0.0
             + CASE WHEN amount > 1000 THEN 0.3 ELSE 0.0 END
             + CASE WHEN amount > 5000 THEN 0.2 ELSE 0.0 END
             + CASE WHEN payment_method IN ('prepaid_card', 'gift_card') THEN 0.2 ELSE 0.0 END
             + CASE WHEN ip_address::inet << '10.0.0.0/8' THEN 0.1 ELSE 0.0 END, 1.0) AS fraud_score,
           count(DISTINCT country) OVER (PARTITION BY user_id ORDER BY "timestamp" RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS countries_1h
    FROM transactions
  ) scored
) with_velocity;

-- Velocity per user and window, for dashboards: spend and count per user in
-- 10-minute windows, distinct countries per user per hour. They read
-- fraud_scores (which carries the event time and watermark of the source), so
-- the source is read once.
CREATE MATERIALIZED VIEW user_velocity_10m AS
SELECT user_id, window_start, window_end, count(*) AS tx_count, sum(amount) AS spend
FROM TUMBLE(fraud_scores, "timestamp", INTERVAL '10 minutes')
GROUP BY user_id, window_start, window_end
EMIT ON WINDOW CLOSE;

CREATE MATERIALIZED VIEW user_countries_1h AS
SELECT user_id, window_start, window_end, count(DISTINCT country) AS countries
FROM TUMBLE(fraud_scores, "timestamp", INTERVAL '1 hour')
GROUP BY user_id, window_start, window_end
EMIT ON WINDOW CLOSE;

-- Alerts, shaped like the warm store's fraud_alerts table (migrations/002_events.sql).
-- The rule: a transaction alerts when the reference score asks for review, or
-- when its user made 5 or more transactions in the 10 minutes up to it
-- (velocity), or paid from 3 or more countries in the hour up to it.
-- action_taken says which: 'review', else 'velocity', else 'geography'.
CREATE MATERIALIZED VIEW fraud_alerts WITH (retention = '${RETENTION:-1 hour}') AS
SELECT transaction_id AS alert_id, transaction_id, user_id, fraud_score AS risk_score,
       concat('{"risk_level":"', risk_level, '","amount":', amount, ',"payment_method":"', payment_method,
              '","ip_address":"', ip_address, '","tx_count_10m":', tx_count_10m, ',"spend_10m":', spend_10m,
              ',"countries_1h":', countries_1h, '}') AS risk_factors,
       CASE WHEN requires_review THEN 'review' WHEN tx_count_10m >= 5 THEN 'velocity' ELSE 'geography' END AS action_taken,
       "timestamp" AS created_at
FROM fraud_scores
WHERE requires_review OR tx_count_10m >= 5 OR countries_1h >= 3;

-- Alerts go out as they are found (delivery = 'at_least_once': written at
-- once, not one checkpoint later). After a crash an alert may be sent again:
-- PostgreSQL upserts it by alert_id (no duplicate row), pub/sub subscribers
-- may see it twice. The list and the Kafka topic get each alert exactly once.
CREATE SINK fraud_alerts_pg FROM fraud_alerts WITH (connector = 'postgres',
  url = '${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}', table = '${ALERTS_TABLE:-fraud_alerts}',
  primary_key = 'alert_id', create_table = 'true', delivery = 'at_least_once');
CREATE SINK fraud_alerts_pubsub FROM fraud_alerts WITH (connector = 'redis',
  url = '${REDIS_URL:-redis://127.0.0.1:6379}', mode = 'publish', channel = '${ALERTS_CHANNEL:-fraud_alerts}',
  delivery = 'at_least_once');
CREATE SINK fraud_alerts_recent FROM fraud_alerts WITH (connector = 'redis',
  url = '${REDIS_URL:-redis://127.0.0.1:6379}', mode = 'list', key = '${RECENT_KEY:-fraud:recent}', max_length = 100);
CREATE SINK fraud_alerts_kafka FROM fraud_alerts WITH (connector = 'kafka',
  bootstrap_servers = '${KAFKA:-127.0.0.1:9092}', topic = '${ALERTS_TOPIC:-alerts}', key = 'transaction_id', format = 'json');
