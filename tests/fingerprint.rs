//! A fingerprint per run and comparability (issue 14 §6): what real k6 and Locust outputs record
//! about how a run was made, the sidecar file and the testbed flags that add the rest, the
//! warning (or, under `comparability: refuse`, the exit-2 refusal) when baseline and current
//! were not produced the same way, and the fingerprints the JSON report and certificate record.

mod common;

use std::path::Path;

use common::{perfcert, root, text, workdir, workdir_with_keys};
use serde_json::Value;

fn k6(name: &str) -> String {
    root().join("fixtures/k6").join(name).display().to_string()
}

fn locust(name: &str) -> String {
    root().join("fixtures/locust").join(name).display().to_string()
}

/// The k6 fixtures' policy, with `extra` appended (e.g. `comparability: refuse`).
fn policy(dir: &Path, extra: &str) -> String {
    let text = std::fs::read_to_string(k6("perf_thresholds.yml")).unwrap();
    let path = dir.join(format!("policy-{}.yml", extra.len()));
    std::fs::write(&path, format!("{text}\n{extra}\n")).unwrap();
    path.display().to_string()
}

/// A copy of a k6 handleSummary fixture whose `vus_max` gauge peaked at `vus`.
fn k6_with_vus(dir: &Path, vus: u64) -> String {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(k6("k6-current-handlesummary.json")).unwrap()).unwrap();
    doc["metrics"]["vus_max"]["values"]["max"] = vus.into();
    let path = dir.join(format!("k6-vus-{vus}.json"));
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    path.display().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `compare --format json` with these inputs: the exit code and the report.
fn report(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["compare", "--format", "json", "--as-of", "2026-06-01"];
    all.extend_from_slice(args);
    let out = perfcert(dir, &all);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out.status.code().unwrap(), doc)
}

fn warnings(doc: &Value) -> Vec<String> {
    doc["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect()
}

#[test]
fn real_k6_against_real_locust_warns_that_the_tool_differs() {
    let dir = workdir();
    let (b, c) = (k6("k6-baseline-handlesummary.json"), locust("locust-current.json"));
    let (code, doc) = report(dir.path(), &["--baseline", &b, "--current", &c, "--thresholds", &policy(dir.path(), "")]);
    assert_ne!(code, 2, "a warning, not a refusal, by default");
    assert_eq!(
        warnings(&doc)[0],
        format!(
            "baseline and current were not produced the same way: tool is k6 in the baseline run ({b}) and \
             locust in the current run ({c})"
        )
    );
    // What each output records, and nothing more: handleSummary has the VUs and the duration,
    // Locust's JSON neither (so they are noted as not checked, not guessed).
    assert_eq!(
        doc["inputs"]["baseline"]["fingerprint"],
        serde_json::json!({"tool": "k6", "vus_max": "10", "duration": "25.1s"})
    );
    assert_eq!(doc["inputs"]["current"]["fingerprint"], serde_json::json!({"tool": "locust"}));
    assert_eq!(
        warnings(&doc)[1],
        "the current run has no vus_max, duration (the baseline side has them); comparability not checked for them"
    );
}

#[test]
fn runs_made_the_same_way_compare_silently() {
    let dir = workdir();
    let (b, c) = (k6("k6-baseline-handlesummary.json"), k6("k6-current-handlesummary.json"));
    let refuse = policy(dir.path(), "comparability: refuse");
    let (code, doc) = report(dir.path(), &["--baseline", &b, "--current", &c, "--thresholds", &refuse]);
    assert_eq!(code, 1, "the k6 fixtures' own verdict (write p95 +13.9%)");
    assert_eq!(warnings(&doc), Vec::<String>::new());
    // 25114 ms and 25141 ms are the same run length.
    assert_eq!(doc["inputs"]["current"]["fingerprint"]["duration"], "25.1s");
}

#[test]
fn different_vus_warn_and_are_refused_under_refuse() {
    let dir = workdir();
    let (b, c) = (k6("k6-baseline-handlesummary.json"), k6_with_vus(dir.path(), 20));
    let expected = format!(
        "baseline and current were not produced the same way: vus_max is 10 in the baseline run ({b}) and 20 in the \
         current run ({c})"
    );
    let (code, doc) = report(dir.path(), &["--baseline", &b, "--current", &c, "--thresholds", &policy(dir.path(), "")]);
    assert_eq!(code, 1);
    assert_eq!(warnings(&doc), std::slice::from_ref(&expected));

    let refuse = policy(dir.path(), "comparability: refuse");
    let out = perfcert(dir.path(), &["compare", "--baseline", &b, "--current", &c, "--thresholds", &refuse]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(out.stdout.is_empty(), "no report without a verdict: {}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{refuse}: comparability: refuse: {expected}")), "{err}");

    // A bad policy value names the key.
    let bad = policy(dir.path(), "comparability: strict");
    let out = perfcert(dir.path(), &["compare", "--baseline", &b, "--current", &c, "--thresholds", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("comparability: expected warn or refuse, found \"strict\""), "{}", text(&out));
}

#[test]
fn runs_of_one_side_that_differ_warn() {
    let dir = workdir();
    let (b1, b2, c) = (k6_with_vus(dir.path(), 10), k6_with_vus(dir.path(), 20), k6("k6-current-handlesummary.json"));
    let (_, doc) = report(
        dir.path(),
        &["--baseline", &b1, "--baseline", &b2, "--current", &c, "--thresholds", &policy(dir.path(), "")],
    );
    let w = warnings(&doc);
    assert!(
        w.contains(&format!(
            "the baseline runs were not produced the same way: vus_max is 10 in run 1 ({b1}), 20 in run 2 ({b2})"
        )),
        "{w:?}"
    );
    // The side's fingerprint holds only what all its runs share.
    assert_eq!(doc["inputs"]["baseline"]["fingerprint"], serde_json::json!({"tool": "k6", "duration": "25.1s"}));

    // Runs of one side made differently are refused too: their spread is the setup's.
    let refuse = policy(dir.path(), "comparability: refuse");
    let out = perfcert(
        dir.path(),
        &["compare", "--baseline", &b1, "--baseline", &b2, "--current", &c, "--thresholds", &refuse],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("the baseline runs were not produced the same way"), "{}", text(&out));
}

#[test]
fn a_sidecar_adds_what_the_output_lacks() {
    let dir = workdir();
    let sha = |c: char| c.to_string().repeat(64);
    let fp_b = write(
        dir.path(),
        "b.fingerprint.json",
        &format!(
            r#"{{"fingerprint": {{"tool_version": "v1.1.0", "script_sha256": "{}", "testbed": "ci-large"}}}}"#,
            sha('a')
        ),
    );
    let fp_c = write(
        dir.path(),
        "c.fingerprint.json",
        &format!(
            r#"{{"fingerprint": {{"tool_version": "1.1.0", "script_sha256": "{}", "testbed": "ci-large"}}}}"#,
            sha('b')
        ),
    );
    let (b, c) = (k6("k6-baseline-handlesummary.json"), k6("k6-current-handlesummary.json"));
    let (bp, cp) = (format!("{b}+{fp_b}"), format!("{c}+{fp_c}"));
    let (_, doc) = report(dir.path(), &["--baseline", &bp, "--current", &cp, "--thresholds", &policy(dir.path(), "")]);
    assert_eq!(
        warnings(&doc),
        [format!(
            "baseline and current were not produced the same way: script_sha256 is {} in the baseline run ({b} + {fp_b}) \
             and {} in the current run ({c} + {fp_c})",
            sha('a'),
            sha('b')
        )]
    );
    assert_eq!(doc["inputs"]["baseline"]["fingerprint"]["tool_version"], "1.1.0");
    assert_eq!(doc["inputs"]["baseline"]["fingerprint"]["testbed"], "ci-large");

    // Forced by prefix, as any part's format can be.
    let forced = format!("{c}+fingerprint:{fp_c}");
    let (_, doc) =
        report(dir.path(), &["--baseline", &bp, "--current", &forced, "--thresholds", &policy(dir.path(), "")]);
    assert_eq!(doc["inputs"]["current"]["fingerprint"]["testbed"], "ci-large");
}

#[test]
fn a_bad_sidecar_is_an_input_error_naming_the_key() {
    let dir = workdir();
    let (b, c) = (k6("k6-baseline-handlesummary.json"), k6("k6-current-handlesummary.json"));
    let t = policy(dir.path(), "");
    let cases = [
        (r#"{"fingerprint": {"vus": 10}}"#, "fingerprint.vus: unknown key; expected one of tool, tool_version,"),
        (r#"{"fingerprint": {"vus_max": "10"}}"#, "fingerprint.vus_max: expected a whole number >= 0, found \"10\""),
        (r#"{"fingerprint": {"script_sha256": "abc"}}"#, "fingerprint.script_sha256: expected a sha256 digest"),
        (r#"{"fingerprint": {"tool": "locust"}}"#, "fingerprint `tool` is locust here but k6 in"),
    ];
    for (body, message) in cases {
        let fp = write(dir.path(), "bad.fingerprint.json", body);
        let out =
            perfcert(dir.path(), &["compare", "--baseline", &b, "--current", &format!("{c}+{fp}"), "--thresholds", &t]);
        assert_eq!(out.status.code(), Some(2), "{body}: {}", text(&out));
        assert!(text(&out).contains(message), "{body}: {}", text(&out));
        assert!(text(&out).contains(&fp), "the error names the file: {}", text(&out));
    }
    // Alone, a sidecar is not a run.
    let fp = write(dir.path(), "alone.fingerprint.json", r#"{"fingerprint": {"testbed": "x"}}"#);
    let out = perfcert(dir.path(), &["compare", "--baseline", &b, "--current", &fp, "--thresholds", &t]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("join it to the run's results with +"), "{}", text(&out));
}

#[test]
fn testbed_flags_are_recorded_and_compared() {
    let dir = workdir();
    let (b, c) = (k6("k6-baseline-handlesummary.json"), k6("k6-current-handlesummary.json"));
    let t = policy(dir.path(), "");
    let (_, doc) =
        report(dir.path(), &["--baseline", &b, "--current", &c, "--thresholds", &t, "--testbed", "ci-large"]);
    assert_eq!(doc["inputs"]["baseline"]["fingerprint"]["testbed"], "ci-large");
    assert_eq!(doc["inputs"]["current"]["fingerprint"]["testbed"], "ci-large");
    assert_eq!(warnings(&doc), Vec::<String>::new());

    let args = [
        "--baseline",
        &b,
        "--current",
        &c,
        "--thresholds",
        &t,
        "--baseline-testbed",
        "old",
        "--current-testbed",
        "new",
    ];
    let (_, doc) = report(dir.path(), &args);
    assert_eq!(
        warnings(&doc),
        [format!(
            "baseline and current were not produced the same way: testbed is old in the baseline run ({b}) and new in the current run ({c})"
        )]
    );

    // A run's own record is never overwritten by a flag.
    let fp = write(dir.path(), "c.fingerprint.json", r#"{"fingerprint": {"testbed": "laptop"}}"#);
    let cp = format!("{c}+{fp}");
    let out = perfcert(
        dir.path(),
        &["compare", "--baseline", &b, "--current", &cp, "--thresholds", &t, "--current-testbed", "ci"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--current-testbed ci: run 1 ("), "{}", text(&out));
    assert!(text(&out).contains("says its testbed is laptop"), "{}", text(&out));
    // --testbed is for both sides, so it cannot be given with a side's own.
    let out = perfcert(dir.path(), &["compare", "--testbed", "a", "--current-testbed", "b"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_certificate_records_each_sides_fingerprint() {
    let dir = workdir_with_keys();
    let (b, c) = (k6("k6-baseline-handlesummary.json"), k6_with_vus(dir.path(), 20));
    // The threshold method (certificate version 1: the verdict is recomputed) and a statistical
    // decision (version 2: the whole document is rebuilt byte for byte, fingerprints included).
    let statistical = "decision:\n  method: statistical\n  noise:\n    cov: 0.01";
    for (version, extra, recomputed) in [("v1", "", "reproduced exactly"), ("v2", statistical, "rebuilt byte for byte")]
    {
        let t = policy(dir.path(), extra);
        let args = [
            "certify",
            "--key",
            "cosign.key",
            "--baseline",
            &b,
            "--current",
            &c,
            "--thresholds",
            &t,
            "--service",
            "api",
            "--version",
            version,
            "--current-testbed",
            "ci-large",
            "--format",
            "json",
        ];
        let out = perfcert(dir.path(), &args);
        assert!(matches!(out.status.code(), Some(0 | 1 | 5)), "{}", text(&out));
        let name = format!("api-{version}.cert.json");
        let cert_path = walk(&dir.path().join("perf/certificates")).into_iter().find(|p| p.ends_with(&name)).unwrap();
        let cert: Value = serde_json::from_str(&std::fs::read_to_string(&cert_path).unwrap()).unwrap();
        assert_eq!(
            cert["fingerprints"]["baseline"],
            serde_json::json!({"tool": "k6", "vus_max": "10", "duration": "25.1s"})
        );
        assert_eq!(
            cert["fingerprints"]["current"],
            serde_json::json!({"tool": "k6", "vus_max": "20", "duration": "25.1s", "testbed": "ci-large"})
        );
        assert!(cert["warnings"][0].as_str().unwrap().contains("vus_max is 10 in the baseline run"), "{cert}");

        // verify --recompute gives the recorded testbed again and reproduces the certificate.
        let cert_arg = cert_path.display().to_string();
        let verify = ["verify", &cert_arg, "--key", "cosign.pub", "--recompute", "--baseline", &b, "--current", &c];
        let out = perfcert(dir.path(), &[&verify[..], &["--thresholds", &t]].concat());
        assert!(matches!(out.status.code(), Some(0 | 1 | 5)), "{version}: {}", text(&out));
        assert!(text(&out).contains(recomputed), "{version}: {}", text(&out));
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn a_native_baseline_keeps_its_runs_fingerprints() {
    let dir = workdir();
    let base = write(
        dir.path(),
        "promoted.json",
        r#"{ "fingerprint": { "tool": "k6", "vus_max": 10, "testbed": "ci-large" },
             "runs": [ { "metrics": { "latency_p95_write": 50 } },
                       { "metrics": { "latency_p95_write": 51 } } ] }"#,
    );
    let c = k6("k6-current-handlesummary.json");
    let args =
        ["--baseline", &base, "--current", &c, "--thresholds", &policy(dir.path(), ""), "--current-testbed", "laptop"];
    let (_, doc) = report(dir.path(), &args);
    assert_eq!(
        doc["inputs"]["baseline"]["fingerprint"],
        serde_json::json!({"tool": "k6", "vus_max": "10", "testbed": "ci-large"})
    );
    let w = warnings(&doc);
    assert!(
        w.contains(&format!(
            "baseline and current were not produced the same way: testbed is ci-large in both baseline runs and laptop in the current run ({c})"
        )),
        "{w:?}"
    );
}

#[test]
fn perfcert_fingerprint_writes_a_sidecar_compare_reads() {
    let dir = workdir();
    let script = write(dir.path(), "load.js", "export default function () {}\n");
    let out = perfcert(
        dir.path(),
        &[
            "fingerprint",
            "--script",
            &script,
            "--tool",
            "K6",
            "--tool-version",
            "v1.1.0",
            "--vus-max",
            "10",
            "--duration",
            "25s",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({"fingerprint": {
            "tool": "k6", "tool_version": "1.1.0",
            // sha256 of "export default function () {}\n"
            "script_sha256": perfcert::signing::sha256_hex(b"export default function () {}\n"),
            "vus_max": 10, "duration": "25s"}})
    );
    let fp = write(dir.path(), "run.fingerprint.json", &String::from_utf8(out.stdout).unwrap());
    let (b, c) = (k6("k6-baseline-handlesummary.json"), k6("k6-current-handlesummary.json"));
    let cp = format!("{c}+{fp}");
    let (_, doc) = report(dir.path(), &["--baseline", &b, "--current", &cp, "--thresholds", &policy(dir.path(), "")]);
    // The output's own vus_max and 25.1 s agree with the sidecar's 10 and 25 s; what the baseline
    // lacks is noted.
    assert_eq!(
        warnings(&doc),
        [
            "the baseline run has no tool_version, script_sha256 (the current side has them); comparability not checked for them"
        ]
    );
    assert_eq!(doc["inputs"]["current"]["fingerprint"]["duration"], "25.1s", "the output's, the first part's");

    // A bad value names the flag and says what was expected; nothing at all is an error too.
    let out = perfcert(dir.path(), &["fingerprint", "--vus-max", "1.5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--vus-max: expected a whole number >= 0, found 1.5"), "{}", text(&out));
    let out = perfcert(dir.path(), &["fingerprint"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("nothing to record"), "{}", text(&out));
}

/// The lines of a gzip fixture.
fn gunzip_lines(path: &str) -> Vec<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text.lines().map(str::to_string).collect()
}

/// What a k6 NDJSON file's own lines say, computed here without perfcert's reader: the largest
/// `vus_max` Point and the sorted `scenario` tags of `http_req_duration` Points.
fn vus_and_scenarios(lines: &[String]) -> (String, String) {
    let (mut vus, mut scenarios) = (0.0f64, std::collections::BTreeSet::new());
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["type"] != "Point" {
            continue;
        }
        match v["metric"].as_str().unwrap() {
            "vus_max" => vus = vus.max(v["data"]["value"].as_f64().unwrap()),
            "http_req_duration" => {
                scenarios.insert(v["data"]["tags"]["scenario"].as_str().unwrap().to_string());
            }
            _ => {}
        }
    }
    (vus.to_string(), scenarios.into_iter().collect::<Vec<_>>().join(","))
}

#[test]
fn k6_raw_output_records_vus_scenarios_and_duration_as_its_summary_does() {
    let dir = workdir();
    let policy = policy(dir.path(), "");
    for run in ["baseline", "current"] {
        // One k6 invocation wrote all of these: its summary and its raw output must agree.
        let summary = k6(&format!("full/k6-{run}-handlesummary.json"));
        let ndjson = k6(&format!("full/k6-{run}-raw.ndjson.gz"));
        let (vus, scenarios) = vus_and_scenarios(&gunzip_lines(&ndjson));
        assert_eq!((vus.as_str(), scenarios.as_str()), ("10", "mixed"), "the fixture's script: 10 VUs, one scenario");
        let (_, doc) = report(dir.path(), &["--baseline", &summary, "--current", &ndjson, "--thresholds", &policy]);
        let from_summary = &doc["inputs"]["baseline"]["fingerprint"];
        assert_eq!(
            doc["inputs"]["current"]["fingerprint"],
            serde_json::json!({"tool": "k6", "scenarios": scenarios, "vus_max": vus, "duration": from_summary["duration"]}),
            "{run}: the raw output's duration, first request to last sample, is the summary's testRunDurationMs"
        );
        // vus_max and duration are checked now; only what the summary lacks is noted.
        assert_eq!(
            warnings(&doc),
            ["the baseline run has no scenarios (the current side has it); comparability not checked for it"]
        );

        // k6 CSV of the same run: whole-second timestamps, so the duration is within a second.
        let csv = k6(&format!("full/k6-{run}-raw.csv.gz"));
        let (_, doc) = report(dir.path(), &["--baseline", &summary, "--current", &csv, "--thresholds", &policy]);
        let fp = &doc["inputs"]["current"]["fingerprint"];
        assert_eq!((fp["vus_max"].as_str(), fp["scenarios"].as_str()), (Some(vus.as_str()), Some(scenarios.as_str())));
        assert!(fp["duration"].as_str().is_some_and(|d| d.ends_with('s')), "{fp}");
        assert_eq!(
            warnings(&doc),
            ["the baseline run has no scenarios (the current side has it); comparability not checked for it"]
        );
    }
}

#[test]
fn shards_of_one_k6_run_merge_their_fingerprints() {
    let dir = workdir();
    let ndjson = k6("full/k6-baseline-raw.ndjson.gz");
    let lines = gunzip_lines(&ndjson);
    // Two load generators: the first and second half of the run, the second with a scenario of
    // its own and more VUs.
    let (a, b) = lines.split_at(lines.len() / 2);
    let b: Vec<String> = b
        .iter()
        .map(|l| {
            let l = l.replace(r#""scenario":"mixed""#, r#""scenario":"spike""#);
            if l.starts_with(r#"{"metric":"vus_max","type":"Point""#) {
                l.replace(r#""value":10,"#, r#""value":12,"#)
            } else {
                l
            }
        })
        .collect();
    let (va, sa) = vus_and_scenarios(a);
    let (vb, sb) = vus_and_scenarios(&b);
    assert_eq!((va.as_str(), sa.as_str(), vb.as_str(), sb.as_str()), ("10", "mixed", "12", "spike"));
    let shard_a = write(dir.path(), "gen-a.ndjson", &(a.join("\n") + "\n"));
    let shard_b = write(dir.path(), "gen-b.ndjson", &(b.join("\n") + "\n"));
    let whole = format!("{shard_a}+{shard_b}");
    let summary = k6("full/k6-baseline-handlesummary.json");
    let (_, doc) =
        report(dir.path(), &["--baseline", &summary, "--current", &whole, "--thresholds", &policy(dir.path(), "")]);
    // vus_max is the most of any shard, scenarios their union, duration the span of the union
    // (the whole run's, as one file gives it).
    assert_eq!(
        doc["inputs"]["current"]["fingerprint"],
        serde_json::json!({"tool": "k6", "scenarios": "mixed,spike", "vus_max": "12", "duration": "25.1s"})
    );
    let (_, one) =
        report(dir.path(), &["--baseline", &summary, "--current", &shard_a, "--thresholds", &policy(dir.path(), "")]);
    let half = one["inputs"]["current"]["fingerprint"]["duration"]
        .as_str()
        .unwrap()
        .trim_end_matches('s')
        .parse::<f64>()
        .unwrap();
    assert!(half > 5.0 && half < 20.0, "one shard spans part of the run: {half} s");
}
