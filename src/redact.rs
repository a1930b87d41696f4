//! The one redactor: text that came from a remote party (an error body from Fulcio, Rekor, a
//! TSA, the CI's token endpoint or S3, or an HTTP client's error) loses every secret before it
//! reaches a message.
//!
//! A server or proxy that echoes the request puts the credentials it was sent into its error,
//! so a remote error is never shown as it came. [`Redacted`] is the only type such text is
//! kept in, and [`text`] the only way to make one. It removes:
//! - the secrets this process holds: the identity token ([`remember`]ed when it is obtained,
//!   given or ambient), the credentials the AWS SDK resolved, and the environment's
//!   `SIGSTORE_ID_TOKEN`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_SESSION_TOKEN` (as written, URL-encoded or JSON-escaped);
//! - anything shaped like a JWT (dot-separated base64url segments, the first or second of
//!   which is a JSON object), even cut short;
//! - bearer credentials and the values of credential headers and fields (`Authorization`,
//!   `X-Amz-Security-Token`, `aws_session_token = ...`, `<SessionToken>...`, ...).
//!
//! It does not own what is said around the text: callers still name the operation and status.

use std::borrow::Cow;
use std::fmt;
use std::sync::{LazyLock, Mutex};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use regex::Regex as TextRegex;
use regex::bytes::{Captures, Regex, RegexBuilder};

/// What a secret is replaced with.
pub const MARK: &str = "[redacted]";

/// Environment variables whose values are secrets.
pub const SECRET_VARIABLES: [&str; 5] = [
    "SIGSTORE_ID_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
];

/// Shorter values are not treated as known secrets: redacting every `abc` would garble
/// messages, and no real token is that short (the patterns still apply).
const MIN_SECRET_LEN: usize = 8;

static REMEMBERED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Adds a secret this process holds (a token it obtained, credentials it resolved).
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.len() >= MIN_SECRET_LEN {
        let mut all = REMEMBERED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !all.iter().any(|s| s == secret) {
            all.push(secret.to_string());
        }
    }
}

/// Remote text with every secret removed. Display it freely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for Redacted {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Remote text (anything displayable: an error, a body) with its secrets removed.
pub fn text(remote: impl fmt::Display) -> Redacted {
    let mut secrets: Vec<String> = REMEMBERED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    secrets.extend(
        SECRET_VARIABLES
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .map(|v| v.trim().to_string())
            .filter(|v| v.len() >= MIN_SECRET_LEN),
    );
    Redacted(redact(&remote.to_string(), &secrets))
}

/// An error and its sources, innermost last (`a: b: c`), with its secrets removed.
pub fn error(err: &dyn std::error::Error) -> Redacted {
    text(chain(err))
}

/// An error and its sources, innermost last (`a: b: c`), as they say it (not yet redacted).
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}

/// `text` without these `secrets` and without anything shaped like a credential.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    // The longest first, so that a secret containing another goes whole.
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| s.len() >= MIN_SECRET_LEN).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        for form in [Cow::Borrowed(secret.as_str()), url_encoded(secret), json_escaped(secret)] {
            if out.contains(form.as_ref()) {
                out = out.replace(form.as_ref(), MARK);
            }
        }
    }
    let out = replace(&FIELD, &out, |c| format!("{}{}{MARK}", ascii(&c[1]), ascii(&c[2])));
    let out = replace(&XML_FIELD, &out, |c| format!("<{}>{MARK}", ascii(&c[1])));
    let out = replace(&BEARER, &out, |c| format!("{} {MARK}", ascii(&c[1])));
    let out = WORD.replace_all(
        &out,
        |c: &regex::Captures| {
            if jwt_shaped(&c[0]) { MARK.to_string() } else { c[0].to_string() }
        },
    );
    out.into_owned()
}

/// Every match of an ASCII pattern replaced. The patterns start and end only at ASCII bytes,
/// so the rest of the text stays whole UTF-8.
fn replace(re: &Regex, text: &str, with: impl Fn(&Captures) -> String) -> String {
    String::from_utf8_lossy(&re.replace_all(text.as_bytes(), |c: &Captures| with(c))).into_owned()
}

fn ascii(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// A case-insensitive pattern over ASCII. Not Unicode-aware on purpose: that needs the regex
/// crate's `unicode-case` feature, which the build does not enable. (Tests may get it through
/// dev-dependencies, so a pattern that needs it passes the tests and panics in the binary.)
fn ascii_pattern(pattern: &str) -> Regex {
    RegexBuilder::new(pattern).unicode(false).case_insensitive(true).build().expect("a valid ASCII pattern")
}

/// A header or field that carries a credential, its separator, then its value: quoted, or up
/// to the end of the line (or of a query parameter, or an XML element).
static FIELD: LazyLock<Regex> = LazyLock::new(|| {
    ascii_pattern(
        r#"(\b(?:proxy-)?authorization|\bx-amz-security-token|\bx-amz-signature|\bx-amz-credential|\b(?:set-)?cookie|\bx-api-key|\baws_?secret_?access_?key|\bsecret_?access_?key|\baws_?session_?token|\bsession_?token|\bsecurity_?token|\baccess_?token|\bid_?token|\boidc_?identity_?token|\brequest_?token)(\\?["']?\s*[:=]\s*)(?:\\?"[^"\r\n]*"|'[^'\r\n]*'|[^\r\n&"'<]*)"#,
    )
});

/// `<SessionToken>...</SessionToken>` and the like, as STS and S3 write XML.
static XML_FIELD: LazyLock<Regex> =
    LazyLock::new(|| ascii_pattern(r"<(SecretAccessKey|SessionToken|SecurityToken|Token|Signature|Credential)>[^<]*"));

/// `Bearer TOKEN`, in any case.
static BEARER: LazyLock<Regex> = LazyLock::new(|| ascii_pattern(r"\b(bearer)\s+[A-Za-z0-9._~+/=-]+"));

/// A run of base64url segments joined by dots: the candidates for a JWT. (No Unicode or case
/// feature needed.)
static WORD: LazyLock<TextRegex> =
    LazyLock::new(|| TextRegex::new(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)*").expect("a valid pattern"));

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Whether a word is a JWT or part of one: a JWT's header and claims are base64url JSON
/// objects, so one of its first two segments decodes to `{"`. A lone segment counts when it is
/// long and starts as base64 JSON does (`eyJ`, `eyA`, `ewo`): a token cut short.
fn jwt_shaped(word: &str) -> bool {
    let starts_as_json = |segment: &str| {
        let head: String = segment.chars().take(12).collect();
        let head = &head[..head.len() - head.len() % 4];
        let Ok(bytes) = B64URL.decode(head) else { return false };
        let mut json = bytes.iter().filter(|b| !b.is_ascii_whitespace());
        json.next() == Some(&b'{') && json.next() == Some(&b'"')
    };
    let segments: Vec<&str> = word.split('.').collect();
    match segments.as_slice() {
        [one] => one.len() >= 16 && starts_as_json(one),
        [first, second, ..] => {
            (first.len() >= 8 && starts_as_json(first)) || (second.len() >= 8 && starts_as_json(second))
        }
        [] => false,
    }
}

/// The secret as a URL's query or form body writes it.
fn url_encoded(secret: &str) -> Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if secret.bytes().all(unreserved) {
        return Cow::Borrowed(secret);
    }
    Cow::Owned(
        secret.bytes().map(|b| if unreserved(b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect(),
    )
}

/// The secret inside a JSON string (`/` may be escaped).
fn json_escaped(secret: &str) -> Cow<'_, str> {
    let quoted = serde_json::to_string(secret).unwrap_or_default();
    let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default();
    if secret.contains('/') { Cow::Owned(inner.replace('/', "\\/")) } else { Cow::Owned(inner.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn jwt() -> String {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.{}", enc(r#"{"alg":"ES256"}"#), enc(r#"{"sub":"repo:acme/shop"}"#), enc("signature bytes"))
    }

    #[test]
    fn known_secrets_go_in_every_form() {
        let session = "FwoGZXIvYXdzEJr//////////wEaDH+abc/def==".to_string();
        let secrets = [session.clone()];
        for shown in [session.clone(), url_encoded(&session).into_owned(), json_escaped(&session).into_owned()] {
            let out = redact(&format!("body: <p>{shown}</p>"), &secrets);
            assert!(!out.contains(&shown) && out.contains(MARK), "{out}");
        }
        assert_eq!(redact("short abc stays", &["abc".to_string()]), "short abc stays");
    }

    #[test]
    fn jwts_go_whole_or_cut_short_and_hostnames_stay() {
        let token = jwt();
        let out = redact(&format!("Fulcio returned HTTP 400: {{\"credentials\":{{\"x\":\"{token}\"}}}}"), &[]);
        assert!(!out.contains(&token[..20]), "{out}");
        assert!(out.starts_with("Fulcio returned HTTP 400: "), "{out}");
        let cut = &token[..30];
        assert!(!redact(&format!("echo: {cut}"), &[]).contains(cut));
        for plain in [
            "https://fulcio.sigstore.dev/api/v2/signingCert",
            "token.actions.githubusercontent.com",
            "s3://perf-certs/team/20261122/ingest-api-v1.4.3.cert.json",
            "sigstore-sign 0.15.1 failed: connection refused (os error 111)",
            "example.com exists.json eyes.txt",
        ] {
            assert_eq!(redact(plain, &[]), plain);
        }
    }

    #[test]
    fn credential_headers_and_fields_lose_their_values() {
        let cases = [
            ("GET / HTTP/1.1\r\nAuthorization: Bearer abc.def-123\r\nHost: x", "abc.def-123"),
            (
                "authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/s3/aws4_request, Signature=f0e1d2",
                "f0e1d2",
            ),
            ("x-amz-security-token: IQoJb3JpZ2luX2VjEJr\nx-amz-date: 2026", "IQoJb3JpZ2luX2VjEJr"),
            ("/b?X-Amz-Security-Token=IQoJb3JpZ2luX2Vj%2Fxyz&list-type=2", "IQoJb3JpZ2luX2Vj"),
            (r#"{"headers":{"authorization":"bearer s3cr3t-request-token"}}"#, "s3cr3t-request-token"),
            ("aws_session_token = IQoJb3JpZ2lu", "IQoJb3JpZ2lu"),
            ("<Error><SessionToken>IQoJb3JpZ2lu</SessionToken></Error>", "IQoJb3JpZ2lu"),
            ("the proxy said: BEARER gho_16C7e42F292c6912E7710c838347Ae178B4a", "gho_16C7e42F292c6912E7710c8"),
        ];
        for (text, secret) in cases {
            let out = redact(text, &[]);
            assert!(!out.contains(secret) && out.contains(MARK), "{text:?} -> {out:?}");
        }
        let out = redact("GET / HTTP/1.1\r\nAuthorization: Bearer abc.def-123\r\nHost: 127.0.0.1", &[]);
        assert!(out.ends_with("\r\nHost: 127.0.0.1"), "other headers stay: {out:?}");
    }
}
