//! CloudWatch `GetMetricData` as a source of `perfcert collect` and `perfcert drift`, against
//! moto's server (the S3 test server, tests/interop/s3_server.py, serves CloudWatch too), with
//! the datapoints written by boto3 (tests/interop/cloudwatch_put.py): what perfcert reads back
//! went in through another client and protocol.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::{command, root, text};

const SECRET: &str = "cloudwatch-test-secret-that-must-never-be-printed";

fn tools() -> PathBuf {
    common::tools(&["venv/bin/moto_server", "venv/bin/python"])
}

/// moto on a free loopback port, until dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Moto {
        let mut child = Command::new(tools().join("venv/bin/python"))
            .arg(root().join("tests/interop/s3_server.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let mut parts = line.split_whitespace();
        assert_eq!(parts.next(), Some("READY"), "moto: {line:?}");
        Moto { url: parts.next().unwrap().to_string(), child }
    }

    /// PutMetricData through boto3: `series` as tests/interop/cloudwatch_put.py reads it.
    fn put(&self, series: &serde_json::Value) {
        let mut put = Command::new(tools().join("venv/bin/python"))
            .arg(root().join("tests/interop/cloudwatch_put.py"))
            .arg(&self.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        put.stdin.take().unwrap().write_all(series.to_string().as_bytes()).unwrap();
        let out = put.wait_with_output().unwrap();
        assert!(out.status.success(), "cloudwatch_put.py: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An hour of 1-minute datapoints ending 5 minutes ago, and the range judged inside it: 30
/// minutes from 10 minutes in (six 5-minute windows).
struct Data {
    start: i64,
    from: i64,
    to: i64,
}

fn data() -> Data {
    let end = jiff::Timestamp::now().as_second() / 60 * 60 - 300;
    let start = end - 3600;
    Data { start, from: start + 600, to: start + 600 + 1800 }
}

/// ECS CPU of service `api` cycles 40..=45; `hot` is 40, then 60 from 15 minutes into the range.
fn cpu(service: &str, d: &Data, t: i64) -> f64 {
    match service {
        "api" => 40.0 + ((t / 60) % 6) as f64,
        _ if t < d.from + 900 => 40.0,
        _ => 60.0,
    }
}

fn seed(moto: &Moto, d: &Data) {
    let times: Vec<i64> = (d.start..d.start + 3600).step_by(60).collect();
    let series = |region: &str, metric: &str, service: &str, value: &dyn Fn(i64) -> f64| {
        serde_json::json!({
            "region": region, "namespace": "AWS/ECS", "metric": metric,
            "dimensions": {"ClusterName": "prod", "ServiceName": service},
            "points": times.iter().map(|&t| (t, value(t))).collect::<Vec<_>>(),
        })
    };
    moto.put(&serde_json::json!([
        series("eu-west-1", "CPUUtilization", "api", &|t| cpu("api", d, t)),
        series("eu-west-1", "CPUUtilization", "hot", &|t| cpu("hot", d, t)),
        series("eu-west-1", "MemoryUtilization", "api", &|_| 30.5),
    ]));
}

fn cloudwatch(metric: &str, region: &str, service: &str) -> String {
    format!(
        "    cloudwatch:\n      region: {region}\n      namespace: AWS/ECS\n      metric: {metric}\n      \
         dimensions: {{ ClusterName: prod, ServiceName: {service} }}\n"
    )
}

fn policy(dir: &Path, extra: &str) {
    let text = format!(
        "metrics:\n  cpu_utilization: {{ max_increase: 10%, max: 90, unit: \"%\" }}\n{extra}sources:\n  \
         cpu_utilization:\n{}  memory_utilization:\n{}  cpu_elsewhere:\n{}  cpu_of_nothing:\n{}",
        cloudwatch("CPUUtilization", "eu-west-1", "$service"),
        cloudwatch("MemoryUtilization", "eu-west-1", "$service"),
        cloudwatch("CPUUtilization", "us-west-2", "$service"),
        cloudwatch("CPUUtilization", "eu-west-1", "nothing"),
    );
    std::fs::write(dir.join("perf_thresholds.yml"), text).unwrap();
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(dir);
    cmd.args(args);
    for var in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
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

fn at(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

#[test]
fn collect_reads_the_mean_of_each_whole_period_and_says_why_a_metric_is_unavailable() {
    let moto = Moto::start();
    let d = data();
    seed(&moto, &d);
    let dir = common::workdir();
    policy(dir.path(), "");
    let env = [("AWS_ENDPOINT_URL_CLOUDWATCH", moto.url.as_str())];
    let window = ["--from", &d.from.to_string(), "--to", &d.to.to_string()];
    let out = run(dir.path(), &[&["collect", "--service", "api"][..], &window].concat(), &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    let expected: Vec<f64> = (d.from..d.to).step_by(60).map(|t| cpu("api", &d, t)).collect();
    assert_eq!(expected.len(), 30);
    let mean = expected.iter().sum::<f64>() / 30.0;
    let got = doc["metrics"]["cpu_utilization"].as_f64().unwrap();
    assert!((got - mean).abs() < 1e-9, "cpu {got}, expected {mean}");
    assert_eq!(doc["metrics"]["memory_utilization"], 30.5);
    let cpu_record = &doc["collected"]["sources"]["cpu_utilization"];
    assert_eq!(cpu_record["endpoint"], "cloudwatch:eu-west-1");
    assert_eq!(cpu_record["query"], "AWS/ECS CPUUtilization Average {ClusterName=prod, ServiceName=api}");
    assert_eq!((cpu_record["samples"].as_u64(), cpu_record["expected"].as_u64()), (Some(30), Some(30)));
    assert_eq!(cpu_record["period_seconds"], 60);
    assert_eq!(cpu_record["periods_from"], at(d.from));
    assert_eq!(cpu_record["periods_to"], at(d.to));

    // A wrong region and a metric without datapoints are unavailable with the reason, never 0.
    for metric in ["cpu_elsewhere", "cpu_of_nothing"] {
        assert!(doc["metrics"].get(metric).is_none(), "{doc:#}");
        let why = doc["collected"]["unavailable"][metric]["unavailable"].as_str().unwrap();
        assert!(why.starts_with("no datapoints: CloudWatch has no AWS/ECS CPUUtilization"), "{why}");
        assert!(text(&out).contains(&format!("warning: {metric}: unavailable: no datapoints")), "{}", text(&out));
    }
    assert!(doc["collected"]["unavailable"]["cpu_elsewhere"]["unavailable"].as_str().unwrap().contains("in us-west-2"));

    // A window off the minute keeps the whole periods inside it only (29), through AWS_ENDPOINT_URL.
    let out = run(
        dir.path(),
        &["collect", "--service", "api", "--from", &(d.from + 30).to_string(), "--to", &(d.to + 30).to_string()],
        &[("AWS_ENDPOINT_URL", moto.url.as_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    let cpu_record = &doc["collected"]["sources"]["cpu_utilization"];
    assert_eq!((cpu_record["samples"].as_u64(), cpu_record["expected"].as_u64()), (Some(29), Some(29)));
    assert_eq!(cpu_record["periods_from"], at(d.from + 60));
    let mean29 = expected[1..].iter().sum::<f64>() / 29.0;
    assert!((doc["metrics"]["cpu_utilization"].as_f64().unwrap() - mean29).abs() < 1e-9);

    // Shorter than a period: unavailable, and with nothing collected the exit is inconclusive.
    let out = run(
        dir.path(),
        &["collect", "--service", "api", "--from", &(d.from + 1).to_string(), "--to", &(d.from + 59).to_string()],
        &env,
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("holds no whole 60s period"), "{}", text(&out));
}

#[test]
fn drift_judges_cloudwatch_periods_window_by_window() {
    let moto = Moto::start();
    let d = data();
    seed(&moto, &d);
    let dir = common::workdir();
    let rules =
        "drift:\n  step: 1m\n  window: 5m\n  band: 10%\n  ticket_after: 3\n  metrics:\n    cpu_utilization: {}\n";
    policy(dir.path(), rules);
    std::fs::write(dir.path().join("stable.json"), r#"{"metrics": {"cpu_utilization": 42.5}}"#).unwrap();
    let env = [("AWS_ENDPOINT_URL_CLOUDWATCH", moto.url.as_str())];
    let args = |service: &str| -> Vec<String> {
        ["drift", "--service", service, "--baseline", "stable.json", "--format", "json", "--from"]
            .iter()
            .map(|s| s.to_string())
            .chain([d.from.to_string(), "--to".into(), d.to.to_string()])
            .collect()
    };
    let json = |service: &str| {
        let a = args(service);
        let out = run(dir.path(), &a.iter().map(String::as_str).collect::<Vec<_>>(), &env);
        let doc: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        (out.status.code(), doc)
    };
    let statuses = |doc: &serde_json::Value| -> Vec<String> {
        doc["metrics"][0]["windows"].as_array().unwrap().iter().map(|w| w["status"].as_str().unwrap().into()).collect()
    };
    let (code, doc) = json("api");
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(statuses(&doc), ["OK"; 6]);
    assert_eq!(doc["metrics"][0]["windows"][0]["samples"], 5, "five 1-minute periods in each 5 minutes");

    let (code, doc) = json("hot");
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(statuses(&doc), ["OK", "OK", "OK", "BREACH", "BREACH", "BREACH"]);
    let m = &doc["metrics"][0];
    assert_eq!(m["windows"][3]["start"], at(d.from + 900));
    assert_eq!(m["windows"][3]["mean"], 60.0);
    assert_eq!(m["ticket"], true);

    // A metric with no datapoints in the region is NODATA throughout: inconclusive, never PASS.
    let (code, doc) = json("nothing");
    assert_eq!(code, Some(5), "{doc:#}");
    assert_eq!(statuses(&doc), ["NODATA"; 6]);

    // The period must be the drift step.
    policy(dir.path(), &rules.replace("step: 1m", "step: 30s"));
    let a = args("api");
    let out = run(dir.path(), &a.iter().map(String::as_str).collect::<Vec<_>>(), &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("sources.cpu_utilization.cloudwatch.period is 60s but drift.step is 30s"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_unreachable_cloudwatch_or_no_credentials_is_an_external_error() {
    let d = data();
    let dir = common::workdir();
    policy(dir.path(), "");
    let window = ["collect", "--service", "api", "--from", &d.from.to_string(), "--to", &d.to.to_string()];
    let out = run(dir.path(), &window, &[("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:9")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("sources.cpu_utilization: http://127.0.0.1:9: GetMetricData AWS/ECS CPUUtilization"),
        "{}",
        text(&out)
    );
    let mut cmd = command(dir.path());
    cmd.args(window);
    for var in ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("no AWS credentials found"), "{}", text(&out));
}

/// A policy with ECS and Lambda usage sources and a `cost:` block; `extra_item` is appended to
/// the items.
fn cost_policy(dir: &Path, extra_item: &str) {
    let text = format!(
        "metrics:\n  cost_per_1000_req: {{ max_increase: 10%, unit: USD }}\nsources:\n  running_tasks:\n    cloudwatch:\n      \
         region: eu-west-1\n      namespace: ECS/ContainerInsights\n      metric: RunningTaskCount\n      \
         dimensions: {{ ClusterName: prod, ServiceName: $service }}\n  lambda_invocations:\n    cloudwatch:\n      \
         region: us-east-1\n      namespace: AWS/Lambda\n      metric: Invocations\n      \
         dimensions: {{ FunctionName: ingest }}\n      stat: Sum\n  cpu_of_nothing:\n{}\
         cost:\n  items:\n    vcpu: {{ price: 0.000011244, unit: vCPU-second, usage: {{ constant: 0.5, per: second }} }}\n    \
         lambda_requests: {{ price: 0.0000002, unit: request, usage: {{ source: lambda_invocations, per: sample }} }}\n    \
         task_hours: {{ price: 0.04, unit: task-hour, usage: {{ source: running_tasks, per: second, scale: 0.0002777777777777778 }} }}\n{extra_item}",
        cloudwatch("CPUUtilization", "eu-west-1", "nothing"),
    );
    std::fs::write(dir.join("perf_thresholds.yml"), text).unwrap();
}

/// k6 raw output of `n` requests spread over `[from, to]` (the first at `from`, the last at `to`).
fn k6_raw(from: i64, to: i64, n: i64) -> String {
    let mut out = String::new();
    for i in 0..n {
        let t = from * 1000 + (to - from) * 1000 * i / (n - 1);
        let time = jiff::Timestamp::from_millisecond(t).unwrap().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let tags = r#"{"method":"GET","status":"200","name":"http://api/","expected_response":"true"}"#;
        for (metric, value) in [("http_reqs", 1.0), ("http_req_duration", 120.0), ("http_req_failed", 0.0)] {
            out += &format!(
                "{{\"metric\":\"{metric}\",\"type\":\"Point\",\"data\":{{\"time\":\"{time}\",\"value\":{value},\"tags\":{tags}}}}}\n"
            );
        }
    }
    out
}

#[test]
fn collect_estimates_cost_per_1000_requests_from_usage_and_prices() {
    let moto = Moto::start();
    let d = data();
    let times: Vec<i64> = (d.start..d.start + 3600).step_by(60).collect();
    let points = |v: f64| times.iter().map(|&t| (t, v)).collect::<Vec<_>>();
    moto.put(&serde_json::json!([
        {"region": "eu-west-1", "namespace": "ECS/ContainerInsights", "metric": "RunningTaskCount",
         "dimensions": {"ClusterName": "prod", "ServiceName": "api"}, "points": points(2.0)},
        {"region": "us-east-1", "namespace": "AWS/Lambda", "metric": "Invocations",
         "dimensions": {"FunctionName": "ingest"}, "points": points(20.0)},
    ]));
    let dir = common::workdir();
    cost_policy(dir.path(), "");
    let env = [("AWS_ENDPOINT_URL_CLOUDWATCH", moto.url.as_str())];
    let (from, to) = (d.from.to_string(), d.to.to_string());
    let out =
        run(dir.path(), &["collect", "--service", "api", "--from", &from, "--to", &to, "--requests", "6000"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    // By hand, over 1800 s: vCPU 0.5 × 1800 × 0.000011244 = 0.0101196; Lambda 30 × 20 = 600
    // invocations × 0.0000002 = 0.00012; 2 tasks × 1800 s = 1 task-hour × 0.04 = 0.04.
    // Total 0.0502396 over 6000 requests: 0.0083732666... per 1000.
    let total = 0.0101196 + 0.00012 + 0.04;
    let got = doc["metrics"]["cost_per_1000_req"].as_f64().unwrap();
    assert!((got - total / 6.0).abs() < 1e-12, "cost {got}, expected {}", total / 6.0);
    let cost = &doc["collected"]["cost"];
    assert!((cost["total"].as_f64().unwrap() - total).abs() < 1e-12, "{cost:#}");
    assert_eq!((cost["requests"].as_u64(), cost["requests_from"].as_str()), (Some(6000), Some("--requests")));
    assert_eq!((cost["window_seconds"].as_f64(), cost["currency"].as_str()), (Some(1800.0), Some("USD")));
    let items = &cost["items"];
    assert_eq!(items["lambda_requests"]["usage"], 600.0);
    assert_eq!(items["lambda_requests"]["from"], "sum 600 of 30 samples of source lambda_invocations");
    assert_eq!(items["vcpu"]["usage"], 900.0);
    assert_eq!(items["vcpu"]["unit"], "vCPU-second");
    assert!((items["task_hours"]["usage"].as_f64().unwrap() - 1.0).abs() < 1e-12, "{items:#}");
    assert!(text(&out).contains("cost_per_1000_req: "), "{}", text(&out));

    // A window that does not start on a period: its whole periods (29 min) cover less than it
    // (29.5 min) while the requests count all of it, so the per-sample sum is scaled to the
    // window: 580 x 1770 / 1740 = 590 invocations, not 580 (a cost too low).
    let half = (d.from + 30).to_string();
    let out =
        run(dir.path(), &["collect", "--service", "api", "--from", &half, "--to", &to, "--requests", "6000"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    let lambda = &doc["collected"]["cost"]["items"]["lambda_requests"];
    assert!((lambda["usage"].as_f64().unwrap() - 590.0).abs() < 1e-9, "{lambda:#}");
    assert!(lambda["from"].as_str().unwrap().contains("sum 580 of 29 samples"), "{lambda:#}");
    let scale = doc["collected"]["sources"]["lambda_invocations"]["usage_sum_scale"].as_f64().unwrap();
    assert!((scale - 1770.0 / 1740.0).abs() < 1e-12, "{scale}");

    // The requests (and the window) from the load test's own output: 600 requests, ten times
    // fewer, ten times the cost per 1000.
    std::fs::write(dir.path().join("k6.json"), k6_raw(d.from, d.to, 600)).unwrap();
    let out = run(dir.path(), &["collect", "--service", "api", "--window-from", "k6.json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    let got = doc["metrics"]["cost_per_1000_req"].as_f64().unwrap();
    assert!((got - total / 0.6).abs() < 1e-12, "cost {got}, expected {}", total / 0.6);
    assert_eq!(doc["collected"]["cost"]["requests"], 600);
    assert_eq!(doc["collected"]["cost"]["requests_from"], "k6.json");

    // Zero requests, no request count, or a usage without data: unavailable, never 0 or inf.
    let out = run(dir.path(), &["collect", "--service", "api", "--from", &from, "--to", &to, "--requests", "0"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    assert!(doc["metrics"].get("cost_per_1000_req").is_none(), "{doc:#}");
    let why = doc["collected"]["unavailable"]["cost_per_1000_req"]["unavailable"].as_str().unwrap();
    assert!(why.contains("0 requests"), "{why}");
    let out = run(dir.path(), &["collect", "--service", "api", "--from", &from, "--to", &to], &env);
    assert!(text(&out).contains("cost_per_1000_req: unavailable: no request count"), "{}", text(&out));
    cost_policy(dir.path(), "    nothing: { price: 1, usage: { source: cpu_of_nothing, per: second } }\n");
    let out =
        run(dir.path(), &["collect", "--service", "api", "--from", &from, "--to", &to, "--requests", "6000"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc = read_json(&dir.path().join("collected.json"));
    assert!(doc["metrics"].get("cost_per_1000_req").is_none(), "{doc:#}");
    let u = &doc["collected"]["unavailable"]["cost_per_1000_req"];
    assert!(
        u["unavailable"]
            .as_str()
            .unwrap()
            .starts_with("usage unavailable: nothing: source cpu_of_nothing: no datapoints"),
        "{u:#}"
    );
    assert_eq!(u["items"]["vcpu"]["usage"], 900.0, "the items that could be priced are kept: {u:#}");

    // Every price 0: a cost of 0 whatever is used, which would always pass: warned of.
    cost_policy(dir.path(), "");
    let policy = std::fs::read_to_string(dir.path().join("perf_thresholds.yml")).unwrap();
    let free = policy
        .replace("price: 0.000011244", "price: 0")
        .replace("price: 0.0000002", "price: 0")
        .replace("price: 0.04", "price: 0");
    std::fs::write(dir.path().join("perf_thresholds.yml"), free).unwrap();
    let out =
        run(dir.path(), &["collect", "--service", "api", "--from", &from, "--to", &to, "--requests", "6000"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("every cost item's price is 0"), "{}", text(&out));
}

/// POSTs `body` (JSON) to `url` (`http://127.0.0.1:PORT/path`) and returns the status line.
fn post(url: &str, body: &str) -> String {
    use std::io::Read;
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST /{path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_string()
}

#[test]
fn drift_reconciles_the_estimate_with_cost_explorer() {
    let moto = Moto::start();
    let d = data();
    seed(&moto, &d);
    // The UTC days the range touches, each with 500,000 requests (one 1-day datapoint) and
    // 6.25 USD of spend: 0.0125 USD per 1000 requests, +25% over the 0.01 estimate.
    let day = 86_400;
    let days: Vec<i64> = (d.from / day * day..=(d.to - 1) / day * day).step_by(day as usize).collect();
    moto.put(&serde_json::json!([{
        "region": "eu-west-1", "namespace": "AWS/ApplicationELB", "metric": "RequestCount",
        "dimensions": {"LoadBalancer": "app/prod/1"},
        "points": days.iter().map(|&t| (t + 60, 500_000.0)).collect::<Vec<_>>(),
    }]));
    let date = |t: i64| jiff::Timestamp::from_second(t).unwrap().strftime("%Y-%m-%d").to_string();
    let results: Vec<serde_json::Value> = days
        .iter()
        .map(|&t| {
            serde_json::json!({"TimePeriod": {"Start": date(t), "End": date(t + day)},
                "Total": {"UnblendedCost": {"Amount": "6.25", "Unit": "USD"}}, "Estimated": false})
        })
        .collect();
    let status = post(
        &format!("{}/moto-api/static/ce/cost-and-usage-results", moto.url),
        &serde_json::json!({"results": [{"ResultsByTime": results}]}).to_string(),
    );
    assert!(status.contains(" 20"), "moto: {status}");

    let dir = common::workdir();
    let policy = |tolerance: &str| {
        let text = format!(
            "metrics:\n  cpu_utilization: {{ max_increase: 10%, max: 90 }}\n\
             drift:\n  step: 1m\n  window: 5m\n  metrics:\n    cpu_utilization: {{}}\n\
             sources:\n  cpu_utilization:\n{}  alb_requests:\n    cloudwatch: {{ region: eu-west-1, namespace: AWS/ApplicationELB, \
             metric: RequestCount, dimensions: {{ LoadBalancer: app/prod/1 }}, stat: Sum, period: 24h }}\n\
             cost:\n  items:\n    vcpu: {{ price: 0.000011244, usage: {{ constant: 1, per: second }} }}\n  explorer:\n    \
             tag: {{ key: service, value: $service }}\n    requests: {{ source: alb_requests, per: sample }}\n    \
             tolerance: {tolerance}\n",
            cloudwatch("CPUUtilization", "eu-west-1", "$service"),
        );
        std::fs::write(dir.path().join("perf_thresholds.yml"), text).unwrap();
    };
    policy("20%");
    std::fs::write(
        dir.path().join("stable.json"),
        r#"{"metrics": {"cpu_utilization": 42.5, "cost_per_1000_req": 0.01}}"#,
    )
    .unwrap();
    let (from, to) = (d.from.to_string(), d.to.to_string());
    let args =
        ["drift", "--service", "api", "--baseline", "stable.json", "--from", &from, "--to", &to, "--cost-explorer"];
    let env = [("AWS_ENDPOINT_URL", moto.url.as_str())];
    let out = run(dir.path(), &args, &env);
    assert_eq!(out.status.code(), Some(0), "the cost does not change drift's verdict: {}", text(&out));
    let said = text(&out);
    let requests = 500_000 * days.len();
    assert!(
        said.contains(&format!(
            "warning: cost: actual 0.0125 USD per 1000 requests ({} USD over {requests} requests, {} to {}",
            6.25 * days.len() as f64,
            date(days[0]),
            date(days[days.len() - 1] + day)
        )),
        "{said}"
    );
    assert!(
        said.contains("estimate 0.01 (cost_per_1000_req in stable.json): +25.0%, beyond the 20% tolerance"),
        "{said}"
    );

    policy("30%");
    let out = run(dir.path(), &args, &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("+25.0%, within the 30% tolerance"), "{}", text(&out));
    assert!(!text(&out).contains("warning: cost:"), "{}", text(&out));

    // Without the block it is an input error; an unreachable Cost Explorer is external.
    let out = run(
        dir.path(),
        &args,
        &[("AWS_ENDPOINT_URL_CLOUDWATCH", moto.url.as_str()), ("AWS_ENDPOINT_URL_COST_EXPLORER", "http://127.0.0.1:9")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("cost.explorer: http://127.0.0.1:9: GetCostAndUsage"), "{}", text(&out));
    std::fs::write(
        dir.path().join("perf_thresholds.yml"),
        format!(
            "metrics:\n  cpu_utilization: {{ max: 90 }}\ndrift:\n  step: 1m\n  metrics:\n    cpu_utilization: {{}}\nsources:\n  cpu_utilization:\n{}",
            cloudwatch("CPUUtilization", "eu-west-1", "$service")
        ),
    )
    .unwrap();
    let out = run(dir.path(), &args, &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--cost-explorer needs a cost.explorer block"), "{}", text(&out));
}
