//! Result badges: a self-contained SVG ("perf | PASS" green, "perf | FAIL 2/6" red, "perf |
//! INCONCLUSIVE" amber) and the
//! same badge as a shields.io endpoint JSON (<https://shields.io/badges/endpoint-badge>).
//!
//! The SVG needs nothing outside itself: no fonts, links or scripts. Text widths are estimated
//! from Verdana's advance widths and pinned with `textLength`, so the badge keeps its shape in
//! whatever sans-serif font the viewer falls back to.

use crate::compare::Verdict;
use crate::report::xml_escape;

/// What a badge says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub label: String,
    pub message: String,
    pub verdict: Verdict,
}

impl Badge {
    /// "perf | PASS", or "perf | FAIL 2/6" (failed of gated metrics).
    pub fn new(verdict: Verdict, failed: usize, gated: usize) -> Badge {
        let message = match verdict {
            Verdict::Pass => "PASS".to_string(),
            Verdict::Fail => format!("FAIL {failed}/{gated}"),
            Verdict::Inconclusive => "INCONCLUSIVE".to_string(),
        };
        Badge { label: "perf".into(), message, verdict }
    }

    /// Fill colour of the message half: shields.io's brightgreen and red.
    fn color(&self) -> (&'static str, &'static str) {
        match self.verdict {
            Verdict::Pass => ("#4c1", "brightgreen"),
            Verdict::Fail => ("#e05d44", "red"),
            // Amber: not a failure, not a pass either.
            Verdict::Inconclusive => ("#dfb317", "yellow"),
        }
    }

    /// The badge as an SVG document, 20 px high.
    pub fn svg(&self) -> String {
        const PAD: f64 = 6.0;
        let (label_text, message_text) = (text_width(&self.label), text_width(&self.message));
        let label_w = (label_text + 2.0 * PAD).round();
        let message_w = (message_text + 2.0 * PAD).round();
        let width = label_w + message_w;
        let (fill, _) = self.color();
        // Ids unique to this badge: two badges inlined in one page must not share a clip path.
        let id = match self.verdict {
            Verdict::Pass => "perfcert-pass".to_string(),
            Verdict::Fail => format!("perfcert-fail-{}", width as u32),
            Verdict::Inconclusive => "perfcert-inconclusive".to_string(),
        };
        let title = xml_escape(&format!("{}: {}", self.label, self.message));
        let label = xml_escape(&self.label);
        let message = xml_escape(&self.message);
        // Text is drawn at 10x and scaled down, for sub-pixel placement in every renderer.
        let text = |x: f64, len: f64, s: &str| {
            let (x, len) = ((x * 10.0).round(), (len * 10.0).round());
            format!(
                "<text x=\"{x}\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\" transform=\"scale(.1)\" \
                 textLength=\"{len}\" lengthAdjust=\"spacingAndGlyphs\">{s}</text>\
                 <text x=\"{x}\" y=\"140\" transform=\"scale(.1)\" textLength=\"{len}\" \
                 lengthAdjust=\"spacingAndGlyphs\">{s}</text>"
            )
        };
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"20\" role=\"img\" \
             aria-label=\"{title}\">\
             <title>{title}</title>\
             <linearGradient id=\"{id}-shine\" x2=\"0\" y2=\"100%\">\
             <stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/>\
             </linearGradient>\
             <clipPath id=\"{id}-round\"><rect width=\"{width}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
             <g clip-path=\"url(#{id}-round)\">\
             <rect width=\"{label_w}\" height=\"20\" fill=\"#555\"/>\
             <rect x=\"{label_w}\" width=\"{message_w}\" height=\"20\" fill=\"{fill}\"/>\
             <rect width=\"{width}\" height=\"20\" fill=\"url(#{id}-shine)\"/>\
             </g>\
             <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" \
             font-size=\"110\" text-rendering=\"geometricPrecision\">{}{}</g>\
             </svg>\n",
            text(label_w / 2.0, label_text, &label),
            text(label_w + message_w / 2.0, message_text, &message),
        )
    }

    /// The badge as a shields.io endpoint response.
    pub fn shields_json(&self) -> String {
        let (_, color) = self.color();
        let value = serde_json::json!({
            "schemaVersion": 1,
            "label": self.label,
            "message": self.message,
            "color": color,
        });
        format!("{value}\n")
    }
}

/// Width in pixels of `text` in Verdana at 11 px (ASCII advance widths; others as a wide glyph).
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            ' ' => 3.9,
            'i' | 'j' | 'l' | '\'' | '.' | ',' | ':' | ';' | '|' | '!' => 3.4,
            'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '/' | '-' => 4.6,
            'm' | 'w' | 'M' | 'W' | '%' => 9.6,
            'a'..='z' => 6.6,
            'A'..='Z' | '0'..='9' | '#' | '+' | '=' | '<' | '>' | '?' | '_' | '~' | '$' | '&' => 7.4,
            _ => 8.0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(Badge::new(Verdict::Pass, 0, 6).message, "PASS");
        assert_eq!(Badge::new(Verdict::Fail, 2, 6).message, "FAIL 2/6");
    }

    #[test]
    fn wider_message_makes_a_wider_badge() {
        let width = |b: &Badge| {
            let svg = b.svg();
            let start = svg.find("width=\"").unwrap() + 7;
            svg[start..].split('"').next().unwrap().parse::<f64>().unwrap()
        };
        assert!(width(&Badge::new(Verdict::Fail, 12, 16)) > width(&Badge::new(Verdict::Pass, 0, 16)));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
