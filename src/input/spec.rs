//! How one run is named on the command line: `--current k6.ndjson.gz+usage.json`.
//!
//! Each `--baseline` / `--current` occurrence is one run; the files of one run (load-test
//! output plus a usage file, or the shards of one distributed k6 run) are joined with `+`. A
//! part may force its format with a prefix, `k6-json:gen-a.out` (any name of [`Format::name`]);
//! `--baseline-format` / `--current-format` apply to every part without one. A path that exists
//! as a file is taken whole, even if it contains `+` or looks like a prefix. Owns the syntax
//! only: it reads no file (the caller says which paths exist).

use std::path::{Path, PathBuf};

use super::Format;

/// One file of a run, and the format forced for it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub path: PathBuf,
    pub format: Option<Format>,
}

/// The files of one run, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    pub parts: Vec<Part>,
}

impl RunSpec {
    /// A run of one file.
    pub fn file(path: impl Into<PathBuf>) -> RunSpec {
        RunSpec { parts: vec![Part { path: path.into(), format: None }] }
    }

    /// The run as reports name it: `a.json + b.json`.
    pub fn label(&self) -> String {
        self.parts.iter().map(|p| p.path.display().to_string()).collect::<Vec<_>>().join(" + ")
    }

    /// The format of each part: its own prefix, else `side` (the side's `--*-format`).
    pub fn formats(&self, side: Option<Format>) -> impl Iterator<Item = (&Path, Option<Format>)> {
        self.parts.iter().map(move |p| (p.path.as_path(), p.format.or(side)))
    }
}

/// Every part file of every run of a side, each with its run number (1-based, in the order
/// given) when the side has several: how certificates record them (`inputs.*[].run`), so that a
/// one-run certificate reads as before runs existed.
pub fn numbered_parts(runs: &[RunSpec]) -> Vec<(Option<usize>, &Path)> {
    let several = runs.len() > 1;
    runs.iter()
        .enumerate()
        .flat_map(|(i, run)| run.parts.iter().map(move |p| (several.then_some(i + 1), p.path.as_path())))
        .collect()
}

/// Parses one `--baseline` / `--current` argument. `is_file` says whether a path exists as a
/// file; the longest run of `+`-joined pieces that names an existing file is taken whole.
pub fn parse(arg: &Path, is_file: &dyn Fn(&Path) -> bool) -> RunSpec {
    let Some(text) = arg.to_str() else { return RunSpec::file(arg) };
    if is_file(arg) || !text.contains('+') && !has_prefix(text) {
        return RunSpec::file(arg);
    }
    let pieces: Vec<&str> = text.split('+').collect();
    let mut parts = vec![];
    let mut i = 0;
    while i < pieces.len() {
        // The longest join of pieces[i..=j] that exists (as given, or after a format prefix).
        let found = (i..pieces.len()).rev().find_map(|j| {
            let joined = pieces[i..=j].join("+");
            let part = part(&joined);
            (is_file(Path::new(&joined)) || is_file(&part.path)).then_some((j, joined))
        });
        let (j, joined) = found.unwrap_or((i, pieces[i].to_string()));
        parts.push(if is_file(Path::new(&joined)) {
            Part { path: joined.into(), format: None }
        } else {
            part(&joined)
        });
        i = j + 1;
    }
    RunSpec { parts }
}

/// `k6-json:FILE` -> FILE read as k6 raw NDJSON; anything else is a path.
fn part(text: &str) -> Part {
    match text.split_once(':').and_then(|(name, rest)| Some((format_named(name)?, rest))) {
        Some((format, rest)) if !rest.is_empty() => Part { path: rest.into(), format: Some(format) },
        _ => Part { path: text.into(), format: None },
    }
}

fn has_prefix(text: &str) -> bool {
    part(text).format.is_some()
}

fn format_named(name: &str) -> Option<Format> {
    Format::ALL.into_iter().find(|f| f.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(arg: &str, files: &[&str]) -> Vec<(String, Option<&'static str>)> {
        let is_file = |p: &Path| files.iter().any(|f| Path::new(f) == p);
        parse(Path::new(arg), &is_file)
            .parts
            .into_iter()
            .map(|p| (p.path.display().to_string(), p.format.map(Format::name)))
            .collect()
    }

    #[test]
    fn parts_are_joined_with_plus() {
        assert_eq!(parse_with("a.json", &[]), [("a.json".into(), None)]);
        assert_eq!(parse_with("k6.gz+usage.json", &[]), [("k6.gz".into(), None), ("usage.json".into(), None)]);
    }

    #[test]
    fn an_existing_file_is_taken_whole() {
        assert_eq!(parse_with("a+b.json", &["a+b.json"]), [("a+b.json".into(), None)]);
        // The longest existing join wins, then the rest is split.
        assert_eq!(
            parse_with("a+b.json+usage.json", &["a+b.json"]),
            [("a+b.json".into(), None), ("usage.json".into(), None)]
        );
        assert_eq!(parse_with("k6-json:x", &["k6-json:x"]), [("k6-json:x".into(), None)]);
    }

    #[test]
    fn a_known_format_prefix_forces_the_format_of_its_part() {
        assert_eq!(
            parse_with("k6-json:gen-a.out+k6-json:gen-b.out+usage.json", &[]),
            [("gen-a.out".into(), Some("k6-json")), ("gen-b.out".into(), Some("k6-json")), ("usage.json".into(), None)]
        );
        assert_eq!(parse_with("k6-csv:a+b.csv", &["a+b.csv"]), [("a+b.csv".into(), Some("k6-csv"))]);
        // Not a format name: a path (a Windows drive, a URL-like name).
        assert_eq!(parse_with(r"C:\runs\a.json", &[]), [(r"C:\runs\a.json".into(), None)]);
        assert_eq!(parse_with("k6-json:", &[]), [("k6-json:".into(), None)]);
    }
}
