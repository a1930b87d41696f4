//! `--noise-from ARCHIVE`: the run-to-run noise learned from earlier certificates of the same
//! service lets a few current runs decide, records what it used, and leaves out what it must.

mod common;

use std::fs;
use std::path::Path;

use common::{perfcert, text, workdir_with_keys};
use serde_json::{Value, json};

const POLICY: &str = "decision:\n  method: statistical\nmetrics:\n  latency_p95_read:\n    max_increase: 10%\n";

/// A native results file of several runs.
fn runs(dir: &Path, name: &str, service: &str, version: &str, values: &[f64]) -> String {
    let runs: Vec<Value> = values.iter().map(|v| json!({ "metrics": { "latency_p95_read": v } })).collect();
    let doc = json!({ "service": service, "version": version, "runs": runs });
    fs::write(dir.join(name), serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    name.to_string()
}

/// Certifies `version` of `service` from 3 + 3 runs around `level`, 1% apart, into archive/.
fn certify(dir: &Path, service: &str, version: &str, level: f64) {
    let b = runs(dir, &format!("{service}-{version}-b.json"), service, version, &[level, level * 1.01, level * 0.99]);
    let c = runs(dir, &format!("{service}-{version}-c.json"), service, version, &[level * 1.005, level * 0.995, level]);
    let out = perfcert(
        dir,
        &[
            "certify",
            "--baseline",
            &b,
            "--current",
            &c,
            "--thresholds",
            "policy.yml",
            "--key",
            "cosign.key",
            "--archive",
            "archive",
            "--service",
            service,
            "--version",
            version,
        ],
    );
    assert!(matches!(out.status.code(), Some(0 | 1 | 5)), "{}", text(&out));
}

/// A working directory with a policy and four certified releases of `api` (levels far apart:
/// real changes between releases, which are not noise) and one of `web`, whose runs are wild.
fn archive() -> tempfile::TempDir {
    let dir = workdir_with_keys();
    fs::write(dir.path().join("policy.yml"), POLICY).unwrap();
    for (version, level) in [("v1", 200.0), ("v2", 260.0), ("v3", 240.0), ("v4", 300.0)] {
        certify(dir.path(), "api", version, level);
    }
    let b = runs(dir.path(), "web-b.json", "web", "v1", &[100.0, 300.0, 150.0]);
    let c = runs(dir.path(), "web-c.json", "web", "v1", &[90.0, 310.0, 200.0]);
    let out = perfcert(
        dir.path(),
        &["certify", "--baseline", &b, "--current", &c, "--thresholds", "policy.yml", "--key", "cosign.key"]
            .into_iter()
            .chain(["--archive", "archive", "--service", "web", "--version", "v1"])
            .collect::<Vec<_>>(),
    );
    assert!(matches!(out.status.code(), Some(0 | 1 | 5)), "{}", text(&out));
    dir
}

/// `compare --format json` of 3 baseline runs and 2 current runs of api, with extra arguments.
fn compare(dir: &Path, current: &[f64], extra: &[&str]) -> (i32, Value, String) {
    compare_under(dir, "policy.yml", current, extra)
}

fn compare_under(dir: &Path, policy: &str, current: &[f64], extra: &[&str]) -> (i32, Value, String) {
    let b = runs(dir, "now-b.json", "api", "v4", &[300.0, 303.0, 297.0]);
    let c = runs(dir, "now-c.json", "api", "v5", current);
    let mut args = vec!["compare", "--format", "json", "--baseline", &b, "--current", &c, "--thresholds", policy];
    args.extend(extra);
    let out = perfcert(dir, &args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), doc, text(&out))
}

#[test]
fn history_settles_what_two_current_runs_cannot() {
    let dir = archive();
    let current = [309.0, 318.0];
    let (code, doc, all) = compare(dir.path(), &current, &[]);
    assert_eq!(code, 5, "without history 3 + 2 runs cannot tell: {all}");
    assert_eq!(doc["metrics"][0]["method"], "welch-t");

    let (code, doc, all) = compare(dir.path(), &current, &["--noise-from", "archive"]);
    assert_eq!(code, 0, "{all}");
    let row = &doc["metrics"][0];
    assert_eq!(row["method"], "pooled-history-t", "{row}");
    // Four certificates of 2 sides x 3 runs: 16 df, capped at 10 for heavy tails.
    assert_eq!(row["df"], 10.0, "{row}");
    let history = &doc["decision"]["history"];
    assert_eq!(history["archive"], "archive");
    let used: Vec<&str> =
        history["certificates"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(used.len(), 4, "only api's certificates: {history}");
    assert!(used.iter().all(|n| n.contains("api-v")), "{used:?}");
    // 4 certificates x 2 sides x 2 df, less v4's baseline: it is this comparison's baseline
    // (the same bytes), whose spread the comparison already has.
    assert_eq!(history["metrics"]["latency_p95_read"]["log"]["df"], 14.0);
    assert!(doc["warnings"].to_string().contains("1 side(s) of earlier certificates are runs of this comparison"));
    // Each certificate is named with the sha256 of its bytes.
    for c in history["certificates"].as_array().unwrap() {
        let path = dir.path().join("archive").join(c["name"].as_str().unwrap());
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(c["sha256"], perfcert::signing::sha256_hex(&bytes));
    }
}

#[test]
fn a_clear_regression_fails_with_history_and_the_threshold_method_ignores_it() {
    let dir = archive();
    let (code, doc, all) = compare(dir.path(), &[345.0, 350.0], &["--noise-from", "archive"]);
    assert_eq!(code, 1, "{all}");
    assert_eq!(doc["status"], "FAIL");

    fs::write(dir.path().join("threshold.yml"), "metrics:\n  latency_p95_read:\n    max_increase: 10%\n").unwrap();
    let (code, doc, all) = compare_under(dir.path(), "threshold.yml", &[309.0, 318.0], &["--noise-from", "archive"]);
    assert_eq!(code, 0, "{all}");
    assert!(doc.get("decision").is_none(), "the threshold method learns nothing: {doc}");
    assert!(doc["warnings"].to_string().contains("--noise-from is ignored: the threshold method"), "{doc}");
}

#[test]
fn runs_noisier_than_the_history_are_judged_without_it() {
    let dir = archive();
    // 1% noise in history; these two current runs are 12% apart.
    let (code, doc, all) = compare(dir.path(), &[290.0, 328.0], &["--noise-from", "archive"]);
    assert_eq!(code, 5, "{all}");
    let row = &doc["metrics"][0];
    assert_eq!(row["method"], "welch-t", "{row}");
    assert!(all.contains("vary more than the history"), "{all}");
}

#[test]
fn unsigned_or_unreadable_certificates_are_left_out_with_a_warning() {
    let dir = archive();
    let day = fs::read_dir(dir.path().join("archive"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().len() == 8)
        .unwrap();
    let bundle = fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("api-v1.sigstore"))
        .unwrap();
    fs::remove_file(&bundle).unwrap();
    fs::write(day.join("api-v9.cert.json"), "not json").unwrap();
    fs::write(day.join("api-v9.sigstore.json"), "{}").unwrap();
    let (code, doc, all) = compare(dir.path(), &[309.0, 318.0], &["--noise-from", "archive"]);
    assert_eq!(code, 0, "{all}");
    assert_eq!(
        doc["decision"]["history"]["certificates"].as_array().unwrap().len(),
        3,
        "{}",
        doc["decision"]["history"]
    );
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("api-v1.cert.json has no signature bundle beside it"), "{warnings}");
    assert!(warnings.contains("api-v9.cert.json is left out: not a certificate"), "{warnings}");
}

#[test]
fn the_service_must_be_known_and_the_archive_readable() {
    let dir = archive();
    fs::write(
        dir.path().join("anon.json"),
        r#"{"runs":[{"metrics":{"latency_p95_read":300}},{"metrics":{"latency_p95_read":301}}]}"#,
    )
    .unwrap();
    let out = perfcert(
        dir.path(),
        &[
            "compare",
            "--baseline",
            "anon.json",
            "--current",
            "anon.json",
            "--thresholds",
            "policy.yml",
            "--noise-from",
            "archive",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--noise-from learns from earlier certificates of the same service"), "{}", text(&out));

    let (code, _, all) = compare(dir.path(), &[309.0, 318.0], &["--noise-from", "no-such-archive"]);
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("--noise-from no-such-archive: no such directory"), "{all}");
}

#[test]
fn with_noise_key_only_certificates_signed_by_it_are_learned_from() {
    let dir = archive();
    let (_, doc, all) = compare(dir.path(), &[309.0, 318.0], &["--noise-from", "archive"]);
    assert_eq!(doc["decision"]["history"]["signatures_checked"], false, "{all}");
    assert!(doc["warnings"].to_string().contains("signatures were not checked"), "{all}");

    let (code, doc, all) =
        compare(dir.path(), &[309.0, 318.0], &["--noise-from", "archive", "--noise-key", "cosign.pub"]);
    assert_eq!(code, 0, "{all}");
    assert_eq!(doc["decision"]["history"]["signatures_checked"], true);
    assert_eq!(doc["decision"]["history"]["certificates"].as_array().unwrap().len(), 4);
    assert!(!doc["warnings"].to_string().contains("signatures were not checked"), "{all}");

    // Another key signed none of them: nothing is learned, and each is named.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    common::keygen(&other);
    let (code, doc, all) =
        compare(dir.path(), &[309.0, 318.0], &["--noise-from", "archive", "--noise-key", "other/cosign.pub"]);
    assert_eq!(code, 5, "{all}");
    assert_eq!(doc["decision"]["history"]["certificates"].as_array().unwrap().len(), 0);
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("api-v1.cert.json is left out: not signed by --noise-key"), "{warnings}");
    assert!(warnings.contains("no earlier certificate of this service"), "{warnings}");

    let (code, _, all) =
        compare(dir.path(), &[309.0, 318.0], &["--noise-from", "archive", "--noise-key", "cosign.key"]);
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("this is the private key"), "{all}");
}

#[test]
fn a_certificate_records_its_history_and_recomputes_from_exactly_that() {
    let dir = archive();
    let d = dir.path();
    let b = runs(d, "now-b.json", "api", "v4", &[300.0, 303.0, 297.0]);
    let c = runs(d, "now-c.json", "api", "v5", &[309.0, 318.0]);
    let certify = [
        "certify",
        "--key",
        "cosign.key",
        "--baseline",
        &b,
        "--current",
        &c,
        "--thresholds",
        "policy.yml",
        "--archive",
        "archive",
        "--noise-from",
        "archive",
        "--noise-key",
        "cosign.pub",
    ];
    // A signed certificate must not rest on unchecked history.
    let unchecked: Vec<&str> = certify.iter().copied().filter(|a| *a != "--noise-key" && *a != "cosign.pub").collect();
    let out = perfcert(d, &unchecked);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("certify --noise-from needs --noise-key"), "{}", text(&out));
    let out = perfcert(d, &certify);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cert_path = fs::read_dir(d.join("archive"))
        .unwrap()
        .flat_map(|day| fs::read_dir(day.unwrap().path()).into_iter().flatten())
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("api-v5.cert.json"))
        .expect("the certificate");
    let cert: Value = serde_json::from_slice(&fs::read(&cert_path).unwrap()).unwrap();
    assert_eq!(cert["schema"], 2);
    let history = &cert["decision"]["history"];
    assert_eq!(history["certificates"].as_array().unwrap().len(), 4, "{history}");
    assert_eq!(history["signatures_checked"], true);
    assert_eq!(cert["comparison"][0]["method"], "pooled-history-t");

    let cert_arg = cert_path.display().to_string();
    let verify = |extra: &[&str]| {
        let mut args =
            vec!["verify", &cert_arg, "--key", "cosign.pub", "--recompute", "--baseline", &b, "--current", &c];
        args.extend(["--thresholds", "policy.yml"]);
        args.extend(extra);
        perfcert(d, &args)
    };
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("rebuilt byte for byte"), "{}", text(&out));

    // The archive moved: the recorded name no longer resolves; --noise-from says where it is.
    fs::rename(d.join("archive"), d.join("moved")).unwrap();
    let cert_arg_moved = cert_arg.replace("/archive/", "/moved/");
    let out = perfcert(
        d,
        &["verify", &cert_arg_moved, "--key", "cosign.pub", "--recompute", "--baseline", &b, "--current", &c]
            .into_iter()
            .chain(["--thresholds", "policy.yml"])
            .collect::<Vec<_>>(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--noise-from archive: no such directory"), "{}", text(&out));
    let args = |extra: &[&'static str]| {
        let mut a =
            vec!["verify", &cert_arg_moved, "--key", "cosign.pub", "--recompute", "--baseline", &b, "--current", &c];
        a.extend(["--thresholds", "policy.yml"]);
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| perfcert(d, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let out = run(args(&["--noise-from", "moved"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A history certificate changed since: the decision cannot be reproduced from it.
    let used = history["certificates"][0]["name"].as_str().unwrap();
    let path = d.join("moved").join(used);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b" ");
    fs::write(&path, bytes).unwrap();
    let out = run(args(&["--noise-from", "moved"]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not the recorded"), "{}", text(&out));
}

#[test]
fn history_made_on_another_testbed_is_not_learned_from() {
    let dir = archive();
    let d = dir.path();
    // v6 certified on another testbed, after the four releases: it and everything before it
    // is another setup's noise.
    let b = runs(d, "b6.json", "api", "v6", &[300.0, 303.0, 297.0]);
    let c = runs(d, "c6.json", "api", "v6", &[301.0, 299.0, 300.0]);
    let out = perfcert(
        d,
        &["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", "policy.yml"]
            .into_iter()
            .chain(["--archive", "archive", "--testbed", "c6.large"])
            .collect::<Vec<_>>(),
    );
    assert!(matches!(out.status.code(), Some(0 | 5)), "{}", text(&out));
    let (code, doc, all) = compare(d, &[309.0, 318.0], &["--noise-from", "archive", "--testbed", "m5.large"]);
    assert_eq!(code, 5, "{all}");
    assert_eq!(doc["decision"]["history"]["certificates"].as_array().unwrap().len(), 0, "{all}");
    assert!(all.contains("testbed was c6.large, now m5.large"), "{all}");
    // On the same testbed as v6, v6 is the history (and the older ones, unlabelled, are not
    // checked but used).
    let (_, doc, all) = compare(d, &[309.0, 318.0], &["--noise-from", "archive", "--testbed", "c6.large"]);
    assert_eq!(doc["decision"]["history"]["certificates"].as_array().unwrap().len(), 5, "{all}");
}
