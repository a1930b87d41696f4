//! The badge (parsed as XML), --quiet / --verbose, shell completions and man pages, through
//! the binary.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{fixture, keygen, perfcert, policy, text, workdir};

fn compare(dir: &Path, current: &str, extra: &[&str]) -> Output {
    let (b, c) = (fixture("baseline.json"), fixture(current));
    let t = policy();
    let mut args = vec!["compare", "--baseline", &b, "--current", &c, "--thresholds", &t, "--as-of", "2026-06-01"];
    args.extend(extra);
    perfcert(dir, &args)
}

/// What a viewer of the badge sees: size, colours, texts; and that it references nothing outside.
#[derive(Debug, PartialEq)]
struct Seen {
    width: f64,
    height: f64,
    title: String,
    fills: Vec<String>,
    texts: Vec<String>,
}

fn look_at(svg: &str) -> Seen {
    let doc = roxmltree::Document::parse(svg).expect("the badge is well-formed XML");
    let root = doc.root_element();
    assert_eq!((root.tag_name().namespace(), root.tag_name().name()), (Some("http://www.w3.org/2000/svg"), "svg"));
    let num = |n: roxmltree::Node, a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok());
    let width = num(root, "width").expect("a numeric width");
    for node in doc.descendants().filter(|n| n.is_element()) {
        for attr in node.attributes() {
            assert!(!attr.name().contains("href"), "no links: {}", attr.name());
            if let Some(url) = attr.value().strip_prefix("url(") {
                assert!(url.starts_with('#'), "only internal references: {}", attr.value());
            }
        }
        assert!(!["script", "image", "style", "foreignObject"].contains(&node.tag_name().name()));
        // Text is drawn at 10x and scaled by .1: its pinned length fits inside the badge.
        if node.has_tag_name("text") {
            let (x, len) = (num(node, "x").unwrap() / 10.0, num(node, "textLength").unwrap() / 10.0);
            assert!(x - len / 2.0 >= 0.0 && x + len / 2.0 <= width, "text inside the badge: {x} {len} {width}");
        }
    }
    let of = |tag: &'static str| doc.descendants().filter(move |n| n.has_tag_name(tag));
    Seen {
        width,
        height: num(root, "height").unwrap(),
        title: of("title").next().and_then(|n| n.text()).unwrap_or_default().to_string(),
        // The drawn rectangles, not the clip path's.
        fills: of("rect")
            .filter(|n| !n.parent().is_some_and(|p| p.has_tag_name("clipPath")))
            .filter_map(|n| n.attribute("fill"))
            .map(String::from)
            .collect(),
        // Each text is drawn twice: a shadow, then the text.
        texts: of("text").step_by(2).filter_map(|n| n.text()).map(String::from).collect(),
    }
}

#[test]
fn badges_say_pass_in_green_and_fail_with_counts_in_red() {
    let dir = workdir();
    let pass = compare(dir.path(), "current.json", &["--badge", "pass.svg"]);
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass));
    let fail = compare(dir.path(), "current-regressed.json", &["--badge", "fail.svg"]);
    assert_eq!(fail.status.code(), Some(1), "{}", text(&fail));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();

    let pass_seen = look_at(&read("pass.svg"));
    assert_eq!(pass_seen.title, "perf: PASS");
    assert_eq!(pass_seen.texts, ["perf", "PASS"]);
    assert_eq!(pass_seen.fills[..2], ["#555", "#4c1"]);
    assert_eq!(pass_seen.height, 20.0);
    let fail_seen = look_at(&read("fail.svg"));
    assert_eq!(fail_seen.title, "perf: FAIL 4/6");
    assert_eq!(fail_seen.texts, ["perf", "FAIL 4/6"]);
    assert_eq!(fail_seen.fills[..2], ["#555", "#e05d44"]);
    assert!(fail_seen.width > pass_seen.width, "the longer message gets a wider badge");

    let json = |name: &str| serde_json::from_str::<serde_json::Value>(&read(name)).unwrap();
    assert_eq!(
        json("pass.json"),
        serde_json::json!({"schemaVersion": 1, "label": "perf", "message": "PASS", "color": "brightgreen"})
    );
    assert_eq!(json("fail.json")["message"], "FAIL 4/6");
    assert_eq!(json("fail.json")["color"], "red");
}

#[test]
fn badge_command_draws_the_same_badge_from_a_report_or_a_certificate() {
    let dir = workdir();
    let run = compare(dir.path(), "current-regressed.json", &["--report", "json=r.json", "--badge", "direct.svg"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let from_report = perfcert(dir.path(), &["badge", "r.json"]);
    assert_eq!(from_report.status.code(), Some(0), "{}", text(&from_report));
    assert_eq!(
        String::from_utf8(from_report.stdout).unwrap(),
        std::fs::read_to_string(dir.path().join("direct.svg")).unwrap()
    );

    keygen(dir.path());
    let (b, c, t) = (fixture("baseline.json"), fixture("current-regressed.json"), policy());
    let args = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &t, "-f", "json"];
    let certify = perfcert(dir.path(), &args);
    assert_eq!(certify.status.code(), Some(1), "{}", text(&certify));
    let paths: serde_json::Value = serde_json::from_slice(&certify.stdout).unwrap();
    let cert = paths["certificate"].as_str().unwrap();
    let shields = perfcert(dir.path(), &["badge", cert, "--format", "shields", "--output", "c.json"]);
    assert_eq!(shields.status.code(), Some(0), "{}", text(&shields));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("c.json")).unwrap(),
        std::fs::read_to_string(dir.path().join("direct.json")).unwrap()
    );
}

#[test]
fn badge_input_errors_name_the_file_and_what_was_expected() {
    let dir = workdir();
    std::fs::write(dir.path().join("x.json"), "{\"status\": \"MAYBE\"}").unwrap();
    std::fs::write(dir.path().join("y.json"), "[1,").unwrap();
    std::fs::write(dir.path().join("z.json"), "{\"status\": \"PASS\"}").unwrap();
    let cases = [
        (
            vec!["badge", "x.json"],
            "error: x.json: key `status`: expected PASS or FAIL, found `MAYBE`; expected a perfcert JSON report (compare --format json) or certificate\n",
        ),
        (vec!["badge", "y.json"], "error: y.json: not JSON: EOF while parsing a value at line 1 column 3\n"),
        (
            vec!["badge", "z.json"],
            "error: z.json: no `report_version` or `comparison` key; expected a perfcert JSON report (compare --format json) or certificate\n",
        ),
        (vec!["badge", "none.json"], "error: none.json: not found\n"),
    ];
    for (args, expected) in cases {
        let out = perfcert(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    }
    let out = compare(dir.path(), "current.json", &["--badge", "perf.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("expected a path ending in .svg, found `perf.png`"), "{}", text(&out));
    let out = compare(dir.path(), "current.json", &["--report", "json=perf.json", "--badge", "perf.svg"]);
    assert_eq!(out.status.code(), Some(2), "the badge's JSON twin would replace the report");
    assert!(text(&out).contains("perf.json: named as the output of two reports"), "{}", text(&out));
}

#[test]
fn quiet_prints_only_what_was_asked_for_and_verbose_says_more() {
    let dir = workdir();
    let quiet = compare(dir.path(), "current-regressed.json", &["--quiet"]);
    assert_eq!(quiet.status.code(), Some(1));
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty(), "{}", text(&quiet));

    let quiet_json = compare(dir.path(), "current-regressed.json", &["-q", "--format", "json"]);
    assert_eq!(quiet_json.status.code(), Some(1));
    assert!(quiet_json.stderr.is_empty(), "{}", text(&quiet_json));
    let report: serde_json::Value = serde_json::from_slice(&quiet_json.stdout).unwrap();
    assert_eq!(report["status"], "FAIL");

    let normal = compare(dir.path(), "current-regressed.json", &["--format", "json"]);
    assert_eq!(String::from_utf8_lossy(&normal.stderr), "FAIL: 4 of 6 gated metrics failed (1 untracked)\n");

    let verbose = compare(dir.path(), "current-regressed.json", &["-v", "--format", "json", "--badge", "b.svg"]);
    assert_eq!(verbose.status.code(), Some(1));
    let err = String::from_utf8_lossy(&verbose.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("policy ")
            && lines[0].ends_with("perf_thresholds.yml: 6 metrics, 0 waivers (judged as of 2026-06-01)"),
        "{err}"
    );
    assert!(lines[1].starts_with("read ") && lines[1].contains("baseline.json (353 B): 6 metrics in "), "{err}");
    assert!(lines[2].contains("current-regressed.json (333 B): 7 metrics in "), "{err}");
    assert_eq!(
        lines[3..],
        ["wrote b.svg (badge)", "wrote b.json (badge)", "FAIL: 4 of 6 gated metrics failed (1 untracked)"]
    );

    let both = compare(dir.path(), "current.json", &["-q", "-v"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(text(&both).contains("'--quiet' cannot be used with '--verbose'"), "{}", text(&both));
}

#[test]
fn completion_scripts_cover_every_command_and_bash_parses_its_own() {
    let dir = workdir();
    let commands = ["compare", "certify", "verify", "keygen", "upload", "list", "init", "badge", "completions", "man"];
    for (shell, marker) in [
        ("bash", "complete -F _perfcert"),
        ("zsh", "#compdef perfcert"),
        ("fish", "complete -c perfcert"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = perfcert(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}");
        for command in commands {
            assert!(script.contains(command), "{shell} completes {command}");
        }
        let flag = |name: &str| script.contains(&format!("--{name}")) || script.contains(&format!("-l {name}"));
        assert!(flag("baseline") && flag("keyless"), "{shell} completes flags");
    }
    // bash itself reads the script and then completes `perfcert cert<TAB>`.
    let script = perfcert(dir.path(), &["completions", "bash"]).stdout;
    std::fs::write(dir.path().join("perfcert.bash"), &script).unwrap();
    let probe = "source ./perfcert.bash; COMP_WORDS=(perfcert cert); COMP_CWORD=1; _perfcert perfcert cert perfcert; \
                 printf '%s\\n' \"${COMPREPLY[@]}\"";
    let out = Command::new("bash")
        .args(["--norc", "-c", probe])
        .current_dir(dir.path())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "certify\n");
}

#[test]
fn man_pages_for_perfcert_and_each_command() {
    let dir = workdir();
    let page = perfcert(dir.path(), &["man"]);
    assert_eq!(page.status.code(), Some(0));
    let page = String::from_utf8(page.stdout).unwrap();
    assert!(page.contains(".TH perfcert 1 "), "{page}");
    assert!(page.contains(".SH NAME\nperfcert \\- Gate a release on performance"), "{page}");
    assert!(page.contains("Exit codes:"), "the exit-code contract is in the page");

    let out = perfcert(dir.path(), &["man", "--output-dir", "man1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("man1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let expected = [
        "perfcert-approve.1",
        "perfcert-badge.1",
        "perfcert-bake.1",
        "perfcert-baseline.1",
        "perfcert-certify.1",
        "perfcert-collect.1",
        "perfcert-compare.1",
        "perfcert-completions.1",
        "perfcert-drift.1",
        "perfcert-fingerprint.1",
        "perfcert-grafana.1",
        "perfcert-history.1",
        "perfcert-index.1",
        "perfcert-init.1",
        "perfcert-keygen.1",
        "perfcert-list.1",
        "perfcert-man.1",
        "perfcert-notify.1",
        "perfcert-report.1",
        "perfcert-upload.1",
        "perfcert-verify.1",
        "perfcert.1",
    ];
    assert_eq!(names, expected);
    let certify = std::fs::read_to_string(dir.path().join("man1/perfcert-certify.1")).unwrap();
    assert!(certify.contains(".TH perfcert-certify 1 "), "{certify}");
    assert!(certify.contains("\\-\\-keyless") && certify.contains("Examples:"), "{certify}");
}
