//! A progress bar on stderr for inputs that take more than a second to read, only on a
//! terminal: `reading big.ndjson  [#########...........]  45%  812 / 1787 MB`.
//!
//! The readers only add to a byte counter ([`crate::input::load_with_progress`]); this thread
//! draws it ten times a second and erases it when the read ends, so nothing is left in logs.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// How long a read may take before the bar appears. `PERFCERT_PROGRESS_DELAY_MS` overrides it
/// (for tests of the bar itself).
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);
const WIDTH: usize = 24;

/// Whether stderr is a terminal a bar can be drawn on.
pub fn wanted() -> bool {
    io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Runs `read` with a byte counter, drawing a bar for `label` (of `total` bytes) on stderr if it
/// takes long and `show` is set.
pub fn with_bar<T: Send>(show: bool, label: &str, total: u64, read: impl FnOnce(&AtomicU64) -> T + Send) -> T {
    let counter = AtomicU64::new(0);
    if !show || total == 0 {
        return read(&counter);
    }
    let done = (Mutex::new(false), Condvar::new());
    let delay = std::env::var("PERFCERT_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(DELAY, Duration::from_millis);
    std::thread::scope(|s| {
        s.spawn(|| draw(label, total, &counter, &done, delay));
        let result = read(&counter);
        *done.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        done.1.notify_all();
        result
    })
}

fn draw(label: &str, total: u64, counter: &AtomicU64, done: &(Mutex<bool>, Condvar), delay: Duration) {
    let (lock, cv) = done;
    let mut finished = lock.lock().unwrap_or_else(|e| e.into_inner());
    let mut wait = delay;
    let mut drawn = false;
    loop {
        let (guard, _) = cv.wait_timeout_while(finished, wait, |f| !*f).unwrap_or_else(|e| e.into_inner());
        finished = guard;
        let mut err = io::stderr().lock();
        if *finished {
            if drawn {
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            }
            return;
        }
        let _ = write!(err, "\r\x1b[2K{}", line(label, counter.load(Ordering::Relaxed), total));
        let _ = err.flush();
        drawn = true;
        wait = TICK;
    }
}

/// One frame of the bar.
fn line(label: &str, done: u64, total: u64) -> String {
    let fraction = (done as f64 / total as f64).clamp(0.0, 1.0);
    let filled = (fraction * WIDTH as f64).round() as usize;
    format!(
        "reading {label}  [{}{}] {:>3.0}%  {} / {} MB",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        fraction * 100.0,
        done / 1_000_000,
        total / 1_000_000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn frames() {
        assert_eq!(
            super::line("big.ndjson", 812_000_000, 1_787_000_000),
            "reading big.ndjson  [###########.............]  45%  812 / 1787 MB"
        );
        assert!(super::line("f", 5, 4).contains("[########################] 100%"));
    }
}
