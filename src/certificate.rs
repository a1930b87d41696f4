//! The performance certificate: what was compared, with what result, provably.
//!
//! A certificate holds the PERF-004 §7 fields (`service`, `version`, `commit`, `date`,
//! `status`, `metrics`, `cost_per_1000_req`, `approvers`, `signature`) and what makes it
//! auditable: every metric's comparison as the JSON report writes it, the waivers applied, the
//! sha256 of every input file, the `as_of` day waivers were judged on, and the perfcert version.
//! It is the `predicate` of the signed in-toto statement. Pure: built from a finished
//! comparison and digests the caller computed; it knows nothing of reports or archives.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::compare::{Comparison, Status};
use crate::model::RunResults;

/// Bumped only on incompatible changes to the certificate document.
pub const SCHEMA: u32 = 1;

/// The in-toto `predicateType` of perfcert certificates: an identifier, stable across
/// perfcert versions for schema 1.
pub const PREDICATE_TYPE: &str = "https://perfcert.dev/certificate/v1";

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
    pub inputs: Inputs,
    /// Every metric's comparison, as in the JSON report's `metrics`.
    pub comparison: serde_json::Value,
    pub waivers: Vec<AppliedWaiver>,
    /// Warnings of the comparison (expired waivers, estimated percentiles).
    pub warnings: Vec<String>,
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

/// Builds the certificate of a comparison.
pub fn build(identity: Identity, comparison: &Comparison, current: &RunResults, inputs: Inputs) -> Certificate {
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
    Certificate {
        schema: SCHEMA,
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
        inputs,
        comparison: crate::record::rows_value(comparison),
        waivers,
        warnings: comparison.warnings.clone(),
    }
}

impl Certificate {
    /// The bytes written to `*.cert.json`, and signed as the predicate.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("certificate serialises");
        s.push('\n');
        s
    }

    /// The signing method as written, `cosign-key` or `cosign-keyless`.
    pub fn signature_name(&self) -> &'static str {
        match self.signature {
            Method::Key => "cosign-key",
            Method::Keyless => "cosign-keyless",
        }
    }

    /// The fields a recomputation must reproduce exactly, with their names.
    pub fn outcome(&self) -> [(&'static str, serde_json::Value); 5] {
        [
            ("status", serde_json::json!(self.status)),
            ("metrics", serde_json::json!(self.metrics)),
            ("cost_per_1000_req", serde_json::json!(self.cost_per_1000_req)),
            ("comparison", self.comparison.clone()),
            ("waivers", serde_json::json!(self.waivers)),
        ]
    }
}
