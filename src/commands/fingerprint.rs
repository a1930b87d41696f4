//! `perfcert fingerprint`: write a fingerprint sidecar (how a run was made: the script's sha256,
//! the tool and its version, the load profile, the testbed) to join to the run with `+`. Each
//! value is checked by the rules compare reads the file with ([`crate::fingerprint`]).

use anyhow::anyhow;
use serde_json::{Map, Value};

use crate::cli::FingerprintArgs;
use crate::exit::{ExitStatus, Failure};
use crate::fingerprint::{Given, KEYS, Kind, key, normalize};
use crate::fsutil;
use crate::signing;
use crate::ui::Ui;

pub fn run(args: FingerprintArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let script = match &args.script {
        Some(path) => Some(
            signing::sha256_file(path)
                .map_err(|e| Failure::input(anyhow!("--script: {}", fsutil::cannot("read", path, &e))))?,
        ),
        None => None,
    };
    fn text(v: &Option<String>) -> Option<Given<'_>> {
        v.as_deref().map(Given::Text)
    }
    let number = |v: Option<f64>| v.map(Given::Number);
    let given: [(&str, Option<Given>); 10] = [
        ("tool", text(&args.tool)),
        ("tool_version", text(&args.tool_version)),
        ("script_sha256", script.as_deref().map(Given::Text)),
        ("scenarios", text(&args.scenarios)),
        ("vus_max", number(args.vus_max)),
        ("users", number(args.users)),
        ("spawn_rate", number(args.spawn_rate)),
        ("rate", number(args.rate)),
        ("duration", text(&args.duration)),
        ("testbed", text(&args.testbed)),
    ];
    let mut fields = Map::new();
    for (name, value) in given {
        let Some(value) = value else { continue };
        let k = key(name).expect("every flag is a fingerprint key");
        let normal = normalize(k, value)
            .map_err(|why| Failure::input(anyhow!("--{}: {why} ({})", name.replace('_', "-"), k.help)))?;
        // Numbers stay numbers, as the reader expects them.
        let json = match k.kind {
            Kind::Count => normal.parse::<u64>().map(Value::from).unwrap_or(Value::String(normal)),
            Kind::Rate => normal.parse::<f64>().map(Value::from).unwrap_or(Value::String(normal)),
            _ => Value::String(normal),
        };
        fields.insert(name.to_string(), json);
    }
    if fields.is_empty() {
        return Err(Failure::input(anyhow!(
            "nothing to record: give at least one of --script, {}",
            KEYS.iter()
                .filter(|k| k.name != "script_sha256")
                .map(|k| format!("--{}", k.name.replace('_', "-")))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // serde_json's Map is sorted by key; write the catalogue's order instead.
    let ordered: Vec<(String, Value)> =
        KEYS.iter().filter_map(|k| fields.get(k.name).map(|v| (k.name.to_string(), v.clone()))).collect();
    let mut out = String::from("{\n  \"fingerprint\": {\n");
    for (i, (name, value)) in ordered.iter().enumerate() {
        let comma = if i + 1 < ordered.len() { "," } else { "" };
        out.push_str(&format!("    {}: {value}{comma}\n", Value::String(name.clone())));
    }
    out.push_str("  }\n}\n");
    match &args.output {
        Some(path) => fsutil::write_atomic(path, out.as_bytes())
            .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write", path, &e))))?,
        None => ui.output(|w| w.write_all(out.as_bytes()))?,
    }
    Ok(ExitStatus::Pass)
}
