//! Per-window statistics of k6 raw output (src/input/windows.rs): the within-run precision of
//! gated metrics and the warm-up, stationarity and noise-floor notes, on synthetic NDJSON with
//! known properties (seeded) and on a real 90-s k6 run (fixtures/k6/long).

mod common;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

use common::root;
use perfcert::input::k6_samples::Options;
use perfcert::input::{self, Classes, Gate, k6_raw};
use perfcert::model::RunResults;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A synthetic run: requests at `rate` per second for `seconds`, starting `offset` seconds
/// past a whole 10 s; latency log-normal (median 20 ms, σ 0.3) times `slow(t)` times a
/// per-window factor exp(window_sd · N(0,1)); an error with probability `error(t)`.
struct Synth<'a> {
    seconds: f64,
    rate: f64,
    offset: f64,
    window_sd: f64,
    slow: &'a dyn Fn(f64) -> f64,
    error: &'a dyn Fn(f64) -> f64,
    all_metrics: bool,
}

impl Default for Synth<'_> {
    fn default() -> Self {
        Synth {
            seconds: 180.0,
            rate: 20.0,
            offset: 0.0,
            window_sd: 0.0,
            slow: &|_| 1.0,
            error: &|_| 0.0,
            all_metrics: false,
        }
    }
}

fn stamp(t: f64) -> String {
    let ns = (t * 1e9).round() as u64;
    let (s, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    format!("2026-01-01T{:02}:{:02}:{:02}.{frac:09}Z", s / 3600, s / 60 % 60, s % 60)
}

impl Synth<'_> {
    /// The NDJSON text and the number of failed requests in it.
    fn text(&self, seed: u64) -> (String, u64) {
        let mut rng = Rng(seed);
        let windows: Vec<f64> =
            (0..((self.offset + self.seconds) / 10.0) as usize + 2).map(|_| self.window_sd * rng.normal()).collect();
        let mut out = String::new();
        let mut failed = 0;
        let n = (self.seconds * self.rate) as usize;
        for i in 0..n {
            let t = self.offset + i as f64 / self.rate;
            let rel = t - self.offset;
            let ms = 20.0 * (0.3 * rng.normal() + windows[(t / 10.0) as usize]).exp() * (self.slow)(rel);
            let tags = r#"{"method":"GET","name":"http://h/items"}"#;
            let time = stamp(t);
            out += &format!(
                "{{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{{\"time\":\"{time}\",\"value\":{ms},\"tags\":{tags}}}}}\n"
            );
            if self.all_metrics {
                let e = (rng.uniform() < (self.error)(rel)) as u64;
                failed += e;
                out += &format!(
                    "{{\"metric\":\"http_req_failed\",\"type\":\"Point\",\"data\":{{\"time\":\"{time}\",\"value\":{e},\"tags\":{tags}}}}}\n"
                );
                out += &format!(
                    "{{\"metric\":\"http_reqs\",\"type\":\"Point\",\"data\":{{\"time\":\"{time}\",\"value\":1,\"tags\":{tags}}}}}\n"
                );
            }
        }
        (out, failed)
    }
}

fn gates(list: &[(&str, f64)]) -> Classes {
    Classes {
        gates: list.iter().map(|(m, t)| Gate { metric: m.to_string(), tolerance: Some(*t) }).collect(),
        ..Classes::default()
    }
}

fn read(text: &str, classes: &Classes) -> RunResults {
    k6_raw::parse("run.ndjson", text, classes).unwrap()
}

fn notes_with(r: &RunResults, what: &str) -> Vec<String> {
    r.notes.iter().filter(|n| n.contains(what)).cloned().collect()
}

#[test]
fn a_slow_first_30_seconds_warns_of_warm_up() {
    let slow = |t: f64| if t < 30.0 { 1.5 } else { 1.0 };
    let synth = Synth { slow: &slow, offset: 3.0, ..Synth::default() };
    let r = read(&synth.text(1).0, &gates(&[("latency_p95", 0.1)]));
    let warm = notes_with(&r, "warm-up");
    assert_eq!(warm.len(), 1, "{:?}", r.notes);
    assert!(warm[0].starts_with("run.ndjson: latency_p95: warm-up: "), "{}", warm[0]);
    assert!(warm[0].contains("higher than the rest"), "{}", warm[0]);
    // Without a gate on it, the reader keeps no windows and says nothing.
    assert!(read(&synth.text(1).0, &Classes::default()).notes.is_empty());
}

#[test]
fn a_stationary_run_gives_precision_and_no_note() {
    let synth = Synth { offset: 7.0, all_metrics: true, ..Synth::default() };
    // 3,600 requests: Poisson alone gives throughput a 1.7% standard error, under a quarter of 10%.
    let r = read(&synth.text(2).0, &gates(&[("latency_p95", 0.1), ("throughput", 0.1), ("error_rate", 0.1)]));
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    for m in ["latency_p95", "throughput"] {
        let se = r.precision[m].log_se.unwrap();
        assert!(se > 0.0 && se < 0.05, "{m}: {se}");
    }
}

#[test]
fn warm_up_false_alarms_at_about_its_stated_rate() {
    // 200 seeded stationary runs: each check is at 1%, so about 2 alarms; 8 or more would
    // happen with probability below 0.1% if the rate were right.
    let classes = gates(&[("latency_p95", 0.5)]);
    let (mut warm, mut step) = (0, 0);
    for seed in 0..200 {
        let synth = Synth { offset: (seed % 10) as f64, ..Synth::default() };
        let r = read(&synth.text(1000 + seed).0, &classes);
        warm += notes_with(&r, "warm-up").len();
        step += notes_with(&r, "not stationary").len();
    }
    assert!(warm < 8, "warm-up false alarms: {warm} of 200");
    assert!(step < 8, "stationarity false alarms: {step} of 200");
}

#[test]
fn a_step_mid_run_warns_that_the_run_is_not_stationary() {
    let slow = |t: f64| if t < 100.0 { 1.0 } else { 1.3 };
    let synth = Synth { slow: &slow, ..Synth::default() };
    let r = read(&synth.text(3).0, &gates(&[("latency_p99", 0.1)]));
    let step = notes_with(&r, "not stationary");
    assert_eq!(step.len(), 1, "{:?}", r.notes);
    assert!(step[0].starts_with("run.ndjson: latency_p99: not stationary:"), "{}", step[0]);
    assert!(notes_with(&r, "warm-up").is_empty(), "{:?}", r.notes);
}

#[test]
fn batch_means_log_se_is_near_the_truth() {
    // Window noise 5% dominates the sampling noise of a window's p95 (about 1.4% at 200
    // samples a second). The truth: ln p95 moves with the mean of 18 windows' shifts plus the
    // sampling error, SD = sqrt(0.05² + s²)/sqrt(18) with s the sampling SE of one window's
    // ln p95, σ·sqrt(p(1−p)/n)/φ(z_p). The mean estimate over 20 runs is within 15% of it.
    let sampling = 0.3 * (0.95f64 * 0.05 / 2000.0).sqrt() / 0.10314;
    let truth = (0.05f64.powi(2) + sampling.powi(2)).sqrt() / 18f64.sqrt();
    let classes = gates(&[("latency_p95", 0.1)]);
    let mut sum = 0.0;
    for seed in 0..20 {
        let synth = Synth { rate: 200.0, window_sd: 0.05, ..Synth::default() };
        sum += read(&synth.text(500 + seed).0, &classes).precision["latency_p95"].log_se.unwrap();
    }
    let mean = sum / 20.0;
    assert!((mean / truth - 1.0).abs() < 0.15, "batch means {mean} vs truth {truth}");
}

#[test]
fn a_noise_floor_large_against_the_tolerance_is_noted() {
    let synth = Synth { window_sd: 0.05, ..Synth::default() };
    let text = synth.text(4).0;
    let tight = read(&text, &gates(&[("latency_p95", 0.02)]));
    let floor = notes_with(&tight, "within-run noise");
    assert_eq!(floor.len(), 1, "{:?}", tight.notes);
    assert!(floor[0].contains("cannot resolve a 2.0% change"), "{}", floor[0]);
    assert!(notes_with(&read(&text, &gates(&[("latency_p95", 0.5)])), "within-run noise").is_empty());
}

#[test]
fn error_counts_are_the_files_points_and_bursts_are_overdispersed() {
    let classes = gates(&[("error_rate", 0.1)]);
    let even = |_: f64| 0.05;
    let synth = Synth { rate: 50.0, error: &even, all_metrics: true, ..Synth::default() };
    let (text, failed) = synth.text(5);
    let c = read(&text, &classes).precision["error_rate"].counts.unwrap();
    assert_eq!((c.errors, c.requests), (failed, 9000));
    assert!(c.dispersion < 1.5, "independent errors: dispersion {}", c.dispersion);
    let burst = |t: f64| if (60.0..80.0).contains(&t) { 0.5 } else { 0.01 };
    let synth = Synth { rate: 50.0, error: &burst, all_metrics: true, ..Synth::default() };
    let (text, failed) = synth.text(6);
    let c = read(&text, &classes).precision["error_rate"].counts.unwrap();
    assert_eq!(c.errors, failed);
    assert!(c.dispersion > 5.0, "bursts: dispersion {}", c.dispersion);
}

#[test]
fn a_run_too_short_for_windows_says_so() {
    let synth = Synth { seconds: 40.0, all_metrics: true, ..Synth::default() };
    let r = read(&synth.text(7).0, &gates(&[("latency_p95", 0.1), ("throughput", 0.5)]));
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(r.notes[0].contains("too short"), "{}", r.notes[0]);
    assert!(!r.precision.contains_key("latency_p95"));
    // Poisson still bounds the throughput's precision from below.
    assert!(r.precision["throughput"].log_se.unwrap() > 0.0);
}

fn long() -> PathBuf {
    root().join("fixtures/k6/long/k6-long-raw.ndjson.gz")
}

fn policy_gates() -> Classes {
    // As fixtures/k6/long/perf_thresholds.yml (method: statistical) gives them.
    let text = std::fs::read_to_string(root().join("fixtures/k6/long/perf_thresholds.yml")).unwrap();
    perfcert::policy::parse("perf_thresholds.yml", &text).unwrap().classes
}

#[test]
fn real_k6_output_gives_precision_for_every_gated_metric_and_no_spurious_note() {
    let classes = policy_gates();
    let r = input::load(&long(), None, &classes).unwrap();
    // 2 VUs for 90 s: no warm-up, no step; the only notes are the noise floors that the
    // precision itself shows (a standard error above a quarter of the tolerance).
    for note in &r.notes {
        let gate = classes.gates.iter().find(|g| note.contains(&format!(": {}: within-run noise:", g.metric)));
        let gate = gate.unwrap_or_else(|| panic!("unexpected note: {note}"));
        let se = r.precision[&gate.metric].log_se.unwrap();
        assert!(se > gate.tolerance.unwrap() / 4.0, "{note}");
    }
    for gate in &classes.gates {
        let p = r.precision.get(&gate.metric).unwrap_or_else(|| panic!("no precision for {}", gate.metric));
        match p.counts {
            Some(c) => assert!(c.requests > 0 && c.dispersion >= 1.0, "{}: {c:?}", gate.metric),
            None => {
                let se = p.log_se.unwrap();
                assert!(se > 0.0 && se < 0.2, "{}: {se}", gate.metric);
            }
        }
    }
}

#[test]
fn windows_do_not_depend_on_how_the_file_is_split() {
    let classes = policy_gates();
    let dir = common::workdir();
    let mut text = Vec::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(std::fs::File::open(long()).unwrap()).read_to_end(&mut text).unwrap();
    let path = dir.path().join("long.ndjson");
    std::fs::write(&path, &text).unwrap();
    let read = |threads| {
        let options = Options { threads: Some(threads), ..Options::default() };
        k6_raw::read(&path, &classes, &options, &AtomicU64::new(0)).unwrap()
    };
    let one = read(1);
    for threads in [2, 5] {
        let split = read(threads);
        assert_eq!(split.notes, one.notes);
        for (name, p) in &one.precision {
            let q = split.precision[name];
            assert_eq!(p.counts, q.counts, "{name}");
            let (a, b) = (p.log_se.unwrap_or(0.0), q.log_se.unwrap_or(0.0));
            // Window sums may differ in the last bits with the order of addition.
            assert!((a - b).abs() <= 1e-9 * a.max(b), "{name}: {a} vs {b}");
        }
    }
}

#[test]
fn the_threshold_method_keeps_no_windows() {
    let text = "metrics:\n  latency_p95: { max_increase: 10% }\n";
    let policy = perfcert::policy::parse("p.yml", text).unwrap();
    assert!(policy.classes.gates.is_empty());
    let statistical = format!("{text}decision: {{ method: statistical }}\n");
    let policy = perfcert::policy::parse("p.yml", &statistical).unwrap();
    assert_eq!(policy.classes.gates, vec![Gate { metric: "latency_p95".into(), tolerance: Some(0.1) }]);
}

#[test]
fn k6_csv_and_ndjson_of_one_run_give_the_same_windows() {
    // The bundled 25-s run as both: too short for latency precision (one note each), the same
    // error counts and throughput precision.
    let classes =
        Classes { read: Some("kind:read".into()), write: Some("kind:write".into()), gates: policy_gates().gates };
    let full = |f: &str| root().join("fixtures/k6/full").join(f);
    let json = input::load(&full("k6-baseline-raw.ndjson.gz"), None, &classes).unwrap();
    let csv = input::load(&full("k6-baseline-raw.csv.gz"), None, &classes).unwrap();
    assert_eq!(notes_with(&json, "too short").len(), 1, "{:?}", json.notes);
    assert_eq!(notes_with(&csv, "too short").len(), 1, "{:?}", csv.notes);
    assert!(!json.precision.contains_key("latency_p95"));
    let c = json.precision["error_rate"].counts.unwrap();
    assert_eq!(Some(c), csv.precision["error_rate"].counts);
    assert_eq!(c.requests as f64, json.metrics["requests"]);
    assert!(json.precision["throughput"].log_se.is_some());
}
