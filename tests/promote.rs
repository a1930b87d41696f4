//! `perfcert baseline promote` end to end: certificates made by certify in a temp dir with a
//! key, promoted, and compared against again. A round trip gives back every certified current
//! value (every run of a statistical certificate); a tampered certificate is exit 4 and a FAIL
//! or INCONCLUSIVE one exit 2, both writing nothing; an existing file is replaced only with
//! --force; the file validates against schemas/results.schema.json.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{fixture, perfcert, policy, root, text, workdir_with_keys};

/// Certifies with the key; returns the certificate's path.
fn certify(dir: &Path, args: &[&str]) -> PathBuf {
    let mut all = vec!["certify", "--key", "cosign.key", "--format", "json"];
    all.extend(args);
    let out = perfcert(dir, &all);
    assert!(matches!(out.status.code(), Some(0 | 1 | 5)), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    dir.join(v["certificate"].as_str().unwrap())
}

fn promote(dir: &Path, cert: &Path, extra: &[&str]) -> Output {
    let c = cert.display().to_string();
    let mut args = vec!["baseline", "promote", &c, "--key", "cosign.pub"];
    args.extend(extra);
    perfcert(dir, &args)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `compare --baseline promoted --current ...` as JSON.
fn compare(dir: &Path, baseline: &str, current: &[String], thresholds: &str) -> serde_json::Value {
    let mut args = vec!["compare", "--baseline", baseline, "--thresholds", thresholds, "--format", "json"];
    for c in current {
        args.extend(["--current", c]);
    }
    let out = perfcert(dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sha256(path: &Path) -> String {
    perfcert::signing::sha256_hex(&std::fs::read(path).unwrap())
}

#[test]
fn a_pass_certificate_round_trips_through_compare() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let cert = certify(d, &["--baseline", &b, "--current", &c, "--thresholds", &p]);
    let out = promote(d, &cert, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    for line in ["signature    OK", "content      OK", "promoted     ingest-api v1.4.2 (PASS, 1 run, 6 metrics)"] {
        assert!(said.contains(line), "{said}");
    }

    // The default name, PERF-004 §12's; in the native format, with its provenance.
    let promoted = d.join("perf_baseline.json");
    let file = json(&promoted);
    assert_eq!((file["service"].as_str(), file["version"].as_str()), (Some("ingest-api"), Some("v1.4.2")));
    assert_eq!(file["commit"], "abc1234");
    let prov = &file["provenance"];
    assert_eq!(prov["certificate"], "ingest-api-v1.4.2.cert.json");
    assert_eq!(prov["sha256"], sha256(&cert).as_str());
    assert_eq!(prov["status"], "PASS");
    assert_eq!(prov["date"], json(&cert)["date"]);
    assert_eq!(prov["signer"], "key cosign.pub");
    let schema = jsonschema::validator_for(&json(&root().join("schemas/results.schema.json"))).unwrap();
    let errors: Vec<String> = schema.iter_errors(&file).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");

    // Compared with the very run it certified: every metric's baseline is the current value.
    let report = compare(d, "perf_baseline.json", std::slice::from_ref(&c), &p);
    let certified = json(&cert);
    let rows = report["metrics"].as_array().unwrap();
    assert_eq!(rows.len(), certified["comparison"].as_array().unwrap().len());
    for (row, was) in rows.iter().zip(certified["comparison"].as_array().unwrap()) {
        assert_eq!(row["name"], was["name"]);
        assert!(row["baseline"].is_number(), "{row}");
        assert_eq!(row["baseline"], was["current"], "{}", row["name"]);
        assert_eq!(row["baseline"], row["current"], "{}", row["name"]);
    }
    assert_eq!(report["inputs"]["baseline"]["provenance"]["sha256"], sha256(&cert).as_str());
    // The table's baseline line says where it came from.
    let table = perfcert(d, &["compare", "--baseline", "perf_baseline.json", "--current", &c, "--thresholds", &p]);
    assert!(
        text(&table).contains("says it was promoted from ingest-api-v1.4.2.cert.json, certified PASS "),
        "{}",
        text(&table)
    );
}

#[test]
fn a_statistical_certificate_round_trips_every_run() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let at = |n: &str| root().join("fixtures/decision").join(n).display().to_string();
    let p = at("policy.yml");
    let current: Vec<String> = (1..=3).map(|i| at(&format!("pass-{i}.json"))).collect();
    let mut args = vec!["--thresholds", p.as_str()];
    let baseline: Vec<String> = (1..=3).map(|i| at(&format!("baseline-{i}.json"))).collect();
    for b in &baseline {
        args.extend(["--baseline", b]);
    }
    for c in &current {
        args.extend(["--current", c]);
    }
    let cert = certify(d, &args);
    assert_eq!(json(&cert)["schema"], 2);
    let out = promote(d, &cert, &["--output", "v2-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("(PASS, 3 runs, "), "{}", text(&out));

    let file = json(&d.join("v2-baseline.json"));
    assert_eq!(file["runs"].as_array().unwrap().len(), 3);
    let report = compare(d, "v2-baseline.json", &current, &p);
    assert_eq!(report["inputs"]["baseline"]["runs"], 3);
    let certified = json(&cert);
    for (row, was) in report["metrics"].as_array().unwrap().iter().zip(certified["comparison"].as_array().unwrap()) {
        assert_eq!(row["name"], was["name"]);
        // Every run, in order: the certified current runs are now the baseline's.
        assert_eq!(row["runs"]["baseline"], was["runs"]["current"], "{}", row["name"]);
        assert_eq!(row["runs"]["baseline"], row["runs"]["current"], "{}", row["name"]);
        assert_eq!(row["baseline"], was["current"], "{}", row["name"]);
    }
}

#[test]
fn untracked_metrics_waivers_and_the_fingerprint_are_carried() {
    let dir = workdir_with_keys();
    let d = dir.path();
    std::fs::write(
        d.join("base.json"),
        r#"{"service": "svc", "version": "v1", "metrics": {"latency_p95": 100, "extra": 7}}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("cur.json"),
        r#"{"service": "svc", "version": "v2", "fingerprint": {"tool": "k6", "testbed": "ci-large"},
            "metrics": {"latency_p95": 150, "extra": 8, "only_here": 1.25}}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("policy.yml"),
        "metrics:\n  latency_p95: { max_increase: 10%, unit: ms }\nwaivers:\n  - metric: latency_p95\n    \
         reason: \"new feature, CAB-1\"\n    approved_by: cab\n    expires: 2099-12-31\n",
    )
    .unwrap();
    let cert = certify(d, &["--baseline", "base.json", "--current", "cur.json", "--thresholds", "policy.yml"]);
    assert_eq!(json(&cert)["status"], "PASS");
    let out = promote(d, &cert, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("warning: svc v2 passed with waived metrics (latency_p95)"), "{}", text(&out));
    let file = json(&d.join("perf_baseline.json"));
    assert_eq!(file["provenance"]["waived"], serde_json::json!(["latency_p95"]));
    assert_eq!(file["fingerprint"], serde_json::json!({"tool": "k6", "testbed": "ci-large"}));
    assert_eq!(file["runs"][0]["metrics"], serde_json::json!({"latency_p95": 150.0, "extra": 8.0, "only_here": 1.25}));
}

#[test]
fn a_tampered_certificate_is_exit_4_and_nothing_is_written() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let cert = certify(d, &["--baseline", &b, "--current", &c, "--thresholds", &p]);
    let original = std::fs::read_to_string(&cert).unwrap();
    std::fs::write(&cert, original.replace("\"latency_p95_write\": 432.0", "\"latency_p95_write\": 400.0")).unwrap();
    assert_ne!(std::fs::read_to_string(&cert).unwrap(), original, "the tamper took");
    let out = promote(d, &cert, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not authentic: "), "{}", text(&out));
    assert!(text(&out).contains("differs from the certificate that was signed"), "{}", text(&out));
    assert!(!d.join("perf_baseline.json").exists());

    // Authentic, but signed by another key than the one given: exit 4 too.
    std::fs::write(&cert, &original).unwrap();
    assert_eq!(perfcert(d, &["keygen", "--output-key-prefix", "other"]).status.code(), Some(0));
    let c = cert.display().to_string();
    let out = perfcert(d, &["baseline", "promote", &c, "--key", "other.pub"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(!d.join("perf_baseline.json").exists());
}

#[test]
fn fail_and_inconclusive_certificates_are_refused_with_what_to_do() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let (b, r, p) = (fixture("baseline.json"), fixture("current-regressed.json"), policy());
    let cert = certify(d, &["--baseline", &b, "--current", &r, "--thresholds", &p, "--version", "v1.5.0"]);
    assert_eq!(json(&cert)["status"], "FAIL");
    let out = promote(d, &cert, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("signature    OK"), "verified first: {said}");
    assert!(
        said.contains("it certifies FAIL, not PASS: only a PASS release can be a baseline; nothing written"),
        "{said}"
    );
    assert!(said.contains("perfcert list --service ingest-api"), "{said}");
    assert!(!d.join("perf_baseline.json").exists());

    let at = |n: &str| root().join("fixtures/decision").join(n).display().to_string();
    let p = at("policy.yml");
    let mut args = vec!["--thresholds", p.as_str(), "--version", "v3"];
    let files: Vec<String> =
        (1..=3).flat_map(|i| [at(&format!("baseline-{i}.json")), at(&format!("inconclusive-{i}.json"))]).collect();
    for pair in files.chunks(2) {
        args.extend(["--baseline", &pair[0], "--current", &pair[1]]);
    }
    let cert = certify(d, &args);
    assert_eq!(json(&cert)["status"], "INCONCLUSIVE");
    let out = promote(d, &cert, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("it certifies INCONCLUSIVE, not PASS"), "{}", text(&out));
    assert!(text(&out).contains("again with more runs"), "{}", text(&out));
    assert!(!d.join("perf_baseline.json").exists());
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let cert = certify(d, &["--baseline", &b, "--current", &c, "--thresholds", &p]);
    std::fs::write(d.join("perf_baseline.json"), "hand-written\n").unwrap();
    let out = promote(d, &cert, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("perf_baseline.json: already exists; pass --force to replace it"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(d.join("perf_baseline.json")).unwrap(), "hand-written\n");

    let out = promote(d, &cert, &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&d.join("perf_baseline.json"))["provenance"]["sha256"], sha256(&cert).as_str());
    // No temporary file left beside it.
    let names: Vec<String> =
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.starts_with(".perfcert-")), "{names:?}");

    // `-` prints the file; the checks go to stderr.
    let out = promote(d, &cert, &["--output", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, json(&d.join("perf_baseline.json")));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature    OK"));
}

#[test]
fn a_certificate_is_found_by_name_in_an_archive() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let cert = certify(d, &["--baseline", &b, "--current", &c, "--thresholds", &p]);
    let by_name = [
        "baseline",
        "promote",
        "--archive",
        "perf/certificates",
        "--service",
        "ingest-api",
        "--version",
        "v1.4.2",
        "--key",
        "cosign.pub",
    ];
    let out = perfcert(d, &by_name);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&d.join("perf_baseline.json"))["provenance"]["sha256"], sha256(&cert).as_str());

    // A name with no certificate, and a path with a name, are input errors.
    let mut missing = by_name.to_vec();
    missing[7] = "v9";
    missing.push("--force");
    let out = perfcert(d, &missing);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no certificate of ingest-api v9"), "{}", text(&out));
    let c = cert.display().to_string();
    let mut both = by_name.to_vec();
    both.insert(2, &c);
    let out = perfcert(d, &both);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not both"), "{}", text(&out));
}
