//! The `kaleido` binary: parses the command line and hands over to the shell or the script runner.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use kaleido::script::{EXIT_COMPILE_ERROR, EXIT_IO_ERROR, run_script};
use kaleido::session::{Mode, Session, SessionOptions};
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
    /// A `.kal` script to run.
    file: Option<std::path::PathBuf>,
    /// Run CODE instead of a file.
    #[arg(short = 'e', long = "eval", value_name = "CODE", conflicts_with = "file")]
    code: Option<String>,
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
}

fn main() -> ExitCode {
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
    let options = SessionOptions { prelude: !cli.no_prelude, quiet: cli.quiet, jit: cli.jit };
    let stdout = Stdout::detect();
    let closed_or_open = stdout.writer();
    let mut session =
        Session::new(options, closed_or_open, Box::new(std::io::stderr()), Box::new(move || stdout.writer()))?;
    let script = match (&cli.code, &cli.file) {
        (Some(code), _) => Some(("<-e>".to_string(), code.clone().into_bytes())),
        (None, Some(path)) => match read_bounded(path, MAX_SCRIPT_BYTES) {
            Ok(bytes) => Some((path.display().to_string(), bytes)),
            Err(error) => {
                eprintln!("kaleido: cannot read {}: {error}", path.display());
                return Ok(EXIT_IO_ERROR);
            }
        },
        (None, None) if !std::io::stdin().is_terminal() => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes)?;
            Some(("<stdin>".to_string(), bytes))
        }
        (None, None) => None,
    };
    let Some((name, bytes)) = script else {
        interrupt::install(false);
        let history = if cli.no_history { None } else { history::history_path() };
        shell::run_shell(&mut session, history)?;
        return Ok(0);
    };
    interrupt::install(true);
    let text = match kaleido_lang::decode(&bytes) {
        Ok(text) => text,
        Err(diagnostic) => {
            let shown = String::from_utf8_lossy(&bytes);
            eprint!("{}", kaleido_lang::render(&diagnostic, &name, &shown));
            return Ok(EXIT_COMPILE_ERROR);
        }
    };
    Ok(run_script(&mut session, &name, text, Mode::Script, cli.keep_going))
}
