//! `perfcert badge`: a result badge from a JSON report or a certificate.

use anyhow::anyhow;
use serde_json::Value;

use crate::badge::Badge;
use crate::cli::{BadgeArgs, BadgeFormat};
use crate::compare::Verdict;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::ui::Ui;

pub fn run(args: BadgeArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let name = args.input.display().to_string();
    let text = fsutil::read_text(&args.input).map_err(Failure::input)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| Failure::input(anyhow!("{name}: not JSON: {e}")))?;
    let badge = badge_of(&value).map_err(|what| {
        Failure::input(anyhow!(
            "{name}: {what}; expected a perfcert JSON report (compare --format json) or certificate"
        ))
    })?;
    let bytes = match args.format {
        BadgeFormat::Svg => badge.svg(),
        BadgeFormat::Shields => badge.shields_json(),
    };
    match &args.output {
        Some(path) => fsutil::write_atomic(path, bytes.as_bytes())
            .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write", path, &e))))?,
        None => ui.output(|out| out.write_all(bytes.as_bytes()))?,
    }
    Ok(ExitStatus::Pass)
}

/// A report has `report_version`, `status` and `summary`; a certificate has `schema`, `status`
/// and the rows in `comparison`.
fn badge_of(value: &Value) -> Result<Badge, String> {
    let verdict = match value.get("status").and_then(Value::as_str) {
        Some("PASS") => Verdict::Pass,
        Some("FAIL") => Verdict::Fail,
        Some("INCONCLUSIVE") => Verdict::Inconclusive,
        Some(other) => return Err(format!("key `status`: expected PASS or FAIL, found `{other}`")),
        None => return Err("no `status` key".into()),
    };
    let count = |key: &'static str| {
        value.pointer(&format!("/summary/{key}")).and_then(Value::as_u64).map(|n| n as usize).ok_or(key)
    };
    if value.get("report_version").is_some() {
        let (failed, gated) = (count("failed"), count("gated"));
        return match (failed, gated) {
            (Ok(f), Ok(g)) => Ok(Badge::new(verdict, f, g)),
            (Err(key), _) | (_, Err(key)) => Err(format!("key `summary.{key}`: expected a count")),
        };
    }
    let rows = value.get("comparison").and_then(Value::as_array).ok_or("no `report_version` or `comparison` key")?;
    let status = |r: &Value| r.get("status").and_then(Value::as_str).map(str::to_string);
    let statuses: Vec<String> = rows.iter().filter_map(status).collect();
    if statuses.len() != rows.len() {
        return Err("key `comparison`: every row needs a `status`".into());
    }
    let gated = statuses.iter().filter(|s| *s != "UNTRACKED").count();
    let failed = statuses.iter().filter(|s| *s == "FAIL").count();
    Ok(Badge::new(verdict, failed, gated))
}
