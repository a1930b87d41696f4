//! certify / verify / keygen end to end through the binary, and the bundles checked by
//! independent verifiers: npm `@sigstore/verify` and Python `cryptography` (installed pinned
//! by scripts/test.sh under target/test-tools).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{PASSWORD, command, fixture, perfcert, policy, root, text, workdir, workdir_with_keys};

/// Certifies fixtures/perf004 CURRENT against the baseline; returns the output and the paths.
fn certify(dir: &Path, current: &str, extra: &[&str]) -> (Output, PathBuf, PathBuf) {
    let (b, c, p) = (fixture("baseline.json"), fixture(current), policy());
    let mut args = vec!["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &p];
    args.extend(["--format", "json"]);
    args.extend(extra);
    let out = perfcert(dir, &args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let path = |k: &str| dir.join(v[k].as_str().unwrap_or_default());
    let (cert, bundle) = (path("certificate"), path("bundle"));
    (out, cert, bundle)
}

fn verify(dir: &Path, cert: &Path, extra: &[&str]) -> Output {
    let c = cert.display().to_string();
    let mut args = vec!["verify", &c, "--key", "cosign.pub"];
    args.extend(extra);
    perfcert(dir, &args)
}

#[test]
fn certify_then_verify_pass_and_fail_with_the_documented_exit_codes() {
    let dir = workdir_with_keys();
    let (out, cert, bundle) = certify(dir.path(), "current.json", &["--approver", "qa-lead", "--approver", "sre-lead"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(cert.ends_with("ingest-api-v1.4.2.cert.json") && bundle.ends_with("ingest-api-v1.4.2.sigstore.json"));
    let day = cert.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    assert!(day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit()), "archived under YYYYMMDD/: {day}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&cert).unwrap()).unwrap();
    assert_eq!(doc["status"], "PASS");
    assert_eq!(doc["signature"], "cosign-key");
    assert_eq!(doc["approvers"], serde_json::json!(["qa-lead", "sre-lead"]));
    assert_eq!(doc["commit"], "abc1234", "from the current results file");
    let ok = verify(dir.path(), &cert, &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("signature    OK"), "{}", text(&ok));

    // A FAIL is certified too: an auditable record, exit 1 from both commands.
    let (b, r, p) = (fixture("baseline.json"), fixture("current-regressed.json"), policy());
    let args = [
        "certify",
        "--key",
        "cosign.key",
        "--baseline",
        &b,
        "--current",
        &r,
        "--thresholds",
        &p,
        "--version",
        "v1.5.0",
    ];
    let failed = perfcert(dir.path(), &args);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let fail_cert = cert.with_file_name("ingest-api-v1.5.0.cert.json");
    assert!(text(&failed).contains("ingest-api v1.5.0 FAIL: certified cosign-key"), "{}", text(&failed));
    assert_eq!(verify(dir.path(), &fail_cert, &[]).status.code(), Some(1));
}

#[test]
fn a_certificate_is_never_overwritten() {
    let dir = workdir_with_keys();
    let (first, cert, _) = certify(dir.path(), "current.json", &[]);
    assert_eq!(first.status.code(), Some(0));
    let before = std::fs::read(&cert).unwrap();
    let (again, _, _) = certify(dir.path(), "current.json", &[]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(text(&again).contains("is already certified in perf/certificates"), "{}", text(&again));
    assert!(text(&again).contains("pass --force"), "{}", text(&again));
    assert_eq!(std::fs::read(&cert).unwrap(), before);
    let (forced, cert2, bundle2) = certify(dir.path(), "current.json", &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(cert2.ends_with("ingest-api-v1.4.2.2.cert.json") && bundle2.ends_with("ingest-api-v1.4.2.2.sigstore.json"));
    assert_eq!(std::fs::read(&cert).unwrap(), before);
    assert_eq!(verify(dir.path(), &cert2, &[]).status.code(), Some(0));
    // keygen refuses to replace keys.
    let out = perfcert(dir.path(), &["keygen"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tampering_is_caught_and_named() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let artifact = d.join("app.tar.gz");
    std::fs::write(&artifact, b"release bits").unwrap();
    let (out, cert, bundle) = certify(d, "current.json", &["--subject", "app.tar.gz"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cert_bytes = std::fs::read(&cert).unwrap();
    let bundle_text = std::fs::read_to_string(&bundle).unwrap();

    let expect_4 = |o: Output, needle: &str| {
        assert_eq!(o.status.code(), Some(4), "{}", text(&o));
        assert!(text(&o).contains(needle), "expected `{needle}` in: {}", text(&o));
        assert!(!text(&o).contains(PASSWORD), "no secret in any output");
    };
    // The certificate file, one value changed.
    let edited = String::from_utf8(cert_bytes.clone()).unwrap().replace("\"qa-lead\"", "\"mallory\"");
    let edited = if edited.as_bytes() == cert_bytes { edited.replacen("\"PASS\"", "\"FAIL\"", 1) } else { edited };
    std::fs::write(&cert, &edited).unwrap();
    expect_4(verify(d, &cert, &[]), "the file differs from the certificate that was signed");
    std::fs::write(&cert, &cert_bytes).unwrap();

    // The bundle's signature, one character changed.
    let doc: serde_json::Value = serde_json::from_str(&bundle_text).unwrap();
    let sig = doc["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if sig.starts_with('M') { "N" } else { "M" }, &sig[1..]);
    std::fs::write(&bundle, bundle_text.replace(&sig, &flipped)).unwrap();
    expect_4(verify(d, &cert, &[]), "the signature does not match");
    std::fs::write(&bundle, &bundle_text).unwrap();

    // A different key.
    let other = perfcert(d, &["keygen", "--output-key-prefix", "other"]);
    assert_eq!(other.status.code(), Some(0));
    let c = cert.display().to_string();
    expect_4(perfcert(d, &["verify", &c, "--key", "other.pub"]), "names another key");

    // The subject: the right artifact passes, another does not.
    assert_eq!(verify(d, &cert, &["--subject", "app.tar.gz"]).status.code(), Some(0));
    std::fs::write(d.join("evil.tar.gz"), b"other bits").unwrap();
    expect_4(verify(d, &cert, &["--subject", "evil.tar.gz"]), "is not a subject of this certificate");
    let wrong_digest = format!("img@sha256:{}", "0".repeat(64));
    expect_4(verify(d, &cert, &["--subject-digest", &wrong_digest]), "is not a subject");

    // Recomputation: the recorded inputs reproduce the verdict; other inputs are refused.
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let recompute = ["--recompute", "--baseline", &b, "--current", &c, "--thresholds", &p];
    let ok = verify(d, &cert, &recompute);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("verdict PASS reproduced exactly"), "{}", text(&ok));
    let r = fixture("current-regressed.json");
    let swapped = ["--recompute", "--baseline", &b, "--current", &r, "--thresholds", &p];
    expect_4(verify(d, &cert, &swapped), "differs from the recorded");
}

#[test]
fn passwords_come_from_the_environment_and_are_never_shown() {
    let dir = workdir_with_keys();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let args = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &p];
    let wrong = command(dir.path()).args(args).env("COSIGN_PASSWORD", "not-the-password").output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&wrong.stderr),
        "error: cosign.key: wrong password, or the key file is damaged\n"
    );
    assert!(
        !dir.path().join("perf").exists()
            || std::fs::read_dir(dir.path().join("perf/certificates")).unwrap().all(|d| std::fs::read_dir(
                d.unwrap().path()
            )
            .unwrap()
            .next()
            .is_none()),
        "nothing archived without a signature"
    );
    let none = command(dir.path()).args(args).env_remove("COSIGN_PASSWORD").output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("set COSIGN_PASSWORD"));
}

#[test]
fn a_key_cosign_wrote_signs() {
    let dir = workdir();
    let d = dir.path();
    std::fs::copy(root().join("fixtures/keys/cosign-generated-empty-password.key"), d.join("cosign.key")).unwrap();
    let pem = std::fs::read_to_string(d.join("cosign.key")).unwrap();
    let pkcs8 = perfcert::signing::cosign_key::decrypt(&pem, b"").unwrap();
    std::fs::write(d.join("cosign.pub"), perfcert::signing::public_pem(&pkcs8).unwrap()).unwrap();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let out = command(d)
        .args(["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &p, "-f", "json"])
        .env("COSIGN_PASSWORD", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verify(d, &d.join(v["certificate"].as_str().unwrap()), &[]).status.code(), Some(0));
}

#[test]
fn independent_verifiers_accept_perfcert_bundles_and_reject_tampered_ones() {
    let tools = common::tools(&["node_modules/@sigstore/verify", "venv/bin/python"]);
    let dir = workdir_with_keys();
    let d = dir.path();
    std::fs::write(d.join("app.tar.gz"), b"release bits").unwrap();
    let (out, cert, bundle) = certify(d, "current.json", &["--subject", "app.tar.gz"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let artifact_sha = perfcert::signing::sha256_hex(b"release bits");
    let cert_sha = perfcert::signing::sha256_hex(&std::fs::read(&cert).unwrap());
    let node = |bundle: &Path, sha: &str| {
        Command::new("node")
            .arg(root().join("tests/interop/verify-key.js"))
            .args([d.join("cosign.pub").as_path(), bundle])
            .args([sha, perfcert::certificate::PREDICATE_TYPE])
            .env("NODE_PATH", tools.join("node_modules"))
            .output()
            .unwrap()
    };
    let python = |bundle: &Path, sha: &str| {
        Command::new(tools.join("venv/bin/python"))
            .arg(root().join("tests/interop/verify_key_bundle.py"))
            .args([d.join("cosign.pub").as_path(), bundle])
            .args([sha, perfcert::certificate::PREDICATE_TYPE])
            .output()
            .unwrap()
    };
    for sha in [&artifact_sha, &cert_sha] {
        let n = node(&bundle, sha);
        assert!(n.status.success(), "@sigstore/verify: {}", text(&n));
        let p = python(&bundle, sha);
        assert!(p.status.success(), "cryptography: {}", text(&p));
    }
    // One byte of the signed payload changed: both refuse.
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let payload = doc["dsseEnvelope"]["payload"].as_str().unwrap().to_string();
    use base64::Engine;
    let mut bytes = base64::engine::general_purpose::STANDARD.decode(&payload).unwrap();
    let at = bytes.windows(7).position(|w| w == b"qa-lead").unwrap_or(bytes.len() / 2);
    bytes[at] ^= 1;
    doc["dsseEnvelope"]["payload"] = base64::engine::general_purpose::STANDARD.encode(&bytes).into();
    let tampered = d.join("tampered.sigstore.json");
    std::fs::write(&tampered, doc.to_string()).unwrap();
    assert!(!node(&tampered, &artifact_sha).status.success(), "@sigstore/verify must refuse a tampered payload");
    assert!(!python(&tampered, &artifact_sha).status.success(), "cryptography must refuse a tampered payload");
    // And perfcert too.
    let c = cert.display().to_string();
    let t = tampered.display().to_string();
    assert_eq!(perfcert(d, &["verify", &c, "--key", "cosign.pub", "--bundle", &t]).status.code(), Some(4));
    // A wrong subject digest is refused by the independent check as well.
    assert!(!node(&bundle, &"0".repeat(64)).status.success());
}
