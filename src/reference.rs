//! The slow-drift guard's reference taken from a certificate (`--reference-from ARCHIVE`, or a
//! `--reference` that is a `.cert.json`): the certified release's current side as runs.
//!
//! A certificate records every gated metric's current value in its `comparison` rows; a
//! version-2 certificate (and one of several runs a side) records every run's value (`runs`), so
//! the reference keeps the runs the statistical decision needs. Pure: bytes in, runs out; it
//! does not read archives or check signatures (the caller says so).

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::RunResults;

/// A certificate read as a reference: who it certified, and its current side's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Certified {
    pub service: String,
    pub version: String,
    pub status: String,
    /// When it was certified (RFC 3339 UTC), as the certificate says.
    pub date: Option<String>,
    /// The sha256 of each reference the certificate was itself judged against
    /// (`inputs.reference`), so the reference can be carried forward.
    pub reference_sha256: Vec<String>,
    pub runs: Vec<RunResults>,
}

/// Whether `bytes` look like a perfcert certificate (rather than results): a JSON object with
/// `schema`, `inputs` and `comparison`.
pub fn is_certificate(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .is_ok_and(|d| ["schema", "inputs", "comparison"].iter().all(|k| d.get(k).is_some()))
}

/// The current side of a certificate as runs: per row its `runs.current` values when the row
/// records them (run i gets value i; `null` leaves the metric out of that run), else its
/// `current` value as the one run. `Err` says what is missing.
pub fn from_certificate(bytes: &[u8]) -> Result<Certified, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not a certificate (JSON: {e})"))?;
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    let service = text("service").ok_or("not a certificate: no `service`")?;
    let version = text("version").ok_or("not a certificate: no `version`")?;
    let status = text("status").ok_or("not a certificate: no `status`")?;
    let rows = doc.get("comparison").and_then(Value::as_array).ok_or("not a certificate: no `comparison` rows")?;
    let number = |v: &Value| v.as_f64().filter(|x| x.is_finite() && *x >= 0.0);
    let mut values: Vec<(String, Vec<Option<f64>>)> = vec![];
    for row in rows {
        let Some(name) = row.get("name").and_then(Value::as_str) else { continue };
        let runs = row.get("runs").and_then(|r| r.get("current")).and_then(Value::as_array);
        let v = match runs {
            Some(runs) => runs.iter().map(number).collect(),
            None => vec![row.get("current").and_then(number)],
        };
        values.push((name.to_string(), v));
    }
    let n = values.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    if n == 0 || values.iter().all(|(_, v)| v.iter().all(Option::is_none)) {
        return Err("the certificate records no current values".into());
    }
    if let Some((name, v)) = values.iter().find(|(_, v)| v.len() != n && v.len() != 1) {
        return Err(format!("its row {name} records {} current runs where others record {n}", v.len()));
    }
    let fingerprint: IndexMap<String, String> = doc
        .get("fingerprints")
        .and_then(|f| f.get("current"))
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    let runs = (0..n)
        .map(|i| RunResults {
            service: Some(service.clone()),
            version: Some(version.clone()),
            commit: text("commit"),
            date: text("date"),
            // A row of one value among rows of n runs is that one run's: copying it into every
            // run would invent runs with no spread.
            metrics: values.iter().filter_map(|(name, v)| Some((name.clone(), (*v.get(i)?)?))).collect(),
            fingerprint: fingerprint.clone(),
            ..Default::default()
        })
        .collect();
    let reference_sha256 = doc
        .get("inputs")
        .and_then(|i| i.get("reference"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("sha256").and_then(Value::as_str).map(str::to_string))
        .collect();
    Ok(Certified { service, version, status, date: text("date"), reference_sha256, runs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_2_certificate_gives_every_run_and_a_version_1_its_values() {
        let v2 = br#"{"schema": 2, "service": "api", "version": "v1", "status": "PASS", "inputs": {},
            "comparison": [
              {"name": "latency", "current": 100.0, "runs": {"mean": "geometric", "baseline": [1, 2], "current": [99.0, 101.0]}},
              {"name": "errors", "current": 0.1, "runs": {"mean": "arithmetic", "baseline": [1, 2], "current": [0.1, null]}}
            ]}"#;
        assert!(is_certificate(v2));
        let c = from_certificate(v2).unwrap();
        assert_eq!((c.service.as_str(), c.version.as_str(), c.status.as_str()), ("api", "v1", "PASS"));
        assert_eq!(c.runs.len(), 2);
        assert_eq!(c.runs[0].metrics, IndexMap::from([("latency".into(), 99.0), ("errors".into(), 0.1)]));
        assert_eq!(c.runs[1].metrics, IndexMap::from([("latency".to_string(), 101.0)]));
        let v1 = br#"{"schema": 1, "service": "api", "version": "v1", "status": "PASS", "inputs": {},
            "comparison": [{"name": "latency", "current": 100.0}, {"name": "gone", "current": null}]}"#;
        let c = from_certificate(v1).unwrap();
        assert_eq!(c.runs.len(), 1);
        assert_eq!(c.runs[0].metrics, IndexMap::from([("latency".to_string(), 100.0)]));
        assert!(!is_certificate(br#"{"metrics": {"latency": 1}}"#));
        assert!(
            from_certificate(br#"{"service": "a", "version": "v", "status": "PASS", "comparison": []}"#)
                .unwrap_err()
                .contains("no current values")
        );
    }
}
