//! CLI behaviour as data: each `tests/cmd/NAME.toml` gives the arguments and exit code, and
//! `NAME.stdout` / `NAME.stderr` the exact expected output. `TRYCMD=overwrite cargo test --test cli`
//! rewrites the expected files after an intended change; review the diff.

#[test]
fn cli_cases() {
    // The same output on a GitHub runner as anywhere else (tests/github.rs covers the runner).
    trycmd::TestCases::new().env("PERFCERT_NO_GITHUB", "1").case("tests/cmd/*.toml");
}
