//! PostgreSQL's `inet` and `cidr`: values are text tagged with their type
//! (`crate::pgtypes`), read and written in PostgreSQL's forms (`10.1.2.3`
//! for a host, `10.1.2.3/8` with a netmask, `10.0.0.0/8` for a network), with
//! the containment operators (`<<`, `<<=`, `>>`, `>>=`, `&&`) and the
//! functions `family`, `host`, `masklen`, `network`, `broadcast`, `netmask`,
//! `hostmask`, `set_masklen`, `abbrev`.

use super::columnar;
use crate::pgtypes::{PG_TYPE_KEY, tag_field};
use datafusion::arrow::array::{ArrayRef, BooleanBuilder, Int32Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// An address with its netmask length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inet {
    addr: IpAddr,
    bits: u8,
}

impl Inet {
    fn width(&self) -> u8 {
        if self.addr.is_ipv4() { 32 } else { 128 }
    }
    fn as_u128(&self) -> u128 {
        match self.addr {
            IpAddr::V4(a) => u32::from(a) as u128,
            IpAddr::V6(a) => u128::from(a),
        }
    }
    fn with_value(&self, v: u128) -> Inet {
        let addr = match self.addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(v as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(v)),
        };
        Inet { addr, bits: self.bits }
    }
    /// The bits of the netmask, as a number of the address's width.
    fn mask(&self) -> u128 {
        let w = self.width() as u32;
        let all = if w == 128 { u128::MAX } else { (1u128 << w) - 1 };
        if self.bits == 0 { 0 } else { all & !((1u128 << (w - self.bits as u32)) - 1) }
    }
    fn network(&self) -> Inet {
        self.with_value(self.as_u128() & self.mask())
    }
    fn broadcast(&self) -> Inet {
        let w = self.width() as u32;
        let all = if w == 128 { u128::MAX } else { (1u128 << w) - 1 };
        self.with_value(self.as_u128() | (all & !self.mask()))
    }
    /// `self` is inside `other`'s network (`<<=`; `<<` when `strict`).
    fn within(&self, other: &Inet, strict: bool) -> bool {
        self.addr.is_ipv4() == other.addr.is_ipv4()
            && (if strict { self.bits > other.bits } else { self.bits >= other.bits })
            && (self.as_u128() & other.mask()) == (other.as_u128() & other.mask())
    }
    fn overlaps(&self, other: &Inet) -> bool {
        self.within(other, false) || other.within(self, false)
    }
    /// PostgreSQL's text: the netmask left out for a host address of an inet.
    fn text(&self, cidr: bool) -> String {
        if !cidr && self.bits == self.width() { self.addr.to_string() } else { format!("{}/{}", self.addr, self.bits) }
    }
}

fn invalid(kind: &str, s: &str) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(
        crate::SqlState::InvalidTextRepresentation,
        format!("invalid input syntax for type {kind}: \"{s}\""),
    )))
}

/// Reads an inet or cidr; a cidr may abbreviate its address (`10` is
/// `10.0.0.0/8`) and may not have bits set past its netmask.
pub fn parse(s: &str, cidr: bool) -> Result<Inet> {
    let kind = if cidr { "cidr" } else { "inet" };
    let t = s.trim();
    let (addr_text, bits_text) = t.split_once('/').map_or((t, None), |(a, b)| (a, Some(b)));
    let addr = match addr_text.parse::<IpAddr>() {
        Ok(a) => a,
        Err(_) if cidr && !addr_text.contains(':') => {
            let parts: Vec<&str> = addr_text.split('.').collect();
            let octets: Vec<u8> = parts.iter().map(|p| p.parse::<u8>()).collect::<std::result::Result<_, _>>().map_err(|_| invalid(kind, s))?;
            if octets.is_empty() || octets.len() > 4 {
                return Err(invalid(kind, s));
            }
            let mut full = [0u8; 4];
            full[..octets.len()].copy_from_slice(&octets);
            // An abbreviated network's netmask: its class's, or more if more octets are given.
            let class = match octets[0] {
                0..=127 => 8,
                128..=191 => 16,
                192..=223 => 24,
                _ => 32,
            };
            let bits = match bits_text {
                Some(b) => b.parse::<u8>().map_err(|_| invalid(kind, s))?,
                None => class.max(octets.len() as u8 * 8),
            };
            return check(Inet { addr: IpAddr::V4(Ipv4Addr::from(full)), bits }, cidr, s);
        }
        Err(_) => return Err(invalid(kind, s)),
    };
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match bits_text {
        Some(b) => b.parse::<u8>().ok().filter(|b| *b <= width).ok_or_else(|| invalid(kind, s))?,
        None => width,
    };
    check(Inet { addr, bits }, cidr, s)
}

fn check(v: Inet, cidr: bool, s: &str) -> Result<Inet> {
    if v.bits > v.width() {
        return Err(invalid(if cidr { "cidr" } else { "inet" }, s));
    }
    if cidr && v.network() != v {
        return Err(datafusion::error::DataFusionError::External(Box::new(
            crate::SqlError::new(crate::SqlState::InvalidTextRepresentation, format!("invalid cidr value: \"{s}\""))
                .with_detail("Value has bits set to right of mask."),
        )));
    }
    Ok(v)
}

/// What an inet function gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Out {
    Inet,
    Cidr,
    Text,
    Int,
    Bool,
}

type Body = fn(&[Inet], &[ScalarValue]) -> Result<Value>;

enum Value {
    Net(Inet),
    Text(String),
    Int(i32),
    Bool(bool),
}

#[derive(Debug)]
struct InetFn {
    name: &'static str,
    /// How many leading arguments are addresses.
    nets: usize,
    out: Out,
    body: Body,
    signature: Signature,
}

impl PartialEq for InetFn {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name
    }
}
impl Eq for InetFn {}
impl std::hash::Hash for InetFn {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name.hash(h)
    }
}

const FUNCTIONS: &[(&str, usize, Out, Body)] = &[
    ("weir_inet_in", 1, Out::Inet, |n, _| Ok(Value::Net(n[0]))),
    ("weir_cidr_in", 1, Out::Cidr, |n, _| Ok(Value::Net(n[0]))),
    ("weir_inet_text", 1, Out::Text, |n, _| Ok(Value::Text(n[0].text(true)))),
    ("weir_inet_within", 2, Out::Bool, |n, _| Ok(Value::Bool(n[0].within(&n[1], true)))),
    ("weir_inet_within_eq", 2, Out::Bool, |n, _| Ok(Value::Bool(n[0].within(&n[1], false)))),
    ("weir_inet_overlaps", 2, Out::Bool, |n, _| Ok(Value::Bool(n[0].overlaps(&n[1])))),
    ("family", 1, Out::Int, |n, _| Ok(Value::Int(if n[0].addr.is_ipv4() { 4 } else { 6 }))),
    ("host", 1, Out::Text, |n, _| Ok(Value::Text(n[0].addr.to_string()))),
    ("masklen", 1, Out::Int, |n, _| Ok(Value::Int(n[0].bits as i32))),
    ("network", 1, Out::Cidr, |n, _| Ok(Value::Net(n[0].network()))),
    ("broadcast", 1, Out::Inet, |n, _| Ok(Value::Net(n[0].broadcast()))),
    ("netmask", 1, Out::Inet, |n, _| Ok(Value::Net(Inet { bits: n[0].width(), ..n[0].with_value(n[0].mask()) }))),
    ("hostmask", 1, Out::Inet, |n, _| {
        let host = n[0].broadcast().as_u128() & !n[0].mask();
        Ok(Value::Net(Inet { bits: n[0].width(), ..n[0].with_value(host) }))
    }),
    ("abbrev", 1, Out::Text, |n, _| Ok(Value::Text(n[0].text(false)))),
    ("set_masklen", 1, Out::Inet, |n, a| {
        let bits = match a.get(1).map(|v| v.cast_to(&DataType::Int64)) {
            Some(Ok(ScalarValue::Int64(Some(b)))) if (0..=n[0].width() as i64).contains(&b) => b as u8,
            _ => return Err(invalid("inet", "masklen")),
        };
        Ok(Value::Net(Inet { bits, ..n[0] }))
    }),
];

pub fn all() -> Vec<ScalarUDF> {
    FUNCTIONS
        .iter()
        .map(|(name, nets, out, body)| {
            ScalarUDF::new_from_impl(InetFn { name, nets: *nets, out: *out, body: *body, signature: Signature::variadic_any(Volatility::Immutable) })
        })
        .collect()
}

/// Whether a field holds a cidr (else an inet, or text read as inet).
fn is_cidr(f: &Field) -> bool {
    f.metadata().get(PG_TYPE_KEY).is_some_and(|t| t == "cidr")
}

impl ScalarUDFImpl for InetFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.out {
            Out::Inet | Out::Cidr | Out::Text => DataType::Utf8,
            Out::Int => DataType::Int32,
            Out::Bool => DataType::Boolean,
        })
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = Field::new(self.name, self.return_type(&[])?, true);
        // set_masklen keeps its input's type.
        let out = match (self.name, args.arg_fields.first()) {
            ("set_masklen", Some(f)) if is_cidr(f) => Out::Cidr,
            _ => self.out,
        };
        Ok(Arc::new(match out {
            Out::Inet => tag_field(field, "inet"),
            Out::Cidr => tag_field(field, "cidr"),
            _ => field,
        }))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let cidr_in = self.name == "weir_cidr_in";
        let cidr_out = matches!(self.out, Out::Cidr) || (self.name == "set_masklen" && args.arg_fields.first().is_some_and(|f| is_cidr(f)));
        let mut text = StringBuilder::new();
        let mut ints = Int32Builder::new();
        let mut bools = BooleanBuilder::new();
        for row in 0..rows {
            let values = arrays.iter().map(|a| ScalarValue::try_from_array(a, row)).collect::<Result<Vec<_>>>()?;
            let nets = values[..self.nets.min(values.len())]
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
                        parse(s, cidr_in || args.arg_fields.get(i).is_some_and(|f| is_cidr(f))).map(Some)
                    }
                    _ => Ok(None),
                })
                .collect::<Result<Option<Vec<Inet>>>>()?;
            let value = match nets {
                Some(n) if n.len() == self.nets => Some((self.body)(&n, &values)?),
                _ => None,
            };
            match (self.out, value) {
                (_, Some(Value::Net(n))) => text.append_value(n.text(cidr_out)),
                (_, Some(Value::Text(t))) => text.append_value(t),
                (_, Some(Value::Int(i))) => ints.append_value(i),
                (_, Some(Value::Bool(b))) => bools.append_value(b),
                (Out::Int, None) => ints.append_null(),
                (Out::Bool, None) => bools.append_null(),
                (_, None) => text.append_null(),
            }
        }
        let array: ArrayRef = match self.out {
            Out::Int => Arc::new(ints.finish()),
            Out::Bool => Arc::new(bools.finish()),
            _ => Arc::new(text.finish()),
        };
        columnar(array, all_scalar)
    }
}

/// Plans `<<`, `<<=`, `>>`, `>>=` and `&&` where an operand is an inet or cidr.
#[derive(Debug)]
pub struct InetOperators;

fn is_net(f: &Field) -> bool {
    f.metadata().get(PG_TYPE_KEY).is_some_and(|t| t == "inet" || t == "cidr")
}

impl datafusion::logical_expr::planner::ExprPlanner for InetOperators {
    fn plan_binary_op(
        &self,
        expr: datafusion::logical_expr::planner::RawBinaryExpr,
        schema: &datafusion::common::DFSchema,
    ) -> Result<datafusion::logical_expr::planner::PlannerResult<datafusion::logical_expr::planner::RawBinaryExpr>> {
        use datafusion::logical_expr::ExprSchemable;
        use datafusion::logical_expr::planner::PlannerResult;
        let op = expr.op.to_string();
        if !matches!(op.as_str(), "<<" | "<<=" | ">>" | ">>=" | "&&") {
            return Ok(PlannerResult::Original(expr));
        }
        let field = |e: &datafusion::logical_expr::Expr| e.to_field(schema).ok().map(|f| f.1);
        let (Some(l), Some(r)) = (field(&expr.left), field(&expr.right)) else { return Ok(PlannerResult::Original(expr)) };
        if !is_net(&l) && !is_net(&r) {
            return Ok(PlannerResult::Original(expr));
        }
        let (name, args) = match op.as_str() {
            "<<" => ("weir_inet_within", vec![expr.left, expr.right]),
            "<<=" => ("weir_inet_within_eq", vec![expr.left, expr.right]),
            ">>" => ("weir_inet_within", vec![expr.right, expr.left]),
            ">>=" => ("weir_inet_within_eq", vec![expr.right, expr.left]),
            _ => ("weir_inet_overlaps", vec![expr.left, expr.right]),
        };
        Ok(PlannerResult::Planned(super::named(name).call(args)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_compares_like_postgres() {
        let host = parse("10.1.2.3", false).unwrap();
        let net = parse("10.0.0.0/8", true).unwrap();
        assert!(host.within(&net, true) && !net.within(&net, true) && net.within(&net, false));
        assert_eq!(parse("10.1.2.3/32", false).unwrap().text(false), "10.1.2.3");
        assert_eq!(parse("10", true).unwrap().text(true), "10.0.0.0/8");
        assert_eq!(parse("192.168", true).unwrap().text(true), "192.168.0.0/24");
        assert!(parse("10.1.2.3/8", true).is_err() && parse("256.1.1.1", false).is_err());
        assert_eq!(parse("10.1.2.3/8", false).unwrap().broadcast().text(false), "10.255.255.255/8");
    }
}
