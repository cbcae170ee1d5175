//! PostgreSQL forms that clients' catalog queries use and DataFusion does not
//! plan, rewritten into equivalent SQL before planning:
//! - `pg_catalog.f(...)` is `f(...)`, `OPERATOR(pg_catalog.~)` is `~`, and
//!   `COLLATE` is dropped (weir compares text by its bytes, as the C collation);
//! - casts to `regclass`, `regtype`, `regproc` and `regnamespace` become the
//!   functions that look the name or OID up (`pg_catalog.text` and other
//!   qualified type names lose their schema);
//! - `ARRAY(subquery)` is `(SELECT array_agg(..) FROM (subquery))`;
//! - subqueries over relations weir never has rows in (policies,
//!   publications, extended statistics, inheritance) are answered without
//!   running them: NULL, false, an empty array, or no rows;
//! - session values (`current_setting`, `current_user`, `pg_backend_pid`)
//!   are read from the session.

use crate::sqlast::{call, text};
use crate::{SqlError, SqlResult, SqlState};
use datafusion::sql::sqlparser::ast::{
    self, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, JoinOperator, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr,
    SetOperator, Statement, TableFactor, Value, Visit, VisitMut, VisitorMut,
};
use std::ops::ControlFlow;

/// The PostgreSQL version weir reports to clients.
pub const SERVER_VERSION: &str = "15.0";

/// What a rewrite reads from (and, for `set_config`, writes to) the session.
pub trait SessionValues {
    fn setting(&self, name: &str) -> Option<String>;
    fn set_setting(&mut self, name: &str, value: &str) -> SqlResult<()>;
    fn user(&self) -> String;
    fn backend_pid(&self) -> i32;
    /// The column names of a relation a query names, when it is one.
    fn columns(&self, _relation: &str) -> Option<Vec<String>> {
        None
    }
}

/// System relations that never hold rows in weir.
pub const EMPTY_RELATIONS: &[&str] = &[
    "pg_policy",
    "pg_policies",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_rel",
    "pg_publication_namespace",
    "pg_inherits",
    "pg_partitioned_table",
    "pg_trigger",
    "pg_rewrite",
    "pg_auth_members",
    "pg_attrdef",
    "pg_enum",
    "pg_range",
    "pg_locks",
    "pg_event_trigger",
    "pg_sequence",
    "pg_extension",
    "pg_shdescription",
    "pg_seclabel",
    "pg_description",
    "pg_depend",
    "pg_opclass",
];

/// A whole row named by its relation (`row_to_json(t)`, `jsonb_agg(e)`) as
/// the `named_struct` of its columns, which DataFusion plans: a function's
/// argument that is the name or alias of a relation of this FROM and no
/// column of it.
fn whole_rows(select: &mut Select, session: &dyn SessionValues) {
    // The relations of this FROM by the name a query calls them.
    let mut named: Vec<(String, String)> = Vec::new();
    for t in &select.from {
        for factor in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
            let TableFactor::Table { name, alias, .. } = factor else { continue };
            let key = alias.as_ref().map_or_else(|| name.0.last().map(|p| p.to_string()).unwrap_or_default(), |a| a.name.value.clone());
            named.push((key.to_lowercase(), name.to_string().to_lowercase()));
        }
    }
    if !named.is_empty() {
        let _ = VisitMut::visit(&mut select.projection, &mut WholeRows { named, session, columns: None, depth: 0 });
    }
}

/// Finds whole-row arguments in one select list, outside its subqueries
/// (which have FROMs of their own).
struct WholeRows<'a> {
    named: Vec<(String, String)>,
    session: &'a dyn SessionValues,
    /// Every FROM relation's columns, looked up once a function names a relation.
    columns: Option<Vec<Option<Vec<String>>>>,
    depth: usize,
}

impl WholeRows<'_> {
    /// The columns of the relation called `key`, if `key` names one and no
    /// relation of this FROM has a column by that name.
    fn row_of(&mut self, key: &str) -> Option<Vec<String>> {
        let at = self.named.iter().position(|(k, _)| k == key)?;
        let (named, session) = (&self.named, self.session);
        let columns = self.columns.get_or_insert_with(|| named.iter().map(|(_, r)| session.columns(r)).collect());
        let is_column = columns.iter().flatten().any(|cols| cols.iter().any(|c| c == key));
        if is_column { None } else { columns[at].clone() }
    }
}

impl VisitorMut for WholeRows<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let Expr::Function(f) = e else { return ControlFlow::Continue(()) };
        let FunctionArguments::List(list) = &mut f.args else { return ControlFlow::Continue(()) };
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        for arg in &mut list.args {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(id))) = arg else { continue };
            let key = id.value.clone();
            let Some(cols) = self.row_of(&key) else { continue };
            let fields = cols.iter().flat_map(|c| [text(c), Expr::CompoundIdentifier(vec![Ident::new(&key), Ident::new(c)])]).collect();
            *arg = FunctionArg::Unnamed(FunctionArgExpr::Expr(call("named_struct", fields)));
        }
        ControlFlow::Continue(())
    }
}

/// What a rewrite found out about a query.
#[derive(Debug, Default)]
pub struct Rewritten {
    /// The names a client should see for the result's columns, as
    /// PostgreSQL gives them (`crate::colnames`), when the select list says.
    pub names: Option<Vec<String>>,
    /// The query is known to return no rows (it need not be run).
    pub empty: bool,
}

/// Rewrites `stmt` in place, first naming its columns as PostgreSQL does.
pub fn rewrite(stmt: &mut Statement, session: &mut dyn SessionValues) -> SqlResult<Rewritten> {
    let names = crate::colnames::name_columns(stmt);
    crate::pgsyntax::rewrite(stmt);
    let mut v = Rewriter { session, error: None, joined: 0 };
    let _ = VisitMut::visit(stmt, &mut v);
    if let Some(e) = v.error {
        return Err(e);
    }
    let empty = matches!(stmt, Statement::Query(q) if query_is_empty(q));
    Ok(Rewritten { names, empty })
}

struct Rewriter<'a> {
    session: &'a mut dyn SessionValues,
    error: Option<SqlError>,
    /// Subqueries turned into joins so far (for fresh aliases).
    joined: usize,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        widen_series_bounds(factor);
        crate::pgfunctions::regex::set_returning_in_from(factor);
        name_single_column(factor);
        scalar_function_in_from(factor);
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        whole_rows(select, &*self.session);
        join_catalog_subqueries(select, &mut self.joined);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        sort_by_subquery(query);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match self.rewrite_expr(expr) {
            Ok(Some(new)) => *expr = new,
            Ok(None) => {}
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

impl Rewriter<'_> {
    fn rewrite_expr(&mut self, expr: &mut Expr) -> SqlResult<Option<Expr>> {
        Ok(match expr {
            Expr::Collate { expr, .. } => Some((**expr).clone()),
            Expr::BinaryOp { op: ast::BinaryOperator::PGCustomBinaryOperator(parts), left, right } => {
                let op = plain_operator(parts.last().map(|s| s.as_str()).unwrap_or(""))?;
                Some(Expr::BinaryOp { left: left.clone(), op, right: right.clone() })
            }
            Expr::Cast { expr: inner, data_type, .. } => {
                if let Some(f) = lookup_function(data_type) {
                    Some(call(f, vec![(**inner).clone()]))
                } else if let Some(f) = name_lookup(inner).filter(|_| matches!(data_type, DataType::Text | DataType::Varchar(_))) {
                    // `'t'::regclass::text` is the name again, as its OID would show.
                    Some(call(f, vec![(**inner).clone()]))
                } else {
                    normalize_type(data_type);
                    None
                }
            }
            Expr::Case { conditions, .. } => {
                conditions.iter_mut().for_each(|c| in_subquery_as_array(&mut c.condition));
                None
            }
            Expr::Subquery(q) if query_is_empty(q) => Some(Expr::Value(Value::Null.into())),
            Expr::Subquery(q) => {
                aggregate_catalog_subquery(q);
                None
            }
            Expr::Exists { subquery, negated } if query_is_empty(subquery) => Some(Expr::Value(Value::Boolean(*negated).into())),
            Expr::InSubquery { subquery, negated, .. } if query_is_empty(subquery) => Some(Expr::Value(Value::Boolean(*negated).into())),
            Expr::Exists { subquery, negated } => exists_as_count(subquery, *negated),
            Expr::Function(f) => {
                strip_schema(&mut f.name);
                self.rewrite_call(f)?
            }
            Expr::CompoundFieldAccess { root, access_chain } => field_access(root, access_chain),
            Expr::Identifier(i) if i.quote_style.is_none() => value_function(&i.value.to_lowercase()),
            Expr::Like { escape_char: Some(esc), pattern, .. } | Expr::ILike { escape_char: Some(esc), pattern, .. } => {
                backslash_escapes(pattern, esc);
                None
            }
            _ => None,
        })
    }

    /// Calls that read the session or that DataFusion cannot plan.
    fn rewrite_call(&mut self, f: &ast::Function) -> SqlResult<Option<Expr>> {
        let name = f.name.to_string().to_lowercase();
        let args = literal_args(&f.args);
        Ok(match (name.as_str(), &f.args) {
            ("array", FunctionArguments::Subquery(q)) => Some(array_of(q)?),
            ("generate_subscripts", FunctionArguments::List(l)) if l.args.len() == 2 => {
                let args: Vec<Expr> =
                    l.args.iter().filter_map(|a| if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a { Some(e.clone()) } else { None }).collect();
                let one = Expr::Value(Value::Number("1".into(), false).into());
                Some(call("unnest", vec![call("generate_series", vec![one, call("array_length", args)])]))
            }
            ("_pg_expandarray", FunctionArguments::List(l)) => {
                let args = l.args.iter().filter_map(|a| if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a { Some(e.clone()) } else { None });
                Some(call("unnest", vec![call("weir_expandarray", args.collect())]))
            }
            ("current_user" | "session_user" | "user" | "current_role", FunctionArguments::None) => Some(typed(text(&self.session.user()), "name")),
            ("transaction_timestamp" | "statement_timestamp", FunctionArguments::List(l)) if l.args.is_empty() => Some(call("now", vec![])),
            ("localtimestamp" | "localtime" | "current_catalog" | "current_schema", FunctionArguments::None) => value_function(&name),
            ("gen_random_uuid", FunctionArguments::List(l)) if l.args.is_empty() => Some(Expr::Cast {
                kind: ast::CastKind::DoubleColon,
                expr: Box::new(call("uuid", vec![])),
                data_type: DataType::Uuid,
                array: false,
                format: None,
            }),
            ("pg_backend_pid", _) => Some(Expr::Value(Value::Number(self.session.backend_pid().to_string(), false).into())),
            ("current_setting", _) => Some(self.current_setting(&args)?),
            ("set_config", _) => {
                let [Some(name), Some(value), ..] = args.as_slice() else {
                    return Err(SqlError::unsupported("set_config takes constant arguments in weir"));
                };
                self.session.set_setting(name, value)?;
                Some(text(value))
            }
            _ => None,
        })
    }

    fn current_setting(&self, args: &[Option<String>]) -> SqlResult<Expr> {
        let Some(Some(name)) = args.first() else {
            return Err(SqlError::unsupported("current_setting takes a constant setting name in weir"));
        };
        let missing_ok = args.get(1).is_some_and(|a| a.as_deref() == Some("true"));
        match self.session.setting(name) {
            Some(v) => Ok(text(&v)),
            None if missing_ok => Ok(Expr::Value(Value::Null.into())),
            None => Err(SqlError::new(SqlState::UndefinedObject, format!("unrecognized configuration parameter \"{name}\""))),
        }
    }
}

/// `LIKE p ESCAPE '/'`: DataFusion takes only the backslash as the escape
/// character, so the pattern is translated to backslash escapes when the
/// query runs (it may be a parameter).
fn backslash_escapes(pattern: &mut Expr, esc: &mut ast::ValueWithSpan) {
    if matches!(&esc.value, Value::SingleQuotedString(e) if e == "\\") {
        return;
    }
    let escape = Expr::Value(esc.clone());
    let inner = std::mem::replace(pattern, Expr::Value(Value::Null.into()));
    *pattern = call("weir_like_pattern", vec![inner, escape]);
    esc.value = Value::SingleQuotedString("\\".into());
}

/// `(composite).field`, which DataFusion reads only as `get_field`.
/// Catalog columns of PostgreSQL's vector types (int2vector, oidvector), whose subscripts start at 0.
const VECTOR_COLUMNS: &[&str] = &["indkey", "indclass", "indcollation", "indoption", "proargtypes", "tgattr", "stxkeys"];

fn field_access(root: &Expr, chain: &[ast::AccessExpr]) -> Option<Expr> {
    // `indkey[i]` or `x.indkey[i]` (parsed as `x` then `.indkey`, `[i]`).
    if let Some((ast::AccessExpr::Subscript(ast::Subscript::Index { index }), before)) = chain.split_last() {
        let column = match (root, before) {
            (Expr::Identifier(i), []) => Some(i),
            (Expr::CompoundIdentifier(parts), []) => parts.last(),
            (_, [ast::AccessExpr::Dot(Expr::Identifier(i))]) => Some(i),
            _ => None,
        };
        if column.is_some_and(|c| VECTOR_COLUMNS.contains(&crate::names::ident_name(c).as_str())) {
            // weir holds them as arrays, whose subscripts start at 1.
            let one = Expr::Value(Value::Number("1".into(), false).into());
            let shifted = Expr::BinaryOp { left: Box::new(Expr::Nested(Box::new(index.clone()))), op: ast::BinaryOperator::Plus, right: Box::new(one) };
            let mut access_chain = before.to_vec();
            access_chain.push(ast::AccessExpr::Subscript(ast::Subscript::Index { index: shifted }));
            return Some(Expr::CompoundFieldAccess { root: Box::new(root.clone()), access_chain });
        }
    }
    let mut out = root.clone();
    for a in chain {
        let ast::AccessExpr::Dot(Expr::Identifier(field)) = a else { return None };
        out = call("get_field", vec![out, text(&crate::names::ident_name(field))]);
    }
    Some(out)
}

/// The SQL value functions PostgreSQL's grammar reads without parentheses
/// and sqlparser reads as column names.
fn value_function(name: &str) -> Option<Expr> {
    let now_local = || Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: Box::new(call("now", vec![])),
        data_type: DataType::Timestamp(None, ast::TimezoneInfo::None),
        array: false,
        format: None,
    };
    Some(match name {
        "localtimestamp" => now_local(),
        "localtime" => Expr::Cast {
            kind: ast::CastKind::Cast,
            expr: Box::new(now_local()),
            data_type: DataType::Time(None, ast::TimezoneInfo::None),
            array: false,
            format: None,
        },
        "current_catalog" => typed(call("current_database", vec![]), "name"),
        "current_schema" => typed(call("current_schema", vec![]), "name"),
        _ => return None,
    })
}

/// `e::name`, for a type weir names by a tag (`name`).
fn typed(e: Expr, type_name: &str) -> Expr {
    let data_type = DataType::Custom(ObjectName(vec![ObjectNamePart::Identifier(Ident::new(type_name))]), vec![]);
    Expr::Cast { kind: ast::CastKind::DoubleColon, expr: Box::new(e), data_type, array: false, format: None }
}

/// The text of each argument that is a literal (None for the others).
fn literal_args(args: &FunctionArguments) -> Vec<Option<String>> {
    let FunctionArguments::List(list) = args else { return vec![] };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
                Value::SingleQuotedString(s) => Some(s.clone()),
                Value::Boolean(b) => Some(b.to_string()),
                Value::Number(n, _) => Some(n.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn plain_operator(op: &str) -> SqlResult<ast::BinaryOperator> {
    use ast::BinaryOperator as B;
    Ok(match op {
        "~" => B::PGRegexMatch,
        "~*" => B::PGRegexIMatch,
        "!~" => B::PGRegexNotMatch,
        "!~*" => B::PGRegexNotIMatch,
        "=" => B::Eq,
        "<>" | "!=" => B::NotEq,
        "<" => B::Lt,
        "<=" => B::LtEq,
        ">" => B::Gt,
        ">=" => B::GtEq,
        "||" => B::StringConcat,
        "+" => B::Plus,
        "-" => B::Minus,
        "*" => B::Multiply,
        "/" => B::Divide,
        "~~" => return Err(SqlError::unsupported("OPERATOR(~~) is not supported; write LIKE")),
        other => return Err(SqlError::new(SqlState::UndefinedFunction, format!("operator does not exist: {other}"))),
    })
}

/// Drops a leading `pg_catalog.` (or `information_schema.` for its
/// functions) from a name.
fn strip_schema(name: &mut ObjectName) {
    if name.0.len() == 2
        && let Some(first) = name.0[0].as_ident()
        && matches!(first.value.to_lowercase().as_str(), "pg_catalog" | "information_schema")
    {
        name.0.remove(0);
    }
}

fn custom_name(dt: &DataType) -> Option<String> {
    match dt {
        DataType::Regclass => Some("regclass".into()),
        DataType::Custom(name, _) => name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_lowercase()),
        _ => None,
    }
}

/// The `reg*` lookup of a text literal (`'t'::regclass`, rewritten), which gives an OID.
fn name_lookup(e: &Expr) -> Option<&'static str> {
    let Expr::Function(f) = e else { return None };
    let name = f.name.to_string();
    let FunctionArguments::List(list) = &f.args else { return None };
    let literal = matches!(list.args.as_slice(), [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(Expr::Value(v)))] if matches!(v.value, Value::SingleQuotedString(_)));
    ["weir_regclass", "weir_regtype", "weir_regnamespace", "weir_regrole"].into_iter().find(|f| *f == name).filter(|_| literal)
}

/// The lookup function a cast to a `reg*` type stands for.
fn lookup_function(dt: &DataType) -> Option<&'static str> {
    match custom_name(dt)?.as_str() {
        "regclass" => Some("weir_regclass"),
        "regtype" => Some("weir_regtype"),
        "regproc" | "regprocedure" => Some("weir_regproc"),
        "regnamespace" => Some("weir_regnamespace"),
        "regrole" => Some("weir_regrole"),
        _ => None,
    }
}

/// `pg_catalog.int4` is `int4`; the built-in names DataFusion knows become its types.
fn normalize_type(dt: &mut DataType) {
    match dt {
        DataType::Array(ast::ArrayElemTypeDef::SquareBracket(inner, _) | ast::ArrayElemTypeDef::AngleBracket(inner)) => normalize_type(inner),
        DataType::Custom(name, mods) if mods.is_empty() => {
            let Some(last) = name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_lowercase()) else { return };
            *dt = match last.as_str() {
                "text" => DataType::Text,
                "int2" | "smallint" => DataType::SmallInt(None),
                "int4" | "integer" | "int" => DataType::Int(None),
                "int8" | "bigint" => DataType::BigInt(None),
                "bool" | "boolean" => DataType::Boolean,
                "float4" | "real" => DataType::Real,
                "float8" => DataType::DoublePrecision,
                "varchar" => DataType::Varchar(None),
                "timestamptz" => DataType::Timestamp(None, ast::TimezoneInfo::Tz),
                other => DataType::Custom(ObjectName(vec![ObjectNamePart::Identifier(Ident::new(other))]), vec![]),
            };
        }
        _ => {}
    }
}

/// `ARRAY(subquery)`: an empty array for a subquery known to be empty,
/// otherwise the aggregate of its one column.
fn array_of(q: &Query) -> SqlResult<Expr> {
    if query_is_empty(q) {
        return Ok(call("make_array", vec![]));
    }
    if let Some(options) = quoted_options(q) {
        return Ok(call("weir_quoted_options", vec![options]));
    }
    let mut inner = q.clone();
    let SetExpr::Select(s) = inner.body.as_mut() else {
        return Err(SqlError::unsupported("ARRAY(subquery) over a set operation is not supported"));
    };
    match s.projection.as_mut_slice() {
        [SelectItem::UnnamedExpr(e)] | [SelectItem::ExprWithAlias { expr: e, .. }] => {
            let e = e.clone();
            s.projection = vec![SelectItem::ExprWithAlias { expr: e, alias: Ident::new("__elem") }];
        }
        _ => return Err(SqlError::syntax("subquery must return only one column")),
    }
    let wrapper = crate::parse_statements("SELECT array_agg(__elem) FROM (SELECT 1) AS __array")?;
    let Some(Statement::Query(mut outer)) = wrapper.into_iter().next() else { return Err(SqlError::internal("array wrapper")) };
    if let SetExpr::Select(os) = outer.body.as_mut()
        && let Some(TableFactor::Derived { subquery, .. }) = os.from.first_mut().map(|f| &mut f.relation)
    {
        **subquery = inner;
    }
    Ok(Expr::Subquery(outer))
}

/// A scalar subquery over system relations only, that selects one plain
/// column: DataFusion runs correlated scalar subqueries only when they are
/// aggregated, so it becomes `max(column)`. Catalog subqueries pick a row by
/// its key, so there is at most one value and `max` is that value.
fn aggregate_catalog_subquery(q: &mut Query) {
    let SetExpr::Select(s) = q.body.as_mut() else { return };
    let grouped = !matches!(&s.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    let system = |f: &TableFactor| matches!(f, TableFactor::Table { name, .. } if is_system_name(name));
    let all_system = s.from.len() == 1 && s.from.iter().all(|t| system(&t.relation) && t.joins.iter().all(|j| system(&j.relation)));
    if grouped || !all_system || s.projection.len() != 1 || has_aggregate(&s.projection[0]) {
        return;
    }
    let (expr, alias) = match s.projection.remove(0) {
        SelectItem::UnnamedExpr(e) => (e, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias)),
        other => {
            s.projection.insert(0, other);
            return;
        }
    };
    let agg = call("max", vec![expr]);
    s.projection.insert(0, alias.map_or(SelectItem::UnnamedExpr(agg.clone()), |alias| SelectItem::ExprWithAlias { expr: agg, alias }));
}

/// The parts of a scalar subquery over several system relations: DataFusion
/// cannot decorrelate one whose predicates compare outer and inner columns
/// by anything but equality, so in a select list it becomes a LEFT JOIN of
/// its relations on its WHERE clause (it picks at most one row by key).
fn catalog_subquery_join(q: &Query, n: usize) -> Option<(Expr, TableFactor, Expr)> {
    let SetExpr::Select(s) = q.body.as_ref() else { return None };
    let plain = matches!(&s.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty()) && q.order_by.is_none() && q.limit_clause.is_none();
    let from_system = s.from.len() >= 2
        && s.from.iter().all(|t| t.joins.is_empty() && matches!(&t.relation, TableFactor::Table { name, args: None, .. } if is_system_name(name)));
    let [SelectItem::UnnamedExpr(value) | SelectItem::ExprWithAlias { expr: value, .. }] = s.projection.as_slice() else { return None };
    if !plain || !from_system || has_aggregate(&s.projection[0]) {
        return None;
    }
    let mut renames = Vec::new();
    let mut factors = Vec::new();
    for t in &s.from {
        let mut f = t.relation.clone();
        if let TableFactor::Table { name, alias, .. } = &mut f {
            let old = alias.as_ref().map(|a| a.name.value.clone()).or_else(|| name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.clone()))?;
            let new = format!("__sq{n}_{old}");
            *alias = Some(ast::TableAlias { explicit: true, name: Ident::new(&new), columns: vec![], at: None });
            renames.push((old, new));
        }
        factors.push(f);
    }
    let mut value = value.clone();
    let mut on = s.selection.clone().unwrap_or(Expr::Value(Value::Boolean(true).into()));
    let mut renamer = Renamer(&renames);
    let _ = VisitMut::visit(&mut value, &mut renamer);
    let _ = VisitMut::visit(&mut on, &mut renamer);
    let first = factors.remove(0);
    let joins = factors.into_iter().map(|relation| ast::Join { relation, global: false, join_operator: JoinOperator::CrossJoin(ast::JoinConstraint::None) });
    let nested = TableFactor::NestedJoin { table_with_joins: Box::new(ast::TableWithJoins { relation: first, joins: joins.collect() }), alias: None };
    Some((value, nested, on))
}

fn join_catalog_subqueries(s: &mut Select, joined: &mut usize) {
    if s.from.len() != 1 {
        return;
    }
    for item in s.projection.iter_mut() {
        let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else { continue };
        let Expr::Subquery(q) = e else { continue };
        let Some((value, relation, on)) = catalog_subquery_join(q, *joined) else { continue };
        *joined += 1;
        s.from[0].joins.push(ast::Join { relation, global: false, join_operator: JoinOperator::LeftOuter(ast::JoinConstraint::On(on)) });
        *e = value;
    }
}

/// Renames table qualifiers in column references (`c.oid` to `__sq0_c.oid`).
struct Renamer<'a>(&'a [(String, String)]);

impl VisitorMut for Renamer<'_> {
    type Break = ();
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(parts) = expr
            && parts.len() == 2
            && let Some((_, new)) = self.0.iter().find(|(old, _)| *old == parts[0].value)
        {
            parts[0] = Ident::new(new);
        }
        ControlFlow::Continue(())
    }
}

/// `EXISTS (SELECT .. FROM <one system relation> WHERE ..)` as
/// `(SELECT count(*) > 0 ..)`: DataFusion runs EXISTS only in WHERE, and
/// psql also asks it in select lists.
fn exists_as_count(q: &Query, negated: bool) -> Option<Expr> {
    let SetExpr::Select(s) = q.body.as_ref() else { return None };
    let [t] = s.from.as_slice() else { return None };
    if !t.joins.is_empty() || !matches!(&t.relation, TableFactor::Table { name, args: None, .. } if is_system_name(name)) {
        return None;
    }
    let mut counted = q.clone();
    let SetExpr::Select(cs) = counted.body.as_mut() else { return None };
    let count = crate::parse_statements("SELECT count(*) > 0").ok()?.into_iter().next()?;
    let Statement::Query(cq) = count else { return None };
    let SetExpr::Select(c) = *cq.body else { return None };
    cs.projection = c.projection;
    let exists = Expr::Subquery(Box::new(counted));
    Some(if negated { Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(Expr::Nested(Box::new(exists))) } } else { exists })
}

/// Array columns weir never fills (storage options, per-column options and
/// ACLs): a set-returning function over one of them returns no rows.
pub const NULL_ARRAY_COLUMNS: &[&str] = &["reloptions", "attfdwoptions", "attoptions", "relacl", "attacl", "datacl", "nspacl", "proconfig", "rolconfig"];

/// `generate_series(1, array_upper(a, 1))` in FROM: DataFusion takes only
/// bigint bounds, and an int4 expression folds to an int4 constant, so each
/// bound is cast to bigint (PostgreSQL's integer series are the same numbers).
fn widen_series_bounds(factor: &mut TableFactor) {
    let TableFactor::Table { name, args: Some(args), .. } = factor else { return };
    strip_schema(name);
    if !name.to_string().eq_ignore_ascii_case("generate_series") {
        return;
    }
    for a in args.args.iter_mut() {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a
            && !matches!(e, Expr::Value(_))
        {
            let inner = std::mem::replace(e, Expr::Value(Value::Null.into()));
            *e = Expr::Cast { kind: ast::CastKind::Cast, expr: Box::new(inner), data_type: DataType::BigInt(None), array: false, format: None };
        }
    }
}

/// `CASE WHEN x IN (SELECT y ...)`: DataFusion runs IN (subquery) only as a
/// filter, so in a CASE it becomes `array_has((SELECT array_agg(y) ...), x)`,
/// the same test where CASE reads it (NULL and false both fall through).
fn in_subquery_as_array(e: &mut Expr) {
    let Expr::InSubquery { expr, subquery, negated } = e else { return };
    let text = format!("SELECT array_agg(__weir_in.v) FROM ({subquery}) AS __weir_in(v)");
    let Ok(Some(Statement::Query(agg))) = crate::parse_statements(&text).map(|mut v| v.pop()) else { return };
    let test = call("array_has", vec![Expr::Subquery(agg), (**expr).clone()]);
    *e = if *negated { Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(test) } } else { test };
}

/// `SELECT a AS x ... ORDER BY CASE WHEN y IN (SELECT ...) ...`: DataFusion
/// plans no subquery in ORDER BY, so such a sort key becomes a column of an
/// inner query that the outer one sorts by and leaves out. Only for select
/// lists whose every column has a name (as Grafana's queries have).
fn sort_by_subquery(q: &mut Query) {
    let Some(ast::OrderBy { kind: ast::OrderByKind::Expressions(keys), .. }) = &q.order_by else { return };
    if !keys.iter().any(|k| has_subquery(&k.expr)) {
        return;
    }
    let SetExpr::Select(select) = q.body.as_ref() else { return };
    let Some(names) = select.projection.iter().map(crate::colnames::item_name).collect::<Option<Vec<_>>>() else { return };
    // The other keys must still mean the same outside: output positions or names.
    let outside = |e: &Expr| match e {
        Expr::Value(v) => matches!(v.value, Value::Number(..)),
        Expr::Identifier(i) => names.contains(&crate::names::ident_name(i)),
        e => has_subquery(e),
    };
    if names.iter().any(|n| n == "?column?") || !keys.iter().all(|k| outside(&k.expr)) {
        return;
    }
    let mut inner = q.clone();
    inner.order_by = None;
    inner.limit_clause = None;
    let SetExpr::Select(inner_select) = inner.body.as_mut() else { return };
    let mut order = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if has_subquery(&k.expr) {
            let column = format!("__weir_sort_{i}");
            inner_select.projection.push(SelectItem::ExprWithAlias { expr: k.expr.clone(), alias: Ident::new(&column) });
            order.push(format!("{column} {}", k.options));
        } else {
            order.push(k.to_string());
        }
    }
    let columns = names.iter().map(|n| format!("\"{}\"", n.replace('"', "\"\""))).collect::<Vec<_>>().join(", ");
    let limit = q.limit_clause.as_ref().map_or(String::new(), |l| l.to_string());
    let text = format!("SELECT {columns} FROM ({inner}) AS __weir_sorted ORDER BY {}{limit}", order.join(", "));
    if let Ok(Some(Statement::Query(outer))) = crate::parse_statements(&text).map(|mut v| v.pop()) {
        *q = *outer;
    }
}

fn has_subquery(e: &Expr) -> bool {
    struct Finder;
    impl ast::Visitor for Finder {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    Visit::visit(e, &mut Finder).is_break()
}

/// Functions DataFusion runs as table functions, and PostgreSQL's set-returning
/// functions that weir answers otherwise (pg_options_to_table) or not at all:
/// none of these is a scalar function in FROM.
const TABLE_FUNCTIONS: &[&str] = &[
    "generate_series",
    "range",
    "unnest",
    "tumble",
    "hop",
    "session",
    "pg_options_to_table",
    "generate_subscripts",
    "json_each",
    "jsonb_each",
    "json_each_text",
    "jsonb_each_text",
    "json_array_elements",
    "jsonb_array_elements",
    "json_array_elements_text",
    "jsonb_array_elements_text",
    "json_object_keys",
    "jsonb_object_keys",
    "regexp_matches",
    "regexp_split_to_table",
    "json_to_recordset",
    "jsonb_to_recordset",
    "json_populate_recordset",
    "jsonb_populate_recordset",
];

fn function_name(name: &ObjectName) -> String {
    name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_lowercase()).unwrap_or_default()
}

/// `generate_series(1, 3) AS i`: as in PostgreSQL, the one column of a
/// function in FROM is called by the alias (`i`, not `value`).
fn name_single_column(factor: &mut TableFactor) {
    let TableFactor::Table { name, args: Some(_), alias: Some(alias), .. } = factor else { return };
    if matches!(function_name(name).as_str(), "generate_series" | "unnest") && alias.columns.is_empty() {
        alias.columns = vec![ast::TableAliasColumnDef { name: alias.name.clone(), data_type: None }];
    }
}

/// `string_to_array(x, ',') s` in FROM: PostgreSQL reads a scalar function
/// there as one row with one column named by the alias; DataFusion knows
/// only table functions, so it becomes `(SELECT string_to_array(x, ',') AS s) s`.
fn scalar_function_in_from(factor: &mut TableFactor) {
    let TableFactor::Table { name, args: Some(args), alias, .. } = factor else { return };
    let f = function_name(name);
    if TABLE_FUNCTIONS.contains(&f.as_str()) || f.starts_with("weir_") {
        return;
    }
    let alias = alias.clone().unwrap_or_else(|| ast::TableAlias { explicit: true, name: Ident::new(&f), columns: vec![], at: None });
    let column = alias.columns.first().map_or(alias.name.clone(), |c| c.name.clone());
    let args = args.args.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let select = format!("SELECT {name}({args}) AS {column}");
    let Ok(Some(Statement::Query(subquery))) = crate::parse_statements(&select).map(|mut v| v.pop()) else { return };
    let alias = ast::TableAlias { columns: vec![], ..alias };
    *factor = TableFactor::Derived { lateral: false, subquery, alias: Some(alias), sample: None };
}

/// `unnest(x.reloptions)` and the like, over a column weir never fills.
fn function_over_null_column(args: &ast::TableFunctionArgs) -> bool {
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] = args.args.as_slice() else { return false };
    let column = match e {
        Expr::Identifier(i) => i,
        Expr::CompoundIdentifier(parts) => match parts.last() {
            Some(i) => i,
            None => return false,
        },
        _ => return false,
    };
    NULL_ARRAY_COLUMNS.contains(&column.value.to_lowercase().as_str())
}

fn is_system_name(name: &ObjectName) -> bool {
    let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident()).map(|i| i.value.to_lowercase()).collect();
    match parts.as_slice() {
        [t] => t.starts_with("pg_"),
        [s, _] => s == "pg_catalog" || s == "information_schema",
        _ => false,
    }
}

/// psql's `ARRAY(SELECT quote_ident(option_name) || ' ' ||
/// quote_literal(option_value) FROM pg_options_to_table(x))`, which lists a
/// foreign table's options: the argument `x`. DataFusion cannot run a table
/// function over an outer column, so this form has a function of its own.
fn quoted_options(q: &Query) -> Option<Expr> {
    let SetExpr::Select(s) = q.body.as_ref() else { return None };
    let [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] = s.projection.as_slice() else { return None };
    let [t] = s.from.as_slice() else { return None };
    let TableFactor::Table { name, args: Some(args), .. } = &t.relation else { return None };
    let is_options = name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| i.value.eq_ignore_ascii_case("pg_options_to_table"));
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = args.args.as_slice() else { return None };
    (is_options && s.selection.is_none() && e.to_string() == "quote_ident(option_name) || ' ' || quote_literal(option_value)").then(|| arg.clone())
}

/// Whether `q` cannot return a row, because every branch reads an
/// [`EMPTY_RELATIONS`] relation through an inner join.
pub fn query_is_empty(q: &Query) -> bool {
    set_is_empty(&q.body)
}

fn set_is_empty(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(s) => select_is_empty(s),
        SetExpr::Query(q) => query_is_empty(q),
        SetExpr::SetOperation { op: SetOperator::Union, left, right, .. } => set_is_empty(left) && set_is_empty(right),
        SetExpr::SetOperation { op: SetOperator::Intersect, left, right, .. } => set_is_empty(left) || set_is_empty(right),
        SetExpr::SetOperation { op: SetOperator::Except | SetOperator::Minus, left, .. } => set_is_empty(left),
        _ => false,
    }
}

fn select_is_empty(s: &Select) -> bool {
    // An aggregate without GROUP BY returns one row even over no rows.
    let grouped = !matches!(&s.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    if !grouped && s.projection.iter().any(has_aggregate) {
        return false;
    }
    s.from.iter().any(|twj| {
        factor_is_empty(&twj.relation)
            || twj
                .joins
                .iter()
                .any(|j| matches!(j.join_operator, JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::CrossJoin(_)) && factor_is_empty(&j.relation))
    })
}

fn factor_is_empty(f: &TableFactor) -> bool {
    match f {
        TableFactor::Table { name, args: None, .. } => {
            let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident()).map(|i| i.value.to_lowercase()).collect();
            match parts.as_slice() {
                [t] | [_, t] if parts.len() == 1 || parts[0] == "pg_catalog" => EMPTY_RELATIONS.contains(&t.as_str()),
                _ => false,
            }
        }
        TableFactor::Table { name, args: Some(args), .. } => {
            let f = name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_lowercase()).unwrap_or_default();
            matches!(f.as_str(), "unnest" | "pg_options_to_table") && function_over_null_column(args)
        }
        TableFactor::Derived { subquery, .. } => query_is_empty(subquery),
        _ => false,
    }
}

const AGGREGATES: &[&str] = &["count", "sum", "min", "max", "avg", "array_agg", "string_agg", "bool_and", "bool_or", "every", "json_agg", "jsonb_agg"];

/// Whether a select item calls an aggregate (outside any subquery of its own).
fn has_aggregate(item: &SelectItem) -> bool {
    let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else { return false };
    let mut finder = AggregateFinder { depth: 0 };
    Visit::visit(e, &mut finder).is_break()
}

struct AggregateFinder {
    depth: usize,
}

impl ast::Visitor for AggregateFinder {
    type Break = ();
    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Function(f) if self.depth == 0 && f.over.is_none() && AGGREGATES.contains(&f.name.to_string().to_lowercase().as_str()) => {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl SessionValues for Fixed {
        fn setting(&self, name: &str) -> Option<String> {
            (name == "search_path").then(|| "public".into())
        }
        fn set_setting(&mut self, _: &str, _: &str) -> SqlResult<()> {
            Ok(())
        }
        fn user(&self) -> String {
            "weir".into()
        }
        fn backend_pid(&self) -> i32 {
            7
        }
    }

    fn rewritten(sql: &str) -> (String, Option<Vec<String>>) {
        let mut stmt = crate::parse_statements(sql).unwrap().remove(0);
        let r = rewrite(&mut stmt, &mut Fixed).unwrap();
        (stmt.to_string(), r.names.filter(|_| r.empty))
    }

    #[test]
    fn rewrites_catalog_forms() {
        let (sql, _) = rewritten("SELECT pg_catalog.format_type(a, b) FROM t WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default");
        assert_eq!(sql, "SELECT format_type(a, b) AS \"format_type\" FROM t WHERE c.relname ~ '^(t)$'");
        let (sql, _) = rewritten("SELECT 't'::regclass, c.oid::pg_catalog.regclass::pg_catalog.text, current_setting('search_path'), current_user");
        assert_eq!(
            sql,
            "SELECT weir_regclass('t') AS \"regclass\", weir_regclass(c.oid)::TEXT AS \"oid\", 'public' AS \"current_setting\", 'weir'::name AS \"current_user\""
        );
        let (sql, _) = rewritten("SELECT ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles b ON m.roleid = b.oid) AS m FROM r");
        assert_eq!(sql, "SELECT make_array() AS m FROM r");
    }

    #[test]
    fn knows_queries_over_empty_relations() {
        let (_, empty) =
            rewritten("SELECT pubname, NULL FROM pg_catalog.pg_publication p JOIN pg_class c ON true UNION SELECT pubname, NULL FROM pg_publication");
        assert_eq!(empty, Some(vec!["pubname".into(), "?column?".into()]));
        assert_eq!(rewritten("SELECT count(*) FROM pg_policy").1, None);
        assert_eq!(rewritten("SELECT c.relname FROM pg_class c LEFT JOIN pg_inherits i ON true").1, None);
        let mut stmt = crate::parse_statements("SELECT current_setting('nope')").unwrap().remove(0);
        assert_eq!(rewrite(&mut stmt, &mut Fixed).unwrap_err().state.code(), "42704");
    }
}
