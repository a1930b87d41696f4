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
        location: None,
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
    assert!(!Outcome::of_drift(&pass, "00", Some("x")).unwrap().ticket);
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

/// The report's own `service` (drift writes it) wins over --service; without either, refused.
#[test]
fn a_drift_report_names_its_service_or_needs_one() {
    let mut report = json!({ "drift_report_version": 1, "status": "PASS", "metrics": [], "rollback": null });
    assert!(Outcome::of_drift(&report, "00", None).unwrap_err().contains("--service"));
    assert_eq!(Outcome::of_drift(&report, "00", Some("given")).unwrap().service.as_deref(), Some("given"));
    report["service"] = json!("checkout");
    let o = Outcome::of_drift(&report, "00", Some("given")).unwrap();
    assert_eq!((o.service.as_deref(), o.title().as_str()), (Some("checkout"), "drift PASS · checkout"));
}

/// The rollback bullet says the threshold, the factor and since when, when the report has them.
#[test]
fn the_rollback_bullet_says_threshold_and_since_when() {
    let report = json!({
        "drift_report_version": 1, "status": "ROLLBACK", "service": "ingest-api", "metrics": [
            { "name": "latency_p95", "status": "FAIL", "reasons": ["3 breaches"], "ticket": true,
              "ticket_at": "2026-03-01T12:35:00Z" }
        ],
        "rollback": { "flag": true, "metric": "latency_p95", "since": "2026-03-01T12:20:00Z",
                      "raised_at": "2026-03-01T12:30:00Z", "factor": 1.5, "for_seconds": 600.0,
                      "threshold": 300.17, "reason": null }
    });
    let o = Outcome::of_drift(&report, "00", None).unwrap();
    assert_eq!(
        o.problems,
        [
            "ROLLBACK (latency_p95): above 300.17 (1.5x baseline) since 12:20",
            "latency_p95 FAIL (ticket since 12:35): 3 breaches"
        ]
    );
    assert!(
        slack(&o)["blocks"][2]["text"]["text"].as_str().unwrap().contains("above 300.17 (1.5x baseline) since 12:20")
    );
}

fn bake_record(status: &str) -> Value {
    json!({
        "schema": 1, "service": "ingest-api", "version": "v1.4.2", "deployed_at": "2026-11-30T12:00:00Z",
        "window": { "from": "2026-11-30T12:00:00Z", "to": "2026-11-30T12:30:00Z",
                    "judged_to": "2026-11-30T12:03:00Z", "poll": 60.0 },
        "polls": 3, "stopped_early": status == "ROLLBACK",
        "drift": { "drift_report_version": 1, "status": "PASS", "metrics": [], "rollback": null },
        "slo": [
            { "metric": "error_rate", "window": { "start": "2026-11-30T12:00:00Z", "end": "2026-11-30T12:01:00Z" },
              "mean": 0.1, "max": 1.0, "ok": true },
            { "metric": "latency_p95", "window": { "start": "2026-11-30T12:02:00Z", "end": "2026-11-30T12:03:00Z" },
              "mean": 350.0, "max": 300.0, "ok": status != "ROLLBACK" }
        ],
        "slo_breach": if status == "ROLLBACK" {
            json!({ "metric": "latency_p95", "window_start": "2026-11-30T12:02:00Z", "mean": 350.0 })
        } else { Value::Null },
        "status": status, "signature": "cosign-key", "perfcert_version": "0.1.0"
    })
}

/// A bake record (`STEM.verify.json`): status, service, version, window and the SLO breach; a
/// ticket on FAIL and ROLLBACK only.
#[test]
fn a_bake_record_says_status_service_version_window_and_breach() {
    let o = Outcome::of_verification(&bake_record("ROLLBACK"), &"cd".repeat(32)).unwrap();
    assert_eq!(o.title(), "bake ROLLBACK · ingest-api v1.4.2");
    assert!(o.ticket);
    assert_eq!(o.problems, ["SLO breach (latency_p95): mean 350 > max 300 in the window from 2026-11-30T12:02:00Z"]);
    let facts: Vec<&str> = o.facts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(facts, ["Status", "Service", "Version", "Window", "Polls"]);
    assert_eq!(o.facts[3].1, "2026-11-30T12:00:00Z → 2026-11-30T12:30:00Z");
    assert!(labels(&o).contains(&"perf-bake".to_string()));
    for (status, ticket) in [("PASS", false), ("INCONCLUSIVE", false), ("FAIL", true)] {
        let o = Outcome::of_verification(&bake_record(status), "00").unwrap();
        assert_eq!((o.ticket, o.title()), (ticket, format!("bake {status} · ingest-api v1.4.2")), "{status}");
    }
    assert!(Outcome::of_verification(&json!({ "schema": 1 }), "00").unwrap_err().contains("bake record"));
}

/// The message names where the document is, when known.
#[test]
fn the_slack_message_names_the_certificate_location() {
    let mut o = failing(1, 3);
    assert!(!slack(&o).to_string().contains("certificate: `"));
    o.location = Some("s3://perf-certs/ingest/20261130/ingest-api-v1.4.2.cert.json".into());
    let m = slack(&o);
    let context = m["blocks"].as_array().unwrap().iter().find(|b| b["type"] == "context").unwrap();
    assert_eq!(
        context["elements"][1]["text"],
        "certificate: `s3://perf-certs/ingest/20261130/ingest-api-v1.4.2.cert.json`"
    );
    assert!(adf(&o).to_string().contains("s3://perf-certs/ingest/20261130/ingest-api-v1.4.2.cert.json"));
}

/// Without --to, the channels the environment configures.
#[test]
fn the_default_channels_are_the_configured_ones() {
    use send::{Channel, configured};
    let with = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    assert_eq!(configured(&with(&[])), []);
    assert_eq!(configured(&with(&[("PERFCERT_SLACK_WEBHOOK_URL", " ")])), []);
    assert_eq!(configured(&with(&[("PERFCERT_SLACK_WEBHOOK_URL", "https://x")])), [Channel::Slack]);
    assert_eq!(configured(&with(&[("PERFCERT_JIRA_URL", "https://x")])), [Channel::Jira]);
    assert_eq!(
        configured(&with(&[("PERFCERT_JIRA_API_TOKEN", "t"), ("PERFCERT_SLACK_WEBHOOK_URL", "https://x")])),
        [Channel::Slack, Channel::Jira]
    );
}
