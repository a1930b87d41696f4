//! The S3 archive against a real S3-compatible server: moto (pinned, installed by
//! scripts/test.sh) started on 127.0.0.1 by these tests, with a fault-injecting proxy in front
//! (tests/interop/s3_server.py). perfcert talks to it through the real aws-sdk-s3 client; the
//! tests inspect what landed with the SDK directly.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use common::{command, fixture, policy, root, text, workdir_with_keys};

const SECRET: &str = "test-secret-key-that-must-never-be-printed";

/// The S3 test server (moto), installed by scripts/test.sh.
fn tools() -> PathBuf {
    common::tools(&["venv/bin/moto_server"])
}

/// moto on a free loopback port and the fault proxy in front of it, until dropped.
struct Server {
    child: Child,
    /// moto itself.
    direct: String,
    /// Through the fault proxy.
    proxy: String,
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(tools().join("venv/bin/python"))
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
        let (direct, proxy) = (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", SECRET, None, None, "tests"))
            .endpoint_url(&direct)
            .force_path_style(true)
            .build();
        Server { child, direct, proxy, runtime, client: Client::from_conf(config) }
    }

    /// A bucket with Object Lock (hence versioning: every write is counted).
    fn bucket(&self, name: &str) {
        self.runtime
            .block_on(self.client.create_bucket().bucket(name).object_lock_enabled_for_bucket(true).send())
            .unwrap();
    }

    fn keys(&self, bucket: &str) -> Vec<String> {
        let out = self.runtime.block_on(self.client.list_object_versions().bucket(bucket).send()).unwrap();
        let mut keys: Vec<String> = out.versions().iter().map(|v| v.key().unwrap().to_string()).collect();
        keys.sort();
        keys
    }

    fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        self.runtime.block_on(async {
            let out = self.client.get_object().bucket(bucket).key(key).send().await.unwrap();
            out.body.collect().await.unwrap().to_vec()
        })
    }

    fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        self.runtime
            .block_on(self.client.put_object().bucket(bucket).key(key).body(bytes.to_vec().into()).send())
            .unwrap();
    }

    fn head(&self, bucket: &str, key: &str) -> aws_sdk_s3::operation::head_object::HeadObjectOutput {
        self.runtime.block_on(self.client.head_object().bucket(bucket).key(key).send()).unwrap()
    }

    /// Tells the proxy to break the next `count` requests of `method` (`-1`: all of them).
    fn fault(&self, mode: &str, count: i32, method: &str) -> serde_json::Value {
        http(&self.proxy, "POST", &format!("/__fault?mode={mode}&count={count}&method={method}"))
    }

    fn seen(&self) -> serde_json::Value {
        http(&self.proxy, "GET", "/__fault")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny HTTP/1.1 client for the proxy's control endpoint.
fn http(base: &str, method: &str, path: &str) -> serde_json::Value {
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap()
}

fn perfcert(dir: &Path, args: &[&str]) -> Output {
    perfcert_env(dir, args, &[])
}

fn perfcert_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
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
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied());
    let out = cmd.output().unwrap();
    assert!(!text(&out).contains(SECRET), "the secret key was printed: {}", text(&out));
    out
}

/// certify --key with fixtures/perf004 and these extra flags; the JSON it printed.
fn certify(dir: &Path, version: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let mut args = vec!["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &p];
    args.extend(["--version", version, "--format", "json"]);
    args.extend(extra);
    let out = perfcert(dir, &args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out, v)
}

/// A server with an Object Lock bucket `perf-certs`, and a working directory with a key pair.
fn setup() -> (Server, tempfile::TempDir) {
    let s3 = Server::start();
    s3.bucket("perf-certs");
    (s3, workdir_with_keys())
}

fn today() -> String {
    jiff::Timestamp::now().strftime("%Y%m%d").to_string()
}

#[test]
fn certify_uploads_with_metadata_encryption_and_lock_and_verify_reads_it_back() {
    let (s3, dir) = setup();
    let d = dir.path();
    let (out, v) = certify(
        d,
        "v1.0.0",
        &[
            "--upload",
            "s3://perf-certs/team-a/",
            "--endpoint-url",
            &s3.direct,
            "--sse",
            "aws:kms",
            "--sse-kms-key-id",
            "alias/perf-certs",
            "--retain-days",
            "730",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let day = today();
    let cert_key = format!("team-a/{day}/ingest-api-v1.0.0.cert.json");
    let bundle_key = format!("team-a/{day}/ingest-api-v1.0.0.sigstore.json");
    assert_eq!(
        v["uploaded"],
        serde_json::json!([format!("s3://perf-certs/{bundle_key}"), format!("s3://perf-certs/{cert_key}")])
    );
    let claim_key = "team-a/claims/ingest-api-v1.0.0.json".to_string();
    let dt = format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]);
    let index_key = format!("team-a/index/dt={dt}/service=ingest-api/ingest-api-v1.0.0.json");
    assert_eq!(
        s3.keys("perf-certs"),
        vec![cert_key.clone(), bundle_key.clone(), claim_key.clone(), index_key],
        "one copy of each, and the index line (tests/index.rs checks its bytes)"
    );
    let claim: serde_json::Value = serde_json::from_slice(&s3.get("perf-certs", &claim_key)).unwrap();
    assert_eq!(claim["certificate"], format!("{day}/ingest-api-v1.0.0.cert.json"), "the claim names its certificate");

    for (key, local) in [(&cert_key, &v["certificate"]), (&bundle_key, &v["bundle"])] {
        let local = std::fs::read(d.join(local.as_str().unwrap())).unwrap();
        assert_eq!(s3.get("perf-certs", key), local, "{key}: the same bytes as the local archive");
        let head = s3.head("perf-certs", key);
        assert_eq!(head.content_type(), Some("application/json"));
        assert_eq!(head.metadata().unwrap()["sha256"], perfcert::signing::sha256_hex(&local));
        assert_eq!(head.server_side_encryption().map(|s| s.as_str()), Some("aws:kms"));
        assert_eq!(head.ssekms_key_id(), Some("alias/perf-certs"));
        assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("GOVERNANCE"));
        let until = head.object_lock_retain_until_date().unwrap().secs();
        let expected = jiff::Timestamp::now().as_second() + 730 * 86_400;
        assert!((until - expected).abs() < 120, "retain until {until}, expected about {expected}");
    }

    // AES256 and COMPLIANCE.
    let (out, _) = certify(
        d,
        "v1.0.1",
        &[
            "--upload",
            "s3://perf-certs/team-a",
            "--endpoint-url",
            &s3.direct,
            "--sse",
            "AES256",
            "--retain-days",
            "1",
            "--retention-mode",
            "COMPLIANCE",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let head = s3.head("perf-certs", &format!("team-a/{day}/ingest-api-v1.0.1.cert.json"));
    assert_eq!(head.server_side_encryption().map(|s| s.as_str()), Some("AES256"));
    assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("COMPLIANCE"));

    // Verified from S3: the bundle is found beside the certificate.
    let url = format!("s3://perf-certs/{cert_key}");
    let ok = perfcert(d, &["verify", &url, "--key", "cosign.pub", "--endpoint-url", &s3.direct]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains(&format!("bundle       s3://perf-certs/{bundle_key}")), "{}", text(&ok));
    // AWS_ENDPOINT_URL works as the flag does; a missing object is an input error naming it.
    let ok = perfcert_env(d, &["verify", &url, "--key", "cosign.pub"], &[("AWS_ENDPOINT_URL", &s3.direct)]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let missing = format!("s3://perf-certs/team-a/{day}/nope.cert.json");
    let out = perfcert(d, &["verify", &missing, "--key", "cosign.pub", "--endpoint-url", &s3.direct]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&format!("{missing}: not found")), "{}", text(&out));
    // A tampered object in S3 is caught like a tampered file.
    let mut doc = s3.get("perf-certs", &cert_key);
    let at = doc.windows(5).position(|w| w == b"\"PASS").unwrap();
    doc[at + 1..at + 5].copy_from_slice(b"FAIL");
    s3.put("perf-certs", "other/x.cert.json", &doc);
    s3.put("perf-certs", "other/x.sigstore.json", &s3.get("perf-certs", &bundle_key));
    let out = perfcert(
        d,
        &["verify", "s3://perf-certs/other/x.cert.json", "--key", "cosign.pub", "--endpoint-url", &s3.direct],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
}

#[test]
fn a_taken_name_is_refused_before_signing_and_uploads_are_idempotent() {
    let (s3, dir) = setup();
    let d = dir.path();
    let day = today();
    // Someone else's object under today's name, and a certificate of another version under an
    // earlier day (an archive written before claims existed): both names are taken.
    let taken = format!("{day}/ingest-api-v2.0.0.cert.json");
    s3.put("perf-certs", &taken, b"someone else's certificate");
    s3.put("perf-certs", "20250101/ingest-api-v2.1.0.cert.json", b"an old certificate");
    for (version, held) in [("v2.0.0", taken.clone()), ("v2.1.0", "20250101/ingest-api-v2.1.0.cert.json".into())] {
        let (out, _) = certify(d, version, &["--upload", "s3://perf-certs", "--endpoint-url", &s3.direct]);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        let said = text(&out);
        assert!(said.contains(&format!("is already certified in s3://perf-certs (s3://perf-certs/{held})")), "{said}");
        assert!(!said.contains("perfcert upload"), "a taken name is not worth retrying: {said}");
        assert!(!d.join(format!("perf/certificates/{day}/ingest-api-{version}.cert.json")).exists(), "nothing signed");
    }
    assert_eq!(s3.get("perf-certs", &taken), b"someone else's certificate");
    assert_eq!(s3.keys("perf-certs").len(), 2, "no object of these runs beside the others");
    // --force moves on to a name free in both archives.
    let (out, v) = certify(d, "v2.0.0", &["--upload", "s3://perf-certs", "--endpoint-url", &s3.direct, "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(v["certificate"].as_str().unwrap().ends_with("ingest-api-v2.0.0.2.cert.json"), "{v}");
    assert!(s3.keys("perf-certs").contains(&format!("{day}/ingest-api-v2.0.0.2.cert.json")));

    // A certificate archived without --upload goes up later, to another prefix; a second upload
    // finds the same bytes and succeeds; another certificate under that name is refused.
    let (out, v) = certify(d, "v2.2.0", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let local = d.join(v["certificate"].as_str().unwrap()).display().to_string();
    for expect in ["uploaded     s3://perf-certs/later/", "already in S3 s3://perf-certs/later/"] {
        let out = perfcert(d, &["upload", &local, "--to", "s3://perf-certs/later", "--endpoint-url", &s3.direct]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains(expect), "{}", text(&out));
    }
    let later: Vec<String> = s3.keys("perf-certs").into_iter().filter(|k| k.starts_with("later/")).collect();
    assert_eq!(later.len(), 4, "one version of each, the claim and the index line: {later:?}");
    let claim = "later/claims/ingest-api-v2.2.0.json";
    let foreign = String::from_utf8(s3.get("perf-certs", claim)).unwrap().replace("\"sha256\":\"", "\"sha256\":\"0");
    s3.put("perf-certs", "again/claims/ingest-api-v2.2.0.json", foreign.as_bytes());
    let out = perfcert(d, &["upload", &local, "--to", "s3://perf-certs/again", "--endpoint-url", &s3.direct]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("is taken in s3://perf-certs/again by another certificate"), "{}", text(&out));
    assert_eq!(s3.keys("perf-certs").iter().filter(|k| k.starts_with("again/")).count(), 1, "nothing put beside it");
}

#[test]
fn faults_end_in_exactly_one_copy_or_exit_3() {
    let (s3, dir) = setup();
    let d = dir.path();
    let day = today();
    for (n, (mode, count, method)) in
        [("503", 2, "PUT"), ("500", 2, "PUT"), ("reset", 2, "PUT"), ("reset_after", 1, "PUT"), ("409", 1, "PUT")]
            .into_iter()
            .enumerate()
    {
        let version = format!("v3.{n}.0");
        s3.fault(mode, count, method);
        let (out, _) = certify(d, &version, &["--upload", "s3://perf-certs/faults", "--endpoint-url", &s3.proxy]);
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", text(&out));
        let seen = s3.seen();
        assert_eq!(seen["broken"], count, "{mode}: {seen}");
        for key in [
            format!("faults/{day}/ingest-api-{version}.cert.json"),
            format!("faults/{day}/ingest-api-{version}.sigstore.json"),
            format!("faults/claims/ingest-api-{version}.json"),
        ] {
            let copies = s3.keys("perf-certs").iter().filter(|k| **k == key).count();
            assert_eq!(copies, 1, "{mode}: exactly one stored copy of {key}");
        }
    }
    // Every attempt fails: bounded retries, then exit 3 with operation, object, status, code and message.
    s3.fault("503", -1, "PUT");
    let flags = ["--sse", "aws:kms", "--sse-kms-key-id", "alias/my key", "--retain-days", "30"];
    let args = [&["--upload", "s3://perf-certs/faults", "--endpoint-url", &s3.proxy][..], &flags[..]].concat();
    let (out, _) = certify(d, "v4.0.0", &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let key = "s3://perf-certs/faults/claims/ingest-api-v4.0.0.json";
    assert!(
        text(&out).contains(&format!("PutObject {key}: HTTP 503: SlowDown: Please reduce your request rate.")),
        "{}",
        text(&out)
    );
    // The advice repeats every S3 option: a pasted command must not upload unencrypted or unlocked.
    let local = format!("perf/certificates/{day}/ingest-api-v4.0.0.cert.json");
    let advice = format!(
        "perfcert upload {local} --to s3://perf-certs/faults --endpoint-url {} --sse aws:kms \
         --sse-kms-key-id 'alias/my key' --retain-days 30 --retention-mode GOVERNANCE",
        s3.proxy
    );
    assert!(text(&out).contains(&advice), "{}", text(&out));
    assert_eq!(s3.seen()["broken"], 3, "three attempts, then it gives up");
    assert!(!s3.keys("perf-certs").iter().any(|k| k.contains("v4.0.0")));
    // The advice, run as printed once S3 is back, finishes the job with those options.
    s3.fault("none", 0, "PUT");
    let mut upload = vec!["upload", &local, "--to", "s3://perf-certs/faults", "--endpoint-url", &s3.proxy];
    upload.extend(flags);
    upload.extend(["--retention-mode", "GOVERNANCE"]);
    let out = perfcert(d, &upload);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let head = s3.head("perf-certs", &format!("faults/{day}/ingest-api-v4.0.0.cert.json"));
    assert_eq!(head.ssekms_key_id(), Some("alias/my key"));
    assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("GOVERNANCE"));
}

#[test]
fn s3_usage_errors_and_an_unreachable_endpoint() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let (out, _) = certify(d, "v5", &["--sse", "AES256"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("need --upload"), "{}", text(&out));
    let (out, _) = certify(d, "v5", &["--upload", "perf-certs/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("expected s3://BUCKET[/PREFIX]"), "{}", text(&out));
    let (out, _) = certify(d, "v5", &["--upload", "s3://b/x", "--sse", "AES256", "--sse-kms-key-id", "k"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("perf").exists(), "usage errors come before any work");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    // Checked before anything is signed: no certificate without the upload it was asked for.
    let (out, _) = certify(d, "v5", &["--upload", "s3://perf-certs", "--endpoint-url", &closed]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains(&format!("s3://perf-certs (at {closed}): cannot reach S3")), "{}", text(&out));
    assert!(text(&out).contains("Connection refused"), "{}", text(&out));
    assert!(!d.join("perf").exists(), "nothing is signed or archived");

    // No credentials anywhere in the chain: a sentence, before any work.
    let none = [("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", ""), ("HOME", d.to_str().unwrap())];
    let f = |n: &str| root().join("fixtures/perf004").join(n).display().to_string();
    let (b, c) = (f("baseline.json"), f("current.json"));
    let t = root().join("perf_thresholds.yml").display().to_string();
    let args = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &t];
    let args = [&args[..], &["--version", "v5", "--upload", "s3://perf-certs", "--endpoint-url", &closed]].concat();
    let out = perfcert_env(d, &args, &none);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("no AWS credentials found: set AWS_PROFILE"), "{}", text(&out));
    assert!(!d.join("perf").exists(), "nothing is signed or archived");
}

#[test]
fn list_reads_local_and_s3_archives_with_filters_and_paging_past_1000() {
    let (s3, dir) = setup();
    let d = dir.path();
    let day = today();
    for version in ["v6.0.0", "v6.1.0"] {
        let (out, _) = certify(d, version, &["--upload", "s3://perf-certs/team", "--endpoint-url", &s3.direct]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    // Local archive: a table, and JSON.
    let out = perfcert(d, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("DATE") && lines[0].contains("SIGNER"), "{table}");
    assert!(lines[1].contains("ingest-api") && lines[1].contains("v6.0.0") && lines[1].contains("PASS"), "{table}");
    assert!(lines[1].contains("cosign-key") && lines[1].ends_with("ingest-api-v6.0.0.cert.json"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");

    // S3 with more than one page (1000 keys per page): 1,100 copies under one day.
    let cert = s3.get("perf-certs", &format!("team/{day}/ingest-api-v6.0.0.cert.json"));
    let other = String::from_utf8(cert.clone()).unwrap().replace("\"ingest-api\"", "\"checkout-api\"");
    for i in 0..1100 {
        s3.put("perf-certs", &format!("big/20250101/copy-{i:04}.cert.json"), other.as_bytes());
    }
    s3.put("perf-certs", "big/20250101/copy-9999.sigstore.json", b"{}");
    s3.put("perf-certs", "big/20250101/broken.cert.json", b"not json");
    s3.put("perf-certs", &format!("big/{day}/ingest-api-v6.0.0.cert.json"), &cert);
    let json = |args: &[&str]| {
        let mut all = vec!["list"];
        all.extend(args);
        all.extend(["--format", "json", "--endpoint-url", &s3.direct]);
        let out = perfcert(d, &all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        (serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap(), text(&out))
    };
    let (rows, said) = json(&["s3://perf-certs/big"]);
    assert_eq!(rows.len(), 1101, "every certificate, across pages");
    assert!(said.contains("warning: s3://perf-certs/big/20250101/broken.cert.json: skipped"), "{said}");
    assert_eq!(rows[0]["certificate"], "s3://perf-certs/big/20250101/copy-0000.cert.json", "sorted by day, then name");
    assert_eq!(rows[1100]["service"], "ingest-api");
    let (rows, _) = json(&["s3://perf-certs/big", "--service", "ingest-api"]);
    assert_eq!(rows.len(), 1);
    let since = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let (rows, _) = json(&["s3://perf-certs/big", "--since", &since]);
    assert_eq!(rows.len(), 1, "only today's");
    let (rows, _) = json(&["s3://perf-certs/team"]);
    let versions: Vec<&str> = rows.iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["v6.0.0", "v6.1.0"]);
    assert_eq!(rows[0]["status"], "PASS");
    assert_eq!(rows[0]["signer"], "cosign-key");
}

/// moto checks neither checksums nor signatures: what perfcert sends is checked at the request
/// level instead, as the proxy received it.
#[test]
fn uploads_carry_a_checksum_a_signature_and_the_create_only_condition() {
    let (s3, dir) = setup();
    let d = dir.path();
    s3.fault("none", 0, "PUT");
    let (out, _) = certify(d, "v7.0.0", &["--upload", "s3://perf-certs/req", "--endpoint-url", &s3.proxy]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let seen = s3.seen();
    let puts = seen["puts"].as_array().unwrap();
    assert_eq!(puts.len(), 4, "the claim, the bundle, the certificate, the index line: {seen}");
    for put in puts {
        let h = &put["headers"];
        assert_eq!(h["x-amz-checksum-sha256"], put["body_sha256"], "the checksum is the body's: {put}");
        assert_eq!(h["x-amz-sdk-checksum-algorithm"], "SHA256", "{put}");
        assert_eq!(h["if-none-match"], "*", "{put}");
        assert_eq!(h["content-type"], "application/json", "{put}");
        let sha_hex = h["x-amz-meta-sha256"].as_str().unwrap();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD
            .encode((0..32).map(|i| u8::from_str_radix(&sha_hex[2 * i..2 * i + 2], 16).unwrap()).collect::<Vec<u8>>());
        assert_eq!(b64, put["body_sha256"].as_str().unwrap(), "the metadata digest is the body's too");
        let auth = h["authorization"].as_str().unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=test/"), "SigV4 with the chain's key: {auth}");
        assert!(auth.contains("/us-east-1/s3/aws4_request"), "{auth}");
        assert!(!seen.to_string().contains(SECRET), "the secret never goes on the wire");
    }
}

/// `--noise-from s3://...` reads the service's earlier certificates from S3 (endpoint from
/// AWS_ENDPOINT_URL), as from a directory.
#[test]
fn baseline_promote_reads_a_certificate_from_s3() {
    let (s3, dir) = setup();
    let d = dir.path();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let certify = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &p];
    let upload = ["--upload", "s3://perf-certs/promo", "--endpoint-url", &s3.direct];
    let out = perfcert(d, &[&certify[..], &upload[..]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let url = format!("s3://perf-certs/promo/{}/ingest-api-v1.4.2.cert.json", today());
    let promote = ["baseline", "promote", &url, "--key", "cosign.pub", "--endpoint-url", &s3.direct];
    let out = perfcert(d, &[&promote[..], &["--output", "from-s3.json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("bundle       {}", url.replace(".cert.json", ".sigstore.json"))),
        "{}",
        text(&out)
    );
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("from-s3.json")).unwrap()).unwrap();
    assert_eq!(baseline["provenance"]["from"], url.as_str());
    assert_eq!(baseline["provenance"]["certificate"], "ingest-api-v1.4.2.cert.json");
    // A missing object is an input error naming it, and nothing is written.
    let missing = url.replace("v1.4.2", "v9");
    let out = perfcert(d, &["baseline", "promote", &missing, "--key", "cosign.pub", "--endpoint-url", &s3.direct]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&format!("{missing}: not found")), "{}", text(&out));
    assert!(!d.join("perf_baseline.json").exists());
}

#[test]
fn noise_from_reads_an_s3_archive() {
    let (s3, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("policy.yml"),
        "decision:\n  method: statistical\nmetrics:\n  latency_p95_read:\n    max_increase: 10%\n",
    )
    .unwrap();
    let runs = |name: &str, version: &str, values: &[f64]| {
        let runs: Vec<serde_json::Value> =
            values.iter().map(|v| serde_json::json!({ "metrics": { "latency_p95_read": v } })).collect();
        let doc = serde_json::json!({ "service": "api", "version": version, "runs": runs });
        std::fs::write(d.join(name), doc.to_string()).unwrap();
    };
    for (version, level) in [("v1", 200.0), ("v2", 260.0), ("v3", 240.0), ("v4", 300.0)] {
        runs("b.json", version, &[level, level * 1.01, level * 0.99]);
        runs("c.json", version, &[level * 1.005, level * 0.995, level]);
        let out = perfcert(
            d,
            &["certify", "--key", "cosign.key", "--baseline", "b.json", "--current", "c.json", "--thresholds"]
                .into_iter()
                .chain(["policy.yml", "--upload", "s3://perf-certs/hist", "--endpoint-url", &s3.direct])
                .collect::<Vec<_>>(),
        );
        assert!(matches!(out.status.code(), Some(0 | 5)), "{}", text(&out));
    }
    runs("b.json", "v4", &[300.0, 303.0, 297.0]);
    runs("c.json", "v5", &[309.0, 318.0]);
    let compare =
        ["compare", "--format", "json", "--baseline", "b.json", "--current", "c.json", "--thresholds", "policy.yml"];
    let with = compare.iter().copied().chain(["--noise-from", "s3://perf-certs/hist"]).collect::<Vec<_>>();
    let out = perfcert_env(d, &with, &[("AWS_ENDPOINT_URL", &s3.direct)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["decision"]["history"]["certificates"].as_array().unwrap().len(),
        4,
        "{}",
        doc["decision"]["history"]
    );
    let first = doc["decision"]["history"]["certificates"][0]["name"].as_str().unwrap();
    assert_eq!(first, format!("{}/api-v1.cert.json", today()));
    assert_eq!(doc["metrics"][0]["method"], "pooled-history-t");
    let out = perfcert(d, &compare);
    assert_eq!(out.status.code(), Some(5), "without history: {}", text(&out));
}

#[test]
fn a_look_counts_the_certificates_in_s3_too() {
    let (s3, dir) = setup();
    let d = dir.path();
    let day = today();
    // An INCONCLUSIVE first look, certified on another machine and uploaded: this machine's
    // archive is empty, yet this certify is look 2 and needs no --force.
    s3.put("perf-certs", &format!("{day}/api-v3.cert.json"), br#"{"schema": 2, "status": "INCONCLUSIVE"}"#);
    let decision = root().join("fixtures/decision");
    let file = |name: String| decision.join(name).display().to_string();
    let mut args: Vec<String> = ["certify", "--key", "cosign.key", "--service", "api", "--version", "v3"]
        .into_iter()
        .map(String::from)
        .collect();
    args.extend(["--thresholds".into(), file("policy.yml".into())]);
    for i in 1..=3 {
        args.extend(["--baseline".into(), file(format!("baseline-{i}.json"))]);
        args.extend(["--current".into(), file(format!("pass-{i}.json"))]);
    }
    args.extend(["--upload", "s3://perf-certs", "--endpoint-url", &s3.direct].map(String::from));
    let out = perfcert(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("look 2 of 3"), "{}", text(&out));
    let cert: serde_json::Value =
        serde_json::from_slice(&s3.get("perf-certs", &format!("{day}/api-v3.2.cert.json"))).unwrap();
    assert_eq!(cert["decision"]["look"], 2);
}

/// `--reference-from s3://...` finds the newest PASS certificate of the service through the
/// archive's index in S3, as in a directory, and certify records its S3 name and sha256.
#[test]
fn reference_from_reads_an_s3_archive() {
    let (s3, dir) = setup();
    let d = dir.path();
    let one = |name: &str, version: &str, latency: f64| {
        let doc =
            serde_json::json!({ "service": "api", "version": version, "metrics": { "latency_p95_read": latency } });
        std::fs::write(d.join(name), doc.to_string()).unwrap();
    };
    std::fs::write(d.join("plain.yml"), "metrics:\n  latency_p95_read: { max_increase: 5% }\n").unwrap();
    std::fs::write(
        d.join("drift.yml"),
        "metrics:\n  latency_p95_read: { max_increase: 5%, max_total_increase: 10% }\n",
    )
    .unwrap();
    one("v1.json", "v1", 100.0);
    let upload = ["--upload", "s3://perf-certs/drift", "--endpoint-url", &s3.direct];
    let mut first = vec!["certify", "--key", "cosign.key", "--baseline", "v1.json", "--current", "v1.json"];
    first.extend(["--thresholds", "plain.yml"]);
    first.extend(upload);
    let out = perfcert(d, &first);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    one("v2.json", "v2", 104.0);
    one("v3.json", "v3", 108.0);
    let args = ["--baseline", "v2.json", "--current", "v3.json", "--thresholds", "drift.yml"];
    let with: Vec<&str> = ["compare", "--format", "json"]
        .into_iter()
        .chain(args)
        .chain(["--reference-from", "s3://perf-certs/drift"])
        .collect();
    let out = perfcert_env(d, &with, &[("AWS_ENDPOINT_URL", &s3.direct)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["inputs"]["reference"]["file"],
        format!("s3://perf-certs/drift/{}/api-v1.cert.json", today()),
        "{}",
        doc["inputs"]
    );
    assert_eq!(doc["metrics"][0]["reference"]["value"], 100.0);
    assert_eq!(doc["metrics"][0]["checks"][1]["reason"], "+8% <= +10% since the reference (100 ms)");
    // v3 is +12% on v1 with v2's baseline moved up: FAIL against the reference.
    one("v3.json", "v3", 112.0);
    let out = perfcert_env(d, &with, &[("AWS_ENDPOINT_URL", &s3.direct)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// `perfcert bake --upload`: the signed record and its bundle land in S3 under the local names
/// (`PREFIX/daily/YYYYMMDD/STEM.verify.json`), create-only; a later bake takes the first name
/// free in both archives, and a bucket that cannot be reached fails before the first poll.
#[test]
fn bake_upload_archives_the_record_create_only_under_its_local_names() {
    let d = common::bake::data();
    let Some(prom) = common::prom::Prometheus::start(&d.openmetrics) else { return };
    let s3 = Server::start();
    s3.bucket("records");
    let dir = workdir_with_keys();
    let p = dir.path();
    common::bake::setup(p, &prom.url);
    let bake = |bucket: &str| {
        let mut args = common::bake::args(&d, "steady", "4m");
        args.extend(["--key", "cosign.key", "--upload", bucket, "--endpoint-url", &s3.direct].map(String::from));
        perfcert(p, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = bake("s3://records/perf");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let day = common::bake::day(p);
    let key = |stem: &str, ext: &str| format!("perf/daily/{day}/{stem}.{ext}");
    let local = |stem: &str, ext: &str| std::fs::read(p.join(format!("archive/daily/{day}/{stem}.{ext}"))).unwrap();
    let first = [key("steady-v1.4.2", "verify.json"), key("steady-v1.4.2", "verify.sigstore.json")];
    assert_eq!(s3.keys("records"), first, "one write each");
    assert_eq!(s3.get("records", &first[0]), local("steady-v1.4.2", "verify.json"));
    common::bake::check_schema(&serde_json::from_slice(&s3.get("records", &first[0])).unwrap());
    assert_eq!(s3.get("records", &first[1]), local("steady-v1.4.2", "verify.sigstore.json"));
    assert!(text(&out).contains(&format!("s3://records/{}", first[0])), "{}", text(&out));

    // Someone else's record holds STEM.2 in S3 only: the next bake is STEM.3 in both archives,
    // and nothing that was there is written again.
    s3.put("records", &key("steady-v1.4.2.2", "verify.json"), b"{}");
    let out = bake("s3://records/perf");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!p.join(format!("archive/daily/{day}/steady-v1.4.2.2.verify.json")).exists());
    assert_eq!(s3.get("records", &key("steady-v1.4.2.3", "verify.json")), local("steady-v1.4.2.3", "verify.json"));
    let mut want = vec![
        first[0].clone(),
        first[1].clone(),
        key("steady-v1.4.2.2", "verify.json"),
        key("steady-v1.4.2.3", "verify.json"),
        key("steady-v1.4.2.3", "verify.sigstore.json"),
    ];
    want.sort();
    assert_eq!(s3.keys("records"), want);

    // A bucket that does not exist: exit 3 before any poll, nothing archived.
    let out = bake("s3://no-such-bucket");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("--upload s3://no-such-bucket") && !text(&out).contains("poll "), "{}", text(&out));
    assert!(!p.join(format!("archive/daily/{day}/steady-v1.4.2.4.verify.json")).exists());
    assert!(!text(&out).contains(SECRET));
}

#[test]
fn approvals_are_stored_beside_a_certificate_in_s3_and_the_gate_reads_them() {
    let (s3, dir) = setup();
    let d = dir.path();
    let out = perfcert(d, &["keygen", "--output-key-prefix", "sre"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::write(
        d.join("approvals.yml"),
        "roles:\n  qa-lead: { keys: [cosign.pub] }\n  sre-lead: { keys: [sre.pub] }\nrequired: [qa-lead, sre-lead]\n",
    )
    .unwrap();
    let (out, _) = certify(d, "v7", &["--upload", "s3://perf-certs/gov", "--endpoint-url", &s3.direct]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let named = ["--archive", "s3://perf-certs/gov", "--service", "ingest-api", "--version", "v7"];
    let endpoint = ["--endpoint-url", s3.direct.as_str()];
    let gate = || {
        perfcert(
            d,
            &[&["verify", "--key", "cosign.pub", "--approvals", "approvals.yml"][..], &named, &endpoint].concat(),
        )
    };
    let out = gate();
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));

    // By name in the archive, and by the certificate's s3:// URL: both land beside it.
    let approve = ["approve", "--certificate-key", "cosign.pub", "--role", "qa-lead", "--key", "cosign.key"];
    let out = perfcert(d, &[&approve[..], &named, &endpoint].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let url = format!("s3://perf-certs/gov/{}/ingest-api-v7.cert.json", today());
    let approve = ["approve", &url, "--certificate-key", "cosign.pub", "--role", "sre-lead", "--key", "sre.key"];
    let out = perfcert(d, &[&approve[..], &endpoint].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stored = url.replace(".cert.json", ".approval.sre-lead.1.sigstore.json");
    assert!(text(&out).contains(&stored), "{}", text(&out));
    let out = gate();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("qa-lead: approved by key cosign.pub"), "{}", text(&out));
    let out = perfcert(
        d,
        &["verify", &url, "--key", "cosign.pub", "--approvals", "approvals.yml", "--endpoint-url", &s3.direct],
    );
    assert_eq!(out.status.code(), Some(0), "the same through the URL: {}", text(&out));
}

/// Issue 17 review: an approval of a certificate in S3 is written with the S3 write flags
/// certify takes (encryption, Object Lock), listed by its `DAY/STEM.approval.` prefix, and the
/// flags are refused for a local certificate.
#[test]
fn approve_in_s3_writes_with_encryption_and_object_lock() {
    let (s3, dir) = setup();
    let d = dir.path();
    let (out, _) = certify(d, "v1.0.0", &["--upload", "s3://perf-certs/team-a/", "--endpoint-url", &s3.direct]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let day = today();
    let url = format!("s3://perf-certs/team-a/{day}/ingest-api-v1.0.0.cert.json");
    std::fs::write(d.join("approvals.yml"), "roles:\n  qa-lead: { keys: [cosign.pub] }\nrequired: [qa-lead]\n")
        .unwrap();
    let approve = |cert: &str, extra: &[&str]| {
        let mut args = vec!["approve", cert, "--certificate-key", "cosign.pub", "--role", "qa-lead", "--key"];
        args.extend(["cosign.key", "--approvals", "approvals.yml", "--endpoint-url", &s3.direct]);
        args.extend(extra);
        perfcert(d, &args)
    };
    let out = approve(&url, &["--sse", "AES256", "--retain-days", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let key = format!("team-a/{day}/ingest-api-v1.0.0.approval.qa-lead.1.sigstore.json");
    let head = s3.head("perf-certs", &key);
    assert_eq!(head.server_side_encryption().map(|s| s.as_str()), Some("AES256"));
    assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("GOVERNANCE"));
    let gate = ["verify", &url, "--key", "cosign.pub", "--approvals", "approvals.yml", "--endpoint-url", &s3.direct];
    let out = perfcert(d, &gate);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("promotion: APPROVED (qa-lead)"), "{}", text(&out));

    // A local certificate: the S3 write flags have nothing to apply to.
    let local = std::fs::read_dir(d.join("perf/certificates").join(&day))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".cert.json"))
        .unwrap();
    let out = approve(&local.display().to_string(), &["--sse", "AES256"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--sse-kms-key-id and --retain-days are for a certificate in S3"), "{}", text(&out));
}
