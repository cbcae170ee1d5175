//! The names PostgreSQL gives result columns that the query does not name
//! (its `FigureColname`): a column reference by the column, a function call
//! by the function (`trim` is `btrim`, `extract` is `extract`), a cast by the
//! inner name or else the type (`1::int` is `int4`), CASE by its ELSE branch
//! or `case`, and any other expression `?column?`.
//!
//! `name_columns` gives every unnamed select item PostgreSQL's name as an
//! alias, so views, `CREATE TABLE AS` and subqueries see the same names as
//! psql. Two items of one list with the same name (`SELECT 1, 2`) keep
//! DataFusion's names, which must be unique in a plan; `output_names` gives
//! the names a client should see for the outermost list, duplicates included.

use datafusion::sql::sqlparser::ast::{
    self, DataType, Expr, FunctionArguments, Query, Select, SelectItem, SetExpr, Statement, TimezoneInfo, TrimWhereField, VisitMut, VisitorMut,
};
use std::ops::ControlFlow;

/// PostgreSQL's name for an expression nothing names.
pub const UNNAMED: &str = "?column?";

/// Names the unnamed items of every select list in `stmt`; returns what a
/// client should see for the outermost one, when it has no wildcard.
pub fn name_columns(stmt: &mut Statement) -> Option<Vec<String>> {
    let names = match stmt {
        Statement::Query(q) => output_names(q),
        _ => None,
    };
    let _ = VisitMut::visit(stmt, &mut Namer);
    names
}

/// The same for a query on its own (a materialized view's).
pub fn name_query_columns(query: &mut Query) {
    let _ = VisitMut::visit(query, &mut Namer);
}

struct Namer;

impl VisitorMut for Namer {
    type Break = ();

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        alias_unique(&mut select.projection);
        ControlFlow::Continue(())
    }
}

fn alias_unique(items: &mut [SelectItem]) {
    let names: Vec<Option<String>> = items.iter().map(item_name).collect();
    for (item, name) in items.iter_mut().zip(&names) {
        let Some(name) = name else { continue };
        let SelectItem::UnnamedExpr(e) = item else { continue };
        if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) || names.iter().filter(|n| n.as_ref() == Some(name)).count() > 1 {
            continue;
        }
        *item = SelectItem::ExprWithAlias { expr: e.clone(), alias: ast::Ident::with_quote('"', name.clone()) };
    }
}

/// The names PostgreSQL gives the columns of `q`'s first branch, when they
/// can be read from its select list (no wildcard).
pub fn output_names(q: &Query) -> Option<Vec<String>> {
    let mut body = q.body.as_ref();
    loop {
        match body {
            SetExpr::SetOperation { left, .. } => body = left,
            SetExpr::Query(q) => body = &q.body,
            SetExpr::Select(s) => return s.projection.iter().map(item_name).collect(),
            _ => return None,
        }
    }
}

/// A select item's name; None for a wildcard.
pub fn item_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(crate::names::ident_name(alias)),
        SelectItem::UnnamedExpr(e) => Some(figure(e).0),
        _ => None,
    }
}

/// How sure a name is: a CASE or cast prefers an inner name of strength 2
/// (a column, a function) to its own.
type Strength = u8;

/// PostgreSQL's name for `e` and how strong it is.
pub fn figure(e: &Expr) -> (String, Strength) {
    let strong = |s: &str| (s.to_string(), 2);
    match e {
        Expr::Identifier(i) => (crate::names::ident_name(i), 2),
        Expr::CompoundIdentifier(parts) => parts.last().map_or_else(unnamed, |i| (crate::names::ident_name(i), 2)),
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(Expr::Identifier(i))) => (crate::names::ident_name(i), 2),
            _ => figure(root),
        },
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => figure(inner),
        Expr::Function(f) => function_name(f),
        Expr::Cast { expr, data_type, .. } => cast_name(figure(expr), data_type),
        Expr::TypedString(t) => (type_name(&t.data_type), 1),
        Expr::Interval(_) => ("interval".into(), 1),
        Expr::Case { else_result, .. } => match else_result.as_deref().map(figure) {
            Some((name, 2)) => (name, 2),
            _ => ("case".into(), 1),
        },
        Expr::Trim { trim_where, .. } => strong(match trim_where {
            Some(TrimWhereField::Leading) => "ltrim",
            Some(TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }),
        Expr::Extract { .. } => strong("extract"),
        Expr::Substring { shorthand: true, .. } => strong("substr"),
        Expr::Substring { .. } => strong("substring"),
        Expr::Position { .. } => strong("position"),
        Expr::Overlay { .. } => strong("overlay"),
        Expr::Ceil { .. } => strong("ceil"),
        Expr::Floor { .. } => strong("floor"),
        Expr::AtTimeZone { .. } => strong("timezone"),
        Expr::Array(_) => strong("array"),
        Expr::Tuple(_) => strong("row"),
        Expr::Exists { negated: false, .. } => strong("exists"),
        Expr::Subquery(q) => output_names(q).and_then(|n| n.into_iter().next()).map_or_else(unnamed, |n| (n, 2)),
        _ => unnamed(),
    }
}

fn unnamed() -> (String, Strength) {
    (UNNAMED.into(), 0)
}

fn function_name(f: &ast::Function) -> (String, Strength) {
    let Some(last) = f.name.0.last().and_then(|p| p.as_ident()) else { return unnamed() };
    let name = crate::names::ident_name(last);
    // Keywords PostgreSQL's grammar turns into other calls.
    let name = match (name.as_str(), &f.args) {
        ("user", FunctionArguments::None) => "current_user".to_string(),
        ("array", FunctionArguments::Subquery(_)) => "array".to_string(),
        _ => name,
    };
    (name, 2)
}

fn cast_name(inner: (String, Strength), to: &DataType) -> (String, Strength) {
    if inner.1 >= 2 { inner } else { (type_name(to), 1) }
}

/// The name PostgreSQL's catalog gives a type as written (`int` is `int4`,
/// `varchar(3)` is `varchar`, an array is named by its element type).
pub fn type_name(dt: &DataType) -> String {
    use DataType as D;
    let s = match dt {
        D::Int(_) | D::Integer(_) | D::Int4(_) => "int4",
        D::BigInt(_) | D::Int8(_) => "int8",
        D::SmallInt(_) | D::Int2(_) => "int2",
        D::Real | D::Float4 => "float4",
        D::Double(_) | D::DoublePrecision | D::Float8 => "float8",
        D::Float(info) => match info {
            ast::ExactNumberInfo::Precision(p) | ast::ExactNumberInfo::PrecisionAndScale(p, _) if *p <= 24 => "float4",
            _ => "float8",
        },
        D::Numeric(_) | D::Decimal(_) | D::Dec(_) => "numeric",
        D::Bool | D::Boolean => "bool",
        D::Text => "text",
        D::Varchar(_) | D::CharacterVarying(_) | D::CharVarying(_) => "varchar",
        D::Char(_) | D::Character(_) => "bpchar",
        D::Date => "date",
        D::Time(_, TimezoneInfo::Tz | TimezoneInfo::WithTimeZone) => "timetz",
        D::Time(..) => "time",
        D::Timestamp(_, TimezoneInfo::Tz | TimezoneInfo::WithTimeZone) => "timestamptz",
        D::Timestamp(..) => "timestamp",
        D::Interval { .. } => "interval",
        D::JSON => "json",
        D::JSONB => "jsonb",
        D::Uuid => "uuid",
        D::Bytea => "bytea",
        D::Regclass => "regclass",
        D::Bit(_) => "bit",
        D::BitVarying(_) | D::VarBit(_) => "varbit",
        D::Array(ast::ArrayElemTypeDef::SquareBracket(inner, _) | ast::ArrayElemTypeDef::AngleBracket(inner) | ast::ArrayElemTypeDef::Parenthesis(inner)) => {
            return type_name(inner);
        }
        D::Custom(name, _) => return name.0.last().and_then(|p| p.as_ident()).map_or_else(|| dt.to_string(), crate::names::ident_name),
        other => return other.to_string().to_lowercase(),
    };
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<String> {
        let mut stmt = crate::parse_statements(sql).unwrap().remove(0);
        name_columns(&mut stmt).unwrap()
    }

    #[test]
    fn names_as_postgres_does() {
        assert_eq!(
            names(
                "SELECT date_trunc('hour', ts), count(*), 1 + 2, 1::int, x::text, 'a'::varchar(3), CASE WHEN a THEN b ELSE c END, CASE WHEN a THEN 1 END, trim(s), extract(dow from ts), true, t.y, (SELECT max(z) FROM u), ARRAY[1], user"
            ),
            ["date_trunc", "count", "?column?", "int4", "x", "varchar", "c", "case", "btrim", "extract", "?column?", "y", "max", "array", "current_user"]
        );
    }

    #[test]
    fn aliases_only_unique_names() {
        let mut stmt = crate::parse_statements("SELECT 1, 2, upper(s), x FROM (SELECT count(*) FROM t) AS q").unwrap().remove(0);
        assert_eq!(name_columns(&mut stmt).unwrap(), ["?column?", "?column?", "upper", "x"]);
        assert_eq!(stmt.to_string(), "SELECT 1, 2, upper(s) AS \"upper\", x FROM (SELECT count(*) AS \"count\" FROM t) AS q");
    }
}
