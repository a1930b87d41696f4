//! The "Release Perf Certification" Grafana dashboard of PERF-004 §8, as code (PERF-003 §6):
//! four panels over the archive's index ([`crate::index`]) queried with Athena through the
//! Amazon Athena data source plugin (`grafana-athena-datasource`). Pure: names in, dashboard
//! JSON out; `perfcert grafana` prints it and `ops/dashboards/` ships it.
//!
//! The panels: the latest certificate's current vs baseline per metric, pass/fail counts per
//! metric over the dashboard's time range, the cost per 1000 requests over time, and the
//! change from baseline of every metric over the rolling last 5 releases. The service is a
//! text variable, not a query over the table: the index table's `service` partition is
//! projected with `injected` type, which Athena only allows with the service named in the
//! WHERE clause.

use serde_json::{Value, json};

/// The Athena data source plugin's id.
pub const ATHENA_PLUGIN: &str = "grafana-athena-datasource";

/// The dashboard's stable uid, so re-importing it updates the same dashboard.
pub const UID: &str = "perfcert-release-perf";

/// Where the dashboard reads the index: an Athena database and table (docs: the index table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Athena {
    pub database: String,
    pub table: String,
}

/// Whether a name can be an Athena database or table here: letters, digits and `_` (Athena
/// lower-cases them; anything else would need quoting rules a dashboard cannot check).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Athena {
    fn table(&self) -> String {
        format!("\"{}\".\"{}\"", self.database, self.table)
    }

    /// The index lines of the dashboard's service, with `time` as a timestamp.
    fn lines(&self) -> String {
        format!(
            "SELECT *, from_iso8601_timestamp(date) AS time\n  FROM {}\n  WHERE service = ${{service:sqlstring}}",
            self.table()
        )
    }

    fn target(&self, sql: String, format: u8) -> Value {
        json!({
            "refId": "A",
            "datasource": datasource(),
            "format": format,
            "rawSQL": sql,
            "connectionArgs": { "region": "__default", "catalog": "__default", "database": self.database },
        })
    }

    /// The dashboard JSON.
    pub fn dashboard(&self) -> Value {
        const TIME_SERIES: u8 = 0;
        const TABLE: u8 = 1;
        let lines = self.lines();
        let current_vs_baseline = format!(
            "WITH latest AS (\n  {lines}\n  ORDER BY date DESC\n  LIMIT 1\n)\n\
             SELECT version, m.metric,\n  element_at(baseline, m.metric) AS baseline,\n  \
             element_at(metrics, m.metric) AS current,\n  element_at(delta, m.metric) * 100 AS delta_pct,\n  \
             m.status,\n  element_at(units, m.metric) AS unit\n\
             FROM latest CROSS JOIN UNNEST(metric_status) AS m(metric, status)\n\
             WHERE m.status <> 'UNTRACKED'\nORDER BY m.metric"
        );
        let counts = format!(
            "WITH lines AS (\n  {lines}\n)\n\
             SELECT s.metric,\n  count_if(s.status = 'PASS') AS pass,\n  count_if(s.status = 'FAIL') AS fail,\n  \
             count_if(s.status = 'INCONCLUSIVE') AS inconclusive,\n  count_if(s.status = 'WAIVED') AS waived\n\
             FROM lines CROSS JOIN UNNEST(metric_status) AS s(metric, status)\n\
             WHERE $__timeFilter(time)\nGROUP BY s.metric\nORDER BY s.metric"
        );
        let cost = format!(
            "WITH lines AS (\n  {lines}\n)\n\
             SELECT time, cost_per_1000_req\nFROM lines\n\
             WHERE $__timeFilter(time) AND cost_per_1000_req IS NOT NULL\nORDER BY time"
        );
        // A release is a version, shown by its newest certificate (as `perfcert history`).
        let rolling = format!(
            "WITH lines AS (\n  {lines}\n),\n\
             newest AS (\n  SELECT *, row_number() OVER (PARTITION BY version ORDER BY date DESC) AS n FROM lines\n),\n\
             releases AS (\n  SELECT * FROM newest WHERE n = 1 ORDER BY date DESC LIMIT 5\n)\n\
             SELECT r.time, d.metric, d.delta * 100 AS delta_pct\n\
             FROM releases r CROSS JOIN UNNEST(r.delta) AS d(metric, delta)\nORDER BY r.time, d.metric"
        );
        let panels = vec![
            panel(
                1,
                "Current vs baseline (latest certificate)",
                "table",
                (0, 0, 12, 9),
                self.target(current_vs_baseline, TABLE),
                "Every gated metric of the service's latest certificate: its baseline, current value, change from the baseline (%) and status.",
                json!({ "defaults": {}, "overrides": [
                    { "matcher": { "id": "byName", "options": "delta_pct" }, "properties": [ { "id": "unit", "value": "percent" } ] }
                ] }),
                json!({ "showHeader": true, "cellHeight": "sm" }),
            ),
            panel(
                2,
                "Pass/fail counts per metric",
                "barchart",
                (12, 0, 12, 9),
                self.target(counts, TABLE),
                "How often each metric passed, failed, was inconclusive or waived in the certificates of the time range.",
                json!({ "defaults": { "custom": { "fillOpacity": 80 } }, "overrides": [
                    { "matcher": { "id": "byName", "options": "pass" }, "properties": [ { "id": "color", "value": { "mode": "fixed", "fixedColor": "green" } } ] },
                    { "matcher": { "id": "byName", "options": "fail" }, "properties": [ { "id": "color", "value": { "mode": "fixed", "fixedColor": "red" } } ] }
                ] }),
                json!({ "stacking": "normal", "orientation": "horizontal", "xField": "metric", "showValue": "auto",
                        "legend": { "showLegend": true, "displayMode": "list", "placement": "bottom" } }),
            ),
            panel(
                3,
                "Cost efficiency trend (cost per 1000 requests)",
                "timeseries",
                (0, 9, 12, 9),
                self.target(cost, TIME_SERIES),
                "The cost per 1000 requests each certificate records, over the time range.",
                json!({ "defaults": { "custom": { "drawStyle": "line", "showPoints": "always", "pointSize": 6 }, "decimals": 4 }, "overrides": [] }),
                json!({ "legend": { "showLegend": true, "displayMode": "list", "placement": "bottom" } }),
            ),
            panel(
                4,
                "Regression history (rolling 5 releases)",
                "timeseries",
                (12, 9, 12, 9),
                self.target(rolling, TIME_SERIES),
                "Change from the baseline (%) of every metric over the service's last 5 releases (a version certified more than once is shown by its newest certificate).",
                json!({ "defaults": { "unit": "percent", "custom": { "drawStyle": "line", "showPoints": "always", "pointSize": 6 } }, "overrides": [] }),
                json!({ "legend": { "showLegend": true, "displayMode": "table", "placement": "right" } }),
            ),
        ];
        json!({
            "uid": UID,
            "title": "Release Perf Certification",
            "description": "PERF-004 §8: perfcert certificates of one service, from the archive's index (Athena). Generated by `perfcert grafana`; edit the generator, not this JSON.",
            "tags": ["perfcert", "performance", "release"],
            "editable": true,
            "graphTooltip": 0,
            "schemaVersion": 39,
            "version": 1,
            "time": { "from": "now-90d", "to": "now" },
            "timezone": "utc",
            "refresh": "",
            "links": [],
            "annotations": { "list": [] },
            "templating": { "list": [
                {
                    "name": "datasource",
                    "label": "Athena data source",
                    "type": "datasource",
                    "query": ATHENA_PLUGIN,
                    "hide": 0,
                    "multi": false,
                    "includeAll": false,
                    "skipUrlSync": false,
                    "options": [],
                },
                {
                    "name": "service",
                    "label": "Service",
                    "description": "The service whose certificates to show (the index's service partition).",
                    "type": "textbox",
                    "query": "",
                    "hide": 0,
                    "skipUrlSync": false,
                    "options": [],
                },
            ] },
            "panels": panels,
        })
    }
}

/// The data source every query uses: the dashboard's `datasource` variable.
fn datasource() -> Value {
    json!({ "type": ATHENA_PLUGIN, "uid": "${datasource}" })
}

#[allow(clippy::too_many_arguments)]
fn panel(
    id: u32,
    title: &str,
    kind: &str,
    (x, y, w, h): (u32, u32, u32, u32),
    target: Value,
    description: &str,
    field_config: Value,
    options: Value,
) -> Value {
    json!({
        "id": id,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": datasource(),
        "gridPos": { "x": x, "y": y, "w": w, "h": h },
        "targets": [target],
        "fieldConfig": field_config,
        "options": options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dashboard() -> Value {
        Athena { database: "perfcert".into(), table: "perfcert_index".into() }.dashboard()
    }

    #[test]
    fn four_panels_each_an_athena_query_of_the_service_over_the_named_table() {
        let d = dashboard();
        let panels = d["panels"].as_array().unwrap();
        let titles: Vec<&str> = panels.iter().map(|p| p["title"].as_str().unwrap()).collect();
        assert_eq!(
            titles,
            [
                "Current vs baseline (latest certificate)",
                "Pass/fail counts per metric",
                "Cost efficiency trend (cost per 1000 requests)",
                "Regression history (rolling 5 releases)"
            ]
        );
        for p in panels {
            let t = &p["targets"][0];
            let sql = t["rawSQL"].as_str().unwrap();
            assert!(sql.contains("FROM \"perfcert\".\"perfcert_index\""), "{sql}");
            assert!(sql.contains("WHERE service = ${service:sqlstring}"), "{sql}");
            assert_eq!(t["connectionArgs"]["database"], "perfcert");
            assert_eq!(t["datasource"]["type"], ATHENA_PLUGIN);
        }
        assert!(panels[3]["targets"][0]["rawSQL"].as_str().unwrap().contains("LIMIT 5"));
        // Every judged metric of the latest release, also one that FAILed by being missing (it
        // has a status but no current value).
        assert!(panels[0]["targets"][0]["rawSQL"].as_str().unwrap().contains("UNNEST(metric_status)"));
        let vars: Vec<&str> =
            d["templating"]["list"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
        assert_eq!(vars, ["datasource", "service"]);
    }

    #[test]
    fn names_are_plain_identifiers() {
        assert!(valid_name("perf_certs_2"));
        assert!(!valid_name("perf\"; DROP"));
        assert!(!valid_name(""));
        assert!(!valid_name("a.b"));
    }
}
