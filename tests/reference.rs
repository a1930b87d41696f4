//! The slow-drift guard through the binary: `max_total_increase` / `max_total_decrease` judge
//! the current runs against `--reference` (the last certified release), so a run of small
//! regressions that each pass against the release before cannot add up unseen.

mod common;

use std::path::Path;
use std::process::Output;

use common::{perfcert, text, workdir, workdir_with_keys};

/// A native results file of one run: `latency_p95_read` and `throughput`.
fn results(dir: &Path, name: &str, version: &str, latency: f64) -> String {
    let body = serde_json::json!({
        "service": "api",
        "version": version,
        "metrics": { "latency_p95_read": latency, "throughput": 10000.0 },
    });
    std::fs::write(dir.join(name), body.to_string()).unwrap();
    name.to_string()
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    std::fs::write(dir.join(name), body).unwrap();
    name.to_string()
}

const DRIFT: &str = "metrics:
  latency_p95_read: { max_increase: 5%, max_total_increase: 20%, max: 1000, unit: ms }
  throughput: { max_decrease: 5% }
";

fn compare(dir: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let mut all = vec!["compare", "--format", "json", "--as-of", "2026-11-30"];
    all.extend(args);
    let out = perfcert(dir, &all);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out, doc)
}

/// The check of `limit` in the first metric of a JSON report.
fn check<'a>(doc: &'a serde_json::Value, limit: &str) -> &'a serde_json::Value {
    doc["metrics"][0]["checks"].as_array().unwrap().iter().find(|c| c["limit"] == limit).unwrap_or_else(|| {
        panic!("no {limit} check in {doc}");
    })
}

#[test]
fn ten_four_percent_releases_each_pass_against_the_last_but_not_against_the_reference() {
    let dir = workdir();
    let d = dir.path();
    let policy = write(d, "p.yml", DRIFT);
    let reference = results(d, "r0.json", "v0", 100.0);
    let mut first_failure = None;
    for i in 1..=10 {
        let before = results(d, &format!("r{}.json", i - 1), &format!("v{}", i - 1), 100.0 * 1.04f64.powi(i - 1));
        let now = results(d, &format!("r{i}.json"), &format!("v{i}"), 100.0 * 1.04f64.powi(i));
        let (out, doc) =
            compare(d, &["--baseline", &before, "--current", &now, "--thresholds", &policy, "--reference", &reference]);
        // Against the release before: +4% every time, within +5%.
        assert_eq!(check(&doc, "max_increase")["status"], "PASS", "release {i}: {}", text(&out));
        let total = check(&doc, "max_total_increase");
        let row = &doc["metrics"][0];
        assert_eq!(row["reference"]["value"], 100.0, "{row}");
        let delta = row["reference"]["delta"].as_f64().unwrap();
        assert!((delta - (1.04f64.powi(i) - 1.0)).abs() < 1e-9, "release {i}: {delta}");
        if 1.04f64.powi(i) <= 1.2 {
            assert_eq!((out.status.code(), total["status"].as_str()), (Some(0), Some("PASS")), "{}", text(&out));
        } else {
            assert_eq!((out.status.code(), total["status"].as_str()), (Some(1), Some("FAIL")), "{}", text(&out));
            first_failure.get_or_insert(i);
        }
        if i == 10 {
            assert_eq!(total["reason"], "+48.02% > +20% since the reference (100 ms)");
            assert_eq!(row["status"], "FAIL");
        }
    }
    // 1.04^4 = 1.170 passes +20%; 1.04^5 = 1.217 is the first release beyond it.
    assert_eq!(first_failure, Some(5));

    // Without the cumulative limit the tenth release passes: that is the drift the guard stops.
    let plain = write(d, "plain.yml", "metrics:\n  latency_p95_read: { max_increase: 5% }\n");
    let (out, _) = compare(d, &["--baseline", "r9.json", "--current", "r10.json", "--thresholds", &plain]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_cumulative_limit_without_a_reference_is_an_input_error_never_a_skipped_check() {
    let dir = workdir();
    let d = dir.path();
    let policy = write(d, "p.yml", DRIFT);
    let (b, c) = (results(d, "b.json", "v1", 100.0), results(d, "c.json", "v2", 101.0));
    let out = perfcert(d, &["compare", "--baseline", &b, "--current", &c, "--thresholds", &policy]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: p.yml: metrics.latency_p95_read.max_total_increase is a cumulative limit against a reference: give \
         --reference FILE (e.g. a promoted perf_baseline.json) or --reference-from ARCHIVE --reference-key KEY.pub (the \
         reference the service's certified releases are held to)\n"
    );
    assert!(out.stdout.is_empty(), "no report without a verdict");
    // certify alike, before anything is signed or archived.
    let dir = workdir_with_keys();
    let d = dir.path();
    let policy = write(d, "p.yml", DRIFT);
    let (b, c) = (results(d, "b.json", "v1", 100.0), results(d, "c.json", "v2", 101.0));
    let out =
        perfcert(d, &["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &policy]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("give --reference FILE"), "{}", text(&out));
    assert!(!d.join("perf/certificates").exists() || walk(&d.join("perf/certificates")).is_empty());
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn bad_cumulative_limits_name_the_key() {
    let dir = workdir();
    let d = dir.path();
    let (b, c) = (results(d, "b.json", "v1", 100.0), results(d, "c.json", "v2", 101.0));
    let cases = [
        (
            "metrics:\n  latency_p95_read: { max_total_increase: twenty }\n",
            "p.yml:2:43: metrics.latency_p95_read.max_total_increase: expected a number or a percentage such as 10%, found \"twenty\"",
        ),
        (
            "metrics:\n  latency_p95_read: { max_total_decrease: -8% }\n",
            "metrics.latency_p95_read.max_total_decrease: a tolerance must be >= 0; the direction comes from the key (use max_total_increase for the other direction)",
        ),
        (
            "metrics:\n  latency_p95_read: { max_total_increase: .inf }\n",
            "metrics.latency_p95_read.max_total_increase: expected a finite",
        ),
        (
            "metrics:\n  latency_p95_read: { max_total_increase: }\n",
            "metrics.latency_p95_read.max_total_increase: no value",
        ),
        (
            "metrics:\n  latency_p95_read: { max_total_increase: [20%] }\n",
            "metrics.latency_p95_read.max_total_increase: invalid type: sequence",
        ),
        (
            "metrics:\n  latency_p95_read: { max_total_increse: 20% }\n",
            "metrics.latency_p95_read.max_total_increse: unknown field `max_total_increse`, expected one of max_increase, max_decrease, max_total_increase, max_total_decrease, max, min",
        ),
    ];
    for (policy, want) in cases {
        write(d, "p.yml", policy);
        let args = ["compare", "--baseline", &b, "--current", &c, "--thresholds", "p.yml", "--reference", &b];
        let out = perfcert(d, &args);
        assert_eq!(out.status.code(), Some(2), "{policy}: {}", text(&out));
        assert!(text(&out).contains(want), "{policy}\n  got:  {}  want: {want}", text(&out));
    }
}

#[test]
fn every_report_format_shows_the_reference_and_the_change_since_it() {
    let dir = workdir();
    let d = dir.path();
    let policy = write(d, "p.yml", DRIFT);
    let r = results(d, "r.json", "v1.0", 100.0);
    let b = results(d, "b.json", "v1.4", 115.0);
    let c = results(d, "c.json", "v1.5", 118.0);
    let args = ["--baseline", &b, "--current", &c, "--thresholds", &policy, "--reference", &r];
    let (out, doc) = compare(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(doc["inputs"]["reference"]["file"], "r.json");
    assert_eq!(doc["inputs"]["reference"]["version"], "v1.0");
    let row = &doc["metrics"][0];
    assert_eq!(row["limits"]["max_total_increase"], "20%");
    assert_eq!(row["reference"], serde_json::json!({ "value": 100.0, "delta": 0.18, "change": 18.0, "runs": [100.0] }));
    assert_eq!(check(&doc, "max_total_increase")["reason"], "+18% <= +20% since the reference (100 ms)");
    // A metric without a cumulative limit has no reference record.
    assert!(doc["metrics"][1].get("reference").is_none(), "{}", doc["metrics"][1]);

    let render = |format: &str| {
        let mut all = vec!["compare", "--as-of", "2026-11-30", "--format", format];
        all.extend(args);
        let out = perfcert(d, &all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let table = render("table");
    assert!(table.contains("reference r.json (api v1.0)"), "{table}");
    let header: Vec<&str> = table.lines().find(|l| l.starts_with("METRIC")).unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["METRIC", "BASELINE", "CURRENT", "DELTA", "LIMIT", "REFERENCE", "TOTAL", "TOTAL", "LIMIT", "SLO", "STATUS"]
    );
    let line: Vec<&str> = table.lines().find(|l| l.starts_with("latency")).unwrap().split_whitespace().collect();
    assert_eq!(
        line,
        [
            "latency_p95_read",
            "115",
            "ms",
            "118",
            "ms",
            "+2.61%",
            "+5%",
            "100",
            "ms",
            "+18%",
            "+20%",
            "<=",
            "1000",
            "ms",
            "PASS"
        ]
    );
    let markdown = render("markdown");
    assert!(markdown.contains("| Reference | Total | Total limit |"), "{markdown}");
    assert!(markdown.contains("| 100 ms | +18% | +20% |"), "{markdown}");
    let junit = render("junit");
    assert!(junit.contains(r#"<property name="reference" value="r.json"/>"#), "{junit}");
    assert!(
        junit.contains("<system-out>baseline 115 ms, current 118 ms, reference 100 ms (total +18%): +2.61% &lt;= +5%; +18% &lt;= +20% since the reference (100 ms); 118 ms &lt;= SLO 1000 ms</system-out>"),
        "{junit}"
    );

    // Without a reference the reports are as they always were.
    let plain = write(d, "plain.yml", "metrics:\n  latency_p95_read: { max_increase: 5% }\n");
    let out = perfcert(d, &["compare", "--baseline", &b, "--current", &c, "--thresholds", &plain]);
    assert!(!text(&out).contains("REFERENCE") && !text(&out).contains("reference"), "{}", text(&out));
}

#[test]
fn waivers_reference_gaps_and_unused_references() {
    let dir = workdir();
    let d = dir.path();
    let r = results(d, "r.json", "v1.0", 100.0);
    let b = results(d, "b.json", "v1.4", 118.0);
    let c = results(d, "c.json", "v1.5", 122.0);
    // A waiver covers a cumulative FAIL as it covers any.
    let waived = write(
        d,
        "w.yml",
        &format!("{DRIFT}waivers:\n  - {{ metric: latency_p95_read, reason: new TLS stack, expires: 2026-12-31 }}\n"),
    );
    let (out, doc) = compare(d, &["--baseline", &b, "--current", &c, "--thresholds", &waived, "--reference", &r]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(check(&doc, "max_total_increase")["status"], "FAIL");
    assert_eq!(doc["metrics"][0]["status"], "WAIVED");

    // A metric the reference lacks: its cumulative check is skipped as a missing baseline is.
    let policy = write(d, "p.yml", &format!("{DRIFT}  cpu: {{ max_total_increase: 10% }}\n"));
    let with_cpu =
        write(d, "c2.json", r#"{"metrics": {"latency_p95_read": 105.0, "throughput": 10000.0, "cpu": 50.0}}"#);
    let (out, doc) =
        compare(d, &["--baseline", &r, "--current", &with_cpu, "--thresholds", &policy, "--reference", &r]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cpu = doc["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "cpu").unwrap();
    assert_eq!(cpu["status"], "NO_BASELINE");
    assert_eq!(cpu["reasons"][0], "not in the reference: max_total_increase check skipped");

    // A reference the policy does not use is said, not silently ignored. The same bytes as
    // the baseline are a fine reference.
    let plain = write(d, "plain.yml", "metrics:\n  latency_p95_read: { max_increase: 5% }\n");
    let (out, doc) = compare(d, &["--baseline", &b, "--current", &c, "--thresholds", &plain, "--reference", &b]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        doc["warnings"][0],
        "the reference is not used: the policy sets no max_total_increase or max_total_decrease"
    );
    let (out, doc) = compare(d, &["--baseline", &b, "--current", &c, "--thresholds", &waived, "--reference", &b]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(check(&doc, "max_total_increase")["status"], "PASS");
}

#[test]
fn the_statistical_method_judges_the_reference_runs_like_a_baseline() {
    let dir = workdir();
    let d = dir.path();
    let runs = |name: &str, values: &[f64]| {
        let runs: Vec<_> = values
            .iter()
            .map(|v| serde_json::json!({ "metrics": { "latency_p95_read": v, "throughput": 10000.0 } }))
            .collect();
        write(d, name, &serde_json::json!({ "service": "api", "runs": runs }).to_string())
    };
    let policy = write(
        d,
        "p.yml",
        "decision: { method: statistical }\nmetrics:\n  latency_p95_read: { max_increase: 5%, max_total_increase: 20%, unit: ms }\n",
    );
    // Three runs a side, 0.5% apart: the reference 100, the baseline 112, the current 112.1.
    let r = runs("r.json", &[99.5, 100.0, 100.5]);
    let b = runs("b.json", &[111.5, 112.0, 112.5]);
    let c = runs("c.json", &[111.6, 112.1, 112.6]);
    let (out, doc) = compare(d, &["--baseline", &b, "--current", &c, "--thresholds", &policy, "--reference", &r]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let total = check(&doc, "max_total_increase");
    assert_eq!(total["status"], "PASS", "{total}");
    assert_eq!(total["method"], "welch-t", "{total}");
    assert!(total["reason"].as_str().unwrap().ends_with("(since the reference)"), "{total}");
    let estimate = total["estimate"].as_f64().unwrap();
    assert!((estimate - 0.12).abs() < 0.005, "{estimate}");
    assert_eq!(doc["metrics"][0]["reference"]["runs"], serde_json::json!([99.5, 100.0, 100.5]));
    // The current 130: +16% on the release before (FAIL there too), +30% on the reference.
    let far = runs("far.json", &[129.5, 130.0, 130.5]);
    let (out, doc) = compare(d, &["--baseline", &b, "--current", &far, "--thresholds", &policy, "--reference", &r]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(check(&doc, "max_total_increase")["status"], "FAIL");
    // Within +20% on the point estimate but not certainly so: INCONCLUSIVE, as any check.
    let edge = runs("edge.json", &[112.0, 120.0, 128.0]);
    let near = runs("near.json", &[114.0, 119.0, 125.0]);
    let (out, doc) = compare(d, &["--baseline", &near, "--current", &edge, "--thresholds", &policy, "--reference", &r]);
    assert_eq!(check(&doc, "max_total_increase")["status"], "INCONCLUSIVE", "{}", text(&out));
}

#[test]
fn certify_records_the_reference_and_verify_recomputes_it() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let policy = write(d, "p.yml", DRIFT);
    let r = results(d, "r.json", "v1.0", 100.0);
    let b = results(d, "b.json", "v1.4", 115.0);
    let c = results(d, "c.json", "v1.5", 118.0);
    let args = ["--baseline", &b, "--current", &c, "--thresholds", &policy, "--reference", &r];
    let mut certify = vec!["certify", "--key", "cosign.key", "--format", "json"];
    certify.extend(args);
    let out = perfcert(d, &certify);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cert = d.join(v["certificate"].as_str().unwrap());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&cert).unwrap()).unwrap();
    let sha = perfcert::signing::sha256_hex(&std::fs::read(d.join("r.json")).unwrap());
    assert_eq!(doc["inputs"]["reference"], serde_json::json!([{ "file": "r.json", "sha256": sha }]));
    assert_eq!(doc["comparison"][0]["reference"]["value"], 100.0);

    let c_path = cert.display().to_string();
    let verify = |extra: &[&str]| {
        let mut all = vec!["verify", &c_path, "--key", "cosign.pub", "--recompute"];
        all.extend(extra);
        perfcert(d, &all)
    };
    let ok = verify(&args);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("verdict PASS reproduced exactly"), "{}", text(&ok));
    // Without the reference the recompute cannot run: an input error naming the file to give
    // (2); with another one it is refused (not authentic, 4).
    let without = verify(&args[..6]);
    assert_eq!(without.status.code(), Some(2), "{}", text(&without));
    assert!(text(&without).contains("0 reference file(s) given, 1 recorded (r.json)"), "{}", text(&without));
    std::fs::write(d.join("r.json"), std::fs::read_to_string(d.join("r.json")).unwrap().replace("100.0", "90.0"))
        .unwrap();
    let changed = verify(&args);
    assert_eq!(changed.status.code(), Some(4), "{}", text(&changed));
    assert!(text(&changed).contains("reference r.json: sha256"), "{}", text(&changed));

    // A version-2 (statistical) certificate with a reference is rebuilt byte for byte.
    let runs = |name: &str, values: &[f64]| {
        let runs: Vec<_> = values.iter().map(|v| serde_json::json!({ "metrics": { "latency_p95_read": v } })).collect();
        write(d, name, &serde_json::json!({ "service": "api", "version": "v2.0", "runs": runs }).to_string())
    };
    let policy = write(
        d,
        "s.yml",
        "decision: { method: statistical }\nmetrics:\n  latency_p95_read: { max_increase: 5%, max_total_increase: 20% }\n",
    );
    let (r, b, c) = (
        runs("sr.json", &[99.5, 100.0, 100.5]),
        runs("sb.json", &[111.5, 112.0, 112.5]),
        runs("sc.json", &[111.6, 112.1, 112.6]),
    );
    let args = ["--baseline", &b, "--current", &c, "--thresholds", &policy, "--reference", &r];
    let mut certify = vec!["certify", "--key", "cosign.key", "--format", "json"];
    certify.extend(args);
    let out = perfcert(d, &certify);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cert = d.join(v["certificate"].as_str().unwrap()).display().to_string();
    let mut all = vec!["verify", &cert, "--key", "cosign.pub", "--recompute"];
    all.extend(args);
    let ok = perfcert(d, &all);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("certificate rebuilt byte for byte, verdict PASS"), "{}", text(&ok));
}

#[test]
fn reference_from_an_archive_is_the_newest_pass_certificate_of_the_service() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let plain = write(d, "plain.yml", "metrics:\n  latency_p95_read: { max_increase: 5% }\n");
    let drift = write(d, "p.yml", DRIFT);
    let certify = |args: &[&str]| {
        let mut all = vec!["certify", "--key", "cosign.key", "--format", "json"];
        all.extend(args);
        let out = perfcert(d, &all);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out, v["certificate"].as_str().map(|c| d.join(c)))
    };
    // Before any certificate: no reference, and the message says what to do.
    let (b, c) = (results(d, "b.json", "v1.0", 100.0), results(d, "c.json", "v1.1", 103.0));
    std::fs::create_dir_all(d.join("perf/certificates")).unwrap();
    let (out, _) = compare(
        d,
        &["--baseline", &b, "--current", &c, "--thresholds", &drift, "--reference-from", "perf/certificates"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no PASS certificate of api other than v1.1 in its index"), "{}", text(&out));

    // v1.0 certified PASS (before the policy had a cumulative limit), then v1.1 certified FAIL.
    let (out, first) = certify(&["--baseline", &b, "--current", &b, "--thresholds", &plain, "--version", "v1.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = first.unwrap();
    let bad = results(d, "bad.json", "v1.1", 120.0);
    let (out, _) = certify(&["--baseline", &b, "--current", &bad, "--thresholds", &plain, "--version", "v1.1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // v1.2 against v1.1's baseline: the reference is v1.0, the newest PASS.
    let c = results(d, "c2.json", "v1.2", 119.0);
    let b2 = results(d, "b2.json", "v1.1", 115.0);
    let args = ["--baseline", &b2, "--current", &c, "--thresholds", &drift, "--reference-from", "perf/certificates"];
    let (out, doc) = compare(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(doc["inputs"]["reference"]["version"], "v1.0", "{}", doc["inputs"]);
    assert_eq!(check(&doc, "max_total_increase")["reason"], "+19% <= +20% since the reference (100 ms)");
    // certify rests on the reference only with its signature checked.
    let (out, _) = certify(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("certify --reference-from needs --reference-key"), "{}", text(&out));
    // A newer PASS certificate that the key did not sign (here: v1.0's, edited, with a line
    // that matches it) is passed over, never the reference.
    let forged_text =
        std::fs::read_to_string(&first).unwrap().replace("\"version\": \"v1.0\"", "\"version\": \"v1.05\"");
    let forged_text = forged_text.replace("\"latency_p95_read\": 100.0", "\"latency_p95_read\": 118.0");
    let day_dir = first.parent().unwrap();
    let forged = day_dir.join("api-v1.05.cert.json");
    std::fs::write(&forged, &forged_text).unwrap();
    std::fs::copy(day_dir.join("api-v1.0.sigstore.json"), day_dir.join("api-v1.05.sigstore.json")).unwrap();
    let out = perfcert(d, &["index", "rebuild", "perf/certificates"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (out, doc) = compare(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(doc["inputs"]["reference"]["version"], "v1.05", "without a key the newest line wins: {}", doc["inputs"]);
    // With the key, a certificate of the service the key did not sign is an error: the archive
    // does not vouch for its releases, so no reference is chosen from it.
    let mut keyed = args.to_vec();
    keyed.extend(["--reference-key", "cosign.pub"]);
    let (out, _) = certify(&keyed);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("api-v1.05.cert.json cannot be the reference: its bundle signs another certificate"),
        "{}",
        text(&out)
    );
    std::fs::remove_file(&forged).unwrap();
    std::fs::remove_file(day_dir.join("api-v1.05.sigstore.json")).unwrap();
    let index = d.join("perf/certificates/index");
    let forged_line = walk(&index).into_iter().find(|p| p.to_string_lossy().ends_with("api-v1.05.json")).unwrap();
    std::fs::remove_file(forged_line).unwrap();
    let (out, cert) = certify(&keyed);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cert = cert.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&cert).unwrap()).unwrap();
    let bytes = std::fs::read(&first).unwrap();
    let recorded = &doc["inputs"]["reference"][0];
    assert_eq!(recorded["sha256"], perfcert::signing::sha256_hex(&bytes));
    let file = recorded["file"].as_str().unwrap();
    assert!(d.join(file) == first, "{file} is {}", first.display());
    assert!(doc["warnings"][0].as_str().unwrap().starts_with("the reference is the certificate of api v1.0 (sha256 "));

    // verify --recompute reads the recorded certificate as the reference, like any input.
    let cert_arg = cert.display().to_string();
    let mut verify = vec!["verify", &cert_arg, "--key", "cosign.pub", "--recompute"];
    verify.extend(&args[..6]);
    verify.extend(["--reference", file]);
    let ok = perfcert(d, &verify);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
}

/// Every release certified with --reference-from: the reference is carried forward from the
/// first release certified without one, so +4% steps add up and the step past +20% FAILs; an
/// explicit --reference moves the anchor; an index line pointing at another service's signed
/// certificate is passed over.
#[test]
fn reference_from_carries_the_anchor_forward_so_small_steps_add_up() {
    let dir = workdir_with_keys();
    let d = dir.path();
    let plain = write(d, "plain.yml", "metrics:\n  latency_p95_read: { max_increase: 5% }\n");
    let drift = write(d, "p.yml", DRIFT);
    let certify = |args: &[&str]| {
        let mut all = vec!["certify", "--key", "cosign.key", "--format", "json", "--as-of", "2026-11-30"];
        all.extend(args);
        let out = perfcert(d, &all);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out, v["certificate"].as_str().map(|c| d.join(c)))
    };
    let from = ["--reference-from", "perf/certificates", "--reference-key", "cosign.pub"];
    // v0 is certified before the policy had a cumulative limit: the first anchor.
    let r0 = results(d, "r0.json", "v0", 100.0);
    let (out, _) = certify(&["--baseline", &r0, "--current", &r0, "--thresholds", &plain]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut statuses = vec![];
    for i in 1..=6 {
        let before = format!("r{}.json", i - 1);
        let now = results(d, &format!("r{i}.json"), &format!("v{i}"), 100.0 * 1.04f64.powi(i));
        let mut args = vec!["--baseline", &before, "--current", &now, "--thresholds", &drift];
        args.extend(from);
        let (out, cert) = certify(&args);
        statuses.push(out.status.code());
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(cert.unwrap()).unwrap()).unwrap();
        let reference = doc["inputs"]["reference"][0]["file"].as_str().unwrap().to_string();
        assert!(reference.ends_with("api-v0.cert.json"), "release {i} is held to v0, not {reference}");
    }
    // 1.04^4 = +16.99% passes, 1.04^5 = +21.67% fails; a FAIL is never the next anchor.
    assert_eq!(statuses, [Some(0), Some(0), Some(0), Some(0), Some(1), Some(1)]);

    // Moving the anchor on purpose: v7 is certified with v4's certificate as --reference ...
    let v4 = std::fs::read_dir(d.join("perf/certificates"))
        .unwrap()
        .flat_map(|day| std::fs::read_dir(day.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("api-v4.cert.json"))
        .unwrap();
    let v4 = v4.strip_prefix(d).unwrap().display().to_string();
    let r7 = results(d, "r7.json", "v7", 121.0);
    let (out, _) = certify(&["--baseline", "r4.json", "--current", &r7, "--thresholds", &drift, "--reference", &v4]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("its signature is not checked here"), "{}", text(&out));
    // ... and v8 is then held to v4.
    let r8 = results(d, "r8.json", "v8", 126.0);
    let mut args = vec!["--baseline", &r7, "--current", &r8, "--thresholds", &drift];
    args.extend(from);
    let (out, _) = compare(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (_, doc) = compare(d, &args);
    assert_eq!(doc["inputs"]["reference"]["version"], "v4", "{}", doc["inputs"]);

    // A release certified without a reference (a hotfix under another policy) does not move it.
    let r7h = results(d, "r7h.json", "v7h", 124.0);
    let (out, _) = certify(&["--baseline", &r7, "--current", &r7h, "--thresholds", &plain]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (out, doc) = compare(d, &args);
    assert_eq!(doc["inputs"]["reference"]["version"], "v4", "{}", doc["inputs"]);
    assert!(text(&out).contains("was certified without a reference; the reference stays"), "{}", text(&out));

    // Another service's certificate, signed by the same key, behind an index line of `api`
    // dated later: not what the line says, so passed over.
    let other = write(d, "other.json", r#"{"service": "slow", "version": "v9", "metrics": {"latency_p95_read": 500}}"#);
    let (out, slow) = certify(&["--baseline", &other, "--current", &other, "--thresholds", &plain]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let slow = slow.unwrap();
    let slow_bytes = std::fs::read(&slow).unwrap();
    let index = d.join("perf/certificates/index");
    let line_path = walk(&index).into_iter().find(|p| p.to_string_lossy().ends_with("api-v7.json")).unwrap();
    let mut line: serde_json::Value = serde_json::from_slice(&std::fs::read(&line_path).unwrap()).unwrap();
    let slow_rel = slow.strip_prefix(d.join("perf/certificates")).unwrap().display().to_string();
    line["certificate"] = slow_rel.into();
    line["certificate_sha256"] = perfcert::signing::sha256_hex(&slow_bytes).into();
    line["date"] = "2099-01-01T00:00:00Z".into();
    std::fs::write(&line_path, line.to_string()).unwrap();
    // And a line naming a file outside the archive's layout is never read.
    let v6_line = walk(&index).into_iter().find(|p| p.to_string_lossy().ends_with("api-v6.json")).unwrap();
    let mut outside: serde_json::Value = serde_json::from_slice(&std::fs::read(&v6_line).unwrap()).unwrap();
    outside["certificate"] = "../../other.json".into();
    outside["status"] = "PASS".into();
    outside["date"] = "2099-01-02T00:00:00Z".into();
    std::fs::write(&v6_line, outside.to_string()).unwrap();
    // With the key: the archive no longer vouches for the service's releases, so no reference.
    let (out, _) = compare(d, &args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cannot be the reference: its index line names ../../other.json"), "{}", text(&out));
    // Without it: each is warned about (the real v7, its line gone, is named too), never used
    // (the forged 500 ms would pass anything); the newest PASS held to a reference that is left
    // is v4, held to v0.
    let unkeyed = &args[..args.len() - 2];
    let (out, doc) = compare(d, unkeyed);
    let said = text(&out);
    assert!(said.contains("cannot be the reference: its index line names ../../other.json"), "{said}");
    assert!(said.contains("cannot be the reference: it is not what its index line says"), "{said}");
    assert!(said.contains("api-v7.cert.json has no index line"), "{said}");
    assert_eq!(doc["inputs"]["reference"]["version"], "v0", "{}", doc["inputs"]);
}
