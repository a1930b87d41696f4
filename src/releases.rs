//! A service's releases over time, from its index lines ([`crate::index`]): what `perfcert
//! history`, `perfcert report` and the dashboards show. Pure: lines in, a [`History`] out.
//!
//! A release is a version. A version certified more than once (a second look after an
//! INCONCLUSIVE one, or `--force`) is shown by its newest certificate, with how many it has;
//! releases are ordered by their first certificate, so a later look does not move a release
//! past the ones certified after it. The change of each metric is from the previous release
//! shown, relative, where both values exist and the earlier is not zero.

use indexmap::IndexMap;
use serde::Serialize;

use crate::index::Line;

/// One release: its newest certificate's line, where that certificate is, and its change
/// from the release before.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    #[serde(flatten)]
    pub line: Line,
    /// Where the certificate is: a path or an `s3://` URL.
    pub at: String,
    /// How many certificates this version has (looks, or `--force` re-certifications).
    pub certificates: u32,
    /// Relative change of each metric from the previous release shown (`current / previous - 1`).
    pub change: IndexMap<String, f64>,
    /// Relative change of the cost per 1000 requests from the previous release shown, where
    /// both have one and the earlier is not zero.
    pub cost_change: Option<f64>,
}

/// How often each status was given to one metric over the releases shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: u32,
    pub fail: u32,
    pub inconclusive: u32,
    pub waived: u32,
    /// NO_BASELINE, UNTRACKED, or a status this perfcert does not know.
    pub other: u32,
}

/// A service's last releases.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub service: String,
    /// Oldest first.
    pub releases: Vec<Release>,
    /// Every metric that any release shown gates, in order of first appearance.
    pub metrics: Vec<String>,
    /// Per metric, its statuses over the releases shown.
    pub counts: IndexMap<String, Counts>,
    /// Releases in the archive before the ones shown.
    pub earlier: usize,
    /// Each metric's unit, as the newest release shown that has one says (absent: unit-less,
    /// or lines written before units were indexed).
    pub units: IndexMap<String, String>,
}

impl History {
    /// The history of `service` from its index lines (any order, each with where its
    /// certificate is shown), keeping the last `last` releases (all with `None`).
    pub fn of(service: &str, lines: Vec<(String, Line)>, last: Option<usize>) -> History {
        // Group by version: the first certificate orders the release, the newest shows it.
        let mut by_version: IndexMap<String, Vec<(String, Line)>> = IndexMap::new();
        for (at, line) in lines {
            by_version.entry(line.version.clone()).or_default().push((at, line));
        }
        let mut groups: Vec<Vec<(String, Line)>> = by_version.into_values().collect();
        for g in &mut groups {
            g.sort_by_key(|(_, l)| order(l));
        }
        groups.sort_by(|a, b| order(&a[0].1).cmp(&order(&b[0].1)));

        let total = groups.len();
        let keep = last.unwrap_or(total).min(total);
        // One release more than shown, so the first shown has its change too.
        let from = total - keep;
        let before = from.checked_sub(1).map(|i| &groups[i].last().expect("a group has a line").1);
        let mut previous: Option<IndexMap<String, f64>> = before.map(|l| l.metrics.clone());
        let mut previous_cost: Option<f64> = before.and_then(|l| l.cost_per_1000_req);
        let mut releases = vec![];
        for mut group in groups.into_iter().skip(from) {
            let certificates = u32::try_from(group.len()).unwrap_or(u32::MAX);
            let (at, line) = group.pop().expect("a group has a line");
            let change = previous
                .as_ref()
                .map(|prev| {
                    line.metrics
                        .iter()
                        .filter_map(|(name, &now)| Some((name.clone(), relative(*prev.get(name)?, now)?)))
                        .collect()
                })
                .unwrap_or_default();
            let cost_change = previous_cost.zip(line.cost_per_1000_req).and_then(|(b, n)| relative(b, n));
            previous = Some(line.metrics.clone());
            previous_cost = line.cost_per_1000_req;
            releases.push(Release { line, at, certificates, change, cost_change });
        }

        let mut metrics: Vec<String> = vec![];
        let mut counts: IndexMap<String, Counts> = IndexMap::new();
        let mut units: IndexMap<String, String> = IndexMap::new();
        for r in &releases {
            for (name, unit) in &r.line.units {
                units.insert(name.clone(), unit.clone());
            }
            // Gated metrics: those with a current value, and those judged without one (a FAIL
            // for a metric missing from the current results has no value, and must be counted).
            let judged = r.line.metric_status.iter().filter(|(_, s)| s.as_str() != "UNTRACKED").map(|(n, _)| n);
            for name in r.line.metrics.keys().chain(judged) {
                if !metrics.contains(name) {
                    metrics.push(name.clone());
                }
            }
            for (name, status) in &r.line.metric_status {
                let c = counts.entry(name.clone()).or_default();
                match status.as_str() {
                    "PASS" => c.pass += 1,
                    "FAIL" => c.fail += 1,
                    "INCONCLUSIVE" => c.inconclusive += 1,
                    "WAIVED" => c.waived += 1,
                    _ => c.other += 1,
                }
            }
        }
        counts.retain(|name, _| metrics.contains(name));
        History { service: service.to_string(), releases, metrics, counts, earlier: from, units }
    }

    /// The unit of `metric`, if known.
    pub fn unit(&self, metric: &str) -> Option<&str> {
        self.units.get(metric).map(String::as_str)
    }
}

/// `now / before - 1`, where it is a finite number and `before` is not zero.
fn relative(before: f64, now: f64) -> Option<f64> {
    let c = now / before - 1.0;
    (before != 0.0 && c.is_finite()).then_some(c)
}

/// A certificate's place in time: its date (to the second), then its version in natural order
/// (`v1.9` before `v1.10`: releases certified within one second), then its look number
/// (`STEM.N`), then its name. The number is what follows the name's own stem
/// (`SERVICE-VERSION`), so a version's own dots (`v1.4`) are not taken for one.
fn order(line: &Line) -> (String, Vec<Chunk>, u32, String) {
    let stem = line.certificate.rsplit('/').next().unwrap_or("").trim_end_matches(".cert.json");
    let own = crate::store::layout::stem(&line.service, &line.version);
    let n = stem.strip_prefix(own.as_str()).and_then(|rest| rest.strip_prefix('.')).and_then(|n| n.parse().ok());
    (line.date.clone(), natural(&line.version), n.unwrap_or(1), line.certificate.clone())
}

/// A piece of a version in natural order ([`natural`]): runs of digits compare as numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Chunk {
    Number(u128),
    Text(String),
}

/// A version as pieces that sort naturally: `v1.9` before `v1.10`.
pub fn natural(s: &str) -> Vec<Chunk> {
    let mut chunks = vec![];
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest.find(|ch: char| ch.is_ascii_digit() != digit).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        chunks.push(match run.parse() {
            Ok(n) if digit => Chunk::Number(n),
            _ => Chunk::Text(run.to_string()),
        });
        rest = tail;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::Method;

    fn line(version: &str, date: &str, cert: &str, p95: f64, status: &str) -> (String, Line) {
        let metrics: IndexMap<String, f64> = [("latency_p95_read".to_string(), p95)].into_iter().collect();
        let metric_status = [("latency_p95_read".to_string(), status.to_string())].into_iter().collect();
        let l = Line {
            index: 1,
            service: "api".into(),
            version: version.into(),
            commit: None,
            date: date.into(),
            status: status.into(),
            method: "threshold".into(),
            look: None,
            signature: Method::Key,
            perfcert_version: "0.1.0".into(),
            metrics,
            baseline: IndexMap::new(),
            delta: IndexMap::new(),
            metric_status,
            units: IndexMap::new(),
            failed_metrics: vec![],
            inconclusive_metrics: vec![],
            waived_metrics: vec![],
            cost_per_1000_req: None,
            certificate: cert.into(),
            certificate_sha256: "00".into(),
        };
        (format!("archive/{cert}"), l)
    }

    #[test]
    fn releases_are_versions_in_order_with_their_change() {
        let lines = vec![
            line("v3", "2026-11-03T00:00:00Z", "20261103/api-v3.cert.json", 121.0, "PASS"),
            line("v1", "2026-11-01T00:00:00Z", "20261101/api-v1.cert.json", 100.0, "PASS"),
            line("v2", "2026-11-02T00:00:00Z", "20261102/api-v2.cert.json", 110.0, "INCONCLUSIVE"),
            // The second look at v2 comes after v3 was certified: v2 keeps its place, shown by it.
            line("v2", "2026-11-04T00:00:00Z", "20261104/api-v2.2.cert.json", 110.0, "FAIL"),
        ];
        let h = History::of("api", lines.clone(), None);
        let versions: Vec<&str> = h.releases.iter().map(|r| r.line.version.as_str()).collect();
        assert_eq!(versions, ["v1", "v2", "v3"]);
        assert_eq!(h.releases[1].certificates, 2);
        assert_eq!(h.releases[1].line.status, "FAIL");
        assert!(h.releases[0].change.is_empty());
        assert!((h.releases[1].change["latency_p95_read"] - 0.10).abs() < 1e-12);
        assert!((h.releases[2].change["latency_p95_read"] - 0.10).abs() < 1e-12);
        assert_eq!(h.counts["latency_p95_read"], Counts { pass: 2, fail: 1, ..Counts::default() });

        // The last 2: the first shown still has its change from the release before it.
        let h = History::of("api", lines, Some(2));
        assert_eq!(h.earlier, 1);
        assert_eq!(h.releases.len(), 2);
        assert!((h.releases[0].change["latency_p95_read"] - 0.10).abs() < 1e-12);
        assert_eq!(h.counts["latency_p95_read"], Counts { pass: 1, fail: 1, ..Counts::default() });
    }

    #[test]
    fn a_version_with_dots_is_not_a_later_look() {
        // Certified in the same second: v1.4 is not look 4 of `api-v1`, so v1.5 stays after it.
        let lines = vec![
            line("v1.5", "2026-11-01T00:00:00Z", "20261101/api-v1.5.cert.json", 1.0, "PASS"),
            line("v1.4", "2026-11-01T00:00:00Z", "20261101/api-v1.4.cert.json", 1.0, "PASS"),
            line("v1.4", "2026-11-01T00:00:01Z", "20261101/api-v1.4.2.cert.json", 1.0, "PASS"),
        ];
        let h = History::of("api", lines, None);
        let versions: Vec<&str> = h.releases.iter().map(|r| r.line.version.as_str()).collect();
        assert_eq!(versions, ["v1.4", "v1.5"]);
        assert_eq!(h.releases[0].line.certificate, "20261101/api-v1.4.2.cert.json");
    }

    #[test]
    fn cost_changes_and_units_come_from_the_lines() {
        let mut lines = vec![
            line("v1", "2026-11-01T00:00:00Z", "20261101/api-v1.cert.json", 100.0, "PASS"),
            line("v2", "2026-11-02T00:00:00Z", "20261102/api-v2.cert.json", 100.0, "PASS"),
            line("v3", "2026-11-03T00:00:00Z", "20261103/api-v3.cert.json", 100.0, "PASS"),
        ];
        lines[0].1.cost_per_1000_req = Some(0.004);
        lines[1].1.cost_per_1000_req = Some(0.005);
        lines[2].1.cost_per_1000_req = None;
        lines[2].1.units.insert("latency_p95_read".into(), "ms".into());
        let h = History::of("api", lines.clone(), Some(2));
        assert!((h.releases[0].cost_change.unwrap() - 0.25).abs() < 1e-12, "from the release before the window");
        assert_eq!(h.releases[1].cost_change, None, "no cost, no change");
        assert_eq!(h.unit("latency_p95_read"), Some("ms"));
        assert_eq!(h.unit("error_rate"), None);
        let h = History::of("api", lines, None);
        assert_eq!(h.releases[0].cost_change, None, "the first release has nothing to change from");
    }

    #[test]
    fn versions_certified_in_the_same_second_are_in_natural_order() {
        let lines = vec![
            line("v1.10", "2026-11-01T00:00:00Z", "20261101/api-v1.10.cert.json", 1.0, "PASS"),
            line("v1.9", "2026-11-01T00:00:00Z", "20261101/api-v1.9.cert.json", 1.0, "PASS"),
            line("v1.8", "2026-10-31T00:00:00Z", "20261031/api-v1.8.cert.json", 1.0, "PASS"),
        ];
        let h = History::of("api", lines, None);
        let versions: Vec<&str> = h.releases.iter().map(|r| r.line.version.as_str()).collect();
        assert_eq!(versions, ["v1.8", "v1.9", "v1.10"]);
        assert!(natural("v1.2-rc1") < natural("v1.2-rc10"));
        assert!(natural("99999999999999999999999999999999999999999") > natural("1"), "no overflow panic");
    }

    #[test]
    fn a_metric_that_failed_by_being_missing_is_counted() {
        let (at, mut l) = line("v1", "2026-11-01T00:00:00Z", "20261101/api-v1.cert.json", 100.0, "FAIL");
        l.metrics.clear();
        l.metric_status.insert("throughput".into(), "UNTRACKED".into());
        let h = History::of("api", vec![(at, l)], None);
        assert_eq!(h.metrics, ["latency_p95_read"]);
        assert_eq!(h.counts["latency_p95_read"], Counts { fail: 1, ..Counts::default() });
    }

    #[test]
    fn a_zero_before_gives_no_change_and_nothing_is_empty_history() {
        let lines = vec![
            line("v1", "2026-11-01T00:00:00Z", "20261101/api-v1.cert.json", 0.0, "PASS"),
            line("v2", "2026-11-02T00:00:00Z", "20261102/api-v2.cert.json", 5.0, "PASS"),
        ];
        let h = History::of("api", lines, None);
        assert!(h.releases[1].change.is_empty());
        let h = History::of("api", vec![], Some(5));
        assert!(h.releases.is_empty() && h.metrics.is_empty() && h.earlier == 0);
    }
}
