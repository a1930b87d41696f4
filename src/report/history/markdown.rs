//! The `markdown` format of a history: a PR comment or `$GITHUB_STEP_SUMMARY` section
//! (GitHub-flavoured), laid out as the table is (metrics as rows, releases as columns, each cell
//! the value and its change from the previous release), then the pass/fail counts per metric
//! and the cost trend.
//!
//! Starts with a hidden marker, `<!-- perfcert:history -->`, so a workflow can find and update
//! its earlier comment.

use std::io::{self, Write};

use super::{
    HistoryRenderer, UNVERIFIED, change, change_text, cost_line, day, metric_status, not_passed, rows, status_text,
    title, value, value_text,
};
use crate::releases::History;

pub struct Markdown;

/// The marker that starts every Markdown history.
pub const MARKER: &str = "<!-- perfcert:history -->";

fn icon(status: &str) -> &'static str {
    match status {
        "PASS" => "✅",
        "FAIL" => "❌",
        "INCONCLUSIVE" => "❔",
        "WAIVED" => "⚠️",
        _ => "➖",
    }
}

/// Text safe inside a table cell: pipes escaped, newlines flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Inline code that survives any backticks in the text.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence}{}{fence}", cell(text))
}

impl HistoryRenderer for Markdown {
    fn render(&self, h: &History, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{MARKER}")?;
        writeln!(out, "### Performance history of {}", cell(&title(h)))?;
        writeln!(out)?;
        if h.releases.is_empty() {
            writeln!(out, "No releases.")?;
            return Ok(());
        }
        write!(out, "| Metric |")?;
        for r in &h.releases {
            write!(
                out,
                " {}<br>{}<br>{} {} |",
                code(&r.line.version),
                day(r),
                icon(&r.line.status),
                cell(&status_text(r))
            )?;
        }
        writeln!(out, " Pass / fail |")?;
        write!(out, "|---|")?;
        for _ in &h.releases {
            write!(out, "---:|")?;
        }
        writeln!(out, "---|")?;
        for row in rows(h) {
            write!(out, "| {} |", code(row))?;
            for r in &h.releases {
                let v = value_text(h, row, value(r, row));
                let shown = match metric_status(r, row) {
                    Some(s) if s != "PASS" => format!("{} **{}**", icon(s), cell(&v)),
                    _ => cell(&v),
                };
                match change(r, row) {
                    Some(c) => write!(out, " {shown}<br>{} |", change_text(Some(c)))?,
                    None => write!(out, " {shown} |")?,
                }
            }
            match h.counts.get(row) {
                Some(c) => {
                    let mut parts = vec![format!("✅ {}", c.pass), format!("❌ {}", c.fail)];
                    for (n, what) in [(c.inconclusive, "❔"), (c.waived, "⚠️"), (c.other, "➖")] {
                        if n > 0 {
                            parts.push(format!("{what} {n}"));
                        }
                    }
                    writeln!(out, " {} |", parts.join(" · "))?;
                }
                None => writeln!(out, " not gated |")?,
            }
        }
        writeln!(out)?;
        writeln!(out, "{}", cell(&cost_line(h)))?;
        let notes: Vec<String> = h
            .releases
            .iter()
            .flat_map(|r| {
                not_passed(r).into_iter().map(move |(status, names)| {
                    let names: Vec<String> = names.iter().map(|n| code(n)).collect();
                    format!("- {} {} **{status}**: {}", icon(status), code(&r.line.version), names.join(", "))
                })
            })
            .collect();
        if !notes.is_empty() {
            writeln!(out)?;
            for n in notes {
                writeln!(out, "{n}")?;
            }
        }
        writeln!(out)?;
        writeln!(out, "<sub>{}.</sub>", cell(&UNVERIFIED.replace("perfcert verify", "`perfcert verify`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_a_cost_line_and_what_failed() {
        let h = super::super::tests::history();
        let mut out = vec![];
        Markdown.render(&h, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(MARKER), "{text}");
        assert!(text.contains("| `v1.1.0`<br>2026-11-03<br>❌ FAIL (2 certs) |"), "{text}");
        assert!(
            text.contains("| `latency_p95_read` | 200 ms | ❌ **240 ms**<br>+20% | 204 ms<br>-15% | ✅ 2 · ❌ 1 |"),
            "{text}"
        );
        assert!(text.contains("cost per 1000 requests: 0.004 USD -> 0.0045 USD over 3 releases (+12.5%)"), "{text}");
        assert!(text.contains("- ❌ `v1.1.0` **FAIL**: `latency_p95_read`"), "{text}");
    }
}
