//! Properties of the drift engine (`perfcert::drift`) that must hold for every series, not just
//! the examples of its unit tests: no NaN or infinity reaches a result or a report, no valid
//! window never means PASS, the band is inclusive in the bad direction only, and the ticket
//! follows the longest run of breaches; every JSON report validates against
//! schemas/drift-report.schema.json.

use perfcert::drift::{Baseline, DriftResult, Inputs, Series, Status, WindowStatus, evaluate};
use perfcert::drift_report::{Format, annotations};
use perfcert::policy::{self, DriftPolicy};
use proptest::prelude::*;

const T0: i64 = 1_796_040_000_000;
const STEP: i64 = 15_000;

fn policy(direction: &str, on_no_data: &str, ticket_after: u32) -> DriftPolicy {
    // The rollback rule watches a rise: only on a metric that may not rise.
    let rollback = if direction == "down" { "" } else { "  rollback: { metric: m, for: 30s }\n" };
    let yaml = format!(
        "metrics:\n  m: {{ max: 1 }}\ndrift:\n  window: 1m\n  ticket_after: {ticket_after}\n  on_no_data: {on_no_data}\n{rollback}  metrics: {{ m: {{ direction: {direction} }} }}\n"
    );
    policy::parse("p.yml", &yaml).unwrap().drift.unwrap()
}

/// Any f64 a scrape can hand over: ordinary values, zero, negatives, huge, tiny, NaN, ±Inf.
fn sample_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.0f64..1000.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::MAX),
        1 => Just(-f64::MAX),
        1 => Just(0.0),
        1 => Just(5e-324),
    ]
}

fn baseline_value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        6 => (1e-6f64..1e6).prop_map(Some),
        1 => Just(None),
        1 => Just(Some(0.0)),
        1 => Just(Some(-3.0)),
        1 => Just(Some(f64::NAN)),
        1 => Just(Some(f64::INFINITY)),
        1 => Just(Some(f64::MAX)),
    ]
}

/// Up to 12 windows of 4 steps: each step present or missing, with any value; timestamps may
/// fall outside the range or repeat.
fn samples() -> impl Strategy<Value = Vec<(i64, f64)>> {
    prop::collection::vec(((-4i64..52), sample_value()), 0..60)
        .prop_map(|v| v.into_iter().map(|(k, x)| (T0 + k * STEP, x)).collect())
}

fn evaluate_one(p: &DriftPolicy, b: Option<f64>, samples: Vec<(i64, f64)>, windows: i64) -> DriftResult {
    let baseline =
        b.map(|value| Baseline { value, reference: "range".into(), sha256: None, query: None, period_ms: None });
    let series = vec![Series { metric: "m".into(), baseline, samples, doubts: vec![] }];
    evaluate(p, &Inputs { from_ms: T0, to_ms: T0 + windows * 60_000, series })
}

/// schemas/drift-report.schema.json, compiled once.
fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/drift-report.schema.json");
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::validator_for(&doc).unwrap()
    })
}

fn all_finite(r: &DriftResult) -> bool {
    let windows = r.metrics.iter().flat_map(|m| &m.windows);
    let values = windows.flat_map(|w| [w.mean, w.lower, w.upper]);
    let rollback = r.rollback.iter().map(|rb| rb.threshold);
    values.chain(rollback).flatten().all(f64::is_finite) && r.band.is_finite()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_nan_or_infinity_reaches_a_result_or_a_report(
        b in baseline_value(), s in samples(), windows in 0i64..13,
        direction in prop::sample::select(vec!["up", "down", "both"]),
        on_no_data in prop::sample::select(vec!["inconclusive", "fail", "pass"]),
    ) {
        let r = evaluate_one(&policy(direction, on_no_data, 3), b, s, windows);
        prop_assert!(all_finite(&r), "{r:#?}");
        for format in Format::ALL {
            let mut out = vec![];
            format.renderer().render(&r, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            if format == Format::Json {
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                let errors: Vec<String> = schema().iter_errors(&doc).map(|e| e.to_string()).collect();
                prop_assert!(errors.is_empty(), "{errors:?}\n{text}");
            }
            let text = text.to_lowercase();
            prop_assert!(!text.contains("nan") && !text.contains("inf"), "{}: {text}", format.name());
        }
        for line in annotations(&r) {
            prop_assert!(!line.to_lowercase().contains("nan") && !line.contains("inf"), "{line}");
        }
    }

    #[test]
    fn zero_valid_windows_is_never_pass(
        b in baseline_value(), s in samples(), windows in 0i64..13,
        on_no_data in prop::sample::select(vec!["inconclusive", "fail", "pass"]),
    ) {
        let r = evaluate_one(&policy("both", on_no_data, 3), b, s, windows);
        let m = &r.metrics[0];
        if m.valid_windows == 0 {
            prop_assert_ne!(m.status, Status::Pass);
            prop_assert_ne!(r.status, Status::Pass);
        }
        if r.status == Status::Pass {
            prop_assert!(m.valid_windows > 0 && m.breaches == 0);
            prop_assert!(m.baseline.as_ref().is_some_and(|b| b.value.is_finite() && b.value > 0.0));
        }
    }

    #[test]
    fn the_band_is_inclusive_and_one_sided(b in 1e-6f64..1e6, factor in 0.5f64..1.5, ticket_after in 1u32..5) {
        let v = b * factor;
        let full: Vec<(i64, f64)> = (0..4).map(|k| (T0 + k * STEP, v)).collect();
        let up = evaluate_one(&policy("up", "inconclusive", ticket_after), Some(b), full.clone(), 1);
        let down = evaluate_one(&policy("down", "inconclusive", ticket_after), Some(b), full.clone(), 1);
        let both = evaluate_one(&policy("both", "inconclusive", ticket_after), Some(b), full, 1);
        let (w_up, w_down, w_both) = (&up.metrics[0].windows[0], &down.metrics[0].windows[0], &both.metrics[0].windows[0]);
        let (lower, upper) = (w_up.lower.unwrap(), w_up.upper.unwrap());
        let tol = 1e-9 * v.abs().max(upper.abs());
        if v > upper + tol {
            prop_assert_eq!(w_up.status, WindowStatus::Breach);
        }
        if v <= upper {
            prop_assert_eq!(w_up.status, WindowStatus::Ok);
        }
        if v < lower - tol {
            prop_assert_eq!(w_down.status, WindowStatus::Breach);
        }
        if v >= lower {
            prop_assert_eq!(w_down.status, WindowStatus::Ok);
        }
        let either = w_up.status == WindowStatus::Breach || w_down.status == WindowStatus::Breach;
        prop_assert_eq!(w_both.status == WindowStatus::Breach, either);
        // Never both sides at once.
        prop_assert!(!(w_up.status == WindowStatus::Breach && w_down.status == WindowStatus::Breach));
    }

    #[test]
    fn the_ticket_is_the_longest_run_of_breaches(
        pattern in prop::collection::vec(0u8..3, 0..15), ticket_after in 1u32..5,
    ) {
        // 0: OK window, 1: breaching window, 2: empty window.
        let samples: Vec<(i64, f64)> = pattern
            .iter()
            .enumerate()
            .filter(|&(_, &p)| p != 2)
            .flat_map(|(i, &p)| (0..4).map(move |k| (T0 + (i as i64 * 4 + k) * STEP, if p == 1 { 200.0 } else { 100.0 })))
            .collect();
        let r = evaluate_one(&policy("up", "pass", ticket_after), Some(100.0), samples, pattern.len() as i64);
        let m = &r.metrics[0];
        let longest = pattern.split(|&p| p != 1).map(<[u8]>::len).max().unwrap_or(0);
        prop_assert_eq!(m.max_consecutive_breaches, longest);
        prop_assert_eq!(m.ticket, longest >= ticket_after as usize);
        let first = (0..pattern.len()).find(|&i| i + 1 >= ticket_after as usize
            && pattern[i + 1 - ticket_after as usize..=i].iter().all(|&p| p == 1));
        prop_assert_eq!(m.ticket_at_ms, first.map(|i| T0 + (i as i64 + 1) * 60_000));
    }
}
