//! cosign's encrypted private key format, so that `cosign generate-key-pair` keys work with
//! perfcert and perfcert's keys work with cosign.
//!
//! A PEM block labelled `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN
//! PRIVATE KEY`) whose body is JSON:
//! `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":B64},
//!   "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}`.
//! The key is scrypt(password, salt) (32 bytes); the ciphertext is NaCl secretbox
//! (XSalsa20-Poly1305) of the PKCS#8 DER private key. Pure: randomness is passed in.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};

/// The label perfcert writes (cosign 2.x's).
pub const LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// Labels read.
const LABELS: [&str; 2] = [LABEL, "ENCRYPTED COSIGN PRIVATE KEY"];

/// scrypt cost written: cosign's own default.
const LOG_N: u8 = 15;
/// The most memory a key file's scrypt may take: 128·r·N bytes. cosign and sigstore-go write
/// N = 32768, r = 8 (32 MiB); older Sigstore clients N = 65536 (64 MiB). A hostile file must
/// not make perfcert allocate gigabytes (N = 2^20, r = 32 is 4 GiB).
pub const MAX_SCRYPT_MEMORY: u64 = 128 << 20;
/// The most work a key file's scrypt may take, as bytes mixed: 128·r·N·p (the time grows with
/// it: p runs the memory-hard step p times). 8 times cosign's own: about two seconds on a
/// busy core, where cosign's takes 0.3.
pub const MAX_SCRYPT_WORK: u64 = 256 << 20;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeyError {
    #[error("not a PEM file; expected an encrypted cosign private key (-----BEGIN {LABEL}-----)")]
    NotPem,
    #[error("a PEM `{0}`; expected an encrypted cosign private key (`{LABEL}`)")]
    Label(String),
    #[error("malformed encrypted key: {0}")]
    Malformed(String),
    #[error(
        "scrypt parameters N={n} r={r} p={p} would take {} of memory and {} of work; perfcert accepts at \
         most {} of memory and {} of work (cosign writes N=32768 r=8 p=1: 32 MiB), so it refuses this key \
         before deriving it",
        size(*memory),
        size(*work),
        size(MAX_SCRYPT_MEMORY),
        size(MAX_SCRYPT_WORK)
    )]
    TooCostly { n: u64, r: u32, p: u32, memory: u128, work: u128 },
    #[error("wrong password, or the key file is damaged")]
    Password,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: Params,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Params {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Random bytes the encryption needs, from the caller (the OS, or fixed in tests).
pub struct Randomness {
    pub salt: [u8; 32],
    pub nonce: [u8; 24],
}

impl Randomness {
    pub fn from_os() -> Result<Self, getrandom::Error> {
        let mut r = Randomness { salt: [0; 32], nonce: [0; 24] };
        getrandom::fill(&mut r.salt)?;
        getrandom::fill(&mut r.nonce)?;
        Ok(r)
    }
}

fn derive(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<Key, KeyError> {
    let params =
        scrypt::Params::new(log_n, r, p, 32).map_err(|e| KeyError::Malformed(format!("scrypt params: {e}")))?;
    let mut key = Key::default();
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|e| KeyError::Malformed(format!("scrypt: {e}")))?;
    Ok(key)
}

/// Encrypts a PKCS#8 DER private key into cosign's PEM format.
pub fn encrypt(pkcs8_der: &[u8], password: &[u8], random: &Randomness) -> String {
    let key = derive(password, &random.salt, LOG_N, 8, 1).expect("constant scrypt parameters are valid");
    let ciphertext = XSalsa20Poly1305::new(&key)
        .encrypt(Nonce::from_slice(&random.nonce), pkcs8_der)
        .expect("secretbox encryption of a key cannot fail");
    let envelope = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: Params { n: 1 << LOG_N, r: 8, p: 1 },
            salt: STANDARD.encode(random.salt),
        },
        cipher: Cipher { name: "nacl/secretbox".into(), nonce: STANDARD.encode(random.nonce) },
        ciphertext: STANDARD.encode(ciphertext),
    };
    pem_encode(LABEL, serde_json::to_string(&envelope).expect("serialises").as_bytes())
}

/// Checks that a key file is cosign's format with parameters perfcert accepts, without the
/// password and without deriving the key: the check a hostile file meets before any work.
pub fn check(pem: &str) -> Result<(), KeyError> {
    open(pem).map(|_| ())
}

/// Decrypts cosign's PEM format to the PKCS#8 DER private key.
pub fn decrypt(pem: &str, password: &[u8]) -> Result<Vec<u8>, KeyError> {
    let envelope = open(pem)?;
    let Params { n, r, p } = envelope.kdf.params;
    let b64 = |what: &str, s: &str| STANDARD.decode(s).map_err(|e| KeyError::Malformed(format!("{what}: {e}")));
    let salt = b64("salt", &envelope.kdf.salt)?;
    let nonce = b64("nonce", &envelope.cipher.nonce)?;
    let ciphertext = b64("ciphertext", &envelope.ciphertext)?;
    if nonce.len() != 24 {
        return Err(KeyError::Malformed(format!("nonce of {} bytes; expected 24", nonce.len())));
    }
    let key = derive(password, &salt, n.trailing_zeros() as u8, r, p)?;
    XSalsa20Poly1305::new(&key)
        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map_err(|_| KeyError::Password)
}

/// The envelope of a key file, its algorithms and scrypt parameters checked.
fn open(pem: &str) -> Result<Envelope, KeyError> {
    let (label, body) = pem_decode(pem).ok_or(KeyError::NotPem)?;
    if !LABELS.contains(&label.as_str()) {
        return Err(KeyError::Label(label));
    }
    let envelope: Envelope = serde_json::from_slice(&body).map_err(|e| KeyError::Malformed(e.to_string()))?;
    if envelope.kdf.name != "scrypt" {
        return Err(KeyError::Malformed(format!("key derivation `{}`; expected scrypt", envelope.kdf.name)));
    }
    if envelope.cipher.name != "nacl/secretbox" {
        return Err(KeyError::Malformed(format!("cipher `{}`; expected nacl/secretbox", envelope.cipher.name)));
    }
    let Params { n, r, p } = envelope.kdf.params;
    if !n.is_power_of_two() || n < 2 || r == 0 || p == 0 {
        return Err(KeyError::Malformed(format!(
            "scrypt parameters N={n} r={r} p={p}: expected N a power of two of at least 2, r and p at least 1"
        )));
    }
    // In u128, saturating: 128·r·N fits (at most 2^103), times p may not.
    let memory = 128 * u128::from(r) * u128::from(n);
    let work = memory.saturating_mul(u128::from(p));
    if memory > u128::from(MAX_SCRYPT_MEMORY) || work > u128::from(MAX_SCRYPT_WORK) {
        return Err(KeyError::TooCostly { n, r, p, memory, work });
    }
    Ok(envelope)
}

/// A byte count as people read it: `32 MiB`, `4 GiB`, `1.5 TiB`.
fn size(bytes: impl Into<u128>) -> String {
    let bytes = bytes.into();
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 { format!("{value} {}", units[unit]) } else { format!("{value:.1} {}", units[unit]) }
}

/// A PEM block with 64-character lines and `\n` line ends.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first PEM block of a text: its label and decoded body. Accepts `\r\n`.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let mut lines = text.lines().map(str::trim);
    let label = lines.find_map(|l| l.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")))?.to_string();
    let end = format!("-----END {label}-----");
    let mut b64 = String::new();
    for line in lines {
        if line == end {
            return STANDARD.decode(b64.as_bytes()).ok().map(|body| (label, body));
        }
        b64.push_str(line);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXED: Randomness = Randomness { salt: [7; 32], nonce: [9; 24] };

    #[test]
    fn round_trip_and_wrong_password() {
        let secret = b"not really pkcs8, but bytes are bytes";
        let pem = encrypt(secret, b"hunter2", &FIXED);
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        assert_eq!(decrypt(&pem, b"hunter2").unwrap(), secret);
        assert_eq!(decrypt(&pem, b"hunter3"), Err(KeyError::Password));
        assert_eq!(decrypt(&pem.replace('\n', "\r\n"), b"hunter2").unwrap(), secret, "CRLF files read too");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(decrypt("hello", b""), Err(KeyError::NotPem));
        let public = pem_encode("PUBLIC KEY", b"x");
        assert_eq!(decrypt(&public, b""), Err(KeyError::Label("PUBLIC KEY".into())));
        let greedy = pem_encode(
            LABEL,
            br#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":""},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}"#,
        );
        assert!(matches!(decrypt(&greedy, b""), Err(KeyError::TooCostly { .. })));
    }

    fn key_with(n: u64, r: u32, p: u32) -> String {
        let json = format!(
            r#"{{"kdf":{{"name":"scrypt","params":{{"N":{n},"r":{r},"p":{p}}},"salt":"AAAA"}},"cipher":{{"name":"nacl/secretbox","nonce":"AAAA"}},"ciphertext":"AAAA"}}"#
        );
        pem_encode(LABEL, json.as_bytes())
    }

    #[test]
    fn scrypt_cost_is_bounded_by_memory_and_work() {
        // What cosign, sigstore-go and older Sigstore clients write is accepted.
        for (n, r, p) in [(32768, 8, 1), (65536, 8, 1), (1 << 17, 8, 1), (1 << 16, 8, 4)] {
            assert_eq!(check(&key_with(n, r, p)), Ok(()), "N={n} r={r} p={p}");
        }
        for (n, r, p) in
            [(1 << 20, 32, 16), (1 << 18, 8, 1), (1 << 15, 8, 9), (1 << 15, 512, 1), (1 << 62, 1 << 31, 1 << 31)]
        {
            let err = check(&key_with(n, r, p)).unwrap_err();
            assert!(matches!(err, KeyError::TooCostly { .. }), "N={n} r={r} p={p}: {err}");
        }
        let said = check(&key_with(1 << 20, 32, 16)).unwrap_err().to_string();
        assert!(
            said.starts_with("scrypt parameters N=1048576 r=32 p=16 would take 4 GiB of memory and 64 GiB of work"),
            "{said}"
        );
        assert!(said.contains("at most 128 MiB of memory and 256 MiB of work"), "{said}");
        for (n, r, p) in [(3, 8, 1), (0, 8, 1), (1, 8, 1), (32768, 0, 1), (32768, 8, 0)] {
            assert!(matches!(check(&key_with(n, r, p)), Err(KeyError::Malformed(_))), "N={n} r={r} p={p}");
        }
    }
}

#[cfg(test)]
mod cosign_written {
    /// A key `cosign generate-key-pair` wrote (empty password, N = 65536): it decrypts to a
    /// PKCS#8 ECDSA P-256 private key.
    #[test]
    fn decrypts_a_key_cosign_wrote() {
        let pem = include_str!("../../fixtures/keys/cosign-generated-empty-password.key");
        let der = super::decrypt(pem, b"").unwrap();
        let has = |oid: &[u8]| der.windows(oid.len()).any(|w| w == oid);
        assert_eq!(der[0], 0x30, "a DER SEQUENCE");
        assert!(has(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]), "id-ecPublicKey");
        assert!(has(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]), "prime256v1");
        assert_eq!(super::decrypt(pem, b"x"), Err(super::KeyError::Password));
    }
}
