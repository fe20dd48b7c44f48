//! The wire format between a controller and an executor (issue 26's process boundary), shaped after
//! LLVM ORC's `SimpleRemoteEPC`: every message is a fixed 32-byte header of four little-endian `u64`s
//! (the whole message's length, the opcode, a sequence number, a tag) and a payload. Four opcodes:
//! `Setup` (the executor's first message), `Hangup`, `Call` (either way; the tag names what to call, the
//! sequence number pairs it with its `Result`) and `Result`. Payloads are fields: `u64`, `f64`, byte strings
//! and UTF-8 strings (length-prefixed).
//!
//! Both sides trust nothing they read: the decoder refuses a length below the header's or above
//! [`MAX_MESSAGE`], an unknown opcode, and a payload that ends inside a field or leaves bytes over, with a
//! typed error and never a panic (`fuzz/fuzz_targets/wire.rs` feeds it arbitrary bytes). A stream that ends
//! inside a message is [`WireError::Truncated`].
//!
//! This is the format only; the executor that speaks it is being built (issue 26).

/// Bytes in a header.
pub const HEADER: usize = 32;
/// The largest message either side accepts: code for one entry, or a snapshot of the globals, fits.
pub const MAX_MESSAGE: u64 = 64 << 20;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Opcode {
    /// The executor's first message: what it is and where its runtime lives.
    Setup = 1,
    /// Either side is closing the connection.
    Hangup = 2,
    /// The answer to the `Call` with the same sequence number.
    Result = 3,
    /// A call of the function the tag names, either way.
    Call = 4,
}

impl Opcode {
    fn from_wire(value: u64) -> Option<Opcode> {
        [Opcode::Setup, Opcode::Hangup, Opcode::Result, Opcode::Call].into_iter().find(|op| *op as u64 == value)
    }
}

/// One message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// What it is.
    pub opcode: Opcode,
    /// Pairs a `Call` with its `Result`.
    pub sequence: u64,
    /// What a `Call` calls (0 otherwise).
    pub tag: u64,
    /// The fields, encoded.
    pub payload: Vec<u8>,
}

/// Why bytes are not a valid message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The length field is below the header's own size.
    #[error("a message claims {0} bytes, fewer than its 32-byte header")]
    TooShort(u64),
    /// The length field is above [`MAX_MESSAGE`].
    #[error("a message claims {0} bytes, more than the 64 MiB limit")]
    TooLarge(u64),
    /// The opcode is none of the four.
    #[error("unknown opcode {0}")]
    UnknownOpcode(u64),
    /// The stream ended inside a message.
    #[error("the connection ended inside a message ({have} of {want} bytes)")]
    Truncated {
        /// Bytes received of it.
        have: usize,
        /// Bytes it needed (at least a header).
        want: usize,
    },
    /// A payload ended inside a field.
    #[error("a payload ends inside its {field} field")]
    FieldCut {
        /// The kind of field (`u64`, `f64`, `bytes`, `string`).
        field: &'static str,
    },
    /// A string field is not UTF-8.
    #[error("a string field is not UTF-8")]
    NotUtf8,
    /// A payload has bytes after its last field.
    #[error("a payload has {0} bytes after its last field")]
    Trailing(usize),
}

impl Message {
    /// A message with an empty payload.
    pub fn new(opcode: Opcode, sequence: u64, tag: u64) -> Message {
        Message { opcode, sequence, tag, payload: Vec::new() }
    }

    /// The message as bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER + self.payload.len());
        for word in [(HEADER + self.payload.len()) as u64, self.opcode as u64, self.sequence, self.tag] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes.extend_from_slice(&self.payload);
        bytes
    }

    /// Appends a `u64` field.
    pub fn push_u64(&mut self, value: u64) -> &mut Message {
        self.payload.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Appends an `f64` field (its bits: NaNs keep their payload).
    pub fn push_f64(&mut self, value: f64) -> &mut Message {
        self.push_u64(value.to_bits())
    }

    /// Appends a byte-string field.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> &mut Message {
        self.push_u64(bytes.len() as u64);
        self.payload.extend_from_slice(bytes);
        self
    }

    /// Appends a string field.
    pub fn push_str(&mut self, text: &str) -> &mut Message {
        self.push_bytes(text.as_bytes())
    }

    /// A reader of the payload's fields, from the first.
    pub fn fields(&self) -> Fields<'_> {
        Fields { rest: &self.payload }
    }
}

/// Reads a payload's fields in order; [`Fields::finish`] checks nothing is left over.
#[derive(Debug)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::FieldCut { field });
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    /// The next `u64` field.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        let bytes = self.take(8, "u64")?;
        Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| WireError::FieldCut { field: "u64" })?))
    }

    /// The next `f64` field.
    pub fn f64(&mut self) -> Result<f64, WireError> {
        self.u64().map(f64::from_bits).map_err(|_| WireError::FieldCut { field: "f64" })
    }

    /// The next byte-string field.
    pub fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.u64().map_err(|_| WireError::FieldCut { field: "bytes" })?;
        let len = usize::try_from(len).map_err(|_| WireError::FieldCut { field: "bytes" })?;
        self.take(len, "bytes")
    }

    /// The next string field.
    pub fn str(&mut self) -> Result<&'a str, WireError> {
        let bytes = self.bytes().map_err(|_| WireError::FieldCut { field: "string" })?;
        std::str::from_utf8(bytes).map_err(|_| WireError::NotUtf8)
    }

    /// Checks every byte was read.
    pub fn finish(self) -> Result<(), WireError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(WireError::Trailing(n)),
        }
    }
}

/// Cuts messages out of a byte stream as it arrives, in any pieces.
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: Vec<u8>,
}

impl Decoder {
    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole message, `None` until one has arrived, or why the stream is not valid (the
    /// connection should then be dropped: nothing after a bad header can be trusted).
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        let Some(header) = self.buffer.get(..HEADER) else { return Ok(None) };
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&header[i * 8..i * 8 + 8]);
            u64::from_le_bytes(bytes)
        };
        let (length, opcode, sequence, tag) = (word(0), word(1), word(2), word(3));
        if length < HEADER as u64 {
            return Err(WireError::TooShort(length));
        }
        if length > MAX_MESSAGE {
            return Err(WireError::TooLarge(length));
        }
        let opcode = Opcode::from_wire(opcode).ok_or(WireError::UnknownOpcode(opcode))?;
        let length = length as usize;
        if self.buffer.len() < length {
            return Ok(None);
        }
        let payload = self.buffer[HEADER..length].to_vec();
        self.buffer.drain(..length);
        Ok(Some(Message { opcode, sequence, tag, payload }))
    }

    /// At the end of the stream: an error if it ended inside a message.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let want = match self.buffer.get(..8) {
            Some(length) => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(length);
                (u64::from_le_bytes(bytes).clamp(HEADER as u64, MAX_MESSAGE)) as usize
            }
            None => HEADER,
        };
        Err(WireError::Truncated { have: self.buffer.len(), want })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Message {
        let mut message = Message::new(Opcode::Call, 7, 3);
        message.push_u64(42).push_f64(-0.5).push_bytes(&[1, 2, 3]).push_str("fib");
        message
    }

    #[test]
    fn a_message_round_trips_in_any_pieces() {
        let message = call();
        let bytes = message.encode();
        for piece in [1, 5, 32, bytes.len()] {
            let mut decoder = Decoder::default();
            let mut got = Vec::new();
            for chunk in bytes.chunks(piece) {
                decoder.push(chunk);
                while let Some(message) = decoder.next_message().unwrap() {
                    got.push(message);
                }
            }
            assert_eq!(got, vec![message.clone()], "in pieces of {piece}");
            decoder.finish().unwrap();
        }
        let mut fields = message.fields();
        assert_eq!(fields.u64().unwrap(), 42);
        assert_eq!(fields.f64().unwrap(), -0.5);
        assert_eq!(fields.bytes().unwrap(), &[1, 2, 3]);
        assert_eq!(fields.str().unwrap(), "fib");
        fields.finish().unwrap();
    }

    #[test]
    fn bad_headers_and_payloads_are_typed_errors() {
        let header = |length: u64, opcode: u64| {
            let mut bytes = Vec::new();
            for word in [length, opcode, 0, 0] {
                bytes.extend_from_slice(&word.to_le_bytes());
            }
            bytes
        };
        for (bytes, error) in [
            (header(8, 1), WireError::TooShort(8)),
            (header(MAX_MESSAGE + 1, 1), WireError::TooLarge(MAX_MESSAGE + 1)),
            (header(32, 9), WireError::UnknownOpcode(9)),
        ] {
            let mut decoder = Decoder::default();
            decoder.push(&bytes);
            assert_eq!(decoder.next_message(), Err(error));
        }
        let mut decoder = Decoder::default();
        decoder.push(&call().encode()[..40]);
        assert_eq!(decoder.next_message(), Ok(None));
        assert_eq!(decoder.finish(), Err(WireError::Truncated { have: 40, want: call().encode().len() }));
        let mut short = Message::new(Opcode::Result, 1, 0);
        short.push_u64(u64::MAX);
        assert_eq!(short.fields().bytes(), Err(WireError::FieldCut { field: "bytes" }));
        assert_eq!(short.fields().finish(), Err(WireError::Trailing(8)));
        let mut not_text = Message::new(Opcode::Result, 1, 0);
        not_text.push_bytes(&[0xff]);
        assert_eq!(not_text.fields().str(), Err(WireError::NotUtf8));
    }
}
