//! Properties of the comparison arithmetic that must hold for every value, not just examples:
//! the boundary, the sign of the delta, direction symmetry, monotonicity, zero baselines.

use jiff::civil::{Date, date};
use perfcert::compare::{Comparison, Status, Verdict, compare};
use perfcert::model::RunResults;
use perfcert::policy;
use proptest::prelude::*;

fn today() -> Date {
    date(2026, 6, 1)
}

fn run(value: f64) -> RunResults {
    RunResults { metrics: [("m".to_string(), value)].into_iter().collect(), ..Default::default() }
}

fn check(limit: &str, b: f64, c: f64) -> Comparison {
    let yaml = format!("metrics:\n  m: {{ {limit} }}\n");
    compare(&run(b), &run(c), &policy::parse("p.yml", &yaml).unwrap(), today())
}

/// Positive values spanning the magnitudes metrics have: 1e-6 USD to 1e7 req/min.
fn value() -> impl Strategy<Value = f64> {
    (-6.0f64..7.0).prop_map(|e| 10f64.powf(e))
}

/// A tolerance between 0.5% and 200%, as whole hundredths of a percent (how people write them).
fn percent() -> impl Strategy<Value = f64> {
    (50u32..20000).prop_map(|p| p as f64 / 100.0)
}

proptest! {
    #[test]
    fn exactly_at_a_relative_limit_passes_and_beyond_fails(b in value(), p in percent()) {
        let at = b * (1.0 + p / 100.0);
        prop_assert_eq!(check(&format!("max_increase: {p}%"), b, at).verdict, Verdict::Pass);
        let over = b * (1.0 + p / 100.0 + 1e-6);
        prop_assert_eq!(check(&format!("max_increase: {p}%"), b, over).verdict, Verdict::Fail);

        let down_at = b * (1.0 - p.min(100.0) / 100.0);
        prop_assert_eq!(check(&format!("max_decrease: {p}%"), b, down_at).verdict, Verdict::Pass);
        if p < 100.0 {
            let under = b * (1.0 - p / 100.0 - 1e-6);
            prop_assert_eq!(check(&format!("max_decrease: {p}%"), b, under).verdict, Verdict::Fail);
        }
    }

    #[test]
    fn delta_has_the_sign_of_the_change(b in value(), c in value()) {
        let row = &check("max_increase: 10%", b, c).rows[0];
        let delta = row.delta.unwrap();
        prop_assert!(delta.is_finite());
        prop_assert_eq!(delta > 0.0, c > b);
        prop_assert_eq!(delta < 0.0, c < b);
        prop_assert_eq!(row.change.unwrap() > 0.0, c > b);
    }

    #[test]
    fn an_absolute_increase_limit_mirrors_an_absolute_decrease_limit(b in value(), c in value(), l in value()) {
        let up = check(&format!("max_increase: {l}"), b, c).verdict;
        let down = check(&format!("max_decrease: {l}"), c, b).verdict;
        prop_assert_eq!(up, down);
    }

    #[test]
    fn worse_is_never_better(b in value(), c in value(), p in percent(), factor in 1.0f64..10.0) {
        // If a value fails an increase limit, any larger value fails too; likewise downwards.
        let inc = format!("max_increase: {p}%");
        if check(&inc, b, c).verdict == Verdict::Fail {
            prop_assert_eq!(check(&inc, b, c * factor).verdict, Verdict::Fail);
        }
        let dec = format!("max_decrease: {p}%");
        if check(&dec, b, c).verdict == Verdict::Fail {
            prop_assert_eq!(check(&dec, b, c / factor).verdict, Verdict::Fail);
        }
    }

    #[test]
    fn slo_limits_ignore_the_baseline(b in value(), c in value(), max in value()) {
        let row = &check(&format!("max: {max}"), b, c).rows[0];
        prop_assert_eq!(row.status == Status::Fail, c > max * (1.0 + 1e-9));
    }

    #[test]
    fn a_zero_baseline_never_yields_nan(c in prop_oneof![Just(0.0), value()], p in percent()) {
        for limit in [format!("max_increase: {p}%"), format!("max_decrease: {p}%"), format!("max_increase: {p}")] {
            let cmp = check(&limit, 0.0, c);
            let row = &cmp.rows[0];
            prop_assert!(row.delta.is_none_or(|d| d.is_finite()));
            prop_assert!(row.reasons.iter().all(|r| !r.contains("NaN") && !r.contains("inf")), "{:?}", row.reasons);
            let must_fail = c > 0.0 && limit.starts_with("max_increase") && limit.ends_with('%');
            prop_assert_eq!(cmp.verdict == Verdict::Fail, must_fail || (limit.ends_with(&format!(" {p}")) && c > p * (1.0 + 1e-9)));
        }
    }
}

/// Finite values at the edges of f64: zeros of both signs, subnormals, the largest, and
/// ordinary magnitudes, so that deltas and changes overflow, underflow and divide by tiny.
fn extreme() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(1e-310),
        Just(1e308),
        Just(f64::MAX),
        value(),
        (0.0f64..1.0).prop_map(|x| x * 1e-300),
    ]
}

/// Every limit kind a policy can hold.
fn limit() -> impl Strategy<Value = String> {
    prop_oneof![
        percent().prop_map(|p| format!("max_increase: {p}%")),
        percent().prop_map(|p| format!("max_decrease: {p}%")),
        value().prop_map(|a| format!("max_increase: {a}")),
        value().prop_map(|a| format!("max_decrease: {a}")),
        value().prop_map(|a| format!("max: {a}")),
        value().prop_map(|a| format!("min: {a}")),
    ]
}

proptest! {
    /// A PASS only when every check held on finite numbers: no overflow to infinity and no NaN
    /// passes, and no report shows a non-finite number.
    #[test]
    fn extreme_finite_values_never_pass_through_an_overflow(b in extreme(), c in extreme(), l in limit()) {
        let result = check(&l, b, c);
        let row = &result.rows[0];
        for shown in [row.baseline, row.current, row.delta, row.change].into_iter().flatten() {
            prop_assert!(shown.is_finite(), "{l}: {b} -> {c} shows {shown}");
        }
        if result.verdict == Verdict::Pass {
            let change = c - b;
            prop_assert!(change.is_finite(), "{l}: {b} -> {c} passed with an infinite change");
            if l.contains('%') && b != 0.0 {
                prop_assert!(((c - b) / b).is_finite(), "{l}: {b} -> {c} passed with an infinite delta");
            }
        }
        let json = report_json(&result);
        prop_assert!(!json.contains("inf") && !json.contains("NaN"), "{json}");
    }

    /// Non-finite values (a reader's overflow, say) fail every gated metric, whatever the limit.
    #[test]
    fn non_finite_values_always_fail(v in prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(f64::NAN)], other in value(), l in limit(), current in any::<bool>()) {
        let (b, c) = if current { (other, v) } else { (v, other) };
        let result = check(&l, b, c);
        let relative_or_change = l.starts_with("max_increase") || l.starts_with("max_decrease");
        if current || relative_or_change {
            prop_assert_eq!(result.verdict, Verdict::Fail, "{} with {} -> {}", l, b, c);
        }
        let row = &result.rows[0];
        for shown in [row.baseline, row.current, row.delta, row.change].into_iter().flatten() {
            prop_assert!(shown.is_finite());
        }
    }
}

fn report_json(result: &Comparison) -> String {
    use perfcert::report::{Format, Report, Source};
    let empty = RunResults::default();
    let report = Report {
        comparison: result,
        baseline: Source { file: "b.json", results: &empty, runs: 1 },
        current: Source { file: "c.json", results: &empty, runs: 1 },
        thresholds_file: "p.yml",
        decision: None,
        reference: None,
    };
    let mut out = vec![];
    Format::Json.renderer(false).render(&report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn an_overflowing_relative_delta_fails_with_a_reason() {
    // A subnormal baseline and a large current: (c - b) / b is +inf, which used to compare
    // `inf > inf` as false and pass.
    let result = check("max_increase: 10%", 5e-324, 1e10);
    assert_eq!(result.verdict, Verdict::Fail);
    assert_eq!(result.rows[0].delta, None);
    assert_eq!(result.rows[0].reasons, ["the change from 5e-324 to 10000000000 is too large to compute"]);
    let nan = check("max_increase: 10%", 1.0, f64::NAN);
    assert_eq!(nan.verdict, Verdict::Fail);
    assert_eq!(nan.rows[0].reasons, ["the current value is not a finite number: nothing unverified passes"]);
}
