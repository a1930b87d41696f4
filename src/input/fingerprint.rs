//! The fingerprint sidecar: a small JSON file that says how a run was produced where the
//! load-test output does not (tool version, script digest, testbed, load profile), given as one
//! of the run's `+` parts (`--current k6.json+run.fingerprint.json`).
//!
//! ```json
//! { "fingerprint": { "tool": "k6", "tool_version": "1.1.0", "script_sha256": "…", "testbed": "ci-large" } }
//! ```
//!
//! Strict: the keys are [`crate::fingerprint::KEYS`], each value of its kind; an unknown key, a
//! wrong value or a key given twice is an error naming the key. It adds no metrics.

use serde_json::{Map, Value};

use crate::error::LoadError;
use crate::fingerprint::{Fingerprint, Given, key, key_names, normalize};
use crate::model::RunResults;

/// The top-level key that marks a sidecar (with at most `$schema` beside it).
pub const TOP_KEY: &str = "fingerprint";

/// Whether a parsed JSON document is a sidecar: an object whose only key (besides `$schema`)
/// is `fingerprint`.
pub fn is_sidecar(doc: &Map<String, Value>) -> bool {
    doc.contains_key(TOP_KEY) && doc.keys().all(|k| k == TOP_KEY || k == "$schema")
}

/// Reads a sidecar file's text.
pub fn parse(file: &str, text: &str) -> Result<RunResults, LoadError> {
    let doc = super::k6_summary::parse_strict(text).map_err(|e| {
        LoadError::new(file, format!("not valid JSON: {}", super::native::strip_position(&e.to_string())))
            .at(e.line() as u64, e.column() as u64)
    })?;
    let Some(obj) = doc.as_object() else {
        return Err(LoadError::new(file, "expected a JSON object with a `fingerprint` object"));
    };
    if let Some(other) = obj.keys().find(|k| *k != TOP_KEY && *k != "$schema") {
        return Err(LoadError::new(file, "unknown key; a fingerprint file holds only `fingerprint`").key(other));
    }
    let fields =
        obj.get(TOP_KEY).ok_or_else(|| LoadError::new(file, "expected a `fingerprint` object").key(TOP_KEY))?;
    let fingerprint = fields_of(file, fields, TOP_KEY)?;
    if fingerprint.is_empty() {
        return Err(LoadError::new(file, format!("empty; expected at least one of {}", key_names())).key(TOP_KEY));
    }
    Ok(RunResults { fingerprint, ..RunResults::default() })
}

/// Validates a fingerprint object at `path` (`fingerprint`, `runs[0].fingerprint`): known keys,
/// values of their kind, normalised.
pub fn fields_of(file: &str, value: &Value, path: &str) -> Result<Fingerprint, LoadError> {
    let Some(fields) = value.as_object() else {
        return Err(
            LoadError::new(file, format!("expected an object of keys ({}), found {value}", key_names())).key(path)
        );
    };
    let mut out = Fingerprint::new();
    for (name, v) in fields {
        let at = format!("{path}.{name}");
        let Some(k) = key(name) else {
            return Err(LoadError::new(file, format!("unknown key; expected one of {}", key_names())).key(at));
        };
        let given = match v {
            Value::String(s) => Given::Text(s),
            Value::Number(n) => Given::Number(n.as_f64().unwrap_or(f64::NAN)),
            other => {
                return Err(
                    LoadError::new(file, format!("expected text or a number ({}), found {other}", k.help)).key(at)
                );
            }
        };
        let normal = normalize(k, given).map_err(|why| LoadError::new(file, format!("{why} ({})", k.help)).key(at))?;
        out.insert(name.clone(), normal);
    }
    // In the catalogue's order, whatever the file's (JSON objects are read sorted by key).
    out.sort_by_cached_key(|name, _| crate::fingerprint::KEYS.iter().position(|k| k.name == name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sidecar_gives_a_fingerprint_and_no_metrics() {
        let r = parse("fp.json", r#"{"fingerprint": {"tool": "k6", "vus_max": 10, "duration": "25s"}}"#).unwrap();
        assert!(r.metrics.is_empty());
        assert_eq!(r.fingerprint["tool"], "k6");
        assert_eq!(r.fingerprint["vus_max"], "10");
        assert_eq!(r.fingerprint["duration"], "25s");
    }

    #[test]
    fn errors_name_the_key() {
        let err = |text: &str| parse("fp.json", text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"fingerprint": {"tool": "k6", "vus": 10}}"#),
            format!("fp.json: fingerprint.vus: unknown key; expected one of {}", key_names())
        );
        assert!(
            err(r#"{"fingerprint": {"vus_max": "ten"}}"#)
                .starts_with("fp.json: fingerprint.vus_max: expected a whole number")
        );
        assert!(
            err(r#"{"fingerprint": {"testbed": true}}"#).starts_with("fp.json: fingerprint.testbed: expected text")
        );
        assert!(err(r#"{"fingerprint": {"tool": "k6", "tool": "k6"}}"#).contains("duplicate key `fingerprint.tool`"));
        assert!(err(r#"{"fingerprint": {}}"#).starts_with("fp.json: fingerprint: empty"));
        assert!(err(r#"{"fingerprint": {}, "metrics": {}}"#).starts_with("fp.json: metrics: unknown key"));
    }
}
