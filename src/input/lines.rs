//! Reading big line-oriented files (k6 `--out json` and `--out csv`) fast and in flat memory.
//!
//! A [`LineSink`] sees every line once. Plain files are split into one byte range per core, each
//! read with its own buffer into its own sink, and the sinks are merged at the end; gzip files
//! are inflated on one thread while another feeds the sink. Memory is a few buffers whatever the
//! file size. Progress (bytes of the file consumed) goes to an atomic counter for whoever draws it.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use crate::error::LoadError;

/// Read size for plain files (per thread): small enough that a block copied from the page
/// cache is still in the core's cache when it is parsed (4 MB blocks were measurably slower).
const BLOCK: usize = 256 << 10;
/// Block size and queue depth between the gzip inflater and the parser: enough to keep both
/// busy, small enough to keep memory flat.
const GZ_BLOCK: usize = 1 << 20;
const GZ_QUEUE: usize = 2;

/// What consumes the lines of a file. One sink per thread; [`LineSink::absorb`] merges them in
/// file order.
pub trait LineSink: Send {
    /// Handles one line (without its `\n`); an error is a message for the caller to locate.
    fn line(&mut self, line: &[u8]) -> Result<(), String>;
    /// Adds the results of a sink that read a later part of the file.
    fn absorb(&mut self, later: Self)
    where
        Self: Sized;
}

/// Whether a file starts with the gzip magic bytes.
pub fn is_gzip(f: &File) -> io::Result<bool> {
    let mut magic = [0u8; 2];
    Ok(f.read_at(&mut magic, 0)? == 2 && magic == [0x1f, 0x8b])
}

/// Reads every line of `path` (gzip or plain) into sinks made by `make`; `threads` overrides the
/// number of ranges a plain file is split into (tests).
pub fn read<S: LineSink>(
    path: &Path,
    make: &(dyn Fn() -> S + Sync),
    threads: Option<usize>,
    progress: &AtomicU64,
) -> Result<S, LoadError> {
    let file = path.display().to_string();
    let io_err = |e: io::Error| LoadError::new(&file, crate::fsutil::io_reason(&e));
    let f = File::open(path).map_err(io_err)?;
    if is_gzip(&f).map_err(io_err)? {
        return read_gzip(f, make, &file, progress);
    }
    let len = f.metadata().map_err(io_err)?.len();
    let threads = threads.unwrap_or_else(|| {
        // Small files are not worth a thread.
        if len < 8 << 20 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) }
    });
    read_plain_split(&f, len, make, &file, threads, progress)
}

/// Reads an in-memory text (tests, and inputs already in memory).
pub fn read_text<S: LineSink>(file: &str, text: &[u8], mut sink: S) -> Result<S, LoadError> {
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        sink.line(line).map_err(|m| LoadError::new(file, m).at(i as u64 + 1, 1))?;
    }
    Ok(sink)
}

/// Splits one CSV record (RFC 4180 quoting, on one line) into field boundaries.
pub fn split_csv(line: &[u8], out: &mut Vec<(usize, usize, bool)>) -> Result<(), String> {
    out.clear();
    let mut pos = 0;
    loop {
        if line.get(pos) == Some(&b'"') {
            let start = pos + 1;
            let mut i = start;
            let mut escaped = false;
            loop {
                match memchr::memchr(b'"', &line[i..]) {
                    None => return Err("a quoted field is not closed on its line".into()),
                    Some(q) if line.get(i + q + 1) == Some(&b'"') => {
                        escaped = true;
                        i += q + 2;
                    }
                    Some(q) => {
                        out.push((start, i + q, escaped));
                        pos = i + q + 1;
                        break;
                    }
                }
            }
            match line.get(pos) {
                None => return Ok(()),
                Some(b',') => pos += 1,
                Some(_) => return Err("unexpected text after a quoted field".into()),
            }
        } else {
            match memchr::memchr(b',', &line[pos..]) {
                Some(c) => {
                    out.push((pos, pos + c, false));
                    pos += c + 1;
                }
                None => {
                    out.push((pos, line.len(), false));
                    return Ok(());
                }
            }
        }
    }
}

/// Reads a plain file as `threads` byte ranges in parallel.
fn read_plain_split<S: LineSink>(
    f: &File,
    len: u64,
    make: &(dyn Fn() -> S + Sync),
    file: &str,
    threads: usize,
    progress: &AtomicU64,
) -> Result<S, LoadError> {
    let threads = threads.max(1) as u64;
    let bounds: Vec<u64> = (0..=threads).map(|i| len * i / threads).collect();
    let results: Vec<Result<S, ChunkError>> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (start, end) = (w[0], w[1]);
                s.spawn(move || read_range(f, start, end, make(), progress))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("reader thread panicked")).collect()
    });
    let mut total: Option<S> = None;
    for r in results {
        match r {
            Ok(sink) => match &mut total {
                None => total = Some(sink),
                Some(t) => t.absorb(sink),
            },
            Err(e) => return Err(e.into_load_error(f, file)),
        }
    }
    Ok(total.unwrap_or_else(make))
}

/// A failure inside one byte range, located by the offset of its line.
struct ChunkError {
    offset: u64,
    message: String,
}

impl ChunkError {
    /// Turns the offset into a line number (counting newlines: only on this error path).
    fn into_load_error(self, f: &File, file: &str) -> LoadError {
        let mut line = 1u64;
        let mut pos = 0u64;
        let mut buf = vec![0u8; BLOCK];
        while pos < self.offset {
            let want = ((self.offset - pos) as usize).min(BLOCK);
            match f.read_at(&mut buf[..want], pos) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                    pos += n as u64;
                }
            }
        }
        LoadError::new(file, self.message).at(line, 1)
    }
}

/// Feeds `sink` the lines that start in `[start, end)`.
fn read_range<S: LineSink>(f: &File, start: u64, end: u64, mut sink: S, progress: &AtomicU64) -> Result<S, ChunkError> {
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0usize; // bytes of buf in use
    let mut buf_offset = start; // file offset of buf[0]
    let mut eof = false;
    let mut reported = start; // progress reported up to this offset
    let io = |offset: u64| move |e: io::Error| ChunkError { offset, message: e.to_string() };
    // A range that does not begin right after a newline starts inside a line owned by the
    // previous range: skip to the next line.
    let mut skip_partial = start > 0 && {
        let mut b = [0u8; 1];
        f.read_at(&mut b, start - 1).map_err(io(start))? == 1 && b[0] != b'\n'
    };
    loop {
        if !eof && filled < buf.len() {
            let n = f.read_at(&mut buf[filled..], buf_offset + filled as u64).map_err(io(buf_offset))?;
            if n == 0 {
                eof = true;
            }
            filled += n;
            let upto = (buf_offset + filled as u64).min(end);
            if upto > reported {
                progress.fetch_add(upto - reported, Ordering::Relaxed);
                reported = upto;
            }
        }
        let mut pos = 0usize;
        if skip_partial {
            match memchr::memchr(b'\n', &buf[..filled]) {
                Some(i) => {
                    pos = i + 1;
                    skip_partial = false;
                }
                None if eof => return Ok(sink),
                None => {
                    buf_offset += filled as u64;
                    filled = 0;
                    continue;
                }
            }
        }
        loop {
            let line_offset = buf_offset + pos as u64;
            if line_offset >= end {
                return Ok(sink);
            }
            let rest = &buf[pos..filled];
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], pos + i + 1),
                None if eof => (rest, filled),
                None => break,
            };
            sink.line(line).map_err(|message| ChunkError { offset: line_offset, message })?;
            pos = next;
            if pos >= filled && eof {
                return Ok(sink);
            }
        }
        // Keep the partial line; grow the buffer if one line is longer than it.
        buf.copy_within(pos..filled, 0);
        buf_offset += pos as u64;
        filled -= pos;
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        if eof && filled == 0 {
            return Ok(sink);
        }
    }
}

/// Counts the compressed bytes the inflater has consumed.
struct Counting<'a, R> {
    inner: R,
    progress: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn read_gzip<S: LineSink>(
    f: File,
    make: &(dyn Fn() -> S + Sync),
    file: &str,
    progress: &AtomicU64,
) -> Result<S, LoadError> {
    // One thread inflates into blocks that end at a newline; this one parses them.
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(GZ_QUEUE);
    std::thread::scope(|s| {
        s.spawn(move || {
            let counted = Counting { inner: f, progress };
            let mut gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, counted));
            let mut carry: Vec<u8> = Vec::new();
            loop {
                let mut block = std::mem::take(&mut carry);
                let start = block.len();
                block.resize(start + GZ_BLOCK, 0);
                let mut filled = start;
                let mut eof = false;
                while filled < block.len() {
                    match gz.read(&mut block[filled..]) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                block.truncate(filled);
                if !eof {
                    match memchr::memrchr(b'\n', &block) {
                        Some(i) => carry.extend_from_slice(&block[i + 1..]),
                        None => {
                            // One line longer than a block: keep reading into it.
                            carry = block;
                            continue;
                        }
                    }
                    let keep = block.len() - carry.len();
                    block.truncate(keep);
                }
                if tx.send(Ok(block)).is_err() || eof {
                    return;
                }
            }
        });
        let mut sink = make();
        let mut line_no = 0u64;
        // `rx` is moved in: an early return drops it, which stops the inflater.
        for block in rx {
            let block = block.map_err(|e| LoadError::new(file, format!("cannot decompress gzip: {e}")))?;
            for line in block.split(|&b| b == b'\n') {
                line_no += 1;
                sink.line(line).map_err(|m| LoadError::new(file, m).at(line_no, 1))?;
            }
            // `split` yields one empty piece after a final newline; it is not a line.
            if block.last() == Some(&b'\n') {
                line_no -= 1;
            }
        }
        Ok(sink)
    })
}
