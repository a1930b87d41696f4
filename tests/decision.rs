//! `decision: { method: statistical }` end to end: three runs per side give PASS, FAIL or
//! INCONCLUSIVE, with exit codes 0, 1 and 5, the interval, and the runs that would settle it.
//! Small helpers of its own so it merges apart from the shared test helpers.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `compare` of the three baseline runs against the three runs named `current`.
fn compare(current: &str, format: &str) -> Output {
    let dir = root().join("fixtures/decision");
    let mut args: Vec<String> = ["compare", "--format", format, "--as-of", "2026-06-01", "--thresholds", "policy.yml"]
        .map(String::from)
        .to_vec();
    for i in 1..=3 {
        args.extend(["--baseline".into(), format!("baseline-{i}.json")]);
    }
    for i in 1..=3 {
        args.extend(["--current".into(), format!("{current}-{i}.json")]);
    }
    Command::new(env!("CARGO_BIN_EXE_perfcert"))
        .args(&args)
        .env("PERFCERT_NO_GITHUB", "1")
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .unwrap()
}

fn json(current: &str) -> (i32, Value) {
    let out = compare(current, "json");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stderr {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

#[test]
fn three_runs_a_side_within_the_tolerance_pass_with_exit_0() {
    let (code, doc) = json("pass");
    assert_eq!(code, 0);
    assert_eq!(doc["status"], "PASS");
    assert_eq!(doc["runs_needed"], Value::Null);
    let row = &doc["metrics"][0];
    assert_eq!(row["status"], "PASS");
    assert_eq!(row["method"], "welch-t");
    // The bad end is within +10%.
    assert!(row["interval"]["upper"].as_f64().unwrap() <= 0.10, "{row}");
    // Look 1 of the default 3: the bad end at alpha / 3.
    assert_eq!(row["interval"]["upper_alpha"].as_f64(), Some(0.01 / 3.0));
}

#[test]
fn three_runs_a_side_clearly_beyond_the_tolerance_fail_with_exit_1() {
    let (code, doc) = json("fail");
    assert_eq!(code, 1);
    assert_eq!(doc["status"], "FAIL");
    let row = &doc["metrics"][0];
    assert_eq!(row["status"], "FAIL");
    // The good end is beyond +10%; with one gating row Holm's level is this look's alpha itself.
    assert!(row["interval"]["lower"].as_f64().unwrap() > 0.10, "{row}");
    assert_eq!(row["interval"]["lower_alpha"].as_f64(), Some(0.01 / 3.0));
    assert_eq!(doc["runs_needed"], Value::Null);
}

#[test]
fn an_interval_straddling_the_tolerance_is_inconclusive_with_exit_5_and_the_advice() {
    let (code, doc) = json("inconclusive");
    assert_eq!(code, 5);
    assert_eq!(doc["status"], "INCONCLUSIVE");
    assert_eq!(doc["summary"]["inconclusive"], 1);
    let row = &doc["metrics"][0];
    assert_eq!(row["status"], "INCONCLUSIVE");
    let (lo, hi) = (row["interval"]["lower"].as_f64().unwrap(), row["interval"]["upper"].as_f64().unwrap());
    assert!(lo < 0.10 && hi > 0.10, "{row}");
    let n = doc["runs_needed"].as_u64().expect("an integer runs_needed");
    assert!((1..=20).contains(&n), "{n}");
    assert_eq!(row["runs_needed"], doc["runs_needed"]);

    let table = String::from_utf8(compare("inconclusive", "table").stdout).unwrap();
    assert!(table.contains("INCONCLUSIVE: 1 of 1 gated metric could not be settled"), "{table}");
    assert!(table.contains(&format!("{n} more run")), "{table}");
    let markdown = String::from_utf8(compare("inconclusive", "markdown").stdout).unwrap();
    assert!(markdown.contains("**INCONCLUSIVE**"), "{markdown}");
    let junit = String::from_utf8(compare("inconclusive", "junit").stdout).unwrap();
    assert!(junit.contains(r#"<skipped message="INCONCLUSIVE: "#), "{junit}");
    assert!(junit.contains("would settle it"), "{junit}");
}

#[test]
fn the_threshold_method_on_the_same_runs_stays_pass_or_fail() {
    // Without the decision block the same inconclusive runs are +7.5% against +10%: PASS.
    let dir = root().join("fixtures/decision");
    let policy = std::env::temp_dir().join(format!("perfcert-decision-{}.yml", std::process::id()));
    std::fs::write(&policy, "metrics:\n  latency_p95_read: { max_increase: 10% }\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_perfcert"))
        .args(["compare", "--format", "json", "--as-of", "2026-06-01", "--thresholds"])
        .arg(&policy)
        .args(["--baseline", "baseline-1.json", "--baseline", "baseline-2.json", "--baseline", "baseline-3.json"])
        .args(["--current", "inconclusive-1.json", "--current", "inconclusive-2.json"])
        .args(["--current", "inconclusive-3.json"])
        .env("PERFCERT_NO_GITHUB", "1")
        .current_dir(dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&policy);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status"], "PASS");
    assert!(doc.get("runs_needed").is_none(), "threshold reports keep their shape");
    assert!(doc["metrics"][0].get("interval").is_none());
}

#[test]
fn statistical_reports_match_the_report_schema() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/report.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for current in ["pass", "fail", "inconclusive"] {
        let (_, doc) = json(current);
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{current}: {errors:?}");
    }
}

#[test]
fn an_inconclusive_report_makes_an_amber_badge() {
    let report = std::env::temp_dir().join(format!("perfcert-decision-badge-{}.json", std::process::id()));
    std::fs::write(&report, compare("inconclusive", "json").stdout).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_perfcert"))
        .args(["badge", "--format", "shields"])
        .arg(&report)
        .env("PERFCERT_NO_GITHUB", "1")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&report);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let badge: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(badge["message"], "INCONCLUSIVE");
    assert_eq!(badge["color"], "yellow");
}

#[test]
fn an_active_waiver_settles_an_inconclusive_row_and_says_so() {
    // "At the tolerance boundary: waive or decide": a waiver is how a person decides.
    let dir = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(root().join("fixtures/decision/policy.yml")).unwrap();
    let waived = format!(
        "{policy}waivers:\n  - metric: latency_p95_read\n    reason: PERF-123 accepted at the boundary\n    \
         approved_by: qa-lead\n    expires: 2026-07-01\n"
    );
    let path = dir.path().join("waived.yml");
    std::fs::write(&path, waived).unwrap();
    let mut args: Vec<String> =
        ["compare", "--format", "json", "--as-of", "2026-06-01", "--thresholds"].map(String::from).to_vec();
    args.push(path.display().to_string());
    for (flag, name) in [("--baseline", "baseline"), ("--current", "inconclusive")] {
        for i in 1..=3 {
            args.extend([
                flag.to_string(),
                root().join(format!("fixtures/decision/{name}-{i}.json")).display().to_string(),
            ]);
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_perfcert")).args(&args).env("PERFCERT_NO_GITHUB", "1").output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{doc}");
    let row = &doc["metrics"][0];
    assert_eq!(row["status"], "WAIVED", "{row}");
    let reasons = row["reasons"].to_string();
    assert!(reasons.contains("cannot tell") && reasons.contains("waived until 2026-07-01"), "{reasons}");
    // Expired, it no longer decides anything: INCONCLUSIVE again.
    let expired = args.iter().map(|a| if a == "2026-06-01" { "2026-08-01".to_string() } else { a.clone() });
    let out =
        Command::new(env!("CARGO_BIN_EXE_perfcert")).args(expired).env("PERFCERT_NO_GITHUB", "1").output().unwrap();
    assert_eq!(out.status.code(), Some(5));
}
