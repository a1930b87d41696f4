//! `perfcert keygen`: a cosign-compatible key pair, PREFIX.key (encrypted) and PREFIX.pub.

use std::path::PathBuf;

use anyhow::anyhow;

use crate::cli::KeygenArgs;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::signing::{self, cosign_key};
use crate::ui::{Ui, password};

pub fn run(args: KeygenArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let key = PathBuf::from(format!("{}.key", args.output_key_prefix));
    let public = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    for path in [&key, &public] {
        if path.exists() {
            return Err(Failure::input(anyhow!(
                "{}: already exists; perfcert keygen never overwrites a key (pass --output-key-prefix)",
                path.display()
            )));
        }
    }
    let password = password::read(true)?;
    let (pkcs8, public_pem) = signing::generate_key().map_err(Failure::external)?;
    let random = cosign_key::Randomness::from_os().map_err(|e| Failure::external(anyhow!("no randomness: {e}")))?;
    let encrypted = cosign_key::encrypt(&pkcs8, &password, &random);
    let write = |path: &PathBuf, text: &str, mode| {
        fsutil::write_new_atomic(path, text.as_bytes(), Some(mode))
            .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write", path, &e))))
    };
    write(&key, &encrypted, 0o600)?;
    if let Err(e) = write(&public, &public_pem, 0o644) {
        let _ = std::fs::remove_file(&key);
        return Err(e);
    }
    ui.say(|out| {
        writeln!(out, "Private key written to {}\nPublic key written to {}", key.display(), public.display())
    })?;
    Ok(ExitStatus::Pass)
}
