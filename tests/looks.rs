//! Looks at a release (issue 14 §3) and the version-2 certificate that records them: each
//! certify of a service and version under `decision.method: statistical` is one look, tested at
//! alpha/looks; an INCONCLUSIVE look lets the next one go without --force; a PASS or FAIL needs
//! --force, which is a look too; past `decision.looks` certify refuses. Every certificate
//! records its look and rates, and `verify --recompute` rebuilds it byte for byte. Version-1
//! certificates still verify and recompute.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{perfcert, root, text};
use serde_json::Value;

/// Where the statistical fixtures are; commands run there, so inputs have short names.
fn decision_dir() -> PathBuf {
    root().join("fixtures/decision")
}

fn key(name: &str) -> String {
    root().join("fixtures/keys").join(name).display().to_string()
}

/// The three baseline runs and the three runs named `current`, as arguments.
fn runs(current: &str) -> Vec<String> {
    let mut args = vec![];
    for i in 1..=3 {
        args.extend(["--baseline".to_string(), format!("baseline-{i}.json")]);
    }
    for i in 1..=3 {
        args.extend(["--current".to_string(), format!("{current}-{i}.json")]);
    }
    args
}

/// `certify` of `current`'s three runs against the baseline's, into `archive`.
fn certify(archive: &Path, current: &str, thresholds: &str, extra: &[&str]) -> Output {
    let archive = archive.display().to_string();
    let key = key("perfcert-test.key");
    let mut args = vec![
        "certify",
        "--key",
        &key,
        "--thresholds",
        thresholds,
        "--service",
        "api",
        "--version",
        "v2",
        "--commit",
        "abc1234",
        "--archive",
        &archive,
    ];
    let runs = runs(current);
    args.extend(runs.iter().map(String::as_str));
    args.extend(extra);
    common::command(&decision_dir()).args(&args).env("COSIGN_PASSWORD", "perfcert-test").output().unwrap()
}

/// The certificate `certify` printed it wrote.
fn written(out: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("certificate ")).unwrap_or_else(|| panic!("{}", text(out)));
    PathBuf::from(line.trim())
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `verify --recompute` of a certificate of `current`'s runs.
fn recompute(cert: &Path, current: &str, thresholds: &str) -> Output {
    let cert = cert.display().to_string();
    let public = key("perfcert-test.pub");
    let mut args = vec!["verify", &cert, "--key", &public, "--recompute", "--thresholds", thresholds];
    let runs = runs(current);
    args.extend(runs.iter().map(String::as_str));
    perfcert(&decision_dir(), &args)
}

#[test]
fn three_looks_then_the_fourth_is_refused_and_each_look_recomputes_byte_for_byte() {
    let archive = common::workdir();
    let mut certs = vec![];
    // Looks 1 and 2 are INCONCLUSIVE: each lets the next look go without --force.
    for (look, current, code) in [(1, "inconclusive", 5), (2, "inconclusive", 5), (3, "pass", 0)] {
        let out = certify(archive.path(), current, "policy.yml", &[]);
        assert_eq!(out.status.code(), Some(code), "look {look}: {}", text(&out));
        assert!(text(&out).contains(&format!("look {look} of 3")), "{}", text(&out));
        let cert = written(&out);
        let doc = read(&cert);
        assert_eq!(doc["schema"], 2);
        let d = &doc["decision"];
        assert_eq!((d["look"].as_u64(), d["looks"].as_u64()), (Some(look), Some(3)), "{d}");
        assert_eq!((d["alpha"].as_f64(), d["family_alpha"].as_f64()), (Some(0.01), Some(0.05)));
        assert_eq!((d["look_alpha"].as_f64(), d["look_family_alpha"].as_f64()), (Some(0.01 / 3.0), Some(0.05 / 3.0)));
        assert_eq!(d["method"], "statistical");
        assert_eq!(d["history"], Value::Null);
        assert_eq!(d["noise"], Value::Null);
        // Every row tested at this look's rate.
        assert_eq!(doc["comparison"][0]["interval"]["upper_alpha"].as_f64(), Some(0.01 / 3.0));
        assert!(doc.as_object().unwrap().contains_key("runs_needed"));
        certs.push((cert, current));
    }
    let names: Vec<String> = certs.iter().map(|(c, _)| c.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["api-v2.cert.json", "api-v2.2.cert.json", "api-v2.3.cert.json"]);

    // The fourth is refused, with --force too, before anything is signed: exit 3, saying what to do.
    for extra in [&[][..], &["--force"][..]] {
        let out = certify(archive.path(), "pass", "policy.yml", extra);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        let t = text(&out);
        assert!(t.contains("has had its 3 looks (decision.looks)"), "{t}");
        assert!(t.contains("api-v2.3.cert.json (PASS)"), "{t}");
        assert!(t.contains("waive") && t.contains("by hand"), "{t}");
    }
    let files = std::fs::read_dir(certs[0].0.parent().unwrap()).unwrap().count();
    assert_eq!(files, 6, "three certificates and their bundles, nothing more");

    // Each recomputes at its recorded look, not a recount of the archive (which holds 3 now).
    for (i, (cert, current)) in certs.iter().enumerate() {
        let out = recompute(cert, current, "policy.yml");
        let want = if *current == "pass" { 0 } else { 5 };
        assert_eq!(out.status.code(), Some(want), "{}", text(&out));
        let t = text(&out);
        assert!(t.contains("certificate rebuilt byte for byte"), "{t}");
        assert!(t.contains(&format!("look {} of 3", i + 1)), "{t}");
    }
}

#[test]
fn a_pass_needs_force_for_another_look_and_force_counts_as_one() {
    let archive = common::workdir();
    let out = certify(archive.path(), "pass", "policy.yml", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = certify(archive.path(), "pass", "policy.yml", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("pass --force"), "{}", text(&out));
    let out = certify(archive.path(), "fail", "policy.yml", &["--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let cert = written(&out);
    assert_eq!(read(&cert)["decision"]["look"], 2);
    let out = recompute(&cert, "fail", "policy.yml");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn a_v2_certificate_is_its_own_bytes_again_and_one_run_rows_record_their_run() {
    let archive = common::workdir();
    let key = key("perfcert-test.key");
    let dir = archive.path().display().to_string();
    // One run a side with an assumed noise level: the certificate records the one run and the
    // assumption.
    let policy = archive.path().join("assumed.yml");
    std::fs::write(
        &policy,
        "decision:\n  method: statistical\n  looks: 1\n  noise: { cov: 0.01 }\nmetrics:\n  latency_p95_read: { max_increase: 10% }\n",
    )
    .unwrap();
    let policy = policy.display().to_string();
    let args = [
        "certify",
        "--key",
        &key,
        "--thresholds",
        &policy,
        "--service",
        "api",
        "--version",
        "v1",
        "--commit",
        "abc",
        "--archive",
        &dir,
        "--baseline",
        "baseline-1.json",
        "--current",
        "pass-1.json",
    ];
    let out = common::command(&decision_dir()).args(args).env("COSIGN_PASSWORD", "perfcert-test").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cert = written(&out);
    let bytes = std::fs::read(&cert).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["decision"]["noise"], serde_json::json!({"cov": 0.01, "assumed": true}));
    assert_eq!((doc["decision"]["look_alpha"].as_f64(), doc["decision"]["looks"].as_u64()), (Some(0.01), Some(1)));
    let row = &doc["comparison"][0];
    assert_eq!(row["runs"]["baseline"].as_array().map(Vec::len), Some(1), "{row}");
    assert_eq!(row["runs"]["current"][0], row["current"], "{row}");
    assert_eq!(row["method"], "assumed-cov", "{row}");

    // Read back and written again, the document is the same bytes: floats and field order
    // survive the round trip, which is what lets verify --recompute compare bytes.
    let parsed: perfcert::certificate::Certificate = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed.to_json().as_bytes(), bytes.as_slice());
    assert_eq!(parsed.predicate_type(), "https://perfcert.dev/certificate/v2");

    let public = common::root().join("fixtures/keys/perfcert-test.pub").display().to_string();
    let cert_arg = cert.display().to_string();
    let verify = [
        "verify",
        &cert_arg,
        "--key",
        &public,
        "--recompute",
        "--thresholds",
        &policy,
        "--baseline",
        "baseline-1.json",
        "--current",
        "pass-1.json",
    ];
    let out = perfcert(&decision_dir(), &verify);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("rebuilt byte for byte"), "{}", text(&out));
}

#[test]
fn the_threshold_method_still_writes_version_1_without_looks() {
    let archive = common::workdir();
    let policy = archive.path().join("threshold.yml");
    std::fs::write(&policy, "metrics:\n  latency_p95_read: { max_increase: 10% }\n").unwrap();
    let policy = policy.display().to_string();
    let mut last = None;
    // Four certificates with --force: the threshold method has no looks to run out of.
    for i in 0..4 {
        let extra: &[&str] = if i == 0 { &[] } else { &["--force"] };
        let out = certify(archive.path(), "pass", &policy, extra);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(!text(&out).contains("look"), "{}", text(&out));
        last = Some(written(&out));
    }
    let doc = read(last.as_ref().unwrap());
    assert_eq!(doc["schema"], 1);
    assert!(doc.get("decision").is_none() && doc.get("runs_needed").is_none(), "{doc}");
    let bundle: Value = read(&last.unwrap().with_file_name("api-v2.4.sigstore.json"));
    let payload = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    use base64::Engine;
    let statement: Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(payload).unwrap()).unwrap();
    assert_eq!(statement["predicateType"], "https://perfcert.dev/certificate/v1");
}

#[test]
fn a_version_1_statistical_certificate_still_verifies_and_recomputes_at_the_full_alpha() {
    let cert = root().join("fixtures/certificates/v1-statistical/ingest-api-v1.5.0-stat.cert.json");
    assert_eq!(read(&cert)["schema"], 1);
    let out = recompute(&cert, "inconclusive", "policy.yml");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("(https://perfcert.dev/certificate/v1)"), "{t}");
    assert!(t.contains("verdict INCONCLUSIVE reproduced exactly"), "{t}");
}

/// A key-signed bundle and certificate file over `predicate` with this predicate type, in `dir`.
fn sign(dir: &Path, predicate_type: &str, predicate: &Value) -> PathBuf {
    let pem = std::fs::read_to_string(key("perfcert-test.key")).unwrap();
    let pkcs8 = perfcert::signing::cosign_key::decrypt(&pem, b"perfcert-test").unwrap();
    let cert_bytes = serde_json::to_vec_pretty(predicate).unwrap();
    let subject = perfcert::signing::Subject::sha256("x.cert.json", &cert_bytes);
    let statement = serde_json::json!({
        "_type": perfcert::signing::STATEMENT_TYPE, "subject": [subject],
        "predicateType": predicate_type, "predicate": predicate,
    });
    let bundle = perfcert::signing::sign_with_key(&pkcs8, serde_json::to_vec(&statement).unwrap()).unwrap();
    std::fs::write(dir.join("x.cert.json"), &cert_bytes).unwrap();
    std::fs::write(dir.join("x.sigstore.json"), bundle).unwrap();
    dir.join("x.cert.json")
}

#[test]
fn a_later_version_is_exit_2_and_a_schema_that_disagrees_with_its_predicate_type_is_exit_4() {
    let dir = common::workdir();
    let public = key("perfcert-test.pub");
    let v1 = read(&root().join("fixtures/certificates/v1-statistical/ingest-api-v1.5.0-stat.cert.json"));

    let cert = sign(dir.path(), "https://perfcert.dev/certificate/v3", &v1);
    let out = perfcert(dir.path(), &["verify", &cert.display().to_string(), "--key", &public]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("a later version than this perfcert reads"), "{}", text(&out));

    // A schema-1 body under the v2 type, and a body that claims schema 2 under the v1 type.
    let mut claims_two = v1.clone();
    claims_two["schema"] = 2.into();
    for (predicate_type, body) in
        [("https://perfcert.dev/certificate/v2", &v1), ("https://perfcert.dev/certificate/v1", &claims_two)]
    {
        let cert = sign(dir.path(), predicate_type, body);
        let out = perfcert(dir.path(), &["verify", &cert.display().to_string(), "--key", &public]);
        assert_eq!(out.status.code(), Some(4), "{predicate_type}: {}", text(&out));
        assert!(text(&out).contains("under the predicate type"), "{}", text(&out));
    }
}

#[test]
fn compare_is_look_1_unless_told_and_says_so() {
    let report = |extra: &[&str]| {
        let mut args = vec!["compare", "--format", "json", "--thresholds", "policy.yml"];
        let runs = runs("inconclusive");
        args.extend(runs.iter().map(String::as_str));
        args.extend(extra);
        perfcert(&decision_dir(), &args)
    };
    let out = report(&[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["decision"]["look"].as_u64(), doc["decision"]["looks"].as_u64()), (Some(1), Some(3)));
    let out = report(&["--look", "3"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["decision"]["look"], 3);
    let out = report(&["--look", "4"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--look 4: policy.yml allows at most 3 looks"), "{}", text(&out));
    let mut args = vec!["compare", "--thresholds", "policy.yml", "--look", "2"];
    let runs = runs("inconclusive");
    args.extend(runs.iter().map(String::as_str));
    let table = perfcert(&decision_dir(), &args);
    assert!(
        text(&table).contains(
            "decision  statistical, look 2 of 3: alpha 0.0033 per metric, 0.017 per run (0.01 and 0.05 split over 3 looks)"
        ),
        "{}",
        text(&table)
    );
}
