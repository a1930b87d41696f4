//! perfcert: gate a release on performance and prove the decision.
//!
//! - [`model`]: one run's results; [`input`]: readers that produce it from files.
//! - [`policy`]: `perf_thresholds.yml`, parsed and validated.
//! - [`compare`]: (baseline, current, policy) -> per-metric rows and a verdict; pure.
//! - [`report`]: one renderer per output format.
//! - [`cli`], [`commands`]: flags and the subcommands that wire the above to files and exit codes.

pub mod cli;
pub mod commands;
pub mod compare;
pub mod error;
pub mod exit;
pub mod fsutil;
pub mod input;
pub mod model;
pub mod numfmt;
pub mod policy;
pub mod report;
