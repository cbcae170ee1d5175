//! `format(fmt, ...)`: PostgreSQL's `%s`, `%I` (an identifier), `%L` (a
//! literal, NULL as NULL), `%%`, `%n$s` (the n-th argument) and a width
//! (`%10s`, `%-10s`). A NULL format gives NULL.

use super::columnar;
use crate::names::{quote_ident, quote_literal};
use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility};
use std::sync::Arc;

pub fn format() -> ScalarUDF {
    ScalarUDF::new_from_impl(Format(Signature::one_of(vec![TypeSignature::VariadicAny], Volatility::Stable)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Format(Signature);

fn error(state: crate::SqlState, msg: &str) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(crate::SqlError::new(state, msg)))
}

/// A value's text as PostgreSQL's output functions write it (booleans `t`/`f`).
fn text_of(v: &ScalarValue) -> Option<String> {
    match v {
        v if v.is_null() => None,
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => s.clone(),
        ScalarValue::Boolean(Some(b)) => Some(if *b { "t" } else { "f" }.into()),
        other => Some(other.to_string()),
    }
}

fn format_row(a: &[ScalarValue]) -> Result<Option<String>> {
    let Some(fmt) = a.first().and_then(text_of) else { return Ok(None) };
    let args: Vec<Option<String>> = a[1..].iter().map(text_of).collect();
    let unterminated = || error(crate::SqlState::InvalidParameterValue, "unterminated format() type specifier");
    let mut out = String::new();
    let mut next = 0;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // `%n$`: the argument; then `-` and a width.
        let mut spec = String::new();
        while let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit() || *d == '$' || *d == '-') {
            spec.push(d);
            chars.next();
        }
        let (position, width) = match spec.split_once('$') {
            Some((n, w)) => (Some(n.parse::<usize>().map_err(|_| unterminated())?), w.to_string()),
            None => (None, spec),
        };
        if let Some(n) = position {
            next = n.saturating_sub(1);
        }
        let kind = chars.next().ok_or_else(unterminated)?;
        let arg = args.get(next).ok_or_else(|| error(crate::SqlState::InvalidParameterValue, "too few arguments for format()"))?;
        next += 1;
        let value = match (kind, arg) {
            ('s', v) => v.clone().unwrap_or_default(),
            ('I', Some(v)) => quote_ident(v),
            ('I', None) => return Err(error(crate::SqlState::NullValueNotAllowed, "null values cannot be formatted as an SQL identifier")),
            ('L', v) => v.as_deref().map_or("NULL".into(), quote_literal),
            (other, _) => return Err(error(crate::SqlState::InvalidParameterValue, &format!("unrecognized format() type specifier \"{other}\""))),
        };
        let (left, w) = match width.strip_prefix('-') {
            Some(w) => (true, w),
            None => (false, width.as_str()),
        };
        let w: usize = if w.is_empty() { 0 } else { w.parse().map_err(|_| unterminated())? };
        let pad = w.saturating_sub(value.chars().count());
        if left {
            out.push_str(&value);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&value);
        }
    }
    Ok(Some(out))
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }
    fn signature(&self) -> &Signature {
        &self.0
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        for row in 0..rows {
            let values = arrays.iter().map(|a| ScalarValue::try_from_array(a, row)).collect::<Result<Vec<_>>>()?;
            out.append_option(format_row(&values)?);
        }
        let array: ArrayRef = Arc::new(out.finish());
        columnar(array, all_scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_postgres() {
        let t = |s: &str| ScalarValue::Utf8(Some(s.into()));
        assert_eq!(format_row(&[t("|%10s|%-10s|"), t("r"), t("l")]).unwrap().unwrap(), "|         r|l         |");
        assert_eq!(format_row(&[t("%2$s %1$s %%"), t("a"), t("b")]).unwrap().unwrap(), "b a %");
        assert_eq!(format_row(&[t("%I=%L"), t("My Col"), ScalarValue::Utf8(None)]).unwrap().unwrap(), "\"My Col\"=NULL");
    }
}
