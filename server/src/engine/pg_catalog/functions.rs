//! PostgreSQL's catalog and information functions that drivers, psql and BI
//! tools call (`format_type`, `pg_get_indexdef`, `has_table_privilege`,
//! `quote_ident`, `version`, ...), and the lookups behind casts to
//! `regclass`, `regtype`, `regproc` and `regnamespace` (see
//! weir_planner::pgdialect). They run row by row: catalog queries are small.

use super::pg_roles::role_name;
use super::{Object, Relation, relations, view_definition};
use crate::engine::Engine;
use arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility};
use std::cell::OnceCell;
use std::sync::{Arc, LazyLock, Weak};
pub use weir_planner::names::{quote_ident, quote_literal};
use weir_planner::pgtypes::{TYPES, by_oid, format_type};
use weir_planner::{SqlError, SqlState};

/// What a function sees besides its arguments: the catalog, read once per
/// batch, and the session's search path.
struct Lookup {
    engine: Weak<Engine>,
    relations: OnceCell<Vec<Relation>>,
    /// `search_path` as the session set it.
    search_path: Vec<String>,
}

impl Lookup {
    /// The schemas that exist on the search path, as set.
    fn schemas(&self) -> Vec<String> {
        let Some(engine) = self.engine.upgrade() else { return vec![] };
        self.search_path.iter().filter(|s| engine.schema_exists(s) || matches!(s.as_str(), "pg_catalog" | "information_schema")).cloned().collect()
    }
    /// The schemas names are looked up in: `pg_catalog` first unless the path places it.
    fn lookup_path(&self) -> Vec<String> {
        let mut path = self.schemas();
        if !path.iter().any(|s| s == "pg_catalog") {
            path.insert(0, "pg_catalog".into());
        }
        path
    }
    /// The relation an unqualified name finds on the search path.
    fn first_named(&self, name: &str) -> Option<&Relation> {
        self.lookup_path().iter().find_map(|s| self.relations().iter().find(|r| r.name == name && r.nspname == *s))
    }
    fn relations(&self) -> &[Relation] {
        self.relations.get_or_init(|| self.engine.upgrade().and_then(|e| relations(&e).ok()).unwrap_or_default())
    }
    fn by_oid(&self, oid: i64) -> Option<&Relation> {
        self.relations().iter().find(|r| r.oid == oid)
    }
    /// Whether a relation (or its primary key index) with this OID is the
    /// one its name finds on the search path, as `pg_table_is_visible` says.
    fn visible(&self, oid: i64) -> bool {
        let Some(r) = self.relations().iter().find(|r| r.oid == oid || (!r.primary_key.is_empty() && r.index_oid() == oid)) else { return false };
        let name = if r.oid == oid { r.name.clone() } else { r.index_name() };
        let found = self.lookup_path().into_iter().find(|s| self.relations().iter().any(|o| o.nspname == *s && (o.name == name || o.index_name() == name)));
        found.as_deref() == Some(r.nspname.as_str())
    }
    /// A relation's name as `regclass` prints it: qualified unless visible.
    fn display_name(&self, r: &Relation) -> String {
        if self.visible(r.oid) { quote_ident(&r.name) } else { format!("{}.{}", quote_ident(&r.nspname), quote_ident(&r.name)) }
    }
    /// The relation a name (possibly `schema.name`, possibly quoted) refers to.
    fn by_name(&self, name: &str) -> Option<&Relation> {
        let parts = parse_ident(name).ok()?;
        match parts.as_slice() {
            [r] => self.first_named(r),
            [s, name] => self.relations().iter().find(|r| r.name == *name && r.nspname == *s),
            _ => None,
        }
    }
}

type Body = fn(&Lookup, &[ScalarValue]) -> Result<ScalarValue>;

/// A function evaluated one row at a time over scalar values.
struct RowFn {
    name: &'static str,
    signature: Signature,
    returns: fn(&[DataType]) -> DataType,
    body: Body,
    engine: Weak<Engine>,
    /// The session's search path (none outside a session: `public`).
    scope: Option<crate::engine::SessionScope>,
}

impl std::fmt::Debug for RowFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}
impl PartialEq for RowFn {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for RowFn {}
impl std::hash::Hash for RowFn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl ScalarUDFImpl for RowFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok((self.returns)(args))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let search_path = crate::engine::SessionScope::path(self.scope.as_ref());
        let lookup = Lookup { engine: self.engine.clone(), relations: OnceCell::new(), search_path };
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let want = args.return_field.data_type().clone();
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let values = arrays.iter().map(|a| ScalarValue::try_from_array(a, if all_scalar { 0 } else { row })).collect::<Result<Vec<_>>>()?;
            let v = (self.body)(&lookup, &values)?;
            out.push(if v.data_type() == want { v } else { v.cast_to(&want)? });
        }
        if all_scalar {
            return Ok(ColumnarValue::Scalar(out.pop().unwrap_or(ScalarValue::try_from(&want)?)));
        }
        if out.is_empty() {
            return Ok(ColumnarValue::Array(arrow::array::new_empty_array(&want)));
        }
        Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
    }
}

fn text_type(_: &[DataType]) -> DataType {
    DataType::Utf8
}
fn bool_type(_: &[DataType]) -> DataType {
    DataType::Boolean
}
fn oid_type(_: &[DataType]) -> DataType {
    DataType::Int64
}
fn int_type(_: &[DataType]) -> DataType {
    DataType::Int32
}
/// A `reg*` cast: text in gives an OID, an OID in gives its name.
fn reg_type(args: &[DataType]) -> DataType {
    if args.first().is_some_and(|t| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)) { DataType::Int64 } else { DataType::Utf8 }
}
fn text_list_type(_: &[DataType]) -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}
fn timestamptz_type(_: &[DataType]) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
}

fn text(s: impl Into<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(s.into()))
}
fn null_text() -> ScalarValue {
    ScalarValue::Utf8(None)
}
fn as_int(v: &ScalarValue) -> Option<i64> {
    match v.cast_to(&DataType::Int64).ok()? {
        ScalarValue::Int64(i) => i,
        _ => None,
    }
}
fn as_text(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => s.clone(),
        ScalarValue::Null => None,
        other => Some(other.to_string()),
    }
}
fn is_text(v: &ScalarValue) -> bool {
    matches!(v, ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) | ScalarValue::Utf8View(_))
}
fn pg_error(state: SqlState, msg: String) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(SqlError::new(state, msg)))
}

/// The names of the functions defined here.
pub const NAMES: &[&str] = &[
    "weir_definition_hash",
    "pg_get_userbyid",
    "pg_table_is_visible",
    "pg_type_is_visible",
    "pg_function_is_visible",
    "format_type",
    "pg_get_indexdef",
    "pg_get_constraintdef",
    "pg_get_expr",
    "pg_get_viewdef",
    "col_description",
    "obj_description",
    "shobj_description",
    "has_table_privilege",
    "has_schema_privilege",
    "has_any_column_privilege",
    "has_column_privilege",
    "has_database_privilege",
    "has_function_privilege",
    "has_sequence_privilege",
    "pg_has_role",
    "pg_encoding_to_char",
    "pg_postmaster_start_time",
    "quote_ident",
    "quote_literal",
    "quote_nullable",
    "parse_ident",
    "array_lower",
    "array_upper",
    "to_regclass",
    "to_regtype",
    "version",
    "current_schema",
    "current_schemas",
    "current_database",
    "pg_is_in_recovery",
    "pg_get_function_result",
    "pg_get_function_arguments",
    "pg_get_function_identity_arguments",
    "pg_relation_is_publishable",
    "pg_get_statisticsobjdef_columns",
    "pg_get_partkeydef",
    "pg_tablespace_location",
    "pg_get_serial_sequence",
    "weir_like_pattern",
    "pg_collation_is_visible",
    "pg_opclass_is_visible",
    "pg_conversion_is_visible",
    "pg_operator_is_visible",
    "weir_expandarray",
    "weir_quoted_options",
    "weir_regclass",
    "weir_regtype",
    "weir_regproc",
    "weir_regnamespace",
    "weir_regrole",
];

/// Every function, bound to `engine` and to a session's `scope`.
pub fn all(engine: &Arc<Engine>, scope: Option<&crate::engine::SessionScope>) -> Vec<ScalarUDF> {
    NAMES
        .iter()
        .map(|name| {
            let (returns, body) = definition(name);
            let signature = Signature::one_of(vec![TypeSignature::Nullary, TypeSignature::VariadicAny], Volatility::Stable);
            ScalarUDF::new_from_impl(RowFn { name, signature, returns, body, engine: Arc::downgrade(engine), scope: scope.cloned() })
        })
        .collect()
}

fn definition(name: &str) -> (fn(&[DataType]) -> DataType, Body) {
    match name {
        "pg_get_userbyid" => (text_type, |_, a| Ok(a.first().and_then(as_int).map_or(null_text(), |o| text(role_name(o))))),
        "pg_table_is_visible" => (bool_type, |l, a| Ok(ScalarValue::Boolean(a.first().and_then(as_int).map(|o| l.visible(o))))),
        "pg_type_is_visible"
        | "pg_function_is_visible"
        | "pg_collation_is_visible"
        | "pg_opclass_is_visible"
        | "pg_conversion_is_visible"
        | "pg_operator_is_visible" => (bool_type, |_, a| Ok(ScalarValue::Boolean(a.first().and_then(as_int).map(|_| true)))),
        "format_type" => (text_type, |l, a| Ok(format_type_of(l, a))),
        "pg_get_indexdef" => (text_type, |l, a| Ok(index_def(l, a.first().and_then(as_int), a.get(1).and_then(as_int).unwrap_or(0)).map_or(null_text(), text))),
        "pg_get_constraintdef" => (text_type, |l, a| Ok(constraint_def(l, a.first().and_then(as_int)).map_or(null_text(), text))),
        "pg_get_expr" => (text_type, |_, a| Ok(a.first().and_then(as_text).map_or(null_text(), text))),
        "pg_get_viewdef" => (text_type, |l, a| Ok(view_def(l, a.first()).map_or(null_text(), text))),
        "col_description"
        | "obj_description"
        | "shobj_description"
        | "pg_get_function_result"
        | "pg_get_function_arguments"
        | "pg_get_function_identity_arguments"
        | "pg_get_statisticsobjdef_columns"
        | "pg_get_partkeydef"
        | "pg_get_serial_sequence" => (text_type, |_, _| Ok(null_text())),
        "has_table_privilege"
        | "has_schema_privilege"
        | "has_any_column_privilege"
        | "has_column_privilege"
        | "has_database_privilege"
        | "has_function_privilege"
        | "has_sequence_privilege"
        | "pg_has_role" => (bool_type, |_, _| Ok(ScalarValue::Boolean(Some(true)))),
        "pg_relation_is_publishable" | "pg_is_in_recovery" => (bool_type, |_, _| Ok(ScalarValue::Boolean(Some(false)))),
        "pg_encoding_to_char" => (text_type, |_, a| Ok(text(if a.first().and_then(as_int) == Some(6) { "UTF8" } else { "" }))),
        "pg_postmaster_start_time" => (timestamptz_type, |_, _| Ok(ScalarValue::TimestampMicrosecond(Some(*STARTED), Some("+00:00".into())))),
        "quote_ident" => (text_type, |_, a| Ok(a.first().and_then(as_text).map_or(null_text(), |s| text(quote_ident(&s))))),
        "quote_literal" => (text_type, |_, a| Ok(a.first().and_then(as_text).map_or(null_text(), |s| text(quote_literal(&s))))),
        "quote_nullable" => (text_type, |_, a| Ok(text(a.first().and_then(as_text).map_or("NULL".into(), |s| quote_literal(&s))))),
        "parse_ident" => (text_list_type, |_, a| parse_ident_value(a.first().and_then(as_text))),
        "array_lower" => (int_type, |_, a| Ok(ScalarValue::Int32(array_len(a).filter(|n| *n > 0).map(|_| 1)))),
        "array_upper" => (int_type, |_, a| Ok(ScalarValue::Int32(array_len(a).filter(|n| *n > 0).map(|n| n as i32)))),
        "to_regclass" => (oid_type, |l, a| Ok(ScalarValue::Int64(a.first().and_then(as_text).and_then(|n| l.by_name(&n).map(|r| r.oid))))),
        "to_regtype" => (oid_type, |_, a| Ok(ScalarValue::Int64(a.first().and_then(as_text).and_then(|n| type_by_name(&n))))),
        "version" => (text_type, |_, _| Ok(text(version()))),
        // The hash weir_catalog shows, of a definition's text (for `weir apply`).
        "weir_definition_hash" => (text_type, |l, a| {
            let (Some(engine), Some(sql)) = (l.engine.upgrade(), a.first().and_then(as_text)) else { return Ok(null_text()) };
            Ok(text(crate::engine::definition::definition_hash(&engine.definition_key, &sql)))
        }),
        "current_schema" => (text_type, |l, _| Ok(l.schemas().into_iter().next().map_or(null_text(), text))),
        "current_schemas" => (text_list_type, |l, a| Ok(current_schemas(l, a.first().and_then(|v| v.cast_to(&DataType::Boolean).ok())))),
        "current_database" => (text_type, |_, _| Ok(text(crate::engine::CATALOG))),
        "pg_tablespace_location" => (text_type, |_, _| Ok(text(""))),
        "weir_quoted_options" => (text_list_type, |_, a| Ok(quoted_options(a.first()))),
        "weir_expandarray" => (expanded_type, |_, a| expand_array(a.first())),
        "weir_like_pattern" => (text_type, |_, a| Ok(like_pattern(a.first().and_then(as_text), a.get(1).and_then(as_text)).map_or(null_text(), text))),
        "weir_regclass" => (reg_type, regclass),
        "weir_regtype" => (reg_type, regtype),
        "weir_regproc" => (text_type, |_, a| Ok(a.first().and_then(as_text).map_or(null_text(), text))),
        "weir_regnamespace" => (reg_type, regnamespace),
        "weir_regrole" => (reg_type, regrole),
        other => unreachable!("no definition for {other}"),
    }
}

static STARTED: LazyLock<i64> = LazyLock::new(|| chrono::Utc::now().timestamp_micros());

/// Notes the server's start time for `pg_postmaster_start_time`.
pub fn note_start() {
    LazyLock::force(&STARTED);
}

pub fn version() -> String {
    format!(
        "PostgreSQL {} on {}-linux, compiled by weir {} (a streaming database speaking PostgreSQL's protocol)",
        weir_planner::pgdialect::SERVER_VERSION,
        std::env::consts::ARCH,
        env!("CARGO_PKG_VERSION")
    )
}

fn format_type_of(l: &Lookup, a: &[ScalarValue]) -> ScalarValue {
    let Some(oid) = a.first().and_then(as_int) else { return null_text() };
    let typmod = a.get(1).and_then(as_int).unwrap_or(-1) as i32;
    if let Some(t) = format_type(oid as u32, typmod) {
        return text(t);
    }
    match l.relations().iter().find(|r| r.is_user() && r.row_type_oid() == oid) {
        Some(r) => text(r.name.clone()),
        None => text("???"),
    }
}

fn column_list(r: &Relation) -> String {
    r.primary_key.iter().map(|c| quote_ident(r.schema.field(*c).name())).collect::<Vec<_>>().join(", ")
}

/// `pg_get_indexdef(index, column)`: the whole definition, or with a
/// column number above 0 that key column's name.
fn index_def(l: &Lookup, oid: Option<i64>, column: i64) -> Option<String> {
    let r = l.relations().iter().find(|r| !r.primary_key.is_empty() && Some(r.index_oid()) == oid)?;
    if column > 0 {
        // Past the last key column PostgreSQL gives '' (ODBC drivers read columns until then).
        return Some(r.primary_key.get(column as usize - 1).map_or(String::new(), |c| quote_ident(r.schema.field(*c).name())));
    }
    let table = format!("{}.{}", quote_ident(&r.nspname), quote_ident(&r.name));
    Some(format!("CREATE UNIQUE INDEX {} ON {table} USING btree ({})", quote_ident(&r.index_name()), column_list(r)))
}

fn constraint_def(l: &Lookup, oid: Option<i64>) -> Option<String> {
    let r = l.relations().iter().find(|r| !r.primary_key.is_empty() && Some(r.constraint_oid()) == oid)?;
    Some(format!("PRIMARY KEY ({})", column_list(r)))
}

fn view_def(l: &Lookup, arg: Option<&ScalarValue>) -> Option<String> {
    let arg = arg?;
    let r = if is_text(arg) { l.by_name(&as_text(arg)?) } else { l.by_oid(as_int(arg)?) }?;
    let id = match &r.object {
        Object::View(v) => v.id,
        Object::PlainView(v) => v.id,
        _ => return None,
    };
    view_definition(l.engine.upgrade()?.as_ref(), id)
}

/// A LIKE pattern with escape character `esc`, rewritten to escape with a backslash.
fn like_pattern(pattern: Option<String>, esc: Option<String>) -> Option<String> {
    let pattern = pattern?;
    let Some(e) = esc.and_then(|e| e.chars().next()) else { return Some(pattern.replace('\\', "\\\\")) };
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c == e => {
                out.push('\\');
                out.extend(chars.next());
            }
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    Some(out)
}

fn expanded_fields() -> arrow::datatypes::Fields {
    vec![Field::new("x", DataType::Int32, true), Field::new("n", DataType::Int32, false)].into()
}

/// `information_schema._pg_expandarray`'s rows, as one list of (x, n) structs to unnest.
fn expanded_type(_: &[DataType]) -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Struct(expanded_fields()), true)))
}

/// Each element of an array with its 1-based position (pgjdbc lists primary keys with it).
fn expand_array(arg: Option<&ScalarValue>) -> Result<ScalarValue> {
    use arrow::array::{Array, ArrayRef, Int32Array, ListArray, StructArray};
    let mut values = Vec::new();
    if let Some(ScalarValue::List(l)) = arg
        && !l.is_null(0)
    {
        let items = l.value(0);
        for i in 0..items.len() {
            values.push(as_int(&ScalarValue::try_from_array(&items, i)?).map(|v| v as i32));
        }
    }
    let n = Int32Array::from_iter_values(1..=values.len() as i32);
    let columns: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(values)), Arc::new(n)];
    let structs = StructArray::try_new(expanded_fields(), columns, None)?;
    let DataType::List(item) = expanded_type(&[]) else { unreachable!("a list type") };
    let list = ListArray::try_new(item, arrow::buffer::OffsetBuffer::from_lengths([structs.len()]), Arc::new(structs), None)?;
    Ok(ScalarValue::List(Arc::new(list)))
}

/// `name=value` options as psql lists them: `name 'value'`.
fn quoted_options(arg: Option<&ScalarValue>) -> ScalarValue {
    let mut out = Vec::new();
    if let Some(ScalarValue::List(l)) = arg
        && !arrow::array::Array::is_null(l.as_ref(), 0)
    {
        let items = l.value(0);
        for i in 0..arrow::array::Array::len(items.as_ref()) {
            let Ok(v) = ScalarValue::try_from_array(&items, i) else { continue };
            let Some(option) = as_text(&v) else { continue };
            let (name, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
            out.push(text(format!("{} {}", quote_ident(name), quote_literal(value))));
        }
    }
    ScalarValue::List(ScalarValue::new_list_nullable(&out, &DataType::Utf8))
}

fn regclass(l: &Lookup, a: &[ScalarValue]) -> Result<ScalarValue> {
    let Some(v) = a.first() else { return exec_err!("regclass needs an argument") };
    if is_text(v) {
        let Some(name) = as_text(v) else { return Ok(ScalarValue::Int64(None)) };
        return match l.by_name(&name) {
            Some(r) => Ok(ScalarValue::Int64(Some(r.oid))),
            None if name.chars().all(|c| c.is_ascii_digit()) => Ok(ScalarValue::Int64(name.parse().ok())),
            None => Err(pg_error(SqlState::UndefinedTable, format!("relation \"{name}\" does not exist"))),
        };
    }
    Ok(as_int(v).map_or(null_text(), |o| text(l.by_oid(o).map_or(o.to_string(), |r| l.display_name(r)))))
}

fn type_by_name(name: &str) -> Option<i64> {
    let n = name.trim().to_lowercase();
    let n = n.trim_start_matches("pg_catalog.");
    let (base, array) = n.strip_suffix("[]").map_or((n, false), |b| (b, true));
    let alias = match base {
        "int" | "integer" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "boolean" => "bool",
        "real" => "float4",
        "double precision" => "float8",
        "character varying" => "varchar",
        "character" => "bpchar",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        "decimal" => "numeric",
        other => other,
    };
    let t = TYPES.iter().find(|t| t.name == alias || t.display == base)?;
    Some(i64::from(if array { t.array } else { t.oid }))
}

fn regtype(_: &Lookup, a: &[ScalarValue]) -> Result<ScalarValue> {
    let Some(v) = a.first() else { return exec_err!("regtype needs an argument") };
    if is_text(v) {
        let Some(name) = as_text(v) else { return Ok(ScalarValue::Int64(None)) };
        return match type_by_name(&name) {
            Some(oid) => Ok(ScalarValue::Int64(Some(oid))),
            None => Err(pg_error(SqlState::UndefinedObject, format!("type \"{name}\" does not exist"))),
        };
    }
    Ok(as_int(v).map_or(null_text(), |o| text(by_oid(o as u32).and_then(|_| format_type(o as u32, -1)).unwrap_or(o.to_string()))))
}

fn regnamespace(l: &Lookup, a: &[ScalarValue]) -> Result<ScalarValue> {
    let Some(v) = a.first() else { return exec_err!("regnamespace needs an argument") };
    let schemas = l.engine.upgrade().map(|e| e.schemas()).unwrap_or_default();
    if is_text(v) {
        let name = as_text(v).unwrap_or_default();
        let oid = schemas.iter().find(|s| s.name == name).map(|s| s.oid);
        return oid.map(|o| ScalarValue::Int64(Some(o))).ok_or_else(|| pg_error(SqlState::UndefinedSchema, format!("schema \"{name}\" does not exist")));
    }
    Ok(as_int(v).map_or(null_text(), |o| text(schemas.into_iter().find(|s| s.oid == o).map_or(o.to_string(), |s| quote_ident(&s.name)))))
}

fn regrole(_: &Lookup, a: &[ScalarValue]) -> Result<ScalarValue> {
    let Some(v) = a.first() else { return exec_err!("regrole needs an argument") };
    if is_text(v) {
        let name = as_text(v).unwrap_or_default();
        return match name.as_str() {
            super::OWNER => Ok(ScalarValue::Int64(Some(super::OWNER_OID))),
            _ => Err(pg_error(SqlState::UndefinedObject, format!("role \"{name}\" does not exist"))),
        };
    }
    Ok(as_int(v).map_or(null_text(), |o| text(role_name(o))))
}

fn current_schemas(l: &Lookup, implicit: Option<ScalarValue>) -> ScalarValue {
    let with_catalog = matches!(implicit, Some(ScalarValue::Boolean(Some(true))));
    let names: Vec<ScalarValue> = if with_catalog { l.lookup_path() } else { l.schemas() }.into_iter().map(text).collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&names, &DataType::Utf8))
}

fn array_len(a: &[ScalarValue]) -> Option<usize> {
    if a.get(1).and_then(as_int) != Some(1) {
        return None;
    }
    match a.first()? {
        ScalarValue::List(l) if !arrow::array::Array::is_null(l.as_ref(), 0) => Some(arrow::array::Array::len(l.value(0).as_ref())),
        _ => None,
    }
}

/// PostgreSQL's `format(fmt, args...)`: `%s` the text (NULL as nothing),
/// Splits `a."B".c` into its identifiers, as PostgreSQL's `parse_ident`.
fn parse_ident(s: &str) -> std::result::Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut chars = s.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(format!("string is not a valid identifier: \"{s}\"")),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != '.') {
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            part = part.trim().to_string();
            if part.is_empty() {
                return Err(format!("string is not a valid identifier: \"{s}\""));
            }
        }
        parts.push(part);
        match chars.next() {
            Some('.') => continue,
            None => return Ok(parts),
            Some(_) => return Err(format!("string is not a valid identifier: \"{s}\"")),
        }
    }
}

fn parse_ident_value(s: Option<String>) -> Result<ScalarValue> {
    let Some(s) = s else { return Ok(ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Utf8))) };
    let parts = parse_ident(&s).map_err(|e| pg_error(SqlState::InvalidParameterValue, e))?;
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(&parts.into_iter().map(text).collect::<Vec<_>>(), &DataType::Utf8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_parsing_follow_postgres() {
        assert_eq!(quote_ident("abc_1"), "abc_1");
        assert_eq!(quote_ident("Abc"), "\"Abc\"");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(parse_ident("public.\"My T\"").unwrap(), vec!["public", "My T"]);
        assert_eq!(parse_ident("Foo").unwrap(), vec!["foo"]);
        assert!(parse_ident("a.").is_err());
        assert_eq!(type_by_name("integer"), Some(23));
        assert_eq!(type_by_name("character varying[]"), Some(1015));
    }
}
