//! Fuzz target: the shell's line-editor helper (highlighting, hints, completion) on arbitrary Unicode
//! lines and cursor positions. None of it may panic, and a completion must start on a character boundary.
#![no_main]

use std::cell::RefCell;
use std::rc::Rc;

use kaleido::helper::{KalHelper, Known};
use libfuzzer_sys::fuzz_target;
use rustyline::completion::Completer;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;

fuzz_target!(|input: (String, u16, bool)| {
    let (line, pos, color) = input;
    let pos = usize::from(pos);
    let known = Known {
        functions: vec![("fib".into(), vec!["n".into()]), ("é".into(), vec!["x".into()])],
        globals: vec!["total".into()],
    };
    let files = rustyline::completion::FilenameCompleter::new();
    let helper = KalHelper { known: Rc::new(RefCell::new(known)), color, files };
    let history = rustyline::history::DefaultHistory::new();
    let context = rustyline::Context::new(&history);
    let _ = helper.highlight(&line, pos);
    let _ = helper.highlight_char(&line, pos, CmdKind::Other);
    let _ = helper.hint(&line, line.len(), &context);
    let (start, _) = helper.complete(&line, pos, &context).expect("completion never fails");
    assert!(start <= line.len() && line.is_char_boundary(start));
});
