//! The `kaleido` binary: parses the command line and hands over to the shell or the script runner.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use kaleido::script::{
    EXIT_COMPILE_ERROR, EXIT_INTERRUPTED, EXIT_IO_ERROR, EXIT_OK, ScriptOptions, run_file, run_script,
};
use kaleido::session::{Session, SessionOptions, ShowCode};
use kaleido::source_file::{MAX_SCRIPT_BYTES, read_bounded};
use kaleido::stdio::Stdout;
use kaleido::{history, interrupt, shell};
use kaleido_engine::JitMode;

/// kaleido: an interactive JIT for a Kaleidoscope-like language (every value is an f64).
///
/// With no FILE and a terminal on stdin, starts the shell. With a FILE, `-e CODE`, or a pipe on stdin,
/// runs the script and exits: 0 on success, 65 on a compile error, 70 on a runtime error, 74 on an I/O
/// error, 130 when interrupted.
#[derive(Parser, Debug)]
#[command(name = "kaleido")]
struct Cli {
    /// A `.kal` script to run (after any `-e` code).
    file: Option<std::path::PathBuf>,
    /// Run CODE (may be repeated; runs in order, before FILE). CODE may start with `-` (`-e '-1/0'`).
    #[arg(short = 'e', long = "eval", value_name = "CODE", allow_hyphen_values = true)]
    code: Vec<String>,
    /// Print each item's source before its output: a transcript a tutorial can show.
    #[arg(long)]
    echo: bool,
    /// After running the code and FILE, stay in the interactive shell with what they defined.
    #[arg(short, long)]
    interactive: bool,
    /// Keep running a script after an item fails (still exit non-zero).
    #[arg(long)]
    keep_going: bool,
    /// Do not print the values of top-level expressions.
    #[arg(short, long)]
    quiet: bool,
    /// Start without the prelude of operators (`!`, unary `-`, `>`, `|`, `&`, `:`).
    #[arg(long)]
    no_prelude: bool,
    /// Do not load or save the shell's history.
    #[arg(long)]
    no_history: bool,
    /// When definitions are compiled: `lazy` (on their first call) or `eager` (when entered).
    #[arg(long, value_name = "MODE", default_value = "lazy")]
    jit: JitMode,
    /// Print the Cranelift IR (`clif`) or the annotated machine code (`asm`) of every definition as it is
    /// compiled (lazy definitions are compiled at once to show them).
    #[arg(long, value_name = "clif|asm")]
    emit: Option<ShowCode>,
    /// How much Cranelift optimizes: `baseline` (the default: compile time linear in a function's size and
    /// several times lower) or `optimized` (code about twice as fast, for long-running numeric work).
    #[arg(long, value_name = "TIER", default_value = "baseline")]
    tier: kaleido_engine::Tier,
    /// How many calls of each definition are evaluated in tier 0, without compiling it, before it is
    /// compiled (lazy mode only; `0` compiles every first call). Top-level code without loops is always
    /// evaluated in tier 0 unless this is `0`.
    #[arg(long, value_name = "N", default_value_t = kaleido_engine::DEFAULT_TIER0_CALLS)]
    tier0_calls: u32,
    /// Write `/tmp/perf-PID.map`, so `perf report` names JIT-compiled functions (`fib@2`); the
    /// environment variable `KALEIDO_PERF_MAP=1` does the same.
    #[arg(long)]
    perf_map: bool,
    /// Also write every picture a program draws (`pixel`, `plotpoint`, `:plot`) as a PNG file into DIR,
    /// named in the output (`:set pictures DIR` in the shell).
    #[arg(long, value_name = "DIR")]
    pictures: Option<PathBuf>,
    /// Load the C library at PATH before anything runs, so `extern` can bind its functions (repeatable;
    /// `:lib PATH` in a session).
    #[arg(long = "lib", value_name = "PATH")]
    libs: Vec<PathBuf>,
    /// Where JIT code runs: `none` (in this process, the default: fastest), `process` (in a child
    /// process, so a crash, `abort()` or `exit()` in the code loses no definition or global: the child is
    /// started again with all of them), or a command that runs `kaleido executor` (`'ssh HOST kaleido
    /// executor'`: the code runs there). The environment variable `KALEIDO_EXECUTOR` sets the default.
    #[arg(long, value_name = "none|process|COMMAND")]
    executor: Option<kaleido_engine::ExecutorMode>,
}

fn main() -> ExitCode {
    // `kaleido kernel ...` is the Jupyter kernel, with options of its own (a script named `kernel` runs
    // as `kaleido ./kernel`).
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("kernel") => return ExitCode::from(kaleido::kernel::main(args.collect()) as u8),
        // `kaleido executor`: runs code for a controller speaking the protocol on stdin and stdout
        // (`--executor 'ssh HOST kaleido executor'`).
        Some("executor") if args.next().is_none() => kaleido_engine::serve_executor_command(),
        _ => {}
    }
    // `--version` names the target the JIT generates code for, as the banner does.
    let version = format!("{} (JIT for {})", env!("CARGO_PKG_VERSION"), kaleido_engine::host_triple());
    let matches = Cli::command().version(version.leak() as &str).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(error) => {
            eprintln!("kaleido: {error:#}");
            ExitCode::from(EXIT_IO_ERROR as u8)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    // Diagnostics go to stderr: colour them when it is a terminal, as rustc does, unless NO_COLOR is set.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = std::io::stderr().is_terminal() && !no_color;
    // Pictures go to stdout: colour them when that is a terminal.
    let picture_color = std::io::stdout().is_terminal() && !no_color;
    let show_code = cli.emit.unwrap_or_default();
    let options = SessionOptions {
        prelude: !cli.no_prelude,
        quiet: cli.quiet,
        jit: cli.jit,
        color,
        show_code,
        timing: false,
        perf_map: cli.perf_map,
        tier: cli.tier,
        tier0_calls: cli.tier0_calls,
        pictures: cli.pictures.clone(),
        picture_color,
        executor: match cli.executor.clone() {
            Some(mode) => mode,
            None => kaleido::session::executor_from_env()?,
        },
    };
    let stdout = Stdout::detect();
    let closed_or_open = stdout.writer();
    let mut session =
        Session::new(options, closed_or_open, Box::new(std::io::stderr()), Box::new(move || stdout.writer()))?;
    for library in &cli.libs {
        session.engine_mut().load_library(library)?;
    }
    let interactive_stdin = std::io::stdin().is_terminal();
    let mut sources: Vec<(String, Vec<u8>, Option<PathBuf>)> = Vec::new();
    for (i, code) in cli.code.iter().enumerate() {
        let name = if cli.code.len() == 1 { "<-e>".to_string() } else { format!("<-e:{}>", i + 1) };
        sources.push((name, code.clone().into_bytes(), None));
    }
    if let Some(path) = &cli.file {
        match read_bounded(path, MAX_SCRIPT_BYTES) {
            Ok(bytes) => sources.push((path.display().to_string(), bytes, Some(path.clone()))),
            Err(error) => {
                eprintln!("kaleido: cannot read {}: {error}", path.display());
                return Ok(EXIT_IO_ERROR);
            }
        }
    }
    if sources.is_empty() && !cli.interactive && !interactive_stdin {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        sources.push(("<stdin>".to_string(), bytes, None));
    }
    let shell = cli.interactive || sources.is_empty();
    // In a script, Ctrl-C outside any evaluation ends the process; before a shell (`-i`) it stops only
    // the script, and the shell comes up.
    interrupt::install(!shell);
    let mut status = EXIT_OK;
    for (name, bytes, file) in &sources {
        let code = run_source(&mut session, (name, file.as_deref()), bytes, &cli);
        if status == EXIT_OK {
            status = code;
        }
        if code != EXIT_OK && (!cli.keep_going || code == EXIT_INTERRUPTED) {
            break;
        }
    }
    if !shell {
        // The process ends here and the OS takes its memory back at once: freeing a script's session piece
        // by piece took 16% of the time to load 100,000 definitions. Nothing in it buffers output (stdout's
        // buffer is flushed when `main` returns) or writes a file on drop.
        std::mem::forget(session);
        return Ok(status);
    }
    session.engine().interrupt_handle().clear();
    let history = if cli.no_history { None } else { history::history_path() };
    shell::run_shell(&mut session, history)?;
    Ok(0)
}

/// Runs one script source (a file, `-e` code, stdin) as its items; returns its exit code. A file is
/// being loaded while it runs, so it cannot `:load` itself.
fn run_source(session: &mut Session, (name, file): (&str, Option<&Path>), bytes: &[u8], cli: &Cli) -> i32 {
    let options = ScriptOptions { keep_going: cli.keep_going, echo: cli.echo };
    match kaleido_lang::decode(bytes) {
        Ok(text) => match file {
            Some(file) => run_file(session, file, name, text, options),
            None => run_script(session, name, text, options),
        },
        Err(diagnostic) => {
            let shown = String::from_utf8_lossy(bytes);
            eprint!("{}", kaleido_lang::render(&diagnostic, name, &shown));
            EXIT_COMPILE_ERROR
        }
    }
}
