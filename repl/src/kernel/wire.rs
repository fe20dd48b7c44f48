//! The kernel's sockets: Jupyter messaging 5.3 over ZeroMQ, from `jupyter-zmq-client` (which signs
//! and checks every message with the connection file's HMAC-SHA256 key).
//!
//! A tokio runtime on threads of its own owns the sockets; the engine stays on the main thread (it is not
//! `Send`). Shell requests are handed to the engine thread one at a time, in order; what it sends back
//! (replies, iopub messages) comes through one channel and goes out in that order. The control socket is
//! served here, so an `interrupt_request` reaches the engine while a cell runs. A message whose signature
//! does not check is dropped and logged (never the key).

use std::sync::mpsc;

use jupyter_protocol::{ConnectionInfo, InterruptReply, JupyterMessage, JupyterMessageContent, ShutdownReply, Status};
use jupyter_zmq_client::{
    create_kernel_control_connection, create_kernel_heartbeat_connection, create_kernel_iopub_connection,
    create_kernel_shell_connection, create_kernel_stdin_connection,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// What the socket side hands the engine thread.
pub(crate) enum Incoming {
    /// A shell request, to handle in order, and when the socket received it.
    Shell(Box<JupyterMessage>, std::time::Instant),
    /// Shut down (the reply has been sent already).
    Shutdown,
}

/// What the engine thread sends out.
pub(crate) enum Outgoing {
    /// A reply on the shell socket.
    Shell(JupyterMessage),
    /// A message on iopub (status, streams, results, errors).
    IoPub(JupyterMessage),
}

/// The channels between the engine thread and the sockets.
pub(crate) struct Wires {
    /// Requests for the engine thread.
    pub(crate) incoming: mpsc::Receiver<Incoming>,
    /// Messages from the engine thread.
    pub(crate) outgoing: UnboundedSender<Outgoing>,
}

/// Binds every socket of `info` and serves them on a runtime of their own; returns the engine thread's
/// ends of the channels. Errors binding a socket are returned before anything is served.
pub(crate) fn start(info: ConnectionInfo) -> anyhow::Result<Wires> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let (to_engine, incoming) = mpsc::channel();
    let (outgoing, from_engine) = tokio::sync::mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::Builder::new().name("kernel-sockets".into()).spawn(move || {
        runtime.block_on(async move {
            match serve(info, to_engine, from_engine).await {
                Ok(serving) => {
                    let _ = ready_tx.send(Ok(()));
                    serving.await;
                }
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                }
            }
        });
    })?;
    ready_rx.recv().map_err(|_| anyhow::anyhow!("the socket thread stopped"))??;
    Ok(Wires { incoming, outgoing })
}

/// Binds the sockets, then returns the future that serves them until shutdown.
async fn serve(
    info: ConnectionInfo,
    to_engine: mpsc::Sender<Incoming>,
    mut from_engine: UnboundedReceiver<Outgoing>,
) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let session = format!("kaleido-{}", std::process::id());
    let shell = create_kernel_shell_connection(&info, &session).await?;
    let mut iopub = create_kernel_iopub_connection(&info, &session).await?;
    let mut control = create_kernel_control_connection(&info, &session).await?;
    // kaleido never asks for input (it has no input builtin), but the port the connection file names is
    // bound and held, so no one else can take it.
    let stdin = create_kernel_stdin_connection(&info, &session).await?;
    let mut heartbeat = create_kernel_heartbeat_connection(&info).await?;
    let (mut shell_send, mut shell_recv) = shell.split();
    let control_engine = to_engine.clone();
    Ok(async move {
        tokio::spawn(async move { while heartbeat.single_heartbeat().await.is_ok() {} });
        tokio::spawn(async move {
            let _held = stdin;
            std::future::pending::<()>().await
        });
        // Shell requests: checked, then queued for the engine thread.
        tokio::spawn(async move {
            loop {
                match shell_recv.read().await {
                    Ok(message) => {
                        if to_engine.send(Incoming::Shell(Box::new(message), std::time::Instant::now())).is_err() {
                            return;
                        }
                    }
                    Err(error) => log_dropped("shell", &error),
                }
            }
        });
        // Control: interrupts and shutdown, answered at once, even while a cell runs.
        let (iopub_control, mut control_replies) = tokio::sync::mpsc::unbounded_channel::<JupyterMessage>();
        tokio::spawn(async move {
            loop {
                let message = match control.read().await {
                    Ok(message) => message,
                    Err(error) => {
                        log_dropped("control", &error);
                        continue;
                    }
                };
                match &message.content {
                    JupyterMessageContent::InterruptRequest(_) => {
                        crate::interrupt::interrupt_current();
                        if let Err(error) = control.send(InterruptReply::new().as_child_of(&message)).await {
                            eprintln!("kaleido kernel: cannot send an interrupt reply: {error}");
                        }
                    }
                    JupyterMessageContent::ShutdownRequest(request) => {
                        let reply = ShutdownReply { restart: request.restart, ..ShutdownReply::default() };
                        let _ = control.send(reply.as_child_of(&message)).await;
                        let _ = iopub_control.send(Status::idle().as_child_of(&message));
                        crate::interrupt::interrupt_current();
                        let _ = control_engine.send(Incoming::Shutdown);
                        return;
                    }
                    JupyterMessageContent::KernelInfoRequest(_) => {
                        let reply = super::info::kernel_info().as_child_of(&message);
                        let _ = control.send(reply).await;
                    }
                    _ => {}
                }
            }
        });
        // Everything the engine thread sends, in its order; the control task's iopub messages too.
        loop {
            tokio::select! {
                message = from_engine.recv() => match message {
                    Some(Outgoing::Shell(reply)) => {
                        if let Err(error) = shell_send.send(reply).await {
                            eprintln!("kaleido kernel: cannot send a shell reply: {error}");
                        }
                    }
                    Some(Outgoing::IoPub(message)) => {
                        let _ = iopub.send(message).await;
                    }
                    None => return,
                },
                Some(message) = control_replies.recv() => {
                    let _ = iopub.send(message).await;
                }
            }
        }
    })
}

/// A message that failed to parse or to verify is dropped; the log names the channel and the reason
/// (never the key).
fn log_dropped(channel: &str, error: &impl std::fmt::Display) {
    // A signature that does not check comes back from `ring` as its bare `Unspecified`.
    let reason = error.to_string();
    let reason = if reason.contains("Unspecified") { "bad signature".to_string() } else { reason };
    eprintln!("kaleido kernel: dropped a message on {channel}: {reason}");
}
