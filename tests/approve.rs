//! `perfcert approve` and the promotion gate `verify --approvals approvals.yml` (issue 17,
//! PERF-004 §9): approvals signed with two keys, and keyless against the loopback Fulcio/Rekor
//! stand-in; every tamper refused with its exit code; the approval bundles accepted by the
//! independent verifiers (sigstore-js, sigstore-python, and a `cryptography` check for keys).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::sigstore::{ISSUER, Mock, SAN, jwt, tools};
use common::{PASSWORD, command, fixture, perfcert, policy, root, text, workdir};

const QA_SAN: &str = "https://github.com/acme/qa/.github/workflows/approve.yml@refs/heads/main";
const SRE_SAN: &str = "https://github.com/acme/ops/.github/workflows/approve.yml@refs/heads/main";

fn keygen(dir: &Path, prefix: &str) {
    let out = perfcert(dir, &["keygen", "--output-key-prefix", prefix]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// certify with cosign.key; the certificate's path.
fn certify(dir: &Path, current: &str, version: &str) -> PathBuf {
    let (b, c, p) = (fixture("baseline.json"), fixture(current), policy());
    let args = ["certify", "--key", "cosign.key", "--baseline", &b, "--current", &c, "--thresholds", &p];
    let mut args = args.to_vec();
    args.extend(["--service", "shop", "--version", version, "--approver", "qa-lead", "--format", "json"]);
    let out = perfcert(dir, &args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    dir.join(v["certificate"].as_str().unwrap())
}

fn approve(dir: &Path, cert: &Path, role: &str, key: &str, extra: &[&str]) -> Output {
    let c = cert.display().to_string();
    let mut args = vec!["approve", &c, "--certificate-key", "cosign.pub", "--role", role, "--key", key];
    args.extend(extra);
    perfcert(dir, &args)
}

fn gate(dir: &Path, cert: &Path, policy: &str) -> Output {
    perfcert(dir, &["verify", &cert.display().to_string(), "--key", "cosign.pub", "--approvals", policy])
}

/// The approval files beside a certificate, by name.
fn approvals_beside(cert: &Path) -> Vec<String> {
    let stem = cert.file_name().unwrap().to_str().unwrap().strip_suffix(".cert.json").unwrap().to_string();
    let mut names: Vec<String> = std::fs::read_dir(cert.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(&format!("{stem}.approval.")))
        .collect();
    names.sort();
    names
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

#[test]
fn two_key_signed_approvals_open_the_gate_and_every_tamper_is_refused() {
    let dir = workdir();
    let d = dir.path();
    for prefix in ["cosign", "qa", "sre", "mallory"] {
        keygen(d, prefix);
    }
    std::fs::create_dir(d.join("cab")).unwrap();
    std::fs::create_dir(d.join("cab/keys")).unwrap();
    for k in ["qa", "sre"] {
        std::fs::copy(d.join(format!("{k}.pub")), d.join(format!("cab/keys/{k}-lead.pub"))).unwrap();
    }
    // Paths relative to the policy file, not to the working directory.
    std::fs::write(
        d.join("cab/approvals.yml"),
        "roles:\n  qa-lead:  { keys: [keys/qa-lead.pub] }\n  sre-lead: { keys: [keys/sre-lead.pub] }\nrequired: [qa-lead, sre-lead]\n",
    )
    .unwrap();
    let policy = "cab/approvals.yml";
    let cert = certify(d, "current.json", "v1");

    // Nobody signed yet: the certificate's `approvers` (qa-lead) is a request, not a signature.
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(7), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("still needed: qa-lead (no approval), sre-lead (no approval)"), "{said}");

    let out = approve(d, &cert, "qa-lead", "qa.key", &["--comment", "functional suite green"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD));
    assert_eq!(approvals_beside(&cert), ["shop-v1.approval.qa-lead.1.sigstore.json"]);
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(7), "{}", text(&out));
    assert!(text(&out).contains("still needed: sre-lead (no approval)"), "{}", text(&out));
    assert!(text(&out).contains("qa-lead: approved by key cab/keys/qa-lead.pub"), "{}", text(&out));

    let out = approve(d, &cert, "sre-lead", "sre.key", &[]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(text(&out).contains("sre-lead: approved by key cab/keys/sre-lead.pub"), "{}", text(&out));

    // The approval is a DSSE in-toto statement over the certificate and its bundle.
    let approval_path = cert.with_file_name("shop-v1.approval.qa-lead.1.sigstore.json");
    let bundle_json: serde_json::Value = serde_json::from_slice(&std::fs::read(&approval_path).unwrap()).unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        bundle_json["dsseEnvelope"]["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["predicateType"], perfcert::approval::PREDICATE_TYPE);
    assert_eq!(statement["predicate"]["role"], "qa-lead");
    assert_eq!(statement["predicate"]["decision"], "approve");
    assert_eq!(statement["predicate"]["comment"], "functional suite green");
    let cert_sha = perfcert::signing::sha256_hex(&std::fs::read(&cert).unwrap());
    let bundle_sha =
        perfcert::signing::sha256_hex(&std::fs::read(cert.with_file_name("shop-v1.sigstore.json")).unwrap());
    let subjects: Vec<&str> =
        statement["subject"].as_array().unwrap().iter().map(|s| s["digest"]["sha256"].as_str().unwrap()).collect();
    assert_eq!(subjects, [cert_sha.as_str(), bundle_sha.as_str()]);
    independent_key_checks(d, &approval_path, &cert_sha, &bundle_sha);

    // A role claimed by a key not trusted for it: stored (approve cannot know the policy), refused by the gate.
    let out = approve(d, &cert, "sre-lead", "mallory.key", &[]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let forged = cert.with_file_name("shop-v1.approval.sre-lead.2.sigstore.json");
    assert!(forged.exists(), "the next free number: {:?}", approvals_beside(&cert));
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not signed by a key approvals.yml trusts for sre-lead"), "{}", text(&out));
    // The qa-lead's own key claiming sre-lead is refused the same way.
    std::fs::remove_file(&forged).unwrap();
    assert_eq!(code(&approve(d, &cert, "sre-lead", "qa.key", &[])), Some(0));
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    std::fs::remove_file(&forged).unwrap();

    // A file renamed to claim another role: the role inside is checked with that role's keys.
    std::fs::copy(&approval_path, &forged).unwrap();
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    std::fs::remove_file(&forged).unwrap();

    // An approval of another certificate, put beside this one.
    let other = certify(d, "current.json", "v2");
    assert_eq!(code(&approve(d, &other, "qa-lead", "qa.key", &[])), Some(0));
    let copied = cert.with_file_name("shop-v1.approval.qa-lead.7.sigstore.json");
    std::fs::copy(other.with_file_name("shop-v2.approval.qa-lead.1.sigstore.json"), &copied).unwrap();
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(text(&out).contains("it approves another certificate"), "{}", text(&out));
    std::fs::remove_file(&copied).unwrap();

    // An approval older than the certificate (a signer-claimed time before its date).
    let pem = std::fs::read_to_string(d.join("qa.key")).unwrap();
    let pkcs8 = perfcert::signing::cosign_key::decrypt(&pem, PASSWORD.as_bytes()).unwrap();
    let predicate = perfcert::approval::Predicate {
        role: "qa-lead".into(),
        decision: perfcert::approval::Decision::Approve,
        comment: None,
        time: "2001-01-01T00:00:00Z".into(),
        perfcert_version: "0".into(),
        certificate: perfcert::approval::Of {
            service: "shop".into(),
            version: "v1".into(),
            status: "PASS".into(),
            file: "shop-v1.cert.json".into(),
        },
    };
    let statement = perfcert::approval::statement(
        &predicate,
        ("shop-v1.cert.json", &std::fs::read(&cert).unwrap()),
        ("shop-v1.sigstore.json", &std::fs::read(cert.with_file_name("shop-v1.sigstore.json")).unwrap()),
    );
    let old = cert.with_file_name("shop-v1.approval.qa-lead.8.sigstore.json");
    std::fs::write(&old, perfcert::signing::sign_with_key(&pkcs8, statement).unwrap()).unwrap();
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(text(&out).contains("it is older than the certificate: signed 2001-01-01T00:00:00Z"), "{}", text(&out));
    std::fs::remove_file(&old).unwrap();
    assert_eq!(code(&gate(d, &cert, policy)), Some(0), "back to the valid approvals");

    // A reject from a required role: the latest decision of that signer stands.
    let out = approve(d, &cert, "sre-lead", "sre.key", &["--decision", "reject", "--comment", "no capacity"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(text(&out).contains("rejection of shop v1 (PASS) for role sre-lead"), "{}", text(&out));
    let out = gate(d, &cert, policy);
    assert_eq!(code(&out), Some(7), "{}", text(&out));
    assert!(text(&out).contains("sre-lead: REJECTED by key cab/keys/sre-lead.pub: \"no capacity\""), "{}", text(&out));
    assert!(text(&out).contains("still needed: sre-lead (rejected by key cab/keys/sre-lead.pub)"), "{}", text(&out));
    assert_eq!(code(&approve(d, &cert, "sre-lead", "sre.key", &[])), Some(0), "approved again");
    assert_eq!(code(&gate(d, &cert, policy)), Some(0), "{}", text(&gate(d, &cert, policy)));
    // Nothing was overwritten: every approval has its own number.
    assert_eq!(
        approvals_beside(&cert),
        [
            "shop-v1.approval.qa-lead.1.sigstore.json",
            "shop-v1.approval.sre-lead.1.sigstore.json",
            "shop-v1.approval.sre-lead.2.sigstore.json",
            "shop-v1.approval.sre-lead.3.sigstore.json",
        ]
    );

    // One key cannot fill two roles, even where the policy trusts it for both.
    std::fs::write(
        d.join("cab/shared.yml"),
        "roles:\n  qa-lead:  { keys: [keys/qa-lead.pub] }\n  sre-lead: { keys: [keys/qa-lead.pub, keys/sre-lead.pub] }\nrequired: [qa-lead, sre-lead]\n",
    )
    .unwrap();
    assert_eq!(code(&approve(d, &other, "sre-lead", "qa.key", &[])), Some(0));
    let out = gate(d, &other, "cab/shared.yml");
    assert_eq!(code(&out), Some(7), "{}", text(&out));
    assert!(text(&out).contains("one signer cannot fill two roles"), "{}", text(&out));
    assert_eq!(code(&approve(d, &other, "sre-lead", "sre.key", &[])), Some(0));
    assert_eq!(code(&gate(d, &other, "cab/shared.yml")), Some(0), "a second signer fills it");

    // A FAIL certificate: approving it is refused, rejecting it is recorded, and the gate stays 1.
    let failed = certify(d, "current-regressed.json", "v3");
    let out = approve(d, &failed, "qa-lead", "qa.key", &[]);
    assert_eq!(code(&out), Some(2), "{}", text(&out));
    assert!(text(&out).contains("the certificate says FAIL: only a PASS is approved"), "{}", text(&out));
    assert_eq!(code(&approve(d, &failed, "qa-lead", "qa.key", &["--decision", "reject"])), Some(0));
    assert_eq!(code(&gate(d, &failed, policy)), Some(1));

    // A certificate that does not verify (with the key given for it) is never approved.
    let c = cert.display().to_string();
    let out = perfcert(d, &["approve", &c, "--certificate-key", "mallory.pub", "--role", "qa-lead", "--key", "qa.key"]);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(text(&out).contains("refusing to approve: not authentic"), "{}", text(&out));
}

#[test]
fn approval_policy_mistakes_are_input_errors_naming_file_and_key() {
    let dir = common::workdir_with_keys();
    let d = dir.path();
    let cert = certify(d, "current.json", "v1");
    for (yaml, said) in [
        ("roles:\n  qa-lead: { keys: [missing.pub] }\nrequired: [qa-lead]\n", "approvals.yml: roles.qa-lead.keys[0]: "),
        ("roles:\n  qa-lead: { keys: [cosign.key] }\nrequired: [qa-lead]\n", "this is the private key"),
        ("roles:\n  qa-lead: { keys: [cosign.pub] }\nrequired: [sre-lead]\n", "required[0]: `sre-lead` is not a role"),
        ("roles:\n  qa-lead: { keys: [cosign.pub], threshold: 2 }\nrequired: [qa-lead]\n", "roles.qa-lead"),
    ] {
        std::fs::write(d.join("approvals.yml"), yaml).unwrap();
        let out = gate(d, &cert, "approvals.yml");
        assert_eq!(code(&out), Some(2), "{yaml}: {}", text(&out));
        assert!(text(&out).contains(said), "{yaml}: {}", text(&out));
    }
    // init --approvals writes the commented policy once, and it parses.
    std::fs::remove_file(d.join("approvals.yml")).unwrap();
    let out = perfcert(d, &["init", "--approvals"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let written = std::fs::read_to_string(d.join("approvals.yml")).unwrap();
    assert!(written.starts_with("# approvals.yml"), "{written}");
    assert!(perfcert::approval::parse_policy("approvals.yml", &written).is_ok());
    assert_eq!(code(&perfcert(d, &["init", "--approvals"])), Some(2), "never overwritten");
    // Its keys do not exist here yet: the gate says which.
    let out = gate(d, &cert, "approvals.yml");
    assert_eq!(code(&out), Some(2), "{}", text(&out));
    assert!(text(&out).contains("approvals.yml: roles.qa-lead.keys[0]: keys/qa-lead.pub"), "{}", text(&out));

    let c = cert.display().to_string();
    let out =
        perfcert(d, &["approve", &c, "--certificate-key", "cosign.pub", "--role", "qa/lead", "--key", "cosign.key"]);
    assert_eq!(code(&out), Some(2), "{}", text(&out));
}

/// The key-signed approval bundle checked by @sigstore/verify and by `cryptography`, for both subjects.
fn independent_key_checks(d: &Path, bundle: &Path, cert_sha: &str, bundle_sha: &str) {
    let tools = tools();
    for sha in [cert_sha, bundle_sha] {
        let node = Command::new("node")
            .arg(root().join("tests/interop/verify-key.js"))
            .args([d.join("qa.pub").as_path(), bundle])
            .args([sha, perfcert::approval::PREDICATE_TYPE])
            .env("NODE_PATH", tools.join("node_modules"))
            .output()
            .unwrap();
        assert!(node.status.success(), "@sigstore/verify: {}", text(&node));
        let python = Command::new(tools.join("venv/bin/python"))
            .arg(root().join("tests/interop/verify_key_bundle.py"))
            .args([d.join("qa.pub").as_path(), bundle])
            .args([sha, perfcert::approval::PREDICATE_TYPE])
            .output()
            .unwrap();
        assert!(python.status.success(), "cryptography: {}", text(&python));
    }
    // Another key: refused by both.
    let node = Command::new("node")
        .arg(root().join("tests/interop/verify-key.js"))
        .args([d.join("sre.pub").as_path(), bundle])
        .args([cert_sha, perfcert::approval::PREDICATE_TYPE])
        .env("NODE_PATH", tools.join("node_modules"))
        .output()
        .unwrap();
    assert!(!node.status.success());
}

/// Keyless certify (the CI's identity) and keyless approvals by two other identities, against
/// the loopback stand-in; the approvals prove their time with Rekor and pass sigstore-js and
/// sigstore-python.
#[test]
fn keyless_approvals_against_the_loopback_sigstore() {
    let mock = Mock::start();
    let dir = workdir();
    let d = dir.path();
    let url = mock.url.as_str();
    let env = |sub: &str| jwt(serde_json::json!({ "sub": sub }));
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let out = command(d)
        .args(["certify", "--keyless", "--fulcio-url", url, "--rekor-url", url])
        .args(["--baseline", &b, "--current", &c, "--thresholds", &p, "--format", "json"])
        .env("SIGSTORE_ID_TOKEN", env(SAN))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cert = d.join(v["certificate"].as_str().unwrap());
    let root_json = mock.trusted_root.display().to_string();
    std::fs::write(
        d.join("approvals.yml"),
        format!(
            "trusted_root: {root_json}\nroles:\n  qa-lead: {{ identities: [{{ identity: \"{QA_SAN}\", issuer: \"{ISSUER}\" }}] }}\n  sre-lead: {{ identities: [{{ identity: \"{SRE_SAN}\", issuer: \"{ISSUER}\" }}] }}\nrequired: [qa-lead, sre-lead]\n"
        ),
    )
    .unwrap();
    let c = cert.display().to_string();
    let approve = |role: &str, sub: &str| {
        command(d)
            .args(["approve", &c, "--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER])
            .args(["--trusted-root", &root_json, "--role", role, "--keyless", "--fulcio-url", url, "--rekor-url", url])
            .env("SIGSTORE_ID_TOKEN", env(sub))
            .output()
            .unwrap()
    };
    let gate = || {
        command(d)
            .args(["verify", &c, "--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER])
            .args(["--trusted-root", &root_json, "--approvals", "approvals.yml"])
            .output()
            .unwrap()
    };
    let out = approve("qa-lead", QA_SAN);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("by {QA_SAN}")), "{}", text(&out));
    let out = gate();
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    assert!(text(&out).contains("still needed: sre-lead"), "{}", text(&out));

    // With the policy, approve refuses to store a keyless approval by an identity the role does
    // not trust (checked once Fulcio certified the identity, before storing).
    let out = command(d)
        .args(["approve", &c, "--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER])
        .args([
            "--trusted-root",
            &root_json,
            "--role",
            "sre-lead",
            "--keyless",
            "--fulcio-url",
            url,
            "--rekor-url",
            url,
        ])
        .args(["--approvals", "approvals.yml"])
        .env("SIGSTORE_ID_TOKEN", env(QA_SAN))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("the signed approval would not count, so it is not stored"), "{}", text(&out));
    assert!(text(&out).contains("not signed by an identity approvals.yml trusts for sre-lead"), "{}", text(&out));

    // Someone else's identity claiming sre-lead: refused.
    let out = approve("sre-lead", "https://github.com/acme/mallory/.github/workflows/x.yml@refs/heads/main");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = gate();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not signed by an identity approvals.yml trusts for sre-lead"), "{}", text(&out));
    std::fs::remove_file(cert.with_file_name(format!(
        "{}.approval.sre-lead.1.sigstore.json",
        cert.file_name().unwrap().to_str().unwrap().strip_suffix(".cert.json").unwrap()
    )))
    .unwrap();

    let out = approve("sre-lead", SRE_SAN);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = gate();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("sre-lead: approved by {SRE_SAN} ({ISSUER}) at ")), "{}", text(&out));
    assert!(text(&out).contains("(Rekor)"), "keyless approvals prove their time with Rekor: {}", text(&out));

    // A keyless approval proves its time with Rekor (or a timestamp authority), never the
    // signer's claim: stripped of its Rekor entry it does not count (exit 4).
    let stem0 = cert.file_name().unwrap().to_str().unwrap().strip_suffix(".cert.json").unwrap().to_string();
    let sre1 = cert.with_file_name(format!("{stem0}.approval.sre-lead.1.sigstore.json"));
    let saved = std::fs::read(&sre1).unwrap();
    let mut b: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    b["verificationMaterial"]["tlogEntries"] = serde_json::json!([]);
    std::fs::write(&sre1, serde_json::to_vec(&b).unwrap()).unwrap();
    let out = gate();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("approval.sre-lead.1.sigstore.json: not signed by an identity"), "{}", text(&out));
    std::fs::write(&sre1, &saved).unwrap();

    // Both independent verifiers accept each approval bundle (artifact: the certificate).
    let stem = cert.file_name().unwrap().to_str().unwrap().strip_suffix(".cert.json").unwrap().to_string();
    for (role, san) in [("qa-lead", QA_SAN), ("sre-lead", SRE_SAN)] {
        // The forged sre-lead.1 was removed, so the real one took its number.
        let bundle = cert.with_file_name(format!("{stem}.approval.{role}.1.sigstore.json"));
        let tools = tools();
        let run = |mut c: Command| {
            c.args([mock.trusted_root.as_path(), cert.as_path(), bundle.as_path()])
                .args([san, ISSUER, perfcert::approval::PREDICATE_TYPE])
                .output()
                .unwrap()
        };
        let mut node = Command::new("node");
        node.arg(root().join("tests/interop/verify-keyless.js")).env("NODE_PATH", tools.join("node_modules"));
        let mut python = Command::new(tools.join("venv/bin/python"));
        python.arg(root().join("tests/interop/verify_keyless.py"));
        let (n, p) = (run(node), run(python));
        assert!(n.status.success(), "sigstore-js on {}: {}", bundle.display(), text(&n));
        assert!(p.status.success(), "sigstore-python on {}: {}", bundle.display(), text(&p));
    }
}

/// A loopback OIDC issuer's token endpoint: answers one `POST /token` with an ID token when the
/// form carries `code`, and hands back the request it got.
fn oidc_stand_in(code: &'static str, id_token: String) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        let mut buf = vec![];
        let mut chunk = [0u8; 4096];
        // Headers, then Content-Length bytes of body; bounded by the read timeout.
        loop {
            let n = stream.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let request = String::from_utf8_lossy(&buf).to_string();
        let ok = request.contains(&format!("code={code}"));
        let body = if ok {
            serde_json::json!({"id_token": id_token, "access_token": "unused", "token_type": "bearer"}).to_string()
        } else {
            r#"{"error":"invalid_grant"}"#.to_string()
        };
        let status = if ok { "200 OK" } else { "400 Bad Request" };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tx.send(request);
    });
    (url, rx)
}

/// A person approves keyless without a browser on the machine: perfcert prints the issuer's
/// sign-in link (PKCE, out-of-band redirect), reads the code pasted on stdin, exchanges it at
/// the issuer's token endpoint, and signs with the ID token through Fulcio and Rekor.
#[test]
fn a_person_approves_keyless_by_pasting_the_code_from_any_browser() {
    use std::io::Write;
    use std::process::Stdio;
    let mock = Mock::start();
    let dir = workdir();
    let d = dir.path();
    let url = mock.url.as_str();
    let (b, c, p) = (fixture("baseline.json"), fixture("current.json"), policy());
    let out = command(d)
        .args(["certify", "--keyless", "--fulcio-url", url, "--rekor-url", url])
        .args(["--baseline", &b, "--current", &c, "--thresholds", &p, "--format", "json"])
        .env("SIGSTORE_ID_TOKEN", jwt(serde_json::json!({})))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cert = d.join(v["certificate"].as_str().unwrap()).display().to_string();
    let root_json = mock.trusted_root.display().to_string();

    const CODE: &str = "pasted-code-0123456789";
    let (issuer, got) = oidc_stand_in(CODE, jwt(serde_json::json!({ "sub": QA_SAN })));
    let mut child = command(d)
        .args(["approve", &cert, "--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER])
        .args(["--trusted-root", &root_json, "--role", "qa-lead", "--keyless", "--oidc-issuer", &issuer])
        .args(["--fulcio-url", url, "--rekor-url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{CODE}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("open this link on any device with a browser:\n\n  {issuer}/auth?")), "{stderr}");
    for part in ["redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob", "code_challenge_method=S256", "client_id=sigstore"]
    {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert!(text(&out).contains(&format!("by {QA_SAN}")), "{}", text(&out));
    assert!(!text(&out).contains(CODE), "the code is never echoed");
    let request = got.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
    assert!(request.starts_with("POST /token "), "{request}");
    assert!(request.contains("grant_type=authorization_code") && request.contains("code_verifier="), "{request}");

    std::fs::write(
        d.join("approvals.yml"),
        format!(
            "trusted_root: {root_json}\nroles:\n  qa-lead: {{ identities: [{{ identity: \"{QA_SAN}\", issuer: \"{ISSUER}\" }}] }}\nrequired: [qa-lead]\n"
        ),
    )
    .unwrap();
    let out = command(d)
        .args(["verify", &cert, "--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER])
        .args(["--trusted-root", &root_json, "--approvals", "approvals.yml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A wrong code: the issuer refuses it, nothing is signed or stored.
    let (issuer, _got) = oidc_stand_in(CODE, jwt(serde_json::json!({ "sub": QA_SAN })));
    let mut child = command(d)
        .args(["approve", &cert, "--certificate-identity", SAN, "--certificate-oidc-issuer", ISSUER])
        .args(["--trusted-root", &root_json, "--role", "qa-lead", "--keyless", "--oidc-issuer", &issuer])
        .args(["--fulcio-url", url, "--rekor-url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"not-the-code-000000\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("signing in with the OIDC issuer failed"), "{}", text(&out));
}

/// Issue 17 review: the number in an approval's file name is signed by nobody, so it never
/// decides which decision stands; names that are not canonical are ignored and said escaped; a
/// planted huge number neither panics nor wraps; a dangling link named as an approval is exit 4.
#[test]
fn a_renamed_old_approval_never_hides_a_later_reject() {
    let dir = workdir();
    let d = dir.path();
    for prefix in ["cosign", "qa"] {
        keygen(d, prefix);
    }
    std::fs::write(d.join("approvals.yml"), "roles:\n  qa-lead: { keys: [qa.pub] }\nrequired: [qa-lead]\n").unwrap();
    let cert = certify(d, "current.json", "v1");
    assert_eq!(code(&approve(d, &cert, "qa-lead", "qa.key", &[])), Some(0));
    assert_eq!(code(&gate(d, &cert, "approvals.yml")), Some(0));
    let out = approve(d, &cert, "qa-lead", "qa.key", &["--decision", "reject", "--comment", "p99 flaky"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert_eq!(code(&gate(d, &cert, "approvals.yml")), Some(7));

    // The old approve copied under a higher number, canonical or not: the reject still stands.
    let old = cert.with_file_name("shop-v1.approval.qa-lead.1.sigstore.json");
    for k in ["3", "02", "+2", "4294967295"] {
        let copy = cert.with_file_name(format!("shop-v1.approval.qa-lead.{k}.sigstore.json"));
        std::fs::copy(&old, &copy).unwrap();
        let out = gate(d, &cert, "approvals.yml");
        assert_eq!(code(&out), Some(7), "qa-lead.{k}: {}", text(&out));
        assert!(text(&out).contains("qa-lead: REJECTED by key qa.pub: \"p99 flaky\""), "{}", text(&out));
        if k != "3" {
            assert!(text(&out).contains(&format!("qa-lead.{k}.sigstore.json: ignored")), "{}", text(&out));
            std::fs::remove_file(&copy).unwrap();
        }
    }
    // A planted huge number: approve neither panics nor wraps to 0; it takes the next number.
    std::fs::copy(&old, cert.with_file_name("shop-v1.approval.qa-lead.4294967295.sigstore.json")).unwrap();
    let out = approve(d, &cert, "qa-lead", "qa.key", &[]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(text(&out).contains("shop-v1.approval.qa-lead.4.sigstore.json"), "{}", text(&out));
    assert_eq!(code(&gate(d, &cert, "approvals.yml")), Some(0), "approved again, later than the reject");
    // The highest number allowed, planted: the lowest free number is taken, nothing is used up.
    std::fs::copy(&old, cert.with_file_name("shop-v1.approval.qa-lead.1000000.sigstore.json")).unwrap();
    let out = approve(d, &cert, "qa-lead", "qa.key", &[]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(text(&out).contains("shop-v1.approval.qa-lead.5.sigstore.json"), "{}", text(&out));

    // A file name with escape sequences as its role: ignored, and said escaped.
    let evil = "shop-v1.approval.x\u{1b}[2J\nOK: qa-lead.1.sigstore.json";
    std::fs::copy(&old, cert.with_file_name(evil)).unwrap();
    let out = gate(d, &cert, "approvals.yml");
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(!text(&out).contains('\u{1b}'), "{}", text(&out));
    assert!(text(&out).contains("x\\u{1b}[2J\\nOK: qa-lead.1.sigstore.json: ignored: its role"), "{}", text(&out));
    std::fs::remove_file(cert.with_file_name(evil)).unwrap();

    // A dangling link named as an approval is not a valid approval: exit 4, not an input error.
    std::os::unix::fs::symlink(d.join("nowhere"), cert.with_file_name("shop-v1.approval.qa-lead.9.sigstore.json"))
        .unwrap();
    let out = gate(d, &cert, "approvals.yml");
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(text(&out).contains("qa-lead.9.sigstore.json: named as an approval"), "{}", text(&out));
    // That unreadable file must not stop a signer from recording a reject (third review).
    let out = approve(d, &cert, "qa-lead", "qa.key", &["--decision", "reject"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(text(&out).contains("could not all be read"), "{}", text(&out));
}

/// Issue 17 review: `approve --approvals` refuses, before signing and storing, a role whose trust
/// does not include the signing key (a typo stored an approval that blocked the gate forever);
/// the gate names the key file that did sign an untrusted approval.
#[test]
fn approve_with_the_policy_refuses_a_key_the_role_does_not_trust() {
    let dir = workdir();
    let d = dir.path();
    for prefix in ["cosign", "qa", "sre", "mallory"] {
        keygen(d, prefix);
    }
    std::fs::write(
        d.join("approvals.yml"),
        "roles:\n  qa-lead: { keys: [qa.pub] }\n  sre-lead: { keys: [sre.pub] }\nrequired: [qa-lead, sre-lead]\n",
    )
    .unwrap();
    let cert = certify(d, "current.json", "v1");
    let with_policy = ["--approvals", "approvals.yml"];
    let out = approve(d, &cert, "qa-lead", "sre.key", &with_policy);
    assert_eq!(code(&out), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(
            "refusing to sign for role qa-lead under approvals.yml: sre.key is not trusted for it: approvals.yml \
             trusts qa.pub for qa-lead, not this key; it is sre.pub, which approvals.yml trusts for sre-lead"
        ),
        "{}",
        text(&out)
    );
    let out = approve(d, &cert, "qa-lead", "mallory.key", &with_policy);
    assert_eq!(code(&out), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no role trusts it"), "{}", text(&out));
    let out = approve(d, &cert, "cab", "qa.key", &with_policy);
    assert_eq!(code(&out), Some(2), "{}", text(&out));
    assert!(text(&out).contains("it is not a role of approvals.yml (qa-lead, sre-lead)"), "{}", text(&out));
    assert_eq!(approvals_beside(&cert), Vec::<String>::new(), "nothing stored");
    let out = approve(d, &cert, "qa-lead", "qa.key", &with_policy);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("nothing checked"), "{}", text(&out));

    // Without the policy the typo is stored, with a warning that nothing checked the signer;
    // the gate says which trusted key signed it.
    let out = approve(d, &cert, "sre-lead", "qa.key", &[]);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "warning: approve without --approvals: nothing checked that this key or identity is trusted for role \
             sre-lead; an approval by a signer approvals.yml does not trust makes the gate exit 4, and it is never \
             removed"
        ),
        "{err}"
    );
    let out = gate(d, &cert, "approvals.yml");
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains(
            "not signed by a key approvals.yml trusts for sre-lead (sre.pub): it is signed by qa.pub, which \
             approvals.yml trusts for qa-lead"
        ),
        "{}",
        text(&out)
    );
}

/// Issue 17 review: the gate ends with one line saying the promotion decision; its GitHub
/// outputs and summary say `approved`, `roles-needed` and "not approved"; approvals.yml is
/// checked before any signature; a forged approval beside an authentic FAIL is exit 4.
#[test]
fn the_gate_says_the_promotion_decision_in_one_line_and_to_github() {
    let dir = workdir();
    let d = dir.path();
    for prefix in ["cosign", "qa", "mallory"] {
        keygen(d, prefix);
    }
    std::fs::write(d.join("approvals.yml"), "roles:\n  qa-lead: { keys: [qa.pub] }\nrequired: [qa-lead]\n").unwrap();
    std::fs::write(d.join("broken.yml"), "roles:\n  qa-lead: { keys: [missing.pub] }\nrequired: [qa-lead]\n").unwrap();
    let cert = certify(d, "current.json", "v1");
    let c = cert.display().to_string();

    // The policy is read before the signature is checked: its mistake is exit 2, not 4.
    let out = perfcert(d, &["verify", &c, "--key", "mallory.pub", "--approvals", "broken.yml"]);
    assert_eq!(code(&out), Some(2), "{}", text(&out));
    assert!(text(&out).contains("broken.yml: roles.qa-lead.keys[0]"), "{}", text(&out));

    let github = |args: &[&str]| {
        let _ = std::fs::remove_file(d.join("output.txt"));
        let _ = std::fs::remove_file(d.join("summary.md"));
        let out = command(d)
            .args(args)
            .env_remove("PERFCERT_NO_GITHUB")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", d.join("summary.md"))
            .env("GITHUB_OUTPUT", d.join("output.txt"))
            .output()
            .unwrap();
        let outputs = std::fs::read_to_string(d.join("output.txt")).unwrap_or_default();
        (out, outputs, std::fs::read_to_string(d.join("summary.md")).unwrap_or_default())
    };
    let gate_args = ["verify", &c, "--key", "cosign.pub", "--approvals", "approvals.yml"];
    let (out, outputs, summary) = github(&gate_args);
    assert_eq!(code(&out), Some(7), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let last = err.lines().rfind(|l| !l.starts_with("::")).unwrap_or_default().to_string();
    assert!(
        last.starts_with(
            "error: not approved: authentic PASS under approvals.yml: still needed: qa-lead (no approval)"
        ),
        "{err}"
    );
    assert!(outputs.contains("status=PASS\n") && outputs.contains("approved=false\n"), "{outputs}");
    assert!(outputs.contains("roles-needed=qa-lead\n"), "{outputs}");
    assert!(summary.contains("### perfcert verify: authentic, PASS, not approved (shop v1)"), "{summary}");

    assert_eq!(code(&approve(d, &cert, "qa-lead", "qa.key", &[])), Some(0));
    let (out, outputs, summary) = github(&gate_args);
    assert_eq!(code(&out), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(stdout.lines().last(), Some("promotion: APPROVED (qa-lead)"), "{stdout}");
    assert!(outputs.contains("approved=true\n") && outputs.contains("roles-needed=\n"), "{outputs}");
    assert!(summary.contains("### perfcert verify: authentic, PASS, approved (shop v1)"), "{summary}");

    // An authentic FAIL: exit 1 with one line saying why it is not promotable.
    let failed = certify(d, "current-regressed.json", "v3");
    let f = failed.display().to_string();
    let (out, outputs, _) = github(&["verify", &f, "--key", "cosign.pub", "--approvals", "approvals.yml"]);
    assert_eq!(code(&out), Some(1), "{}", text(&out));
    assert!(text(&out).contains("error: not promotable: the certificate says FAIL (shop v3, "), "{}", text(&out));
    assert!(outputs.contains("approved=false\n"), "{outputs}");
    // ...and a forged approval beside it (another certificate's) is exit 4: tampering is said
    // whatever the verdict.
    std::fs::copy(
        cert.with_file_name("shop-v1.approval.qa-lead.1.sigstore.json"),
        failed.with_file_name("shop-v3.approval.qa-lead.1.sigstore.json"),
    )
    .unwrap();
    let out = perfcert(d, &["verify", &f, "--key", "cosign.pub", "--approvals", "approvals.yml"]);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(text(&out).contains("it approves another certificate"), "{}", text(&out));

    // A --service that is not the certificate's says both.
    let out = perfcert(d, &["verify", &c, "--key", "cosign.pub", "--service", "cart"]);
    assert_eq!(code(&out), Some(4), "{}", text(&out));
    assert!(text(&out).contains("it records service shop; --service says cart"), "{}", text(&out));
}
