//! The data and policy the `perfcert bake` tests share (tests/bake.rs, and the keyless and S3
//! bakes in tests/keyless.rs and tests/s3.rs): series for a real Prometheus, backfilled in the
//! past so that a whole bake is judged at once.

use std::path::Path;

const STEP: i64 = 15;

/// 40 minutes of 15 s samples ending 10 minutes ago; the bake starts 5 minutes in.
pub struct Data {
    pub openmetrics: String,
    pub deployed: i64,
}

/// `latency_p95` of `steady` cycles 194..=206 around the baseline (200); `breach` is 350 (above
/// the SLO max 300) from 2 minutes after the deploy; `gappy` stops 1 minute after it (Prometheus
/// repeats a last sample for 5 minutes, so its windows are NODATA from minute 6).
pub fn data() -> Data {
    let now = jiff::Timestamp::now().as_second();
    let end = now / 60 * 60 - 600;
    let start = end - 2400;
    let deployed = start + 300;
    let mut om = String::from("# TYPE latency_p95 gauge\n");
    let mut add = |service: &str, value: &dyn Fn(i64) -> Option<f64>| {
        for t in (start..=end).step_by(STEP as usize) {
            if let Some(v) = value(t) {
                om += &format!("latency_p95{{service=\"{service}\"}} {v} {t}\n");
            }
        }
    };
    add("steady", &|t| Some(194.0 + ((t / STEP) % 13) as f64));
    add("breach", &|t| Some(if t < deployed + 120 { 200.0 } else { 350.0 }));
    add("gappy", &|t| (t < deployed + 60).then_some(200.0));
    om += "# EOF\n";
    Data { openmetrics: om, deployed }
}

pub fn setup(dir: &Path, endpoint: &str) {
    let policy = format!(
        "metrics:\n  latency_p95: {{ max_increase: 10%, max: 300, unit: ms }}\n\
         drift:\n  step: 15s\n  window: 1m\n  band: 10%\n  metrics:\n    latency_p95: {{}}\n\
         sources:\n  latency_p95:\n    prometheus: {endpoint}\n    query: 'latency_p95{{service=\"$service\"}}'\n"
    );
    std::fs::write(dir.join("perf_thresholds.yml"), policy).unwrap();
    std::fs::write(dir.join("stable.json"), "{\"metrics\": {\"latency_p95\": 200}}\n").unwrap();
}

/// `perfcert bake` of `service`'s `v1.4.2` over `d` for `duration`, polling every minute,
/// archived in `archive`; the signing flags are the caller's.
pub fn args(d: &Data, service: &str, duration: &str) -> Vec<String> {
    let deployed = d.deployed.to_string();
    ["bake", "--service", service, "--version", "v1.4.2", "--baseline", "stable.json", "--deployed-at", &deployed]
        .into_iter()
        .chain(["--duration", duration, "--poll", "1m", "--archive", "archive"])
        .map(String::from)
        .collect()
}

/// The one day directory under archive/daily (the bake's end, UTC; read, not recomputed, so that
/// a test run across midnight does not fail).
pub fn day(dir: &Path) -> String {
    let days: Vec<String> = std::fs::read_dir(dir.join("archive/daily"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(days.len(), 1, "{days:?}");
    assert!(days[0].len() == 8 && days[0].bytes().all(|b| b.is_ascii_digit()), "{days:?}");
    days[0].clone()
}

/// Asserts that `record` (a perf_verification.json) is valid under
/// schemas/verification.schema.json, its `drift` under schemas/drift-report.schema.json.
pub fn check_schema(record: &serde_json::Value) {
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(super::root().join("schemas").join(name)).unwrap()).unwrap()
    };
    let drift = read("drift-report.schema.json");
    let registry =
        jsonschema::Registry::new().add("urn:perfcert:schema:drift-report:1", &drift).unwrap().prepare().unwrap();
    let validator = jsonschema::options().with_registry(&registry).build(&read("verification.schema.json")).unwrap();
    let errors: Vec<String> = validator.iter_errors(record).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{record:#}");
}

/// Reads an archived or written record and checks it against its schema.
pub fn read_record(path: &Path) -> serde_json::Value {
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    check_schema(&record);
    record
}
