//! The `decision:` block of the policy: defaults, validation, and the template's commented block.

use perfcert::policy::{self, DecisionMethod, DecisionPolicy};

const METRICS: &str = "metrics:\n  latency_p95_read: { max_increase: 10% }\n";

fn parse(decision: &str) -> Result<DecisionPolicy, String> {
    policy::parse("p.yml", &format!("{METRICS}{decision}")).map(|p| p.decision).map_err(|e| e.to_string())
}

#[test]
fn absent_means_the_threshold_method() {
    let d = parse("").unwrap();
    assert_eq!(d, DecisionPolicy::default());
    assert_eq!(
        (d.method, d.alpha, d.family_alpha, d.max_runs, d.noise_cov),
        (DecisionMethod::Threshold, 0.01, 0.05, 20, None)
    );
    assert_eq!(parse("decision: {}\n").unwrap(), DecisionPolicy::default());
}

#[test]
fn the_full_block() {
    let d = parse("decision:\n  method: statistical\n  alpha: 0.005\n  family_alpha: 0.1\n  max_runs: 12\n  noise: { cov: 0.015 }\n")
        .unwrap();
    assert_eq!(d.method, DecisionMethod::Statistical);
    assert_eq!((d.alpha, d.family_alpha, d.max_runs, d.noise_cov), (0.005, 0.1, 12, Some(0.015)));
    // Each look tests at its share of the rates: three looks by default.
    assert_eq!(d.looks, 3);
    let s = d.settings();
    assert_eq!((s.alpha, s.family_alpha, s.max_runs, s.assumed_cov), (0.005 / 3.0, 0.1 / 3.0, 12, Some(0.015)));
    let one = parse("decision:\n  method: statistical\n  alpha: 0.005\n  looks: 1\n").unwrap();
    assert_eq!((one.looks, one.settings().alpha, one.settings().family_alpha), (1, 0.005, 0.05));
}

#[test]
fn errors_name_the_key_and_line() {
    let cases = [
        (
            "decision:\n  method: bayes\n",
            "p.yml:4:11: decision.method: expected threshold or statistical, found \"bayes\"",
        ),
        ("decision:\n  alpha: 0\n", "p.yml:4:10: decision.alpha: expected a probability above 0 and below 0.5"),
        ("decision:\n  alpha: 0.5\n", "p.yml:4:10: decision.alpha: expected a probability"),
        ("decision:\n  family_alpha: -0.05\n", "p.yml:4:17: decision.family_alpha: expected a probability"),
        (
            "decision:\n  alpha: 1%\n",
            "p.yml:4:10: decision.alpha: expected a probability above 0 and below 0.5 (such as 0.01), found \"1%\"",
        ),
        (
            "decision:\n  max_runs: 1\n",
            "p.yml:4:13: decision.max_runs: expected a whole number of runs from 2 to 1000, found 1",
        ),
        (
            "decision:\n  max_runs: 2.5\n",
            "p.yml:4:13: decision.max_runs: expected a whole number of runs from 2 to 1000, found 2.5",
        ),
        (
            "decision:\n  noise: { cov: 0 }\n",
            "p.yml:4:17: decision.noise.cov: expected the run-to-run CoV as a fraction",
        ),
        ("decision:\n  noise: { cov: 5 }\n", "p.yml:4:17: decision.noise.cov: expected the run-to-run CoV"),
        ("decision:\n  noise: {}\n", "p.yml:4:10: decision.noise: missing field `cov`"),
        (
            "decision:\n  looks: 0\n",
            "p.yml:4:10: decision.looks: expected a whole number of looks from 1 to 10, found 0",
        ),
        ("decision:\n  metod: statistical\n", "p.yml:4:3: decision.metod: unknown field `metod`"),
        ("decision: statistical\n", "p.yml:3:11: decision: expected a mapping"),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .map(|(text, expected)| (text, expected, parse(text).map(|d| format!("parsed: {d:?}")).unwrap_or_else(|e| e)))
        .filter(|(_, expected, got)| !got.starts_with(*expected))
        .map(|(text, expected, got)| format!("for {text:?}\n  got:      {got}\n  expected: {expected}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_template_carries_the_block_commented_out() {
    let template = include_str!("../perf_thresholds.yml");
    let shipped = policy::parse("perf_thresholds.yml", template).unwrap();
    assert_eq!(shipped.decision, DecisionPolicy::default(), "the template keeps the threshold method");
    // Uncommenting the block as written gives the statistical method with the documented values.
    let start = template.find("# decision:").expect("the template has a commented decision: block");
    let block: String = template[start..]
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
        .collect();
    let uncommented = format!("{}{block}", &template[..start]);
    let d = policy::parse("perf_thresholds.yml", &uncommented).unwrap().decision;
    assert_eq!(
        d,
        DecisionPolicy { method: DecisionMethod::Statistical, noise_cov: Some(0.01), ..DecisionPolicy::default() }
    );
}

#[test]
fn more_values_that_are_not_numbers() {
    for (text, expected) in [
        (
            "decision:\n  max_runs: many\n",
            "p.yml:4:13: decision.max_runs: expected a whole number of runs from 2 to 1000, found \"many\"",
        ),
        (
            "decision:\n  noise: { cov: 1% }\n",
            "p.yml:4:17: decision.noise.cov: expected the run-to-run CoV as a fraction above 0 and below 1 (such as 0.01 for 1%), found \"1%\"",
        ),
        ("decision:\n  alpha:\n", "p.yml:4:8: decision.alpha: no value"),
        ("decision:\n  alpha: .nan\n", "p.yml:4:10: decision.alpha: expected a finite number"),
    ] {
        let got = parse(text).map(|d| format!("parsed: {d:?}")).unwrap_or_else(|e| e);
        assert!(got.starts_with(expected), "for {text:?}\n  got:      {got}\n  expected: {expected}");
    }
}
