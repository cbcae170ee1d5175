//! PostgreSQL forms that DataFusion would read differently, rewritten before
//! planning, for queries and materialized views alike:
//! - a literal cast to `numeric` keeps its own scale (`1.50::numeric` is
//!   `1.50`, where DataFusion would give ten decimals), and may have an
//!   exponent (`1e3::numeric`);
//! - the prefix operators `|/` (sqrt), `||/` (cbrt), `@` (abs) and `~`
//!   (bitwise not) are calls and `#`;
//! - date and timestamp literals take PostgreSQL's inputs DataFusion does
//!   not: a time without seconds (`'2024-03-10 12:00'`), `epoch`, `now`,
//!   `today`, `tomorrow`, `yesterday`;
//! - `extract` is PostgreSQL's (numeric, `weir_extract`), not `date_part`;
//! - interval literals take PostgreSQL's inputs (`1 day 02:03:04`, `@ 1 hour
//!   ago`, ISO 8601, field qualifiers), rewritten to a form DataFusion reads;
//! - `t AT TIME ZONE z` is PostgreSQL's `timezone(z, t)`;
//! - `substring(x FROM a FOR b)` and `position(a IN b)` are called by name,
//!   so bytea finds weir's functions, and `-interval '...'` negates every field;
//! - `generate_series(...)` in a select list gives rows, not an array, and
//!   so do the set-returning JSON functions (`jsonb_array_elements`, ...);
//! - `x = ANY (subquery)` is `x IN (subquery)`, an EXISTS subquery without
//!   FROM reads one row, and `every` is `bool_and`;
//! - `json(b)_agg` and `json(b)_object_agg` are `array_agg` of the values'
//!   JSON, finished into one JSON value;
//! - `x op ANY/ALL (array)`, subscripts `a[lo:hi]`, `a[i][j]` and
//!   `unnest(...) WITH ORDINALITY` are calls of weir's array functions
//!   (`pgfunctions::arrays`);
//! - `x ~ p` and its kin, `SIMILAR TO`, `substring(x FROM p FOR e)` and the
//!   set-returning `regexp_matches` and `regexp_split_to_table` are calls of
//!   weir's regular-expression functions (`pgfunctions::regex`).

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
            let _ = VisitMut::visit(item, &mut ExistsInSelectList::default());
        }
        for item in &mut select.projection {
            if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                && let Some(rows) = set_returning(e)
            {
                *e = rows;
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, factor: &mut ast::TableFactor) -> ControlFlow<()> {
        crate::pgfunctions::arrays::with_ordinality(factor);
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
    if let Some(e) = crate::pgfunctions::arrays::rewrite_syntax(expr) {
        return Some(e);
    }
    if let Some(e) = crate::pgfunctions::regex::rewrite_expr(expr) {
        return Some(e);
    }
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
        // DataFusion plans these straight to its own `substr` and `strpos`;
        // by name they find weir's, which also take bytea.
        Expr::Substring { expr, substring_from: Some(from), substring_for: Some(count), .. } => {
            Some(call("substr", vec![(**expr).clone(), (**from).clone(), (**count).clone()]))
        }
        // `substring(x FROM 'pattern')` is the first match of a regular
        // expression, or its first parenthesized group.
        Expr::Substring { expr, substring_from: Some(pattern), substring_for: None, shorthand: false, .. } if matches!(&**pattern, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))) => {
            Some(call("array_element", vec![call("regexp_match", vec![(**expr).clone(), (**pattern).clone()]), number(1)]))
        }
        Expr::Position { expr, r#in } => Some(call("strpos", vec![(**r#in).clone(), (**expr).clone()])),
        // DataFusion negates an interval literal by prefixing its text with
        // `-`, which negates only the first field (`-1 day 2 hours`).
        Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr: inner } if matches!(**inner, Expr::Interval(_)) => {
            Some(Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr: Box::new(Expr::Nested(inner.clone())) })
        }
        Expr::Interval(i) => interval_literal(i),
        // PostgreSQL's prefix operators `|/ x`, `||/ x`, `@ x` and `~ x`.
        Expr::UnaryOp { op, expr: inner } => match op {
            ast::UnaryOperator::PGSquareRoot => Some(call("sqrt", vec![(**inner).clone()])),
            ast::UnaryOperator::PGCubeRoot => Some(call("cbrt", vec![(**inner).clone()])),
            ast::UnaryOperator::PGAbs => Some(call("abs", vec![(**inner).clone()])),
            ast::UnaryOperator::BitwiseNot => Some(Expr::BinaryOp { left: inner.clone(), op: ast::BinaryOperator::PGBitwiseXor, right: Box::new(number(-1)) }),
            _ => None,
        },
        // DataFusion plans `x = ANY (subquery)` only as `IN`, which it is.
        Expr::AnyOp { left, compare_op: ast::BinaryOperator::Eq, right, .. } => match &**right {
            Expr::Subquery(q) => Some(Expr::InSubquery { expr: left.clone(), subquery: q.clone(), negated: false }),
            _ => None,
        },
        Expr::Exists { subquery, negated } => {
            let mut subquery = subquery.clone();
            with_one_row_from(&mut subquery).then_some(Expr::Exists { subquery, negated: *negated })
        }
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("every") => {
            let mut f = f.clone();
            f.name = ast::ObjectName::from(vec![ast::Ident::new("bool_and")]);
            Some(Expr::Function(f))
        }
        Expr::AtTimeZone { timestamp, time_zone } => Some(call("timezone", vec![(**time_zone).clone(), (**timestamp).clone()])),
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("make_interval") => {
            let mut f = f.clone();
            crate::pgfunctions::interval::positional_make_interval(&mut f);
            Some(Expr::Function(f))
        }
        Expr::Function(f) if f.over.is_none() => json_aggregate(f),
        Expr::Extract { field, expr, .. } => Some(call("weir_extract", vec![string(&field.to_string().to_lowercase()), (**expr).clone()])),
        _ => None,
    }
}

/// A set-returning function of a select list as the `unnest` that gives its rows.
fn set_returning(e: &Expr) -> Option<Expr> {
    let Expr::Function(f) = e else { return None };
    let name = f.name.to_string().to_lowercase();
    if name == "generate_series" {
        return Some(call("unnest", vec![e.clone()]));
    }
    let (_, items) = crate::pgfunctions::SET_RETURNING.iter().find(|(n, _)| *n == name)?;
    let [arg] = <[Expr; 1]>::try_from(plain_args(f)?).ok()?;
    let rows = call("unnest", vec![call("weir_json_items", vec![arg, string(items.mode()?)])]);
    // unnest drops the elements' tag: json(b)_array_elements give json(b).
    Some(match items {
        crate::pgfunctions::Items::Elements => call(if name.starts_with("jsonb") { "weir_as_jsonb" } else { "weir_as_json" }, vec![rows]),
        _ => rows,
    })
}

/// DataFusion plans EXISTS only in WHERE; in a select list (outside any
/// subquery of it) `EXISTS (SELECT ... FROM f WHERE w)` becomes the scalar
/// subquery `(SELECT count(*) > 0 FROM f WHERE w)`, which it decorrelates.
#[derive(Default)]
struct ExistsInSelectList {
    depth: usize,
}

impl VisitorMut for ExistsInSelectList {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if self.depth == 0
            && let Expr::Exists { subquery, negated } = expr
            && let Some(count) = counted(subquery)
        {
            let found = Expr::BinaryOp { left: Box::new(count), op: ast::BinaryOperator::Gt, right: Box::new(number(0)) };
            *expr = if *negated { Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(Expr::Nested(Box::new(found))) } } else { found };
        }
        ControlFlow::Continue(())
    }
}

/// `(SELECT count(*) FROM f WHERE w)` for a plain `SELECT ... FROM f WHERE w`,
/// which DataFusion decorrelates; any other query (grouped, DISTINCT, LIMIT,
/// a set operation) is counted as a whole: `(SELECT count(*) FROM (q))`.
fn counted(q: &Query) -> Option<Expr> {
    let Some(Statement::Query(mut counting)) = crate::parse_statements("SELECT count(*) FROM (SELECT 1) AS weir_exists").ok()?.pop() else { return None };
    let ast::SetExpr::Select(count) = counting.body.as_mut() else { return None };
    let plain = |s: &Select| {
        q.limit_clause.is_none()
            && q.fetch.is_none()
            && q.with.is_none()
            && s.distinct.is_none()
            && s.having.is_none()
            && matches!(&s.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty())
    };
    let mut q = q.clone();
    match q.body.as_mut() {
        ast::SetExpr::Select(select) if plain(select) => {
            select.projection = count.projection.clone();
            q.order_by = None;
            return Some(Expr::Subquery(Box::new(q)));
        }
        _ => {}
    }
    let [ast::TableWithJoins { relation: ast::TableFactor::Derived { subquery, .. }, .. }] = count.from.as_mut_slice() else { return None };
    **subquery = q;
    Some(Expr::Subquery(counting))
}

/// `EXISTS (SELECT 1 WHERE ...)` reads from one row, as a select without
/// FROM does; DataFusion plans EXISTS only over a FROM. True if it changed.
fn with_one_row_from(q: &mut Query) -> bool {
    let ast::SetExpr::Select(select) = q.body.as_mut() else { return false };
    if !select.from.is_empty() {
        return false;
    }
    let one = crate::parse_statements("SELECT 1 FROM (VALUES (0)) AS weir_one_row").ok().and_then(|mut s| match s.pop() {
        Some(Statement::Query(q)) => match *q.body {
            ast::SetExpr::Select(s) => Some(s.from),
            _ => None,
        },
        _ => None,
    });
    match one {
        Some(from) => {
            select.from = from;
            true
        }
        None => false,
    }
}

/// A call's arguments when they are plain expressions (no names, no `*`).
fn plain_args(f: &ast::Function) -> Option<Vec<Expr>> {
    let ast::FunctionArguments::List(list) = &f.args else { return None };
    list.args
        .iter()
        .map(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// `jsonb_agg(x ORDER BY o)` as `weir_json_agg_done(array_agg(to_jsonb(x)
/// ORDER BY o), 'jsonb')`, and `jsonb_object_agg(k, v)` as the same over
/// `array_agg` of `named_struct('k', k::text, 'v', to_jsonb(v))`; FILTER and
/// ORDER BY stay with `array_agg`.
fn json_aggregate(f: &ast::Function) -> Option<Expr> {
    let name = f.name.to_string().to_lowercase();
    let (done, kind) = match name.as_str() {
        "json_agg" => ("weir_json_agg_done", "json"),
        "jsonb_agg" => ("weir_json_agg_done", "jsonb"),
        "json_object_agg" => ("weir_json_object_agg_done", "json"),
        "jsonb_object_agg" => ("weir_json_object_agg_done", "jsonb"),
        _ => return None,
    };
    let to_json = |e: Expr| call(if kind == "jsonb" { "to_jsonb" } else { "to_json" }, vec![e]);
    let value = match plain_args(f)?.as_slice() {
        [x] if done == "weir_json_agg_done" => to_json(x.clone()),
        [k, v] if done == "weir_json_object_agg_done" => {
            let key = Expr::Cast { kind: ast::CastKind::Cast, expr: Box::new(k.clone()), data_type: DataType::Text, array: false, format: None };
            call("named_struct", vec![string("k"), key, string("v"), to_json(v.clone())])
        }
        _ => return None,
    };
    let mut agg = f.clone();
    agg.name = ast::ObjectName::from(vec![ast::Ident::new("array_agg")]);
    if let ast::FunctionArguments::List(list) = &mut agg.args {
        list.args = vec![ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(value))];
    }
    Some(call(done, vec![Expr::Function(agg), string(kind)]))
}

/// `INTERVAL '1 day 02:03:04' [qualifier]` read as PostgreSQL reads it, as
/// the literal of the same interval that DataFusion reads. Text PostgreSQL
/// would refuse is left for DataFusion to refuse.
fn interval_literal(i: &ast::Interval) -> Option<Expr> {
    let text = literal_text(&i.value)?;
    let field = |f: &Option<ast::DateTimeField>| f.as_ref().map(|f| f.to_string().to_lowercase().trim_end_matches('s').to_string());
    let (leading, last) = (field(&i.leading_field), field(&i.last_field));
    let (months, days, micros) = crate::pgfunctions::interval_input::parse_qualified(&text, leading.as_deref(), last.as_deref()).ok()?;
    let value = Box::new(string(&crate::pgfunctions::interval_input::canonical(months, days, micros)));
    Some(Expr::Interval(ast::Interval { value, leading_field: None, leading_precision: None, last_field: None, fractional_seconds_precision: None }))
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
            Some((string(&without_exponent(text)?), DataType::Decimal(ExactNumberInfo::PrecisionAndScale(38, scale))))
        }
        // `'{1.5,2.25}'::numeric[]`: the elements' largest scale (an Arrow list has one).
        DataType::Array(ast::ArrayElemTypeDef::SquareBracket(element, size))
            if matches!(**element, DataType::Numeric(ExactNumberInfo::None) | DataType::Decimal(ExactNumberInfo::None)) =>
        {
            let items = crate::pgfunctions::arrays::literal::parse(text).ok()?;
            let scale = items.iter().flatten().map(|i| numeric_scale(i)).collect::<Option<Vec<_>>>()?.into_iter().max().unwrap_or(0);
            let element = Box::new(DataType::Decimal(ExactNumberInfo::PrecisionAndScale(38, scale)));
            Some((string(text), DataType::Array(ast::ArrayElemTypeDef::SquareBracket(element, *size))))
        }
        DataType::Interval { .. } => {
            let (months, days, micros) = crate::pgfunctions::interval_input::parse(text).ok()?;
            Some((string(&crate::pgfunctions::interval_input::canonical(months, days, micros)), t.clone()))
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

/// A number's text with its exponent written out (`1.5e-3` is `0.0015`,
/// `1e3` is `1000`), which Arrow's cast to a decimal needs.
fn without_exponent(text: &str) -> Option<String> {
    let t = text.trim();
    let Some((mantissa, exp)) = t.split_once(['e', 'E']) else { return Some(t.to_string()) };
    let exp: i64 = exp.parse().ok().filter(|e: &i64| e.abs() <= 1000)?;
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa.trim_start_matches('+')),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let point = whole.len() as i64 + exp;
    let plain = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    };
    Some(format!("{sign}{plain}"))
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
        assert_eq!(
            [without_exponent("1e3"), without_exponent("1.5e-3"), without_exponent("-1.25E1"), without_exponent(" 2.50 ")],
            [Some("1000".into()), Some("0.0015".into()), Some("-12.5".into()), Some("2.50".into())]
        );
        assert_eq!(with_seconds("2024-03-10 12:00:05"), None);
        let mut stmt = crate::parse_statements("SELECT 1.50::numeric, extract(dow from d), generate_series(1, 2)").unwrap().remove(0);
        rewrite(&mut stmt);
        assert_eq!(stmt.to_string(), "SELECT '1.50'::DECIMAL(38,2), weir_extract('dow', d), unnest(generate_series(1, 2))");
    }
}
