//! Backdated decisions: certify decides today's release, so it refuses an `--as-of` other than
//! today (UTC): judged on 1900-01-01, every waiver is still active and today's FAIL would be
//! signed as a PASS. compare and `verify --recompute` keep the date to re-run a recorded
//! decision, and verify says which day it recomputed on. The GitHub Action passes its `as-of`
//! input to compare only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    root().join("fixtures/perf004").join(name).display().to_string()
}

fn today() -> String {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

fn perfcert(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfcert"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PERFCERT_NO_GITHUB", "1")
        .env("COSIGN_PASSWORD", "pw")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A working directory with a key pair.
fn keyed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = perfcert(dir.path(), &["keygen"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    dir
}

/// certify --key on the regressed run under the waivers policy, with these extra flags.
fn certify(dir: &Path, extra: &[&str]) -> Output {
    let (b, c, t) = (fixture("baseline.json"), fixture("current-regressed.json"), fixture("waivers.yml"));
    let mut args = vec!["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &t];
    args.extend(["--version", "v1.4.3", "--format", "json"]);
    args.extend(extra);
    perfcert(dir, &args)
}

#[test]
fn certify_refuses_any_day_but_today() {
    let dir = keyed();
    let d = dir.path();
    for day in ["1900-01-01", "2026-06-01", "2999-12-31"] {
        let out = certify(d, &["--as-of", day]);
        assert_eq!(out.status.code(), Some(2), "--as-of {day}: {}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(&format!("--as-of {day}: certify decides today's release")), "{said}");
        assert!(said.contains(&format!("as of today ({}, UTC)", today())), "{said}");
        assert!(said.contains("compare and verify --recompute"), "says where --as-of belongs: {said}");
        assert!(out.stdout.is_empty(), "no certificate: {}", text(&out));
        assert!(!d.join("perf").exists(), "nothing archived for --as-of {day}");
    }
    // Today, said explicitly, is today: certified, and the certificate records it.
    let out = certify(d, &["--as-of", &today()]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cert: Value =
        serde_json::from_slice(&std::fs::read(d.join(printed["certificate"].as_str().unwrap())).unwrap()).unwrap();
    assert_eq!(cert["as_of"], today());
}

#[test]
fn compare_keeps_as_of_and_verify_recompute_says_the_day_it_used() {
    let dir = keyed();
    let d = dir.path();
    let (b, c, t) = (fixture("baseline.json"), fixture("current-regressed.json"), fixture("waivers.yml"));
    let compare = |day: &str| {
        let out = perfcert(
            d,
            &["compare", "--baseline", &b, "--current", &c, "--thresholds", &t, "-f", "json", "--as-of", day],
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        assert_eq!(report["as_of"], day);
        out.status.code()
    };
    assert!(compare("1900-01-01").is_some() && compare("2026-06-01").is_some(), "compare takes any day");

    let out = certify(d, &[]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cert = printed["certificate"].as_str().unwrap().to_string();
    let args = ["verify", &cert, "--key", "cosign.pub", "--recompute", "--baseline", &b, "--current", &c];
    let out = perfcert(d, &[&args[..], &["--thresholds", &t]].concat());
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let said = text(&out);
    let line = said.lines().find(|l| l.starts_with("recomputed")).unwrap_or_else(|| panic!("{said}"));
    assert!(line.contains(&format!("reproduced exactly (as of {})", today())), "{line}");
}

/// Runs the action's `run` step with these inputs (the others take their defaults).
fn action_step(dir: &Path, inputs: &[(&str, &str)]) -> (Output, BTreeMap<String, String>) {
    let action: Value = serde_saphyr::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap();
    let step = action["runs"]["steps"].as_array().unwrap().iter().find(|s| s["id"] == "run").unwrap().clone();
    let declared = action["inputs"].as_object().unwrap();
    let given: BTreeMap<&str, &str> = [("install", "false")].into_iter().chain(inputs.iter().copied()).collect();
    std::fs::write(dir.join("step.sh"), step["run"].as_str().unwrap()).unwrap();
    std::fs::create_dir_all(dir.join("runner-temp")).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_perfcert")).parent().unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "step.sh"])
        .current_dir(dir)
        .env("PATH", format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()))
        .env("RUNNER_TEMP", dir.join("runner-temp"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("output.txt"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("COSIGN_PASSWORD", "pw")
        .env("NO_COLOR", "1")
        .env_remove("PERFCERT_NO_GITHUB");
    for (var, expression) in step["env"].as_object().unwrap() {
        let name = expression.as_str().unwrap().trim_start_matches("${{ inputs.").trim_end_matches(" }}");
        let default = declared[name]["default"].as_str().unwrap_or_default();
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

#[test]
fn the_action_passes_as_of_to_compare_only() {
    let dir = keyed();
    let d = dir.path();
    let (b, c, t) = (fixture("baseline.json"), fixture("current.json"), root().join("perf_thresholds.yml"));
    let t = t.display().to_string();
    let files = [("baseline", b.as_str()), ("current", c.as_str()), ("thresholds", t.as_str())];
    let with_day = |command: &str| -> Vec<(&str, String)> {
        let mut inputs: Vec<(&str, String)> = files.iter().map(|(k, v)| (*k, v.to_string())).collect();
        inputs.extend([("command", command.to_string()), ("as-of", "1900-01-01".to_string())]);
        inputs
    };

    let inputs = with_day("compare");
    let (out, outputs) = action_step(d, &inputs.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&std::fs::read(&outputs["report-json"]).unwrap()).unwrap();
    assert_eq!(report["as_of"], "1900-01-01", "compare got the input");

    std::fs::remove_file(d.join("output.txt")).unwrap();
    let mut inputs = with_day("certify");
    inputs.extend([("key", "cosign.key".into()), ("version", "v1.0.0".into()), ("archive-dir", "certs".into())]);
    let (out, outputs) = action_step(d, &inputs.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "certify is not given --as-of: {}", text(&out));
    let cert: Value = serde_json::from_slice(&std::fs::read(d.join(&outputs["certificate"])).unwrap()).unwrap();
    assert_eq!(cert["as_of"], today(), "certify decided as of today");
}
