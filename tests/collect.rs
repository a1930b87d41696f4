//! `perfcert collect` against a real Prometheus (Debian's, started by tests/common/prom.rs on
//! 127.0.0.1 with series backfilled by promtool, relative to now), and against the AMP stand-in
//! that checks the SigV4 signature with botocore.

mod common;

use std::path::Path;
use std::process::Output;

use common::prom::{AmpStub, Prometheus};
use common::{command, text};

const STEP: i64 = 15;

/// The backfilled data: 40 minutes of 15 s samples ending 10 minutes ago, and the collect window
/// inside it (30 minutes: 121 samples).
struct Data {
    openmetrics: String,
    from: i64,
    to: i64,
}

/// `cpu_utilization` of service `steady` cycles 55..=61, `memory_utilization` of `steady` is
/// 40.5; `gappy` stops 6 minutes into the window; `nan` is NaN throughout.
fn data() -> Data {
    let now = jiff::Timestamp::now().as_second();
    let end = now / 60 * 60 - 600;
    let start = end - 2400;
    let times = || (start..=end).step_by(STEP as usize);
    let from = start + 300;
    let mut om = String::from("# TYPE cpu_utilization gauge\n");
    for t in times() {
        om += &format!("cpu_utilization{{service=\"steady\"}} {} {t}\n", steady(t));
    }
    for t in times().filter(|&t| t <= from + 360) {
        om += &format!("cpu_utilization{{service=\"gappy\"}} 70 {t}\n");
    }
    for t in times() {
        om += &format!("cpu_utilization{{service=\"nan\"}} NaN {t}\n");
    }
    om += "# TYPE memory_utilization gauge\n";
    for t in times() {
        om += &format!("memory_utilization{{service=\"steady\"}} 40.5 {t}\n");
    }
    om += "# EOF\n";
    Data { openmetrics: om, from, to: from + 1800 }
}

fn steady(t: i64) -> f64 {
    55.0 + ((t / STEP) % 7) as f64
}

/// The mean of `steady` over the window's 121 samples, as perfcert should compute it.
fn steady_mean(d: &Data) -> f64 {
    let values: Vec<f64> = (d.from..=d.to).step_by(STEP as usize).map(steady).collect();
    assert_eq!(values.len(), 121);
    values.iter().sum::<f64>() / values.len() as f64
}

fn policy(dir: &Path, sources: &str) {
    let text = format!("metrics:\n  cpu_utilization: {{ max: 90, unit: \"%\" }}\nsources:\n{sources}");
    std::fs::write(dir.join("perf_thresholds.yml"), text).unwrap();
}

fn source(metric: &str, endpoint: &str, query: &str, extra: &str) -> String {
    format!("  {metric}:\n    prometheus: {endpoint}\n    query: '{query}'\n{extra}")
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn collect(dir: &Path, d: &Data, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(dir);
    cmd.args(["collect", "--from", &d.from.to_string(), "--to", &d.to.to_string()]).args(extra);
    for var in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied());
    let out = cmd.output().unwrap();
    assert!(!text(&out).contains(SECRET), "the secret key was printed: {}", text(&out));
    out
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_steady_series_gives_its_mean_with_provenance_and_compare_reads_it() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    policy(
        dir.path(),
        &(source("cpu_utilization", &prom.url, "cpu_utilization{service=\"$service\"}", "")
            + &source(
                "memory_utilization",
                &format!("{}/", prom.url),
                "memory_utilization{service=\"$service\"}",
                "    step: 30s\n",
            )),
    );
    let out = collect(dir.path(), &d, &["--service", "steady", "--version", "v1.2.0", "-o", "usage.json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("usage.json"));
    let cpu = doc["metrics"]["cpu_utilization"].as_f64().unwrap();
    assert!((cpu - steady_mean(&d)).abs() < 1e-9, "cpu {cpu}, expected {}", steady_mean(&d));
    assert_eq!(doc["metrics"]["memory_utilization"], 40.5);
    assert_eq!(doc["service"], "steady");
    assert_eq!(doc["version"], "v1.2.0");
    let c = &doc["collected"];
    assert_eq!(c["sources"]["cpu_utilization"]["samples"], 121);
    assert_eq!(c["sources"]["cpu_utilization"]["expected"], 121);
    assert_eq!(c["sources"]["cpu_utilization"]["query"], "cpu_utilization{service=\"steady\"}");
    assert_eq!(c["sources"]["cpu_utilization"]["endpoint"], prom.url);
    assert_eq!(c["sources"]["memory_utilization"]["expected"], 61, "a 30 s step: 61 samples in 30 minutes");
    assert_eq!(c["sources"]["memory_utilization"]["step_seconds"], 30.0);
    assert_eq!(c["from"], jiff::Timestamp::from_second(d.from).unwrap().to_string());
    assert!(c.get("unavailable").is_none());
    assert!(text(&out).contains("cpu_utilization: "), "{}", text(&out));

    // compare reads it as a current run, joined to a load-test output's metrics with +.
    std::fs::write(dir.path().join("baseline.json"), r#"{"metrics": {"cpu_utilization": 58}}"#).unwrap();
    std::fs::write(dir.path().join("k6.json"), r#"{"metrics": {"latency_p95": 120}}"#).unwrap();
    let out = common::perfcert(dir.path(), &["compare", "--current", "k6.json+usage.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn the_window_can_come_from_a_k6_raw_output() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    policy(dir.path(), &source("cpu_utilization", &prom.url, "cpu_utilization{service=\"$service\"}", ""));
    let time =
        |s: i64, ns: &str| format!("{}.{ns}Z", jiff::Timestamp::from_second(s).unwrap().strftime("%Y-%m-%dT%H:%M:%S"));
    let point = |t: String| {
        format!(
            r#"{{"metric":"http_reqs","type":"Point","data":{{"time":"{t}","value":1,"tags":{{"status":"200"}}}}}}"#
        )
    };
    // The samples' order does not matter: the window is the first to the last time.
    let raw = [
        r#"{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default"},"metric":"http_reqs"}"#
            .to_string(),
        point(time(d.from + 600, "5")),
        point(time(d.from, "000400000")),
        point(time(d.to, "999999999")),
    ]
    .join("\n");
    std::fs::write(dir.path().join("k6.json"), raw + "\n").unwrap();
    let out = collect_window(dir.path(), &["--window-from", "k6.json", "--service", "steady"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    assert_eq!(doc["collected"]["from"], format!("{}", jiff::Timestamp::from_second(d.from).unwrap()));
    assert_eq!(doc["collected"]["window_from"], "k6.json");
    assert_eq!(doc["collected"]["sources"]["cpu_utilization"]["expected"], 121);
    let cpu = doc["metrics"]["cpu_utilization"].as_f64().unwrap();
    assert!((cpu - steady_mean(&d)).abs() < 1e-9, "cpu {cpu}");

    std::fs::write(dir.path().join("empty.json"), "\n").unwrap();
    let out = collect_window(dir.path(), &["--window-from", "empty.json", "--service", "steady"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("empty.json: file is empty"), "{}", text(&out));
    // k6 output with no Point lines has no window.
    std::fs::write(dir.path().join("nopoints.json"), format!("{}\n", raw_metric_line())).unwrap();
    let out = collect_window(dir.path(), &["--window-from", "nopoints.json", "--service", "steady"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("nopoints.json: no k6 samples (Point lines) to take the window from"),
        "{}",
        text(&out)
    );
    let out = collect_window(dir.path(), &["--window-from", "k6.json", "--from", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

fn collect_window(dir: &Path, args: &[&str]) -> Output {
    command(dir).arg("collect").args(args).output().unwrap()
}

#[test]
fn gappy_nan_and_missing_series_are_unavailable_never_zero() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    let memory = source("memory_utilization", &prom.url, "memory_utilization{service=\"steady\"}", "");
    policy(dir.path(), &(source("cpu_utilization", &prom.url, "cpu_utilization{service=\"$service\"}", "") + &memory));

    // Gappy: 6 minutes of data, and 5 more of Prometheus' lookback, in a 30-minute window.
    let out = collect(dir.path(), &d, &["--service", "gappy", "-o", "gappy.json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("warning: cpu_utilization: unavailable: "), "{said}");
    assert!(said.contains(" of 121 expected samples in the window (fewer than half)"), "{said}");
    let doc = read_json(&dir.path().join("gappy.json"));
    assert!(doc["metrics"].get("cpu_utilization").is_none(), "{doc}");
    assert_eq!(doc["metrics"]["memory_utilization"], 40.5);
    let why = doc["collected"]["unavailable"]["cpu_utilization"]["unavailable"].as_str().unwrap();
    assert!(why.ends_with("of 121 expected samples in the window (fewer than half)"), "{why}");
    // The gated metric is then missing, and compare fails it.
    std::fs::write(dir.path().join("baseline.json"), r#"{"metrics": {"cpu_utilization": 58}}"#).unwrap();
    let out = common::perfcert(dir.path(), &["compare", "--current", "gappy.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("missing from the current results"), "{}", text(&out));

    // NaN throughout: every sample is counted as not a number.
    let out = collect(dir.path(), &d, &["--service", "nan", "-o", "nan.json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(
            "cpu_utilization: unavailable: 0 of 121 expected samples in the window (fewer than half); 121 were NaN or infinite"
        ),
        "{}",
        text(&out)
    );
    assert!(read_json(&dir.path().join("nan.json"))["metrics"].get("cpu_utilization").is_none());

    // No series at all, and nothing else to collect: exit 5, nothing written.
    policy(dir.path(), &source("cpu_utilization", &prom.url, "cpu_utilization{service=\"$service\"}", ""));
    let out = collect(dir.path(), &d, &["--service", "nosuch", "-o", "none.json"], &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("cpu_utilization: unavailable: no data"), "{}", text(&out));
    assert!(text(&out).contains("nothing written"), "{}", text(&out));
    assert!(!dir.path().join("none.json").exists());
}

#[test]
fn a_bad_query_names_the_servers_error_and_an_unreachable_endpoint_exits_3() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    policy(dir.path(), &source("cpu_utilization", &prom.url, "rate(cpu_utilization[5m", ""));
    let out = collect(dir.path(), &d, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    for part in [
        "sources.cpu_utilization: ",
        prom.url.as_str(),
        "query `rate(cpu_utilization[5m`",
        "HTTP 400, bad_data: ",
        "unclosed left parenthesis",
    ] {
        assert!(said.contains(part), "{part:?} in {said}");
    }
    assert!(!dir.path().join("collected.json").exists());

    // $service without --service is an input error, before any query.
    policy(dir.path(), &source("cpu_utilization", &prom.url, "cpu_utilization{service=\"$service\"}", ""));
    let out = collect(dir.path(), &d, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("sources.cpu_utilization.query uses $service; pass --service NAME"), "{}", text(&out));

    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    policy(dir.path(), &source("cpu_utilization", &url, "up", ""));
    let out = collect(dir.path(), &d, &[], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains(&format!("{url}: query `up`: ")), "{}", text(&out));

    // The window must be a window.
    let out = collect(dir.path(), &Data { openmetrics: String::new(), from: d.to, to: d.from }, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("must be after --from"), "{}", text(&out));
}

#[test]
fn amp_queries_are_sigv4_signed_and_a_wrong_signature_is_refused() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let amp = AmpStub::start(&prom.url, "ws-test", "AKIDTEST", SECRET, "eu-west-1");
    let dir = common::workdir();
    let sources = |region: &str| {
        source(
            "cpu_utilization",
            &amp.endpoint,
            "avg(cpu_utilization{service=\"$service\"})",
            &format!("    sigv4: {{ region: {region} }}\n"),
        )
    };
    policy(dir.path(), &sources("eu-west-1"));
    let good = [("AWS_ACCESS_KEY_ID", "AKIDTEST"), ("AWS_SECRET_ACCESS_KEY", SECRET)];
    let out = collect(dir.path(), &d, &["--service", "steady"], &good);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    let cpu = doc["metrics"]["cpu_utilization"].as_f64().unwrap();
    assert!((cpu - steady_mean(&d)).abs() < 1e-9, "cpu {cpu}");
    assert_eq!(doc["collected"]["sources"]["cpu_utilization"]["sigv4_region"], "eu-west-1");

    // A session token is signed too.
    let with_token = [good[0], good[1], ("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN")];
    let out = collect(dir.path(), &d, &["--service", "steady", "-o", "t.json"], &with_token);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The wrong secret: the stand-in's signature check refuses it.
    let wrong = [("AWS_ACCESS_KEY_ID", "AKIDTEST"), ("AWS_SECRET_ACCESS_KEY", "not-the-secret-key-at-all")];
    let out = collect(dir.path(), &d, &["--service", "steady", "-o", "wrong.json"], &wrong);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("HTTP 403") && text(&out).contains("InvalidSignatureException"), "{}", text(&out));
    assert!(!text(&out).contains("not-the-secret-key-at-all"), "{}", text(&out));

    // Signed for another region: refused too.
    policy(dir.path(), &sources("us-east-1"));
    let out = collect(dir.path(), &d, &["--service", "steady", "-o", "region.json"], &good);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("HTTP 403"), "{}", text(&out));

    // No credentials anywhere: said in a sentence.
    policy(dir.path(), &sources("eu-west-1"));
    let out = collect(dir.path(), &d, &["--service", "steady", "-o", "none.json"], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("no AWS credentials found"), "{}", text(&out));
}

#[test]
fn init_writes_commented_sources_and_drift_blocks_that_parse_when_uncommented() {
    let dir = common::workdir();
    let out = common::perfcert(dir.path(), &["init", "--output", "policy.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let written = std::fs::read_to_string(dir.path().join("policy.yml")).unwrap();
    assert!(perfcert::policy::parse("policy.yml", &written).unwrap().sources.is_empty(), "commented out");
    // Each block, uncommented as written, joined to the rest: a valid policy.
    let block = |name: &str| -> String {
        let start = written.find(&format!("\n# {name}:")).unwrap_or_else(|| panic!("a commented {name}: block")) + 1;
        written[start..]
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect()
    };
    let policy =
        perfcert::policy::parse("policy.yml", &format!("{written}{}{}", block("sources"), block("drift"))).unwrap();
    let names: Vec<&str> = policy.sources.iter().map(|s| s.metric.as_str()).collect();
    assert_eq!(names, ["cpu_utilization", "latency_p95_read"]);
    assert_eq!(policy.sources[0].aggregate, perfcert::policy::Aggregate::Mean);
    assert!(matches!(
        &policy.sources[1].kind,
        perfcert::policy::SourceKind::Prometheus { sigv4_region: Some(r), .. } if r == "eu-west-1"
    ));
    let drift = policy.drift.expect("the drift block");
    assert_eq!((drift.step_ms, drift.window_ms, drift.band, drift.ticket_after), (15_000, 300_000, 0.10, 3));
    assert_eq!(drift.rollback.as_ref().map(|r| r.factor), Some(1.5));
    // Every drift metric has a source, as drift and bake require.
    for m in &drift.metrics {
        assert!(names.contains(&m.name.as_str()), "{} has no source", m.name);
    }
}

/// The Locust fixture run (fixtures/locust/locust-baseline*): 1795355775.085 to
/// 1795355799.711 in its JSON, 1795355775 to 1795355799 in its stats history.
const LOCUST_START: i64 = 1_795_355_700;

/// `cpu_utilization` every 15 s from LOCUST_START, its value the seconds since LOCUST_START: the
/// window's 15 s samples (at the window start and 15 s later) read 75 and 90.
fn locust_data() -> String {
    let mut om = String::from("# TYPE cpu_utilization gauge\n");
    for t in (LOCUST_START..=LOCUST_START + 300).step_by(STEP as usize) {
        om += &format!("cpu_utilization{{service=\"api\"}} {} {t}\n", t - LOCUST_START);
    }
    om + "# EOF\n"
}

#[test]
fn the_window_can_come_from_locust_outputs_and_each_aggregate_is_recorded() {
    let Some(prom) = Prometheus::start(&locust_data()) else { return };
    let dir = common::workdir();
    let query = "cpu_utilization{service=\"$service\"}";
    let mut sources = String::new();
    for (metric, aggregate) in
        [("cpu_utilization", ""), ("cpu_max", "max"), ("cpu_min", "min"), ("cpu_p95", "p95"), ("cpu_last", "last")]
    {
        let extra = if aggregate.is_empty() { String::new() } else { format!("    aggregate: {aggregate}\n") };
        sources += &source(metric, &prom.url, query, &extra);
    }
    policy(dir.path(), &sources);
    let locust = common::root().join("fixtures/locust");
    for (file, from, to) in [
        ("locust-baseline.json", "2026-11-22T13:56:15.085Z", "2026-11-22T13:56:39.711Z"),
        // Whole seconds: to the end of the last row's second.
        ("locust-baseline_stats_history.csv", "2026-11-22T13:56:15Z", "2026-11-22T13:56:40Z"),
        // The stats CSV has no times: the history next to it is read.
        ("locust-baseline_stats.csv", "2026-11-22T13:56:15Z", "2026-11-22T13:56:40Z"),
    ] {
        let given = locust.join(file);
        let out = collect_window(
            dir.path(),
            &["--window-from", given.to_str().unwrap(), "--service", "api", "-o", "locust.json"],
        );
        assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out));
        let doc = read_json(&dir.path().join("locust.json"));
        let c = &doc["collected"];
        assert_eq!((c["from"].as_str().unwrap(), c["to"].as_str().unwrap()), (from, to), "{file}");
        let read = c["window_from"].as_str().unwrap();
        assert!(read.ends_with(&file.replace("_stats.csv", "_stats_history.csv")), "{file}: {read}");
        assert!(c["window_of"].as_str().unwrap().starts_with("Locust "), "{c}");
        // Samples at the window's start and 15 s later: 75 and 90, computed by hand.
        let m = &doc["metrics"];
        assert_eq!(m["cpu_utilization"], 82.5, "{file}: the mean");
        assert_eq!(m["cpu_max"], 90.0);
        assert_eq!(m["cpu_min"], 75.0);
        assert_eq!(m["cpu_p95"], 89.25, "75 + (90 - 75) x 0.95");
        assert_eq!(m["cpu_last"], 90.0);
        assert_eq!(c["sources"]["cpu_utilization"]["aggregate"], "mean");
        assert_eq!(c["sources"]["cpu_p95"]["aggregate"], "p95");
        assert_eq!(c["sources"]["cpu_max"]["samples"], 2);
        assert!(text(&out).contains("cpu_p95: 89.25 (p95 of 2 of 2 samples)"), "{}", text(&out));
        std::fs::remove_file(dir.path().join("locust.json")).unwrap();
    }

    // A k6 summary holds no times: said, with what to do.
    for summary in ["k6/k6-baseline-summary-export.json", "k6/k6-baseline-handlesummary.json"] {
        let given = common::root().join("fixtures").join(summary);
        let out = collect_window(dir.path(), &["--window-from", given.to_str().unwrap(), "--service", "api"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("holds no start and end time of the run; give --from and --to"), "{}", text(&out));
    }
    // A stats CSV without its history next to it.
    std::fs::copy(locust.join("locust-baseline_stats.csv"), dir.path().join("alone_stats.csv")).unwrap();
    let out = collect_window(dir.path(), &["--window-from", "alone_stats.csv", "--service", "api"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("alone_stats.csv: Locust's PREFIX_stats.csv holds no times"), "{}", text(&out));
}

#[test]
fn a_partial_response_is_unavailable_and_infos_alone_are_warned_of_and_recorded() {
    let d = data();
    let values: Vec<String> = (d.from..=d.to).step_by(STEP as usize).map(|t| format!("[{t},\"50\"]")).collect();
    let answer = |warnings: &str| {
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[{}]}}]}},{warnings}"infos":["metric might not be a counter"]}}"#,
            values.join(",")
        )
    };
    // A store that did not answer: no value (a mean of some samples), the reason said once.
    let stub = common::stub::Stub::answering(answer(
        r#""warnings":["store 10.0.0.7:10901: context deadline exceeded","store 10.0.0.7:10901: context deadline exceeded"],"#,
    ));
    let dir = common::workdir();
    policy(dir.path(), &source("cpu_utilization", &stub.url, "avg(cpu_utilization)", ""));
    let out = collect(dir.path(), &d, &[], &[]);
    assert_eq!(out.status.code(), Some(5), "nothing collected: {}", text(&out));
    let said = text(&out);
    let line = format!(
        "warning: cpu_utilization: unavailable: {} answered with warnings (the data may be partial): store \
         10.0.0.7:10901: context deadline exceeded; info: metric might not be a counter",
        stub.url
    );
    assert_eq!(said.matches(&line).count(), 1, "one line per metric: {said}");
    assert!(!dir.path().join("collected.json").exists());
    let asked: Vec<String> = stub.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].contains(&format!("start={}&end={}&step=15", d.from, d.to)), "{asked:?}");

    // Infos alone are a hint about the query, not a partial answer: collected, said and kept.
    let stub = common::stub::Stub::answering(answer(""));
    policy(dir.path(), &source("cpu_utilization", &stub.url, "avg(cpu_utilization)", ""));
    let out = collect(dir.path(), &d, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let line = format!(
        "warning: cpu_utilization: {} answered with warnings (the data may be partial): info: metric might not be a \
         counter",
        stub.url
    );
    assert_eq!(text(&out).matches(&line).count(), 1, "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    assert_eq!(doc["metrics"]["cpu_utilization"], 50.0);
    assert_eq!(
        doc["collected"]["sources"]["cpu_utilization"]["warnings"],
        serde_json::json!(["info: metric might not be a counter"])
    );
}

fn raw_metric_line() -> &'static str {
    r#"{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default"},"metric":"http_reqs"}"#
}

#[test]
fn the_example_workflows_collect_line_runs_as_written() {
    let workflow = std::fs::read_to_string(common::root().join(".github/workflows/test-perf.yml")).unwrap();
    let line = workflow.lines().map(str::trim).find(|l| l.starts_with("perfcert collect ")).expect("step 3b");
    // Every collect line of the workflow is the same one.
    assert!(workflow.lines().map(str::trim).filter(|l| l.starts_with("perfcert collect ")).all(|l| l == line));
    let args: Vec<String> = line
        .split_whitespace()
        .skip(1)
        .map(|a| a.trim_matches('"').replace("$i", "1").replace("$SERVICE", "steady"))
        .collect();
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir();
    policy(dir.path(), &source("cpu_utilization", &prom.url, "cpu_utilization{service=\"$service\"}", ""));
    // k6's raw output of a run over the data's window, gzip as the workflow writes it.
    let point = |t: i64| {
        let time = jiff::Timestamp::from_second(t).unwrap();
        format!(
            r#"{{"metric":"http_reqs","type":"Point","data":{{"time":"{time}","value":1,"tags":{{"status":"200"}}}}}}"#
        )
    };
    let raw = format!("{}\n{}\n{}\n", raw_metric_line(), point(d.from), point(d.to));
    std::fs::create_dir(dir.path().join("perf")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    std::io::Write::write_all(&mut gz, raw.as_bytes()).unwrap();
    std::fs::write(dir.path().join("perf/raw-1.json.gz"), gz.finish().unwrap()).unwrap();
    let out = command(dir.path()).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    let doc = read_json(&dir.path().join("perf/current-extra-1.json"));
    let cpu = doc["metrics"]["cpu_utilization"].as_f64().unwrap();
    assert!((cpu - steady_mean(&d)).abs() < 1e-9, "cpu {cpu}");
    assert_eq!(doc["service"], "steady");
}
