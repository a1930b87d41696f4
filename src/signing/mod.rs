//! Signing and verifying certificates, Sigstore-style.

pub mod cosign_key;
