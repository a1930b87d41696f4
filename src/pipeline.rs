//! The evaluation pipeline: load the policy and both runs, compare, and render the reports.
//! compare, certify and `verify --recompute` all run it, so a verdict is reached one way only.
//!
//! It reads the input files and writes the report files it is asked for; it says what it does
//! through [`Ui`] (details, progress) and never decides an exit code beyond its own failures.

pub mod signing;

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::badge::Badge;
use crate::compare::{Comparison, Verdict, compare_with_history};
use crate::error::LoadError;
use crate::exit::{ExitStatus, Failure};
use crate::fingerprint;
use crate::fsutil;
use crate::github;
use crate::input;
use crate::input::spec::RunSpec;
use crate::model::{Run, RunResults, Side};
use crate::options::{Inputs, LookAt, Outputs};
use crate::policy::{self, Comparability, Policy};
use crate::record::Decision;
use crate::report::{Format, Report, Source, headline};
use crate::ui::{Ui, progress};

/// The exit status of a comparison's verdict.
pub fn exit_status(c: &Comparison) -> ExitStatus {
    match c.verdict {
        Verdict::Pass => ExitStatus::Pass,
        Verdict::Fail => ExitStatus::Fail,
        Verdict::Inconclusive => ExitStatus::Inconclusive,
    }
}

/// How reports name the inputs.
pub struct Labels {
    baseline: String,
    current: String,
    thresholds: String,
    reference: String,
}

impl Labels {
    pub fn of(inputs: &Inputs) -> Labels {
        if !inputs.duet.is_empty() {
            let duet = label(&inputs.duet);
            return Labels {
                baseline: format!("{duet} (duet, baseline side)"),
                current: format!("{duet} (duet, current side)"),
                thresholds: inputs.thresholds.display().to_string(),
                reference: label(&inputs.reference),
            };
        }
        Labels {
            baseline: label(&inputs.baseline),
            current: label(&inputs.current),
            thresholds: inputs.thresholds.display().to_string(),
            reference: label(&inputs.reference),
        }
    }

    pub fn report<'a>(&'a self, loaded: &'a Loaded) -> Report<'a> {
        Report {
            comparison: &loaded.comparison,
            baseline: Source { file: &self.baseline, results: &loaded.baseline, runs: loaded.baseline_runs.runs.len() },
            current: Source { file: &self.current, results: &loaded.current, runs: loaded.current_runs.runs.len() },
            thresholds_file: &self.thresholds,
            decision: loaded.decision.as_ref(),
            reference: loaded.reference.as_ref().map(|side| Source {
                // From an archive: the certificate found there.
                file: loaded.reference_record.as_ref().map_or(self.reference.as_str(), |r| r.file.as_str()),
                results: &loaded.reference_summary,
                runs: side.runs.len(),
            }),
        }
    }
}

/// Report files written besides stdout, named in the GitHub step outputs.
#[derive(Debug, Default)]
pub struct Written {
    report_json: Option<PathBuf>,
    report_markdown: Option<PathBuf>,
    badge: Option<(PathBuf, PathBuf)>,
}

impl Written {
    pub fn note(&mut self, format: Format, path: &Path) {
        match format {
            Format::Json => self.report_json = Some(path.to_path_buf()),
            Format::Markdown => self.report_markdown = Some(path.to_path_buf()),
            Format::Table | Format::Junit | Format::Html => {}
        }
    }
}

/// Writes the `--report` files and the `--badge` pair.
pub fn write_outputs(report: &Report, extra: &Outputs, ui: &Ui) -> Result<Written, Failure> {
    let mut written = Written::default();
    for (format, path) in &extra.reports {
        write_file(report, *format, path, ui)?;
        written.note(*format, path);
    }
    if let Some((svg_path, json_path)) = extra.badge_paths() {
        let s = report.comparison.summary();
        let badge = Badge::new(report.comparison.verdict, s.failed, s.gated);
        write_bytes(&svg_path, badge.svg().as_bytes(), "badge", ui)?;
        write_bytes(&json_path, badge.shields_json().as_bytes(), "badge", ui)?;
        written.badge = Some((svg_path, json_path));
    }
    Ok(written)
}

/// On a GitHub runner: annotations, the Markdown report (then `summary_tail`) in the step
/// summary, and step outputs (these, then `more`).
pub fn publish(ui: &Ui, report: &Report, written: &Written, more: Vec<(&str, String)>, summary_tail: &str) {
    let Some(gh) = &ui.github else { return };
    let c = report.comparison;
    gh.annotate(&github::annotations(c));
    let mut markdown = vec![];
    Format::Markdown.renderer(false).render(report, &mut markdown).expect("writing to memory cannot fail");
    let mut markdown = String::from_utf8(markdown).expect("reports are UTF-8");
    markdown.push_str(summary_tail);
    markdown.push('\n');
    gh.summary(ui, &markdown);

    let s = c.summary();
    let mut outputs = vec![
        ("status", c.verdict.as_str().to_string()),
        ("summary", headline(c)),
        ("gated", s.gated.to_string()),
        ("failed", s.failed.to_string()),
        ("waived", s.waived.to_string()),
    ];
    let path = |p: &Path| p.display().to_string();
    if let Some(p) = &written.report_json {
        outputs.push(("report-json", path(p)));
    }
    if let Some(p) = &written.report_markdown {
        outputs.push(("report-markdown", path(p)));
    }
    if let Some((svg, json)) = &written.badge {
        outputs.push(("badge", path(svg)));
        outputs.push(("badge-json", path(json)));
    }
    // A statistical decision's advice: more runs per side, empty when there is none.
    if let Some(d) = report.decision {
        outputs.push(("runs-needed", c.runs_needed.map(|n| n.to_string()).unwrap_or_default()));
        outputs.push(("look", d.look.to_string()));
    }
    outputs.extend(more);
    gh.outputs(ui, &outputs);
}

/// The inputs of a comparison, loaded, and the comparison.
pub struct Loaded {
    /// Each side as one set of results ([`Side::summary`]): the run itself when there is one.
    pub baseline: RunResults,
    pub current: RunResults,
    pub baseline_runs: Side,
    pub current_runs: Side,
    pub comparison: Comparison,
    /// How a statistical verdict was reached, and the look; `None` under the threshold method
    /// (and for a version-1 certificate recomputed).
    pub decision: Option<Decision>,
    /// `--reference`: the runs the cumulative limits judge against, and their summary.
    pub reference: Option<Side>,
    pub reference_summary: RunResults,
    /// `--reference-from`: the certificate the reference came from (its path in the archive and
    /// its sha256), as certify records it in `inputs.reference`.
    pub reference_record: Option<crate::certificate::FileDigest>,
}

impl Loaded {
    fn of(
        baseline_runs: Side,
        current_runs: Side,
        reference: Reference,
        comparison: Comparison,
        decision: Option<Decision>,
    ) -> Loaded {
        let Reference { side: reference, record: reference_record } = reference;
        Loaded {
            baseline: baseline_runs.summary(),
            current: current_runs.summary(),
            reference_summary: reference.as_ref().map(Side::summary).unwrap_or_default(),
            reference,
            reference_record,
            baseline_runs,
            current_runs,
            comparison,
            decision,
        }
    }
}

/// The reference of the cumulative limits, and where it came from when that was an archive.
#[derive(Default)]
struct Reference {
    side: Option<Side>,
    record: Option<crate::certificate::FileDigest>,
}

/// The reference the policy's cumulative limits need: `--reference` loaded like a side (a
/// certificate file is read as its current side, [`crate::reference`]), or `--reference-from`
/// an archive. None given while the policy sets a cumulative limit is an input error (exit 2),
/// never a skipped check. A reference and a policy without cumulative limits: the comparison warns.
fn load_reference(inputs: &Inputs, policy: &Policy, current: &Side, ui: &Ui) -> Result<Reference, Failure> {
    if inputs.reference_key.is_some() && inputs.reference_from.is_none() {
        return Err(Failure::input(anyhow!(
            "--reference-key checks the certificate --reference-from chooses; it is given without --reference-from \
             (a --reference file is used as given: check a certificate with perfcert verify)"
        )));
    }
    if let Some(archive) = &inputs.reference_from {
        return reference_from(archive, inputs, current, ui);
    }
    if inputs.reference.is_empty() {
        return match policy.cumulative().next() {
            None => Ok(Reference::default()),
            Some(m) => {
                let key = if m.max_total_increase.is_some() { "max_total_increase" } else { "max_total_decrease" };
                Err(Failure::input(anyhow!(
                    "{}: metrics.{}.{key} is a cumulative limit against a reference: give --reference FILE (e.g. a \
                     promoted perf_baseline.json) or --reference-from ARCHIVE --reference-key KEY.pub (the reference \
                     the service's certified releases are held to)",
                    inputs.thresholds.display(),
                    m.name
                )))
            }
        };
    }
    // A certificate given as the reference: its current side, as --reference-from reads it.
    if let [spec] = inputs.reference.as_slice()
        && let [part] = spec.parts.as_slice()
        && part.format.is_none()
        && let Ok(bytes) = std::fs::read(&part.path)
        && crate::reference::is_certificate(&bytes)
    {
        let shown = part.path.display().to_string();
        let side =
            certified_side(&shown, &bytes).map_err(|why| Failure::input(anyhow!("--reference {shown}: {why}")))?;
        ui.warn(&format!(
            "--reference {shown} is a certificate, used as given: its signature is not checked here (perfcert verify \
             checks it)"
        ));
        return Ok(Reference { side: Some(side), record: None });
    }
    let side = load_side(&inputs.reference, None, policy, ("--reference", ""), ui)?;
    ui.detail(&format!("reference {}: {} run(s)", label(&inputs.reference), side.runs.len()));
    Ok(Reference { side: Some(side), record: None })
}

/// A certificate's current side as the reference, with a note naming it (the same words
/// whichever way it came, so a recompute from the file repeats them).
fn certified_side(shown: &str, bytes: &[u8]) -> Result<Side, String> {
    let certified = crate::reference::from_certificate(bytes)?;
    if certified.status != "PASS" {
        return Err(format!("a {} certificate; the reference must be a certified PASS", certified.status));
    }
    let sha = crate::signing::sha256_hex(bytes);
    let mut runs: Vec<Run> =
        certified.runs.into_iter().map(|results| Run { files: vec![shown.to_string()], results }).collect();
    if let Some(first) = runs.first_mut() {
        first.results.notes.push(format!(
            "the reference is the certificate of {} {} (sha256 {sha})",
            certified.service, certified.version
        ));
    }
    Ok(Side { runs })
}

/// A certificate of the archive as `--reference-from` read it: as shown, its bytes, what it
/// certifies.
struct Indexed {
    shown: String,
    bytes: Vec<u8>,
    certified: crate::reference::Certified,
}

/// `--reference-from ARCHIVE`: the reference the service's releases are held to, which moves
/// only when someone moves it. Every certificate of the service the archive's index names is
/// read (what a certificate says decides, never what its line says): the PASS certificates
/// other than of the current version, newest first (by date, then version in natural order).
/// The reference is the one the newest of them that was held to a reference recorded (carried
/// forward, so ten small steps are all measured from one anchor, and a release certified
/// without a reference does not move it); if none was, the newest PASS is (a first use). A
/// certificate is read only if its name is of the archive's layout, its bytes have the sha256 its
/// line says and it says what the line says; with `--reference-key` its bundle must verify with
/// that key and sign it. A line that fails these is warned about (with the key: an error, as is
/// a certificate of the service without a line), never silently skipped.
fn reference_from(
    archive: &crate::store::Location,
    inputs: &Inputs,
    current: &Side,
    ui: &Ui,
) -> Result<Reference, Failure> {
    use crate::store::{self, Contents};
    let failure = |e: store::StoreError| Failure::external(anyhow!("--reference-from {archive}: {e}"));
    let summary = current.summary();
    let service = inputs.service.clone().or(summary.service.clone()).ok_or_else(|| {
        Failure::input(anyhow!(
            "--reference-from finds the last certified release of the same service, and the current results do not \
             name one: give --service (certify) or a `service` in the current results"
        ))
    })?;
    if let store::Location::Dir(path) = archive
        && !path.is_dir()
    {
        return Err(Failure::input(anyhow!(
            "--reference-from {archive}: no such directory (expected an archive of certificates)"
        )));
    }
    let opened = store::open(archive, None).map_err(failure)?;
    let listed = opened.list().map_err(failure)?;
    let contents = Contents::of(listed.iter().map(String::as_str));
    let key = inputs.reference_key.as_deref().map(read_public_key).transpose()?;
    let this_version = inputs.version.clone().or(summary.version.clone());
    // With the key, anything the index does not vouch for is an error, not a warning.
    let problem = |text: String| -> Result<(), Failure> {
        if key.is_some() {
            return Err(Failure::input(anyhow!(
                "--reference-from {archive}: {text}; with --reference-key every certificate of {service} must be \
                 readable and indexed (`perfcert index rebuild {archive}` writes missing lines)"
            )));
        }
        ui.warn(&format!("--reference-from: {text}"));
        Ok(())
    };

    let mut read: Vec<Indexed> = vec![];
    let mut indexed = std::collections::HashSet::new();
    for (at, line) in store::index_lines(opened.as_ref(), &contents, &service) {
        let line = match line {
            Ok(line) => line,
            Err(why) => {
                problem(format!("index line {at} cannot be read: {why}"))?;
                continue;
            }
        };
        indexed.insert(line.certificate.clone());
        let shown = opened.show(&line.certificate);
        match read_indexed(opened.as_ref(), &line, &service, key.as_deref()) {
            Ok((bytes, certified)) => read.push(Indexed { shown, bytes, certified }),
            Err(why) => problem(format!("{shown} cannot be the reference: {why}"))?,
        }
    }
    for names in contents.certificates_of_service(&service) {
        if !indexed.contains(&names.certificate()) {
            // A service whose name extends this one's matches the prefix too: only its own.
            let own = opened.read(&names.certificate()).ok().and_then(|b| crate::reference::from_certificate(&b).ok());
            if own.is_some_and(|c| c.service == service) {
                problem(format!("{} has no index line", opened.show(&names.certificate())))?;
            }
        }
    }

    let mut candidates: Vec<&Indexed> = read
        .iter()
        .filter(|r| r.certified.status == "PASS" && this_version.as_ref() != Some(&r.certified.version))
        .collect();
    let when = |r: &Indexed| (r.certified.date.clone(), crate::releases::natural(&r.certified.version));
    candidates.sort_by_key(|r| std::cmp::Reverse(when(r)));
    let Some(newest) = candidates.first() else {
        let other = this_version.as_ref().map(|v| format!(" other than {v}")).unwrap_or_default();
        return Err(Failure::input(anyhow!(
            "--reference-from {archive}: no PASS certificate of {service}{other} in its index (index/dt=.../service=...; \
             `perfcert index rebuild {archive}` writes it for certificates made before the index). A first release has \
             no reference: give --reference FILE, or certify it without max_total_* limits"
        )));
    };
    // Carried forward from the newest PASS that was held to a reference.
    let anchor: &Indexed = match candidates.iter().find(|r| !r.certified.reference_sha256.is_empty()) {
        None => {
            ui.detail(&format!(
                "reference: {} ({service} {}), the newest PASS; none was held to a reference",
                newest.shown, newest.certified.version
            ));
            newest
        }
        Some(held) => {
            let [sha] = held.certified.reference_sha256.as_slice() else {
                return Err(Failure::input(anyhow!(
                    "--reference-from {archive}: {} was held to {} reference files, not a certificate of this archive: \
                     give them as --reference again. The reference moves only when you give a new one",
                    held.shown,
                    held.certified.reference_sha256.len()
                )));
            };
            let Some(anchor) = read.iter().find(|r| crate::signing::sha256_hex(&r.bytes) == *sha) else {
                return Err(Failure::input(anyhow!(
                    "--reference-from {archive}: {} was held to a reference (sha256 {sha}) that is not an indexed \
                     certificate of {service} in this archive (a file given as --reference, or a certificate without \
                     its index line: `perfcert index rebuild {archive}`): give that file as --reference again. The \
                     reference moves only when you give a new one",
                    held.shown
                )));
            };
            if anchor.certified.status != "PASS" {
                return Err(Failure::input(anyhow!(
                    "--reference-from {archive}: {} was held to {}, which says {}; the reference must be a PASS",
                    held.shown,
                    anchor.shown,
                    anchor.certified.status
                )));
            }
            if !std::ptr::eq(*held, *newest) {
                ui.warn(&format!(
                    "--reference-from: the newest PASS, {}, was certified without a reference; the reference stays \
                     the one {} was held to (give --reference to move it)",
                    newest.shown, held.shown
                ));
            }
            ui.detail(&format!(
                "reference: {} ({service} {}), carried forward from {}",
                anchor.shown, anchor.certified.version, held.shown
            ));
            anchor
        }
    };
    if key.is_none() {
        ui.warn(&format!(
            "the reference {} was chosen without checking its signature (--reference-key checks it; perfcert verify \
             checks a certificate)",
            anchor.shown
        ));
    }
    let sha = crate::signing::sha256_hex(&anchor.bytes);
    let side = certified_side(&anchor.shown, &anchor.bytes)
        .map_err(|why| Failure::input(anyhow!("--reference-from {}: {why}", anchor.shown)))?;
    Ok(Reference {
        side: Some(side),
        record: Some(crate::certificate::FileDigest { file: anchor.shown.clone(), sha256: sha, run: None }),
    })
}

/// The certificate an index line names, if it is what the line says (`Err` says why not).
fn read_indexed(
    archive: &dyn crate::store::Archive,
    line: &crate::index::Line,
    service: &str,
    key: Option<&str>,
) -> Result<(Vec<u8>, crate::reference::Certified), String> {
    if !matches!(crate::store::layout::classify(&line.certificate), crate::store::layout::Kind::Certificate(_)) {
        return Err(format!("its index line names {}, not a certificate of the archive's layout", line.certificate));
    }
    let bytes = archive.read(&line.certificate).map_err(|e| e.to_string())?;
    if crate::signing::sha256_hex(&bytes) != line.certificate_sha256 {
        return Err("its sha256 is not the one its index line says".into());
    }
    if let Some(key) = key {
        signed_with(key, &bytes, &line.certificate, archive, "--reference-key")?;
    }
    let certified = crate::reference::from_certificate(&bytes)?;
    if certified.service != service
        || certified.version != line.version
        || certified.date.as_deref() != Some(line.date.as_str())
        || certified.status != line.status
    {
        return Err(format!(
            "it is not what its index line says (it certifies {} {}, {} on {})",
            certified.service,
            certified.version,
            certified.status,
            certified.date.as_deref().unwrap_or("no date")
        ));
    }
    Ok((bytes, certified))
}

/// Loads the policy and both runs and compares them (`--as-of`, else today in UTC).
pub fn load_and_compare(inputs: &Inputs, ui: &Ui) -> Result<Loaded, Failure> {
    let today = inputs.as_of.unwrap_or_else(|| jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date());
    let mut policy = load_policy(&inputs.thresholds)?;
    let mut decision = match inputs.look {
        LookAt::BeforeLooks => {
            // As version-1 certificates were decided: at the full rates.
            policy.decision.looks = 1;
            None
        }
        LookAt::Nth(look) => {
            let decision = Decision::of(&policy.decision, look);
            if decision.is_some() && look > policy.decision.looks {
                return Err(Failure::input(anyhow!(
                    "--look {look}: {} allows at most {} looks at a release (decision.looks)",
                    inputs.thresholds.display(),
                    policy.decision.looks
                )));
            }
            decision
        }
    };
    ui.detail(&format!(
        "policy {}: {} metrics, {} waivers (judged as of {today})",
        inputs.thresholds.display(),
        policy.metrics.len(),
        policy.waivers.len()
    ));
    if !inputs.duet.is_empty() {
        if inputs.noise_from.is_some() {
            return Err(Failure::input(anyhow!(
                "--noise-from does not apply to --duet: duet runs are judged on their own paired differences"
            )));
        }
        if inputs.baseline_testbed.is_some() || inputs.current_testbed.is_some() {
            return Err(Failure::input(anyhow!(
                "--testbed does not apply to --duet: both sides of a duet run ran on one testbed at once"
            )));
        }
        return load_duet(&inputs.duet, inputs, &policy, today, decision, ui);
    }
    let mut baseline_runs =
        load_side(&inputs.baseline, inputs.baseline_format, &policy, ("--baseline", "baseline.json"), ui)?;
    let mut current_runs =
        load_side(&inputs.current, inputs.current_format, &policy, ("--current", "current.json"), ui)?;
    label_testbed(&mut baseline_runs, inputs.baseline_testbed.as_deref(), "--baseline-testbed")?;
    label_testbed(&mut current_runs, inputs.current_testbed.as_deref(), "--current-testbed")?;
    let reference = load_reference(inputs, &policy, &current_runs, ui)?;
    let comparable = comparability(&baseline_runs, &current_runs, &policy, &inputs.thresholds)?;
    let history = match &inputs.noise_from {
        Some(archive) => {
            let current = current_runs.summary();
            let service = inputs.service.clone().or(current.service.clone()).ok_or_else(|| {
                Failure::input(anyhow!(
                    "--noise-from learns from earlier certificates of the same service, and the current results do not name \
                     one: give --service (certify) or a `service` in the current results"
                ))
            })?;
            let key = inputs.noise_key.as_deref().map(read_public_key).transpose()?;
            let recorded = inputs.noise_recorded.as_ref();
            // This comparison's own files: earlier certificates holding them add no new spread.
            let own: std::collections::HashSet<String> = baseline_runs
                .runs
                .iter()
                .chain(&current_runs.runs)
                .flat_map(|r| &r.files)
                .filter_map(|f| crate::signing::sha256_file(Path::new(f)).ok())
                .collect();
            let history = load_history(archive, recorded, key.as_deref(), &service, &current.fingerprint, &own, ui)?;
            Some(history)
        }
        None => None,
    };
    let reference_results = reference.side.as_ref().map(Side::results);
    let mut comparison = compare_with_history(
        &baseline_runs.results(),
        &current_runs.results(),
        reference_results.as_deref(),
        &policy,
        today,
        history.as_ref(),
    );
    // What differs about how the runs were made comes first: it qualifies every row.
    comparison.warnings.splice(0..0, comparable);
    if let Some(d) = decision.as_mut() {
        d.history = comparison.history.as_ref().map(crate::record::history_value);
    }
    Ok(Loaded::of(baseline_runs, current_runs, reference, comparison, decision))
}

/// Reads the earlier certificates of `service` in an archive and learns their noise
/// ([`crate::history`]). A certificate without its signature bundle beside it, or one that
/// cannot be read as a certificate, is left out with a warning; an archive that cannot be read
/// is an error (exit 3). With `key`, only certificates whose bundle verifies with it and signs
/// their sha256 are used. With `recorded` (a recompute), exactly those certificates are read,
/// and each must still have its recorded sha256 (exit 4 if not): the signed certificate that
/// recorded them vouches for them; what was said about the history then is said again.
fn load_history(
    archive: &crate::store::Location,
    recorded: Option<&crate::history::Recorded>,
    key: Option<&str>,
    service: &str,
    fingerprint: &indexmap::IndexMap<String, String>,
    own: &std::collections::HashSet<String>,
    ui: &Ui,
) -> Result<crate::history::Noise, Failure> {
    use crate::store::{self, Contents};
    let failure = |e: store::StoreError| Failure::external(anyhow!("--noise-from {archive}: {e}"));
    if let store::Location::Dir(path) = archive
        && !path.is_dir()
    {
        return Err(Failure::input(anyhow!(
            "--noise-from {archive}: no such directory (expected an archive of certificates)"
        )));
    }
    let opened = store::open(archive, None).map_err(failure)?;
    let mut notes = vec![];
    let mut names = vec![];
    if let Some(recorded) = recorded {
        names = recorded.certificates.iter().map(|(name, _)| name.clone()).collect();
    } else {
        let listed = opened.list().map_err(failure)?;
        let contents = Contents::of(listed.iter().map(String::as_str));
        for n in contents.certificates_of_service(service) {
            if contents.has_bundle(n) {
                names.push(n.certificate());
            } else {
                notes.push(format!(
                    "history: {} has no signature bundle beside it and is left out",
                    opened.show(&n.certificate())
                ));
            }
        }
    }
    let mut earlier = vec![];
    for (i, (name, bytes)) in names.iter().zip(opened.read_many(&names)).enumerate() {
        if let Some(recorded) = recorded {
            let Ok(bytes) = &bytes else {
                return Err(Failure::external(anyhow!(
                    "history certificate {} cannot be read; the recompute needs every certificate the decision used",
                    opened.show(name)
                )));
            };
            let sha = crate::signing::sha256_hex(bytes);
            if sha != recorded.certificates[i].1 {
                return Err(Failure::not_authentic(anyhow!(
                    "history certificate {} has sha256 {sha}, not the recorded {}: the noise the decision used is not there",
                    opened.show(name),
                    recorded.certificates[i].1
                )));
            }
        }
        if let (Some(key), None, Ok(cert)) = (key, recorded, &bytes)
            && let Err(why) = signed_with(key, cert, name, opened.as_ref(), "--noise-key")
        {
            notes.push(format!("history: {} is left out: {why}", opened.show(name)));
            continue;
        }
        let parsed = bytes
            .map_err(|e| e.to_string())
            .and_then(|b| crate::history::parse(name, &crate::signing::sha256_hex(&b), &b));
        match parsed {
            Ok(e) => earlier.push(e),
            Err(why) => notes.push(format!("history: {} is left out: {why}", opened.show(name))),
        }
    }
    ui.detail(&format!("history: {} certificate(s) of {service} in {archive}", earlier.len()));
    let mut noise = crate::history::learn(earlier, service, fingerprint, own);
    noise.source = archive.to_string();
    if let Some(recorded) = recorded {
        noise.source = recorded.archive.clone();
        noise.signatures_checked = recorded.signatures_checked;
        noise.notes = recorded.notes.clone();
        return Ok(noise);
    }
    noise.signatures_checked = key.is_some();
    if !noise.signatures_checked && !noise.used.is_empty() {
        notes.push("history: the certificates' signatures were not checked (give --noise-key with the public key that signs them)".into());
    }
    notes.append(&mut noise.notes);
    noise.notes = notes;
    Ok(noise)
}

/// Whether the bundle beside the certificate `name` verifies with `key` and signs its sha256.
/// An archive that must exist (a directory that is not there is an input error, not an empty
/// archive) and what it holds: `list`, `history`, `report`, `index rebuild`.
pub fn open_archive(
    location: &crate::store::Location,
    endpoint: Option<&str>,
) -> Result<(Box<dyn crate::store::Archive>, crate::store::Contents), Failure> {
    use crate::store::{self, Contents, StoreError};
    if let store::Location::Dir(dir) = location
        && !dir.is_dir()
    {
        return Err(Failure::input(anyhow!("{}: not found; expected an archive directory", dir.display())));
    }
    let archive = store::open(location, endpoint).map_err(|e| Failure::external(anyhow!("{e}")))?;
    let keys = archive.list().map_err(|e| match e {
        StoreError::NotFound { .. } => Failure::input(anyhow!("{e}")),
        e => Failure::external(anyhow!("{e}")),
    })?;
    let contents = Contents::of(keys.iter().map(String::as_str));
    Ok((archive, contents))
}

/// A service's releases from an archive's index (local or `s3://`): `perfcert history` and
/// `perfcert report`. Lines that cannot be read are warned about and left out; an archive that
/// has certificates of the service but no index lines for it is an input error that says to run
/// `perfcert index rebuild`.
pub fn load_releases(
    location: &crate::store::Location,
    endpoint: Option<&str>,
    service: &str,
    last: Option<usize>,
    ui: &Ui,
) -> Result<crate::releases::History, Failure> {
    let (archive, contents) = open_archive(location, endpoint)?;
    let mut lines = vec![];
    for (at, line) in crate::store::index_lines(archive.as_ref(), &contents, service) {
        match line {
            Ok(line) => lines.push((archive.show(&line.certificate), line)),
            Err(why) => ui.warn(&format!("{at}: skipped: {why}")),
        }
    }
    if lines.is_empty() {
        let certified = contents.certificates_of_service(service).count();
        if certified > 0 {
            return Err(Failure::input(anyhow!(
                "{}: no index lines for {service}, but {certified} certificate file(s) that may be its: the archive \
                 was written before the index existed; run `perfcert index rebuild {}`",
                archive.root(),
                archive.root()
            )));
        }
        return Err(Failure::input(anyhow!("{}: no certificates of service {service}", archive.root())));
    }
    Ok(crate::releases::History::of(service, lines, last))
}

/// A certificate of an archive, by its relative name, for what index lines lack (limits,
/// units); unverified. The error is a sentence naming it.
pub fn read_certificate(
    location: &crate::store::Location,
    endpoint: Option<&str>,
    name: &str,
) -> Result<crate::certificate::Certificate, String> {
    if !matches!(crate::store::layout::classify(name), crate::store::layout::Kind::Certificate(_)) {
        return Err(format!("{name}: not a certificate of the archive's layout (YYYYMMDD/STEM.cert.json)"));
    }
    let archive = crate::store::open(location, endpoint).map_err(|e| e.to_string())?;
    let bytes = archive.read(name).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: not a perfcert certificate: {e}", archive.show(name)))
}

fn signed_with(
    key: &str,
    cert: &[u8],
    name: &str,
    archive: &dyn crate::store::Archive,
    flag: &str,
) -> Result<(), String> {
    let crate::store::layout::Kind::Certificate(names) = crate::store::layout::classify(name) else {
        return Err("not a certificate of the archive layout".into());
    };
    let bundle = archive.read(&names.bundle()).map_err(|e| format!("its bundle cannot be read ({e})"))?;
    let bundle = String::from_utf8(bundle).map_err(|_| "its bundle is not UTF-8".to_string())?;
    let statement = crate::signing::verify_with_key(key, &bundle).map_err(|e| format!("not signed by {flag} ({e})"))?;
    if !statement.signs_sha256(&crate::signing::sha256_hex(cert)) {
        return Err("its bundle signs another certificate".into());
    }
    Ok(())
}

/// Gives every run of a side the testbed a flag names; a run whose own fingerprint (a sidecar
/// file) names another testbed is an error, never overwritten.
fn label_testbed(side: &mut Side, testbed: Option<&str>, flag: &str) -> Result<(), Failure> {
    let Some(testbed) = testbed else { return Ok(()) };
    for (i, run) in side.runs.iter_mut().enumerate() {
        match run.results.fingerprint.get("testbed") {
            Some(own) if own != testbed => {
                return Err(Failure::input(anyhow!(
                    "{flag} {testbed}: run {} ({}) says its testbed is {own}; drop the flag or correct the run's \
                     fingerprint file",
                    i + 1,
                    run.files.join(" + ")
                )));
            }
            Some(_) => {}
            None => {
                run.results.fingerprint.insert("testbed".into(), testbed.to_string());
            }
        }
    }
    Ok(())
}

/// The sha256 of a file the user named; one that cannot be read is an input error naming it.
pub fn sha256_of(path: &Path) -> Result<String, Failure> {
    crate::signing::sha256_file(path).map_err(|e| Failure::input(anyhow!(fsutil::at(path, &e))))
}

/// A cosign public key (PEM) from a file; a private key is refused with what to give instead.
pub fn read_public_key(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::input(anyhow!(fsutil::at(path, &e))))?;
    let key = String::from_utf8(bytes)
        .map_err(|_| Failure::input(anyhow!("{}: not UTF-8; expected a PEM public key", path.display())))?;
    if key.contains("PRIVATE KEY-----") {
        let public = path.with_extension("pub");
        return Err(Failure::input(anyhow!(
            "{}: this is the private key; give the public key (e.g. {})",
            path.display(),
            public.display()
        )));
    }
    Ok(key)
}

/// Checks that every run was produced the same way ([`fingerprint::check`]): the findings as
/// warnings, or under `comparability: refuse` an input error (exit 2) when runs differ: a
/// verdict on runs that cannot be compared would be about the setup, not the release.
fn comparability(baseline: &Side, current: &Side, policy: &Policy, thresholds: &Path) -> Result<Vec<String>, Failure> {
    let labels = |side: &Side| side.runs.iter().map(|r| r.files.join(" + ")).collect::<Vec<_>>();
    let (b_labels, c_labels) = (labels(baseline), labels(current));
    let findings = fingerprint::check(&run_prints(baseline, &b_labels), &run_prints(current, &c_labels));
    let differences: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity == fingerprint::Severity::Difference)
        .map(|f| f.message.as_str())
        .collect();
    if policy.comparability == Comparability::Refuse && !differences.is_empty() {
        return Err(Failure::input(anyhow!(
            "{}: comparability: refuse: {}; no verdict (make the runs the same way, or set comparability: warn)",
            thresholds.display(),
            differences.join("; ")
        )));
    }
    Ok(findings.into_iter().map(|f| f.message).collect())
}

fn run_prints<'a>(side: &'a Side, labels: &'a [String]) -> Vec<fingerprint::RunPrint<'a>> {
    side.runs
        .iter()
        .zip(labels)
        .map(|(r, label)| fingerprint::RunPrint { label: label.as_str(), fingerprint: &r.results.fingerprint })
        .collect()
}

/// Loads the duet runs (each one k6 run that measured both sides side by side, its shards
/// joined with +) and compares them paired ([`crate::compare::compare_duet`]). Where each side
/// ran is told in a detail line, and warned about when unknown or never swapped.
fn load_duet(
    specs: &[RunSpec],
    inputs: &Inputs,
    policy: &Policy,
    today: jiff::civil::Date,
    decision: Option<Decision>,
    ui: &Ui,
) -> Result<Loaded, Failure> {
    // A duet run's precision comes from its time slices: no 10-s windows per side.
    let classes = input::Classes { gates: vec![], ..policy.classes.clone() };
    let mut read = vec![];
    for spec in specs {
        let mut paths = vec![];
        for (path, format) in spec.formats(None) {
            let format = match format {
                Some(f) => f,
                None => input::detect_path(path).map_err(|e| with_hint(e, path, "--duet", ""))?,
            };
            match format {
                input::Format::K6Json => paths.push(path),
                other => {
                    return Err(Failure::input(anyhow!(
                        "{}: --duet reads k6 raw output written with --out json=FILE (NDJSON, plain or gzip); \
                         this file is {}",
                        path.display(),
                        other.describe()
                    )));
                }
            }
        }
        let label = spec.label();
        let run =
            timed_all(&paths, &label, ui, |counter| input::load_duet(&paths, &label, &classes, &policy.duet, counter))
                .map_err(Failure::input)?;
        ui.detail(&format!("{label}: duet run, {} slice pairs", run.slices.current.len()));
        read.push((spec, run));
    }
    let placements: Vec<_> = read.iter().map(|(_, r)| r.placement.clone()).collect();
    let notes = input::duet::placement_notes(&placements, &policy.duet);
    let placement = notes.first().cloned();
    if let Some(record) = input::duet::placement_record(&placements) {
        ui.detail(&format!("placement: {record}"));
    }
    let (mut baseline_runs, mut current_runs, mut slices) = (Side::default(), Side::default(), vec![]);
    for (spec, run) in read {
        let files: Vec<String> = spec.parts.iter().map(|p| p.path.display().to_string()).collect();
        baseline_runs.runs.push(Run { files: files.clone(), results: run.baseline });
        current_runs.runs.push(Run { files, results: run.current });
        slices.push(run.slices);
    }
    let (b, c) = (&baseline_runs.runs, &current_runs.runs);
    for i in 0..c.len() {
        for j in i + 1..c.len() {
            let same = |x: &RunResults, y: &RunResults| x.metrics == y.metrics && x.precision == y.precision;
            if same(&b[i].results, &b[j].results)
                && same(&c[i].results, &c[j].results)
                && same_bytes(&c[i].files, &c[j].files)
            {
                return Err(Failure::input(anyhow!(
                    "--duet: duet run {} ({}) and duet run {} ({}) are the same bytes: one duet run given twice is not \
                     two runs",
                    i + 1,
                    c[i].files.join(" + "),
                    j + 1,
                    c[j].files.join(" + ")
                )));
            }
        }
    }
    if let Some(first) = current_runs.runs.first_mut() {
        first.results.notes.extend(notes);
    }
    let reference = load_reference(inputs, policy, &current_runs, ui)?;
    let reference_results = reference.side.as_ref().map(Side::results);
    let comparison = crate::compare::compare_duet(
        &baseline_runs.results(),
        &current_runs.results(),
        reference_results.as_deref(),
        &slices,
        placement.as_deref(),
        policy,
        today,
    );
    Ok(Loaded::of(baseline_runs, current_runs, reference, comparison, decision))
}

/// Loads every run of one side, and refuses runs that share no metric: that is the files of
/// one run given as separate runs (the usage before runs were joined with `+`).
fn load_side(
    specs: &[RunSpec],
    format: Option<input::Format>,
    policy: &Policy,
    (flag, default): (&str, &str),
    ui: &Ui,
) -> Result<Side, Failure> {
    let mut side = Side::default();
    let mut loaded: Vec<(usize, usize)> = vec![];
    for spec in specs {
        let runs = load_run(spec, format, policy, (flag, default), ui)?;
        loaded.push((side.runs.len(), runs.len()));
        side.runs.extend(runs);
    }
    // The same bytes given as two runs are one run counted twice: a spread of zero between them
    // would narrow every interval. Runs with equal results are checked byte for byte.
    for (i, &(a, n)) in loaded.iter().enumerate() {
        for &(b, m) in &loaded[i + 1..] {
            let (x, y) = (&side.runs[a..a + n], &side.runs[b..b + m]);
            let same =
                |x: &Run, y: &Run| x.results.metrics == y.results.metrics && x.results.precision == y.results.precision;
            let equal = x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y));
            if equal && same_bytes(&x[0].files, &y[0].files) {
                return Err(Failure::input(anyhow!(
                    "{flag}: run {} ({}) and run {} ({}) are the same bytes: one run given twice is not two runs \
                     (its spread would be counted as zero)",
                    a + 1,
                    x[0].files.join(" + "),
                    b + 1,
                    y[0].files.join(" + "),
                )));
            }
        }
    }
    let runs = &side.runs;
    for (i, a) in runs.iter().enumerate() {
        for (j, b) in runs.iter().enumerate().skip(i + 1) {
            if !a.results.metrics.keys().any(|k| b.results.metrics.contains_key(k)) {
                return Err(Failure::input(anyhow!(
                    "{flag}: run {} ({}) and run {} ({}) share no metric, so they are not runs of the same test; \
                     each {flag} is one run now: join the parts of one run with + ({flag} {}+{})",
                    i + 1,
                    a.files.join(" + "),
                    j + 1,
                    b.files.join(" + "),
                    a.files.join("+"),
                    b.files.join("+"),
                )));
            }
        }
    }
    Ok(side)
}

/// Whether two runs' files hold the same bytes (each run's files as a multiset of sha256).
/// Only called for runs whose results are equal, so the files are read again rarely.
fn same_bytes(a: &[String], b: &[String]) -> bool {
    let digests = |files: &[String]| -> Option<Vec<String>> {
        let mut d: Vec<String> =
            files.iter().map(|f| crate::signing::sha256_file(Path::new(f)).ok()).collect::<Option<_>>()?;
        d.sort();
        Some(d)
    };
    matches!((digests(a), digests(b)), (Some(x), Some(y)) if x == y)
}

/// Loads one run from its parts: raw k6 shards of one format merge exactly into one part,
/// then the parts merge (each metric from one part). A native file with several `runs`, given
/// alone, is that many runs.
fn load_run(
    spec: &RunSpec,
    side_format: Option<input::Format>,
    policy: &Policy,
    (flag, default): (&str, &str),
    ui: &Ui,
) -> Result<Vec<Run>, Failure> {
    use input::Format;
    let files: Vec<String> = spec.parts.iter().map(|p| p.path.display().to_string()).collect();
    let mut formats = vec![];
    for (path, format) in spec.formats(side_format) {
        let format = match format {
            Some(f) => f,
            None => input::detect_path(path).map_err(|e| with_hint(e, path, flag, default))?,
        };
        formats.push((path, format));
    }
    if let [(path, format)] = formats.as_slice() {
        let runs = timed(path, ui, |counter| input::load_runs(path, *format, &policy.classes, counter))
            .map_err(|e| with_hint(e, path, flag, default))?;
        let several = runs.len() > 1;
        if several {
            ui.detail(&format!("{}: {} runs", path.display(), runs.len()));
        }
        return Ok(runs.into_iter().map(|results| Run { files: files.clone(), results }).collect());
    }
    let mut parts = vec![];
    let mut done = vec![false; formats.len()];
    for i in 0..formats.len() {
        if done[i] {
            continue;
        }
        let (path, format) = formats[i];
        let shards: Vec<usize> = match format {
            Format::K6Json | Format::K6Csv => (i..formats.len()).filter(|&j| formats[j].1 == format).collect(),
            _ => vec![i],
        };
        shards.iter().for_each(|&j| done[j] = true);
        let results = if let [_] = shards.as_slice() {
            timed(path, ui, |counter| input::load_with_progress(path, Some(format), &policy.classes, counter))
                .map_err(|e| with_hint(e, path, flag, default))?
        } else {
            let paths: Vec<&Path> = shards.iter().map(|&j| formats[j].0).collect();
            let label = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + ");
            let loaded = timed_all(&paths, &label, ui, |counter| {
                input::load_shards(&paths, &label, format, &policy.classes, counter)
            })
            .map_err(Failure::input)?;
            ui.detail(&format!("{label}: {} shards of one run, merged", paths.len()));
            loaded
        };
        let label = shards.iter().map(|&j| formats[j].0.display().to_string()).collect::<Vec<_>>().join(" + ");
        parts.push((label, results));
    }
    let results = input::merge(parts).map_err(Failure::input)?;
    Ok(vec![Run { files, results }])
}

/// Runs a reader on one file with a progress bar, and says how long it took.
fn timed<T: Metrics + Send>(
    path: &Path,
    ui: &Ui,
    read: impl FnOnce(&std::sync::atomic::AtomicU64) -> Result<T, LoadError> + Send,
) -> Result<T, LoadError> {
    let label = path.display().to_string();
    timed_all(&[path], &label, ui, read)
}

fn timed_all<T: Metrics + Send>(
    paths: &[&Path],
    label: &str,
    ui: &Ui,
    read: impl FnOnce(&std::sync::atomic::AtomicU64) -> Result<T, LoadError> + Send,
) -> Result<T, LoadError> {
    let started = std::time::Instant::now();
    let total: u64 = paths.iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum();
    let name = match paths {
        [one] => one.file_name().map_or_else(|| label.to_string(), |n| n.to_string_lossy().into_owned()),
        _ => label.to_string(),
    };
    let show_progress = !ui.quiet() && progress::wanted();
    let results = progress::with_bar(show_progress, &name, total, read)?;
    ui.detail(&format!(
        "read {label} ({}): {} metrics in {:.2} s",
        human_bytes(total),
        results.metric_count(),
        started.elapsed().as_secs_f64()
    ));
    Ok(results)
}

/// How many metrics a read produced, for the detail line.
trait Metrics {
    fn metric_count(&self) -> usize;
}

impl Metrics for RunResults {
    fn metric_count(&self) -> usize {
        self.metrics.len()
    }
}

impl Metrics for input::duet::DuetRun {
    fn metric_count(&self) -> usize {
        self.current.metrics.len()
    }
}

impl Metrics for Vec<RunResults> {
    fn metric_count(&self) -> usize {
        self.iter().map(|r| r.metrics.len()).max().unwrap_or(0)
    }
}

/// Reads and validates the policy (`--thresholds`); errors exit 2.
pub fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let text = fsutil::read_text(path).map_err(|e| with_hint(e, path, "--thresholds", "perf_thresholds.yml"))?;
    policy::parse(&path.display().to_string(), &text).map_err(Failure::input)
}

/// How reports name a side: its runs, each as `a.json + b.json`, joined with `, `.
fn label(runs: &[RunSpec]) -> String {
    runs.iter().map(RunSpec::label).collect::<Vec<_>>().join(", ")
}

/// A missing default file gets a hint about the flag that names another one.
fn with_hint(mut e: LoadError, path: &Path, flag: &str, default: &str) -> Failure {
    if e.message == "not found" && path == Path::new(default) {
        e.message = format!("not found (the default for {flag}; pass {flag} FILE)");
    }
    Failure::input(e)
}

pub fn write_file(report: &Report, format: Format, path: &Path, ui: &Ui) -> Result<(), Failure> {
    let mut bytes = vec![];
    format.renderer(false).render(report, &mut bytes).expect("writing to memory cannot fail");
    write_bytes(path, &bytes, "report", ui)
}

/// Writes a report or badge, replacing it atomically. Its directory must exist: a typo in it
/// is an error, not a new directory.
fn write_bytes(path: &Path, bytes: &[u8], what: &str, ui: &Ui) -> Result<(), Failure> {
    fsutil::write_atomic(path, bytes)
        .map_err(|e| Failure::input(anyhow!(fsutil::cannot(&format!("write the {what}"), path, &e))))?;
    ui.detail(&format!("wrote {} ({what})", path.display()));
    Ok(())
}

/// `812 B`, `3.4 MB`.
fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// Refuses outputs that would replace an input or each other: nothing is lost to a typo.
pub fn check_outputs(inputs: &Inputs, outputs: Vec<&PathBuf>) -> Result<(), Failure> {
    let i = inputs;
    let inputs: Vec<&PathBuf> = i
        .baseline
        .iter()
        .chain(&i.current)
        .chain(&i.duet)
        .chain(&i.reference)
        .flat_map(|run| run.parts.iter().map(|p| &p.path))
        .chain([&i.thresholds])
        .collect();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    for (i, out) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same(out, input)) {
            return Err(Failure::input(anyhow!(
                "{}: is an input of this comparison; refusing to write a report over it",
                input.display()
            )));
        }
        let is_file_or_new = std::fs::metadata(out).map_or(true, |m| m.is_file());
        if is_file_or_new && outputs[..i].iter().any(|earlier| same(out, earlier)) {
            return Err(Failure::input(anyhow!("{}: named as the output of two reports", out.display())));
        }
    }
    Ok(())
}

/// Posts `outcome` to the channels asked (`--notify`, `perfcert notify`): one line per channel,
/// a note when done, a warning when it failed. Returns whether every channel was done or had
/// nothing to do. Callers with a verdict ignore it: a notification never changes the verdict's
/// exit code (`after_verdict` says so in each warning); without a verdict (`perfcert notify`,
/// whose exit is then 3) a failure is an `error:`. On a GitHub runner the message links to the
/// run unless it has a link already; the message names `document` unless it has a location.
pub fn notify(
    ui: &Ui,
    mut outcome: crate::notify::Outcome,
    document: Option<&Path>,
    to: &crate::options::NotifyTo,
    after_verdict: bool,
) -> bool {
    use crate::notify::send::{self, Delivery};
    if to.channels.is_empty() {
        return true;
    }
    let env = |name: &str| std::env::var(name).ok();
    if outcome.link.is_none()
        && let (Some(server), Some(repo), Some(run)) =
            (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID"))
    {
        outcome.link = Some(format!("{}/{repo}/actions/runs/{run}", server.trim_end_matches('/')));
    }
    if outcome.location.is_none() {
        outcome.location = document.map(|d| d.display().to_string());
    }
    let request =
        send::Request { outcome: &outcome, channels: &to.channels, document, jira_project: to.jira_project.as_deref() };
    let mut all_ok = true;
    for delivery in send::deliver(&request, &env) {
        match delivery {
            Delivery::Done(line) | Delivery::Skipped(line) => ui.note(&line),
            Delivery::Failed(line) => {
                all_ok = false;
                if after_verdict {
                    ui.problem(&format!("{line} (the exit code is the verdict's)"));
                } else {
                    ui.error(&line);
                }
            }
        }
    }
    all_ok
}

/// Reads the CAB policy (`approvals.yml`): its roles' public keys and its trusted root, paths
/// relative to the policy file. Every mistake is an input error naming the file and the key.
pub fn load_approvals(path: &Path) -> Result<crate::approval::Trusted, Failure> {
    use crate::approval::{RoleTrust, Trusted, parse_policy};
    let text = std::fs::read_to_string(path).map_err(|e| Failure::input(anyhow!(fsutil::at(path, &e))))?;
    let shown = path.display().to_string();
    let spec = parse_policy(&shown, &text).map_err(Failure::input)?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut roles = indexmap::IndexMap::new();
    for (name, role) in &spec.roles {
        let mut trust = RoleTrust { keys: vec![], identities: role.identities.clone() };
        for (i, key) in role.keys.iter().enumerate() {
            let file = base.join(key);
            let pem = read_public_key(&file)
                .map_err(|f| Failure::input(anyhow!("{shown}: roles.{name}.keys[{i}]: {:#}", f.error)))?;
            if crate::signing::key_fingerprint(&pem).is_none() {
                return Err(Failure::input(anyhow!(
                    "{shown}: roles.{name}.keys[{i}]: {}: not a PEM public key",
                    file.display()
                )));
            }
            trust.keys.push((file.display().to_string(), pem));
        }
        roles.insert(name.clone(), trust);
    }
    let (root, root_name) = match &spec.trusted_root {
        Some(r) => {
            let file = base.join(r);
            let json = std::fs::read_to_string(&file)
                .map_err(|e| Failure::input(anyhow!("{shown}: trusted_root: {}", fsutil::at(&file, &e))))?;
            let root = crate::signing::keyless::trusted_root(Some(&json)).map_err(|e| {
                Failure::input(anyhow!("{shown}: trusted_root: {}: not a Sigstore trusted root: {e}", file.display()))
            })?;
            (root, file.display().to_string())
        }
        None => (
            crate::signing::keyless::trusted_root(None).expect("the built-in root parses"),
            "the public-good root".to_string(),
        ),
    };
    Ok(Trusted { roles, required: spec.required, root, root_name })
}

/// The approval bundles stored beside a certificate (`stem`) in its folder, and notes on the
/// names shaped like approvals that are not honoured. A listed approval that cannot be read
/// because it is not there (a dangling symbolic link) is not a valid approval: exit 4.
pub fn find_approvals(
    folder: &crate::authenticate::Folder,
    stem: &str,
    endpoint: Option<&str>,
) -> Result<(Vec<crate::approval::Found>, Vec<String>), Failure> {
    let archive = crate::store::open(&folder.location, endpoint).map_err(crate::authenticate::store_failure)?;
    let listed = crate::store::approvals_of(archive.as_ref(), &folder.prefix, stem)
        .map_err(crate::authenticate::store_failure)?;
    let names: Vec<String> = listed.found.iter().map(|(r, _, _)| r.clone()).collect();
    let mut found = vec![];
    for ((relative, role, k), bytes) in listed.found.into_iter().zip(archive.read_many(&names)) {
        let shown = archive.show(&relative);
        let bytes = bytes.map_err(|e| match e {
            crate::store::StoreError::NotFound { .. } => Failure::not_authentic(anyhow!(
                "not authentic: {shown}: named as an approval, but there is nothing to read (a dangling link?)"
            )),
            e => crate::authenticate::store_failure(e),
        })?;
        let json = String::from_utf8(bytes)
            .map_err(|_| Failure::not_authentic(anyhow!("not authentic: {shown}: not UTF-8, not a Sigstore bundle")))?;
        found.push(crate::approval::Found { shown, role, k, json });
    }
    Ok((found, listed.ignored))
}
