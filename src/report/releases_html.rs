//! `perfcert report`'s page: a service's last releases ([`crate::releases::History`]) as one
//! self-contained HTML page for people and the CAB (PERF-004 §8): the latest release's current
//! vs baseline per metric, pass/fail counts per metric, the cost per 1000 requests trend, and
//! the p95 regression chart over the rolling last five releases. Pure: the history, the latest
//! certificate (for limits, which index lines do not carry, and units) and a time stamp in,
//! HTML out; the same input gives the same bytes.
//!
//! It shows what the archive says; it verifies nothing (the page says so).

use indexmap::IndexMap;

use super::chart::{self, BLUE, GREY, Series, StatusCounts};
use super::html::{MetricLine, esc, metrics_section, page, status};
use crate::certificate::Certificate;
use crate::numfmt::{num, pct, with_unit};
use crate::releases::{History, Release};

/// How many releases the regression chart shows: PERF-004 §8's rolling five.
pub const ROLLING: usize = 5;

/// Everything the page shows.
#[derive(Debug, Clone, Copy)]
pub struct HistoryPage<'a> {
    pub history: &'a History,
    /// The archive it was read from, as the user named it.
    pub archive: &'a str,
    /// The latest release's certificate, when it could be read: its rows have the limits and
    /// units.
    pub latest: Option<&'a Certificate>,
    /// When the page was made (RFC 3339), handed in by the command.
    pub generated: &'a str,
}

/// What the latest certificate says about each metric: its unit and limits.
struct Known<'a> {
    rows: IndexMap<&'a str, &'a serde_json::Value>,
}

impl<'a> Known<'a> {
    fn of(latest: Option<&'a Certificate>) -> Known<'a> {
        let rows = latest
            .and_then(|c| c.comparison.as_array())
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r.get("name")?.as_str()?, r)))
            .collect();
        Known { rows }
    }

    fn unit(&self, metric: &str) -> Option<&'a str> {
        self.rows.get(metric)?.get("unit")?.as_str()
    }

    fn limit(&self, metric: &str, key: &str) -> Option<&'a serde_json::Value> {
        self.rows.get(metric)?.get("limits")?.get(key)
    }

    /// The SLO `max`, when the policy has one.
    fn max(&self, metric: &str) -> Option<f64> {
        self.limit(metric, "max")?.as_f64().filter(|x| x.is_finite())
    }

    /// The value a release may reach from its own baseline: `baseline x (1 + 10%)` or
    /// `baseline + 20`.
    fn allowed(&self, metric: &str, baseline: f64) -> Option<f64> {
        let v = match self.limit(metric, "max_increase")? {
            serde_json::Value::String(s) => {
                baseline * (1.0 + s.trim().strip_suffix('%')?.trim().parse::<f64>().ok()? / 100.0)
            }
            n => baseline + n.as_f64()?,
        };
        v.is_finite().then_some(v)
    }
}

/// The page.
pub fn render(p: &HistoryPage) -> String {
    let h = p.history;
    let known = Known::of(p.latest);
    let mut b = String::new();
    b.push_str(&format!("<h1>Performance history: {}</h1>\n", esc(&h.service)));
    let shown = match (h.releases.first(), h.releases.last()) {
        (Some(first), Some(last)) if h.releases.len() > 1 => {
            format!("{} releases shown, {} to {}", h.releases.len(), esc(&first.line.version), esc(&last.line.version))
        }
        (Some(only), _) => format!("1 release shown, {}", esc(&only.line.version)),
        _ => "no releases".into(),
    };
    let earlier = if h.earlier > 0 { format!(" ({} earlier in the archive)", h.earlier) } else { String::new() };
    b.push_str(&format!("<p class=\"meta\">{shown}{earlier}.</p>\n"));
    b.push_str(&format!(
        "<p class=\"meta\">From the index of archive <code>{}</code>; generated {} by perfcert {}.</p>\n",
        esc(p.archive),
        esc(p.generated),
        env!("CARGO_PKG_VERSION")
    ));
    b.push_str(
        "<p class=\"note\"><strong>Not a verification.</strong> This page shows what the archive's index lines and \
         the latest certificate say; they are not checked here. Signatures are checked by \
         <code>perfcert verify</code>.</p>\n",
    );

    if let Some(last) = h.releases.last() {
        b.push_str(&latest_section(last, p.latest));
    }
    b.push_str(&releases_section(h));
    b.push_str(&counts_section(h));
    b.push_str(&cost_section(h));
    b.push_str(&regression_section(h, &known));
    b.push_str(&format!(
        "<footer>perfcert {} · {} · service {}. A report, not a certificate: nothing here is signed.</footer>\n",
        env!("CARGO_PKG_VERSION"),
        esc(p.generated),
        esc(&h.service)
    ));
    page(&format!("Performance history: {}", h.service), &b)
}

fn day(date: &str) -> &str {
    date.get(..10).unwrap_or(date)
}

fn latest_section(r: &Release, cert: Option<&Certificate>) -> String {
    let l = &r.line;
    let mut s = format!(
        "<section>\n<h2>Latest release: {} {}</h2>\n<p class=\"meta\">Certified {}{}{}; certificate <code>{}</code> \
         (sha256 <code>{}</code>){}.</p>\n",
        esc(&l.version),
        status(&l.status),
        esc(&l.date),
        l.commit.as_deref().map(|c| format!(", commit <code>{}</code>", esc(c))).unwrap_or_default(),
        l.look.map(|n| format!(", look {n}")).unwrap_or_default(),
        esc(&r.at),
        esc(&l.certificate_sha256),
        if r.certificates > 1 {
            format!("; {} certificates of this version, the newest shown", r.certificates)
        } else {
            String::new()
        }
    );
    // The certificate's rows when it was read and is this release's; else the index line's.
    let rows: Vec<MetricLine> = match cert.filter(|c| c.version == l.version && c.service == l.service) {
        Some(c) => c.comparison.as_array().into_iter().flatten().filter_map(MetricLine::of_record).collect(),
        None => {
            s.push_str("<p class=\"meta\">The certificate could not be read: values from its index line, without limits.</p>\n");
            l.metric_status
                .iter()
                .map(|(name, st)| {
                    let v = |m: &IndexMap<String, f64>| m.get(name).map(|x| num(*x)).unwrap_or_else(|| "-".into());
                    MetricLine {
                        name: name.clone(),
                        baseline: v(&l.baseline),
                        current: v(&l.metrics),
                        delta: l.delta.get(name).copied(),
                        delta_text: l.delta.get(name).map(|d| pct(*d)).unwrap_or_else(|| "-".into()),
                        limit_text: "-".into(),
                        slo_text: "-".into(),
                        status: st.clone(),
                        reasons: String::new(),
                        up: None,
                        down: None,
                    }
                })
                .collect()
        }
    };
    s.push_str(&metrics_section(&rows));
    s.push_str("</section>\n");
    s
}

fn releases_section(h: &History) -> String {
    let mut s = String::from(
        "<section>\n<h2>Releases</h2>\n<table>\n<thead><tr><th>Date</th><th>Version</th><th>Commit</th><th>Status</th>\
         <th>Failed metrics</th><th>Cost / 1000 req</th><th>Certificates</th></tr></thead>\n<tbody>\n",
    );
    for r in &h.releases {
        let l = &r.line;
        let mut failed = l.failed_metrics.clone();
        failed.extend(l.inconclusive_metrics.iter().map(|m| format!("{m} (inconclusive)")));
        failed.extend(l.waived_metrics.iter().map(|m| format!("{m} (waived)")));
        s.push_str(&format!(
            "<tr><td class=\"nowrap\">{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>\n",
            esc(day(&l.date)),
            esc(&l.version),
            esc(l.commit.as_deref().unwrap_or("-")),
            status(&l.status),
            if failed.is_empty() { "-".into() } else { esc(&failed.join(", ")) },
            l.cost_per_1000_req.filter(|c| c.is_finite()).map(num).unwrap_or_else(|| "-".into()),
            r.certificates
        ));
    }
    s.push_str("</tbody>\n</table>\n</section>\n");
    s
}

fn counts_section(h: &History) -> String {
    let rows: Vec<StatusCounts> = h
        .counts
        .iter()
        .map(|(name, c)| StatusCounts {
            name: name.clone(),
            counts: vec![
                ("PASS", c.pass),
                ("FAIL", c.fail),
                ("INCONCLUSIVE", c.inconclusive),
                ("WAIVED", c.waived),
                ("OTHER", c.other),
            ],
        })
        .collect();
    format!(
        "<section>\n<h2>Pass/fail per metric</h2>\n<p class=\"meta\">How often each metric passed or failed in the {} \
         release(s) shown (OTHER: no baseline, or not gated).</p>\n{}\n</section>\n",
        h.releases.len(),
        chart::status_bars(&rows, h.releases.len())
    )
}

fn cost_section(h: &History) -> String {
    let labels: Vec<String> = h.releases.iter().map(|r| r.line.version.clone()).collect();
    let values: Vec<Option<f64>> =
        h.releases.iter().map(|r| r.line.cost_per_1000_req.filter(|c| c.is_finite())).collect();
    let mut s = String::from("<section>\n<h2>Cost per 1000 requests</h2>\n");
    if values.iter().all(Option::is_none) {
        s.push_str("<p class=\"meta\">No release shown recorded a cost per 1000 requests.</p>\n");
    } else {
        let series = [Series { name: "cost per 1000 requests".into(), values, color: BLUE, dashed: false }];
        s.push_str(&chart::lines(&labels, &series, None, None));
        s.push('\n');
    }
    s.push_str("</section>\n");
    s
}

fn regression_section(h: &History, known: &Known) -> String {
    let window = &h.releases[h.releases.len().saturating_sub(ROLLING)..];
    let labels: Vec<String> = window.iter().map(|r| r.line.version.clone()).collect();
    let p95: Vec<&String> = h.metrics.iter().filter(|m| m.contains("p95")).collect();
    let mut s = format!(
        "<h2>Regression: p95 over the last {} release(s)</h2>\n<p class=\"meta\">Each p95 metric per release. The \
         dashed red line is the SLO of the latest policy; the dashed grey line is what each release was allowed from \
         its own baseline.</p>\n",
        window.len()
    );
    if p95.is_empty() {
        s.push_str("<p class=\"meta\">No p95 metric is gated in these releases.</p>\n");
    }
    for metric in p95 {
        let unit = known.unit(metric);
        let values: Vec<Option<f64>> = window.iter().map(|r| r.line.metrics.get(metric).copied()).collect();
        let allowed: Vec<Option<f64>> =
            window.iter().map(|r| r.line.baseline.get(metric).and_then(|b| known.allowed(metric, *b))).collect();
        let mut series = vec![Series { name: metric.clone(), values, color: BLUE, dashed: false }];
        if allowed.iter().any(Option::is_some) {
            series.push(Series {
                name: "allowed from its baseline".into(),
                values: allowed,
                color: GREY,
                dashed: true,
            });
        }
        let limit = known.max(metric).map(|m| (m, format!("SLO {}", with_unit(m, unit))));
        s.push_str(&format!("<section>\n<h3><code>{}</code></h3>\n", esc(metric)));
        s.push_str(&chart::lines(&labels, &series, limit, unit));
        s.push_str("\n<table>\n<thead><tr><th>Version</th><th>Value</th><th>Change from previous</th><th>Status</th></tr></thead>\n<tbody>\n");
        for r in window {
            s.push_str(&format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                esc(&r.line.version),
                esc(&r.line.metrics.get(metric).map(|v| with_unit(*v, unit)).unwrap_or_else(|| "-".into())),
                esc(&r.change.get(metric).map(|c| pct(*c)).unwrap_or_else(|| "-".into())),
                status(r.line.metric_status.get(metric).map(String::as_str).unwrap_or("-"))
            ));
        }
        s.push_str("</tbody>\n</table>\n</section>\n");
    }
    s
}
