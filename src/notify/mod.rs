//! Notifications and tickets: a result (a certificate, a comparison, a drift report) said as a
//! Slack message ([`slack`]) and as a Jira Cloud issue ([`jira`], REST API v3, the description
//! in Atlassian Document Format). Pure: documents in, JSON out; nothing here reads the
//! environment, prints or touches the network ([`send`] does the posting).
//!
//! Slack's limits are kept by truncating with a marker, never by failing: at most 50 blocks
//! (we use at most 5), a header of 150 characters, section text of 3,000, at most 10 fields of
//! 2,000 each, and the whole message under 12,000 characters (Slack refuses about 13,000).
//!
//! Jira keys are `PROJECT-NUMBER` and a project key holds no hyphen, so PERF-004's
//! `PERF-REG-####` becomes the project `PERFREG` (issues `PERFREG-123`, the default), with
//! the summary starting `PERF-REG:`; every issue carries the labels `perfcert`,
//! `perf-regression`, `svc-SERVICE` and [`label`] of the document's sha256, which finds it
//! again on a re-run.

pub mod send;

use serde_json::{Value, json};

use crate::certificate::Certificate;

/// The default Jira project: `PERF-REG-####` without the hyphen Jira keys cannot hold.
pub const DEFAULT_PROJECT: &str = "PERFREG";
/// The default issue type.
pub const DEFAULT_ISSUE_TYPE: &str = "Bug";
/// What every summary starts with: PERF-004's ticket prefix.
pub const SUMMARY_PREFIX: &str = "PERF-REG:";

pub const SLACK_MAX_HEADER: usize = 150;
pub const SLACK_MAX_SECTION: usize = 3000;
pub const SLACK_MAX_FIELD: usize = 2000;
pub const SLACK_MAX_FIELDS: usize = 10;
pub const SLACK_MAX_BLOCKS: usize = 50;
/// Kept under Slack's undocumented total (about 13,000 characters).
pub const SLACK_MAX_TOTAL: usize = 12_000;
/// Jira's summary limit.
pub const JIRA_MAX_SUMMARY: usize = 255;
/// Problems listed in a Jira description; the rest are counted.
pub const JIRA_MAX_PROBLEMS: usize = 50;
/// Each text node of a description is cut to this.
pub const JIRA_MAX_TEXT: usize = 2000;

/// What was judged, for the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Certificate,
    Comparison,
    Drift,
    /// A bake's verification record (`STEM.verify.json`, predicate
    /// `https://perfcert.dev/verification/v1`).
    Bake,
}

/// A result, as both messages need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub what: What,
    /// `SERVICE VERSION`, `SERVICE` or empty when unknown.
    pub subject: String,
    pub service: Option<String>,
    /// `PASS`, `FAIL`, `INCONCLUSIVE` or (drift) `ROLLBACK`.
    pub status: String,
    /// Short facts shown as fields: name and value.
    pub facts: Vec<(String, String)>,
    /// One line per metric that is not PASS (or WAIVED).
    pub problems: Vec<String>,
    /// The sha256 of the document (certificate or report), when there is one.
    pub sha256: Option<String>,
    /// A link to the certificate or report, when the caller has one.
    pub link: Option<String>,
    /// Where the document is (a path, or the URL it was uploaded to), when known.
    pub location: Option<String>,
    /// Whether the result warrants a ticket: FAIL, or drift's ticket or rollback.
    pub ticket: bool,
}

impl Outcome {
    /// A certificate and its sha256 (of its bytes).
    pub fn of_certificate(cert: &Certificate, sha256: &str) -> Outcome {
        let mut facts = vec![("Status".to_string(), cert.status.clone())];
        if let Some(commit) = &cert.commit {
            facts.push(("Commit".into(), commit.chars().take(12).collect()));
        }
        facts.push(("As of".into(), cert.as_of.clone()));
        facts.push(("Date".into(), cert.date.clone()));
        let problems = row_problems(&cert.comparison);
        facts.push(("Not passing".into(), format!("{} of {}", problems.len(), rows(&cert.comparison).len())));
        Outcome {
            what: What::Certificate,
            subject: format!("{} {}", cert.service, cert.version),
            service: Some(cert.service.clone()),
            ticket: cert.status == "FAIL",
            status: cert.status.clone(),
            facts,
            problems,
            sha256: Some(sha256.to_string()),
            link: None,
            location: None,
        }
    }

    /// A comparison without a certificate: its verdict and rows as the JSON report writes them.
    pub fn of_comparison(subject: &str, status: &str, rows_value: &Value) -> Outcome {
        let problems = row_problems(rows_value);
        Outcome {
            what: What::Comparison,
            subject: subject.to_string(),
            service: None,
            status: status.to_string(),
            facts: vec![
                ("Status".into(), status.to_string()),
                ("Not passing".into(), format!("{} of {}", problems.len(), rows(rows_value).len())),
            ],
            problems,
            sha256: None,
            link: None,
            location: None,
            ticket: status == "FAIL",
        }
    }

    /// A drift report (the `json` format, `drift_report_version` 1) and its sha256. The service
    /// is the report's `service` when it names one, else `service` (`--service`); without
    /// either it is refused: a message that does not say what drifted is of no use.
    pub fn of_drift(report: &Value, sha256: &str, service: Option<&str>) -> Result<Outcome, String> {
        if report.get("drift_report_version").and_then(Value::as_u64) != Some(1) {
            return Err("not a drift report (`drift_report_version: 1` expected; write it with --format json)".into());
        }
        let status = report.get("status").and_then(Value::as_str).ok_or("no `status` in the drift report")?;
        let named = report.get("service").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let service = named
            .or(service.map(str::trim).filter(|s| !s.is_empty()))
            .ok_or("the drift report names no `service` and --service was not given: say which service drifted")?;
        let text = |k: &str| report.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
        let drift = drift_problems(report);
        let facts = vec![
            ("Status".into(), status.to_string()),
            ("From".into(), text("from")),
            ("To".into(), text("to")),
            ("Not passing".into(), format!("{} of {}", drift.not_passing, drift.metrics)),
        ];
        Ok(Outcome {
            what: What::Drift,
            subject: service.to_string(),
            service: Some(service.to_string()),
            status: status.to_string(),
            facts,
            problems: drift.problems,
            sha256: Some(sha256.to_string()),
            link: None,
            location: None,
            ticket: drift.ticket,
        })
    }

    /// A bake's verification record (`perfcert bake`, `STEM.verify.json`) and the sha256 of its
    /// bytes: the status (PASS, FAIL, INCONCLUSIVE or ROLLBACK), service, version, the window
    /// baked, and why it failed (the SLO breach, the rollback flag, the drifting metrics). A
    /// ticket on FAIL and ROLLBACK.
    pub fn of_verification(record: &Value, sha256: &str) -> Result<Outcome, String> {
        let str_of = |k: &str| record.get(k).and_then(Value::as_str);
        if record.get("schema").and_then(Value::as_u64) != Some(1)
            || !record.get("window").is_some_and(Value::is_object)
        {
            return Err("not a bake record (`schema: 1` and a `window` expected; perfcert bake writes it)".into());
        }
        let status = str_of("status").ok_or("no `status` in the bake record")?;
        let service = str_of("service").ok_or("no `service` in the bake record")?;
        let version = str_of("version").ok_or("no `version` in the bake record")?;
        let window = &record["window"];
        let at = |k: &str| window.get(k).and_then(Value::as_str).unwrap_or("?");
        let mut facts = vec![
            ("Status".to_string(), status.to_string()),
            ("Service".into(), service.to_string()),
            ("Version".into(), version.to_string()),
            ("Window".into(), format!("{} → {}", at("from"), at("to"))),
        ];
        if let Some(polls) = record.get("polls").and_then(Value::as_u64) {
            let early = record.get("stopped_early").and_then(Value::as_bool) == Some(true);
            facts.push((
                "Polls".into(),
                format!("{polls}{}, judged to {}", if early { " (stopped early)" } else { "" }, at("judged_to")),
            ));
        }
        let mut problems = vec![];
        if let Some(breach) = record.get("slo_breach").filter(|b| b.is_object()) {
            let metric = breach.get("metric").and_then(Value::as_str).unwrap_or("?");
            let check = record
                .get("slo")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find(|c| c.get("metric") == breach.get("metric") && c["ok"] == false));
            let limit = check
                .and_then(|c| match (c.get("max").and_then(Value::as_f64), c.get("min").and_then(Value::as_f64)) {
                    (Some(max), _) => Some(format!(" > max {}", crate::numfmt::num(max))),
                    (None, Some(min)) => Some(format!(" < min {}", crate::numfmt::num(min))),
                    _ => None,
                })
                .unwrap_or_default();
            let mean = breach.get("mean").and_then(Value::as_f64).map(crate::numfmt::num);
            let from = breach.get("window_start").and_then(Value::as_str).map(|t| format!(" in the window from {t}"));
            problems.push(format!(
                "SLO breach ({metric}): mean {}{limit}{}",
                mean.as_deref().unwrap_or("?"),
                from.unwrap_or_default()
            ));
        }
        let drift = record.get("drift").map(drift_problems).unwrap_or_default();
        problems.extend(drift.problems);
        Ok(Outcome {
            what: What::Bake,
            subject: format!("{service} {version}"),
            service: Some(service.to_string()),
            ticket: matches!(status, "FAIL" | "ROLLBACK"),
            status: status.to_string(),
            facts,
            problems,
            sha256: Some(sha256.to_string()),
            link: None,
            location: None,
        })
    }

    /// `perf FAIL · ingest-api v1.4.2`, `drift ROLLBACK · ingest-api`.
    pub fn title(&self) -> String {
        let kind = match self.what {
            What::Drift => "drift",
            What::Bake => "bake",
            What::Certificate | What::Comparison => "perf",
        };
        if self.subject.is_empty() {
            format!("{kind} {}", self.status)
        } else {
            format!("{kind} {} · {}", self.status, self.subject)
        }
    }

    /// What the document is called in messages.
    fn document_kind(&self) -> &'static str {
        match self.what {
            What::Drift => "report",
            What::Bake => "record",
            What::Certificate | What::Comparison => "certificate",
        }
    }
}

/// A drift report's bullets: the rollback first, then each metric that did not pass.
#[derive(Default)]
struct DriftProblems {
    problems: Vec<String>,
    ticket: bool,
    not_passing: usize,
    metrics: usize,
}

fn drift_problems(report: &Value) -> DriftProblems {
    let metrics: &[Value] = report.get("metrics").and_then(Value::as_array).map_or(&[], |v| v);
    let mut out = DriftProblems { metrics: metrics.len(), ..DriftProblems::default() };
    for m in metrics {
        let name = m.get("name").and_then(Value::as_str).unwrap_or("?");
        let st = m.get("status").and_then(Value::as_str).unwrap_or("?");
        let wants_ticket = m.get("ticket").and_then(Value::as_bool) == Some(true);
        out.ticket |= wants_ticket;
        if st != "PASS" {
            out.not_passing += 1;
            let reasons = strings(m.get("reasons")).join("; ");
            let mark = match m.get("ticket_at").and_then(Value::as_str).and_then(clock_time) {
                Some(at) if wants_ticket => format!(" (ticket since {at})"),
                _ if wants_ticket => " (ticket)".to_string(),
                _ => String::new(),
            };
            out.problems.push(if reasons.is_empty() {
                format!("{name} {st}{mark}")
            } else {
                format!("{name} {st}{mark}: {reasons}")
            });
        }
    }
    if let Some(rb) = report.get("rollback").filter(|r| r.get("flag").and_then(Value::as_bool) == Some(true)) {
        out.ticket = true;
        out.problems.insert(0, rollback_line(rb));
    }
    out
}

/// `ROLLBACK (METRIC): above 300.17 (1.5x baseline) since 12:20` from what the report has.
fn rollback_line(rb: &Value) -> String {
    let metric = rb.get("metric").and_then(Value::as_str).unwrap_or("?");
    let number = |k: &str| rb.get(k).and_then(Value::as_f64).filter(|v| v.is_finite());
    let mut said = vec![];
    if let Some(threshold) = number("threshold") {
        let factor = number("factor").map(|f| format!(" ({}x baseline)", crate::numfmt::num(f))).unwrap_or_default();
        said.push(format!("above {}{factor}", crate::numfmt::num(threshold)));
    } else if let Some(factor) = number("factor") {
        said.push(format!("above {}x baseline", crate::numfmt::num(factor)));
    }
    if let Some(since) = rb.get("since").and_then(Value::as_str).and_then(clock_time) {
        said.push(format!("since {since}"));
    }
    if let Some(reason) = rb.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty()) {
        said.push(if said.is_empty() { reason.to_string() } else { format!("({reason})") });
    }
    if said.is_empty() {
        said.push("the rollback flag is raised".into());
    }
    format!("ROLLBACK ({metric}): {}", said.join(" "))
}

/// `HH:MM` (UTC) of an RFC 3339 time.
fn clock_time(rfc3339: &str) -> Option<String> {
    let t: jiff::Timestamp = rfc3339.parse().ok()?;
    Some(t.strftime("%H:%M").to_string())
}

fn rows(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], |v| v)
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// `NAME STATUS: reasons` for every row that is not PASS or WAIVED.
fn row_problems(rows_value: &Value) -> Vec<String> {
    rows(rows_value)
        .iter()
        .filter_map(|r| {
            let status = r.get("status").and_then(Value::as_str)?;
            if matches!(status, "PASS" | "WAIVED" | "INFO") {
                return None;
            }
            let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
            let reasons = strings(r.get("reasons")).join("; ");
            Some(if reasons.is_empty() { format!("{name} {status}") } else { format!("{name} {status}: {reasons}") })
        })
        .collect()
}

/// The Jira label that finds a document's ticket: `perfcert-` and the first 12 hex digits of
/// its sha256.
pub fn label(sha256: &str) -> String {
    format!("perfcert-{}", sha256.chars().take(12).collect::<String>())
}

/// At most `max` characters, the cut marked with `…`.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Slack's mrkdwn control characters, escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Lines joined under `max` characters; what does not fit is counted as `+N more`.
fn lines_within(lines: &[String], max: usize) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let left = lines.len() - i;
        let more = format!("\n+{left} more");
        let line = format!("• {line}");
        let next = if out.is_empty() { line.clone() } else { format!("{out}\n{line}") };
        // Room for the marker must stay unless this is the last line.
        let room = if left == 1 { max } else { max.saturating_sub(more.chars().count() + 8) };
        if next.chars().count() <= room {
            out = next;
        } else if out.is_empty() {
            // Even one line is too long: cut it, and count the rest.
            out = cut(&line, room.max(1));
            if left > 1 {
                out.push_str(&format!("\n+{} more", left - 1));
            }
            return out;
        } else {
            out.push_str(&more);
            return out;
        }
    }
    out
}

/// The Slack incoming-webhook body: `text` (the notification's fallback) and blocks within
/// Slack's limits.
pub fn slack(o: &Outcome) -> Value {
    let title = o.title();
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": cut(&title, SLACK_MAX_HEADER), "emoji": false }
    })];
    let fields: Vec<Value> = o
        .facts
        .iter()
        .take(SLACK_MAX_FIELDS)
        .map(|(k, v)| json!({ "type": "mrkdwn", "text": cut(&format!("*{}*\n{}", escape(k), escape(v)), SLACK_MAX_FIELD) }))
        .collect();
    if !fields.is_empty() {
        blocks.push(json!({ "type": "section", "fields": fields }));
    }
    if !o.problems.is_empty() {
        let escaped: Vec<String> = o.problems.iter().map(|p| escape(p)).collect();
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": lines_within(&escaped, SLACK_MAX_SECTION) } }));
    }
    let mut context = format!("perfcert {}", env!("CARGO_PKG_VERSION"));
    if let Some(sha) = &o.sha256 {
        context.push_str(&format!(" · {} sha256 `{}`", o.document_kind(), cut(sha, 64)));
    }
    let mut elements = vec![json!({ "type": "mrkdwn", "text": cut(&context, SLACK_MAX_FIELD) })];
    if let Some(location) = &o.location {
        let said = format!("{}: `{}`", o.document_kind(), escape(location));
        elements.push(json!({ "type": "mrkdwn", "text": cut(&said, SLACK_MAX_FIELD) }));
    }
    blocks.push(json!({ "type": "context", "elements": elements }));
    let shown =
        |l: &&String| (l.starts_with("https://") || l.starts_with("http://")) && l.chars().count() <= SLACK_MAX_SECTION;
    if let Some(link) = o.link.as_ref().filter(shown) {
        let label = format!("Open the {}", o.document_kind());
        blocks.push(json!({ "type": "actions", "elements": [{
            "type": "button", "text": { "type": "plain_text", "text": label }, "url": link
        }] }));
    }
    blocks.truncate(SLACK_MAX_BLOCKS);
    let mut message = json!({ "text": cut(&title, SLACK_MAX_HEADER), "blocks": blocks });
    // The fields and problems are capped one by one; if together they are still too long,
    // drop fields from the end.
    while message.to_string().chars().count() > SLACK_MAX_TOTAL {
        let Some(fields) = message["blocks"][1]["fields"].as_array_mut() else { break };
        if fields.pop().is_none() {
            break;
        }
    }
    message
}

/// Where and how a Jira issue is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraTarget {
    pub project: String,
    pub issue_type: String,
}

/// A Jira project key: a letter, then upper-case letters, digits or `_` (no hyphen).
pub fn check_project_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is not a Jira project key: expected a capital letter, then capitals, digits or _ \
             (no hyphen: PERF-REG becomes PERFREG)"
        ))
    }
}

/// The labels of the issue: `perfcert`, `perf-regression` (or `perf-drift`), `svc-SERVICE` and
/// the document's [`label`]. Jira labels hold no spaces.
pub fn labels(o: &Outcome) -> Vec<String> {
    let mut all = vec!["perfcert".to_string()];
    all.push(
        match o.what {
            What::Drift => "perf-drift",
            What::Bake => "perf-bake",
            What::Certificate | What::Comparison => "perf-regression",
        }
        .into(),
    );
    if let Some(service) = &o.service {
        let clean: String = service
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
            .collect();
        all.push(cut(&format!("svc-{clean}"), 255));
    }
    if let Some(sha) = &o.sha256 {
        all.push(label(sha));
    }
    all
}

/// The `POST /rest/api/3/issue` body.
pub fn jira(o: &Outcome, target: &JiraTarget) -> Value {
    json!({
        "fields": {
            "project": { "key": target.project },
            "issuetype": { "name": target.issue_type },
            "summary": cut(&format!("{SUMMARY_PREFIX} {}", o.title()), JIRA_MAX_SUMMARY),
            "labels": labels(o),
            "description": adf(o),
        }
    })
}

fn text_node(text: &str) -> Value {
    // ADF refuses an empty text node.
    let text = if text.is_empty() { "-" } else { text };
    json!({ "type": "text", "text": cut(text, JIRA_MAX_TEXT) })
}

fn paragraph(nodes: Vec<Value>) -> Value {
    json!({ "type": "paragraph", "content": nodes })
}

/// The description as an Atlassian Document Format document (version 1): a heading, the facts,
/// the problems as a bullet list, and the document's sha256 as code.
pub fn adf(o: &Outcome) -> Value {
    let mut content = vec![json!({
        "type": "heading", "attrs": { "level": 2 }, "content": [text_node(&o.title())]
    })];
    let mut facts = vec![];
    for (i, (k, v)) in o.facts.iter().enumerate() {
        if i > 0 {
            facts.push(json!({ "type": "hardBreak" }));
        }
        facts.push(
            json!({ "type": "text", "text": cut(&format!("{k}: "), JIRA_MAX_TEXT), "marks": [{ "type": "strong" }] }),
        );
        facts.push(text_node(v));
    }
    if !facts.is_empty() {
        content.push(paragraph(facts));
    }
    if !o.problems.is_empty() {
        let items: Vec<Value> = o
            .problems
            .iter()
            .take(JIRA_MAX_PROBLEMS)
            .map(|p| json!({ "type": "listItem", "content": [paragraph(vec![text_node(p)])] }))
            .collect();
        content.push(json!({ "type": "bulletList", "content": items }));
        if o.problems.len() > JIRA_MAX_PROBLEMS {
            content.push(paragraph(vec![text_node(&format!("+{} more", o.problems.len() - JIRA_MAX_PROBLEMS))]));
        }
    }
    let kind = match o.what {
        What::Drift => "Drift report",
        What::Bake => "Bake record",
        What::Certificate | What::Comparison => "Certificate",
    };
    if let Some(sha) = &o.sha256 {
        content.push(paragraph(vec![
            text_node(&format!("{kind} sha256: ")),
            json!({ "type": "text", "text": cut(sha, JIRA_MAX_TEXT), "marks": [{ "type": "code" }] }),
        ]));
    }
    if let Some(location) = o.location.as_deref().filter(|l| !l.is_empty()) {
        content.push(paragraph(vec![
            text_node(&format!("{kind}: ")),
            json!({ "type": "text", "text": cut(location, JIRA_MAX_TEXT), "marks": [{ "type": "code" }] }),
        ]));
    }
    if let Some(link) = o.link.as_ref().filter(|l| l.starts_with("https://") || l.starts_with("http://")) {
        content.push(paragraph(vec![json!({
            "type": "text", "text": cut(link, JIRA_MAX_TEXT), "marks": [{ "type": "link", "attrs": { "href": link } }]
        })]));
    }
    content.push(paragraph(vec![text_node(&format!(
        "Filed by perfcert {}; one ticket per document, found again by its label.",
        env!("CARGO_PKG_VERSION")
    ))]));
    json!({ "type": "doc", "version": 1, "content": content })
}

#[cfg(test)]
mod tests;
