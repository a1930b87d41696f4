//! CLI behaviour as data: each `tests/cmd/NAME.toml` gives the arguments and exit code, and
//! `NAME.stdout` / `NAME.stderr` the exact expected output. `TRYCMD=overwrite cargo test --test cli`
//! rewrites the expected files after an intended change; review the diff.

#[test]
fn cli_cases() {
    // The same output on a GitHub runner as anywhere else (tests/github.rs covers the runner).
    trycmd::TestCases::new().env("PERFCERT_NO_GITHUB", "1").case("tests/cmd/*.toml");
}

/// The widest an `after_help` line may be. clap re-wraps help text at the terminal width (100
/// columns when stdout is not a terminal) with no indentation, which splits a quoted argument or
/// strands a `\` and breaks copy-paste; lines this short are never re-wrapped on an 80-column
/// terminal or wider.
const HELP_WIDTH: usize = 80;

/// Every command's `after_help` (examples, notes, exit codes), root and subcommands at any depth.
fn after_helps(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
    for text in [cmd.get_after_help(), cmd.get_after_long_help()].into_iter().flatten() {
        out.push((path.to_string(), text.to_string()));
    }
    for sub in cmd.get_subcommands() {
        after_helps(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn after_help_lines_fit_80_columns_and_continue_indented() {
    use clap::CommandFactory;
    let mut helps = Vec::new();
    after_helps(&perfcert::cli::Cli::command(), "perfcert", &mut helps);
    // Root, and every subcommand of the tool has examples.
    assert!(helps.len() > 20, "only {} after_help texts found", helps.len());
    let mut problems = Vec::new();
    for (cmd, text) in &helps {
        let lines: Vec<&str> = text.lines().collect();
        let indent = |l: &str| l.len() - l.trim_start().len();
        // The indentation of the command a line belongs to (its first line's).
        let mut command_indent = 0;
        for (i, line) in lines.iter().enumerate() {
            if i == 0 || !lines[i - 1].trim_end().ends_with('\\') {
                command_indent = indent(line);
            }
            let width = line.chars().count();
            if width > HELP_WIDTH {
                problems
                    .push(format!("{cmd}: after_help line {} is {width} columns (max {HELP_WIDTH}): {line}", i + 1));
            }
            if line.trim_end().ends_with('\\') {
                match lines.get(i + 1) {
                    Some(next) if !next.trim().is_empty() && indent(next) > command_indent => {}
                    _ => problems.push(format!(
                        "{cmd}: after_help line {} ends with `\\` but the next line is not an indented continuation: {line}",
                        i + 1
                    )),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn verify_help_lists_the_bake_record_exit_codes() {
    use clap::CommandFactory;
    let cli = perfcert::cli::Cli::command();
    let verify = cli.find_subcommand("verify").expect("a verify subcommand");
    let help = verify.get_after_help().expect("verify has an after_help").to_string();
    let codes = help.split("Exit codes:").nth(1).expect("verify's help has an Exit codes: section");
    for code in ["0", "1", "2", "4", "5", "6", "7"] {
        assert!(
            codes.lines().any(|l| l.split_whitespace().any(|w| w == code)),
            "verify's Exit codes section does not list {code}:\n{codes}"
        );
    }
}

/// Each `perfcert SUBCOMMAND ...` command in `text` (shell lines joined at a trailing `\`, cut at
/// `|`, `;`, `&&` or a ` #` comment), as (line number, subcommand path, its `--flags`).
fn perfcert_commands(text: &str, cli: &clap::Command) -> Vec<(usize, String, Vec<String>)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut rest = *line;
        while let Some(at) = rest.find("perfcert") {
            let after = rest[at + "perfcert".len()..].trim_start_matches('"');
            rest = after;
            if !after.starts_with(' ') {
                continue;
            }
            let mut command = after.to_string();
            let mut j = i;
            while command.trim_end().ends_with('\\') && j + 1 < lines.len() {
                j += 1;
                command = format!("{} {}", command.trim_end().trim_end_matches('\\'), lines[j]);
            }
            for stop in ["||", "|", ";", "&&", " #", "`", ")"] {
                if let Some(k) = command.find(stop) {
                    command.truncate(k);
                }
            }
            let mut words = command.split_whitespace().peekable();
            let Some(mut sub) = words.next().and_then(|w| cli.find_subcommand(w)) else { continue };
            let mut path = sub.get_name().to_string();
            while let Some(next) = words.peek().and_then(|w| sub.find_subcommand(w)) {
                path = format!("{path} {}", next.get_name());
                sub = next;
                words.next();
            }
            let flags = words
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(|w| w.split('=').next().unwrap_or(w).trim_matches('"').to_string())
                .collect();
            found.push((i + 1, path, flags));
        }
    }
    found
}

/// The flags of `perfcert` commands in `text` that their subcommand (and the global options) lack,
/// each as `NAME:LINE: ...`; and how many flags were checked.
fn unknown_flags(name: &str, text: &str, cli: &clap::Command) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut problems = Vec::new();
    for (line, path, flags) in perfcert_commands(text, cli) {
        let mut sub = cli;
        for part in path.split(' ') {
            sub = sub.find_subcommand(part).expect("perfcert_commands found it");
        }
        for flag in flags {
            let long = &flag[2..];
            checked += 1;
            if !sub.get_arguments().chain(cli.get_arguments()).any(|a| a.get_long() == Some(long)) {
                problems.push(format!("{name}:{line}: `perfcert {path}` has no flag {flag}"));
            }
        }
    }
    (checked, problems)
}

#[test]
fn the_example_workflows_use_only_flags_that_exist() {
    use clap::CommandFactory;
    let cli = perfcert::cli::Cli::command();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    for name in ["test-perf.yml", "perf-production.yml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (checked, problems) = unknown_flags(name, &text, &cli);
        // Both run perfcert with flags: a parser that found none would prove nothing.
        assert!(checked >= 5, "{name}: only {checked} perfcert flags found");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

#[test]
fn a_flag_a_command_lacks_is_found() {
    use clap::CommandFactory;
    let cli = perfcert::cli::Cli::command();
    let text = "run: |\n  perfcert drift --service x \\\n    --no-such-flag || echo \"--nope\"\n  perfcert baseline promote X --force\n";
    assert_eq!(
        perfcert_commands(text, &cli),
        vec![
            (2, "drift".to_string(), vec!["--service".to_string(), "--no-such-flag".to_string()]),
            (4, "baseline promote".to_string(), vec!["--force".to_string()]),
        ]
    );
    let (checked, problems) = unknown_flags("w.yml", text, &cli);
    assert_eq!((checked, problems), (3, vec!["w.yml:2: `perfcert drift` has no flag --no-such-flag".to_string()]));
}

#[test]
fn every_help_example_block_is_valid_shell() {
    use clap::CommandFactory;
    use std::io::Write;
    let mut helps = Vec::new();
    after_helps(&perfcert::cli::Cli::command(), "perfcert", &mut helps);
    let mut blocks = 0;
    for (cmd, text) in &helps {
        // The lines under `Examples:` up to the first blank line, as a user would paste them.
        let Some(after) = text.split("Examples:\n").nth(1) else { continue };
        let block: String =
            after.lines().take_while(|l| !l.trim().is_empty()).map(|l| format!("{}\n", l.trim_start())).collect();
        let mut bash = std::process::Command::new("bash")
            .arg("-n")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("bash runs");
        bash.stdin.take().expect("stdin").write_all(block.as_bytes()).expect("write to bash");
        let out = bash.wait_with_output().expect("bash finishes");
        assert!(
            out.status.success(),
            "{cmd}: its examples are not valid shell:\n{block}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        blocks += 1;
    }
    assert!(blocks > 20, "only {blocks} example blocks found");
}
