//! A real Prometheus for the tests: Debian's `prometheus` and `promtool` (scripts/test.sh
//! extracts them under target/test-tools/prometheus), series backfilled from OpenMetrics text
//! with `promtool tsdb create-blocks-from openmetrics`, served on a free 127.0.0.1 port until
//! dropped. Also the AMP stand-in (tests/interop/ampstub.py) that checks SigV4 with botocore.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the Prometheus binaries are, or `None` (skip, loudly) outside CI when they are missing.
#[allow(clippy::print_stderr)] // the loud skip is for the person running the tests
pub fn binaries() -> Option<PathBuf> {
    let dir = std::env::var_os("PERFCERT_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::root().join("target/test-tools"))
        .join("prometheus");
    if dir.join("prometheus").exists() && dir.join("promtool").exists() {
        return Some(dir);
    }
    let why = format!(
        "needs Prometheus at {}: run scripts/test.sh (it extracts the distribution's prometheus package)",
        dir.display()
    );
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "CI is set: {why}");
    eprintln!("\n*** SKIPPED: {why} ***\n");
    None
}

/// A Prometheus serving backfilled series, stopped when dropped.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Backfills `openmetrics` (timestamps in seconds, ending with `# EOF`) and starts
    /// Prometheus on it; `None` when the binaries are missing outside CI.
    pub fn start(openmetrics: &str) -> Option<Prometheus> {
        let bin = binaries()?;
        let dir = tempfile::tempdir().unwrap();
        let series = dir.path().join("series.om");
        std::fs::write(&series, openmetrics).unwrap();
        let data = dir.path().join("data");
        let out = Command::new(bin.join("promtool"))
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&series)
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success(), "promtool: {}", String::from_utf8_lossy(&out.stderr));
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 15s\n").unwrap();
        // A free port can be taken between the probe and the start: try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new(bin.join("prometheus"))
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--storage.tsdb.retention.time=3650d")
                .arg("--log.level=error")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if get(port, "/-/ready").is_some_and(|r| r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200"))
                {
                    return Some(Prometheus { child, url: format!("http://127.0.0.1:{port}"), _dir: dir });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("Prometheus did not become ready on 127.0.0.1 in 5 attempts of 20 s");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on 127.0.0.1:port: the whole response, or `None` when nothing answers.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// The AMP stand-in in front of `upstream`, for workspace `workspace`, accepting only requests
/// signed with (`access_key`, `secret_key`) for `region`; stopped when dropped.
pub struct AmpStub {
    child: Child,
    /// `http://127.0.0.1:PORT/workspaces/WORKSPACE`: the endpoint to give perfcert.
    pub endpoint: String,
}

impl AmpStub {
    pub fn start(upstream: &str, workspace: &str, access_key: &str, secret_key: &str, region: &str) -> AmpStub {
        let python = super::tools(&["venv/bin/python"]).join("venv/bin/python");
        let mut child = Command::new(python)
            .arg(super::root().join("tests/interop/ampstub.py"))
            .args([upstream, workspace, access_key, secret_key, region])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.strip_prefix("READY ").map(str::trim).unwrap_or_else(|| panic!("ampstub said {line:?}"));
        AmpStub { child, endpoint: format!("http://127.0.0.1:{port}/workspaces/{workspace}") }
    }
}

impl Drop for AmpStub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CodeDeploy stand-in (tests/interop/codedeploystub.py): accepts only StopDeployment
/// requests signed with (`access_key`, `secret_key`) for `region`, service `codedeploy`, and logs
/// every request; stopped when dropped.
pub struct CodeDeployStub {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    log: tempfile::TempDir,
}

impl CodeDeployStub {
    pub fn start(access_key: &str, secret_key: &str, region: &str) -> CodeDeployStub {
        let python = super::tools(&["venv/bin/python"]).join("venv/bin/python");
        let log = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(super::root().join("tests/interop/codedeploystub.py"))
            .args([access_key, secret_key, region])
            .arg(log.path().join("requests.jsonl"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.strip_prefix("READY ").map(str::trim).unwrap_or_else(|| panic!("codedeploystub said {line:?}"));
        CodeDeployStub { child, endpoint: format!("http://127.0.0.1:{port}"), log }
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.log.path().join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for CodeDeployStub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
