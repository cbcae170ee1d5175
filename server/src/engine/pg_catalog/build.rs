//! Builds a catalog relation from a column list written as text
//! (`"oid:oid relname:name relpages:int4=0"`) and rows that name only the
//! columns that differ from their defaults. Column kinds are PostgreSQL's
//! (`oid`, `name`, `"char"` are tagged so clients see those types).

use arrow::array::{
    ArrayRef, BooleanArray, Float32Array, Int16Array, Int16Builder, Int32Array, Int64Array, Int64Builder, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::Arc;
use weir_planner::pgtypes::tag_field;
use weir_planner::{SqlError, SqlResult};

/// A value in a catalog row.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Float(f64),
    List(Vec<V>),
}

impl From<i64> for V {
    fn from(v: i64) -> Self {
        V::Int(v)
    }
}
impl From<i32> for V {
    fn from(v: i32) -> Self {
        V::Int(v.into())
    }
}
impl From<u32> for V {
    fn from(v: u32) -> Self {
        V::Int(v.into())
    }
}
impl From<usize> for V {
    fn from(v: usize) -> Self {
        V::Int(v as i64)
    }
}
impl From<&str> for V {
    fn from(v: &str) -> Self {
        V::Text(v.into())
    }
}
impl From<String> for V {
    fn from(v: String) -> Self {
        V::Text(v)
    }
}
impl From<char> for V {
    fn from(v: char) -> Self {
        V::Text(v.to_string())
    }
}
impl From<bool> for V {
    fn from(v: bool) -> Self {
        V::Bool(v)
    }
}
impl<T: Into<V>> From<Option<T>> for V {
    fn from(v: Option<T>) -> Self {
        v.map_or(V::Null, Into::into)
    }
}
impl<T: Into<V>> From<Vec<T>> for V {
    fn from(v: Vec<T>) -> Self {
        V::List(v.into_iter().map(Into::into).collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Oid,
    Name,
    Text,
    Char,
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    TextArray,
    Int2Array,
    OidArray,
    /// int2vector and oidvector: arrays whose text is `1 2`, subscripts from 0.
    Int2Vector,
    OidVector,
    Timestamptz,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s {
            "oid" | "regproc" | "xid" => Kind::Oid,
            "name" => Kind::Name,
            "text" => Kind::Text,
            "char" => Kind::Char,
            "bool" => Kind::Bool,
            "int2" => Kind::Int2,
            "int4" => Kind::Int4,
            "int8" => Kind::Int8,
            "float4" => Kind::Float4,
            "text[]" => Kind::TextArray,
            "int2[]" => Kind::Int2Array,
            "oid[]" => Kind::OidArray,
            "int2vector" => Kind::Int2Vector,
            "oidvector" => Kind::OidVector,
            "timestamptz" => Kind::Timestamptz,
            other => panic!("unknown catalog column kind {other}"),
        }
    }

    fn field(self, name: &str) -> Field {
        let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        let f = |t: DataType| Field::new(name, t, true);
        match self {
            Kind::Oid => tag_field(f(DataType::Int64), "oid"),
            Kind::Name => tag_field(f(DataType::Utf8), "name"),
            Kind::Char => tag_field(f(DataType::Utf8), "char"),
            Kind::Text => f(DataType::Utf8),
            Kind::Bool => f(DataType::Boolean),
            Kind::Int2 => f(DataType::Int16),
            Kind::Int4 => f(DataType::Int32),
            Kind::Int8 => f(DataType::Int64),
            Kind::Float4 => f(DataType::Float32),
            Kind::TextArray => f(list(DataType::Utf8)),
            Kind::Int2Array => f(list(DataType::Int16)),
            Kind::OidArray => f(list(DataType::Int64)),
            Kind::Int2Vector => tag_field(f(list(DataType::Int16)), "int2vector"),
            Kind::OidVector => tag_field(f(list(DataType::Int64)), "oidvector"),
            Kind::Timestamptz => f(DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))),
        }
    }

    fn default_value(self, text: &str) -> V {
        match self {
            Kind::Bool => V::Bool(text == "t"),
            Kind::Oid | Kind::Int2 | Kind::Int4 | Kind::Int8 => V::Int(text.parse().expect("integer default")),
            Kind::Float4 => V::Float(text.parse().expect("float default")),
            _ => V::Text(text.to_string()),
        }
    }
}

struct Col {
    name: &'static str,
    kind: Kind,
    default: V,
}

/// A relation's columns, read from its text form.
pub struct Spec(Vec<Col>);

impl Spec {
    /// Reads `name:kind[=default] ...` (whitespace between columns).
    pub fn parse(text: &'static str) -> Spec {
        Spec(
            text.split_whitespace()
                .map(|c| {
                    let (name, rest) = c.split_once(':').expect("column is name:kind");
                    let (kind, default) = rest.split_once('=').map_or((rest, None), |(k, d)| (k, Some(d)));
                    let kind = Kind::parse(kind);
                    Col { name, kind, default: default.map_or(V::Null, |d| kind.default_value(d)) }
                })
                .collect(),
        )
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.0.iter().map(|c| c.kind.field(c.name)).collect::<Vec<_>>()))
    }
}

/// Rows being built for a [`Spec`].
pub struct Rows {
    spec: Spec,
    rows: Vec<Vec<V>>,
    error: Option<String>,
}

impl Rows {
    pub fn new(spec: Spec) -> Rows {
        Rows { spec, rows: Vec::new(), error: None }
    }

    /// Adds a row: the named columns take the given values, the rest their defaults.
    pub fn add(&mut self, values: Vec<(&str, V)>) {
        let mut row: Vec<V> = self.spec.0.iter().map(|c| c.default.clone()).collect();
        for (name, v) in values {
            match self.spec.0.iter().position(|c| c.name == name) {
                Some(i) => row[i] = v,
                None => self.error = Some(format!("catalog relation has no column {name}")),
            }
        }
        self.rows.push(row);
    }

    pub fn finish(self) -> SqlResult<(SchemaRef, RecordBatch)> {
        if let Some(e) = self.error {
            return Err(SqlError::internal(e));
        }
        let schema = self.spec.schema();
        let columns = self.spec.0.iter().enumerate().map(|(i, c)| column(c.kind, self.rows.iter().map(|r| &r[i]))).collect::<SqlResult<Vec<_>>>()?;
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok((schema, batch))
    }
}

fn int(v: &V) -> SqlResult<Option<i64>> {
    match v {
        V::Null => Ok(None),
        V::Int(i) => Ok(Some(*i)),
        other => Err(SqlError::internal(format!("catalog value {other:?} is not an integer"))),
    }
}

fn text(v: &V) -> SqlResult<Option<String>> {
    match v {
        V::Null => Ok(None),
        V::Text(s) => Ok(Some(s.clone())),
        other => Err(SqlError::internal(format!("catalog value {other:?} is not text"))),
    }
}

fn column<'a>(kind: Kind, values: impl Iterator<Item = &'a V>) -> SqlResult<ArrayRef> {
    let values: Vec<&V> = values.collect();
    let ints = || values.iter().map(|v| int(v)).collect::<SqlResult<Vec<_>>>();
    Ok(match kind {
        Kind::Oid | Kind::Int8 => Arc::new(Int64Array::from(ints()?)),
        Kind::Int4 => Arc::new(Int32Array::from(ints()?.into_iter().map(|v| v.map(|i| i as i32)).collect::<Vec<_>>())),
        Kind::Int2 => Arc::new(Int16Array::from(ints()?.into_iter().map(|v| v.map(|i| i as i16)).collect::<Vec<_>>())),
        Kind::Name | Kind::Text | Kind::Char => Arc::new(StringArray::from(values.iter().map(|v| text(v)).collect::<SqlResult<Vec<_>>>()?)),
        Kind::Bool => Arc::new(values.iter().map(|v| if let V::Bool(b) = v { Some(*b) } else { None }).collect::<BooleanArray>()),
        Kind::Float4 => Arc::new(values.iter().map(|v| if let V::Float(f) = v { Some(*f as f32) } else { None }).collect::<Float32Array>()),
        Kind::Timestamptz => Arc::new(TimestampMicrosecondArray::from(ints()?).with_timezone("+00:00")),
        Kind::TextArray => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for v in &values {
                list_of(v, &mut b, |b, item| {
                    b.values().append_option(text(item)?);
                    Ok(())
                })?;
            }
            Arc::new(b.finish())
        }
        Kind::Int2Array | Kind::Int2Vector => {
            let mut b = ListBuilder::new(Int16Builder::new());
            for v in &values {
                list_of(v, &mut b, |b, item| {
                    b.values().append_option(int(item)?.map(|i| i as i16));
                    Ok(())
                })?;
            }
            Arc::new(b.finish())
        }
        Kind::OidArray | Kind::OidVector => {
            let mut b = ListBuilder::new(Int64Builder::new());
            for v in &values {
                list_of(v, &mut b, |b, item| {
                    b.values().append_option(int(item)?);
                    Ok(())
                })?;
            }
            Arc::new(b.finish())
        }
    })
}

fn list_of<B: arrow::array::ArrayBuilder>(v: &V, b: &mut ListBuilder<B>, mut push: impl FnMut(&mut ListBuilder<B>, &V) -> SqlResult<()>) -> SqlResult<()> {
    match v {
        V::Null => b.append(false),
        V::List(items) => {
            for item in items {
                push(b, item)?;
            }
            b.append(true);
        }
        other => return Err(SqlError::internal(format!("catalog value {other:?} is not a list"))),
    }
    Ok(())
}
