//! Issue 13, the input readers: one test per class of hostile or real input that used to give
//! a wrong answer (wrapped counters and non-finite sums, non-canonical histogram keys,
//! duplicates, unbounded Locust JSON, long first NDJSON lines, Locust throughput, zero-request
//! Locust CSV, k6 submetric tags with `:`). Each builds its input here.

use std::path::{Path, PathBuf};

use perfcert::input::{self, Classes, Format};
use perfcert::model::RunResults;

fn parse(file: &str, text: &str, format: Option<Format>) -> Result<RunResults, String> {
    input::parse(file, text, format, &Classes::default()).map_err(|e| e.to_string())
}

fn err(file: &str, text: &str, format: Option<Format>) -> String {
    match parse(file, text, format) {
        Ok(r) => panic!("{file}: expected an error, got {:?}", r.metrics),
        Err(e) => e,
    }
}

fn all_finite(r: &RunResults) {
    for (name, v) in &r.metrics {
        assert!(v.is_finite(), "{name} = {v}");
    }
}

/// One Locust JSON entry.
fn locust_entry(method: &str, name: &str, requests: u64, failures: u64, total_ms: f64, buckets: &str) -> String {
    format!(
        r#"{{"name": "{name}", "method": "{method}", "last_request_timestamp": 1000.5, "start_time": 1000.0,
            "num_requests": {requests}, "num_none_requests": 0, "num_failures": {failures},
            "total_response_time": {total_ms}, "max_response_time": 50.0, "min_response_time": 1.0,
            "total_content_length": 0, "response_times": {buckets}, "num_reqs_per_sec": {{}}, "num_fail_per_sec": {{}}}}"#
    )
}

const LOCUST_CSV_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";

fn locust_csv_row(method: &str, name: &str, requests: &str, failures: &str) -> String {
    format!("{method},{name},{requests},{failures},9,10.5,2.0,80.0,300.0,59.5,0.0,9,11,13,14,19,23,30,34,54,81,81")
}

// 1. Wrapped counters and non-finite sums.

#[test]
fn counters_summed_over_entries_never_wrap() {
    // Two write endpoints: 2^63 + 2^63 requests wrap to 0 in a release build, and their
    // failures likewise, which read as a 0% error rate.
    let half = 1u64 << 63;
    let text = format!(
        "[{}, {}]",
        locust_entry("POST", "/a", half, half, 10.0, r#"{"10": 1}"#),
        locust_entry("POST", "/b", half, half, 10.0, r#"{"10": 1}"#)
    );
    let e = err("l.json", &text, None);
    assert!(e.starts_with("l.json: [1].num_requests: the sum of `num_requests` over the entries does not fit"), "{e}");

    let csv = format!(
        "{LOCUST_CSV_HEADER}\n{}\n{}\n{}\n",
        locust_csv_row("POST", "/a", &half.to_string(), &half.to_string()),
        locust_csv_row("POST", "/b", &half.to_string(), &half.to_string()),
        locust_csv_row("", "Aggregated", "10", "0")
    );
    let e = err("l_stats.csv", &csv, None);
    assert!(e.contains("the `Request Count` of the write rows does not fit in 64 bits"), "{e}");
}

#[test]
fn latency_sums_that_overflow_give_a_finite_average() {
    // Each total is finite; their sum is not. The average must still be the true mean.
    let text = format!(
        "[{}, {}]",
        locust_entry("GET", "/a", 1, 0, 1.5e308, r#"{"10": 1}"#),
        locust_entry("GET", "/b", 1, 0, 1.5e308, r#"{"10": 1}"#)
    );
    let r = parse("l.json", &text, None).unwrap();
    all_finite(&r);
    // Clamped to the observed range (max 50 ms): the totals are inconsistent with it.
    assert_eq!(r.metrics["latency_avg"], 50.0);

    // k6 raw: two samples near f64::MAX overflow the plain sum.
    let line = |v: &str| {
        format!(
            "{{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-01-01T00:00:00Z\",\"value\":{v},\"tags\":{{\"method\":\"GET\",\"name\":\"/a\"}}}}}}\n"
        )
    };
    let text = format!("{}{}", line("1.7e308"), line("1.5e308"));
    let r = parse("r.ndjson", &text, Some(Format::K6Json)).unwrap();
    all_finite(&r);
    let avg = r.metrics["latency_avg"];
    assert!((avg - 1.6e308).abs() / 1.6e308 < 1e-12, "{avg}");
}

// 2. Non-canonical numbers as histogram keys.

#[test]
fn locust_bucket_keys_must_be_written_as_locust_writes_them() {
    for key in ["-0", "007", "1e2", "4.5", "10.00", "-0.0", "+5", " 5", "", "18446744073709551616"] {
        let text = format!("[{}]", locust_entry("GET", "/a", 20, 0, 200.0, &format!(r#"{{"10": 19, "{key}": 1}}"#)));
        let e = err("l.json", &text, None);
        assert!(e.contains("[0].response_times"), "{key}: {e}");
        assert!(e.contains("expected a response time in whole ms written as Locust writes it"), "{key}: {e}");
    }
    // "-0" used to sort above every bucket: p95 of twenty 10 ms requests read as 0 ms.
    let ok = format!("[{}]", locust_entry("GET", "/a", 20, 0, 200.0, r#"{"10": 19, "0": 1}"#));
    assert_eq!(parse("l.json", &ok, None).unwrap().metrics["latency_p95"], 10.0);
    // Locust 2.37 writes "110.0" for the 110 ms bucket: the same bucket as "110".
    let old = format!("[{}]", locust_entry("GET", "/a", 20, 0, 200.0, r#"{"10": 1, "110.0": 19}"#));
    assert_eq!(parse("l.json", &old, None).unwrap().metrics["latency_p95"], 110.0);
    let both = format!("[{}]", locust_entry("GET", "/a", 20, 0, 200.0, r#"{"110": 1, "110.0": 19}"#));
    assert!(err("l.json", &both, None).contains("duplicate bucket \"110.0\""));
}

// 3. Duplicates.

#[test]
fn every_reader_refuses_duplicates() {
    // Locust JSON: a bucket twice (serde_json keeps the last), an endpoint twice.
    let text = format!("[{}]", locust_entry("GET", "/a", 2, 0, 20.0, r#"{"10": 1, "10": 1}"#));
    let e = err("l.json", &text, None);
    assert!(e.contains("duplicate key `[0].response_times.10`; each key may appear once"), "{e}");
    let a = locust_entry("GET", "/a", 1, 0, 10.0, r#"{"10": 1}"#);
    let e = err("l.json", &format!("[{a}, {a}]"), None);
    assert!(e.contains("[1].name: the endpoint `GET /a` is listed twice"), "{e}");

    // Locust CSV: two Aggregated rows, two rows of one endpoint, a column twice.
    let agg = locust_csv_row("", "Aggregated", "10", "0");
    let row = locust_csv_row("GET", "/a", "10", "0");
    let e = err("s.csv", &format!("{LOCUST_CSV_HEADER}\n{row}\n{agg}\n{agg}\n"), None);
    assert_eq!(e, "s.csv:4:1: a second `Aggregated` row (the first is on line 3); expected one");
    let e = err("s.csv", &format!("{LOCUST_CSV_HEADER}\n{row}\n{row}\n{agg}\n"), None);
    assert_eq!(e, "s.csv:3:1: a second row for `GET /a` (the first is on line 2); expected one row per endpoint");
    let e = err("s.csv", &format!("{LOCUST_CSV_HEADER},95%\n"), Some(Format::LocustCsv));
    assert!(e.contains("the header names the column `95%` twice"), "{e}");

    // k6 summary-export and handleSummary: a metric twice, a stat twice.
    let export = r#"{"metrics": {"http_req_duration": {"p(95)": 5, "avg": 3},
                                 "http_req_duration": {"p(95)": 500, "avg": 300}}, "root_group": {}}"#;
    let e = err("s.json", export, None);
    assert!(e.contains("duplicate key `metrics.http_req_duration`"), "{e}");
    let handle =
        r#"{"state": {}, "metrics": {"http_req_duration": {"type": "trend", "values": {"p(95)": 5, "p(95)": 1}}}}"#;
    let e = err("h.json", handle, None);
    assert!(e.contains("duplicate key `metrics.http_req_duration.values.p(95)`"), "{e}");

    // k6 NDJSON: a key twice in a line; k6's own layout (fast path) and another (serde) agree.
    let tags_twice = r#"{"metric":"http_req_duration","type":"Point","data":{"time":"2026-01-01T00:00:00Z","value":5,"tags":{"method":"GET","method":"POST"}}}"#;
    let value_twice = r#"{"metric":"http_req_duration","type":"Point","data":{"time":"2026-01-01T00:00:00Z","value":5,"value":900,"tags":{}}}"#;
    let spaced = r#"{"type": "Point", "metric": "http_req_duration", "data": {"time": "2026-01-01T00:00:00Z", "value": 5, "tags": {"name": "/a", "name": "/b"}}}"#;
    let data_twice = r#"{"type":"Point","metric":"http_req_duration","data":{"time":"2026-01-01T00:00:00Z","value":5,"tags":{}},"data":{"time":"2026-01-01T00:00:00Z","value":9,"tags":{}}}"#;
    for (line, key) in [
        (tags_twice, "data.tags.method"),
        (value_twice, "data.value"),
        (spaced, "data.tags.name"),
        (data_twice, "data"),
    ] {
        let e = err("r.ndjson", &format!("{line}\n"), Some(Format::K6Json));
        assert!(e.starts_with("r.ndjson:1:1: not a k6 Point line: duplicate key `"), "{e}");
        assert!(e.contains(&format!("`{key}`")), "{key}: {e}");
    }

    // k6 CSV: a column twice.
    let e = err("k.csv", "metric_name,timestamp,metric_value,method,method\n", Some(Format::K6Csv));
    assert!(e.contains("the header names the column `method` twice"), "{e}");
}

// 4. Unbounded memory on Locust JSON: the k6 readers' cap and note.

#[test]
fn locust_endpoint_rows_are_capped_like_k6() {
    let n = perfcert::input::k6_samples::MAX_ENDPOINTS + 1;
    let entries: Vec<String> =
        (0..n).map(|i| locust_entry("GET", &format!("/item/{i}"), 1, 0, 10.0, r#"{"10": 1}"#)).collect();
    let r = parse("l.json", &format!("[{}]", entries.join(",")), None).unwrap();
    assert!(!r.metrics.keys().any(|k| k.contains("{endpoint=")), "per-endpoint rows dropped");
    assert_eq!(r.metrics["requests"], n as f64, "the groups still count every endpoint");
    assert_eq!(r.notes.len(), 1);
    assert!(r.notes[0].starts_with("more than 256 endpoints (method + name): per-endpoint metrics left out"));
    // At the cap, every endpoint keeps its row.
    let r = parse("l.json", &format!("[{}]", entries[..n - 1].join(",")), None).unwrap();
    assert_eq!(r.metrics.keys().filter(|k| k.starts_with("requests{endpoint=")).count(), n - 1);
    assert!(r.notes.is_empty());
}

// 5. k6 NDJSON whose first line is longer than the detection head.

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perfcert-input-classes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_long_first_ndjson_line_is_still_k6_raw_output() {
    // A Metric line with many submetrics, 200 KiB long, then Points.
    let subs: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"name":"http_req_duration{{endpoint:e{i}}}","suffix":"endpoint:e{i}","tags":{{"endpoint":"e{i}"}}}}"#))
        .collect();
    let metric = format!(
        r#"{{"type":"Metric","data":{{"name":"http_req_duration","type":"trend","contains":"time","thresholds":[],"submetrics":[{}]}},"metric":"http_req_duration"}}"#,
        subs.join(",")
    );
    assert!(metric.len() > 128 << 10);
    let point = |t: &str, m: &str, v: f64| {
        format!(
            "{{\"metric\":\"{m}\",\"type\":\"Point\",\"data\":{{\"time\":\"{t}\",\"value\":{v},\"tags\":{{\"method\":\"GET\",\"name\":\"/a\"}}}}}}\n"
        )
    };
    let text = format!(
        "{metric}\n{}{}{}{}",
        point("2026-01-01T00:00:00Z", "http_req_duration", 5.0),
        point("2026-01-01T00:00:00Z", "http_reqs", 1.0),
        point("2026-01-01T00:00:10Z", "http_req_duration", 7.0),
        point("2026-01-01T00:00:10Z", "http_reqs", 1.0),
    );
    let path = temp("long-first-line.ndjson", text.as_bytes());
    let r = input::load(&path, None, &Classes::default()).unwrap();
    assert_eq!(r.metrics["requests"], 2.0);
    assert_eq!(r.metrics["latency_max"], 7.0);
    // The same, gzip.
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let path = temp("long-first-line.ndjson.gz", &gz.finish().unwrap());
    assert_eq!(input::load(&path, None, &Classes::default()).unwrap().metrics["requests"], 2.0);
}

// 6. Locust throughput: Locust's own figure, or unavailable.

fn throughput_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/locust/throughput").join(name)
}

#[test]
fn locust_throughput_is_locusts_own_figure_or_unavailable() {
    for version in ["2.37.14", "2.47.0"] {
        for run in ["short", "normal"] {
            let name = format!("locust-{version}-{run}");
            let total: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(throughput_fixture(&format!("{name}.total.json"))).unwrap(),
            )
            .unwrap();
            let locust_rps = total["total_rps"].as_f64().unwrap();
            // The CSV's Aggregated Requests/s is Locust's total_rps as of its last write (the
            // final one for a short run; about 1 s earlier for a normal run, see the README).
            let csv =
                input::load(&throughput_fixture(&format!("{name}_stats.csv")), None, &Classes::default()).unwrap();
            let csv_rpm = csv.metrics["throughput"];
            if run == "short" {
                assert!((csv_rpm - locust_rps * 60.0).abs() <= 1e-9 * csv_rpm, "{name}: {csv_rpm} vs {locust_rps}");
            } else {
                assert!((csv_rpm / (locust_rps * 60.0) - 1.0).abs() < 0.01, "{name}: {csv_rpm} vs {locust_rps}");
            }
            // The JSON lacks the test's start that Locust divides from: unavailable, never the
            // first-request estimate (26-51% too high on the short runs).
            let json = input::load(&throughput_fixture(&format!("{name}.json")), None, &Classes::default()).unwrap();
            assert!(!json.metrics.keys().any(|k| k.starts_with("throughput")), "{name}: {:?}", json.metrics);
            assert!(json.unavailable["throughput"].contains("does not record"), "{name}");
            assert_eq!(json.metrics["requests"], total["num_requests"].as_f64().unwrap(), "{name}");
        }
    }
}

#[test]
fn locust_json_over_a_long_span_gives_throughput_from_the_first_request() {
    // 1000 requests from t=1000 to t=1200: 300 per minute; one request alone has no span.
    let long = locust_entry("GET", "/a", 1000, 0, 10000.0, r#"{"10": 1000}"#).replace("1000.5", "1200.0");
    let r = parse("l.json", &format!("[{long}]"), None).unwrap();
    assert!((r.metrics["throughput"] - 300.0).abs() < 1e-9, "{:?}", r.metrics);
    let one = locust_entry("GET", "/a", 1, 0, 10.0, r#"{"10": 1}"#).replace("1000.5", "1000.0");
    let r = parse("l.json", &format!("[{one}]"), None).unwrap();
    assert!(!r.metrics.contains_key("throughput"));
    assert!(r.unavailable["throughput"].contains("no time span"), "{:?}", r.unavailable);
}

// 7. A Locust stats CSV with zero requests is an input error, as the JSON is.

#[test]
fn zero_requests_are_an_input_error_in_both_locust_formats() {
    let csv =
        format!("{LOCUST_CSV_HEADER}\n,Aggregated,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n");
    let e = err("s.csv", &csv, None);
    assert!(e.ends_with("did the test make any requests?"), "{e}");
    assert!(err("l.json", "[]", None).ends_with("did the test make any requests?"));
    let zero = locust_entry("GET", "/a", 0, 0, 0.0, "{}");
    assert!(err("l.json", &format!("[{zero}]"), None).ends_with("did the test make any requests?"));
}

// 8. k6 submetrics whose tag values contain `:`.

#[test]
fn k6_submetric_values_keep_their_colons() {
    let doc = r#"{"root_group": {}, "metrics": {
        "http_req_duration": {"p(95)": 10},
        "http_req_duration{group:::browse::search}": {"p(95)": 11},
        "http_req_duration{url:http://h:8080/a}": {"p(95)": 12},
        "http_req_duration{method:GET,url:http://h/b?x=1:2}": {"p(95)": 13},
        "http_req_duration{kind:read}": {"p(95)": 14}}}"#;
    let classes = Classes { read: Some("kind:read".into()), write: None, ..Default::default() };
    let r = input::parse("s.json", doc, None, &classes).unwrap();
    assert_eq!(r.metrics["latency_p95{group=::browse::search}"], 11.0);
    assert_eq!(r.metrics["latency_p95{url=http://h:8080/a}"], 12.0);
    assert_eq!(r.metrics["latency_p95{method=GET,url=http://h/b?x=1:2}"], 13.0);
    assert_eq!(r.metrics["latency_p95_read"], 14.0);
    // Two spellings that name one metric are refused rather than one overwriting the other.
    let clash = r#"{"root_group": {}, "metrics": {"http_req_duration": {"p(95)": 1},
        "http_req_duration{a=b:c}": {"p(95)": 2}, "http_req_duration{a:b=c}": {"p(95)": 3}}}"#;
    let e = err("s.json", clash, None);
    assert!(e.contains("both give the metric `latency_p95{a=b=c}`"), "{e}");
}
