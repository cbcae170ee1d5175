//! A small binary encoding for checkpointed state: little-endian integers,
//! length-prefixed byte strings and Arrow IPC for batches. Decoding never
//! panics on bad input; it returns an error that names what was cut short.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

#[derive(Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i128(&mut self, v: i128) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.0.push(v as u8);
        self
    }
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v);
        self
    }
    pub fn opt_bytes(&mut self, v: Option<&[u8]>) -> &mut Self {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.bytes(v);
        }
        self
    }
    /// Batches as one Arrow IPC stream (empty when there are none and no schema).
    pub fn batches(&mut self, schema: Option<&SchemaRef>, batches: &[RecordBatch]) -> std::io::Result<&mut Self> {
        let body = crate::storage::encode_batches(schema, batches)?;
        Ok(self.bytes(&body))
    }
}

pub struct Dec<'a> {
    buf: &'a [u8],
    what: &'static str,
}

pub type DecResult<T> = Result<T, String>;

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Dec<'a> {
        Dec { buf, what }
    }
    fn take(&mut self, n: usize) -> DecResult<&'a [u8]> {
        if self.buf.len() < n {
            return Err(format!("{} is cut short", self.what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    /// The next byte, not taken.
    pub fn peek(&self) -> Option<u8> {
        self.buf.first().copied()
    }
    pub fn skip(&mut self, n: usize) -> DecResult<()> {
        self.take(n).map(|_| ())
    }
    /// Whether everything was read (fields added later are read only when present).
    pub fn at_end(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn u64(&mut self) -> DecResult<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    pub fn i64(&mut self) -> DecResult<i64> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    pub fn i128(&mut self) -> DecResult<i128> {
        Ok(i128::from_le_bytes(self.take(16)?.try_into().expect("16 bytes")))
    }
    pub fn f64(&mut self) -> DecResult<f64> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    pub fn bool(&mut self) -> DecResult<bool> {
        Ok(self.take(1)?[0] != 0)
    }
    pub fn bytes(&mut self) -> DecResult<&'a [u8]> {
        let n = self.u64()?;
        let n = usize::try_from(n).map_err(|_| format!("{} has a bad length", self.what))?;
        self.take(n)
    }
    pub fn opt_bytes(&mut self) -> DecResult<Option<&'a [u8]>> {
        if self.bool()? { self.bytes().map(Some) } else { Ok(None) }
    }
    pub fn batches(&mut self) -> DecResult<Vec<RecordBatch>> {
        let body = self.bytes()?;
        crate::storage::decode_batches(body).map_err(|e| format!("{}: {e}", self.what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_short_input_is_an_error() {
        let mut e = Enc::default();
        e.u64(7).i64(-3).i128(1 << 100).f64(2.5).bool(true).bytes(b"abc").opt_bytes(None);
        let mut d = Dec::new(&e.0, "test state");
        assert_eq!(d.u64().unwrap(), 7);
        assert_eq!(d.i64().unwrap(), -3);
        assert_eq!(d.i128().unwrap(), 1 << 100);
        assert_eq!(d.f64().unwrap(), 2.5);
        assert!(d.bool().unwrap());
        assert_eq!(d.bytes().unwrap(), b"abc");
        assert_eq!(d.opt_bytes().unwrap(), None);
        let cut = &e.0[..e.0.len() - 3];
        let mut d = Dec::new(cut, "test state");
        d.u64().unwrap();
        d.i64().unwrap();
        d.i128().unwrap();
        d.f64().unwrap();
        d.bool().unwrap();
        assert_eq!(d.bytes().unwrap_err(), "test state is cut short");
    }
}
