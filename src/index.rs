//! The archive's index: one compact JSON line per certificate, under
//! `index/dt=YYYY-MM-DD/service=SERVICE/STEM.json` (Hive-style partitions), so that history,
//! reports, Athena and DuckDB read a service's releases without parsing every certificate (and
//! without the Sigstore bundles that sit beside them). Pure: a certificate in, a line out.
//!
//! A line is derived from its certificate alone, deterministically, so `perfcert index rebuild`
//! writes the very bytes `certify` wrote. It is a convenience, not evidence: it is not signed,
//! and it names the certificate and its sha256, which `perfcert verify` checks.
//!
//! The columns (lower-case, flat, stable; docs/archive-queries.md has the Athena table):
//!
//! | key | type | what |
//! |---|---|---|
//! | `index` | int | this format's version, 1 |
//! | `service`, `version`, `commit` | string | the certificate's |
//! | `date` | string | when it was made, RFC 3339 UTC |
//! | `status` | string | PASS, FAIL or INCONCLUSIVE |
//! | `method` | string | `threshold` or `statistical` |
//! | `look` | int or null | the look (statistical) |
//! | `signature` | string | `cosign-key` or `cosign-keyless` |
//! | `perfcert_version` | string | the perfcert that made it |
//! | `metrics` | map string -> double | current value of every gated metric |
//! | `baseline` | map string -> double | baseline value of every compared metric that had one |
//! | `delta` | map string -> double | relative change, current / baseline - 1 |
//! | `metric_status` | map string -> string | each compared metric's status |
//! | `units` | map string -> string | the unit of every compared metric that has one (`ms`, `%`) |
//! | `failed_metrics`, `inconclusive_metrics`, `waived_metrics` | array of string | by status |
//! | `cost_per_1000_req` | double or null | cost efficiency |
//! | `certificate` | string | the certificate, relative to the archive root |
//! | `certificate_sha256` | string | its sha256 |

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::certificate::{Certificate, Method};
use crate::store::Names;

/// The index line format written now.
pub const INDEX_FORMAT: u32 = 1;

/// One certificate's index line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub index: u32,
    pub service: String,
    pub version: String,
    pub commit: Option<String>,
    pub date: String,
    pub status: String,
    pub method: String,
    pub look: Option<u32>,
    pub signature: Method,
    pub perfcert_version: String,
    pub metrics: IndexMap<String, f64>,
    pub baseline: IndexMap<String, f64>,
    pub delta: IndexMap<String, f64>,
    pub metric_status: IndexMap<String, String>,
    /// Absent from lines written before units were indexed: read as none.
    #[serde(default)]
    pub units: IndexMap<String, String>,
    pub failed_metrics: Vec<String>,
    pub inconclusive_metrics: Vec<String>,
    pub waived_metrics: Vec<String>,
    pub cost_per_1000_req: Option<f64>,
    pub certificate: String,
    pub certificate_sha256: String,
}

impl Line {
    /// The line of `cert`, archived under `names`, whose bytes have `sha256`.
    pub fn of(cert: &Certificate, names: &Names, sha256: &str) -> Line {
        let (mut baseline, mut delta, mut metric_status) = (IndexMap::new(), IndexMap::new(), IndexMap::new());
        let mut units = IndexMap::new();
        let (mut failed, mut inconclusive, mut waived) = (vec![], vec![], vec![]);
        for row in cert.comparison.as_array().into_iter().flatten() {
            let Some(name) = row.get("name").and_then(|v| v.as_str()) else { continue };
            let number = |key: &str| row.get(key).and_then(serde_json::Value::as_f64).filter(|x| x.is_finite());
            if let Some(b) = number("baseline") {
                baseline.insert(name.to_string(), b);
            }
            if let Some(d) = number("delta") {
                delta.insert(name.to_string(), d);
            }
            if let Some(unit) = row.get("unit").and_then(|v| v.as_str()).filter(|u| !u.is_empty()) {
                units.insert(name.to_string(), unit.to_string());
            }
            let status = row.get("status").and_then(|v| v.as_str()).unwrap_or("");
            match status {
                "FAIL" => failed.push(name.to_string()),
                "INCONCLUSIVE" => inconclusive.push(name.to_string()),
                "WAIVED" => waived.push(name.to_string()),
                _ => {}
            }
            metric_status.insert(name.to_string(), status.to_string());
        }
        Line {
            index: INDEX_FORMAT,
            service: cert.service.clone(),
            version: cert.version.clone(),
            commit: cert.commit.clone(),
            date: cert.date.clone(),
            status: cert.status.clone(),
            method: if cert.decision.is_some() { "statistical" } else { "threshold" }.to_string(),
            look: cert.decision.as_ref().map(|d| d.look),
            signature: cert.signature,
            perfcert_version: cert.perfcert_version.clone(),
            metrics: cert.metrics.iter().filter(|(_, v)| v.is_finite()).map(|(k, v)| (k.clone(), *v)).collect(),
            baseline,
            delta,
            metric_status,
            units,
            failed_metrics: failed,
            inconclusive_metrics: inconclusive,
            waived_metrics: waived,
            cost_per_1000_req: cert.cost_per_1000_req.filter(|x| x.is_finite()),
            certificate: names.certificate(),
            certificate_sha256: sha256.to_string(),
        }
    }

    /// The line as stored: compact JSON and a newline (Athena's JSON SerDes read one record per
    /// line).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("an index line serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Reads a stored line. A later index format is refused by name, so an old perfcert never
    /// misreads a newer archive.
    pub fn parse(bytes: &[u8]) -> Result<Line, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("index").and_then(serde_json::Value::as_u64) {
            Some(1) => {}
            Some(n) => {
                return Err(format!(
                    "index format {n}; this perfcert reads format {INDEX_FORMAT}: use a newer perfcert"
                ));
            }
            None => return Err("not a perfcert index line (no `index` format number)".into()),
        }
        serde_json::from_value(value).map_err(|e| format!("not a perfcert index line: {e}"))
    }

    /// The day (`YYYYMMDD`) of the certificate, from its name.
    pub fn day(&self) -> &str {
        self.certificate.split('/').next().unwrap_or("")
    }
}

/// Whether a stored line is `line` as an earlier perfcert wrote it: every key it has holds the
/// value this perfcert derives, and it lacks only keys added since (such as `units`). An edited
/// line (a status, a value, another certificate) is not.
pub fn same_certificate(stored: &[u8], line: &[u8]) -> bool {
    if Line::parse(stored).is_err() {
        return false;
    }
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::from_slice(stored), serde_json::from_slice(line))
    else {
        return false;
    };
    old.iter().all(|(k, v)| new.get(k) == Some(v))
}

/// The index entry of a stored certificate: its relative name and bytes, from the certificate's
/// own bytes (so the line always matches what is archived).
pub fn entry(names: &Names, certificate: &[u8]) -> Result<(String, Vec<u8>), String> {
    let cert: Certificate =
        serde_json::from_slice(certificate).map_err(|e| format!("not a perfcert certificate: {e}"))?;
    let line = Line::of(&cert, names, &crate::signing::sha256_hex(certificate));
    Ok((names.index_line(&cert.service), line.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> Certificate {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/certificates/ingest-api-v1.4.2.cert.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_line_is_one_compact_record_that_reads_back() {
        let cert = certificate();
        let names = Names::new("20261122", "ingest-api-v1.4.2");
        let line = Line::of(&cert, &names, "ab12");
        let bytes = line.to_bytes();
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(bytes.ends_with(b"\n"));
        assert_eq!(Line::parse(&bytes).unwrap(), line);
        assert_eq!(line.certificate, "20261122/ingest-api-v1.4.2.cert.json");
        assert_eq!(line.day(), "20261122");
        assert_eq!(line.method, "threshold");
        assert_eq!(line.metrics.len(), cert.metrics.len());
        assert!(line.baseline.contains_key("latency_p95_read"));
        assert_eq!(line.metric_status.get("latency_p95_read").map(String::as_str), Some("PASS"));
        assert_eq!(line.units.get("latency_p95_read").map(String::as_str), Some("ms"));
        assert_eq!(line.units.get("error_rate").map(String::as_str), Some("%"));
        // The same certificate always gives the same bytes: rebuild writes what certify wrote.
        assert_eq!(Line::of(&cert, &names, "ab12").to_bytes(), bytes);
    }

    #[test]
    fn a_line_without_units_reads_as_having_none() {
        let cert = certificate();
        let line = Line::of(&cert, &Names::new("20261122", "ingest-api-v1.4.2"), "ab12");
        let mut value = serde_json::to_value(&line).unwrap();
        value.as_object_mut().unwrap().remove("units");
        let read = Line::parse(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert!(read.units.is_empty());
        assert_eq!(read.metrics, line.metrics);
    }

    #[test]
    fn a_newer_or_foreign_line_is_refused_by_name() {
        assert!(Line::parse(br#"{"index":2}"#).unwrap_err().contains("use a newer perfcert"));
        assert!(Line::parse(br#"{"service":"x"}"#).unwrap_err().contains("not a perfcert index line"));
        assert!(Line::parse(b"{").unwrap_err().contains("not JSON"));
    }
}
