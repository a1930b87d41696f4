use super::*;

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300)
}

fn one(check: Check, data: Data, settings: &Settings) -> Outcome {
    decide(&[Input { check, data }], settings).rows.remove(0)
}

const P95: Check = Check::Relative { worse: Worse::Higher, tolerance: 0.10 };

#[test]
fn welch_matches_a_reference_computation() {
    // scipy: Welch on ln([100,102,98]) vs ln([112,115,110]); one-sided 1% ends.
    let row = one(
        P95,
        Data::Values { baseline: &[100.0, 102.0, 98.0], current: &[112.0, 115.0, 110.0], within_se: 0.0 },
        &Settings::default(),
    );
    assert_eq!(row.method, Method::Welch);
    assert!(close(row.df.unwrap(), 3.951_441_628_908_343_6, 1e-9));
    assert!(close(row.estimate.unwrap(), 0.116_266_962_502_608_7_f64.exp_m1(), 1e-12));
    let i = row.interval.unwrap();
    assert!(close(i.upper, 0.181_609_257_201_569_76_f64.exp_m1(), 1e-7), "{i:?}");
    assert!(close(i.lower, 0.050_924_667_803_647_655_f64.exp_m1(), 1e-7), "{i:?}");
    assert_eq!((i.lower_alpha, i.upper_alpha), (0.01, 0.01));
    assert!(close(row.fail_p, 0.146_836_916_054_202_5, 1e-7));
    // +12% with the lower end at +5%: neither side of +10% is established, and at a 2% spread
    // more than 20 runs per side would be needed to tell +12% from +10%.
    assert_eq!(row.verdict, Verdict::Inconclusive);
    assert_eq!(row.runs_needed, None);
    assert!(row.reason.contains("waive or decide"), "{}", row.reason);
}

#[test]
fn clear_cases_pass_and_fail_with_three_runs() {
    let s = Settings::default();
    let pass = one(
        P95,
        Data::Values { baseline: &[100.0, 101.0, 99.0], current: &[101.0, 100.0, 102.0], within_se: 0.003 },
        &s,
    );
    assert_eq!(pass.verdict, Verdict::Pass, "{pass:?}");
    assert_eq!(pass.runs_needed, None);
    let fail = one(
        P95,
        Data::Values { baseline: &[100.0, 101.0, 99.0], current: &[130.0, 131.0, 129.0], within_se: 0.003 },
        &s,
    );
    assert_eq!(fail.verdict, Verdict::Fail, "{fail:?}");
    let d = decide(
        &[
            Input {
                check: P95,
                data: Data::Values {
                    baseline: &[100.0, 101.0, 99.0],
                    current: &[101.0, 100.0, 102.0],
                    within_se: 0.003,
                },
            },
            Input {
                check: P95,
                data: Data::Values {
                    baseline: &[100.0, 101.0, 99.0],
                    current: &[130.0, 131.0, 129.0],
                    within_se: 0.003,
                },
            },
        ],
        &s,
    );
    assert_eq!(d.verdict, Verdict::Fail);
    assert_eq!(d.runs_needed, None);
}

#[test]
fn one_pair_is_inconclusive_unless_a_cov_is_assumed() {
    let data = Data::Values { baseline: &[100.0], current: &[101.0], within_se: 0.003 };
    let row = one(P95, data, &Settings::default());
    assert_eq!(row.verdict, Verdict::Inconclusive);
    assert!(row.reason.contains("decision.noise.cov"), "{}", row.reason);
    assert_eq!((row.interval, row.runs_needed), (None, None));
    let assumed = Settings { assumed_cov: Some(0.01), ..Settings::default() };
    let row = one(P95, data, &assumed);
    assert_eq!((row.verdict, row.method, row.df), (Verdict::Pass, Method::Assumed, None));
    // Upper end: ln 1.01 + z_0.99 · √2 · 1%.
    let want = (1.01_f64.ln() + 2.326_347_874_040_841 * 2f64.sqrt() * 0.01).exp_m1();
    assert!(close(row.interval.unwrap().upper, want, 1e-9));
    // A larger assumed CoV cannot PASS a single pair at +10% (the largest is about 2.9%).
    let row = one(P95, data, &Settings { assumed_cov: Some(0.03), ..Settings::default() });
    assert_eq!(row.verdict, Verdict::Inconclusive);
}

#[test]
fn one_replicated_side_lends_its_spread() {
    let row = one(
        P95,
        Data::Values { baseline: &[100.0], current: &[101.0, 100.0, 102.0], within_se: 0.0 },
        &Settings::default(),
    );
    assert_eq!((row.method, row.df), (Method::OneSideSpread, Some(2.0)));
}

#[test]
fn identical_runs_never_give_a_zero_width_interval() {
    // Throughput pinned by the load generator: every run the same.
    let check = Check::Relative { worse: Worse::Lower, tolerance: 0.05 };
    let row = one(
        check,
        Data::Values { baseline: &[600.0; 3], current: &[600.0; 3], within_se: 0.003 },
        &Settings::default(),
    );
    let i = row.interval.unwrap();
    assert!(i.upper - i.lower > 0.005, "{i:?}");
    assert_eq!(row.verdict, Verdict::Pass);
    // Without a within-run error there is no honest interval: INCONCLUSIVE, saying why.
    let row =
        one(check, Data::Values { baseline: &[600.0; 3], current: &[600.0; 3], within_se: 0.0 }, &Settings::default());
    assert_eq!(row.verdict, Verdict::Inconclusive);
    assert!(row.reason.contains("no within-run error"), "{}", row.reason);
}

#[test]
fn a_fall_mirrors_a_rise() {
    // max_decrease t' on 1/x is max_increase t on x when ln(1 − t') = −ln(1 + t).
    let (b, c) = ([100.0, 104.0, 97.0, 101.0], [108.0, 111.0, 105.0, 112.0]);
    let inv = |xs: &[f64]| xs.iter().map(|x| 1.0 / x).collect::<Vec<_>>();
    let s = Settings::default();
    for t in [0.02, 0.05, 0.08, 0.10, 0.2] {
        let rise = one(
            Check::Relative { worse: Worse::Higher, tolerance: t },
            Data::Values { baseline: &b, current: &c, within_se: 0.0 },
            &s,
        );
        let fall = one(
            Check::Relative { worse: Worse::Lower, tolerance: t / (1.0 + t) },
            Data::Values { baseline: &inv(&b), current: &inv(&c), within_se: 0.0 },
            &s,
        );
        assert_eq!(rise.verdict, fall.verdict, "t {t}");
        assert!(close(rise.fail_p, fall.fail_p, 1e-9));
    }
}

#[test]
fn slo_rows_use_the_current_runs_alone() {
    let s = Settings::default();
    let ceiling = Check::Ceiling { limit: 300.0, scale: Scale::Log };
    let row = one(ceiling, Data::Values { baseline: &[], current: &[250.0, 255.0, 248.0], within_se: 0.003 }, &s);
    assert_eq!((row.verdict, row.method, row.df), (Verdict::Pass, Method::OneSample, Some(2.0)));
    let row = one(ceiling, Data::Values { baseline: &[], current: &[350.0, 355.0, 348.0], within_se: 0.003 }, &s);
    assert_eq!(row.verdict, Verdict::Fail);
    let row = one(ceiling, Data::Values { baseline: &[], current: &[299.0, 301.0, 300.0], within_se: 0.003 }, &s);
    assert_eq!(row.verdict, Verdict::Inconclusive);
    assert_eq!(row.runs_needed, None, "at the limit no number of runs settles it: {row:?}");
    let floor = Check::Floor { limit: 10_000.0, scale: Scale::Linear };
    let row = one(floor, Data::Values { baseline: &[], current: &[12_000.0, 12_100.0, 11_900.0], within_se: 30.0 }, &s);
    assert_eq!(row.verdict, Verdict::Pass);
    let row = one(floor, Data::Values { baseline: &[], current: &[12_000.0], within_se: 30.0 }, &s);
    assert_eq!(row.verdict, Verdict::Inconclusive);
}

fn runs(errors: &[f64], requests: f64) -> Vec<Count> {
    errors.iter().map(|&e| Count { errors: e, requests, dispersion: 1.0 }).collect()
}

#[test]
fn newcombe_matches_a_reference_computation() {
    // statsmodels confint_proportions_2indep(5, 1e5, 2, 1e5, method='newcomb', alpha=0.02):
    // one run per side with a negligible assumed spread, so nothing but Newcombe's interval.
    // (Replicated runs estimate the spread and widen it by a t quantile, below.)
    let check = Check::Absolute { worse: Worse::Higher, tolerance: 0.002 };
    let row = one(
        check,
        Data::Counts { baseline: &runs(&[2.0], 100_000.0), current: &runs(&[5.0], 100_000.0) },
        &Settings { assumed_cov: Some(1e-9), ..Settings::default() },
    );
    let i = row.interval.unwrap();
    assert_eq!(row.method, Method::Newcombe);
    assert!(close(i.lower, -4.647_559_454_601_626_5e-5, 1e-6), "{i:?}");
    assert!(close(i.upper, 1.170_843_159_463_722e-4, 1e-6), "{i:?}");
    assert_eq!(row.verdict, Verdict::Pass);
}

#[test]
fn zero_errors_give_a_real_interval() {
    let check = Check::Absolute { worse: Worse::Higher, tolerance: 0.002 };
    let zero = runs(&[0.0, 0.0, 0.0], 100_000.0);
    let row = one(check, Data::Counts { baseline: &zero, current: &zero }, &Settings::default());
    let i = row.interval.unwrap();
    assert!(i.upper > 1e-5 && i.lower < -1e-5, "{i:?}");
    assert_eq!(row.verdict, Verdict::Pass);
    // The SLO ceiling on the current runs alone: Wilson upper end of 0 in 3e5 at 1% (statsmodels
    // proportion_confint(0, 3e5, alpha=0.02, method='wilson') upper = 1.80e-5).
    let row = one(
        Check::Ceiling { limit: 0.005, scale: Scale::Linear },
        Data::Counts { baseline: &[], current: &zero },
        &Settings::default(),
    );
    assert!(close(row.interval.unwrap().upper, 5.411_601_560_890_834e-5 / 3.0, 1e-3), "{row:?}");
    assert_eq!((row.verdict, row.method), (Verdict::Pass, Method::Wilson));
}

#[test]
fn overdispersed_and_varying_error_counts_widen_the_interval() {
    let check = Check::Absolute { worse: Worse::Higher, tolerance: 0.002 };
    let base = runs(&[100.0, 100.0, 100.0], 100_000.0);
    let plain = one(
        check,
        Data::Counts { baseline: &base, current: &runs(&[100.0, 100.0, 100.0], 100_000.0) },
        &Settings::default(),
    );
    let bursty: Vec<Count> =
        runs(&[100.0, 100.0, 100.0], 100_000.0).into_iter().map(|c| Count { dispersion: 9.0, ..c }).collect();
    let wide = one(check, Data::Counts { baseline: &base, current: &bursty }, &Settings::default());
    let varying = one(
        check,
        Data::Counts { baseline: &base, current: &runs(&[20.0, 100.0, 180.0], 100_000.0) },
        &Settings::default(),
    );
    let width = |o: &Outcome| o.interval.map(|i| i.upper - i.lower).unwrap();
    assert!(width(&wide) > 1.5 * width(&plain), "{wide:?} {plain:?}");
    assert!(width(&varying) > 1.5 * width(&plain), "{varying:?} {plain:?}");
}

#[test]
fn error_rate_between_run_variance_from_few_runs_uses_a_t_quantile() {
    // A run's variance (within + τ²) estimated from 3 runs a side: the interval takes Student's t
    // with Welch–Satterthwaite df over the sides' totals, not z = 2.33 (which gave 1.7% false
    // FAIL at the boundary with τ² alone on t, and 1.1% with 10 runs).
    let check = Check::Absolute { worse: Worse::Higher, tolerance: 0.002 };
    let base = runs(&[100.0, 100.0, 100.0], 100_000.0);
    let cur = runs(&[20.0, 100.0, 180.0], 100_000.0);
    let row = one(check, Data::Counts { baseline: &base, current: &cur }, &Settings::default());
    let p = [0.0002, 0.001, 0.0018];
    let within = |p: &[f64]| p.iter().map(|p| p * (1.0 - p) / 100_000.0).sum::<f64>() / 3.0;
    let tau2 = (p.iter().map(|x| (x - 0.001_f64).powi(2)).sum::<f64>() / 2.0 - within(&p)).max(0.0);
    let (vc, vb) = ((within(&p) + tau2) / 3.0, within(&[0.001; 3]) / 3.0);
    let df = (vc + vb).powi(2) / (vc * vc / 2.0 + vb * vb / 2.0);
    assert_eq!(row.method, Method::Newcombe);
    assert!(close(row.df.unwrap(), df, 1e-9) && df > 2.0 && df < 2.2, "{row:?} vs df {df}");
    let i = row.interval.unwrap();
    let t = dist::t_upper(0.01, df);
    assert!(t > 6.0, "{t}");
    assert!(i.upper - row.estimate.unwrap() >= t * (tau2 / 3.0).sqrt(), "{row:?}");
    // Identical proportions in every run still count as estimated: t, not z, on Wilson's part.
    let same = one(check, Data::Counts { baseline: &base, current: &base }, &Settings::default());
    let z_only = one(
        check,
        Data::Counts { baseline: &runs(&[300.0], 300_000.0), current: &runs(&[300.0], 300_000.0) },
        &Settings { assumed_cov: Some(1e-9), ..Settings::default() },
    );
    let width = |o: &Outcome| o.interval.map(|i| i.upper - i.lower).unwrap();
    assert!(same.df.is_some() && width(&same) > 1.5 * width(&z_only), "{same:?} {z_only:?}");
    // A known (assumed) spread keeps normal quantiles: no df.
    let settings = Settings { assumed_cov: Some(0.3), ..Settings::default() };
    let pair = one(check, Data::Counts { baseline: &base[..1], current: &cur[1..2] }, &settings);
    assert_eq!(pair.df, None, "{pair:?}");
}

#[test]
fn holm_steps_are_capped_at_alpha() {
    // k = 3, family 5%: levels 1.67% → capped 1%, 2.5% → 1%, 5% → 1%.
    let got = holm(&[0.02, 0.001, 0.009], 0.05, 0.01);
    assert_eq!(got, vec![(0.01, false), (0.01, true), (0.01, true)]);
    // Many rows: the first step is family/k.
    let got = holm(&[0.0004, 0.0006, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 0.05, 0.01);
    assert_eq!(got[0], (0.005, true));
    assert_eq!(got[1], (0.05 / 9.0, true));
    assert_eq!(got[2], (0.05 / 8.0, false));
    assert_eq!(got[9], (0.05 / 8.0, false), "rows after the stop keep the stopping level");
}

#[test]
fn fail_needs_the_holm_level() {
    // The same moderately significant regression FAILs alone but not among many untestable rows.
    let data = Data::Values {
        baseline: &[100.0, 101.0, 99.0, 100.0, 100.5],
        current: &[112.0, 112.5, 111.5, 111.0, 113.0],
        within_se: 0.0,
    };
    let alone = one(P95, data, &Settings::default());
    assert_eq!(alone.verdict, Verdict::Fail, "{alone:?}");
    let mut inputs = vec![Input { check: P95, data }];
    inputs.extend(
        (0..200)
            .map(|_| Input { check: P95, data: Data::Values { baseline: &[1.0], current: &[1.0], within_se: 0.0 } }),
    );
    let d = decide(&inputs, &Settings::default());
    assert!(d.rows[0].fail_p > 0.05 / 201.0, "pick data so the test is meaningful: {:?}", d.rows[0]);
    assert_ne!(d.rows[0].verdict, Verdict::Fail);
    assert!(close(d.rows[0].interval.unwrap().lower_alpha, 0.05 / 201.0, 1e-12));
}

#[test]
fn runs_needed_settles_when_followed() {
    // +6% at 2% CoV with three runs per side is INCONCLUSIVE; adding the advised runs with the
    // same spread and change settles it.
    let s = Settings::default();
    let base = [100.0, 102.0, 98.0];
    let cur = [106.0, 108.1, 103.9];
    let row = one(P95, Data::Values { baseline: &base, current: &cur, within_se: 0.0 }, &s);
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:?}");
    let k = row.runs_needed.unwrap() as usize;
    let grow = |xs: &[f64]| xs.iter().cycle().take(3 + k).copied().collect::<Vec<_>>();
    let (b, c) = (grow(&base), grow(&cur));
    let after = one(P95, Data::Values { baseline: &b, current: &c, within_se: 0.0 }, &s);
    assert_eq!(after.verdict, Verdict::Pass, "after {k} more: {after:?}");
}

#[test]
fn the_run_verdict_and_its_advice() {
    let s = Settings::default();
    let pass = Data::Values { baseline: &[100.0, 101.0, 99.0], current: &[101.0, 100.0, 102.0], within_se: 0.003 };
    let unsure = Data::Values { baseline: &[100.0, 102.0, 98.0], current: &[106.0, 108.1, 103.9], within_se: 0.0 };
    let d = decide(&[Input { check: P95, data: pass }, Input { check: P95, data: unsure }], &s);
    assert_eq!(d.verdict, Verdict::Inconclusive);
    assert_eq!(d.runs_needed, d.rows[1].runs_needed);
    let pair = Data::Values { baseline: &[100.0], current: &[100.0], within_se: 0.003 };
    let d = decide(&[Input { check: P95, data: unsure }, Input { check: P95, data: pair }], &s);
    assert_eq!(
        (d.verdict, d.runs_needed),
        (Verdict::Inconclusive, None),
        "a row without a plan leaves the run without one"
    );
    assert_eq!(decide(&[], &s).verdict, Verdict::Inconclusive, "nothing gated proves nothing");
}

#[test]
fn no_input_gives_a_non_finite_number() {
    let odd = [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e-308, 1e308, f64::MAX, 5e-324, 1.0, 2.0];
    let checks = [
        P95,
        Check::Relative { worse: Worse::Lower, tolerance: 0.05 },
        Check::Relative { worse: Worse::Lower, tolerance: 1.5 },
        Check::Absolute { worse: Worse::Higher, tolerance: 0.2 },
        Check::Absolute { worse: Worse::Lower, tolerance: f64::NAN },
        Check::Ceiling { limit: 300.0, scale: Scale::Log },
        Check::Ceiling { limit: -1.0, scale: Scale::Log },
        Check::Floor { limit: 1e308, scale: Scale::Linear },
    ];
    let settings = [
        Settings::default(),
        Settings { assumed_cov: Some(0.02), ..Settings::default() },
        Settings { alpha: f64::NAN, family_alpha: 7.0, max_runs: 0, assumed_cov: Some(f64::INFINITY) },
    ];
    let finite = |o: &Outcome| {
        o.estimate.is_none_or(f64::is_finite)
            && o.df.is_none_or(f64::is_finite)
            && o.fail_p.is_finite()
            && o.interval.is_none_or(|i| [i.lower, i.upper, i.lower_alpha, i.upper_alpha].iter().all(|x| x.is_finite()))
    };
    for s in &settings {
        for check in checks {
            for &a in &odd {
                for &b in &odd {
                    for within in [0.0, 0.003, f64::NAN] {
                        let sets: [(&[f64], &[f64]); 3] =
                            [(&[a], &[b]), (&[a, b], &[b, a, 1.0]), (&[1.0, 1.0], &[a, b])];
                        for (base, cur) in sets {
                            let row = one(check, Data::Values { baseline: base, current: cur, within_se: within }, s);
                            assert!(finite(&row), "{check:?} {base:?} {cur:?}: {row:?}");
                        }
                    }
                    let counts = |e: f64, n: f64| Count { errors: e, requests: n, dispersion: b };
                    for check in [
                        Check::Absolute { worse: Worse::Higher, tolerance: 0.002 },
                        Check::Ceiling { limit: 0.005, scale: Scale::Linear },
                    ] {
                        let base = [counts(a.abs(), 1e5), counts(0.0, 1e5)];
                        let cur = [counts(b, a), counts(1.0, 10.0)];
                        let row = one(check, Data::Counts { baseline: &base, current: &cur }, s);
                        assert!(finite(&row), "{check:?} {base:?} {cur:?}: {row:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_largest_single_pair_cov_in_the_docs() {
    // docs/statistics.md: an identical pair PASSes +10% at alpha 1% up to CoV ln(1.1)/(z·√2) = 2.90%,
    // +5% up to 1.48%, and a -5% fall up to 1.56%.
    let pair = Data::Values { baseline: &[100.0], current: &[100.0], within_se: 0.0 };
    for (check, largest) in [
        (P95, 0.0953_f64 / (2.326_347_874 * 2f64.sqrt())),
        (Check::Relative { worse: Worse::Higher, tolerance: 0.05 }, 0.0488 / (2.326_347_874 * 2f64.sqrt())),
        (Check::Relative { worse: Worse::Lower, tolerance: 0.05 }, 0.0513 / (2.326_347_874 * 2f64.sqrt())),
    ] {
        let at = |cov: f64| one(check, pair, &Settings { assumed_cov: Some(cov), ..Settings::default() }).verdict;
        assert_eq!(at(largest * 0.995), Verdict::Pass, "{check:?}");
        assert_eq!(at(largest * 1.005), Verdict::Inconclusive, "{check:?}");
    }
}

#[test]
fn paired_duet_runs_use_the_spread_of_their_differences() {
    // Three duet runs whose placements differ by ±20% but whose differences agree (+11% to +12%).
    let (b, c) = ([100.0, 130.0, 90.0], [112.0, 145.0, 101.0]);
    let s = Settings::default();
    let paired = one(P95, Data::Paired { baseline: &b, current: &c, within_se: 0.0 }, &s);
    assert_eq!(paired.method, Method::Paired);
    assert_eq!(paired.df, Some(2.0));
    let d: Vec<f64> = b.iter().zip(&c).map(|(b, c): (&f64, &f64)| (c / b).ln()).collect();
    let mean = d.iter().sum::<f64>() / 3.0;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let q = t_upper(0.01, 2.0);
    let i = paired.interval.unwrap();
    assert!(close(paired.estimate.unwrap(), mean.exp_m1(), 1e-12));
    assert!(close(i.upper, (mean + q * sd / 3f64.sqrt()).exp_m1(), 1e-9), "{i:?}");
    assert!(close(i.lower, (mean - q * sd / 3f64.sqrt()).exp_m1(), 1e-9), "{i:?}");
    assert_eq!(paired.verdict, Verdict::Fail, "{paired:?}");
    // The same numbers as independent runs: the placement spread hides the change.
    let unpaired = one(P95, Data::Values { baseline: &b, current: &c, within_se: 0.0 }, &s);
    assert_eq!(unpaired.verdict, Verdict::Inconclusive, "{unpaired:?}");
}

#[test]
fn paired_differences_are_floored_at_the_slices_precision() {
    let s = Settings::default();
    // Identical differences: without a within-run error there is no interval; with one there is.
    let bare = one(P95, Data::Paired { baseline: &[100.0, 120.0], current: &[100.0, 120.0], within_se: 0.0 }, &s);
    assert_eq!(bare.verdict, Verdict::Inconclusive);
    assert!(bare.interval.is_none());
    let floored = one(P95, Data::Paired { baseline: &[100.0, 120.0], current: &[100.0, 120.0], within_se: 0.004 }, &s);
    let i = floored.interval.unwrap();
    let half = t_upper(0.01, 1.0) * 0.004 / 2f64.sqrt();
    assert!(close(i.upper, half.exp_m1(), 1e-9), "{i:?}");
    assert_eq!(floored.verdict, Verdict::Pass, "{floored:?}");
}

#[test]
fn one_duet_run_is_inconclusive_unless_a_cov_is_assumed() {
    let data = Data::Paired { baseline: &[100.0], current: &[101.0], within_se: 0.002 };
    let row = one(P95, data, &Settings::default());
    assert_eq!(row.verdict, Verdict::Inconclusive);
    assert!(row.reason.contains("one duet run") && row.reason.contains("placement"), "{}", row.reason);
    let assumed = Settings { assumed_cov: Some(0.01), ..Settings::default() };
    let row = one(P95, data, &assumed);
    assert_eq!(row.method, Method::Assumed);
    assert_eq!(row.verdict, Verdict::Pass, "{row:?}");
    // A bare-minimum assumed noise next to the tolerance: the advice counts duet runs.
    let close_call = Data::Paired { baseline: &[100.0], current: &[108.0], within_se: 0.0 };
    let row = one(P95, close_call, &assumed);
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:?}");
    assert!(row.runs_needed.is_some() && row.reason.contains("more duet run(s)"), "{row:?}");
}

#[test]
fn paired_runs_needed_counts_duet_runs_and_settles_when_followed() {
    let s = Settings::default();
    let row = one(
        P95,
        Data::Paired { baseline: &[100.0, 100.0, 100.0], current: &[103.0, 106.0, 101.0], within_se: 0.0 },
        &s,
    );
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:?}");
    let k = row.runs_needed.expect("a plan") as usize;
    assert!(row.reason.contains("duet run(s)"), "{}", row.reason);
    // The same differences, repeated to the planned number of runs, settle it.
    let diffs = [1.03, 1.06, 1.01];
    let current: Vec<f64> = (0..3 + k).map(|i| 100.0 * diffs[i % 3]).collect();
    let baseline = vec![100.0; 3 + k];
    let after = one(P95, Data::Paired { baseline: &baseline, current: &current, within_se: 0.0 }, &s);
    assert_eq!(after.verdict, Verdict::Pass, "{k} more: {after:?}");
}

#[test]
fn paired_slo_rows_judge_the_current_side() {
    let slo = Check::Ceiling { limit: 300.0, scale: Scale::Log };
    let row = one(
        slo,
        Data::Paired { baseline: &[500.0, 510.0], current: &[200.0, 204.0], within_se: 0.0 },
        &Settings::default(),
    );
    assert_eq!(row.method, Method::OneSample);
    assert_eq!(row.verdict, Verdict::Pass, "{row:?}");
    let mismatched =
        one(P95, Data::Paired { baseline: &[1.0], current: &[1.0, 2.0], within_se: 0.0 }, &Settings::default());
    assert_eq!(mismatched.verdict, Verdict::Inconclusive);
    assert!(mismatched.reason.contains("both sides in every run"), "{}", mismatched.reason);
}
