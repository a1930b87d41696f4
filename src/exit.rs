//! The exit code contract. Documented in the README and in `perfcert --help`; tested.

use std::process::ExitCode;

/// What a run ended with, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: every gated metric passed (or was waived).
    Pass = 0,
    /// 1: a regression or an SLO breach: at least one metric FAILED.
    Fail = 1,
    /// 2: a usage or input error (bad flag, unreadable or invalid file). No verdict was reached.
    Usage = 2,
    /// 3: signing, storage or network failure.
    External = 3,
    /// 4: a certificate did not verify.
    VerifyFailed = 4,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
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

    /// A certificate that did not verify (exit 4).
    pub fn not_authentic(error: impl Into<anyhow::Error>) -> Self {
        Failure { status: ExitStatus::VerifyFailed, error: error.into() }
    }
}
