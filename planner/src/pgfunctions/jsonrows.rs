//! JSON across rows, as PostgreSQL has it: the aggregates `json_agg`,
//! `jsonb_agg`, `json_object_agg` and `jsonb_object_agg` (planned as
//! DataFusion's `array_agg`, which brings ORDER BY and FILTER, finished by
//! `weir_json_agg_done` / `weir_json_object_agg_done`), and the set-returning
//! `json(b)_array_elements(_text)`, `json(b)_each(_text)` and
//! `json(b)_object_keys`: in a select list through `unnest` of
//! `weir_json_items`, in FROM as table functions of a constant.

use super::columnar;
use crate::pgtypes::tag_field;
use crate::types::jsonb_text;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;
use std::sync::Arc;

pub fn all() -> Vec<ScalarUDF> {
    [Kind::Agg, Kind::ObjectAgg, Kind::Items]
        .into_iter()
        .map(|kind| ScalarUDF::new_from_impl(RowsFn { kind, signature: Signature::any(2, Volatility::Immutable) }))
        .collect()
}

/// The set-returning JSON functions by name, with what each gives.
pub const SET_RETURNING: &[(&str, Items)] = &[
    ("jsonb_array_elements", Items::Elements),
    ("json_array_elements", Items::Elements),
    ("jsonb_array_elements_text", Items::ElementsText),
    ("json_array_elements_text", Items::ElementsText),
    ("jsonb_object_keys", Items::Keys),
    ("json_object_keys", Items::Keys),
    ("jsonb_each", Items::Each),
    ("json_each", Items::Each),
    ("jsonb_each_text", Items::EachText),
    ("json_each_text", Items::EachText),
];

/// What a set-returning JSON function makes of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Items {
    Elements,
    ElementsText,
    Keys,
    Each,
    EachText,
}

impl Items {
    /// The mode `weir_json_items` takes for this function in a select list
    /// (each row of `json_each` is a record there, which weir has not).
    pub fn mode(self) -> Option<&'static str> {
        match self {
            Items::Elements => Some("elements"),
            Items::ElementsText => Some("elements_text"),
            Items::Keys => Some("keys"),
            Items::Each | Items::EachText => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Agg,
    ObjectAgg,
    Items,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RowsFn {
    kind: Kind,
    signature: Signature,
}

fn invalid(state: crate::SqlState, msg: &str) -> datafusion::error::DataFusionError {
    crate::SqlError::new(state, msg).into()
}

/// The constant text of a literal argument (`'jsonb'`, `'elements'`).
fn constant(v: &ColumnarValue) -> Result<String> {
    match v {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s))) => Ok(s.clone()),
        _ => plan_err!("the second argument of a weir JSON row function must be a text literal"),
    }
}

fn parse(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|_| invalid(crate::SqlState::InvalidTextRepresentation, &format!("invalid input syntax for type json: {text}")))
}

/// `[a, b]` of the aggregated values' JSON texts (NULL elements are `null`).
fn agg(items: &dyn Array, jsonb: bool) -> Result<String> {
    let texts: Vec<Option<String>> = (0..items.len()).map(|i| item_text(items, i)).collect::<Result<_>>()?;
    if jsonb {
        let values = texts.iter().map(|t| t.as_deref().map_or(Ok(Value::Null), parse)).collect::<Result<Vec<_>>>()?;
        return Ok(jsonb_text(&Value::Array(values)));
    }
    Ok(format!("[{}]", texts.iter().map(|t| t.as_deref().unwrap_or("null")).collect::<Vec<_>>().join(", ")))
}

/// `{k: v}` of the aggregated (key, value) pairs; jsonb keeps the last of a key.
fn object_agg(pairs: &dyn Array, jsonb: bool) -> Result<String> {
    let Some(pairs) = pairs.as_struct_opt().filter(|p| p.num_columns() == 2) else {
        return plan_err!("weir_json_object_agg_done takes a list of (key, value) pairs");
    };
    let (keys, values) = (pairs.column(0), pairs.column(1));
    let mut map = serde_json::Map::new();
    let mut json = Vec::with_capacity(pairs.len());
    for i in 0..pairs.len() {
        let Some(key) = item_text(keys.as_ref(), i)? else {
            return Err(invalid(crate::SqlState::InvalidParameterValue, "field name must not be null"));
        };
        let value = item_text(values.as_ref(), i)?;
        if jsonb {
            map.insert(key, value.as_deref().map_or(Ok(Value::Null), parse)?);
        } else {
            json.push(format!("{} : {}", Value::String(key), value.as_deref().unwrap_or("null")));
        }
    }
    Ok(if jsonb { jsonb_text(&Value::Object(map)) } else { format!("{{ {} }}", json.join(", ")) })
}

fn item_text(a: &dyn Array, i: usize) -> Result<Option<String>> {
    let v = ScalarValue::try_from_array(a, i)?;
    Ok(match v {
        v if v.is_null() => None,
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => Some(s),
        other => Some(other.to_string()),
    })
}

/// The rows a set-returning JSON function gives for one value: each row's
/// columns (key and value, or one value), NULL where the value is SQL NULL.
fn rows_of(j: &Value, items: Items, name: &str) -> Result<Vec<Vec<Option<String>>>> {
    let what = match j {
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        _ => "a scalar",
    };
    let text = |v: &Value| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(jsonb_text(other)),
    };
    match (items, j) {
        (Items::Elements, Value::Array(a)) => Ok(a.iter().map(|v| vec![Some(jsonb_text(v))]).collect()),
        (Items::ElementsText, Value::Array(a)) => Ok(a.iter().map(|v| vec![text(v)]).collect()),
        (Items::Elements | Items::ElementsText, _) => Err(invalid(crate::SqlState::InvalidParameterValue, &format!("cannot extract elements from {what}"))),
        (Items::Keys, Value::Object(m)) => Ok(sorted(m).into_iter().map(|(k, _)| vec![Some(k.clone())]).collect()),
        (Items::Each, Value::Object(m)) => Ok(sorted(m).into_iter().map(|(k, v)| vec![Some(k.clone()), Some(jsonb_text(v))]).collect()),
        (Items::EachText, Value::Object(m)) => Ok(sorted(m).into_iter().map(|(k, v)| vec![Some(k.clone()), text(v)]).collect()),
        (Items::Keys, _) => Err(invalid(crate::SqlState::InvalidParameterValue, &format!("cannot call {name} on {what}"))),
        (_, _) => Err(invalid(crate::SqlState::InvalidParameterValue, &format!("cannot deconstruct {what}"))),
    }
}

/// An object's members in jsonb's order (shorter keys first, then bytewise).
fn sorted(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut members: Vec<_> = m.iter().collect();
    members.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
    members
}

impl RowsFn {
    fn one(&self, list: &dyn Array, mode: &str) -> Result<Option<String>> {
        match self.kind {
            Kind::Agg => agg(list, mode == "jsonb").map(Some),
            Kind::ObjectAgg => object_agg(list, mode == "jsonb").map(Some),
            Kind::Items => unreachable!("weir_json_items returns lists"),
        }
    }

    fn items(&self, args: &ScalarFunctionArgs, mode: &str) -> Result<ColumnarValue> {
        let items = match mode {
            "elements" => Items::Elements,
            "elements_text" => Items::ElementsText,
            _ => Items::Keys,
        };
        // Always an array: a scalar list would lose the element field's jsonb tag.
        let values = args.args[0].to_array(args.number_rows)?;
        let mut out = ListBuilder::new(StringBuilder::new()).with_field(item_field(mode));
        for i in 0..values.len() {
            match item_text(values.as_ref(), i)? {
                None => out.append_null(),
                Some(t) => {
                    for row in rows_of(&parse(&t)?, items, "jsonb_object_keys")? {
                        out.values().append_option(row[0].as_deref());
                    }
                    out.append(true);
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The element field of `weir_json_items`'s list: jsonb for `elements`.
fn item_field(mode: &str) -> FieldRef {
    let f = Field::new("item", DataType::Utf8, true);
    Arc::new(if mode == "elements" { tag_field(f, "jsonb") } else { f })
}

impl ScalarUDFImpl for RowsFn {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Agg => "weir_json_agg_done",
            Kind::ObjectAgg => "weir_json_object_agg_done",
            Kind::Items => "weir_json_items",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::Items => DataType::List(item_field("elements")),
            _ => DataType::Utf8,
        })
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let mode = match args.scalar_arguments.get(1) {
            Some(Some(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)))) => s.as_str(),
            _ => return plan_err!("{} takes a text literal as its second argument", self.name()),
        };
        Ok(Arc::new(match self.kind {
            Kind::Items => Field::new(self.name(), DataType::List(item_field(mode)), true),
            _ => tag_field(Field::new(self.name(), DataType::Utf8, true), mode),
        }))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mode = constant(&args.args[1])?;
        if self.kind == Kind::Items {
            return self.items(&args, &mode);
        }
        let all_scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let lists = args.args[0].to_array(if all_scalar { 1 } else { args.number_rows })?;
        let mut out = StringBuilder::new();
        for i in 0..lists.len() {
            match lists.as_list_opt::<i32>() {
                Some(l) if !l.is_null(i) => out.append_option(self.one(l.value(i).as_ref(), &mode)?),
                _ => out.append_null(),
            }
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

/// `SELECT * FROM jsonb_each('...')`: a set-returning JSON function of a
/// constant in FROM.
#[derive(Debug)]
pub struct JsonTable {
    pub name: &'static str,
    pub items: Items,
}

impl JsonTable {
    fn schema(&self) -> Schema {
        let json_kind = if self.name.starts_with("jsonb") { "jsonb" } else { "json" };
        let value = |tagged: bool| {
            let f = Field::new("value", DataType::Utf8, true);
            if tagged { tag_field(f, json_kind) } else { f }
        };
        Schema::new(match self.items {
            Items::Elements => vec![value(true)],
            Items::ElementsText => vec![value(false)],
            Items::Keys => vec![Field::new(self.name, DataType::Utf8, true)],
            Items::Each => vec![Field::new("key", DataType::Utf8, true), value(true)],
            Items::EachText => vec![Field::new("key", DataType::Utf8, true), value(false)],
        })
    }
}

/// The text of a constant argument, through any casts around it.
fn constant_text(e: &Expr) -> Option<Option<String>> {
    match e {
        Expr::Literal(v, _) if v.is_null() => Some(None),
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)), _) => Some(Some(s.clone())),
        Expr::Cast(c) => constant_text(&c.expr),
        Expr::TryCast(c) => constant_text(&c.expr),
        _ => None,
    }
}

impl TableFunctionImpl for JsonTable {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [arg] = args.exprs() else { return plan_err!("function {} takes one argument", self.name) };
        let Some(text) = constant_text(arg) else {
            return Err(crate::SqlError::unsupported(format!("{} in FROM takes a constant in weir", self.name))
                .with_hint(format!("use {} in the select list, or pass a literal", self.name))
                .into());
        };
        let rows = match text {
            Some(t) => rows_of(&parse(&t)?, self.items, self.name)?,
            None => vec![],
        };
        let schema = Arc::new(self.schema());
        let columns: Vec<ArrayRef> = (0..schema.fields().len())
            .map(|c| Arc::new(rows.iter().map(|r| r[c].clone()).collect::<datafusion::arrow::array::StringArray>()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
