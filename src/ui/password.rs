//! The private key's password: `COSIGN_PASSWORD` (as cosign reads it), else asked on the
//! terminal. Never printed, never part of an error.

use std::io::IsTerminal;

use anyhow::anyhow;

use crate::exit::Failure;

pub fn read(confirm: bool) -> Result<Vec<u8>, Failure> {
    if let Some(p) = std::env::var_os("COSIGN_PASSWORD") {
        return Ok(p.into_encoded_bytes());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::input(anyhow!(
            "no password for the private key: set COSIGN_PASSWORD (it may be empty), or run on a terminal"
        )));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| Failure::input(anyhow!("cannot read the password: {e}")))
    };
    let first = ask("Enter password for private key: ")?;
    if confirm && ask("Enter password for private key again: ")? != first {
        return Err(Failure::input(anyhow!("the passwords do not match")));
    }
    Ok(first.into_bytes())
}
