//! PostgreSQL forms that DataFusion would read differently, rewritten before
//! planning, for queries and materialized views alike:
//! - a literal cast to `numeric` keeps its own scale (`1.50::numeric` is
//!   `1.50`, where DataFusion would give ten decimals);
//! - date and timestamp literals take PostgreSQL's inputs DataFusion does
//!   not: a time without seconds (`'2024-03-10 12:00'`), `epoch`, `now`,
//!   `today`, `tomorrow`, `yesterday`;
//! - `extract` is PostgreSQL's (numeric, `weir_extract`), not `date_part`;
//! - `t AT TIME ZONE z` is PostgreSQL's `timezone(z, t)`;
//! - `generate_series(...)` in a select list gives rows, not an array.

use crate::sqlast::{call, text as string};
use datafusion::sql::sqlparser::ast::{self, DataType, ExactNumberInfo, Expr, Query, Select, SelectItem, Statement, TimezoneInfo, Value, VisitMut, VisitorMut};
use std::ops::ControlFlow;

pub fn rewrite(stmt: &mut Statement) {
    let _ = VisitMut::visit(stmt, &mut Syntax);
}

pub fn rewrite_query(query: &mut Query) {
    let _ = VisitMut::visit(query, &mut Syntax);
}

struct Syntax;

impl VisitorMut for Syntax {
    type Break = ();

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        for item in &mut select.projection {
            if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                && matches!(e, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("generate_series"))
            {
                *e = call("unnest", vec![e.clone()]);
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(new) = rewrite_expr(expr) {
            *expr = new;
        }
        ControlFlow::Continue(())
    }
}

fn rewrite_expr(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::Cast { kind, expr: inner, data_type, array, format } => {
            let text = literal_text(inner)?;
            let (e, t) = typed_literal(&text, data_type)?;
            Some(Expr::Cast { kind: kind.clone(), expr: Box::new(e), data_type: t, array: *array, format: format.clone() })
        }
        Expr::TypedString(ts) => {
            let Value::SingleQuotedString(text) = &ts.value.value else { return None };
            let (e, t) = typed_literal(text, &ts.data_type)?;
            Some(Expr::Cast { kind: ast::CastKind::Cast, expr: Box::new(e), data_type: t, array: false, format: None })
        }
        Expr::AtTimeZone { timestamp, time_zone } => Some(call("timezone", vec![(**time_zone).clone(), (**timestamp).clone()])),
        Expr::Extract { field, expr, .. } => Some(call("weir_extract", vec![string(&field.to_string().to_lowercase()), (**expr).clone()])),
        _ => None,
    }
}

/// The text of a number or string literal.
fn literal_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(n.clone()),
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A literal of `text` read as type `t`, as the expression and type to cast it to.
fn typed_literal(text: &str, t: &DataType) -> Option<(Expr, DataType)> {
    match t {
        DataType::Numeric(ExactNumberInfo::None) | DataType::Decimal(ExactNumberInfo::None) | DataType::Dec(ExactNumberInfo::None) => {
            let scale = numeric_scale(text)?;
            Some((string(text.trim()), DataType::Decimal(ExactNumberInfo::PrecisionAndScale(38, scale))))
        }
        DataType::Date | DataType::Timestamp(..) => {
            let with_zone = matches!(t, DataType::Timestamp(_, TimezoneInfo::Tz | TimezoneInfo::WithTimeZone));
            let relative = |days: i64| {
                let today = call("current_date", vec![]);
                let day =
                    if days == 0 { today } else { Expr::BinaryOp { left: Box::new(today), op: ast::BinaryOperator::Plus, right: Box::new(number(days)) } };
                Some((day, t.clone()))
            };
            match text.trim().to_lowercase().as_str() {
                "epoch" => Some((string(if with_zone { "1970-01-01 00:00:00+00" } else { "1970-01-01 00:00:00" }), t.clone())),
                "now" => Some((call("now", vec![]), t.clone())),
                "today" => relative(0),
                "tomorrow" => relative(1),
                "yesterday" => relative(-1),
                _ => with_seconds(text).map(|s| (string(&s), t.clone())),
            }
        }
        _ => None,
    }
}

/// The scale PostgreSQL gives a numeric literal: its digits after the point,
/// less its exponent (`1.50` is 2, `1e3` is 0, `1.5e-3` is 4).
fn numeric_scale(text: &str) -> Option<i64> {
    let t = text.trim().trim_start_matches(['+', '-']);
    let (mantissa, exp) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (t, 0),
    };
    if mantissa.is_empty() || !mantissa.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i64);
    Some((decimals - exp).clamp(0, 38))
}

/// `2024-03-10 12:00` (and `T12:00`, with a zone after) with `:00` seconds
/// added, which DataFusion requires; None when the text has seconds or no time.
fn with_seconds(text: &str) -> Option<String> {
    let t = text.trim();
    let sep = t.get(10..11).filter(|s| *s == " " || *s == "T")?;
    let time = &t[11..];
    let end = time.find(|c: char| !(c.is_ascii_digit() || c == ':')).unwrap_or(time.len());
    let clock = &time[..end];
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(format!("{}{sep}{clock}:00{}", &t[..10], &time[end..]))
}

fn number(n: i64) -> Expr {
    Expr::Value(Value::Number(n.to_string(), false).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_literals_as_postgres() {
        assert_eq!(
            [numeric_scale("1.50"), numeric_scale("1e3"), numeric_scale("1.5e-3"), numeric_scale(" 12.340 "), numeric_scale("NaN")],
            [Some(2), Some(0), Some(4), Some(3), None]
        );
        assert_eq!(with_seconds("2024-03-10 12:00+00").as_deref(), Some("2024-03-10 12:00:00+00"));
        assert_eq!(with_seconds("2024-03-10 12:00:05"), None);
        let mut stmt = crate::parse_statements("SELECT 1.50::numeric, extract(dow from d), generate_series(1, 2)").unwrap().remove(0);
        rewrite(&mut stmt);
        assert_eq!(stmt.to_string(), "SELECT '1.50'::DECIMAL(38,2), weir_extract('dow', d), unnest(generate_series(1, 2))");
    }
}
