use serde_json::{Value, json};

use super::*;

fn failing(n: usize, reason_len: usize) -> Outcome {
    Outcome {
        what: What::Certificate,
        subject: "ingest-api v1.4.2".into(),
        service: Some("ingest-api".into()),
        status: "FAIL".into(),
        facts: vec![("Status".into(), "FAIL".into()), ("Commit".into(), "abc123".into())],
        problems: (0..n).map(|i| format!("metric_{i} FAIL: {}", "x".repeat(reason_len))).collect(),
        sha256: Some("ab".repeat(32)),
        link: Some("https://ci.example/run/1".into()),
        ticket: true,
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

#[test]
fn a_fail_certificate_says_what_failed() {
    let text = include_str!("../../fixtures/certificates/ingest-api-v1.4.2.cert.json");
    let mut cert: Certificate = serde_json::from_str(text).unwrap();
    cert.status = "FAIL".into();
    cert.comparison[1]["status"] = json!("FAIL");
    cert.comparison[1]["reasons"] = json!(["+12.5% > +10%"]);
    let o = Outcome::of_certificate(&cert, &"cd".repeat(32));
    assert!(o.ticket);
    assert_eq!(o.problems, ["latency_p95_write FAIL: +12.5% > +10%"]);
    let m = slack(&o);
    assert_eq!(m["text"], "perf FAIL · ingest-api v1.4.2");
    assert_eq!(m["blocks"][0]["type"], "header");
    assert_eq!(m["blocks"][2]["text"]["text"], "• latency_p95_write FAIL: +12.5% &gt; +10%");
    let body = jira(&o, &JiraTarget { project: "PERFREG".into(), issue_type: "Bug".into() });
    assert_eq!(body["fields"]["project"]["key"], "PERFREG");
    assert_eq!(body["fields"]["summary"], "PERF-REG: perf FAIL · ingest-api v1.4.2");
    assert_eq!(
        body["fields"]["labels"],
        json!(["perfcert", "perf-regression", "svc-ingest-api", "perfcert-cdcdcdcdcdcd"])
    );
    assert_eq!(body["fields"]["description"]["type"], "doc");
}

#[test]
fn a_pass_certificate_wants_no_ticket() {
    let text = include_str!("../../fixtures/certificates/ingest-api-v1.4.2.cert.json");
    let cert: Certificate = serde_json::from_str(text).unwrap();
    let o = Outcome::of_certificate(&cert, "00");
    assert!(!o.ticket);
    assert!(o.problems.is_empty());
}

#[test]
fn slack_limits_are_kept_by_cutting_never_by_failing() {
    for (n, len) in [(1, 10_000), (500, 40), (3, 2_990), (60, 300)] {
        let mut o = failing(n, len);
        o.subject = "s".repeat(400);
        o.facts = (0..15).map(|i| (format!("k{i}"), "v".repeat(5_000))).collect();
        let m = slack(&o);
        let blocks = m["blocks"].as_array().unwrap();
        assert!(blocks.len() <= SLACK_MAX_BLOCKS);
        assert!(chars(&blocks[0]["text"]["text"]) <= SLACK_MAX_HEADER);
        assert!(blocks[0]["text"]["text"].as_str().unwrap().ends_with('…'));
        for b in blocks {
            if let Some(fields) = b["fields"].as_array() {
                assert!(fields.len() <= SLACK_MAX_FIELDS);
                assert!(fields.iter().all(|f| chars(&f["text"]) <= SLACK_MAX_FIELD));
            }
            if b["type"] == "section" && b.get("text").is_some() {
                let t = b["text"]["text"].as_str().unwrap();
                assert!(t.chars().count() <= SLACK_MAX_SECTION, "{n} x {len}: {}", t.len());
                if n > 1 {
                    assert!(t.contains(" more"), "{n} x {len}: the cut is not marked");
                }
            }
        }
        assert!(m.to_string().chars().count() <= SLACK_MAX_TOTAL, "{n} x {len}");
    }
}

#[test]
fn jira_summary_and_description_are_bounded() {
    let mut o = failing(80, 5_000);
    o.subject = "s".repeat(400);
    let body = jira(&o, &JiraTarget { project: "PERFREG".into(), issue_type: "Bug".into() });
    assert_eq!(chars(&body["fields"]["summary"]), JIRA_MAX_SUMMARY);
    let content = body["fields"]["description"]["content"].as_array().unwrap();
    let list = content.iter().find(|n| n["type"] == "bulletList").unwrap();
    assert_eq!(list["content"].as_array().unwrap().len(), JIRA_MAX_PROBLEMS);
    assert!(content.iter().any(|n| n.to_string().contains("+30 more")));
}

#[test]
fn project_keys_hold_no_hyphen() {
    assert!(check_project_key("PERFREG").is_ok());
    assert!(check_project_key("PERF_REG2").is_ok());
    for bad in ["PERF-REG", "perfreg", "1PERF", ""] {
        assert!(check_project_key(bad).unwrap_err().contains("PERFREG"), "{bad}");
    }
}

#[test]
fn a_drift_rollback_wants_a_ticket() {
    let report = json!({
        "drift_report_version": 1, "status": "ROLLBACK", "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T01:00:00Z",
        "metrics": [
            { "name": "latency_p95", "status": "FAIL", "reasons": ["3 breaches"], "ticket": false },
            { "name": "error_rate", "status": "PASS", "reasons": [], "ticket": false }
        ],
        "rollback": { "flag": true, "metric": "latency_p95", "reason": "2x baseline for 10m" }
    });
    let o = Outcome::of_drift(&report, &"ef".repeat(32), Some("ingest-api")).unwrap();
    assert!(o.ticket);
    assert_eq!(o.title(), "drift ROLLBACK · ingest-api");
    assert_eq!(o.problems, ["ROLLBACK (latency_p95): 2x baseline for 10m", "latency_p95 FAIL: 3 breaches"]);
    assert!(labels(&o).contains(&"perf-drift".to_string()));
    let pass = json!({ "drift_report_version": 1, "status": "PASS", "metrics": [], "rollback": null });
    assert!(!Outcome::of_drift(&pass, "00", None).unwrap().ticket);
    assert!(Outcome::of_drift(&json!({ "status": "PASS" }), "00", None).unwrap_err().contains("drift_report_version"));
}

#[test]
fn no_text_node_is_empty() {
    let mut o = failing(1, 0);
    o.facts.push(("Commit".into(), String::new()));
    o.problems.push(String::new());
    fn walk(v: &Value) {
        if v["type"] == "text" {
            assert!(!v["text"].as_str().unwrap().is_empty());
        }
        for child in v["content"].as_array().into_iter().flatten() {
            walk(child);
        }
    }
    walk(&adf(&o));
}
