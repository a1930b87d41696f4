//! `perfcert report` (a service's history as HTML and PDF) and `--report html=PATH` of compare,
//! tested as a person would use them: real archives, the page rendered in headless Chromium and
//! looked at (a screenshot that must not be blank, saved under target/report-look/ to open), the
//! PDF's text extracted with pdftotext and its first page rasterised with pdftoppm.
//!
//! Tests that need Chromium and poppler-utils FAIL when `CI` is set and they are missing (.ci/run
//! and scripts/test.sh install them), and are skipped with a loud message otherwise.

// A skipped browser test says so loudly, and the PDF's timing is printed, on stderr.
#![allow(clippy::print_stderr)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{command, fixture, perfcert, policy, root, text, workdir, workdir_with_keys};

fn archive() -> String {
    root().join("fixtures/report/archive").display().to_string()
}

/// Where a person finds the screenshots and pages the tests made.
fn look_dir() -> PathBuf {
    let dir = root().join("target/report-look");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Chromium and poppler-utils, or `None` (skip, loudly) outside CI.
fn tools() -> Option<PathBuf> {
    let chromium = perfcert::chromium::find(
        None,
        std::env::var_os("PERFCERT_CHROMIUM").as_deref(),
        std::env::var_os("PATH").as_deref(),
    );
    let poppler = Command::new("pdftotext").arg("-v").output().is_ok();
    match (chromium, poppler) {
        (Ok(c), true) => Some(c),
        (c, _) => {
            let why = format!(
                "needs Chromium and poppler-utils (apt-get install chromium poppler-utils): chromium {}, pdftotext {}",
                if c.is_ok() { "found" } else { "missing" },
                if poppler { "found" } else { "missing" }
            );
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(!ci, "CI is set: {why}");
            eprintln!("\n*** SKIPPED: {why} ***\n");
            None
        }
    }
}

/// Pixels that are not (near) white, of an RGB(A) image.
fn ink(pixels: &[u8], channels: usize) -> usize {
    pixels.chunks(channels).filter(|p| p[..3].iter().any(|&v| v < 200)).count()
}

/// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes): (width, height,
/// channels, pixels).
fn decode_png(bytes: &[u8]) -> (usize, usize, usize, Vec<u8>) {
    use std::io::Read;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut at, mut idat, mut header) = (8, vec![], None);
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => header = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let h = header.expect("IHDR");
    let (w, ht) = (
        u32::from_be_bytes(h[0..4].try_into().unwrap()) as usize,
        u32::from_be_bytes(h[4..8].try_into().unwrap()) as usize,
    );
    assert_eq!(h[8], 8, "8-bit");
    assert_eq!(h[12], 0, "not interlaced");
    let channels = match h[9] {
        2 => 3,
        6 => 4,
        t => panic!("colour type {t}"),
    };
    let mut raw = vec![];
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
    let stride = w * channels;
    let mut out = vec![0u8; stride * ht];
    for y in 0..ht {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels { out[y * stride + x - channels] as i32 } else { 0 };
            let b = if y > 0 { out[(y - 1) * stride + x] as i32 } else { 0 };
            let c = if x >= channels && y > 0 { out[(y - 1) * stride + x - channels] as i32 } else { 0 };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("filter {f}"),
            };
            out[y * stride + x] = (line[x] as i32 + predicted) as u8;
        }
    }
    (w, ht, channels, out)
}

/// A binary PPM (P6, what pdftoppm writes without -png): (width, height, pixels).
fn decode_ppm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = vec![];
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).to_string());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, bytes[at + 1..].to_vec())
}

#[test]
fn the_history_page_shows_the_releases_and_escapes_what_files_say() {
    let dir = workdir();
    let out = perfcert(
        dir.path(),
        &["report", &archive(), "--service", "ingest-api", "--format", "html", "--output", "r.html"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("wrote r.html (HTML, 5 releases of ingest-api)"), "{}", text(&out));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    for want in [
        "Performance history: ingest-api",
        "5 releases shown, v1.1 to v1.5&lt;script&gt;alert(1)&lt;/script&gt;",
        "Not a verification.",
        "perfcert verify",
        "Latest release: v1.5&lt;script&gt;alert(1)&lt;/script&gt;",
        "latency_p95_read",
        "Pass/fail per metric",
        "Cost per 1000 requests",
        "Regression: p95 over the last 5 release(s)",
        "SLO 300 ms",
        "allowed from its baseline",
        "<span class=\"FAIL\">FAIL</span>",
    ] {
        assert!(html.contains(want), "missing {want:?}");
    }
    // Self-contained and inert: nothing fetched, nothing run; the version is text.
    assert!(!html.contains("<script"), "a version's <script> must render as text");
    for fetch in ["src=", "href=", "@import", "url(", "https://"] {
        assert!(!html.contains(fetch), "the page must fetch nothing, found {fetch:?}");
    }
    assert!(html.contains("default-src 'none'"), "a CSP forbids any fetch");
    assert!(!html.contains("NaN") && !html.contains("inf<"), "no NaN or inf");
    assert_eq!(html.matches("<svg").count(), 5, "delta, counts, cost and two p95 charts");

    // --last 2: the two newest; the rolling chart shows what there is.
    let out = perfcert(
        dir.path(),
        &["report", "--archive", &archive(), "--service", "ingest-api", "--last", "2", "-o", "two.html"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let two = std::fs::read_to_string(dir.path().join("two.html")).unwrap();
    assert!(two.contains("2 releases shown, v1.4 to v1.5") && two.contains("(3 earlier in the archive)"));
    assert!(two.contains("over the last 2 release(s)"));
}

#[test]
fn the_history_page_of_a_fixed_archive_is_a_reviewed_snapshot() {
    use perfcert::index::Line;
    use perfcert::report::releases_html::{HistoryPage, render};
    let base = root().join("fixtures/report/archive");
    let mut lines = vec![];
    let index = base.join("index/dt=2026-11-30/service=ingest-api");
    let mut names: Vec<_> = std::fs::read_dir(&index).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for path in names {
        let line = Line::parse(&std::fs::read(&path).unwrap()).unwrap();
        lines.push((format!("archive/{}", line.certificate), line));
    }
    let history = perfcert::releases::History::of("ingest-api", lines, Some(5));
    let latest = &history.releases.last().unwrap().line.certificate;
    let cert = serde_json::from_slice(&std::fs::read(base.join(latest)).unwrap()).unwrap();
    let html = render(&HistoryPage {
        history: &history,
        archive: "archive",
        latest: Some(&cert),
        generated: "2026-12-01T09:00:00Z",
    });
    let html = html.replace(env!("CARGO_PKG_VERSION"), "VERSION");
    let snapshot = root().join("fixtures/report/history.html");
    if std::env::var("PERFCERT_SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::write(&snapshot, &html).unwrap();
    }
    let want = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        want == html,
        "the page changed: PERFCERT_SNAPSHOTS=overwrite cargo test --test report, then review the diff of {}",
        snapshot.display()
    );
    let again = render(&HistoryPage {
        history: &history,
        archive: "archive",
        latest: Some(&cert),
        generated: "2026-12-01T09:00:00Z",
    });
    assert_eq!(again.replace(env!("CARGO_PKG_VERSION"), "VERSION"), html, "deterministic");
}

#[test]
fn the_pdf_has_the_history_in_its_text_and_ink_on_its_pages() {
    let Some(_) = tools() else { return };
    let dir = workdir();
    let started = Instant::now();
    let out = perfcert(
        dir.path(),
        &["report", &archive(), "--service", "ingest-api", "--format", "pdf", "--output", "cab.pdf", "-v"],
    );
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    eprintln!("report --format pdf took {:.2} s", took.as_secs_f64());
    let pdf = dir.path().join("cab.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    std::fs::copy(&pdf, look_dir().join("cab.pdf")).unwrap();

    let txt = Command::new("pdftotext").args(["-layout"]).arg(&pdf).arg("-").output().unwrap();
    assert!(txt.status.success());
    let txt = String::from_utf8_lossy(&txt.stdout);
    for want in [
        "Performance history: ingest-api",
        "v1.1",
        "v1.2",
        "v1.5<script>alert(1)</script>",
        "latency_p95_read",
        "throughput",
        "error_rate",
        "PASS",
        "FAIL",
        "Not a verification",
        "SLO 300 ms",
    ] {
        assert!(txt.contains(want), "the PDF's text lacks {want:?}:\n{txt}");
    }
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("(A4)"), "A4 pages: {info}");

    // Page 1, rasterised: a page with a table and a chart has plenty of ink, not a blank sheet.
    let ppm = dir.path().join("page");
    let st = Command::new("pdftoppm")
        .args(["-r", "50", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(&ppm)
        .status()
        .unwrap();
    assert!(st.success());
    let (w, h, pixels) = decode_ppm(&std::fs::read(dir.path().join("page.ppm")).unwrap());
    let inked = ink(&pixels, 3);
    assert!(inked * 100 > w * h * 3, "page 1 is nearly blank: {inked} of {} pixels", w * h);
    let png = Command::new("pdftoppm")
        .args(["-r", "70", "-f", "1", "-l", "1", "-singlefile", "-png"])
        .arg(&pdf)
        .arg(look_dir().join("cab-page1"))
        .status();
    assert!(png.unwrap().success());
}

#[test]
fn the_page_in_chromium_is_not_blank() {
    let Some(chromium) = tools() else { return };
    let dir = workdir();
    let out = perfcert(dir.path(), &["report", &archive(), "--service", "ingest-api", "-o", "r.html"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shot = look_dir().join("history.png");
    let _ = std::fs::remove_file(&shot);
    let html = dir.path().join("r.html");
    perfcert::chromium::render(
        &chromium,
        &html,
        perfcert::chromium::Output::Png(&shot, 800, 2400),
        Duration::from_secs(60),
    )
    .unwrap();
    let (w, h, channels, pixels) = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (800, 2400));
    let inked = ink(&pixels, channels);
    assert!(inked * 100 > w * h * 3, "the screenshot is nearly blank: {inked} of {} pixels", w * h);
    // The charts are drawn in colour: green bars (PASS) and red (FAIL, limits) are there.
    let colour = |r: u8, g: u8, b: u8| {
        pixels
            .chunks(channels)
            .filter(|p| {
                (p[0] as i32 - r as i32).abs() < 30
                    && (p[1] as i32 - g as i32).abs() < 30
                    && (p[2] as i32 - b as i32).abs() < 30
            })
            .count()
    };
    assert!(colour(0x2e, 0x7d, 0x32) > 2000, "green bars");
    assert!(colour(0xc6, 0x28, 0x28) > 200, "red marks");
}

#[test]
fn without_chromium_pdf_says_what_to_install() {
    let dir = workdir();
    let empty = workdir();
    let out = command(dir.path())
        .env("PATH", empty.path())
        .env_remove("PERFCERT_CHROMIUM")
        .args(["report", &archive(), "--service", "ingest-api", "--format", "pdf", "-o", "r.pdf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("no Chromium found") && said.contains("apt-get install chromium"), "{said}");
    assert!(said.contains("--chromium PATH"), "{said}");
    assert!(!dir.path().join("r.pdf").exists());

    let out = perfcert(
        dir.path(),
        &["report", &archive(), "--service", "ingest-api", "-f", "pdf", "-o", "r.pdf", "--chromium", "/no/such/chrome"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("/no/such/chrome: not found or not executable"), "{}", text(&out));
}

#[test]
fn a_chromium_that_hangs_is_stopped_and_one_that_fails_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir();
    let fake = |name: &str, body: &str| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    };
    let hang = fake("hang", "exec sleep 30");
    let started = Instant::now();
    let out = perfcert(
        dir.path(),
        &[
            "report",
            &archive(),
            "--service",
            "ingest-api",
            "-f",
            "pdf",
            "-o",
            "r.pdf",
            "--chromium",
            hang.to_str().unwrap(),
            "--chromium-timeout",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(15), "stopped after its timeout");
    assert!(text(&out).contains("did not finish within 1 s and was stopped"), "{}", text(&out));

    let fail = fake("fail", "echo 'cannot open display' >&2; exit 7");
    let out = perfcert(
        dir.path(),
        &[
            "report",
            &archive(),
            "--service",
            "ingest-api",
            "-f",
            "pdf",
            "-o",
            "r.pdf",
            "--chromium",
            fail.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("failed (exit status: 7) and wrote no PDF: cannot open display"), "{}", text(&out));
    assert!(!dir.path().join("r.pdf").exists(), "nothing written");
}

#[test]
fn unknown_services_and_archives_are_input_errors() {
    let dir = workdir();
    let out = perfcert(dir.path(), &["report", &archive(), "--service", "nope", "-o", "r.html"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no certificates of service nope"), "{}", text(&out));
    let out = perfcert(dir.path(), &["report", "no-such-dir", "--service", "x", "-o", "r.html"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = perfcert(dir.path(), &["report", &archive(), "--service", "ingest-api", "-o", "no/such/dir/r.html"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!dir.path().join("r.html").exists());
}

#[test]
fn certify_then_report_end_to_end() {
    let dir = workdir_with_keys();
    let d = dir.path();
    for (version, current) in [("v2.0", "current.json"), ("v2.1", "current-regressed.json")] {
        let (b, c) = (fixture("baseline.json"), fixture(current));
        let args = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &policy()];
        let out = command(d).args(args).args(["--service", "shop", "--version", version, "--quiet"]).output().unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{}", text(&out));
    }
    let out = perfcert(d, &["report", "perf/certificates", "--service", "shop", "-o", "shop.html"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let html = std::fs::read_to_string(d.join("shop.html")).unwrap();
    assert!(
        html.contains("2 releases shown, v2.0 to v2.1")
            && html.contains("Latest release: v2.1 <span class=\"FAIL\">FAIL</span>")
    );
    assert!(html.contains("SLO 600 ms"), "limits come from the latest certificate");
}

#[test]
fn compare_writes_an_html_report_for_one_comparison() {
    let dir = workdir();
    let d = dir.path();
    let (b, c) = (fixture("baseline.json"), fixture("current-regressed.json"));
    let out = perfcert(
        d,
        &[
            "compare",
            "--baseline",
            &b,
            "--current",
            &c,
            "--thresholds",
            &policy(),
            "--quiet",
            "--report",
            "html=one.html",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let html = std::fs::read_to_string(d.join("one.html")).unwrap();
    for want in [
        "<h1>perfcert: <span class=\"FAIL\">FAIL</span></h1>",
        "Current vs baseline",
        "latency_p95_write",
        "<svg",
        "+18.54%",
    ] {
        assert!(html.contains(want), "missing {want:?}");
    }
    assert!(!html.contains("<script") && !html.contains("src="));
    // The same page on stdout with --format html.
    let out =
        perfcert(d, &["compare", "--baseline", &b, "--current", &c, "--thresholds", &policy(), "--format", "html"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!DOCTYPE html>"));
}
