//! AWS Cost Explorer `GetCostAndUsage` (AWS JSON 1.1): the request for a service's daily spend
//! over whole UTC days, its answer summed, and the actual cost per 1000 requests set beside the
//! estimate (`perfcert drift --cost-explorer`; never in a bake: Cost Explorer lags by up to a
//! day).
//!
//! This module is pure: no network, no clock, no printing; [`client`] sends the requests.
//! Amounts come as decimal strings; a day marked `Estimated` is said, not hidden.

pub mod client;

use std::fmt;

use serde::Deserialize;
use serde_json::json;

use crate::policy::ExplorerFilter;

pub const TARGET: &str = "AWSInsightsIndexService.GetCostAndUsage";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

const DAY_MS: i64 = 86_400_000;

/// The whole UTC days `[start, end)` (unix ms, midnights) that `[from, to)` touches.
pub fn days(from: i64, to: i64) -> (i64, i64) {
    let start = from.div_euclid(DAY_MS) * DAY_MS;
    let end = (to - 1).div_euclid(DAY_MS) * DAY_MS + DAY_MS;
    (start, end.max(start + DAY_MS))
}

fn date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// The request body: DAILY `cost_metric` over the days `[start, end)`, filtered to the service
/// (`$service` in a tag value already replaced), after `token`.
pub fn request_body(filter: &ExplorerFilter, cost_metric: &str, start: i64, end: i64, token: Option<&str>) -> String {
    let filter = match filter {
        ExplorerFilter::Tag { key, value } => {
            json!({"Tags": {"Key": key, "Values": [value], "MatchOptions": ["EQUALS"]}})
        }
        ExplorerFilter::Service(name) => json!({"Dimensions": {"Key": "SERVICE", "Values": [name]}}),
    };
    let mut body = json!({
        "TimePeriod": {"Start": date(start), "End": date(end)},
        "Granularity": "DAILY",
        "Metrics": [cost_metric],
        "Filter": filter,
    });
    if let Some(token) = token {
        body["NextPageToken"] = json!(token);
    }
    body.to_string()
}

/// One page: the spend it reports, its currency, the days marked estimated, the next token.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub amount: f64,
    pub unit: Option<String>,
    pub days: usize,
    pub estimated: Vec<String>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseError {
    Service { status: u16, code: String, message: String },
    Malformed(String),
}

impl ResponseError {
    /// Whether Cost Explorer refused the request as the policy wrote it.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, ResponseError::Service { status: 400, code, .. } if code.starts_with("Validation") || code.starts_with("InvalidNextToken"))
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Service { status, code, message } => write!(f, "HTTP {status}, {code}: {message}"),
            ResponseError::Malformed(why) => write!(f, "not a GetCostAndUsage answer: {why}"),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    results_by_time: Vec<ByTime>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ByTime {
    time_period: Option<Period>,
    #[serde(default)]
    total: std::collections::HashMap<String, Amount>,
    #[serde(default)]
    estimated: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Period {
    start: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Amount {
    amount: String,
    unit: Option<String>,
}

/// Parses an answer to [`request_body`], reading `cost_metric` from each day's `Total`.
pub fn parse_response(status: u16, body: &str, cost_metric: &str) -> Result<Page, ResponseError> {
    if !(200..300).contains(&status) {
        let (code, message) = crate::aws::error_fields(body);
        return Err(ResponseError::Service {
            status,
            code: code.unwrap_or_else(|| "error".into()),
            message: message.unwrap_or_else(|| body.chars().take(300).collect()),
        });
    }
    let answer: Answer = serde_json::from_str(body).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    let mut page = Page { next_token: answer.next_page_token.filter(|t| !t.is_empty()), ..Page::default() };
    for day in &answer.results_by_time {
        let start = day.time_period.as_ref().map(|p| p.start.clone()).unwrap_or_default();
        let Some(a) = day.total.get(cost_metric) else {
            return Err(ResponseError::Malformed(format!("the day {start} has no Total.{cost_metric}")));
        };
        let amount: f64 = a
            .amount
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| ResponseError::Malformed(format!("amount `{}` of {start} is not a number", a.amount)))?;
        if let (Some(unit), Some(seen)) = (&a.unit, &page.unit)
            && unit != seen
        {
            return Err(ResponseError::Malformed(format!("amounts in {seen} and {unit}")));
        }
        page.unit = page.unit.take().or_else(|| a.unit.clone());
        page.amount += amount;
        page.days += 1;
        if day.estimated {
            page.estimated.push(start);
        }
    }
    Ok(page)
}

/// The actual cost per 1000 requests beside the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciliation {
    pub actual_per_1000: f64,
    pub estimate_per_1000: f64,
    /// (actual − estimate) / estimate.
    pub difference: f64,
    /// Whether |difference| is above the tolerance.
    pub flagged: bool,
}

/// `cost` over `requests` per 1000, against `estimate`; `Err` with the reason when either side
/// cannot be compared (no requests, a zero estimate, not finite).
pub fn reconcile(cost: f64, requests: f64, estimate: f64, tolerance: f64) -> Result<Reconciliation, String> {
    if requests.is_nan() || requests < 1.0 {
        return Err(format!("{requests} requests over the days; a cost per request needs at least one"));
    }
    if !(estimate > 0.0 && estimate.is_finite()) {
        return Err(format!("the estimate is {estimate}; a relative difference needs one above 0"));
    }
    let actual = cost / requests * 1000.0;
    let difference = (actual - estimate) / estimate;
    if !actual.is_finite() || !difference.is_finite() {
        return Err(format!("the actual cost per 1000 requests is not a finite number ({cost} / {requests})"));
    }
    Ok(Reconciliation {
        actual_per_1000: actual,
        estimate_per_1000: estimate,
        difference,
        flagged: difference.abs() > tolerance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_utc_days() {
        let day = DAY_MS;
        assert_eq!(days(10 * day, 11 * day), (10 * day, 11 * day));
        assert_eq!(days(10 * day + 5, 10 * day + 3_600_000), (10 * day, 11 * day));
        assert_eq!(days(10 * day - 1, 11 * day + 1), (9 * day, 12 * day));
    }

    #[test]
    fn the_request_filters_one_service_per_day() {
        let tag = ExplorerFilter::Tag { key: "service".into(), value: "api".into() };
        let body: serde_json::Value = serde_json::from_str(&request_body(
            &tag,
            "UnblendedCost",
            1_796_000_000_000 / DAY_MS * DAY_MS,
            1_796_000_000_000 / DAY_MS * DAY_MS + DAY_MS,
            None,
        ))
        .unwrap();
        assert_eq!(body["TimePeriod"], json!({"Start": "2026-11-30", "End": "2026-12-01"}));
        assert_eq!(body["Filter"]["Tags"], json!({"Key": "service", "Values": ["api"], "MatchOptions": ["EQUALS"]}));
        assert_eq!((body["Granularity"].as_str(), body["Metrics"][0].as_str()), (Some("DAILY"), Some("UnblendedCost")));
        let svc: serde_json::Value = serde_json::from_str(&request_body(
            &ExplorerFilter::Service("Amazon ECS".into()),
            "BlendedCost",
            0,
            DAY_MS,
            Some("t"),
        ))
        .unwrap();
        assert_eq!(svc["Filter"]["Dimensions"]["Key"], "SERVICE");
        assert_eq!(svc["NextPageToken"], "t");
    }

    #[test]
    fn sums_the_days_and_says_which_are_estimated() {
        let page = parse_response(
            200,
            r#"{"ResultsByTime": [
                {"TimePeriod": {"Start": "2026-11-28", "End": "2026-11-29"}, "Total": {"UnblendedCost": {"Amount": "1.25", "Unit": "USD"}}, "Estimated": false},
                {"TimePeriod": {"Start": "2026-11-29", "End": "2026-11-30"}, "Total": {"UnblendedCost": {"Amount": "0.75", "Unit": "USD"}}, "Estimated": true}],
               "NextPageToken": "n"}"#,
            "UnblendedCost",
        )
        .unwrap();
        assert_eq!((page.amount, page.days, page.unit.as_deref()), (2.0, 2, Some("USD")));
        assert_eq!(page.estimated, ["2026-11-29"]);
        assert_eq!(page.next_token.as_deref(), Some("n"));
        let e = parse_response(200, r#"{"ResultsByTime": [{"Total": {}}]}"#, "UnblendedCost").unwrap_err();
        assert!(e.to_string().contains("has no Total.UnblendedCost"), "{e}");
        let e = parse_response(400, r#"{"__type":"ValidationException","message":"bad date"}"#, "UnblendedCost")
            .unwrap_err();
        assert!(e.is_bad_request());
        assert_eq!(e.to_string(), "HTTP 400, ValidationException: bad date");
    }

    #[test]
    fn reconciliation_by_hand() {
        // 12.5 USD over 1,000,000 requests: 0.0125 per 1000; estimate 0.01: +25%.
        let r = reconcile(12.5, 1e6, 0.01, 0.2).unwrap();
        assert!((r.actual_per_1000 - 0.0125).abs() < 1e-15);
        assert!((r.difference - 0.25).abs() < 1e-12);
        assert!(r.flagged);
        assert!(!reconcile(12.5, 1e6, 0.0125, 0.2).unwrap().flagged);
        assert!(!reconcile(9.0, 1e6, 0.01, 0.2).unwrap().flagged, "-10% is within 20%");
        assert!(reconcile(1.0, 0.0, 0.01, 0.2).unwrap_err().contains("0 requests"));
        assert!(reconcile(1.0, 10.0, 0.0, 0.2).unwrap_err().contains("estimate is 0"));
        assert!(reconcile(f64::MAX, 1.0, 1.0, 0.2).is_err());
    }
}
