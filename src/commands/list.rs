//! `perfcert list`: the certificates in an archive, a local directory or `s3://BUCKET[/PREFIX]`,
//! as laid out by certify: `ARCHIVE/YYYYMMDD/SERVICE-VERSION.cert.json`.

use std::io::{self, Write};
use std::path::Path;

use anyhow::anyhow;
use serde::Serialize;

use super::ui::Ui;
use crate::certificate::Certificate;
use crate::cli::{ListArgs, PathsFormat};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::s3::{Location, Store};

/// One archived certificate, found by its place in the layout.
struct Entry {
    day: String,
    /// The file path or the object URL.
    at: String,
    /// The S3 key, for fetching (empty for files).
    key: String,
}

#[derive(Serialize)]
struct Row {
    date: String,
    service: String,
    version: String,
    status: String,
    signer: &'static str,
    certificate: String,
}

pub fn run(args: ListArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let since = args.since.map(|d| d.strftime("%Y%m%d").to_string()).unwrap_or_default();
    if args.archive.starts_with("s3://") {
        return remote(args, &since, ui);
    }
    let mut entries = local_entries(Path::new(&args.archive))?;
    entries.retain(|e| e.day >= since);
    entries.sort_by(|a, b| (&a.day, &a.at).cmp(&(&b.day, &b.at)));
    let fetched: Vec<Result<Vec<u8>, String>> =
        entries.iter().map(|e| std::fs::read(&e.at).map_err(|err| fsutil::io_reason(&err))).collect();
    print(args, entries.into_iter().zip(fetched), ui)
}

/// Lists every page of the prefix, then fetches the certificates from `since` on.
fn remote(args: ListArgs, since: &str, ui: &Ui) -> Result<ExitStatus, Failure> {
    let location: Location = args.archive.parse().map_err(|e: String| Failure::input(anyhow!(e)))?;
    let store = Store::connect(args.endpoint_url.as_deref()).map_err(|e| Failure::external(anyhow!("{e}")))?;
    let prefix = if location.prefix.is_empty() { String::new() } else { format!("{}/", location.prefix) };
    let keys = store.list(&location.bucket, &prefix).map_err(|e| Failure::external(anyhow!("{e}")))?;
    let mut entries: Vec<Entry> = keys
        .into_iter()
        .filter_map(|key| {
            let day = day_of(key.strip_prefix(&prefix)?)?;
            Some(Entry { day, at: location.url(&key), key })
        })
        .filter(|e| e.day.as_str() >= since)
        .collect();
    entries.sort_by(|a, b| (&a.day, &a.at).cmp(&(&b.day, &b.at)));
    let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    let fetched = store.get_many(&location.bucket, &keys).into_iter().map(|r| r.map_err(|e| e.to_string()));
    print(args, entries.into_iter().zip(fetched), ui)
}

/// `YYYYMMDD/NAME.cert.json` (relative to the archive) -> `YYYYMMDD`.
fn day_of(relative: &str) -> Option<String> {
    let (day, name) = relative.split_once('/')?;
    let is_day = day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit());
    (is_day && !name.contains('/') && name.ends_with(".cert.json")).then(|| day.to_string())
}

fn local_entries(dir: &Path) -> Result<Vec<Entry>, Failure> {
    let unreadable = |p: &Path, e: io::Error| Failure::input(anyhow!("{}: {}", p.display(), fsutil::io_reason(&e)));
    let mut entries = vec![];
    for day in std::fs::read_dir(dir).map_err(|e| unreadable(dir, e))? {
        let day = day.map_err(|e| unreadable(dir, e))?.path();
        if !day.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&day).map_err(|e| unreadable(&day, e))? {
            let path = file.map_err(|e| unreadable(&day, e))?.path();
            let relative = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if let Some(day) = day_of(&relative) {
                entries.push(Entry { day, at: path.display().to_string(), key: String::new() });
            }
        }
    }
    Ok(entries)
}

fn print(
    args: ListArgs,
    found: impl Iterator<Item = (Entry, Result<Vec<u8>, String>)>,
    ui: &Ui,
) -> Result<ExitStatus, Failure> {
    let mut rows = vec![];
    for (entry, bytes) in found {
        let cert = bytes.and_then(|b| serde_json::from_slice::<Certificate>(&b).map_err(|e| e.to_string()));
        match cert {
            Ok(c) if args.service.as_ref().is_none_or(|s| *s == c.service) => rows.push(Row {
                signer: c.signature_name(),
                date: c.date,
                service: c.service,
                version: c.version,
                status: c.status,
                certificate: entry.at,
            }),
            Ok(_) => {}
            Err(why) => {
                ui.warn(&format!("{}: skipped, not a readable perfcert certificate: {why}", entry.at));
            }
        }
    }
    let mut out = io::stdout().lock();
    let written = match args.format {
        PathsFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows).expect("rows serialise")),
        PathsFormat::Text if rows.is_empty() => {
            ui.note(&format!("no certificates in {}", args.archive));
            Ok(())
        }
        PathsFormat::Text => table(&mut out, &rows),
    };
    super::ignore_broken_pipe(written).map_err(|e| Failure::external(anyhow!("stdout: {e}")))?;
    Ok(ExitStatus::Pass)
}

fn table(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    let header = ["DATE", "SERVICE", "VERSION", "STATUS", "SIGNER", "CERTIFICATE"];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            [r.date.as_str(), &r.service, &r.version, &r.status, r.signer, &r.certificate].map(String::from).to_vec()
        })
        .collect();
    write!(out, "{}", crate::report::columns(&header, &cells))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_archive_layout_is_listed() {
        assert_eq!(day_of("20261122/api-v1.cert.json").as_deref(), Some("20261122"));
        for other in ["20261122/api-v1.sigstore.json", "2026112/a.cert.json", "x/20261122/a.cert.json", "a.cert.json"] {
            assert_eq!(day_of(other), None, "{other}");
        }
    }
}
