//! The `json` format of a history: stable and documented (README, "perfcert history"). The
//! shapes here are the contract, kept apart from [`History`] so the model can change without
//! breaking pipelines. Adding fields is compatible; renaming or removing is not (that bumps
//! [`HISTORY_VERSION`]). Every release has every metric key, with nulls where it has no value.

use std::io::{self, Write};

use indexmap::IndexMap;
use serde::Serialize;

use super::{COST, HistoryRenderer, change, cost_trend, metric_status, rows, value};
use crate::releases::{Counts, History};

pub struct Json;

/// Bumped only on incompatible changes to this document.
pub const HISTORY_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    history_version: u32,
    perfcert_version: &'a str,
    service: &'a str,
    /// Releases in the archive before the first one shown.
    earlier: usize,
    metrics: Vec<MetricDoc<'a>>,
    /// Oldest first.
    releases: Vec<ReleaseDoc<'a>>,
    cost_trend: Option<CostDoc<'a>>,
}

#[derive(Serialize)]
struct MetricDoc<'a> {
    name: &'a str,
    unit: Option<&'a str>,
    /// How often each status was given over the releases shown; null for a cost that is
    /// recorded but not gated.
    counts: Option<&'a Counts>,
}

#[derive(Serialize)]
struct ReleaseDoc<'a> {
    version: &'a str,
    commit: Option<&'a str>,
    /// RFC 3339 UTC, of the newest certificate of the version.
    date: &'a str,
    status: &'a str,
    /// How many certificates the version has; the newest is shown.
    certificates: u32,
    method: &'a str,
    look: Option<u32>,
    /// The newest certificate: a path or an s3:// URL.
    certificate: &'a str,
    certificate_sha256: &'a str,
    metrics: IndexMap<&'a str, Value<'a>>,
    failed_metrics: &'a [String],
    inconclusive_metrics: &'a [String],
    waived_metrics: &'a [String],
}

#[derive(Serialize)]
struct Value<'a> {
    value: Option<f64>,
    /// Relative change from the previous release (`0.2` is +20%).
    change: Option<f64>,
    /// Its baseline in this certification, and the relative delta from it.
    baseline: Option<f64>,
    delta: Option<f64>,
    status: Option<&'a str>,
}

#[derive(Serialize)]
struct CostDoc<'a> {
    unit: Option<&'a str>,
    first: f64,
    last: f64,
    change: Option<f64>,
    releases: usize,
}

impl HistoryRenderer for Json {
    fn render(&self, h: &History, out: &mut dyn Write) -> io::Result<()> {
        let names = rows(h);
        let doc = Doc {
            history_version: HISTORY_VERSION,
            perfcert_version: env!("CARGO_PKG_VERSION"),
            service: &h.service,
            earlier: h.earlier,
            metrics: names
                .iter()
                .map(|&name| MetricDoc { name, unit: h.unit(name), counts: h.counts.get(name) })
                .collect(),
            releases: h
                .releases
                .iter()
                .map(|r| ReleaseDoc {
                    version: &r.line.version,
                    commit: r.line.commit.as_deref(),
                    date: &r.line.date,
                    status: &r.line.status,
                    certificates: r.certificates,
                    method: &r.line.method,
                    look: r.line.look,
                    certificate: &r.at,
                    certificate_sha256: &r.line.certificate_sha256,
                    metrics: names
                        .iter()
                        .map(|&name| {
                            let v = Value {
                                value: value(r, name),
                                change: change(r, name),
                                baseline: r.line.baseline.get(name).copied(),
                                delta: r.line.delta.get(name).copied(),
                                status: metric_status(r, name),
                            };
                            (name, v)
                        })
                        .collect(),
                    failed_metrics: &r.line.failed_metrics,
                    inconclusive_metrics: &r.line.inconclusive_metrics,
                    waived_metrics: &r.line.waived_metrics,
                })
                .collect(),
            cost_trend: cost_trend(h).map(|t| CostDoc {
                unit: h.unit(COST),
                first: t.first,
                last: t.last,
                change: t.change,
                releases: t.releases,
            }),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_keys_with_nulls_for_what_is_missing() {
        let h = super::super::tests::history();
        let mut out = vec![];
        Json.render(&h, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["history_version"], 1);
        assert_eq!(v["service"], "api");
        assert_eq!(v["metrics"][0]["name"], "latency_p95_read");
        assert_eq!(v["metrics"][0]["unit"], "ms");
        assert_eq!(v["metrics"][0]["counts"]["fail"], 1);
        let r = &v["releases"][1];
        assert_eq!(r["version"], "v1.1.0");
        assert_eq!(r["certificates"], 2);
        assert_eq!(r["metrics"]["latency_p95_read"]["status"], "FAIL");
        assert!((r["metrics"]["latency_p95_read"]["change"].as_f64().unwrap() - 0.2).abs() < 1e-12);
        assert!(v["releases"][0]["metrics"]["latency_p95_read"]["change"].is_null());
        assert_eq!(v["cost_trend"]["unit"], "USD");
        assert_eq!(v["cost_trend"]["releases"], 3);
    }
}
