//! Prometheus (and Amazon Managed Prometheus) data: the HTTP API's response envelope parsed into
//! [`Series`], and a metric's mean over a window, or why it is unavailable.
//!
//! This module is pure: no network, no clock, no printing. [`client`] is the only code that talks
//! to a Prometheus server; it hands the body it got here. Sample values come as strings
//! (`"NaN"`, `"+Inf"`, `"-Inf"` included) and timestamps as float seconds; they are kept as unix
//! milliseconds and `f64`. An unknown `resultType` or sample shape (native histograms) is an
//! error, never a guess.

pub mod client;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

pub use crate::policy::Aggregate;

/// One time series: its labels and its samples in time order, `(unix milliseconds, value)`.
/// Values may be NaN or infinite, as Prometheus sent them; [`window_mean`] decides what counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<(i64, f64)>,
}

/// What a query's response said instead of data.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseError {
    /// The Prometheus error envelope: `errorType` (`bad_data`, `execution`, `timeout`, ...) and
    /// `error`, with the HTTP status.
    Server { status: u16, error_type: String, error: String },
    /// A non-2xx answer without the envelope (a proxy, AMP's SigV4 front end): its status and
    /// the start of its body.
    Http { status: u16, body: String },
    /// A 2xx body that is not the envelope perfcert reads.
    Malformed(String),
}

impl ResponseError {
    /// Whether the query itself was refused (400 `bad_data`, 422 `execution`): the policy's
    /// PromQL is at fault, not the network.
    pub fn is_bad_query(&self) -> bool {
        matches!(self, ResponseError::Server { error_type, .. } if error_type == "bad_data" || error_type == "execution")
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Server { status, error_type, error } => write!(f, "HTTP {status}, {error_type}: {error}"),
            ResponseError::Http { status, body } if body.is_empty() => write!(f, "HTTP {status}"),
            ResponseError::Http { status, body } => write!(f, "HTTP {status}: {body}"),
            ResponseError::Malformed(why) => write!(f, "not a Prometheus API response: {why}"),
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Envelope {
    Success {
        data: Data,
        #[serde(default)]
        warnings: Vec<String>,
        #[serde(default)]
        infos: Vec<String>,
    },
    Error {
        #[serde(rename = "errorType")]
        error_type: String,
        error: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Matrix(Vec<RangeSeries>),
    Vector(Vec<InstantSample>),
    Scalar((f64, String)),
    String((f64, String)),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeSeries {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstantSample {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

/// The longest part of a remote body quoted in an error.
const BODY_QUOTE: usize = 300;

/// A successful answer: its series, and what the server said along with them. Prometheus,
/// Thanos, Cortex and AMP add `warnings` to a partial response (a store or a shard did not
/// answer, a limit was hit) and `infos` to notes on the query; both are kept, never dropped,
/// `infos` prefixed with `info: `.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub series: Vec<Series>,
    pub warnings: Vec<String>,
    /// Whether the server sent `warnings` (the answer may be partial). Decided by the field the
    /// server used, never by the text: a warning that reads `info: ...` is still a warning.
    pub partial: bool,
}

/// Parses a response (`status`, `body`) of `/api/v1/query` or `/api/v1/query_range`. A vector
/// or scalar becomes series of one sample each; a `string` result is an error (not a number).
pub fn parse_response(status: u16, body: &str) -> Result<Answer, ResponseError> {
    let envelope: Result<Envelope, _> = serde_json::from_str(body);
    match envelope {
        Ok(Envelope::Error { error_type, error }) => Err(ResponseError::Server { status, error_type, error }),
        Ok(Envelope::Success { .. }) | Err(_) if !(200..300).contains(&status) => {
            Err(ResponseError::Http { status, body: quote(body) })
        }
        Err(e) => Err(ResponseError::Malformed(e.to_string())),
        Ok(Envelope::Success { data, warnings, infos }) => {
            let mut notes: Vec<String> = warnings.iter().map(|w| quote(w)).collect();
            notes.extend(infos.iter().map(|i| format!("info: {}", quote(i))));
            Ok(Answer { series: data_series(data)?, warnings: notes, partial: !warnings.is_empty() })
        }
    }
}

fn data_series(data: Data) -> Result<Vec<Series>, ResponseError> {
    let one = |labels, (t, v): (f64, String)| -> Result<Series, ResponseError> {
        Ok(Series { labels, samples: vec![(millis(t)?, value(&v)?)] })
    };
    match data {
        Data::Matrix(all) => all
            .into_iter()
            .map(|s| {
                let samples =
                    s.values.into_iter().map(|(t, v)| Ok((millis(t)?, value(&v)?))).collect::<Result<_, _>>()?;
                Ok(Series { labels: s.metric, samples })
            })
            .collect(),
        Data::Vector(all) => all.into_iter().map(|s| one(s.metric, s.value)).collect(),
        Data::Scalar(sample) => Ok(vec![one(BTreeMap::new(), sample)?]),
        Data::String((_, text)) => {
            Err(ResponseError::Malformed(format!("the query returned a string (`{}`), not numbers", quote(&text))))
        }
    }
}

fn millis(seconds: f64) -> Result<i64, ResponseError> {
    let ms = (seconds * 1000.0).round();
    if ms.is_finite() && ms.abs() < 1e15 {
        Ok(ms as i64)
    } else {
        Err(ResponseError::Malformed(format!("timestamp {seconds} is not a time")))
    }
}

/// A sample value as Prometheus writes it: a decimal, `NaN`, `+Inf` or `-Inf`.
fn value(text: &str) -> Result<f64, ResponseError> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| ResponseError::Malformed(format!("sample value `{}` is not a number", quote(text)))),
    }
}

fn quote(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(BODY_QUOTE) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// A window `[start, end]` (unix milliseconds, both ends included, as `query_range` evaluates
/// them) sampled every `step` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Window {
    /// How many samples a complete series has in the window: one per step, both ends included.
    pub fn expected(&self) -> u64 {
        if self.step <= 0 || self.end < self.start { 0 } else { ((self.end - self.start) / self.step) as u64 + 1 }
    }
}

/// A metric's value over a window (the mean, or another [`Aggregate`] of its finite samples),
/// and how many samples there were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mean {
    pub value: f64,
    /// Finite samples inside the window (the mean's).
    pub samples: u64,
    /// Samples a complete series would have.
    pub expected: u64,
}

/// Why a metric has no value: said to the user, never turned into 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The mean over `window` of the one series a query returned: [`window_value`] with
/// [`Aggregate::Mean`].
pub fn window_mean(series: &[Series], window: Window) -> Result<Mean, Unavailable> {
    window_value(series, window, Aggregate::Mean)
}

/// The `aggregate` (mean, max, min, p95 or last) over `window` of the one series a query
/// returned. Unavailable when there is no series (no data), more than one (the query must
/// aggregate them), or fewer than half the expected samples are finite (a gappy window, or NaN /
/// ±Inf samples); samples outside the window are not counted. p95 interpolates linearly
/// between the closest ranks (`(n − 1) × 0.95`); last is the latest finite sample.
pub fn window_value(series: &[Series], window: Window, aggregate: Aggregate) -> Result<Mean, Unavailable> {
    let expected = window.expected();
    let series = match series {
        [] => return Err(Unavailable("no data: the query returned no series in the window".into())),
        [one] => one,
        many => {
            return Err(Unavailable(format!(
                "the query returned {} series; aggregate them into one (e.g. avg(...) or sum(...))",
                many.len()
            )));
        }
    };
    let mut inside: Vec<(i64, f64)> =
        series.samples.iter().copied().filter(|(t, _)| (window.start..=window.end).contains(t)).collect();
    inside.sort_by_key(|&(t, _)| t);
    let finite: Vec<f64> = inside.iter().map(|&(_, v)| v).filter(|v| v.is_finite()).collect();
    let not_finite = inside.len() - finite.len();
    let n = finite.len() as u64;
    if finite.is_empty() || 2 * n < expected {
        let mut why = format!("{n} of {expected} expected samples in the window (fewer than half)");
        if not_finite > 0 {
            why.push_str(&format!("; {not_finite} were NaN or infinite"));
        }
        return Err(Unavailable(why));
    }
    let value = match aggregate {
        Aggregate::Mean => finite.iter().sum::<f64>() / n as f64,
        Aggregate::Max => finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Aggregate::Min => finite.iter().copied().fold(f64::INFINITY, f64::min),
        Aggregate::Last => finite[finite.len() - 1],
        Aggregate::P95 => {
            let mut sorted = finite.clone();
            sorted.sort_by(f64::total_cmp);
            let rank = (sorted.len() - 1) as f64 * 0.95;
            let (lo, frac) = (rank.floor() as usize, rank.fract());
            let hi = (lo + 1).min(sorted.len() - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * frac
        }
    };
    if !value.is_finite() {
        return Err(Unavailable(format!("the samples' {} is not a finite number", aggregate.as_str())));
    }
    Ok(Mean { value, samples: n, expected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_prometheus_sends() {
        let m = parse_response(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"service":"a"},
               "values":[[1796012880,"0.19"],[1796012895.5,"NaN"],[1796012910,"+Inf"],[1796012925,"-Inf"]]}]}}"#,
        )
        .unwrap()
        .series;
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].labels["service"], "a");
        let s = &m[0].samples;
        assert_eq!(s[0], (1_796_012_880_000, 0.19));
        assert_eq!(s[1].0, 1_796_012_895_500);
        assert!(s[1].1.is_nan());
        assert_eq!(s[2].1, f64::INFINITY);
        assert_eq!(s[3].1, f64::NEG_INFINITY);

        let v = parse_response(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796016180,"NaN"]}]}}"#,
        )
        .unwrap()
        .series;
        assert!(v[0].samples[0].1.is_nan());
        let s =
            parse_response(200, r#"{"status":"success","data":{"resultType":"scalar","result":[1796016180,"2.5"]}}"#)
                .unwrap()
                .series;
        assert_eq!(s[0].samples, vec![(1_796_016_180_000, 2.5)]);
        let empty = parse_response(200, r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#).unwrap();
        assert!(empty.series.is_empty());
        assert!(empty.warnings.is_empty());
    }

    #[test]
    fn warnings_and_infos_of_a_partial_response_are_kept() {
        // Thanos / Cortex / AMP answer a partial response with success and `warnings`.
        let a = parse_response(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]]}]},
               "warnings":["store gateway 10.0.0.3: context deadline exceeded"],
               "infos":["PromQL info: metric might not be a counter"]}"#,
        )
        .unwrap();
        assert_eq!(a.series[0].samples, vec![(1000, 2.0)]);
        assert_eq!(
            a.warnings,
            ["store gateway 10.0.0.3: context deadline exceeded", "info: PromQL info: metric might not be a counter"]
        );
        assert!(a.partial);
        // Partial is the field the server used, never the text: a warning that reads like an
        // info is still a warning, and infos alone are not partial.
        let body = |field: &str| {
            format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[]}},"{field}":["info: store 2 of 3 did not answer"]}}"#
            )
        };
        assert!(parse_response(200, &body("warnings")).unwrap().partial);
        assert!(!parse_response(200, &body("infos")).unwrap().partial);
    }

    #[test]
    fn each_aggregate_by_hand() {
        // Ten samples, out of time order: the window sorts them; last is the latest in time.
        let mut s = series(&[4.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 6.0, 5.0, 10.0]);
        s[0].samples.reverse();
        let v = |a| window_value(&s, W, a).unwrap().value;
        assert_eq!(v(Aggregate::Mean), 5.5);
        assert_eq!(v(Aggregate::Max), 10.0);
        assert_eq!(v(Aggregate::Min), 1.0);
        // Sorted 1..=10: rank 9 × 0.95 = 8.55, between 9 and 10: 9.55.
        assert!((v(Aggregate::P95) - 9.55).abs() < 1e-12, "{}", v(Aggregate::P95));
        assert_eq!(v(Aggregate::Last), 10.0, "the sample at the latest time");
        // NaN samples are skipped by every aggregate; last is the latest finite one.
        let mut s = series(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, f64::NAN]);
        assert_eq!(window_value(&s, W, Aggregate::Last).unwrap().value, 9.0);
        assert_eq!(window_value(&s, W, Aggregate::Max).unwrap().value, 9.0);
        // A gappy window is unavailable whatever the aggregate.
        s[0].samples.truncate(4);
        assert!(window_value(&s, W, Aggregate::Max).is_err());
    }

    #[test]
    fn errors_say_what_the_server_said() {
        let e = parse_response(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:12: parse error: unclosed left parenthesis"}"#,
        )
        .unwrap_err();
        assert!(e.is_bad_query());
        assert_eq!(
            e.to_string(),
            r#"HTTP 400, bad_data: invalid parameter "query": 1:12: parse error: unclosed left parenthesis"#
        );
        let e = parse_response(403, r#"{"message":"The request signature we calculated does not match"}"#).unwrap_err();
        assert!(!e.is_bad_query());
        assert!(e.to_string().starts_with("HTTP 403: {\"message\""), "{e}");
        let e = parse_response(200, "<html>").unwrap_err();
        assert!(e.to_string().starts_with("not a Prometheus API response"), "{e}");
        let e = parse_response(200, r#"{"status":"success","data":{"resultType":"string","result":[1,"hi"]}}"#)
            .unwrap_err();
        assert!(e.to_string().contains("returned a string (`hi`)"), "{e}");
        // Native histograms: a shape perfcert does not read is refused, not guessed.
        let e = parse_response(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[]}]}}"#,
        )
        .unwrap_err();
        assert!(matches!(e, ResponseError::Malformed(_)), "{e}");
        let e = parse_response(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("`abc` is not a number"), "{e}");
    }

    fn series(values: &[f64]) -> Vec<Series> {
        vec![Series {
            labels: BTreeMap::new(),
            samples: values.iter().enumerate().map(|(i, &v)| (i as i64 * 15_000, v)).collect(),
        }]
    }

    const W: Window = Window { start: 0, end: 9 * 15_000, step: 15_000 };

    #[test]
    fn the_mean_of_a_complete_window() {
        let m = window_mean(&series(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]), W).unwrap();
        assert_eq!(m, Mean { value: 5.5, samples: 10, expected: 10 });
        // Samples outside the window do not count.
        let mut s = series(&[1.0; 12]);
        s[0].samples[11].1 = 1000.0;
        assert_eq!(window_mean(&s, W).unwrap().samples, 10);
    }

    #[test]
    fn half_the_samples_is_enough_fewer_is_unavailable() {
        let mut s = series(&[2.0; 10]);
        s[0].samples.truncate(5);
        assert_eq!(window_mean(&s, W).unwrap(), Mean { value: 2.0, samples: 5, expected: 10 });
        s[0].samples.truncate(4);
        assert_eq!(window_mean(&s, W).unwrap_err().0, "4 of 10 expected samples in the window (fewer than half)");
    }

    #[test]
    fn nan_and_infinity_are_never_a_value() {
        let e = window_mean(&series(&[f64::NAN; 10]), W).unwrap_err();
        assert_eq!(e.0, "0 of 10 expected samples in the window (fewer than half); 10 were NaN or infinite");
        let mut v = [3.0; 10];
        v[..6].fill(f64::INFINITY);
        assert!(window_mean(&series(&v), W).unwrap_err().0.contains("6 were NaN or infinite"));
        v[..6].fill(f64::NAN);
        v[..5].fill(3.0);
        assert_eq!(window_mean(&series(&v), W).unwrap().value, 3.0);
    }

    #[test]
    fn no_series_or_several_are_unavailable() {
        assert!(window_mean(&[], W).unwrap_err().0.starts_with("no data"));
        let two = [series(&[1.0; 10]), series(&[1.0; 10])].concat();
        assert!(window_mean(&two, W).unwrap_err().0.contains("returned 2 series"));
    }
}
