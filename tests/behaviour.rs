//! End-to-end behaviour of the binary that the data-driven cases in `tests/cmd` cannot express:
//! files written by `--output` / `--report`, `init`, a closed stdout, colour on a real terminal.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{command, fixture, policy, root, workdir};

/// The binary with colour left to it: `NO_COLOR` unset, as the colour tests need.
fn perfcert(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).env_remove("NO_COLOR").output().expect("run perfcert")
}

fn compare_args<'a>(baseline: &'a str, current: &'a str, thresholds: &'a str) -> Vec<&'a str> {
    vec!["compare", "--baseline", baseline, "--current", current, "--thresholds", thresholds, "--as-of", "2026-06-01"]
}

#[test]
fn reports_from_one_run_agree_with_each_other() {
    let dir = workdir();
    let (b, c, t) = (fixture("baseline.json"), fixture("current-regressed.json"), policy());
    let mut args = compare_args(&b, &c, &t);
    args.extend([
        "--format",
        "json",
        "--output",
        "main.json",
        "--report",
        "markdown=pr.md",
        "--report",
        "junit=out/x.xml",
    ]);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let out = perfcert(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "the report went to --output, not stdout");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim(), "FAIL: 4 of 6 gated metrics failed (1 untracked)");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("main.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "FAIL");
    assert_eq!(json["summary"]["failed"], 4);
    let md = std::fs::read_to_string(dir.path().join("pr.md")).unwrap();
    assert!(md.starts_with("<!-- perfcert:report -->\n### ❌ perfcert FAIL: 4 of 6"), "{md}");
    let junit = std::fs::read_to_string(dir.path().join("out/x.xml")).unwrap();
    assert_eq!(junit.matches("<failure ").count(), 4);
    // No temporary files are left beside the reports.
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["main.json", "out", "pr.md"]);
}

#[test]
fn report_to_a_missing_directory_is_an_input_error_that_names_it() {
    let dir = workdir();
    let (b, c) = (fixture("baseline.json"), fixture("current.json"));
    let t = policy();
    let mut args = compare_args(&b, &c, &t);
    args.extend(["--report", "json=no/such/dir/r.json"]);
    let out = perfcert(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: no/such/dir/r.json: cannot write the report: not found\n"
    );
}

#[test]
fn defaults_work_in_a_results_folder() {
    let dir = workdir();
    std::fs::copy(fixture("baseline.json"), dir.path().join("baseline.json")).unwrap();
    std::fs::copy(fixture("current.json"), dir.path().join("current.json")).unwrap();
    let init = perfcert(dir.path(), &["init"]);
    assert_eq!(init.status.code(), Some(0));
    let out = perfcert(dir.path(), &["compare"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.ends_with("PASS: 6 gated metrics within limits\n"), "{stdout}");
}

#[test]
fn init_writes_the_documented_policy_once() {
    let dir = workdir();
    let out = perfcert(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(dir.path().join("perf_thresholds.yml")).unwrap();
    assert_eq!(written, std::fs::read_to_string(root().join("perf_thresholds.yml")).unwrap());
    let policy = perfcert::policy::parse("perf_thresholds.yml", &written).unwrap();
    let names: Vec<&str> = policy.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["latency_p95_read", "latency_p95_write", "error_rate", "throughput", "cpu_utilization", "cost_per_1000_req"]
    );

    std::fs::write(dir.path().join("perf_thresholds.yml"), "metrics: { mine: { max: 1 } }\n").unwrap();
    let again = perfcert(dir.path(), &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("perf_thresholds.yml")).unwrap(),
        "metrics: { mine: { max: 1 } }\n",
        "init must never overwrite"
    );

    let printed = perfcert(dir.path(), &["init", "--output", "-"]);
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), written);
}

#[test]
fn a_closed_stdout_does_not_change_the_verdict() {
    let (b, c) = (fixture("baseline.json"), fixture("current-regressed.json"));
    let t = policy();
    for format in ["table", "json"] {
        let mut args = compare_args(&b, &c, &t);
        args.extend(["--format", format]);
        let mut child = command(&root()).args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take()); // the reader goes away, like `| head -0`
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(!stderr.contains("error") && !stderr.contains("panicked"), "{format}: {stderr}");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_without_no_color() {
    let (b, c) = (fixture("baseline.json"), fixture("current-regressed.json"));
    let t = policy();
    let args = compare_args(&b, &c, &t);
    let has_ansi = |out: &Output| out.stdout.contains(&0x1b);

    assert!(!has_ansi(&perfcert(&root(), &args)), "piped output is plain by default");
    let mut always = args.clone();
    always.extend(["--color", "always"]);
    assert!(has_ansi(&perfcert(&root(), &always)));
    let mut to_file = always.clone();
    let dir = workdir();
    let file = dir.path().join("r.txt").display().to_string();
    to_file.extend(["--output", &file]);
    perfcert(&root(), &to_file);
    assert!(!std::fs::read(&file).unwrap().contains(&0x1b), "files never get colour");

    // A real terminal, through util-linux `script`, which gives the command a pty.
    let command: Vec<String> =
        std::iter::once(env!("CARGO_BIN_EXE_perfcert").to_string()).chain(args.iter().map(|a| a.to_string())).collect();
    let on_tty = |no_color: Option<&str>| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &command.join(" "), "/dev/null"]).env("TERM", "xterm").env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        cmd.output().expect("util-linux `script` is needed for the terminal test")
    };
    let tty = on_tty(None);
    assert_eq!(tty.status.code(), Some(1));
    assert!(has_ansi(&tty), "a terminal gets colour: {}", String::from_utf8_lossy(&tty.stdout));
    assert!(!has_ansi(&on_tty(Some("1"))), "NO_COLOR turns it off on a terminal");
}

#[test]
fn a_report_to_a_device_is_written_not_replaced() {
    let dir = workdir();
    let (b, c) = (fixture("baseline.json"), fixture("current.json"));
    let t = policy();
    let mut args = compare_args(&b, &c, &t);
    args.extend(["--output", "/dev/null", "--report", "json=/dev/null"]);
    let out = perfcert(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(!meta.is_file(), "/dev/null must still be a device");

    let mut over_dir = compare_args(&b, &c, &t);
    over_dir.extend(["--output", "."]);
    let out = perfcert(dir.path(), &over_dir);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: .: cannot write the report: is a directory; expected a file\n"
    );
}

#[test]
fn the_readme_quick_start_output_is_what_the_binary_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start =
        readme.find("and prints:\n\n```text\n").expect("quick-start output block") + "and prints:\n\n```text\n".len();
    let expected = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = perfcert(
        &root(),
        &["compare", "--baseline", "fixtures/perf004/baseline.json", "--current", "fixtures/perf004/current.json"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn progress_bar_only_on_a_terminal() {
    let raw = root().join("fixtures/k6/full/k6-current-raw.ndjson.gz").display().to_string();
    let summary = root().join("fixtures/k6/full/k6-baseline-summary-export.json").display().to_string();
    let policy = root().join("fixtures/k6/perf_thresholds.yml").display().to_string();
    let args = ["compare", "--baseline", &summary, "--current", &raw, "--thresholds", &policy];
    // Draw from the start rather than after a second, so that a small fixture shows it.
    let piped = command(&root()).args(args).env("PERFCERT_PROGRESS_DELAY_MS", "0").output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("reading"), "no bar in a log");

    let command = std::iter::once(env!("CARGO_BIN_EXE_perfcert")).chain(args).collect::<Vec<_>>().join(" ");
    let tty = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .env("PERFCERT_PROGRESS_DELAY_MS", "0")
        .output()
        .expect("util-linux `script` is needed for the terminal test");
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(screen.contains("reading k6-current-raw.ndjson.gz  ["), "{screen}");
    assert!(screen.contains("\r\x1b[2K"), "the bar is erased when done: {screen:?}");
    assert_eq!(tty.status.code(), Some(1), "the bar does not change the verdict");
}
