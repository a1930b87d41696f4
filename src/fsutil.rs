//! File system edges: reading inputs with errors that name the path and say what was wrong
//! ([`at`] is the one way to name a path in an error), and writing outputs atomically (a reader,
//! or a process killed at any instant, sees the old file or the whole new one, never half).
//! New files honour the umask, as files made by `cp` or an editor do.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::error::LoadError;

/// Checks that `path` exists and is not a directory, with the one-line errors of [`read_text`].
pub fn check_readable_file(path: &Path) -> Result<(), LoadError> {
    let name = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| LoadError::new(&name, io_reason(&e)))?;
    if meta.is_dir() {
        return Err(LoadError::new(&name, "is a directory; expected a file"));
    }
    Ok(())
}

/// Reads a UTF-8 text file (a leading BOM is dropped). Errors are one line and name the path.
pub fn read_text(path: &Path) -> Result<String, LoadError> {
    let name = path.display().to_string();
    check_readable_file(path)?;
    let bytes = fs::read(path).map_err(|e| LoadError::new(&name, io_reason(&e)))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        LoadError::new(&name, format!("is not valid UTF-8 (first bad byte at offset {})", e.utf8_error().valid_up_to()))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// `PATH: REASON`: an I/O error on a path, as every message says it.
pub fn at(path: &Path, e: &io::Error) -> String {
    format!("{}: {}", path.display(), io_reason(e))
}

/// `PATH: cannot WHAT: REASON`.
pub fn cannot(what: &str, path: &Path, e: &io::Error) -> String {
    format!("{}: cannot {what}: {}", path.display(), io_reason(e))
}

/// A temporary file beside `path`, created with `mode` (subject to the umask; 0666 if none
/// is asked), named so that archive listings skip it.
fn temp_beside(path: &Path, mode: Option<u32>) -> io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".perfcert-")
        .permissions(fs::Permissions::from_mode(mode.unwrap_or(0o666)))
        .tempfile_in(dir)
}

/// For the crash tests (tests/archive.rs): stops the process dead (abort, as a SIGKILL would:
/// no cleanup runs) at the Nth file-system step of writing new files, N from the variable
/// `PERFCERT_CRASH_AT`, so a test can kill certify after each step in turn. Does nothing unless
/// that variable is set.
pub fn crash_point() {
    use std::sync::atomic::{AtomicU32, Ordering};
    static STEP: AtomicU32 = AtomicU32::new(0);
    let Some(at) = std::env::var("PERFCERT_CRASH_AT").ok().and_then(|v| v.parse::<u32>().ok()) else { return };
    if STEP.fetch_add(1, Ordering::SeqCst) + 1 == at {
        std::process::abort();
    }
}

/// A short reason for an I/O error, without the OS error number.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "not found".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "is a directory; expected a file".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so the
/// file is either the old one or the complete new one. Replaces an existing regular file.
/// Anything else that exists there (`/dev/null`, a FIFO, `/dev/stdout`) is written in place,
/// never replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Ok(meta) = fs::metadata(path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory"));
        }
        return fs::OpenOptions::new().write(true).open(path)?.write_all(bytes);
    }
    let mut tmp = temp_beside(path, None)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Creates `path` with `bytes`, refusing if anything already exists there (race-free).
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes `bytes` to a new file `path` atomically: complete or absent, never replacing anything
/// (a temporary file in the same directory, linked into place only if the name is free, then
/// the directory synced). `mode` (e.g. 0600 for a private key) narrows the umask's default.
pub fn write_new_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    let mut tmp = temp_beside(path, mode)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    crash_point();
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The new name survives a power cut only once its directory is on disk.
        fs::File::open(dir).and_then(|d| d.sync_all())?;
    }
    crash_point();
    Ok(())
}

/// Refuses to write `output` over one of a command's `inputs`, or inside `archive` (whose files
/// are never replaced): `Err` names the file.
pub fn refuse_over_inputs(output: &Path, inputs: &[&Path], archive: Option<&Path>) -> Result<(), String> {
    let canonical = |p: &Path| -> std::path::PathBuf {
        // The file may not exist yet: its directory does.
        match (p.parent().filter(|d| !d.as_os_str().is_empty()), p.file_name()) {
            (Some(dir), Some(name)) => dir.canonicalize().map(|d| d.join(name)).unwrap_or_else(|_| p.to_path_buf()),
            (None, Some(name)) => {
                Path::new(".").canonicalize().map(|d| d.join(name)).unwrap_or_else(|_| p.to_path_buf())
            }
            _ => p.to_path_buf(),
        }
    };
    let out = canonical(output);
    for input in inputs {
        if canonical(input) == out {
            return Err(format!("{}: is an input of this command; refusing to write over it", input.display()));
        }
    }
    if let Some(archive) = archive
        && let Ok(root) = archive.canonicalize()
        && out.starts_with(&root)
    {
        return Err(format!(
            "{}: is inside the archive {}, whose files are never replaced; write it elsewhere",
            output.display(),
            archive.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_refused_over_inputs_and_inside_an_archive() {
        let tmp = tempfile::tempdir().unwrap();
        let (input, archive) = (tmp.path().join("baseline.json"), tmp.path().join("archive"));
        std::fs::write(&input, "{}").unwrap();
        std::fs::create_dir_all(archive.join("daily")).unwrap();
        std::fs::create_dir_all(tmp.path().join("sub")).unwrap();
        let twice = tmp.path().join("sub/../baseline.json");
        assert!(refuse_over_inputs(&twice, &[&input], None).unwrap_err().contains("is an input"));
        let inside = archive.join("daily/x.verify.json");
        assert!(refuse_over_inputs(&inside, &[&input], Some(&archive)).unwrap_err().contains("inside the archive"));
        assert!(refuse_over_inputs(&tmp.path().join("record.json"), &[&input], Some(&archive)).is_ok());
    }
}
