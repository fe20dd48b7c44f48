//! Random well-formed sessions for differential testing, deterministic by seed.
//!
//! A session is a list of entries (each one or more items joined by `;`) that define and redefine
//! functions (changing arity sometimes), define operators with random precedences (redefining the
//! prelude's too), set globals, declare externs, call functions before they exist, and evaluate
//! expressions using `if`, `for`, `var`, assignment, builtins and `printd`, and unparenthesized chains of
//! operators whose meaning depends on the precedences in force. Two C functions (`hypot`, `cbrt`) are
//! bound by `extern`, called, forgotten and then defined with `def`; a unary `:` may start an entry
//! (`:if c then a else b`, which is code, not a command). An entry may also be a command, `:undo NAME` or
//! `:forget NAME` of a function, an operator (`binary%`) or an extern, which a runner passes to the
//! engine's and the interpreter's own calls.
//!
//! Every generated program terminates, by construction:
//! - function `f<i>` calls only `f<j>` with `j < i` (or names never defined), so calls form no cycle;
//! - a recursive definition has the shape `if 0 < p0 then ...f<i>(p0 - 1, ...)... else ...`, every call
//!   to a user function passes a small literal as its first argument, and `p0` is never assigned;
//! - loops have literal bounds and positive literal steps, loop variables are never assigned, and loop
//!   bodies in functions make no user calls (top-level loops may: no function calls back into them);
//! - operator bodies use only built-in operators and builtins, so operators never call each other, and
//!   so do the bodies given to the C functions' names.

/// How many function names (`f0`..) sessions use.
const FUNCTIONS: usize = 6;
/// Characters the generator defines as operators, besides the prelude's.
const BINARY_OPS: &[char] = &['%', '^', '@', '~', '|', '&', '>', ':'];
const UNARY_OPS: &[char] = &['~', '@', '!', '-', ':'];
/// C functions of the process that sessions bind with `extern` (the interpreter models these two), with
/// their arities.
const C_NAMES: &[(&str, usize)] = &[("hypot", 2), ("cbrt", 1)];

/// What a C function's name is bound to, as far as the generator knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binding {
    /// Nothing (never declared, or forgotten).
    Free,
    /// The C function, by `extern`.
    Extern,
    /// A `def`.
    Defined,
}
const LITERALS: &[&str] = &["0", "1", "2", "3", "0.5", "2.5", "7", "10", "100", "0.1", "1e300", "1e-300", "4"];

/// A small deterministic random number generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Names in scope where an expression is generated.
#[derive(Clone, Default)]
struct Scope {
    /// Parameters, readable (the first of a recursive function is its counter and never assigned).
    params: Vec<String>,
    /// `var` locals: readable and assignable.
    locals: Vec<String>,
    /// Loop variables: readable only.
    loop_vars: Vec<String>,
    /// Calls may go to `f<j>` for `j` below this.
    call_below: usize,
    /// Inside a recursive definition's recursive branch: the call that recurses.
    recurse: Option<(String, usize)>,
    in_loop: bool,
    /// In top-level code (not a function): its loops may call user functions, since no function calls
    /// back into it, and the JIT inlines small callees into a top-level loop.
    top_level: bool,
    /// Whether user functions and user (or prelude) operators may be used: not in operator bodies, so
    /// operators can never call each other in a cycle.
    calls: bool,
}

/// Generates random sessions.
pub struct Generator {
    rng: Rng,
    /// The arity each function was last given, if defined.
    arities: [Option<usize>; FUNCTIONS],
    globals: Vec<String>,
    binary: Vec<char>,
    unary: Vec<char>,
    fresh: usize,
    /// What each of [`C_NAMES`] is bound to.
    c_names: [Binding; 2],
}

impl Generator {
    /// A generator for the session of `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            arities: [None; FUNCTIONS],
            globals: Vec::new(),
            binary: vec!['|', '&', '>', ':'],
            unary: vec!['!', '-'],
            fresh: 0,
            c_names: [Binding::Free; 2],
        }
    }

    /// A session of `entries` entries.
    pub fn session(&mut self, entries: usize) -> Vec<String> {
        (0..entries).map(|_| self.entry()).collect()
    }

    /// A session of `lines` lines for a script: one item or command each, every item ended by `;` (so a
    /// line that starts with an operator, such as the unary `:`, does not continue the line before it).
    pub fn script(&mut self, lines: usize) -> Vec<String> {
        (0..lines)
            .map(|_| match self.command() {
                Some(command) => command,
                None => format!("{};", self.item()),
            })
            .collect()
    }

    fn entry(&mut self) -> String {
        if let Some(command) = self.command() {
            return command;
        }
        let items = 1 + self.rng.below(3);
        (0..items).map(|_| self.item()).collect::<Vec<_>>().join("; ")
    }

    /// Sometimes a command: undo or forget a function, an operator or an extern (the shell's `:undo`,
    /// `:forget`).
    fn command(&mut self) -> Option<String> {
        if !self.rng.chance(8) {
            return None;
        }
        let (name, forget) = match self.rng.below(100) {
            0..60 => {
                let index = self.rng.below(FUNCTIONS);
                let forget = self.rng.chance(30);
                if forget {
                    self.arities[index] = None;
                }
                (format!("f{index}"), forget)
            }
            // Every operator may have been forgotten already.
            60..80 if !self.binary.is_empty() || !self.unary.is_empty() => {
                let forget = self.rng.chance(50);
                let binary = self.unary.is_empty() || (!self.binary.is_empty() && self.rng.chance(50));
                let name = match binary {
                    true => {
                        let op = *self.rng.pick(&self.binary.clone());
                        if forget {
                            self.binary.retain(|&o| o != op);
                        }
                        format!("binary{op}")
                    }
                    false => {
                        let op = *self.rng.pick(&self.unary.clone());
                        if forget {
                            self.unary.retain(|&o| o != op);
                        }
                        format!("unary{op}")
                    }
                };
                (name, forget)
            }
            _ => {
                let index = self.rng.below(C_NAMES.len());
                let forget = self.rng.chance(70);
                if forget {
                    self.c_names[index] = Binding::Free;
                }
                (C_NAMES[index].0.to_string(), forget)
            }
        };
        Some(if forget { format!(":forget {name}") } else { format!(":undo {name}") })
    }

    fn item(&mut self) -> String {
        match self.rng.below(100) {
            0..30 => self.definition(),
            30..40 => self.binary_operator(),
            40..46 => self.unary_operator(),
            46..54 => self.global(),
            54..57 => self.c_binding(),
            57..60 => self.odd_item(),
            _ => {
                let scope = Scope { call_below: FUNCTIONS, calls: true, top_level: true, ..Scope::default() };
                self.expr(3, &scope)
            }
        }
    }

    /// `def f<i>(...)`, sometimes recursive, sometimes with a new arity.
    fn definition(&mut self) -> String {
        let index = self.rng.below(FUNCTIONS);
        let arity = match self.arities[index] {
            Some(arity) if self.rng.chance(75) => arity,
            _ => 1 + self.rng.below(3),
        };
        self.arities[index] = Some(arity);
        let name = format!("f{index}");
        let params: Vec<String> = (0..arity).map(|i| format!("p{i}")).collect();
        let scope = Scope { params: params.clone(), call_below: index, calls: true, ..Scope::default() };
        let body = if self.rng.chance(30) {
            let recursive = Scope { recurse: Some((name.clone(), arity)), ..scope.clone() };
            format!("if 0 < p0 then {} else {}", self.expr(3, &recursive), self.expr(2, &scope))
        } else {
            self.expr(3, &scope)
        };
        format!("def {name}({}) {body}", params.join(" "))
    }

    fn binary_operator(&mut self) -> String {
        let op = *self.rng.pick(BINARY_OPS);
        let precedence = 1 + self.rng.below(100);
        let scope = Scope { params: vec!["a".into(), "b".into()], ..Scope::default() };
        let body = self.expr(2, &scope);
        if !self.binary.contains(&op) {
            self.binary.push(op);
        }
        format!("def binary{op} {precedence} (a b) {body}")
    }

    fn unary_operator(&mut self) -> String {
        let op = *self.rng.pick(UNARY_OPS);
        let scope = Scope { params: vec!["v".into()], ..Scope::default() };
        let body = self.expr(2, &scope);
        if !self.unary.contains(&op) {
            self.unary.push(op);
        }
        format!("def unary{op}(v) {body}")
    }

    fn global(&mut self) -> String {
        let name = format!("g{}", self.rng.below(3));
        let scope = Scope { call_below: FUNCTIONS, calls: true, top_level: true, ..Scope::default() };
        let init = self.expr(2, &scope);
        if !self.globals.contains(&name) {
            self.globals.push(name.clone());
        }
        format!("var {name} = {init}")
    }

    /// `extern` of a C function's name, or, once it is free, a `def` of it (whose body calls nothing, as an
    /// operator's).
    fn c_binding(&mut self) -> String {
        let index = self.rng.below(C_NAMES.len());
        let (name, arity) = C_NAMES[index];
        if self.c_names[index] == Binding::Free && self.rng.chance(40) {
            self.c_names[index] = Binding::Defined;
            let params: Vec<String> = (0..arity).map(|i| format!("p{i}")).collect();
            let scope = Scope { params: params.clone(), ..Scope::default() };
            return format!("def {name}({}) {}", params.join(" "), self.expr(2, &scope));
        }
        if self.c_names[index] != Binding::Defined {
            self.c_names[index] = Binding::Extern;
        }
        let params = ["x", "y"];
        format!("extern {name}({})", params[..arity].join(" "))
    }

    /// Items both sides must reject, or accept without effect.
    fn odd_item(&mut self) -> String {
        let items = [
            "extern sin(x)",
            "extern pow(x y)",
            "extern sin(a b)",
            "extern no_such_function(x)",
            "sqrt(1, 2)",
            "def sqrt(x) x",
        ];
        self.rng.pick(&items).to_string()
    }

    fn literal(&mut self) -> String {
        self.rng.pick(LITERALS).to_string()
    }

    fn expr(&mut self, depth: usize, scope: &Scope) -> String {
        if depth == 0 || self.rng.chance(20) {
            return self.leaf(scope);
        }
        let d = depth - 1;
        match self.rng.below(100) {
            0..25 => {
                let op = *self.rng.pick(&['+', '-', '*', '/', '<']);
                format!("({} {op} {})", self.expr(d, scope), self.expr(d, scope))
            }
            25..31 if scope.calls && !self.binary.is_empty() => {
                let op = *self.rng.pick(&self.binary.clone());
                format!("({} {op} {})", self.expr(d, scope), self.expr(d, scope))
            }
            31..37 if scope.calls => self.chain(d, scope),
            37..45 if scope.calls && !self.unary.is_empty() => {
                let op = *self.rng.pick(&self.unary.clone());
                match self.rng.below(4) {
                    0 => format!("{op}{}", self.leaf(scope)),
                    1 => format!(
                        "{op}if {} then {} else {}",
                        self.expr(d, scope),
                        self.expr(d, scope),
                        self.expr(d, scope)
                    ),
                    _ => format!("{op}({})", self.expr(d, scope)),
                }
            }
            45..55 => self.builtin_call(d, scope),
            55..70 => self.user_call(d, scope),
            70..78 => format!("(if {} then {} else {})", self.expr(d, scope), self.expr(d, scope), self.expr(d, scope)),
            78..85 if !scope.in_loop || scope.loop_vars.len() < 2 => self.for_loop(d, scope),
            85..92 => self.var_in(d, scope),
            92..100 => self.assignment(d, scope),
            25..45 => format!("({} * {})", self.expr(d, scope), self.expr(d, scope)),
            _ => self.leaf(scope),
        }
    }

    /// `(a OP b OP c)` with operators of mixed precedences and no inner parentheses, so its meaning
    /// depends on the precedences in force when it is parsed.
    fn chain(&mut self, depth: usize, scope: &Scope) -> String {
        let mut ops = self.binary.clone();
        ops.extend(['+', '-', '*', '/', '<']);
        let mut text = format!("({}", self.leaf(scope));
        for _ in 0..2 + self.rng.below(2) {
            let op = *self.rng.pick(&ops);
            let operand = if self.rng.chance(30) { self.expr(depth, scope) } else { self.leaf(scope) };
            text.push_str(&format!(" {op} {operand}"));
        }
        text.push(')');
        text
    }

    fn leaf(&mut self, scope: &Scope) -> String {
        let mut names: Vec<&String> = scope.params.iter().chain(&scope.locals).chain(&scope.loop_vars).collect();
        names.extend(&self.globals);
        if !names.is_empty() && self.rng.chance(50) {
            return self.rng.pick(&names).to_string();
        }
        self.literal()
    }

    fn builtin_call(&mut self, depth: usize, scope: &Scope) -> String {
        let (name, arity) = *self.rng.pick(&[
            ("sin", 1),
            ("cos", 1),
            ("sqrt", 1),
            ("fabs", 1),
            ("floor", 1),
            ("exp", 1),
            ("log", 1),
            ("pow", 2),
            ("fmod", 2),
            ("atan2", 2),
            ("printd", 1),
            ("putchard", 1),
        ]);
        let args: Vec<String> = (0..arity).map(|_| self.expr(depth, scope)).collect();
        let args = if name == "putchard" { vec![format!("65 + fmod(fabs({}), 26)", args[0])] } else { args };
        format!("{name}({})", args.join(", "))
    }

    fn user_call(&mut self, depth: usize, scope: &Scope) -> String {
        if !scope.calls || (scope.in_loop && !scope.top_level) {
            return self.builtin_call(depth, scope);
        }
        if let Some((name, arity)) = &scope.recurse
            && self.rng.chance(40)
        {
            let mut args = vec!["p0 - 1".to_string()];
            args.extend((1..*arity).map(|_| self.expr(depth, scope)));
            return format!("{name}({})", args.join(", "));
        }
        let (name, known) = if self.rng.chance(8) {
            let (name, arity) = *self.rng.pick(C_NAMES);
            (name.to_string(), Some(arity))
        } else if scope.call_below == 0 || self.rng.chance(8) {
            (format!("u{}", self.rng.below(2)), None)
        } else {
            let index = self.rng.below(scope.call_below);
            (format!("f{index}"), self.arities[index])
        };
        let arity = match known {
            Some(arity) if self.rng.chance(85) => arity,
            _ => 1 + self.rng.below(3),
        };
        let mut args = vec![self.rng.below(5).to_string()];
        args.extend((1..arity).map(|_| self.expr(depth, scope)));
        format!("{name}({})", args.join(", "))
    }

    fn for_loop(&mut self, depth: usize, scope: &Scope) -> String {
        self.fresh += 1;
        let var = format!("l{}", self.fresh);
        let start = self.rng.below(3);
        let end = start + self.rng.below(4);
        let step = *self.rng.pick(&["", ", 1", ", 2", ", 0.5"]);
        let mut inner = scope.clone();
        inner.loop_vars.push(var.clone());
        inner.in_loop = true;
        let body = self.expr(depth, &inner);
        format!("(for {var} = {start}, {var} < {end}{step} in {body})")
    }

    fn var_in(&mut self, depth: usize, scope: &Scope) -> String {
        let mut inner = scope.clone();
        let count = 1 + self.rng.below(2);
        let mut bindings = Vec::new();
        for _ in 0..count {
            self.fresh += 1;
            let name = format!("v{}", self.fresh);
            if self.rng.chance(80) {
                bindings.push(format!("{name} = {}", self.expr(depth, &inner)));
            } else {
                bindings.push(name.clone());
            }
            inner.locals.push(name);
        }
        format!("(var {} in {})", bindings.join(", "), self.expr(depth, &inner))
    }

    fn assignment(&mut self, depth: usize, scope: &Scope) -> String {
        let mut targets: Vec<String> = scope.locals.clone();
        targets.extend(self.globals.iter().cloned());
        if targets.is_empty() {
            return self.expr(depth, scope);
        }
        let target = self.rng.pick(&targets).clone();
        format!("({target} = {})", self.expr(depth, scope))
    }
}
