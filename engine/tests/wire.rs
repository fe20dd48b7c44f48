//! The controller–executor wire format against arbitrary input: any bytes, in any pieces, give messages
//! or a typed error, never a panic; every message round-trips; a stream cut anywhere inside a message is
//! `Truncated` at its end.

use kaleido_engine::wire::{Decoder, HEADER, Message, Opcode, WireError};
use proptest::prelude::*;

fn opcode() -> impl Strategy<Value = Opcode> {
    prop_oneof![Just(Opcode::Setup), Just(Opcode::Hangup), Just(Opcode::Result), Just(Opcode::Call)]
}

fn message() -> impl Strategy<Value = Message> {
    (opcode(), any::<u64>(), any::<u64>(), proptest::collection::vec(any::<u8>(), 0..200))
        .prop_map(|(opcode, sequence, tag, payload)| Message { opcode, sequence, tag, payload })
}

proptest! {
    #[test]
    fn any_bytes_in_any_pieces_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), piece in 1usize..64) {
        let mut decoder = Decoder::default();
        'stream: for chunk in bytes.chunks(piece) {
            decoder.push(chunk);
            loop {
                match decoder.next_message() {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(_) => break 'stream,
                }
            }
        }
        let _ = decoder.finish();
    }

    #[test]
    fn messages_round_trip_and_a_cut_stream_is_truncated(messages in proptest::collection::vec(message(), 1..5), cut in any::<prop::sample::Index>()) {
        let stream: Vec<u8> = messages.iter().flat_map(Message::encode).collect();
        let mut decoder = Decoder::default();
        decoder.push(&stream);
        let mut got = Vec::new();
        while let Some(message) = decoder.next_message().unwrap() {
            got.push(message);
        }
        prop_assert_eq!(&got, &messages);
        decoder.finish().unwrap();
        // Cut inside the last message: the ones before it arrive, then the end of the stream is an error.
        let last = messages.last().unwrap().encode().len();
        let at = stream.len() - last + cut.index(last);
        let mut decoder = Decoder::default();
        decoder.push(&stream[..at]);
        let mut count = 0;
        while decoder.next_message().unwrap().is_some() {
            count += 1;
        }
        prop_assert_eq!(count, messages.len() - 1);
        let truncated = matches!(decoder.finish(), Err(WireError::Truncated { .. }));
        prop_assert!(truncated || at == stream.len() - last, "a cut at {} of {}", at, stream.len());
        prop_assert!(HEADER == 32);
    }
}
