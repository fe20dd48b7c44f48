//! The backend: Cranelift IR to machine code, in per-entry modules ([`Unit`]s) on one shared ISA, with
//! code in the engine's arena. One function, [`Backend::define`], compiles everything: definitions (eager
//! and lazy), top-level code, adapters and stubs. [`Backend::finish`] makes a unit's code executable and
//! hands back one [`CompiledFunction`] per function; the module itself is dropped there, because the
//! engine owns code per function, in its arena.
//!
//! Compiling runs on the engine's compile stack (see `machine/stack.rs`), so it never depends on how much stack
//! the caller has left. A function too big to compile in a blink goes to a worker thread instead, and the
//! caller waits for it while watching for an interrupt: Ctrl-C abandons the compile at once (the worker's
//! result is thrown away when it finishes), and the entry or the lazy call fails, changing nothing.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, Signature};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::{Context, settings, settings::Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Module, ModuleError, ModuleReloc, ModuleRelocTarget, default_libcall_names};
use target_lexicon::Triple;

use crate::base::ids::CodeId;
use crate::base::options::Tier;
use crate::base::request_error::StartError;
use crate::codegen::frame_guard::translate_frame_guard;
use crate::codegen::inliner::inline_calls;
use crate::codegen::{KALEIDO_CALL_CONV, RuntimeAddresses};
use crate::machine::code_memory::{ArenaProvider, CodeRange, SharedArena, lock};
use crate::machine::stack::{COMPILE_STACK, MAX_UNGUARDED_FRAME, Stack};
use crate::runtime::InterruptHandle;

mod stubs;

pub use stubs::StubKind;

/// Functions with more IR instructions than this compile on a worker thread, where Ctrl-C can abandon
/// them. Smaller ones compile in place: they are the common case, and a thread per compile would add its
/// start-up to every entry. (A 20,000-call function took 2.25 s in a release build, which Ctrl-C must be able to
/// cut short; the threshold between has not been tuned by measurement.)
const WORKER_THRESHOLD: usize = 4_000;

/// The optimizing tier compiles functions of up to this many IR instructions (a few dozen lines). Its
/// compile time grows faster than the code (its register allocator, on `N` nested loops, about as
/// `N^3.5`: 50 levels 18 ms, 100 levels 173 ms, 200 levels 2.5 s), so a bigger function is compiled by the
/// baseline tier, whose compile time is linear in its size, whatever was asked: a big hot function does
/// not tier up, a big top-level loop is not optimized, and `--tier optimized` stays usable on big input.
const OPTIMIZE_LIMIT: usize = 1_000;

/// Whether the optimizing tier compiles `func` (see [`OPTIMIZE_LIMIT`]).
pub(crate) fn optimizable(func: &ir::Function) -> bool {
    func.dfg.num_insts() <= OPTIMIZE_LIMIT
}

/// How often a caller waiting for a worker looks for an interrupt.
const INTERRUPT_POLL: Duration = Duration::from_millis(5);

/// Why generating machine code failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum CodegenError {
    /// The code arena has no room left.
    #[error("out of code memory ({limit}): {reason}")]
    OutOfCodeMemory {
        /// The arena's size, for people (`1 GiB`).
        limit: String,
        /// What could not be allocated.
        reason: String,
    },
    /// An interrupt (Ctrl-C) abandoned the compile.
    #[error("interrupted while compiling")]
    Interrupted,
    /// A hot function is too big for the optimizing tier (see [`OPTIMIZE_LIMIT`]); it keeps its code.
    #[error("too big for the optimizing tier")]
    TooBigToOptimize,
    /// Cranelift refused the function: a bug in kaleido.
    #[error("internal compiler error: {0}")]
    Internal(String),
}

/// What compiling has cost so far, eager and lazy together.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CompileStats {
    /// Functions compiled to machine code (definitions and top-level code; stubs aside).
    pub functions: u64,
    /// Bytes of machine code produced.
    pub code_bytes: u64,
    /// Time spent generating code: translating to Cranelift IR (for a lazy or hot function, unpacking its
    /// body first) and Cranelift's code generation.
    pub time: Duration,
    /// Hot baseline functions recompiled by the optimizing tier.
    pub tier_ups: u64,
    /// Calls of deferred functions run in tier 0, without compiling them.
    pub tier0_calls: u64,
    /// Top-level items (expressions, global initialisers) evaluated in tier 0, without compiling them.
    pub tier0_top_level: u64,
    /// Optimized functions sent back to the baseline because a function they inlined changed.
    pub invalidations: u64,
}

/// Machine code for one function, not yet placed in a module.
struct Emitted {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
    /// Bytes of stack its frame takes below the caller's (return address and saved frame pointer
    /// included), from Cranelift's frame layout.
    frame: u32,
}

/// One function's machine code, owned by the engine from [`Backend::finish`] on: where it starts, the
/// memory it occupies (freed as a whole when the code is replaced), and, when the backend keeps it, its
/// Cranelift IR.
#[derive(Clone, Debug)]
pub(crate) struct CompiledFunction {
    /// The entry point.
    pub(crate) code: usize,
    /// The allocation holding it.
    pub(crate) range: CodeRange,
    /// How many bytes of machine code it has, from `code`.
    pub(crate) size: usize,
    /// The Cranelift IR that was compiled, as text, when the backend was keeping it (`:clif`).
    pub(crate) clif: Option<String>,
    /// Compiled by the optimizing tier (`opt_level=speed`), not the baseline.
    pub(crate) optimized: bool,
    /// The functions whose bodies the optimizing tier inlined into it.
    pub(crate) inlined: Vec<String>,
    /// Bytes of stack its frame takes, measured from its machine code.
    pub(crate) frame: u32,
    /// When its frame is too large to go unchecked: the body that `code`, a frame guard, tail-calls.
    pub(crate) guarded: Option<GuardedBody>,
}

/// The body of a function entered through a frame guard (see `codegen/frame_guard.rs`).
#[derive(Clone, Debug)]
pub(crate) struct GuardedBody {
    /// Its entry point.
    pub(crate) code: usize,
    /// The allocation holding it.
    pub(crate) range: CodeRange,
    /// Bytes of machine code.
    pub(crate) size: usize,
}

impl CompiledFunction {
    /// Every allocation holding its code: one, or two when a guard checks its frame first.
    pub(crate) fn ranges(&self) -> impl Iterator<Item = CodeRange> + '_ {
        std::iter::once(self.range).chain(self.guarded.as_ref().map(|body| body.range))
    }

    /// The code that does the function's work, and its size: the body behind a frame guard, if any.
    pub(crate) fn body(&self) -> (usize, usize) {
        self.guarded.as_ref().map_or((self.code, self.size), |body| (body.code, body.size))
    }
}

/// What the backend noted of a function it defined in a unit.
#[derive(Clone, Copy, Debug, Default)]
struct Defined {
    /// Bytes of machine code.
    size: usize,
    /// Whether the optimizing tier compiled it.
    optimized: bool,
    /// Its frame's size.
    frame: u32,
    /// For a frame guard, the function of the unit holding the body it enters.
    body: Option<FuncId>,
}

/// One module being filled: the functions of one entry (or one lazy compile, or one stub).
pub(crate) struct Unit {
    /// Made on first use: most entries (a lazy definition, top-level code in tier 0) compile nothing, and
    /// a module costs a few microseconds to make.
    module: Option<JITModule>,
    /// What the module is made with.
    isa: OwnedTargetIsa,
    arena: SharedArena,
    allocations: Arc<Mutex<Vec<CodeRange>>>,
    clifs: HashMap<FuncId, String>,
    /// What was noted of each function defined.
    defined: HashMap<FuncId, Defined>,
}

impl Unit {
    /// Declares a function of `signature`, to be defined with [`Backend::define`].
    pub(crate) fn declare(&mut self, signature: &ir::Signature) -> Result<FuncId, CodegenError> {
        self.module().declare_anonymous_function(signature).map_err(|e| CodegenError::Internal(e.to_string()))
    }

    /// A reference from `func` to function `id` of this unit (a direct call, for recursion).
    pub(crate) fn reference(&mut self, id: FuncId, func: &mut ir::Function) -> ir::FuncRef {
        self.module().declare_func_in_func(id, func)
    }

    fn module(&mut self) -> &mut JITModule {
        let Unit { module, isa, arena, allocations, .. } = self;
        module.get_or_insert_with(|| {
            let mut builder = JITBuilder::with_isa(isa.clone(), default_libcall_names());
            builder.memory_provider(Box::new(ArenaProvider::new(arena.clone(), allocations.clone())));
            JITModule::new(builder)
        })
    }
}

/// The ISA, the code arena, the compile stack, the builder context and the stubs: everything that makes
/// machine code.
pub(crate) struct Backend {
    /// The ISA of the tier entries compile with (`--tier`, `:set tier`).
    isa: OwnedTargetIsa,
    tier: Tier,
    /// The optimizing tier's ISA, for hot functions.
    optimizing_isa: OwnedTargetIsa,
    /// The baseline tier's ISA, for functions too big to optimize.
    baseline_isa: OwnedTargetIsa,
    /// The same ISA with frame pointers, for the lazy stubs' tail calls.
    stub_isa: OwnedTargetIsa,
    arena: SharedArena,
    compile_stack: Rc<Stack>,
    interrupt: InterruptHandle,
    runtime: RuntimeAddresses,
    /// The one builder context, reused by every translation.
    builder_context: FunctionBuilderContext,
    /// The one Cranelift context, reused by every compile on the compile stack (its analyses keep their
    /// allocations).
    context: Context,
    /// Raising and lazy stubs by (kind, arity), compiled once per arity, in the compile phase.
    stubs: HashMap<(StubKind, usize), usize>,
    /// Whether to keep each function's IR as text.
    keep_clif: bool,
    /// Counters for `:stats`.
    pub(crate) stats: CompileStats,
}

/// Which of the backend's ISAs compiles a function.
#[derive(Clone, Copy)]
enum Isa {
    /// The current tier's.
    Current,
    /// The optimizing tier's, for a hot function.
    Optimizing,
    /// The current tier's with frame pointers, for stubs.
    Stub,
}

impl Backend {
    /// A backend for the host, allocating code in `arena` and compiling on `compile_stack`, for the
    /// runtime at `runtime`.
    pub(crate) fn new(
        arena: SharedArena,
        compile_stack: Rc<Stack>,
        interrupt: InterruptHandle,
        runtime: RuntimeAddresses,
        tier: Tier,
    ) -> Result<Backend, StartError> {
        let (isa, stub_isa) = (host_isa(false, tier)?, host_isa(true, tier)?);
        let (optimizing_isa, baseline_isa) = (host_isa(false, Tier::Optimized)?, host_isa(false, Tier::Baseline)?);
        let (stubs, stats, builder_context) = (HashMap::new(), CompileStats::default(), FunctionBuilderContext::new());
        let keep_clif = false;
        Ok(Backend {
            isa,
            tier,
            optimizing_isa,
            baseline_isa,
            stub_isa,
            arena,
            compile_stack,
            interrupt,
            runtime,
            builder_context,
            context: Context::new(),
            stubs,
            keep_clif,
            stats,
        })
    }

    /// Runs `generate` (the translation and compile of code) and counts the whole of its time as time
    /// generating code (Cranelift's part alone is counted by [`Backend::define_in_tier`], and replaced).
    pub(crate) fn timed<R>(&mut self, generate: impl FnOnce(&mut Backend) -> R) -> R {
        let (started, before) = (Instant::now(), self.stats.time);
        let result = generate(self);
        self.stats.time = before + started.elapsed();
        result
    }

    /// Frees code that nothing can reach any more (see `CodeArena::free`).
    pub(crate) fn free(&self, ranges: &[CodeRange]) {
        lock(&self.arena).free(ranges);
    }

    /// Bytes of machine code allocated now, and the most ever allocated at once.
    pub(crate) fn code_memory(&self) -> (usize, usize) {
        let arena = lock(&self.arena);
        (arena.live_bytes(), arena.high_water())
    }

    /// The handle whose interrupt abandons a compile.
    pub(crate) fn interrupt_handle(&self) -> &InterruptHandle {
        &self.interrupt
    }

    /// The tier entries compile with.
    pub(crate) fn tier(&self) -> Tier {
        self.tier
    }

    /// The shared ISA.
    pub(crate) fn isa(&self) -> &OwnedTargetIsa {
        &self.isa
    }

    /// The runtime's addresses, for code generation.
    pub(crate) fn runtime(&self) -> RuntimeAddresses {
        self.runtime
    }

    /// The builder context every translation borrows.
    pub(crate) fn builder_context(&mut self) -> &mut FunctionBuilderContext {
        &mut self.builder_context
    }

    /// Keep (or stop keeping) each compiled function's IR as text.
    pub(crate) fn keep_clif(&mut self, keep: bool) {
        self.keep_clif = keep;
    }

    /// The code arena (to copy what it holds to an executor in another process image).
    pub(crate) fn arena(&self) -> &SharedArena {
        &self.arena
    }

    /// A new unit, allocating its code in the arena.
    pub(crate) fn unit(&self) -> Unit {
        Unit {
            module: None,
            isa: self.isa.clone(),
            arena: self.arena.clone(),
            allocations: Arc::default(),
            clifs: HashMap::new(),
            defined: HashMap::new(),
        }
    }

    /// Compiles `func` and defines it as `id` in `unit`; counts it in the statistics. `code` is the code id
    /// its frames carry (what a frame guard records if the function's frame does not fit).
    pub(crate) fn define(
        &mut self,
        unit: &mut Unit,
        id: FuncId,
        func: ir::Function,
        code: CodeId,
    ) -> Result<(), CodegenError> {
        self.define_in_tier(unit, (id, code), func, false, &[])
    }

    /// As [`Backend::define`], with the optimizing tier whatever the current tier (`optimize`), inlining
    /// `callees` (the bodies its direct calls to namespace 2 name).
    pub(crate) fn define_in_tier(
        &mut self,
        unit: &mut Unit,
        (id, code): (FuncId, CodeId),
        func: ir::Function,
        optimize: bool,
        callees: &[ir::Function],
    ) -> Result<(), CodegenError> {
        let started = Instant::now();
        let isa = match optimize {
            true => Isa::Optimizing,
            false => Isa::Current,
        };
        let size = self.define_uncounted(unit, (id, code), func, isa, callees)?;
        self.stats.functions += 1;
        self.stats.code_bytes += size as u64;
        self.stats.time += started.elapsed();
        Ok(())
    }

    /// Compiles `func` as `id` of `unit`, the one place machine code is made, so every function (every
    /// tier, with or without inlined bodies) goes through the frame rule ([`MAX_UNGUARDED_FRAME`]): a
    /// kaleido function whose measured frame is larger is defined as a guard that checks the frame fits
    /// and tail-calls the body, defined beside it. Returns the bytes of machine code made.
    fn define_uncounted(
        &mut self,
        unit: &mut Unit,
        (id, code): (FuncId, CodeId),
        func: ir::Function,
        isa: Isa,
        callees: &[ir::Function],
    ) -> Result<usize, CodegenError> {
        let clif = self.keep_clif.then(|| func.display().to_string());
        let signature = func.signature.clone();
        let asked = matches!(isa, Isa::Optimizing) || (matches!(isa, Isa::Current) && self.tier == Tier::Optimized);
        let optimizing = asked && optimizable(&func);
        let isa = match isa {
            Isa::Stub => &self.stub_isa,
            _ if asked && !optimizing => &self.baseline_isa,
            Isa::Current => &self.isa,
            Isa::Optimizing => &self.optimizing_isa,
        };
        let emitted = if func.dfg.num_insts() > WORKER_THRESHOLD {
            self.emit_on_worker(isa.clone(), id, func, optimizing, callees.to_vec())?
        } else {
            let context = &mut self.context;
            self.compile_stack.run(|| {
                context.clear();
                context.func = func;
                inline_and_emit(isa, context, id, optimizing, callees)
            })?
        };
        if let Some(clif) = clif {
            unit.clifs.insert(id, clif);
        }
        let defined = Defined { size: emitted.bytes.len(), optimized: optimizing, frame: emitted.frame, body: None };
        // Top-level code (the host's convention) is checked by the engine before it is called.
        if emitted.frame as usize <= MAX_UNGUARDED_FRAME || signature.call_conv != KALEIDO_CALL_CONV {
            self.place(unit, id, &emitted, defined)?;
            return Ok(emitted.bytes.len());
        }
        let body = unit.declare(&signature)?;
        // The body's references to its own code (a jump table, a constant) follow it; its direct self-calls
        // still name `id`, and so go through the guard like every other call.
        let relocs: Vec<ModuleReloc> = (emitted.relocs.into_iter())
            .map(|mut reloc| {
                if let ModuleRelocTarget::FunctionOffset(owner, offset) = reloc.name
                    && owner == id
                {
                    reloc.name = ModuleRelocTarget::FunctionOffset(body, offset);
                }
                reloc
            })
            .collect();
        let emitted = Emitted { relocs, ..emitted };
        self.place(unit, body, &emitted, defined)?;
        let guard = self.emit_guard(id, signature, (body, emitted.frame, code))?;
        let size = emitted.bytes.len() + guard.bytes.len();
        self.place(unit, id, &guard, Defined { size: guard.bytes.len(), body: Some(body), ..defined })?;
        Ok(size)
    }

    /// Defines `emitted` as `id` in `unit`.
    fn place(&self, unit: &mut Unit, id: FuncId, emitted: &Emitted, defined: Defined) -> Result<(), CodegenError> {
        unit.module()
            .define_function_bytes(id, emitted.alignment, &emitted.bytes, &emitted.relocs)
            .map_err(|e| self.module_error(e))?;
        unit.defined.insert(id, defined);
        Ok(())
    }

    /// The machine code of a frame guard of `signature` for `body` (see `codegen/frame_guard.rs`). Its tail call
    /// needs frame pointers, as the lazy stubs' do.
    fn emit_guard(
        &mut self,
        id: FuncId,
        signature: Signature,
        body: (FuncId, u32, CodeId),
    ) -> Result<Emitted, CodegenError> {
        let mut func = ir::Function::with_name_signature(ir::UserFuncName::default(), signature);
        let frontend = self.stub_isa.frontend_config();
        translate_frame_guard(&mut func, &mut self.builder_context, frontend, self.runtime, body);
        let (isa, context) = (&self.stub_isa, &mut self.context);
        self.compile_stack.run(|| {
            context.clear();
            context.func = func;
            emit(isa, context, id)
        })
    }

    /// Makes the unit's code executable and returns its functions, in the order they were declared.
    /// On failure the unit's code is freed.
    pub(crate) fn finish(&self, mut unit: Unit) -> Result<Vec<CompiledFunction>, CodegenError> {
        let Some(module) = unit.module.as_mut() else { return Ok(Vec::new()) };
        if let Err(error) = module.finalize_definitions() {
            let error = self.module_error(error);
            self.abandon(unit);
            return Err(error);
        }
        let mut functions = Vec::new();
        let arena = lock(&self.arena);
        let Some(module) = unit.module.as_ref() else { return Ok(functions) };
        // Cranelift knows the write view; the code runs at its twin in the execute view.
        let placed = |id: FuncId| {
            let code = arena.executable(module.get_finalized_function(id) as usize);
            (code, range_of(&unit.allocations, code).unwrap_or((code, 0)))
        };
        // One entry per declared function, in id order (callers take theirs by id). A frame guard's body is
        // declared too: its entry is never taken, since its code and range travel in the guard's `guarded`.
        for (id, _) in module.declarations().get_functions() {
            let (code, range) = placed(id);
            let defined = unit.defined.get(&id).copied().unwrap_or_default();
            let guarded = defined.body.map(|body| {
                let (code, range) = placed(body);
                let size = unit.defined.get(&body).map_or(0, |body| body.size);
                GuardedBody { code, range, size }
            });
            let (size, optimized, frame) = (defined.size, defined.optimized, defined.frame);
            let clif = unit.clifs.remove(&id);
            let inlined = Vec::new();
            functions.push(CompiledFunction { code, range, size, clif, optimized, inlined, frame, guarded });
        }
        Ok(functions)
    }

    /// Frees whatever code the unit allocated (an entry that failed to compile).
    pub(crate) fn abandon(&self, unit: Unit) {
        let ranges: Vec<CodeRange> = lock(&unit.allocations).drain(..).collect();
        self.free(&ranges);
    }

    /// Compiles on a thread of its own and waits, giving up at once on an interrupt.
    fn emit_on_worker(
        &self,
        isa: OwnedTargetIsa,
        id: FuncId,
        func: ir::Function,
        optimizing: bool,
        callees: Vec<ir::Function>,
    ) -> Result<Emitted, CodegenError> {
        let (send, receive) = mpsc::channel();
        std::thread::Builder::new()
            .name("kaleido-compile".into())
            .stack_size(COMPILE_STACK)
            .spawn(move || {
                // The receiver is gone if the caller gave up; the result is then simply dropped.
                let _ = send.send(inline_and_emit(&isa, &mut Context::for_function(func), id, optimizing, &callees));
            })
            .map_err(|e| CodegenError::Internal(format!("cannot start a compile thread: {e}")))?;
        loop {
            if self.interrupt.is_requested() {
                return Err(CodegenError::Interrupted);
            }
            match receive.recv_timeout(INTERRUPT_POLL) {
                Ok(result) => return result,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(CodegenError::Internal("the compile thread stopped without a result".into()));
                }
            }
        }
    }

    fn module_error(&self, error: ModuleError) -> CodegenError {
        match error {
            ModuleError::Allocation { err } if err.kind() == std::io::ErrorKind::OutOfMemory => {
                CodegenError::OutOfCodeMemory {
                    limit: human_bytes(lock(&self.arena).capacity()),
                    reason: err.to_string(),
                }
            }
            other => CodegenError::Internal(other.to_string()),
        }
    }

    /// Compiles with `tier`'s settings from now on (stubs, compiled once, stay as they are).
    pub(crate) fn set_tier(&mut self, tier: Tier) -> Result<(), StartError> {
        self.isa = host_isa(false, tier)?;
        self.tier = tier;
        Ok(())
    }

    /// Whether compiled functions keep their IR as text.
    pub(crate) fn keeps_clif(&self) -> bool {
        self.keep_clif
    }
}

/// Compiles `func` to machine code, with its relocations made ready for the module (`id` names the
/// function itself, for direct self-calls).
fn emit(isa: &OwnedTargetIsa, context: &mut Context, id: FuncId) -> Result<Emitted, CodegenError> {
    let compiled = context
        .compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| CodegenError::Internal(format!("{:?}", e.inner)))?;
    let bytes = compiled.code_buffer().to_vec();
    let alignment = u64::from(compiled.buffer.alignment);
    // The frame below the frame pointer, plus the saved frame pointer and the return address above it.
    let frame = compiled.buffer.frame_layout().map_or(0, |layout| layout.frame_to_fp_offset) + 16;
    let mach_relocs = compiled.buffer.relocs().to_vec();
    let relocs: Vec<ModuleReloc> =
        mach_relocs.iter().map(|r| ModuleReloc::from_mach_reloc(r, &context.func, id)).collect();
    // Code is written in the arena's write view and runs in its execute view (see `machine/code_memory.rs`): an
    // absolute address of code in the arena would point at the wrong view.
    if let Some(bad) = relocs.iter().find(|r| !view_independent(r)) {
        return Err(CodegenError::Internal(format!("unsupported relocation {:?} to {}", bad.kind, bad.name)));
    }
    Ok(Emitted { bytes, alignment, relocs, frame })
}

/// The optimizing tier's inlining (see `codegen/inliner.rs`), then code generation.
fn inline_and_emit(
    isa: &OwnedTargetIsa,
    context: &mut Context,
    id: FuncId,
    optimizing: bool,
    callees: &[ir::Function],
) -> Result<Emitted, CodegenError> {
    if optimizing {
        inline_calls(context, id.as_u32(), callees).map_err(|e| CodegenError::Internal(format!("inlining: {e:?}")))?;
    }
    emit(isa, context, id)
}

/// Whether a relocation resolves to the same bytes in both views of the arena: PC-relative (both ends in
/// the arena or the target absolute), or absolute to a target outside the arena (runtime and libcalls).
fn view_independent(reloc: &ModuleReloc) -> bool {
    match reloc.kind {
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 => true,
        Reloc::Abs4 | Reloc::Abs8 => matches!(reloc.name, ModuleRelocTarget::LibCall(_)),
        _ => false,
    }
}

/// Builds the host ISA modules share.
fn host_isa(frame_pointers: bool, tier: Tier) -> Result<OwnedTargetIsa, StartError> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name, value| flags.set(name, value).map_err(isa_error);
    match tier {
        Tier::Baseline => {
            set(&mut flags, "opt_level", "none")?;
            set(&mut flags, "regalloc_algorithm", "single_pass")?;
        }
        Tier::Optimized => set(&mut flags, "opt_level", "speed")?,
    }
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    // Cranelift's x64 tail calls (the lazy stub's hand-over) need frame pointers in the function that
    // makes them; everything else does without (they cost about 10% of compile time).
    set(&mut flags, "preserve_frame_pointers", if frame_pointers { "true" } else { "false" })?;
    // The verifier doubles compile time; debug builds (and so the tests) keep it on.
    set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
    let mut builder = cranelift_codegen::isa::lookup(host_triple()).map_err(isa_error)?;
    cranelift_native::infer_native_flags(&mut builder).map_err(isa_error)?;
    builder.finish(settings::Flags::new(flags)).map_err(isa_error)
}

/// Cranelift's reason, kept as the typed error's detail.
fn isa_error(error: impl std::fmt::Display) -> StartError {
    StartError::Isa(error.to_string())
}

/// The machine kaleido generates code for: the host's target triple (`x86_64-unknown-linux-gnu`), which
/// picks the ISA (with the CPU features the host has) and names the target in `--version` and banners.
pub fn host_triple() -> Triple {
    Triple::host()
}

/// The allocation holding the function at `address`.
fn range_of(allocations: &Mutex<Vec<CodeRange>>, address: usize) -> Option<CodeRange> {
    lock(allocations).iter().copied().find(|&(start, len)| start <= address && address < start + len)
}

/// `1 GiB`, `64 KiB`, `100 bytes`.
fn human_bytes(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}
