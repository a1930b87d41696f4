//! Duet runs (`--duet FILE`): one k6 run that drove the baseline and the current deployment
//! side by side under the same load, read from its raw output (`--out json`, plain or gzip).
//!
//! Each sample goes to a side by one tag (`side:baseline` / `side:current` by default; the
//! policy's `duet:` block names the tag and its values) and to a time slice by its timestamp.
//! Slices are whole multiples of the slice length in UTC (10 s slices start at :00, :10, ...),
//! so the shards of one run and both sides line up. Per side the samples of each slice, and of
//! the whole run, go through the k6 raw reader's own accumulator ([`super::k6_samples`]), so
//! every value is computed exactly as for a `--current` file. With a warm-up, the slices that
//! begin before the first sample's time plus the warm-up are left out of everything.
//!
//! It reads and partitions; it does not judge (the pairing is [`crate::stats::Data::Paired`]'s).
//! Samples without the side tag, or with another value, are left out with a note. A `placement`
//! tag (policy `duet.placement`), when the script sets it, says where each side ran.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::AtomicU64;

use serde::Deserialize;

use super::Classes;
use super::k6_samples::{Acc, Class, Kind, Options, Sample, Shared, endpoint_path};
use super::lines::{self, LineSink};
use crate::error::LoadError;
use crate::model::{RunResults, Slices};

/// The policy's `duet:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The k6 tag that names a sample's side.
    pub tag: String,
    /// Its value on the baseline deployment's samples.
    pub baseline: String,
    /// Its value on the current deployment's samples.
    pub current: String,
    /// Slice length, ns.
    pub slice_ns: i128,
    /// Time from the first sample left out (whole slices), ns.
    pub warmup_ns: i128,
    /// The k6 tag that names where a side ran (a node, a pool), when the script sets it.
    pub placement: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            tag: "side".into(),
            baseline: "baseline".into(),
            current: "current".into(),
            slice_ns: 10_000_000_000,
            warmup_ns: 0,
            placement: "placement".into(),
        }
    }
}

/// One duet run, read.
#[derive(Debug, Clone, PartialEq)]
pub struct DuetRun {
    /// Each side over the whole run (every slice after the warm-up).
    pub baseline: RunResults,
    pub current: RunResults,
    /// Each side per slice, for the slices where both sides have latency samples, in time order.
    pub slices: Slices,
    /// The `placement` tag's values on each side's samples (empty when the script sets none).
    pub placement: (Vec<String>, Vec<String>),
}

const SOURCE: &str = "k6 raw output";

/// Reads the raw k6 files (shards) of one duet run. `file` names the run in messages.
pub fn read(
    paths: &[&Path],
    file: &str,
    classes: &Classes,
    settings: &Settings,
    progress: &AtomicU64,
) -> Result<DuetRun, LoadError> {
    let shared = Shared::new(classes, &Options::default());
    let make = || Sink::new(&shared, settings);
    let mut all = make();
    for path in paths {
        crate::fsutil::check_readable_file(path)?;
        all.absorb(lines::read(path, &make, None, progress)?);
    }
    all.finish(file)
}

/// Reads an in-memory NDJSON text (the unit tests' entry point).
#[cfg(test)]
fn parse(file: &str, text: &str, classes: &Classes, settings: &Settings) -> Result<DuetRun, LoadError> {
    let shared = Shared::new(classes, &Options::default());
    lines::read_text(file, text.as_bytes(), Sink::new(&shared, settings))?.finish(file)
}

/// What was read about samples that are left out, and where each side ran.
#[derive(Default)]
struct Tally {
    untagged: u64,
    other: BTreeSet<String>,
    placement: [BTreeSet<String>; 2],
}

/// Per side, per slice (by index since the epoch): the slice alone, and a second copy that
/// becomes part of the whole run unless the slice is in the warm-up.
struct Sink<'c> {
    shared: &'c Shared<'c>,
    settings: &'c Settings,
    slices: [BTreeMap<i64, (Acc<'c>, Acc<'c>)>; 2],
    first: Option<i128>,
    tally: Tally,
}

fn without_fingerprint(mut results: RunResults) -> RunResults {
    results.fingerprint.clear();
    results
}

impl<'c> Sink<'c> {
    fn new(shared: &'c Shared<'c>, settings: &'c Settings) -> Self {
        Sink { shared, settings, slices: [BTreeMap::new(), BTreeMap::new()], first: None, tally: Tally::default() }
    }

    fn finish(self, file: &str) -> Result<DuetRun, LoadError> {
        let s = self.settings;
        for (i, value) in [&s.baseline, &s.current].into_iter().enumerate() {
            if self.slices[i].is_empty() {
                let seen = if self.tally.other.is_empty() {
                    String::new()
                } else {
                    format!(" (found {}: {})", s.tag, self.tally.other.iter().cloned().collect::<Vec<_>>().join(", "))
                };
                return Err(LoadError::new(
                    file,
                    format!(
                        "no samples tagged {tag}:{value}{seen}; expected k6 raw output of a duet run, whose requests \
                         to the two deployments are tagged {tag}:{b} and {tag}:{c} (examples/duet.js; the policy's \
                         duet.tag, duet.baseline and duet.current name them)",
                        tag = s.tag,
                        b = s.baseline,
                        c = s.current
                    ),
                ));
            }
        }
        let cutoff = self.first.map(|f| f + s.warmup_ns);
        let in_warmup = |key: i64| s.warmup_ns > 0 && cutoff.is_some_and(|c| key as i128 * s.slice_ns < c);
        let [mut base, mut cur] = self.slices;
        let keys: BTreeSet<i64> = base.keys().chain(cur.keys()).copied().collect();
        let (mut whole_b, mut whole_c) = (Acc::new(self.shared), Acc::new(self.shared));
        let mut slices = Slices::default();
        for key in keys {
            let (b, c) = (base.remove(&key), cur.remove(&key));
            if in_warmup(key) {
                continue;
            }
            // Both sides are one k6 run: what their samples say of how it was made (a fingerprint)
            // would compare the run with itself, so the sides and slices carry none.
            let slice_results = |acc: Acc| acc.finish(file, SOURCE).ok().map(without_fingerprint);
            let (mut bs, mut cs) = (None, None);
            if let Some((slice, part)) = b {
                whole_b.absorb(part);
                bs = slice_results(slice);
            }
            if let Some((slice, part)) = c {
                whole_c.absorb(part);
                cs = slice_results(slice);
            }
            // A slice where one side made no request pairs with nothing.
            if let (Some(b), Some(c)) = (bs, cs) {
                slices.baseline.push(b);
                slices.current.push(c);
            }
        }
        let side_results = |acc: Acc, value: &str| {
            acc.finish(file, SOURCE)
                .map(without_fingerprint)
                .map_err(|e| LoadError::new(file, format!("{}:{value} after the warm-up: {}", s.tag, e.message)))
        };
        let baseline = side_results(whole_b, &s.baseline)?;
        let mut current = side_results(whole_c, &s.current)?;
        let mut notes = vec![];
        if self.tally.untagged > 0 || !self.tally.other.is_empty() {
            let other = if self.tally.other.is_empty() {
                String::new()
            } else {
                format!(
                    " and samples tagged {}",
                    self.tally.other.iter().map(|v| format!("{}:{v}", s.tag)).collect::<Vec<_>>().join(", ")
                )
            };
            notes.push(format!(
                "{file}: {} request samples without a {} tag{other} are left out of the duet",
                self.tally.untagged, s.tag
            ));
        }
        // Said once, with the current side (the baseline side's notes would repeat them).
        current.notes.extend(notes);
        let [pb, pc] = self.tally.placement;
        Ok(DuetRun { baseline, current, slices, placement: (pb.into_iter().collect(), pc.into_iter().collect()) })
    }

    fn slice_of(&self, time_ns: i128) -> i64 {
        time_ns.div_euclid(self.settings.slice_ns) as i64
    }
}

impl LineSink for Sink<'_> {
    fn absorb(&mut self, later: Self) {
        for (mine, theirs) in self.slices.iter_mut().zip(later.slices) {
            for (key, (slice, part)) in theirs {
                match mine.get_mut(&key) {
                    Some((s, p)) => {
                        s.absorb(slice);
                        p.absorb(part);
                    }
                    None => {
                        mine.insert(key, (slice, part));
                    }
                }
            }
        }
        self.first = [self.first, later.first].into_iter().flatten().min();
        self.tally.untagged += later.tally.untagged;
        self.tally.other.extend(later.tally.other);
        for (mine, theirs) in self.tally.placement.iter_mut().zip(later.tally.placement) {
            mine.extend(theirs);
        }
    }

    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let Some(line) = super::k6_raw::json_line(line)? else { return Ok(()) };
        // k6 writes `{"metric":"NAME",...`: other metrics are skipped without parsing.
        if let Some(rest) = line.strip_prefix(b"{\"metric\":\"")
            && let Some(end) = memchr::memchr(b'"', rest)
            && Kind::of_metric(&rest[..end]).is_none()
        {
            return Ok(());
        }
        let parsed: Line = serde_json::from_slice(line).map_err(|e| format!("not valid JSON: {e}"))?;
        let kind = match (parsed.kind.as_deref(), parsed.metric.as_deref()) {
            (Some("Point"), Some(name)) => match Kind::of_metric(name.as_bytes()) {
                Some(kind) => kind,
                None => return Ok(()),
            },
            (Some("Metric"), _) => return Ok(()),
            _ => return Err("expected a k6 `Metric` or `Point` line".into()),
        };
        let data = parsed.data.ok_or("not a k6 Point line: missing field `data`")?;
        let time = data.time.ok_or("not a k6 Point line: missing field `data.time`")?;
        let value = data.value.ok_or("not a k6 Point line: missing field `data.value`")?;
        if !value.is_finite() || value < 0.0 {
            return Err(format!("expected a sample value >= 0, found {value}"));
        }
        let time_ns =
            super::k6_raw::parse_time(&time).ok_or_else(|| format!("expected an RFC 3339 time, found {time:?}"))?;
        let tags = data.tags.unwrap_or_default();
        let s = self.settings;
        let side = match tags.get(s.tag.as_str()).map(|v| v.as_ref()) {
            Some(v) if v == s.baseline => 0,
            Some(v) if v == s.current => 1,
            Some(v) => {
                if self.tally.other.len() < 8 {
                    self.tally.other.insert(v.to_string());
                }
                return Ok(());
            }
            None => {
                self.tally.untagged += 1;
                return Ok(());
            }
        };
        if let Some(place) = tags.get(s.placement.as_str())
            && self.tally.placement[side].len() < 8
        {
            self.tally.placement[side].insert(place.to_string());
        }
        self.first = Some(self.first.map_or(time_ns, |f| f.min(time_ns)));
        let classes = self.shared.classes;
        let selected = |sel: &Option<String>| {
            sel.as_deref().and_then(|sel| sel.split_once(':')).is_some_and(|(k, v)| tags.get(k).is_some_and(|t| t == v))
        };
        let method = tags.get("method").map(|m| m.as_ref()).unwrap_or("");
        let class = if classes.read.is_some() || classes.write.is_some() {
            if selected(&classes.read) {
                Some(Class::Read)
            } else if selected(&classes.write) {
                Some(Class::Write)
            } else {
                None
            }
        } else {
            Class::of_method(method)
        };
        let path = tags.get("name").map(|n| endpoint_path(n));
        let key = self.slice_of(time_ns);
        let shared = self.shared;
        let (slice, part) = self.slices[side].entry(key).or_insert_with(|| (Acc::new(shared), Acc::new(shared)));
        for acc in [slice, part] {
            acc.record(Sample { kind, value, class, method, path, time_ns: Some(time_ns), scenario: None });
        }
        Ok(())
    }
}

/// One NDJSON line; a `Metric` line's `data` has none of the Point fields, which is fine.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    metric: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<Data<'a>>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    value: Option<f64>,
    #[serde(borrow)]
    tags: Option<HashMap<Cow<'a, str>, Cow<'a, str>>>,
}

/// Warnings about where the sides of several duet runs ran: none recorded, or never swapped.
/// `placements` are the runs' [`DuetRun::placement`], in order.
pub fn placement_notes(placements: &[(Vec<String>, Vec<String>)], settings: &Settings) -> Vec<String> {
    let known = placements.iter().all(|(b, c)| !b.is_empty() && !c.is_empty());
    let show = |p: &[String]| p.join("+");
    if !known {
        return vec![format!(
            "duet runs: the files do not say where each side ran (no `{}` tag on every side's requests); \
             swap the two deployments' places between duet runs so that a faster place does not count as \
             the change (examples/duet.js tags them from BASELINE_PLACEMENT and CURRENT_PLACEMENT)",
            settings.placement
        )];
    }
    let maps: Vec<String> =
        placements.iter().map(|(b, c)| format!("baseline on {}, current on {}", show(b), show(c))).collect();
    if placements.len() >= 2 && maps.iter().all(|m| *m == maps[0]) {
        return vec![format!(
            "duet runs: the placement was never swapped (every run: {}); a difference between the two places counts \
             as the change: swap them in every other duet run",
            maps[0]
        )];
    }
    vec![]
}

/// Where each side of each duet run ran, for the record (`run 1: baseline on a, current on b`).
pub fn placement_record(placements: &[(Vec<String>, Vec<String>)]) -> Option<String> {
    let known = placements.iter().all(|(b, c)| !b.is_empty() && !c.is_empty());
    known.then(|| {
        placements
            .iter()
            .enumerate()
            .map(|(i, (b, c))| format!("run {}: baseline on {}, current on {}", i + 1, b.join("+"), c.join("+")))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One request's three lines at second `t` (plus `frac`) of side `side`.
    fn request(side: Option<&str>, t: u32, frac: u32, ms: f64, failed: bool) -> String {
        let tags = match side {
            Some(s) => format!(r#"{{"method":"GET","name":"http://h:1/x","placement":"p-{s}","side":"{s}"}}"#),
            None => r#"{"method":"GET","name":"http://h:1/x"}"#.to_string(),
        };
        let time = format!("2026-01-01T00:00:{t:02}.{frac:03}Z");
        let line = |m: &str, v: f64| {
            format!(r#"{{"metric":"{m}","type":"Point","data":{{"time":"{time}","value":{v},"tags":{tags}}}}}"#)
        };
        format!(
            "{}\n{}\n{}\n",
            line("http_reqs", 1.0),
            line("http_req_duration", ms),
            line("http_req_failed", if failed { 1.0 } else { 0.0 })
        )
    }

    fn settings(slice_s: i128, warmup_s: i128) -> Settings {
        Settings { slice_ns: slice_s * 1_000_000_000, warmup_ns: warmup_s * 1_000_000_000, ..Settings::default() }
    }

    #[test]
    fn samples_go_to_their_side_and_slice() {
        let mut text =
            String::from(r#"{"type":"Metric","data":{"name":"http_reqs","type":"counter"},"metric":"http_reqs"}"#);
        text.push('\n');
        for t in 0..6 {
            for f in [100, 600] {
                text += &request(Some("baseline"), t, f, 10.0 + t as f64, false);
                text += &request(Some("current"), t, f, 20.0 + t as f64, t == 5);
            }
        }
        text += &request(None, 3, 0, 99.0, false);
        text += &request(Some("canary"), 3, 0, 99.0, false);
        let run = parse("d.ndjson", &text, &Classes::default(), &settings(2, 0)).unwrap();
        // 2 s slices from second 0: three per side, paired.
        assert_eq!(run.slices.baseline.len(), 3);
        assert_eq!(run.slices.current[0].metrics["latency_max"], 21.0);
        assert_eq!(run.slices.baseline[2].metrics["latency_min"], 14.0);
        assert_eq!(run.baseline.metrics["requests"], 12.0);
        assert_eq!(run.current.metrics["latency_max"], 25.0);
        assert!((run.current.metrics["error_rate"] - 2.0 / 12.0 * 100.0).abs() < 1e-12);
        assert_eq!(run.placement, (vec!["p-baseline".to_string()], vec!["p-current".to_string()]));
        assert_eq!(run.current.notes.len(), 1, "{:?}", run.current.notes);
        assert!(run.current.notes[0].contains("3 request samples without a side tag and samples tagged side:canary"));
        assert!(run.baseline.notes.is_empty());

        // A 3 s warm-up leaves out the slices that begin before second 3: 0-2 s and 2-4 s.
        let warm = parse("d.ndjson", &text, &Classes::default(), &settings(2, 3)).unwrap();
        assert_eq!(warm.slices.baseline.len(), 1);
        assert_eq!(warm.baseline.metrics["requests"], 4.0);
        assert_eq!(warm.baseline.metrics["latency_min"], 14.0);
    }

    #[test]
    fn a_side_without_samples_is_an_error_naming_the_tag() {
        let text = request(Some("baseline"), 1, 0, 10.0, false);
        let err = parse("d.ndjson", &text, &Classes::default(), &Settings::default()).unwrap_err().to_string();
        assert!(err.starts_with("d.ndjson: no samples tagged side:current;"), "{err}");
        let err = parse("d.ndjson", "{\"metric\":\"http_reqs\"", &Classes::default(), &Settings::default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("d.ndjson:1:1: expected one JSON object per line"), "{err}");
    }

    #[test]
    fn placement_is_recorded_and_checked() {
        let p = |b: &str, c: &str| (vec![b.to_string()], vec![c.to_string()]);
        let s = Settings::default();
        assert!(placement_notes(&[p("a", "b"), p("b", "a")], &s).is_empty());
        assert_eq!(
            placement_record(&[p("a", "b"), p("b", "a")]).as_deref(),
            Some("run 1: baseline on a, current on b; run 2: baseline on b, current on a")
        );
        assert!(placement_notes(&[p("a", "b"), p("a", "b")], &s)[0].contains("never swapped"));
        let unknown = (vec![], vec!["b".to_string()]);
        assert!(placement_notes(&[p("a", "b"), unknown.clone()], &s)[0].contains("do not say where each side ran"));
        assert_eq!(placement_record(&[unknown]), None);
    }
}
