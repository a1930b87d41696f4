//! The archive layout: the one place that knows how things are named in an archive, a local
//! directory or an S3 prefix alike. Pure: names in, names out.
//!
//! ```text
//! ARCHIVE/
//!   YYYYMMDD/STEM.cert.json                   a certificate (STEM = SERVICE-VERSION, or SERVICE-VERSION.N)
//!   YYYYMMDD/STEM.sigstore.json               its Sigstore bundle (written first)
//!   YYYYMMDD/STEM.approval.ROLE.K.sigstore.json   signed approvals of it (governance)
//!   claims/STEM.json                          the name is taken: "certified once per archive"
//!   index/dt=YYYY-MM-DD/service=SERVICE/STEM.json   one index line per certificate (history,
//!                                             reports, Athena and DuckDB; Hive-style partitions)
//!   daily/YYYYMMDD/STEM.verify.json           post-deploy verification records (drift)
//!   YYYYMMDD/STEM.jira.json                   the Jira issue filed for a FAIL (notify): local only,
//!                                             beside the local copy, never uploaded (Jira's label is
//!                                             what finds the issue from another machine)
//!   tickets/STEM.TICKET.json                  change-ticket markers (governance)
//! ```
//!
//! `DAY` is the UTC day the certificate was made. Archives written before claims existed
//! (certificates and bundles only) stay readable: a name is taken when its claim exists *or* a
//! certificate or bundle of that stem exists under any day.

/// Where claims live, relative to the archive.
pub const CLAIMS: &str = "claims";
/// Where index lines will live (history and reports).
pub const INDEX: &str = "index";
/// Where post-deploy verification records will live (drift and bake).
pub const DAILY: &str = "daily";
/// Where ticket markers will live (governance).
pub const TICKETS: &str = "tickets";

const CERT: &str = ".cert.json";
const BUNDLE: &str = ".sigstore.json";
const JIRA_MARKER: &str = ".jira.json";
const RECORD: &str = ".verify.json";

/// One certificate's names in the archive, relative to its root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `YYYYMMDD`.
    pub day: String,
    /// `SERVICE-VERSION` or `SERVICE-VERSION.N`.
    pub stem: String,
}

impl Names {
    pub fn new(day: impl Into<String>, stem: impl Into<String>) -> Names {
        Names { day: day.into(), stem: stem.into() }
    }

    /// `YYYYMMDD/STEM.cert.json`.
    pub fn certificate(&self) -> String {
        format!("{}/{}{CERT}", self.day, self.stem)
    }

    /// `YYYYMMDD/STEM.sigstore.json`.
    pub fn bundle(&self) -> String {
        format!("{}/{}{BUNDLE}", self.day, self.stem)
    }

    /// `claims/STEM.json`.
    pub fn claim(&self) -> String {
        format!("{CLAIMS}/{}.json", self.stem)
    }

    /// The certificate's file name, `STEM.cert.json`: it is signed as a subject.
    pub fn certificate_file_name(&self) -> String {
        format!("{}{CERT}", self.stem)
    }

    /// `YYYYMMDD/STEM.approval.ROLE.K.sigstore.json` (K counts from 1).
    pub fn approval(&self, role: &str, k: u32) -> String {
        format!("{}/{}", self.day, approval_file_name(&self.stem, role, k))
    }

    /// `index/dt=YYYY-MM-DD/service=SERVICE/STEM.json`: the certificate's index line, under
    /// Hive-style partitions by day and service (the service as [`stem`] cleans it).
    pub fn index_line(&self, service: &str) -> String {
        let d = &self.day;
        let dashed = if d.len() == 8 { format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]) } else { d.clone() };
        format!("{INDEX}/dt={dashed}/service={}/{}.json", clean(service), self.stem)
    }

    /// `daily/YYYYMMDD/STEM.verify.json` for a check made on `check_day`.
    pub fn daily_record(&self, check_day: &str) -> String {
        format!("{DAILY}/{check_day}/{}{RECORD}", self.stem)
    }

    /// `daily/YYYYMMDD/STEM.verify.sigstore.json`: the signed statement of that record.
    pub fn daily_record_bundle(&self, check_day: &str) -> String {
        format!("{DAILY}/{check_day}/{}.verify{BUNDLE}", self.stem)
    }

    /// `tickets/STEM.TICKET.json`.
    pub fn ticket(&self, ticket: &str) -> String {
        format!("{TICKETS}/{}.{}.json", self.stem, clean(ticket))
    }

    /// The claim's content: which certificate took the name. Deterministic, so that uploading
    /// the same certificate again finds the same claim.
    pub fn claim_content(&self, certificate_sha256: &str) -> String {
        format!("{{\"certificate\":\"{}\",\"sha256\":\"{certificate_sha256}\"}}\n", self.certificate())
    }
}

/// `STEM.verify.json`: a bake record's file name, signed as its subject.
pub fn record_file_name(stem: &str) -> String {
    format!("{stem}{RECORD}")
}

/// Where a bake filed the record `record_file_name` (`STEM.verify.json`) judged up to the
/// RFC 3339 time `judged_to`: `daily/YYYYMMDD/STEM.verify.json`, the day of that time in UTC.
/// `None` when the time does not parse or the name is not a record's.
pub fn archived_record(record_file_name: &str, judged_to: &str) -> Option<String> {
    let stem = record_file_name.strip_suffix(RECORD).filter(|s| !s.is_empty())?;
    let day = judged_to.parse::<jiff::Timestamp>().ok()?.strftime("%Y%m%d").to_string();
    Some(Names::new(day.clone(), stem).daily_record(&day))
}

/// `SERVICE-VERSION`, with characters unsafe in file and object names replaced by `_`.
pub fn stem(service: &str, version: &str) -> String {
    format!("{}-{}", clean(service), clean(version))
}

/// The stem of the `n`th certificate of a name: `STEM` for the first, `STEM.N` after.
pub fn nth(stem: &str, n: u32) -> String {
    if n <= 1 { stem.to_string() } else { format!("{stem}.{n}") }
}

fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

/// What an archive path (relative, `/`-separated) is, by the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Certificate(Names),
    Bundle(Names),
    Claim {
        stem: String,
    },
    /// An index line: the certificate's names and the service partition (cleaned).
    Index {
        names: Names,
        service: String,
    },
    /// Anything else: approvals, records, temporary files; not listed.
    Other,
}

/// Classifies a relative path.
pub fn classify(relative: &str) -> Kind {
    if let Some(rest) = relative.strip_prefix(INDEX).and_then(|r| r.strip_prefix("/dt=")) {
        return classify_index(rest);
    }
    let Some((dir, name)) = relative.split_once('/') else { return Kind::Other };
    if name.contains('/') {
        return Kind::Other;
    }
    if dir == CLAIMS {
        return match name.strip_suffix(".json") {
            Some(stem) if !stem.is_empty() && !stem.starts_with('.') => Kind::Claim { stem: stem.to_string() },
            _ => Kind::Other,
        };
    }
    if !is_day(dir) || name.starts_with('.') {
        return Kind::Other;
    }
    if let Some(stem) = name.strip_suffix(CERT) {
        return Kind::Certificate(Names::new(dir, stem));
    }
    match name.strip_suffix(BUNDLE) {
        // Approvals are bundles too, of a certificate: not the certificate's own.
        Some(stem) if !stem.contains(".approval.") => Kind::Bundle(Names::new(dir, stem)),
        _ => Kind::Other,
    }
}

/// `YYYY-MM-DD/service=SERVICE/STEM.json` (after `index/dt=`).
fn classify_index(rest: &str) -> Kind {
    let mut parts = rest.split('/');
    let (Some(dt), Some(service), Some(name), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Kind::Other;
    };
    let day: String = dt.split('-').collect();
    let dashes_right = dt.len() == 10 && dt.as_bytes()[4] == b'-' && dt.as_bytes()[7] == b'-';
    let (Some(service), Some(stem)) = (service.strip_prefix("service="), name.strip_suffix(".json")) else {
        return Kind::Other;
    };
    if !dashes_right || !is_day(&day) || service.is_empty() || stem.is_empty() || stem.starts_with('.') {
        return Kind::Other;
    }
    Kind::Index { names: Names::new(day, stem), service: service.to_string() }
}

/// `YYYYMMDD`.
pub fn is_day(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `STEM.approval.ROLE.K.sigstore.json`: the K-th approval (from 1) of a certificate for a role,
/// beside it.
pub fn approval_file_name(stem: &str, role: &str, k: u32) -> String {
    format!("{stem}{APPROVAL}{}.{k}{BUNDLE}", clean(role))
}

const APPROVAL: &str = ".approval.";

/// The largest approval number K honoured in a file name; a larger one is ignored (with a note)
/// and is never the base of the next number.
pub const MAX_APPROVAL_K: u32 = 1_000_000;

/// The prefix every approval of the certificate `stem` starts with: `STEM.approval.`.
pub fn approval_prefix(stem: &str) -> String {
    format!("{stem}{APPROVAL}")
}

/// The role and number of an approval file of the certificate `stem`: `None` for a name that is
/// not one, `Some(Err(why))` for a name shaped like one that is not honoured (a role that is not a
/// valid role name, a K that is not canonical — `02`, `+2`, `0` — or above [`MAX_APPROVAL_K`]).
/// `why` shows the name escaped.
pub fn approval_of(stem: &str, file_name: &str) -> Option<Result<(String, u32), String>> {
    let rest = file_name.strip_prefix(stem)?.strip_prefix(APPROVAL)?;
    let ignored = |what: &str| Err(format!("{}: ignored: {what}", file_name.escape_debug()));
    let Some(rest) = rest.strip_suffix(BUNDLE) else {
        return Some(ignored("not named STEM.approval.ROLE.K.sigstore.json"));
    };
    let Some((role, k)) = rest.rsplit_once('.') else {
        return Some(ignored("not named STEM.approval.ROLE.K.sigstore.json"));
    };
    if !crate::approval::valid_role(role) {
        return Some(ignored("its role is not a role name (letters, digits, `-` and `_`)"));
    }
    match k.parse::<u32>() {
        Ok(n) if n >= 1 && n.to_string() == k && n <= MAX_APPROVAL_K => Some(Ok((role.to_string(), n))),
        Ok(n) if n > MAX_APPROVAL_K && n.to_string() == k => {
            Some(ignored(&format!("its number is above {MAX_APPROVAL_K}")))
        }
        _ => Some(ignored(&format!("its number is not one of 1, 2, ... {MAX_APPROVAL_K} written plainly"))),
    }
}

/// A certificate's file name `STEM.cert.json` -> `STEM`.
pub fn stem_of(certificate_file_name: &str) -> Option<&str> {
    certificate_file_name.strip_suffix(CERT)
}

/// A certificate's file name `STEM.cert.json` -> `STEM.sigstore.json`, its bundle's.
pub fn bundle_beside(certificate_file_name: &str) -> Option<String> {
    certificate_file_name.strip_suffix(CERT).map(|stem| format!("{stem}{BUNDLE}"))
}

/// The ticket marker beside a document: `STEM.cert.json` -> `STEM.jira.json` (a certificate),
/// `NAME.json` -> `NAME.jira.json` (a drift report), anything else `NAME.jira.json`. It names the
/// Jira issue filed for the document, created once and never replaced.
pub fn ticket_marker_beside(document_file_name: &str) -> String {
    let stem = document_file_name
        .strip_suffix(CERT)
        .or_else(|| document_file_name.strip_suffix(".json"))
        .unwrap_or(document_file_name);
    format!("{stem}{JIRA_MARKER}")
}

/// A verification record's bundle name from its file name (`STEM.verify.json` ->
/// `STEM.verify.sigstore.json`), or `None` for another name.
pub fn record_bundle_beside(record_file_name: &str) -> Option<String> {
    record_file_name.strip_suffix(RECORD).map(|stem| format!("{stem}.verify{BUNDLE}"))
}

/// Whether a file name is a verification record's (`STEM.verify.json`).
pub fn is_record(file_name: &str) -> bool {
    file_name.ends_with(RECORD)
}

/// What the archive holds, by stem: which stems are taken and which certificates have bundles.
#[derive(Debug, Default)]
pub struct Contents {
    pub certificates: Vec<Names>,
    pub bundles: Vec<Names>,
    pub claims: Vec<String>,
    /// Index lines: the certificate's names and the service partition.
    pub index: Vec<(Names, String)>,
}

impl Contents {
    pub fn of<'a>(relative_paths: impl IntoIterator<Item = &'a str>) -> Contents {
        let mut c = Contents::default();
        for path in relative_paths {
            match classify(path) {
                Kind::Certificate(n) => c.certificates.push(n),
                Kind::Bundle(n) => c.bundles.push(n),
                Kind::Claim { stem } => c.claims.push(stem),
                Kind::Index { names, service } => c.index.push((names, service)),
                Kind::Other => {}
            }
        }
        c
    }

    /// Whether a stem is taken: claimed, or a certificate or bundle of it exists (any day).
    pub fn taken(&self, stem: &str) -> bool {
        self.claims.iter().any(|s| s == stem)
            || self.certificates.iter().any(|n| n.stem == stem)
            || self.bundles.iter().any(|n| n.stem == stem)
    }

    /// Whether `relative` is one of the certificates, bundles or claims listed.
    pub fn holds(&self, relative: &str) -> bool {
        match classify(relative) {
            Kind::Certificate(n) => self.certificates.contains(&n),
            Kind::Bundle(n) => self.bundles.contains(&n),
            Kind::Claim { stem } => self.claims.contains(&stem),
            Kind::Index { names, service } => self.index.contains(&(names, service)),
            Kind::Other => false,
        }
    }

    /// A certificate or bundle of this stem under another day than `names`' own.
    pub fn other_day(&self, names: &Names) -> Option<&Names> {
        self.certificates.iter().chain(&self.bundles).find(|n| n.stem == names.stem && n.day != names.day)
    }

    /// The certificate of a stem, under any day.
    pub fn certificate_of(&self, stem: &str) -> Option<&Names> {
        self.certificates.iter().find(|n| n.stem == stem)
    }

    /// The newest certificate of a name: `STEM.N` with the highest N, else `STEM`.
    pub fn newest_of(&self, stem: &str) -> Option<&Names> {
        self.certificates_of(stem).pop().map(|(_, n)| n)
    }

    /// Every certificate of a name with its N, oldest first: `STEM` (1), then `STEM.N` (N >= 2).
    /// Each is one earlier look at that service and version.
    pub fn certificates_of(&self, stem: &str) -> Vec<(u32, &Names)> {
        let n_of = |n: &Names| -> Option<u32> {
            if n.stem == stem {
                return Some(1);
            }
            n.stem.strip_prefix(stem)?.strip_prefix('.')?.parse().ok().filter(|&k| k >= 2)
        };
        let mut found: Vec<(u32, &Names)> = self.certificates.iter().filter_map(|n| Some((n_of(n)?, n))).collect();
        found.sort_by_key(|(k, _)| *k);
        found
    }

    /// The certificates whose stem is of this service (`SERVICE-...`; a service whose name
    /// extends this one's may match too: check the certificate's own `service`).
    pub fn certificates_of_service<'a>(&'a self, service: &str) -> impl Iterator<Item = &'a Names> + 'a {
        let prefix = format!("{}-", clean(service));
        self.certificates.iter().filter(move |n| n.stem.starts_with(&prefix))
    }

    /// The index lines of a service (as [`stem`] cleans its name), as relative paths, in no
    /// particular order.
    pub fn index_of_service(&self, service: &str) -> Vec<String> {
        let service = clean(service);
        self.index.iter().filter(|(_, s)| *s == service).map(|(n, s)| n.index_line(s)).collect()
    }

    /// Whether this certificate has its bundle beside it.
    pub fn has_bundle(&self, cert: &Names) -> bool {
        self.bundles.contains(cert)
    }

    /// Claims with no certificate: a certify that took the name and did not finish (it was
    /// killed, or is still signing).
    pub fn unfinished_claims(&self) -> Vec<&str> {
        self.claims.iter().filter(|s| !self.certificates.iter().any(|n| &n.stem == *s)).map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ticket_marker_sits_beside_its_document_and_is_never_a_certificate() {
        assert_eq!(ticket_marker_beside("ingest-api-v1.4.2.cert.json"), "ingest-api-v1.4.2.jira.json");
        assert_eq!(ticket_marker_beside("drift.json"), "drift.jira.json");
        assert_eq!(ticket_marker_beside("report"), "report.jira.json");
        assert_eq!(classify("20261122/ingest-api-v1.4.2.jira.json"), Kind::Other);
    }

    #[test]
    fn only_canonical_approval_names_count_and_the_rest_are_said_escaped() {
        let ignored = |name: &str| match approval_of("a-v1", name) {
            Some(Err(why)) => why,
            other => panic!("{name}: {other:?}"),
        };
        // A K that is not written plainly would let a copied approval outrank a later reject.
        for bad in ["0", "02", "+2", "4294967295", "1000001", "99999999999", "", "x", "-1"] {
            let why = ignored(&format!("a-v1.approval.qa-lead.{bad}.sigstore.json"));
            assert!(why.contains("ignored: its number"), "{bad}: {why}");
        }
        assert!(ignored("a-v1.approval.qa.sigstore.json").contains("ignored"));
        // A role that is not a role name: ignored, and said with its control characters escaped.
        let why = ignored("a-v1.approval.x\u{1b}[2J\nOK: qa.1.sigstore.json");
        assert!(!why.contains('\u{1b}') && !why.contains('\n'), "{why:?}");
        assert!(why.contains("\\u{1b}[2J\\nOK: qa.1.sigstore.json: ignored: its role"), "{why}");
        assert!(ignored("a-v1.approval.q.a.1.sigstore.json").contains("its role"));
        assert!(ignored("a-v1.approval.qa.1.json").contains("not named"));
    }

    #[test]
    fn names_follow_the_layout() {
        let n = Names::new("20261122", stem("ingest api", "v1.4.2/rc1"));
        assert_eq!(n.stem, "ingest_api-v1.4.2_rc1");
        assert_eq!(n.certificate(), "20261122/ingest_api-v1.4.2_rc1.cert.json");
        assert_eq!(n.bundle(), "20261122/ingest_api-v1.4.2_rc1.sigstore.json");
        assert_eq!(n.claim(), "claims/ingest_api-v1.4.2_rc1.json");
        assert_eq!(n.approval("qa lead", 1), "20261122/ingest_api-v1.4.2_rc1.approval.qa_lead.1.sigstore.json");
        assert_eq!(n.index_line("ingest api"), "index/dt=2026-11-22/service=ingest_api/ingest_api-v1.4.2_rc1.json");
        assert_eq!(n.daily_record("20261201"), "daily/20261201/ingest_api-v1.4.2_rc1.verify.json");
        assert_eq!(n.daily_record_bundle("20261201"), "daily/20261201/ingest_api-v1.4.2_rc1.verify.sigstore.json");
        assert_eq!(classify(&n.daily_record_bundle("20261201")), Kind::Other, "not a certificate's bundle");
        assert_eq!(
            approval_of(&n.stem, "ingest_api-v1.4.2_rc1.approval.qa_lead.12.sigstore.json"),
            Some(Ok(("qa_lead".into(), 12)))
        );
        assert_eq!(approval_of("a-v1", "a-v1.2.approval.qa.1.sigstore.json"), None, "another certificate's");
        assert_eq!(approval_of("a-v1", "a-v1.sigstore.json"), None);
        assert_eq!(approval_of("a-v1", "a-v1.approval.qa.1000000.sigstore.json"), Some(Ok(("qa".into(), 1_000_000))));
        assert_eq!(nth("a-v1", 1), "a-v1");
        assert_eq!(nth("a-v1", 3), "a-v1.3");
    }

    #[test]
    fn every_name_classifies_back() {
        let n = Names::new("20261122", "api-v1.2");
        assert_eq!(classify(&n.certificate()), Kind::Certificate(n.clone()));
        assert_eq!(classify(&n.bundle()), Kind::Bundle(n.clone()));
        assert_eq!(classify(&n.claim()), Kind::Claim { stem: "api-v1.2".into() });
        assert_eq!(classify(&n.index_line("api")), Kind::Index { names: n.clone(), service: "api".into() });
        for other in [
            n.approval("qa", 1),
            "index/dt=20261122/service=api/api-v1.2.json".into(),
            "index/dt=2026-11-22/api-v1.2.json".into(),
            "index/dt=2026-11-22/service=/api-v1.2.json".into(),
            "index/dt=2026-11-22/service=api/.tmpX".into(),
            "index/dt=2026-11-22/service=api/x/api-v1.2.json".into(),
            n.daily_record("20261123"),
            n.ticket("CAB-1"),
            "2026112/a.cert.json".into(),
            "x/20261122/a.cert.json".into(),
            "a.cert.json".into(),
            "20261122/.tmpAbC12".into(),
            "claims/.tmpX".into(),
        ] {
            assert_eq!(classify(&other), Kind::Other, "{other}");
        }
    }

    #[test]
    fn a_stem_is_taken_by_a_claim_or_by_files_of_any_day() {
        let c = Contents::of([
            "20261101/old-v1.cert.json",
            "20261101/old-v1.sigstore.json",
            "20261102/half-v1.sigstore.json",
            "claims/new-v1.json",
            "claims/new-v1.2.json",
            "20261103/new-v1.cert.json",
            "20261103/new-v1.sigstore.json",
        ]);
        for stem in ["old-v1", "half-v1", "new-v1", "new-v1.2"] {
            assert!(c.taken(stem), "{stem}");
        }
        assert!(!c.taken("new-v1.3"));
        assert!(c.has_bundle(&Names::new("20261101", "old-v1")));
        assert_eq!(c.unfinished_claims(), ["new-v1.2"]);
        assert_eq!(c.newest_of("new-v1"), Some(&Names::new("20261103", "new-v1")));
        assert_eq!(c.other_day(&Names::new("20261104", "old-v1")), Some(&Names::new("20261101", "old-v1")));
        assert_eq!(c.other_day(&Names::new("20261101", "old-v1")), None);
        let more = Contents::of(["20261101/a-v1.cert.json", "20261102/a-v1.10.cert.json", "20261102/a-v1.9.cert.json"]);
        assert_eq!(more.newest_of("a-v1").map(|n| n.stem.as_str()), Some("a-v1.10"));
        assert_eq!(more.newest_of("a-v"), None);
        let order: Vec<u32> = more.certificates_of("a-v1").iter().map(|(k, _)| *k).collect();
        assert_eq!(order, [1, 9, 10]);
    }
}
