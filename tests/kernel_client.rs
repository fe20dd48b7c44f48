//! A Jupyter client for the kernel tests (`kernel.rs`, `parity.rs`): starts `kaleido kernel` with a
//! connection file on loopback and connects shell and iopub with `jupyter-zmq-client`, retrying while
//! the kernel is still binding.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use jupyter_protocol::{ConnectionInfo, JupyterMessageContent, KernelInfoRequest, Transport};
use jupyter_zmq_client::{
    ClientIoPubConnection, ClientShellConnection, create_client_iopub_connection,
    create_client_shell_connection_with_identity, peek_ports, peer_identity_for_session,
};
use tokio::time::timeout;

/// A kernel process, killed when dropped.
pub struct Kernel {
    /// The process.
    pub process: std::process::Child,
    /// What its connection file says.
    pub info: ConnectionInfo,
    _dir: std::path::PathBuf,
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Starts `kaleido kernel` on free loopback ports.
pub async fn start_kernel(name: &str) -> Kernel {
    let ports = peek_ports(IpAddr::V4(Ipv4Addr::LOCALHOST), 5).await.expect("free ports");
    let info = ConnectionInfo {
        ip: "127.0.0.1".to_string(),
        transport: Transport::TCP,
        shell_port: ports[0],
        iopub_port: ports[1],
        stdin_port: ports[2],
        control_port: ports[3],
        hb_port: ports[4],
        key: format!("test-key-{}", std::process::id()),
        signature_scheme: "hmac-sha256".to_string(),
        kernel_name: Some("kaleido".to_string()),
    };
    let dir = std::env::temp_dir().join(format!("kaleido-kernel-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("connection.json");
    std::fs::write(&file, serde_json::to_string(&info).expect("json")).expect("connection file");
    let process = std::process::Command::new(env!("CARGO_BIN_EXE_kaleido"))
        .args(["kernel", "--connection-file"])
        // Its history goes beside its connection file, never into the user's own.
        .env("KALEIDO_NOTEBOOK_HISTORY", dir.join("notebook-history.jsonl"))
        // Where the golden programs' `:load`s are relative to, as for the script runner.
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root"))
        .arg(&file)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the kernel starts");
    Kernel { process, info, _dir: dir }
}

/// Connects with `attempt`, retrying while the kernel (a process just started, slowly under load) is not
/// listening yet: a ZeroMQ connect from this library fails at once when nothing listens on the port.
pub async fn connect<T, E: std::fmt::Debug, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match attempt().await {
            Ok(connection) => return connection,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(error) => panic!("cannot connect the {what} socket: {error:?}"),
        }
    }
}

/// A shell and an iopub connection to the kernel, once it answers.
pub async fn clients(info: &ConnectionInfo) -> (ClientShellConnection, ClientIoPubConnection) {
    let session = format!("test-{}", std::process::id());
    let identity = peer_identity_for_session(&session).expect("identity");
    let mut shell =
        connect("shell", || create_client_shell_connection_with_identity(info, &session, identity.clone())).await;
    let iopub = connect("iopub", || create_client_iopub_connection(info, "", &session)).await;
    // The kernel may still be binding, and iopub subscriptions take a moment: ask until it answers.
    for _ in 0..100 {
        shell.send(KernelInfoRequest {}.into()).await.expect("send");
        if let Ok(Ok(reply)) = timeout(Duration::from_millis(200), shell.read()).await {
            assert!(matches!(reply.content, JupyterMessageContent::KernelInfoReply(_)));
            tokio::time::sleep(Duration::from_millis(200)).await;
            return (shell, iopub);
        }
    }
    panic!("the kernel never answered kernel_info");
}
