//! Helpers shared by the integration tests: where the repository and its fixtures are, the
//! binary run as a user at a plain shell would run it, key pairs, and the pinned tools that
//! scripts/test.sh installs. Each test file includes it with `mod common;`.

// Each test file is its own crate and uses only some of these helpers.
#![allow(dead_code)]

pub mod bake;
pub mod prom;
pub mod sigstore;
pub mod sim;
pub mod stub;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The password of every key the tests generate (`COSIGN_PASSWORD`); no output may show it.
pub const PASSWORD: &str = "correct horse battery staple";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of fixtures/perf004, as an argument.
pub fn fixture(name: &str) -> String {
    root().join("fixtures/perf004").join(name).display().to_string()
}

/// The repository's perf_thresholds.yml, as an argument.
pub fn policy() -> String {
    root().join("perf_thresholds.yml").display().to_string()
}

/// The binary, run in `dir`, isolated from the machine running the tests: not on a GitHub
/// runner (`PERFCERT_NO_GITHUB`), no colour, the suite's key password, and no ambient CI
/// identity for keyless signing. Tests add or remove variables on the returned command.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfcert"));
    cmd.current_dir(dir).env("PERFCERT_NO_GITHUB", "1").env("NO_COLOR", "1").env("COSIGN_PASSWORD", PASSWORD);
    for var in [
        "SIGSTORE_ID_TOKEN",
        "GITHUB_ACTIONS",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "GITLAB_CI",
        "BUILDKITE",
        "CIRCLECI",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs [`command`] with these arguments to completion.
pub fn perfcert(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).output().expect("run perfcert")
}

/// Everything the command printed, stdout then stderr, for assertions and their messages.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `perfcert keygen` in `dir`: cosign.key (encrypted with [`PASSWORD`]) and cosign.pub.
pub fn keygen(dir: &Path) {
    let out = perfcert(dir, &["keygen"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// A fresh temporary working directory.
pub fn workdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// A fresh temporary working directory holding a key pair from [`keygen`].
pub fn workdir_with_keys() -> tempfile::TempDir {
    let dir = workdir();
    keygen(dir.path());
    dir
}

/// The pinned tools scripts/test.sh installs (`PERFCERT_TEST_TOOLS`, else target/test-tools);
/// fails with what to do when one of `needed` (paths inside it) is missing.
pub fn tools(needed: &[&str]) -> PathBuf {
    let dir =
        std::env::var_os("PERFCERT_TEST_TOOLS").map(PathBuf::from).unwrap_or_else(|| root().join("target/test-tools"));
    for path in needed {
        assert!(
            dir.join(path).exists(),
            "{} is missing: run the suite with scripts/test.sh, which installs the test tools",
            dir.join(path).display()
        );
    }
    dir
}
