//! Reads a service's spend over whole days from Cost Explorer: `GetCostAndUsage` signed for
//! service `ce` in us-east-1 (Cost Explorer's one region), following `NextPageToken` (bounded).
//! The endpoint is `AWS_ENDPOINT_URL_COST_EXPLORER`, else `AWS_ENDPOINT_URL`, else
//! `https://ce.us-east-1.amazonaws.com`.

use super::{CONTENT_TYPE, Page, ResponseError, TARGET, parse_response, request_body};
use crate::policy::ExplorerFilter;
use crate::prometheus::client::{AwsPost, Client};
use crate::redact;

const MAX_PAGES: usize = 50;

/// The spend over the days: amount, currency, days answered, days marked estimated.
pub type Spend = Page;

/// Why the spend could not be read: the message, and whether the request was refused as written.
#[derive(Debug)]
pub struct FetchError {
    pub message: String,
    pub bad_request: bool,
}

pub fn endpoint() -> String {
    crate::aws::endpoint(
        &["AWS_ENDPOINT_URL_COST_EXPLORER", "AWS_ENDPOINT_URL"],
        |name| std::env::var(name).ok(),
        || "https://ce.us-east-1.amazonaws.com".into(),
    )
}

pub fn fetch(
    client: &mut Client,
    filter: &ExplorerFilter,
    cost_metric: &str,
    start: i64,
    end: i64,
) -> Result<Spend, FetchError> {
    let url = endpoint();
    let mut spend = Spend::default();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let body = request_body(filter, cost_metric, start, end, token.as_deref());
        let request = AwsPost {
            url: &url,
            content_type: CONTENT_TYPE,
            target: TARGET,
            body: &body,
            service: "ce",
            region: "us-east-1",
        };
        let (status, text) = client
            .post_aws(&request)
            .map_err(|why| FetchError { message: format!("{url}: GetCostAndUsage: {why}"), bad_request: false })?;
        let page = parse_response(status, &text, cost_metric).map_err(|e: ResponseError| FetchError {
            bad_request: e.is_bad_request(),
            message: format!("{url}: GetCostAndUsage: {}", redact::text(&e)),
        })?;
        if let (Some(a), Some(b)) = (&spend.unit, &page.unit)
            && a != b
        {
            return Err(FetchError { message: format!("{url}: amounts in {a} and {b}"), bad_request: false });
        }
        spend.amount += page.amount;
        spend.days += page.days;
        spend.unit = spend.unit.take().or(page.unit);
        spend.estimated.extend(page.estimated);
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(spend),
        }
    }
    Err(FetchError {
        message: format!("{url}: GetCostAndUsage: still paging after {MAX_PAGES} pages"),
        bad_request: false,
    })
}
