//! GitHub Actions' text formats: workflow-command annotations (`::error title=..::message`) and
//! the `$GITHUB_OUTPUT` file's `name=value` lines. Pure: callers decide where the text goes.
//!
//! Syntax: <https://docs.github.com/actions/reference/workflow-commands-for-github-actions>.

use crate::compare::{Comparison, Row, Status};
use crate::report::value_text;

/// An annotation's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// `::LEVEL title=TITLE::MESSAGE`, escaped so that no part can end the command early.
pub fn annotation(level: Level, title: &str, message: &str) -> String {
    format!("::{} title={}::{}", level.command(), escape_property(title), escape_data(message))
}

/// The annotations of a comparison: an error per failing metric, a warning per waived one, per
/// metric without a baseline, per inconclusive one, and per warning of the comparison.
pub fn annotations(c: &Comparison) -> Vec<String> {
    let row = |level, r: &Row| {
        let values = format!("{} -> {}", value_text(r.baseline, r), value_text(r.current, r));
        let message = format!("{values}: {}", r.reasons.join("; "));
        annotation(level, &format!("perfcert: {} {}", r.name, r.status.as_str()), &message)
    };
    let mut lines = vec![];
    for r in &c.rows {
        match r.status {
            Status::Fail => lines.push(row(Level::Error, r)),
            Status::Waived | Status::NoBaseline | Status::Inconclusive => lines.push(row(Level::Warning, r)),
            Status::Pass | Status::Untracked => {}
        }
    }
    lines.extend(c.warnings.iter().map(|w| annotation(Level::Warning, "perfcert", w)));
    lines
}

/// Escapes a message: `%`, CR and LF.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: as a message, plus `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One `$GITHUB_OUTPUT` entry: `name=value`, or for a value with a line break the
/// `name<<DELIMITER` form with a delimiter that the value does not contain.
pub fn output(name: &str, value: &str) -> String {
    if !value.contains(['\n', '\r']) {
        return format!("{name}={value}\n");
    }
    let delimiter = (0..)
        .map(|n| format!("PERFCERT_EOF_{n}"))
        .find(|d| !value.lines().any(|line| line == d))
        .expect("some delimiter is unused");
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_cannot_be_ended_early() {
        assert_eq!(
            annotation(Level::Error, "a: b, c", "50% over\nnext::line"),
            "::error title=a%3A b%2C c::50%25 over%0Anext::line"
        );
    }

    #[test]
    fn outputs() {
        assert_eq!(output("status", "PASS"), "status=PASS\n");
        assert_eq!(output("m", "a\nb"), "m<<PERFCERT_EOF_0\na\nb\nPERFCERT_EOF_0\n");
        assert_eq!(output("m", "PERFCERT_EOF_0\nx"), "m<<PERFCERT_EOF_1\nPERFCERT_EOF_0\nx\nPERFCERT_EOF_1\n");
    }
}
