//! bytea as PostgreSQL has it, where DataFusion's functions by the same
//! names refuse binary input or lack a form: `length` and `octet_length`,
//! `substring ... FROM ... FOR` (`substr`), `btrim`, `position ... IN`
//! (`strpos`), `encode`/`decode` with `escape`, and `get_byte`, `set_byte`,
//! `get_bit`, `convert_to`, `convert_from`. With text arguments the
//! functions stay DataFusion's.

use crate::{SqlError, SqlState};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Length,
    Substr,
    Btrim,
    Position,
    Encode,
    Decode,
    GetByte,
    SetByte,
    GetBit,
    ConvertTo,
    ConvertFrom,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ByteaFn {
    name: &'static str,
    op: Op,
    /// DataFusion's function by this name, which text arguments still get.
    inner: Option<Arc<ScalarUDF>>,
    signature: Signature,
}

pub fn all() -> Vec<ScalarUDF> {
    use datafusion::functions::{encoding, string, unicode};
    let ops: [(&'static str, Op, Option<Arc<ScalarUDF>>); 12] = [
        ("length", Op::Length, Some(unicode::character_length())),
        ("octet_length", Op::Length, Some(string::octet_length())),
        ("substr", Op::Substr, Some(unicode::substr())),
        ("btrim", Op::Btrim, Some(string::btrim())),
        ("strpos", Op::Position, Some(unicode::strpos())),
        ("encode", Op::Encode, Some(encoding::encode())),
        ("decode", Op::Decode, Some(encoding::decode())),
        ("get_byte", Op::GetByte, None),
        ("set_byte", Op::SetByte, None),
        ("get_bit", Op::GetBit, None),
        ("convert_to", Op::ConvertTo, None),
        ("convert_from", Op::ConvertFrom, None),
    ];
    ops.into_iter()
        .map(|(name, op, inner)| ScalarUDF::new_from_impl(ByteaFn { name, op, inner, signature: Signature::user_defined(Volatility::Immutable) }))
        .collect()
}

fn is_binary(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_))
}

impl ByteaFn {
    /// Whether these argument types take weir's bytea form of the function.
    fn takes(&self, types: &[DataType]) -> bool {
        match self.op {
            Op::ConvertTo => true,
            // DataFusion's encode and decode take bytea; `escape` is caught when run.
            Op::Encode | Op::Decode => false,
            Op::Position => types.iter().any(is_binary),
            _ => types.first().is_some_and(is_binary) || self.inner.is_none(),
        }
    }

    /// The argument types of the bytea form.
    fn bytea_types(&self, n: usize) -> Vec<DataType> {
        use DataType::{Binary, Int64, Utf8};
        match self.op {
            Op::Length => vec![Binary],
            Op::Substr => [Binary, Int64, Int64][..n.clamp(2, 3)].to_vec(),
            Op::Btrim | Op::Position => vec![Binary, Binary],
            Op::GetByte | Op::GetBit => vec![Binary, Int64],
            Op::SetByte => vec![Binary, Int64, Int64],
            Op::Encode | Op::ConvertFrom => vec![Binary, Utf8],
            Op::ConvertTo | Op::Decode => vec![Utf8, Utf8],
        }
    }

    fn result_type(&self) -> DataType {
        match self.op {
            Op::Length | Op::GetByte | Op::GetBit => DataType::Int32,
            Op::Position => DataType::Int32,
            Op::Encode | Op::ConvertFrom => DataType::Utf8,
            _ => DataType::Binary,
        }
    }

    /// DataFusion's function, with PostgreSQL's base64 (padded, in lines of
    /// 76) and its error for an encoding it does not know.
    fn datafusion_form(&self, inner: &ScalarUDF, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let format = match args.args.get(1) {
            Some(ColumnarValue::Scalar(v)) if matches!(self.op, Op::Encode | Op::Decode) => v.try_as_str().flatten().map(str::to_lowercase),
            _ => None,
        };
        match format.as_deref() {
            None | Some("hex") => inner.invoke_with_args(args),
            Some("base64") if self.op == Op::Encode => {
                args.args[1] = ColumnarValue::Scalar(ScalarValue::Utf8(Some("base64pad".into())));
                let rows = args.number_rows;
                let encoded = inner.invoke_with_args(args)?.to_array(rows)?;
                let Some(text) = encoded.as_string_opt::<i32>() else { return Ok(ColumnarValue::Array(encoded)) };
                let lines: datafusion::arrow::array::StringArray = text.iter().map(|t| t.map(base64_lines)).collect();
                Ok(ColumnarValue::Array(Arc::new(lines)))
            }
            Some("base64") => inner.invoke_with_args(args),
            Some(other) => Err(err(SqlState::InvalidParameterValue, format!("unrecognized encoding: \"{other}\""))),
        }
    }

    /// `encode(b, 'escape')` or `decode(s, 'escape')`, which DataFusion lacks.
    fn escape_form(&self, args: &[ColumnarValue]) -> bool {
        matches!(self.op, Op::Encode | Op::Decode)
            && matches!(args.get(1), Some(ColumnarValue::Scalar(v)) if v.try_as_str().flatten().is_some_and(|f| f.eq_ignore_ascii_case("escape")))
    }
}

impl ScalarUDFImpl for ByteaFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match &self.inner {
            _ if self.takes(types) => Ok(self.bytea_types(types.len())),
            Some(inner) => {
                let fields: Vec<FieldRef> = types.iter().map(|t| Arc::new(Field::new("a", t.clone(), true))).collect();
                Ok(datafusion::logical_expr::type_coercion::functions::fields_with_udf(&fields, inner.as_ref())?
                    .iter()
                    .map(|f| f.data_type().clone())
                    .collect())
            }
            None => plan_err!("function {}({types:?}) does not exist", self.name),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.result_type())
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        let decode_escape =
            self.op == Op::Decode && args.scalar_arguments.get(1).is_some_and(|v| v.is_some_and(|v| v.try_as_str().flatten() == Some("escape")));
        match &self.inner {
            Some(inner) if !self.takes(&types) && !decode_escape => inner.return_field_from_args(args),
            _ => Ok(Arc::new(Field::new(self.name, self.result_type(), true))),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.args.iter().map(|a| a.data_type()).collect();
        if let Some(inner) = &self.inner
            && !self.takes(&types)
            && !self.escape_form(&args.args)
        {
            return self.datafusion_form(inner, args);
        }
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let values = arrays.iter().map(|a| ScalarValue::try_from_array(a, row)).collect::<Result<Vec<_>>>()?;
            out.push(if values.iter().any(ScalarValue::is_null) { ScalarValue::try_from(self.result_type())? } else { self.one(&values)? });
        }
        if out.is_empty() {
            return Ok(ColumnarValue::Array(datafusion::arrow::array::new_empty_array(&self.result_type())));
        }
        let array = ScalarValue::iter_to_array(out)?;
        super::columnar(array, all_scalar)
    }
}

fn bytes(v: &ScalarValue) -> &[u8] {
    match v {
        ScalarValue::Binary(Some(b)) | ScalarValue::LargeBinary(Some(b)) | ScalarValue::BinaryView(Some(b)) | ScalarValue::FixedSizeBinary(_, Some(b)) => b,
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => s.as_bytes(),
        _ => &[],
    }
}

fn int(v: &ScalarValue) -> i64 {
    match v {
        ScalarValue::Int64(Some(n)) => *n,
        other => other.cast_to(&DataType::Int64).ok().and_then(|v| if let ScalarValue::Int64(n) = v { n } else { None }).unwrap_or(0),
    }
}

fn text(v: &ScalarValue) -> String {
    String::from_utf8_lossy(bytes(v)).into_owned()
}

fn err(state: SqlState, msg: String) -> datafusion::error::DataFusionError {
    SqlError::new(state, msg).into()
}

impl ByteaFn {
    fn one(&self, v: &[ScalarValue]) -> Result<ScalarValue> {
        let b = bytes(&v[0]);
        let bin = |x: Vec<u8>| ScalarValue::Binary(Some(x));
        Ok(match self.op {
            Op::Length => ScalarValue::Int32(Some(b.len() as i32)),
            Op::Substr => bin(substr(b, int(&v[1]), v.get(2).map(int))?),
            Op::Btrim => {
                let set = bytes(&v[1]);
                let start = b.iter().position(|c| !set.contains(c)).unwrap_or(b.len());
                let end = b.iter().rposition(|c| !set.contains(c)).map_or(start, |i| i + 1);
                bin(b[start..end.max(start)].to_vec())
            }
            Op::Position => {
                let needle = bytes(&v[1]);
                let at = if needle.is_empty() { Some(0) } else { b.windows(needle.len()).position(|w| w == needle) };
                ScalarValue::Int32(Some(at.map_or(0, |i| i as i32 + 1)))
            }
            Op::Encode => ScalarValue::Utf8(Some(escape(b))),
            Op::Decode => bin(unescape(b)?),
            Op::GetByte => ScalarValue::Int32(Some(b[index(b.len(), int(&v[1]))?] as i32)),
            Op::GetBit => {
                let n = int(&v[1]);
                let byte = b[index(b.len() * 8, n).map(|i| i / 8)?];
                ScalarValue::Int32(Some(((byte >> (n % 8)) & 1) as i32))
            }
            Op::SetByte => {
                let mut x = b.to_vec();
                x[index(b.len(), int(&v[1]))?] = int(&v[2]) as u8;
                bin(x)
            }
            Op::ConvertTo => {
                utf8_encoding(&text(&v[1]), "destination")?;
                bin(b.to_vec())
            }
            Op::ConvertFrom => {
                utf8_encoding(&text(&v[1]), "source")?;
                ScalarValue::Utf8(Some(utf8(b)?))
            }
        })
    }
}

/// PostgreSQL's `substring(b FROM start FOR count)`: 1-based, a start before
/// the first byte shortens the count.
fn substr(b: &[u8], start: i64, count: Option<i64>) -> Result<Vec<u8>> {
    if count.is_some_and(|c| c < 0) {
        return Err(err(SqlState::SubstringError, "negative substring length not allowed".into()));
    }
    let end = count.map_or(i64::MAX, |c| start.saturating_add(c));
    let (from, to) = (start.max(1) - 1, end.saturating_sub(1).min(b.len() as i64));
    Ok(if from >= to { vec![] } else { b[from as usize..to as usize].to_vec() })
}

fn index(len: usize, n: i64) -> Result<usize> {
    if n < 0 || n as usize >= len {
        return Err(err(SqlState::ArraySubscriptError, format!("index {n} out of valid range, 0..{}", len as i64 - 1)));
    }
    Ok(n as usize)
}

/// Base64 text in lines of 76 characters, as PostgreSQL's encode writes it.
fn base64_lines(t: &str) -> String {
    t.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")
}

/// `encode(b, 'escape')`: NUL and high bytes as `\ooo`, a backslash doubled.
fn escape(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for &c in b {
        match c {
            0 | 0x80.. => out.push_str(&format!("\\{c:03o}")),
            b'\\' => out.push_str("\\\\"),
            c => out.push(c as char),
        }
    }
    out
}

/// `decode(s, 'escape')`: `\ooo` and `\\` read back.
fn unescape(s: &[u8]) -> Result<Vec<u8>> {
    read_escape(s).ok_or_else(|| err(SqlState::InvalidTextRepresentation, "invalid input syntax for type bytea".into()))
}

/// bytea's escape format read into bytes (`a\000b\\`), None when a
/// backslash starts neither `\\` nor three octal digits.
pub fn read_escape(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
        } else if s.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = s.get(i + 1..i + 4).filter(|d| d[0] <= b'3' && d.iter().all(|c| (b'0'..=b'7').contains(c)))?;
            out.push(octal.iter().fold(0u8, |n, d| (n << 3) | (d - b'0')));
            i += 4;
        }
    }
    Some(out)
}

/// weir keeps text in UTF-8 only, so that is the one encoding these convert.
fn utf8_encoding(name: &str, which: &str) -> Result<()> {
    match name.to_uppercase().replace(['-', '_'], "").as_str() {
        "UTF8" | "UNICODE" => Ok(()),
        _ => Err(err(SqlState::InvalidParameterValue, format!("invalid {which} encoding name \"{name}\""))),
    }
}

fn utf8(b: &[u8]) -> Result<String> {
    String::from_utf8(b.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let shown: Vec<String> = b[at..].iter().take(2).map(|c| format!("0x{c:02x}")).collect();
        err(SqlState::CharacterNotInRepertoire, format!("invalid byte sequence for encoding \"UTF8\": {}", shown.join(" ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytea_forms() {
        assert_eq!(escape(&[0x00, 0x41, 0x0a, 0xff, b'\\']), "\\000A\n\\377\\\\");
        assert_eq!(unescape(b"a\\000b\\\\").unwrap(), vec![b'a', 0, b'b', b'\\']);
        assert!(unescape(b"\\9").is_err());
        assert_eq!(substr(&[0xde, 0xad, 0xbe, 0xef], 2, Some(2)).unwrap(), vec![0xad, 0xbe]);
        assert_eq!(substr(&[1, 2, 3], -1, Some(3)).unwrap(), vec![1]);
        assert!(index(1, 5).unwrap_err().to_string().contains("0..0"));
    }
}
