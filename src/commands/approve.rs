//! `perfcert approve`: a signed approval (or rejection) of a certificate for a role, stored
//! beside the certificate as its own Sigstore bundle.
//!
//! The order: with `--approvals`, the CAB policy first (a role it does not trust this key for
//! is refused before signing; a keyless identity, once certified, before storing); the signing
//! key or token (a bad one fails before anything else), then the certificate must verify with the trust given for it (a certificate that does not is never
//! approved: exit 4), then sign and store create-only under the lowest free number.

use anyhow::anyhow;

use crate::approval::{self, Decision, Of, Predicate};
use crate::authenticate;
use crate::exit::{ExitStatus, Failure};
use crate::options::Approve;
use crate::pipeline::signing::Signing;
use crate::store::{self, layout};
use crate::ui::Ui;

pub fn run(o: Approve, ui: &Ui) -> Result<ExitStatus, Failure> {
    // The CAB policy first: a role it does not trust this signer for would store an approval
    // that blocks the gate (exit 4) for good, since nothing is ever deleted.
    let policy = o.approvals.as_deref().map(crate::pipeline::load_approvals).transpose()?;
    let refuse = |why: String| {
        let file = o.approvals.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
        Failure::input(anyhow!("refusing to sign for role {} under {file}: {why}", o.role))
    };
    if let Some(trusted) = &policy {
        if !trusted.roles.contains_key(&o.role) {
            let known: Vec<&str> = trusted.roles.keys().map(String::as_str).collect();
            return Err(refuse(format!("it is not a role of approvals.yml ({})", known.join(", "))));
        }
        if matches!(o.signer, crate::options::Signer::Keyless { .. }) && trusted.roles[&o.role].identities.is_empty() {
            return Err(refuse("approvals.yml trusts only keys for it; sign with --key".into()));
        }
    }
    if policy.is_none() {
        // Nothing else stands between a wrong signer and an approval that blocks the gate.
        ui.warn(&format!(
            "approve without --approvals: nothing checked that this key or identity is trusted for role {}; an \
             approval by a signer approvals.yml does not trust makes the gate exit 4, and it is never removed \
             (pass --approvals approvals.yml to check before signing)",
            o.role
        ));
    }
    let mut signing = Signing::prepare(&o.signer)?;
    // With a key: unlocked now, its public half to check it against the policy and to find this
    // key's earlier decisions (the new one must be dated after them).
    let mut own_key = None;
    if signing.method() == crate::certificate::Method::Key {
        signing = signing.unlock()?;
        if let Signing::Unlocked { path, pkcs8 } = &signing {
            let public =
                crate::signing::public_pem(pkcs8).map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))?;
            if let Some(trusted) = &policy
                && let Some(why) = approval::refuse_key(trusted, &o.role, &public)
            {
                return Err(refuse(format!("{} is not trusted for it: {why}", path.display())));
            }
            own_key = Some(public);
        }
    }
    let fetched = authenticate::fetch(&(&o.named).into())?;
    let authentic = authenticate::authenticate(fetched, &o.trust, &mut |_, _| Ok(()))
        .map_err(|f| Failure { status: f.status, error: anyhow!("refusing to approve: {:#}", f.error) })?;
    let cert = &authentic.cert;
    if matches!(authentic.folder.location, store::Location::Dir(_))
        && (o.put.encryption.is_some() || o.put.retention.is_some())
    {
        return Err(Failure::input(anyhow!(
            "{}: --sse, --sse-kms-key-id and --retain-days are for a certificate in S3; this one is a local file",
            authentic.shown
        )));
    }
    for (flag, wanted, found) in
        [("--service", &o.named.service, &cert.service), ("--version", &o.named.version, &cert.version)]
    {
        if let Some(wanted) = wanted
            && wanted != found
        {
            return Err(authenticate::not_authentic(
                &authentic.shown,
                format!("refusing to approve: it certifies {flag} {found}, not {wanted}"),
            ));
        }
    }
    if o.decision == Decision::Approve && cert.status != "PASS" {
        return Err(Failure::input(anyhow!(
            "{}: the certificate says {}: only a PASS is approved for promotion (--decision reject records a \
             rejection)",
            authentic.shown,
            cert.status
        )));
    }
    let stem = layout::stem_of(&authentic.file_name)
        .ok_or_else(|| Failure::input(anyhow!("{}: not named *.cert.json", authentic.shown)))?
        .to_string();
    let bundle_name = layout::bundle_beside(&authentic.file_name).unwrap_or_default();
    let now = jiff::Timestamp::now();
    let time = match &own_key {
        Some(public) => match crate::pipeline::find_approvals(&authentic.folder, &stem, o.named.endpoint.as_deref()) {
            Ok((found, _)) => approval::next_key_time(&found, &o.role, public, now, o.decision)
                .map_err(|why| Failure::input(anyhow!(why)))?,
            // A file beside it that cannot be read keeps the gate shut anyway (exit 4); it must
            // not stop a signer from recording a decision.
            Err(f) => {
                ui.warn(&format!(
                    "the approvals beside {} could not all be read ({:#}); this decision is dated now",
                    authentic.shown, f.error
                ));
                now
            }
        },
        None => now,
    };
    let predicate = Predicate {
        role: o.role.clone(),
        decision: o.decision,
        comment: o.comment.clone(),
        // Full precision: a key-signed decision is ordered by this time (a reject wins a tie),
        // and never before this key's earlier decisions for the role.
        time: time.to_string(),
        perfcert_version: env!("CARGO_PKG_VERSION").to_string(),
        certificate: Of {
            service: cert.service.clone(),
            version: cert.version.clone(),
            status: cert.status.clone(),
            file: authentic.file_name.clone(),
        },
    };
    let payload =
        approval::statement(&predicate, (&authentic.file_name, &authentic.bytes), (&bundle_name, &authentic.bundle));
    let how = signing.describe();
    let (bundle, identity) = signing.sign(payload)?;
    if let Some(trusted) = &policy {
        // Keyless: the identity is known once Fulcio certified it; checked before storing.
        let target = approval::Target {
            cert: &authentic.bytes,
            bundle: &authentic.bundle,
            time: jiff::Timestamp::MIN,
            time_source: "not checked here",
            // Not the clock: a reject dated after a postdated decision of this key is meant to be.
            now: time.max(jiff::Timestamp::now()),
        };
        approval::signer_trusted(trusted, &target, &o.role, &bundle)
            .map_err(|why| refuse(format!("the signed approval would not count, so it is not stored: {why}")))?;
    }
    let folder = &authentic.folder;
    let archive = store::open_writing(&folder.location, o.named.endpoint.as_deref(), o.put.clone())
        .map_err(|e| Failure::external(anyhow!("{}: {e}", folder.location)))?;
    let relative = store::create_approval(archive.as_ref(), &folder.prefix, &stem, &o.role, bundle.as_bytes())
        .map_err(|e| Failure::external(anyhow!("{e}")))?;
    let by = identity.map(|i| format!(" by {i}")).unwrap_or_default();
    ui.say(|out| {
        writeln!(
            out,
            "{} of {} {} ({}) for role {}: {} (signed {how}{by})",
            match o.decision {
                Decision::Approve => "approval",
                Decision::Reject => "rejection",
            },
            cert.service,
            cert.version,
            cert.status,
            o.role,
            archive.show(&relative)
        )
    })?;
    Ok(ExitStatus::Pass)
}
