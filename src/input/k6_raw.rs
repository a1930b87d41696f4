//! k6 raw output, `--out json=FILE` (NDJSON, plain or gzip): every sample k6 recorded, one JSON
//! object per line. perfcert computes the summary itself, the way k6 does ([`super::k6_samples`]).
//!
//! Only `Point` lines of `http_req_duration`, `http_req_failed` and `http_reqs` matter (3 of
//! about 12 lines per request). A byte-prefix check skips the rest without parsing them; the
//! matching lines are parsed with borrowed serde structs. The file is read by
//! [`super::lines`]: split across cores when plain, inflated on its own thread when gzip.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::Classes;
use super::k6_samples::{Acc, Class, Kind, Options, Profile, Sample, Shared, endpoint_path};
use super::lines::{self, LineSink};
use crate::error::LoadError;
use crate::model::RunResults;

const SOURCE: &str = "k6 raw output";

/// Reads a k6 NDJSON file (gzip when it starts with the gzip magic bytes).
pub fn read(path: &Path, classes: &Classes, options: &Options, progress: &AtomicU64) -> Result<RunResults, LoadError> {
    read_shards(&[path], &path.display().to_string(), classes, options, progress)
}

/// Reads the shards of one distributed run (one file per load generator) as one run: every
/// shard feeds one accumulator, so percentiles are over the union of the samples, exactly as
/// if k6 had written one file. `file` names the run in messages about the whole.
pub fn read_shards(
    paths: &[&Path],
    file: &str,
    classes: &Classes,
    options: &Options,
    progress: &AtomicU64,
) -> Result<RunResults, LoadError> {
    let shared = Shared::new(classes, options);
    let make = || Ndjson::new(&shared);
    let mut all = Ndjson::new(&shared);
    for path in paths {
        all.absorb(lines::read(path, &make, options.threads, progress)?);
    }
    all.0.finish(file, SOURCE)
}

/// The first and last sample time of k6 raw output (unix nanoseconds): the run's window
/// (`perfcert collect --window-from`). Reads `Point` lines in k6's own layout; `None` when there
/// are none.
pub fn time_span(path: &Path) -> Result<Option<(i128, i128)>, LoadError> {
    let progress = AtomicU64::new(0);
    Ok(lines::read(path, &Span::default, None, &progress)?.0)
}

/// The earliest and latest time of the `Point` lines seen.
#[derive(Default)]
struct Span(Option<(i128, i128)>, Clock);

impl LineSink for Span {
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let Some(line) = json_line(line)? else { return Ok(()) };
        if let Some((time, _)) = scan_time_value(line) {
            let t = self.1.parse(time).ok_or_else(|| format!("expected an RFC 3339 time, found {time:?}"))?;
            self.0 = Some(match self.0 {
                None => (t, t),
                Some((first, last)) => (first.min(t), last.max(t)),
            });
        }
        Ok(())
    }

    fn absorb(&mut self, later: Self) {
        self.0 = match (self.0, later.0) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (one, other) => one.or(other),
        };
    }
}

/// Reads an in-memory NDJSON text (tests, and inputs already in memory).
pub fn parse(file: &str, text: &str, classes: &Classes) -> Result<RunResults, LoadError> {
    let shared = Shared::new(classes, &Options::default());
    lines::read_text(file, text.as_bytes(), Ndjson::new(&shared))?.0.finish(file, SOURCE)
}

struct Ndjson<'c>(Acc<'c>, Clock, bool);

impl<'c> Ndjson<'c> {
    fn new(shared: &'c Shared<'c>) -> Self {
        Ndjson(Acc::new(shared), Clock::default(), shared.windows())
    }
}

/// One line of k6 `--out json` output, framed: `None` for a blank line, an error for a line that
/// is not one JSON object (cut short, or not JSON), else the object's bytes without a `\r`.
pub(super) fn json_line(line: &[u8]) -> Result<Option<&[u8]>, String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if line.first() != Some(&b'{') || line.last() != Some(&b'}') {
        return Err("expected one JSON object per line (k6 --out json); this line is cut short or not JSON".into());
    }
    Ok(Some(line))
}

impl LineSink for Ndjson<'_> {
    fn absorb(&mut self, later: Self) {
        self.0.absorb(later.0);
    }

    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let Some(line) = json_line(line)? else { return Ok(()) };
        const PREFIX: &[u8] = b"{\"metric\":\"";
        let metric = |name: &[u8]| match Kind::of_metric(name) {
            Some(kind) => Some(Ok(kind)),
            None => Profile::of_metric(name).map(Err),
        };
        let kind = if let Some(rest) = line.strip_prefix(PREFIX) {
            // k6 writes `{"metric":"NAME","type":"Point",...}`: decide from the name alone.
            let Some(end) = memchr::memchr(b'"', rest) else {
                return Err("not valid JSON: unterminated metric name".into());
            };
            match metric(&rest[..end]) {
                Some(kind) => kind,
                None => return Ok(()),
            }
        } else if line.starts_with(b"{\"type\":\"Metric\"") {
            return Ok(());
        } else {
            // Another layout (a re-serialised file): find the metric name the slow way.
            let probe: Probe = serde_json::from_slice(line).map_err(|e| format!("not valid JSON: {e}"))?;
            match (probe.kind.as_deref(), probe.metric.as_deref()) {
                (Some("Point"), Some(name)) => match metric(name.as_bytes()) {
                    Some(kind) => kind,
                    None => return Ok(()),
                },
                (Some("Metric"), _) => return Ok(()),
                _ => return Err("expected a k6 `Metric` or `Point` line".into()),
            }
        };
        // A fingerprint line (vus_max, iterations) needs only its time and value.
        if let Err(profile) = kind
            && let Some((time, value)) = scan_time_value(line)
        {
            let t = self.1.parse(time).ok_or_else(|| format!("expected an RFC 3339 time, found {time:?}"))?;
            self.0.profile(profile, value, t);
            return Ok(());
        }
        let classes = self.0.classes();
        // k6's own layout takes a fast path; anything else (escapes, other spacing or order)
        // goes through serde, which also explains what is wrong with a bad line.
        let point = match scan_point(line, classes) {
            Some(point) => point,
            None => {
                let mut de = serde_json::Deserializer::from_slice(line);
                PointSeed { classes }.deserialize(&mut de).map_err(|e| format!("not a k6 Point line: {e}"))?
            }
        };
        if !point.value.is_finite() || point.value < 0.0 {
            return Err(format!("expected a sample value >= 0, found {}", point.value));
        }
        let kind = match kind {
            Ok(kind) => kind,
            Err(profile) => {
                let t = self.1.parse(&point.time);
                let t = t.ok_or_else(|| format!("expected an RFC 3339 time, found {:?}", point.time))?;
                self.0.profile(profile, point.value, t);
                return Ok(());
            }
        };
        let time_ns = if kind == Kind::Reqs || self.2 {
            Some(
                self.1
                    .parse(&point.time)
                    .ok_or_else(|| format!("expected an RFC 3339 time, found {:?}", point.time))?,
            )
        } else {
            None
        };
        self.0.record(Sample {
            kind,
            value: point.value,
            class: point.class(classes),
            method: point.method.as_deref().unwrap_or(""),
            path: point.name.as_deref().map(endpoint_path),
            time_ns,
            scenario: point.scenario.as_deref().filter(|s| !s.is_empty()),
        });
        Ok(())
    }
}

/// Reads a Point line in exactly the layout k6 writes, without a general JSON parser:
/// `{"metric":"M","type":"Point","data":{"time":"T","value":V,"tags":{"k":"v",...}}}` with
/// keys of `data` in any order, string tags and no backslash escapes. `None` for anything else.
fn scan_point<'a>(line: &'a [u8], classes: &Classes) -> Option<Point<'a>> {
    let mut s = Scanner { b: line, i: 0 };
    s.lit(b"{\"metric\":")?;
    s.string()?;
    s.lit(b",\"type\":\"Point\",\"data\":{")?;
    let (mut time, mut value, mut tags) = (None, None, Tags::default());
    fn selector(sel: &Option<String>) -> Option<(&[u8], &[u8])> {
        sel.as_deref().and_then(|s| s.split_once(':')).map(|(k, v)| (k.as_bytes(), v.as_bytes()))
    }
    let (read_sel, write_sel) = (selector(&classes.read), selector(&classes.write));
    // A key given twice (in `data` or in `tags`) makes the fast path decline: serde then
    // refuses the line with the key's name, so both paths agree. k6 writes tags sorted by key,
    // so the fast path takes only strictly increasing keys (one comparison per tag: a repeated
    // key cannot pass) and leaves any other order to serde.
    let mut previous_tag: Option<&[u8]> = None;
    let mut seen_tags_object = false;
    loop {
        let key = s.string()?;
        s.lit(b":")?;
        match key {
            b"time" if time.is_none() => time = Some(std::str::from_utf8(s.string()?).ok()?),
            b"value" if value.is_none() => value = Some(s.number()?),
            b"tags" if !seen_tags_object => {
                seen_tags_object = true;
                s.lit(b"{")?;
                if !s.eat(b'}') {
                    loop {
                        let k = s.string()?;
                        // Sorted keys mostly differ in their first byte: compare it before
                        // the whole key (a memcmp call per tag otherwise).
                        if previous_tag.is_some_and(|p| match (k.first(), p.first()) {
                            (Some(a), Some(b)) if a != b => a < b,
                            _ => k <= p,
                        }) {
                            return None;
                        }
                        previous_tag = Some(k);
                        s.lit(b":")?;
                        let v = s.string()?;
                        // Only the strings kept are checked for UTF-8.
                        match k {
                            b"method" => tags.method = Some(Cow::Borrowed(std::str::from_utf8(v).ok()?)),
                            b"name" => tags.name = Some(Cow::Borrowed(std::str::from_utf8(v).ok()?)),
                            // Bytes: checked for UTF-8 once per scenario, not per line.
                            b"scenario" => tags.scenario = Some(Cow::Borrowed(v)),
                            _ => {}
                        }
                        tags.read |= read_sel == Some((k, v));
                        tags.write |= write_sel == Some((k, v));
                        if !s.eat(b',') {
                            break;
                        }
                    }
                    s.lit(b"}")?;
                }
            }
            _ => return None,
        }
        if !s.eat(b',') {
            break;
        }
    }
    s.lit(b"}}")?;
    (s.i == line.len()).then_some(())?;
    Some(Point {
        time: Cow::Borrowed(time?),
        value: value?,
        method: tags.method,
        name: tags.name,
        scenario: tags.scenario,
        read_tag: tags.read,
        write_tag: tags.write,
    })
}

/// The time and value of a Point line in k6's own layout,
/// `{"metric":"M","type":"Point","data":{"time":"T","value":V,...`, its tags unread; `None` for
/// anything else, or a value that is not a number >= 0 (the full path then reads or refuses it).
fn scan_time_value(line: &[u8]) -> Option<(&str, f64)> {
    let mut s = Scanner { b: line, i: 0 };
    s.lit(b"{\"metric\":")?;
    s.string()?;
    s.lit(b",\"type\":\"Point\",\"data\":{\"time\":")?;
    let time = std::str::from_utf8(s.string()?).ok()?;
    s.lit(b",\"value\":")?;
    let value = s.number().filter(|v| v.is_finite() && *v >= 0.0)?;
    matches!(s.b.get(s.i), Some(b',' | b'}')).then_some((time, value))
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    #[inline(always)]
    fn lit(&mut self, want: &[u8]) -> Option<()> {
        self.b[self.i..].starts_with(want).then(|| self.i += want.len())
    }

    #[inline(always)]
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&c);
        self.i += hit as usize;
        hit
    }

    /// A string without escapes; its contents. (A plain loop: k6's strings are short.)
    fn string(&mut self) -> Option<&'a [u8]> {
        self.lit(b"\"")?;
        let rest = &self.b[self.i..];
        let end = rest.iter().position(|&c| c == b'"' || c == b'\\')?;
        if rest[end] != b'"' {
            return None;
        }
        self.i += end + 1;
        Some(&rest[..end])
    }

    /// A JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; `None` for anything
    /// else, including what Rust's float parser would accept but JSON does not.
    fn number(&mut self) -> Option<f64> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        i += (b.get(i) == Some(&b'-')) as usize;
        let int_start = i;
        let n = digits(&mut i);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            i += matches!(b.get(i), Some(b'+' | b'-')) as usize;
            if digits(&mut i) == 0 {
                return None;
            }
        }
        let v = std::str::from_utf8(&b[start..i]).ok()?.parse().ok()?;
        self.i = i;
        Some(v)
    }
}

/// `2026-11-22T13:53:57.498150815Z` (Go RFC3339Nano: 0-9 fraction digits, `Z` or an offset)
/// to nanoseconds since the epoch (the duet reader's; the hot path keeps a [`Clock`]).
pub(super) fn parse_time(s: &str) -> Option<i128> {
    Clock::default().parse(s)
}

/// Parses times as [`parse_time`], remembering the last time (k6 writes one request's samples
/// with one time, one after the other) and the last date's day number (the calendar arithmetic
/// is most of the cost).
#[derive(Default)]
pub(super) struct Clock {
    date: [u8; 10],
    days: i64,
    last: Vec<u8>,
    last_ns: i128,
}

impl Clock {
    pub(super) fn parse(&mut self, s: &str) -> Option<i128> {
        if !self.last.is_empty() && s.as_bytes() == self.last.as_slice() {
            return Some(self.last_ns);
        }
        let ns = self.parse_new(s)?;
        self.last.clear();
        self.last.extend_from_slice(s.as_bytes());
        self.last_ns = ns;
        Some(ns)
    }

    fn parse_new(&mut self, s: &str) -> Option<i128> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            b[r].iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64))
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let mut i = 19;
        let mut nanos = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = i - start;
            if digits == 0 || digits > 9 {
                return None;
            }
            nanos = num(start..i)? * 10i64.pow(9 - digits as u32);
        }
        let offset_min = match &b[i..] {
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let v = |x: &u8, y: &u8| -> Option<i64> {
                    (x.is_ascii_digit() && y.is_ascii_digit()).then(|| ((x - b'0') * 10 + (y - b'0')) as i64)
                };
                let m = v(h1, h2)? * 60 + v(m1, m2)?;
                if *sign == b'+' { m } else { -m }
            }
            _ => return None,
        };
        let days = if b[..10] == self.date && self.days != 0 {
            self.days
        } else {
            let days = jiff::civil::Date::new(y as i16, mo as i8, d as i8)
                .ok()?
                .since(jiff::civil::date(1970, 1, 1))
                .ok()?
                .get_days() as i64;
            self.date.copy_from_slice(&b[..10]);
            self.days = days;
            days
        };
        let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
        Some(secs as i128 * 1_000_000_000 + nanos as i128)
    }
}

/// The parts of a Point line that matter.
struct Point<'a> {
    time: Cow<'a, str>,
    value: f64,
    method: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    scenario: Option<Cow<'a, [u8]>>,
    read_tag: bool,
    write_tag: bool,
}

impl Point<'_> {
    fn class(&self, classes: &Classes) -> Option<Class> {
        if classes.read.is_some() || classes.write.is_some() {
            return if self.read_tag {
                Some(Class::Read)
            } else if self.write_tag {
                Some(Class::Write)
            } else {
                None
            };
        }
        Class::of_method(self.method.as_deref()?)
    }
}

/// A string that borrows from the line when it can. (serde's own `Cow<str>` always copies,
/// which cost an allocation per key and value.)
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    metric: Option<Cow<'a, str>>,
}

/// Deserialises a Point line, keeping only the fields and tags perfcert uses.
struct PointSeed<'c> {
    classes: &'c Classes,
}

impl<'de> DeserializeSeed<'de> for PointSeed<'_> {
    type Value = Point<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Point<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PointSeed<'_> {
    type Value = Point<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a k6 Point object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Point<'de>, A::Error> {
        let mut data = None;
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<Str<'de>>()?.map(|k| k.0) {
            seen.check::<A::Error>(&key, "")?;
            if key == "data" {
                data = Some(map.next_value_seed(DataSeed { classes: self.classes })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        data.ok_or_else(|| de::Error::missing_field("data"))
    }
}

struct DataSeed<'c> {
    classes: &'c Classes,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Point<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Point<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Point<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a k6 Point `data` object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Point<'de>, A::Error> {
        let mut time = None;
        let mut value = None;
        let mut tags = Tags::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<Str<'de>>()?.map(|k| k.0) {
            seen.check::<A::Error>(&key, "data.")?;
            match key.as_ref() {
                "time" => time = Some(map.next_value::<Str<'de>>()?.0),
                "value" => value = Some(map.next_value::<f64>()?),
                "tags" => tags = map.next_value_seed(TagsSeed { classes: self.classes })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Point {
            time: time.ok_or_else(|| de::Error::missing_field("time"))?,
            value: value.ok_or_else(|| de::Error::missing_field("value"))?,
            method: tags.method,
            name: tags.name,
            scenario: tags.scenario,
            read_tag: tags.read,
            write_tag: tags.write,
        })
    }
}

/// The keys of one JSON object so far, to refuse one given twice (serde_json would keep the
/// last, and the fast path the first).
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn check<E: de::Error>(&mut self, key: &str, path: &str) -> Result<(), E> {
        if self.0.iter().any(|k| k == key) {
            return Err(E::custom(format!("duplicate key `{path}{key}`; each key may appear once")));
        }
        self.0.push(key.to_owned());
        Ok(())
    }
}

#[derive(Default)]
struct Tags<'a> {
    method: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    scenario: Option<Cow<'a, [u8]>>,
    read: bool,
    write: bool,
}

struct TagsSeed<'c> {
    classes: &'c Classes,
}

impl<'de> DeserializeSeed<'de> for TagsSeed<'_> {
    type Value = Tags<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Tags<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TagsSeed<'_> {
    type Value = Tags<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a k6 tags object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags<'de>, A::Error> {
        let mut tags = Tags::default();
        let read_sel = self.classes.read.as_deref().and_then(|s| s.split_once(':'));
        let write_sel = self.classes.write.as_deref().and_then(|s| s.split_once(':'));
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<Str<'de>>()?.map(|k| k.0) {
            seen.check::<A::Error>(&key, "data.tags.")?;
            let value = map.next_value::<Str<'de>>()?.0;
            match key.as_ref() {
                "method" => tags.method = Some(value.clone()),
                "name" => tags.name = Some(value.clone()),
                "scenario" => {
                    tags.scenario = Some(match &value {
                        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                        Cow::Owned(s) => Cow::Owned(s.clone().into_bytes()),
                    })
                }
                _ => {}
            }
            if read_sel.is_some_and(|(k, v)| k == key && v == value) {
                tags.read = true;
            }
            if write_sel.is_some_and(|(k, v)| k == key && v == value) {
                tags.write = true;
            }
        }
        Ok(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(parse_time("1970-01-01T00:00:00.5Z"), Some(500_000_000));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_time("2026-11-22T13:53:57.498150815Z").unwrap()
                - parse_time("2026-11-22T13:53:57.08278228Z").unwrap(),
            415_368_535
        );
        assert_eq!(parse_time("2026-11-22 13:53:57Z"), None);
        assert_eq!(parse_time("2026-11-22T13:53:57.Z"), None);
    }

    fn via_serde<'a>(line: &'a str, classes: &Classes) -> Option<Point<'a>> {
        let mut de = serde_json::Deserializer::from_str(line);
        PointSeed { classes }.deserialize(&mut de).ok()
    }

    fn same(a: &Point, b: &Point) -> bool {
        a.time == b.time
            && a.value.to_bits() == b.value.to_bits()
            && a.method == b.method
            && a.name == b.name
            && a.scenario == b.scenario
            && a.read_tag == b.read_tag
            && a.write_tag == b.write_tag
    }

    #[test]
    fn the_fast_path_reads_what_serde_reads_or_steps_aside() {
        let classes =
            Classes { read: Some("kind:read".into()), write: Some("kind:write".into()), ..Default::default() };
        let line = |data: &str| format!("{{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{data}}}");
        let fast = [
            r#"{"time":"2026-11-22T15:13:55.429753873Z","value":1.89897,"tags":{"kind":"read","method":"GET","name":"http://h/items","scenario":"browse"}}"#,
            r#"{"value":0,"time":"2026-11-22T15:13:55Z","tags":{}}"#,
            r#"{"time":"t","value":12e-3,"tags":{"kind":"write","method":"POST"}}"#,
            r#"{"time":"t","value":-1.5E+2,"tags":{"name":"/ünïcode"}}"#,
        ];
        for data in fast {
            let l = line(data);
            let (a, b) = (scan_point(l.as_bytes(), &classes), via_serde(&l, &classes));
            assert!(a.is_some() && b.is_some(), "{l}");
            assert!(same(&a.unwrap(), &b.unwrap()), "{l}");
        }
        assert_eq!(scan_point(line(fast[0]).as_bytes(), &classes).unwrap().scenario.as_deref(), Some(&b"browse"[..]));
        // Not k6's exact layout, or not JSON: the fast path declines and serde decides.
        let declined = [
            r#"{"time":"t","value":1,"tags":{"name":"a\"b"}}"#,
            r#"{"time":"t", "value":1,"tags":{}}"#,
            r#"{"time":"t","value":01,"tags":{}}"#,
            r#"{"time":"t","value":1.,"tags":{}}"#,
            r#"{"time":"t","value":.5,"tags":{}}"#,
            r#"{"time":"t","value":+1,"tags":{}}"#,
            r#"{"time":"t","value":"1","tags":{}}"#,
            r#"{"time":"t","value":1,"tags":{"status":200}}"#,
            r#"{"time":"t","value":1,"tags":{},"extra":null}"#,
            r#"{"time":"t","value":1,"tags":{}}x"#,
            r#"{"time":"t","value":1,"tags":{"name":"a","method":"GET"}}"#,
            r#"{"time":"t","value":1,"tags":{"status":"1","scenario":"s"}}"#,
            r#"{"time":"t","value":1,"tags":{"name":"a","name":"b"}}"#,
        ];
        for data in declined {
            assert!(scan_point(line(data).as_bytes(), &classes).is_none(), "{data}");
        }
        let escaped = line(r#"{"time":"t","value":1,"tags":{"name":"a\"b"}}"#);
        assert_eq!(via_serde(&escaped, &classes).unwrap().name.as_deref(), Some("a\"b"));
    }

    #[test]
    fn fingerprint_lines_read_time_and_value_alone() {
        let line = r#"{"metric":"vus_max","type":"Point","data":{"time":"2026-11-22T15:13:56Z","value":10,"tags":{}}}"#;
        assert_eq!(scan_time_value(line.as_bytes()), Some(("2026-11-22T15:13:56Z", 10.0)));
        for other in [
            r#"{"metric":"vus_max","type":"Point","data":{"value":10,"time":"t","tags":{}}}"#,
            r#"{"metric":"vus_max","type":"Point","data":{"time":"t","value":-1,"tags":{}}}"#,
            r#"{"metric":"vus_max","type":"Point","data":{"time":"t","value":1x}}"#,
        ] {
            assert_eq!(scan_time_value(other.as_bytes()), None, "{other}");
        }
        let c = Classes::default();
        let neg = r#"{"metric":"vus_max","type":"Point","data":{"time":"2026-01-01T00:00:00Z","value":-1,"tags":{}}}"#;
        assert!(parse("r", neg, &c).unwrap_err().to_string().contains("expected a sample value >= 0"));
    }

    #[test]
    fn lines_are_checked() {
        let c = Classes::default();
        let err = parse("r.ndjson", "{\"metric\":\"http_reqs\",\"type\":\"Point\",\"data\":{\"time\":\"x\",", &c)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.ndjson:1:1: expected one JSON object per line (k6 --out json); this line is cut short or not JSON"
        );
        let neg = "{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{\"time\":\"2026-01-01T00:00:00Z\",\"value\":-1,\"tags\":{}}}";
        assert!(parse("r", neg, &c).unwrap_err().to_string().contains("expected a sample value >= 0"));
        assert!(
            parse("r", "{\"type\":\"Metric\"}\n", &c).unwrap_err().to_string().contains("no http_req_duration samples")
        );
    }
}
