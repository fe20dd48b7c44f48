//! The controller–executor wire decoder on arbitrary bytes: messages or a typed error, never a panic
//! or a hang; every message it returns re-encodes to the bytes it came from.
#![no_main]

use kaleido_engine::wire::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the piece size, so messages arrive split at every kind of boundary.
    let Some((&piece, bytes)) = data.split_first() else { return };
    let piece = usize::from(piece).max(1);
    let mut decoder = Decoder::default();
    let mut consumed = 0;
    for chunk in bytes.chunks(piece) {
        decoder.push(chunk);
        loop {
            match decoder.next_message() {
                Ok(Some(message)) => {
                    let encoded = message.encode();
                    assert_eq!(&bytes[consumed..consumed + encoded.len()], &encoded[..]);
                    consumed += encoded.len();
                    let mut fields = message.fields();
                    while fields.bytes().is_ok() {}
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = decoder.finish();
});
