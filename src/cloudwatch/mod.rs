//! CloudWatch `GetMetricData` (AWS JSON 1.0 protocol): the request body for one metric's
//! statistic over a range, its answer parsed into datapoints, and the range cut into requests
//! CloudWatch accepts.
//!
//! This module is pure: no network, no clock, no printing. [`client`] sends the requests (signed
//! for service `monitoring`) and follows `NextToken`. Periods without data are absent from an
//! answer, never zero; a result whose `StatusCode` is not `Complete` is said, not hidden.

pub mod client;

use std::fmt;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::policy::CloudWatchMetric;

/// The `X-Amz-Target` of the operation.
pub const TARGET: &str = "GraniteServiceVersion20100801.GetMetricData";
/// The JSON 1.0 content type CloudWatch (and moto) accept besides the query protocol.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// Most datapoints asked for in one request: CloudWatch returns at most 100,800 per call.
pub const MAX_POINTS: i64 = 100_000;

/// The body of a `GetMetricData` request for `metric` over `[start, end)` (unix milliseconds,
/// whole seconds) at `period_ms`, oldest first, continuing after `next_token`.
pub fn request_body(
    metric: &CloudWatchMetric,
    period_ms: i64,
    start: i64,
    end: i64,
    next_token: Option<&str>,
) -> String {
    let dimensions: Vec<Value> = metric.dimensions.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect();
    let mut body = json!({
        "MetricDataQueries": [{
            "Id": "m0",
            "MetricStat": {
                "Metric": {"Namespace": metric.namespace, "MetricName": metric.metric_name, "Dimensions": dimensions},
                "Period": period_ms / 1000,
                "Stat": metric.stat,
            },
            "ReturnData": true,
        }],
        "StartTime": start / 1000,
        "EndTime": end / 1000,
        "ScanBy": "TimestampAscending",
        "MaxDatapoints": MAX_POINTS,
    });
    if let Some(token) = next_token {
        body["NextToken"] = json!(token);
    }
    body.to_string()
}

/// One answer: the datapoints of the metric (unix milliseconds, value), its `StatusCode` and
/// messages, and the token of the next page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub points: Vec<(i64, f64)>,
    pub status_code: String,
    pub messages: Vec<String>,
    pub next_token: Option<String>,
}

/// What an answer said instead of datapoints.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseError {
    /// An AWS error: HTTP status, the error code (`InvalidParameterValue`, `AccessDenied`, ...)
    /// and its message.
    Service { status: u16, code: String, message: String },
    /// A 2xx body that is not a `GetMetricData` answer.
    Malformed(String),
}

impl ResponseError {
    /// Whether CloudWatch refused the request as written (a policy mistake: a bad statistic,
    /// period or dimension), not the credentials or the service.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, ResponseError::Service { status: 400, code, .. }
            if ["InvalidParameterValue", "InvalidParameterCombination", "MissingParameter", "ValidationError",
                "InvalidNextToken"].contains(&code.as_str()))
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Service { status, code, message } if message.is_empty() => {
                write!(f, "HTTP {status}, {code}")
            }
            ResponseError::Service { status, code, message } => write!(f, "HTTP {status}, {code}: {message}"),
            ResponseError::Malformed(why) => write!(f, "not a GetMetricData answer: {why}"),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    metric_data_results: Vec<Result_>,
    next_token: Option<String>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Result_ {
    id: String,
    #[serde(default)]
    timestamps: Vec<Value>,
    #[serde(default)]
    values: Vec<Value>,
    status_code: Option<String>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Message {
    code: Option<String>,
    value: Option<String>,
}

impl Message {
    fn text(&self) -> String {
        match (&self.code, &self.value) {
            (Some(c), Some(v)) => format!("{c}: {v}"),
            (Some(t), None) | (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }
}

/// The longest part of a remote body quoted in an error.
const BODY_QUOTE: usize = 300;

/// Parses the answer (`status`, `body`) to a request from [`request_body`].
pub fn parse_response(status: u16, body: &str) -> Result<Page, ResponseError> {
    if !(200..300).contains(&status) {
        return Err(service_error(status, body));
    }
    let answer: Answer = serde_json::from_str(body).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    let mut page = Page {
        next_token: answer.next_token.filter(|t| !t.is_empty()),
        messages: answer.messages.iter().map(Message::text).filter(|m| !m.is_empty()).collect(),
        ..Page::default()
    };
    let result = match answer.metric_data_results.as_slice() {
        [] => {
            page.status_code = "Complete".into();
            return Ok(page);
        }
        [one] if one.id == "m0" => one,
        other => {
            return Err(ResponseError::Malformed(format!(
                "expected the one result `m0`, found {}",
                other.iter().map(|r| format!("`{}`", r.id)).collect::<Vec<_>>().join(", ")
            )));
        }
    };
    if result.timestamps.len() != result.values.len() {
        return Err(ResponseError::Malformed(format!(
            "{} timestamps for {} values",
            result.timestamps.len(),
            result.values.len()
        )));
    }
    for (t, v) in result.timestamps.iter().zip(&result.values) {
        let t = timestamp(t).ok_or_else(|| ResponseError::Malformed(format!("timestamp {t} is not a time")))?;
        let v = v.as_f64().ok_or_else(|| ResponseError::Malformed(format!("value {v} is not a number")))?;
        page.points.push((t, v));
    }
    page.status_code = result.status_code.clone().unwrap_or_else(|| "Complete".into());
    page.messages.extend(result.messages.iter().map(Message::text).filter(|m| !m.is_empty()));
    Ok(page)
}

/// Epoch seconds (the JSON protocol's timestamps) or an RFC 3339 string, as unix milliseconds.
fn timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            let ms = (n.as_f64()? * 1000.0).round();
            (ms.is_finite() && ms.abs() < 1e15).then_some(ms as i64)
        }
        Value::String(s) => s.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond()),
        _ => None,
    }
}

/// An AWS JSON error body: `{"__type": "...#Code", "message": "..."}` (or `Message`), else the
/// start of the body.
fn service_error(status: u16, body: &str) -> ResponseError {
    let (code, message) = crate::aws::error_fields(body);
    let message = match (message, serde_json::from_str::<Value>(body).is_ok()) {
        (Some(m), _) => m,
        (None, true) => String::new(),
        (None, false) => quote(body),
    };
    ResponseError::Service { status, code: code.unwrap_or_else(|| "error".into()), message }
}

fn quote(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(BODY_QUOTE) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// The whole periods of `period_ms` inside `[from, to)`, on period boundaries (as CloudWatch
/// aggregates them): `(start, end)` with `end` excluded, or `None` when not one fits.
pub fn whole_periods(from: i64, to: i64, period_ms: i64) -> Option<(i64, i64)> {
    if period_ms <= 0 {
        return None;
    }
    let start = from.div_euclid(period_ms) * period_ms + if from.rem_euclid(period_ms) == 0 { 0 } else { period_ms };
    let end = to.div_euclid(period_ms) * period_ms;
    (end > start).then_some((start, end))
}

/// `[start, end)` cut into ranges of at most [`MAX_POINTS`] periods each.
pub fn chunks(start: i64, end: i64, period_ms: i64) -> Vec<(i64, i64)> {
    let mut out = vec![];
    let mut at = start;
    while period_ms > 0 && at < end {
        let next = end.min(at + MAX_POINTS * period_ms);
        out.push((at, next));
        at = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric() -> CloudWatchMetric {
        CloudWatchMetric {
            region: "eu-west-1".into(),
            namespace: "AWS/ECS".into(),
            metric_name: "CPUUtilization".into(),
            dimensions: vec![("ClusterName".into(), "prod".into()), ("ServiceName".into(), "api".into())],
            stat: "Average".into(),
        }
    }

    #[test]
    fn the_request_names_the_metric_the_period_and_the_range_in_seconds() {
        let body: Value =
            serde_json::from_str(&request_body(&metric(), 60_000, 1_796_050_140_000, 1_796_050_740_000, Some("tok")))
                .unwrap();
        let q = &body["MetricDataQueries"][0];
        assert_eq!(q["MetricStat"]["Metric"]["Dimensions"][1], json!({"Name": "ServiceName", "Value": "api"}));
        assert_eq!((q["MetricStat"]["Period"].as_i64(), q["MetricStat"]["Stat"].as_str()), (Some(60), Some("Average")));
        assert_eq!((body["StartTime"].as_i64(), body["EndTime"].as_i64()), (Some(1_796_050_140), Some(1_796_050_740)));
        assert_eq!((body["ScanBy"].as_str(), body["NextToken"].as_str()), (Some("TimestampAscending"), Some("tok")));
    }

    #[test]
    fn parses_what_cloudwatch_and_moto_answer() {
        let page = parse_response(
            200,
            r#"{"MetricDataResults": [{"Id": "m0", "Label": "CPUUtilization Average",
                "Timestamps": [1796050440, "2026-11-30T05:40:00+00:00"], "Values": [50.0, 51.5],
                "StatusCode": "PartialData", "Messages": [{"Code": "MaxDatapoints", "Value": "more"}]}],
                "NextToken": "abc"}"#,
        )
        .unwrap();
        assert_eq!(page.points, vec![(1_796_050_440_000, 50.0), (1_796_017_200_000, 51.5)]);
        assert_eq!(page.status_code, "PartialData");
        assert_eq!(page.messages, vec!["MaxDatapoints: more"]);
        assert_eq!(page.next_token.as_deref(), Some("abc"));
        let empty = parse_response(
            200,
            r#"{"MetricDataResults": [{"Id": "m0", "Timestamps": [], "Values": [], "StatusCode": "Complete"}]}"#,
        )
        .unwrap();
        assert!(empty.points.is_empty() && empty.next_token.is_none());
    }

    #[test]
    fn errors_say_what_aws_said() {
        let e = parse_response(
            400,
            r#"{"__type":"com.amazonaws.cloudwatch#InvalidParameterValueException","message":"The parameter Period must be 60"}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "HTTP 400, InvalidParameterValueException: The parameter Period must be 60");
        let e = parse_response(400, r#"{"__type":"InvalidParameterValue","message":"bad stat"}"#).unwrap_err();
        assert!(e.is_bad_request());
        let e = parse_response(403, r#"{"__type":"AccessDeniedException","Message":"not allowed"}"#).unwrap_err();
        assert!(!e.is_bad_request());
        assert_eq!(e.to_string(), "HTTP 403, AccessDeniedException: not allowed");
        assert_eq!(
            parse_response(502, "<html>bad gateway</html>").unwrap_err().to_string(),
            "HTTP 502, error: <html>bad gateway</html>"
        );
        assert!(parse_response(200, "<html>").unwrap_err().to_string().starts_with("not a GetMetricData answer"));
        let e =
            parse_response(200, r#"{"MetricDataResults":[{"Id":"m0","Timestamps":[1,2],"Values":[1]}]}"#).unwrap_err();
        assert!(e.to_string().contains("2 timestamps for 1 values"), "{e}");
        let e =
            parse_response(200, r#"{"MetricDataResults":[{"Id":"m0","Timestamps":[1],"Values":["x"]}]}"#).unwrap_err();
        assert!(e.to_string().contains("value \"x\" is not a number"), "{e}");
    }

    #[test]
    fn whole_periods_and_chunks() {
        assert_eq!(whole_periods(60_000, 240_000, 60_000), Some((60_000, 240_000)));
        assert_eq!(whole_periods(61_000, 239_000, 60_000), Some((120_000, 180_000)));
        assert_eq!(whole_periods(61_000, 150_000, 60_000), None);
        assert_eq!(whole_periods(0, 10, 0), None);
        assert_eq!(chunks(0, 60_000 * 250_000, 60_000).len(), 3);
        assert_eq!(chunks(0, 60_000 * 250_000, 60_000)[2], (60_000 * 200_000, 60_000 * 250_000));
        assert_eq!(chunks(0, 120_000, 60_000), vec![(0, 120_000)]);
        assert!(chunks(5, 5, 60_000).is_empty());
    }
}
