//! The composite action (action.yml): its "Run perfcert" step's script, run by bash as the
//! runner runs it (`bash --noprofile --norc -eo pipefail`), with the step's `env:` resolved from
//! the inputs and their defaults as GitHub resolves `${{ inputs.NAME }}`, and perfcert (built by
//! cargo) on PATH as with `install: false`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use common::{PASSWORD, root, text, workdir, workdir_with_keys};
use serde_json::Value;

fn action() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).expect("action.yml is YAML")
}

fn run_step(action: &Value) -> &Value {
    let steps = action["runs"]["steps"].as_array().unwrap();
    steps.iter().find(|s| s["id"] == "run").expect("a step with id: run")
}

/// Runs the step in `dir` with these inputs (others take their defaults).
fn run(dir: &Path, inputs: &[(&str, &str)]) -> (Output, BTreeMap<String, String>) {
    let action = action();
    let step = run_step(&action);
    // `install: false`: the perfcert under test is on PATH instead of built by cargo install.
    let given: BTreeMap<&str, &str> = [("install", "false")].into_iter().chain(inputs.iter().copied()).collect();
    let declared = action["inputs"].as_object().unwrap();
    for name in given.keys() {
        assert!(declared.contains_key(*name), "the action has no input `{name}`");
    }
    let script = dir.join("step.sh");
    std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
    let runner_temp = dir.join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_perfcert")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());

    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script)
        .current_dir(dir)
        .env("PATH", path)
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("output.txt"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("NO_COLOR", "1")
        .env_remove("PERFCERT_NO_GITHUB");
    for (var, expression) in step["env"].as_object().unwrap() {
        let expression = expression.as_str().unwrap();
        let name = expression
            .strip_prefix("${{ inputs.")
            .and_then(|e| e.strip_suffix(" }}"))
            .unwrap_or_else(|| panic!("{var}: expected ${{{{ inputs.NAME }}}}, found {expression}"));
        let default = declared[name]["default"].as_str().unwrap_or_else(|| panic!("input {name} has a default"));
        cmd.env(var, given.get(name).copied().unwrap_or(default));
    }
    let out = cmd.output().unwrap();
    let outputs = std::fs::read_to_string(dir.join("output.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    (out, outputs)
}

/// The fixtures, copied into `dir` under names with a space, as a user's paths may have.
fn inputs(dir: &Path) -> [(&'static str, String); 3] {
    let copy = |from: &str, to: &str| {
        std::fs::copy(root().join(from), dir.join(to)).unwrap();
        to.to_string()
    };
    [
        ("baseline", copy("fixtures/perf004/baseline.json", "base line.json")),
        ("current", copy("fixtures/perf004/current-regressed.json", "current run.json")),
        ("thresholds", copy("perf_thresholds.yml", "perf thresholds.yml")),
    ]
}

#[test]
fn every_action_output_is_a_perfcert_step_output_of_the_same_name() {
    let action = action();
    for (name, output) in action["outputs"].as_object().unwrap() {
        assert_eq!(output["value"], format!("${{{{ steps.run.outputs.{name} }}}}"), "output {name}");
    }
}

#[test]
fn compare_fails_the_step_on_regression_unless_told_not_to() {
    let dir = workdir();
    let files = inputs(dir.path());
    let with: Vec<(&str, &str)> = files.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let (out, outputs) = run(dir.path(), &with);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(outputs["status"], "FAIL");
    assert!(text(&out).contains("::error title=perfcert%3A latency_p95_write FAIL::"), "{}", text(&out));

    std::fs::remove_file(dir.path().join("output.txt")).unwrap();
    let (out, outputs) = run(dir.path(), &[&with[..], &[("fail-on-regression", "false")]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!((outputs["status"].as_str(), outputs["failed"].as_str()), ("FAIL", "4"));
    let action = action();
    for name in ["summary", "report-json", "report-markdown", "badge", "badge-json"] {
        assert!(action["outputs"].get(name).is_some(), "the action exposes {name}");
        assert!(outputs.contains_key(name), "perfcert set {name}: {outputs:?}");
    }
    for name in ["report-json", "report-markdown", "badge", "badge-json"] {
        assert!(Path::new(&outputs[name]).is_file(), "{name} = {} exists", outputs[name]);
    }
    let comment = std::fs::read_to_string(&outputs["report-markdown"]).unwrap();
    assert!(comment.starts_with("<!-- perfcert:report -->\n"), "the PR comment body carries the marker");
}

#[test]
fn certify_signs_with_a_key_and_takes_one_approver_per_line() {
    let dir = workdir_with_keys();
    let mut files = inputs(dir.path());
    files[1].1 = {
        std::fs::copy(root().join("fixtures/perf004/current.json"), dir.path().join("current pass.json")).unwrap();
        "current pass.json".into()
    };
    let mut with: Vec<(&str, &str)> = files.iter().map(|(k, v)| (*k, v.as_str())).collect();
    with.extend([
        ("command", "certify"),
        ("key", "cosign.key"),
        ("approvers", "qa-lead\nsre lead\n"),
        ("version", "v1.4.2-rc.1"),
        ("archive-dir", "certs"),
    ]);
    let (out, outputs) = run(dir.path(), &with);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(outputs["status"], "PASS");
    assert!(
        outputs["certificate"].starts_with("certs/")
            && outputs["certificate"].ends_with("/ingest-api-v1.4.2-rc.1.cert.json")
    );
    let cert: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(&outputs["certificate"])).unwrap()).unwrap();
    assert_eq!(cert["approvers"], serde_json::json!(["qa-lead", "sre lead"]));
    assert_eq!(cert["signature"], "cosign-key");
    assert!(dir.path().join(&outputs["bundle"]).is_file());
}

#[test]
fn an_unknown_command_is_refused_before_running_anything() {
    let dir = workdir();
    let (out, outputs) = run(dir.path(), &[("command", "verify --key x; touch pwned")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("::error title=perfcert::input command: expected compare or certify"),
        "{}",
        text(&out)
    );
    assert!(outputs.is_empty() && !dir.path().join("pwned").exists());
}
