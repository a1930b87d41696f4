//! Headless Chromium, for `perfcert report --format pdf` (and the tests' screenshots): find it,
//! run it on a local HTML file with the network quiet, bounded in time, and say what to install
//! when it is missing. It owns the one external program perfcert runs; it prints nothing.
//!
//! Why Chromium and not typst or a pure-Rust PDF writer: the PDF is the very HTML page people
//! see (one template, one set of charts), Chromium lays out tables and SVG faithfully, and it
//! is a package on every platform; typst would be a second template language and a large
//! build, and krilla/printpdf would mean drawing every table and glyph by hand.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The names looked for on `PATH`, in order.
pub const NAMES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/// Where macOS keeps the browsers, when they are not on `PATH`.
const MAC_APPS: [&str; 2] = [
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/// What to install, for the error when none is found.
pub const INSTALL: &str = "install Chromium (Debian/Ubuntu: `apt-get install chromium`; Fedora: `dnf install \
                           chromium`; macOS: `brew install --cask chromium` or Google Chrome) or name it with \
                           --chromium PATH or PERFCERT_CHROMIUM";

#[derive(Debug, thiserror::Error)]
pub enum ChromiumError {
    #[error("no Chromium found: looked for {} on PATH; {INSTALL}", NAMES.join(", "))]
    Missing,
    #[error("{}: not found or not executable; expected a Chromium or Chrome binary ({from})", path.display())]
    BadPath { path: PathBuf, from: &'static str },
    #[error("{}: could not start: {reason}", path.display())]
    Start { path: PathBuf, reason: String },
    #[error("{} did not finish within {} s and was stopped; a slow machine may need --chromium-timeout", path.display(), timeout.as_secs())]
    Timeout { path: PathBuf, timeout: Duration },
    #[error("{} failed ({status}) and wrote no {what}{}", path.display(), if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed { path: PathBuf, status: String, what: &'static str, stderr: String },
    #[error("{what}: {reason}")]
    Io { what: String, reason: String },
}

/// The Chromium to run: `given` (`--chromium`), else `PERFCERT_CHROMIUM`, else the first of
/// [`NAMES`] on `PATH`, else a macOS application.
pub fn find(
    given: Option<&Path>,
    env: Option<&std::ffi::OsStr>,
    path_var: Option<&std::ffi::OsStr>,
) -> Result<PathBuf, ChromiumError> {
    let named = given
        .map(|p| (p.to_path_buf(), "--chromium"))
        .or_else(|| env.filter(|v| !v.is_empty()).map(|v| (PathBuf::from(v), "PERFCERT_CHROMIUM")));
    if let Some((path, from)) = named {
        // A bare name is looked up on PATH, as a shell would.
        let resolved = if path.components().count() == 1 { on_path(&path, path_var) } else { Some(path.clone()) };
        return resolved.filter(|p| executable(p)).ok_or(ChromiumError::BadPath { path, from });
    }
    NAMES
        .iter()
        .find_map(|n| on_path(Path::new(n), path_var))
        .or_else(|| MAC_APPS.iter().map(PathBuf::from).find(|p| executable(p)))
        .ok_or(ChromiumError::Missing)
}

fn on_path(name: &Path, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path_var?).map(|dir| dir.join(name)).find(|p| executable(p))
}

fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether this process runs as root: Chromium refuses its sandbox then, and needs
/// `--no-sandbox`. (`/proc/self` belongs to the process's effective user on Linux; elsewhere
/// this says no.)
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// What to make of the page.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    /// A PDF, A4 as the page's CSS asks, without Chromium's date/URL header and footer.
    Pdf(&'a Path),
    /// A PNG screenshot of a window this wide and high.
    Png(&'a Path, u32, u32),
}

/// Runs `chromium` on the local `html` file, writing `out`, stopped after `timeout`. A fresh
/// profile in a temporary directory each time; background networking, sync, component
/// updates and QUIC off, so the only thing it reads is the file.
pub fn render(chromium: &Path, html: &Path, out: Output, timeout: Duration) -> Result<(), ChromiumError> {
    let profile = tempfile::Builder::new()
        .prefix("perfcert-chromium-")
        .tempdir()
        .map_err(|e| ChromiumError::Io { what: "a temporary Chromium profile".into(), reason: e.to_string() })?;
    let html = std::path::absolute(html)
        .map_err(|e| ChromiumError::Io { what: html.display().to_string(), reason: e.to_string() })?;
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
    ]);
    if is_root() {
        cmd.arg("--no-sandbox");
    }
    cmd.arg(format!("--user-data-dir={}", profile.path().display()));
    let (target, what) = match out {
        Output::Pdf(p) => {
            cmd.arg("--no-pdf-header-footer").arg(format!("--print-to-pdf={}", p.display()));
            (p, "PDF")
        }
        Output::Png(p, w, h) => {
            cmd.arg(format!("--window-size={w},{h}")).arg(format!("--screenshot={}", p.display()));
            (p, "screenshot")
        }
    };
    cmd.arg(file_url(&html));
    // Its chatter (a dbus line, GPU notes) goes to a file, read only on failure: a pipe
    // nobody drains could stall it, and a child it leaves behind could hold a pipe open.
    let log = tempfile::tempfile()
        .map_err(|e| ChromiumError::Io { what: "a temporary log".into(), reason: e.to_string() })?;
    let log_for_child =
        log.try_clone().map_err(|e| ChromiumError::Io { what: "a temporary log".into(), reason: e.to_string() })?;
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::from(log_for_child));
    let start_err = |e: std::io::Error| ChromiumError::Start { path: chromium.to_path_buf(), reason: e.to_string() };
    // In perfcert's own process group, so Ctrl-C reaches it too. On a timeout only the browser
    // process is killed: its renderer and GPU processes exit with it. (A group of its own would
    // let a timeout kill them all, but then Ctrl-C would leave Chromium running.)
    let mut child = cmd.spawn().map_err(start_err)?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(start_err)? {
            break status;
        }
        if started.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ChromiumError::Timeout { path: chromium.to_path_buf(), timeout });
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wrote = std::fs::metadata(target).is_ok_and(|m| m.len() > 0);
    if status.success() && wrote {
        return Ok(());
    }
    Err(ChromiumError::Failed {
        path: chromium.to_path_buf(),
        status: if status.success() { "exit 0".into() } else { status.to_string() },
        what,
        stderr: last_lines(log),
    })
}

/// The last few meaningful lines Chromium wrote, on one line.
fn last_lines(mut log: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut text = String::new();
    let _ = log.seek(std::io::SeekFrom::Start(0));
    let _ = log.take(64 * 1024).read_to_string(&mut text);
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.contains("dbus")).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// `file:///abs/path`, with the characters a URL cannot carry percent-encoded.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => url.push(b as char),
            _ => url.push_str(&format!("%{b:02X}")),
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_named_binary_or_says_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let path_var = dir.path().as_os_str().to_owned();
        let err = find(None, None, Some(&path_var)).unwrap_err();
        assert!(matches!(err, ChromiumError::Missing));
        assert!(err.to_string().contains("apt-get install chromium"), "{err}");

        let fake = dir.path().join("chromium-browser");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find(None, None, Some(&path_var)).unwrap(), fake);
        // By name (on PATH) or by path, from the flag or the variable; the flag wins.
        assert_eq!(find(None, Some("chromium-browser".as_ref()), Some(&path_var)).unwrap(), fake);
        let err = find(Some(Path::new("/no/such/chrome")), Some(fake.as_os_str()), Some(&path_var)).unwrap_err();
        assert!(err.to_string().starts_with("/no/such/chrome: not found"), "{err}");
        assert!(err.to_string().contains("--chromium"), "{err}");
    }

    #[test]
    fn file_urls_are_encoded() {
        assert_eq!(file_url(Path::new("/tmp/a b/r#1.html")), "file:///tmp/a%20b/r%231.html");
    }
}
