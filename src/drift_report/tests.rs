//! Each format on one small result, pinned; and the JSON document's shape.

use super::*;
use crate::drift::{Baseline, Inputs, Series, evaluate};

const T0: i64 = 1_796_040_000_000; // 2026-11-30T12:00:00Z

fn result() -> DriftResult {
    let yaml = "metrics:\n  p95: { max_increase: 10%, unit: ms }\ndrift:\n  window: 1m\n  ticket_after: 2\n  rollback: { metric: p95, factor: 1.5, for: 30s }\n  metrics: { p95: {}, rps: { direction: down } }\n";
    let policy = crate::policy::parse("p.yml", yaml).unwrap().drift.unwrap();
    let p95 = [100.0, 100.0, 100.0, 100.0, 160.0, 160.0, 160.0, 160.0, 120.0, 120.0, f64::NAN, 120.0];
    let series = vec![
        Series {
            metric: "p95".into(),
            baseline: Some(Baseline {
                value: 100.0,
                reference: "bake/v1.2.json".into(),
                sha256: Some("ab12".into()),
                query: Some("histogram_quantile(0.95, x)".into()),
                period_ms: Some((T0 - 3_600_000, T0)),
            }),
            samples: p95.iter().enumerate().map(|(i, &v)| (T0 + i as i64 * 15_000, v)).collect(),
            doubts: vec![],
        },
        Series { metric: "rps".into(), baseline: None, samples: vec![(T0, 5.0)], doubts: vec![] },
    ];
    evaluate(&policy, &Inputs { from_ms: T0, to_ms: T0 + 180_000, series })
}

fn render(format: Format) -> String {
    let mut out = vec![];
    format.renderer().render(&result(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn table() {
    assert_eq!(
        render(Format::Table),
        "\
drift ROLLBACK: 2026-11-30T12:00:00Z to 2026-11-30T12:03:00Z
1m windows of 15s samples, band ±10%, ticket after 2, on_no_data inconclusive

p95 (up): FAIL  baseline 100 ms  valid 3/3  breaches 2  max streak 2  ticket yes
  2 of 3 windows breach the ±10% band
  2 consecutive windows breach (ticket after 2)
  start                 end                   samples  mean  lower  upper  status
  2026-11-30T12:00:00Z  2026-11-30T12:01:00Z  4/4      100   -      110    OK
  2026-11-30T12:01:00Z  2026-11-30T12:02:00Z  4/4      160   -      110    BREACH
  2026-11-30T12:02:00Z  2026-11-30T12:03:00Z  3/4      120   -      110    BREACH

rps (down): INCONCLUSIVE  baseline -  valid 0/3  breaches 0  max streak 0  ticket no
  no baseline
  start                 end                   samples  mean  lower  upper  status
  2026-11-30T12:00:00Z  2026-11-30T12:01:00Z  1/4      -     -      -      NODATA
  2026-11-30T12:01:00Z  2026-11-30T12:02:00Z  0/4      -     -      -      NODATA
  2026-11-30T12:02:00Z  2026-11-30T12:03:00Z  0/4      -     -      -      NODATA

rollback: RAISED: p95 above 150 (x1.5 baseline) since 2026-11-30T12:01:00Z, for 30s at 2026-11-30T12:01:30Z
"
    );
}

#[test]
fn json_has_every_window_and_no_nan() {
    let text = render(Format::Json);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["drift_report_version"], 1);
    assert_eq!(doc["status"], "ROLLBACK");
    assert_eq!(doc["settings"]["window_seconds"], 60.0);
    let p95 = &doc["metrics"][0];
    assert_eq!(p95["baseline"]["ref"], "bake/v1.2.json");
    assert_eq!(p95["baseline"]["period"]["from"], "2026-11-30T11:00:00Z");
    assert_eq!(p95["ticket_at"], "2026-11-30T12:03:00Z");
    let windows = p95["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3);
    assert_eq!(
        windows[2],
        serde_json::json!({"start": "2026-11-30T12:02:00Z", "end": "2026-11-30T12:03:00Z", "samples": 3,
            "expected": 4, "mean": 120.0, "lower": 90.0, "upper": 110.0, "status": "BREACH"})
    );
    assert_eq!(doc["metrics"][1]["windows"][0]["mean"], serde_json::Value::Null);
    assert_eq!(doc["rollback"]["since"], "2026-11-30T12:01:00Z");
    assert_eq!(doc["rollback"]["raised_at"], "2026-11-30T12:01:30Z");
    assert!(!text.contains("NaN") && !text.contains("inf"));
}

#[test]
fn markdown() {
    let text = render(Format::Markdown);
    assert!(text.starts_with("## perfcert drift: ROLLBACK\n"), "{text}");
    assert!(text.contains("| p95 | up | 100 ms | 3/3 | 2 | 2 | yes, at 2026-11-30T12:03:00Z | **FAIL** | 2 of 3 windows breach the ±10% band; 2 consecutive windows breach (ticket after 2) |\n"), "{text}");
    assert!(text.contains("| rps | down | - | 0/3 | 0 | 0 | no | **INCONCLUSIVE** | no baseline |\n"), "{text}");
    assert!(text.contains("**Roll back**: every `p95` sample was above 150 (x1.5 baseline) from 2026-11-30T12:01:00Z to 2026-11-30T12:01:30Z.\n"), "{text}");
    assert!(
        text.contains("| 2026-11-30T12:02:00Z | 2026-11-30T12:03:00Z | 3/4 | 120 | - | 110 | BREACH |\n"),
        "{text}"
    );
}

#[test]
fn annotations_name_the_signal() {
    let lines = annotations(&result());
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with("::error title=perfcert drift%3A roll back (p95)::every sample above 150"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("::error title=perfcert drift%3A p95 FAIL (ticket)::baseline 100, band ±10%25; first breach 2026-11-30T12:01:00Z"), "{}", lines[1]);
    assert!(lines[2].starts_with("::warning title=perfcert drift%3A rps INCONCLUSIVE::"), "{}", lines[2]);
}

#[test]
fn durations_and_times() {
    assert_eq!([15_000, 300_000, 3_600_000, 1_500, 0].map(duration), ["15s", "5m", "1h", "1500ms", "0s"]);
    assert_eq!(time(i64::MAX), format!("@{} ms", i64::MAX));
}

#[test]
fn the_service_heads_each_format_and_bounds_show_only_the_side_that_breaches() {
    let mut r = result();
    r.service = Some("checkout".into());
    let out = |f: Format| {
        let mut out = vec![];
        f.renderer().render(&r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert!(out(Format::Table).starts_with("drift ROLLBACK (service checkout): 2026-11-30T12:00:00Z"));
    assert!(out(Format::Markdown).starts_with("## perfcert drift (service checkout): ROLLBACK\n"));
    let doc: serde_json::Value = serde_json::from_str(&out(Format::Json)).unwrap();
    assert_eq!(doc["service"], "checkout");
    let without: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
    assert!(without.get("service").is_none(), "absent when not known");
    // A down metric shows its lower bound only; no value is `-` without a unit after it.
    let w = &r.metrics[0].windows[0];
    let (lower, upper) = bounds(w, crate::policy::Direction::Down);
    assert_eq!((lower.as_str(), upper.as_str()), ("90", "-"));
    assert_eq!(bounds(w, crate::policy::Direction::Both), ("90".into(), "110".into()));
    assert_eq!(with_unit(None, Some("ms")), "-");
    assert_eq!(with_unit(Some(100.0), Some("ms")), "100 ms");
}
