//! The runtime's builtin functions, as the language reference lists them.

/// A builtin: its name, arity and what it computes (with the output buffer for `putchard`/`printd`).
pub struct Builtin {
    /// The name.
    pub name: &'static str,
    /// How many arguments it takes.
    pub arity: usize,
    /// Computes the result, writing any output.
    pub call: fn(&[f64], &mut Vec<u8>) -> f64,
}

/// Every builtin.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "putchard",
        arity: 1,
        call: |a, out| {
            // docs/language.md: truncate to a 32-bit int (INT_MIN when out of range), keep the low byte.
            let x = a[0];
            let int = if x.is_finite() && x.trunc() >= -2147483648.0 && x.trunc() <= 2147483647.0 {
                x.trunc() as i64
            } else {
                -2147483648
            };
            out.push((int & 0xFF) as u8);
            0.0
        },
    },
    Builtin {
        name: "printd",
        arity: 1,
        call: |a, out| {
            out.extend_from_slice(format!("{}\n", a[0]).as_bytes());
            0.0
        },
    },
    // The interpreter compares values and text output; what a program draws is the JIT's front ends'
    // business, so the drawing builtins only return their 0.
    Builtin { name: "pixel", arity: 3, call: |_, _| 0.0 },
    Builtin { name: "plotpoint", arity: 3, call: |_, _| 0.0 },
    Builtin { name: "sin", arity: 1, call: |a, _| a[0].sin() },
    Builtin { name: "cos", arity: 1, call: |a, _| a[0].cos() },
    Builtin { name: "tan", arity: 1, call: |a, _| a[0].tan() },
    Builtin { name: "asin", arity: 1, call: |a, _| a[0].asin() },
    Builtin { name: "acos", arity: 1, call: |a, _| a[0].acos() },
    Builtin { name: "atan", arity: 1, call: |a, _| a[0].atan() },
    Builtin { name: "atan2", arity: 2, call: |a, _| a[0].atan2(a[1]) },
    Builtin { name: "sinh", arity: 1, call: |a, _| a[0].sinh() },
    Builtin { name: "cosh", arity: 1, call: |a, _| a[0].cosh() },
    Builtin { name: "tanh", arity: 1, call: |a, _| a[0].tanh() },
    Builtin { name: "exp", arity: 1, call: |a, _| a[0].exp() },
    Builtin { name: "log", arity: 1, call: |a, _| a[0].ln() },
    Builtin { name: "log10", arity: 1, call: |a, _| a[0].log10() },
    Builtin { name: "pow", arity: 2, call: |a, _| a[0].powf(a[1]) },
    Builtin { name: "sqrt", arity: 1, call: |a, _| a[0].sqrt() },
    Builtin { name: "floor", arity: 1, call: |a, _| a[0].floor() },
    Builtin { name: "ceil", arity: 1, call: |a, _| a[0].ceil() },
    Builtin { name: "fabs", arity: 1, call: |a, _| a[0].abs() },
    Builtin { name: "fmod", arity: 2, call: |a, _| a[0] % a[1] },
];

/// The builtin called `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// C functions of the process an `extern` may bind (a few of the C library's, which the JIT finds by
/// name): what the interpreter knows of "the process" to model `extern`, `:forget` and a later `def` of
/// the name. Rust's `f64` methods call the same C library functions, so the results agree bit for bit.
pub const C_FUNCTIONS: &[Builtin] = &[
    Builtin { name: "hypot", arity: 2, call: |a, _| a[0].hypot(a[1]) },
    Builtin { name: "cbrt", arity: 1, call: |a, _| a[0].cbrt() },
];

/// The C function called `name`, if the interpreter models it.
pub fn c_function(name: &str) -> Option<&'static Builtin> {
    C_FUNCTIONS.iter().find(|b| b.name == name)
}
