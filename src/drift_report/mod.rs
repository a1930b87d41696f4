//! Renderers of a drift evaluation ([`crate::drift::DriftResult`]): one file per format, each
//! behind [`DriftRenderer`], writing to a writer it is given. They format a finished result;
//! they decide nothing, read no clock and never print a NaN or an infinity (the result holds
//! none: absent values are written `-` or `null`).
//!
//! - [`Table`]: aligned text for people;
//! - [`Json`]: the documented machine-readable document (`docs/drift.md`), every window;
//! - [`Markdown`]: a job summary or PR comment;
//! - [`annotations`]: GitHub Actions workflow-command annotations (via [`crate::github`]).

mod github;
mod json;
mod markdown;
mod table;

use std::io::{self, Write};

use crate::drift::DriftResult;
use crate::numfmt;

pub use github::annotations;
pub use json::{DRIFT_REPORT_VERSION, Json};
pub use markdown::Markdown;
pub use table::Table;

/// The drift output formats, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Table, Format::Json, Format::Markdown];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }

    pub fn renderer(self) -> Box<dyn DriftRenderer> {
        match self {
            Format::Table => Box::new(Table),
            Format::Json => Box::new(Json),
            Format::Markdown => Box::new(Markdown),
        }
    }
}

/// One output format of a drift result.
pub trait DriftRenderer {
    fn render(&self, result: &DriftResult, out: &mut dyn Write) -> io::Result<()>;
}

/// Unix milliseconds as RFC 3339 UTC (`2026-11-30T12:00:00Z`); out of jiff's range, `@MS ms`.
pub fn time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_string(),
        Err(_) => format!("@{ms} ms"),
    }
}

/// A duration in milliseconds the way the policy writes it: `15s`, `5m`, `1h`, `1500ms`.
pub fn duration(ms: i64) -> String {
    match ms {
        ms if ms % 3_600_000 == 0 && ms != 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 && ms != 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

/// A value that may be absent: the number, or `-`.
fn value(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map(numfmt::num).unwrap_or_else(|| "-".into())
}

/// A value followed by its unit, or `-` alone when there is no value.
fn with_unit(v: Option<f64>, unit: Option<&str>) -> String {
    match (value(v), unit) {
        (text, Some(unit)) if text != "-" => format!("{text} {unit}"),
        (text, _) => text,
    }
}

/// A window's bounds as the tables show them: only the one that can breach for `direction`
/// (`up` breaches above the upper bound only), the other `-`.
fn bounds(w: &crate::drift::Window, direction: crate::policy::Direction) -> (String, String) {
    use crate::policy::Direction;
    let lower = if direction == Direction::Up { None } else { w.lower };
    let upper = if direction == Direction::Down { None } else { w.upper };
    (value(lower), value(upper))
}

/// ` (service NAME)` when the result names one, for the headers.
fn of_service(r: &DriftResult) -> String {
    r.service.as_deref().map(|s| format!(" (service {s})")).unwrap_or_default()
}

/// The band as people write it: `10%`.
fn band(fraction: f64) -> String {
    format!("{}%", numfmt::num(fraction * 100.0))
}

#[cfg(test)]
mod tests;
