//! Command-line definitions (clap) and nothing else: flags, defaults, help text. Stage one of
//! argument parsing; [`crate::options`] turns these into the typed options commands read.
//! The core's enums get their command-line names here, so the core does not depend on clap.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::civil::Date;

use crate::drift_report::Format as DriftFormat;
use crate::exit::ExitStatus;
use crate::input::Format as InputFormat;
use crate::report::Format;
use crate::report::history::Format as HistoryFormat;
use crate::store::{Location, S3Location};

/// Where certify archives certificates, and list looks, unless told otherwise.
pub const DEFAULT_ARCHIVE: &str = "perf/certificates";

#[derive(Debug, Parser)]
#[command(
    name = "perfcert",
    version,
    about = "Gate a release on performance: compare a baseline and a current load-test run against perf_thresholds.yml.",
    after_help = main_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", display_order = 900)]
    pub color: ColorChoice,

    /// Print only errors and what was asked for by --format/--output; the exit code tells the verdict.
    #[arg(long, short, global = true, conflicts_with = "verbose", display_order = 901)]
    pub quiet: bool,

    /// Also say what is read, detected and written, and how long it took.
    #[arg(long, short, global = true, display_order = 902)]
    pub verbose: bool,

    /// On a GitHub Actions runner, do not write the step summary, outputs or annotations.
    #[arg(long, global = true, display_order = 903, env = "PERFCERT_NO_GITHUB", hide_env_values = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_github: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare current results with a baseline under a policy; exit 0 on PASS, 1 on FAIL.
    #[command(after_help = COMPARE_HELP)]
    Compare(Box<CompareArgs>),
    /// Compare, then write a signed performance certificate to the archive (PASS, FAIL or INCONCLUSIVE).
    #[command(after_help = CERTIFY_HELP)]
    Certify(Box<CertifyArgs>),
    /// Check a certificate: signature, signer, content, and (with --recompute) its verdict.
    #[command(after_help = VERIFY_HELP)]
    Verify(Box<VerifyArgs>),
    /// Sign an approval (or a rejection) of a certificate for a role, stored beside it (PERF-004 §9).
    #[command(after_help = APPROVE_HELP)]
    Approve(Box<ApproveArgs>),
    /// Baselines: promote a certified release to the baseline file compare reads.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Make a cosign-compatible key pair: PREFIX.key (encrypted) and PREFIX.pub.
    #[command(after_help = KEYGEN_HELP)]
    Keygen(KeygenArgs),
    /// Upload an archived certificate and its bundle to S3, create-only.
    #[command(after_help = UPLOAD_HELP)]
    Upload(UploadCmdArgs),
    /// List archived certificates (a local archive or s3://BUCKET[/PREFIX]): date, service, version, status.
    #[command(after_help = LIST_HELP)]
    List(ListArgs),
    /// The archive's index (one JSON line per certificate, for history, reports, Athena and DuckDB).
    #[command(subcommand, after_help = INDEX_HELP)]
    Index(IndexCommand),
    /// A service's last releases from the archive's index: metrics, changes, pass/fail counts, cost.
    #[command(after_help = HISTORY_HELP)]
    History(HistoryArgs),
    /// Print the Release Perf Certification Grafana dashboard (JSON) over the archive's index.
    #[command(after_help = GRAFANA_HELP)]
    Grafana(GrafanaArgs),
    /// A service's last releases as a self-contained HTML page or a PDF, for people and the CAB.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Average CPU, memory, ... from Prometheus, AMP or CloudWatch over a run's window, and the
    /// cost per 1000 requests, into a results file.
    ///
    /// Queries each metric of the policy's `sources:` block over [--from, --to] and writes the
    /// means as a native results file, with where each came from; with a `cost:` block, also
    /// cost_per_1000_req from the usages times their unit prices over the run's requests.
    #[command(after_help = COLLECT_HELP)]
    Collect(CollectArgs),
    /// Judge production series (Prometheus, AMP, CloudWatch) against a baseline, window by window (PERF-003).
    ///
    /// Fetches each metric of the policy's `drift:` block from its `sources:` entry over
    /// [--from, --to) at the drift step, compares every window's mean with the metric's value in
    /// --baseline, and exits 0 healthy, 1 breach, 5 inconclusive or 6 roll back.
    #[command(after_help = DRIFT_HELP)]
    Drift(DriftArgs),
    /// Watch a deployment: drift and SLO limits polled live, then a signed verification record.
    ///
    /// Every --poll, judges [--deployed-at, now) with the drift rules and each complete window's
    /// mean against the policy's max / min; stops at the first roll-back signal. At the end (or
    /// the stop) writes perf_verification.json, signs it and archives it under
    /// daily/YYYYMMDD/SERVICE-VERSION.verify.json.
    #[command(after_help = BAKE_HELP)]
    Bake(Box<BakeArgs>),
    /// Post a certificate, bake record or drift report to Slack, and open a Jira issue on FAIL
    /// (once).
    ///
    /// Secrets come from the environment only (PERFCERT_SLACK_WEBHOOK_URL, PERFCERT_JIRA_URL,
    /// PERFCERT_JIRA_EMAIL, PERFCERT_JIRA_API_TOKEN) and are never printed. Exits 0 when every
    /// channel was posted (or had nothing to do), 3 when one failed, 2 on bad input or when no
    /// channel is configured: never the verdict's code.
    #[command(after_help = NOTIFY_HELP)]
    Notify(NotifyCmdArgs),
    /// Write a commented perf_thresholds.yml with the PERF-004 / PERF-003 limits (and commented
    /// sources: and drift: blocks).
    #[command(after_help = INIT_HELP)]
    Init(InitArgs),
    /// Make a result badge (SVG or shields.io JSON) from a JSON report or a certificate.
    #[command(after_help = BADGE_HELP)]
    Badge(BadgeArgs),
    /// Write a fingerprint file (how a run was made) to join to the run with +.
    #[command(after_help = FINGERPRINT_HELP)]
    Fingerprint(FingerprintArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Write the man pages (generated from these definitions).
    #[command(after_help = MAN_HELP)]
    Man(ManArgs),
}

const EXAMPLES: &str = "\
Examples:
  perfcert init                     # a starter perf_thresholds.yml
  perfcert compare --baseline main.json --current pr.json
  perfcert certify --keyless --upload s3://perf-certs/ingest \\
      --baseline main.json --current pr.json
  perfcert verify CERT.cert.json --key cosign.pub";

/// The widest line of any `after_help`: clap re-wraps longer lines at the terminal width (100
/// columns when not a terminal) with no indentation, which breaks copy-paste (tests/cli.rs).
const HELP_WIDTH: usize = 80;

/// The examples, then the whole exit-code contract, from [`ExitStatus::CONTRACT`], each meaning
/// wrapped within [`HELP_WIDTH`] under its own column.
fn main_help() -> String {
    const INDENT: &str = "     ";
    let mut help = format!("{EXAMPLES}\n\nExit codes:");
    for (status, meaning) in ExitStatus::CONTRACT {
        help.push_str(&format!("\n  {}  ", status.code()));
        let mut width = INDENT.len();
        for (i, word) in meaning.split_whitespace().enumerate() {
            if i > 0 && width + 1 + word.len() > HELP_WIDTH {
                help.push_str(&format!("\n{INDENT}"));
                width = INDENT.len();
            } else if i > 0 {
                help.push(' ');
                width += 1;
            }
            help.push_str(word);
            width += word.len();
        }
    }
    help
}

const CERTIFY_HELP: &str = "\
Examples:
  COSIGN_PASSWORD=... perfcert certify --key cosign.key \\
      --service ingest-api --version v1.4.2 \\
      --baseline baseline.json --current current.json \\
      --approver qa-lead --subject dist/app.tar.gz
  # in CI: GitHub Actions needs `permissions: id-token: write`
  perfcert certify --keyless ...
  # the policy sets max_total_*
  perfcert certify --key cosign.key --reference perf_baseline.json ...

Writes ARCHIVE/YYYYMMDD/SERVICE-VERSION.cert.json and .sigstore.json, never over
existing ones. A service and version is certified once per archive (--force:
SERVICE-VERSION.2, ...).

Exit codes:
  0  PASS, certified
  1  FAIL, certified (an auditable record)
  2  usage or input error
  3  signing, storage or network failure, or the name is already certified in
     the archive";

const VERIFY_HELP: &str = "\
Examples:
  perfcert verify perf/certificates/20261122/ingest-api-v1.4.2.cert.json \\
      --key cosign.pub
  # add --reference perf_baseline.json when certify was given one
  perfcert verify CERT.cert.json --key cosign.pub --recompute \\
      --baseline baseline.json --current current.json \\
      --thresholds perf_thresholds.yml
  perfcert verify CERT.cert.json \\
      --certificate-identity \\
        https://github.com/ORG/REPO/.github/workflows/perf.yml@refs/heads/main \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  perfcert verify --archive s3://perf-certs/ingest \\
      --service ingest-api --version v1.4.2 --key cosign.pub
  perfcert verify \\
      perf/certificates/daily/20261130/ingest-api-v1.4.2.verify.json \\
      --key cosign.pub
  # the promotion gate
  perfcert verify CERT.cert.json --key cosign.pub --approvals approvals.yml

A bake's record (*.verify.json, its bundle *.verify.sigstore.json beside it) is
checked the same way (signature, signer, exact content under its signed name,
--service, --version) and exits by its status: 0 PASS, 1 FAIL, 5 INCONCLUSIVE, 6
ROLLBACK.

Exit codes:
  0  authentic, PASS (with --approvals: and approved)
  1  authentic, FAIL
  2  usage or input error
  4  not authentic (a check failed; with --approvals: also a forged approval)
  5  authentic bake record, INCONCLUSIVE
  6  authentic bake record, ROLLBACK
  7  authentic PASS, not approved: a required role's approval is missing or it
     rejected";

const APPROVE_HELP: &str = "\
Examples:
  COSIGN_PASSWORD=... perfcert approve \\
      perf/certificates/20261122/ingest-api-v1.4.2.cert.json \\
      --certificate-key cosign.pub --role qa-lead --key qa-lead.key \\
      --comment \"functional suite green\"
  perfcert approve --archive s3://perf-certs/ingest \\
      --service ingest-api --version v1.4.2 \\
      --certificate-key cosign.pub --role sre-lead --keyless \\
      --decision reject --comment \"no capacity\"
  # open the URL anywhere, paste the code
  perfcert approve CERT.cert.json --certificate-key cosign.pub --role qa-lead \\
      --keyless --oidc-issuer https://oauth2.sigstore.dev/auth

The approval is a Sigstore bundle (DSSE, in-toto predicate
https://perfcert.dev/approval/v1) whose subjects are the certificate's and its
bundle's sha256, stored beside the certificate as
SERVICE-VERSION.approval.ROLE.K.sigstore.json (K: the lowest free number;
nothing is overwritten). The certificate must verify first (--certificate-key,
or --certificate-identity[-regexp] with --certificate-oidc-issuer). --role is a
claim: verify --approvals believes it only if the signer is trusted for that
role in approvals.yml. Pass the same --approvals here to check that before
signing: without it a warning says nothing was checked, and an approval by a
signer the role does not trust makes the gate exit 4 and is never removed. Only
a PASS certificate can be approved; any can be rejected.

Exit codes:
  0  stored
  2  usage or input error
  3  signing or storage failure
  4  the certificate is not authentic";

const PROMOTE_HELP: &str = "\
Examples:
  perfcert baseline promote \\
      perf/certificates/20261122/ingest-api-v1.4.2.cert.json --key cosign.pub
  perfcert baseline promote \\
      s3://perf-certs/ingest/20261122/ingest-api-v1.4.2.cert.json \\
      --certificate-identity-regexp '^https://github.com/ORG/REPO/' \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  perfcert compare --baseline perf_baseline.json --current current.json

Verifies the certificate as verify does, then writes its current side (every
run's values, untracked metrics too, the run fingerprint, and the certificate's
provenance) in the native results format. Only a PASS certificate is promoted; a
PASS with waived metrics is promoted with a warning and the waived metrics
recorded. An existing file is replaced only with --force.

Exit codes:
  0  promoted
  2  usage or input error, a FAIL or INCONCLUSIVE certificate, or the output
     exists
  3  storage failure (s3://, or the file could not be written)
  4  not authentic (nothing written)";

const UPLOAD_HELP: &str = "\
Examples:
  perfcert upload perf/certificates/20261122/ingest-api-v1.4.2.cert.json \\
      --to s3://perf-certs/ingest

Writes s3://BUCKET/PREFIX/YYYYMMDD/NAME.sigstore.json, then NAME.cert.json. An
object that already holds the same bytes counts as uploaded; one with other
bytes is never replaced (exit 3).

Exit codes:
  0  uploaded (or already there)
  2  usage or input error
  3  S3 failure, or a conflicting object";

const LIST_HELP: &str = "\
Examples:
  perfcert list                                         # ./perf/certificates
  perfcert list s3://perf-certs/ingest --service ingest-api \\
      --since 2026-11-01 --format json

The listing reads what each certificate says; it does not verify signatures (use
verify). Certificates without their bundle, and names claimed by a certify that
never finished, are reported as warnings.";

const INDEX_HELP: &str = "\
Examples:
  perfcert index rebuild perf/certificates
  perfcert index rebuild s3://perf-certs/ingest

certify and upload write one compact JSON line per certificate under
ARCHIVE/index/dt=YYYY-MM-DD/service=SERVICE/STEM.json (Hive-style partitions),
which history, report, Athena and DuckDB read (docs/archive-queries.md). rebuild
writes the lines an archive lacks, for certificates made before the index
existed. The index is not signed: verify a certificate before trusting what its
line says.";

const INDEX_REBUILD_HELP: &str = "\
Examples:
  perfcert index rebuild perf/certificates
  perfcert index rebuild s3://perf-certs/ingest \\
      --endpoint-url http://127.0.0.1:9000

A line that exists is left as it is. Exit 3 when a certificate cannot be read or
a line's name holds other bytes (each is named; the other certificates are
indexed all the same).";

const REPORT_HELP: &str = "\
Examples:
  perfcert report perf/certificates --service ingest-api \\
      --format html --output ingest-api.html
  perfcert report s3://perf-certs/ingest --service ingest-api --last 5 \\
      --format pdf --output cab.pdf

The page shows the latest release's current vs baseline per metric (with
limits), pass/fail counts per metric, the cost per 1000 requests trend and the
p95 regression chart over the last five releases. It is read from the archive's
index (perfcert index rebuild) and the latest certificate; it verifies nothing
(use perfcert verify). The HTML needs nothing else: no script, no network.
--format pdf prints that page with headless Chromium (Debian/Ubuntu: apt-get
install chromium), found on PATH as chromium, chromium-browser or google-chrome,
or named with --chromium / PERFCERT_CHROMIUM. The output is replaced atomically,
like compare's --output.

Exit codes:
  0  written   2  usage or input error (no such archive, service or index lines)
  3  storage failure, or Chromium missing, failing or too slow (--format pdf)";

const HISTORY_HELP: &str = "\
Examples:
  # ./perf/certificates, the last 5 releases
  perfcert history --service ingest-api
  perfcert history s3://perf-certs/ingest --service ingest-api --last 10
  perfcert history --service ingest-api --format markdown \\
      >> \"$GITHUB_STEP_SUMMARY\"

One column per release (a version; one certified more than once is shown by its
newest certificate, with how many it has), one row per gated metric with its
change from the previous release, then each metric's pass/fail counts over the
releases shown and the cost per 1000 requests trend. Read from the archive's
index (an archive written before the index existed: run perfcert index rebuild
first). Signatures are not verified: use verify on a certificate. Exit codes: 0
shown; 2 no such archive, no certificates of the service, or a bad flag; 3 the
archive cannot be reached.";

const GRAFANA_HELP: &str = "\
Examples:
  perfcert grafana --datasource athena > release-perf.json
  perfcert grafana --datasource athena --database perf --table perfcert_index

Prints the dashboard of PERF-004 §8 (current vs baseline, pass/fail counts per
metric, cost efficiency trend, the rolling 5-release regression chart) as
Grafana dashboard JSON whose panels query the archive's index table with the
Amazon Athena data source plugin (grafana-athena-datasource). Import it, pick
the data source and type the service. The repository ships it as
ops/dashboards/release-perf-certification.json.";

const KEYGEN_HELP: &str = "\
Examples:
  perfcert keygen                # cosign.key + cosign.pub; password asked twice
  COSIGN_PASSWORD=... perfcert keygen --output-key-prefix release

The key files are cosign's format: cosign reads perfcert's keys and perfcert
reads cosign's.";

const COMPARE_HELP: &str = "\
Examples:
  # baseline.json, current.json and perf_thresholds.yml in this directory
  perfcert compare
  perfcert compare --baseline main.json --current pr.json \\
      --format markdown --output report.md
  perfcert compare --report json=perf.json --report junit=perf.xml
  # the policy sets max_total_increase
  perfcert compare --reference v1.0.json ...

Exit codes:
  0  PASS   1  FAIL (regression or SLO breach)   2  usage or input error";

const BADGE_HELP: &str = "\
Examples:
  perfcert compare --format json --output report.json
  perfcert badge report.json --output perf.svg
  perfcert badge perf/certificates/20261122/ingest-api-v1.4.2.cert.json \\
      --format shields

The badge says \"perf | PASS\" (green) or \"perf | FAIL 2/6\" (red: failed of gated
metrics). compare and certify write one directly with --badge FILE.svg.";

const COMPLETIONS_HELP: &str = "\
Examples:
  perfcert completions bash \\
      > ~/.local/share/bash-completion/completions/perfcert
  perfcert completions zsh > \"${fpath[1]}/_perfcert\"
  perfcert completions fish > ~/.config/fish/completions/perfcert.fish
  perfcert completions powershell >> $PROFILE";

const MAN_HELP: &str = "\
Examples:
  perfcert man | man -l -                               # read perfcert(1) now
  # perfcert.1 and perfcert-COMMAND.1
  perfcert man --output-dir ~/.local/share/man/man1";

const FINGERPRINT_HELP: &str = "\
Examples:
  perfcert fingerprint --script load.js --tool k6 \\
      --tool-version \"$(k6 version | cut -d' ' -f2)\" \\
      --testbed ci-large > run.fingerprint.json
  perfcert compare --baseline baseline.json \\
      --current k6-summary.json+run.fingerprint.json

Every value is checked as compare reads it (docs/formats.md, Fingerprint).";

const COLLECT_HELP: &str = "\
Each metric of the policy's sources: block is queried with query_range over
[--from, --to] (or the run window of a k6 raw/CSV or Locust JSON/stats-history
output, --window-from) at its step (default 15s); its value is the samples'
`aggregate:` (mean by default; max, min, p95, last). A metric with no data, only
NaN/Inf, or fewer than half the expected samples is unavailable: a warning gives
the reason and it is left out of the file (never 0), so a gated metric then
fails as missing in compare. A server's `warnings` (a partial response from
Thanos, Cortex or AMP) are printed, one line per metric, and recorded under
collected.sources.METRIC.warnings.

A cloudwatch: source is read with GetMetricData (signed for service monitoring;
endpoint AWS_ENDPOINT_URL_CLOUDWATCH, else AWS_ENDPOINT_URL): the mean of the
whole periods inside the window. The cost: block prices each usage (a constant,
or a source's mean x seconds or sum over the window) and divides by the requests
(--requests, else those of --window-from); a usage without data or 0 requests
leaves cost_per_1000_req unavailable, never 0.

Examples:
  perfcert collect --service ingest-api \\
      --from 2026-11-30T12:00:00Z --to 2026-11-30T12:15:00Z --output usage.json
  perfcert collect --window-from k6-raw.json.gz --service ingest-api \\
      --output usage.json
  perfcert collect --window-from locust-run.json --service ingest-api \\
      --output usage.json
  perfcert collect --from 1796050140 --to 1796051040 --requests 120000 \\
      --output usage.json
  perfcert compare --baseline baseline.json --current k6-summary.json+usage.json

Exit codes: 0 written; 2 bad flags or policy, no sources: block, or a query the
server refused (bad_data, InvalidParameterValue); 3 the endpoint could not be
reached, refused the credentials or failed; 5 no metric could be collected
(nothing written).";

const DRIFT_HELP: &str = "\
Every metric under drift.metrics needs a sources: entry (its Prometheus or AMP
endpoint and PromQL, `$service` replaced by --service); it is queried with
query_range over [--from, --to) at drift.step. A CloudWatch source is read with
GetMetricData; its period must equal drift.step. The baseline of a metric is its
value in --baseline: a results file compare reads, such as `perfcert collect`
over the last stable release's bake window, or a promoted baseline; or that
release's bake record (PASS only; its signature checked with --baseline-key
PUB); or, with --baseline-from/--baseline-to, the mean of the same query over
that past range. A baseline must end by --from and be of the same service (a
bake record: the same query too), else exit 2; a collected value that is not a
mean is no baseline. A metric the baseline lacks, a window without enough
samples, or a partial answer (Prometheus warnings, CloudWatch data not Complete)
is never a PASS.

Examples:
  perfcert collect --service ingest-api \\
      --from 2026-11-23T12:00:00Z --to 2026-11-23T14:00:00Z --output stable.json
  perfcert drift --service ingest-api \\
      --from 2026-11-30T12:00:00Z --to 2026-11-30T13:00:00Z \\
      --baseline stable.json
  perfcert drift --service ingest-api --from 1796040000 --to 1796043600 \\
      --baseline stable.json --format json --output drift.json

Exit codes: 0 healthy (every metric PASS); 1 a window breaches the band (FAIL);
2 bad flags, policy or baseline, a drift metric without a source, or a query the
server refused; 3 an endpoint could not be reached or failed; 5 inconclusive (no
valid window, or two in a row without data); 6 roll back (the rollback flag is
raised).";

const BAKE_HELP: &str = "\
The bake runs from --deployed-at for --duration (at least drift.window, else
exit 2), polling every --poll; a bake whose window is already past is judged at
once, poll by poll, without waiting. Each poll prints one line (before the first
complete window: when it ends). A poll stops the bake when drift's rollback flag
is raised or a complete window's mean is beyond a metric's `max` / `min` (SLO).
The record, perf_verification.json (--output), holds the window, each source's
endpoint and query, the baseline's provenance, the last drift result, the SLO
checks and the status; it is signed with --key or --keyless (predicate
https://perfcert.dev/verification/v1) and archived create-only in --archive as
daily/YYYYMMDD/STEM.verify.json with its bundle STEM.verify.sigstore.json beside
it (YYYYMMDD: the day the range judged ends, UTC), and with --upload under the
same names in S3. A second bake of the same service and version that day is
archived as STEM.2, STEM.3, ... (the first name free in both archives): a record
is never replaced. With --codedeploy-deployment-id, a ROLLBACK also asks
CodeDeploy to stop that deployment and roll it back (never on 0, 1 or 5); the
record says what CodeDeploy answered, and a stop that fails is one error line,
the exit staying 6. The baseline is --baseline FILE, or with --baseline-from
and --baseline-to the mean of the same query over that past range, which must
end by --deployed-at (the record's baseline says it was a range).

Examples:
  COSIGN_PASSWORD=... perfcert bake --key cosign.key \\
      --service ingest-api --version v1.4.2 --baseline stable.json \\
      --deployed-at 2026-11-30T12:00:00Z --duration 30m --poll 1m
  perfcert bake --key cosign.key --service ingest-api --version v1.4.2 \\
      --baseline-from 2026-11-29T12:00:00Z --baseline-to 2026-11-29T14:00:00Z \\
      --deployed-at 2026-11-30T12:00:00Z
  perfcert bake --keyless --upload s3://perf-certs/ingest \\
      --service ingest-api --version v1.4.2 --baseline stable.json \\
      --deployed-at 2026-11-30T12:00:00Z --codedeploy-deployment-id d-ABC123

Exit codes: 0 healthy (PASS); 1 a drift breach (FAIL); 2 bad flags, policy or
baseline; 3 an endpoint, the signing, the archive or the upload failed; 5
inconclusive (no data); 6 roll back (the rollback flag, or an SLO breach; a
signing, archive, upload or CodeDeploy failure after it is one error line on
stderr, the exit staying 6).";

const NOTIFY_HELP: &str = "\
Examples:
  export PERFCERT_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/...
  perfcert notify perf/certificates/20261122/ingest-api-v1.4.2.cert.json \\
      --to slack
  perfcert notify CERT.cert.json --to slack,jira --jira-project PERFREG
  perfcert notify --drift-report drift.json --service ingest-api
  # a bake record
  perfcert notify perf/certificates/daily/20261130/ingest-api-v1.4.2.verify.json

Without --to, every channel configured in the environment is used; none
configured is exit 2.

Jira (a ticket only on FAIL, a bake's FAIL or ROLLBACK, drift's ticket or
rollback; once per document: the marker STEM.jira.json is written beside it
(local only, never uploaded), and an issue labelled perfcert-SHA256[:12] is
found again):
  PERFCERT_JIRA_URL=https://SITE.atlassian.net PERFCERT_JIRA_EMAIL=...
  PERFCERT_JIRA_API_TOKEN=...
  PERFCERT_JIRA_PROJECT (default PERFREG) PERFCERT_JIRA_ISSUE_TYPE (default Bug)
  PERFCERT_NOTIFY_TIMEOUT (seconds per request, default 10)

Exit codes: 0 every channel posted or had nothing to do, 2 bad input or a
channel asked for but not configured (a variable missing: nothing is sent), 3 a
channel failed (one line each on stderr); the verdict's code is never this
command's.";

const INIT_HELP: &str = "\
Examples:
  perfcert init                    # ./perf_thresholds.yml (never overwrites)
  perfcert init --output - | less  # print it instead
  # writes ./approvals.yml, the CAB policy of verify --approvals
  perfcert init --approvals";

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub inputs: InputArgs,

    /// Report format for stdout (or --output).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub format: Format,

    /// Write the report to FILE instead of stdout (replaced atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Judge as look N at this release (decision.method statistical): compare has no archive, so
    /// it is look 1 unless told; each look tests at alpha/looks either way.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub look: Option<u32>,

    #[command(flatten)]
    pub extra: ExtraOutputs,

    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Files a comparison can also write, from the same run.
#[derive(Debug, Args)]
pub struct ExtraOutputs {
    /// Also write a report in FORMAT to PATH (repeatable), e.g. json=perf.json, markdown=comment.md.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report)]
    pub reports: Vec<(Format, PathBuf)>,

    /// Also write a result badge: the SVG to FILE.svg and its shields.io endpoint JSON beside it, FILE.json.
    #[arg(long, value_name = "FILE.svg", value_parser = parse_badge_path)]
    pub badge: Option<PathBuf>,
}

/// What a comparison reads: the runs and the policy.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// One baseline run: perfcert JSON, or k6 / Locust output (format detected from the content).
    /// Repeat for several runs. The files of one run are joined with + (k6.json+usage.json):
    /// k6 raw shards merge exactly; other parts add metrics, a clash is an error.
    /// FORMAT:FILE forces one part's format (k6-json:gen-a.out).
    #[arg(long, value_name = "RUN", default_value = "baseline.json")]
    pub baseline: Vec<PathBuf>,

    /// One current run, as for --baseline.
    #[arg(long, value_name = "RUN", default_value = "current.json")]
    pub current: Vec<PathBuf>,

    /// One duet run instead of --baseline/--current: k6 raw output (--out json, plain or gzip) of
    /// one k6 run that drove both deployments side by side, requests tagged side:baseline and
    /// side:current (the policy's duet: block names the tag, its values and the slice length).
    /// Repeat for several duet runs, swapping where the two deployments run; join the shards of
    /// one run with +. See examples/duet.js.
    #[arg(long, value_name = "RUN", conflicts_with_all = ["baseline", "current", "baseline_format", "current_format"])]
    pub duet: Vec<PathBuf>,

    /// Read every --baseline part without a FORMAT: prefix in this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub baseline_format: Option<InputFormat>,

    /// Read every --current part without a FORMAT: prefix in this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub current_format: Option<InputFormat>,

    /// Where every run of both sides ran (machines, environment), recorded in each run's
    /// fingerprint; see --baseline-testbed and --current-testbed for sides that ran apart.
    #[arg(long, value_name = "LABEL", value_parser = parse_testbed, conflicts_with_all = ["baseline_testbed", "current_testbed"])]
    pub testbed: Option<String>,

    /// Where the baseline runs ran, recorded in their fingerprints and compared with the
    /// current runs' (a run's own fingerprint file must agree).
    #[arg(long, value_name = "LABEL", value_parser = parse_testbed)]
    pub baseline_testbed: Option<String>,

    /// Where the current runs ran, as for --baseline-testbed.
    #[arg(long, value_name = "LABEL", value_parser = parse_testbed)]
    pub current_testbed: Option<String>,

    /// Policy: per-metric tolerances, SLO limits and waivers.
    #[arg(long, value_name = "FILE", default_value = "perf_thresholds.yml")]
    pub thresholds: PathBuf,

    /// Evaluate waiver expiry as of this date (YYYY-MM-DD) instead of today (UTC); certify
    /// accepts only today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,

    /// Learn each metric's run-to-run noise from earlier certificates of the same service in
    /// this archive (a directory, or s3://BUCKET[/PREFIX] with the endpoint from
    /// AWS_ENDPOINT_URL), so that 2-3 current runs can decide (decision: { method: statistical }).
    #[arg(long, value_name = "ARCHIVE")]
    pub noise_from: Option<Location>,

    /// With --noise-from: learn only from certificates whose signature bundle verifies with this
    /// cosign public key (others are left out, with a warning). Without it, history's signatures
    /// are not checked, and the report says so.
    #[arg(long, value_name = "FILE.pub", requires = "noise_from")]
    pub noise_key: Option<PathBuf>,

    /// The reference run the policy's cumulative limits (max_total_increase / max_total_decrease)
    /// judge the current runs against: the last certified release's results, e.g. a promoted
    /// perf_baseline.json (any format --baseline reads; repeat for several runs). The slow-drift
    /// guard: the baseline moves every release, the reference does not.
    #[arg(long, value_name = "RUN")]
    pub reference: Vec<PathBuf>,

    /// The reference the service's releases are held to, from this archive (a directory or
    /// s3://BUCKET[/PREFIX]): the reference the newest PASS certificate of the service was itself
    /// held to (carried forward), or that certificate if it had none. It moves only when a
    /// release is certified with an explicit --reference. certify records it and its sha256.
    #[arg(long, value_name = "ARCHIVE", conflicts_with = "reference")]
    pub reference_from: Option<Location>,

    /// With --reference-from: only a certificate whose signature bundle verifies with this cosign
    /// public key can be the reference (newer ones that do not are passed over, with a warning).
    /// certify requires it.
    #[arg(long, value_name = "FILE.pub", requires = "reference_from")]
    pub reference_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CertifyArgs {
    #[command(flatten)]
    pub inputs: InputArgs,

    /// Service certified (default: the current results file's `service`).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// Version certified (default: the current results file's `version`).
    #[arg(long = "version", value_name = "VERSION")]
    pub service_version: Option<String>,

    /// Source commit (default: the current results file's `commit`, then `git rev-parse HEAD`).
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,

    /// Who approved the release (repeatable); recorded in the certificate.
    #[arg(long = "approver", value_name = "NAME")]
    pub approvers: Vec<String>,

    /// A file being certified, e.g. the release artifact (repeatable); its sha256 is signed.
    #[arg(long = "subject", value_name = "FILE")]
    pub subjects: Vec<PathBuf>,

    /// Something certified by digest, e.g. an image: NAME@sha256:HEX (repeatable).
    #[arg(long = "subject-digest", value_name = "NAME@sha256:HEX", value_parser = parse_subject_digest)]
    pub subject_digests: Vec<(String, String)>,

    #[command(flatten)]
    pub signing: SigningArgs,

    /// The local archive certificates are written to (YYYYMMDD/ and claims/ in it).
    #[arg(long = "archive", visible_alias = "archive-dir", value_name = "DIR", default_value = DEFAULT_ARCHIVE, value_parser = parse_archive)]
    pub archive: Location,

    /// If the certificate exists, write this one under a new name instead of failing.
    #[arg(long)]
    pub force: bool,

    /// Also upload both files to S3, under PREFIX/YYYYMMDD/ (create-only: never overwrites).
    #[arg(long, value_name = "s3://BUCKET[/PREFIX]", value_parser = parse_location)]
    pub upload: Option<S3Location>,

    #[command(flatten)]
    pub s3: UploadArgs,

    #[command(flatten)]
    pub extra: ExtraOutputs,

    #[command(flatten)]
    pub notify: NotifyArgs,

    /// What to print: the paths as text, or a JSON object {status, certificate, bundle}.
    #[arg(long, short = 'f', value_enum, default_value_t = PathsFormat::Text, value_name = "FORMAT")]
    pub format: PathsFormat,
}

/// How objects are written to S3.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Server-side encryption: aws:kms or AES256 (default: the bucket's own).
    #[arg(long, value_name = "ALGORITHM", value_parser = ["aws:kms", "AES256"])]
    pub sse: Option<String>,

    /// With --sse aws:kms: the KMS key (ID, ARN or alias/NAME; default: the account's S3 key).
    #[arg(long, value_name = "KEY")]
    pub sse_kms_key_id: Option<String>,

    /// Object Lock: keep the objects undeletable for this many days (the bucket needs Object Lock).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub retain_days: Option<u32>,

    /// With --retain-days: GOVERNANCE (special permission can lift it) or COMPLIANCE (nobody can).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = RetentionMode::Governance, requires = "retain_days")]
    pub retention_mode: RetentionMode,

    /// S3-compatible endpoint instead of AWS (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum RetentionMode {
    Governance,
    Compliance,
}

/// How certify and bake sign: exactly one of a key or keyless.
#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "mode")]
pub struct SigningMode {
    /// Sign with this cosign private key (password from COSIGN_PASSWORD, or asked on a terminal).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Sign keyless: a short-lived Fulcio certificate for your OIDC identity, logged in Rekor.
    #[arg(long)]
    pub keyless: bool,
}

#[derive(Debug, Args)]
pub struct SigningArgs {
    #[command(flatten)]
    pub mode: SigningMode,

    /// Keyless: the OIDC identity token (prefer the SIGSTORE_ID_TOKEN variable: arguments are visible
    /// to other processes). Default: that variable, then the CI's own token (GitHub Actions needs
    /// `permissions: id-token: write`).
    #[arg(long, value_name = "JWT", requires = "keyless")]
    pub identity_token: Option<String>,

    /// Keyless: Fulcio of another Sigstore instance (default: the public-good instance).
    #[arg(long, value_name = "URL", requires_all = ["keyless", "rekor_url"])]
    pub fulcio_url: Option<String>,

    /// Keyless: its Rekor (API v1) transparency log.
    #[arg(long, value_name = "URL", requires_all = ["keyless", "fulcio_url"])]
    pub rekor_url: Option<String>,

    /// Keyless: also get an RFC 3161 timestamp from this timestamp authority (full URL,
    /// e.g. https://timestamp.example.com/api/v1/timestamp).
    #[arg(long, value_name = "URL", requires_all = ["keyless", "fulcio_url"])]
    pub tsa_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PathsFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The certificate, SERVICE-VERSION.cert.json: a file, or s3://BUCKET/KEY (or find it with
    /// --archive, --service and --version).
    #[arg(value_name = "CERTIFICATE")]
    pub certificate: Option<PathBuf>,

    /// Find the certificate in this archive (a directory or s3://BUCKET[/PREFIX]) by --service and
    /// --version: the newest of that name.
    #[arg(long, value_name = "ARCHIVE", value_parser = parse_archive)]
    pub archive: Option<Location>,

    /// The certificate must be of this service (exit 4 if not); with --archive, finds it.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// The certificate must be of this version (exit 4 if not); with --archive, finds it.
    #[arg(long = "version", value_name = "VERSION")]
    pub service_version: Option<String>,

    /// Its Sigstore bundle, a file or s3://BUCKET/KEY (default: SERVICE-VERSION.sigstore.json beside it).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// S3-compatible endpoint for s3:// locations (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    #[command(flatten)]
    pub signer: SignerArgs,

    /// Require this file to be a certified subject (repeatable).
    #[arg(long = "subject", value_name = "FILE")]
    pub subjects: Vec<PathBuf>,

    /// Require this digest to be a certified subject: NAME@sha256:HEX (repeatable).
    #[arg(long = "subject-digest", value_name = "NAME@sha256:HEX", value_parser = parse_subject_digest)]
    pub subject_digests: Vec<(String, String)>,

    /// Also check the recorded inputs' sha256 and recompute the verdict from them.
    #[arg(long)]
    pub recompute: bool,

    /// The promotion gate: the CAB policy (approvals.yml); exit 0 only when every required role
    /// approved this certificate, each by a signer the policy trusts for it (else 7; a forged
    /// approval is 4).
    #[arg(long, value_name = "FILE")]
    pub approvals: Option<PathBuf>,

    /// With --recompute: the duet runs, as given to certify (instead of --baseline/--current).
    #[arg(long, value_name = "RUN", requires = "recompute", conflicts_with_all = ["baseline", "current"])]
    pub duet: Vec<PathBuf>,

    /// With --recompute: the baseline runs, as given to certify (one per run, parts joined with +).
    #[arg(long, value_name = "RUN", requires = "recompute")]
    pub baseline: Vec<PathBuf>,

    /// With --recompute: the current runs, as given to certify.
    #[arg(long, value_name = "RUN", requires = "recompute")]
    pub current: Vec<PathBuf>,

    /// With --recompute: the policy file.
    #[arg(long, value_name = "FILE", default_value = "perf_thresholds.yml")]
    pub thresholds: PathBuf,

    /// With --recompute: read the baseline files in this format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub baseline_format: Option<InputFormat>,

    /// With --recompute: read the current files in this format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub current_format: Option<InputFormat>,

    /// With --recompute, for a certificate decided with --noise-from: where the history
    /// certificates it recorded are now (default: the archive it recorded).
    #[arg(long, value_name = "ARCHIVE", requires = "recompute")]
    pub noise_from: Option<Location>,

    /// With --recompute: the reference runs, as given to certify.
    #[arg(long, value_name = "RUN", requires = "recompute")]
    pub reference: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecisionArg {
    Approve,
    Reject,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The certificate, SERVICE-VERSION.cert.json: a file, or s3://BUCKET/KEY (or find it with
    /// --archive, --service and --version).
    #[arg(value_name = "CERTIFICATE")]
    pub certificate: Option<PathBuf>,

    /// Find the certificate in this archive (a directory or s3://BUCKET[/PREFIX]) by --service and
    /// --version: the newest of that name.
    #[arg(long, value_name = "ARCHIVE", value_parser = parse_archive)]
    pub archive: Option<Location>,

    /// The certificate must be of this service; with --archive, finds it.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// The certificate must be of this version; with --archive, finds it.
    #[arg(long = "version", value_name = "VERSION")]
    pub service_version: Option<String>,

    /// Its Sigstore bundle (default: SERVICE-VERSION.sigstore.json beside it).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// The role this approval is for, as named in approvals.yml (letters, digits, - and _).
    #[arg(long, value_name = "ROLE")]
    pub role: String,

    /// approve (only a PASS certificate) or reject.
    #[arg(long, value_enum, default_value = "approve")]
    pub decision: DecisionArg,

    /// Why: signed with the approval.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,

    /// Keyless, for a person without a browser on this machine: sign in with this OIDC issuer
    /// (e.g. https://oauth2.sigstore.dev/auth): open the URL printed on any device, then paste
    /// the code it shows.
    #[arg(long, value_name = "URL", requires = "keyless", conflicts_with = "identity_token")]
    pub oidc_issuer: Option<String>,

    /// With --oidc-issuer: the OAuth client id.
    #[arg(long, value_name = "ID", default_value = "sigstore", requires = "oidc_issuer")]
    pub oidc_client_id: String,

    #[command(flatten)]
    pub certificate_signer: CertificateSignerArgs,

    /// The CAB policy (approvals.yml): refuse, before signing, to sign for a role whose trust
    /// does not include the signing key (keyless: before storing, the identity).
    #[arg(long, value_name = "FILE")]
    pub approvals: Option<PathBuf>,

    #[command(flatten)]
    pub signing: SigningArgs,

    /// How the approval is written when the certificate is in S3 (as certify's upload; the
    /// endpoint also serves reading an s3:// certificate).
    #[command(flatten)]
    pub s3: UploadArgs,
}

/// Who must have signed the certificate approve is asked to approve.
#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "certificate_signer")]
pub struct CertificateSignerIdentity {
    /// The certificate signer's public key (cosign.pub).
    #[arg(long, value_name = "FILE")]
    pub certificate_key: Option<PathBuf>,

    /// Keyless certificate: its signer's identity, exactly.
    #[arg(long, value_name = "IDENTITY", requires = "certificate_oidc_issuer")]
    pub certificate_identity: Option<String>,

    /// Keyless certificate: a regular expression its signer's identity must match (anchor it).
    #[arg(long, value_name = "REGEX", requires = "certificate_oidc_issuer")]
    pub certificate_identity_regexp: Option<String>,
}

#[derive(Debug, Args)]
pub struct CertificateSignerArgs {
    #[command(flatten)]
    pub identity: CertificateSignerIdentity,

    /// Keyless certificate: the OIDC issuer that vouched for its signer.
    #[arg(long, value_name = "URL", conflicts_with = "certificate_key")]
    pub certificate_oidc_issuer: Option<String>,

    /// Keyless certificate: the Sigstore trusted root to verify it against (default: public-good).
    #[arg(long, value_name = "FILE", conflicts_with = "certificate_key")]
    pub trusted_root: Option<PathBuf>,
}

/// Who must have signed: a public key, or a keyless identity and its OIDC issuer.
#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "signer")]
pub struct SignerIdentity {
    /// The signer's public key (cosign.pub).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Keyless: the signer's identity, exactly (e.g. the workflow URI
    /// https://github.com/ORG/REPO/.github/workflows/perf.yml@refs/heads/main).
    #[arg(long, value_name = "IDENTITY", requires = "certificate_oidc_issuer")]
    pub certificate_identity: Option<String>,

    /// Keyless: a regular expression the signer's identity must match (anchor it with ^...$).
    #[arg(long, value_name = "REGEX", requires = "certificate_oidc_issuer")]
    pub certificate_identity_regexp: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignerArgs {
    #[command(flatten)]
    pub identity: SignerIdentity,

    /// Keyless: the OIDC issuer that vouched for the identity, e.g. https://token.actions.githubusercontent.com.
    #[arg(long, value_name = "URL", conflicts_with = "key")]
    pub certificate_oidc_issuer: Option<String>,

    /// Keyless: the Sigstore trusted root (trusted_root.json) to verify against, offline
    /// (default: the public-good root built into perfcert).
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub trusted_root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UploadCmdArgs {
    /// The certificate, ARCHIVE/YYYYMMDD/SERVICE-VERSION.cert.json (its .sigstore.json goes too).
    #[arg(value_name = "CERTIFICATE")]
    pub certificate: PathBuf,

    /// Destination.
    #[arg(long, value_name = "s3://BUCKET[/PREFIX]", value_parser = parse_location)]
    pub to: S3Location,

    #[command(flatten)]
    pub s3: UploadArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The archive: a directory laid out by certify, or s3://BUCKET[/PREFIX] (default: perf/certificates).
    #[arg(value_name = "ARCHIVE", value_parser = parse_archive)]
    pub archive: Option<Location>,

    /// The archive, as the other commands take it (same as ARCHIVE).
    #[arg(long = "archive", value_name = "ARCHIVE", value_parser = parse_archive, conflicts_with = "archive")]
    pub archive_flag: Option<Location>,

    /// Only this service's certificates.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// Only certificates from this day (YYYY-MM-DD, UTC) on.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<Date>,

    /// A table, or a JSON array of {date, service, version, status, signer, certificate}.
    #[arg(long, short = 'f', value_enum, default_value_t = PathsFormat::Text, value_name = "FORMAT")]
    pub format: PathsFormat,

    /// S3-compatible endpoint for s3:// archives (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The archive: a directory laid out by certify, or s3://BUCKET[/PREFIX] (default: perf/certificates).
    #[arg(value_name = "ARCHIVE", value_parser = parse_archive)]
    pub archive: Option<Location>,

    /// The archive, as the other commands take it (same as ARCHIVE).
    #[arg(long = "archive", value_name = "ARCHIVE", value_parser = parse_archive, conflicts_with = "archive")]
    pub archive_flag: Option<Location>,

    /// The service whose releases to show.
    #[arg(long, value_name = "NAME")]
    pub service: String,

    /// Show the last N releases (a version certified more than once is one release).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub last: u32,

    /// html: one self-contained page; pdf: that page printed by headless Chromium (A4).
    #[arg(long, short = 'f', value_enum, default_value_t = PageFormat::Html, value_name = "FORMAT")]
    pub format: PageFormat,

    /// Write the report to FILE (replaced atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,

    /// The Chromium or Chrome binary for --format pdf (default: PERFCERT_CHROMIUM, else chromium,
    /// chromium-browser or google-chrome on PATH).
    #[arg(long, value_name = "PATH")]
    pub chromium: Option<PathBuf>,

    /// Stop Chromium after this many seconds (--format pdf).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub chromium_timeout: u64,

    /// S3-compatible endpoint for s3:// archives (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// The formats of `perfcert report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PageFormat {
    /// A self-contained HTML page (inline CSS and SVG; no script, no network).
    Html,
    /// The same page as an A4 PDF, printed by headless Chromium.
    Pdf,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Verify a PASS certificate and write its current side as a baseline results file.
    #[command(after_help = PROMOTE_HELP)]
    Promote(Box<PromoteArgs>),
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The certificate, SERVICE-VERSION.cert.json: a file or s3://BUCKET/KEY (or find it by
    /// --archive, --service and --version).
    #[arg(value_name = "CERTIFICATE")]
    pub certificate: Option<PathBuf>,

    /// Find the certificate in this archive (a directory or s3://BUCKET[/PREFIX]) by --service and
    /// --version: the newest of that name.
    #[arg(long, value_name = "ARCHIVE", value_parser = parse_archive)]
    pub archive: Option<Location>,

    /// With --archive: the service whose certificate to promote.
    #[arg(long, value_name = "NAME", requires = "archive")]
    pub service: Option<String>,

    /// With --archive: the version whose certificate to promote.
    #[arg(long = "version", value_name = "VERSION", requires = "archive")]
    pub service_version: Option<String>,

    /// Its Sigstore bundle, a file or s3://BUCKET/KEY (default: SERVICE-VERSION.sigstore.json beside it).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// S3-compatible endpoint for s3:// locations (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    #[command(flatten)]
    pub signer: SignerArgs,

    /// Where to write the baseline; `-` prints it.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "perf_baseline.json")]
    pub output: PathBuf,

    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The archive: a directory laid out by certify, or s3://BUCKET[/PREFIX] (default: perf/certificates).
    #[arg(value_name = "ARCHIVE", value_parser = parse_archive)]
    pub archive: Option<Location>,

    /// The archive, as the other commands take it (same as ARCHIVE).
    #[arg(long = "archive", value_name = "ARCHIVE", value_parser = parse_archive, conflicts_with = "archive")]
    pub archive_flag: Option<Location>,

    /// The service whose releases to show.
    #[arg(long, value_name = "NAME")]
    pub service: String,

    /// How many releases to show, the newest last.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub last: u32,

    /// Output format for stdout (or --output).
    #[arg(long, short = 'f', value_enum, default_value_t = HistoryFormat::Table, value_name = "FORMAT")]
    pub format: HistoryFormat,

    /// Write it to FILE instead of stdout (replaced atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// S3-compatible endpoint for s3:// archives (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct GrafanaArgs {
    /// The Grafana data source the panels query (athena, the only kind so far).
    #[arg(long, value_name = "KIND", value_parser = ["athena"], default_value = "athena")]
    pub datasource: String,

    /// The Athena database that holds the index table.
    #[arg(long, value_name = "DB", default_value = "perfcert", value_parser = parse_sql_name)]
    pub database: String,

    /// The Athena table over the archive's index/ prefix.
    #[arg(long, value_name = "TABLE", default_value = "perfcert_index", value_parser = parse_sql_name)]
    pub table: String,
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Write the index line of every certificate that lacks one (create-only; safe to repeat).
    #[command(after_help = INDEX_REBUILD_HELP)]
    Rebuild(IndexRebuildArgs),
}

#[derive(Debug, Args)]
pub struct IndexRebuildArgs {
    /// The archive: a directory laid out by certify, or s3://BUCKET[/PREFIX] (default: perf/certificates).
    #[arg(value_name = "ARCHIVE", value_parser = parse_archive)]
    pub archive: Option<Location>,

    /// The archive, as the other commands take it (same as ARCHIVE).
    #[arg(long = "archive", value_name = "ARCHIVE", value_parser = parse_archive, conflicts_with = "archive")]
    pub archive_flag: Option<Location>,

    /// S3-compatible endpoint for s3:// archives (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write PREFIX.key and PREFIX.pub; existing files are never overwritten.
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: String,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Start of the run's window: RFC 3339 (2026-11-30T12:00:00Z) or unix seconds.
    #[arg(long, value_name = "TIME", value_parser = parse_time, required_unless_present = "window_from", requires = "to")]
    pub from: Option<jiff::Timestamp>,

    /// End of the run's window, as for --from.
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "from")]
    pub to: Option<jiff::Timestamp>,

    /// The window of a load-test output: k6 raw (`--out json`) or CSV (`--out csv`), plain or
    /// gzip, from its first to its last sample; Locust `--json-file` (earliest start_time to latest
    /// last_request_timestamp) or PREFIX_stats_history.csv (also found next to a PREFIX_stats.csv).
    /// A k6 summary holds no times: give --from/--to. Instead of --from/--to.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "to"])]
    pub window_from: Option<PathBuf>,

    /// Policy with the `sources:` block.
    #[arg(long, value_name = "FILE", default_value = "perf_thresholds.yml")]
    pub thresholds: PathBuf,

    /// Service: replaces `$service` in the queries, and is written as the results' `service`.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// Version tested, written as the results' `version`.
    #[arg(long = "version", value_name = "VERSION")]
    pub service_version: Option<String>,

    /// The run's request count, for the policy's `cost:` estimate (default: the requests in the
    /// --window-from output).
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,

    /// Where to write the results (replaced if it exists).
    #[arg(long, short = 'o', value_name = "FILE", default_value = "collected.json")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Service: replaces `$service` in the sources' queries.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// Start of the range judged: RFC 3339 (2026-11-30T12:00:00Z) or unix seconds.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: jiff::Timestamp,

    /// End of the range (excluded), as for --from.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: jiff::Timestamp,

    /// Policy with the `drift:` and `sources:` blocks.
    #[arg(long, value_name = "FILE", default_value = "perf_thresholds.yml")]
    pub thresholds: PathBuf,

    /// The baseline: a results file (any format compare reads) holding each drift metric's value,
    /// or the last stable release's bake record (perf_verification.json, PASS only): each metric's
    /// mean over its bake. Or --baseline-from/--baseline-to.
    #[arg(long, value_name = "FILE", required_unless_present = "baseline_from", conflicts_with = "baseline_from")]
    pub baseline: Option<PathBuf>,

    /// Check the --baseline bake record's signature with this cosign public key: its bundle
    /// (NAME.sigstore.json beside NAME.json) must verify and sign it (exit 4 otherwise).
    #[arg(long, value_name = "PUB", requires = "baseline")]
    pub baseline_key: Option<PathBuf>,

    /// Instead of --baseline: each metric's baseline is the mean of the same query over
    /// [--baseline-from, --baseline-to) (e.g. the last stable release's bake), as for --from.
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "baseline_to")]
    pub baseline_from: Option<jiff::Timestamp>,

    /// End of the baseline range, as for --from.
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "baseline_from")]
    pub baseline_to: Option<jiff::Timestamp>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DriftFormat::Table, value_name = "FORMAT")]
    pub format: DriftFormat,

    /// Also reconcile the cost estimate with AWS Cost Explorer (the policy's cost.explorer):
    /// the actual spend of the UTC days the range touches over their requests, beside the
    /// baseline's cost_per_1000_req, flagged beyond the tolerance. For the daily run, not a bake.
    #[arg(long)]
    pub cost_explorer: bool,

    /// Write the report to FILE (replaced if it exists) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub notify: NotifyArgs,
}

#[derive(Debug, Args)]
pub struct BakeArgs {
    /// Service: replaces `$service` in the sources' queries; names the record.
    #[arg(long, value_name = "NAME")]
    pub service: String,

    /// The version deployed; names the record.
    #[arg(long, value_name = "VERSION")]
    pub version: String,

    /// The baseline: a results file (any format compare reads) holding each drift metric's value,
    /// or the last stable release's bake record (perf_verification.json, PASS only). Or
    /// --baseline-from/--baseline-to.
    #[arg(long, value_name = "FILE", required_unless_present = "baseline_from", conflicts_with = "baseline_from")]
    pub baseline: Option<PathBuf>,

    /// Check the --baseline bake record's signature with this cosign public key (as for drift).
    #[arg(long, value_name = "PUB", requires = "baseline")]
    pub baseline_key: Option<PathBuf>,

    /// Instead of --baseline (as for drift): each metric's baseline is the mean of the same
    /// query over [--baseline-from, --baseline-to), a past range that ends by --deployed-at
    /// (e.g. the last stable release's bake); no collected file needed for a first bake.
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "baseline_to")]
    pub baseline_from: Option<jiff::Timestamp>,

    /// End of the baseline range, as for --deployed-at.
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "baseline_from")]
    pub baseline_to: Option<jiff::Timestamp>,

    /// When the version went live: RFC 3339 (2026-11-30T12:00:00Z) or unix seconds.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub deployed_at: jiff::Timestamp,

    /// How long to watch from --deployed-at (s, m or h: 90s, 30m, 2h).
    #[arg(long, value_name = "SPAN", default_value = "30m", value_parser = parse_span)]
    pub duration: i64,

    /// How often to judge (as --duration).
    #[arg(long, value_name = "SPAN", default_value = "1m", value_parser = parse_span)]
    pub poll: i64,

    /// Policy with the `drift:`, `sources:` and `metrics:` blocks.
    #[arg(long, value_name = "FILE", default_value = "perf_thresholds.yml")]
    pub thresholds: PathBuf,

    #[command(flatten)]
    pub signing: SigningArgs,

    /// The local archive the record goes to.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARCHIVE)]
    pub archive: PathBuf,

    /// Also archive the record and its bundle in S3, under PREFIX/daily/YYYYMMDD/ (create-only).
    #[arg(long, value_name = "s3://BUCKET[/PREFIX]", value_parser = parse_location)]
    pub upload: Option<S3Location>,

    #[command(flatten)]
    pub s3: UploadArgs,

    /// On a roll-back signal (exit 6), ask AWS CodeDeploy to stop this deployment and roll it
    /// back (StopDeployment, autoRollbackEnabled); credentials and region from the AWS chain,
    /// endpoint from AWS_ENDPOINT_URL_CODEDEPLOY or AWS_ENDPOINT_URL.
    #[arg(long, value_name = "ID")]
    pub codedeploy_deployment_id: Option<String>,

    /// Where to write the record (replaced if it exists).
    #[arg(long, short = 'o', value_name = "FILE", default_value = "perf_verification.json")]
    pub output: PathBuf,

    /// The record posted at the end (the Jira marker beside the archived record); never the exit code.
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// `90s`, `30m`, `2h` (a bare number is seconds) to milliseconds; at least one second.
fn parse_span(value: &str) -> Result<i64, String> {
    let t = value.trim();
    let (number, scale) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1_000),
        Some((i, 'm')) => (&t[..i], 60_000),
        Some((i, 'h')) => (&t[..i], 3_600_000),
        _ => (t, 1_000),
    };
    match number.trim().parse::<i64>() {
        Ok(n) if (1..=366 * 24 * 3600).contains(&n) => Ok(n * scale),
        _ => Err(format!("expected a whole number of s, m or h (90s, 30m, 2h), found `{value}`")),
    }
}

/// RFC 3339 with a UTC offset, or whole unix seconds.
fn parse_time(value: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(seconds) = value.parse::<i64>() {
        return jiff::Timestamp::from_second(seconds).map_err(|e| format!("`{value}`: {e}"));
    }
    value
        .parse::<jiff::Timestamp>()
        .map_err(|_| format!("expected RFC 3339 (2026-11-30T12:00:00Z) or unix seconds, found `{value}`"))
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the policy; `-` prints it. An existing file is never overwritten.
    /// Default: perf_thresholds.yml (with --approvals: approvals.yml).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write a commented approvals.yml (the CAB policy verify --approvals reads) instead.
    #[arg(long)]
    pub approvals: bool,
}

#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// The test script (k6 script, locustfile): its sha256 is recorded as script_sha256.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// The load-test tool: k6, locust.
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,

    /// The tool's version (k6 version, locust --version).
    #[arg(long, value_name = "VERSION")]
    pub tool_version: Option<String>,

    /// k6 scenario names, comma-separated.
    #[arg(long, value_name = "NAMES")]
    pub scenarios: Option<String>,

    /// The most k6 VUs (vus, or maxVUs).
    #[arg(long, value_name = "N")]
    pub vus_max: Option<f64>,

    /// Locust users (-u).
    #[arg(long, value_name = "N")]
    pub users: Option<f64>,

    /// Locust spawn rate (-r), users per second.
    #[arg(long, value_name = "RATE")]
    pub spawn_rate: Option<f64>,

    /// Arrival rate, iterations started per second.
    #[arg(long, value_name = "RATE")]
    pub rate: Option<f64>,

    /// How long the test runs: seconds, or 25s, 1m30s, 500ms.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// Where it runs: a label of the machines and environment.
    #[arg(long, value_name = "LABEL")]
    pub testbed: Option<String>,

    /// Write to FILE instead of stdout (replaced atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Where else a result goes: `--notify` on compare, certify, drift and bake.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Also post the result: slack (PERFCERT_SLACK_WEBHOOK_URL); jira, with certify, drift and
    /// bake: an issue on FAIL (drift: a ticket or roll back; bake: FAIL or ROLLBACK), once per
    /// certificate, report or record
    /// (PERFCERT_JIRA_URL, _EMAIL, _API_TOKEN). See `perfcert notify --help`. A failure is one
    /// line on stderr and never changes the exit code.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "slack,jira")]
    pub notify: Vec<NotifyChannel>,

    /// The Jira project key (default: PERFCERT_JIRA_PROJECT, else PERFREG: Jira keys hold no hyphen).
    #[arg(long, value_name = "KEY")]
    pub jira_project: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotifyChannel {
    Slack,
    Jira,
}

#[derive(Debug, Args)]
pub struct NotifyCmdArgs {
    /// A certificate (STEM.cert.json), a bake record (STEM.verify.json) or a drift report
    /// (drift --format json), told apart by their content; the Jira marker is written beside it.
    #[arg(value_name = "FILE", required_unless_present = "drift_report", conflicts_with = "drift_report")]
    pub certificate: Option<PathBuf>,

    /// A drift report instead (perfcert drift --format json --output FILE).
    #[arg(long, value_name = "FILE")]
    pub drift_report: Option<PathBuf>,

    /// For a drift report that names no `service`: the service watched (a drift report
    /// without either is refused).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// Where to post (default: every channel configured in the environment: slack when
    /// PERFCERT_SLACK_WEBHOOK_URL is set, jira when PERFCERT_JIRA_URL, _EMAIL or _API_TOKEN is).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "slack,jira")]
    pub to: Vec<NotifyChannel>,

    /// The Jira project key (default: PERFCERT_JIRA_PROJECT, else PERFREG).
    #[arg(long, value_name = "KEY")]
    pub jira_project: Option<String>,

    /// A link for the message and the ticket (https://), e.g. the CI run or the report.
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
}

#[derive(Debug, Args)]
pub struct BadgeArgs {
    /// A JSON report (compare --format json) or a certificate (.cert.json).
    #[arg(value_name = "FILE")]
    pub input: PathBuf,

    /// svg, or shields: a shields.io endpoint JSON (https://shields.io/badges/endpoint-badge).
    #[arg(long, short = 'f', value_enum, default_value_t = BadgeFormat::Svg, value_name = "FORMAT")]
    pub format: BadgeFormat,

    /// Write the badge to FILE instead of stdout (replaced atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BadgeFormat {
    Svg,
    Shields,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write perfcert.1 and one page per command (perfcert-compare.1, ...) into DIR
    /// instead of printing perfcert.1.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// `--badge` takes the SVG's path; its JSON twin is the same path ending in `.json`.
fn parse_badge_path(value: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(value);
    if path.extension().is_none_or(|e| !e.eq_ignore_ascii_case("svg")) || path.file_stem().is_none() {
        return Err(format!(
            "expected a path ending in .svg, found `{value}` (the shields.io JSON is written beside it, as .json)"
        ));
    }
    Ok(path)
}

fn parse_report(value: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = value.split_once('=').ok_or_else(|| format!("expected FORMAT=PATH, found `{value}`"))?;
    let format = Format::from_str(format, true)
        .map_err(|_| format!("unknown report format `{format}`; expected one of table, json, markdown, junit, html"))?;
    if path.is_empty() {
        return Err(format!("no path after `{}=`", value.split('=').next().unwrap_or_default()));
    }
    Ok((format, PathBuf::from(path)))
}

/// `NAME@sha256:HEX` -> (NAME, lowercase HEX).
fn parse_subject_digest(value: &str) -> Result<(String, String), String> {
    let (name, digest) =
        value.rsplit_once("@sha256:").ok_or_else(|| format!("expected NAME@sha256:HEX, found `{value}`"))?;
    if name.is_empty() || digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("expected NAME@sha256: and 64 hex digits, found `{value}`"));
    }
    Ok((name.to_string(), digest.to_ascii_lowercase()))
}

fn parse_location(value: &str) -> Result<S3Location, String> {
    value.parse()
}

fn parse_archive(value: &str) -> Result<Location, String> {
    value.parse()
}

impl ValueEnum for InputFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &InputFormat::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.help()))
    }
}

impl ValueEnum for HistoryFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &HistoryFormat::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.help()))
    }
}

/// An Athena database or table name, as the dashboard's queries name it.
fn parse_sql_name(value: &str) -> Result<String, String> {
    if crate::grafana::valid_name(value) {
        Ok(value.to_string())
    } else {
        Err(format!("expected letters, digits and _ only, found `{value}`"))
    }
}

impl ValueEnum for DriftFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &DriftFormat::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.help()))
    }
}

fn parse_date(value: &str) -> Result<Date, String> {
    value.parse().map_err(|_| format!("expected a date YYYY-MM-DD, found `{value}`"))
}

/// A testbed label, as fingerprints hold it (one line of text).
fn parse_testbed(value: &str) -> Result<String, String> {
    let key = crate::fingerprint::key("testbed").ok_or("testbed is a fingerprint key")?;
    crate::fingerprint::normalize(key, crate::fingerprint::Given::Text(value))
}
