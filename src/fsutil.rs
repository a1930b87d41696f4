//! File system edges: reading inputs with errors that name the path and say what was wrong,
//! and writing outputs atomically (a reader never sees half a file).

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
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
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
/// (a temporary file in the same directory, linked into place only if the name is free).
pub fn write_new_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}
