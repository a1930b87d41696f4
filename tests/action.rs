//! The composite action (action.yml): its "Run perfcert" step's script, run by bash as the
//! runner runs it (`bash --noprofile --norc -eo pipefail`), with the step's `env:` resolved from
//! the inputs and their defaults as GitHub resolves `${{ inputs.NAME }}`, and perfcert (built by
//! cargo) on PATH as with `install: false`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    run_with(dir, inputs, Path::new(env!("CARGO_BIN_EXE_perfcert")).parent().unwrap())
}

/// [`run`], with the `perfcert` found first in `bin_dir`.
fn run_with(dir: &Path, inputs: &[(&str, &str)], bin_dir: &Path) -> (Output, BTreeMap<String, String>) {
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
fn inconclusive_fails_the_step_unless_told_not_to_and_says_how_many_runs_settle_it() {
    let dir = workdir();
    let copy = |name: &str| {
        std::fs::copy(root().join("fixtures/decision").join(name), dir.path().join(name)).unwrap();
        name.to_string()
    };
    let lines = |side: &str| (1..=3).map(|i| copy(&format!("{side}-{i}.json"))).collect::<Vec<_>>().join("\n");
    let (baseline, current, thresholds) = (lines("baseline"), lines("inconclusive"), copy("policy.yml"));
    let with = [("baseline", baseline.as_str()), ("current", current.as_str()), ("thresholds", thresholds.as_str())];

    let (out, outputs) = run(dir.path(), &with);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert_eq!((outputs["status"].as_str(), outputs["runs-needed"].as_str()), ("INCONCLUSIVE", "6"), "{outputs:?}");
    assert_eq!(outputs["look"], "1");
    // The output is the JSON report's top-level runs_needed.
    let report: Value = serde_json::from_slice(&std::fs::read(&outputs["report-json"]).unwrap()).unwrap();
    assert_eq!(report["runs_needed"].to_string(), outputs["runs-needed"]);

    std::fs::remove_file(dir.path().join("output.txt")).unwrap();
    let told = [&with[..], &[("fail-on-inconclusive", "false"), ("look", "2")]].concat();
    let (out, outputs) = run(dir.path(), &told);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("fail-on-inconclusive is false"), "{}", text(&out));
    assert_eq!((outputs["status"].as_str(), outputs["look"].as_str()), ("INCONCLUSIVE", "2"));

    // Settled: runs-needed is empty. (fail-on-inconclusive does not let a FAIL through.)
    std::fs::remove_file(dir.path().join("output.txt")).unwrap();
    let failing = lines("fail");
    let (out, outputs) =
        run(dir.path(), &[with[0], with[2], ("current", failing.as_str()), ("fail-on-inconclusive", "false")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!((outputs["status"].as_str(), outputs["runs-needed"].as_str()), ("FAIL", ""));
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

/// The arguments the step gives perfcert, logged by a stand-in `perfcert` on PATH.
fn args_given(dir: &Path, inputs: &[(&str, &str)]) -> Vec<String> {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("args.txt");
    let fake = bin.join("perfcert");
    std::fs::write(&fake, format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", log.display())).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (out, _) = run_with(dir, inputs, &bin);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::read_to_string(&log).unwrap().lines().map(str::to_string).collect()
}

/// The values of every `flag` in `args`.
fn values<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
    args.windows(2).filter(|w| w[0] == flag).map(|w| w[1].as_str()).collect()
}

#[test]
fn noise_testbed_and_duet_inputs_reach_perfcert_only_when_set() {
    let dir = workdir();
    let new_flags = ["--duet", "--testbed", "--baseline-testbed", "--current-testbed", "--noise-from", "--noise-key"];
    for command in ["compare", "certify"] {
        let args = args_given(dir.path(), &[("command", command)]);
        for flag in new_flags {
            assert!(!args.iter().any(|a| a == flag), "{command}: {flag} not passed when its input is empty: {args:?}");
        }
        assert_eq!(
            (values(&args, "--baseline"), values(&args, "--current")),
            (vec!["baseline.json"], vec!["current.json"])
        );

        let args = args_given(
            dir.path(),
            &[
                ("command", command),
                ("testbed", "ci large"),
                ("baseline-testbed", "old rack"),
                ("current-testbed", "new rack"),
                ("noise-from", "perf/certificates"),
                ("noise-key", "keys/perf cosign.pub"),
            ],
        );
        assert_eq!(values(&args, "--testbed"), ["ci large"], "{args:?}");
        assert_eq!(values(&args, "--baseline-testbed"), ["old rack"]);
        assert_eq!(values(&args, "--current-testbed"), ["new rack"]);
        assert_eq!(values(&args, "--noise-from"), ["perf/certificates"]);
        assert_eq!(values(&args, "--noise-key"), ["keys/perf cosign.pub"]);

        // Duet runs, one per line (shards of one run joined with +), replace baseline and current.
        let args = args_given(
            dir.path(),
            &[("command", command), ("duet", "duet 1.ndjson.gz\n\nduet-2a.ndjson+duet-2b.ndjson\n")],
        );
        assert_eq!(values(&args, "--duet"), ["duet 1.ndjson.gz", "duet-2a.ndjson+duet-2b.ndjson"], "{args:?}");
        assert!(values(&args, "--baseline").is_empty() && values(&args, "--current").is_empty(), "{args:?}");
        // A duet input of blank lines is no duet.
        let args = args_given(dir.path(), &[("command", command), ("duet", "\n  \n")]);
        assert!(values(&args, "--duet").is_empty() && values(&args, "--baseline") == ["baseline.json"], "{args:?}");
    }
}

#[test]
fn a_duet_and_a_testbed_through_the_action_reach_a_verdict() {
    let dir = workdir();
    let copy = |name: &str| {
        std::fs::copy(root().join("fixtures/duet").join(name), dir.path().join(name)).unwrap();
        name.to_string()
    };
    let duet = format!("{}\n{}\n", copy("slow-1.ndjson.gz"), copy("slow-2.ndjson.gz"));
    let policy = "metrics:\n  latency_p95: { max_increase: 10% }\ndecision: { method: statistical, alpha: 0.05 }\n\
                  duet: { slice: 1s, warmup: 1s }\n";
    std::fs::write(dir.path().join("duet policy.yml"), policy).unwrap();
    let (out, outputs) = run(dir.path(), &[("duet", duet.as_str()), ("thresholds", "duet policy.yml")]);
    assert_eq!(out.status.code(), Some(1), "the fixtures' known slowdown: {}", text(&out));
    assert_eq!(outputs["status"], "FAIL");
    let report: Value = serde_json::from_slice(&std::fs::read(&outputs["report-json"]).unwrap()).unwrap();
    let p95 = report["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "latency_p95").unwrap();
    assert_eq!(p95["method"], "paired-t", "{p95}");

    std::fs::remove_file(dir.path().join("output.txt")).unwrap();
    let files = inputs(dir.path());
    let with: Vec<(&str, &str)> = files.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (out, outputs) = run(dir.path(), &[&with[..], &[("testbed", "ci large")]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&std::fs::read(&outputs["report-json"]).unwrap()).unwrap();
    for side in ["baseline", "current"] {
        assert_eq!(report["inputs"][side]["fingerprint"]["testbed"], "ci large", "{}", report["inputs"]);
    }
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

// The "Install perfcert" step (scripts/action-install.sh), with stand-ins on PATH for what a
// GitHub-hosted runner has and this machine cannot reach: `gh`, serving releases from a folder
// and logging every call, and `cargo`, logging the fallback build.

const REPO: &str = "acme/perfcert";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const TAG: &str = "v9.9.9";
const ASSET: &str = "perfcert-v9.9.9-x86_64-unknown-linux-gnu.tar.gz";

const STAND_IN_GH: &str = r#"#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE/gh.log"
if [ "$1 $2" = "attestation verify" ]; then
  if [ "$3" = --help ]; then echo "      --source-digest string   Enforce that the source commit matches"; exit 0; fi
  [ "$(cat "$FAKE/attestation")" = verifies ]; exit
fi
if [ "$1" = api ]; then
  case "$2" in
    "repos/acme/perfcert/commits/v9.9.9") echo 0123456789abcdef0123456789abcdef01234567; exit 0 ;;
    "repos/acme/perfcert/tags") cat "$FAKE/tags"; exit 0 ;;
  esac
fi
if [ "$1 $2" = "release download" ]; then
  release="$FAKE/releases/$3"; shift 3; dir=; patterns=()
  while [ $# -gt 0 ]; do
    case "$1" in --dir) dir=$2 ;; --pattern) patterns+=("$2") ;; esac; shift 2
  done
  [ -d "$release" ] || { echo "release not found" >&2; exit 1; }
  for p in "${patterns[@]}"; do if [ -f "$release/$p" ]; then cp "$release/$p" "$dir/"; fi; done
  exit 0
fi
echo "stand-in gh: unexpected call: $*" >&2; exit 2
"#;

const STAND_IN_CARGO: &str = r#"#!/usr/bin/env bash
printf '%s\n' "$* (in $PWD)" >> "$FAKE/cargo.log"
while [ $# -gt 0 ]; do if [ "$1" = --root ]; then root=$2; fi; shift; done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "perfcert built from source"\n' > "$root/bin/perfcert"
chmod +x "$root/bin/perfcert"
"#;

/// A folder of stand-ins: `bin/` (gh, cargo), `releases/TAG/` (assets), `tags` (the tags on
/// COMMIT, one per line), `attestation` (`verifies` or not).
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, script) in [("gh", STAND_IN_GH), ("cargo", STAND_IN_CARGO)] {
            let path = bin.join(name);
            std::fs::write(&path, script).unwrap();
            chmod_x(&path);
        }
        std::fs::write(dir.path().join("tags"), format!("{TAG}\n")).unwrap();
        std::fs::write(dir.path().join("attestation"), "verifies").unwrap();
        let fake = Fake { dir };
        fake.release(|sums| sums);
        fake
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes release TAG: the tarball (a stand-in perfcert) and the SHA256SUMS `edit` makes of
    /// the right one.
    fn release(&self, edit: impl Fn(String) -> String) {
        let stage = self.path("stage");
        let top = stage.join(ASSET.trim_end_matches(".tar.gz"));
        std::fs::create_dir_all(&top).unwrap();
        std::fs::write(top.join("perfcert"), "#!/bin/sh\necho \"perfcert 9.9.9 from the release\"\n").unwrap();
        chmod_x(&top.join("perfcert"));
        let release = self.path("releases").join(TAG);
        std::fs::create_dir_all(&release).unwrap();
        let tar = Command::new("tar")
            .arg("-czf")
            .arg(release.join(ASSET))
            .arg("-C")
            .arg(&stage)
            .arg(top.file_name().unwrap())
            .status()
            .unwrap();
        assert!(tar.success());
        let bytes = std::fs::read(release.join(ASSET)).unwrap();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let sums = format!("{}  perfcert-v9.9.9-aarch64-apple-darwin.tar.gz\n{hex}  {ASSET}\n", "0".repeat(64));
        std::fs::write(release.join("SHA256SUMS"), edit(sums)).unwrap();
    }

    fn log(&self, tool: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{tool}.log"))).unwrap_or_default()
    }
}

fn chmod_x(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the action's install step as the runner does, for an action `uses: REPO@ref` (an empty
/// `repository`: `uses: ./`); returns its output and the perfcert it installed, if any.
fn install(fake: &Fake, repository: &str, action_ref: &str) -> (Output, Option<PathBuf>) {
    let action = action();
    let steps = action["runs"]["steps"].as_array().unwrap();
    let step = steps.iter().find(|s| s["id"] == "install").expect("a step with id: install");
    assert_eq!(step["if"], "inputs.install == 'true'");
    let script = fake.path("install-step.sh");
    std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
    let runner_temp = fake.path("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let path = format!("{}:{}", fake.path("bin").display(), std::env::var("PATH").unwrap_or_default());

    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script)
        .current_dir(fake.dir.path())
        .env("PATH", path)
        .env("FAKE", fake.dir.path())
        .env("RUNNER_TEMP", &runner_temp)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64");
    for (var, expression) in step["env"].as_object().unwrap() {
        let value = match expression.as_str().unwrap() {
            "${{ github.action_path }}" => root().display().to_string(),
            "${{ github.action_ref }}" => action_ref.to_string(),
            "${{ github.action_repository }}" => repository.to_string(),
            "${{ github.token }}" => "stand-in-token".to_string(),
            other => panic!("{var}: unexpected expression {other}"),
        };
        cmd.env(var, value);
    }
    let out = cmd.output().unwrap();
    let bin = runner_temp.join("perfcert/bin/perfcert");
    (out, bin.is_file().then_some(bin))
}

fn version(bin: &Path) -> String {
    String::from_utf8(Command::new(bin).output().unwrap().stdout).unwrap()
}

#[test]
fn install_takes_the_release_binary_of_the_pinned_commit_once_checksum_and_attestation_match() {
    for pinned in [COMMIT, TAG] {
        let fake = Fake::new();
        let (out, bin) = install(&fake, REPO, pinned);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(version(&bin.expect("installed")), "perfcert 9.9.9 from the release\n");
        let verify = fake.log("gh").lines().find(|l| l.starts_with("attestation verify /")).map(str::to_string);
        let verify = verify.expect("gh attestation verify ran on the asset");
        assert!(
            verify.ends_with(&format!(
                "{ASSET} --repo {REPO} --signer-workflow {REPO}/.github/workflows/release.yml \
                 --source-digest {COMMIT} --deny-self-hosted-runners"
            )),
            "pinned {pinned}: the attestation must name the pinned commit: {verify}"
        );
        assert_eq!(fake.log("cargo"), "", "nothing built");
    }
}

#[test]
fn install_fails_on_a_checksum_mismatch_and_installs_nothing() {
    let fake = Fake::new();
    // One hex digit changed in the asset's line.
    fake.release(|sums| {
        let (others, line) = sums.trim_end().rsplit_once('\n').unwrap();
        let flipped = if line.starts_with('0') { "1" } else { "0" };
        format!("{others}\n{flipped}{}\n", &line[1..])
    });
    let (out, bin) = install(&fake, REPO, COMMIT);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("::error title=perfcert::{ASSET}: its sha256 is ")), "{}", text(&out));
    assert!(bin.is_none());
    assert_eq!(fake.log("cargo"), "", "a mismatch is not papered over by a source build");
    assert!(!fake.log("gh").contains("attestation verify /"), "checked before the attestation");

    // A SHA256SUMS that does not list the asset is a mismatch too.
    fake.release(|sums| sums.lines().next().unwrap().to_string() + "\n");
    let (out, bin) = install(&fake, REPO, COMMIT);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("SHA256SUMS has no line for it"), "{}", text(&out));
    assert!(bin.is_none() && fake.log("cargo").is_empty());
}

#[test]
fn install_fails_when_the_attestation_does_not_verify() {
    let fake = Fake::new();
    std::fs::write(fake.path("attestation"), "does not verify").unwrap();
    let (out, bin) = install(&fake, REPO, COMMIT);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "::error title=perfcert::{ASSET}: no build-provenance attestation from {REPO}'s \
             .github/workflows/release.yml at commit {COMMIT} verifies it"
        )),
        "{}",
        text(&out)
    );
    assert!(bin.is_none());
    assert_eq!(fake.log("cargo"), "");
}

#[test]
fn install_builds_from_source_when_there_is_no_release_to_check() {
    // No release for the commit; a release without SHA256SUMS; a local action (`uses: ./`).
    type Setup = fn(&Fake);
    let cases: [(&str, Setup, &str); 3] = [
        ("no-tag", |f| std::fs::write(f.path("tags"), "").unwrap(), "no release of acme/perfcert for commit"),
        (
            "no-sums",
            |f| std::fs::remove_file(f.path("releases").join(TAG).join("SHA256SUMS")).unwrap(),
            "release v9.9.9 of acme/perfcert has no SHA256SUMS",
        ),
        ("local", |_| {}, "a local action (uses: ./) has no release"),
    ];
    for (case, setup, why) in cases {
        let fake = Fake::new();
        setup(&fake);
        let repository = if case == "local" { "" } else { REPO };
        let (out, bin) = install(&fake, repository, if case == "local" { "" } else { COMMIT });
        assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out));
        assert!(text(&out).contains(&format!("::notice title=perfcert::{why}")), "{case}: says why: {}", text(&out));
        assert_eq!(version(&bin.expect("installed")), "perfcert built from source\n", "{case}");
        let runner_temp = fake.path("runner-temp");
        assert_eq!(
            fake.log("cargo"),
            format!(
                "install --locked --quiet --path . --root {}/perfcert (in {})\n",
                runner_temp.display(),
                root().display()
            ),
            "{case}"
        );
    }
}
