//! `perfcert drift` against a real Prometheus (Debian's, started by tests/common/prom.rs on
//! 127.0.0.1 with series backfilled by promtool, relative to now): the exit code of each status,
//! the window of the first breach, the ticket, the rollback flag's `since`, and the JSON report
//! against its schema.

mod common;

use std::path::Path;
use std::process::Output;

use common::prom::Prometheus;
use common::{command, root, text};

const STEP: i64 = 15;
const BASELINE: f64 = 200.0;

/// The backfilled data: 40 minutes of 15 s samples ending 10 minutes ago, and the range judged
/// inside it (30 minutes from 5 minutes in: six 5-minute windows).
struct Data {
    openmetrics: String,
    from: i64,
    to: i64,
}

/// `latency_p95` of service `steady` cycles 194..=206 around the baseline (200); `step` is 200
/// until 10 minutes into the range, then 240 (+20%); `rollback` is 400 (2x) from 5 minutes in;
/// `gappy` stops 5 minutes into the range.
fn data() -> Data {
    let now = jiff::Timestamp::now().as_second();
    let end = now / 60 * 60 - 600;
    let start = end - 2400;
    let from = start + 300;
    let times = || (start..=end).step_by(STEP as usize);
    let mut om = String::from("# TYPE latency_p95 gauge\n");
    let mut add = |service: &str, value: &dyn Fn(i64) -> Option<f64>| {
        for t in times() {
            if let Some(v) = value(t) {
                om += &format!("latency_p95{{service=\"{service}\"}} {v} {t}\n");
            }
        }
    };
    add("steady", &|t| Some(194.0 + ((t / STEP) % 13) as f64));
    add("step", &|t| Some(if t < from + 600 { BASELINE } else { BASELINE * 1.2 }));
    add("rollback", &|t| Some(if t < from + 300 { BASELINE } else { BASELINE * 2.0 }));
    add("gappy", &|t| (t < from + 300).then_some(BASELINE));
    om += "# EOF\n";
    Data { openmetrics: om, from, to: from + 1800 }
}

/// A policy watching `latency_p95` (up), with the rollback rule at 1.5x for 10 minutes, and
/// `extra` appended under drift.metrics; its source is `endpoint`.
fn setup(dir: &Path, endpoint: &str, extra: &str) {
    let policy = format!(
        "metrics:\n  latency_p95: {{ max_increase: 10%, unit: ms }}\n\
         drift:\n  step: 15s\n  window: 5m\n  band: 10%\n  ticket_after: 3\n\
         \x20 rollback: {{ metric: latency_p95, factor: 1.5, for: 10m }}\n  metrics:\n    latency_p95: {{}}\n{extra}\
         sources:\n  latency_p95:\n    prometheus: {endpoint}\n    query: 'latency_p95{{service=\"$service\"}}'\n"
    );
    std::fs::write(dir.join("perf_thresholds.yml"), policy).unwrap();
    let baseline = format!("{{\"metrics\": {{\"latency_p95\": {BASELINE}}}}}\n");
    std::fs::write(dir.join("stable.json"), baseline).unwrap();
}

fn drift(dir: &Path, d: &Data, service: &str, extra: &[&str]) -> Output {
    command(dir)
        .args(["drift", "--service", service, "--baseline", "stable.json"])
        .args(["--from", &d.from.to_string(), "--to", &d.to.to_string()])
        .args(extra)
        .output()
        .unwrap()
}

/// `drift --format json` of `service`: the exit code and the report.
fn json(dir: &Path, d: &Data, service: &str) -> (Option<i32>, serde_json::Value) {
    let out = drift(dir, d, service, &["--format", "json"]);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out.status.code(), doc)
}

fn at(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

fn statuses(doc: &serde_json::Value) -> Vec<String> {
    doc["metrics"][0]["windows"].as_array().unwrap().iter().map(|w| w["status"].as_str().unwrap().into()).collect()
}

#[test]
fn steady_is_healthy_and_a_step_breaches_from_its_window_with_the_ticket_after_three() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    setup(dir.path(), &prom.url, "");

    let out = drift(dir.path(), &d, "steady", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("PASS"), "{}", text(&out));
    // A hand-written baseline is judged, with a warning that it was not collected from production.
    assert!(text(&out).contains("was not collected from production"), "{}", text(&out));
    let (code, doc) = json(dir.path(), &d, "steady");
    assert_eq!(code, Some(0));
    assert_eq!(statuses(&doc), ["OK"; 6]);
    assert_eq!(doc["metrics"][0]["windows"][0]["samples"], 20, "20 samples of 15 s in each 5 minutes");
    assert_eq!(doc["rollback"]["flag"], false);

    let (code, doc) = json(dir.path(), &d, "step");
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["status"], "FAIL");
    assert_eq!(statuses(&doc), ["OK", "OK", "BREACH", "BREACH", "BREACH", "BREACH"]);
    let m = &doc["metrics"][0];
    assert_eq!(m["windows"][2]["start"], at(d.from + 600), "the first breach is the window the step starts");
    assert_eq!(m["windows"][2]["mean"], 240.0);
    assert_eq!(m["ticket"], true);
    assert_eq!(m["ticket_at"], at(d.from + 600 + 3 * 300), "the ticket at the end of the third breaching window");
    assert_eq!(doc["rollback"]["flag"], false, "+20% is below the 1.5x rollback threshold");
    let b = &m["baseline"];
    assert_eq!(b["value"], BASELINE);
    assert_eq!(b["ref"], "stable.json");
    let sha = perfcert::signing::sha256_hex(&std::fs::read(dir.path().join("stable.json")).unwrap());
    assert_eq!(b["sha256"], sha);

    // The table names the failing metric and the ticket; the annotations on a runner too.
    let out = command(dir.path())
        .args(["drift", "--service", "step", "--baseline", "stable.json"])
        .args(["--from", &d.from.to_string(), "--to", &d.to.to_string()])
        .env_remove("PERFCERT_NO_GITHUB")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.path().join("gh-output"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("gh-summary"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("::error title=perfcert drift%3A latency_p95 FAIL (ticket)::baseline 200"), "{stderr}");
    let outputs = std::fs::read_to_string(dir.path().join("gh-output")).unwrap();
    assert!(outputs.contains("status=FAIL\n") && outputs.contains("tickets=latency_p95\n"), "{outputs}");
    assert!(std::fs::read_to_string(dir.path().join("gh-summary")).unwrap().contains("latency_p95"));
}

#[test]
fn twice_the_baseline_for_ten_minutes_is_a_rollback_since_it_started() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    setup(dir.path(), &prom.url, "");
    let (code, doc) = json(dir.path(), &d, "rollback");
    assert_eq!(code, Some(6), "{doc:#}");
    assert_eq!(doc["status"], "ROLLBACK");
    let rb = &doc["rollback"];
    assert_eq!(rb["flag"], true);
    assert_eq!(rb["since"], at(d.from + 300));
    assert_eq!(rb["raised_at"], at(d.from + 300 + 600));
    assert_eq!(rb["threshold"], 300.0);
}

#[test]
fn a_gappy_series_is_inconclusive_never_a_pass() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    setup(dir.path(), &prom.url, "");
    let (code, doc) = json(dir.path(), &d, "gappy");
    assert_eq!(code, Some(5), "{doc:#}");
    assert_eq!(doc["status"], "INCONCLUSIVE");
    let s = statuses(&doc);
    assert_eq!(s[0], "OK");
    assert!(s[2..].iter().all(|s| s == "NODATA"), "{s:?}");
    // A service with no series at all: every window NODATA, still INCONCLUSIVE.
    let (code, doc) = json(dir.path(), &d, "absent");
    assert_eq!(code, Some(5), "{doc:#}");
    assert_eq!(doc["metrics"][0]["valid_windows"], 0);
    // A metric the baseline lacks is judged against nothing: INCONCLUSIVE, named in a warning.
    std::fs::write(dir.path().join("stable.json"), "{\"metrics\": {\"throughput\": 1000}}\n").unwrap();
    let out = drift(dir.path(), &d, "steady", &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("latency_p95: stable.json has no value for it"), "{}", text(&out));
}

#[test]
fn the_json_report_validates_against_its_schema() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    setup(dir.path(), &prom.url, "");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/drift-report.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for service in ["steady", "rollback", "gappy", "absent", "step"] {
        // A baseline `perfcert collect` wrote: its query and period are the baseline's provenance.
        let query = format!("latency_p95{{service=\"{service}\"}}");
        let collected = serde_json::json!({
            "service": service,
            "metrics": { "latency_p95": BASELINE },
            "collected": {
                "from": at(d.from - 7200), "to": at(d.from - 3600),
                "sources": { "latency_p95": { "endpoint": prom.url, "query": query } }
            }
        });
        std::fs::write(dir.path().join("stable.json"), collected.to_string()).unwrap();
        let out = drift(dir.path(), &d, service, &["--format", "json", "--output", "drift.json"]);
        assert!(out.stdout.is_empty(), "--output: nothing on stdout");
        assert!(text(&out).contains("drift: "), "the headline on stderr: {}", text(&out));
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("drift.json")).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{service}: {errors:?}");
        let b = &doc["metrics"][0]["baseline"];
        assert_eq!(b["query"], query);
        assert_eq!(doc["service"], service);
        assert_eq!((&b["period"]["from"], &b["period"]["to"]), (&at(d.from - 7200).into(), &at(d.from - 3600).into()));
    }
    let out = drift(dir.path(), &d, "step", &["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("latency_p95"), "{}", text(&out));
}

#[test]
fn a_drift_metric_without_a_source_is_an_input_error_naming_it() {
    let d = data();
    let dir = common::workdir();
    setup(dir.path(), "http://127.0.0.1:9", "    throughput: { direction: down }\n");
    let out = drift(dir.path(), &d, "steady", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("perf_thresholds.yml: drift.metrics `throughput` has no entry under `sources:`"),
        "{}",
        text(&out)
    );
    // No drift: block at all.
    std::fs::write(dir.path().join("perf_thresholds.yml"), "metrics:\n  latency_p95: { max: 1 }\n").unwrap();
    let out = drift(dir.path(), &d, "steady", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no `drift:` block"), "{}", text(&out));
}

#[test]
fn an_unreachable_endpoint_is_an_external_error() {
    let d = data();
    let dir = common::workdir();
    // A port nothing listens on: taken, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    setup(dir.path(), &url, "");
    let out = drift(dir.path(), &d, "steady", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains(&format!("sources.latency_p95: {url}")), "{}", text(&out));
}

#[test]
fn bad_ranges_and_baselines_are_input_errors() {
    let d = data();
    let dir = common::workdir();
    setup(dir.path(), "http://127.0.0.1:9", "");
    let swapped = Data { openmetrics: String::new(), from: d.to, to: d.from };
    let out = drift(dir.path(), &swapped, "steady", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("must be after --from"), "{}", text(&out));
    std::fs::write(dir.path().join("stable.json"), "{\"metrics\": {\"latency_p95\": -1}}\n").unwrap();
    let out = drift(dir.path(), &d, "steady", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("stable.json"), "{}", text(&out));
    let out = drift(dir.path(), &d, "steady", &["--output", "stable.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("refusing to write the report over it"), "{}", text(&out));
}

#[test]
fn a_partial_response_is_inconclusive_in_the_reports_warnings_and_it_validates() {
    let d = data();
    let values: Vec<String> = (d.from..d.to).step_by(STEP as usize).map(|t| format!("[{t},\"{BASELINE}\"]")).collect();
    let stub = common::stub::Stub::answering(format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[{}]}}]}},"warnings":["ingester 3 of 3 did not answer"]}}"#,
        values.join(",")
    ));
    let dir = common::workdir();
    setup(dir.path(), &stub.url, "");
    let out = drift(dir.path(), &d, "steady", &["--format", "json", "--output", "drift.json"]);
    // A partial answer never judges healthy: the same data without warnings passes.
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let line = format!(
        "latency_p95: {} answered with warnings (the data may be partial): ingester 3 of 3 did not answer",
        stub.url
    );
    assert!(text(&out).contains(&format!("warning: {line}")), "on stderr: {}", text(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("drift.json")).unwrap()).unwrap();
    assert!(doc["warnings"].as_array().unwrap().iter().any(|w| w == &serde_json::json!(line)), "{doc}");
    assert_eq!((doc["status"].as_str(), doc["service"].as_str()), (Some("INCONCLUSIVE"), Some("steady")));
    assert!(doc["metrics"][0]["reasons"].as_array().unwrap().contains(&serde_json::json!(line)), "{doc}");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/drift-report.schema.json")).unwrap())
            .unwrap();
    let errors: Vec<String> =
        jsonschema::validator_for(&schema).unwrap().iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// `steady`'s samples at `from + k × 15 s` for every such instant before `to`.
fn steady_values(from: i64, to: i64) -> Vec<f64> {
    (from..to).step_by(STEP as usize).map(|t| 194.0 + ((t / STEP) % 13) as f64).collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn the_baseline_can_be_a_past_range_of_the_same_query() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    setup(dir.path(), &prom.url, "");
    // The five minutes before the range: 20 samples, their mean computed here.
    let (bf, bt) = (d.from - 300, d.from);
    let range = ["--baseline-from", &bf.to_string(), "--baseline-to", &bt.to_string()];
    let run = |service: &str| {
        command(dir.path())
            .args(["drift", "--service", service, "--format", "json"])
            .args(["--from", &d.from.to_string(), "--to", &d.to.to_string()])
            .args(range)
            .output()
            .unwrap()
    };
    let out = run("steady");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = &doc["metrics"][0]["baseline"];
    let expected = mean(&steady_values(bf, bt));
    assert!((b["value"].as_f64().unwrap() - expected).abs() < 1e-9, "{b} against {expected}");
    assert_eq!(b["ref"], format!("range {} to {}", at(bf), at(bt)));
    assert_eq!(b["sha256"], serde_json::Value::Null);
    assert_eq!(b["query"], "latency_p95{service=\"steady\"}");
    assert_eq!((&b["period"]["from"], &b["period"]["to"]), (&at(bf).into(), &at(bt).into()));
    // `step` is 200 before the range and +20% from 10 minutes in: a breach, as with a file.
    let out = run("step");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // A range without data: no baseline, never a PASS.
    let out = run("absent");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("has 0 of 20 expected samples (fewer than half)"), "{}", text(&out));
    // Both ends, after one another; not with --baseline.
    let out = command(dir.path())
        .args(["drift", "--service", "steady", "--from", &d.from.to_string(), "--to", &d.to.to_string()])
        .args(["--baseline-from", &bt.to_string(), "--baseline-to", &bf.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--baseline-to (") && text(&out).contains("must be after --baseline-from"));
    let out = command(dir.path())
        .args(["drift", "--service", "steady", "--from", &d.from.to_string(), "--to", &d.to.to_string()])
        .args(["--baseline", "stable.json"])
        .args(range)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn the_baseline_can_be_a_signed_bake_record_and_only_a_healthy_one() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url, "");
    // The last stable release's bake: steady over the 5 minutes before the range, PASS, signed,
    // archived.
    let bake = |service: &str, version: &str, deployed: i64, duration: &str| {
        command(dir.path())
            .args(["bake", "--service", service, "--version", version, "--baseline", "stable.json"])
            .args(["--deployed-at", &deployed.to_string(), "--duration", duration, "--poll", "5m"])
            .args(["--key", "cosign.key", "--archive", "archive", "-o", &format!("{service}.verify.json")])
            .output()
            .unwrap()
    };
    let out = bake("steady", "v1", d.from - 300, "5m");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let day = std::fs::read_dir(dir.path().join("archive/daily")).unwrap().next().unwrap().unwrap().path();
    let record = day.join("steady-v1.verify.json");
    assert!(day.join("steady-v1.verify.sigstore.json").exists());
    let drift_with = |baseline: &Path, extra: &[&str]| {
        command(dir.path())
            .args(["drift", "--service", "steady", "--format", "json", "--baseline", baseline.to_str().unwrap()])
            .args(["--from", &d.from.to_string(), "--to", &d.to.to_string()])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = drift_with(&record, &["--baseline-key", "cosign.pub"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("without checking its signature"), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = &doc["metrics"][0]["baseline"];
    // The mean of the bake's samples: its window's mean weighted by its samples.
    let expected = mean(&steady_values(d.from - 300, d.from));
    assert!((b["value"].as_f64().unwrap() - expected).abs() < 1e-9, "{b} against {expected}");
    assert_eq!(b["query"], "latency_p95{service=\"steady\"}");
    assert_eq!((&b["period"]["from"], &b["period"]["to"]), (&at(d.from - 300).into(), &at(d.from).into()));
    assert_eq!(doc["service"], "steady", "the report names the service it judged");

    // A bake that ends after --from is no baseline for the range: it would hide a regression.
    let out = bake("steady", "v3", d.from, "30m");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = drift_with(&dir.path().join("steady.verify.json"), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("the bake record's window ends at {}, after --from ({})", at(d.to), at(d.from))),
        "{}",
        text(&out)
    );

    // Without the key: used, with a warning that it is not checked.
    let out = drift_with(&record, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("without checking its signature; pass --baseline-key"), "{}", text(&out));

    // A changed record does not verify (exit 4); another key neither.
    let changed = dir.path().join("changed.verify.json");
    let text_of = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&changed, text_of.replacen("\"PASS\"", "\"PASS\" ", 1)).unwrap();
    std::fs::copy(day.join("steady-v1.verify.sigstore.json"), dir.path().join("changed.verify.sigstore.json")).unwrap();
    let out = drift_with(&changed, &["--baseline-key", "cosign.pub"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("does not sign"), "{}", text(&out));
    let other = common::workdir_with_keys();
    let out = drift_with(&record, &["--baseline-key", other.path().join("cosign.pub").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));

    // A release whose bake was not healthy is no baseline.
    let out = bake("step", "v2", d.from, "30m");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = drift_with(&dir.path().join("step.verify.json"), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("the bake record's status is FAIL; only a healthy (PASS) release's record is a baseline"),
        "{}",
        text(&out)
    );
}

/// `--notify`: the rollback posted to Slack and filed once in Jira, its marker beside the JSON
/// report; `notify --drift-report` on that report later finds the same ticket; a refused post
/// leaves the exit code 6.
#[test]
fn a_rollback_with_notify_files_one_ticket_and_keeps_its_exit_code() {
    use common::stub::{Reply, Stub};
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    setup(dir.path(), &prom.url, "");
    let stub = Stub::start(|r, _| match r.path.as_str() {
        p if p.starts_with("/services/") => Reply::With(200, "ok".into()),
        p if p.starts_with("/rest/api/3/search/jql") => Reply::With(200, r#"{"issues":[]}"#.into()),
        "/rest/api/3/issue" => Reply::With(201, r#"{"id":"1","key":"PERFREG-7","self":"x"}"#.into()),
        _ => Reply::With(404, "{}".into()),
    });
    let env = |cmd: &mut std::process::Command, webhook: &str| {
        cmd.env("PERFCERT_SLACK_WEBHOOK_URL", webhook)
            .env("PERFCERT_JIRA_URL", &stub.url)
            .env("PERFCERT_JIRA_EMAIL", "ci@example.com")
            .env("PERFCERT_JIRA_API_TOKEN", "token-for-the-test-1234");
    };
    let mut cmd = command(dir.path());
    env(&mut cmd, &format!("{}/services/T/B/secret", stub.url));
    let out = cmd
        .args(["drift", "--service", "rollback", "--baseline", "stable.json"])
        .args(["--from", &d.from.to_string(), "--to", &d.to.to_string()])
        .args(["--format", "json", "--output", "drift.json", "--notify", "slack,jira"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("jira: filed PERFREG-7"), "{}", text(&out));
    let slack = stub.matching("POST", "/services/");
    assert_eq!(slack[0].json()["text"], "drift ROLLBACK · rollback");
    let marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("drift.jira.json")).unwrap()).unwrap();
    assert_eq!(marker["jira"], "PERFREG-7");
    let report = std::fs::read(dir.path().join("drift.json")).unwrap();
    assert_eq!(marker["sha256"], perfcert::signing::sha256_hex(&report), "the marker is the written report's");

    let mut again = command(dir.path());
    env(&mut again, &format!("{}/services/T/B/secret", stub.url));
    let out = again
        .args(["notify", "--drift-report", "drift.json", "--service", "rollback", "--to", "jira"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("PERFREG-7 was filed for it already"), "{}", text(&out));
    assert_eq!(stub.matching("POST", "/rest/api/3/issue").len(), 1);

    // A webhook that refuses: one line, even with --quiet, and still exit 6.
    let mut refused = command(dir.path());
    env(&mut refused, &format!("{}/nowhere", stub.url));
    let out = refused
        .args(["drift", "--service", "rollback", "--baseline", "stable.json"])
        .args(["--from", &d.from.to_string(), "--to", &d.to.to_string(), "--notify", "slack", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().filter(|l| l.starts_with("warning: slack: ")).count(), 1, "{err}");
}

/// A baseline file `perfcert collect` wrote: `service`, its window and, per metric, its query
/// and aggregate.
fn collected(dir: &Path, service: &str, from: i64, to: i64, query: &str, aggregate: &str) {
    let doc = serde_json::json!({
        "service": service,
        "metrics": { "latency_p95": BASELINE },
        "collected": {
            "from": at(from), "to": at(to),
            "sources": { "latency_p95": { "endpoint": "http://prom", "query": query, "aggregate": aggregate } }
        }
    });
    std::fs::write(dir.join("collected.json"), format!("{doc:#}\n")).unwrap();
}

/// A PASS bake record of `service` over `[from, to)` whose query is `query`, written by hand.
fn record(dir: &Path, service: &str, from: i64, to: i64, query: &str) {
    let doc = serde_json::json!({
        "service": service, "status": "PASS", "deployed_at": at(from), "slo": {},
        "window": { "from": at(from), "judged_to": at(to) },
        "sources": [{ "metric": "latency_p95", "endpoint": "http://prom", "query": query }],
        "drift": { "metrics": [{ "name": "latency_p95", "windows": [{ "mean": BASELINE, "samples": 20 }] }] }
    });
    std::fs::write(dir.join("record.verify.json"), format!("{doc:#}\n")).unwrap();
}

#[test]
fn a_baseline_that_overlaps_the_range_or_is_of_another_service_or_query_is_refused() {
    let d = data();
    let dir = common::workdir();
    // Nothing listens: every refusal here comes before a request.
    setup(dir.path(), "http://127.0.0.1:9", "");
    let run = |baseline: &[&str]| {
        command(dir.path())
            .args(["drift", "--service", "steady", "--from", &d.from.to_string(), "--to", &d.to.to_string()])
            .args(baseline)
            .output()
            .unwrap()
    };
    let refused = |out: &Output, says: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", text(out));
        assert!(text(out).contains(says), "expected {says:?} in: {}", text(out));
    };
    // A range ending after --from.
    let out = run(&["--baseline-from", &(d.from - 300).to_string(), "--baseline-to", &(d.from + 60).to_string()]);
    refused(&out, &format!("--baseline-to ({}) is after --from ({})", at(d.from + 60), at(d.from)));
    // A collected window ending after --from; one ending at --from is fine (then the request fails).
    let query = "latency_p95{service=\"steady\"}";
    collected(dir.path(), "steady", d.from - 300, d.from + 1, query, "mean");
    let out = run(&["--baseline", "collected.json"]);
    refused(&out, &format!("collected.json: the collected window (collected.to) ends at {}", at(d.from + 1)));
    collected(dir.path(), "steady", d.from - 300, d.from, query, "mean");
    assert_eq!(run(&["--baseline", "collected.json"]).status.code(), Some(3), "unreachable source: external");
    // Collected for another service.
    collected(dir.path(), "other", d.from - 300, d.from, query, "mean");
    refused(
        &run(&["--baseline", "collected.json"]),
        "collected.json: is collected of service `other`, and --service is `steady`",
    );
    // Another query measured something else: refused, naming the key and both queries.
    collected(dir.path(), "steady", d.from - 300, d.from, "avg(latency_p95)", "mean");
    refused(
        &run(&["--baseline", "collected.json"]),
        &format!(
            "collected.json: it measured `latency_p95` with the query avg(latency_p95), and this policy's \
             sources.latency_p95.query is {query}"
        ),
    );
    // A collected file without its window cannot be checked for overlap: refused.
    let text_of = std::fs::read_to_string(dir.path().join("collected.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text_of).unwrap();
    doc["collected"].as_object_mut().unwrap().remove("to");
    std::fs::write(dir.path().join("collected.json"), doc.to_string()).unwrap();
    refused(&run(&["--baseline", "collected.json"]), "collected.json: collected.from / collected.to");
    // A plain results file that says it is another service's.
    std::fs::write(dir.path().join("plain.json"), r#"{"service":"other","metrics":{"latency_p95":200}}"#).unwrap();
    refused(
        &run(&["--baseline", "plain.json"]),
        "plain.json: is results of service `other`, and --service is `steady`",
    );
    // A bake record: of another service, with another query, or ending after --from.
    record(dir.path(), "other", d.from - 300, d.from, query);
    refused(
        &run(&["--baseline", "record.verify.json"]),
        "record.verify.json: is a bake record of service `other`, and --service is `steady`",
    );
    record(dir.path(), "steady", d.from - 300, d.from, "avg(latency_p95)");
    refused(
        &run(&["--baseline", "record.verify.json"]),
        "the bake record measured `latency_p95` with the query avg(latency_p95), and this policy's \
         sources.latency_p95.query is latency_p95{service=\"steady\"}",
    );
    record(dir.path(), "steady", d.from - 300, d.from + 300, query);
    refused(&run(&["--baseline", "record.verify.json"]), "the bake record's window ends at");
    record(dir.path(), "steady", d.from - 300, d.from, query);
    assert_eq!(run(&["--baseline", "record.verify.json"]).status.code(), Some(3), "accepted, then the request");
}

/// A stand-in Prometheus answering `value` at every step of the range, with `warnings`.
fn answering(d: &Data, value: f64, warnings: &[&str]) -> common::stub::Stub {
    let values: Vec<String> = (d.from..d.to).step_by(STEP as usize).map(|t| format!("[{t},\"{value}\"]")).collect();
    common::stub::Stub::answering(format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[{}]}}]}},"warnings":{}}}"#,
        values.join(","),
        serde_json::json!(warnings)
    ))
}

#[test]
fn a_collected_baseline_that_is_not_a_mean_leaves_the_metric_inconclusive() {
    let d = data();
    let stub = answering(&d, BASELINE, &[]);
    let dir = common::workdir();
    setup(dir.path(), &stub.url, "");
    let query = "latency_p95{service=\"steady\"}";
    let run = || {
        command(dir.path())
            .args(["drift", "--service", "steady", "--format", "json", "--baseline", "collected.json"])
            .args(["--from", &d.from.to_string(), "--to", &d.to.to_string()])
            .output()
            .unwrap()
    };
    collected(dir.path(), "steady", d.from - 300, d.from, query, "mean");
    assert_eq!(run().status.code(), Some(0), "a mean is a baseline");
    collected(dir.path(), "steady", d.from - 300, d.from, query, "max");
    let out = run();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &doc["metrics"][0];
    assert_eq!((m["status"].as_str(), &m["baseline"]), (Some("INCONCLUSIVE"), &serde_json::Value::Null));
    let reasons = m["reasons"].to_string();
    assert!(reasons.contains("collected.json holds the max of the collected window"), "{reasons}");
}

#[test]
fn a_partial_answer_never_passes_but_a_breach_in_it_fails() {
    let d = data();
    let dir = common::workdir();
    let run = |value: f64, warnings: &[&str]| {
        let stub = answering(&d, value, warnings);
        setup(dir.path(), &stub.url, "");
        drift(dir.path(), &d, "steady", &[]).status.code()
    };
    assert_eq!(run(BASELINE, &[]), Some(0));
    assert_eq!(run(BASELINE, &["store 2 of 3 did not answer"]), Some(5));
    assert_eq!(run(BASELINE * 1.2, &["store 2 of 3 did not answer"]), Some(1), "+20% on what came back breaches");

    // In collect, a partial answer is no value: unavailable, with the reason (nothing collected: 5).
    let stub = answering(&d, BASELINE, &["store 2 of 3 did not answer"]);
    setup(dir.path(), &stub.url, "");
    let out = command(dir.path())
        .args(["collect", "--service", "steady", "--from", &d.from.to_string(), "--to", &d.to.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let said = format!(
        "latency_p95: unavailable: {} answered with warnings (the data may be partial): store 2 of 3 did not answer",
        stub.url
    );
    assert!(text(&out).contains(&said), "{}", text(&out));
    assert!(!dir.path().join("collected.json").exists(), "no value is never written");
}

#[test]
fn a_cloudwatch_answer_cut_at_the_page_limit_is_inconclusive() {
    let d = data();
    // Every page says Complete and offers another: after the page limit the rest is unread.
    let points: Vec<i64> = (d.from..d.to).step_by(60).collect();
    let stub = common::stub::Stub::answering(
        serde_json::json!({ "MetricDataResults": [{ "Id": "m0", "Timestamps": points,
            "Values": points.iter().map(|_| BASELINE).collect::<Vec<_>>(), "StatusCode": "Complete" }],
            "NextToken": "more" })
        .to_string(),
    );
    let dir = common::workdir();
    let policy = "metrics:\n  latency_p95: { max_increase: 10% }\ndrift:\n  step: 1m\n  window: 5m\n  metrics:\n    \
                  latency_p95: {}\nsources:\n  latency_p95:\n    cloudwatch:\n      region: eu-west-1\n      \
                  namespace: App\n      metric: Latency\n      period: 1m\n";
    std::fs::write(dir.path().join("perf_thresholds.yml"), policy).unwrap();
    std::fs::write(dir.path().join("stable.json"), format!("{{\"metrics\": {{\"latency_p95\": {BASELINE}}}}}\n"))
        .unwrap();
    let out = command(dir.path())
        .args(["drift", "--baseline", "stable.json", "--format", "json"])
        .args(["--from", &d.from.to_string(), "--to", &d.to.to_string()])
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", &stub.url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(
        text(&out)
            .contains("CloudWatch still had a NextToken after 100 pages (StatusCode Complete): the rest was not read"),
        "{}",
        text(&out)
    );
}
