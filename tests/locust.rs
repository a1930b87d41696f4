//! The Locust readers against real Locust 2.47.0 output (fixtures/locust, see its README):
//! statistics from the JSON histograms equal what Locust computes itself; the stats CSV gives
//! its rows' own numbers and refuses to merge percentiles it cannot merge.

mod common;

use std::path::PathBuf;

use common::root;
use perfcert::input::{self, Classes};
use perfcert::model::RunResults;

fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/locust").join(name)
}

fn load(name: &str) -> RunResults {
    input::load(&fixture(name), None, &Classes::default()).unwrap()
}

/// Run, group suffix, p50/p90/p95/p99 (ms), average (ms), failure percentage, requests per minute.
type Expected = (&'static str, &'static str, [f64; 4], f64, f64, f64);

/// Printed by `scripts/locust-expected.py` with Locust 2.47.0.
#[rustfmt::skip]
const LOCUST_SAYS: [Expected; 6] = [
    ("baseline", "", [13.0, 50.0, 55.0, 64.0], 21.88359866938761, 0.5215419501133787, 10744.499298716057),
    ("baseline", "_read", [9.0, 19.0, 24.0, 36.0], 10.703078223128973, 0.7823129251700681, 7162.999532477372),
    ("baseline", "_write", [44.0, 57.0, 61.0, 71.0], 44.244639561904876, 0.0, 3581.499766238686),
    ("current", "", [11.0, 55.0, 60.0, 68.0], 22.088027983830685, 0.2732862673650649, 10747.45633974522),
    ("current", "_read", [8.0, 16.0, 20.0, 30.0], 9.204518657104437, 0.4098360655737705, 7166.602633289457),
    ("current", "_write", [48.0, 62.0, 66.0, 74.0], 47.8726590902247, 0.0, 3580.8537064557636),
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn json_statistics_equal_locusts_own() {
    for (run, suffix, percentiles, avg, fail_pct, rpm) in LOCUST_SAYS {
        let r = load(&format!("locust-{run}.json"));
        for (p, want) in ["p50", "p90", "p95", "p99"].iter().zip(percentiles) {
            assert_eq!(r.metrics[&format!("latency_{p}{suffix}")], want, "{run} latency_{p}{suffix}");
        }
        let got = |m: &str| r.metrics[&format!("{m}{suffix}")];
        assert!(close(got("latency_avg"), avg), "{run} avg{suffix}: {} vs {avg}", got("latency_avg"));
        assert!(close(got("error_rate"), fail_pct), "{run} error_rate{suffix}");
        // Locust's Requests/s counts from the test's start, which the JSON does not record: over
        // these 25 s runs the start-up cannot be left out, so throughput is unavailable, not
        // the first-request estimate (`rpm`, up to 0.8% above Locust's own figure).
        let _ = rpm;
        assert!(!r.metrics.contains_key(&format!("throughput{suffix}")), "{run} throughput{suffix}");
        assert!(r.unavailable["throughput"].contains("does not record"), "{:?}", r.unavailable);
    }
}

#[test]
fn json_endpoints_match_the_csv_rows_shape() {
    let r = load("locust-current.json");
    // One endpoint alone: its percentiles are the histogram's, as in Locust's own tables.
    assert_eq!(r.metrics["latency_p95{endpoint=POST /orders}"], 66.0);
    assert_eq!(
        r.metrics["requests{endpoint=GET /items}"] + r.metrics["requests{endpoint=GET /flaky}"],
        r.metrics["requests_read"]
    );
    assert!(r.notes.is_empty());
}

#[test]
fn csv_rows_give_their_own_numbers() {
    let r = load("locust-baseline_stats.csv");
    // From the file: POST /orders row and the Aggregated row.
    assert_eq!(r.metrics["latency_p95_write"], 61.0);
    assert_eq!(r.metrics["latency_p95{endpoint=POST /orders}"], 61.0);
    assert_eq!(r.metrics["latency_p99{endpoint=GET /flaky}"], 40.0);
    assert_eq!(r.metrics["latency_p95"], 55.0);
    assert!(close(r.metrics["latency_avg"], 21.91529946680645));
    assert!(close(r.metrics["error_rate"], 23.0 / 4293.0 * 100.0));
    assert!(close(r.metrics["throughput"], 178.51765185196075 * 60.0));
    // Two GET rows: counts merge, percentiles do not.
    assert_eq!(r.metrics["requests_read"], 2864.0);
    assert!(close(r.metrics["error_rate_read"], 23.0 / 2864.0 * 100.0));
    assert_eq!(r.metrics["latency_max_read"], 104.54878100000542);
    assert!(!r.metrics.contains_key("latency_p95_read"));
    let why = &r.unavailable["latency_p95_read"];
    assert!(why.contains("2 rows (GET /flaky, GET /items) cannot be merged; pass the --json-file output"), "{why}");
}

#[test]
fn json_and_csv_reach_the_same_verdict_on_what_both_provide() {
    let policy = perfcert::policy::parse(
        "p.yml",
        // (Not throughput: the CSV has Locust's own figure, the JSON of a 25 s run none.)
        "metrics:\n  latency_p95_write: { max_increase: 5% }\n  error_rate: { max_increase: 0.2 }\n",
    )
    .unwrap();
    let today = jiff::civil::date(2026, 6, 1);
    let from_json =
        perfcert::compare::compare(&load("locust-baseline.json"), &load("locust-current.json"), &policy, today);
    let from_csv = perfcert::compare::compare(
        &load("locust-baseline_stats.csv"),
        &load("locust-current_stats.csv"),
        &policy,
        today,
    );
    let statuses = |c: &perfcert::compare::Comparison| {
        c.rows.iter().filter(|r| r.policy.is_some()).map(|r| r.status).collect::<Vec<_>>()
    };
    assert_eq!(from_json.verdict, perfcert::compare::Verdict::Fail, "writes +8.2% > +5%");
    assert_eq!(statuses(&from_json), statuses(&from_csv));
}

#[test]
fn locusts_other_csv_files_are_recognised_and_refused() {
    for (file, which) in [
        ("locust-current_stats_history.csv", "PREFIX_stats_history.csv"),
        ("locust-current_failures.csv", "PREFIX_failures.csv"),
        ("locust-current_exceptions.csv", "PREFIX_exceptions.csv"),
    ] {
        let err = input::load(&fixture(file), None, &Classes::default()).unwrap_err().to_string();
        assert!(
            err.ends_with(&format!(
                "this is Locust's {which}; pass PREFIX_stats.csv (or, better, the --json-file output)"
            )),
            "{err}"
        );
    }
}
