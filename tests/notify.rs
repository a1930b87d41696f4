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
        // Exit 3 is this command's failure: said as errors, not warnings.
        assert_eq!(err.lines().filter(|l| l.starts_with("error: ")).count(), 2, "{name}: one line a channel: {err}");
        assert!(!err.contains("warning: "), "{name}: {err}");
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
    let out = cmd.args(["notify", &path.display().to_string(), "--to", "slack,jira"]).output().unwrap();
    // A setting missing is a configuration error (2), not a service that failed (3).
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: slack: PERFCERT_SLACK_WEBHOOK_URL is not set\n"), "{err}");
    assert!(
        err.contains(
            "error: jira: PERFCERT_JIRA_URL, PERFCERT_JIRA_EMAIL, PERFCERT_JIRA_API_TOKEN not set; nothing was sent"
        ),
        "{err}"
    );
    // Jira partly configured (the URL set, the token missing): configured, so asked for, and
    // still exit 2 naming what is missing, before anything is sent.
    let mut cmd = command(dir.path());
    for v in ["PERFCERT_SLACK_WEBHOOK_URL", "PERFCERT_JIRA_EMAIL", "PERFCERT_JIRA_API_TOKEN"] {
        cmd.env_remove(v);
    }
    cmd.env("PERFCERT_JIRA_URL", "http://127.0.0.1:9");
    let out = cmd.args(["notify", &path.display().to_string()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: jira: PERFCERT_JIRA_EMAIL, PERFCERT_JIRA_API_TOKEN not set; nothing was sent"),
        "{err}"
    );
    assert!(!err.contains("could not be reached"), "{err}");
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
    // The open-issue search looks in the project filed in only.
    let searches = stub.matching("GET", "/rest/api/3/search/jql");
    assert!(searches.iter().any(|s| s.path.contains("project+%3D+%22OPS%22+AND+labels")), "{searches:?}");
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
                location: None,
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

fn rollback_record() -> Value {
    json!({
        "schema": 1, "service": "ingest-api", "version": "v1.4.2", "deployed_at": "2026-11-30T12:00:00Z",
        "window": { "from": "2026-11-30T12:00:00Z", "to": "2026-11-30T12:30:00Z",
                    "judged_to": "2026-11-30T12:03:00Z", "poll": 60.0 },
        "polls": 3, "stopped_early": true, "sources": [], "baseline": {},
        "drift": { "drift_report_version": 1, "status": "PASS", "metrics": [], "rollback": null },
        "slo": [{ "metric": "latency_p95", "window": { "start": "2026-11-30T12:02:00Z", "end": "2026-11-30T12:03:00Z" },
                  "mean": 350.0, "max": 300.0, "ok": false }],
        "slo_breach": { "metric": "latency_p95", "window_start": "2026-11-30T12:02:00Z", "mean": 350.0 },
        "status": "ROLLBACK", "codedeploy": null, "signature": "cosign-key", "perfcert_version": "0.1.0"
    })
}

/// A bake record is posted and filed (once, the marker beside it); what notify cannot read is
/// refused naming what it reads, not with a parser's error.
#[test]
fn a_bake_record_is_posted_and_filed_once() {
    let validator = adf_validator();
    let dir = workdir_with_keys();
    let stub = Stub::start(healthy);
    let path = dir.path().join("ingest-api-v1.4.2.verify.json");
    std::fs::write(&path, rollback_record().to_string()).unwrap();
    let p = path.display().to_string();
    let out = run(dir.path(), &stub, &["notify", &p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let message = stub.matching("POST", "/services/")[0].json();
    assert_eq!(message["text"], "bake ROLLBACK · ingest-api v1.4.2");
    let all = message.to_string();
    for said in ["2026-11-30T12:00:00Z → 2026-11-30T12:30:00Z", "SLO breach (latency_p95): mean 350 &gt; max 300"] {
        assert!(all.contains(said), "{said}: {message:#}");
    }
    let created = stub.matching("POST", "/rest/api/3/issue");
    assert_eq!(created.len(), 1);
    let fields = &created[0].json()["fields"];
    assert_eq!(fields["summary"], "PERF-REG: bake ROLLBACK · ingest-api v1.4.2");
    assert_adf(&validator, &fields["description"]);
    let marker = dir.path().join("ingest-api-v1.4.2.verify.jira.json");
    assert!(marker.exists());
    let again = run(dir.path(), &stub, &["notify", &p, "--to", "jira"]);
    assert!(text(&again).contains("PERFREG-24 was filed for it already"), "{}", text(&again));
    assert_eq!(stub.matching("POST", "/rest/api/3/issue").len(), 1);

    for (name, content) in [
        ("bundle.sigstore.json", r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#),
        ("other.json", r#"{"hello":1}"#),
        ("text.txt", "not json"),
    ] {
        std::fs::write(dir.path().join(name), content).unwrap();
        let out = run(dir.path(), &stub, &["notify", name]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        let said = text(&out);
        assert!(
            said.contains(name) && said.contains("a certificate (STEM.cert.json), a bake record (STEM.verify.json"),
            "{name}: {said}"
        );
    }
}

/// Without --to, the configured channels; none configured is exit 2 naming the variables.
#[test]
fn without_to_notify_posts_to_the_configured_channels() {
    let dir = workdir_with_keys();
    let stub = Stub::start(healthy);
    let path = dir.path().join("ingest-api-v1.4.2.verify.json");
    std::fs::write(&path, rollback_record().to_string()).unwrap();
    let p = path.display().to_string();
    let mut cmd = command(dir.path());
    with_services(&mut cmd, &stub);
    for v in ["PERFCERT_JIRA_URL", "PERFCERT_JIRA_EMAIL", "PERFCERT_JIRA_API_TOKEN"] {
        cmd.env_remove(v);
    }
    let out = cmd.args(["notify", &p]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "slack only, jira not configured: {}", text(&out));
    assert_eq!(stub.matching("POST", "/services/").len(), 1);
    assert!(stub.matching("POST", "/rest/api/3/issue").is_empty() && !text(&out).contains("jira"), "{}", text(&out));

    let mut cmd = command(dir.path());
    for v in ["PERFCERT_SLACK_WEBHOOK_URL", "PERFCERT_JIRA_URL", "PERFCERT_JIRA_EMAIL", "PERFCERT_JIRA_API_TOKEN"] {
        cmd.env_remove(v);
    }
    let out = cmd.args(["notify", &p]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    for var in ["PERFCERT_SLACK_WEBHOOK_URL", "PERFCERT_JIRA_URL", "PERFCERT_JIRA_EMAIL", "PERFCERT_JIRA_API_TOKEN"] {
        assert!(err.contains(var), "{var}: {err}");
    }
}

/// A drift report's own `service` names it; without it or --service, exit 2. The certificate's
/// message names its path.
#[test]
fn a_drift_report_without_a_service_is_refused_and_a_certificate_message_names_its_path() {
    let dir = workdir_with_keys();
    let stub = Stub::start(healthy);
    let mut report = json!({
        "drift_report_version": 1, "perfcert_version": "0.1.0", "status": "FAIL",
        "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T02:00:00Z",
        "metrics": [{ "name": "cpu_utilization", "status": "FAIL", "reasons": ["3 windows above the band"], "ticket": false }],
        "rollback": null, "warnings": []
    });
    std::fs::write(dir.path().join("anon.json"), report.to_string()).unwrap();
    let out = run(dir.path(), &stub, &["notify", "anon.json", "--to", "slack"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("anon.json") && text(&out).contains("--service"), "{}", text(&out));
    assert!(stub.matching("POST", "/services/").is_empty());
    report["service"] = json!("checkout");
    std::fs::write(dir.path().join("named.json"), report.to_string()).unwrap();
    let out = run(dir.path(), &stub, &["notify", "named.json", "--to", "slack", "--service", "ignored"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stub.matching("POST", "/services/")[0].json()["text"], "drift FAIL · checkout");

    let cert = dir.path().join("ingest-api-v1.4.2.cert.json");
    std::fs::copy(common::root().join("fixtures/certificates/ingest-api-v1.4.2.cert.json"), &cert).unwrap();
    let out = run(dir.path(), &stub, &["notify", &cert.display().to_string(), "--to", "slack"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let message = stub.matching("POST", "/services/")[1].json();
    assert!(message.to_string().contains(&format!("certificate: `{}`", cert.display())), "{message:#}");
}

/// Jira created the issue but its answer named no key: the marker names the label, and a
/// re-run files nothing.
#[test]
fn a_created_issue_without_a_key_still_writes_the_marker() {
    let dir = workdir_with_keys();
    let stub = Stub::start(|r: &Recorded, _: &[Recorded]| {
        if r.path.starts_with("/rest/api/3/search/jql") {
            return Reply::With(200, json!({ "issues": [] }).to_string());
        }
        if r.method == "POST" && r.path == "/rest/api/3/issue" {
            return Reply::With(201, "{}".into());
        }
        Reply::With(404, "{}".into())
    });
    let path = dir.path().join("ingest-api-v1.4.2.verify.json");
    let bytes = rollback_record().to_string();
    std::fs::write(&path, &bytes).unwrap();
    let label = format!("perfcert-{}", &perfcert::signing::sha256_hex(bytes.as_bytes())[..12]);
    let p = path.display().to_string();
    let out = run(dir.path(), &stub, &["notify", &p, "--to", "jira"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("named no key (search labels = {label})")), "{}", text(&out));
    let marker: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ingest-api-v1.4.2.verify.jira.json")).unwrap()).unwrap();
    assert_eq!((&marker["jira"], marker["label"].as_str()), (&Value::Null, Some(label.as_str())));
    let again = run(dir.path(), &stub, &["notify", &p, "--to", "jira"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("an issue was filed for it already"), "{}", text(&again));
    assert_eq!(stub.matching("POST", "/rest/api/3/issue").len(), 1, "no second issue");
}

/// `bake --notify slack,jira` posts the record at the end, the exit code staying the bake's.
#[test]
fn bake_notify_posts_the_record_and_keeps_the_exit_code() {
    let d = common::bake::data();
    let Some(prom) = common::prom::Prometheus::start(&d.openmetrics) else { return };
    let dir = workdir_with_keys();
    common::bake::setup(dir.path(), &prom.url);
    let stub = Stub::start(healthy);
    let mut args = common::bake::args(&d, "breach", "4m");
    args.extend(["--key", "cosign.key", "--notify", "slack,jira"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir.path(), &stub, &args);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert_eq!(stub.matching("POST", "/services/")[0].json()["text"], "bake ROLLBACK · breach v1.4.2");
    assert_eq!(stub.matching("POST", "/rest/api/3/issue").len(), 1);
    let day = common::bake::day(dir.path());
    assert!(dir.path().join(format!("archive/daily/{day}/breach-v1.4.2.verify.jira.json")).exists(), "{}", text(&out));
    // A channel that fails is one line; the exit stays 6.
    let down = Stub::start(|_, _| Reply::With(500, "down".into()));
    let out = run(dir.path(), &down, &args);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("warning: slack: the webhook refused the message: HTTP 500"), "{}", text(&out));
}
