//! The k6 summary readers against the real k6 1.1.0 outputs in fixtures/k6: every number is
//! k6's own, converted only in unit, and both summary flavours of one run read the same.

mod common;

use common::root;
use perfcert::input::{self, Classes, Format};
use perfcert::model::RunResults;
use serde_json::Value;

fn classes() -> Classes {
    Classes { read: Some("kind:read".into()), write: Some("kind:write".into()), ..Default::default() }
}

fn read(name: &str) -> (RunResults, Value) {
    let path = root().join("fixtures/k6").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (input::parse(name, &text, None, &classes()).unwrap(), serde_json::from_str(&text).unwrap())
}

#[test]
fn detection_tells_the_two_flavours_apart() {
    for run in ["baseline", "current"] {
        for (file, expected) in [("summary-export", Format::K6Summary), ("handlesummary", Format::K6HandleSummary)] {
            let name = format!("k6-{run}-{file}.json");
            let text = std::fs::read_to_string(root().join("fixtures/k6").join(&name)).unwrap();
            assert_eq!(input::detect(&name, &text).unwrap(), expected, "{name}");
        }
    }
}

#[test]
fn summary_export_numbers_are_k6_numbers() {
    for run in ["baseline", "current"] {
        let (r, doc) = read(&format!("k6-{run}-summary-export.json"));
        let m = &doc["metrics"];
        let f = |path: &[&str]| path.iter().fold(m, |v, k| &v[*k]).as_f64().unwrap();
        assert_eq!(r.metrics["latency_p95"], f(&["http_req_duration", "p(95)"]));
        assert_eq!(r.metrics["latency_p95_read"], f(&["http_req_duration{kind:read}", "p(95)"]));
        assert_eq!(r.metrics["latency_p95_write"], f(&["http_req_duration{kind:write}", "p(95)"]));
        assert_eq!(r.metrics["latency_p99_write"], f(&["http_req_duration{kind:write}", "p(99)"]));
        assert_eq!(r.metrics["latency_p50"], f(&["http_req_duration", "med"]));
        assert_eq!(r.metrics["latency_avg"], f(&["http_req_duration", "avg"]));
        // http_req_failed: `value` is the failed ratio; `passes` counts FAILED requests.
        assert_eq!(r.metrics["error_rate"], f(&["http_req_failed", "value"]) * 100.0);
        let failed = f(&["http_req_failed", "passes"]);
        let total = f(&["http_reqs", "count"]);
        assert!((r.metrics["error_rate"] - failed / total * 100.0).abs() < 1e-9);
        assert_eq!(r.metrics["throughput"], f(&["http_reqs", "rate"]) * 60.0);
        assert_eq!(r.metrics["requests"], total);
    }
}

#[test]
fn handle_summary_reads_the_same_as_summary_export() {
    for run in ["baseline", "current"] {
        let (export, _) = read(&format!("k6-{run}-summary-export.json"));
        let (handle, _) = read(&format!("k6-{run}-handlesummary.json"));
        let mut a: Vec<_> = export.metrics.iter().collect();
        let mut b: Vec<_> = handle.metrics.iter().collect();
        a.sort_by(|x, y| x.0.cmp(y.0));
        b.sort_by(|x, y| x.0.cmp(y.0));
        assert_eq!(a, b, "{run}");
        assert!(a.len() >= 25);
    }
}

#[test]
fn the_known_regression_shows() {
    // The current run's writes are ~15% slower server-side; k6 measured +13.9% on p95.
    let (base, _) = read("k6-baseline-summary-export.json");
    let (cur, _) = read("k6-current-summary-export.json");
    let delta = cur.metrics["latency_p95_write"] / base.metrics["latency_p95_write"] - 1.0;
    assert!((delta - 0.139).abs() < 0.001, "{delta}");
}
