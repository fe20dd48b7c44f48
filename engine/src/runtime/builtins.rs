//! The runtime module's builtins: `putchard`, `printd`, `pixel`, `plotpoint` and libm, resolved for every entry and called
//! directly (never through the table). This table is the one list of them.

use crate::runtime::RuntimeState;

/// A builtin function: its kaleido name and its code.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Builtin {
    /// The name kaleido code calls it by.
    pub(crate) name: &'static str,
    code: BuiltinCode,
}

/// A builtin's machine code, by the shape of its C signature.
#[derive(Clone, Copy, Debug)]
enum BuiltinCode {
    /// Writes program output: takes the runtime state first.
    Output(unsafe extern "C" fn(*const RuntimeState, f64) -> f64),
    Unary(extern "C" fn(f64) -> f64),
    Binary(extern "C" fn(f64, f64) -> f64),
    /// Draws: takes the runtime state first, then three values.
    Draw(unsafe extern "C" fn(*const RuntimeState, f64, f64, f64) -> f64),
}

impl Builtin {
    /// How many f64 arguments it takes.
    pub(crate) fn arity(&self) -> usize {
        match self.code {
            BuiltinCode::Output(_) | BuiltinCode::Unary(_) => 1,
            BuiltinCode::Binary(_) => 2,
            BuiltinCode::Draw(_) => 3,
        }
    }

    /// Its address.
    pub(crate) fn address(&self) -> usize {
        match self.code {
            BuiltinCode::Output(f) => f as usize,
            BuiltinCode::Unary(f) => f as usize,
            BuiltinCode::Binary(f) => f as usize,
            BuiltinCode::Draw(f) => f as usize,
        }
    }

    /// Whether the runtime state's address is passed first.
    pub(crate) fn takes_state(&self) -> bool {
        matches!(self.code, BuiltinCode::Output(_) | BuiltinCode::Draw(_))
    }
}

const fn output(name: &'static str, f: unsafe extern "C" fn(*const RuntimeState, f64) -> f64) -> Builtin {
    Builtin { name, code: BuiltinCode::Output(f) }
}

const fn draw(name: &'static str, f: unsafe extern "C" fn(*const RuntimeState, f64, f64, f64) -> f64) -> Builtin {
    Builtin { name, code: BuiltinCode::Draw(f) }
}

const fn unary(name: &'static str, f: extern "C" fn(f64) -> f64) -> Builtin {
    Builtin { name, code: BuiltinCode::Unary(f) }
}

const fn binary(name: &'static str, f: extern "C" fn(f64, f64) -> f64) -> Builtin {
    Builtin { name, code: BuiltinCode::Binary(f) }
}

/// Every builtin, in the order listings show them.
/// A static, not a constant: every use reads the same function pointers (see `runtime::HOOKS`).
pub(crate) static BUILTINS: &[Builtin] = &[
    output("putchard", k_putchard),
    output("printd", k_printd),
    draw("pixel", k_pixel),
    draw("plotpoint", k_plotpoint),
    unary("sin", k_sin),
    unary("cos", k_cos),
    unary("tan", k_tan),
    unary("asin", k_asin),
    unary("acos", k_acos),
    unary("atan", k_atan),
    binary("atan2", k_atan2),
    unary("sinh", k_sinh),
    unary("cosh", k_cosh),
    unary("tanh", k_tanh),
    unary("exp", k_exp),
    unary("log", k_log),
    unary("log10", k_log10),
    binary("pow", k_pow),
    unary("sqrt", k_sqrt),
    unary("floor", k_floor),
    unary("ceil", k_ceil),
    unary("fabs", k_fabs),
    binary("fmod", k_fmod),
];

/// The builtin called `name`.
pub(crate) fn builtin(name: &str) -> Option<Builtin> {
    BUILTINS.iter().find(|b| b.name == name).copied()
}

/// The names of every builtin, separated by spaces (for messages).
pub(crate) fn builtin_names() -> String {
    BUILTINS.iter().map(|b| b.name).collect::<Vec<_>>().join(" ")
}

/// `putchard(c)`: writes the byte the tutorial's C runtime writes for `c`, and returns 0.
///
/// # Safety
/// `state` must be the address of a live [`RuntimeState`] (JIT code passes its engine's).
unsafe extern "C" fn k_putchard(state: *const RuntimeState, c: f64) -> f64 {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    state.write(&[putchard_byte(c)]);
    0.0
}

/// The byte C's `fputc((char)c, ...)` writes on x86-64: `c` truncated toward zero to a 32-bit int
/// (`cvttsd2si`, which gives `INT_MIN` for NaN and out-of-range values), then its low 8 bits. So 321 is
/// `'A'` and -1 is 0xFF.
pub fn putchard_byte(c: f64) -> u8 {
    let int = if c.is_finite() && c > -2147483649.0 && c < 2147483648.0 { c as i32 } else { i32::MIN };
    int as u8
}

/// `printd(x)`: writes `x` in the shortest round-trip form and a newline, and returns 0.
///
/// # Safety
/// As for [`k_putchard`].
unsafe extern "C" fn k_printd(state: *const RuntimeState, x: f64) -> f64 {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    state.write(format!("{}\n", crate::runtime::format_value(x)).as_bytes());
    0.0
}

/// `pixel(x, y, v)`: sets the cell at column `x`, row `y` of the entry's image to `v`, and returns 0.
///
/// # Safety
/// As for [`k_putchard`].
unsafe extern "C" fn k_pixel(state: *const RuntimeState, x: f64, y: f64, value: f64) -> f64 {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    state.draw(|drawing| drawing.pixel(x, y, value));
    0.0
}

/// `plotpoint(series, x, y)`: adds the point (`x`, `y`) to line `series` of the entry's chart, and
/// returns 0.
///
/// # Safety
/// As for [`k_putchard`].
unsafe extern "C" fn k_plotpoint(state: *const RuntimeState, series: f64, x: f64, y: f64) -> f64 {
    // SAFETY: the caller guarantees `state` is live.
    let state = unsafe { &*state };
    state.draw(|drawing| drawing.point(series, x, y));
    0.0
}

macro_rules! unary_math {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($method), "(x)` from libm.")]
            extern "C" fn $name(x: f64) -> f64 { x.$method() }
        )*
    };
}

unary_math!(
    k_sin => sin, k_cos => cos, k_tan => tan, k_asin => asin, k_acos => acos, k_atan => atan,
    k_sinh => sinh, k_cosh => cosh, k_tanh => tanh, k_exp => exp, k_log => ln, k_log10 => log10,
    k_sqrt => sqrt, k_floor => floor, k_ceil => ceil, k_fabs => abs,
);

/// `atan2(y, x)`.
extern "C" fn k_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

/// `pow(x, y)`.
extern "C" fn k_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// `fmod(x, y)`: the remainder with the sign of `x`, as C's `fmod` (Rust's `%` on f64).
extern "C" fn k_fmod(x: f64, y: f64) -> f64 {
    x % y
}
