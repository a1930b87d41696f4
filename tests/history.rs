//! `perfcert history` end to end: archives made by certify (several versions, one regressed, a
//! second look), read as a table, Markdown and JSON; --last; the errors a user can meet (no such
//! service, an archive written before the index, no archive, an unreachable S3); and an s3://
//! archive on the S3 test server (moto, installed by scripts/test.sh), written by certify --upload.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::{command, fixture, policy, root, text, workdir_with_keys};

/// Results of `version` with fixtures/perf004/current.json's values and latency_p95_read as given.
fn results(dir: &Path, version: &str, p95: f64, cost: f64) -> String {
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(fixture("current.json")).unwrap()).unwrap();
    doc["version"] = version.into();
    doc["metrics"]["latency_p95_read"] = p95.into();
    doc["metrics"]["cost_per_1000_req"] = cost.into();
    doc.as_object_mut().unwrap().remove("$schema");
    let path = dir.join(format!("{version}-{p95}.json"));
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    path.display().to_string()
}

/// Certifies a release against fixtures/perf004/baseline.json (latency_p95_read 205 ms, +10%
/// allowed, cost +5% allowed from 0.0048).
fn certify(dir: &Path, version: &str, p95: f64, cost: f64, extra: &[&str]) -> Output {
    let current = results(dir, version, p95, cost);
    let (b, p) = (fixture("baseline.json"), policy());
    let mut args = vec!["certify", "--key", "cosign.key", "--baseline", &b, "--current", &current, "--thresholds", &p];
    args.extend(extra);
    run(dir, &args, &[])
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(dir);
    for var in ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .args(args)
        .envs(env.iter().copied());
    cmd.output().unwrap()
}

fn history(dir: &Path, args: &[&str]) -> Output {
    run(dir, &[&["history", "--service", "ingest-api"], args].concat(), &[])
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// A metric's counts in a JSON history.
fn counts(v: &serde_json::Value, name: &str) -> serde_json::Value {
    let metrics = v["metrics"].as_array().unwrap();
    metrics.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("{name}: {v}"))["counts"].clone()
}

fn stdout(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Three releases: v1.0.0 passes, v1.1.0 regresses read latency (+17%: FAIL), v1.2.0 recovers.
fn three_releases(dir: &Path) {
    for (version, p95, cost, code) in
        [("v1.0.0", 210.0, 0.0048, 0), ("v1.1.0", 240.0, 0.0049, 1), ("v1.2.0", 211.0, 0.0050, 0)]
    {
        let out = certify(dir, version, p95, cost, &[]);
        assert_eq!(out.status.code(), Some(code), "{version}: {}", text(&out));
    }
}

#[test]
fn releases_changes_and_counts_in_every_format() {
    let dir = workdir_with_keys();
    let d = dir.path();
    three_releases(d);

    let v = json(&history(d, &["--format", "json"]));
    assert_eq!(v["history_version"], 1);
    assert_eq!(v["service"], "ingest-api");
    let versions: Vec<&str> =
        v["releases"].as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["v1.0.0", "v1.1.0", "v1.2.0"]);
    let statuses: Vec<&str> = v["releases"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["PASS", "FAIL", "PASS"]);
    let p95 = &v["releases"][1]["metrics"]["latency_p95_read"];
    assert_eq!(p95["value"], 240.0);
    assert_eq!(p95["status"], "FAIL");
    assert!((p95["change"].as_f64().unwrap() - (240.0 / 210.0 - 1.0)).abs() < 1e-9, "{p95}");
    assert!(v["releases"][0]["metrics"]["latency_p95_read"]["change"].is_null(), "nothing before the first");
    let metric = |name: &str| v["metrics"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap().clone();
    assert_eq!(metric("latency_p95_read")["unit"], "ms");
    assert_eq!(metric("latency_p95_read")["counts"]["pass"], 2);
    assert_eq!(metric("latency_p95_read")["counts"]["fail"], 1);
    assert_eq!(metric("error_rate")["counts"]["pass"], 3);
    assert_eq!(v["metrics"].as_array().unwrap().len(), 6, "every gated metric");
    assert_eq!(v["cost_trend"]["first"], 0.0048);
    assert_eq!(v["cost_trend"]["last"], 0.005);
    assert_eq!(v["cost_trend"]["unit"], "USD");
    assert!(v["releases"][2]["certificate"].as_str().unwrap().ends_with("ingest-api-v1.2.0.cert.json"));

    let table = stdout(&history(d, &[]));
    assert!(table.starts_with("ingest-api: 3 releases\n"), "{table}");
    let line = |name: &str| {
        table.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}: {table}")).to_string()
    };
    let cells = |l: String| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    assert_eq!(cells(line("RELEASE")), ["RELEASE", "v1.0.0", "v1.1.0", "v1.2.0", "PASS", "FAIL"]);
    assert_eq!(cells(line("status")), ["status", "PASS", "FAIL", "PASS"]);
    assert_eq!(cells(line("latency_p95_read")), ["latency_p95_read", "210", "ms", "240", "ms", "211", "ms", "2", "1"]);
    let after = table.lines().skip_while(|l| !l.starts_with("latency_p95_read")).nth(1).unwrap();
    assert_eq!(after.split_whitespace().collect::<Vec<_>>(), ["change", "-", "+14.29%", "-12.08%"], "{table}");
    assert!(table.contains("cost per 1000 requests: 0.0048 USD -> 0.005 USD over 3 releases (+4.17%)"), "{table}");
    assert!(table.contains("v1.1.0 FAIL: latency_p95_read"), "{table}");
    assert!(table.contains("signatures are not verified"), "{table}");

    let md = stdout(&history(d, &["--format", "markdown"]));
    assert!(md.starts_with("<!-- perfcert:history -->\n### Performance history of ingest-api: 3 releases"), "{md}");
    assert!(
        md.contains("| `latency_p95_read` | 210 ms | ❌ **240 ms**<br>+14.29% | 211 ms<br>-12.08% | ✅ 2 · ❌ 1 |"),
        "{md}"
    );
    assert!(md.contains("- ❌ `v1.1.0` **FAIL**: `latency_p95_read`"), "{md}");

    // --output writes the same bytes stdout would have.
    let out = history(d, &["--format", "markdown", "--output", "history.md"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(d.join("history.md")).unwrap(), md);
    let out = history(d, &["--output", "no-such-dir/history.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no-such-dir/history.txt: cannot write the history"), "{}", text(&out));
}

#[test]
fn last_and_a_second_look_keep_releases_in_order() {
    let dir = workdir_with_keys();
    let d = dir.path();
    three_releases(d);

    let v = json(&history(d, &["--format", "json", "--last", "2"]));
    assert_eq!(v["earlier"], 1);
    let versions: Vec<&str> =
        v["releases"].as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["v1.1.0", "v1.2.0"]);
    assert!(
        v["releases"][0]["metrics"]["latency_p95_read"]["change"].is_number(),
        "change from the release before the window"
    );
    assert_eq!(counts(&v, "latency_p95_read")["fail"], 1);
    let table = stdout(&history(d, &["--last", "2"]));
    assert!(table.starts_with("ingest-api: 2 releases (1 earlier not shown)\n"), "{table}");

    // v1.1.0 fixed and certified again (--force: a new certificate, the old one kept).
    let out = certify(d, "v1.1.0", 214.0, 0.0049, &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&history(d, &["--format", "json"]));
    let versions: Vec<&str> =
        v["releases"].as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["v1.0.0", "v1.1.0", "v1.2.0"], "a later look does not move a release");
    assert_eq!(v["releases"][1]["status"], "PASS");
    assert_eq!(v["releases"][1]["certificates"], 2);
    assert_eq!(v["releases"][1]["metrics"]["latency_p95_read"]["value"], 214.0);
    let table = stdout(&history(d, &[]));
    assert!(table.lines().any(|l| l.starts_with("status") && l.contains("PASS (2 certs)")), "{table}");
}

#[test]
fn the_errors_say_what_to_do() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let out = history(d, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("perf/certificates: not found; expected an archive directory"), "{}", text(&out));

    three_releases(d);
    let out = run(d, &["history", "--service", "billing"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no certificates of service billing"), "{}", text(&out));

    // An archive written before the index existed: say how to build it, then it works.
    let before = stdout(&history(d, &["--format", "json"]));
    std::fs::remove_dir_all(d.join("perf/certificates/index")).unwrap();
    let out = history(d, &["--archive", "perf/certificates"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("run `perfcert index rebuild perf/certificates`"), "{}", text(&out));
    let out = run(d, &["index", "rebuild", "perf/certificates"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stdout(&history(d, &["--format", "json"])), before, "the rebuilt index gives the same history");

    let out = run(d, &["history"], &[]);
    assert_eq!(out.status.code(), Some(2), "--service is required: {}", text(&out));
    let out = history(d, &["--last", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// The S3 test server (moto), installed by scripts/test.sh, on a free loopback port.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Moto {
        let tools: PathBuf = common::tools(&["venv/bin/moto_server"]);
        let mut child = Command::new(tools.join("venv/bin/python"))
            .arg(root().join("tests/interop/s3_server.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let mut parts = line.split_whitespace();
        assert_eq!(parts.next(), Some("READY"), "s3 server: {line:?}");
        Moto { url: parts.next().unwrap().to_string(), child }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_s3_archive_written_by_certify_upload() {
    let s3 = Moto::start();
    let dir = workdir_with_keys();
    let d = dir.path();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(&s3.url)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    rt.block_on(client.create_bucket().bucket("perf-certs").object_lock_enabled_for_bucket(true).send()).unwrap();

    for (version, p95, code) in [("v2.0.0", 210.0, 0), ("v2.1.0", 240.0, 1)] {
        let out = certify(d, version, p95, 0.0048, &["--upload", "s3://perf-certs/ingest", "--endpoint-url", &s3.url]);
        assert_eq!(out.status.code(), Some(code), "{version}: {}", text(&out));
    }
    // Only S3 has them.
    std::fs::remove_dir_all(d.join("perf/certificates")).unwrap();
    let v = json(&history(d, &["s3://perf-certs/ingest", "--endpoint-url", &s3.url, "--format", "json"]));
    let versions: Vec<&str> =
        v["releases"].as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["v2.0.0", "v2.1.0"]);
    assert!(v["releases"][1]["certificate"].as_str().unwrap().starts_with("s3://perf-certs/ingest/"), "{v}");
    assert_eq!(counts(&v, "latency_p95_read")["fail"], 1);

    let out = history(d, &["s3://perf-certs/other", "--endpoint-url", &s3.url]);
    assert_eq!(out.status.code(), Some(2), "an empty prefix has no certificates: {}", text(&out));
    drop(s3);
    // Nothing listens there now: unreachable is exit 3.
    let out = history(d, &["s3://perf-certs/ingest", "--endpoint-url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}
