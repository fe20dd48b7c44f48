//! The commands that read and write files: `:load`, `:save` (a session script or a transcript).

use std::path::Path;

use super::write_out;
use crate::script::{ScriptOptions, run_script};
use crate::session::Session;
use crate::source_file::{MAX_SCRIPT_BYTES, read_interruptible};

pub(super) fn load(session: &mut Session, argument: &str) -> Result<(), String> {
    if argument.is_empty() {
        return Err("`:load` needs a file name".to_string());
    }
    let file = script_path(argument);
    let path = file.to_string_lossy().into_owned();
    let path = path.as_str();
    let interrupt = session.engine().interrupt_handle();
    let bytes =
        read_interruptible(&file, MAX_SCRIPT_BYTES, &interrupt).map_err(|e| format!("cannot read {path}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{path} is not valid UTF-8"))?;
    let code = run_file(session, &file, path, &text, ScriptOptions::default())?;
    if code == 0 {
        write_out(session, &format!("loaded {path}\n"))
    } else {
        Err(format!("{path} stopped at the error above"))
    }
}

/// How many script files may be loading at once, one inside the other (`kaleido a.kal`, whose `:load b`
/// loads `c`...): each level holds the files' text and a few Rust frames, so the bound keeps the native
/// stack and memory safe whatever the files do.
pub const MAX_LOAD_DEPTH: usize = 32;

/// Runs the script file `file` (named `shown` in messages), whose text is `text`, in `session`; returns
/// its exit code. A file already being loaded (a `:load` of itself, or of a file that loads it back) and
/// loads nested past [`MAX_LOAD_DEPTH`] are refused, wherever the load comes from (a script, the shell,
/// `-e`, a notebook cell), since they would recurse until the stack ran out.
pub fn run_file(
    session: &mut Session,
    file: &Path,
    shown: &str,
    text: &str,
    options: ScriptOptions,
) -> Result<i32, String> {
    let identity = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let chain = |session: &Session| {
        let names = session.loading.iter().map(|(_, name)| name.as_str()).chain(std::iter::once(shown));
        names.collect::<Vec<_>>().join(" → ")
    };
    if session.loading.iter().any(|(loading, _)| *loading == identity) {
        return Err(format!("{shown} is already being loaded (`:load` cycle: {})", chain(session)));
    }
    if session.loading.len() >= MAX_LOAD_DEPTH {
        return Err(format!(
            "loads nest too deeply: {MAX_LOAD_DEPTH} files are loading, one inside the other ({})",
            chain(session)
        ));
    }
    session.loading.push((identity, shown.to_string()));
    let code = run_script(session, shown, text, options);
    session.loading.pop();
    Ok(code)
}

/// The file a `:load` argument names: quotes removed (`"my file.kal"`), `~` expanded, and `.kal` added
/// when the name has no extension and only the `.kal` file exists.
pub fn script_path(argument: &str) -> std::path::PathBuf {
    let path = file_path(argument);
    if path.extension().is_none() && !path.exists() {
        let with_extension = path.with_extension("kal");
        if with_extension.exists() {
            return with_extension;
        }
    }
    path
}

/// The file a command's argument names: quotes removed (`"my file.kal"`) and `~` expanded.
fn file_path(argument: &str) -> std::path::PathBuf {
    let unquoted = match argument.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if argument.len() >= 2 => &argument[1..argument.len() - 1],
        _ => argument,
    };
    match (unquoted.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            std::path::PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => std::path::PathBuf::from(unquoted),
    }
}

pub(super) fn save(session: &mut Session, argument: &str) -> Result<(), String> {
    let (transcript, path) = match argument.strip_prefix("--transcript") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => (true, rest.trim()),
        _ => (false, argument),
    };
    if path.is_empty() {
        return Err("`:save` needs a file name: `:save FILE` or `:save --transcript FILE`".to_string());
    }
    let script = if transcript { session.transcript.render() } else { session_script(session) };
    write_atomically(&file_path(path), script.as_bytes())?;
    write_out(session, &format!("saved to {path}\n"))
}

/// A script that rebuilds the session (what `:save` writes).
pub fn session_script(session: &Session) -> String {
    kaleido_engine::save::session_script(session.engine())
}

/// Writes `bytes` to `path` so that a crash never leaves a half-written file: into a new temporary file
/// beside the target (created exclusively, with an unpredictable name, so nobody who can write the
/// directory can make kaleido write elsewhere), then renamed over it. A symlink is written through to its
/// target; an existing file keeps its permissions; anything but a regular file (a device, a FIFO, a
/// directory) is refused. Errors name `path` as the user gave it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .map_err(|e| format!("cannot write {shown}: it is a symlink whose target cannot be reached ({e})"))?,
        _ => path.to_path_buf(),
    };
    let existing = match std::fs::metadata(&target) {
        Ok(meta) if !meta.is_file() => {
            return Err(format!("cannot write {shown}: it is not a regular file (`:save` replaces only files)"));
        }
        Ok(meta) => Some(meta.permissions()),
        Err(_) => None,
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = target.file_name().ok_or_else(|| format!("cannot write {shown}: the path names no file"))?;
    let fail = |e: std::io::Error| format!("cannot write {shown}: {e}");
    // A new file gets the usual 0666 less the umask; an existing one keeps its mode exactly.
    let mode = existing.as_ref().map_or(0o666, |p| p.mode() & 0o7777);
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)
        .map_err(fail)?;
    if let Some(permissions) = existing {
        temp.as_file().set_permissions(permissions).map_err(fail)?;
    }
    temp.write_all(bytes).and_then(|()| temp.as_file().sync_all()).map_err(fail)?;
    temp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}
