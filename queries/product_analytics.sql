-- product_analytics.sql: per product, over the last hour (refreshed every 5
-- minutes): views, cart adds, purchases and the conversion rate, kept fresh in
-- Redis (the reference's get_product_analytics).
--
-- Runs as is on the built-in clickstream generator; for Kafka change only the
-- source's WITH clause. Apply with: weir apply queries/product_analytics.sql.

CREATE SOURCE product_clicks (user_id TEXT, event_type TEXT, product_id TEXT, "timestamp" TIMESTAMP,
  WATERMARK FOR "timestamp" AS "timestamp" - INTERVAL '5 seconds')
WITH (connector = 'generator', scenario = 'clickstream',
  count = '${CLICK_COUNT:-unlimited}', rate = '${CLICK_RATE:-1000}', users = 2000, products = 500,
  out_of_order = '5s', event_interval = '${CLICK_INTERVAL:-1 second}');

-- Conversion rate: purchases per page view of the product in the hour (0 without views).
CREATE MATERIALIZED VIEW product_analytics_1h AS
SELECT product_id, window_start, window_end, views, cart_adds, purchases,
       CASE WHEN views > 0 THEN CAST(purchases AS DOUBLE) / views ELSE 0.0 END AS conversion_rate
FROM (
  SELECT product_id, window_start, window_end,
         sum(CASE WHEN event_type = 'page_view' THEN 1 ELSE 0 END) AS views,
         sum(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS cart_adds,
         sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchases
  FROM HOP(product_clicks, "timestamp", INTERVAL '5 minutes', INTERVAL '1 hour')
  WHERE product_id IS NOT NULL
  GROUP BY product_id, window_start, window_end
) counts
EMIT ON WINDOW CLOSE;

-- The newest hour per product overwrites the previous one.
CREATE SINK product_analytics_redis FROM product_analytics_1h WITH (connector = 'redis',
  url = '${REDIS_URL:-redis://127.0.0.1:6379}', key = '${PRODUCT_PREFIX:-product}:{product_id}:last_hour', value = 'hash');
