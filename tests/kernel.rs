//! The notebook kernel spoken to over the real protocol, on loopback: a client made with
//! `jupyter-zmq-client` (the same library the kernel uses, on the other side of the sockets) signs its
//! messages with the connection file's key. Checked: kernel info, an execution's messages in order
//! (streams while it runs, values labelled by line, the result, busy/idle), a message signed with the
//! wrong key dropped without an answer, an interrupt that stops a loop and keeps every definition, and
//! shutdown. The Python reference tools test the kernel too (`tests/jupyter/`).

use std::time::{Duration, Instant};

use jupyter_protocol::{
    ConnectionInfo, ExecuteRequest, InterruptRequest, JupyterMessage, JupyterMessageContent, ShutdownRequest,
};
use jupyter_zmq_client::{
    ClientIoPubConnection, ClientShellConnection, create_client_control_connection,
    create_client_shell_connection_with_identity, peer_identity_for_session,
};
use tokio::time::timeout;

#[path = "kernel_client.rs"]
mod kernel_client;

use kernel_client::{clients, connect, start_kernel};

/// The iopub messages about `parent` up to its `idle` status, as (type, text) pairs.
async fn outputs(iopub: &mut ClientIoPubConnection, parent: &JupyterMessage) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    loop {
        let message = timeout(Duration::from_secs(20), iopub.read()).await.expect("iopub in time").expect("iopub");
        if message.parent_header.as_ref().map(|h| &h.msg_id) != Some(&parent.header.msg_id) {
            continue;
        }
        let entry = match &message.content {
            JupyterMessageContent::Status(status) => ("status".into(), format!("{:?}", status.execution_state)),
            JupyterMessageContent::ExecuteInput(input) => ("execute_input".into(), input.code.clone()),
            JupyterMessageContent::StreamContent(stream) => (format!("stream {:?}", stream.name), stream.text.clone()),
            JupyterMessageContent::ExecuteResult(result) => {
                let text = result.data.content.iter().find_map(|m| match m {
                    jupyter_protocol::MediaType::Plain(text) => Some(text.clone()),
                    _ => None,
                });
                ("execute_result".into(), format!("[{}] {}", result.execution_count.value(), text.unwrap_or_default()))
            }
            JupyterMessageContent::ErrorOutput(error) => ("error".into(), format!("{}: {}", error.ename, error.evalue)),
            other => (other.message_type().to_string(), String::new()),
        };
        let idle = entry == ("status".to_string(), "Idle".to_string());
        seen.push(entry);
        if idle {
            return seen;
        }
    }
}

async fn execute(
    shell: &mut ClientShellConnection,
    iopub: &mut ClientIoPubConnection,
    code: &str,
) -> Vec<(String, String)> {
    execute_replied(shell, iopub, code).await.0
}

/// As [`execute`], with the reply's status, execution count and `evalue` (empty if none).
async fn execute_replied(
    shell: &mut ClientShellConnection,
    iopub: &mut ClientIoPubConnection,
    code: &str,
) -> (Vec<(String, String)>, String, usize, String) {
    let request: JupyterMessage = ExecuteRequest::new(code.to_string()).into();
    shell.send(request.clone()).await.expect("send");
    let seen = outputs(iopub, &request).await;
    let reply = timeout(Duration::from_secs(20), shell.read()).await.expect("reply in time").expect("reply");
    let JupyterMessageContent::ExecuteReply(reply) = reply.content else { panic!("not an execute reply: {reply:?}") };
    let evalue = reply.error.as_ref().map(|e| e.evalue.clone()).unwrap_or_default();
    (seen, format!("{:?}", reply.status), reply.execution_count.value(), evalue)
}

/// The stdout a cell printed (its stream messages joined) and its values and errors, in order: a
/// stream of stdout is one `out` entry however the kernel split it.
fn shown(seen: &[(String, String)]) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    for (kind, text) in seen {
        match kind.as_str() {
            "stream Stdout" => match shown.last_mut() {
                Some(last) if last.starts_with("out ") => last.push_str(text),
                _ => shown.push(format!("out {text}")),
            },
            "execute_result" | "error" => shown.push(format!("{kind} {text}")),
            _ => {}
        }
    }
    shown
}

/// What a notebook user meets, as the shell shows it (issue 24): every value right after its item and
/// kept when a later item fails, `;` silencing any item, command cells counted and failing as cells do,
/// `:set` switches acting on code cells, cells named `<cell N>`, and the first error as `evalue`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_shows_what_the_shell_shows_in_the_same_order() {
    let kernel = start_kernel("parity").await;
    let (mut shell, mut iopub) = clients(&kernel.info).await;
    // 1. The value before a runtime error stays shown; so does the one before a stack overflow.
    let (seen, status, count, evalue) = execute_replied(&mut shell, &mut iopub, "printd(1);\n2\n3\nnosuch(4)\n5").await;
    assert_eq!(shown(&seen)[0], "out 1\nOut[1] (line 2): 2\nOut[1] (line 3): 3\n", "{seen:?}");
    assert!(shown(&seen)[1].starts_with("error RuntimeError: `nosuch` is not defined"), "{seen:?}");
    assert_eq!((status.as_str(), count, evalue.as_str()), ("Error", 1, "`nosuch` is not defined"));
    let seen = execute(&mut shell, &mut iopub, "def inf(x) inf(x+1)+1\n7\ninf(0)").await;
    assert_eq!(shown(&seen)[0], "out defined inf(x)\nOut[2] (line 2): 7\n", "{seen:?}");
    assert!(shown(&seen)[1].starts_with("error RuntimeError: stack overflow"), "{seen:?}");
    // 2 and 3. Each value right after its item; `;` silences any item, not only the last.
    let seen = execute(&mut shell, &mut iopub, "printd(1);\nprintd(2);\nprintd(3)").await;
    assert_eq!(shown(&seen), ["out 1\n2\n3\n", "execute_result [3] 0"], "{seen:?}");
    // 4. A command cell takes the cell's count, a failing command fails the cell, and a cell's
    // entries are named `<cell N>` (also those `:time` runs).
    execute(&mut shell, &mut iopub, "def twice(x) x * 2").await;
    let seen = execute(&mut shell, &mut iopub, ":time twice(7)").await;
    assert!(shown(&seen).contains(&"execute_result [5] 14".to_string()), "{seen:?}");
    let (seen, status, _, evalue) = execute_replied(&mut shell, &mut iopub, ":show zzz\n1").await;
    assert_eq!(status, "Error", "{seen:?}");
    assert!(evalue.starts_with("no function or global named `zzz`"), "{evalue}");
    let (_, status, _, _) = execute_replied(&mut shell, &mut iopub, ":nosuch").await;
    assert_eq!(status, "Error", "a line that is no command is code, and this code does not compile");
    let seen = execute(&mut shell, &mut iopub, ":show twice").await;
    assert!(shown(&seen)[0].contains("<cell 5> (top level)"), "{seen:?}");
    // 5. `:set` switches act on code cells, and tier events come with the cell that caused them.
    execute(&mut shell, &mut iopub, ":set timing on\n:set trace-tiers on").await;
    let seen =
        execute(&mut shell, &mut iopub, "def sq(x) x * x\ndef many(n) for i = 0, i < n in sq(i)\nmany(5000)").await;
    let out = shown(&seen).join("");
    assert!(
        out.contains("time: ") && out.contains("tier: many recompiled by the optimizing tier (inlined: sq)"),
        "{seen:?}"
    );
    // `:set show` acts on code cells too, and a silent request gets a name of its own.
    let seen = execute(&mut shell, &mut iopub, ":set show clif\ndef k(x) x + 1").await;
    assert!(shown(&seen).join("").contains("; k, version 1"), "{seen:?}");
    execute(&mut shell, &mut iopub, ":set show off").await;
    let request = ExecuteRequest { silent: true, ..ExecuteRequest::new("def quiet(x) x".to_string()) };
    let request: JupyterMessage = request.into();
    shell.send(request.clone()).await.expect("send");
    let _ = timeout(Duration::from_secs(20), shell.read()).await.expect("reply in time").expect("reply");
    let seen = execute(&mut shell, &mut iopub, ":show quiet").await;
    assert!(shown(&seen)[0].contains("from <silent 1>"), "{seen:?}");
    // 6. `evalue` is the first error, not the cascade after it.
    let (_, _, _, evalue) = execute_replied(&mut shell, &mut iopub, "def \u{3c0}(x) x").await;
    assert!(evalue.starts_with("unexpected character"), "{evalue}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_streams_its_output_in_order_and_ends_with_its_result() {
    let kernel = start_kernel("execute").await;
    let (mut shell, mut iopub) = clients(&kernel.info).await;
    let seen = execute(&mut shell, &mut iopub, "def f(x) x * 2\nprintd(1)\nf(21)").await;
    let stdout = |text: &str| ("stream Stdout".to_string(), text.to_string());
    assert_eq!(seen[0], ("status".to_string(), "Busy".to_string()));
    assert_eq!(seen[1], ("execute_input".to_string(), "def f(x) x * 2\nprintd(1)\nf(21)".to_string()));
    assert_eq!(seen[2..5], [stdout("defined f(x)\n"), stdout("1\n"), stdout("Out[1] (line 2): 0\n")]);
    assert_eq!(seen[5], ("execute_result".to_string(), "[1] 42".to_string()), "{seen:?}");
    let seen = execute(&mut shell, &mut iopub, "nope(1)").await;
    assert!(seen.contains(&("error".to_string(), "RuntimeError: `nope` is not defined".to_string())), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_signed_with_another_key_is_dropped() {
    let kernel = start_kernel("signature").await;
    let (mut shell, mut iopub) = clients(&kernel.info).await;
    let forged = ConnectionInfo { key: "not-the-key".to_string(), ..kernel.info.clone() };
    let session = "forger";
    let identity = peer_identity_for_session(session).expect("identity");
    let mut intruder =
        connect("shell", || create_client_shell_connection_with_identity(&forged, session, identity.clone())).await;
    intruder.send(ExecuteRequest::new("def f(x) 666".to_string()).into()).await.expect("send");
    assert!(timeout(Duration::from_secs(1), intruder.read()).await.is_err(), "a forged request was answered");
    // It did not run, and the kernel still serves the real client.
    let seen = execute(&mut shell, &mut iopub, "f(1)").await;
    assert!(seen.iter().any(|(kind, _)| kind == "error"), "{seen:?}");
    // The log says why it was dropped, in words (not `ring`'s bare `Unspecified`).
    let mut kernel = kernel;
    let _ = kernel.process.kill();
    let mut log = String::new();
    let stderr = kernel.process.stderr.take().expect("the kernel's stderr is piped");
    std::io::Read::read_to_string(&mut { stderr }, &mut log).expect("the log");
    assert!(log.contains("dropped a message on shell: bad signature"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_stops_a_loop_within_100_ms_and_shutdown_ends_the_kernel() {
    let mut kernel = start_kernel("interrupt").await;
    let (mut shell, mut iopub) = clients(&kernel.info).await;
    execute(&mut shell, &mut iopub, "def keep(x) x + 1").await;
    let session = format!("control-{}", std::process::id());
    let mut control = connect("control", || create_client_control_connection(&kernel.info, &session)).await;
    let request: JupyterMessage = ExecuteRequest::new("for i = 0, 1 in 0".to_string()).into();
    shell.send(request.clone()).await.expect("send");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    control.send(InterruptRequest {}.into()).await.expect("interrupt");
    let seen = outputs(&mut iopub, &request).await;
    let took = asked.elapsed();
    assert!(seen.contains(&("error".to_string(), "Interrupted: interrupted".to_string())), "{seen:?}");
    assert!(took < Duration::from_millis(100), "the interrupt took {took:?}");
    let _reply = timeout(Duration::from_secs(5), shell.read()).await.expect("reply").expect("reply");
    let reply = timeout(Duration::from_secs(5), control.read()).await.expect("reply").expect("reply");
    assert!(matches!(reply.content, JupyterMessageContent::InterruptReply(_)), "{reply:?}");
    let seen = execute(&mut shell, &mut iopub, "keep(41)").await;
    assert!(seen.iter().any(|(kind, text)| kind == "execute_result" && text.ends_with(" 42")), "{seen:?}");
    control.send(ShutdownRequest { restart: false }.into()).await.expect("shutdown");
    let reply = timeout(Duration::from_secs(5), control.read()).await.expect("reply").expect("reply");
    assert!(matches!(reply.content, JupyterMessageContent::ShutdownReply(_)));
    let started = Instant::now();
    loop {
        if let Some(status) = kernel.process.try_wait().expect("wait") {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the kernel did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}
