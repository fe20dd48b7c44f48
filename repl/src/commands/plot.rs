//! `:plot`: draws expressions without writing the loop. `:plot sin(x), cos(x) for x in -3..3` is a line
//! per expression, sampled at [`LINE_SAMPLES`] points; `:plot sin(x) * y for x in -3..3, y in -2..2` is a
//! heat map of one expression over [`HEAT_SIDE`] × [`HEAT_SIDE`] points. The command writes that loop in
//! kaleido (calling `plotpoint` or `pixel`), which the evaluation loop runs as an entry like any other,
//! so the expressions see the session's functions and globals, and their errors point into them. Each
//! expression starts a line of the generated code, so a diagnostic's snippet is the expression itself.

use kaleido_view::picture::{Axis, PlotFrame};

/// Points along each line.
pub const LINE_SAMPLES: u32 = 401;
/// Points along each side of a heat map.
pub const HEAT_SIDE: u32 = 121;
/// The most expressions one line plot takes (one colour each).
pub const MAX_LINES: usize = 10;

/// What `:plot` asks the evaluation loop to run, and how to label what it draws.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotRequest {
    /// The kaleido code that draws.
    pub code: String,
    /// The names and axes of what it draws.
    pub frame: PlotFrame,
}

/// An axis range as written: `x in -2..2`.
struct Range {
    name: String,
    from: f64,
    to: f64,
}

/// Parses `:plot`'s argument (`EXPR[, EXPR…] for NAME in FROM..TO[, NAME in FROM..TO]`) into the code to
/// run, or says what is wrong with it.
pub fn plot_request(argument: &str) -> Result<PlotRequest, String> {
    let usage = "usage: `:plot EXPR[, EXPR…] for x in FROM..TO` (lines) or `:plot EXPR for x in FROM..TO, y in \
                 FROM..TO` (a heat map), e.g. `:plot sin(x), cos(x) for x in -3..3`";
    if argument.matches('(').count() != argument.matches(')').count() {
        return Err(format!("the parentheses of `{argument}` do not balance"));
    }
    let Some((expressions, ranges)) = split_at_for(argument) else { return Err(usage.to_string()) };
    let expressions: Vec<String> = split_top_level(expressions).into_iter().map(str::to_string).collect();
    if expressions.iter().any(|e| e.is_empty()) {
        return Err(format!("an expression to plot is missing; {usage}"));
    }
    let ranges = split_top_level(ranges).into_iter().map(range).collect::<Result<Vec<_>, _>>()?;
    let counter = fresh_name(&expressions);
    match ranges.as_slice() {
        [x] if expressions.len() <= MAX_LINES => Ok(lines(&expressions, x, &counter)),
        [_] => Err(format!("`:plot` draws at most {MAX_LINES} lines at once")),
        [x, y] if expressions.len() == 1 => Ok(heat(&expressions[0], x, y, &counter)),
        [_, _] => Err("a heat map (two ranges) plots one expression".to_string()),
        _ => Err(format!("`:plot` takes one range (lines) or two (a heat map); {usage}")),
    }
}

/// The expressions and the ranges, either side of the last top-level ` for `.
fn split_at_for(argument: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut found = None;
    for (at, c) in argument.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 && argument[at..].starts_with("for") => {
                let before = argument[..at].chars().next_back().is_none_or(char::is_whitespace);
                let after = argument[at + 3..].chars().next().is_some_and(char::is_whitespace);
                if before && after {
                    found = Some(at);
                }
            }
            _ => {}
        }
    }
    let at = found?;
    Some((argument[..at].trim(), argument[at + 3..].trim()))
}

/// `text` split at the commas outside parentheses, each piece trimmed.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut pieces, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                pieces.push(text[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    pieces.push(text[start..].trim());
    pieces
}

/// `NAME in FROM..TO`.
fn range(text: &str) -> Result<Range, String> {
    let bad = || format!("`{text}` is not a range: write `x in -2..2` (a name, `in`, two numbers)");
    let (name, span) = text.split_once(" in ").ok_or_else(bad)?;
    let name = name.trim();
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let (from, to) = span.split_once("..").ok_or_else(bad)?;
    let number = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    match (valid_name, number(from), number(to)) {
        (true, Some(from), Some(to)) if from < to => Ok(Range { name: name.to_string(), from, to }),
        (true, Some(_), Some(_)) => {
            Err(format!("the range `{}` is empty: its start must be below its end", span.trim()))
        }
        _ => Err(bad()),
    }
}

/// A name for the loop counter that none of the expressions mentions.
fn fresh_name(expressions: &[String]) -> String {
    let mut name = "plot_k".to_string();
    while expressions.iter().any(|e| e.contains(&name)) {
        name.push('k');
    }
    name
}

/// A number as kaleido code: negative numbers are written `(0 - 2)`, which needs no prelude.
fn literal(value: f64) -> String {
    if value < 0.0 { format!("(0 - {})", -value) } else { format!("{value}") }
}

/// `name` stepped from `range.from` to `range.to` in `steps` steps, by the counter `counter`.
fn sample(range: &Range, counter: &str, steps: u32) -> String {
    let (from, width) = (literal(range.from), literal(range.to - range.from));
    format!("{} = {from} + {width} * {counter} / {steps}", range.name)
}

fn lines(expressions: &[String], x: &Range, counter: &str) -> PlotRequest {
    let steps = LINE_SAMPLES - 1;
    let calls: Vec<String> =
        (expressions.iter().enumerate()).map(|(i, e)| format!("plotpoint({i}, {},\n{e}\n)", x.name)).collect();
    let code = format!(
        "for {counter} = 0, {counter} < {steps} in\n(var {} in\n{});",
        sample(x, counter, steps),
        calls.join(" + ")
    );
    let axis = Axis { name: x.name.clone(), from: x.from, to: x.to };
    PlotRequest { code, frame: PlotFrame { expressions: expressions.to_vec(), x: axis, y: None } }
}

fn heat(expression: &str, x: &Range, y: &Range, counter: &str) -> PlotRequest {
    let steps = HEAT_SIDE - 1;
    let (column, row) = (format!("{counter}x"), format!("{counter}y"));
    let code = format!(
        "for {row} = 0, {row} < {steps} in\nfor {column} = 0, {column} < {steps} in\n(var {}, {} in\n\
         pixel({column}, {steps} - {row},\n{expression}\n));",
        sample(x, &column, steps),
        sample(y, &row, steps),
    );
    let axis = |r: &Range| Axis { name: r.name.clone(), from: r.from, to: r.to };
    PlotRequest { code, frame: PlotFrame { expressions: vec![expression.to_string()], x: axis(x), y: Some(axis(y)) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_plotpoint_series_per_expression() {
        let request = plot_request("sin(x), atan2(x, 1) for x in -2..2").unwrap();
        assert_eq!(
            request.code,
            "for plot_k = 0, plot_k < 400 in\n(var x = (0 - 2) + 4 * plot_k / 400 in\nplotpoint(0, x,\nsin(x)\n) + \
             plotpoint(1, x,\natan2(x, 1)\n));"
        );
        assert_eq!(request.frame.expressions, vec!["sin(x)", "atan2(x, 1)"]);
        assert_eq!(request.frame.x, Axis { name: "x".into(), from: -2.0, to: 2.0 });
    }

    #[test]
    fn two_ranges_make_a_heat_map_with_y_upwards() {
        let request = plot_request("x * y for x in 0..1, y in -1..1").unwrap();
        assert!(request.code.contains("pixel(plot_kx, 120 - plot_ky,\nx * y\n)"), "{}", request.code);
        assert_eq!(request.frame.y, Some(Axis { name: "y".into(), from: -1.0, to: 1.0 }));
    }

    #[test]
    fn the_counter_avoids_the_expressions_names() {
        let request = plot_request("plot_k(x) for x in 0..1").unwrap();
        assert!(request.code.starts_with("for plot_kk = 0"), "{}", request.code);
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        for (argument, message) in [
            ("sin(x)", "usage: `:plot EXPR"),
            ("sin(x) for x in 2..1", "the range `2..1` is empty"),
            ("sin(x) for x from 0 to 1", "is not a range"),
            ("a, b for x in 0..1, y in 0..1", "a heat map (two ranges) plots one expression"),
            (", b for x in 0..1", "an expression to plot is missing"),
            ("sq(x for x in 0..1", "the parentheses of `sq(x for x in 0..1` do not balance"),
        ] {
            let error = plot_request(argument).unwrap_err();
            assert!(error.starts_with(message) || error.contains(message), "{argument}: {error}");
        }
    }
}
