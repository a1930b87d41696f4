//! Posting an [`Outcome`](super::Outcome): the Slack incoming webhook and Jira Cloud's REST API
//! v3, and the ticket marker beside the document. The network edge of [`super`]: it never
//! prints (it returns one line per channel) and reads the environment only through the lookup
//! it is given. Secrets (the webhook URL, the Jira token) are [`redact::remember`]ed before any
//! request, so no message can carry them.
//!
//! One ticket per document: the marker `STEM.jira.json` beside it (created, never replaced,
//! local only: never uploaded, see the README) names the issue (or, when Jira's answer named no
//! key, its label); without it, a search by the document's label finds an issue an earlier run
//! filed before it could write the marker (Jira's search is eventually consistent, so the
//! marker is the guarantee and the search the fallback).

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::{JiraTarget, Outcome};
use crate::redact;

/// The Slack incoming webhook's URL (a secret).
pub const SLACK_WEBHOOK: &str = "PERFCERT_SLACK_WEBHOOK_URL";
/// Jira Cloud's base URL, `https://SITE.atlassian.net`.
pub const JIRA_URL: &str = "PERFCERT_JIRA_URL";
/// The Jira user's email.
pub const JIRA_EMAIL: &str = "PERFCERT_JIRA_EMAIL";
/// The Jira user's API token (a secret).
pub const JIRA_TOKEN: &str = "PERFCERT_JIRA_API_TOKEN";
/// The Jira project key (default [`super::DEFAULT_PROJECT`]).
pub const JIRA_PROJECT: &str = "PERFCERT_JIRA_PROJECT";
/// The Jira issue type (default [`super::DEFAULT_ISSUE_TYPE`]).
pub const JIRA_ISSUE_TYPE: &str = "PERFCERT_JIRA_ISSUE_TYPE";
/// Seconds one request may take, connection included (default 10).
pub const TIMEOUT: &str = "PERFCERT_NOTIFY_TIMEOUT";

/// A destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Slack,
    Jira,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Slack => "slack",
            Channel::Jira => "jira",
        }
    }
}

/// The channels the environment configures, in order: Slack when its webhook is set, Jira when
/// any of its three variables is (a missing one is then reported by that channel).
pub fn configured(env: &dyn Fn(&str) -> Option<String>) -> Vec<Channel> {
    let set = |name: &str| env(name).is_some_and(|v| !v.trim().is_empty());
    let mut channels = vec![];
    if set(SLACK_WEBHOOK) {
        channels.push(Channel::Slack);
    }
    if [JIRA_URL, JIRA_EMAIL, JIRA_TOKEN].into_iter().any(set) {
        channels.push(Channel::Jira);
    }
    channels
}

/// What one channel did, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Posted, or filed.
    Done(String),
    /// Nothing to do (no ticket for a PASS; the ticket exists).
    Skipped(String),
    /// The service refused or could not be reached; the line says which and why, redacted.
    Failed(String),
}

/// What to deliver and where the ticket marker goes.
pub struct Request<'a> {
    pub outcome: &'a Outcome,
    pub channels: &'a [Channel],
    /// The document the marker sits beside (a certificate or a drift report); none: no marker.
    pub document: Option<&'a Path>,
    /// `--jira-project`, over the environment's.
    pub jira_project: Option<&'a str>,
}

/// `STEM.cert.json` -> `STEM.jira.json`, `NAME.json` -> `NAME.jira.json`, beside it.
pub fn marker_beside(document: &Path) -> PathBuf {
    let name = document.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = crate::store::layout::ticket_marker_beside(&name);
    document.with_file_name(stem)
}

/// Posts to every channel asked; one [`Delivery`] each, in order. `env` looks variables up.
pub fn deliver(request: &Request, env: &dyn Fn(&str) -> Option<String>) -> Vec<Delivery> {
    for name in [SLACK_WEBHOOK, JIRA_TOKEN] {
        if let Some(secret) = env(name) {
            redact::remember(&secret);
        }
    }
    // The webhook's secret is its path: a server that echoes the request shows only that.
    if let Some(url) = env(SLACK_WEBHOOK).and_then(|u| reqwest::Url::parse(u.trim()).ok()) {
        redact::remember(url.path());
        if let Some(last) = url.path_segments().and_then(|mut s| s.next_back()) {
            redact::remember(last);
        }
    }
    let http = timeout(env).and_then(Http::new);
    request
        .channels
        .iter()
        .map(|&channel| {
            let http = match &http {
                Ok(h) => h,
                Err(e) => return Delivery::Failed(format!("{}: {e}", channel.as_str())),
            };
            match channel {
                Channel::Slack => slack(http, request.outcome, env),
                Channel::Jira => jira(http, request, env),
            }
        })
        .collect()
}

struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

/// A response: status, body, and `Retry-After` in seconds when given.
struct Answer {
    status: u16,
    body: String,
    retry_after: Option<f64>,
}

/// The longest `Retry-After` waited for (once): Slack's rate limit is about a message a second.
const MAX_RETRY_AFTER: f64 = 5.0;

impl Http {
    fn new(seconds: f64) -> Result<Http, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs_f64(seconds.min(5.0)))
            .timeout(Duration::from_secs_f64(seconds))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("perfcert/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", redact::text(e)))?;
        Ok(Http { runtime, client })
    }

    /// Sends `request`; a 429 (rate limited: nothing was done) is tried once more after its
    /// `Retry-After` when that is at most [`MAX_RETRY_AFTER`] seconds. Other failures are not
    /// retried: a 5xx may have created the issue.
    fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, String> {
        let again = request.try_clone();
        let first = self.send_once(request)?;
        match (first.status, first.retry_after, again) {
            (429, Some(wait), Some(again)) if wait <= MAX_RETRY_AFTER => {
                std::thread::sleep(Duration::from_secs_f64(wait));
                self.send_once(again)
            }
            _ => Ok(first),
        }
    }

    fn send_once(&self, request: reqwest::RequestBuilder) -> Result<Answer, String> {
        self.runtime
            .block_on(async {
                let response = request.send().await?;
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0);
                Ok::<_, reqwest::Error>(Answer { status, body: response.text().await?, retry_after })
            })
            .map_err(|e| {
                let timed_out = e.is_timeout();
                let why = redact::text(redact::chain(&e.without_url())).to_string();
                if timed_out { "timed out".to_string() } else { one_line(&why) }
            })
    }
}

/// Remote text as one short line.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    super::cut(&flat, 200)
}

fn refused(what: &str, a: &Answer) -> String {
    let body = one_line(redact::text(&a.body).as_str());
    if body.is_empty() { format!("{what}: HTTP {}", a.status) } else { format!("{what}: HTTP {}: {body}", a.status) }
}

/// A URL a secret may be sent to: https, or http on the loopback interface only.
/// `PERFCERT_NOTIFY_TIMEOUT` in seconds (10 when unset).
fn timeout(env: &dyn Fn(&str) -> Option<String>) -> Result<f64, String> {
    match env(TIMEOUT).map(|t| t.trim().parse::<f64>()) {
        None => Ok(10.0),
        Some(Ok(t)) if t.is_finite() && t > 0.0 && t <= 600.0 => Ok(t),
        Some(_) => Err(format!("{TIMEOUT}: expected seconds between 0 and 600")),
    }
}

/// What keeps the channels asked from being used, one line per channel, before anything is
/// sent: a variable missing or not an https URL, a bad timeout or project key. A configuration
/// error (`perfcert notify` exits 2 on it), not a service that failed.
pub fn misconfigured(
    channels: &[Channel],
    jira_project: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut problems = vec![];
    if let Err(e) = timeout(env) {
        problems.push(e);
    }
    for &channel in channels {
        let checked = match channel {
            Channel::Slack => match env(SLACK_WEBHOOK).filter(|u| !u.trim().is_empty()) {
                None => Err(format!("{SLACK_WEBHOOK} is not set")),
                Some(url) => check_url(SLACK_WEBHOOK, url.trim()),
            },
            Channel::Jira => jira_config(jira_project, env).map(|_| ()),
        };
        if let Err(e) = checked {
            problems.push(format!("{}: {e}", channel.as_str()));
        }
    }
    problems
}

fn check_url(name: &str, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| format!("{name} is not a URL"))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("{name} must be an https:// URL (http only to 127.0.0.1)")),
    }
}

fn slack(http: &Http, o: &Outcome, env: &dyn Fn(&str) -> Option<String>) -> Delivery {
    let Some(url) = env(SLACK_WEBHOOK).filter(|u| !u.trim().is_empty()) else {
        return Delivery::Failed(format!("slack: {SLACK_WEBHOOK} is not set"));
    };
    let url = url.trim();
    if let Err(e) = check_url(SLACK_WEBHOOK, url) {
        return Delivery::Failed(format!("slack: {e}"));
    }
    let body = super::slack(o).to_string();
    let request = http.client.post(url).header("content-type", "application/json").body(body);
    match http.send(request) {
        Ok(a) if a.status == 200 => Delivery::Done(format!("slack: posted \"{}\"", o.title())),
        Ok(a) => Delivery::Failed(refused("slack: the webhook refused the message", &a)),
        Err(e) => Delivery::Failed(format!("slack: the webhook could not be reached: {e}")),
    }
}

struct JiraConfig {
    base: String,
    authorization: String,
    target: JiraTarget,
}

fn jira_config(jira_project: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<JiraConfig, String> {
    let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let missing: Vec<&str> = [JIRA_URL, JIRA_EMAIL, JIRA_TOKEN].into_iter().filter(|n| get(n).is_none()).collect();
    if !missing.is_empty() {
        return Err(format!("{} not set", missing.join(", ")));
    }
    let base = get(JIRA_URL).unwrap_or_default().trim_end_matches('/').to_string();
    check_url(JIRA_URL, &base)?;
    let project = jira_project.map(str::to_string).or_else(|| get(JIRA_PROJECT));
    let project = project.unwrap_or_else(|| super::DEFAULT_PROJECT.to_string());
    super::check_project_key(&project)?;
    let issue_type = get(JIRA_ISSUE_TYPE).unwrap_or_else(|| super::DEFAULT_ISSUE_TYPE.to_string());
    let credentials = format!("{}:{}", get(JIRA_EMAIL).unwrap_or_default(), get(JIRA_TOKEN).unwrap_or_default());
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    redact::remember(&encoded);
    Ok(JiraConfig { base, authorization: format!("Basic {encoded}"), target: JiraTarget { project, issue_type } })
}

fn jira(http: &Http, request: &Request, env: &dyn Fn(&str) -> Option<String>) -> Delivery {
    let o = request.outcome;
    if !o.ticket {
        return Delivery::Skipped(format!("jira: no ticket for {}", o.status));
    }
    let marker = request.document.map(marker_beside);
    match marker.as_deref().and_then(|m| std::fs::read(m).ok()).and_then(|b| marked(&b)) {
        Some(Marked::Key(key)) => return Delivery::Skipped(format!("jira: {key} was filed for it already")),
        Some(Marked::Label(label)) => {
            return Delivery::Skipped(format!(
                "jira: an issue was filed for it already (Jira did not say its key; search labels = {label})"
            ));
        }
        None => {}
    }
    let config = match jira_config(request.jira_project, env) {
        Ok(c) => c,
        Err(e) => return Delivery::Failed(format!("jira: {e}")),
    };
    let label = o.sha256.as_deref().map(super::label);
    if let Some(label) = &label {
        // Best effort: a failed search does not stop the filing (the marker is the guarantee).
        if let Some(key) = search(http, &config, &format!("labels = \"{label}\"")) {
            let kept = write_marker(marker.as_deref(), Some(&key), label, o);
            return Delivery::Skipped(format!("jira: {key} was filed for it already (label {label}){kept}"));
        }
    }
    // Drift is watched on a schedule: while a breach lasts each run is a new report, so an issue
    // still open for the service's drift takes the new ones instead of a ticket per run.
    if o.what == super::What::Drift
        && let Some(service_label) = super::labels(o).into_iter().find(|l| l.starts_with("svc-"))
    {
        // Only the project issues are filed in: another team's open issue is not this one.
        let jql = format!(
            "project = \"{}\" AND labels = \"perf-drift\" AND labels = \"{service_label}\" AND statusCategory != Done",
            config.target.project
        );
        if let Some(key) = search(http, &config, &jql) {
            let kept = write_marker(marker.as_deref(), Some(&key), label.as_deref().unwrap_or(""), o);
            return Delivery::Skipped(format!(
                "jira: {key} is still open for this service's drift; no second issue filed{kept}"
            ));
        }
    }
    let body = super::jira(o, &config.target).to_string();
    let post = http
        .client
        .post(format!("{}/rest/api/3/issue", config.base))
        .header("authorization", &config.authorization)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(body);
    match http.send(post) {
        Ok(a) if a.status == 201 || a.status == 200 => {
            let key = serde_json::from_str::<Value>(&a.body)
                .ok()
                .and_then(|v| v.get("key").and_then(Value::as_str).map(str::to_string));
            let label = label.as_deref().unwrap_or("");
            // Created all the same: the marker (naming the label) keeps a re-run from filing again.
            let kept = write_marker(marker.as_deref(), key.as_deref(), label, o);
            match key {
                Some(key) => Delivery::Done(format!("jira: filed {key}{kept}")),
                None => Delivery::Done(format!(
                    "jira: filed an issue, but Jira's answer named no key (search labels = {label}){kept}"
                )),
            }
        }
        Ok(a) => Delivery::Failed(refused("jira: the issue was refused", &a)),
        Err(e) => Delivery::Failed(format!("jira: {} could not be reached: {e}", config.base)),
    }
}

/// The key of the first issue `jql` finds, if the search answers with one.
fn search(http: &Http, config: &JiraConfig, jql: &str) -> Option<String> {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("jql", jql)
        .append_pair("fields", "key")
        .append_pair("maxResults", "1")
        .finish();
    let get = http
        .client
        .get(format!("{}/rest/api/3/search/jql?{query}", config.base))
        .header("authorization", &config.authorization)
        .header("accept", "application/json");
    let a = http.send(get).ok().filter(|a| a.status == 200)?;
    let v: Value = serde_json::from_str(&a.body).ok()?;
    v.get("issues")?.as_array()?.first()?.get("key")?.as_str().map(str::to_string)
}

/// What a marker says: the issue's key, or (Jira created it but named no key) its label.
enum Marked {
    Key(String),
    Label(String),
}

fn marked(bytes: &[u8]) -> Option<Marked> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    text("jira").map(Marked::Key).or_else(|| text("label").map(Marked::Label))
}

/// Writes the marker (create-only); `""` when written or not wanted, else why not. `key` is
/// `None` when Jira created the issue without naming it: the label then finds it.
fn write_marker(marker: Option<&Path>, key: Option<&str>, label: &str, o: &Outcome) -> String {
    let Some(path) = marker else { return String::new() };
    let mut content = serde_json::to_string_pretty(&json!({
        "jira": key, "label": label, "sha256": o.sha256, "status": o.status
    }))
    .expect("a marker serialises");
    content.push('\n');
    match crate::fsutil::write_new_atomic(path, content.as_bytes(), None) {
        Ok(()) => String::new(),
        Err(e) => format!("; the marker {} could not be written ({})", path.display(), crate::fsutil::io_reason(&e)),
    }
}
