//! Arguments, stage two: the raw flags of [`crate::cli`] become typed, validated options, once.
//!
//! Commands read only these types, never clap's structs: combinations clap cannot express are
//! checked here (an S3 flag without a destination, a regular expression that does not compile),
//! so a command never meets an impossible case. Nothing here touches files or the network.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use jiff::civil::Date;

use crate::cli;
use crate::exit::Failure;
use crate::input::{self, spec::RunSpec};
use crate::report;
use crate::signing::keyless::{IdentityRule, Instance};
use crate::store::{Encryption, Location, PutOptions, Retention, S3Location};

/// Flags every command takes.
#[derive(Debug, Clone)]
pub struct Global {
    pub color: Color,
    pub quiet: bool,
    pub verbose: bool,
    pub no_github: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl From<&cli::Cli> for Global {
    fn from(c: &cli::Cli) -> Global {
        let color = match c.color {
            cli::ColorChoice::Auto => Color::Auto,
            cli::ColorChoice::Always => Color::Always,
            cli::ColorChoice::Never => Color::Never,
        };
        Global { color, quiet: c.quiet, verbose: c.verbose, no_github: c.no_github }
    }
}

/// What a comparison reads: both sides' runs and the policy.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// One entry per `--baseline`: a run, its parts joined with `+` ([`input::spec`]).
    pub baseline: Vec<RunSpec>,
    pub current: Vec<RunSpec>,
    /// One entry per `--duet`: a duet run (both sides in one k6 run), its shards joined with `+`.
    /// When given, `baseline` and `current` are empty.
    pub duet: Vec<RunSpec>,
    pub baseline_format: Option<input::Format>,
    pub current_format: Option<input::Format>,
    pub thresholds: PathBuf,
    /// Judge waivers on this day instead of today (UTC).
    pub as_of: Option<Date>,
    /// Learn the run-to-run noise from this archive's earlier certificates ([`crate::history`]).
    pub noise_from: Option<crate::store::Location>,
    /// `verify --recompute`: the history as the certificate recorded it, read again instead of
    /// listing the archive.
    pub noise_recorded: Option<crate::history::Recorded>,
    /// Learn only from certificates signed with this cosign public key.
    pub noise_key: Option<PathBuf>,
    /// The service the runs are of when a flag names it (certify --service); else the current
    /// results' own `service`. History is learned from this service's certificates only.
    pub service: Option<String>,
    /// The version being certified when a flag names it (certify --version); else the current
    /// results' own `version`. `--reference-from` never takes a certificate of it.
    pub version: Option<String>,
    /// Which look at the release this is (`decision.method: statistical`).
    pub look: LookAt,
    /// `--baseline-testbed` / `--current-testbed` (or `--testbed` for both): the testbed label
    /// every run of that side gets in its fingerprint.
    pub baseline_testbed: Option<String>,
    pub current_testbed: Option<String>,
    /// `--reference`: the runs the policy's cumulative limits (`max_total_*`) judge against.
    pub reference: Vec<RunSpec>,
    /// `--reference-from`: the newest PASS certificate of the service in this archive is the
    /// reference instead.
    pub reference_from: Option<Location>,
    /// `--reference-key`: the key the reference certificate must be signed with.
    pub reference_key: Option<PathBuf>,
}

/// Which look at a release a statistical comparison is (issue 14 §3); the threshold method has
/// no looks and ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookAt {
    /// Look N (1-based) of at most `decision.looks`, each at `alpha / looks`.
    Nth(u32),
    /// Recomputing a version-1 certificate, made before looks existed: at the full alpha, with
    /// no decision record.
    BeforeLooks,
}

/// Each argument is one run; a path that exists as a file is taken whole.
fn runs(args: &[PathBuf]) -> Vec<RunSpec> {
    args.iter().map(|a| input::spec::parse(a, &|p: &Path| p.is_file())).collect()
}

impl From<cli::InputArgs> for Inputs {
    fn from(a: cli::InputArgs) -> Inputs {
        let (baseline_testbed, current_testbed) = match a.testbed {
            Some(both) => (Some(both.clone()), Some(both)),
            None => (a.baseline_testbed, a.current_testbed),
        };
        let duet = runs(&a.duet);
        let side = |args: &[PathBuf]| if duet.is_empty() { runs(args) } else { vec![] };
        Inputs {
            baseline: side(&a.baseline),
            current: side(&a.current),
            duet,
            baseline_format: a.baseline_format,
            current_format: a.current_format,
            thresholds: a.thresholds,
            as_of: a.as_of,
            noise_from: a.noise_from,
            noise_key: a.noise_key,
            noise_recorded: None,
            service: None,
            version: None,
            look: LookAt::Nth(1),
            baseline_testbed,
            current_testbed,
            reference: runs(&a.reference),
            reference_from: a.reference_from,
            reference_key: a.reference_key,
        }
    }
}

/// Files a comparison also writes besides its main output.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub reports: Vec<(report::Format, PathBuf)>,
    /// The badge's SVG; its shields.io JSON goes beside it.
    pub badge: Option<PathBuf>,
}

impl Outputs {
    /// Every path these write (a badge is two files).
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.reports.iter().map(|(_, p)| p.clone()).collect();
        if let Some((svg, json)) = self.badge_paths() {
            paths.extend([svg, json]);
        }
        paths
    }

    /// `--badge`'s SVG and, beside it, its shields.io JSON twin.
    pub fn badge_paths(&self) -> Option<(PathBuf, PathBuf)> {
        self.badge.as_ref().map(|svg| (svg.clone(), svg.with_extension("json")))
    }
}

impl From<cli::ExtraOutputs> for Outputs {
    fn from(a: cli::ExtraOutputs) -> Outputs {
        Outputs { reports: a.reports, badge: a.badge }
    }
}

/// What certify and list print: text for people, or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    Text,
    Json,
}

impl From<cli::PathsFormat> for Print {
    fn from(f: cli::PathsFormat) -> Print {
        match f {
            cli::PathsFormat::Text => Print::Text,
            cli::PathsFormat::Json => Print::Json,
        }
    }
}

/// `perfcert compare`.
#[derive(Debug)]
pub struct Compare {
    pub inputs: Inputs,
    pub format: report::Format,
    pub output: Option<PathBuf>,
    pub outputs: Outputs,
    pub notify: NotifyTo,
}

/// Where a result is also posted (`--notify`), and the Jira project asked for. The project key
/// is checked when the ticket is filed, so a bad one is that channel's one-line failure.
#[derive(Debug, Clone, Default)]
pub struct NotifyTo {
    pub channels: Vec<crate::notify::send::Channel>,
    pub jira_project: Option<String>,
}

impl From<cli::NotifyArgs> for NotifyTo {
    fn from(a: cli::NotifyArgs) -> NotifyTo {
        NotifyTo { channels: channels(&a.notify), jira_project: a.jira_project }
    }
}

/// The channels named, each once, in order.
pub fn channels(given: &[cli::NotifyChannel]) -> Vec<crate::notify::send::Channel> {
    use crate::notify::send::Channel;
    let mut all = vec![];
    for c in given {
        let c = match c {
            cli::NotifyChannel::Slack => Channel::Slack,
            cli::NotifyChannel::Jira => Channel::Jira,
        };
        if !all.contains(&c) {
            all.push(c);
        }
    }
    all
}

impl From<cli::CompareArgs> for Compare {
    fn from(a: cli::CompareArgs) -> Compare {
        let mut inputs: Inputs = a.inputs.into();
        inputs.look = LookAt::Nth(a.look.unwrap_or(1));
        Compare { inputs, format: a.format, output: a.output, outputs: a.extra.into(), notify: a.notify.into() }
    }
}

/// How certify signs.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A cosign private key file.
    Key(PathBuf),
    /// Keyless: a token given (else the CI's own), and the Sigstore instance.
    Keyless { token: Option<String>, instance: Instance, person: Option<Person> },
}

/// A person signing keyless without a browser here: the OIDC issuer to sign in with (the
/// paste-the-code flow) and its OAuth client id.
#[derive(Debug, Clone)]
pub struct Person {
    pub issuer: String,
    pub client_id: String,
}

impl Signer {
    /// From the signing options certify and bake share.
    pub fn from_args(s: cli::SigningArgs) -> Signer {
        match s.mode.key {
            Some(path) => Signer::Key(path),
            None => Signer::Keyless {
                token: s.identity_token,
                person: None,
                instance: match (s.fulcio_url, s.rekor_url) {
                    (Some(fulcio), Some(rekor)) => Instance::Custom { fulcio, rekor, tsa: s.tsa_url },
                    _ => Instance::PublicGood,
                },
            },
        }
    }
}

/// Writing to S3: where, and how every object is written.
#[derive(Debug, Clone)]
pub struct S3Write {
    pub location: S3Location,
    pub endpoint: Option<String>,
    pub put: PutOptions,
    /// The S3 flags as given, to repeat in advice (`perfcert upload ... FLAGS`): a pasted
    /// recovery command must upload with the encryption and retention that were asked for.
    pub flags: Vec<String>,
}

impl S3Write {
    fn from_args(location: S3Location, a: &cli::UploadArgs) -> Result<S3Write, Failure> {
        let put = S3Write::put_options(a)?;
        let compliance = a.retention_mode == cli::RetentionMode::Compliance;
        let mut flags = vec![];
        let mut flag = |name: &str, value: &str| flags.extend([name.to_string(), value.to_string()]);
        if let Some(url) = &a.endpoint_url {
            flag("--endpoint-url", url);
        }
        if let Some(sse) = &a.sse {
            flag("--sse", sse);
        }
        if let Some(key) = &a.sse_kms_key_id {
            flag("--sse-kms-key-id", key);
        }
        if let Some(days) = a.retain_days {
            flag("--retain-days", &days.to_string());
            flag("--retention-mode", if compliance { "COMPLIANCE" } else { "GOVERNANCE" });
        }
        Ok(S3Write { location, endpoint: a.endpoint_url.clone(), put, flags })
    }

    /// The encryption and retention the S3 write flags ask for.
    pub fn put_options(a: &cli::UploadArgs) -> Result<PutOptions, Failure> {
        let encryption = match (a.sse.as_deref(), &a.sse_kms_key_id) {
            (None, None) => None,
            (Some("AES256"), None) => Some(Encryption::Aes256),
            (Some("aws:kms"), key_id) => Some(Encryption::Kms { key_id: key_id.clone() }),
            (_, Some(_)) => return Err(Failure::input(anyhow!("--sse-kms-key-id needs --sse aws:kms"))),
            (Some(other), None) => return Err(Failure::input(anyhow!("--sse {other}: expected aws:kms or AES256"))),
        };
        let compliance = a.retention_mode == cli::RetentionMode::Compliance;
        let retention = a.retain_days.map(|days| Retention {
            compliance,
            until: jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * i64::from(days)),
        });
        Ok(PutOptions { encryption, retention })
    }

    /// `--upload` and the S3 write flags (which need it).
    pub fn upload(upload: Option<S3Location>, a: &cli::UploadArgs) -> Result<Option<S3Write>, Failure> {
        match upload {
            Some(location) => Ok(Some(S3Write::from_args(location, a)?)),
            None if S3Write::any_flag(a) => Err(Failure::input(anyhow!(
                "--sse, --sse-kms-key-id, --retain-days and --endpoint-url need --upload s3://BUCKET[/PREFIX]"
            ))),
            None => Ok(None),
        }
    }

    /// Whether any S3 write flag was given (they need a destination).
    fn any_flag(a: &cli::UploadArgs) -> bool {
        a.sse.is_some() || a.sse_kms_key_id.is_some() || a.retain_days.is_some() || a.endpoint_url.is_some()
    }
}

/// `perfcert certify`.
#[derive(Debug)]
pub struct Certify {
    pub inputs: Inputs,
    pub outputs: Outputs,
    pub service: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
    pub approvers: Vec<String>,
    pub subjects: Vec<PathBuf>,
    pub subject_digests: Vec<(String, String)>,
    pub signer: Signer,
    /// The local archive, always written.
    pub archive: PathBuf,
    pub force: bool,
    pub upload: Option<S3Write>,
    pub format: Print,
    pub notify: NotifyTo,
}

impl TryFrom<cli::CertifyArgs> for Certify {
    type Error = Failure;

    fn try_from(a: cli::CertifyArgs) -> Result<Certify, Failure> {
        let upload = S3Write::upload(a.upload, &a.s3)?;
        let archive = match a.archive {
            Location::Dir(dir) => dir,
            Location::S3(l) => {
                return Err(Failure::input(anyhow!(
                    "--archive {l}: certify writes a local archive first; pass --upload {l} to copy it to S3"
                )));
            }
        };
        let signer = Signer::from_args(a.signing);
        let mut inputs: Inputs = a.inputs.into();
        inputs.as_of = Some(certify_day(inputs.as_of, today_utc())?);
        inputs.service = a.service.clone();
        inputs.version = a.service_version.clone();
        if inputs.reference_from.is_some() && inputs.reference_key.is_none() {
            return Err(Failure::input(anyhow!(
                "certify --reference-from needs --reference-key (the public key that signs the archive's certificates): \
                 a signed certificate must not rest on a reference whose signature was not checked"
            )));
        }
        if inputs.noise_from.is_some() && inputs.noise_key.is_none() {
            return Err(Failure::input(anyhow!(
                "certify --noise-from needs --noise-key (the public key that signs the archive's certificates): a signed \
                 certificate must not rest on history whose signatures were not checked"
            )));
        }
        Ok(Certify {
            inputs,
            outputs: a.extra.into(),
            service: a.service,
            version: a.service_version,
            commit: a.commit,
            approvers: a.approvers,
            subjects: a.subjects,
            subject_digests: a.subject_digests,
            signer,
            archive,
            force: a.force,
            upload,
            format: a.format.into(),
            notify: a.notify.into(),
        })
    }
}

/// Today in UTC: the day certify decides on.
fn today_utc() -> Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The day certify judges waivers on: always `today`. certify signs a decision about the
/// release in front of it, so an `--as-of` in the past would sign today's FAIL as a PASS
/// through a waiver that expired long ago (and one in the future would honour a waiver early).
/// compare and `verify --recompute` keep `--as-of` to re-run a recorded decision.
pub fn certify_day(as_of: Option<Date>, today: Date) -> Result<Date, Failure> {
    match as_of {
        None => Ok(today),
        Some(day) if day == today => Ok(today),
        Some(day) => Err(Failure::input(anyhow!(
            "--as-of {day}: certify decides today's release, so it judges waivers as of today ({today}, UTC) \
             and signs that day; --as-of is for compare and verify --recompute, which re-run a recorded decision"
        ))),
    }
}

/// Who a certificate must have been signed by.
#[derive(Debug, Clone)]
pub enum Trust {
    /// A cosign public key file.
    Key(PathBuf),
    /// A keyless identity, its OIDC issuer, and the trusted root (default: public-good).
    Keyless { rule: IdentityRule, issuer: String, trusted_root: Option<PathBuf> },
}

/// A file, or an object in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

impl Target {
    fn parse(value: PathBuf, flag: &str) -> Result<Target, Failure> {
        let Some(rest) = value.to_str().and_then(|s| s.strip_prefix("s3://")) else { return Ok(Target::File(value)) };
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| Failure::input(anyhow!("{flag} s3://{rest}: expected s3://BUCKET/KEY")))?;
        Ok(Target::S3 { bucket: bucket.to_string(), key: key.to_string() })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::File(p) => write!(f, "{}", p.display()),
            Target::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// Which certificate verify checks: one named directly, or found in an archive by name.
#[derive(Debug, Clone)]
pub enum Certificate {
    At(Target),
    /// The newest certificate of `--service` and `--version` in the archive.
    InArchive(Location),
}

/// `perfcert verify`.
#[derive(Debug)]
pub struct Verify {
    /// The certificate (or bake record); its service and version must be these (exit 4 if not).
    pub named: Named,
    pub trust: Trust,
    pub subjects: Vec<PathBuf>,
    pub subject_digests: Vec<(String, String)>,
    /// `--recompute`: the inputs to compare again.
    pub recompute: Option<Inputs>,
    /// `--approvals`: the CAB policy.
    pub approvals: Option<PathBuf>,
}

/// A certificate as verify, baseline promote and approve name it: a path or the archive, with
/// the service and version (to find it in the archive, and that it must certify), its bundle
/// (`--bundle`, else beside it) and the S3 endpoint.
#[derive(Debug)]
pub struct Named {
    pub certificate: Certificate,
    pub service: Option<String>,
    pub version: Option<String>,
    pub bundle: Option<Target>,
    pub endpoint: Option<String>,
}

/// `perfcert approve`.
#[derive(Debug)]
pub struct Approve {
    pub named: Named,
    /// Who must have signed the certificate.
    pub trust: Trust,
    pub role: String,
    pub decision: crate::approval::Decision,
    pub comment: Option<String>,
    /// How the approval is signed.
    pub signer: Signer,
    /// The CAB policy to check the signer against before anything is stored.
    pub approvals: Option<PathBuf>,
    /// How the approval is written to S3 (encryption, Object Lock), as certify's upload.
    pub put: PutOptions,
}

impl TryFrom<cli::ApproveArgs> for Approve {
    type Error = Failure;

    fn try_from(a: cli::ApproveArgs) -> Result<Approve, Failure> {
        let certificate = Certificate::given(
            a.certificate,
            a.archive,
            a.service.is_some() && a.service_version.is_some(),
            "approve",
        )?;
        if !crate::approval::valid_role(&a.role) {
            return Err(Failure::input(anyhow!(
                "--role `{}`: a role is letters, digits, `-` and `_` (at most 64), as named in approvals.yml",
                a.role
            )));
        }
        let c = a.certificate_signer;
        let trust = trust(cli::SignerArgs {
            identity: cli::SignerIdentity {
                key: c.identity.certificate_key,
                certificate_identity: c.identity.certificate_identity,
                certificate_identity_regexp: c.identity.certificate_identity_regexp,
            },
            certificate_oidc_issuer: c.certificate_oidc_issuer,
            trusted_root: c.trusted_root,
        })
        .map_err(|f| Failure::input(anyhow!("{}", f.error.to_string().replace("--key", "--certificate-key"))))?;
        Ok(Approve {
            named: Named {
                certificate,
                service: a.service,
                version: a.service_version,
                bundle: a.bundle.map(|b| Target::parse(b, "--bundle")).transpose()?,
                endpoint: a.s3.endpoint_url.clone(),
            },
            trust,
            role: a.role,
            decision: match a.decision {
                cli::DecisionArg::Approve => crate::approval::Decision::Approve,
                cli::DecisionArg::Reject => crate::approval::Decision::Reject,
            },
            comment: a.comment,
            signer: match (Signer::from_args(a.signing), a.oidc_issuer) {
                (Signer::Keyless { token, instance, .. }, Some(issuer)) => {
                    Signer::Keyless { token, instance, person: Some(Person { issuer, client_id: a.oidc_client_id }) }
                }
                (signer, _) => signer,
            },
            approvals: a.approvals,
            put: S3Write::put_options(&a.s3)?,
        })
    }
}

/// How to sign, from `--key` or `--keyless` and its flags.
impl Certificate {
    /// The certificate a command names: a path (or `s3://` URL), or `--archive` with both
    /// `--service` and `--version` (`named`); `command` is for the message.
    fn given(path: Option<PathBuf>, archive: Option<Location>, named: bool, command: &str) -> Result<Self, Failure> {
        match (path, archive) {
            (Some(path), None) => Ok(Certificate::At(Target::parse(path, "CERTIFICATE")?)),
            (None, Some(archive)) if named => Ok(Certificate::InArchive(archive)),
            (Some(_), Some(_)) => Err(Failure::input(anyhow!(
                "give the certificate either as a path (CERTIFICATE) or by name (--archive with --service and \
                 --version), not both"
            ))),
            (None, _) => Err(Failure::input(anyhow!(
                "which certificate? Pass its path (perfcert {command} CERT.cert.json ...) or \
                 --archive DIR|s3://BUCKET[/PREFIX] --service NAME --version VERSION"
            ))),
        }
    }
}

impl TryFrom<cli::VerifyArgs> for Verify {
    type Error = Failure;

    fn try_from(a: cli::VerifyArgs) -> Result<Verify, Failure> {
        let certificate =
            Certificate::given(a.certificate, a.archive, a.service.is_some() && a.service_version.is_some(), "verify")?;
        let trust = trust(a.signer)?;
        if a.recompute && a.duet.is_empty() && (a.baseline.is_empty() || a.current.is_empty()) {
            return Err(Failure::input(anyhow!(
                "--recompute needs the inputs certify was given: --baseline and --current, or --duet"
            )));
        }
        let recompute = a.recompute.then_some(Inputs {
            baseline: runs(&a.baseline),
            current: runs(&a.current),
            duet: runs(&a.duet),
            baseline_format: a.baseline_format,
            current_format: a.current_format,
            thresholds: a.thresholds,
            as_of: None,
            noise_from: a.noise_from,
            noise_key: None,
            noise_recorded: None,
            service: None,
            version: None,
            look: LookAt::Nth(1),
            baseline_testbed: None,
            current_testbed: None,
            reference: runs(&a.reference),
            reference_from: None,
            reference_key: None,
        });
        Ok(Verify {
            named: Named {
                certificate,
                service: a.service,
                version: a.service_version,
                bundle: a.bundle.map(|b| Target::parse(b, "--bundle")).transpose()?,
                endpoint: a.endpoint_url,
            },
            trust,
            subjects: a.subjects,
            subject_digests: a.subject_digests,
            recompute,
            approvals: a.approvals,
        })
    }
}

/// Who must have signed, from `--key` or the keyless identity flags.
fn trust(signer: cli::SignerArgs) -> Result<Trust, Failure> {
    let id = signer.identity;
    Ok(match (id.key, id.certificate_identity, id.certificate_identity_regexp) {
        (Some(key), _, _) => Trust::Key(key),
        (None, exact, regexp) => {
            let rule = match (exact, regexp) {
                (Some(id), _) => IdentityRule::Exact(id),
                (None, Some(re)) => IdentityRule::Regex(regex::Regex::new(&re).map_err(|e| {
                    Failure::input(anyhow!("--certificate-identity-regexp: not a regular expression: {e}"))
                })?),
                (None, None) => {
                    return Err(Failure::input(anyhow!(
                        "who signed it? Pass --key cosign.pub, or --certificate-identity[-regexp] with \
                         --certificate-oidc-issuer"
                    )));
                }
            };
            let issuer = signer.certificate_oidc_issuer.ok_or_else(|| {
                Failure::input(anyhow!("--certificate-oidc-issuer is required with a keyless identity"))
            })?;
            Trust::Keyless { rule, issuer, trusted_root: signer.trusted_root }
        }
    })
}

/// `perfcert baseline promote`.
#[derive(Debug)]
pub struct Promote {
    pub named: Named,
    pub trust: Trust,
    /// Where to write the baseline; `-` is stdout.
    pub output: PathBuf,
    pub force: bool,
}

impl TryFrom<cli::BaselineCommand> for Promote {
    type Error = Failure;

    fn try_from(a: cli::BaselineCommand) -> Result<Promote, Failure> {
        let cli::BaselineCommand::Promote(a) = a;
        let certificate = Certificate::given(
            a.certificate,
            a.archive,
            a.service.is_some() && a.service_version.is_some(),
            "baseline promote",
        )?;
        Ok(Promote {
            named: Named {
                certificate,
                service: a.service,
                version: a.service_version,
                bundle: a.bundle.map(|b| Target::parse(b, "--bundle")).transpose()?,
                endpoint: a.endpoint_url,
            },
            trust: trust(a.signer)?,
            output: a.output,
            force: a.force,
        })
    }
}

/// `perfcert list`.
#[derive(Debug)]
pub struct List {
    pub archive: Location,
    pub service: Option<String>,
    pub since: Option<Date>,
    pub format: Print,
    pub endpoint: Option<String>,
}

impl From<cli::ListArgs> for List {
    fn from(a: cli::ListArgs) -> List {
        let archive = a.archive_flag.or(a.archive).unwrap_or_else(|| Location::Dir(cli::DEFAULT_ARCHIVE.into()));
        List { archive, service: a.service, since: a.since, format: a.format.into(), endpoint: a.endpoint_url }
    }
}

/// `perfcert history`.
#[derive(Debug)]
pub struct History {
    pub archive: Location,
    pub service: String,
    pub last: usize,
    pub format: crate::report::history::Format,
    pub output: Option<PathBuf>,
    pub endpoint: Option<String>,
}

impl From<cli::HistoryArgs> for History {
    fn from(a: cli::HistoryArgs) -> History {
        let archive = a.archive_flag.or(a.archive).unwrap_or_else(|| Location::Dir(cli::DEFAULT_ARCHIVE.into()));
        History {
            archive,
            service: a.service,
            last: usize::try_from(a.last).unwrap_or(usize::MAX),
            format: a.format,
            output: a.output,
            endpoint: a.endpoint_url,
        }
    }
}

/// `perfcert index rebuild`.
#[derive(Debug)]
pub struct IndexRebuild {
    pub archive: Location,
    pub endpoint: Option<String>,
}

impl From<cli::IndexCommand> for IndexRebuild {
    fn from(a: cli::IndexCommand) -> IndexRebuild {
        let cli::IndexCommand::Rebuild(a) = a;
        let archive = a.archive_flag.or(a.archive).unwrap_or_else(|| Location::Dir(cli::DEFAULT_ARCHIVE.into()));
        IndexRebuild { archive, endpoint: a.endpoint_url }
    }
}

/// `perfcert report`.
#[derive(Debug)]
pub struct ReportPage {
    pub archive: Location,
    pub endpoint: Option<String>,
    pub service: String,
    pub last: usize,
    pub pdf: bool,
    pub output: PathBuf,
    pub chromium: Option<PathBuf>,
    pub timeout: std::time::Duration,
}

impl From<cli::ReportArgs> for ReportPage {
    fn from(a: cli::ReportArgs) -> ReportPage {
        ReportPage {
            archive: a.archive_flag.or(a.archive).unwrap_or_else(|| Location::Dir(cli::DEFAULT_ARCHIVE.into())),
            endpoint: a.endpoint_url,
            service: a.service,
            last: usize::try_from(a.last).unwrap_or(usize::MAX),
            pdf: a.format == cli::PageFormat::Pdf,
            output: a.output,
            chromium: a.chromium,
            timeout: std::time::Duration::from_secs(a.chromium_timeout),
        }
    }
}

/// `perfcert upload`.
#[derive(Debug)]
pub struct Upload {
    pub certificate: PathBuf,
    pub to: S3Write,
}

impl TryFrom<cli::UploadCmdArgs> for Upload {
    type Error = Failure;

    fn try_from(a: cli::UploadCmdArgs) -> Result<Upload, Failure> {
        Ok(Upload { to: S3Write::from_args(a.to, &a.s3)?, certificate: a.certificate })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn certify_judges_only_today() {
        let today = date(2026, 11, 30);
        assert_eq!(certify_day(None, today).unwrap(), today);
        assert_eq!(certify_day(Some(today), today).unwrap(), today);
        for other in [date(1900, 1, 1), date(2026, 11, 29), date(2026, 12, 1)] {
            let err = certify_day(Some(other), today).unwrap_err();
            assert_eq!(err.status, crate::exit::ExitStatus::Usage);
            let said = err.error.to_string();
            assert!(said.starts_with(&format!("--as-of {other}: certify decides today's release")), "{said}");
            assert!(said.contains("(2026-11-30, UTC)"), "{said}");
        }
    }
}
