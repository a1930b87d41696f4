//! Keyless certify / verify (and baseline promote) through the binary's real network path,
//! offline: a loopback Fulcio / Rekor / TSA stand-in (npm `@sigstore/mock` handlers behind
//! tests/interop/mock-sigstore-server.js, on 127.0.0.1) issues the certificates and logs the signatures.
//! The bundles are also checked by sigstore-js (`@sigstore/verify`) and sigstore-python; and a
//! real production bundle is verified against the public-good trusted root.
//!
//! The tools are installed pinned by scripts/test.sh under target/test-tools.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{command, fixture, policy, root, text, workdir};
use perfcert::signing::VerifyError;
use perfcert::signing::keyless::{self, IdentityRule};

use common::sigstore::{ISSUER, Mock, SAN, jwt, tools};

/// The binary with these extra variables.
fn perfcert(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir).args(args).envs(env.iter().copied()).output().unwrap()
}

/// `certify --keyless` against the stand-in; returns the output and the two paths.
fn certify(dir: &Path, url: &str, env: &[(&str, &str)], extra: &[&str]) -> (Output, PathBuf, PathBuf) {
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let mut args = vec!["certify", "--keyless", "--fulcio-url", url, "--rekor-url", url];
    args.extend(["--baseline", &b, "--current", &c, "--thresholds", &p]);
    args.extend(["--approver", "qa-lead", "--format", "json"]);
    args.extend(extra);
    let out = perfcert(dir, &args, env);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let path = |k: &str| dir.join(v[k].as_str().unwrap_or_default());
    (out, path("certificate"), path("bundle"))
}

fn verify(dir: &Path, cert: &Path, extra: &[&str]) -> Output {
    let c = cert.display().to_string();
    let mut args = vec!["verify", &c];
    args.extend(extra);
    perfcert(dir, &args, &[])
}

/// Runs verify-keyless.js and verify_keyless.py; true for each that accepted.
fn independent(root_json: &Path, artifact: &Path, bundle: &Path, san: &str, issuer: &str) -> (Output, Output) {
    independent_of(root_json, artifact, bundle, san, issuer, perfcert::certificate::PREDICATE_TYPE)
}

/// As [`independent`], for a statement of `predicate_type`.
fn independent_of(
    root_json: &Path,
    artifact: &Path,
    bundle: &Path,
    san: &str,
    issuer: &str,
    predicate_type: &str,
) -> (Output, Output) {
    let tools = tools();
    let args = |c: &mut Command| {
        c.args([root_json, artifact, bundle]).args([san, issuer, predicate_type]);
    };
    let mut node = Command::new("node");
    node.arg(root().join("tests/interop/verify-keyless.js")).env("NODE_PATH", tools.join("node_modules"));
    args(&mut node);
    let mut python = Command::new(tools.join("venv/bin/python"));
    python.arg(root().join("tests/interop/verify_keyless.py"));
    args(&mut python);
    (node.output().unwrap(), python.output().unwrap())
}

#[test]
fn keyless_certify_then_verify_offline_and_independently() {
    let mock = Mock::start();
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("app.tar.gz"), b"release bits").unwrap();
    let token = jwt(serde_json::json!({}));
    let (out, cert, bundle) = certify(d, &mock.url, &[("SIGSTORE_ID_TOKEN", &token)], &["--subject", "app.tar.gz"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["signer"], SAN);
    assert!(!text(&out).contains(&token), "the token must never be printed");

    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert_eq!(doc["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert!(doc["verificationMaterial"]["certificate"]["rawBytes"].is_string(), "a Fulcio certificate");
    assert_eq!(doc["verificationMaterial"]["tlogEntries"].as_array().unwrap().len(), 1, "one Rekor entry");
    let cert_doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    assert_eq!(cert_doc["signature"], "cosign-keyless");

    let trusted = mock.trusted_root.display().to_string();
    let ok = verify(
        d,
        &cert,
        &["--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER, "--trusted-root", &trusted],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let said = text(&ok);
    assert!(said.contains(&format!("signer       OK: {SAN} (issuer {ISSUER})")), "{said}");
    assert!(said.contains("logged in Rekor at "), "{said}");
    assert!(said.contains("verdict      PASS"), "{said}");

    // On a GitHub runner: the signer is its own row of the job summary's table, which stays a
    // table (no line break inside a row).
    let summary = d.join("summary.md");
    let c = cert.display().to_string();
    let args =
        ["verify", &c, "--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER, "--trusted-root", &trusted];
    let summary_env = summary.display().to_string();
    let out = perfcert(
        d,
        &args,
        &[("GITHUB_ACTIONS", "true"), ("PERFCERT_NO_GITHUB", "0"), ("GITHUB_STEP_SUMMARY", &summary_env)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = std::fs::read_to_string(&summary).unwrap();
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.iter().all(|r| r.ends_with('|')), "a row was broken: {table}");
    assert!(rows.contains(&format!("| signer | OK: {SAN} (issuer {ISSUER}) |").as_str()), "{table}");
    assert!(rows.iter().any(|r| r.starts_with("| signature | OK: its Fulcio certificate chains to ")), "{table}");

    let re = verify(
        d,
        &cert,
        &[
            "--certificate-identity-regexp",
            r"^https://github\.com/acme/shop/\.github/workflows/perf\.yml@refs/heads/.*$",
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            &trusted,
            "--subject",
            "app.tar.gz",
        ],
    );
    assert_eq!(re.status.code(), Some(0), "{}", text(&re));

    // baseline promote runs the same keyless checks, and records the signer in the provenance.
    let promote = |identity: &str| {
        let args = ["baseline", "promote", &c, "--certificate-identity", identity];
        perfcert(d, &[&args[..], &["--certificate-oidc-issuer", ISSUER, "--trusted-root", &trusted]].concat(), &[])
    };
    let wrong = promote("https://github.com/acme/shop/.github/workflows/other.yml@refs/heads/main");
    assert_eq!(wrong.status.code(), Some(4), "{}", text(&wrong));
    assert!(!d.join("perf_baseline.json").exists());
    let promoted = promote(SAN);
    assert_eq!(promoted.status.code(), Some(0), "{}", text(&promoted));
    assert!(text(&promoted).contains(&format!("signer       OK: {SAN} (issuer {ISSUER})")), "{}", text(&promoted));
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("perf_baseline.json")).unwrap()).unwrap();
    assert_eq!(baseline["provenance"]["signer"], format!("{SAN} (issuer {ISSUER})"));

    // The certificate file and the release artifact are both subjects; both verifiers agree.
    for artifact in [cert.clone(), d.join("app.tar.gz")] {
        let (node, python) = independent(&mock.trusted_root, &artifact, &bundle, SAN, ISSUER);
        assert!(node.status.success(), "@sigstore/verify: {}", text(&node));
        assert!(python.status.success(), "sigstore-python: {}", text(&python));
    }
}

#[test]
fn keyless_tampering_wrong_signer_and_wrong_root_are_refused_by_everyone() {
    let mock = Mock::start();
    let dir = workdir();
    let d = dir.path();
    let token = jwt(serde_json::json!({}));
    let (out, cert, bundle) = certify(d, &mock.url, &[("SIGSTORE_ID_TOKEN", &token)], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let trusted = mock.trusted_root.display().to_string();
    let production = root().join("fixtures/sigstore/sigstore_trusted_root.json");
    let prod = production.display().to_string();

    let b = bundle.display().to_string();
    let check = |bundle: &str, identity: &[&str], issuer: &str, root: &str, expect: &str| {
        let mut args = vec!["--bundle", bundle];
        args.extend(identity);
        args.extend(["--certificate-oidc-issuer", issuer, "--trusted-root", root]);
        let out = verify(d, &cert, &args);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(expect), "{args:?}: expected `{expect}` in {}", text(&out));
    };
    let other = "https://github.com/acme/shop/.github/workflows/evil.yml@refs/heads/main";
    check(&b, &["--certificate-identity", other], ISSUER, &trusted, "identity mismatch");
    check(&b, &["--certificate-identity-regexp", "evil"], ISSUER, &trusted, "identity mismatch");
    check(&b, &["--certificate-identity", SAN], "https://accounts.google.com", &trusted, "issuer mismatch");
    check(&b, &["--certificate-identity", SAN], ISSUER, &prod, "not authentic");

    // One byte of the signed payload, then of the signature.
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let flip = |field: &str| {
        let mut doc = doc.clone();
        let mut bytes = STANDARD.decode(doc["dsseEnvelope"].pointer(field).unwrap().as_str().unwrap()).unwrap();
        let at = bytes.windows(7).position(|w| w == b"qa-lead").unwrap_or(bytes.len() / 2);
        bytes[at] ^= 1;
        *doc["dsseEnvelope"].pointer_mut(field).unwrap() = STANDARD.encode(&bytes).into();
        let path = d.join(format!("tampered{}.sigstore.json", field.replace('/', "-")));
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    };
    for tampered in [flip("/payload"), flip("/signatures/0/sig")] {
        let t = tampered.display().to_string();
        check(&t, &["--certificate-identity", SAN], ISSUER, &trusted, "not authentic");
        let (node, python) = independent(&mock.trusted_root, &cert, &tampered, SAN, ISSUER);
        assert!(!node.status.success() && !python.status.success(), "{t} must be refused");
    }
    // The independent verifiers refuse the wrong signer, issuer and root too.
    for (san, issuer, root) in [
        (other, ISSUER, mock.trusted_root.as_path()),
        (SAN, "https://accounts.google.com", mock.trusted_root.as_path()),
        (SAN, ISSUER, production.as_path()),
    ] {
        let (node, python) = independent(root, &cert, &bundle, san, issuer);
        assert!(!node.status.success(), "@sigstore/verify accepted {san} {issuer} {}", root.display());
        assert!(!python.status.success(), "sigstore-python accepted {san} {issuer} {}", root.display());
    }
    // A subject that was not certified.
    std::fs::write(d.join("other.tar.gz"), b"other bits").unwrap();
    let out = verify(
        d,
        &cert,
        &[
            "--certificate-identity",
            SAN,
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            &trusted,
            "--subject",
            "other.tar.gz",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    // A keyless bundle checked as key-based, and the other way round, says which mode it is.
    std::fs::write(d.join("k.pub"), perfcert::signing::generate_key().unwrap().1).unwrap();
    let out = verify(d, &cert, &["--key", "k.pub"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out).contains("verify it with --certificate-identity"), "{}", text(&out));
}

#[test]
fn key_based_bundles_are_refused_by_keyless_verify() {
    let (pkcs8, _) = perfcert::signing::generate_key().unwrap();
    let bundle = perfcert::signing::sign_with_key(&pkcs8, b"{}".to_vec()).unwrap();
    let root = keyless::trusted_root(None).unwrap();
    let got = keyless::verify(&root, &bundle, b"{}", &IdentityRule::Exact(SAN.into()), ISSUER);
    assert!(matches!(got, Err(VerifyError::NotKeyless)), "{got:?}");
}

/// A one-shot HTTP server on 127.0.0.1 playing GitHub's OIDC token endpoint; returns its URL and
/// a handle that yields the request line and headers it saw.
fn github_token_endpoint(token: String) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token?api-version=2.0", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let body = serde_json::json!({"value": token}).to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, handle)
}

#[test]
fn github_actions_token_is_fetched_with_audience_sigstore() {
    let mock = Mock::start();
    let dir = workdir();
    let d = dir.path();
    let token = jwt(serde_json::json!({}));
    let (url, seen) = github_token_endpoint(token.clone());
    let request_token = "request-token-secret-1234";
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token),
    ];
    let (out, cert, _) = certify(d, &mock.url, &env, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let request = seen.join().unwrap().to_ascii_lowercase();
    assert!(request.contains("audience=sigstore"), "{request}");
    assert!(request.contains(&format!("authorization: bearer {request_token}")), "{request}");
    assert!(!text(&out).contains(&token) && !text(&out).contains(request_token));
    let trusted = mock.trusted_root.display().to_string();
    let ok = verify(
        d,
        &cert,
        &["--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER, "--trusted-root", &trusted],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
}

#[test]
fn token_problems_are_input_errors_and_service_failures_exit_3_without_leaking_the_token() {
    let dir = workdir();
    let d = dir.path();
    // Nothing listens on this port: bound, then closed.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let expired = jwt(serde_json::json!({"exp": 1_600_000_000}));
    let wrong_audience = jwt(serde_json::json!({"aud": "github"}));
    let good = jwt(serde_json::json!({}));
    for (env, code, expect) in [
        (vec![], 2, "no identity token"),
        (vec![("SIGSTORE_ID_TOKEN", "not-a-jwt")], 2, "not a usable JWT"),
        (vec![("SIGSTORE_ID_TOKEN", expired.as_str())], 2, "expired at 2020-09-13"),
        (vec![("SIGSTORE_ID_TOKEN", wrong_audience.as_str())], 2, "audience is not `sigstore`"),
        (vec![("SIGSTORE_ID_TOKEN", good.as_str())], 3, "keyless signing failed"),
        (vec![("GITHUB_ACTIONS", "true")], 2, "id-token: write"),
    ] {
        let (out, _, _) = certify(d, &closed, &env, &[]);
        assert_eq!(out.status.code(), Some(code), "{env:?}: {}", text(&out));
        assert!(text(&out).contains(expect), "{env:?}: expected `{expect}` in {}", text(&out));
        for (_, value) in &env {
            assert!(value.len() < 10 || !text(&out).contains(value), "a token was printed: {}", text(&out));
        }
        assert!(!d.join("perf").exists(), "nothing is archived when signing fails");
    }
}

/// A real production bundle (npm provenance of sigstore@5.0.0, signed in GitHub Actions, logged
/// in the public Rekor) verifies against the public-good trusted root, built-in or given.
#[test]
fn a_production_keyless_bundle_verifies_against_the_public_good_root() {
    let dir = root().join("fixtures/sigstore");
    let bundle = std::fs::read_to_string(dir.join("npm_slsa_bundle_v03.json")).unwrap();
    let artifact = std::fs::read(dir.join("sigstore-5.0.0.tgz")).unwrap();
    let san = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    let given =
        keyless::trusted_root(Some(&std::fs::read_to_string(dir.join("sigstore_trusted_root.json")).unwrap())).unwrap();
    let built_in = keyless::trusted_root(None).unwrap();
    for root in [&given, &built_in] {
        // Every Sigstore check passes; only perfcert's own predicate type is (rightly) not SLSA's.
        let got = keyless::verify(root, &bundle, &artifact, &IdentityRule::Exact(san.into()), ISSUER);
        assert!(matches!(&got, Err(VerifyError::PredicateType(t)) if t == "https://slsa.dev/provenance/v1"), "{got:?}");
    }
    let wrong = keyless::verify(&given, &bundle, &artifact, &IdentityRule::Exact(SAN.into()), ISSUER);
    assert!(matches!(&wrong, Err(VerifyError::Sigstore(m)) if m.contains("identity mismatch")), "{wrong:?}");
    let mut changed = artifact.clone();
    changed[100] ^= 1;
    let wrong = keyless::verify(&given, &bundle, &changed, &IdentityRule::Exact(san.into()), ISSUER);
    assert!(matches!(&wrong, Err(VerifyError::Sigstore(_))), "{wrong:?}");

    // Through the binary: the Sigstore checks pass and the predicate type is named.
    let out = perfcert(
        &dir,
        &[
            "verify",
            "sigstore-5.0.0.tgz",
            "--bundle",
            "npm_slsa_bundle_v03.json",
            "--certificate-identity",
            san,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("the predicate type is https://slsa.dev/provenance/v1"), "{}", text(&out));
}

/// `perfcert bake --keyless`: the verification record's bundle comes from the stand-in's Fulcio
/// and Rekor, verifies for the token's identity and issuer, signs the record's sha256 under its
/// archived name, and is accepted by sigstore-js and sigstore-python.
#[test]
fn keyless_bake_record_verifies_for_its_identity_and_independently() {
    let d = common::bake::data();
    let Some(prom) = common::prom::Prometheus::start(&d.openmetrics) else { return };
    let mock = Mock::start();
    let dir = workdir();
    let p = dir.path();
    common::bake::setup(p, &prom.url);
    let token = jwt(serde_json::json!({}));
    let mut args = common::bake::args(&d, "steady", "4m");
    args.extend(["--keyless", "--fulcio-url", &mock.url, "--rekor-url", &mock.url].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = perfcert(p, &args, &[("SIGSTORE_ID_TOKEN", &token)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(&token), "the token must never be printed");

    let day = common::bake::day(p);
    let record = p.join(format!("archive/daily/{day}/steady-v1.4.2.verify.json"));
    let bundle_path = p.join(format!("archive/daily/{day}/steady-v1.4.2.verify.sigstore.json"));
    let bytes = std::fs::read(&record).unwrap();
    assert_eq!(bytes, std::fs::read(p.join("perf_verification.json")).unwrap());
    let rec = common::bake::read_record(&record);
    assert_eq!((&rec["status"], &rec["signature"]), (&"PASS".into(), &"cosign-keyless".into()));
    let bundle = std::fs::read_to_string(&bundle_path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    assert!(doc["verificationMaterial"]["certificate"]["rawBytes"].is_string(), "a Fulcio certificate");
    assert_eq!(doc["verificationMaterial"]["tlogEntries"].as_array().unwrap().len(), 1, "one Rekor entry");

    let root = keyless::trusted_root(Some(&std::fs::read_to_string(&mock.trusted_root).unwrap())).unwrap();
    let predicate = "https://perfcert.dev/verification/v1";
    let (statement, signer) =
        keyless::verify_other(&root, &bundle, &bytes, &IdentityRule::Exact(SAN.into()), ISSUER, predicate).unwrap();
    assert_eq!((signer.identity.as_str(), signer.issuer.as_str()), (SAN, ISSUER));
    assert!(statement.signs_sha256(&perfcert::signing::sha256_hex(&bytes)));
    assert_eq!(statement.subject[0].name, "steady-v1.4.2.verify.json");
    assert_eq!(statement.predicate, rec);
    // Another identity, a changed record, or reading it as a certificate: refused.
    let other = IdentityRule::Exact("https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main".into());
    assert!(keyless::verify_other(&root, &bundle, &bytes, &other, ISSUER, predicate).is_err());
    let mut changed = bytes.clone();
    changed[10] ^= 1;
    assert!(
        keyless::verify_other(&root, &bundle, &changed, &IdentityRule::Exact(SAN.into()), ISSUER, predicate).is_err()
    );
    let as_certificate = keyless::verify(&root, &bundle, &bytes, &IdentityRule::Exact(SAN.into()), ISSUER);
    assert!(matches!(&as_certificate, Err(VerifyError::PredicateType(t)) if t == predicate), "{as_certificate:?}");

    let (node, python) = independent_of(&mock.trusted_root, &record, &bundle_path, SAN, ISSUER, predicate);
    assert!(node.status.success(), "sigstore-js: {}", text(&node));
    assert!(python.status.success(), "sigstore-python: {}", text(&python));
    let (node, python) =
        independent_of(&mock.trusted_root, &p.join("stable.json"), &bundle_path, SAN, ISSUER, predicate);
    assert!(!node.status.success() && !python.status.success(), "another file is no subject");

    // perfcert verify, keyless: the identity and issuer given, against the stand-in's root.
    let trusted = mock.trusted_root.display().to_string();
    let shown = record.display().to_string();
    let verify_as = |san: &str| {
        let args = ["verify", &shown, "--certificate-identity", san, "--certificate-oidc-issuer", ISSUER];
        perfcert(p, &[&args[..], &["--trusted-root", &trusted]].concat(), &[])
    };
    let out = verify_as(SAN);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("signer       OK: {SAN} (issuer {ISSUER})")), "{}", text(&out));
    let out = verify_as("https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));

    // Without a token the bake refuses before its first poll.
    let out = perfcert(p, &args, &[("SIGSTORE_ID_TOKEN", "")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no identity token") && !text(&out).contains("poll "), "{}", text(&out));
}
