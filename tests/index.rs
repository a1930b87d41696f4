//! The archive's index (src/index.rs) end to end: the line certify and upload write for each
//! certificate, `perfcert index rebuild` on a directory and on S3 (moto on 127.0.0.1, as in
//! tests/s3.rs), and the documented queries (docs/queries/) run by DuckDB, the pinned PyPI
//! `duckdb` and `duckdb-ext-httpfs` that scripts/test.sh installs, on a local archive and on the
//! same archive in S3. Athena cannot run here: its table's DDL is checked against
//! `index::Line`'s fields instead, so the documentation cannot drift from the code.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use common::{command, fixture, policy, root, text, workdir_with_keys};
use serde_json::Value;

const ARCHIVE: &str = "perf/certificates";
const SECRET: &str = "test-secret-key-that-must-never-be-printed";

/// Runs perfcert in `dir` with the S3 test credentials (harmless for local commands).
fn perfcert(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = command(dir);
    cmd.args(args);
    for var in ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let out = cmd.output().unwrap();
    assert!(!text(&out).contains(SECRET), "the secret key was printed: {}", text(&out));
    out
}

/// Writes `name` in `dir`: fixtures/perf004/current.json with these metrics changed.
fn results(dir: &Path, name: &str, changes: &[(&str, f64)]) -> String {
    let mut doc: Value = serde_json::from_slice(&std::fs::read(fixture("current.json")).unwrap()).unwrap();
    for (metric, value) in changes {
        doc["metrics"][metric] = serde_json::json!(value);
    }
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path.display().to_string()
}

/// Certifies `current` against fixtures/perf004/baseline.json with the test key; the output and
/// the certificate's path.
fn certify(dir: &Path, current: &str, extra: &[&str]) -> (Output, PathBuf) {
    let (b, p) = (fixture("baseline.json"), policy());
    let mut args = vec!["certify", "--key", "cosign.key", "--baseline", &b, "--current", current, "--thresholds", &p];
    args.extend(["--format", "json"]);
    args.extend(extra);
    let out = perfcert(dir, &args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "certify: {}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let cert = dir.join(v["certificate"].as_str().unwrap_or_default());
    assert!(cert.is_file(), "certify wrote no certificate: {}", text(&out));
    (out, cert)
}

/// Every file under `archive`/index: relative to the archive, with its bytes.
fn index_files(archive: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let relative = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&archive.join("index"), archive, &mut out);
    out
}

fn sha256(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDD` of a certificate, from its directory, and as the index's `YYYY-MM-DD`.
fn day_of(cert: &Path) -> (String, String) {
    let day = cert.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    let dashed = format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]);
    (day, dashed)
}

/// Checks that `bytes` is one compact JSON line describing the certificate at `cert`.
fn assert_line_of(bytes: &[u8], cert: &Path) -> Value {
    let shown = String::from_utf8_lossy(bytes);
    assert!(bytes.ends_with(b"\n") && bytes.iter().filter(|&&b| b == b'\n').count() == 1, "one line: {shown}");
    assert!(!shown.contains("\": ") && !shown.contains(", \""), "compact JSON: {shown}");
    let line: Value = serde_json::from_slice(bytes).unwrap();
    let cert_bytes = std::fs::read(cert).unwrap();
    let doc: Value = serde_json::from_slice(&cert_bytes).unwrap();
    assert_eq!(line["certificate_sha256"].as_str(), Some(sha256(&cert_bytes).as_str()), "{shown}");
    let (day, _) = day_of(cert);
    let name = cert.file_name().unwrap().to_string_lossy();
    assert_eq!(line["certificate"].as_str(), Some(format!("{day}/{name}").as_str()));
    for key in ["service", "version", "status", "date", "commit"] {
        assert_eq!(line[key], doc[key], "{key} in {shown}");
    }
    line
}

#[test]
fn certify_writes_one_compact_line_per_certificate_naming_its_bytes() {
    let dir = workdir_with_keys();
    let archive = dir.path().join(ARCHIVE);
    let (_, first) = certify(dir.path(), &fixture("current.json"), &[]);
    let (_, dt) = day_of(&first);
    let files = index_files(&archive);
    let key = format!("index/dt={dt}/service=ingest-api/ingest-api-v1.4.2.json");
    assert_eq!(files.keys().collect::<Vec<_>>(), [&key], "exactly one line for one certificate");
    assert_line_of(&files[&key], &first);

    // A second look (--force) is another certificate, with its own line; the first stays as it was.
    let (out, second) = certify(dir.path(), &fixture("current.json"), &["--force"]);
    assert!(second.ends_with("ingest-api-v1.4.2.2.cert.json"), "{}", text(&out));
    let after = index_files(&archive);
    let key2 = format!("index/dt={dt}/service=ingest-api/ingest-api-v1.4.2.2.json");
    assert_eq!(after.len(), 2, "{:?}", after.keys());
    assert_eq!(after[&key], files[&key], "the first line is never rewritten");
    assert_line_of(&after[&key2], &second);
    assert_ne!(after[&key], after[&key2], "each line names its own certificate");

    // A service with a space and a slash: the partition and file name are cleaned, the line
    // keeps the exact name.
    let (_, odd) = certify(dir.path(), &fixture("current.json"), &["--service", "my svc/x", "--version", "v2/beta"]);
    let key3 = format!("index/dt={dt}/service=my_svc_x/my_svc_x-v2_beta.json");
    let files = index_files(&archive);
    assert!(files.contains_key(&key3), "{:?}", files.keys());
    assert_eq!(assert_line_of(&files[&key3], &odd)["service"], "my svc/x");
    assert_eq!(files.len(), 3);
}

#[test]
fn index_rebuild_writes_the_same_bytes_once_and_never_overwrites() {
    let dir = workdir_with_keys();
    let archive = dir.path().join(ARCHIVE);
    let archive_arg = archive.display().to_string();
    let (_, pass) = certify(dir.path(), &fixture("current.json"), &[]);
    let (_, fail) = certify(dir.path(), &fixture("current-regressed.json"), &["--version", "v1.5.0"]);
    certify(dir.path(), &fixture("current.json"), &["--service", "my svc/x"]);
    let written = index_files(&archive);
    assert_eq!(written.len(), 3);

    std::fs::remove_dir_all(archive.join("index")).unwrap();
    let out = perfcert(dir.path(), &["index", "rebuild", &archive_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("3 index lines created, 0 already there"), "{}", text(&out));
    assert_eq!(index_files(&archive), written, "rebuild writes the very bytes certify wrote");

    let again = perfcert(dir.path(), &["index", "rebuild", "--archive", &archive_arg]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("0 index lines created, 3 already there"), "{}", text(&again));
    assert_eq!(index_files(&archive), written, "a second rebuild creates nothing");

    // A line that holds other bytes is reported, never replaced; a certificate that is not one is
    // reported by name; the other certificates are indexed all the same.
    let (day, dt) = day_of(&fail);
    let fail_line = format!("index/dt={dt}/service=ingest-api/ingest-api-v1.5.0.json");
    let pass_line = format!("index/dt={dt}/service=ingest-api/ingest-api-v1.4.2.json");
    let odd_line = format!("index/dt={dt}/service=my_svc_x/my_svc_x-v1.4.2.json");
    std::fs::write(archive.join(&fail_line), &written[&pass_line]).unwrap();
    std::fs::remove_file(archive.join(&odd_line)).unwrap();
    std::fs::write(archive.join(&day).join("broken-v1.cert.json"), b"{\"service\": ").unwrap();
    let out = perfcert(dir.path(), &["index", "rebuild", &archive_arg]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains(&format!("{day}/broken-v1.cert.json: not a perfcert certificate")), "{said}");
    assert!(said.contains("ingest-api-v1.5.0.json: holds a line that does not match its certificate"), "{said}");
    assert!(said.contains("never overwritten"), "{said}");
    assert!(said.contains("1 index line created, 1 already there, 2 certificate(s) could not be indexed"), "{said}");
    let now = index_files(&archive);
    assert_eq!(now[&fail_line], written[&pass_line], "the other line is left as it was");
    assert_eq!(now[&odd_line], written[&odd_line], "the lost line is written again");
    assert!(pass.is_file());

    // A line of this very certificate in another format (another perfcert version: here without
    // `units`) is left as it is, and is not an error.
    std::fs::write(archive.join(&fail_line), &written[&fail_line]).unwrap();
    std::fs::remove_file(archive.join(&day).join("broken-v1.cert.json")).unwrap();
    let mut older: serde_json::Value = serde_json::from_slice(&written[&pass_line]).unwrap();
    older.as_object_mut().unwrap().remove("units");
    let older = format!("{older}\n");
    std::fs::write(archive.join(&pass_line), &older).unwrap();
    let out = perfcert(dir.path(), &["index", "rebuild", &archive_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("0 index lines created, 3 already there"), "{}", text(&out));
    assert_eq!(index_files(&archive)[&pass_line], older.as_bytes(), "never replaced");

    // An edited line (a FAIL made to read PASS) is reported, not taken for an older format.
    let mut edited: serde_json::Value = serde_json::from_slice(&written[&fail_line]).unwrap();
    edited["status"] = "PASS".into();
    edited["failed_metrics"] = serde_json::json!([]);
    std::fs::write(archive.join(&fail_line), format!("{edited}\n")).unwrap();
    let out = perfcert(dir.path(), &["index", "rebuild", &archive_arg]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("ingest-api-v1.5.0.json: holds a line that does not match its certificate"),
        "{}",
        text(&out)
    );
}

/// moto on a free loopback port (tests/interop/s3_server.py), until dropped.
struct Server {
    child: Child,
    endpoint: String,
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Server {
    fn start() -> Server {
        let tools = common::tools(&["venv/bin/moto_server"]);
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
        let endpoint = parts.next().unwrap().to_string();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", SECRET, None, None, "tests"))
            .endpoint_url(&endpoint)
            .force_path_style(true)
            .build();
        let server = Server { child, endpoint, runtime, client: Client::from_conf(config) };
        // Object Lock, hence versioning: every write is counted.
        server
            .runtime
            .block_on(server.client.create_bucket().bucket("perf-certs").object_lock_enabled_for_bucket(true).send())
            .unwrap();
        server
    }

    /// Every version of every key under `prefix`: key -> how many versions.
    fn versions(&self, prefix: &str) -> BTreeMap<String, usize> {
        let out = self
            .runtime
            .block_on(self.client.list_object_versions().bucket("perf-certs").prefix(prefix).send())
            .unwrap();
        let mut counts = BTreeMap::new();
        for v in out.versions() {
            *counts.entry(v.key().unwrap().to_string()).or_insert(0) += 1;
        }
        counts
    }

    fn get(&self, key: &str) -> Vec<u8> {
        self.runtime.block_on(async {
            let out = self.client.get_object().bucket("perf-certs").key(key).send().await.unwrap();
            out.body.collect().await.unwrap().to_vec()
        })
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        self.runtime
            .block_on(self.client.put_object().bucket("perf-certs").key(key).body(bytes.to_vec().into()).send())
            .unwrap();
    }

    /// Copies a local certificate, its bundle and (`with_claim`) its claim to `prefix` as a
    /// perfcert from before the index did: no index line.
    fn put_as_before_the_index(&self, archive: &Path, cert: &Path, prefix: &str, with_claim: bool) {
        let (day, _) = day_of(cert);
        let name = cert.file_name().unwrap().to_string_lossy().into_owned();
        let stem = name.strip_suffix(".cert.json").unwrap();
        self.put(
            &format!("{prefix}/{day}/{stem}.sigstore.json"),
            &std::fs::read(cert.with_file_name(format!("{stem}.sigstore.json"))).unwrap(),
        );
        self.put(&format!("{prefix}/{day}/{name}"), &std::fs::read(cert).unwrap());
        if with_claim {
            self.put(
                &format!("{prefix}/claims/{stem}.json"),
                &std::fs::read(archive.join(format!("claims/{stem}.json"))).unwrap(),
            );
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn upload_writes_the_line_and_completes_an_upload_made_before_the_index() {
    let s3 = Server::start();
    let dir = workdir_with_keys();
    let archive = dir.path().join(ARCHIVE);
    let (_, cert) = certify(dir.path(), &fixture("current.json"), &[]);
    let (_, odd) = certify(dir.path(), &fixture("current.json"), &["--service", "my svc/x"]);
    let (_, old) = certify(dir.path(), &fixture("current-regressed.json"), &["--version", "v1.5.0"]);
    let local = index_files(&archive);
    let (_, dt) = day_of(&cert);
    let upload = |cert: &Path| {
        let c = cert.display().to_string();
        perfcert(dir.path(), &["upload", &c, "--to", "s3://perf-certs/ingest", "--endpoint-url", &s3.endpoint])
    };

    for c in [&cert, &odd] {
        let out = upload(c);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    for line in [
        format!("index/dt={dt}/service=ingest-api/ingest-api-v1.4.2.json"),
        format!("index/dt={dt}/service=my_svc_x/my_svc_x-v1.4.2.json"),
    ] {
        assert_eq!(s3.get(&format!("ingest/{line}")), local[&line], "{line}: the local line's bytes");
    }

    // Uploaded by a perfcert without the index: uploading it again adds the line, and only it.
    s3.put_as_before_the_index(&archive, &old, "ingest", true);
    let before = s3.versions("ingest/");
    let out = upload(&old);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("already in S3"), "{}", text(&out));
    let after = s3.versions("ingest/");
    let line = format!("index/dt={dt}/service=ingest-api/ingest-api-v1.5.0.json");
    let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert_eq!(added, [&format!("ingest/{line}")], "only the line is added");
    assert!(after.values().all(|&n| n == 1), "nothing is written twice: {after:?}");
    assert_eq!(s3.get(&format!("ingest/{line}")), local[&line]);
}

#[test]
fn index_rebuild_on_s3_writes_the_lines_the_prefix_lacks() {
    let s3 = Server::start();
    let dir = workdir_with_keys();
    let archive = dir.path().join(ARCHIVE);
    let (_, a) = certify(dir.path(), &fixture("current.json"), &[]);
    let (_, b) = certify(dir.path(), &fixture("current.json"), &["--service", "my svc/x"]);
    for cert in [&a, &b] {
        s3.put_as_before_the_index(&archive, cert, "old", false);
    }
    let rebuild = || perfcert(dir.path(), &["index", "rebuild", "s3://perf-certs/old", "--endpoint-url", &s3.endpoint]);
    let out = rebuild();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("2 index lines created"), "{}", text(&out));
    for (line, bytes) in index_files(&archive) {
        assert_eq!(s3.get(&format!("old/{line}")), bytes, "{line}: the bytes certify wrote locally");
    }
    let again = rebuild();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("0 index lines created, 2 already there"), "{}", text(&again));
    assert!(s3.versions("old/").values().all(|&n| n == 1), "nothing is written twice");
}

/// Runs docs/queries/duckdb's view and queries with the pinned DuckDB on `archive` (a directory
/// or s3://...), as tests/interop/duckdb_query.py prints them.
fn duckdb(dir: &Path, archive: &str, endpoint: Option<&str>, queries: &[&str]) -> Value {
    let tools = common::tools(&["venv/bin/python"]);
    let docs = root().join("docs/queries/duckdb");
    let mut cmd = Command::new(tools.join("venv/bin/python"));
    cmd.current_dir(dir).arg(root().join("tests/interop/duckdb_query.py")).arg(archive);
    if let Some(endpoint) = endpoint {
        cmd.args(["--s3-endpoint", endpoint.trim_start_matches("http://")]);
    }
    cmd.arg(docs.join("perfcert_index.sql"));
    cmd.args(queries.iter().map(|q| docs.join(q)));
    cmd.env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", SECRET);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "duckdb: {}", text(&out));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    results
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

#[test]
fn the_documented_duckdb_queries_answer_from_a_local_archive_and_from_s3() {
    let dir = workdir_with_keys();
    // Six releases of ingest-api, p95 and cost changed each time (the baseline p95 is 205 ms,
    // limit +10%: the 231 and 264 ms releases fail), and another service that must not count.
    let p95 = [200.0, 210.0, 231.0, 220.0, 225.0, 264.0];
    let cost = [0.0040, 0.0042, 0.0041, 0.0045, 0.0044, 0.0050];
    let mut certs = vec![];
    for (i, (p, c)) in p95.iter().zip(cost).enumerate() {
        let current =
            results(dir.path(), &format!("current-{i}.json"), &[("latency_p95_read", *p), ("cost_per_1000_req", c)]);
        let (_, cert) = certify(dir.path(), &current, &["--version", &format!("v1.0.{i}")]);
        certs.push(cert);
    }
    let (_, other) = certify(dir.path(), &fixture("current-regressed.json"), &["--service", "other-api"]);

    let queries = ["last-releases.sql", "pass-fail-by-metric.sql", "cost-trend.sql"];
    let local = duckdb(dir.path(), ARCHIVE, None, &queries);
    let result = |name: &str| -> (Vec<String>, Vec<Value>) {
        let r = local.as_array().unwrap().iter().find(|r| r["file"] == name).unwrap();
        let columns = r["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        (columns, r["rows"].as_array().unwrap().clone())
    };

    // The last 5 releases, newest first, each with its change from the one before, the oldest
    // of the five included (the window looks past the LIMIT).
    let (columns, rows) = result("last-releases.sql");
    assert_eq!(columns, ["date", "version", "status", "p95", "change_vs_previous"]);
    assert_eq!(rows.len(), 5, "{rows:?}");
    for (row, i) in rows.iter().zip([5, 4, 3, 2, 1]) {
        assert_eq!(row[1], format!("v1.0.{i}"), "{row:?}");
        assert!(close(&row[3], p95[i]), "{row:?}");
        assert!(close(&row[4], p95[i] / p95[i - 1] - 1.0), "change from v1.0.{}: {row:?}", i - 1);
    }
    assert_eq!(rows[0][2], "FAIL", "264 ms is beyond the limit: {:?}", rows[0]);
    assert_eq!(rows[2][2], "PASS", "{:?}", rows[2]);

    // Pass and fail counts per metric: what the six certificates themselves say.
    let mut expected: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for cert in &certs {
        let doc: Value = serde_json::from_slice(&std::fs::read(cert).unwrap()).unwrap();
        for row in doc["comparison"].as_array().unwrap() {
            let counts = expected.entry(row["name"].as_str().unwrap().to_string()).or_default();
            counts[0] += u64::from(row["status"] == "PASS");
            counts[1] += u64::from(row["status"] == "FAIL");
            counts[2] += 1;
        }
    }
    let (columns, rows) = result("pass-fail-by-metric.sql");
    assert_eq!(columns, ["metric", "passed", "failed", "inconclusive", "waived", "certificates"]);
    let got: BTreeMap<String, [u64; 3]> = rows
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                [r[1].as_u64().unwrap(), r[2].as_u64().unwrap(), r[5].as_u64().unwrap()],
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got["latency_p95_read"], [4, 2, 6], "two of six releases failed p95: {got:?}");

    // Cost per 1000 requests, oldest first, with its change and the 5-release average.
    let (columns, rows) = result("cost-trend.sql");
    assert_eq!(columns, ["date", "version", "cost_per_1000_req", "change_vs_previous", "average_of_last_5"]);
    assert_eq!(rows.len(), 6, "{rows:?}");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[1], format!("v1.0.{i}"));
        assert!(close(&row[2], cost[i]), "{row:?}");
        if i == 0 {
            assert!(row[3].is_null(), "no release before the first: {row:?}");
        } else {
            assert!(close(&row[3], cost[i] / cost[i - 1] - 1.0), "{row:?}");
        }
        let window = &cost[i.saturating_sub(4)..=i];
        assert!(close(&row[4], window.iter().sum::<f64>() / window.len() as f64), "{row:?}");
    }

    // The same archive uploaded to S3 answers the same.
    let s3 = Server::start();
    for cert in certs.iter().chain([&other]) {
        let c = cert.display().to_string();
        let out =
            perfcert(dir.path(), &["upload", &c, "--to", "s3://perf-certs/ingest", "--endpoint-url", &s3.endpoint]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let remote = duckdb(dir.path(), "s3://perf-certs/ingest", Some(&s3.endpoint), &queries);
    assert_eq!(remote, local, "the S3 archive answers as the local one");
}

/// `(name, type)` pairs of a column list, `name type,` one a line, names in backticks or not.
fn athena_columns(list: &str) -> Vec<(String, String)> {
    list.lines()
        .map(|l| l.trim().trim_end_matches(','))
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, ty) = l.split_once(' ').unwrap_or_else(|| panic!("expected `name type`: {l}"));
            (name.trim_matches('`').to_string(), ty.trim().to_string())
        })
        .collect()
}

/// The columns an index line has, with the Athena type of each: from a line whose optional
/// fields are all set.
fn line_columns() -> Vec<(String, String)> {
    let bytes = std::fs::read(root().join("fixtures/certificates/ingest-api-v1.4.2.cert.json")).unwrap();
    let cert: perfcert::certificate::Certificate = serde_json::from_slice(&bytes).unwrap();
    let names = perfcert::store::Names::new("20261122", "ingest-api-v1.4.2");
    let mut line = perfcert::index::Line::of(&cert, &names, "ab12");
    line.commit = Some("abc1234".into());
    line.look = Some(2);
    line.cost_per_1000_req = Some(0.0049);
    line.failed_metrics = vec!["a".into()];
    line.inconclusive_metrics = vec!["b".into()];
    line.waived_metrics = vec!["c".into()];
    // In the order the line is written (serde_json's own map would sort the keys).
    let object: indexmap::IndexMap<String, Value> = serde_json::from_slice(&line.to_bytes()).unwrap();
    let mut columns = vec![];
    for (key, v) in &object {
        let ty = match v {
            Value::Number(n) if n.is_u64() || n.is_i64() => "int".to_string(),
            Value::Number(_) => "double".to_string(),
            Value::String(_) => "string".to_string(),
            Value::Array(items) => {
                assert!(items.iter().all(Value::is_string), "{key}");
                "array<string>".to_string()
            }
            Value::Object(map) if map.values().all(Value::is_number) => "map<string,double>".to_string(),
            Value::Object(map) if map.values().all(Value::is_string) => "map<string,string>".to_string(),
            other => panic!("{key}: a column type for {other}"),
        };
        columns.push((key.clone(), ty));
    }
    columns
}

fn read_doc(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn the_athena_table_declares_every_index_column_as_the_code_writes_it() {
    let ddl = read_doc("docs/queries/athena/perfcert_index.sql");
    let body = ddl.split_once("CREATE EXTERNAL TABLE IF NOT EXISTS perfcert_index (").expect("the CREATE TABLE").1;
    let (columns, rest) = body.split_once("\n)\nPARTITIONED BY (").expect("the column list, then PARTITIONED BY (");
    let (partitions, rest) = rest.split_once("\n)\n").expect("the partition list");
    // The line's own `service` is the partition column's name: not declared as a column.
    let expected: Vec<(String, String)> = line_columns().into_iter().filter(|(k, _)| k != "service").collect();
    assert_eq!(athena_columns(columns), expected, "the DDL's columns are index::Line's, in order");
    assert_eq!(
        athena_columns(partitions),
        [("dt".to_string(), "string".to_string()), ("service".to_string(), "string".to_string())]
    );
    for property in [
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'",
        "LOCATION 's3://BUCKET/PREFIX/index/'",
        "'projection.enabled' = 'true'",
        "'projection.dt.type' = 'date'",
        "'projection.dt.format' = 'yyyy-MM-dd'",
        "'projection.dt.range' = ",
        "'projection.service.type' = 'injected'",
        "'storage.location.template' = 's3://BUCKET/PREFIX/index/dt=${dt}/service=${service}/'",
    ] {
        assert!(rest.contains(property), "the DDL says {property}");
    }
    // The template is where the layout puts lines.
    let name = perfcert::store::Names::new("20261122", "my_svc_x-v1").index_line("my svc/x");
    assert_eq!(name, "index/dt=2026-11-22/service=my_svc_x/my_svc_x-v1.json");

    // The DuckDB view declares the same columns, with DuckDB's names for the types.
    let view = read_doc("docs/queries/duckdb/perfcert_index.sql");
    let list = view.split_once("columns = {").expect("columns = {").1.split_once('}').unwrap().0;
    let duck: Vec<(String, String)> = list
        .lines()
        .map(|l| l.trim().trim_end_matches(','))
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap_or_else(|| panic!("expected 'name': 'TYPE': {l}"));
            (k.trim_matches('\'').to_string(), v.trim_matches('\'').to_string())
        })
        .collect();
    let duck_type = |athena: &str| match athena {
        "int" => "INTEGER",
        "string" => "VARCHAR",
        "double" => "DOUBLE",
        "map<string,double>" => "MAP(VARCHAR, DOUBLE)",
        "map<string,string>" => "MAP(VARCHAR, VARCHAR)",
        "array<string>" => "VARCHAR[]",
        other => panic!("no DuckDB type for {other}"),
    };
    let expected_duck: Vec<(String, String)> =
        expected.iter().map(|(k, t)| (k.clone(), duck_type(t).to_string())).collect();
    assert_eq!(duck, expected_duck, "the DuckDB view's columns are index::Line's, in order");
}

#[test]
fn the_guide_shows_the_very_sql_the_tests_run() {
    let guide = read_doc("docs/archive-queries.md");
    for engine in ["athena", "duckdb"] {
        for file in ["perfcert_index.sql", "last-releases.sql", "pass-fail-by-metric.sql", "cost-trend.sql"] {
            let sql = read_doc(&format!("docs/queries/{engine}/{file}"));
            assert!(
                guide.contains(&format!("```sql\n{sql}```")),
                "docs/archive-queries.md shows docs/queries/{engine}/{file} as it is"
            );
        }
    }
}
