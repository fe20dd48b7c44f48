//! The `kernel_info_reply`: what Jupyter shows about kaleido and how it highlights cells (asked for on
//! the shell socket and, by some clients, on control).

use std::sync::OnceLock;

use jupyter_protocol::{CodeMirrorMode, HelpLink, KernelInfoReply, LanguageInfo, ReplyStatus};
use kaleido_engine::ExecutorMode;

/// Where this kernel runs code, set once at start (the control thread answers `kernel_info` too).
static EXECUTOR: OnceLock<ExecutorMode> = OnceLock::new();

/// Records where this kernel runs code, for `kernel_info`.
pub(crate) fn set_executor(mode: ExecutorMode) {
    let _ = EXECUTOR.set(mode);
}

/// The banner's sentence on where code runs.
fn where_code_runs() -> &'static str {
    match EXECUTOR.get().cloned().unwrap_or_default() {
        ExecutorMode::Process | ExecutorMode::Command(_) => {
            "Code runs in an executor process: if it crashes, aborts or exits, a new one is started with every              definition and global, and the kernel carries on."
        }
        ExecutorMode::InProcess => "Code runs in the kernel's own process (KALEIDO_EXECUTOR=none).",
    }
}

/// The `kernel_info_reply`: what Jupyter shows about kaleido and how it highlights cells.
pub(crate) fn kernel_info() -> KernelInfoReply {
    let version = env!("CARGO_PKG_VERSION");
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: "5.3".to_string(),
        implementation: "kaleido".to_string(),
        implementation_version: version.to_string(),
        language_info: LanguageInfo {
            name: "kaleido".to_string(),
            version: version.to_string(),
            mimetype: Some("text/x-kaleido".to_string()),
            file_extension: Some(".kal".to_string()),
            // kaleido's own Pygments lexer (`editors/pygments`, installed by `kaleido kernel install`).
            pygments_lexer: Some("kaleido".to_string()),
            codemirror_mode: Some(CodeMirrorMode::Simple("kaleido".to_string())),
            nbconvert_exporter: None,
        },
        banner: format!(
            "kaleido {version}: a notebook JIT for a Kaleidoscope-like language (every value is an f64). \
             Lines starting with `:` are commands: `:help` lists them. kaleido reads no input from the notebook \
             (it has no input builtin), so it never sends an input_request. {}",
            where_code_runs()
        ),
        help_links: vec![HelpLink {
            text: "The LLVM Kaleidoscope tutorial".to_string(),
            url: "https://llvm.org/docs/tutorial/MyFirstLanguageFrontend/index.html".to_string(),
        }],
        debugger: false,
        error: None,
    }
}
