//! The example workflows as a new user copies them: perf-production.yml's baseline-finding steps
//! run in bash (as GitHub runs them: `bash -eo pipefail`) with stand-ins for `aws` (a listing and
//! copies from a directory), `perfcert` (verify passes a PASS record, collect writes a file) and
//! `date +%s` (a fixed now); and the rules test-perf.yml and the README must keep.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflow(name: &str) -> Value {
    let path = root().join(".github/workflows").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

fn steps<'a>(wf: &'a Value, job: &str) -> &'a Vec<Value> {
    wf["jobs"][job]["steps"].as_array().unwrap_or_else(|| panic!("job {job} has no steps"))
}

fn step<'a>(wf: &'a Value, job: &str, id: &str) -> &'a Value {
    steps(wf, job).iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("job {job} has no step with id {id}"))
}

fn ts(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).expect("a valid time").to_string()
}

fn ts_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).expect("a valid time").to_string()
}

/// A bake record as the archive holds it (only what the steps read).
fn record(version: &str, status: &str, judged_to: &str) -> Value {
    json!({ "schema": 1, "service": "ingest-api", "version": version, "status": status,
            "window": { "from": "2026-01-01T00:00:00Z", "judged_to": judged_to } })
}

struct Ran {
    code: Option<i32>,
    outputs: String,
    stdout: String,
    perfcert_log: String,
    dir: tempfile::TempDir,
}

impl Ran {
    fn output(&self, name: &str) -> Option<String> {
        self.outputs.lines().find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_string))
    }
}

const AWS: &str = r#"#!/bin/bash
# aws s3 ls URL --recursive | aws s3 cp --quiet s3://BUCKET/KEY DEST
case "$1 $2" in
  "s3 ls") [ -s "$STUB/listing.txt" ] || exit 1; cat "$STUB/listing.txt" ;;
  "s3 cp") src=${4#s3://}; cp "$STUB/bucket/${src#*/}" "$5" ;;
  *) echo "aws stand-in: unexpected $*" >&2; exit 99 ;;
esac
"#;

const PERFCERT: &str = r#"#!/bin/bash
echo "$*" >> "$STUB/perfcert.log"
case $1 in
  verify) jq -e '.status == "PASS"' "$2" > /dev/null ;;
  collect) while [ $# -gt 0 ]; do [ "$1" = --output ] && echo '{}' > "$2"; shift; done ;;
  *) echo "perfcert stand-in: unexpected $*" >&2; exit 99 ;;
esac
"#;

const DATE: &str = r#"#!/bin/bash
if [ "$*" = "+%s" ]; then echo "$FAKE_NOW"; else PATH=${PATH#*:} exec date "$@"; fi
"#;

/// Runs the `run:` of step `id` in `job` of perf-production.yml in a fresh directory with the
/// workflow's env, `env`, and an archive of `records` (newest first: (key under the bucket, record)).
/// Whether jq (which the workflow's scripts use, as GitHub's runners have it) is here: without
/// it a test says it was skipped, and fails under `CI` (scripts/test.sh installs it as root).
#[allow(clippy::print_stderr)] // the loud skip is for the person running the tests
fn have_jq() -> bool {
    let found = Command::new("jq").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "jq is missing: run the suite with scripts/test.sh");
        eprintln!("SKIPPED: jq is not installed (scripts/test.sh installs it when run as root)");
    }
    found
}

fn run_step(job: &str, id: &str, env: &[(&str, &str)], records: &[(&str, Value)], now: i64) -> Ran {
    let wf = workflow("perf-production.yml");
    let script = step(&wf, job, id)["run"].as_str().expect("the step has a run:").to_string();
    let dir = tempfile::tempdir().expect("a temp dir");
    let stub = dir.path().join("stub");
    let work = dir.path().join("work");
    std::fs::create_dir_all(stub.join("bin")).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    for (name, text) in [("aws", AWS), ("perfcert", PERFCERT), ("date", DATE)] {
        let path = stub.join("bin").join(name);
        std::fs::write(&path, text).unwrap();
        Command::new("chmod").arg("+x").arg(&path).status().expect("chmod runs");
    }
    let mut listing = String::new();
    for (i, (key, rec)) in records.iter().enumerate() {
        // `aws s3 ls` prints the last-modified time first: newest first after `sort -r`.
        let modified = ts(now - 60 * i as i64).replace('T', " ").replace('Z', "");
        let bundle = key.replace(".verify.json", ".verify.sigstore.json");
        for k in [key.to_string(), bundle] {
            let path = stub.join("bucket").join(&k);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let body = if k == *key { rec.to_string() } else { "{}".to_string() };
            std::fs::write(&path, &body).unwrap();
            listing.push_str(&format!("{modified} {:>10} {k}\n", body.len()));
        }
    }
    std::fs::write(stub.join("listing.txt"), listing).unwrap();
    let outputs = dir.path().join("github_output");
    std::fs::write(&outputs, "").unwrap();
    let path = format!("{}:{}", stub.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script]).current_dir(&work);
    for (k, v) in wf["env"].as_object().expect("a workflow env") {
        if let Some(v) = v.as_str().filter(|v| !v.contains("${{")) {
            cmd.env(k, v);
        }
    }
    cmd.env("SERVICE", "ingest-api")
        .env("SIGNER", "https://github.com/acme/ingest/.github/workflows/perf-production.yml@refs/heads/main")
        .env("GITHUB_OUTPUT", &outputs)
        .env("STUB", &stub)
        .env("FAKE_NOW", now.to_string())
        .env("PATH", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    Ran {
        code: out.status.code(),
        outputs: std::fs::read_to_string(&outputs).unwrap(),
        stdout: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        perfcert_log: std::fs::read_to_string(stub.join("perfcert.log")).unwrap_or_default(),
        dir,
    }
}

fn chosen(ran: &Ran) -> Value {
    let rel = ran.output("record").unwrap_or_else(|| panic!("no record chosen: {}\n{}", ran.outputs, ran.stdout));
    let text = std::fs::read_to_string(ran.dir.path().join("work").join(&rel)).expect("the chosen record was copied");
    serde_json::from_str(&text).expect("JSON")
}

fn archive_prefix() -> String {
    let wf = workflow("perf-production.yml");
    let archive = wf["env"]["ARCHIVE"].as_str().expect("env.ARCHIVE").to_string();
    // The key prefix inside the bucket (`aws s3 ls --recursive` prints keys from the bucket's root).
    let rest = archive.strip_prefix("s3://").expect("an s3:// archive");
    match rest.split_once('/') {
        Some((_, prefix)) => format!("{}/", prefix.trim_end_matches('/')),
        None => String::new(),
    }
}

#[test]
fn drift_skips_a_bake_record_whose_window_ends_after_the_range_judged() {
    if !have_jq() {
        return;
    }
    let now = 1_796_040_123; // 2026-11-30T12:02:03Z
    let to = now / 300 * 300;
    let from = to - 3600;
    let p = archive_prefix();
    let records = [
        // The bake that just ended: it overlaps the hour judged, drift would refuse it (exit 2).
        (format!("{p}daily/20261130/ingest-api-v1.4.2.verify.json"), record("v1.4.2", "PASS", &ts(from + 1800))),
        // Half a second after --from is after it.
        (
            format!("{p}daily/20261130/ingest-api-v1.4.1.verify.json"),
            record("v1.4.1", "PASS", &ts_ms(from * 1000 + 500)),
        ),
        // Not PASS: verify refuses it.
        (format!("{p}daily/20261129/ingest-api-v1.4.0.verify.json"), record("v1.4.0", "FAIL", &ts(from - 600))),
        // Ends exactly at --from: the baseline.
        (format!("{p}daily/20261129/ingest-api-v1.3.9.verify.json"), record("v1.3.9", "PASS", &ts(from))),
    ];
    let records: Vec<(&str, Value)> = records.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let ran = run_step("drift", "baseline", &[], &records, now);
    assert_eq!(ran.code, Some(0), "{}", ran.stdout);
    assert_eq!(chosen(&ran)["version"], "v1.3.9", "{}", ran.stdout);
    assert_eq!(ran.output("from"), Some(from.to_string()));
    assert_eq!(ran.output("to"), Some(to.to_string()));
    // The overlapping records were not even verified.
    assert_eq!(ran.perfcert_log.lines().count(), 2, "{}", ran.perfcert_log);
}

#[test]
fn bake_skips_its_own_version_by_the_record_not_the_name_and_records_after_the_deploy() {
    if !have_jq() {
        return;
    }
    let now = 1_796_040_123;
    let p = archive_prefix();
    let deployed = "2026-11-30T11:00:00Z";
    let records = [
        // A bake of v1.3 that ended after this deploy: bake would refuse it.
        (format!("{p}daily/20261130/ingest-api-v1.3.verify.json"), record("v1.3", "PASS", "2026-11-30T11:00:01Z")),
        // v1.4's second bake is named like v1.4.2's first: its version says which it is.
        (format!("{p}daily/20261129/ingest-api-v1.4.2.verify.json"), record("v1.4", "PASS", "2026-11-29T12:00:00Z")),
        (format!("{p}daily/20261129/ingest-api-v1.4.verify.json"), record("v1.4", "PASS", "2026-11-29T11:00:00Z")),
        // The last stable release: another version whose name starts with this one's.
        (format!("{p}daily/20261128/ingest-api-v1.4.2.verify.json"), record("v1.4.2", "PASS", "2026-11-28T10:30:00Z")),
        (format!("{p}daily/20261127/ingest-api-v1.2.verify.json"), record("v1.2", "PASS", "2026-11-27T10:30:00Z")),
    ];
    let records: Vec<(&str, Value)> = records.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let env = [("VERSION", "v1.4"), ("DEPLOYED_AT", deployed)];
    let ran = run_step("bake", "baseline", &env, &records, now);
    assert_eq!(ran.code, Some(0), "{}", ran.stdout);
    assert_eq!(chosen(&ran)["version"], "v1.4.2", "{}", ran.stdout);
    // deployed-at as unix seconds is read the same way.
    let env = [("VERSION", "v1.4"), ("DEPLOYED_AT", "1796036400")];
    let ran = run_step("bake", "baseline", &env, &records, now);
    assert_eq!(chosen(&ran)["version"], "v1.4.2", "{}", ran.stdout);
}

#[test]
fn a_first_bake_collects_its_baseline_from_the_stable_window_given() {
    if !have_jq() {
        return;
    }
    let now = 1_796_040_123;
    let env = [
        ("VERSION", "v1.0.0"),
        ("DEPLOYED_AT", "2026-11-30T11:00:00Z"),
        ("BASELINE_FROM", "2026-11-30T08:00:00Z"),
        ("BASELINE_TO", "2026-11-30T10:00:00Z"),
    ];
    let ran = run_step("bake", "baseline", &env, &[], now);
    assert_eq!(ran.code, Some(0), "{}", ran.stdout);
    assert_eq!(ran.output("record").as_deref(), Some("baseline/stable.json"));
    assert!(
        ran.perfcert_log.contains(
            "collect --service ingest-api --from 2026-11-30T08:00:00Z --to 2026-11-30T10:00:00Z --output baseline/stable.json"
        ),
        "{}",
        ran.perfcert_log
    );
    assert!(ran.dir.path().join("work/baseline/stable.json").is_file());
    // Without the window, no baseline: exit 2 naming the inputs.
    let ran = run_step("bake", "baseline", &env[..2], &[], now);
    assert_eq!(ran.code, Some(2), "{}", ran.stdout);
    assert!(ran.stdout.contains("baseline-from and baseline-to"), "{}", ran.stdout);
    // The inputs exist on the dispatch.
    let wf = workflow("perf-production.yml");
    for input in ["baseline-from", "baseline-to"] {
        assert!(wf["on"]["workflow_dispatch"]["inputs"][input].is_object(), "no input {input}");
    }
}

#[test]
fn the_bake_job_notifies_the_archived_record_from_bake_itself() {
    let wf = workflow("perf-production.yml");
    let job = &wf["jobs"]["bake"];
    let text = |s: &Value| s["run"].as_str().unwrap_or_default().to_string();
    let bake = steps(&wf, "bake").iter().find(|s| text(s).contains("perfcert bake --")).expect("a bake step");
    assert!(text(bake).contains("--notify slack,jira"), "{}", text(bake));
    assert!(bake["env"]["PERFCERT_SLACK_WEBHOOK_URL"].is_string(), "the secrets in the bake step's env");
    assert!(job["env"].is_null(), "no secrets in the job's env");
    for s in steps(&wf, "bake") {
        assert!(!text(s).contains("perfcert notify perf_verification.json"), "a runner's path notified: {}", text(s));
    }
}

#[test]
fn both_workflows_use_one_archive() {
    let prod = workflow("perf-production.yml");
    let archive = prod["env"]["ARCHIVE"].as_str().expect("env.ARCHIVE");
    let perf = workflow("test-perf.yml");
    let uploads: Vec<&str> = perf["jobs"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|j| j["steps"].as_array().into_iter().flatten())
        .filter_map(|s| s["with"]["upload"].as_str())
        .collect();
    assert!(!uploads.is_empty(), "test-perf.yml uploads a certificate");
    for u in uploads {
        assert_eq!(u.trim_end_matches('/'), archive.trim_end_matches('/'));
    }
}

#[test]
fn test_perf_builds_perfcert_once() {
    let wf = workflow("test-perf.yml");
    let mut checked = 0;
    for job in wf["jobs"].as_object().unwrap().values() {
        let mut installed = false;
        for s in job["steps"].as_array().into_iter().flatten() {
            if s["run"].as_str().is_some_and(|r| r.contains("cargo install") && r.contains("GITHUB_PATH")) {
                installed = true;
            }
            if s["uses"] == "./" && installed {
                checked += 1;
                assert_eq!(s["with"]["install"], "false", "step {} builds perfcert again", s["name"]);
            }
        }
    }
    assert!(checked >= 3, "only {checked} action steps after the install");
}

/// The identifier (`[a-z0-9_]`) that follows each `prefix` in `text`.
fn names_after<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn the_readme_examples_name_metrics_the_policy_has() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let policy: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root().join("perf_thresholds.yml")).unwrap()).unwrap();
    let metrics: BTreeSet<&str> = policy["metrics"].as_object().expect("metrics:").keys().map(String::as_str).collect();
    let mut found = 0;
    for prefix in ["rollback: { metric: ", "SLO breach, ", "`SLO breach (", "`ROLLBACK (", "direction from metrics."] {
        for name in names_after(&readme, prefix) {
            found += 1;
            assert!(metrics.contains(name), "README: `{prefix}{name}`: perf_thresholds.yml has no metric {name}");
        }
    }
    assert!(found >= 5, "only {found} metric names found");
    // The record a runner throws away is no baseline to suggest.
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!flat.contains("--baseline perf_verification.json"), "README suggests --baseline perf_verification.json");
    // Notify examples use the default archive's layout.
    assert!(!readme.contains("perf/daily/"), "README: perf/daily/ is not the default archive's layout");
}

#[test]
fn the_readme_usage_lists_every_command_and_the_governance_flags() {
    use clap::CommandFactory;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let usage = readme.split("perfcert compare [--baseline FILE]").nth(1).expect("the Usage block");
    let usage = &usage[..usage.find("```").expect("its end")];
    let cli = perfcert::cli::Cli::command();
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        assert!(name == "compare" || usage.contains(&format!("perfcert {name}")), "Usage lacks perfcert {name}");
    }
    // Each command's lines: from `perfcert NAME` to the next `perfcert `.
    let lines_of = |name: &str| -> String {
        let at = usage.find(&format!("perfcert {name} ")).unwrap_or_else(|| panic!("Usage lacks perfcert {name}"));
        let rest = &usage[at + 9..];
        rest[..rest.find("\nperfcert ").unwrap_or(rest.len())].to_string()
    };
    for (name, flags) in [
        ("verify", &["--approvals"][..]),
        ("init", &["--approvals"]),
        ("approve", &["--role", "--decision", "--keyless", "--certificate-key"]),
        ("notify", &["--to", "--drift-report", "--link"]),
        ("bake", &["--keyless", "--upload", "--codedeploy-deployment-id", "--notify"]),
        ("drift", &["--notify"]),
    ] {
        let lines = lines_of(name);
        for flag in flags {
            assert!(lines.contains(flag), "Usage of perfcert {name} lacks {flag}:\n{lines}");
        }
    }
}

#[test]
fn the_readme_documents_the_bake_jira_label() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("`perf-bake`"), "README does not name the Jira label perf-bake");
}
