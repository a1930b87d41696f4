//! An archive in a local directory.
//!
//! Every file is written to a temporary name (`.perfcert-*`, which the layout ignores) in its
//! final directory, synced, then linked into place only if the name is free: a reader, or a
//! process killed at any instant, sees the whole file or none. Files honour the umask (0644
//! under umask 022).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Archive, Names, Put, Shown, StoreError};
use crate::fsutil;

pub struct Dir {
    root: PathBuf,
    /// Directories this process created, so that giving a claim back leaves no trace.
    created: std::cell::RefCell<Vec<PathBuf>>,
}

impl Dir {
    pub fn new(root: PathBuf) -> Dir {
        Dir { root, created: Default::default() }
    }

    fn path(&self, relative: &str) -> PathBuf {
        relative.split('/').fold(self.root.clone(), |p, part| p.join(part))
    }

    fn io(&self, relative: &str, e: &io::Error) -> StoreError {
        let at = self.show(relative);
        match e.kind() {
            io::ErrorKind::NotFound => StoreError::NotFound { at },
            _ => StoreError::Io { at, reason: fsutil::io_reason(e) },
        }
    }
}

impl Archive for Dir {
    fn root(&self) -> String {
        self.root.display().to_string()
    }

    fn show(&self, relative: &str) -> Shown {
        self.path(relative).display().to_string()
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let mut found = vec![];
        match walk(&self.root, "", 4, &mut found) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && !self.root.exists() => Ok(vec![]),
            Err(e) => Err(StoreError::Io { at: self.root(), reason: fsutil::io_reason(&e) }),
            Ok(()) => Ok(found),
        }
    }

    fn list_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // One directory: the one the prefix's last `/` names.
        let (dir, start) = prefix.rsplit_once('/').map_or(("", prefix), |(d, s)| (d, s));
        let path = if dir.is_empty() { self.root.clone() } else { self.path(dir) };
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(self.io(dir, &e)),
        };
        let mut found = vec![];
        for entry in entries {
            let entry = entry.map_err(|e| self.io(dir, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(start) && !entry.file_type().map_err(|e| self.io(dir, &e))?.is_dir() {
                found.push(if dir.is_empty() { name } else { format!("{dir}/{name}") });
            }
        }
        Ok(found)
    }

    fn read(&self, relative: &str) -> Result<Vec<u8>, StoreError> {
        fs::read(self.path(relative)).map_err(|e| self.io(relative, &e))
    }

    fn create(&self, relative: &str, bytes: &[u8]) -> Result<Put, StoreError> {
        let path = self.path(relative);
        if let Some(dir) = path.parent() {
            let mut missing: Vec<PathBuf> = dir
                .ancestors()
                .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
                .map(Path::to_path_buf)
                .collect();
            fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                at: dir.display().to_string(),
                reason: format!("cannot create: {}", fsutil::io_reason(&e)),
            })?;
            self.created.borrow_mut().append(&mut missing);
        }
        match fsutil::write_new_atomic(&path, bytes, None) {
            Ok(()) => Ok(Put::Created),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Same bytes: a repeated upload or claim. Anything else (other bytes, a dangling
                // symlink, a directory) keeps the name taken.
                match fs::read(&path) {
                    Ok(stored) if stored == bytes => Ok(Put::AlreadyThere),
                    _ => Err(StoreError::Taken { at: self.show(relative) }),
                }
            }
            Err(e) => Err(StoreError::Io {
                at: self.show(relative),
                reason: format!("cannot write: {}", fsutil::io_reason(&e)),
            }),
        }
    }

    fn release_claim(&self, names: &Names) -> Result<(), StoreError> {
        let relative = names.claim();
        fs::remove_file(self.path(&relative)).map_err(|e| self.io(&relative, &e))?;
        // Deepest first; a directory that is not empty (another run's files) stays.
        for dir in self.created.borrow_mut().drain(..) {
            let _ = fs::remove_dir(dir);
        }
        Ok(())
    }
}

/// Collects the files below `dir` (to `depth` levels), relative to the walk's root. Symbolic
/// links are listed as names (a dangling one still takes its name) and never followed.
fn walk(dir: &Path, prefix: &str, depth: usize, found: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if depth > 1 {
                walk(&entry.path(), &relative, depth - 1, found)?;
            }
        } else {
            found.push(relative);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_once_and_never_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::new(tmp.path().join("archive"));
        assert_eq!(dir.list().unwrap(), Vec::<String>::new());
        assert_eq!(dir.create("20261122/a-v1.cert.json", b"one").unwrap(), Put::Created);
        assert_eq!(dir.create("20261122/a-v1.cert.json", b"one").unwrap(), Put::AlreadyThere);
        assert!(matches!(dir.create("20261122/a-v1.cert.json", b"two"), Err(StoreError::Taken { .. })));
        assert_eq!(dir.read("20261122/a-v1.cert.json").unwrap(), b"one");
        assert!(matches!(dir.read("20261122/b.cert.json"), Err(StoreError::NotFound { .. })));
        assert_eq!(dir.list().unwrap(), ["20261122/a-v1.cert.json"]);
    }

    #[test]
    fn a_dangling_symlink_takes_its_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::new(tmp.path().to_path_buf());
        fs::create_dir(tmp.path().join("claims")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("nowhere"), tmp.path().join("claims/a-v1.json")).unwrap();
        assert!(matches!(dir.create("claims/a-v1.json", b"x"), Err(StoreError::Taken { .. })));
        assert_eq!(dir.list().unwrap(), ["claims/a-v1.json"]);
    }

    #[test]
    fn files_honour_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::new(tmp.path().to_path_buf());
        dir.create("20261122/a.cert.json", b"{}").unwrap();
        let mode = fs::metadata(tmp.path().join("20261122/a.cert.json")).unwrap().permissions().mode() & 0o777;
        // The test process's umask is not known here; the file must be readable by everyone the
        // umask allows, which under the usual 022 or 002 includes group and others.
        assert_eq!(mode & 0o600, 0o600);
        assert_ne!(mode, 0o600, "a temporary file's 0600 leaked into the archive");
    }
}
