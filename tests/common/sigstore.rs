//! The loopback Sigstore stand-in (npm `@sigstore/mock` handlers behind
//! tests/interop/mock-sigstore-server.js, on 127.0.0.1): Fulcio, Rekor v1 and a TSA, and the
//! unsigned identity tokens it accepts.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{root, workdir};

pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const SAN: &str = "https://github.com/acme/shop/.github/workflows/perf.yml@refs/heads/main";

/// The Sigstore stand-in and the independent verifiers, installed by scripts/test.sh.
pub fn tools() -> PathBuf {
    super::tools(&["node_modules/@sigstore/mock", "venv/bin/python"])
}

/// An unsigned JWT with these claims over GitHub-like defaults (the stand-in does not check signatures).
pub fn jwt(claims: serde_json::Value) -> String {
    let now = jiff::Timestamp::now().as_second();
    let mut all = serde_json::json!({"iss": ISSUER, "aud": "sigstore", "sub": SAN, "iat": now, "exp": now + 600});
    for (k, v) in claims.as_object().unwrap() {
        all[k] = v.clone();
    }
    let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{}", enc(serde_json::json!({"alg": "ES256", "typ": "JWT"})), enc(all), URL_SAFE_NO_PAD.encode("sig"))
}

/// The stand-in, running until dropped; `url` serves Fulcio, Rekor v1 and the TSA.
pub struct Mock {
    child: Child,
    pub url: String,
    pub trusted_root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mock {
    pub fn start() -> Mock {
        let dir = workdir();
        let trusted_root = dir.path().join("trusted_root.json");
        let mut child = Command::new("node")
            .arg(root().join("tests/interop/mock-sigstore-server.js"))
            .arg(&trusted_root)
            .arg("300")
            .env("NODE_PATH", tools().join("node_modules"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        // One line, `READY URL`, once the trusted root is written; EOF if it died.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("mock server: {line:?}")).to_string();
        Mock { child, url, trusted_root, _dir: dir }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
