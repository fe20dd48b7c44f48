//! The compile phase of an entry: every item is translated into the entry's one new unit (a Cranelift
//! module), against the session as the entry's earlier items leave it, before anything is applied.
//!
//! Staging borrows the session's tables and the backend, and reads (never changes) the lazy compiler's kept
//! bodies, which top-level loops inline. New slots and global cells go into
//! the session's tables unregistered; if any item fails, the caller rolls the session back to its mark
//! and the unit's code is freed, so a failed entry leaves no trace. On success the unit is finished and
//! every item carries its [`CompiledFunction`]s: the apply phase never sees a module.

pub(crate) mod resolve;

use std::collections::BTreeSet;

use cranelift_codegen::ir;
use cranelift_module::FuncId;
use kaleido_lang::ast::{Binding, Expr, ExprKind, Function, Item, ItemKind, Prototype};
use kaleido_lang::diagnostic::{shorten, some_of};
use kaleido_lang::packed::PackedFunction;
use kaleido_lang::{Diagnostic, OperatorUses, Span};

use crate::backend::{Backend, CodegenError, CompiledFunction, StubKind, Unit, optimizable};
use crate::base::ids::CodeId;
use crate::base::options::Tier;
use crate::codegen::{
    FunctionSpec, callees_of, has_loop, kaleido_signature, loops_or_calls_itself, thunk_signature, translate,
    translate_native_adapter, wants_slot_locals,
};
use crate::compile::resolve::{EntryGraph, EntryResolver};
use crate::runtime::builtins::{builtin, builtin_names};
use crate::runtime::lookup_c_symbol;
use crate::tables::Tables;
use crate::tables::call_graph::on_a_cycle;
use crate::tier0::Tier0Code;
use crate::tier0::lower::{Body, lower};
use crate::tiers::lazy::{Answer, Compiler, Deferred, Recording, Replay, optimize_with_inlining};

/// How definitions are compiled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CodeOptions {
    /// Defer definitions' machine code to their first call.
    pub(crate) lazy: bool,
    /// Emit stack and interrupt checks.
    pub(crate) checks: bool,
    /// Compile calls of a function to itself as direct calls (optimized code only: see `hot_calls`).
    pub(crate) direct_self_calls: bool,
    /// Baseline code of a definition that can recurse or loop counts its calls from this many down, then
    /// asks for the optimizing tier (none: the optimizing tier compiles everything, or tiering is off).
    pub(crate) hot_calls: Option<u32>,
    /// Calls of a deferred function without loops that run in tier 0 (0: no tier 0, and top-level code is
    /// compiled).
    pub(crate) tier0_calls: u32,
}

/// Why the compile phase did not produce an entry to apply. Either way the session is to be rolled back.
pub(crate) enum StagingError {
    /// An item failed to compile: these diagnostics (the error last) say why.
    Rejected(Vec<Diagnostic>),
    /// An interrupt (Ctrl-C) arrived while the entry compiled.
    Interrupted,
}

/// One item, compiled; `F` is how its code is named: a [`FuncId`] of the unit while staging, the
/// [`CompiledFunction`] once the unit is finished.
pub(crate) enum CompiledItem<F = CompiledFunction> {
    /// A definition, with the source it was written as and the calls it makes.
    Def {
        function: Function,
        source: String,
        body: DefBody<F>,
        calls: BTreeSet<(String, usize)>,
        /// The code id its frames carry.
        code: CodeId,
        /// The operators and globals its body uses.
        uses: Uses,
        /// For eager baseline code, when tiering is on and it is worth keeping: the body, for the optimizing
        /// tier to recompile or inline.
        hot: Option<Box<Deferred>>,
    },
    /// An `extern`, bound to a builtin or a C function at `address`; `adapter` is a kaleido-signature
    /// function that calls it, for calls compiled before the binding (through the name's slots).
    Extern { proto: Prototype, address: usize, builtin: bool, adapter: Option<F> },
    /// Top-level code: code to run, and the functions it calls.
    Expr { thunk: TopLevel<F>, calls: BTreeSet<String> },
    /// Global variables: for each, its cell and code computing its initial value.
    Global(Vec<(String, u32, TopLevel<F>)>),
}

/// Top-level code, to run once: compiled (a thunk), or lowered to run in tier 0.
pub(crate) enum TopLevel<F = CompiledFunction> {
    /// A thunk in the entry's unit.
    Compiled(F),
    /// Tier-0 code (no loops, tier 0 on).
    Tier0(Box<Tier0Code>),
}

/// What a definition's body uses besides calls.
pub(crate) struct Uses {
    /// Its operators (found here, on the compile stack, where the tree may be walked).
    pub(crate) operators: OperatorUses,
    /// The globals it reads (`false`) and writes (`true`).
    pub(crate) globals: BTreeSet<(String, bool)>,
}

/// A definition's code: generated now (eager) or deferred to its first call (lazy).
pub(crate) enum DefBody<F> {
    /// Compiled into the entry's unit.
    Eager(F),
    /// The body and the resolver's answers, to compile on the first call.
    Lazy(Box<Deferred>),
}

/// The compiled entry: its items in order, each with its span in the entry, and the warnings found.
pub(crate) struct CompiledEntry {
    pub(crate) items: Vec<(CompiledItem, Span)>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// The session as one entry's items see it while they compile.
pub(crate) struct Staging<'a> {
    resolver: EntryResolver<'a>,
    backend: &'a mut Backend,
    options: CodeOptions,
    source: &'a str,
    /// The lazy compiler, read only: the current bodies of small functions, for top-level loops to inline.
    bodies: &'a Compiler,
    /// Whether to give up (an interrupt): asked after each item and, every few thousand expressions,
    /// while one is translated.
    interrupted: &'a dyn Fn() -> bool,
}

impl<'a> Staging<'a> {
    /// Starts staging an entry whose text is `source`; `interrupted` says whether to give up.
    pub(crate) fn new(
        (tables, backend, bodies): (&'a mut Tables, &'a mut Backend, &'a Compiler),
        options: CodeOptions,
        source: &'a str,
        interrupted: &'a dyn Fn() -> bool,
    ) -> Staging<'a> {
        Staging { resolver: EntryResolver::new(tables), backend, options, source, bodies, interrupted }
    }

    /// Compiles every item into one new unit and finishes it.
    pub(crate) fn compile(mut self, items: Vec<Item>) -> Result<CompiledEntry, StagingError> {
        let mut unit = self.backend.unit();
        let mut staged = Vec::with_capacity(items.len());
        for item in items {
            let span = item.span;
            let result = self.compile_item(&mut unit, item);
            if (self.interrupted)() {
                self.backend.abandon(unit);
                return Err(StagingError::Interrupted);
            }
            match result {
                Ok(item) => staged.push((item, span)),
                Err(error) => {
                    let mut diagnostics = std::mem::take(&mut self.resolver.warnings);
                    diagnostics.push(error);
                    self.backend.abandon(unit);
                    return Err(StagingError::Rejected(diagnostics));
                }
            }
        }
        let whole = Span::new(0, self.source.len());
        let finished = self.backend.finish(unit);
        let mut functions: Vec<Option<CompiledFunction>> = match finished {
            Ok(functions) => functions.into_iter().map(Some).collect(),
            Err(error) => return Err(StagingError::Rejected(vec![codegen_diagnostic(error, whole)])),
        };
        let items = staged.into_iter().map(|(item, span)| (item.resolve(&mut functions), span)).collect();
        let mut warnings = self.resolver.warnings;
        warnings.sort_by_key(|w| w.span.start);
        Ok(CompiledEntry { items, warnings })
    }

    fn compile_item(&mut self, unit: &mut Unit, item: Item) -> Result<CompiledItem<FuncId>, Diagnostic> {
        let span = item.span;
        match item.kind {
            ItemKind::Def(function) => self.compile_def(unit, function, span),
            ItemKind::Extern(proto) => self.compile_extern(unit, proto),
            ItemKind::Expr(expr) => {
                self.resolver.in_definition = false;
                let thunk = self.stage_top_level(unit, &expr, span)?;
                let calls = std::mem::take(&mut self.resolver.calls).into_iter().map(|(name, _)| name).collect();
                self.resolver.globals_used.clear();
                Ok(CompiledItem::Expr { thunk, calls })
            }
            ItemKind::Global(bindings) => self.compile_globals(unit, bindings, span),
        }
    }

    fn compile_def(
        &mut self,
        unit: &mut Unit,
        function: Function,
        span: Span,
    ) -> Result<CompiledItem<FuncId>, Diagnostic> {
        let proto = &function.proto;
        let name = proto.name.as_str();
        if builtin(name).is_some() {
            let message = format!("`{name}` is a builtin and cannot be redefined");
            return Err(Diagnostic::error(proto.name_span, message).with_note("choose another name"));
        }
        if self.resolver.extern_binding(name).is_some() {
            let message = format!("`{}` is bound to a C function by `extern` and cannot be redefined", shorten(name));
            let note = format!("`:forget {}` unbinds it; then it can be defined", shorten(name));
            return Err(Diagnostic::error(proto.name_span, message).with_note(note));
        }
        self.warn_about_stale_callers(proto);
        self.resolver.in_definition = true;
        let params: Vec<String> = proto.params.iter().map(|p| p.name.clone()).collect();
        self.ensure_stubs(params.len(), span)?;
        self.resolver.defining = Some((name.to_string(), params.len()));
        let compiled = if self.options.lazy {
            self.check_deferred(name, &params, &function.body, span).map(|deferred| {
                let code = deferred.code_id;
                (DefBody::Lazy(Box::new(deferred)), code, None)
            })
        } else {
            self.compile_definition(unit, name, &params, &function.body, span)
                .map(|(id, code, hot)| (DefBody::Eager(id), code, hot))
        };
        self.resolver.defining = None;
        let (body, code, hot) = compiled?;
        self.resolver.entry_defs.insert(name.to_string(), params.len());
        let calls = std::mem::take(&mut self.resolver.calls);
        self.resolver.note_calls(name, calls.clone());
        let source = self.source[kaleido_lang::with_trailing_comment(self.source, span).range()].to_string();
        let globals = std::mem::take(&mut self.resolver.globals_used);
        let uses = Uses { operators: OperatorUses::of(&function.body), globals };
        Ok(CompiledItem::Def { function, source, body, calls, code, uses, hot })
    }

    /// Checks a definition without building IR: lowering it to tier-0 code asks the resolver every
    /// question translation would (so every diagnostic and warning appears now) and finds its call sites;
    /// the answers are kept, with the packed body, to run it in tier 0 or compile it on its first calls.
    fn check_deferred(
        &mut self,
        name: &str,
        params: &[String],
        body: &Expr,
        span: Span,
    ) -> Result<Deferred, Diagnostic> {
        let counts = self.counts_calls(name, body);
        let mut spec = self.spec(Some(name), params, body, None, span);
        spec.hot_counter = counts.then(|| self.hot_counter(name, params.len(), spec.code_id));
        let code_id = Some(spec.code_id);
        let mut recording = Recording { inner: &mut self.resolver, answers: Vec::new() };
        let lowered = lower(&Body { params, body, code_id, origin: span.start }, &mut recording, self.interrupted)?;
        let answers = recording.answers;
        self.resolver.tables.set_call_sites(spec.code_id, lowered.sites);
        self.ensure_call_stubs(span)?;
        let mut deferred = self.deferred(&spec, answers);
        if lowered.code.is_some() {
            deferred.tier0_calls = self.options.tier0_calls;
        }
        Ok(deferred)
    }

    /// What a deferred (or watched) body keeps until it is compiled: as compact as it can be, because it
    /// may wait for the whole session.
    fn deferred(&self, spec: &FunctionSpec, answers: Vec<Answer>) -> Deferred {
        Deferred {
            name: self.resolver.tables.intern(spec.name.unwrap_or_default()),
            function: PackedFunction::pack(spec.params, spec.body),
            code_id: spec.code_id,
            answers: answers.into_boxed_slice(),
            checks: spec.checks,
            direct_self_calls: self.options.direct_self_calls,
            hot_counter: spec.hot_counter,
            tier0_calls: 0,
        }
    }

    /// The spec of a definition: a new code id, a call counter if its baseline code counts calls, else a
    /// direct self-reference (made by `reference`) if self-calls are direct.
    fn definition_spec<'s>(
        &mut self,
        func: &mut ir::Function,
        (name, params, body): (&'s str, &'s [String], &'s Expr),
        span: Span,
        reference: impl FnOnce(&mut ir::Function) -> ir::FuncRef,
    ) -> FunctionSpec<'s> {
        let counts = self.counts_calls(name, body);
        let self_ref = (self.options.direct_self_calls && !counts).then(|| reference(func));
        let mut spec = self.spec(Some(name), params, body, self_ref, span);
        spec.hot_counter = counts.then(|| self.hot_counter(name, params.len(), spec.code_id));
        spec
    }

    /// Whether a definition's baseline code counts its calls: when tiering is on and the body loops or
    /// can reach itself (it calls itself, or a function that calls it back: mutual recursion, seen in the
    /// call graph as this entry leaves it), the code that can run hot by itself. Other functions are left
    /// out because the counter costs a sixth of a small function's compile (a chain of 10,000 one-line
    /// callers: 0.70 s against 0.83 s), and what makes them hot is a loop or a recursion in a caller, which
    /// the optimizing tier takes over. (A function that a later definition makes recursive starts counting
    /// then: see `Engine::count_cycle_calls`.)
    fn counts_calls(&self, name: &str, body: &Expr) -> bool {
        if self.options.hot_calls.is_none() || !self.options.checks {
            return false;
        }
        if loops_or_calls_itself(name, body) {
            return true;
        }
        let calls = callees_of(body);
        !calls.is_empty() && on_a_cycle(&EntryGraph { resolver: &self.resolver, name, calls: &calls }, name)
    }

    /// A call counter for version `code` of `name`/`arity`, and the address of the slot it runs through.
    fn hot_counter(&mut self, name: &str, arity: usize, code: CodeId) -> (usize, usize) {
        let tables = &mut *self.resolver.tables;
        let counter = tables.counter(code, self.options.hot_calls.unwrap_or(u32::MAX));
        let slot = tables.slots.get_or_create(name, arity);
        (counter, tables.slots.address(slot))
    }

    fn spec<'s>(
        &mut self,
        name: Option<&'s str>,
        params: &'s [String],
        body: &'s Expr,
        self_ref: Option<ir::FuncRef>,
        span: Span,
    ) -> FunctionSpec<'s> {
        // Top-level code needs no backtrace name: the engine knows which entry it is running.
        let code_id = match name {
            Some(name) => self.resolver.tables.new_code_id(name),
            None => CodeId::TOP_LEVEL,
        };
        let (checks, origin) = (self.options.checks, span.start);
        let locals_in_slots = self.backend.tier() == Tier::Baseline && wants_slot_locals(body);
        FunctionSpec { name, params, body, code_id, self_ref, checks, origin, hot_counter: None, locals_in_slots }
    }

    /// Translates `spec` into `func`; when `record` is set, also returns every answer the resolver gave, in
    /// order (for lazy compilation to replay). Makes the stubs of every arity the code calls with.
    fn translate_into(
        &mut self,
        func: &mut ir::Function,
        spec: &FunctionSpec,
        record: bool,
        span: Span,
    ) -> Result<Vec<Answer>, Diagnostic> {
        let (frontend, runtime) = (self.backend.isa().frontend_config(), self.backend.runtime());
        let builder_context = self.backend.builder_context();
        let (answers, sites) = if record {
            let mut recording = Recording { inner: &mut self.resolver, answers: Vec::new() };
            let sites = translate(func, builder_context, frontend, spec, runtime, &mut recording, self.interrupted)?;
            (recording.answers, sites)
        } else {
            (
                Vec::new(),
                translate(func, builder_context, frontend, spec, runtime, &mut self.resolver, self.interrupted)?,
            )
        };
        // A backtrace points at the call that failed inside a function (not top-level code: the error
        // already points at its item).
        if spec.code_id != CodeId::TOP_LEVEL {
            self.resolver.tables.set_call_sites(spec.code_id, sites);
        }
        self.ensure_call_stubs(span)?;
        Ok(answers)
    }

    /// The stubs of every arity the code just translated or lowered calls with.
    fn ensure_call_stubs(&mut self, span: Span) -> Result<(), Diagnostic> {
        for arity in std::mem::take(&mut self.resolver.call_arities) {
            self.ensure_stubs(arity, span)?;
        }
        Ok(())
    }

    /// Whatever a slot of `arity` may point at (a raising stub, a lazy stub) exists before apply.
    fn ensure_stubs(&mut self, arity: usize, span: Span) -> Result<(), Diagnostic> {
        self.backend.ensure_stubs(arity, self.options.tier0_calls > 0).map_err(|e| codegen_diagnostic(e, span))
    }

    /// Redefining with another arity leaves callers passing the old count: say who they are.
    fn warn_about_stale_callers(&mut self, proto: &Prototype) {
        let arity = proto.params.len();
        let Some(old) = self.resolver.arity_of(&proto.name) else {
            return;
        };
        if old == arity {
            return;
        }
        // Callers as this item sees them: the session's, except those this entry redefined, and this
        // entry's own definitions so far.
        let resolver = &self.resolver;
        // The function's own recursive calls are redefined with it.
        let earlier = (resolver.tables.index.callers_of(&proto.name).into_iter())
            .filter(|(caller, _)| *caller != proto.name && !resolver.entry_calls().contains_key(caller));
        let this_entry = (resolver.entry_calls().iter()).flat_map(|(caller, calls)| {
            calls.iter().filter(|(callee, _)| *callee == proto.name).map(|(_, a)| (caller.clone(), *a))
        });
        let mut callers: Vec<(String, usize)> = earlier.chain(this_entry).collect();
        callers.sort();
        let stale: Vec<String> = (callers.into_iter())
            .filter(|(_, passed)| *passed != arity)
            .map(|(caller, _)| format!("`{}`", shorten(&caller)))
            .collect();
        if stale.is_empty() {
            return;
        }
        let message = format!(
            "`{}` now takes {arity} argument{}; {} still pass{} {old} and will fail when called",
            shorten(&proto.name),
            if arity == 1 { "" } else { "s" },
            some_of(&stale),
            if stale.len() == 1 { "es" } else { "" },
        );
        self.resolver.warnings.push(
            Diagnostic::warning(proto.span, message)
                .with_note("redefine either side so the argument counts agree again"),
        );
    }

    fn compile_extern(&mut self, unit: &mut Unit, proto: Prototype) -> Result<CompiledItem<FuncId>, Diagnostic> {
        let name = proto.name.as_str();
        let arity = proto.params.len();
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        if let Some(builtin) = builtin(name) {
            if builtin.arity() != arity {
                let takes = builtin.arity();
                let message = format!("the builtin `{name}` takes {takes} {}, not {arity}", plural(takes));
                return Err(Diagnostic::error(proto.span, message));
            }
            return Ok(CompiledItem::Extern { address: builtin.address(), proto, builtin: true, adapter: None });
        }
        let bound = self.resolver.extern_binding(name);
        if self.resolver.arity_of(name).is_some() && bound.is_none() {
            let message = format!("`{}` is already defined with `def`; an `extern` cannot replace it", shorten(name));
            return Err(Diagnostic::error(proto.name_span, message));
        }
        if let Some((bound, _)) = bound
            && bound != arity
        {
            let message = format!("`{name}` was declared with {bound} {}; it cannot change to {arity}", plural(bound));
            return Err(Diagnostic::error(proto.span, message));
        }
        let Some(address) = lookup_c_symbol(name) else {
            let message = format!("no builtin or C function named `{}` exists", shorten(name));
            return Err(Diagnostic::error(proto.name_span, message).with_note(format!("builtins: {}", builtin_names())));
        };
        self.resolver.entry_externs.insert(name.to_string(), (arity, address));
        // Every call to a C function goes through the name's slot, which points at an adapter of the
        // kaleido signature (and at a raising stub once the binding is forgotten).
        self.resolver.tables.slots.get_or_create(name, arity);
        self.ensure_stubs(arity, proto.span)?;
        let adapter = Some(self.compile_adapter(unit, address, arity, proto.span)?);
        Ok(CompiledItem::Extern { address, proto, builtin: false, adapter })
    }

    fn compile_adapter(
        &mut self,
        unit: &mut Unit,
        address: usize,
        arity: usize,
        span: Span,
    ) -> Result<FuncId, Diagnostic> {
        let signature = kaleido_signature(arity);
        let id = unit.declare(&signature).map_err(|e| codegen_diagnostic(e, span))?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let frontend = self.backend.isa().frontend_config();
        translate_native_adapter(&mut func, self.backend.builder_context(), frontend, address, arity);
        self.backend.define(unit, id, func, CodeId::TOP_LEVEL).map_err(|e| codegen_diagnostic(e, span))?;
        Ok(id)
    }

    fn compile_globals(
        &mut self,
        unit: &mut Unit,
        bindings: Vec<Binding>,
        span: Span,
    ) -> Result<CompiledItem<FuncId>, Diagnostic> {
        self.resolver.in_definition = false;
        let mut globals = Vec::new();
        for binding in bindings {
            let zero = Expr { kind: ExprKind::Number(0.0), span: binding.span };
            let init = binding.init.as_ref().unwrap_or(&zero);
            let thunk = self.stage_top_level(unit, init, span)?;
            self.resolver.calls.clear();
            self.resolver.globals_used.clear();
            let cell = self.resolver.global_cell(&binding.name);
            globals.push((binding.name, cell, thunk));
        }
        Ok(CompiledItem::Global(globals))
    }

    /// Translates and compiles a definition into the unit; returns its id in the unit, the code id its
    /// frames carry and, if its baseline code counts calls, its body for the optimizing tier.
    fn compile_definition(
        &mut self,
        unit: &mut Unit,
        name: &str,
        params: &[String],
        body: &Expr,
        span: Span,
    ) -> Result<(FuncId, CodeId, Option<Box<Deferred>>), Diagnostic> {
        let signature = kaleido_signature(params.len());
        let id = unit.declare(&signature).map_err(|e| codegen_diagnostic(e, span))?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let spec = self.definition_spec(&mut func, (name, params, body), span, |func| unit.reference(id, func));
        let tiering = self.options.hot_calls.is_some();
        let answers = self.translate_into(&mut func, &spec, tiering, span)?;
        let hot = tiering.then(|| Box::new(self.deferred(&spec, answers))).filter(|body| body.worth_keeping());
        self.backend.define(unit, id, func, spec.code_id).map_err(|e| codegen_diagnostic(e, span))?;
        Ok((id, spec.code_id, hot))
    }

    /// Top-level code: with tier 0 on, lowered to run in tier 0 (no code is generated for it at all)
    /// unless lowering says it is not for tier 0 (a loop, most often); else compiled into the unit.
    fn stage_top_level(&mut self, unit: &mut Unit, body: &Expr, span: Span) -> Result<TopLevel<FuncId>, Diagnostic> {
        if self.options.tier0_calls == 0 {
            return self.compile_top_level(unit, body, span).map(TopLevel::Compiled);
        }
        let warned = self.resolver.warnings.len();
        let spec = Body { params: &[], body, code_id: None, origin: span.start };
        let lowered = lower(&spec, &mut self.resolver, self.interrupted)?;
        self.ensure_call_stubs(span)?;
        match lowered.code {
            Some(mut code) => {
                code.link(|arity| self.backend.stub(StubKind::Enter, arity));
                Ok(TopLevel::Tier0(Box::new(code)))
            }
            None => {
                // Not for tier 0: compiled after all (its warnings are found again).
                self.resolver.warnings.truncate(warned);
                self.compile_top_level(unit, body, span).map(TopLevel::Compiled)
            }
        }
    }

    /// Translates and compiles top-level code into the unit; returns its id in the unit.
    fn compile_top_level(&mut self, unit: &mut Unit, body: &Expr, span: Span) -> Result<FuncId, Diagnostic> {
        let signature = thunk_signature(self.backend.isa().default_call_conv());
        let id = unit.declare(&signature).map_err(|e| codegen_diagnostic(e, span))?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature.clone());
        let mut spec = self.spec(None, &[], body, None, span);
        // Top-level code runs once, so no count can make a loop in it hot: with tiering on, a loop there is
        // compiled by the optimizing tier at once, with the small functions it calls inlined.
        let optimize = self.options.hot_calls.is_some() && has_loop(body);
        let answers = self.translate_into(&mut func, &spec, optimize, span)?;
        // The optimizing tier's compile time grows faster than the code: a big entry stays linear.
        if !optimize || !optimizable(&func) {
            self.backend.define(unit, id, func, CodeId::TOP_LEVEL).map_err(|e| codegen_diagnostic(e, span))?;
            return Ok(id);
        }
        let callees = self.bodies.small_callees(&answers, &|slot| self.defined_by_this_entry(slot.0));
        let callees = callees.iter().map(|(slot, body)| (slot.0, &**body));
        spec.locals_in_slots = false;
        let interrupted = self.interrupted;
        let mut diagnostic = None;
        let compiled =
            optimize_with_inlining(self.backend, unit, (id, CodeId::TOP_LEVEL), callees, |backend, _, callees| {
                let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
                let (frontend, runtime) = (backend.isa().frontend_config(), backend.runtime());
                let mut replay = Replay::new(&answers, callees);
                let translated =
                    translate(&mut func, backend.builder_context(), frontend, &spec, runtime, &mut replay, interrupted);
                // A diagnostic (an interrupt while translating) is the entry's, not the backend's.
                translated.map(|_call_sites| func).map_err(|error| {
                    diagnostic = Some(error);
                    CodegenError::Interrupted
                })
            });
        match (compiled, diagnostic) {
            (_, Some(diagnostic)) => Err(diagnostic),
            (Err(error), None) => Err(codegen_diagnostic(error, span)),
            (Ok(()), None) => Ok(id),
        }
    }

    /// Whether the function called through the slot at `slot` is defined by an earlier item of this
    /// entry: the lazy compiler still holds the body it replaces, which must not be inlined.
    fn defined_by_this_entry(&self, slot: usize) -> bool {
        let tables = &*self.resolver.tables;
        tables
            .slots
            .at_address(slot)
            .is_some_and(|slot| self.resolver.entry_defs.contains_key(tables.slots.key(slot).0))
    }
}

impl CompiledItem<FuncId> {
    /// The item with its functions' finished code in place of their ids.
    fn resolve(self, functions: &mut [Option<CompiledFunction>]) -> CompiledItem {
        let mut take = |id: FuncId| functions[id.as_u32() as usize].take().expect("each function is used once");
        match self {
            CompiledItem::Def { function, source, body, calls, code, uses, hot } => {
                let body = match body {
                    DefBody::Eager(id) => DefBody::Eager(take(id)),
                    DefBody::Lazy(deferred) => DefBody::Lazy(deferred),
                };
                CompiledItem::Def { function, source, body, calls, code, uses, hot }
            }
            CompiledItem::Extern { proto, address, builtin, adapter } => {
                CompiledItem::Extern { proto, address, builtin, adapter: adapter.map(take) }
            }
            CompiledItem::Expr { thunk, calls } => CompiledItem::Expr { thunk: thunk.resolve(&mut take), calls },
            CompiledItem::Global(globals) => CompiledItem::Global(
                globals.into_iter().map(|(name, cell, code)| (name, cell, code.resolve(&mut take))).collect(),
            ),
        }
    }
}

impl TopLevel<FuncId> {
    fn resolve(self, take: &mut impl FnMut(FuncId) -> CompiledFunction) -> TopLevel {
        match self {
            TopLevel::Compiled(id) => TopLevel::Compiled(take(id)),
            TopLevel::Tier0(code) => TopLevel::Tier0(code),
        }
    }
}

impl TopLevel {
    /// The code memory it holds (none for tier-0 code).
    pub(crate) fn ranges(&self) -> impl Iterator<Item = crate::machine::code_memory::CodeRange> + '_ {
        match self {
            TopLevel::Compiled(code) => Some(code.ranges()),
            TopLevel::Tier0(_) => None,
        }
        .into_iter()
        .flatten()
    }

    /// Bytes of machine code it has.
    pub(crate) fn size(&self) -> usize {
        match self {
            TopLevel::Compiled(code) => code.size,
            TopLevel::Tier0(_) => 0,
        }
    }
}

/// A code generation failure as a diagnostic on the item being compiled.
fn codegen_diagnostic(error: CodegenError, span: Span) -> Diagnostic {
    let diagnostic = Diagnostic::error(span, error.to_string());
    match error {
        CodegenError::OutOfCodeMemory { .. } => {
            diagnostic.with_note("redefining or `:reset` frees code; nothing of this entry was applied")
        }
        _ => diagnostic,
    }
}
