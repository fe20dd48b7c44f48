//! The hostile-input corpus: inputs built to break a parser or an engine, fed to the real binary. Each
//! must get a clear error (or the right answer), a normal exit code, and bounded output: the process
//! survives. The large inputs are built here rather than checked in.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .arg("--keep-going")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaleido starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("kaleido finishes");
    writer.join().expect("writer");
    output
}

/// Runs `input` and checks the exit code, that stdout is `stdout`, and that stderr mentions `message`
/// and stays short.
fn check(name: &str, input: &[u8], code: i32, stdout: &str, message: &str) {
    let output = run(input);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{name}: status {:?}, stderr {err}", output.status);
    assert_eq!(String::from_utf8_lossy(&output.stdout), stdout, "{name}");
    assert!(err.contains(message), "{name}: stderr lacks {message:?}:\n{err}");
    assert!(err.len() < 20_000, "{name}: {} bytes of diagnostics", err.len());
}

#[test]
fn invalid_utf8() {
    check("invalid UTF-8", b"1 + 2\n\xc3\x28 + 1\n", 65, "", "the input is not valid UTF-8");
}

#[test]
fn nul_bytes() {
    check("NUL bytes", b"1 +\0 2\n3\n", 65, "3\n", "unexpected character '\\0'");
}

#[test]
fn a_hundred_thousand_nested_parentheses() {
    let input = format!("{}1{}\n2\n", "(".repeat(100_000), ")".repeat(100_000));
    check("nesting", input.as_bytes(), 65, "2\n", "expression is nested too deeply (the limit is 8192 levels)");
}

#[test]
fn a_generated_program_of_ten_thousand_terms_runs() {
    let sum = format!("{}1\n", "1+".repeat(10_000));
    check("10,000 terms", sum.as_bytes(), 0, "10001\n", "");
    let sequence = format!("var n = 0;\n{}n\n", "n = n + 1 : ".repeat(10_000));
    check("10,000 statements", sequence.as_bytes(), 0, "10000\n", "");
}

#[test]
fn ten_megabyte_lines() {
    let sum = format!("{}1\n", "1+".repeat(5_000_000));
    check("10 MB sum", sum.as_bytes(), 65, "", "more than 1000000 operands");
    let name = format!("{} + 1\n", "x".repeat(10_000_000));
    check("10 MB name", name.as_bytes(), 65, "", "unknown variable `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...`");
    let comment = format!("#{}\n7\n", "c".repeat(10_000_000));
    check("10 MB comment", comment.as_bytes(), 0, "7\n", "");
}

#[test]
fn a_thousand_parameters_and_a_hundred_thousand_arguments() {
    let params: Vec<String> = (0..1000).map(|i| format!("p{i}")).collect();
    let def = format!("def wide({}) p0\n", params.join(" "));
    check("1,000 parameters", def.as_bytes(), 65, "", "`wide` has 1000 parameters; at most 64 are allowed");
    let call = format!("sin({})\n", vec!["1"; 100_000].join(", "));
    check("100,000 arguments", call.as_bytes(), 65, "", "a call passes at most 64 arguments");
}

#[test]
fn huge_and_tiny_literals() {
    check("huge", b"1e400\n", 65, "", "number literal `1e400` is too large for an f64");
    let long = format!("{}\n", "9".repeat(400));
    check("400 digits", long.as_bytes(), 65, "", "is too large for an f64");
    // Values print with Rust's `Display` (shortest round-trip digits, never an exponent).
    check("tiny", b"1e-400\n4.9e-324\n", 0, &format!("0\n{}\n", 4.9e-324), "");
}

#[test]
fn redefining_every_prelude_operator() {
    // `;` ends each expression (a line starting with `-` would otherwise continue the previous one) and
    // keeps its value to itself, so each value is printed.
    let input = b"def unary!(v) v + 1; def unary-(v) v * 10; def binary> 50 (a b) a * b;
def binary| 40 (a b) a - b; def binary& 30 (a b) a / b; def binary: 1 (x y) x;
printd(!1 : 99);
printd(-2 + 1 > 3);
printd(8 | 2 & 4);
";
    // `!1` is 2 and `:` now keeps its left side; `-2` is 20 and `>` (now `*`, precedence 50) binds
    // tighter than `+`; `|` (now `-`, 40) binds tighter than `&` (now `/`, 30).
    check("prelude", input, 0, "2\n23\n1.5\n", "");
}

#[test]
fn extern_of_a_symbol_that_does_not_exist() {
    check("extern", b"extern surely_not_a_symbol_anywhere(x)\n1\n", 65, "1\n", "no builtin or C function named");
}
