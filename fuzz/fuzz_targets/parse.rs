//! Fuzz target: arbitrary bytes through the front end (decode, lex, parse, check, render, completeness).
//! The front end must never panic or overflow the stack.
#![no_main]

use kaleido_lang::{Operators, analyze, completeness, decode, render_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = match decode(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    let mut operators = Operators::builtin();
    operators.define_unary('!');
    operators.define_binary('|', 5);
    let analysis = analyze(&text, &operators, &|name| name.starts_with('g'));
    let _ = render_all(&analysis.diagnostics, "<fuzz>", &text);
    let _ = completeness(&text, &operators, kaleido_lang::Limits::default());
});
