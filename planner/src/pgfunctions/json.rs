//! PostgreSQL's JSON operators (`->`, `->>`, `#>`, `#>>`, `@>`, `<@`, `?`,
//! `?|`, `?&`, `||`, `-`, `#-`) and the jsonb functions behind them
//! (`jsonb_extract_path`, `jsonb_typeof`, `jsonb_set`, ...). JSON values are
//! text columns tagged `json` or `jsonb` (`crate::types`); a result of JSON
//! type keeps its input's tag, and jsonb results print as PostgreSQL's do.

use super::columnar;
use crate::types::{PG_TYPE_KEY, jsonb_text};
use datafusion::arrow::array::{Array, ArrayRef, BooleanBuilder, Int32Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{ColumnarValue, Expr, ExprSchemable, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::sql::sqlparser::ast::BinaryOperator;
use serde_json::Value;
use std::sync::Arc;

/// What a JSON function gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Returns {
    /// JSON of the first argument's kind.
    Json,
    Text,
    Bool,
    Int,
}

type Body = fn(&[ScalarValue]) -> Result<Out>;

enum Out {
    Null,
    Json(Value),
    Text(String),
    Bool(bool),
    Int(i32),
}

#[derive(Debug)]
struct JsonFn {
    name: &'static str,
    returns: Returns,
    body: Body,
    signature: Signature,
}

impl PartialEq for JsonFn {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name
    }
}
impl Eq for JsonFn {}
impl std::hash::Hash for JsonFn {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name.hash(h)
    }
}

/// The functions, by name.
const FUNCTIONS: &[(&str, Returns, Body)] = &[
    ("weir_json_get", Returns::Json, |a| Ok(get(a).map_or(Out::Null, Out::Json))),
    ("weir_json_get_text", Returns::Text, |a| Ok(get(a).map_or(Out::Null, text_out))),
    ("weir_json_path", Returns::Json, |a| Ok(at_path(&a[0], &path_of(&a[1])?)?.map_or(Out::Null, Out::Json))),
    ("weir_json_path_text", Returns::Text, |a| Ok(at_path(&a[0], &path_of(&a[1])?)?.map_or(Out::Null, text_out))),
    ("jsonb_extract_path", Returns::Json, |a| Ok(at_path(&a[0], &variadic_path(&a[1..]))?.map_or(Out::Null, Out::Json))),
    ("json_extract_path", Returns::Json, |a| Ok(at_path(&a[0], &variadic_path(&a[1..]))?.map_or(Out::Null, Out::Json))),
    ("jsonb_extract_path_text", Returns::Text, |a| Ok(at_path(&a[0], &variadic_path(&a[1..]))?.map_or(Out::Null, text_out))),
    ("json_extract_path_text", Returns::Text, |a| Ok(at_path(&a[0], &variadic_path(&a[1..]))?.map_or(Out::Null, text_out))),
    ("weir_jsonb_contains", Returns::Bool, |a| Ok(Out::Bool(contains(&json(&a[0])?, &json(&a[1])?, true)))),
    ("weir_jsonb_exists", Returns::Bool, |a| Ok(Out::Bool(exists(&json(&a[0])?, &text_of(&a[1]))))),
    ("weir_jsonb_exists_any", Returns::Bool, |a| {
        let j = json(&a[0])?;
        Ok(Out::Bool(path_of(&a[1])?.iter().any(|k| exists(&j, k))))
    }),
    ("weir_jsonb_exists_all", Returns::Bool, |a| {
        let j = json(&a[0])?;
        Ok(Out::Bool(path_of(&a[1])?.iter().all(|k| exists(&j, k))))
    }),
    ("weir_jsonb_concat", Returns::Json, |a| Ok(Out::Json(concat(json(&a[0])?, json(&a[1])?)))),
    ("weir_jsonb_delete", Returns::Json, |a| delete(json(&a[0])?, &a[1]).map(Out::Json)),
    ("weir_jsonb_delete_path", Returns::Json, |a| Ok(Out::Json(delete_path(json(&a[0])?, &path_of(&a[1])?)))),
    ("jsonb_typeof", Returns::Text, |a| Ok(Out::Text(type_of(&json(&a[0])?).into()))),
    ("json_typeof", Returns::Text, |a| Ok(Out::Text(type_of(&json(&a[0])?).into()))),
    ("jsonb_array_length", Returns::Int, array_length),
    ("json_array_length", Returns::Int, array_length),
    ("jsonb_strip_nulls", Returns::Json, |a| Ok(Out::Json(strip_nulls(json(&a[0])?)))),
    ("jsonb_set", Returns::Json, |a| {
        let create = a.get(3).is_none_or(|c| matches!(c, ScalarValue::Boolean(Some(true))));
        Ok(Out::Json(set_path(json(&a[0])?, &path_of(&a[1])?, json(&a[2])?, create)))
    }),
];

/// Every JSON function.
pub fn all() -> Vec<ScalarUDF> {
    FUNCTIONS
        .iter()
        .map(|(name, returns, body)| {
            ScalarUDF::new_from_impl(JsonFn { name, returns: *returns, body: *body, signature: Signature::variadic_any(Volatility::Immutable) })
        })
        .collect()
}

/// `json` or `jsonb`, when a field is one.
fn json_kind(f: &Field) -> Option<&str> {
    f.metadata().get(PG_TYPE_KEY).map(String::as_str).filter(|t| *t == "json" || *t == "jsonb")
}

impl ScalarUDFImpl for JsonFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.returns {
            Returns::Json | Returns::Text => DataType::Utf8,
            Returns::Bool => DataType::Boolean,
            Returns::Int => DataType::Int32,
        })
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = Field::new(self.name, self.return_type(&[])?, true);
        if self.returns != Returns::Json {
            return Ok(Arc::new(field));
        }
        let kind = args.arg_fields.first().and_then(|f| json_kind(f)).unwrap_or("jsonb").to_string();
        Ok(Arc::new(crate::pgtypes::tag_field(field, &kind)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = if all_scalar { 1 } else { args.number_rows };
        let plain_json = args.arg_fields.first().and_then(|f| json_kind(f)) == Some("json");
        let mut out = Output::new(self.returns, rows);
        for row in 0..rows {
            let values = arrays.iter().map(|a| ScalarValue::try_from_array(a, row)).collect::<Result<Vec<_>>>()?;
            // Like PostgreSQL's strict functions: a NULL JSON input gives NULL.
            if values.first().is_none_or(ScalarValue::is_null) || values.get(1).is_some_and(ScalarValue::is_null) {
                out.push(Out::Null, plain_json);
            } else {
                out.push((self.body)(&values)?, plain_json);
            }
        }
        let array = out.finish();
        columnar(array, all_scalar)
    }
}

enum Output {
    Text(StringBuilder),
    Bool(BooleanBuilder),
    Int(Int32Builder),
}

impl Output {
    fn new(r: Returns, rows: usize) -> Output {
        match r {
            Returns::Json | Returns::Text => Output::Text(StringBuilder::with_capacity(rows, rows * 8)),
            Returns::Bool => Output::Bool(BooleanBuilder::with_capacity(rows)),
            Returns::Int => Output::Int(Int32Builder::with_capacity(rows)),
        }
    }
    fn push(&mut self, v: Out, plain_json: bool) {
        match (self, v) {
            (Output::Text(b), Out::Json(j)) => b.append_value(if plain_json { j.to_string() } else { jsonb_text(&j) }),
            (Output::Text(b), Out::Text(t)) => b.append_value(t),
            (Output::Bool(b), Out::Bool(v)) => b.append_value(v),
            (Output::Int(b), Out::Int(v)) => b.append_value(v),
            (Output::Text(b), _) => b.append_null(),
            (Output::Bool(b), _) => b.append_null(),
            (Output::Int(b), _) => b.append_null(),
        }
    }
    fn finish(self) -> ArrayRef {
        match self {
            Output::Text(mut b) => Arc::new(b.finish()),
            Output::Bool(mut b) => Arc::new(b.finish()),
            Output::Int(mut b) => Arc::new(b.finish()),
        }
    }
}

fn json_error(what: &str) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(
        crate::SqlState::InvalidTextRepresentation,
        format!("invalid input syntax for type json: {what}"),
    )))
}

fn invalid(msg: String) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(crate::SqlState::InvalidParameterValue, msg)))
}

fn text_of(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => s.clone(),
        other => other.to_string(),
    }
}

fn json(v: &ScalarValue) -> Result<Value> {
    let t = text_of(v);
    serde_json::from_str(&t).map_err(|_| json_error(&t))
}

/// A JSON value as `->>` gives it: strings without quotes, null as NULL.
fn text_out(v: Value) -> Out {
    match v {
        Value::Null => Out::Null,
        Value::String(s) => Out::Text(s),
        other => Out::Text(jsonb_text(&other)),
    }
}

/// `j -> key` or `j -> index` (negative counts from the end).
fn get(a: &[ScalarValue]) -> Option<Value> {
    let j = json(&a[0]).ok()?;
    match &a[1] {
        ScalarValue::Int8(_) | ScalarValue::Int16(_) | ScalarValue::Int32(_) | ScalarValue::Int64(_) => {
            let i = a[1].cast_to(&DataType::Int64).ok().and_then(|v| if let ScalarValue::Int64(i) = v { i } else { None })?;
            index(&j, i).cloned()
        }
        key => j.as_object()?.get(&text_of(key)).cloned(),
    }
}

fn index(j: &Value, i: i64) -> Option<&Value> {
    let items = j.as_array()?;
    let i = if i < 0 { items.len() as i64 + i } else { i };
    usize::try_from(i).ok().and_then(|i| items.get(i))
}

/// A path given as `text[]`: an array, or its text form `{a,b}`.
fn path_of(v: &ScalarValue) -> Result<Vec<String>> {
    match v {
        ScalarValue::List(l) => {
            let values = l.value(0);
            (0..values.len()).map(|i| ScalarValue::try_from_array(&values, i).map(|s| text_of(&s))).collect()
        }
        other => crate::pgtypes::parse_text_array(&text_of(other)).map_err(|e| invalid(format!("malformed array literal: {e}"))),
    }
}

fn variadic_path(a: &[ScalarValue]) -> Vec<String> {
    a.iter().map(text_of).collect()
}

fn at_path(v: &ScalarValue, path: &[String]) -> Result<Option<Value>> {
    let mut j = json(v)?;
    for step in path {
        let next = match &j {
            Value::Object(m) => m.get(step).cloned(),
            Value::Array(_) => step.parse::<i64>().ok().and_then(|i| index(&j, i).cloned()),
            _ => None,
        };
        match next {
            Some(n) => j = n,
            None => return Ok(None),
        }
    }
    Ok(Some(j))
}

/// jsonb's `@>`: every key and element of `b` is in `a`; at the top, a
/// scalar is contained in an array holding it.
fn contains(a: &Value, b: &Value, top: bool) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => y.iter().all(|(k, v)| x.get(k).is_some_and(|w| contains(w, v, false))),
        (Value::Array(x), Value::Array(y)) => y.iter().all(|v| x.iter().any(|w| contains(w, v, false))),
        (Value::Array(x), scalar) if top && !scalar.is_object() => x.iter().any(|w| same_scalar(w, scalar)),
        (x, y) => same_scalar(x, y),
    }
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(_) | Value::Object(_), _) => false,
        (x, y) => x == y,
    }
}

/// jsonb's `?`: a key of an object, or a string element of an array or the string itself.
fn exists(j: &Value, key: &str) -> bool {
    match j {
        Value::Object(m) => m.contains_key(key),
        Value::Array(items) => items.iter().any(|v| v.as_str() == Some(key)),
        Value::String(s) => s == key,
        _ => false,
    }
}

/// jsonb's `||`: objects merge (the right wins), otherwise arrays concatenate
/// with a non-array side taken as a one-element array.
fn concat(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut x), Value::Object(y)) => {
            x.extend(y);
            Value::Object(x)
        }
        (a, b) => {
            let as_items = |v: Value| match v {
                Value::Array(items) => items,
                other => vec![other],
            };
            let mut items = as_items(a);
            items.extend(as_items(b));
            Value::Array(items)
        }
    }
}

/// jsonb's `-`: a key (or matching string elements), an index, or keys.
fn delete(j: Value, what: &ScalarValue) -> Result<Value> {
    if let ScalarValue::Int8(_) | ScalarValue::Int16(_) | ScalarValue::Int32(_) | ScalarValue::Int64(_) = what {
        let i = match what.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(i)) => i,
            _ => return Ok(j),
        };
        return match j {
            Value::Array(mut items) => {
                let at = if i < 0 { items.len() as i64 + i } else { i };
                if let Ok(at) = usize::try_from(at)
                    && at < items.len()
                {
                    items.remove(at);
                }
                Ok(Value::Array(items))
            }
            Value::Object(_) => Err(invalid("cannot delete from object using integer index".into())),
            _ => Err(invalid("cannot delete from scalar".into())),
        };
    }
    let keys = match what {
        ScalarValue::List(_) => path_of(what)?,
        other => vec![text_of(other)],
    };
    Ok(match j {
        Value::Object(mut m) => {
            keys.iter().for_each(|k| {
                m.remove(k);
            });
            Value::Object(m)
        }
        Value::Array(items) => Value::Array(items.into_iter().filter(|v| !v.as_str().is_some_and(|s| keys.iter().any(|k| k == s))).collect()),
        _ => return Err(invalid("cannot delete from scalar".into())),
    })
}

/// The value at `steps` (keys of objects, indexes of arrays, negative from the end).
fn walk_mut<'a>(j: &'a mut Value, steps: &[String]) -> Option<&'a mut Value> {
    let mut at = j;
    for step in steps {
        at = match at {
            Value::Object(m) => m.get_mut(step)?,
            Value::Array(items) => {
                let i = step.parse::<i64>().ok()?;
                let len = items.len() as i64;
                items.get_mut(usize::try_from(if i < 0 { len + i } else { i }).ok()?)?
            }
            _ => return None,
        };
    }
    Some(at)
}

fn delete_path(mut j: Value, path: &[String]) -> Value {
    let Some((last, parents)) = path.split_last() else { return j };
    let Some(at) = walk_mut(&mut j, parents) else { return j };
    match at {
        Value::Object(m) => {
            m.remove(last);
        }
        Value::Array(items) => {
            if let Some(i) =
                last.parse::<i64>().ok().and_then(|i| usize::try_from(if i < 0 { items.len() as i64 + i } else { i }).ok()).filter(|i| *i < items.len())
            {
                items.remove(i);
            }
        }
        _ => {}
    }
    j
}

fn set_path(mut j: Value, path: &[String], new: Value, create: bool) -> Value {
    let Some((last, parents)) = path.split_last() else { return j };
    let Some(at) = walk_mut(&mut j, parents) else { return j };
    match at {
        Value::Object(m) if create || m.contains_key(last) => {
            m.insert(last.clone(), new);
        }
        Value::Array(items) => {
            if let Ok(i) = last.parse::<i64>() {
                let len = items.len() as i64;
                let at = if i < 0 { len + i } else { i };
                match usize::try_from(at) {
                    Ok(at) if at < items.len() => items[at] = new,
                    Ok(_) if create => items.push(new),
                    Err(_) if create => items.insert(0, new),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    j
}

fn type_of(j: &Value) -> &'static str {
    match j {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    }
}

fn array_length(a: &[ScalarValue]) -> Result<Out> {
    match json(&a[0])? {
        Value::Array(items) => Ok(Out::Int(items.len() as i32)),
        Value::Object(_) => Err(invalid("cannot get array length of a non-array".into())),
        _ => Err(invalid("cannot get array length of a scalar".into())),
    }
}

fn strip_nulls(j: Value) -> Value {
    match j {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Plans the JSON operators, which DataFusion does not have.
#[derive(Debug)]
pub struct JsonOperators;

impl ExprPlanner for JsonOperators {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        use BinaryOperator as B;
        let json_op = matches!(
            expr.op,
            B::Arrow
                | B::LongArrow
                | B::HashArrow
                | B::HashLongArrow
                | B::HashMinus
                | B::Question
                | B::QuestionPipe
                | B::QuestionAnd
                | B::AtArrow
                | B::ArrowAt
                | B::StringConcat
                | B::Minus
                | B::PGOverlap
        );
        // Other operators' operands may not have a type yet (`b = 't'`, read later as a boolean).
        let (Some(left), Some(right)) =
            (json_op.then(|| expr.left.to_field(schema).ok()).flatten(), json_op.then(|| expr.right.to_field(schema).ok()).flatten())
        else {
            return Ok(PlannerResult::Original(expr));
        };
        let (left, right) = (left.1, right.1);
        let texty = |f: &Field| matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
        let call = |name: &str, args: Vec<Expr>| -> Result<PlannerResult<RawBinaryExpr>> { Ok(PlannerResult::Planned(super::named(name).call(args))) };
        let (l, r) = (expr.left.clone(), expr.right.clone());
        match &expr.op {
            B::Arrow => call("weir_json_get", vec![l, r]),
            B::LongArrow => call("weir_json_get_text", vec![l, r]),
            B::HashArrow => call("weir_json_path", vec![l, r]),
            B::HashLongArrow => call("weir_json_path_text", vec![l, r]),
            B::HashMinus => call("weir_jsonb_delete_path", vec![l, r]),
            B::Question => call("weir_jsonb_exists", vec![l, r]),
            B::QuestionPipe => call("weir_jsonb_exists_any", vec![l, r]),
            B::QuestionAnd => call("weir_jsonb_exists_all", vec![l, r]),
            B::AtArrow if texty(&left) => call("weir_jsonb_contains", vec![l, r]),
            B::ArrowAt if texty(&right) => call("weir_jsonb_contains", vec![r, l]),
            // An untyped literal beside a jsonb is jsonb, as PostgreSQL resolves it.
            B::StringConcat if (json_kind(&left).is_some() && texty(&right)) || (json_kind(&right).is_some() && texty(&left)) => {
                call("weir_jsonb_concat", vec![l, r])
            }
            B::Minus if json_kind(&left).is_some() => call("weir_jsonb_delete", vec![l, r]),
            // Arrays' `&&` (inet's is `InetOperators`').
            B::PGOverlap if super::arrays::is_array(left.data_type()) || super::arrays::is_array(right.data_type()) => call("weir_array_overlap", vec![l, r]),
            _ => Ok(PlannerResult::Original(expr)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn operators_follow_postgres() {
        assert!(contains(&j(r#"{"a":1,"b":[1,2]}"#), &j(r#"{"b":[2]}"#), true));
        assert!(contains(&j("[1,2]"), &j("1"), true));
        assert!(!contains(&j(r#"{"a":{"b":1}}"#), &j(r#"{"b":1}"#), true));
        assert_eq!(jsonb_text(&concat(j("[1]"), j(r#"{"a":1}"#))), r#"[1, {"a": 1}]"#);
        assert_eq!(jsonb_text(&delete_path(j(r#"{"a":[1,2,3]}"#), &["a".into(), "-1".into()])), r#"{"a": [1, 2]}"#);
        assert_eq!(jsonb_text(&set_path(j(r#"{"a":[1]}"#), &["a".into(), "5".into()], j("9"), true)), r#"{"a": [1, 9]}"#);
    }
}
