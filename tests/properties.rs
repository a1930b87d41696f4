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
