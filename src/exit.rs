//! The exit-code contract: what each process exit code means, for every command.
//!
//! Documented in the README and in `perfcert --help`, and tested. Code 7 is reserved now so that
//! the commands to come fill it in rather than invent their own: a script written against this
//! list keeps working.

use std::process::ExitCode;

/// What a run ended with, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: PASS. Every gated metric is within its limits (or waived); for `verify`, authentic and
    /// PASS; for other commands, done.
    Pass = 0,
    /// 1: FAIL. A regression or an SLO breach; for `verify`, authentic and FAIL.
    Fail = 1,
    /// 2: a usage or input error (bad flag, unreadable or invalid file; runs not made the same way
    /// under `comparability: refuse`: the inputs, not the release, are at fault). No verdict was
    /// reached.
    Usage = 2,
    /// 3: a signing, storage or network failure (including a name already taken in the archive
    /// and a failed write to stdout).
    External = 3,
    /// 4: not authentic: a certificate did not verify (the message names the check).
    VerifyFailed = 4,
    /// 5: INCONCLUSIVE: not enough evidence to PASS or FAIL (`decision.method: statistical`;
    /// drift: no valid window, or two consecutive windows without data; `collect`: no metric had
    /// enough data).
    Inconclusive = 5,
    /// 6: roll back: drift's rollback flag ([`crate::drift`]: every sample of the rollback
    /// metric above `factor` × baseline for `for`), or, for `bake`, an SLO breach of a window.
    RollBack = 6,
    /// 7: authentic PASS, but not approved for promotion: `verify --approvals` found a required
    /// role without a valid approval, or a required role rejected.
    NotApproved = 7,
}

impl ExitStatus {
    /// Every code with its one-line meaning, in order: the text of `--help` and the man page.
    pub const CONTRACT: [(ExitStatus, &'static str); 8] = [
        (ExitStatus::Pass, "PASS: every gated metric is within its limits (or waived); other commands: done"),
        (ExitStatus::Fail, "FAIL: a regression or an SLO breach (verify: authentic, and the certificate says FAIL)"),
        (
            ExitStatus::Usage,
            "usage or input error: bad flag, missing or invalid file, runs not comparable (no verdict)",
        ),
        (
            ExitStatus::External,
            "signing, storage or network failure, or no Chromium (also: the name is taken in the archive)",
        ),
        (ExitStatus::VerifyFailed, "not authentic: a certificate did not verify"),
        (
            ExitStatus::Inconclusive,
            "INCONCLUSIVE: not enough evidence (statistical: more runs settle it; drift, collect: no data)",
        ),
        (
            ExitStatus::RollBack,
            "roll back: drift's rollback flag (factor x baseline for `for`), or a bake's SLO breach",
        ),
        (
            ExitStatus::NotApproved,
            "verify --approvals: authentic PASS, not approved (a required role missing or it rejected)",
        ),
    ];

    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// An error that ends a command, with the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub error: anyhow::Error,
}

impl Failure {
    /// A usage or input error (exit 2).
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Failure { status: ExitStatus::Usage, error: error.into() }
    }

    /// A signing, storage or network failure (exit 3).
    pub fn external(error: impl Into<anyhow::Error>) -> Self {
        Failure { status: ExitStatus::External, error: error.into() }
    }

    /// Authentic, not approved for promotion (exit 7).
    pub fn not_approved(error: impl Into<anyhow::Error>) -> Self {
        Failure { status: ExitStatus::NotApproved, error: error.into() }
    }

    /// A certificate that did not verify (exit 4).
    pub fn not_authentic(error: impl Into<anyhow::Error>) -> Self {
        Failure { status: ExitStatus::VerifyFailed, error: error.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_lists_every_code_once_in_order() {
        for (i, (status, _)) in ExitStatus::CONTRACT.iter().enumerate() {
            assert_eq!(usize::from(status.code()), i);
        }
    }
}
