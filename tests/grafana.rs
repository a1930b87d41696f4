//! `perfcert grafana`: the dashboard it prints is the one the repository ships
//! (ops/dashboards/), and it is a valid Grafana dashboard by Grafana's own types: the JSON
//! schema that ts-json-schema-generator makes from `@grafana/schema`'s dashboard model (both
//! pinned in tests/interop/package.json, installed by scripts/test.sh). No Grafana server can
//! be run here, so the queries themselves are checked by the unit tests of `perfcert::grafana`.

mod common;

use std::process::Command;

use common::{perfcert, root, text, workdir};

const SHIPPED: &str = "ops/dashboards/release-perf-certification.json";

fn printed(args: &[&str]) -> serde_json::Value {
    let dir = workdir();
    let out = perfcert(dir.path(), &[&["grafana"], args].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).expect("the dashboard is JSON")
}

#[test]
fn the_shipped_dashboard_is_what_the_command_prints() {
    let dir = workdir();
    let out = perfcert(dir.path(), &["grafana", "--datasource", "athena"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shipped = std::fs::read(root().join(SHIPPED)).unwrap();
    assert!(
        out.stdout == shipped,
        "{SHIPPED} differs from `perfcert grafana --datasource athena`: regenerate it with\n  \
         cargo run -q -- grafana --datasource athena > {SHIPPED}"
    );
}

#[test]
fn database_and_table_are_the_ones_named_and_odd_names_are_refused() {
    let d = printed(&["--datasource", "athena", "--database", "perf", "--table", "certs_idx"]);
    for panel in d["panels"].as_array().unwrap() {
        let target = &panel["targets"][0];
        assert!(target["rawSQL"].as_str().unwrap().contains("FROM \"perf\".\"certs_idx\""), "{target}");
        assert_eq!(target["connectionArgs"]["database"], "perf");
    }
    let dir = workdir();
    let out = perfcert(dir.path(), &["grafana", "--datasource", "athena", "--table", "x\"; DROP TABLE y"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("expected letters, digits and _ only"), "{}", text(&out));
    let out = perfcert(dir.path(), &["grafana", "--datasource", "prometheus"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn the_dashboard_is_valid_by_grafanas_dashboard_model() {
    let tools = common::tools(&[
        "node_modules/.bin/ts-json-schema-generator",
        "node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts",
    ]);
    let schema_file = workdir();
    let schema_path = schema_file.path().join("dashboard.schema.json");
    let out = Command::new("node")
        .arg(tools.join("node_modules/.bin/ts-json-schema-generator"))
        .arg("--path")
        .arg(tools.join("node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts"))
        .args(["--type", "Dashboard", "--no-type-check", "-o"])
        .arg(&schema_path)
        .output()
        .expect("run node");
    assert!(out.status.success(), "ts-json-schema-generator: {}", text(&out));
    let schema: serde_json::Value = serde_json::from_slice(&std::fs::read(&schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a usable schema");

    let shipped: serde_json::Value = serde_json::from_slice(&std::fs::read(root().join(SHIPPED)).unwrap()).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&shipped).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{SHIPPED} is not a Grafana dashboard:\n{}", errors.join("\n"));

    // The check can fail: a panel without its type, or a key the model does not have, is caught.
    let mut broken = shipped.clone();
    broken["panels"][0].as_object_mut().unwrap().remove("type");
    broken["schemaVersion"] = serde_json::json!("39");
    broken["panelz"] = serde_json::json!([]);
    let errors: Vec<String> = validator.iter_errors(&broken).map(|e| e.to_string()).collect();
    assert!(errors.len() >= 3, "{errors:?}");
}
