//! Hostile key files: a cosign key file names its own scrypt cost (N, r, p), so a crafted one
//! could make certify allocate gigabytes or grind for minutes. certify refuses at once (exit
//! 2, naming the file, the parameters and the limit) beyond the bound, before the password and
//! before deriving anything, while keys cosign writes keep working.
//!
//! The crafted files need no valid ciphertext: the refusal comes before key derivation. The
//! binary runs under `ulimit -v` and a deadline, so that code without the bound fails the test
//! quickly instead of exhausting the machine.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A cosign key file with these scrypt parameters and a ciphertext that is not one.
fn crafted(dir: &Path, n: u64, r: u32, p: u32) -> PathBuf {
    let json = format!(
        r#"{{"kdf":{{"name":"scrypt","params":{{"N":{n},"r":{r},"p":{p}}},"salt":"{salt}"}},"cipher":{{"name":"nacl/secretbox","nonce":"{nonce}"}},"ciphertext":"{ct}"}}"#,
        salt = STANDARD.encode([7u8; 32]),
        nonce = STANDARD.encode([9u8; 24]),
        ct = STANDARD.encode([1u8; 80]),
    );
    let body = STANDARD.encode(json);
    let mut pem = String::from("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    let path = dir.join(format!("hostile-N{n}-r{r}-p{p}.key"));
    std::fs::write(&path, pem).unwrap();
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// `perfcert certify --key KEY` on fixtures/perf004, under 2 GiB of address space and a
/// 30-second deadline (then killed).
fn certify(dir: &Path, key: &Path) -> Run {
    let f = |n: &str| root().join("fixtures/perf004").join(n).display().to_string();
    let thresholds = root().join("perf_thresholds.yml").display().to_string();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -v 2097152 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_perfcert"))
        .args(["certify", "--key"])
        .arg(key)
        .args(["--baseline", &f("baseline.json"), "--current", &f("current.json"), "--thresholds", &thresholds])
        .args(["--service", "shop", "--version", "v1.0.0", "--format", "json"])
        .current_dir(dir)
        .env("COSIGN_PASSWORD", "")
        .env("NO_COLOR", "1")
        .env("PERFCERT_NO_GITHUB", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    Run { code: status.and_then(|s| s.code()), stdout, stderr, took }
}

#[test]
fn a_key_file_asking_for_gigabytes_of_scrypt_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // 4 GiB (the issue's file), 1 GiB, 64 times cosign's work through p, and through r.
    for (n, r, p, says) in [
        (1 << 20, 32, 16, "N=1048576 r=32 p=16 would take 4 GiB of memory and 64 GiB of work"),
        (1 << 20, 8, 1, "N=1048576 r=8 p=1 would take 1 GiB of memory"),
        (1 << 15, 8, 64, "N=32768 r=8 p=64 would take 32 MiB of memory and 2 GiB of work"),
        (1 << 15, 256, 1, "N=32768 r=256 p=1 would take 1 GiB of memory"),
    ] {
        let key = crafted(dir.path(), n, r, p);
        let run = certify(dir.path(), &key);
        assert_eq!(run.code, Some(2), "N={n} r={r} p={p} (took {:?}): {}{}", run.took, run.stdout, run.stderr);
        let said = run.stderr;
        assert!(said.contains(&format!("{}: scrypt parameters", key.display())), "names the file: {said}");
        assert!(said.contains(says), "{said}");
        assert!(said.contains("at most 128 MiB of memory and 256 MiB of work"), "names the limit: {said}");
        assert!(run.took < Duration::from_millis(900), "refused in {:?}, not at once", run.took);
        assert!(std::fs::read_dir(dir.path().join("perf")).is_err(), "nothing was archived");
    }
}

#[test]
fn a_key_cosign_wrote_still_signs() {
    let dir = tempfile::tempdir().unwrap();
    let key = root().join("fixtures/keys/cosign-generated-empty-password.key");
    let run = certify(dir.path(), &key);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed["status"], "PASS");
    assert!(dir.path().join(printed["bundle"].as_str().unwrap()).is_file());
}
