-- Dimension tables of the warm store (reference design: dim_users, dim_products).
-- Ids are TEXT: weir's events carry string ids ("user_42", "prod_7"); UUIDs fit too.
-- Works on plain PostgreSQL 15; no extension needed.
CREATE TABLE IF NOT EXISTS dim_users (
    user_id        TEXT PRIMARY KEY,
    email          VARCHAR(255) UNIQUE,
    first_name     VARCHAR(100),
    last_name      VARCHAR(100),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    is_premium     BOOLEAN NOT NULL DEFAULT FALSE,
    lifetime_value NUMERIC(12, 2) NOT NULL DEFAULT 0.00
);

CREATE TABLE IF NOT EXISTS dim_products (
    product_id     TEXT PRIMARY KEY,
    sku            VARCHAR(50) UNIQUE,
    name           VARCHAR(255) NOT NULL,
    category       VARCHAR(100),
    subcategory    VARCHAR(100),
    price          NUMERIC(10, 2) NOT NULL,
    cost           NUMERIC(10, 2),
    stock_quantity INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
