//! The one piece of perfcert that talks to Prometheus: `POST /api/v1/query_range` with a form
//! body, on a single-threaded runtime it owns (as `store::s3` does), and, for Amazon Managed
//! Prometheus, the request signed with SigV4 for service `aps` with credentials from the
//! standard AWS chain. What comes back is parsed by [`super::parse_response`].
//!
//! The same client, its runtime and its credentials, also sends the signed JSON requests of the
//! other AWS services perfcert reads ([`Client::post_aws`]: CloudWatch, Cost Explorer).
//!
//! Every error names the endpoint and the query; remote text passes through [`crate::redact`].
//! Requests time out (5 s to connect, 60 s in all) and are not retried.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;

use super::{Answer, ResponseError};
use crate::redact;

/// How requests to an endpoint are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// None (a Prometheus reachable from the runner).
    None,
    /// SigV4 for service `aps` in this region (Amazon Managed Prometheus).
    SigV4 { region: String },
}

/// A query_range request: the endpoint (without `/api/v1/...`), the PromQL, and the range in
/// unix milliseconds with its step.
#[derive(Debug, Clone)]
pub struct RangeQuery<'a> {
    pub endpoint: &'a str,
    pub auth: &'a Auth,
    pub query: &'a str,
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

/// Why a query got no answer perfcert could read.
#[derive(Debug)]
pub enum QueryError {
    /// The server answered, but not with data (see [`ResponseError::is_bad_query`]).
    Response { endpoint: String, query: String, error: ResponseError },
    /// No answer: connection refused, timeout, TLS, or no AWS credentials.
    Transport { endpoint: String, query: String, why: String },
}

impl QueryError {
    /// Whether the server refused the query itself (the policy's PromQL is wrong).
    pub fn is_bad_query(&self) -> bool {
        matches!(self, QueryError::Response { error, .. } if error.is_bad_query())
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Response { endpoint, query, error } => {
                write!(f, "{endpoint}: query `{query}`: {}", redact::text(error))
            }
            QueryError::Transport { endpoint, query, why } => write!(f, "{endpoint}: query `{query}`: {why}"),
        }
    }
}

impl std::error::Error for QueryError {}

/// An HTTP client for Prometheus endpoints, with AWS credentials once a SigV4 endpoint needs them.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    credentials: Option<Credentials>,
}

const NO_CREDENTIALS: &str = "no AWS credentials found for SigV4 (Amazon Managed Prometheus, CloudWatch): set AWS_PROFILE \
    (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where a role is available";

impl Client {
    pub fn new() -> Result<Client, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("perfcert/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", redact::text(e)))?;
        Ok(Client { runtime, http, credentials: None })
    }

    /// Credentials from the standard AWS chain (environment, profiles, SSO, roles), loaded once.
    fn credentials(&mut self) -> Result<Credentials, String> {
        if let Some(c) = &self.credentials {
            return Ok(c.clone());
        }
        let sdk = self.runtime.block_on(aws_config::defaults(BehaviorVersion::latest()).load());
        let provider = sdk.credentials_provider().ok_or_else(|| NO_CREDENTIALS.to_string())?;
        let credentials = self.runtime.block_on(provider.provide_credentials()).map_err(|e| {
            let why = redact::text(redact::chain(&e));
            if why.contains("no credentials found in chain") || why.contains("provider was not enabled") {
                NO_CREDENTIALS.to_string()
            } else {
                format!("the AWS credentials could not be loaded: {why}")
            }
        })?;
        redact::remember(credentials.secret_access_key());
        if let Some(token) = credentials.session_token() {
            redact::remember(token);
        }
        self.credentials = Some(credentials.clone());
        Ok(credentials)
    }

    /// Runs `query_range` and parses the answer (its series, and the server's warnings).
    pub fn query_range(&mut self, q: &RangeQuery) -> Result<Answer, QueryError> {
        let transport =
            |why: String| QueryError::Transport { endpoint: q.endpoint.to_string(), query: q.query.to_string(), why };
        let url = format!("{}/api/v1/query_range", q.endpoint.trim_end_matches('/'));
        let body = form(q);
        let mut request =
            self.http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(body.clone());
        if let Auth::SigV4 { region } = q.auth {
            let credentials = self.credentials().map_err(transport)?;
            let headers = [("content-type", "application/x-www-form-urlencoded")];
            for (name, value) in sign_headers(&url, &headers, &body, &credentials, "aps", region, SystemTime::now())
                .map_err(transport)?
            {
                request = request.header(name, value);
            }
        }
        let (status, text) = self
            .runtime
            .block_on(async {
                let response = request.send().await?;
                let status = response.status().as_u16();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            })
            .map_err(|e| transport(redact::text(redact::chain(&e)).to_string()))?;
        super::parse_response(status, &text).map_err(|error| QueryError::Response {
            endpoint: q.endpoint.to_string(),
            query: q.query.to_string(),
            error,
        })
    }

    /// `POST url` with a JSON `body` for an AWS JSON-protocol service: `content_type`
    /// (`application/x-amz-json-1.0` or `1.1`), `X-Amz-Target: target`, signed with SigV4 for
    /// `service` in `region`. The status and body, or why there was no answer.
    pub fn post_aws(&mut self, request: &AwsPost) -> Result<(u16, String), String> {
        let credentials = self.credentials()?;
        let headers = [("content-type", request.content_type), ("x-amz-target", request.target)];
        let mut builder = self.http.post(request.url).body(request.body.to_string());
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        for (name, value) in sign_headers(
            request.url,
            &headers,
            request.body,
            &credentials,
            request.service,
            request.region,
            SystemTime::now(),
        )? {
            builder = builder.header(name, value);
        }
        self.runtime
            .block_on(async {
                let response = builder.send().await?;
                let status = response.status().as_u16();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            })
            .map_err(|e| redact::text(redact::chain(&e)).to_string())
    }
}

/// A request to an AWS JSON-protocol service (see [`Client::post_aws`]).
#[derive(Debug, Clone, Copy)]
pub struct AwsPost<'a> {
    pub url: &'a str,
    pub content_type: &'a str,
    pub target: &'a str,
    pub body: &'a str,
    pub service: &'a str,
    pub region: &'a str,
}

/// The form body: `query`, `start`, `end` (unix seconds) and `step` (seconds).
fn form(q: &RangeQuery) -> String {
    let seconds = |ms: i64| {
        if ms % 1000 == 0 { (ms / 1000).to_string() } else { format!("{}", ms as f64 / 1000.0) }
    };
    form_urlencoded::Serializer::new(String::new())
        .append_pair("query", q.query)
        .append_pair("start", &seconds(q.start))
        .append_pair("end", &seconds(q.end))
        .append_pair("step", &seconds(q.step))
        .finish()
}

/// The headers that sign `POST url` with `headers` (names lower-case) and `body` for AWS
/// `service` in `region` (Authorization, X-Amz-Date, X-Amz-Security-Token with temporary
/// credentials), at `time`. The host is signed too.
pub fn sign_headers(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    credentials: &Credentials,
    service: &str,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    crate::aws::sigv4_post(url, headers, body.as_bytes(), credentials, region, service, time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_says_seconds_and_encodes_the_query_once() {
        let q = RangeQuery {
            endpoint: "http://x",
            auth: &Auth::None,
            query: "avg(cpu{service=\"a b\"})",
            start: 1_796_012_880_000,
            end: 1_796_012_895_500,
            step: 15_000,
        };
        assert_eq!(form(&q), "query=avg%28cpu%7Bservice%3D%22a+b%22%7D%29&start=1796012880&end=1796012895.5&step=15");
    }

    #[test]
    fn signing_names_the_service_region_and_day() {
        let credentials = Credentials::new("AKIDTEST", "secretTEST", Some("token123".into()), None, "test");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_012_880);
        let form = [("content-type", "application/x-www-form-urlencoded")];
        let headers = sign_headers(
            "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/query_range",
            &form,
            "query=up",
            &credentials,
            "aps",
            "eu-west-1",
            time,
        )
        .unwrap();
        let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let auth = get("authorization").unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"), "{auth}");
        assert!(auth.contains("/eu-west-1/aps/aws4_request"), "{auth}");
        assert_eq!(get("x-amz-security-token"), Some("token123"));
        assert!(get("x-amz-date").unwrap().starts_with("2026"));
        assert!(auth.contains("SignedHeaders=content-type;host;"), "{auth}");
        assert!(sign_headers("not a url", &form, "", &credentials, "aps", "eu-west-1", time).is_err());
        let json = [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "T.Op")];
        let headers = sign_headers(
            "https://monitoring.eu-west-1.amazonaws.com/",
            &json,
            "{}",
            &credentials,
            "monitoring",
            "eu-west-1",
            time,
        )
        .unwrap();
        let auth = &headers.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert!(auth.contains("/eu-west-1/monitoring/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"),
            "{auth}"
        );
    }
}
