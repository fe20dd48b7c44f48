//! The commands that read and write files: `:load`, `:save` (a session script or a transcript).

use std::path::Path;

use super::{Action, write_out};
use crate::session::Session;
use crate::source_file::{MAX_SCRIPT_BYTES, read_interruptible};

pub(super) fn load(session: &mut Session, argument: &str) -> Result<Action, String> {
    if argument.is_empty() {
        return Err("`:load` needs a file name".to_string());
    }
    let file = script_path(argument);
    let shown = file.to_string_lossy().into_owned();
    let interrupt = session.engine().interrupt_handle();
    let bytes =
        read_interruptible(&file, MAX_SCRIPT_BYTES, &interrupt).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{shown} is not valid UTF-8"))?;
    Ok(Action::Load { file, shown, text })
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
pub(super) fn file_path(argument: &str) -> std::path::PathBuf {
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
    kaleido_view::save::session_script(session.engine())
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
