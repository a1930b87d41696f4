//! On a GitHub Actions runner: the binary run with the runner's variables pointed at temp files;
//! the step summary, step outputs and annotation lines checked as the runner would read them.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{command, fixture, policy, root, workdir};

/// A fake runner: its summary and output files live in a temp dir, as on a real runner.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        Runner { dir: workdir() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        command(self.dir.path())
            .args(args)
            .env_remove("PERFCERT_NO_GITHUB")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", self.path("step_summary.md"))
            .env("GITHUB_OUTPUT", self.path("output.txt"))
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    fn compare(&self, current: &str, thresholds: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let (b, c) = (fixture("baseline.json"), fixture(current));
        let t = root().join(thresholds).display().to_string();
        let mut args = vec!["compare", "--baseline", &b, "--current", &c, "--thresholds", &t, "--as-of", "2026-06-01"];
        args.extend(extra);
        self.run(&args, env)
    }

    fn summary(&self) -> Option<String> {
        std::fs::read_to_string(self.path("step_summary.md")).ok()
    }

    /// The output file parsed as the runner does: `name=value` and `name<<DELIM ... DELIM`.
    fn outputs(&self) -> BTreeMap<String, String> {
        let Ok(text) = std::fs::read_to_string(self.path("output.txt")) else { return BTreeMap::new() };
        let mut outputs = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some((name, delimiter)) = line.split_once("<<") {
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
                outputs.insert(name.to_string(), value.join("\n"));
            } else {
                let (name, value) = line.split_once('=').expect("name=value");
                assert!(outputs.insert(name.to_string(), value.to_string()).is_none(), "{name} set twice");
            }
        }
        outputs
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn annotations(o: &Output) -> Vec<String> {
    stderr(o).lines().filter(|l| l.starts_with("::")).map(String::from).collect()
}

#[test]
fn a_failing_compare_writes_summary_outputs_and_error_annotations() {
    let runner = Runner::new();
    let out = runner.compare(
        "current-regressed.json",
        "perf_thresholds.yml",
        &["--format", "json", "--report", "json=report.json", "--badge", "perf.svg"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // stdout is only the report asked for: annotations go to stderr.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report alone");
    assert_eq!(report["status"], "FAIL");

    assert_eq!(
        annotations(&out),
        [
            "::error title=perfcert%3A latency_p95_write FAIL::410 ms -> 486 ms: +18.54%25 > +10%25",
            "::error title=perfcert%3A error_rate FAIL::0.15%25 -> 0.41%25: +0.26 pp > +0.2 pp",
            "::error title=perfcert%3A throughput FAIL::10900 req/min -> 10050 req/min: -7.8%25 < -5%25",
            "::error title=perfcert%3A cpu_utilization FAIL::58%25 -> 66.2%25: +14.14%25 > +10%25",
        ]
    );

    let summary = runner.summary().expect("step summary written");
    assert!(
        summary.starts_with("<!-- perfcert:report -->\n### ❌ perfcert FAIL: 4 of 6 gated metrics failed"),
        "{summary}"
    );
    assert!(
        summary.contains("| `latency_p95_write` | 410 ms | 486 ms | +18.54% | +10% | <= 600 ms | ❌ FAIL |"),
        "{summary}"
    );

    let outputs = runner.outputs();
    let expected: BTreeMap<String, String> = [
        ("status", "FAIL"),
        ("summary", "FAIL: 4 of 6 gated metrics failed (1 untracked)"),
        ("gated", "6"),
        ("failed", "4"),
        ("waived", "0"),
        ("report-json", "report.json"),
        ("badge", "perf.svg"),
        ("badge-json", "perf.json"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(outputs, expected);
    for file in ["report.json", "perf.svg", "perf.json"] {
        assert!(runner.path(file).is_file(), "{file} named in the outputs exists");
    }
}

#[test]
fn waived_metrics_and_expired_waivers_are_warnings_and_pass_has_no_errors() {
    let runner = Runner::new();
    let out = runner.compare("current.json", "fixtures/perf004/waivers.yml", &[], &[]);
    let notes = annotations(&out);
    assert!(notes.iter().all(|l| !l.starts_with("::error")), "{notes:?}");
    assert!(notes.iter().any(|l| l.starts_with("::warning title=perfcert::") && l.contains("expired")), "{notes:?}");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(runner.outputs()["status"], "PASS");

    let runner = Runner::new();
    let out = runner.compare("current-regressed.json", "fixtures/perf004/waivers.yml", &[], &[]);
    let notes = annotations(&out);
    assert!(
        notes.iter().any(|l| l.starts_with("::warning title=perfcert%3A cpu_utilization WAIVED::58%25 -> 66.2%25")),
        "{notes:?}"
    );
    assert_eq!(runner.outputs()["waived"], "1");
}

#[test]
fn existing_summary_and_outputs_are_appended_to_not_replaced() {
    let runner = Runner::new();
    std::fs::write(runner.path("step_summary.md"), "# Build\n\nearlier step\n").unwrap();
    std::fs::write(runner.path("output.txt"), "earlier=1\n").unwrap();
    let out = runner.compare("current.json", "perf_thresholds.yml", &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = runner.summary().unwrap();
    assert!(
        summary.starts_with("# Build\n\nearlier step\n<!-- perfcert:report -->\n### ✅ perfcert PASS"),
        "{summary}"
    );
    let outputs = runner.outputs();
    assert_eq!((outputs["earlier"].as_str(), outputs["status"].as_str()), ("1", "PASS"));
    assert!(annotations(&out).is_empty(), "a clean PASS annotates nothing: {}", stderr(&out));
}

#[test]
fn nothing_is_written_when_told_not_to_or_off_the_runner() {
    for (extra, env) in [
        (&["--no-github"][..], &[][..]),
        (&[][..], &[("PERFCERT_NO_GITHUB", "1")][..]),
        (&[][..], &[("GITHUB_ACTIONS", "false")][..]),
    ] {
        let runner = Runner::new();
        let out = runner.compare("current-regressed.json", "perf_thresholds.yml", extra, env);
        assert_eq!(out.status.code(), Some(1));
        assert!(runner.summary().is_none() && runner.outputs().is_empty(), "{extra:?} {env:?}");
        assert!(annotations(&out).is_empty(), "{extra:?} {env:?}: {}", stderr(&out));
    }
    // PERFCERT_NO_GITHUB=0 / false does not turn it off.
    let runner = Runner::new();
    runner.compare("current.json", "perf_thresholds.yml", &[], &[("PERFCERT_NO_GITHUB", "false")]);
    assert_eq!(runner.outputs()["status"], "PASS");
}

#[test]
fn an_unwritable_output_file_is_a_warning_and_the_verdict_stands() {
    let runner = Runner::new();
    std::fs::create_dir(runner.path("output.txt")).unwrap();
    let out = runner.compare("current-regressed.json", "perf_thresholds.yml", &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("warning: GITHUB_OUTPUT ") && err.contains("cannot append"), "{err}");
    assert!(annotations(&out).iter().any(|l| l.starts_with("::warning title=perfcert::GITHUB_OUTPUT")), "{err}");
    assert!(runner.summary().is_some(), "the summary is still written");
}

#[test]
fn certify_and_verify_on_a_runner_name_the_certificate() {
    let runner = Runner::new();
    let keygen = runner.run(&["keygen"], &[]);
    assert_eq!(keygen.status.code(), Some(0), "{}", stderr(&keygen));
    let (b, c, t) = (fixture("baseline.json"), fixture("current.json"), policy());
    let args = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &t];
    let out = runner.run(&[&args[..], &["--badge", "perf.svg", "--quiet"]].concat(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "--quiet: {}", stderr(&out));

    let outputs = runner.outputs();
    assert_eq!(outputs["status"], "PASS");
    assert_eq!(outputs["signature"], "cosign-key");
    assert_eq!(outputs["badge"], "perf.svg");
    let cert = runner.path(&outputs["certificate"]);
    let bundle = runner.path(&outputs["bundle"]);
    assert!(outputs["certificate"].ends_with("/ingest-api-v1.4.2.cert.json") && cert.is_file(), "{outputs:?}");
    assert!(outputs["bundle"].ends_with("/ingest-api-v1.4.2.sigstore.json") && bundle.is_file(), "{outputs:?}");
    let summary = runner.summary().unwrap();
    assert!(
        summary.contains(&format!(
            "**Certified** ingest-api v1.4.2 PASS, signed cosign-key: `{}`",
            outputs["certificate"]
        )),
        "{summary}"
    );

    // A release manager's verify step reports to the same runner.
    std::fs::remove_file(runner.path("output.txt")).unwrap();
    let cert_arg = outputs["certificate"].clone();
    let out = runner.run(&["verify", &cert_arg, "--key", "cosign.pub"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let outputs = runner.outputs();
    assert_eq!((outputs["status"].as_str(), outputs["service"].as_str()), ("PASS", "ingest-api"));
    assert_eq!(outputs["version"], "v1.4.2");
    let summary = runner.summary().unwrap();
    assert!(summary.contains("### perfcert verify: authentic, PASS (ingest-api v1.4.2)"), "{summary}");
    assert!(summary.contains("| signature | OK: the in-toto statement is signed by the key cosign.pub |"), "{summary}");
}

#[test]
fn a_value_with_a_line_break_uses_the_delimiter_form() {
    // A report path with a newline in it: legal on Linux, and must not forge another output.
    let runner = Runner::new();
    let out = runner.compare("current.json", "perf_thresholds.yml", &["--report", "json=a\nstatus=FAIL"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let outputs = runner.outputs();
    assert_eq!(outputs["status"], "PASS");
    assert_eq!(outputs["report-json"], "a\nstatus=FAIL");
    assert!(Path::new(&runner.path("a\nstatus=FAIL")).is_file());
}

#[test]
fn an_unreachable_s3_fails_before_anything_is_certified() {
    let runner = Runner::new();
    assert_eq!(runner.run(&["keygen"], &[]).status.code(), Some(0));
    // Nothing listens on port 9 of the loopback: the check before signing fails at once.
    let aws = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_MAX_ATTEMPTS", "1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    let (b, c, t) = (fixture("baseline.json"), fixture("current.json"), policy());
    let args = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &t];
    let out = runner.run(&[&args[..], &["--upload", "s3://perf-certs/ingest"]].concat(), &aws);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("s3://perf-certs (at http://127.0.0.1:9): cannot reach S3"), "{}", stderr(&out));
    assert!(runner.outputs().is_empty(), "no verdict is reported for a run that certified nothing");
    assert!(!runner.path("perf").exists(), "nothing archived");
}
