//! The compile phase of an entry: every item is translated into the entry's one new module, against a
//! staged view of the session, before anything is applied.
//!
//! Nothing here changes what the session sees. New slots and global cells are appended to the stable
//! stores but registered nowhere; if any item fails, [`Staging::abandon`] gives them back and the module
//! is dropped, so a failed entry leaves no trace.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use cranelift_codegen::ir;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};
use kaleido_lang::ast::{Binding, Expr, Function, Item, ItemKind, Prototype};
use kaleido_lang::diagnostic::shorten;
use kaleido_lang::{Diagnostic, Span};

use crate::backend::CodegenError;
use crate::code_memory::{CodeRange, lock};
use crate::codegen::{Callee, FunctionSpec, Resolve, kaleido_signature, thunk_signature, translate};
use crate::engine::{Engine, JitMode};
use crate::index::{FunctionKind, FunctionState, SlotId};
use crate::lazy::{Answer, Deferred, Recording, self_reference};
use crate::runtime::lookup_c_symbol;

/// Why the compile phase did not produce an entry to apply. Either way the session is untouched.
pub enum StagingError {
    /// An item failed to compile: these diagnostics (the error last) say why.
    Rejected(Vec<Diagnostic>),
    /// An interrupt (Ctrl-C) arrived while the entry compiled.
    Interrupted,
}

/// One item, compiled and ready to apply.
pub enum CompiledItem {
    /// A definition: compiled into the entry's module, or (lazy mode) IR to compile on the first call.
    Def { function: Function, source: String, body: DefBody, calls: BTreeSet<(String, usize)> },
    /// An `extern`, bound to a builtin or a C function at `address`; `adapter` is a kaleido-signature
    /// function that calls it, for calls compiled before the binding (through the name's slots).
    Extern { proto: Prototype, address: usize, builtin: bool, adapter: Option<FuncId> },
    /// Top-level code: a thunk to run.
    Expr { func: FuncId, calls: BTreeSet<String> },
    /// Global variables: for each, its cell and a thunk computing its initial value.
    Global(Vec<(String, u32, FuncId)>),
}

/// A definition's code: generated now (eager) or deferred to its first call (lazy).
pub enum DefBody {
    /// Compiled into the entry's module.
    Eager(FuncId),
    /// The body and the resolver's answers, to compile on the first call.
    Lazy(Box<Deferred>),
}

/// The compiled entry: its finalized module, its items, and the warnings found.
pub struct CompiledEntry {
    /// The entry's module.
    pub module: JITModule,
    /// The code ranges the module allocated, one per function.
    pub allocations: Arc<Mutex<Vec<CodeRange>>>,
    /// The items in order, each with its span in the entry.
    pub items: Vec<(CompiledItem, Span)>,
    /// Slots created for this entry, to register when it is applied.
    pub new_slots: Vec<(String, usize, SlotId)>,
    /// Warnings (forward references, arity mismatches).
    pub warnings: Vec<Diagnostic>,
}

/// The session as this entry's items see it while they compile.
pub struct Staging<'e> {
    engine: &'e mut Engine,
    source: &'e str,
    entry_name: &'e str,
    slot_mark: usize,
    global_mark: usize,
    code_mark: usize,
    new_slots: Vec<(String, usize, SlotId)>,
    new_globals: HashMap<String, u32>,
    /// Functions defined by earlier items of this entry, with their arity.
    entry_defs: HashMap<String, usize>,
    /// Functions bound by earlier `extern` items of this entry: arity and address.
    entry_externs: HashMap<String, (usize, usize)>,
    warnings: Vec<Diagnostic>,
    /// The calls made by the function being compiled.
    calls: BTreeSet<(String, usize)>,
    /// Whether the code being compiled is a definition (warnings) or top-level code (no warnings: it
    /// runs at once and reports real errors).
    in_definition: bool,
}

impl<'e> Staging<'e> {
    /// Starts staging an entry named `entry_name` whose text is `source`.
    pub fn new(engine: &'e mut Engine, source: &'e str, entry_name: &'e str) -> Staging<'e> {
        Staging {
            slot_mark: engine.slots.len(),
            global_mark: engine.globals.len(),
            code_mark: engine.code_names.len(),
            engine,
            source,
            entry_name,
            new_slots: Vec::new(),
            new_globals: HashMap::new(),
            entry_defs: HashMap::new(),
            entry_externs: HashMap::new(),
            warnings: Vec::new(),
            calls: BTreeSet::new(),
            in_definition: false,
        }
    }

    /// Compiles every item into one new module. On error the staging is abandoned: nothing is left behind.
    pub fn compile(mut self, items: Vec<Item>) -> Result<CompiledEntry, StagingError> {
        let (mut module, allocations) = self.engine.backend.borrow().new_module();
        let mut compiled = Vec::new();
        for item in items {
            let span = item.span;
            let result = self.compile_item(&mut module, item);
            if self.engine.state.interrupt_handle().is_requested() {
                self.abandon(&allocations);
                return Err(StagingError::Interrupted);
            }
            match result {
                Ok(item) => compiled.push((item, span)),
                Err(error) => {
                    let mut diagnostics = self.warnings.clone();
                    diagnostics.push(error);
                    self.abandon(&allocations);
                    return Err(StagingError::Rejected(diagnostics));
                }
            }
        }
        let finalized = self.engine.backend.borrow().finalize(&mut module);
        if let Err(error) = finalized {
            let span = Span::new(0, self.source.len());
            self.abandon(&allocations);
            return Err(StagingError::Rejected(vec![Diagnostic::error(span, error.to_string())]));
        }
        let (new_slots, mut warnings) = (self.new_slots, self.warnings);
        warnings.sort_by_key(|w| w.span.start);
        Ok(CompiledEntry { module, allocations, items: compiled, new_slots, warnings })
    }

    fn abandon(self, allocations: &Mutex<Vec<CodeRange>>) {
        let ranges: Vec<CodeRange> = lock(allocations).drain(..).collect();
        self.engine.backend.borrow().free(&ranges);
        self.engine.slots.truncate(self.slot_mark);
        self.engine.slot_keys.truncate(self.slot_mark);
        self.engine.globals.truncate(self.global_mark);
        self.engine.code_names.truncate(self.code_mark);
    }

    fn compile_item(&mut self, module: &mut JITModule, item: Item) -> Result<CompiledItem, Diagnostic> {
        let span = item.span;
        match item.kind {
            ItemKind::Def(function) => self.compile_def(module, function, span),
            ItemKind::Extern(proto) => self.compile_extern(module, proto),
            ItemKind::Expr(expr) => {
                self.in_definition = false;
                let func = self.compile_function(module, None, &[], &expr, self.entry_name.to_string(), span)?;
                let calls = std::mem::take(&mut self.calls).into_iter().map(|(name, _)| name).collect();
                Ok(CompiledItem::Expr { func, calls })
            }
            ItemKind::Global(bindings) => self.compile_globals(module, bindings, span),
        }
    }

    fn compile_def(
        &mut self,
        module: &mut JITModule,
        function: Function,
        span: Span,
    ) -> Result<CompiledItem, Diagnostic> {
        let proto = &function.proto;
        let name = proto.name.as_str();
        if self.engine.builtin(name).is_some() {
            let message = format!("`{name}` is a builtin and cannot be redefined");
            return Err(Diagnostic::error(proto.name_span, message).with_note("choose another name"));
        }
        if self.is_extern(name) {
            let message = format!("`{}` is bound to a C function by `extern` and cannot be redefined", shorten(name));
            return Err(Diagnostic::error(proto.name_span, message));
        }
        self.warn_about_stale_callers(proto);
        self.in_definition = true;
        let params: Vec<String> = proto.params.iter().map(|p| p.name.clone()).collect();
        self.engine.backend.borrow_mut().ensure_stubs(params.len()).map_err(|e| codegen_diagnostic(e, span))?;
        let code_name = format!("`{name}`");
        let body = if self.engine.options.jit == JitMode::Lazy {
            DefBody::Lazy(Box::new(self.check_deferred(name, &params, &function.body, code_name)?))
        } else {
            DefBody::Eager(self.compile_function(module, Some(name), &params, &function.body, code_name, span)?)
        };
        self.entry_defs.insert(name.to_string(), params.len());
        let calls = std::mem::take(&mut self.calls);
        let source = self.source[span.range()].to_string();
        Ok(CompiledItem::Def { function, source, body, calls })
    }

    /// Translates a definition once, into IR that is thrown away, so that every diagnostic appears now;
    /// keeps what is needed to translate it again when it is first called.
    fn check_deferred(
        &mut self,
        name: &str,
        params: &[String],
        body: &Expr,
        code_name: String,
    ) -> Result<Deferred, Diagnostic> {
        let signature = kaleido_signature(params.len());
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let direct_self_calls = self.engine.options.direct_self_calls;
        let self_ref = direct_self_calls.then(|| self_reference(&mut func));
        let spec = self.spec(Some(name), params, body, code_name, self_ref);
        let answers = self.translate_into(&mut func, &spec, true)?;
        Ok(Deferred {
            name: name.to_string(),
            params: params.to_vec(),
            body: body.clone(),
            code_id: spec.code_id,
            answers,
            checks: spec.checks,
            direct_self_calls,
        })
    }

    fn spec<'s>(
        &mut self,
        name: Option<&'s str>,
        params: &'s [String],
        body: &'s Expr,
        code_name: String,
        self_ref: Option<ir::FuncRef>,
    ) -> FunctionSpec<'s> {
        // Top-level code needs no backtrace name: the engine knows which entry it is running.
        let code_id = self.engine.code_names.len() as u32;
        if name.is_some() {
            self.engine.code_names.push(code_name);
        }
        FunctionSpec { name, params, body, code_id, self_ref, checks: self.engine.options.checks }
    }

    /// Translates `spec` into `func` with this staging as the resolver; when `record` is set, also
    /// returns every answer the resolver gave, in order (for lazy compilation to replay).
    fn translate_into(
        &mut self,
        func: &mut ir::Function,
        spec: &FunctionSpec,
        record: bool,
    ) -> Result<Vec<Answer>, Diagnostic> {
        let (frontend, runtime) = {
            let backend = self.engine.backend.borrow();
            (backend.isa().frontend_config(), backend.runtime())
        };
        // The context lives in the engine, which is also the resolver's: lend it out for the translation.
        let mut builder_context = std::mem::take(&mut self.engine.builder_context);
        let (result, answers) = if record {
            let mut recording = Recording { inner: self, answers: Vec::new() };
            let result = translate(func, &mut builder_context, frontend, spec, runtime, &mut recording);
            (result, recording.answers)
        } else {
            (translate(func, &mut builder_context, frontend, spec, runtime, self), Vec::new())
        };
        self.engine.builder_context = builder_context;
        result.map(|()| answers)
    }

    /// Redefining with another arity leaves callers passing the old count: say who they are.
    fn warn_about_stale_callers(&mut self, proto: &Prototype) {
        let arity = proto.params.len();
        let Some(old) = self.arity_of(&proto.name) else {
            return;
        };
        if old == arity {
            return;
        }
        let stale: Vec<String> = self
            .engine
            .index
            .callers_of(&proto.name)
            .into_iter()
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
            stale.join(", "),
            if stale.len() == 1 { "es" } else { "" },
        );
        self.warnings.push(
            Diagnostic::warning(proto.span, message)
                .with_note("redefine either side so the argument counts agree again"),
        );
    }

    fn compile_extern(&mut self, module: &mut JITModule, proto: Prototype) -> Result<CompiledItem, Diagnostic> {
        let name = proto.name.as_str();
        let arity = proto.params.len();
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        if let Some(builtin) = self.engine.builtin(name) {
            if builtin.arity != arity {
                let message =
                    format!("the builtin `{name}` takes {} {}, not {arity}", builtin.arity, plural(builtin.arity));
                return Err(Diagnostic::error(proto.span, message));
            }
            return Ok(CompiledItem::Extern { address: builtin.address, proto, builtin: true, adapter: None });
        }
        if self.arity_of(name).is_some() && !self.is_extern(name) {
            let message = format!("`{}` is already defined with `def`; an `extern` cannot replace it", shorten(name));
            return Err(Diagnostic::error(proto.name_span, message));
        }
        if let Some((bound, _)) = self.extern_binding(name)
            && bound != arity
        {
            let message = format!("`{name}` was declared with {bound} {}; it cannot change to {arity}", plural(bound));
            return Err(Diagnostic::error(proto.span, message));
        }
        let Some(address) = lookup_c_symbol(name) else {
            let message = format!("no builtin or C function named `{}` exists", shorten(name));
            return Err(Diagnostic::error(proto.name_span, message)
                .with_note("builtins: putchard printd sin cos tan asin acos atan atan2 sinh cosh tanh exp log log10 pow sqrt floor ceil fabs fmod"));
        };
        self.entry_externs.insert(name.to_string(), (arity, address));
        // Code compiled before this binding calls the name through its slot (a forward reference): the
        // slot needs a function of the kaleido signature to point at.
        let called_through_slot = self.engine.index.get(name).is_some_and(|f| f.slots.contains_key(&arity))
            || self.new_slots.iter().any(|(n, a, _)| n == name && *a == arity);
        let adapter =
            if called_through_slot { Some(self.compile_adapter(module, address, arity, &proto)?) } else { None };
        Ok(CompiledItem::Extern { address, proto, builtin: false, adapter })
    }

    fn compile_adapter(
        &mut self,
        module: &mut JITModule,
        address: usize,
        arity: usize,
        proto: &Prototype,
    ) -> Result<FuncId, Diagnostic> {
        let internal = |error: String| Diagnostic::error(proto.span, format!("internal compiler error: {error}"));
        let signature = kaleido_signature(arity);
        let id = module.declare_anonymous_function(&signature).map_err(|e| internal(e.to_string()))?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let mut backend = self.engine.backend.borrow_mut();
        let frontend = backend.isa().frontend_config();
        crate::codegen::translate_native_adapter(&mut func, &mut self.engine.builder_context, frontend, address, arity);
        backend.define(module, id, func).map_err(|e| codegen_diagnostic(e, proto.span))?;
        Ok(id)
    }

    fn compile_globals(
        &mut self,
        module: &mut JITModule,
        bindings: Vec<Binding>,
        span: Span,
    ) -> Result<CompiledItem, Diagnostic> {
        self.in_definition = false;
        let mut globals = Vec::new();
        for binding in bindings {
            let zero = Expr { kind: kaleido_lang::ast::ExprKind::Number(0.0), span: binding.span };
            let init = binding.init.as_ref().unwrap_or(&zero);
            let func = self.compile_function(module, None, &[], init, self.entry_name.to_string(), span)?;
            self.calls.clear();
            let cell = self.global_cell(&binding.name);
            globals.push((binding.name, cell, func));
        }
        Ok(CompiledItem::Global(globals))
    }

    fn compile_function(
        &mut self,
        module: &mut JITModule,
        name: Option<&str>,
        params: &[String],
        body: &Expr,
        code_name: String,
        span: Span,
    ) -> Result<FuncId, Diagnostic> {
        let internal = |error: String| Diagnostic::error(span, format!("internal compiler error: {error}"));
        let signature = match name {
            Some(_) => kaleido_signature(params.len()),
            None => thunk_signature(self.engine.backend.borrow().isa().default_call_conv()),
        };
        let id = module.declare_anonymous_function(&signature).map_err(|e| internal(e.to_string()))?;
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let direct = name.is_some() && self.engine.options.direct_self_calls;
        let self_ref = direct.then(|| module.declare_func_in_func(id, &mut func));
        let spec = self.spec(name, params, body, code_name, self_ref);
        self.translate_into(&mut func, &spec, false)?;
        self.engine.backend.borrow_mut().define(module, id, func).map_err(|e| codegen_diagnostic(e, span))?;
        Ok(id)
    }

    fn arity_of(&self, name: &str) -> Option<usize> {
        if let Some(&arity) = self.entry_defs.get(name) {
            return Some(arity);
        }
        self.engine.index.get(name).filter(|f| f.state == FunctionState::Defined).and_then(|f| f.arity)
    }

    fn is_extern(&self, name: &str) -> bool {
        self.extern_binding(name).is_some()
    }

    fn extern_binding(&self, name: &str) -> Option<(usize, usize)> {
        if let Some(&binding) = self.entry_externs.get(name) {
            return Some(binding);
        }
        let info = self.engine.index.get(name).filter(|f| f.kind == FunctionKind::Extern)?;
        Some((info.arity?, info.code))
    }

    fn slot(&mut self, name: &str, arity: usize) -> SlotId {
        if let Some(&slot) = self.engine.index.get(name).and_then(|f| f.slots.get(&arity)) {
            return slot;
        }
        if let Some(&(_, _, slot)) = self.new_slots.iter().find(|(n, a, _)| n == name && *a == arity) {
            return slot;
        }
        let slot = self.engine.slots.push();
        self.engine.slot_keys.push((name.to_string(), arity));
        self.new_slots.push((name.to_string(), arity, slot));
        slot
    }

    fn global_cell(&mut self, name: &str) -> u32 {
        if let Some(&cell) = self.new_globals.get(name).or_else(|| self.engine.global_names.get(name)) {
            return cell;
        }
        let cell = self.engine.globals.push();
        self.new_globals.insert(name.to_string(), cell);
        cell
    }

    fn warn_about_call(&mut self, name: &str, arity: usize, span: Span) {
        let shown = shorten(name);
        match self.arity_of(name) {
            None => self.warnings.push(
                Diagnostic::warning(span, format!("`{shown}` is not defined yet"))
                    .with_note("calling it fails until it is defined"),
            ),
            Some(takes) if takes != arity => self.warnings.push(Diagnostic::warning(
                span,
                format!(
                    "`{shown}` takes {takes} argument{}, but this call passes {arity}",
                    if takes == 1 { "" } else { "s" }
                ),
            )),
            Some(_) => {}
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

impl Resolve for Staging<'_> {
    fn callee(&mut self, name: &str, arity: usize, span: Span) -> Result<Callee, Diagnostic> {
        let native = match self.engine.builtin(name) {
            Some(builtin) => Some((builtin.arity, builtin.address, builtin.takes_state)),
            None => self.extern_binding(name).map(|(arity, address)| (arity, address, false)),
        };
        if let Some((takes, address, takes_state)) = native {
            if takes != arity {
                let s = if takes == 1 { "" } else { "s" };
                let message = format!(
                    "`{name}` takes {takes} argument{s}, but {arity} {} given",
                    if arity == 1 { "was" } else { "were" }
                );
                return Err(Diagnostic::error(span, message));
            }
            return Ok(Callee::Native { address, takes_state });
        }
        if self.in_definition {
            self.warn_about_call(name, arity, span);
        }
        self.calls.insert((name.to_string(), arity));
        // Whatever the slot will point at (code, a raising stub, a lazy stub) exists before apply.
        self.engine.backend.borrow_mut().ensure_stubs(arity).map_err(|e| codegen_diagnostic(e, span))?;
        let slot = self.slot(name, arity);
        Ok(Callee::Slot { address: self.engine.slots.address(slot) })
    }

    fn global(&mut self, name: &str) -> usize {
        let cell = self.global_cell(name);
        self.engine.globals.address(cell)
    }
}
