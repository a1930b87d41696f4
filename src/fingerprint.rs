//! A run's fingerprint: how it was produced (load-test tool and version, script digest, load
//! profile, testbed) as `key -> value`, and whether the runs of a comparison were produced the
//! same way.
//!
//! Owns the catalogue of keys ([`KEYS`]: what each means and how its value is written), the
//! validation of a value a person gives (a sidecar file, a flag) and the comparability check
//! ([`check`]). Readers fill only what their format records; nothing here guesses a value.
//! Pure: no I/O, no printing.

use indexmap::IndexMap;

use crate::numfmt::num;

/// A fingerprint: key to normalised value, in the order the keys were found.
pub type Fingerprint = IndexMap<String, String>;

/// What kind of value a key holds, and so how it is validated and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text, compared exactly.
    Text,
    /// A name, compared exactly in lower case (`k6`, `locust`).
    Name,
    /// A version; a leading `v` is dropped (`v1.1.0` is `1.1.0`).
    Version,
    /// 64 hexadecimal digits, compared in lower case.
    Sha256,
    /// A comma-separated set of names, compared as a set.
    Names,
    /// A whole number >= 0.
    Count,
    /// A number > 0.
    Rate,
    /// Seconds (a number, or `25s`, `1m30s`, `500ms`), written `25s`; two durations within
    /// [`DURATION_SLACK_S`] or [`DURATION_SLACK`] of each other are the same.
    Duration,
}

/// One fingerprint key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    /// What it means, for docs and errors.
    pub help: &'static str,
}

/// Every key a fingerprint may hold, in the order reports list them.
pub const KEYS: [Key; 10] = [
    Key { name: "tool", kind: Kind::Name, help: "the load-test tool: k6, locust" },
    Key {
        name: "tool_version",
        kind: Kind::Version,
        help: "its version, as `k6 version` or `locust --version` print it",
    },
    Key { name: "script_sha256", kind: Kind::Sha256, help: "sha256 of the test script: the k6 script or locustfile" },
    Key { name: "scenarios", kind: Kind::Names, help: "k6 scenario names, comma-separated" },
    Key { name: "vus_max", kind: Kind::Count, help: "the most VUs k6 allocated: the vus_max metric's max" },
    Key { name: "users", kind: Kind::Count, help: "Locust users, -u" },
    Key { name: "spawn_rate", kind: Kind::Rate, help: "Locust spawn rate, -r, users per second" },
    Key { name: "rate", kind: Kind::Rate, help: "arrival rate, iterations started per second" },
    Key { name: "duration", kind: Kind::Duration, help: "how long the test ran" },
    Key { name: "testbed", kind: Kind::Text, help: "where it ran: a label of the machines and environment" },
];

/// Durations this close (seconds) are the same run length: k6's graceful stop and Locust's
/// shutdown add up to about a second to the configured duration.
pub const DURATION_SLACK_S: f64 = 1.0;
/// Durations within this fraction of each other are the same run length.
pub const DURATION_SLACK: f64 = 0.05;

/// The key named `name`.
pub fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// The key names, for "expected one of" messages.
pub fn key_names() -> String {
    KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// A value as a person gave it: text, or a number.
#[derive(Debug, Clone, Copy)]
pub enum Given<'a> {
    Text(&'a str),
    Number(f64),
}

/// Validates and normalises a value for `key`; the error says what was expected and found.
pub fn normalize(key: &Key, given: Given) -> Result<String, String> {
    let found = match given {
        Given::Text(t) => format!("{t:?}"),
        Given::Number(n) => num(n),
    };
    let expected = |what: &str| format!("expected {what}, found {found}");
    let text = |what: &str| -> Result<String, String> {
        match given {
            Given::Text(t) if !t.trim().is_empty() && t.len() <= 200 && !t.chars().any(char::is_control) => {
                Ok(t.trim().to_string())
            }
            _ => Err(expected(what)),
        }
    };
    match key.kind {
        Kind::Text => text("a label (text of 1 to 200 characters, one line)"),
        Kind::Name => text("a name such as \"k6\"").map(|t| t.to_lowercase()),
        Kind::Version => {
            let t = text("a version such as \"1.1.0\"")?;
            Ok(t.strip_prefix('v').filter(|r| r.starts_with(|c: char| c.is_ascii_digit())).unwrap_or(&t).to_string())
        }
        Kind::Sha256 => match given {
            Given::Text(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(t.to_ascii_lowercase()),
            _ => Err(expected("a sha256 digest: 64 hexadecimal digits")),
        },
        Kind::Names => {
            let t = text("names separated by commas, such as \"browse,checkout\"")?;
            let mut names: Vec<&str> = t.split(',').map(str::trim).collect();
            if names.iter().any(|n| n.is_empty()) {
                return Err(expected("names separated by commas, such as \"browse,checkout\" (no empty name)"));
            }
            names.sort_unstable();
            names.dedup();
            Ok(names.join(","))
        }
        Kind::Count => match given {
            Given::Number(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < 1e15 => Ok(num(n)),
            _ => Err(expected("a whole number >= 0")),
        },
        Kind::Rate => match given {
            Given::Number(n) if n.is_finite() && n > 0.0 => Ok(num(n)),
            _ => Err(expected("a number > 0")),
        },
        Kind::Duration => {
            let seconds = match given {
                Given::Number(n) => Some(n),
                Given::Text(t) => parse_duration(t),
            };
            match seconds {
                Some(s) if s.is_finite() && s > 0.0 && s < 1e12 => Ok(duration_text(s)),
                _ => Err(expected("a duration: seconds > 0, or text such as \"25s\", \"1m30s\", \"500ms\"")),
            }
        }
    }
}

/// Seconds as a fingerprint writes them: `25.1s` (tenths of a second).
pub fn duration_text(seconds: f64) -> String {
    format!("{}s", num((seconds * 10.0).round() / 10.0))
}

/// `1h2m3.5s`, `500ms`, `25s`, `25` (seconds) -> seconds.
fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return Some(n);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|&i| i > 0)?;
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = [("ms", 0.001), ("h", 3600.0), ("m", 60.0), ("s", 1.0)]
            .into_iter()
            .find(|(u, _)| rest.starts_with(u))
            .map(|(u, f)| (f, u.len()))?;
        total += n * unit;
        rest = &rest[len..];
    }
    (!text.is_empty()).then_some(total)
}

/// Whether two values of `key` say the runs were produced the same way.
pub fn same(key: &str, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match self::key(key).map(|k| k.kind) {
        Some(Kind::Duration) => match (parse_duration(a), parse_duration(b)) {
            (Some(a), Some(b)) => (a - b).abs() <= DURATION_SLACK_S.max(DURATION_SLACK * a.max(b)),
            _ => false,
        },
        _ => false,
    }
}

/// One run of a side as the check sees it: how it is named (its files) and its fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct RunPrint<'a> {
    pub label: &'a str,
    pub fingerprint: &'a Fingerprint,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Runs were not produced the same way: a warning, or a refusal under `comparability: refuse`.
    Difference,
    /// A key only some runs have: what could not be checked.
    Note,
}

/// One thing the check found, as a sentence naming the key, the values and the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

/// Compares the fingerprints of every run of both sides, key by key. Differences between the
/// sides, and between the runs of one side, are [`Severity::Difference`]; a key that some runs
/// have and others lack is a [`Severity::Note`] (it could not be checked). No keys, no findings.
pub fn check(baseline: &[RunPrint], current: &[RunPrint]) -> Vec<Finding> {
    let mut keys: Vec<&str> = vec![];
    for run in baseline.iter().chain(current) {
        for k in run.fingerprint.keys() {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    keys.sort_by_key(|k| KEYS.iter().position(|known| known.name == *k).unwrap_or(KEYS.len()));
    let mut out = vec![];
    let mut missing: [Vec<&str>; 2] = [vec![], vec![]];
    for key in keys {
        let sides = [Side::new("baseline", baseline, key), Side::new("current", current, key)];
        for side in &sides {
            if let Some(message) = side.within_difference(key) {
                out.push(Finding { severity: Severity::Difference, message });
            }
        }
        let [b, c] = &sides;
        match (b.values.is_empty(), c.values.is_empty()) {
            (false, false) => {
                let differ = b.values.iter().any(|(_, bv)| c.values.iter().any(|(_, cv)| !same(key, bv, cv)));
                if differ {
                    out.push(Finding {
                        severity: Severity::Difference,
                        message: format!(
                            "baseline and current were not produced the same way: {key} is {} and {}",
                            b.describe(),
                            c.describe()
                        ),
                    });
                }
            }
            (true, false) => missing[0].push(key),
            (false, true) => missing[1].push(key),
            (true, true) => {}
        }
        for side in &sides {
            if let Some(message) = side.partly_missing(key) {
                out.push(Finding { severity: Severity::Note, message });
            }
        }
    }
    for (i, (name, other)) in [("baseline", "current"), ("current", "baseline")].into_iter().enumerate() {
        let keys = &missing[i];
        if keys.is_empty() {
            continue;
        }
        let (it, has) = if keys.len() == 1 { ("it", "side has it") } else { ("them", "side has them") };
        let runs = if [baseline, current][i].len() > 1 { "runs have" } else { "run has" };
        out.push(Finding {
            severity: Severity::Note,
            message: format!(
                "the {name} {runs} no {} (the {other} {has}); comparability not checked for {it}",
                keys.join(", ")
            ),
        });
    }
    out
}

/// One side's runs and their values of one key.
struct Side<'a> {
    name: &'static str,
    runs: usize,
    /// (1-based run, label) of the runs without the key.
    without: Vec<(usize, &'a str)>,
    /// ((1-based run, label), value) of the runs with it.
    values: Vec<((usize, &'a str), &'a str)>,
}

impl<'a> Side<'a> {
    fn new(name: &'static str, runs: &[RunPrint<'a>], key: &str) -> Side<'a> {
        let mut side = Side { name, runs: runs.len(), without: vec![], values: vec![] };
        for (i, run) in runs.iter().enumerate() {
            match run.fingerprint.get(key) {
                Some(v) => side.values.push(((i + 1, run.label), v.as_str())),
                None => side.without.push((i + 1, run.label)),
            }
        }
        side
    }

    /// `10 in the baseline (a.json)`, `10 in all 3 current runs`, or each run's value.
    fn describe(&self) -> String {
        let first = self.values[0].1;
        if let [((i, label), value)] = self.values.as_slice() {
            let which =
                if self.runs == 1 { format!("the {} run", self.name) } else { format!("{} run {i}", self.name) };
            return format!("{value} in {which} ({label})");
        }
        if self.values.iter().all(|(_, v)| *v == first) {
            return format!("{first} in {} {} runs", self.all(), self.name);
        }
        self.values
            .iter()
            .map(|((i, label), v)| format!("{v} in {} run {i} ({label})", self.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn all(&self) -> String {
        match (self.values.len(), self.runs) {
            (2, 2) => "both".into(),
            (n, runs) if n == runs => format!("all {runs}"),
            (n, _) => n.to_string(),
        }
    }

    fn within_difference(&self, key: &str) -> Option<String> {
        let (first, rest) = self.values.split_first()?;
        if rest.iter().all(|(_, v)| same(key, first.1, v)) {
            return None;
        }
        let each: Vec<String> = self.values.iter().map(|((i, label), v)| format!("{v} in run {i} ({label})")).collect();
        Some(format!("the {} runs were not produced the same way: {key} is {}", self.name, each.join(", ")))
    }

    fn partly_missing(&self, key: &str) -> Option<String> {
        if self.values.is_empty() || self.without.is_empty() {
            return None;
        }
        let runs: Vec<String> = self.without.iter().map(|(i, label)| format!("run {i} ({label})")).collect();
        Some(format!(
            "{} {} {} no {key}; comparability not checked for it there",
            self.name,
            runs.join(", "),
            if runs.len() == 1 { "has" } else { "have" }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(pairs: &[(&str, &str)]) -> Fingerprint {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn run<'a>(label: &'a str, f: &'a Fingerprint) -> RunPrint<'a> {
        RunPrint { label, fingerprint: f }
    }

    #[test]
    fn values_are_validated_and_normalised() {
        let k = |n| key(n).unwrap();
        assert_eq!(normalize(k("tool"), Given::Text("K6")).unwrap(), "k6");
        assert_eq!(normalize(k("tool_version"), Given::Text("v1.1.0")).unwrap(), "1.1.0");
        assert_eq!(normalize(k("scenarios"), Given::Text("write, browse,browse")).unwrap(), "browse,write");
        assert_eq!(normalize(k("duration"), Given::Text("1m30s")).unwrap(), "90s");
        assert_eq!(normalize(k("duration"), Given::Number(25.114)).unwrap(), "25.1s");
        assert_eq!(normalize(k("duration"), Given::Text("500ms")).unwrap(), "0.5s");
        assert_eq!(normalize(k("vus_max"), Given::Number(10.0)).unwrap(), "10");
        let sha = "AB".repeat(32);
        assert_eq!(normalize(k("script_sha256"), Given::Text(&sha)).unwrap(), "ab".repeat(32));
        assert!(normalize(k("vus_max"), Given::Number(1.5)).unwrap_err().contains("expected a whole number >= 0"));
        assert!(normalize(k("vus_max"), Given::Text("10")).unwrap_err().contains("found \"10\""));
        assert!(normalize(k("script_sha256"), Given::Text("abc")).unwrap_err().contains("64 hexadecimal"));
        assert!(normalize(k("duration"), Given::Text("25x")).is_err());
        assert!(normalize(k("testbed"), Given::Text(" ")).is_err());
        assert!(normalize(k("rate"), Given::Number(0.0)).is_err());
    }

    #[test]
    fn durations_within_the_slack_are_the_same() {
        assert!(same("duration", "25.1s", "25.2s"));
        assert!(same("duration", "600s", "625s"));
        assert!(!same("duration", "25s", "55s"));
        assert!(!same("vus_max", "10", "11"));
    }

    #[test]
    fn equal_fingerprints_give_no_findings() {
        let a = fp(&[("tool", "k6"), ("vus_max", "10")]);
        assert!(check(&[run("a.json", &a)], &[run("b.json", &a.clone())]).is_empty());
        assert!(check(&[run("a.json", &Fingerprint::new())], &[run("b.json", &Fingerprint::new())]).is_empty());
    }

    #[test]
    fn a_difference_names_the_key_both_values_and_the_runs() {
        let a = fp(&[("tool", "k6")]);
        let b = fp(&[("tool", "locust")]);
        let found = check(&[run("a.json", &a)], &[run("b.json", &b)]);
        assert_eq!(
            found,
            [Finding {
                severity: Severity::Difference,
                message: "baseline and current were not produced the same way: tool is k6 in the baseline run \
                          (a.json) and locust in the current run (b.json)"
                    .into()
            }]
        );
    }

    #[test]
    fn runs_of_one_side_that_differ_are_found_and_keys_one_side_lacks_are_noted() {
        let (a, b, c) = (fp(&[("vus_max", "10")]), fp(&[("vus_max", "20")]), fp(&[("script_sha256", "ab")]));
        let found = check(&[run("a.json", &a), run("b.json", &b)], &[run("c.json", &c)]);
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "the baseline runs were not produced the same way: vus_max is 10 in run 1 (a.json), 20 in run 2 (b.json)",
                "the baseline runs have no script_sha256 (the current side has it); comparability not checked for it",
                "the current run has no vus_max (the baseline side has it); comparability not checked for it",
            ]
        );
        assert_eq!(found[0].severity, Severity::Difference);
        assert_eq!(found[1].severity, Severity::Note);
    }
}
