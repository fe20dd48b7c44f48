//! `kaleido kernel`: kaleido as a Jupyter kernel (JupyterLab, VS Code notebooks, nbclient).
//!
//! `kaleido kernel --connection-file F` serves one notebook: [`wire`] owns the ZeroMQ sockets on a tokio
//! runtime of their own, [`execute`] runs each shell request against one [`Session`] on the main thread
//! (the engine is single-threaded). `kaleido kernel install` writes the kernelspec ([`install`]).
//!
//! Interrupts arrive as `interrupt_request` messages on the control socket (the kernelspec says
//! `interrupt_mode: message`: it works wherever the kernel runs, also behind a gateway that cannot send
//! it a signal); SIGINT is honoured too, for `kill -INT`. A restart is a new process: Jupyter starts the
//! kernel again, with a fresh session.

mod execute;
mod history;
mod info;
mod install;
mod introspect;
mod wire;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use jupyter_protocol::ConnectionInfo;

use kaleido_engine::ExecutorMode;

use crate::session::{Session, SessionOptions};

/// `kaleido kernel`: run as a Jupyter kernel, or install or remove its kernelspec.
#[derive(Parser, Debug)]
#[command(name = "kaleido kernel", about = "kaleido as a Jupyter kernel")]
pub struct KernelCli {
    /// The connection file Jupyter passes a kernel (ports, IP, signing key).
    #[arg(long, value_name = "FILE")]
    connection_file: Option<PathBuf>,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Write the kernelspec where `jupyter kernelspec list` finds it.
    Install {
        /// Where.
        #[command(flatten)]
        place: install::Where,
        /// What else.
        #[command(flatten)]
        extras: install::Extras,
    },
    /// Remove the kernelspec `install` wrote.
    Uninstall(install::Where),
}

/// Runs `kaleido kernel ARGS` (`args` without the program name and `kernel`); returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    let cli = match KernelCli::try_parse_from(std::iter::once("kaleido kernel".to_string()).chain(args)) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 64 } else { 0 };
        }
    };
    let result = match (cli.action, cli.connection_file) {
        (Some(Action::Install { place, extras }), _) => install::install(&place, &extras),
        (Some(Action::Uninstall(place)), _) => install::uninstall(&place),
        (None, Some(file)) => run(&file),
        (None, None) => Err(anyhow::anyhow!("`kaleido kernel` needs `--connection-file FILE` (Jupyter passes it)")),
    };
    match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("kaleido kernel: {error:#}");
            1
        }
    }
}

/// When the process that started the kernel dies (a notebook server killed with `kill -9`), the kernel
/// ends too, rather than live on as an orphan: Jupyter names that process in `JPY_PARENT_PID`, as for
/// ipykernel, and a thread checks twice a second that it is still the kernel's parent. The heartbeat
/// alone cannot tell: nothing pings it once the server is gone.
fn exit_with_parent() {
    let Some(parent) = std::env::var("JPY_PARENT_PID").ok().and_then(|p| p.trim().parse::<u32>().ok()) else {
        return;
    };
    if parent <= 1 {
        return;
    }
    let watch = move || {
        loop {
            if std::os::unix::process::parent_id() != parent {
                eprintln!("kaleido kernel: the process that started it ({parent}) is gone; exiting");
                std::process::exit(0);
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    };
    if let Err(error) = std::thread::Builder::new().name("parent-watch".into()).spawn(watch) {
        eprintln!("kaleido kernel: cannot watch the parent process ({error}); it will not exit with it");
    }
}

/// Serves the notebook described by the connection file at `path` until it is shut down.
fn run(path: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let info: ConnectionInfo =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not a connection file: {e}", path.display()))?;
    if info.signature_scheme != "hmac-sha256" {
        anyhow::bail!("signature scheme `{}` is not supported (only hmac-sha256)", info.signature_scheme);
    }
    let wires = wire::start(info)?;
    exit_with_parent();
    let streams = execute::Streams::new(wires.outgoing.clone());
    let stdout = streams.writer(true);
    let program = {
        let streams = streams.clone();
        Box::new(move || streams.writer(true)) as Box<dyn Fn() -> Box<dyn std::io::Write>>
    };
    // A notebook never loses its definitions to a crash: code runs in an executor process (unless
    // `KALEIDO_EXECUTOR=none` says otherwise).
    let executor = match std::env::var("KALEIDO_EXECUTOR") {
        Ok(text) if !text.is_empty() => text.parse().map_err(|e| anyhow::anyhow!("KALEIDO_EXECUTOR: {e}"))?,
        _ => ExecutorMode::Process,
    };
    info::set_executor(executor.clone());
    let options = SessionOptions { color: true, executor, ..SessionOptions::default() };
    let (presenter, cell) = streams.presenter();
    let mut session =
        Session::new(options, stdout, streams.writer(false), program)?.with_presenter(Box::new(presenter));
    crate::interrupt::install(false);
    execute::serve(&mut session, &streams, cell, wires);
    Ok(())
}
