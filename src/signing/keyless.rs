//! Keyless signing and its verification: a short-lived Fulcio certificate for an OIDC identity,
//! the signature logged in Rekor (and, optionally, timestamped by a TSA).
//!
//! This is the one module that talks to the network: signing calls Fulcio, Rekor and the TSA
//! through `sigstore-sign`, on a single-threaded runtime that lives for the call. Verification
//! is offline: `sigstore-verify` checks the certificate chain against a trusted root, the SCT,
//! the Rekor inclusion proof and promise, the identity and issuer, the signature, and that the
//! artifact is a subject of the statement.

use jiff::Timestamp;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::rekor::RekorApiVersion;
use sigstore_sign::types::{Bundle, SignatureContent, VerificationMaterialContent};
use sigstore_sign::{SigningContext, SigningServices, SigstoreInstance};
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::{VerificationPolicy, Verifier};

use super::{Statement, VerifyError, parse_statement};
use crate::redact::{self, Redacted};

/// The services a keyless signature is made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instance {
    /// Sigstore's public-good Fulcio, Rekor and TSA (from the signing config built into perfcert).
    PublicGood,
    /// Another instance: Fulcio, a Rekor v1 log, and optionally a timestamp authority.
    Custom { fulcio: String, rekor: String, tsa: Option<String> },
}

/// Where the OIDC identity token comes from.
#[derive(Debug)]
pub enum TokenSource {
    /// Given explicitly (`--identity-token`, `SIGSTORE_ID_TOKEN`).
    Given(String),
    /// The CI's own: GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`), GitLab, Buildkite, CircleCI.
    Ambient,
}

/// Why keyless signing did not happen. No message ever contains the token: what a service or
/// the token endpoint said is kept only as [`Redacted`] text.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(
        "no identity token: pass --identity-token (or set SIGSTORE_ID_TOKEN), or run in CI with an OIDC \
         token available (GitHub Actions: `permissions: id-token: write`)"
    )]
    NoToken,
    #[error(
        "this GitHub Actions job gets no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL is not set): \
         give the job `permissions: id-token: write`"
    )]
    GitHubPermission,
    #[error("the identity token is not a usable JWT: {0}")]
    BadToken(Redacted),
    #[error("the identity token expired at {0}; get a fresh one")]
    Expired(Timestamp),
    #[error("the identity token's audience is not `sigstore`")]
    Audience,
    #[error("cannot get the CI's identity token: {0}")]
    Ambient(Redacted),
    #[error("keyless signing failed: {0}")]
    Service(Redacted),
    #[error("signing in with the OIDC issuer failed: {0}")]
    Person(Redacted),
}

impl SignError {
    /// Whether the fault is the caller's input (exit 2) rather than a service's (exit 3).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            SignError::NoToken
                | SignError::GitHubPermission
                | SignError::BadToken(_)
                | SignError::Expired(_)
                | SignError::Audience
        )
    }
}

/// A keyless signature: the bundle's JSON and who signed, as the certificate says.
#[derive(Debug)]
pub struct Signed {
    pub bundle: String,
    pub identity: Option<String>,
}

fn runtime() -> Result<tokio::runtime::Runtime, SignError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SignError::Service(redact::text(format_args!("cannot start the network runtime: {e}"))))
}

/// The identity token, checked enough to fail early with a clear message (Fulcio checks it for real).
pub fn identity_token(source: TokenSource) -> Result<IdentityToken, SignError> {
    let token = match source {
        TokenSource::Given(jwt) => {
            // Remembered before anything can fail: every later remote error is cleaned of it.
            redact::remember(&jwt);
            IdentityToken::from_jwt(jwt.trim()).map_err(|e| SignError::BadToken(redact::error(&e)))?
        }
        TokenSource::Ambient if github_without_token() => return Err(SignError::GitHubPermission),
        TokenSource::Ambient => {
            // ambient-id directly rather than through sigstore-oidc, which keeps only the top
            // line of its error ("GitHub Actions detection error") and so loses the HTTP status.
            let found = runtime()?
                .block_on(ambient_id::Detector::new().detect("sigstore"))
                .map_err(|e| SignError::Ambient(redact::error(&e)))?
                .ok_or(SignError::NoToken)?;
            redact::remember(found.reveal());
            IdentityToken::from_jwt(found.reveal()).map_err(|e| SignError::BadToken(redact::error(&e)))?
        }
    };
    checked(token)
}

/// A person's identity token without a browser on this machine: the OAuth authorization-code
/// flow with PKCE and the out-of-band redirect. `show` gets the URL to open anywhere (a phone,
/// another computer); `read_code` returns the code the issuer displays after sign-in, which is
/// exchanged at the issuer's token endpoint (`ISSUER/token`, Dex's layout, as Sigstore's
/// `https://oauth2.sigstore.dev/auth`).
pub fn person_token(
    issuer: &str,
    client_id: &str,
    show: &dyn Fn(&str),
    read_code: &dyn Fn() -> std::io::Result<String>,
) -> Result<IdentityToken, SignError> {
    use sigstore_sign::oidc::{
        AuthCallback, AuthMode, AuthOptions, HtmlTemplates, OAuthClient, OAuthConfig, SecretString,
    };
    struct Paste<'a> {
        show: &'a dyn Fn(&str),
        read_code: &'a dyn Fn() -> std::io::Result<String>,
    }
    impl HtmlTemplates for Paste<'_> {}
    impl AuthCallback for Paste<'_> {
        fn auth_url_ready(&self, url: &str, _: AuthMode) {
            (self.show)(url);
        }
        fn prompt_for_code(&self) -> std::io::Result<SecretString> {
            let code = (self.read_code)()?;
            redact::remember(code.trim());
            Ok(SecretString::new(code.trim()))
        }
    }
    let client = OAuthClient::new(OAuthConfig::dex(issuer).with_client_id(client_id))
        .map_err(|e| SignError::Service(redact::error(&e)))?;
    let flow = client.authenticate_with_options(Paste { show, read_code }, AuthOptions::new().with_force_oob(true));
    let token = runtime()?.block_on(flow).map_err(|e| SignError::Person(redact::error(&e)))?;
    checked(token)
}

/// Remembers the token (so no message shows it) and refuses an expired one or one for another audience.
fn checked(token: IdentityToken) -> Result<IdentityToken, SignError> {
    redact::remember(token.expose_secret());
    if token.is_expired() {
        return Err(SignError::Expired(token.expiration()));
    }
    if !token.claims().aud.contains("sigstore") {
        return Err(SignError::Audience);
    }
    Ok(token)
}

/// In GitHub Actions, but the job may not request an OIDC token: the usual mistake, said plainly.
fn github_without_token() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
        && std::env::var_os("ACTIONS_ID_TOKEN_REQUEST_URL").is_none_or(|v| v.is_empty())
}

/// Signs an in-toto statement (the DSSE payload, kept byte for byte) keylessly.
pub fn sign(token: IdentityToken, instance: &Instance, payload: &[u8]) -> Result<Signed, SignError> {
    let context = match instance {
        Instance::PublicGood => SigningContext::from_embedded(SigstoreInstance::PublicGood)
            .map_err(|e| SignError::Service(redact::error(&e)))?,
        Instance::Custom { fulcio, rekor, tsa } => {
            let mut services = SigningServices::new(fulcio, rekor).with_rekor(rekor, RekorApiVersion::V1);
            if let Some(tsa) = tsa {
                services = services.with_tsa_url(tsa);
            }
            SigningContext::new(services)
        }
    };
    let signer = context.signer(token);
    let bundle =
        runtime()?.block_on(signer.sign_raw_statement(payload)).map_err(|e| SignError::Service(redact::error(&e)))?;
    let identity = bundle
        .signing_certificate()
        .and_then(|der| sigstore_sign::crypto::parse_certificate_info(der).ok())
        .and_then(|info| info.identity)
        .map(|san| san.to_string());
    let mut json = bundle.to_json_pretty().map_err(|e| SignError::Service(redact::error(&e)))?;
    json.push('\n');
    Ok(Signed { bundle: json, identity })
}

/// Who a keyless signature must come from.
#[derive(Debug, Clone)]
pub enum IdentityRule {
    Exact(String),
    Regex(regex::Regex),
}

impl std::fmt::Display for IdentityRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityRule::Exact(s) => f.write_str(s),
            IdentityRule::Regex(r) => write!(f, "matching /{}/", r.as_str()),
        }
    }
}

/// What a verified keyless signature says about its signer.
#[derive(Debug)]
pub struct Signer {
    pub identity: String,
    pub issuer: String,
    /// When Rekor logged the signature, if its inclusion was verified (Rekor v1).
    pub logged_at: Option<Timestamp>,
    /// RFC 3161 timestamps that verified.
    pub timestamps: Vec<Timestamp>,
    /// When Fulcio issued the signing certificate (its notBefore): signed by Fulcio, so neither
    /// the signer nor anyone who adds a timestamp to the bundle later can move it.
    pub issued_at: Option<Timestamp>,
}

/// The trusted root to verify against: a file's, or the public-good snapshot built in.
pub fn trusted_root(json: Option<&str>) -> Result<TrustedRoot, String> {
    match json {
        Some(json) => TrustedRoot::from_json(json).map_err(|e| e.to_string()),
        None => SigstoreInstance::PublicGood.embedded_trusted_root().map_err(|e| e.to_string()),
    }
}

/// Verifies a keyless bundle offline: everything Sigstore checks, with `artifact` required to be
/// a subject of the statement, then the statement itself (see [`parse_statement`]).
pub fn verify(
    root: &TrustedRoot,
    bundle_json: &str,
    artifact: &[u8],
    identity: &IdentityRule,
    issuer: &str,
) -> Result<(Statement, Signer), VerifyError> {
    let (payload, signer) = verified(root, bundle_json, artifact, identity, issuer)?;
    Ok((parse_statement(&payload)?, signer))
}

/// As [`verify`], for a statement of another predicate type (a bake's verification record).
pub fn verify_other(
    root: &TrustedRoot,
    bundle_json: &str,
    artifact: &[u8],
    identity: &IdentityRule,
    issuer: &str,
    predicate_type: &str,
) -> Result<(Statement, Signer), VerifyError> {
    let (payload, signer) = verified(root, bundle_json, artifact, identity, issuer)?;
    Ok((super::other_statement(&payload, predicate_type)?, signer))
}

/// Every Sigstore check of a keyless DSSE bundle; its payload and signer.
fn verified(
    root: &TrustedRoot,
    bundle_json: &str,
    artifact: &[u8],
    identity: &IdentityRule,
    issuer: &str,
) -> Result<(Vec<u8>, Signer), VerifyError> {
    let bundle = Bundle::from_json(bundle_json).map_err(|e| VerifyError::Bundle(e.to_string()))?;
    if let VerificationMaterialContent::PublicKey(_) = bundle.verification_material.content {
        return Err(VerifyError::NotKeyless);
    }
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else { return Err(VerifyError::NotDsse) };
    if envelope.payload_type != super::INTOTO {
        return Err(VerifyError::PayloadType(envelope.payload_type.clone()));
    }
    let verifier = Verifier::new(root).map_err(|e| VerifyError::TrustedRoot(e.to_string()))?;
    let policy = match identity {
        IdentityRule::Exact(id) => VerificationPolicy::new(id.as_str(), issuer),
        IdentityRule::Regex(_) => VerificationPolicy::any_identity().require_issuer(issuer),
    };
    let result = verifier.verify(artifact, &bundle, &policy).map_err(|e| VerifyError::Sigstore(e.to_string()))?;
    let signed_by = result.identity().map(|san| san.to_string()).unwrap_or_default();
    if let IdentityRule::Regex(re) = identity
        && !re.is_match(&signed_by)
    {
        return Err(VerifyError::Sigstore(format!(
            "identity mismatch: expected an identity matching /{}/, got {signed_by}",
            re.as_str()
        )));
    }
    let signer = Signer {
        identity: signed_by,
        issuer: result.issuer().unwrap_or(issuer).to_string(),
        logged_at: result.integrated_time(),
        timestamps: result.verified_timestamps().to_vec(),
        issued_at: bundle
            .signing_certificate()
            .and_then(|der| sigstore_sign::crypto::parse_certificate_info(der).ok())
            .map(|info| info.not_before),
    };
    Ok((envelope.payload.as_bytes().to_vec(), signer))
}
