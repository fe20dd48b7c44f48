//! What ends a line, the same everywhere: `\n`, `\r\n`, or a lone `\r` (classic Mac files, and what
//! the LLVM tutorial's lexer ends a comment at). The lexer ends comments there, so everything else that
//! reasons about lines (line numbers in diagnostics, where a script's items may start, where command
//! lines stand, the line a trailing comment ends) uses these functions, and a file with any kind of line
//! ends means the same.

/// Whether the byte at `at` of `text` ends a line (a `\r` followed by `\n` does not: the `\n` does).
pub fn ends_line(text: &str, at: usize) -> bool {
    let bytes = text.as_bytes();
    match bytes.get(at) {
        Some(b'\n') => true,
        Some(b'\r') => bytes.get(at + 1) != Some(&b'\n'),
        _ => false,
    }
}

/// Where each line after the first starts: the byte after each line end.
pub fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes().enumerate().filter(|&(at, _)| ends_line(text, at)).map(|(at, _)| at + 1)
}

/// Whether byte `at` starts a line (the start of the text, or just after a line end).
pub fn starts_line(text: &str, at: usize) -> bool {
    at == 0 || ends_line(text, at - 1)
}

/// Where the line holding byte `at` starts.
pub fn line_start(text: &str, at: usize) -> usize {
    (0..at.min(text.len())).rev().find(|&i| ends_line(text, i)).map_or(0, |i| i + 1)
}

/// Where the line holding byte `at` ends: the offset of its line end (or the end of the text).
pub fn line_end(text: &str, at: usize) -> usize {
    (at..text.len()).find(|&i| text.as_bytes()[i] == b'\n' || text.as_bytes()[i] == b'\r').unwrap_or(text.len())
}

/// `text` with every lone `\r` made a `\n`, same length and offsets, for code that knows only `\n`.
pub fn with_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    let bytes: Vec<u8> = (text.bytes().enumerate())
        .map(|(at, byte)| if byte == b'\r' && ends_line(text, at) { b'\n' } else { byte })
        .collect();
    std::borrow::Cow::Owned(String::from_utf8(bytes).expect("only an ASCII byte changed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_line_end_ends_a_line_once() {
        let text = "a\nb\r\nc\rd";
        assert_eq!(line_starts(text).collect::<Vec<_>>(), vec![2, 5, 7]);
        assert!(starts_line(text, 7) && !starts_line(text, 4) && starts_line(text, 5));
        assert_eq!((line_start(text, 8), line_end(text, 2)), (7, 3));
        assert_eq!(with_newlines(text), "a\nb\r\nc\nd");
    }
}
