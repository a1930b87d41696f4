//! Signing and verifying certificates, Sigstore-style.
//!
//! The signed form is a Sigstore bundle v0.3 whose DSSE envelope carries an in-toto Statement
//! v1: `predicateType` the certificate's ([`PREDICATE_TYPE`] for schema 1, v2 for schema 2),
//! `predicate` the certificate, `subject` what is
//! certified plus the certificate file itself (so `cosign verify-blob-attestation` can check
//! the `.cert.json` as the blob). This is the shape of `cosign attest-blob` and of GitHub
//! artifact attestations.
//!
//! Key-based bundles carry the public key's hint and no transparency-log entry; the Sigstore
//! verifier crate refuses such bundles (it wants signing-time evidence), so
//! [`verify_with_key`] checks them itself: the DSSE signature over the PAE with the given key,
//! then the statement.

pub mod cosign_key;
pub mod keyless;

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sigstore_sign::bundle::{BundleV03, VerificationMaterialV03};
use sigstore_sign::crypto::{KeyPair, VerificationKey, sha256};
use sigstore_sign::types::{
    Bundle, DerPublicKey, DsseEnvelope, DsseSignature, KeyId, MediaType, PayloadBytes, SignatureContent,
    VerificationMaterialContent, pae,
};

use crate::certificate::{self, Certificate, PREDICATE_PREFIX, PREDICATE_TYPE, PREDICATE_TYPE_V2};

/// The DSSE payload type of in-toto statements.
pub const INTOTO: &str = "application/vnd.in-toto+json";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// An in-toto subject: a name and its digests (`sha256` hex, `gitCommit`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    pub fn sha256(name: impl Into<String>, bytes: &[u8]) -> Self {
        Subject::digest(name, "sha256", hex(sha256(bytes).as_bytes()))
    }

    pub fn digest(name: impl Into<String>, algorithm: &str, value: impl Into<String>) -> Self {
        Subject { name: name.into(), digest: BTreeMap::from([(algorithm.to_string(), value.into())]) }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(sha256(bytes).as_bytes())
}

/// The sha256 (hex) of a file, read in blocks: multi-gigabyte raw inputs and release
/// artifacts are never held in memory.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hex(ctx.finish().as_ref())),
            Ok(n) => ctx.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[derive(Serialize)]
struct StatementOut<'a, P: Serialize> {
    #[serde(rename = "_type")]
    type_: &'static str,
    subject: &'a [Subject],
    #[serde(rename = "predicateType")]
    predicate_type: &'static str,
    predicate: &'a P,
}

/// A statement as read back from a bundle.
#[derive(Debug, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: serde_json::Value,
}

impl Statement {
    /// Whether a subject of the statement has this sha256 (hex, any case).
    pub fn signs_sha256(&self, sha: &str) -> bool {
        self.subject.iter().any(|s| s.digest.get("sha256").is_some_and(|d| d.eq_ignore_ascii_case(sha)))
    }
}

/// The statement's bytes: the DSSE payload. The predicate keeps the certificate's field order.
pub fn statement(certificate: &Certificate, subjects: &[Subject]) -> Vec<u8> {
    let out = StatementOut {
        type_: STATEMENT_TYPE,
        subject: subjects,
        predicate_type: certificate.predicate_type(),
        predicate: certificate,
    };
    serde_json::to_vec(&out).expect("statement serialises")
}

/// The statement's bytes for another predicate than a certificate (e.g. a bake's verification
/// record): the same envelope, signed the same way.
pub fn statement_of(predicate_type: &'static str, predicate: &serde_json::Value, subjects: &[Subject]) -> Vec<u8> {
    let out = StatementOut { type_: STATEMENT_TYPE, subject: subjects, predicate_type, predicate };
    serde_json::to_vec(&out).expect("statement serialises")
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the private key is not a PKCS#8 ECDSA P-256 key: {0}")]
    Key(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A new ECDSA P-256 key pair: PKCS#8 DER of the private key and SPKI PEM of the public key.
pub fn generate_key() -> Result<(Vec<u8>, String), SignError> {
    use aws_lc_rs::{rand::SystemRandom, signature};
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
            .map_err(|_| SignError::Sign("key generation failed".into()))?;
    let pkcs8 = pkcs8.as_ref().to_vec();
    let public = public_pem(&pkcs8)?;
    Ok((pkcs8, public))
}

/// The SPKI PEM (`PUBLIC KEY`, `\n` line ends) of a PKCS#8 private key.
pub fn public_pem(pkcs8: &[u8]) -> Result<String, SignError> {
    let pair = KeyPair::from_pkcs8_der(pkcs8).map_err(|e| SignError::Key(e.to_string()))?;
    let der = pair.public_key_der().map_err(|e| SignError::Key(e.to_string()))?;
    Ok(cosign_key::pem_encode("PUBLIC KEY", der.as_bytes()))
}

/// Sigstore's public-key hint: base64 of the sha256 of the SPKI DER.
fn key_hint(spki: &DerPublicKey) -> String {
    STANDARD.encode(sha256(spki.as_bytes()).as_bytes())
}

/// Signs a statement with a private key: the bundle's JSON.
pub fn sign_with_key(pkcs8: &[u8], payload: Vec<u8>) -> Result<String, SignError> {
    let pair = KeyPair::from_pkcs8_der(pkcs8).map_err(|e| SignError::Key(e.to_string()))?;
    let signature = pair.sign(&pae(INTOTO, &payload)).map_err(|e| SignError::Sign(e.to_string()))?;
    let envelope =
        DsseEnvelope::new(INTOTO, PayloadBytes::new(payload), DsseSignature::new(signature, KeyId::default()));
    let hint = key_hint(&pair.public_key_der().map_err(|e| SignError::Key(e.to_string()))?);
    let bundle = BundleV03::new(VerificationMaterialV03::PublicKey { hint }, SignatureContent::DsseEnvelope(envelope))
        .into_bundle();
    let mut json = bundle.to_json_pretty().map_err(|e| SignError::Sign(e.to_string()))?;
    json.push('\n');
    Ok(json)
}

/// Why a bundle did not verify: each variant is one check, said in words.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the bundle is not a Sigstore bundle: {0}")]
    Bundle(String),
    #[error("the bundle is {0}, expected a Sigstore bundle v0.3")]
    MediaType(String),
    #[error("the bundle was not signed with a key (it carries {0}); verify it with --certificate-identity")]
    NotKeyBased(&'static str),
    #[error("the bundle names another key (hint {0}) than the one given")]
    KeyHint(String),
    #[error("the bundle was signed with a key, not keyless; verify it with --key")]
    NotKeyless,
    #[error("the trusted root is not usable: {0}")]
    TrustedRoot(String),
    #[error("{0}")]
    Sigstore(String),
    #[error("the bundle holds no DSSE envelope (an in-toto attestation)")]
    NotDsse,
    #[error("the DSSE payload type is {0}, expected {INTOTO}")]
    PayloadType(String),
    #[error("the public key is not usable: {0}")]
    Key(String),
    #[error("the signature does not match the signed content and this key")]
    Signature,
    #[error("the signed payload is not an in-toto statement: {0}")]
    Statement(String),
    #[error("the statement type is {0}, expected {STATEMENT_TYPE}")]
    StatementType(String),
    #[error("the predicate type is {0}, expected {PREDICATE_TYPE} or {PREDICATE_TYPE_V2}")]
    PredicateType(String),
    #[error("the predicate type is {found}, expected {expected}")]
    OtherPredicateType { found: String, expected: String },
    /// A perfcert certificate of a version this perfcert does not know: from a newer perfcert.
    /// Not a verdict on its authenticity: the caller treats it as an input error.
    #[error(
        "the predicate type is {0}: a perfcert certificate of a later version than this perfcert reads \
         ({PREDICATE_TYPE} and {PREDICATE_TYPE_V2}); verify it with a newer perfcert"
    )]
    UnknownVersion(String),
}

/// Checks a key-based bundle's signature with `public_pem` and returns the signed statement.
pub fn verify_with_key(public_pem: &str, bundle_json: &str) -> Result<Statement, VerifyError> {
    parse_statement(&verified_payload(public_pem, bundle_json)?)
}

/// Like [`verify_with_key`], for a statement of another predicate than a certificate (a bake's
/// verification record): the predicate type must be `predicate_type` exactly. A certificate's
/// check refuses such a statement, and this one refuses a certificate.
pub fn verify_other_with_key(
    public_pem: &str,
    bundle_json: &str,
    predicate_type: &str,
) -> Result<Statement, VerifyError> {
    other_statement(&verified_payload(public_pem, bundle_json)?, predicate_type)
}

/// Reads a verified envelope's statement, which must be of `predicate_type` (not a certificate).
pub fn other_statement(payload: &[u8], predicate_type: &str) -> Result<Statement, VerifyError> {
    let statement: Statement = serde_json::from_slice(payload).map_err(|e| VerifyError::Statement(e.to_string()))?;
    if statement.type_ != STATEMENT_TYPE {
        return Err(VerifyError::StatementType(statement.type_));
    }
    if statement.predicate_type != predicate_type {
        return Err(VerifyError::OtherPredicateType {
            found: statement.predicate_type,
            expected: predicate_type.into(),
        });
    }
    Ok(statement)
}

/// Whether a bundle was signed with a key (its verification material is a public-key hint),
/// not keyless; `None` when it is not a bundle at all.
pub fn is_key_based(bundle_json: &str) -> Option<bool> {
    let bundle = Bundle::from_json(bundle_json).ok()?;
    Some(matches!(bundle.verification_material.content, VerificationMaterialContent::PublicKey(_)))
}

/// A public key's fingerprint: sha256 (hex) of its SPKI DER, the same for every PEM spelling.
pub fn key_fingerprint(public_pem: &str) -> Option<String> {
    DerPublicKey::from_pem(public_pem).ok().map(|spki| sha256_hex(spki.as_bytes()))
}

/// The DSSE payload of a key-based bundle whose signature `public_pem` verifies.
fn verified_payload(public_pem: &str, bundle_json: &str) -> Result<Vec<u8>, VerifyError> {
    let spki = DerPublicKey::from_pem(public_pem).map_err(|e| VerifyError::Key(e.to_string()))?;
    let bundle = Bundle::from_json(bundle_json).map_err(|e| VerifyError::Bundle(e.to_string()))?;
    if bundle.media_type != MediaType::Bundle0_3 {
        return Err(VerifyError::MediaType(bundle.media_type.to_string()));
    }
    match &bundle.verification_material.content {
        // The hint is unauthenticated: never choose a key by it, only refuse a mismatch.
        VerificationMaterialContent::PublicKey(id) if id.hint.is_empty() || id.hint == key_hint(&spki) => {}
        VerificationMaterialContent::PublicKey(id) => return Err(VerifyError::KeyHint(id.hint.clone())),
        _ => return Err(VerifyError::NotKeyBased("a signing certificate")),
    }
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else { return Err(VerifyError::NotDsse) };
    if envelope.payload_type != INTOTO {
        return Err(VerifyError::PayloadType(envelope.payload_type.clone()));
    }
    let key = VerificationKey::from_spki(&spki).map_err(|e| VerifyError::Key(e.to_string()))?;
    key.verify(envelope.pae(), &envelope.signature.sig).map_err(|_| VerifyError::Signature)?;
    Ok(envelope.payload.as_bytes().to_vec())
}

/// Reads and checks the statement of a verified envelope.
pub fn parse_statement(payload: &[u8]) -> Result<Statement, VerifyError> {
    let statement: Statement = serde_json::from_slice(payload).map_err(|e| VerifyError::Statement(e.to_string()))?;
    if statement.type_ != STATEMENT_TYPE {
        return Err(VerifyError::StatementType(statement.type_));
    }
    if certificate::schema_of(&statement.predicate_type).is_none() {
        let version = statement.predicate_type.strip_prefix(PREDICATE_PREFIX);
        if version.is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())) {
            return Err(VerifyError::UnknownVersion(statement.predicate_type));
        }
        return Err(VerifyError::PredicateType(statement.predicate_type));
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(payload: serde_json::Value) -> (String, String) {
        let (pkcs8, public) = generate_key().unwrap();
        (public, sign_with_key(&pkcs8, payload.to_string().into_bytes()).unwrap())
    }

    #[test]
    fn a_validly_signed_statement_of_another_kind_is_refused() {
        let other_type = serde_json::json!({"_type": STATEMENT_TYPE, "subject": [], "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}});
        let (public, bundle) = signed(other_type);
        assert!(
            matches!(verify_with_key(&public, &bundle), Err(VerifyError::PredicateType(t)) if t == "https://slsa.dev/provenance/v1")
        );
        let old_statement = serde_json::json!({"_type": "https://in-toto.io/Statement/v0.1", "subject": [], "predicateType": PREDICATE_TYPE, "predicate": {}});
        let (public, bundle) = signed(old_statement);
        assert!(matches!(verify_with_key(&public, &bundle), Err(VerifyError::StatementType(_))));
        let ours = serde_json::json!({"_type": STATEMENT_TYPE, "subject": [], "predicateType": PREDICATE_TYPE, "predicate": {"a": 1}});
        let (public, bundle) = signed(ours);
        assert_eq!(verify_with_key(&public, &bundle).unwrap().predicate, serde_json::json!({"a": 1}));
        let v2 = serde_json::json!({"_type": STATEMENT_TYPE, "subject": [], "predicateType": PREDICATE_TYPE_V2, "predicate": {}});
        let (public, bundle) = signed(v2);
        assert_eq!(verify_with_key(&public, &bundle).unwrap().predicate_type, PREDICATE_TYPE_V2);
        let later = serde_json::json!({"_type": STATEMENT_TYPE, "subject": [], "predicateType": "https://perfcert.dev/certificate/v3", "predicate": {}});
        let (public, bundle) = signed(later);
        assert!(matches!(verify_with_key(&public, &bundle), Err(VerifyError::UnknownVersion(_))));
    }

    #[test]
    fn streamed_file_digest_equals_the_one_shot_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(sha256_file(&path).unwrap(), sha256_hex(&bytes));
    }

    #[test]
    fn bundles_are_v03_dsse_with_a_key_hint_and_lf_pem() {
        let (pkcs8, public) = generate_key().unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n") && !public.contains('\r'));
        let bundle: serde_json::Value = serde_json::from_str(&sign_with_key(&pkcs8, b"{}".to_vec()).unwrap()).unwrap();
        assert_eq!(bundle["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
        assert_eq!(bundle["dsseEnvelope"]["payloadType"], INTOTO);
        assert_eq!(bundle["verificationMaterial"]["publicKey"]["hint"].as_str().unwrap().len(), 44);
    }
}
