//! The local certificate archive: complete or absent across crashes at every file-system step,
//! certified once per archive (any day, legacy layouts too), concurrent certifies, taken names,
//! what list says, verify by name, and file modes under a umask.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{PASSWORD, perfcert, root, text, workdir_with_keys};

/// The binary, isolated as the suite runs it, and never crashing on purpose.
fn command(dir: &Path) -> Command {
    let mut cmd = common::command(dir);
    cmd.env_remove("PERFCERT_CRASH_AT");
    cmd
}

fn certify_args(version: &str) -> Vec<String> {
    let f = |n: &str| root().join("fixtures/perf004").join(n).display().to_string();
    let policy = root().join("perf_thresholds.yml").display().to_string();
    [
        "certify",
        "--key",
        "cosign.key",
        "--baseline",
        &f("baseline.json"),
        "--current",
        &f("current.json"),
        "--thresholds",
        &policy,
        "--service",
        "ingest-api",
        "--version",
        version,
    ]
    .map(String::from)
    .to_vec()
}

fn certify(dir: &Path, version: &str, extra: &[&str]) -> Output {
    let mut args = certify_args(version);
    args.extend(extra.iter().map(|s| s.to_string()));
    command(dir).args(&args).output().unwrap()
}

fn setup() -> tempfile::TempDir {
    workdir_with_keys()
}

/// Every file below `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut found = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

fn certificates(archive: &Path) -> Vec<PathBuf> {
    files(archive).into_iter().filter(|f| f.ends_with(".cert.json")).map(|f| archive.join(f)).collect()
}

/// Kills certify at each file-system step of writing the archive in turn (claim, bundle,
/// certificate: each a temporary file, then its link into place), and checks after each that
/// nothing in the archive passes for signed without its bundle, that list and verify agree,
/// and that the name can be certified again (with --force when the claim survived).
#[test]
fn a_crash_at_any_step_leaves_nothing_half_signed() {
    let mut completed = false;
    for step in 1..=20 {
        let dir = setup();
        let d = dir.path();
        let archive = d.join("perf/certificates");
        let out = command(d).args(certify_args("v1.4.2")).env("PERFCERT_CRASH_AT", step.to_string()).output().unwrap();
        if out.status.code() == Some(0) {
            assert!(step > 6, "certify wrote its claim, bundle and certificate in fewer steps ({step})");
            completed = true;
            break;
        }
        assert_eq!(out.status.code(), None, "step {step}: killed, not an error: {}", text(&out));
        let left = if archive.exists() { files(&archive) } else { vec![] };
        assert!(!left.iter().any(|f| f.contains("/.perfcert-") && f.ends_with(".json")), "{left:?}");

        // Every certificate present has its bundle, and verifies.
        for cert in certificates(&archive) {
            let bundle = cert.display().to_string().replace(".cert.json", ".sigstore.json");
            assert!(Path::new(&bundle).exists(), "step {step}: a certificate without its bundle: {left:?}");
            let out = perfcert(d, &["verify", cert.to_str().unwrap(), "--key", "cosign.pub"]);
            assert_eq!(out.status.code(), Some(0), "step {step}: {}", text(&out));
        }
        if archive.exists() {
            let listed = perfcert(d, &["list"]);
            assert_eq!(listed.status.code(), Some(0), "step {step}: {}", text(&listed));
            assert!(!text(&listed).contains("no bundle beside it"), "step {step}: {}", text(&listed));
            if certificates(&archive).is_empty() && left.iter().any(|f| f.starts_with("claims/ingest")) {
                assert!(text(&listed).contains("claimed, but no certificate was written"), "{}", text(&listed));
            }
        }

        // The name: free if nothing was claimed, else taken until --force.
        let again = certify(d, "v1.4.2", &[]);
        let claimed = left.iter().any(|f| f == "claims/ingest-api-v1.4.2.json");
        if claimed {
            assert_eq!(again.status.code(), Some(3), "step {step}: {}", text(&again));
            assert!(text(&again).contains("already certified"), "{}", text(&again));
            let forced = certify(d, "v1.4.2", &["--force"]);
            assert_eq!(forced.status.code(), Some(0), "step {step}: {}", text(&forced));
            assert!(text(&forced).contains("ingest-api-v1.4.2.2.cert.json"), "{}", text(&forced));
        } else {
            assert_eq!(again.status.code(), Some(0), "step {step}: {}", text(&again));
        }
    }
    assert!(completed, "certify never completed");
}

#[test]
fn a_name_is_certified_once_per_archive_whatever_the_day() {
    let dir = setup();
    let d = dir.path();
    let out = certify(d, "v1.4.2", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Move it to another day, as if certified yesterday by a perfcert before claims: no claim.
    let archive = d.join("perf/certificates");
    let today = files(&archive).into_iter().find(|f| f.ends_with(".cert.json")).unwrap();
    let day = today.split('/').next().unwrap().to_string();
    std::fs::rename(archive.join(&day), archive.join("20240101")).unwrap();
    std::fs::remove_dir_all(archive.join("claims")).unwrap();
    let again = certify(d, "v1.4.2", &[]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(
        text(&again).contains("ingest-api v1.4.2 is already certified in perf/certificates (perf/certificates/20240101/ingest-api-v1.4.2.cert.json)"),
        "{}",
        text(&again)
    );
    let forced = certify(d, "v1.4.2", &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(text(&forced).contains(&format!("{day}/ingest-api-v1.4.2.2.cert.json")), "{}", text(&forced));
}

#[test]
fn ten_concurrent_forced_certifies_each_get_their_own_name() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(certify(d, "v1.4.2", &[]).status.code(), Some(0));
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut args = certify_args("v1.4.2");
            args.extend(["--force".into(), "--format".into(), "json".into()]);
            command(d).args(&args).stdout(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let mut names = vec![];
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        names.push(v["certificate"].as_str().unwrap().to_string());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 10, "ten distinct names: {names:?}");
    let certs = certificates(&d.join("perf/certificates"));
    assert_eq!(certs.len(), 11);
    for n in 2..=11 {
        assert!(certs.iter().any(|c| c.ends_with(format!("ingest-api-v1.4.2.{n}.cert.json"))), "{n}: {certs:?}");
    }
    for cert in &certs {
        let out = perfcert(d, &["verify", cert.to_str().unwrap(), "--key", "cosign.pub"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
}

#[test]
fn a_dangling_symlink_takes_the_name() {
    let dir = setup();
    let d = dir.path();
    let claims = d.join("perf/certificates/claims");
    std::fs::create_dir_all(&claims).unwrap();
    std::os::unix::fs::symlink(d.join("nowhere"), claims.join("ingest-api-v1.4.2.json")).unwrap();
    let out = certify(d, "v1.4.2", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("already certified"), "{}", text(&out));
    let out = certify(d, "v1.4.2", &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("ingest-api-v1.4.2.2.cert.json"), "{}", text(&out));
}

#[test]
fn list_says_what_is_unsigned_and_unfinished_and_that_it_does_not_verify() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(certify(d, "v1.0.0", &[]).status.code(), Some(0));
    assert_eq!(certify(d, "v2.0.0", &[]).status.code(), Some(0));
    let archive = d.join("perf/certificates");
    let bundle = files(&archive).into_iter().find(|f| f.ends_with("v2.0.0.sigstore.json")).unwrap();
    std::fs::remove_file(archive.join(&bundle)).unwrap();
    std::fs::write(archive.join("claims/ingest-api-v3.0.0.json"), "{}").unwrap();
    let out = perfcert(d, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v2 = stdout.lines().find(|l| l.contains("v2.0.0")).unwrap();
    assert!(v2.contains("NO BUNDLE"), "{stdout}");
    assert!(stdout.lines().find(|l| l.contains("v1.0.0")).unwrap().contains("cosign-key"), "{stdout}");
    assert!(stderr.contains("ingest-api-v2.0.0.cert.json: no bundle beside it"), "{stderr}");
    assert!(stderr.contains("ingest-api-v3.0.0: claimed, but no certificate was written"), "{stderr}");
    assert!(stderr.contains("signatures are not verified"), "{stderr}");
    let json = perfcert(d, &["list", "--archive", "perf/certificates", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.iter().map(|r| r["bundle"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false]);
}

#[test]
fn verify_finds_a_certificate_by_name_and_pins_service_and_version() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(certify(d, "v1.4.2", &[]).status.code(), Some(0));
    assert_eq!(certify(d, "v1.4.2", &["--force"]).status.code(), Some(0));
    let by_name = ["verify", "--archive", "perf/certificates", "--service", "ingest-api", "--version", "v1.4.2"];
    let out = perfcert(d, &[&by_name[..], &["--key", "cosign.pub"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("ingest-api-v1.4.2.2.cert.json"), "the newest of that name: {}", text(&out));
    assert!(text(&out).contains("identity     OK: ingest-api v1.4.2, as required"), "{}", text(&out));
    let missing = ["verify", "--archive", "perf/certificates", "--service", "ingest-api", "--version", "v9"];
    let out = perfcert(d, &[&missing[..], &["--key", "cosign.pub"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no certificate of ingest-api v9"), "{}", text(&out));

    // A certificate checked against another version: exit 4, after the checks that passed.
    let cert = certificates(&d.join("perf/certificates")).remove(0);
    let out = perfcert(d, &["verify", cert.to_str().unwrap(), "--key", "cosign.pub", "--version", "v1.4.3"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("it records version v1.4.2; --version says v1.4.3"), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signature    OK"), "{}", text(&out));
}

#[test]
fn a_certificate_copied_under_another_name_is_refused() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(certify(d, "v1.4.2", &[]).status.code(), Some(0));
    let cert = certificates(&d.join("perf/certificates")).remove(0);
    let bundle = PathBuf::from(cert.display().to_string().replace(".cert.json", ".sigstore.json"));
    std::fs::copy(&cert, d.join("ingest-api-v1.4.3.cert.json")).unwrap();
    std::fs::copy(&bundle, d.join("ingest-api-v1.4.3.sigstore.json")).unwrap();
    let out = perfcert(d, &["verify", "ingest-api-v1.4.3.cert.json", "--key", "cosign.pub"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("it was signed as ingest-api-v1.4.2.cert.json, not as ingest-api-v1.4.3.cert.json"),
        "{}",
        text(&out)
    );
}

#[test]
fn user_mistakes_in_verify_are_exit_2_and_checks_print_before_the_one_that_failed() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(certify(d, "v1.4.2", &[]).status.code(), Some(0));
    let cert = certificates(&d.join("perf/certificates")).remove(0);
    let out = perfcert(d, &["verify", cert.to_str().unwrap(), "--key", "cosign.key"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cosign.key: this is the private key; give the public key (e.g. cosign.pub)"),
        "{}",
        text(&out)
    );

    // A wrong --recompute input: the signature itself was fine, and the output says so first.
    let f = |n: &str| root().join("fixtures/perf004").join(n).display().to_string();
    let policy = root().join("perf_thresholds.yml").display().to_string();
    let out = perfcert(
        d,
        &[
            "verify",
            cert.to_str().unwrap(),
            "--key",
            "cosign.pub",
            "--recompute",
            "--baseline",
            &f("baseline.json"),
            "--current",
            &f("current-regressed.json"),
            "--thresholds",
            &policy,
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for row in ["certificate ", "bundle ", "signature    OK", "content      OK", "subjects "] {
        assert!(stdout.contains(row), "{row}: {stdout}");
    }
    assert!(!stdout.contains("verdict"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not authentic: recomputation: current"), "{}", text(&out));
}

/// Reports, badges and certificates are 0644 under umask 022 and 0640 under 027, as files
/// other tools make; the private key stays 0600.
#[test]
fn files_honour_the_umask() {
    for (umask, public, private) in [("022", 0o644, 0o600), ("027", 0o640, 0o600)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bin = env!("CARGO_BIN_EXE_perfcert");
        let mut args = certify_args("v1.4.2");
        args.extend(["--report", "json=report.json", "--badge", "badge.svg"].map(String::from));
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let script = format!("umask {umask} && '{bin}' keygen && '{bin}' {}", quoted.join(" "));
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(d)
            .env("PERFCERT_NO_GITHUB", "1")
            .env("COSIGN_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let archive = d.join("perf/certificates");
        let mut written: Vec<PathBuf> = files(&archive).into_iter().map(|f| archive.join(f)).collect();
        written.extend(["report.json", "badge.svg", "badge.json", "cosign.pub"].map(|f| d.join(f)));
        for path in written {
            assert_eq!(mode(&path), public, "umask {umask}: {}", path.display());
        }
        assert_eq!(mode(&d.join("cosign.key")), private, "umask {umask}");
    }
}
