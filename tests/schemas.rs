//! The shipped JSON Schemas describe what perfcert really reads and writes: every native
//! fixture validates against `results.schema.json` (and the invalid ones do not), and every
//! JSON report snapshot validates against `report.schema.json`.

mod common;

use std::path::{Path, PathBuf};

use common::root;

fn load(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    // Snapshots hold a wildcard for the version; any string will do here.
    serde_json::from_str(&text.replace("\"[..]\"", "\"0.0.0\"")).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&load(&root().join("schemas").join(name))).unwrap()
}

fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

#[test]
fn native_fixtures_match_the_results_schema() {
    let schema = validator("results.schema.json");
    let good: Vec<PathBuf> = ["fixtures/perf004", "fixtures/edge"].iter().flat_map(|d| files(d, ".json")).collect();
    assert!(good.len() >= 5);
    for path in good {
        let errors: Vec<String> = schema.iter_errors(&load(&path)).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    for bad in ["negative.json", "wrong-type.json"] {
        assert!(!schema.is_valid(&load(&root().join("fixtures/bad").join(bad))), "{bad} must not validate");
    }
}

#[test]
fn json_reports_match_the_report_schema() {
    let schema = validator("report.schema.json");
    let reports: Vec<PathBuf> = files("tests/cmd", "json.stdout");
    assert!(reports.len() >= 3);
    for path in reports {
        let errors: Vec<String> = schema.iter_errors(&load(&path)).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
}

#[test]
fn certificates_match_the_certificate_schema() {
    use perfcert::certificate::{self, FileDigest, Identity, Inputs, Method};
    let schema = validator("certificate.schema.json");
    let policy_text = std::fs::read_to_string(root().join("fixtures/perf004/waivers.yml")).unwrap();
    let policy = perfcert::policy::parse("waivers.yml", &policy_text).unwrap();
    let load =
        |n: &str| perfcert::input::load(&root().join("fixtures/perf004").join(n), None, &policy.classes).unwrap();
    let digest = |f: &str| FileDigest { file: f.into(), sha256: "ab".repeat(32), run: None };
    for current in ["current.json", "current-regressed.json"] {
        let (b, c) = (load("baseline.json"), load(current));
        let comparison = perfcert::compare::compare(&b, &c, &policy, jiff::civil::date(2026, 6, 1));
        let identity = Identity {
            service: "ingest-api".into(),
            version: "v1.4.2".into(),
            commit: Some("abc1234".into()),
            date: "2026-06-01T12:00:00Z".into(),
            approvers: vec!["qa-lead".into()],
            signature: Method::Key,
        };
        let inputs = Inputs {
            baseline: vec![digest("b.json")],
            current: vec![digest("c.json")],
            duet: vec![],
            thresholds: digest("p.yml"),
            reference: vec![digest("r.json")],
        };
        // Schema 1 (the threshold method), and schema 2 as a statistical decision records it.
        let mut statistical = policy.decision;
        statistical.method = perfcert::policy::DecisionMethod::Statistical;
        statistical.noise_cov = Some(0.01);
        let v2 = perfcert::record::Decision::of(&statistical, 2);
        for decision in [None, v2] {
            let cert = certificate::build(identity.clone(), &comparison, &b, &c, inputs.clone(), decision.clone());
            let doc: serde_json::Value = serde_json::from_str(&cert.to_json()).unwrap();
            let errors: Vec<String> = schema.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{current}: {errors:?}");
            assert_eq!(doc["schema"], if decision.is_some() { 2 } else { 1 });
            // The document reads back as the same certificate.
            assert_eq!(serde_json::from_value::<certificate::Certificate>(doc.clone()).unwrap(), cert);
            // A version-1 document with a decision, or a version-2 one without, is invalid.
            let mut wrong = doc;
            match decision {
                Some(_) => drop(wrong.as_object_mut().unwrap().remove("decision")),
                None => wrong["runs_needed"] = serde_json::json!(3),
            }
            assert!(!schema.is_valid(&wrong), "{current}: the schema number and its fields must agree");
        }
    }
    assert!(!schema.is_valid(&serde_json::json!({"schema": 1})), "required fields are required");
}
