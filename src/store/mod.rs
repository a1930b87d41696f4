//! The certificate archive: the only code that knows where things live in it and how they are
//! written. A local directory ([`local::Dir`]) and an S3 prefix ([`s3::S3Archive`]) sit behind
//! one [`Archive`] interface; [`layout`] names everything; [`Location`] is how a user names an
//! archive (a directory or `s3://BUCKET[/PREFIX]`), parsed once at the command line.
//!
//! Writes are create-only and complete-or-absent: nothing in an archive is ever overwritten,
//! and a reader never sees half a file. A certificate is claimed before it is signed
//! (`claims/STEM.json`, created exclusively), so a service and version is certified once per
//! archive, and concurrent certifies of one name each get their own `STEM.N`. Its bundle is
//! written before the certificate, so a certificate in the archive always has its signature.

pub mod layout;
pub mod local;
pub mod s3;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use layout::{Contents, Names};
pub use s3::{Encryption, PutOptions, Retention, S3Location};

/// Where an archive is: a local directory or an S3 bucket and prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    S3(S3Location),
}

impl FromStr for Location {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        if value.starts_with("s3://") {
            return value.parse().map(Location::S3);
        }
        if value.contains("://") {
            return Err(format!("`{value}`: expected a directory or s3://BUCKET[/PREFIX]"));
        }
        if value.is_empty() {
            return Err("expected a directory or s3://BUCKET[/PREFIX], found an empty value".into());
        }
        Ok(Location::Dir(PathBuf::from(value)))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(p) => write!(f, "{}", p.display()),
            Location::S3(l) => write!(f, "{l}"),
        }
    }
}

/// One stored object or file, named for people: a path or an `s3://` URL.
pub type Shown = String;

/// What a create-only write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    /// The name already held exactly these bytes (e.g. a retried upload).
    AlreadyThere,
}

/// A failed archive operation, said in one line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{at}: not found")]
    NotFound { at: Shown },
    /// The name is taken by other content (or by something that is not a file).
    #[error("{at}: already exists; it is never overwritten")]
    Taken { at: Shown },
    #[error("{at}: {reason}")]
    Io { at: Shown, reason: String },
    #[error(transparent)]
    S3(#[from] s3::S3Error),
}

/// A certificate archive. Names are relative to its root, `/`-separated, as [`layout`] makes
/// them.
pub trait Archive {
    /// The archive's root, for messages: a directory or `s3://BUCKET/PREFIX`.
    fn root(&self) -> String;

    /// A name as people see it: a path or an `s3://` URL.
    fn show(&self, relative: &str) -> Shown;

    /// Every name in the archive (unordered). A directory that does not exist is empty.
    fn list(&self) -> Result<Vec<String>, StoreError>;

    /// The names that start with `prefix` (`DAY/STEM.approval.`), without listing the whole
    /// archive where the store can avoid it (an S3 prefix listing; one local directory).
    fn list_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.list()?.into_iter().filter(|n| n.starts_with(prefix)).collect())
    }

    /// The bytes stored under `relative`.
    fn read(&self, relative: &str) -> Result<Vec<u8>, StoreError>;

    /// Several at once, in the order asked (S3 fetches them concurrently).
    fn read_many(&self, relative: &[String]) -> Vec<Result<Vec<u8>, StoreError>> {
        relative.iter().map(|r| self.read(r)).collect()
    }

    /// Creates `relative` with `bytes`, complete or not at all, never replacing anything:
    /// [`Put::AlreadyThere`] when it holds these very bytes, [`StoreError::Taken`] otherwise.
    fn create(&self, relative: &str, bytes: &[u8]) -> Result<Put, StoreError>;

    /// Removes a claim this run made and could not use (signing failed). Nothing else is ever
    /// removed.
    fn release_claim(&self, names: &Names) -> Result<(), StoreError>;
}

/// Claims the first free name for `stem` in every archive given (the local one first): `STEM`,
/// or with `force` the first `STEM.N` that is free in all of them. `day` is today's `YYYYMMDD`.
///
/// `contents` are the archives' listings; the claims themselves are what makes this safe
/// against concurrent certifies (created exclusively). On S3 nothing is written here: the
/// listing is the check, and the claim object is created at upload, before the files.
pub fn claim(
    local: &dyn Archive,
    local_contents: &Contents,
    others: &[&Contents],
    stem: &str,
    day: &str,
    force: bool,
    claim_content: impl Fn(&Names) -> String,
) -> Result<Names, ClaimError> {
    for n in 1..=10_000 {
        let names = Names::new(day, layout::nth(stem, n));
        let taken = local_contents.taken(&names.stem) || others.iter().any(|c| c.taken(&names.stem));
        if !taken {
            match local.create(&names.claim(), claim_content(&names).as_bytes()) {
                Ok(Put::Created) => return Ok(names),
                // Exclusive: another run's identical claim (same certificate, same second) is
                // still another run's.
                Ok(Put::AlreadyThere) | Err(StoreError::Taken { .. }) => {}
                Err(e) => return Err(ClaimError::Store(e)),
            }
        }
        if !force {
            return Err(ClaimError::Taken { stem: names.stem });
        }
    }
    Err(ClaimError::Exhausted { stem: stem.to_string() })
}

/// Copies a signed certificate into `archive` (S3, from the local archive) under the same
/// names: its claim, then its bundle, then the certificate, then its index line
/// ([`crate::index`]). Every name is checked free (or holding these very bytes) before the first
/// write, so a name taken by another certificate leaves no object of this run beside it.
/// Repeating a finished copy changes nothing (and adds the index line a copy made before the
/// index existed lacks).
pub fn copy_certificate(
    archive: &dyn Archive,
    contents: &Contents,
    names: &Names,
    certificate: &[u8],
    bundle: &[u8],
) -> Result<Vec<(Shown, Put)>, StoreError> {
    let claim = names.claim_content(&crate::signing::sha256_hex(certificate));
    let (index_name, index_line) =
        crate::index::entry(names, certificate).map_err(|reason| StoreError::Io { at: names.certificate(), reason })?;
    let files = [
        (names.claim(), claim.as_bytes()),
        (names.bundle(), bundle),
        (names.certificate(), certificate),
        (index_name.clone(), index_line.as_slice()),
    ];
    if let Some(other) = contents.other_day(names) {
        return Err(StoreError::Taken { at: archive.show(&other.certificate()) });
    }
    let mut index_there = false;
    for (relative, bytes) in &files {
        if contents.holds(relative) {
            let stored = archive.read(relative)?;
            if *relative == index_name && crate::index::same_certificate(&stored, bytes) {
                // Another perfcert's line for this very certificate: left as it is.
                index_there = true;
            } else if stored != *bytes {
                return Err(StoreError::Taken { at: archive.show(relative) });
            }
        }
    }
    let mut done = vec![];
    for (relative, bytes) in files {
        if index_there && relative == index_name {
            continue;
        }
        let put = archive.create(&relative, bytes)?;
        if relative != names.claim() && relative != index_name {
            done.push((archive.show(&relative), put));
        }
    }
    Ok(done)
}

/// The first name `STEM`, `STEM.2`, ... under which no verification record (nor its bundle) of
/// `day` is in any of the listings given: a record is never replaced, locally or in S3.
pub fn free_record_names(listings: &[&[String]], stem: &str, day: &str) -> Names {
    let taken = |name: &str| listings.iter().any(|l| l.iter().any(|k| k == name));
    (1..)
        .map(|n| Names::new(day, layout::nth(stem, n)))
        .find(|n| !taken(&n.daily_record(day)) && !taken(&n.daily_record_bundle(day)))
        .expect("some name is free")
}

/// Archives a signed verification record create-only: its bundle first, then the record (a
/// record in an archive always has its signature beside it). Both names are checked free (or
/// holding these very bytes) first, so a name taken meanwhile leaves no object of this run.
pub fn create_record(
    archive: &dyn Archive,
    names: &Names,
    day: &str,
    record: &[u8],
    bundle: &[u8],
) -> Result<Vec<(Shown, Put)>, StoreError> {
    let files = [(names.daily_record_bundle(day), bundle), (names.daily_record(day), record)];
    let listed = archive.list()?;
    for (relative, bytes) in &files {
        if listed.contains(relative) && archive.read(relative)? != *bytes {
            return Err(StoreError::Taken { at: archive.show(relative) });
        }
    }
    let mut done = vec![];
    for (relative, bytes) in files {
        let put = archive.create(&relative, bytes)?;
        done.push((archive.show(&relative), put));
    }
    Ok(done)
}

/// A service's index lines ([`crate::index`]), read and parsed, oldest first (by day, then
/// name); each with where it is, for messages. A line that cannot be read or parsed is an
/// `Err` with the reason.
pub fn index_lines(
    archive: &dyn Archive,
    contents: &Contents,
    service: &str,
) -> Vec<(Shown, Result<crate::index::Line, String>)> {
    let mut names = contents.index_of_service(service);
    names.sort();
    let fetched = archive.read_many(&names);
    names
        .iter()
        .zip(fetched)
        .map(|(relative, bytes)| {
            let line = bytes.map_err(|e| e.to_string()).and_then(|b| crate::index::Line::parse(&b));
            (archive.show(relative), line)
        })
        // A service whose cleaned name is another's (`a b` and `a_b`) shares its partition.
        .filter(|(_, line)| line.as_ref().map_or(true, |l| l.service == service))
        .collect()
}

/// What `perfcert index rebuild` did for one certificate.
#[derive(Debug)]
pub enum Rebuilt {
    Created(Shown),
    AlreadyThere(Shown),
    /// The certificate could not be read or parsed, or its line's name holds other bytes.
    Failed {
        at: Shown,
        reason: String,
    },
}

/// Writes the index line of every certificate in `archive` that lacks it (create-only: a line
/// that exists is left as it is, and one holding other bytes is reported, not replaced).
pub fn rebuild_index(archive: &dyn Archive, contents: &Contents) -> Vec<Rebuilt> {
    let mut certs: Vec<&Names> = contents.certificates.iter().collect();
    certs.sort_by(|a, b| (&a.day, &a.stem).cmp(&(&b.day, &b.stem)));
    let relative: Vec<String> = certs.iter().map(|n| n.certificate()).collect();
    let fetched = archive.read_many(&relative);
    let mut done = vec![];
    for (names, bytes) in certs.into_iter().zip(fetched) {
        let at = archive.show(&names.certificate());
        let entry = bytes.map_err(|e| e.to_string()).and_then(|b| crate::index::entry(names, &b));
        let (relative, line) = match entry {
            Ok(entry) => entry,
            Err(reason) => {
                done.push(Rebuilt::Failed { at, reason });
                continue;
            }
        };
        done.push(match archive.create(&relative, &line) {
            Ok(Put::Created) => Rebuilt::Created(archive.show(&relative)),
            Ok(Put::AlreadyThere) => Rebuilt::AlreadyThere(archive.show(&relative)),
            Err(StoreError::Taken { at }) => match archive.read(&relative) {
                // Another perfcert's line for this very certificate: left as it is.
                Ok(stored) if crate::index::same_certificate(&stored, &line) => {
                    Rebuilt::AlreadyThere(archive.show(&relative))
                }
                _ => Rebuilt::Failed {
                    at,
                    reason: "holds a line that does not match its certificate (edited, or not an index line); it is \
                             never overwritten: compare it with the certificate, and move it aside to rebuild it"
                        .into(),
                },
            },
            Err(e) => Rebuilt::Failed { at: archive.show(&relative), reason: e.to_string() },
        });
    }
    done
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("{stem} is already certified in this archive")]
    Taken { stem: String },
    #[error("no free name left for {stem}")]
    Exhausted { stem: String },
    #[error(transparent)]
    Store(StoreError),
}

/// The approvals stored beside a certificate.
#[derive(Debug, Default)]
pub struct Approvals {
    /// Relative name, role and number, in role and number order.
    pub found: Vec<(String, String, u32)>,
    /// Names shaped like approvals that are not honoured, said (escaped) with the reason.
    pub ignored: Vec<String>,
}

/// The approvals of the certificate `stem` in the folder `prefix` (`""` or `DAY/`) of an
/// archive, listed by the prefix `DAY/STEM.approval.` only.
pub fn approvals_of(archive: &dyn Archive, prefix: &str, stem: &str) -> Result<Approvals, StoreError> {
    let mut out = Approvals::default();
    for relative in archive.list_prefix(&format!("{prefix}{}", layout::approval_prefix(stem)))? {
        let Some(name) = relative.strip_prefix(prefix) else { continue };
        match layout::approval_of(stem, name) {
            Some(Ok((role, k))) => out.found.push((relative.clone(), role, k)),
            Some(Err(why)) => out.ignored.push(why),
            None => {}
        }
    }
    out.found.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
    out.ignored.sort();
    Ok(out)
}

/// Stores an approval of the certificate `stem` beside it under the lowest free number for its
/// role (numbers only name files: the order of decisions is their proven time); create-only, so
/// a concurrent approval takes the next number. Returns its relative name.
pub fn create_approval(
    archive: &dyn Archive,
    prefix: &str,
    stem: &str,
    role: &str,
    bytes: &[u8],
) -> Result<String, StoreError> {
    // The lowest number not taken: a planted name with a huge number cannot use up the rest.
    let taken: std::collections::BTreeSet<u32> =
        approvals_of(archive, prefix, stem)?.found.iter().filter(|(_, r, _)| r == role).map(|(_, _, k)| *k).collect();
    let exhausted = || StoreError::Io {
        at: archive.show(&format!("{prefix}{}", layout::approval_prefix(stem))),
        reason: format!("no free approval number for role {role} up to {}", layout::MAX_APPROVAL_K),
    };
    let mut k = 1;
    for _ in 0..100 {
        while taken.contains(&k) {
            k += 1;
        }
        if k > layout::MAX_APPROVAL_K {
            break;
        }
        let relative = format!("{prefix}{}", layout::approval_file_name(stem, role, k));
        match archive.create(&relative, bytes) {
            Ok(Put::Created) => return Ok(relative),
            Ok(Put::AlreadyThere) | Err(StoreError::Taken { .. }) => k += 1,
            Err(e) => return Err(e),
        }
    }
    Err(exhausted())
}

/// Opens the archive at `location`: a directory as is; S3 through the standard AWS chain
/// (`endpoint` or `AWS_ENDPOINT_URL` for an S3-compatible store).
pub fn open(location: &Location, endpoint: Option<&str>) -> Result<Box<dyn Archive>, StoreError> {
    open_writing(location, endpoint, PutOptions::default())
}

/// [`open`], writing S3 objects with `put` (encryption, Object Lock); a directory ignores it.
pub fn open_writing(
    location: &Location,
    endpoint: Option<&str>,
    put: PutOptions,
) -> Result<Box<dyn Archive>, StoreError> {
    Ok(match location {
        Location::Dir(dir) => Box::new(local::Dir::new(dir.clone())),
        Location::S3(l) => Box::new(s3::S3Archive::connect(l.clone(), endpoint, put)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_a_directory_or_s3() {
        assert_eq!("perf/certificates".parse(), Ok(Location::Dir("perf/certificates".into())));
        assert!(matches!("s3://perf-certs/team".parse::<Location>(), Ok(Location::S3(_))));
        assert!("s3://Bad_Bucket".parse::<Location>().unwrap_err().contains("not a bucket name"));
        assert!("gs://bucket".parse::<Location>().unwrap_err().contains("expected a directory or s3://"));
    }
}
