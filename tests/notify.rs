//! Notifications and tickets against loopback stand-ins that record requests: the Slack body
//! and the Jira body as sent, every Jira description validated against Atlassian's ADF schema
//! (npm `@atlaskit/adf-schema`, installed by scripts/test.sh), service errors as one line that
//! never changes the verdict's exit code, and one ticket per certificate across re-runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use base64::Engine;
use common::stub::{Recorded, Reply, Stub};
use common::{command, fixture, policy, text, workdir_with_keys};
use perfcert::notify::{self, JiraTarget, Outcome, What};
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "T0000/B0000/webhooksecretpath1234";
const EMAIL: &str = "ci@example.com";
const TOKEN: &str = "jira-api-token-secret-5678";

/// Slack says `ok`; Jira's search finds an issue once one was created; creation gives PERFREG-24.
fn healthy(r: &Recorded, before: &[Recorded]) -> Reply {
    if r.path.starts_with("/services/") {
        return Reply::With(200, "ok".into());
    }
    if r.path.starts_with("/rest/api/3/search/jql") {
        let created = before.iter().any(|b| b.method == "POST" && b.path == "/rest/api/3/issue");
        let issues = if created { json!([{ "id": "10000", "key": "PERFREG-24" }]) } else { json!([]) };
        return Reply::With(200, json!({ "issues": issues }).to_string());
    }
    if r.method == "POST" && r.path == "/rest/api/3/issue" {
        return Reply::With(
            201,
            r#"{"id":"10000","key":"PERFREG-24","self":"http://x/rest/api/3/issue/10000"}"#.into(),
        );
    }
    Reply::With(404, "{}".into())
}

fn with_services(cmd: &mut std::process::Command, stub: &Stub) {
    cmd.env("PERFCERT_SLACK_WEBHOOK_URL", format!("{}/services/{WEBHOOK_SECRET}", stub.url))
        .env("PERFCERT_JIRA_URL", &stub.url)
        .env("PERFCERT_JIRA_EMAIL", EMAIL)
        .env("PERFCERT_JIRA_API_TOKEN", TOKEN)
        .env("PERFCERT_NOTIFY_TIMEOUT", "2")
        .env_remove("PERFCERT_JIRA_PROJECT");
}

fn run(dir: &Path, stub: &Stub, args: &[&str]) -> Output {
    let mut cmd = command(dir);
    with_services(&mut cmd, stub);
    let out = cmd.args(args).output().expect("run perfcert");
    let all = text(&out);
    assert!(!all.contains(WEBHOOK_SECRET) && !all.contains(TOKEN), "a secret was printed:\n{all}");
    out
}

fn adf_validator() -> jsonschema::Validator {
    let tools = common::tools(&["node_modules/@atlaskit/adf-schema/dist/json-schema/v1/full.json"]);
    let path = tools.join("node_modules/@atlaskit/adf-schema/dist/json-schema/v1/full.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the ADF schema compiles")
}

fn assert_adf(validator: &jsonschema::Validator, description: &Value) {
    let errors: Vec<String> =
        validator.iter_errors(description).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "not valid ADF: {errors:?}\n{description:#}");
}

fn certify_regressed(dir: &Path, stub: &Stub, extra: &[&str]) -> (Output, PathBuf) {
    let (b, r, p) = (fixture("baseline.json"), fixture("current-regressed.json"), policy());
    let mut args = vec!["certify", "--key", "cosign.key", "--baseline", &b, "--current", &r, "--thresholds", &p];
    args.extend(["--version", "v1.5.0", "--format", "json"]);
    args.extend(extra);
    let out = run(dir, stub, &args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out, dir.join(v["certificate"].as_str().unwrap_or_default()))
}

#[test]
fn a_failed_certify_posts_to_slack_and_files_one_jira_issue_across_reruns() {
    let validator = adf_validator();
    let dir = workdir_with_keys();
    let stub = Stub::start(healthy);
    let (out, cert) = certify_regressed(dir.path(), &stub, &["--notify", "slack,jira"]);
    assert_eq!(out.status.code(), Some(1), "the verdict's code: {}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("slack: posted \"perf FAIL · ingest-api v1.5.0\""), "{err}");
    assert!(err.contains("jira: filed PERFREG-24"), "{err}");

    let slack = stub.matching("POST", "/services/");
    assert_eq!(slack.len(), 1);
    let message = slack[0].json();
    assert_eq!(slack[0].header("content-type"), Some("application/json"));
    assert_eq!(message["text"], "perf FAIL · ingest-api v1.5.0");
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(
        blocks[0],
        json!({ "type": "header", "text": { "type": "plain_text", "text": "perf FAIL · ingest-api v1.5.0", "emoji": false } })
    );
    assert!(blocks[2]["text"]["text"].as_str().unwrap().contains(" FAIL: "), "the failing rows: {message:#}");
    let sha = perfcert::signing::sha256_hex(&std::fs::read(&cert).unwrap());
    assert!(blocks.last().unwrap().to_string().contains(&sha), "the context names the certificate's sha256");

    let created = stub.matching("POST", "/rest/api/3/issue");
    assert_eq!(created.len(), 1);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"));
    assert_eq!(created[0].header("authorization"), Some(format!("Basic {basic}").as_str()));
    let fields = &created[0].json()["fields"];
    assert_eq!(fields["project"], json!({ "key": "PERFREG" }));
    assert_eq!(fields["issuetype"], json!({ "name": "Bug" }));
    assert_eq!(fields["summary"], "PERF-REG: perf FAIL · ingest-api v1.5.0");
    let label = format!("perfcert-{}", &sha[..12]);
    assert_eq!(fields["labels"], json!(["perfcert", "perf-regression", "svc-ingest-api", label]));
    assert_adf(&validator, &fields["description"]);
    // The search by label came first.
    let searches = stub.matching("GET", "/rest/api/3/search/jql");
    assert_eq!(searches.len(), 1);
    assert!(searches[0].path.contains(&label), "{}", searches[0].path);

    let marker = cert.with_file_name("ingest-api-v1.5.0.jira.json");
    let m: Value = serde_json::from_slice(&std::fs::read(&marker).expect("the marker beside the certificate")).unwrap();
    assert_eq!((m["jira"].as_str(), m["label"].as_str()), (Some("PERFREG-24"), Some(label.as_str())));

    // A re-run finds the marker: no request to Jira at all.
    let c = cert.display().to_string();
    let again = run(dir.path(), &stub, &["notify", &c, "--to", "jira"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("jira: PERFREG-24 was filed for it already"), "{}", text(&again));
    assert_eq!(stub.matching("POST", "/rest/api/3/issue").len(), 1);
    assert_eq!(stub.matching("GET", "/rest/api/3/search/jql").len(), 1);

    // Without the marker (a run that died before writing it), the label search finds the issue.
    std::fs::remove_file(&marker).unwrap();
    let found = run(dir.path(), &stub, &["notify", &c, "--to", "jira"]);
    assert_eq!(found.status.code(), Some(0), "{}", text(&found));
    assert!(text(&found).contains(&format!("PERFREG-24 was filed for it already (label {label})")), "{}", text(&found));
    assert_eq!(stub.matching("POST", "/rest/api/3/issue").len(), 1, "no second issue");
    assert!(marker.exists(), "the marker is written again");
}

#[test]
fn a_pass_posts_to_slack_and_files_no_ticket() {
    let dir = workdir_with_keys();
    let stub = Stub::start(healthy);
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let out = run(
        dir.path(),
        &stub,
        &["compare", "--baseline", &b, "--current", &c, "--thresholds", &p, "--notify", "slack"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stub.matching("POST", "/services/")[0].json()["text"], "perf PASS · ingest-api v1.4.2");
    let cert = common::root().join("fixtures/certificates/ingest-api-v1.4.2.cert.json");
    let copy = dir.path().join("ingest-api-v1.4.2.cert.json");
    std::fs::copy(cert, &copy).unwrap();
    let out = run(dir.path(), &stub, &["notify", &copy.display().to_string(), "--to", "jira"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("jira: no ticket for PASS"), "{}", text(&out));
    assert!(
        stub.matching("POST", "/rest/api/3/issue").is_empty()
            && !dir.path().join("ingest-api-v1.4.2.jira.json").exists()
    );
    // compare makes no certificate, so no ticket.
    let refused =
        run(dir.path(), &stub, &["compare", "--baseline", &b, "--current", &c, "--thresholds", &p, "--notify", "jira"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
}

/// How a stand-in answers every request.
type Answer = fn(&Recorded, &[Recorded]) -> Reply;

#[test]
fn service_errors_are_one_line_and_never_change_the_exit_code() {
    let dir = workdir_with_keys();
    let (b, p) = (fixture("baseline.json"), policy());
    let cases: [(&str, Answer, &str); 4] = [
        ("400", |_, _| Reply::With(400, "invalid_payload".into()), "HTTP 400: invalid_payload"),
        ("500", |_, _| Reply::With(500, "rollup_error".into()), "HTTP 500: rollup_error"),
        ("timeout", |_, _| Reply::Hang(Duration::from_secs(4)), "timed out"),
        // A proxy that echoes the request, credentials and all.
        ("echo", |r, _| Reply::With(403, format!("{} {:?}", r.path, r.headers)), "HTTP 403"),
    ];
    for (name, reply, says) in cases {
        let stub = Stub::start(reply);
        for (current, verdict) in [("current.json", 0), ("current-regressed.json", 1)] {
            let c = fixture(current);
            let args = ["compare", "--baseline", &b, "--current", &c, "--thresholds", &p, "--notify", "slack"];
            let out = run(dir.path(), &stub, &args);
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(verdict), "{name}: the verdict's code, not the webhook's: {err}");
            let lines: Vec<&str> = err.lines().filter(|l| l.contains("slack")).collect();
            assert_eq!(lines.len(), 1, "{name}: one line: {err}");
            assert!(lines[0].starts_with("warning: slack: ") && lines[0].contains(says), "{name}: {err}");
            assert!(!err.contains(WEBHOOK_SECRET), "{name}: the webhook URL was printed: {err}");
        }
        // notify alone has its own code: 3 when a channel failed.
        let cert = dir.path().join("failed.cert.json");
        let mut doc: Value = serde_json::from_slice(
            &std::fs::read(common::root().join("fixtures/certificates/ingest-api-v1.4.2.cert.json")).unwrap(),
        )
        .unwrap();
        doc["status"] = json!("FAIL");
        std::fs::write(&cert, doc.to_string()).unwrap();
        let out = run(dir.path(), &stub, &["notify", &cert.display().to_string(), "--to", "slack,jira"]);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(err.lines().filter(|l| l.starts_with("warning: ")).count(), 2, "{name}: one line a channel: {err}");
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"));
        assert!(!err.contains(&basic), "{name}: the Basic credentials were printed: {err}");
        assert!(!dir.path().join("failed.jira.json").exists(), "{name}: no marker without an issue");
    }
}

#[test]
fn missing_settings_are_one_line_each() {
    let dir = workdir_with_keys();
    let cert = common::root().join("fixtures/certificates/ingest-api-v1.4.2.cert.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(cert).unwrap()).unwrap();
    doc["status"] = json!("FAIL");
    let path = dir.path().join("x.cert.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let mut cmd = command(dir.path());
    for v in ["PERFCERT_SLACK_WEBHOOK_URL", "PERFCERT_JIRA_URL", "PERFCERT_JIRA_EMAIL", "PERFCERT_JIRA_API_TOKEN"] {
        cmd.env_remove(v);
    }
    let out = cmd.args(["notify", &path.display().to_string()]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: slack: PERFCERT_SLACK_WEBHOOK_URL is not set"), "{err}");
    assert!(
        err.contains("warning: jira: PERFCERT_JIRA_URL, PERFCERT_JIRA_EMAIL, PERFCERT_JIRA_API_TOKEN not set"),
        "{err}"
    );
    let bad = command(dir.path())
        .args(["notify", &path.display().to_string(), "--jira-project", "PERF-REG"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("PERFREG"), "{}", text(&bad));
}

#[test]
fn a_drift_rollback_files_a_ticket_beside_its_report() {
    let validator = adf_validator();
    let dir = workdir_with_keys();
    let stub = Stub::start(healthy);
    let report = json!({
        "drift_report_version": 1, "perfcert_version": "0.1.0", "status": "ROLLBACK",
        "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T02:00:00Z",
        "metrics": [{ "name": "latency_p95_read", "status": "FAIL", "reasons": ["4 windows above the band"], "ticket": true }],
        "rollback": { "flag": true, "metric": "latency_p95_read", "reason": "above 2x baseline for 10m" },
        "warnings": []
    });
    let path = dir.path().join("drift.json");
    std::fs::write(&path, report.to_string()).unwrap();
    let p = path.display().to_string();
    let out =
        run(dir.path(), &stub, &["notify", "--drift-report", &p, "--service", "ingest-api", "--jira-project", "OPS"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stub.matching("POST", "/services/")[0].json()["text"], "drift ROLLBACK · ingest-api");
    let fields = &stub.matching("POST", "/rest/api/3/issue")[0].json()["fields"];
    assert_eq!(fields["project"]["key"], "OPS");
    assert_eq!(fields["summary"], "PERF-REG: drift ROLLBACK · ingest-api");
    assert!(fields["labels"].as_array().unwrap().contains(&json!("perf-drift")));
    assert_adf(&validator, &fields["description"]);
    assert!(dir.path().join("drift.jira.json").exists());
}

/// A breach that lasts is one issue, not one per scheduled run: while an issue labelled
/// `perf-drift` and `svc-SERVICE` is open, a new drift report of that service files nothing (and
/// names it in its marker); another service's drift still files its own.
#[test]
fn a_lasting_drift_breach_files_no_second_issue_while_one_is_open() {
    let dir = workdir_with_keys();
    let stub = Stub::start(|r: &Recorded, _: &[Recorded]| {
        if r.path.starts_with("/services/") {
            return Reply::With(200, "ok".into());
        }
        if r.path.starts_with("/rest/api/3/search/jql") {
            let open = r.path.contains("statusCategory") && r.path.contains("svc-ingest-api");
            let issues = if open { json!([{ "id": "1", "key": "PERFREG-30" }]) } else { json!([]) };
            return Reply::With(200, json!({ "issues": issues }).to_string());
        }
        if r.method == "POST" && r.path == "/rest/api/3/issue" {
            return Reply::With(201, r#"{"id":"2","key":"PERFREG-31","self":"x"}"#.into());
        }
        Reply::With(404, "{}".into())
    });
    let report = |to: &str| {
        json!({
            "drift_report_version": 1, "perfcert_version": "0.1.0", "status": "FAIL",
            "from": "2026-03-01T00:00:00Z", "to": to,
            "metrics": [{ "name": "cpu_utilization", "status": "FAIL", "reasons": ["3 windows above the band"], "ticket": true }],
            "warnings": []
        })
        .to_string()
    };
    std::fs::write(dir.path().join("drift-2.json"), report("2026-03-01T02:00:00Z")).unwrap();
    let out = run(dir.path(), &stub, &["notify", "--drift-report", "drift-2.json", "--service", "ingest-api"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("PERFREG-30 is still open"), "{}", text(&out));
    assert!(stub.matching("POST", "/rest/api/3/issue").is_empty(), "no second issue");
    let marker: Value = serde_json::from_slice(&std::fs::read(dir.path().join("drift-2.jira.json")).unwrap()).unwrap();
    assert_eq!(marker["jira"], "PERFREG-30");

    std::fs::write(dir.path().join("other.json"), report("2026-03-01T03:00:00Z")).unwrap();
    let out = run(dir.path(), &stub, &["notify", "--drift-report", "other.json", "--service", "billing"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("jira: filed PERFREG-31"), "{}", text(&out));
    assert_eq!(stub.matching("POST", "/rest/api/3/issue").len(), 1);
}

/// Every shape of description the builder makes is valid ADF: long, empty, odd characters.
#[test]
fn every_jira_description_is_valid_adf() {
    let validator = adf_validator();
    let target = JiraTarget { project: "PERFREG".into(), issue_type: "Bug".into() };
    let mut shapes = vec![];
    for (n, len) in [(0, 0), (1, 0), (3, 40), (80, 5_000)] {
        for link in [None, Some("https://github.com/acme/api/actions/runs/1".to_string())] {
            shapes.push(Outcome {
                what: if n == 3 { What::Drift } else { What::Certificate },
                subject: if n == 0 { String::new() } else { "svc <&> \"v1\"".into() },
                service: Some("svc with spaces/ü".into()),
                status: "FAIL".into(),
                facts: vec![("Status".into(), "FAIL".into()), ("Commit".into(), String::new())],
                problems: (0..n).map(|i| format!("m{i} FAIL: {}\u{1F525}\n*x*", "r".repeat(len))).collect(),
                sha256: (n != 1).then(|| "ab".repeat(32)),
                link,
                ticket: true,
            });
        }
    }
    for o in &shapes {
        let body = notify::jira(o, &target);
        assert_adf(&validator, &body["fields"]["description"]);
        assert!(body["fields"]["labels"].as_array().unwrap().iter().all(|l| !l.as_str().unwrap().contains(' ')));
    }
    // And the schema is the real one: it refuses bare text at the top.
    let bad = json!({ "type": "doc", "version": 1, "content": [{ "type": "text", "text": "x" }] });
    assert!(!validator.is_valid(&bad));
}

/// Slack's rate limit: a 429 with a short Retry-After is waited for and tried once more; a
/// second 429 (or a long wait) is the one-line failure.
#[test]
fn a_rate_limited_post_is_tried_once_more_after_retry_after() {
    let dir = workdir_with_keys();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let args = ["compare", "--baseline", &b, "--current", &c, "--thresholds", &p, "--notify", "slack"];
    let once = Stub::start(|_, before| {
        if before.is_empty() { Reply::RateLimited(1, "rate_limited".into()) } else { Reply::With(200, "ok".into()) }
    });
    let out = run(dir.path(), &once, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("slack: posted"), "{}", text(&out));
    assert_eq!(once.requests().len(), 2);

    let always = Stub::start(|_, _| Reply::RateLimited(1, "rate_limited".into()));
    let out = run(dir.path(), &always, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("warning: slack: the webhook refused the message: HTTP 429: rate_limited"),
        "{}",
        text(&out)
    );
    assert_eq!(always.requests().len(), 2, "tried twice, no more");

    let long = Stub::start(|_, _| Reply::RateLimited(60, "rate_limited".into()));
    let out = run(dir.path(), &long, &args);
    assert!(text(&out).contains("HTTP 429"), "{}", text(&out));
    assert_eq!(long.requests().len(), 1, "a minute is not waited for");
}
