-- inventory.sql: current stock per product and warehouse, and low-stock alerts.
--
-- Runs as is on the built-in inventory generator; for Kafka change only the
-- source's WITH clause (topic 'inventory', JSON with the same columns).
-- Apply with: weir apply queries/inventory.sql (REDIS_URL, PG_URL from the environment).

CREATE SOURCE inventory (product_id TEXT, warehouse_id TEXT, quantity_change INT, current_quantity INT,
  operation TEXT, "timestamp" TIMESTAMP, WATERMARK FOR "timestamp" AS "timestamp" - INTERVAL '2 seconds')
WITH (connector = 'generator', scenario = 'inventory',
  count = '${INV_COUNT:-unlimited}', rate = '${INV_RATE:-100}', products = 200, out_of_order = '2s');

-- Every product starts with 50 units in each warehouse (the generator's opening
-- stock); stock is that plus the sum of all movements so far.
CREATE MATERIALIZED VIEW current_stock AS
SELECT product_id, warehouse_id, 50 + sum(quantity_change) AS stock,
       count(*) AS movements, max("timestamp") AS last_movement
FROM inventory
GROUP BY product_id, warehouse_id;

-- A row while a product's stock in a warehouse is below the threshold; it goes
-- away (and its Redis key with it) once the product is restocked.
CREATE MATERIALIZED VIEW low_stock_alerts AS
SELECT product_id, warehouse_id, stock, last_movement
FROM current_stock
WHERE stock < ${LOW_STOCK:-10};

CREATE SINK current_stock_pg FROM current_stock WITH (connector = 'postgres',
  url = '${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}', table = '${STOCK_TABLE:-current_stock}',
  primary_key = 'product_id,warehouse_id', create_table = 'true');
CREATE SINK low_stock_redis FROM low_stock_alerts WITH (connector = 'redis',
  url = '${REDIS_URL:-redis://127.0.0.1:6379}', key = '${LOW_STOCK_PREFIX:-inventory:low}:{product_id}:{warehouse_id}',
  value = 'hash');
