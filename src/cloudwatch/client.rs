//! Reads one CloudWatch metric over a range: `GetMetricData` requests signed for service
//! `monitoring` through the shared AWS-capable HTTP client, one per [`super::chunks`] range,
//! following `NextToken` (a bounded number of pages).
//!
//! The endpoint is `AWS_ENDPOINT_URL_CLOUDWATCH`, else `AWS_ENDPOINT_URL` (the SDKs' standard
//! variables), else `https://monitoring.REGION.amazonaws.com`.

use std::fmt;

use super::{CONTENT_TYPE, Page, ResponseError, TARGET, chunks, parse_response, request_body};
use crate::policy::CloudWatchMetric;
use crate::prometheus::client::{AwsPost, Client};
use crate::redact;

/// Most pages read for one range: a guard against a server that never stops sending tokens.
const MAX_PAGES: usize = 100;

/// The datapoints of `[start, end)` in time order, and, when the answer was not whole, why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fetched {
    pub points: Vec<(i64, f64)>,
    /// A `StatusCode` other than `Complete` with its messages (`Forbidden`, `InternalError`,
    /// `PartialData` with no next page, a next page beyond the page limit): the data is not the
    /// whole window.
    pub incomplete: Option<String>,
}

/// Why a metric could not be read.
#[derive(Debug)]
pub enum FetchError {
    /// CloudWatch answered with an error.
    Response { endpoint: String, metric: String, error: ResponseError },
    /// No answer: connection refused, timeout, TLS, or no AWS credentials.
    Transport { endpoint: String, metric: String, why: String },
}

impl FetchError {
    /// Whether CloudWatch refused the request as the policy wrote it.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, FetchError::Response { error, .. } if error.is_bad_request())
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Response { endpoint, metric, error } => {
                write!(f, "{endpoint}: GetMetricData {metric}: {}", redact::text(error))
            }
            FetchError::Transport { endpoint, metric, why } => write!(f, "{endpoint}: GetMetricData {metric}: {why}"),
        }
    }
}

impl std::error::Error for FetchError {}

/// The CloudWatch endpoint for `region`.
pub fn endpoint(region: &str) -> String {
    crate::aws::endpoint(
        &["AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL"],
        |name| std::env::var(name).ok(),
        || format!("https://monitoring.{region}.amazonaws.com"),
    )
}

/// After page `page_number` (1 for the first): whether to ask for the next one, and why the data
/// is not whole when it is not: a status other than `Complete` (save `PartialData` with a next
/// page to read), or a `NextToken` still left at the page limit (the rest was never read).
fn after_page(page: &Page, page_number: usize) -> (bool, Option<String>) {
    let left = page.next_token.is_some();
    let more = left && page_number < MAX_PAGES;
    if left && !more {
        let mut why = format!(
            "CloudWatch still had a NextToken after {MAX_PAGES} pages (StatusCode {}): the rest was not read",
            page.status_code
        );
        if !page.messages.is_empty() {
            why.push_str(&format!(" ({})", redact::text(page.messages.join("; "))));
        }
        return (false, Some(why));
    }
    if page.status_code != "Complete" && !(page.status_code == "PartialData" && more) {
        let mut why = format!("CloudWatch answered StatusCode {}", page.status_code);
        if !page.messages.is_empty() {
            why.push_str(&format!(" ({})", redact::text(page.messages.join("; "))));
        }
        return (more, Some(why));
    }
    (more, None)
}

/// `metric`'s datapoints at `period_ms` over `[start, end)` (period boundaries, unix ms).
pub fn fetch(
    client: &mut Client,
    metric: &CloudWatchMetric,
    period_ms: i64,
    start: i64,
    end: i64,
) -> Result<Fetched, FetchError> {
    let url = endpoint(&metric.region);
    let described = metric.describe();
    let mut fetched = Fetched::default();
    for (from, to) in chunks(start, end, period_ms) {
        let mut token: Option<String> = None;
        for page_number in 1.. {
            let body = request_body(metric, period_ms, from, to, token.as_deref());
            let request = AwsPost {
                url: &url,
                content_type: CONTENT_TYPE,
                target: TARGET,
                body: &body,
                service: "monitoring",
                region: &metric.region,
            };
            let (status, text) = client.post_aws(&request).map_err(|why| FetchError::Transport {
                endpoint: url.clone(),
                metric: described.clone(),
                why,
            })?;
            let page: Page = parse_response(status, &text).map_err(|error| FetchError::Response {
                endpoint: url.clone(),
                metric: described.clone(),
                error,
            })?;
            fetched.points.extend(page.points.iter().copied().filter(|&(t, _)| t >= from && t < to));
            let (more, incomplete) = after_page(&page, page_number);
            if let Some(why) = incomplete {
                fetched.incomplete.get_or_insert(why);
            }
            if !more {
                break;
            }
            token = page.next_token;
        }
    }
    fetched.points.sort_by_key(|&(t, _)| t);
    fetched.points.dedup_by_key(|p| p.0);
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(status: &str, token: Option<&str>) -> Page {
        Page { status_code: status.into(), next_token: token.map(String::from), ..Page::default() }
    }

    #[test]
    fn a_next_token_left_at_the_page_limit_is_incomplete_not_truncated() {
        assert_eq!(after_page(&page("Complete", Some("t")), 1), (true, None));
        assert_eq!(after_page(&page("PartialData", Some("t")), 1), (true, None));
        assert_eq!(after_page(&page("Complete", None), 7), (false, None));
        let (more, why) = after_page(&page("Complete", Some("t")), MAX_PAGES);
        assert!(!more);
        assert!(why.unwrap().contains("still had a NextToken after 100 pages"));
        let (more, why) = after_page(&page("PartialData", Some("t")), MAX_PAGES);
        assert!(!more && why.is_some());
        let (more, why) = after_page(&page("Forbidden", None), 1);
        assert!(!more && why.unwrap().contains("StatusCode Forbidden"));
    }
}
