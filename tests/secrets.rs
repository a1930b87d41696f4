//! Echoed secrets: a server or proxy that answers with the request it received (headers and
//! body) in its error must not make perfcert print the identity token, the CI's token-request
//! token or the AWS session token. Each test runs the binary against a loopback server
//! (127.0.0.1, a free port, a bounded number of connections) that echoes, and checks that the
//! secret appears nowhere in stdout or stderr while the error still says what failed.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SAN: &str = "https://github.com/acme/shop/.github/workflows/perf.yml@refs/heads/main";
const REQUEST_TOKEN: &str = "ghs_RequestTokenThatMustNeverBePrinted0123456789";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEJr//////////wEaDKsession+token/that/must+never+be/printed==";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYsecretkey+xyz";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An unsigned JWT for Sigstore, valid for ten minutes (a loopback Fulcio does not check it).
fn jwt() -> String {
    let now = jiff::Timestamp::now().as_second();
    let claims = serde_json::json!({"iss": ISSUER, "aud": "sigstore", "sub": SAN, "iat": now, "exp": now + 600});
    let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        enc(serde_json::json!({"alg": "ES256", "typ": "JWT"})),
        enc(claims),
        URL_SAFE_NO_PAD.encode("a signature")
    )
}

/// How the echo server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// This status, with the request as a plain-text body.
    Echo(u16),
    /// An S3 error document with this status and code, the request as its message.
    S3Error(u16, &'static str),
}

/// A loopback server that answers every request by echoing it, for at most `limit` requests
/// or 60 seconds; `url` is its base. Requests are kept for the test to see what was sent.
struct Echo {
    url: String,
    seen: std::sync::mpsc::Receiver<String>,
}

impl Echo {
    fn start(answer: Answer, limit: usize) -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let (tx, seen) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let mut served = 0;
            while served < limit && std::time::Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        if let Some(request) = serve(stream, answer) {
                            let _ = tx.send(request);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Echo { url, seen }
    }

    /// Every request received so far.
    fn requests(&self) -> String {
        self.seen.try_iter().collect::<Vec<_>>().join("\n")
    }
}

/// Reads one request (head and `Content-Length` body, bounded) and echoes it.
fn serve(stream: TcpStream, answer: Answer) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request = String::new();
    let mut length = 0usize;
    for _ in 0..200 {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
        request.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    request.push_str(&String::from_utf8_lossy(&body));
    let (status, content_type, body) = match answer {
        Answer::Echo(status) => (status, "text/plain", request.clone()),
        Answer::S3Error(status, code) => {
            let escaped = request.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{escaped}</Message>\
                 <RequestId>echo</RequestId></Error>"
            );
            (status, "application/xml", xml)
        }
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} Echo\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    Some(request)
}

/// A GitHub Actions token endpoint that hands out `token` (and records the requests).
fn token_endpoint(token: String) -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let (tx, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // One request is expected; a few are allowed, then the thread ends.
        for stream in listener.incoming().take(3) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = vec![0; 8192];
            let n = stream.read(&mut head).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&head[..n]).into_owned());
            let body = serde_json::json!({ "value": token }).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Echo { url, seen }
}

/// The binary, with nothing of the machine's CI or AWS identity leaking in.
fn perfcert(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = common::command(dir);
    cmd.args(args).env("COSIGN_PASSWORD", "");
    for var in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_SESSION_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let child: Child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.wait_with_output().unwrap()
}

use common::text;

/// The inputs of a certify run, from fixtures/perf004.
fn inputs() -> Vec<String> {
    let f = |n: &str| root().join("fixtures/perf004").join(n).display().to_string();
    let p = root().join("perf_thresholds.yml").display().to_string();
    ["--baseline".into(), f("baseline.json"), "--current".into(), f("current.json"), "--thresholds".into(), p].into()
}

fn certify_keyless(dir: &Path, fulcio: &str, rekor: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec!["certify", "--keyless", "--fulcio-url", fulcio, "--rekor-url", rekor];
    let inputs = inputs();
    args.extend(inputs.iter().map(String::as_str));
    args.extend(extra);
    perfcert(dir, &args, env)
}

/// Neither `secret` nor any long piece of it (a JWT's claims or signature) was printed.
fn assert_hidden(out: &Output, secret: &str, what: &str) {
    let said = text(out);
    assert!(!said.contains(secret), "the {what} was printed:\n{said}");
    for piece in secret.split('.').filter(|p| p.len() >= 12) {
        assert!(!said.contains(piece), "part of the {what} was printed ({piece}):\n{said}");
    }
}

#[test]
fn fulcio_echoing_the_identity_token_does_not_print_it() {
    let dir = tempfile::tempdir().unwrap();
    let token = jwt();
    for given in ["env", "flag"] {
        let echo = Echo::start(Answer::Echo(400), 4);
        let (flag, env): (Vec<&str>, Vec<(&str, &str)>) = match given {
            "env" => (vec![], vec![("SIGSTORE_ID_TOKEN", &token)]),
            _ => (vec!["--identity-token", &token], vec![]),
        };
        let out = certify_keyless(dir.path(), &echo.url, &echo.url, &flag, &env);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        assert!(echo.requests().contains(&token), "the echo server got the token (else this proves nothing)");
        assert_hidden(&out, &token, "identity token");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("keyless signing failed") && said.contains("HTTP 400"), "{said}");
        assert!(said.contains("signing certificate") && said.contains("[redacted]"), "{said}");
    }
}

#[test]
fn the_github_token_endpoint_echoing_the_request_token_does_not_print_it() {
    let dir = tempfile::tempdir().unwrap();
    let echo = Echo::start(Answer::Echo(403), 4);
    let endpoint = format!("{}/token?api-version=2.0", echo.url);
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", endpoint.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ];
    let out = certify_keyless(dir.path(), &echo.url, &echo.url, &[], &env);
    assert!(echo.requests().contains(REQUEST_TOKEN), "the endpoint got the request token");
    assert_hidden(&out, REQUEST_TOKEN, "token-request token");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot get the CI's identity token") && said.contains("403"), "{said}");
    assert_eq!(out.status.code(), Some(3), "{said}");
}

#[test]
fn an_ambient_token_that_fulcio_echoes_is_not_printed() {
    // The token the CI hands out is in no environment variable: it is remembered when obtained.
    let dir = tempfile::tempdir().unwrap();
    let token = jwt();
    let endpoint = token_endpoint(token.clone());
    let fulcio = Echo::start(Answer::Echo(401), 4);
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", endpoint.url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ];
    let out = certify_keyless(dir.path(), &fulcio.url, &fulcio.url, &[], &env);
    assert!(endpoint.requests().contains(REQUEST_TOKEN), "the token endpoint was asked");
    assert!(fulcio.requests().contains(&token), "Fulcio got the ambient token");
    assert_hidden(&out, &token, "ambient identity token");
    assert_hidden(&out, REQUEST_TOKEN, "token-request token");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("keyless signing failed") && said.contains("HTTP 401"), "{said}");
    assert_eq!(out.status.code(), Some(3), "{said}");
}

#[test]
fn s3_echoing_the_session_token_does_not_print_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = root().join("fixtures/keys/cosign-generated-empty-password.key").display().to_string();
    let env = [
        ("AWS_ACCESS_KEY_ID", "ASIAECHOTESTACCESSKEY"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("AWS_REGION", "us-east-1"),
    ];
    // An error the SDK's message carries as it is, and one perfcert turns into a sentence.
    for (answer, says) in [
        (Answer::S3Error(400, "InvalidArgument"), "HTTP 400: InvalidArgument"),
        (Answer::S3Error(403, "SignatureDoesNotMatch"), "the AWS credentials were refused"),
    ] {
        let echo = Echo::start(answer, 4);
        let mut args = vec!["certify", "--key", key.as_str(), "--version", "v1.0.0"];
        let inputs = inputs();
        args.extend(inputs.iter().map(String::as_str));
        args.extend(["--upload", "s3://perf-certs/team", "--endpoint-url", echo.url.as_str()]);
        let out = perfcert(d, &args, &env);
        let sent = echo.requests();
        assert!(sent.to_ascii_lowercase().contains("x-amz-security-token"), "the session token was sent: {sent}");
        assert_hidden(&out, SESSION_TOKEN, "session token");
        assert_hidden(&out, SECRET_KEY, "secret key");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("--upload s3://perf-certs/team") && said.contains(says), "{said}");
        assert!(!said.contains("Signature="), "the request signature was printed: {said}");
        assert_eq!(out.status.code(), Some(3), "{said}");

        let echo = Echo::start(answer, 4);
        let out = perfcert(d, &["list", "--archive", "s3://perf-certs/team", "--endpoint-url", &echo.url], &env);
        assert_hidden(&out, SESSION_TOKEN, "session token");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("s3://perf-certs") && said.contains(says), "{said}");
        assert_eq!(out.status.code(), Some(3), "{said}");
    }
}

/// The loopback Fulcio/Rekor/TSA stand-in of tests/keyless.rs (npm `@sigstore/mock` handlers,
/// installed by scripts/test.sh), until dropped.
struct Mock {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Mock {
    fn start() -> Mock {
        let tools = std::env::var_os("PERFCERT_TEST_TOOLS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target/test-tools"));
        assert!(
            tools.join("node_modules/@sigstore/mock").exists(),
            "the Sigstore test tools are missing: run the suite with scripts/test.sh, which installs them"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("node")
            .arg(root().join("tests/interop/mock-sigstore-server.js"))
            .arg(dir.path().join("trusted_root.json"))
            .arg("120")
            .env("NODE_PATH", tools.join("node_modules"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("mock server: {line:?}")).to_string();
        Mock { child, url, _dir: dir }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn rekor_and_the_tsa_failing_say_which_and_print_no_token() {
    // A working Fulcio, then an echoing Rekor; then a working Rekor and an echoing TSA.
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let token = jwt();
    let env = [("SIGSTORE_ID_TOKEN", token.as_str())];
    let rekor = Echo::start(Answer::Echo(500), 8);
    let out = certify_keyless(dir.path(), &mock.url, &rekor.url, &[], &env);
    assert!(!rekor.requests().is_empty(), "Rekor was asked");
    assert_hidden(&out, &token, "identity token");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("keyless signing failed") && said.contains("Rekor") && said.contains("500"), "{said}");
    assert_eq!(out.status.code(), Some(3), "{said}");

    let tsa = Echo::start(Answer::Echo(400), 8);
    let out = certify_keyless(dir.path(), &mock.url, &mock.url, &["--tsa-url", &tsa.url], &env);
    assert!(!tsa.requests().is_empty(), "the TSA was asked");
    assert_hidden(&out, &token, "identity token");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("keyless signing failed") && said.contains("TSA") && said.contains("400"), "{said}");
    assert_eq!(out.status.code(), Some(3), "{said}");
}
