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
