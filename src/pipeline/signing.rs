//! How a command signs (certify, bake): a cosign key or keyless, prepared before any work so
//! that a bad key file or a missing token fails first, then used once at the end.

use std::path::PathBuf;

use anyhow::anyhow;
use sigstore_sign::oidc::IdentityToken;

use crate::certificate::Method;
use crate::exit::Failure;
use crate::fsutil;
use crate::options::Signer;
use crate::signing::keyless::{self, Instance, TokenSource};
use crate::signing::{self, cosign_key};
use crate::ui::password;

/// How this run signs.
pub enum Signing {
    /// A key file, checked but still locked.
    Key {
        path: PathBuf,
        pem: String,
    },
    /// A key unlocked ahead of a long wait ([`Signing::unlock`]).
    Unlocked {
        path: PathBuf,
        pkcs8: Vec<u8>,
    },
    Keyless {
        token: Box<IdentityToken>,
        instance: Instance,
    },
}

impl Signing {
    /// Reads and checks the key file, or gets and checks the identity token.
    pub fn prepare(signer: &Signer) -> Result<Signing, Failure> {
        let (given, instance) = match signer {
            Signer::Key(path) => {
                let pem = std::fs::read_to_string(path).map_err(|e| Failure::input(anyhow!(fsutil::at(path, &e))))?;
                // The format and its scrypt cost, before the password and before any work: a
                // hostile key file is refused at once, not after minutes or gigabytes.
                cosign_key::check(&pem).map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))?;
                return Ok(Signing::Key { path: path.clone(), pem });
            }
            Signer::Keyless { person: Some(person), instance, .. } => {
                let show = |url: &str| crate::ui::sign_in_link(&person.issuer, url);
                let read = crate::ui::read_pasted_code;
                let token =
                    keyless::person_token(&person.issuer, &person.client_id, &show, &read).map_err(keyless_failure)?;
                return Ok(Signing::Keyless { token: Box::new(token), instance: instance.clone() });
            }
            Signer::Keyless { token, instance, .. } => (token.clone(), instance.clone()),
        };
        let given = given.or_else(|| std::env::var("SIGSTORE_ID_TOKEN").ok());
        let source = match given {
            Some(jwt) if !jwt.trim().is_empty() => TokenSource::Given(jwt),
            _ => TokenSource::Ambient,
        };
        let token = keyless::identity_token(source).map_err(keyless_failure)?;
        Ok(Signing::Keyless { token: Box::new(token), instance })
    }

    /// Asks for the key's password now (a wrong one must not cost a 30-minute bake).
    pub fn unlock(self) -> Result<Signing, Failure> {
        match self {
            Signing::Key { path, pem } => {
                let pkcs8 = decrypt(&path, &pem)?;
                Ok(Signing::Unlocked { path, pkcs8 })
            }
            other => Ok(other),
        }
    }

    /// Before signing after a long wait: a keyless identity token lives minutes (GitHub's,
    /// about ten), so the CI's own is asked for again; a given one is checked again and
    /// refused if it expired meanwhile.
    pub fn renew(self, signer: &Signer) -> Result<Signing, Failure> {
        match self {
            Signing::Keyless { .. } => Signing::prepare(signer),
            other => Ok(other),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Signing::Key { path, .. } | Signing::Unlocked { path, .. } => format!("with the key {}", path.display()),
            Signing::Keyless { instance: Instance::PublicGood, .. } => "keyless, Sigstore public-good instance".into(),
            Signing::Keyless { instance: Instance::Custom { fulcio, rekor, .. }, .. } => {
                format!("keyless, Fulcio {fulcio}, Rekor {rekor}")
            }
        }
    }

    pub fn method(&self) -> Method {
        match self {
            Signing::Key { .. } | Signing::Unlocked { .. } => Method::Key,
            Signing::Keyless { .. } => Method::Keyless,
        }
    }

    /// The bundle's JSON, and the signer's identity when a certificate names one.
    pub fn sign(self, payload: Vec<u8>) -> Result<(String, Option<String>), Failure> {
        let with_key = |path: &PathBuf, pkcs8: &[u8], payload| {
            signing::sign_with_key(pkcs8, payload).map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))
        };
        match self {
            Signing::Key { path, pem } => {
                let pkcs8 = decrypt(&path, &pem)?;
                Ok((with_key(&path, &pkcs8, payload)?, None))
            }
            Signing::Unlocked { path, pkcs8 } => Ok((with_key(&path, &pkcs8, payload)?, None)),
            Signing::Keyless { token, instance } => {
                let signed = keyless::sign(*token, &instance, &payload).map_err(keyless_failure)?;
                Ok((signed.bundle, signed.identity))
            }
        }
    }
}

fn decrypt(path: &std::path::Path, pem: &str) -> Result<Vec<u8>, Failure> {
    let password = password::read(false)?;
    let pkcs8 = cosign_key::decrypt(pem, &password).map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))?;
    drop(password);
    Ok(pkcs8)
}

pub fn keyless_failure(e: keyless::SignError) -> Failure {
    if e.is_input() { Failure::input(e) } else { Failure::external(e) }
}
