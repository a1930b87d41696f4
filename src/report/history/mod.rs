//! Renderers of a service's releases ([`History`]): one file per output format, behind
//! [`HistoryRenderer`], writing to a writer they are given. They format a finished history; they
//! decide nothing. The helpers here (values in their units, changes, the status with how many
//! certificates a version has, the cost trend) are what every history view writes, so `perfcert
//! history` and `perfcert report` agree.

mod json;
mod markdown;
mod table;

use std::io::{self, Write};

use crate::numfmt::{pct, with_unit};
use crate::releases::{History, Release};

pub use json::{HISTORY_VERSION, Json};
pub use markdown::{MARKER, Markdown};
pub use table::Table;

/// The name of the cost efficiency figure, in index lines, certificates and policies.
pub const COST: &str = "cost_per_1000_req";

/// The output formats of `perfcert history`, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Table, Format::Json, Format::Markdown];

    /// The name flags take.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }

    /// What it is, for help.
    pub fn help(self) -> &'static str {
        match self {
            Format::Table => "Metrics as rows, releases as columns, for a terminal (colour on a terminal)",
            Format::Json => "Stable machine-readable JSON (history_version 1; README has its shape)",
            Format::Markdown => "GitHub-flavoured Markdown, for a PR comment or $GITHUB_STEP_SUMMARY",
        }
    }

    pub fn renderer(self, color: bool) -> Box<dyn HistoryRenderer> {
        match self {
            Format::Table => Box::new(Table { color }),
            Format::Json => Box::new(Json),
            Format::Markdown => Box::new(Markdown),
        }
    }
}

pub trait HistoryRenderer {
    fn render(&self, history: &History, out: &mut dyn Write) -> io::Result<()>;
}

/// The rows a history shows: every gated metric, then the cost per 1000 requests when it is
/// recorded but not gated (a certificate carries it either way).
pub fn rows(h: &History) -> Vec<&str> {
    let mut rows: Vec<&str> = h.metrics.iter().map(String::as_str).collect();
    if !rows.contains(&COST) && h.releases.iter().any(|r| r.line.cost_per_1000_req.is_some()) {
        rows.push(COST);
    }
    rows
}

/// A release's value of a row: the metric's, or the certificate's cost for an ungated cost.
pub fn value(r: &Release, row: &str) -> Option<f64> {
    r.line.metrics.get(row).copied().or_else(|| if row == COST { r.line.cost_per_1000_req } else { None })
}

/// A release's change of a row from the release before.
pub fn change(r: &Release, row: &str) -> Option<f64> {
    r.change.get(row).copied().or_else(|| if row == COST { r.cost_change } else { None })
}

/// A value in the row's unit, or `-`.
pub fn value_text(h: &History, row: &str, v: Option<f64>) -> String {
    v.map(|v| with_unit(v, h.unit(row))).unwrap_or_else(|| "-".into())
}

/// A relative change, `+17.7%`, or `-`.
pub fn change_text(c: Option<f64>) -> String {
    c.map(pct).unwrap_or_else(|| "-".into())
}

/// The day a release was certified, `YYYY-MM-DD`.
pub fn day(r: &Release) -> &str {
    r.line.date.get(..10).unwrap_or(&r.line.date)
}

/// `PASS`, or `FAIL (2 certs)` for a version certified more than once (shown by its newest).
pub fn status_text(r: &Release) -> String {
    if r.certificates > 1 { format!("{} ({} certs)", r.line.status, r.certificates) } else { r.line.status.clone() }
}

/// A metric's status in a release, where it was compared.
pub fn metric_status<'a>(r: &'a Release, row: &str) -> Option<&'a str> {
    r.line.metric_status.get(row).map(String::as_str)
}

/// The cost per 1000 requests over the releases shown: the first and last recorded, and the
/// relative change between them.
#[derive(Debug, Clone, PartialEq)]
pub struct CostTrend {
    pub first: f64,
    pub last: f64,
    /// `last / first - 1`; `None` when `first` is zero.
    pub change: Option<f64>,
    /// How many releases shown record a cost.
    pub releases: usize,
}

pub fn cost_trend(h: &History) -> Option<CostTrend> {
    let costs: Vec<f64> = h.releases.iter().filter_map(|r| value(r, COST)).collect();
    let (&first, &last) = (costs.first()?, costs.last()?);
    let change = (first != 0.0).then(|| last / first - 1.0).filter(|c| c.is_finite());
    Some(CostTrend { first, last, change, releases: costs.len() })
}

/// `cost per 1000 requests: 0.0049 USD -> 0.0052 USD over 5 releases (+6.12%)`, or that none is
/// recorded.
pub fn cost_line(h: &History) -> String {
    let unit = h.unit(COST);
    match cost_trend(h) {
        None => "cost per 1000 requests: not recorded in these releases".into(),
        Some(t) if t.releases == 1 => {
            format!("cost per 1000 requests: {} (one release records it)", with_unit(t.first, unit))
        }
        Some(t) => format!(
            "cost per 1000 requests: {} -> {} over {} releases ({})",
            with_unit(t.first, unit),
            with_unit(t.last, unit),
            t.releases,
            change_text(t.change)
        ),
    }
}

/// `ingest-api: 5 releases (2 earlier not shown)`.
pub fn title(h: &History) -> String {
    let n = h.releases.len();
    let plural = if n == 1 { "" } else { "s" };
    let earlier = if h.earlier > 0 { format!(" ({} earlier not shown)", h.earlier) } else { String::new() };
    format!("{}: {n} release{plural}{earlier}", h.service)
}

/// The metrics a release did not pass, by status: `[("FAIL", [..]), ("INCONCLUSIVE", [..])]`.
pub fn not_passed(r: &Release) -> Vec<(&'static str, &[String])> {
    [
        ("FAIL", r.line.failed_metrics.as_slice()),
        ("INCONCLUSIVE", r.line.inconclusive_metrics.as_slice()),
        ("WAIVED", r.line.waived_metrics.as_slice()),
    ]
    .into_iter()
    .filter(|(_, names)| !names.is_empty())
    .collect()
}

/// The note every history view ends with: where it came from and what it does not check.
pub const UNVERIFIED: &str =
    "read from the archive's index; signatures are not verified: use perfcert verify on a certificate";

#[cfg(test)]
pub(crate) mod tests {
    use indexmap::IndexMap;

    use crate::certificate::Method;
    use crate::index::Line;
    use crate::releases::History;

    /// Three releases of `api`: v1.1.0 fails latency (+20%) after an inconclusive first look, cost
    /// rises.
    pub fn history() -> History {
        let line = |version: &str, day: &str, stem: &str, p95: f64, err: f64, cost: f64, status: &str| {
            let metrics: IndexMap<String, f64> = [
                ("latency_p95_read".to_string(), p95),
                ("error_rate".to_string(), err),
                ("cost_per_1000_req".to_string(), cost),
            ]
            .into_iter()
            .collect();
            let lat = if status == "FAIL" {
                "FAIL"
            } else if status == "INCONCLUSIVE" {
                "INCONCLUSIVE"
            } else {
                "PASS"
            };
            let metric_status: IndexMap<String, String> = [
                ("latency_p95_read".to_string(), lat.to_string()),
                ("error_rate".to_string(), "PASS".to_string()),
                ("cost_per_1000_req".to_string(), "PASS".to_string()),
            ]
            .into_iter()
            .collect();
            let units: IndexMap<String, String> = [
                ("latency_p95_read".to_string(), "ms".to_string()),
                ("error_rate".to_string(), "%".to_string()),
                ("cost_per_1000_req".to_string(), "USD".to_string()),
            ]
            .into_iter()
            .collect();
            let cert = format!("{}/{stem}.cert.json", day.replace('-', ""));
            let l = Line {
                index: 1,
                service: "api".into(),
                version: version.into(),
                commit: None,
                date: format!("{day}T10:00:00Z"),
                status: status.into(),
                method: "threshold".into(),
                look: None,
                signature: Method::Key,
                perfcert_version: "0.1.0".into(),
                metrics,
                baseline: IndexMap::new(),
                delta: IndexMap::new(),
                metric_status,
                units,
                failed_metrics: if lat == "FAIL" { vec!["latency_p95_read".into()] } else { vec![] },
                inconclusive_metrics: if lat == "INCONCLUSIVE" { vec!["latency_p95_read".into()] } else { vec![] },
                waived_metrics: vec![],
                cost_per_1000_req: Some(cost),
                certificate: cert.clone(),
                certificate_sha256: "00".into(),
            };
            (format!("archive/{cert}"), l)
        };
        let lines = vec![
            line("v1.0.0", "2026-11-01", "api-v1.0.0", 200.0, 0.2, 0.004, "PASS"),
            line("v1.1.0", "2026-11-02", "api-v1.1.0", 240.0, 0.2, 0.005, "INCONCLUSIVE"),
            line("v1.1.0", "2026-11-03", "api-v1.1.0.2", 240.0, 0.2, 0.005, "FAIL"),
            line("v1.2.0", "2026-11-04", "api-v1.2.0", 204.0, 0.25, 0.0045, "PASS"),
        ];
        History::of("api", lines, Some(5))
    }

    #[test]
    fn helpers_write_units_changes_and_the_cost_trend() {
        let h = history();
        assert_eq!(super::status_text(&h.releases[1]), "FAIL (2 certs)");
        assert_eq!(super::day(&h.releases[1]), "2026-11-03", "shown by its newest certificate");
        assert_eq!(super::value_text(&h, "latency_p95_read", Some(240.0)), "240 ms");
        assert_eq!(super::change_text(super::change(&h.releases[1], "latency_p95_read")), "+20%");
        assert_eq!(super::change_text(super::change(&h.releases[0], "latency_p95_read")), "-");
        assert_eq!(super::cost_line(&h), "cost per 1000 requests: 0.004 USD -> 0.0045 USD over 3 releases (+12.5%)");
        assert_eq!(super::rows(&h), ["latency_p95_read", "error_rate", "cost_per_1000_req"]);
    }
}
