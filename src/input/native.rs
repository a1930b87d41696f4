//! perfcert's native results format: `{ "service", "version", "commit", "date", "metrics": {..} }`,
//! or several runs in one file (a promoted baseline): `{ "service", ..., "runs": [ { "date",
//! "metrics": {..} }, ... ] }`, where each run may name its own `service`, `version`, `commit`
//! and `date` and otherwise takes the file's.
//!
//! A run may give, next to its `metrics`, a `precision` object: per metric, the within-run
//! standard error of ln(value) (`log_se`) and, for an error rate, the error count behind it
//! (`errors`, `requests`, optional `dispersion`), checked against the metric's value.
//!
//! Either `metrics` or `runs` is required, not both. An optional `fingerprint` object (the
//! file's, and each run's, whose keys override the file's) says how the runs were made, with the
//! keys and checks of the fingerprint sidecar ([`super::fingerprint`]).
//! Metric values are numbers, finite and >= 0; duplicate keys and
//! unknown top-level fields are errors (a `$schema` field is allowed for editors).
//! An optional top-level `provenance` object says which certificate a promoted baseline came
//! from (`perfcert baseline promote`; [`crate::model::Provenance`]).
//! An optional top-level `collected` object records where `perfcert collect` read the metrics
//! from (endpoint, query, window, step, when); it is informational.
//! The format is documented in `docs/formats.md` and `schemas/results.schema.json`.

use std::fmt;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use crate::error::LoadError;
use crate::model::{Counts, Precision, Provenance, RunResults, value_problem};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(rename = "$schema")]
    _schema: Option<String>,
    service: Option<String>,
    version: Option<String>,
    commit: Option<String>,
    date: Option<String>,
    metrics: Option<Metrics>,
    precision: Option<PrecisionMap>,
    runs: Option<Vec<RawRun>>,
    fingerprint: Option<RawFingerprint>,
    provenance: Option<Provenance>,
    /// Where `perfcert collect` got the metrics (endpoints, queries, window): kept for people,
    /// not read.
    #[serde(rename = "collected")]
    _collected: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One run of a `runs` list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    service: Option<String>,
    version: Option<String>,
    commit: Option<String>,
    date: Option<String>,
    metrics: Metrics,
    fingerprint: Option<RawFingerprint>,
    precision: Option<PrecisionMap>,
}

/// A `fingerprint` object as written, a key given twice refused; its keys and values are
/// checked after parsing, by the sidecar's rules.
struct RawFingerprint(serde_json::Value);

impl<'de> Deserialize<'de> for RawFingerprint {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawFingerprint;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of fingerprint keys to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFingerprint, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!("duplicate key `{key}`; each key may appear once")));
                    }
                    let value: serde_json::Value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(RawFingerprint(serde_json::Value::Object(out)))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// A `precision` object: metric names to how precisely the run measured them, duplicates
/// refused.
struct PrecisionMap(IndexMap<String, RawPrecision>);

/// One metric's within-run precision as written: a standard error of ln(value), or (for an
/// error rate) the error count behind it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrecision {
    log_se: Option<Number>,
    errors: Option<u64>,
    requests: Option<u64>,
    dispersion: Option<Number>,
}

impl<'de> Deserialize<'de> for PrecisionMap {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PrecisionMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of metric names to precision objects")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PrecisionMap, A::Error> {
                let mut out = IndexMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let value: RawPrecision = map.next_value()?;
                    if out.insert(name.clone(), value).is_some() {
                        return Err(de::Error::custom(format!("duplicate metric `{name}`")));
                    }
                }
                Ok(PrecisionMap(out))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Checks a run's `precision` against its metrics (`at` is the key prefix: `` or `runs[1].`)
/// and converts it.
fn precision(
    file: &str,
    at: &str,
    metrics: &IndexMap<String, f64>,
    raw: PrecisionMap,
) -> Result<IndexMap<String, Precision>, LoadError> {
    let mut out = IndexMap::new();
    for (name, p) in raw.0 {
        let key = |field: &str| {
            if field.is_empty() { format!("{at}precision.{name}") } else { format!("{at}precision.{name}.{field}") }
        };
        let err = |field: &str, msg: String| LoadError::new(file, msg).key(key(field));
        let Some(&value) = metrics.get(&name) else {
            return Err(err(
                "",
                format!("no metric `{name}` in this run's `metrics`; precision describes a metric of the same run"),
            ));
        };
        let log_se = match p.log_se {
            Some(Number(se)) if !(se.is_finite() && se > 0.0 && se < 1.0) => {
                return Err(err(
                    "log_se",
                    format!(
                        "expected a number above 0 and below 1 (the standard error of ln(value); 0.02 is 2%), found {se}"
                    ),
                ));
            }
            se => se.map(|n| n.0),
        };
        let counts = match (p.errors, p.requests) {
            (None, None) => {
                if p.dispersion.is_some() {
                    return Err(err(
                        "dispersion",
                        "`dispersion` qualifies an error count; expected `errors` and `requests` with it".into(),
                    ));
                }
                None
            }
            (Some(_), None) => {
                return Err(err("requests", "missing; `errors` needs the `requests` it is a count of".into()));
            }
            (None, Some(_)) => return Err(err("errors", "missing; `requests` needs the `errors` among them".into())),
            (Some(errors), Some(requests)) => {
                if !name.split('{').next().unwrap_or(&name).starts_with("error_rate") {
                    return Err(err(
                        "errors",
                        format!(
                            "error counts are for error-rate metrics (`error_rate*`, percent of requests), not `{name}`; give `log_se` instead"
                        ),
                    ));
                }
                if requests == 0 {
                    return Err(err("requests", "expected at least 1 request".into()));
                }
                if errors > requests {
                    return Err(err(
                        "errors",
                        format!("{errors} errors is more than the {requests} requests; expected errors <= requests"),
                    ));
                }
                let dispersion = match p.dispersion {
                    None => 1.0,
                    Some(Number(d)) if d.is_finite() && d >= 1.0 => d,
                    Some(Number(d)) => {
                        return Err(err(
                            "dispersion",
                            format!(
                                "expected a number >= 1 (the variance inflation over independent requests), found {d}"
                            ),
                        ));
                    }
                };
                let implied = errors as f64 / requests as f64 * 100.0;
                if !agrees_as_written(implied, value) {
                    return Err(err(
                        "",
                        format!(
                            "{errors} errors of {requests} requests is {}%, but `{at}metrics.{name}` is {value}; expected the same rate to the decimals written",
                            crate::numfmt::num(implied)
                        ),
                    ));
                }
                Some(Counts { errors, requests, dispersion })
            }
        };
        if log_se.is_none() && counts.is_none() {
            return Err(err("", "empty; expected `log_se`, or `errors` and `requests`".into()));
        }
        out.insert(name, Precision { log_se, counts });
    }
    Ok(out)
}

/// `implied` rounds to `written` at the decimals `written` has (0.2 agrees with 0.2083; 0.22
/// does not), with room for binary rounding.
fn agrees_as_written(implied: f64, written: f64) -> bool {
    let text = format!("{written}");
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let half_step = 0.5 * 10f64.powi(-decimals);
    (implied - written).abs() <= half_step + 1e-9 * implied.abs().max(written.abs())
}

/// A metrics object: names to numbers, duplicates refused, values checked as they are read so
/// that errors carry the line and column of the offending value.
struct Metrics(IndexMap<String, f64>);

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MetricsVisitor;
        impl<'de> Visitor<'de> for MetricsVisitor {
            type Value = Metrics;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of metric names to numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metrics, A::Error> {
                let mut out = IndexMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name.trim().is_empty() {
                        return Err(de::Error::custom("metric names must not be empty"));
                    }
                    let value: Number = map.next_value()?;
                    if let Some(problem) = value_problem(&name, value.0) {
                        return Err(de::Error::custom(format!("metric `{name}`: {problem}")));
                    }
                    if out.insert(name.clone(), value.0).is_some() {
                        return Err(de::Error::custom(format!("duplicate metric `{name}`")));
                    }
                }
                if out.is_empty() {
                    return Err(de::Error::custom("`metrics` is empty; expected at least one metric"));
                }
                Ok(Metrics(out))
            }
        }
        deserializer.deserialize_map(MetricsVisitor)
    }
}

/// A JSON number, with an error that says so when it is anything else.
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// Parses native results of one run. `file` names the source in error messages. A file with a
/// `runs` list of more than one run is an error here: it is a side of its own.
pub fn parse(file: &str, text: &str) -> Result<RunResults, LoadError> {
    let mut runs = parse_runs(file, text)?;
    if runs.len() != 1 {
        return Err(LoadError::new(
            file,
            format!(
                "holds {} runs (`runs`); pass it alone as one --baseline or --current, not joined with + to other files",
                runs.len()
            ),
        )
        .key("runs"));
    }
    Ok(runs.remove(0))
}

/// Parses native results of one or more runs (`metrics`, or a `runs` list).
pub fn parse_runs(file: &str, text: &str) -> Result<Vec<RunResults>, LoadError> {
    if text.trim().is_empty() {
        return Err(LoadError::new(file, "file is empty; expected a JSON object with a `metrics` key"));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let to_error = |e: serde_json::Error, key: String| {
        LoadError::new(file, strip_position(&e.to_string())).at(e.line() as u64, e.column() as u64).key(key)
    };
    let raw: Raw = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let key = e.path().to_string();
        to_error(e.into_inner(), key)
    })?;
    de.end().map_err(|e| to_error(e, String::new()))?;
    if let Some(p) = &raw.provenance
        && !(p.sha256.len() == 64 && p.sha256.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(LoadError::new(file, format!("expected 64 hexadecimal digits, found `{}`", p.sha256))
            .key("provenance.sha256"));
    }
    let file_fingerprint = match &raw.fingerprint {
        Some(f) => super::fingerprint::fields_of(file, &f.0, "fingerprint")?,
        None => IndexMap::new(),
    };
    let run = |(i, r): (Option<usize>, RawRun)| -> Result<RunResults, LoadError> {
        let mut fingerprint = file_fingerprint.clone();
        if let Some(f) = &r.fingerprint {
            let path = i.map_or("fingerprint".to_string(), |i| format!("runs[{i}].fingerprint"));
            fingerprint.extend(super::fingerprint::fields_of(file, &f.0, &path)?);
        }
        let at = i.map_or(String::new(), |i| format!("runs[{i}]."));
        let precision = match r.precision {
            Some(p) => precision(file, &at, &r.metrics.0, p)?,
            None => IndexMap::new(),
        };
        Ok(RunResults {
            service: r.service.or(raw.service.clone()),
            version: r.version.or(raw.version.clone()),
            commit: r.commit.or(raw.commit.clone()),
            date: r.date.or(raw.date.clone()),
            metrics: r.metrics.0,
            unavailable: IndexMap::new(),
            fingerprint,
            precision,
            provenance: raw.provenance.clone(),
            ..RunResults::default()
        })
    };
    match (raw.metrics, raw.runs) {
        (Some(metrics), None) => {
            let precision = raw.precision;
            let only = RawRun {
                service: None,
                version: None,
                commit: None,
                date: None,
                metrics,
                fingerprint: None,
                precision,
            };
            Ok(vec![run((None, only))?])
        }
        (None, Some(_)) if raw.precision.is_some() => Err(LoadError::new(
            file,
            "`precision` belongs in each run of `runs`, next to its `metrics`; expected it there",
        )
        .key("precision")),
        (None, Some(runs)) if !runs.is_empty() => {
            runs.into_iter().enumerate().map(|(i, r)| run((Some(i), r))).collect()
        }
        (None, Some(_)) => Err(LoadError::new(file, "`runs` is empty; expected at least one run").key("runs")),
        (Some(_), Some(_)) => Err(LoadError::new(
            file,
            "has both `metrics` and `runs`; expected `metrics` (one run) or `runs` (several), not both",
        )),
        (None, None) => Err(LoadError::new(file, "missing field `metrics`; expected `metrics` (one run) or `runs`")),
    }
}

/// serde_json appends " at line L column C" to its messages; the position is reported separately.
pub(super) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_perf004_example() {
        let r = parse(
            "current.json",
            r#"{ "service": "ingest-api", "version": "v1.4.2", "commit": "abc1234",
                 "date": "2025-11-06T18:00:00Z",
                 "metrics": { "latency_p95_write": 432.0, "error_rate": 0.22, "throughput": 10600 } }"#,
        )
        .unwrap();
        assert_eq!(r.service.as_deref(), Some("ingest-api"));
        assert_eq!(r.metrics.get_index(0), Some((&"latency_p95_write".to_string(), &432.0)));
        assert_eq!(r.metrics["throughput"], 10600.0);
    }

    #[test]
    fn a_file_can_hold_several_runs_that_inherit_its_identity() {
        let runs = parse_runs(
            "base.json",
            r#"{ "service": "ingest-api", "version": "v1.4.1",
                 "runs": [ { "date": "d1", "metrics": { "latency_p95": 400 } },
                           { "version": "v1.4.1-rc", "metrics": { "latency_p95": 410 } } ] }"#,
        )
        .unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].service.as_deref(), runs[0].date.as_deref()), (Some("ingest-api"), Some("d1")));
        assert_eq!(runs[1].version.as_deref(), Some("v1.4.1-rc"));
        assert_eq!(runs[1].metrics["latency_p95"], 410.0);
        // A one-run list is one run.
        assert_eq!(parse("f.json", r#"{"runs": [{"metrics": {"a": 1}}]}"#).unwrap().metrics["a"], 1.0);
    }

    #[test]
    fn precision_is_read_per_run_and_checked_against_its_metric() {
        let runs = parse_runs(
            "f.json",
            r#"{"runs": [{"metrics": {"error_rate": 0.2, "throughput": 6000},
                          "precision": {"error_rate": {"errors": 25, "requests": 12000, "dispersion": 2},
                                        "throughput": {"log_se": 0.01}}},
                         {"metrics": {"error_rate": 0}}]}"#,
        )
        .unwrap();
        let p = runs[0].precision["error_rate"];
        assert_eq!(p.counts, Some(Counts { errors: 25, requests: 12000, dispersion: 2.0 }));
        assert_eq!((p.log_se, runs[0].precision["throughput"].log_se), (None, Some(0.01)));
        assert!(runs[1].precision.is_empty());
    }

    #[test]
    fn a_rate_agrees_with_its_counts_to_the_decimals_written() {
        // 25 / 12000 = 0.2083%.
        assert!(agrees_as_written(25.0 / 12000.0 * 100.0, 0.2));
        assert!(agrees_as_written(25.0 / 12000.0 * 100.0, 0.21));
        assert!(agrees_as_written(25.0 / 12000.0 * 100.0, 0.2083));
        assert!(!agrees_as_written(25.0 / 12000.0 * 100.0, 0.22));
        assert!(!agrees_as_written(25.0 / 12000.0 * 100.0, 0.3));
        // Whole numbers: to the unit.
        assert!(agrees_as_written(0.4, 0.0) && !agrees_as_written(0.6, 0.0));
        assert!(agrees_as_written(1.0 / 3.0 * 100.0, 33.333333333333336));
    }

    #[test]
    fn a_promoted_baselines_provenance_is_read_into_every_run() {
        let sha = "ab".repeat(32);
        let text = format!(
            r#"{{"provenance": {{"certificate": "s-v1.cert.json", "from": "a/s-v1.cert.json", "sha256": "{sha}",
                 "service": "s", "version": "v1", "commit": null, "date": "2026-11-22T16:13:57Z", "status": "PASS",
                 "signer": "key cosign.pub", "waived": ["m"]}},
                "runs": [{{"metrics": {{"m": 1}}}}, {{"metrics": {{"m": 2}}}}]}}"#
        );
        let runs = parse_runs("b.json", &text).unwrap();
        let p = runs[1].provenance.as_ref().unwrap();
        assert_eq!(
            (p.sha256.as_str(), p.waived.as_slice(), p.commit.as_deref()),
            (sha.as_str(), &["m".to_string()][..], None)
        );
        assert_eq!(runs[0].provenance, runs[1].provenance);
        assert_eq!(
            parse_runs("b.json", &text.replace(&sha, "12")).unwrap_err().to_string(),
            "b.json: provenance.sha256: expected 64 hexadecimal digits, found `12`"
        );
        assert!(
            parse_runs("b.json", &text.replace("\"waived\"", "\"extra\""))
                .unwrap_err()
                .to_string()
                .contains("unknown field `extra`")
        );
        assert!(parse("a.json", r#"{"metrics": {"m": 1}}"#).unwrap().provenance.is_none());
    }

    fn err(text: &str) -> String {
        parse("f.json", text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_line_key_and_expectation() {
        assert_eq!(
            err("{\"metrics\": {\n \"error_rate\": \"high\"}}"),
            "f.json:2:21: metrics.error_rate: invalid type: string \"high\", expected a number"
        );
        assert_eq!(err("{\"metrics\": {\"a\": 1, \"a\": 2}}"), "f.json:1:28: metrics: duplicate metric `a`");
        assert_eq!(
            err("{\"metrics\": {\"a\": -1}}"),
            "f.json:1:21: metrics: metric `a`: expected a value >= 0, found -1"
        );
        assert!(err("{\"metrics\": {\"a\": 1e999}}").contains("number out of range"));
        assert!(err("{\"metric\": {}}").contains("unknown field `metric`"));
        assert!(err("{\"service\": \"x\"}").contains("missing field `metrics`"));
        assert!(err("{\"metrics\": {\"a\": 1}, \"runs\": []}").contains("not both"));
        assert!(err("{\"runs\": []}").contains("`runs` is empty"));
        assert_eq!(
            err("{\"runs\": [{\"metrics\": {\"a\": 1}}, {\"metrics\": {\"a\": \"x\"}}]}"),
            "f.json:1:54: runs[1].metrics.a: invalid type: string \"x\", expected a number"
        );
        assert!(err("{\"runs\": [{\"metrics\": {\"a\": 1}}, {\"metrics\": {\"a\": 2}}]}").contains("holds 2 runs"));
        assert!(err("{\"metrics\": {}}").contains("`metrics` is empty"));
        assert!(err("{\"metrics\": {\"error_rate\": 150}}").contains("0-100"));
        assert!(err("{\"metrics\": {\"a\": 1}} trailing").contains("trailing characters"));
        assert_eq!(err("  \n"), "f.json: file is empty; expected a JSON object with a `metrics` key");
    }

    #[test]
    fn runs_carry_the_files_fingerprint_and_their_own() {
        let runs = parse_runs(
            "base.json",
            r#"{ "fingerprint": { "tool": "k6", "testbed": "ci" },
                 "runs": [ { "metrics": { "a": 1 } },
                           { "metrics": { "a": 2 }, "fingerprint": { "testbed": "laptop", "vus_max": 10 } } ] }"#,
        )
        .unwrap();
        let first: Vec<(&str, &str)> = runs[0].fingerprint.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(first, [("tool", "k6"), ("testbed", "ci")]);
        assert_eq!(runs[1].fingerprint["testbed"], "laptop");
        assert_eq!(runs[1].fingerprint["vus_max"], "10");
        assert_eq!(
            parse_runs("f.json", r#"{"runs": [{"metrics": {"a": 1}, "fingerprint": {"vus": 1}}]}"#)
                .unwrap_err()
                .to_string(),
            format!(
                "f.json: runs[0].fingerprint.vus: unknown key; expected one of {}",
                crate::fingerprint::key_names()
            )
        );
        assert!(
            err(r#"{"metrics": {"a": 1}, "fingerprint": {"tool": "k6", "tool": "k6"}}"#)
                .contains("duplicate key `tool`")
        );
    }
}
