//! History as the noise model (`--noise-from ARCHIVE`): the run-to-run spread of each metric,
//! learned from earlier certificates of the same service.
//!
//! What it learns is the **within-certificate** variance: inside one certificate, the runs of one
//! side are replicates of one build on one testbed, so their spread is noise and nothing else. The
//! spread *across* releases is never used: it contains the real changes the gate is looking for.
//! Per metric, on both analysis scales (ln value for relative limits, the value for absolute
//! ones), the sides' sample variances are pooled: s² = Σ (n_i − 1) s_i² / Σ (n_i − 1), with
//! df = Σ (n_i − 1) (research note noise.md §1c). A side with one run adds nothing.
//!
//! Which certificates: those of the same service, ordered by date, after the last change in that
//! history: a certificate whose run fingerprint differs from the current runs' (on a key both
//! record) ends the usable history, and everything before it is left out too. Certificates
//! without a fingerprint are used, and the result says their comparability was not checked.
//!
//! Pure: certificates in (already read and parsed by the caller), variances out. The stats
//! module decides how much to trust them (at least 2 current runs, a homogeneity test, a df cap
//! for heavy tails: [`crate::stats::HISTORY_DF_CAP`]).

use indexmap::IndexMap;
use serde_json::Value;

use crate::stats::{Pooled, variance};

/// What one earlier certificate says about noise: every side's run values per metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    /// Its path in the archive (`YYYYMMDD/STEM.cert.json`).
    pub name: String,
    pub sha256: String,
    pub service: String,
    pub date: String,
    /// The current side's run fingerprint, as the certificate records it (`fingerprints.current`;
    /// empty if none).
    pub fingerprint: IndexMap<String, String>,
    /// Metric name -> the run values of each side that has at least 2 runs, with the side
    /// (0 baseline, 1 current).
    pub groups: IndexMap<String, Vec<(usize, Vec<f64>)>>,
    /// Each side's input files, as the sorted sha256 of every file of its runs (empty if the
    /// certificate does not record them): the same runs in two certificates (a promoted
    /// baseline, an earlier look at the same release) are counted once.
    pub inputs: [Vec<String>; 2],
}

/// Reads what a certificate (schema 1 or 2) records about its runs. `Err` says why it cannot be
/// used (it is then skipped with that reason, never guessed at).
pub fn parse(name: &str, sha256: &str, bytes: &[u8]) -> Result<Earlier, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not a certificate (JSON: {e})"))?;
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    let service = text("service").ok_or("no `service`")?;
    let date = text("date").ok_or("no `date`")?;
    let rows = doc.get("comparison").and_then(Value::as_array).ok_or("no `comparison` rows")?;
    let mut groups: IndexMap<String, Vec<(usize, Vec<f64>)>> = IndexMap::new();
    for row in rows {
        let (Some(metric), Some(runs)) = (row.get("name").and_then(Value::as_str), row.get("runs")) else {
            continue;
        };
        for (i, side) in ["baseline", "current"].into_iter().enumerate() {
            let Some(values) = runs.get(side).and_then(Value::as_array) else { continue };
            // A run without the metric (null) leaves the side out: its runs are not all there.
            let values: Option<Vec<f64>> = values.iter().map(|v| v.as_f64().filter(|x| x.is_finite())).collect();
            if let Some(values) = values.filter(|v| v.len() >= 2) {
                groups.entry(metric.to_string()).or_default().push((i, values));
            }
        }
    }
    let fingerprint = doc
        .get("fingerprints")
        .and_then(|f| f.get("current"))
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    let digests = |side: &str| -> Vec<String> {
        let files = doc.get("inputs").and_then(|i| i.get(side)).and_then(Value::as_array);
        let mut d: Vec<String> =
            files.into_iter().flatten().filter_map(|f| f.get("sha256")?.as_str().map(str::to_string)).collect();
        d.sort();
        d
    };
    let inputs = [digests("baseline"), digests("current")];
    Ok(Earlier { name: name.to_string(), sha256: sha256.to_string(), service, date, fingerprint, groups, inputs })
}

/// The history of a decision as its certificate recorded it (`decision.history`), for a
/// recompute: exactly these certificates, with these sha256, and what was said about them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recorded {
    pub archive: String,
    /// (path in the archive, sha256), oldest first.
    pub certificates: Vec<(String, String)>,
    pub signatures_checked: bool,
    pub notes: Vec<String>,
}

impl Recorded {
    /// Reads `decision.history` of a certificate; `Err` names what is missing.
    pub fn from_value(v: &Value) -> Result<Recorded, String> {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let archive = text(v, "archive").ok_or("no `archive`")?;
        let certificates = v
            .get("certificates")
            .and_then(Value::as_array)
            .ok_or("no `certificates`")?
            .iter()
            .map(|c| Some((text(c, "name")?, text(c, "sha256")?)))
            .collect::<Option<Vec<_>>>()
            .ok_or("a certificate without `name` or `sha256`")?;
        let signatures_checked =
            v.get("signatures_checked").and_then(Value::as_bool).ok_or("no `signatures_checked`")?;
        let notes = v
            .get("notes")
            .and_then(Value::as_array)
            .ok_or("no `notes`")?
            .iter()
            .map(|n| n.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or("a note that is not text")?;
        Ok(Recorded { archive, certificates, signatures_checked, notes })
    }
}

/// A metric's pooled variance on both analysis scales.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Spread {
    /// Of ln(value); `None` if no side had values all above 0.
    pub log: Option<Pooled>,
    pub linear: Option<Pooled>,
}

/// What history says, and which certificates it came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Noise {
    /// The archive it was read from, as given.
    pub source: String,
    /// Whether every certificate used was checked to be signed with `--noise-key`.
    pub signatures_checked: bool,
    /// The certificates used (name, sha256), oldest first.
    pub used: Vec<(String, String)>,
    pub metrics: IndexMap<String, Spread>,
    /// What the user should know: certificates left out and why, unchecked comparability.
    pub notes: Vec<String>,
}

/// Pools the sides of the service's certificates after the last fingerprint change, each set of
/// runs once, leaving out runs that are inputs of the current comparison (`current_inputs`: the
/// sha256 of its files), whose spread the comparison already has.
pub fn learn(
    mut earlier: Vec<Earlier>,
    service: &str,
    fingerprint: &IndexMap<String, String>,
    current_inputs: &std::collections::HashSet<String>,
) -> Noise {
    let mut noise = Noise::default();
    earlier.retain(|e| e.service == service);
    earlier.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.name.cmp(&b.name)));
    let differs = |e: &Earlier| -> Option<String> {
        fingerprint.iter().find_map(|(k, v)| {
            let theirs = e.fingerprint.get(k)?;
            (theirs != v).then(|| format!("{k} was {theirs}, now {v}"))
        })
    };
    if let Some(last) = earlier.iter().rposition(|e| differs(e).is_some()) {
        let e = &earlier[last];
        noise.notes.push(format!(
            "history: {} and the {} certificate(s) before it are left out: its runs were made differently ({})",
            e.name,
            last,
            differs(e).unwrap_or_default()
        ));
        earlier.drain(..=last);
    }
    let unchecked = earlier.iter().filter(|e| e.fingerprint.is_empty() || fingerprint.is_empty()).count();
    if unchecked > 0 {
        noise.notes.push(format!(
            "history: {unchecked} certificate(s) without a run fingerprint on one side: comparability with the current runs is not checked"
        ));
    }
    let mut sums: IndexMap<String, [(f64, f64); 2]> = IndexMap::new();
    let mut seen: std::collections::HashSet<&[String]> = std::collections::HashSet::new();
    let (mut repeated, mut own) = (0, 0);
    for e in &earlier {
        let mut useful = false;
        // Which sides' runs count: not this comparison's own, not runs already counted.
        let counted: Vec<bool> = e
            .inputs
            .iter()
            .map(|files| {
                if files.iter().any(|f| current_inputs.contains(f)) {
                    own += 1;
                    false
                } else if !files.is_empty() && !seen.insert(files.as_slice()) {
                    repeated += 1;
                    false
                } else {
                    true
                }
            })
            .collect();
        for (metric, groups) in &e.groups {
            let sum = sums.entry(metric.clone()).or_default();
            for (_, values) in groups.iter().filter(|(side, _)| counted[*side]) {
                let df = (values.len() - 1) as f64;
                if values.iter().all(|v| *v > 0.0) {
                    let logs: Vec<f64> = values.iter().map(|v| v.ln()).collect();
                    sum[0].0 += df * variance(&logs);
                    sum[0].1 += df;
                }
                sum[1].0 += df * variance(values);
                sum[1].1 += df;
                useful = true;
            }
        }
        if useful {
            noise.used.push((e.name.clone(), e.sha256.clone()));
        }
    }
    if repeated > 0 {
        noise.notes.push(format!(
            "history: {repeated} side(s) of earlier certificates repeat runs already counted (a promoted baseline, an earlier look) and count once"
        ));
    }
    if own > 0 {
        noise.notes.push(format!(
            "history: {own} side(s) of earlier certificates are runs of this comparison and are left out (their spread is already in it)"
        ));
    }
    let pooled = |(ss, df): (f64, f64)| (df >= 1.0 && ss.is_finite()).then(|| Pooled { variance: ss / df, df });
    noise.metrics =
        sums.into_iter().map(|(m, [log, lin])| (m, Spread { log: pooled(log), linear: pooled(lin) })).collect();
    noise
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(service: &str, date: &str, testbed: Option<&str>, p95: &[&[f64]]) -> Earlier {
        Earlier {
            name: format!("{service}-{date}"),
            sha256: "00".into(),
            service: service.into(),
            date: date.into(),
            fingerprint: testbed
                .map(|t| [("testbed".to_string(), t.to_string())].into_iter().collect())
                .unwrap_or_default(),
            groups: [("p95".to_string(), p95.iter().map(|g| (0, g.to_vec())).collect())].into_iter().collect(),
            inputs: [vec![format!("{service}-{date}-b")], vec![format!("{service}-{date}-c")]],
        }
    }

    #[test]
    fn pools_within_side_variances_not_the_spread_across_releases() {
        // Two releases far apart (a real change between them) with the same small noise inside.
        let a = cert("api", "2026-01-01", None, &[&[100.0, 102.0], &[101.0, 103.0]]);
        let b = cert("api", "2026-02-01", None, &[&[200.0, 202.0, 204.0]]);
        let noise = learn(vec![b, a], "api", &IndexMap::new(), &Default::default());
        let linear = noise.metrics["p95"].linear.unwrap();
        // (1·2 + 1·2 + 2·4) / (1 + 1 + 2) = 3: the jump from 100 to 200 is not noise.
        assert_eq!(linear.df, 4.0);
        assert!((linear.variance - 3.0).abs() < 1e-12, "{linear:?}");
        assert_eq!(noise.used.iter().map(|u| u.0.as_str()).collect::<Vec<_>>(), ["api-2026-01-01", "api-2026-02-01"]);
        assert!(noise.notes.iter().any(|n| n.contains("not checked")), "{:?}", noise.notes);
    }

    #[test]
    fn history_before_the_last_fingerprint_change_is_left_out() {
        let current: IndexMap<String, String> = [("testbed".to_string(), "m5".to_string())].into_iter().collect();
        let old = cert("api", "2026-01-01", Some("m5"), &[&[1.0, 50.0]]);
        let other = cert("api", "2026-02-01", Some("c6"), &[&[1.0, 90.0]]);
        let recent = cert("api", "2026-03-01", Some("m5"), &[&[100.0, 101.0]]);
        let noise = learn(
            vec![old, other, recent, cert("web", "2026-03-02", Some("m5"), &[&[1.0, 2.0]])],
            "api",
            &current,
            &Default::default(),
        );
        assert_eq!(noise.used.len(), 1, "{noise:?}");
        assert_eq!(noise.used[0].0, "api-2026-03-01");
        assert!(noise.notes[0].contains("testbed was c6, now m5"), "{:?}", noise.notes);
        assert_eq!(noise.metrics["p95"].linear.unwrap().variance, 0.5);
    }

    #[test]
    fn reads_runs_from_a_certificate_and_skips_incomplete_sides() {
        let doc = r#"{"service":"api","date":"2026-11-01T00:00:00Z","comparison":[
            {"name":"p95","runs":{"baseline":[100,104],"current":[110,null,112],"mean":"geometric"}},
            {"name":"cpu"}]}"#;
        let e = parse("a.cert.json", "ab", doc.as_bytes()).unwrap();
        assert_eq!(e.groups["p95"], vec![(0, vec![100.0, 104.0])]);
        assert!(!e.groups.contains_key("cpu"));
        assert!(parse("x", "ab", b"[1]").unwrap_err().contains("service"));
        assert!(parse("x", "ab", b"{").unwrap_err().contains("JSON"));
    }

    #[test]
    fn the_same_runs_count_once_and_this_comparisons_own_runs_not_at_all() {
        // The same promoted baseline (side 0) in three certificates, each with its own current.
        let mut certs = vec![];
        for (i, date) in ["2026-01-01", "2026-02-01", "2026-03-01"].into_iter().enumerate() {
            let mut e = cert("api", date, None, &[]);
            e.groups["p95"] = vec![(0, vec![100.0, 110.0]), (1, vec![200.0, 201.0 + i as f64])];
            e.inputs[0] = vec!["promoted".into()];
            certs.push(e);
        }
        let noise = learn(certs.clone(), "api", &IndexMap::new(), &Default::default());
        // Baseline once (1 df) and three currents (1 df each).
        assert_eq!(noise.metrics["p95"].linear.unwrap().df, 4.0);
        assert!(
            noise.notes.iter().any(|n| n.contains("2 side(s) of earlier certificates repeat runs")),
            "{:?}",
            noise.notes
        );
        // Comparing against that promoted baseline again: its runs are this comparison's own.
        let own: std::collections::HashSet<String> = ["promoted".to_string()].into_iter().collect();
        let noise = learn(certs, "api", &IndexMap::new(), &own);
        assert_eq!(noise.metrics["p95"].linear.unwrap().df, 3.0);
        assert!(
            noise.notes.iter().any(|n| n.contains("3 side(s) of earlier certificates are runs of this comparison"))
        );
    }
}
