-- Event tables fed by weir's sinks: transactions, clickstream and fraud alerts.
-- Unlike the reference schema there are no foreign keys between them: streams
-- arrive out of order (an alert may land before its transaction), and the
-- time-partitioned tables key on (id, time) so TimescaleDB can partition them.
CREATE TABLE IF NOT EXISTS rt_transactions (
    transaction_id TEXT NOT NULL,
    user_id        TEXT,
    order_id       VARCHAR(50) NOT NULL,
    amount         NUMERIC(12, 2) NOT NULL,
    currency       VARCHAR(3) NOT NULL DEFAULT 'USD',
    status         VARCHAR(20) NOT NULL DEFAULT 'completed',
    payment_method VARCHAR(50),
    fraud_score    DOUBLE PRECISION,
    processed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (transaction_id, processed_at)
);
CREATE INDEX IF NOT EXISTS rt_transactions_user_time ON rt_transactions (user_id, processed_at DESC);

CREATE TABLE IF NOT EXISTS rt_clickstream (
    event_id        TEXT NOT NULL,
    user_id         TEXT,
    session_id      VARCHAR(100),
    event_type      VARCHAR(50) NOT NULL,
    product_id      TEXT,
    page_url        TEXT,
    device_type     VARCHAR(50),
    ip_address      INET,
    geo_country     VARCHAR(2),
    geo_city        VARCHAR(100),
    event_timestamp TIMESTAMPTZ NOT NULL,
    processed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, event_timestamp)
);
CREATE INDEX IF NOT EXISTS rt_clickstream_user_time ON rt_clickstream (user_id, event_timestamp DESC);

CREATE TABLE IF NOT EXISTS fraud_alerts (
    alert_id       TEXT PRIMARY KEY,
    transaction_id TEXT NOT NULL,
    user_id        TEXT,
    risk_score     DOUBLE PRECISION NOT NULL,
    risk_factors   JSONB,
    action_taken   VARCHAR(50),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_fraud_alerts_score ON fraud_alerts (risk_score DESC);
CREATE INDEX IF NOT EXISTS idx_fraud_alerts_user ON fraud_alerts (user_id, created_at DESC);
