//! The `kernel_info_reply`: what Jupyter shows about kaleido and how it highlights cells (asked for on
//! the shell socket and, by some clients, on control).

use jupyter_protocol::{CodeMirrorMode, HelpLink, KernelInfoReply, LanguageInfo, ReplyStatus};

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
             (it has no input builtin), so it never sends an input_request."
        ),
        help_links: vec![HelpLink {
            text: "The LLVM Kaleidoscope tutorial".to_string(),
            url: "https://llvm.org/docs/tutorial/MyFirstLanguageFrontend/index.html".to_string(),
        }],
        debugger: false,
        error: None,
    }
}
