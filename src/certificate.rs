//! The performance certificate: what was compared, with what result, provably.
//!
//! A certificate holds the PERF-004 §7 fields (`service`, `version`, `commit`, `date`,
//! `status`, `metrics`, `cost_per_1000_req`, `approvers`, `signature`) and what makes it
//! auditable: every metric's comparison as the JSON report writes it, the waivers applied, the
//! sha256 of every input file, the `as_of` day waivers were judged on, and the perfcert version.
//! It is the `predicate` of the signed in-toto statement. Pure: built from a finished
//! comparison and digests the caller computed; it knows nothing of reports or archives.
//!
//! Two versions, each with its own schema number and predicate type, so that a reader of one
//! never misreads the other (perfcert 0.1 refuses any predicate type but v1):
//! - **1** (`https://perfcert.dev/certificate/v1`): the threshold method's certificates, as
//!   they have always been written, and statistical ones made before version 2 existed.
//! - **2** (`https://perfcert.dev/certificate/v2`): `decision.method: statistical`. It also
//!   records the decision ([`Decision`]: method, alphas, the look and its alphas, the assumed
//!   noise, the history used), `runs_needed`, and every row's runs even with one run a side.
//!   `verify --recompute` rebuilds it byte for byte.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::compare::{Comparison, Status};
use crate::model::RunResults;
pub use crate::record::Decision;

/// The schema of certificates without a statistical decision (the threshold method).
pub const SCHEMA: u32 = 1;
/// The schema of certificates that record a statistical decision.
pub const SCHEMA_DECISION: u32 = 2;

/// What every perfcert predicate type starts with; the schema number follows.
pub const PREDICATE_PREFIX: &str = "https://perfcert.dev/certificate/v";

/// The in-toto `predicateType` of schema 1 certificates.
pub const PREDICATE_TYPE: &str = "https://perfcert.dev/certificate/v1";
/// The in-toto `predicateType` of schema 2 certificates.
pub const PREDICATE_TYPE_V2: &str = "https://perfcert.dev/certificate/v2";

/// The predicate type of a schema this perfcert writes and reads.
pub fn predicate_type(schema: u32) -> Option<&'static str> {
    match schema {
        SCHEMA => Some(PREDICATE_TYPE),
        SCHEMA_DECISION => Some(PREDICATE_TYPE_V2),
        _ => None,
    }
}

/// The schema a known predicate type names.
pub fn schema_of(given: &str) -> Option<u32> {
    [SCHEMA, SCHEMA_DECISION].into_iter().find(|&s| predicate_type(s) == Some(given))
}

/// How a certificate was signed, as PERF-004 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    #[serde(rename = "cosign-key")]
    Key,
    #[serde(rename = "cosign-keyless")]
    Keyless,
}

/// One input file, by name (as given) and content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    pub file: String,
    pub sha256: String,
    /// Which run (1-based, in the order given) the file is a part of, when its side has several
    /// runs; absent with one run (and in certificates made before runs existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub baseline: Vec<FileDigest>,
    pub current: Vec<FileDigest>,
    /// `--duet` files (one k6 run measured both sides); `baseline` and `current` are then empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duet: Vec<FileDigest>,
    pub thresholds: FileDigest,
    /// `--reference` files (the cumulative limits' reference); absent without one, so
    /// certificates made before references existed keep their bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference: Vec<FileDigest>,
}

/// A waiver that turned a failure into WAIVED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedWaiver {
    pub metric: String,
    pub reason: String,
    pub approved_by: Option<String>,
    pub expires: String,
}

/// The certificate document. Field order is the order written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub schema: u32,
    pub service: String,
    pub version: String,
    pub commit: Option<String>,
    /// When the certificate was made, RFC 3339 UTC.
    pub date: String,
    /// `PASS`, `FAIL` or (`decision.method: statistical`) `INCONCLUSIVE`.
    pub status: String,
    /// Current values of the metrics the policy gates.
    pub metrics: IndexMap<String, f64>,
    pub cost_per_1000_req: Option<f64>,
    pub approvers: Vec<String>,
    pub signature: Method,
    pub perfcert_version: String,
    /// The day waivers were judged on.
    pub as_of: String,
    /// Schema 2: how the statistical verdict was reached. Absent in schema 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Schema 2: more runs per side that would settle every inconclusive row, or null (written
    /// as null, unlike an absent field). Absent in schema 1.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present_or_null")]
    pub runs_needed: Option<Option<u32>>,
    pub inputs: Inputs,
    /// Every metric's comparison, as in the JSON report's `metrics`.
    pub comparison: serde_json::Value,
    pub waivers: Vec<AppliedWaiver>,
    /// Warnings of the comparison (expired waivers, estimated percentiles, runs not produced
    /// the same way).
    pub warnings: Vec<String>,
    /// How each side's runs were produced: the fingerprint keys all of a side's runs share.
    /// Absent when neither side's is known, and in certificates made before fingerprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Option<Fingerprints>,
}

/// Each side's fingerprint ([`crate::fingerprint`]), as the JSON report's `inputs.*.fingerprint`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprints {
    pub baseline: IndexMap<String, String>,
    pub current: IndexMap<String, String>,
}

impl Fingerprints {
    /// Both sides' fingerprints, or `None` when neither is known.
    pub fn of(baseline: &RunResults, current: &RunResults) -> Option<Fingerprints> {
        (!baseline.fingerprint.is_empty() || !current.fingerprint.is_empty())
            .then(|| Fingerprints { baseline: baseline.fingerprint.clone(), current: current.fingerprint.clone() })
    }
}

/// Who and what is certified, and how; the rest comes from the comparison.
#[derive(Debug, Clone)]
pub struct Identity {
    pub service: String,
    pub version: String,
    pub commit: Option<String>,
    pub date: String,
    pub approvers: Vec<String>,
    pub signature: Method,
}

/// A field that is present, null or not: `Some(None)` for null.
fn present_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

/// Builds the certificate of a comparison: schema 2 when `decision` records a statistical
/// decision, else schema 1 exactly as before. The sides' results give the run fingerprints.
pub fn build(
    identity: Identity,
    comparison: &Comparison,
    baseline: &RunResults,
    current: &RunResults,
    inputs: Inputs,
    decision: Option<Decision>,
) -> Certificate {
    let gated = comparison.rows.iter().filter(|r| r.policy.is_some());
    let metrics: IndexMap<String, f64> = gated.filter_map(|r| r.current.map(|v| (r.name.clone(), v))).collect();
    let waivers = comparison
        .rows
        .iter()
        .filter(|r| r.status == Status::Waived)
        .filter_map(|r| {
            r.waiver.as_ref().map(|w| AppliedWaiver {
                metric: r.name.clone(),
                reason: w.reason.clone(),
                approved_by: w.approved_by.clone(),
                expires: w.expires.to_string(),
            })
        })
        .collect();
    let every_run = decision.is_some();
    Certificate {
        schema: if decision.is_some() { SCHEMA_DECISION } else { SCHEMA },
        service: identity.service,
        version: identity.version,
        commit: identity.commit,
        date: identity.date,
        status: comparison.verdict.as_str().to_string(),
        cost_per_1000_req: current.metrics.get("cost_per_1000_req").copied(),
        metrics,
        approvers: identity.approvers,
        signature: identity.signature,
        perfcert_version: env!("CARGO_PKG_VERSION").to_string(),
        as_of: comparison.as_of.to_string(),
        runs_needed: decision.is_some().then_some(comparison.runs_needed),
        decision,
        inputs,
        comparison: crate::record::rows_value(comparison, every_run),
        waivers,
        warnings: comparison.warnings.clone(),
        fingerprints: Fingerprints::of(baseline, current),
    }
}

impl Certificate {
    /// The bytes written to `*.cert.json`, and signed as the predicate.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("certificate serialises");
        s.push('\n');
        s
    }

    /// The in-toto `predicateType` of this certificate's schema.
    pub fn predicate_type(&self) -> &'static str {
        predicate_type(self.schema).unwrap_or(PREDICATE_TYPE)
    }

    /// The signing method as written, `cosign-key` or `cosign-keyless`.
    pub fn signature_name(&self) -> &'static str {
        match self.signature {
            Method::Key => "cosign-key",
            Method::Keyless => "cosign-keyless",
        }
    }

    /// The fields a recomputation must reproduce exactly, with their names.
    pub fn outcome(&self) -> [(&'static str, serde_json::Value); 7] {
        [
            ("status", serde_json::json!(self.status)),
            ("decision", serde_json::json!(self.decision)),
            ("runs_needed", serde_json::json!(self.runs_needed)),
            ("metrics", serde_json::json!(self.metrics)),
            ("cost_per_1000_req", serde_json::json!(self.cost_per_1000_req)),
            ("comparison", self.comparison.clone()),
            ("waivers", serde_json::json!(self.waivers)),
        ]
    }
}
