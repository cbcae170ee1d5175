//! The `generator` connector: deterministic event streams for the reference
//! design's three streams (clickstream, transactions, inventory) and a light
//! `sequence` stream for benchmarks. Every value of event `i` derives from
//! `(seed, i)` alone, so the same options and seed give byte-identical events
//! however they are batched, and a run can resume at any position.

use crate::options::Dur;
use crate::options::Options;
use crate::{ConnectorError, Result, Source, SourceEvent, SourceShape};
use arrow::array::{ArrayRef, Float64Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder, TimestampNanosecondBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most rows in one batch.
pub const MAX_BATCH_ROWS: usize = 8192;
/// Field metadata key marking a `jsonb` column (same key the planner uses).
const PG_TYPE_KEY: &str = "weir.pg_type";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scenario {
    Clickstream,
    Transactions,
    Inventory,
    Sequence,
}

#[derive(Debug, Clone)]
struct Config {
    scenario: Scenario,
    /// Events per second of wall time; None is as fast as possible.
    rate: Option<f64>,
    count: Option<u64>,
    seed: u64,
    start_ns: i64,
    interval_ns: i64,
    users: u64,
    products: u64,
    event_types: u64,
    out_of_order_ns: i64,
    late_fraction: f64,
    suspicious_fraction: f64,
}

fn ts_field(name: &str) -> Field {
    Field::new(name, DataType::Timestamp(TimeUnit::Nanosecond, None), false)
}

fn jsonb(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true).with_metadata(HashMap::from([(PG_TYPE_KEY.to_string(), "jsonb".to_string())]))
}

fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn full_schema(s: Scenario) -> Schema {
    match s {
        Scenario::Clickstream => Schema::new(vec![
            text("event_id", false),
            text("user_id", false),
            text("session_id", false),
            text("event_type", false),
            text("product_id", true),
            ts_field("timestamp"),
            text("page_url", false),
            text("referrer", true),
            text("device_type", false),
            text("ip_address", false),
            jsonb("geo_location"),
            jsonb("metadata"),
        ]),
        Scenario::Transactions => Schema::new(vec![
            text("transaction_id", false),
            text("user_id", false),
            text("order_id", false),
            Field::new("amount", DataType::Float64, false),
            text("currency", false),
            text("payment_method", false),
            jsonb("items"),
            ts_field("timestamp"),
            jsonb("shipping_address"),
            jsonb("billing_address"),
            text("ip_address", false),
            text("country", false),
        ]),
        Scenario::Inventory => Schema::new(vec![
            text("product_id", false),
            text("warehouse_id", false),
            Field::new("quantity_change", DataType::Int32, false),
            Field::new("current_quantity", DataType::Int32, false),
            text("operation", false),
            ts_field("timestamp"),
        ]),
        Scenario::Sequence => Schema::new(vec![
            Field::new("seq", DataType::Int64, false),
            Field::new("user_id", DataType::Int32, false),
            Field::new("event_type", DataType::Int32, false),
            ts_field("ts"),
        ]),
    }
}

fn time_column(s: Scenario) -> &'static str {
    if s == Scenario::Sequence { "ts" } else { "timestamp" }
}

fn parse_start(text: &str) -> Result<i64> {
    let t = text.trim();
    let parsed = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap()))
        .map_err(|_| ConnectorError::Config(format!("option \"start\" must be a timestamp such as '2026-01-01 00:00:00', not \"{text}\"")))?;
    parsed.and_utc().timestamp_nanos_opt().ok_or_else(|| ConnectorError::Config("option \"start\" is out of range".into()))
}

/// The generator's `WITH (...)` options.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GeneratorOptions {
    scenario: String,
    /// Events per second (`'20000'`, `'20000/s'`) or `'unlimited'`.
    rate: Option<String>,
    /// A number of events or `'unlimited'`.
    count: Option<String>,
    seed: Option<u64>,
    start: Option<String>,
    event_interval: Option<Dur>,
    users: Option<u64>,
    products: Option<u64>,
    event_types: Option<u64>,
    out_of_order: Option<Dur>,
    late_fraction: Option<f64>,
    suspicious_fraction: Option<f64>,
}

fn config(options: &Options) -> Result<Config> {
    let o: GeneratorOptions = options.typed("generator")?;
    let scenario = match o.scenario.as_str() {
        "clickstream" => Scenario::Clickstream,
        "transactions" => Scenario::Transactions,
        "inventory" => Scenario::Inventory,
        "sequence" => Scenario::Sequence,
        other => return Err(ConnectorError::Config(format!("unknown scenario \"{other}\"; the generator has clickstream, transactions, inventory, sequence"))),
    };
    let rate = match o.rate.as_deref().map(|r| r.trim().trim_end_matches("/s").trim()) {
        None => Some(1000.0),
        Some("unlimited") => None,
        Some(r) => Some(
            r.parse::<f64>()
                .ok()
                .filter(|r| *r > 0.0)
                .ok_or_else(|| ConnectorError::Config(format!("option \"rate\" must be events per second (e.g. '20000') or 'unlimited', not \"{r}\"")))?,
        ),
    };
    let interval_ns = match o.event_interval.map(|d| d.0) {
        Some(d) if d.is_zero() => return Err(ConnectorError::Config("option \"event_interval\" must be positive".into())),
        Some(d) => d.as_nanos() as i64,
        None => rate.map(|r| (1e9 / r) as i64).unwrap_or(1_000_000).max(1),
    };
    let fraction = |name: &str, value: Option<f64>, default: f64| -> Result<f64> {
        let v = value.unwrap_or(default);
        if !(0.0..=1.0).contains(&v) {
            return Err(ConnectorError::Config(format!("option \"{name}\" must be between 0 and 1, not {v}")));
        }
        Ok(v)
    };
    let positive = |name: &str, value: Option<u64>, default: u64| -> Result<u64> {
        match value.unwrap_or(default) {
            0 => Err(ConnectorError::Config(format!("option \"{name}\" must be at least 1"))),
            n => Ok(n),
        }
    };
    let c = Config {
        scenario,
        rate,
        count: match o.count.as_deref().map(str::trim) {
            None | Some("unlimited") => None,
            Some(n) => Some(
                n.parse::<u64>()
                    .map_err(|_| ConnectorError::Config(format!("option \"count\" must be a whole number of events or 'unlimited', not \"{n}\"")))?,
            ),
        },
        seed: o.seed.unwrap_or(0),
        start_ns: o.start.as_deref().map(parse_start).transpose()?.unwrap_or(1_767_225_600_000_000_000), // 2026-01-01
        interval_ns,
        users: positive("users", o.users, 10_000)?,
        products: positive("products", o.products, 5_000)?,
        event_types: positive("event_types", o.event_types, 5)?,
        out_of_order_ns: o.out_of_order.map_or(Duration::from_secs(5), |d| d.0).as_nanos() as i64,
        late_fraction: fraction("late_fraction", o.late_fraction, 0.0)?,
        suspicious_fraction: fraction("suspicious_fraction", o.suspicious_fraction, 0.05)?,
    };
    Ok(c)
}

/// The schema the definition yields: the declared columns (a subset of the
/// scenario's, with the same types) or, when omitted, all of them.
fn project(full: &Schema, declared: Option<SchemaRef>) -> Result<(SchemaRef, Vec<usize>)> {
    let Some(declared) = declared else {
        return Ok((Arc::new(full.clone()), (0..full.fields().len()).collect()));
    };
    let mut indices = Vec::new();
    let mut fields = Vec::new();
    for f in declared.fields() {
        let i = full.index_of(f.name()).map_err(|_| {
            let names: Vec<&str> = full.fields().iter().map(|f| f.name().as_str()).collect();
            ConnectorError::Config(format!("column \"{}\" is not produced by this scenario; it has: {}", f.name(), names.join(", ")))
        })?;
        let have = full.field(i);
        let text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8);
        // TEXT may be planned as any string type: the scenario's is used.
        if have.data_type() != f.data_type() && !(text(have.data_type()) && text(f.data_type())) {
            return Err(ConnectorError::Config(format!("column \"{}\" is {} in this scenario, not {}", f.name(), have.data_type(), f.data_type())));
        }
        indices.push(i);
        fields.push(have.clone());
    }
    Ok((Arc::new(Schema::new(fields)), indices))
}

pub fn shape(options: &Options, declared: Option<SchemaRef>) -> Result<SourceShape> {
    let c = config(options)?;
    let full = full_schema(c.scenario);
    let (schema, _) = project(&full, declared)?;
    let time = time_column(c.scenario);
    let default_watermark = schema.index_of(time).ok().map(|_| (time.to_string(), Duration::from_nanos(c.out_of_order_ns as u64)));
    Ok(SourceShape { schema, default_watermark })
}

/// splitmix64: a fast, well-mixed hash of (seed, event, stream).
fn mix(seed: u64, i: u64, stream: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(r: u64) -> f64 {
    (r >> 11) as f64 / (1u64 << 53) as f64
}

pub struct Generator {
    c: Config,
    schema: SchemaRef,
    projection: Vec<usize>,
    next: u64,
    started: Option<Instant>,
    /// Inventory levels per (product, warehouse), for the inventory scenario.
    stock: HashMap<(u64, u64), i64>,
}

impl Generator {
    pub fn open(options: &Options, schema: SchemaRef) -> Result<Generator> {
        let c = config(options)?;
        let (declared, projection) = project(&full_schema(c.scenario), Some(schema))?;
        Ok(Generator { c, schema: declared, projection, next: 0, started: None, stock: HashMap::new() })
    }

    /// Event time of event `i`: on the grid, moved back by up to the
    /// disorder bound, and, for a `late_fraction` of events, well behind it.
    fn event_time(&self, i: u64) -> i64 {
        let base = self.c.start_ns + i as i64 * self.c.interval_ns;
        let ooo = self.c.out_of_order_ns;
        let r = mix(self.c.seed, i, 1);
        if i > 0 && unit(mix(self.c.seed, i, 2)) < self.c.late_fraction {
            return base - 2 * ooo - 2 * self.c.interval_ns - (r % (ooo.max(1) as u64)) as i64;
        }
        if ooo > 0 { base - (r % (ooo as u64 + 1)) as i64 } else { base }
    }

    fn batch(&mut self, n: usize) -> Result<RecordBatch> {
        let from = self.next;
        let columns = match self.c.scenario {
            Scenario::Sequence => self.sequence(from, n),
            Scenario::Clickstream => self.clickstream(from, n),
            Scenario::Transactions => self.transactions(from, n),
            Scenario::Inventory => self.inventory(from, n),
        };
        self.next += n as u64;
        let cols: Vec<ArrayRef> = self.projection.iter().map(|&i| columns[i].clone()).collect();
        RecordBatch::try_new(self.schema.clone(), cols).map_err(|e| ConnectorError::Internal(e.to_string()))
    }

    fn times(&self, from: u64, n: usize) -> ArrayRef {
        let mut b = TimestampNanosecondBuilder::with_capacity(n);
        for i in from..from + n as u64 {
            b.append_value(self.event_time(i));
        }
        Arc::new(b.finish())
    }

    fn sequence(&self, from: u64, n: usize) -> Vec<ArrayRef> {
        let mut seq = Int64Builder::with_capacity(n);
        let mut user = Int32Builder::with_capacity(n);
        let mut kind = Int32Builder::with_capacity(n);
        for i in from..from + n as u64 {
            let r = mix(self.c.seed, i, 3);
            seq.append_value(i as i64);
            user.append_value((r % self.c.users) as i32 + 1);
            kind.append_value(((r >> 32) % self.c.event_types) as i32);
        }
        vec![Arc::new(seq.finish()), Arc::new(user.finish()), Arc::new(kind.finish()), self.times(from, n)]
    }

    fn clickstream(&self, from: u64, n: usize) -> Vec<ArrayRef> {
        const TYPES: [&str; 7] = ["page_view", "page_view", "page_view", "add_to_cart", "purchase", "product_search", "user_login"];
        const PAGES: [&str; 5] = ["/home", "/products", "/cart", "/checkout", "/search"];
        const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];
        const REFERRERS: [&str; 4] = ["https://google.com", "https://facebook.com", "https://newsletter.example", "direct"];
        const COUNTRIES: [(&str, &str); 5] = [("US", "New York"), ("DE", "Berlin"), ("FR", "Paris"), ("GB", "London"), ("JP", "Tokyo")];
        const BROWSERS: [&str; 3] = ["Chrome", "Firefox", "Safari"];
        const OSES: [&str; 4] = ["Windows", "macOS", "iOS", "Android"];
        let mut b: Vec<StringBuilder> = (0..11).map(|_| StringBuilder::with_capacity(n, n * 16)).collect();
        for i in from..from + n as u64 {
            let r = |s| mix(self.c.seed, i, s);
            let user = r(10) % self.c.users + 1;
            let ts = self.event_time(i);
            let (country, city) = COUNTRIES[(user % 5) as usize];
            b[0].append_value(format!("{:016x}{:016x}", r(11), r(12)));
            b[1].append_value(format!("user_{user}"));
            // A user's session changes every 30 minutes of event time.
            b[2].append_value(format!("session_{user}_{}", ts / 1_800_000_000_000));
            b[3].append_value(TYPES[(r(13) % 7) as usize]);
            if unit(r(14)) < 0.7 {
                b[4].append_value(format!("prod_{}", r(15) % self.c.products + 1))
            } else {
                b[4].append_null()
            }
            b[5].append_value(PAGES[(r(16) % 5) as usize]);
            b[6].append_value(REFERRERS[(r(17) % 4) as usize]);
            b[7].append_value(DEVICES[(r(18) % 3) as usize]);
            let ip = r(19);
            b[8].append_value(format!("{}.{}.{}.{}", ip % 223 + 1, (ip >> 8) % 256, (ip >> 16) % 256, (ip >> 24) % 256));
            b[9].append_value(format!("{{\"city\": \"{city}\", \"country\": \"{country}\"}}"));
            b[10].append_value(format!(
                "{{\"os\": \"{}\", \"browser\": \"{}\", \"page_load_time\": {:.3}}}",
                OSES[(r(20) % 4) as usize],
                BROWSERS[(r(21) % 3) as usize],
                0.1 + unit(r(22)) * 4.9
            ));
        }
        let mut cols: Vec<ArrayRef> = b.into_iter().map(|mut x| Arc::new(x.finish()) as ArrayRef).collect();
        cols.insert(5, self.times(from, n));
        cols
    }

    fn transactions(&self, from: u64, n: usize) -> Vec<ArrayRef> {
        const METHODS: [&str; 3] = ["credit_card", "debit_card", "paypal"];
        const RISKY_METHODS: [&str; 2] = ["prepaid_card", "gift_card"];
        const COUNTRIES: [&str; 5] = ["US", "DE", "FR", "GB", "JP"];
        let mut ids = StringBuilder::new();
        let mut users = StringBuilder::new();
        let mut orders = StringBuilder::new();
        let mut amounts = Float64Builder::with_capacity(n);
        let mut currency = StringBuilder::new();
        let mut method = StringBuilder::new();
        let mut items = StringBuilder::new();
        let mut shipping = StringBuilder::new();
        let mut billing = StringBuilder::new();
        let mut ips = StringBuilder::new();
        let mut countries = StringBuilder::new();
        for i in from..from + n as u64 {
            let r = |s| mix(self.c.seed, i, s);
            let suspicious = unit(r(30)) < self.c.suspicious_fraction;
            let pattern = r(31) % 4; // 0 high amount, 1 prepaid/gift card, 2 burst from one user, 3 several countries
            let mut user = r(32) % self.c.users + 1;
            let mut amount = 5.0 + (r(33) % 49_500) as f64 / 100.0;
            let mut pm = METHODS[(r(34) % 3) as usize];
            let home = COUNTRIES[(user % 5) as usize];
            let mut country = home;
            let ip = r(35);
            let mut ip_text = format!("{}.{}.{}.{}", ip % 223 + 1, (ip >> 8) % 256, (ip >> 16) % 256, (ip >> 24) % 256);
            if suspicious {
                match pattern {
                    // Signals come together half the time, as in real fraud (and so every risk level occurs).
                    0 => {
                        amount = 1_000.0 + (r(36) % 900_000) as f64 / 100.0;
                        if r(40) % 2 == 0 {
                            pm = RISKY_METHODS[(r(41) % 2) as usize];
                        }
                        if r(42) % 2 == 0 {
                            ip_text = format!("10.{}.{}.{}", (ip >> 8) % 256, (ip >> 16) % 256, (ip >> 24) % 256);
                        }
                    }
                    1 => {
                        pm = RISKY_METHODS[(r(36) % 2) as usize];
                        if r(40) % 2 == 0 {
                            ip_text = format!("10.{}.{}.{}", (ip >> 8) % 256, (ip >> 16) % 256, (ip >> 24) % 256);
                        }
                    }
                    2 => {
                        user = 1 + (i / 64) % 5; // a few users buy in bursts
                        ip_text = format!("10.{}.{}.{}", (ip >> 8) % 256, (ip >> 16) % 256, (ip >> 24) % 256);
                    }
                    _ => country = COUNTRIES[(r(36) % 5) as usize],
                }
            }
            ids.append_value(format!("tx_{:012x}{:08x}", r(37) >> 16, i));
            users.append_value(format!("user_{user}"));
            orders.append_value(format!("order_{i}"));
            amounts.append_value(amount);
            currency.append_value(if r(38) % 4 == 0 { "EUR" } else { "USD" });
            method.append_value(pm);
            let qty = r(39) % 3 + 1;
            items.append_value(format!("[{{\"product_id\": \"prod_{}\", \"quantity\": {qty}}}]", r(40) % self.c.products + 1));
            shipping.append_value(format!("{{\"country\": \"{home}\"}}"));
            billing.append_value(format!("{{\"country\": \"{country}\"}}"));
            ips.append_value(ip_text);
            countries.append_value(country);
        }
        vec![
            Arc::new(ids.finish()),
            Arc::new(users.finish()),
            Arc::new(orders.finish()),
            Arc::new(amounts.finish()),
            Arc::new(currency.finish()),
            Arc::new(method.finish()),
            Arc::new(items.finish()),
            self.times(from, n),
            Arc::new(shipping.finish()),
            Arc::new(billing.finish()),
            Arc::new(ips.finish()),
            Arc::new(countries.finish()),
        ]
    }

    fn inventory(&mut self, from: u64, n: usize) -> Vec<ArrayRef> {
        let mut product = StringBuilder::new();
        let mut warehouse = StringBuilder::new();
        let mut change = Int32Builder::with_capacity(n);
        let mut current = Int32Builder::with_capacity(n);
        let mut op = StringBuilder::new();
        for i in from..from + n as u64 {
            let r = |s| mix(self.c.seed, i, s);
            let p = r(50) % self.c.products + 1;
            let w = r(51) % 5 + 1;
            let level = self.stock.entry((p, w)).or_insert(50);
            let (delta, what) = inventory_change(r(52), r(53), *level);
            *level += delta;
            product.append_value(format!("prod_{p}"));
            warehouse.append_value(format!("wh_{w}"));
            change.append_value(delta as i32);
            current.append_value(*level as i32);
            op.append_value(what);
        }
        vec![
            Arc::new(product.finish()),
            Arc::new(warehouse.finish()),
            Arc::new(change.finish()),
            Arc::new(current.finish()),
            Arc::new(op.finish()),
            self.times(from, n),
        ]
    }
}

impl Source for Generator {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next(&mut self, wait: Duration) -> Result<SourceEvent> {
        let remaining = self.c.count.map(|c| c.saturating_sub(self.next)).unwrap_or(u64::MAX);
        if remaining == 0 {
            return Ok(SourceEvent::End);
        }
        let mut n = (MAX_BATCH_ROWS as u64).min(remaining);
        if let Some(rate) = self.c.rate {
            let started = *self.started.get_or_insert_with(Instant::now);
            let due = (started.elapsed().as_secs_f64() * rate) as u64;
            if due <= self.next {
                let wake = Duration::from_secs_f64((self.next + 1) as f64 / rate).saturating_sub(started.elapsed());
                std::thread::sleep(wake.min(wait));
                return Ok(SourceEvent::Idle);
            }
            n = n.min(due - self.next);
        }
        let batch = self.batch(n as usize)?;
        Ok(SourceEvent::Batch { partition: 0, batch, dead_letters: vec![] })
    }

    /// The number of events handed out: with the seed it decides every later event.
    fn position(&self) -> Option<Vec<u8>> {
        Some(self.next.to_le_bytes().to_vec())
    }

    fn seek(&mut self, position: &[u8]) -> Result<()> {
        let at = <[u8; 8]>::try_from(position).map(u64::from_le_bytes).map_err(|_| ConnectorError::Internal("a generator position is 8 bytes".into()))?;
        // Inventory levels depend on every earlier event: replay them (no rows are built).
        if self.c.scenario == Scenario::Inventory {
            self.stock.clear();
            for i in 0..at {
                let r = |s| mix(self.c.seed, i, s);
                let level = self.stock.entry((r(50) % self.c.products + 1, r(51) % 5 + 1)).or_insert(50);
                *level += inventory_change(r(52), r(53), *level).0;
            }
        }
        self.next = at;
        // A rate continues from here, as if the run had never stopped.
        self.started = self.c.rate.map(|rate| {
            let now = Instant::now();
            now.checked_sub(Duration::try_from_secs_f64(at as f64 / rate).unwrap_or(Duration::ZERO)).unwrap_or(now)
        });
        Ok(())
    }
}

/// An inventory event's change and kind, from two random draws and the current level.
fn inventory_change(kind: u64, amount: u64, level: i64) -> (i64, &'static str) {
    match kind % 10 {
        0 => (20 + (amount % 80) as i64, "restock"),
        1 => ((amount % 7) as i64 - 3, "adjustment"),
        _ => (-((amount % 4 + 1) as i64).min(level), "sale"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Options {
        Options::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn drain(o: &Options) -> Vec<RecordBatch> {
        let shape = shape(o, None).unwrap();
        let mut g = Generator::open(o, shape.schema).unwrap();
        let mut out = Vec::new();
        loop {
            match g.next(Duration::from_millis(10)).unwrap() {
                SourceEvent::Batch { batch, .. } => out.push(batch),
                SourceEvent::End => return out,
                _ => {}
            }
        }
    }

    #[test]
    fn same_seed_same_events_and_late_ones_are_behind_the_bound() {
        for scenario in ["clickstream", "transactions", "inventory", "sequence"] {
            let o = opts(&[("scenario", scenario), ("count", "20000"), ("rate", "unlimited"), ("seed", "7"), ("late_fraction", "0.01")]);
            let a = drain(&o);
            let b = drain(&o);
            assert_eq!(a, b, "{scenario}: deterministic");
            assert_eq!(a.iter().map(|b| b.num_rows()).sum::<usize>(), 20000);
        }
        let err = shape(&opts(&[("scenario", "sequence"), ("rat", "1")]), None).unwrap_err().to_string();
        // Resuming at a saved position gives the same events as never stopping (inventory levels included).
        for scenario in ["transactions", "inventory"] {
            let o = opts(&[("scenario", scenario), ("count", "20000"), ("rate", "unlimited"), ("seed", "3")]);
            let all = arrow::compute::concat_batches(&drain(&o)[0].schema(), &drain(&o)).unwrap();
            let shape = shape(&o, None).unwrap();
            let mut first = Generator::open(&o, shape.schema.clone()).unwrap();
            let SourceEvent::Batch { batch, .. } = first.next(Duration::from_millis(10)).unwrap() else { panic!("a batch") };
            let mut resumed = Generator::open(&o, shape.schema).unwrap();
            resumed.seek(&first.position().unwrap()).unwrap();
            let mut rest = vec![];
            while let SourceEvent::Batch { batch, .. } = resumed.next(Duration::from_millis(10)).unwrap() {
                rest.push(batch);
            }
            let rest = arrow::compute::concat_batches(&batch.schema(), &rest).unwrap();
            assert_eq!(rest, all.slice(batch.num_rows(), all.num_rows() - batch.num_rows()), "{scenario}: resumed");
        }
        assert!(err.contains("unknown option \"rat\""), "{err}");
        let err = shape(&opts(&[("scenario", "nope")]), None).unwrap_err().to_string();
        assert!(err.contains("unknown scenario"), "{err}");
    }
}
