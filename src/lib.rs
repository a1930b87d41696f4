//! perfcert: gate a release on performance and prove the decision.
//!
//! - [`model`]: one run's results; [`input`]: readers that produce it from files.
//! - [`policy`]: `perf_thresholds.yml`, parsed and validated.
//! - [`compare`]: (baseline, current, policy) -> per-metric rows and a verdict; pure.
//! - [`report`]: one renderer per output format (and `report::releases_html`, the history
//!   page of `perfcert report`); [`badge`]: the SVG / shields.io badge;
//!   [`github`]: GitHub Actions' annotation and output syntax.
//! - [`fingerprint`]: how a run was produced, and whether runs are comparable; pure.
//! - [`reference`]: a certificate's current side as the slow-drift guard's reference; pure.
//! - [`record`]: a comparison's rows as the records reports and certificates share.
//! - [`certificate`]: the certificate document; [`baseline`]: a PASS certificate's current side
//!   as a baseline results file; [`signing`]: sign and verify it, Sigstore-style.
//! - [`approval`]: signed approvals of a certificate per role, the CAB policy
//!   (`approvals.yml`), and judging the approvals against it; pure.
//! - [`store`]: the certificate archive (its layout, a local directory, S3).
//! - [`index`]: one line per archived certificate; [`releases`]: a service's releases from
//!   those lines (`report::history` renders them); [`grafana`]: the dashboard over the index.
//! - [`drift`]: production series in windows against a baseline: breach, ticket, rollback
//!   flag and status; pure. [`drift_report`]: its table, JSON, Markdown and annotations.
//!   [`bake`]: the post-deploy bake loop (clock injected), its SLO checks and verification
//!   record; pure. [`drift_fetch`]: drift's inputs fetched (files, Prometheus) for drift and bake.
//! - [`stats`]: the statistical decision (PASS, FAIL or INCONCLUSIVE from several runs); pure.
//! - [`prometheus`]: the Prometheus API's answers as series and a window's mean (pure);
//!   `prometheus::client`, the one HTTP client for Prometheus, AMP and AWS JSON services.
//!   [`cloudwatch`]: `GetMetricData` requests and answers (pure); `cloudwatch::client` reads a
//!   metric's datapoints over a range.
//! - [`cost`]: cost per 1000 requests from usage × the policy's unit prices (pure);
//!   [`cost_explorer`]: the actual spend from Cost Explorer beside it (`drift --cost-explorer`).
//! - [`aws`]: credentials and region from the AWS chain and SigV4 headers (AMP, CloudWatch, Cost
//!   Explorer, CodeDeploy); [`codedeploy`]: `StopDeployment` with rollback, asked by `bake` on a
//!   roll-back signal.
//! - [`redact`]: the one redactor every remote error passes through before it is shown.
//! - [`notify`]: a result as a Slack message and a Jira issue (ADF), and [`notify::send`], which
//!   posts them and keeps one ticket per certificate.
//! - [`pipeline`]: load, compare, render: the one evaluation compare, certify and verify share;
//!   [`authenticate`]: fetch a certificate and check it is authentic (verify, baseline promote,
//!   approve).
//! - [`cli`] (flags) then [`options`] (typed, validated options), [`commands`] (one file per
//!   subcommand), [`ui`] (stdout, stderr, the GitHub runner), [`exit`] (the exit-code contract),
//!   [`fsutil`] (file edges), [`chromium`] (headless Chromium for PDFs, the one program run).
//!
//! The core (`model`, `input`, `fingerprint`, `policy`, `approval`, `compare`, `drift`,
//! `drift_report`, `bake`, `record`, `report`, `certificate`, `baseline`) does not print, read the clock or know of clap;
//! readers get file names and bytes or paths to stream.
//!
//! The core can be used as a library:
//!
//! ```
//! use perfcert::{compare::{compare, Status, Verdict}, input::native, policy};
//!
//! let policy = policy::parse("perf_thresholds.yml", "metrics:\n  latency_p95_write: { max_increase: 10%, max: 600 }\n")?;
//! let baseline = native::parse("baseline.json", r#"{"metrics": {"latency_p95_write": 384}}"#)?;
//! let current = native::parse("current.json", r#"{"metrics": {"latency_p95_write": 432}}"#)?;
//!
//! let result = compare(&baseline, &current, &policy, jiff::civil::date(2026, 1, 1));
//! assert_eq!(result.verdict, Verdict::Fail);
//! assert_eq!(result.rows[0].status, Status::Fail);
//! assert_eq!(result.rows[0].reasons, ["+12.5% > +10%"]);
//! # Ok::<(), perfcert::error::LoadError>(())
//! ```

// Supported platforms: Linux and macOS. The file edges use Unix APIs (positioned reads, file
// modes); say so at build time rather than with errors about missing `std::os::unix` items.
#[cfg(not(unix))]
compile_error!("perfcert supports Linux and macOS (Unix) only; see README.md, Supported platforms");

pub mod approval;
pub mod authenticate;
pub mod aws;
pub mod badge;
pub mod bake;
pub mod baseline;
pub mod certificate;
pub mod chromium;
pub mod cli;
pub mod cloudwatch;
pub mod codedeploy;
pub mod commands;
pub mod compare;
pub mod cost;
pub mod cost_explorer;
pub mod drift;
pub mod drift_fetch;
pub mod drift_report;
pub mod error;
pub mod exit;
pub mod fingerprint;
pub mod fsutil;
pub mod github;
pub mod grafana;
pub mod history;
pub mod index;
pub mod input;
pub mod model;
pub mod notify;
pub mod numfmt;
pub mod options;
pub mod pipeline;
pub mod policy;
pub mod prometheus;
pub mod record;
pub mod redact;
pub mod reference;
pub mod releases;
pub mod report;
pub mod signing;
pub mod stats;
pub mod store;
pub mod ui;
