//! Signed approvals of a certificate, and the CAB policy that judges them (PERF-004 §9).
//!
//! An approval is its own Sigstore bundle (a bundle carries one signature, so one per approver):
//! DSSE over an in-toto statement whose predicate type is [`PREDICATE_TYPE`] and whose subjects
//! are the certificate file's sha256 and its bundle's, so it is bound to that exact signed
//! verdict. The predicate says the role claimed, the decision, a comment, the signer-claimed time
//! and the perfcert version.
//!
//! The policy (`approvals.yml`) binds each role to trusted public keys or keyless identities
//! (identity and OIDC issuer). An approval's own `role` is only a claim: it is checked with the
//! trust the policy gives that role, never believed. [`judge`] checks every approval found beside
//! a certificate and says which required roles are filled, by distinct signers.
//!
//! Pure: no files, no clock, no network. The caller reads the policy's keys and trusted root and
//! the approval bundles, and gives the certificate's time.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sigstore_verify::trust_root::TrustedRoot;

use crate::error::LoadError;
use crate::signing::keyless::{self, IdentityRule};
use crate::signing::{self, Statement, Subject, VerifyError};

/// The in-toto predicate type of an approval.
pub const PREDICATE_TYPE: &str = "https://perfcert.dev/approval/v1";

/// approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        })
    }
}

/// What the approved certificate says, repeated for people reading the approval alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Of {
    pub service: String,
    pub version: String,
    pub status: String,
    /// The certificate's file name (a subject of the approval).
    pub file: String,
}

/// The predicate of an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predicate {
    pub role: String,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When the signer says it signed (RFC 3339, UTC). Keyless approvals also carry Rekor's time.
    pub time: String,
    pub perfcert_version: String,
    pub certificate: Of,
}

/// The commented starter policy `perfcert init --approvals` writes.
pub const TEMPLATE: &str = r#"# approvals.yml: who may approve a performance certificate for promotion (PERF-004 §9).
# The CAB owns this file; `perfcert verify CERT ... --approvals approvals.yml` is the gate:
#   exit 0  authentic PASS, every required role approved by a signer trusted for it
#   exit 7  authentic PASS, a required role has no valid approval, or rejected
#   exit 4  an approval is forged, approves another certificate, is signed by a key or identity
#           not trusted for the role it claims, or is older than the certificate
# Approvals are made with `perfcert approve CERT --role ROLE (--key FILE | --keyless)`.
# Paths are relative to this file.

roles:
  # A role is trusted keys (cosign public keys; `perfcert keygen --output-key-prefix qa-lead`)...
  qa-lead:
    keys: [keys/qa-lead.pub]
  # ...and/or keyless identities: the Fulcio certificate's identity, exactly, and its OIDC issuer.
  sre-lead:
    identities:
      - identity: "https://github.com/acme/ops/.github/workflows/approve.yml@refs/heads/main"
        issuer: "https://token.actions.githubusercontent.com"
  # security:  { keys: [keys/security.pub] }
  # cab:       { identities: [{ identity: "cab-chair@acme.com", issuer: "https://accounts.google.com" }] }

# Every one of these roles must approve, each by a different signer (one key or identity never
# fills two roles). A reject from a required role blocks promotion until that signer approves again.
required: [qa-lead, sre-lead]

# Keyless approvals from another Sigstore instance: its trusted root (default: public-good).
# trusted_root: trusted_root.json
"#;

/// Whether a role name can be part of a file name as is: letters, digits, `-` and `_`.
pub fn valid_role(role: &str) -> bool {
    !role.is_empty() && role.len() <= 64 && role.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The statement an approver signs: the certificate and its bundle as subjects.
pub fn statement(predicate: &Predicate, cert: (&str, &[u8]), bundle: (&str, &[u8])) -> Vec<u8> {
    let subjects = [Subject::sha256(cert.0, cert.1), Subject::sha256(bundle.0, bundle.1)];
    let value = serde_json::to_value(predicate).expect("an approval serialises");
    signing::statement_of(PREDICATE_TYPE, &value, &subjects)
}

/// A keyless identity trusted for a role.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub identity: String,
    pub issuer: String,
}

/// A role as written in the policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Public key files, relative to the policy file.
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub identities: Vec<Identity>,
}

/// `approvals.yml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub roles: indexmap::IndexMap<String, RoleSpec>,
    pub required: Vec<String>,
    /// Keyless: the Sigstore trusted root to verify against (default: the public-good root).
    #[serde(default)]
    pub trusted_root: Option<String>,
}

/// Parses and checks an approvals policy; `file` names it in errors (`FILE:LINE:COL: KEY: ...`).
pub fn parse_policy(file: &str, text: &str) -> Result<PolicySpec, LoadError> {
    if text.trim().is_empty() {
        return Err(LoadError::new(file, "file is empty; expected a YAML mapping with `roles` and `required`"));
    }
    let mut key = String::new();
    let spec: PolicySpec = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            key = crate::policy::key_path(e.path());
            e.into_inner()
        })
    })
    .map_err(|e| {
        let mut err = LoadError::new(file, crate::policy::yaml_message(&e));
        if let Some(loc) = e.location() {
            err = err.at(loc.line(), loc.column());
        }
        err.key(key)
    })?;
    let at = |key: String, message: String| LoadError::new(file, message).key(key);
    if spec.roles.is_empty() {
        return Err(at("roles".into(), "no roles; expected at least one role with keys or identities".into()));
    }
    for (name, role) in &spec.roles {
        if !valid_role(name) {
            return Err(at(
                format!("roles.{name}"),
                "a role name is letters, digits, `-` and `_` (it is part of file names)".into(),
            ));
        }
        if role.keys.is_empty() && role.identities.is_empty() {
            return Err(at(
                format!("roles.{name}"),
                "trusts nobody; expected `keys: [FILE.pub]` or `identities: [{identity: ..., issuer: ...}]`".into(),
            ));
        }
        for (i, id) in role.identities.iter().enumerate() {
            if id.identity.trim().is_empty() || id.issuer.trim().is_empty() {
                return Err(at(
                    format!("roles.{name}.identities[{i}]"),
                    "expected a non-empty identity and issuer".into(),
                ));
            }
        }
    }
    if spec.required.is_empty() {
        return Err(at(
            "required".into(),
            "no required roles; expected a list of roles, e.g. [qa-lead, sre-lead]".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, role) in spec.required.iter().enumerate() {
        if !spec.roles.contains_key(role) {
            let known: Vec<&str> = spec.roles.keys().map(String::as_str).collect();
            return Err(at(
                format!("required[{i}]"),
                format!("`{role}` is not a role of `roles` ({})", known.join(", ")),
            ));
        }
        if !seen.insert(role) {
            return Err(at(format!("required[{i}]"), format!("`{role}` is listed twice")));
        }
    }
    Ok(spec)
}

/// A role's trust, read: public keys (as shown, PEM) and keyless identities.
#[derive(Debug, Clone, Default)]
pub struct RoleTrust {
    pub keys: Vec<(String, String)>,
    pub identities: Vec<Identity>,
}

/// The policy with its keys and trusted root read.
pub struct Trusted {
    pub roles: indexmap::IndexMap<String, RoleTrust>,
    pub required: Vec<String>,
    /// For keyless approvals.
    pub root: TrustedRoot,
    pub root_name: String,
}

/// An approval bundle found beside the certificate.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where it is, for messages.
    pub shown: String,
    /// The role its file name claims.
    pub role: String,
    /// Its number among the approvals of that role: it only names the file, it orders nothing.
    pub k: u32,
    pub json: String,
}

/// The certificate the approvals must be bound to.
pub struct Target<'a> {
    pub cert: &'a [u8],
    pub bundle: &'a [u8],
    /// When it was signed, and how that is known (`Rekor` or `its date`).
    pub time: Timestamp,
    pub time_source: &'a str,
    /// Now, for a key-signed approval's own time (which must not be in the future).
    pub now: Timestamp,
}

/// How far a key-signed approval's time may run ahead of the verifier's clock.
pub const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);

/// An approval that is not what it says: exit 4.
#[derive(Debug, PartialEq, Eq)]
pub struct Forged {
    pub shown: String,
    pub why: String,
}

/// One checked approval.
#[derive(Debug, Clone)]
pub struct Checked {
    pub role: String,
    pub k: u32,
    /// The signer, for distinctness: a key's fingerprint, or `identity (issuer)`.
    pub signer_id: String,
    /// The signer, for people.
    pub signer: String,
    pub decision: Decision,
    pub comment: Option<String>,
    /// When it was signed, and how that is known.
    pub time: Timestamp,
    pub time_source: &'static str,
    /// What orders one signer's decisions: with a key, the signed time; keyless, when Fulcio
    /// issued its certificate (a timestamp added to the bundle later cannot move it).
    pub order: Timestamp,
}

/// A required role's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleState {
    /// Filled by this signer at this time.
    Approved { signer: String, at: String },
    /// A trusted signer of the role rejected.
    Rejected { signer: String, comment: Option<String> },
    /// No valid approval (or only from a signer who fills another role).
    Missing { why: String },
}

/// What the approvals amount to.
#[derive(Debug)]
pub struct Judgement {
    /// Each required role, in the policy's order.
    pub roles: Vec<(String, RoleState)>,
    /// Approvals that count for nothing (a role the policy does not have), said in words.
    pub notes: Vec<String>,
}

impl Judgement {
    /// The roles still needed: missing or rejected.
    pub fn needed(&self) -> Vec<&str> {
        self.roles.iter().filter(|(_, s)| !matches!(s, RoleState::Approved { .. })).map(|(r, _)| r.as_str()).collect()
    }
}

fn stamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Checks one approval with the trust of the role it claims.
fn check(trusted: &Trusted, target: &Target, found: &Found, trust: &RoleTrust) -> Result<Checked, Forged> {
    let forged = |why: String| Forged { shown: found.shown.clone(), why };
    let role = &found.role;
    // Keyless: the proven time and its source, and when Fulcio issued the certificate.
    #[allow(clippy::type_complexity)]
    let (statement, signer_id, signer, proven): (
        Statement,
        String,
        String,
        Option<((Timestamp, &'static str), Timestamp)>,
    ) = match signing::is_key_based(&found.json) {
        None => return Err(forged("not a Sigstore bundle".into())),
        Some(true) => {
            if trust.keys.is_empty() {
                return Err(forged(format!(
                    "it is signed with a key, and approvals.yml trusts only keyless identities for {role}"
                )));
            }
            let mut ok = None;
            for (shown, pem) in &trust.keys {
                match signing::verify_other_with_key(pem, &found.json, PREDICATE_TYPE) {
                    Ok(s) => {
                        let id = signing::key_fingerprint(pem).unwrap_or_else(|| pem.trim().to_string());
                        ok = Some((s, format!("key:{id}"), format!("key {shown}")));
                        break;
                    }
                    Err(VerifyError::KeyHint(_) | VerifyError::Signature) => {}
                    Err(e) => return Err(forged(e.to_string())),
                }
            }
            let Some((s, id, who)) = ok else {
                let keys: Vec<&str> = trust.keys.iter().map(|(k, _)| k.as_str()).collect();
                // Which trusted key did sign it, if any: that says "wrong role", not "forged".
                let signed_by = trusted.roles.iter().find_map(|(other, t)| {
                    t.keys.iter().find_map(|(shown, pem)| {
                        signing::verify_other_with_key(pem, &found.json, PREDICATE_TYPE)
                            .ok()
                            .map(|_| format!("it is signed by {shown}, which approvals.yml trusts for {other}"))
                    })
                });
                return Err(forged(format!(
                    "not signed by a key approvals.yml trusts for {role} ({}): {}",
                    keys.join(", "),
                    signed_by.unwrap_or_else(|| "it is signed by a key approvals.yml trusts for no role".into())
                )));
            };
            (s, id, who, None)
        }
        Some(false) => {
            if trust.identities.is_empty() {
                return Err(forged(format!("it is signed keyless, and approvals.yml trusts only keys for {role}")));
            }
            let mut ok = None;
            let mut errors = vec![];
            for id in &trust.identities {
                let rule = IdentityRule::Exact(id.identity.clone());
                match keyless::verify_other(&trusted.root, &found.json, target.cert, &rule, &id.issuer, PREDICATE_TYPE)
                {
                    Ok((s, who)) => {
                        ok = Some((s, who));
                        break;
                    }
                    Err(
                        e @ (VerifyError::Bundle(_)
                        | VerifyError::Statement(_)
                        | VerifyError::OtherPredicateType { .. }),
                    ) => {
                        return Err(forged(e.to_string()));
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            let Some((s, who)) = ok else {
                let ids: Vec<String> =
                    trust.identities.iter().map(|i| format!("{} ({})", i.identity, i.issuer)).collect();
                return Err(forged(format!(
                    "not signed by an identity approvals.yml trusts for {role} ({}), checked against {}: {}",
                    ids.join(", "),
                    trusted.root_name,
                    errors.join("; ")
                )));
            };
            let name = format!("{} ({})", who.identity, who.issuer);
            // A keyless approval's time is what Rekor or a timestamp authority proves, never
            // what the signer says.
            // The earliest proven time: no later timestamp can be chosen instead.
            let earliest = who.timestamps.iter().copied().min();
            let proven = match (who.logged_at, earliest) {
                (Some(r), Some(t)) if t < r => (t, "timestamp authority"),
                (Some(r), _) => (r, "Rekor"),
                (None, Some(t)) => (t, "timestamp authority"),
                (None, None) => {
                    return Err(forged(format!(
                        "it is signed keyless by {name} with no proven time (no verified Rekor entry or \
                             RFC 3161 timestamp); a keyless approval's time is never taken from the signer"
                    )));
                }
            };
            let issued = who.issued_at.unwrap_or(proven.0);
            (s, format!("id:{name}"), name, Some((proven, issued)))
        }
    };
    let predicate: Predicate = serde_json::from_value(statement.predicate.clone())
        .map_err(|e| forged(format!("its predicate is not a perfcert approval: {e}")))?;
    if predicate.role != *role {
        return Err(forged(format!(
            "its file name says role {role}, its signed predicate says {}: a role is never taken from the approval",
            predicate.role
        )));
    }
    let (cert_sha, bundle_sha) = (signing::sha256_hex(target.cert), signing::sha256_hex(target.bundle));
    for (what, sha) in [("certificate", &cert_sha), ("certificate's bundle", &bundle_sha)] {
        if !statement.signs_sha256(sha) {
            return Err(forged(format!(
                "it approves another certificate: the {what}'s sha256 {sha} is not among its subjects"
            )));
        }
    }
    let (time, time_source, order) = match proven {
        Some(((t, source), issued)) => (t, source, issued),
        None => {
            let t: Timestamp = predicate
                .time
                .parse()
                .map_err(|_| forged(format!("its time `{}` is not an RFC 3339 time", predicate.time)))?;
            // A decision dated ahead would outrank every later one of its signer.
            if t > target.now + CLOCK_SKEW {
                return Err(forged(format!(
                    "it is dated {}, in the future (now {}): a key-signed approval's signed time orders its \
                     signer's decisions, so one from a fast clock would outrank later ones",
                    stamp(t),
                    stamp(target.now)
                )));
            }
            (t, "signer-claimed", t)
        }
    };
    if time < target.time {
        return Err(forged(format!(
            "it is older than the certificate: signed {} ({time_source} time), the certificate {} ({})",
            stamp(time),
            stamp(target.time),
            target.time_source
        )));
    }
    Ok(Checked {
        role: role.clone(),
        k: found.k,
        signer_id,
        signer,
        decision: predicate.decision,
        comment: predicate.comment,
        time,
        time_source,
        order,
    })
}

/// Why `approve --approvals` must refuse to sign with this public key for `role`, if it must:
/// the role is not in the policy, trusts only keyless identities, or trusts other keys (saying
/// which role, if any, trusts this key).
pub fn refuse_key(trusted: &Trusted, role: &str, public_pem: &str) -> Option<String> {
    let print = |pem: &str| signing::key_fingerprint(pem);
    let mine = print(public_pem)?;
    let Some(trust) = trusted.roles.get(role) else {
        let known: Vec<&str> = trusted.roles.keys().map(String::as_str).collect();
        return Some(format!("role {role} is not in approvals.yml ({})", known.join(", ")));
    };
    if trust.keys.iter().any(|(_, pem)| print(pem).as_deref() == Some(mine.as_str())) {
        return None;
    }
    if trust.keys.is_empty() {
        return Some(format!("approvals.yml trusts only keyless identities for {role}; sign with --keyless"));
    }
    let keys: Vec<&str> = trust.keys.iter().map(|(k, _)| k.as_str()).collect();
    let elsewhere = trusted.roles.iter().find_map(|(other, t)| {
        t.keys
            .iter()
            .find(|(_, pem)| print(pem).as_deref() == Some(mine.as_str()))
            .map(|(shown, _)| format!("; it is {shown}, which approvals.yml trusts for {other}"))
    });
    Some(format!(
        "approvals.yml trusts {} for {role}, not this key{}",
        keys.join(", "),
        elsewhere.unwrap_or_else(|| "; no role trusts it".into())
    ))
}

/// Whether a freshly signed approval bundle would count for `role` under the policy (its
/// signer trusted for the role): `approve --approvals` checks a keyless signature with this
/// before storing it, since the identity is only known once Fulcio certified it.
pub fn signer_trusted(trusted: &Trusted, target: &Target, role: &str, json: &str) -> Result<(), String> {
    let Some(trust) = trusted.roles.get(role) else {
        let known: Vec<&str> = trusted.roles.keys().map(String::as_str).collect();
        return Err(format!("role {role} is not in approvals.yml ({})", known.join(", ")));
    };
    let found = Found { shown: "the new approval".into(), role: role.into(), k: 1, json: json.into() };
    check(trusted, target, &found, trust).map(|_| ()).map_err(|f| f.why)
}

/// The time to sign a new decision of `role` with the key `public_pem`: now, or just after the
/// latest decision this key already signed for the role when that is later (a clock that ran
/// ahead once must not outrank this decision). Only approvals that verify with the key count.
/// Err when that earlier decision is dated beyond [`CLOCK_SKEW`] ahead: it says which.
///
/// A reject is never refused: dated just after the earlier decision even when that lies ahead, it
/// keeps the gate shut (a future-dated decision is not authentic) and stands once that time comes,
/// so a signer can always take back an approve a fast clock dated ahead.
pub fn next_key_time(
    found: &[Found],
    role: &str,
    public_pem: &str,
    now: Timestamp,
    decision: Decision,
) -> Result<Timestamp, String> {
    let mut latest: Option<(Timestamp, &str)> = None;
    for f in found.iter().filter(|f| f.role == role) {
        let Ok(statement) = signing::verify_other_with_key(public_pem, &f.json, PREDICATE_TYPE) else { continue };
        let Ok(predicate) = serde_json::from_value::<Predicate>(statement.predicate) else { continue };
        let Ok(t) = predicate.time.parse::<Timestamp>() else { continue };
        if latest.is_none_or(|(l, _)| t > l) {
            latest = Some((t, &f.shown));
        }
    }
    match latest {
        Some((t, shown)) if t > now + CLOCK_SKEW && decision == Decision::Approve => Err(format!(
            "{shown}, signed with this key, is dated {} while it is {} now: a decision made now could not be \
             ordered after it (check this machine's clock and the one that signed it)",
            stamp(t),
            stamp(now)
        )),
        Some((t, _)) if t >= now => Ok(t + jiff::SignedDuration::from_millis(1)),
        _ => Ok(now),
    }
}

/// Checks every approval found and fills the required roles. Any approval of a role in the
/// policy that does not check out is [`Forged`] (exit 4). Per role and signer, the decision
/// with the latest proven time stands (keyless: Rekor's or a timestamp authority's; with a key:
/// the signed predicate's); on a tie the reject stands. The number in a file name, which
/// nobody signs, never decides. A reject that stands from a required role's trusted
/// signer blocks that role. One signer fills at most one role.
pub fn judge(trusted: &Trusted, target: &Target, found: &[Found]) -> Result<Judgement, Forged> {
    let mut notes = vec![];
    let mut latest: BTreeMap<(String, String), Checked> = BTreeMap::new();
    for f in found {
        let Some(trust) = trusted.roles.get(&f.role) else {
            notes.push(format!("{}: role {} is not in approvals.yml: not counted", f.shown, f.role));
            continue;
        };
        let c = check(trusted, target, f, trust)?;
        let key = (c.role.clone(), c.signer_id.clone());
        let rank = |c: &Checked| (c.order, c.decision == Decision::Reject);
        if latest.get(&key).is_none_or(|old| rank(old) < rank(&c)) {
            latest.insert(key, c);
        }
    }
    let mut roles: Vec<(String, RoleState)> = vec![];
    // Candidates per unrejected required role: signers whose standing decision is approve.
    let mut candidates: Vec<Vec<&Checked>> = vec![];
    for role in &trusted.required {
        let of_role: Vec<&Checked> = latest.values().filter(|c| &c.role == role).collect();
        if let Some(r) = of_role.iter().find(|c| c.decision == Decision::Reject) {
            roles.push((role.clone(), RoleState::Rejected { signer: r.signer.clone(), comment: r.comment.clone() }));
            candidates.push(vec![]);
            continue;
        }
        let mut approving: Vec<&Checked> = of_role.into_iter().filter(|c| c.decision == Decision::Approve).collect();
        approving.sort_by_key(|c| c.time);
        roles.push((role.clone(), RoleState::Missing { why: "no approval".into() }));
        candidates.push(approving);
    }
    // Distinct signers: the largest assignment of signers to roles (roles are few).
    let mut best: Vec<Option<usize>> = vec![None; candidates.len()];
    let mut current = vec![None; candidates.len()];
    assign(&candidates, 0, &mut current, &mut best);
    for (i, (_, state)) in roles.iter_mut().enumerate() {
        if matches!(state, RoleState::Rejected { .. }) {
            continue;
        }
        match best[i] {
            Some(j) => {
                let c = candidates[i][j];
                *state = RoleState::Approved {
                    signer: c.signer.clone(),
                    at: format!("{} ({})", stamp(c.time), c.time_source),
                };
            }
            None if candidates[i].is_empty() => {}
            None => {
                let who: Vec<&str> = candidates[i].iter().map(|c| c.signer.as_str()).collect();
                *state = RoleState::Missing {
                    why: format!(
                        "approved only by {}, who fills another role (one signer cannot fill two roles)",
                        who.join(", ")
                    ),
                };
            }
        }
    }
    Ok(Judgement { roles, notes })
}

/// Backtracking assignment of distinct signers; keeps the one filling the most roles.
fn assign(candidates: &[Vec<&Checked>], i: usize, current: &mut Vec<Option<usize>>, best: &mut Vec<Option<usize>>) {
    let filled = |v: &[Option<usize>]| v.iter().filter(|x| x.is_some()).count();
    if i == candidates.len() {
        if filled(current) > filled(best) {
            best.clone_from(current);
        }
        return;
    }
    if filled(best) == candidates.len() {
        return;
    }
    for (j, c) in candidates[i].iter().enumerate() {
        let taken = (0..i).any(|p| current[p].is_some_and(|q| candidates[p][q].signer_id == c.signer_id));
        if !taken {
            current[i] = Some(j);
            assign(candidates, i + 1, current, best);
            current[i] = None;
        }
    }
    assign(candidates, i + 1, current, best);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_policy("approvals.yml", text).unwrap_err().to_string()
    }

    #[test]
    fn the_issue_shape_parses_and_mistakes_name_file_and_key() {
        let ok = "roles:\n  qa-lead:  { keys: [keys/qa-lead.pub] }\n  sre-lead: { identities: [{ identity: \"https://github.com/acme/ops/.github/workflows/approve.yml@refs/heads/main\",\n                             issuer: \"https://token.actions.githubusercontent.com\" }] }\nrequired: [qa-lead, sre-lead]\n";
        let p = parse_policy("approvals.yml", ok).unwrap();
        assert_eq!(p.required, ["qa-lead", "sre-lead"]);
        assert_eq!(p.roles["qa-lead"].keys, ["keys/qa-lead.pub"]);
        assert_eq!(p.roles["sre-lead"].identities[0].issuer, "https://token.actions.githubusercontent.com");

        let e = err("roles:\n  qa: { key: [a.pub] }\nrequired: [qa]\n");
        assert_eq!(e, "approvals.yml:2:9: roles.qa.key: unknown field `key`, expected one of keys, identities");
        let e = err("roles:\n  qa: { keys: [a.pub] }\nrequired: [qa, sre]\n");
        assert_eq!(e, "approvals.yml: required[1]: `sre` is not a role of `roles` (qa)");
        let e = err("roles:\n  qa: {}\nrequired: [qa]\n");
        assert!(e.starts_with("approvals.yml: roles.qa: trusts nobody"), "{e}");
        let e = err("roles:\n  qa: { keys: [a.pub] }\nrequired: [qa, qa]\n");
        assert_eq!(e, "approvals.yml: required[1]: `qa` is listed twice");
        let e = err("roles:\n  q a: { keys: [a.pub] }\nrequired: [q a]\n");
        assert!(e.contains("roles.q a: a role name is"), "{e}");
        let e = err("roles:\n  qa: { keys: [a.pub] }\nrequired: []\n");
        assert!(e.starts_with("approvals.yml: required: no required roles"), "{e}");
        let e = err("roles:\n  qa: { identities: [{ identity: x }] }\nrequired: [qa]\n");
        assert!(e.contains("issuer"), "{e}");
        assert!(err("").contains("file is empty"));
    }

    #[test]
    fn the_template_is_a_valid_policy() {
        let p = parse_policy("approvals.yml", TEMPLATE).unwrap();
        assert_eq!(p.required, ["qa-lead", "sre-lead"]);
        assert_eq!(p.roles.len(), 2);
    }

    /// The standing decision per signer is the latest by time, a reject wins a tie, and the
    /// number in the file name (which nobody signs) never decides.
    #[test]
    fn the_latest_proven_decision_stands_and_a_reject_wins_a_tie() {
        let (pkcs8, public) = signing::generate_key().unwrap();
        let mut roles = indexmap::IndexMap::new();
        roles.insert("qa".to_string(), RoleTrust { keys: vec![("qa.pub".into(), public)], identities: vec![] });
        let trusted = Trusted {
            roles,
            required: vec!["qa".into()],
            root: keyless::trusted_root(None).unwrap(),
            root_name: "the public-good root".into(),
        };
        let (cert, bundle) = (b"{\"cert\":1}".as_slice(), b"{\"bundle\":1}".as_slice());
        let target = Target {
            cert,
            bundle,
            time: "2026-01-01T00:00:00Z".parse().unwrap(),
            time_source: "its date",
            now: "2030-01-01T00:00:00Z".parse().unwrap(),
        };
        let signed = |decision: Decision, time: &str, k: u32| {
            let p = Predicate {
                role: "qa".into(),
                decision,
                comment: None,
                time: time.into(),
                perfcert_version: "0".into(),
                certificate: Of { service: "s".into(), version: "v".into(), status: "PASS".into(), file: "c".into() },
            };
            let json = signing::sign_with_key(&pkcs8, statement(&p, ("c", cert), ("b", bundle))).unwrap();
            Found { shown: format!("qa.{k}"), role: "qa".into(), k, json }
        };
        let state = |found: &[Found]| judge(&trusted, &target, found).unwrap().roles[0].1.clone();
        let rejected = |s: RoleState| matches!(s, RoleState::Rejected { .. });
        let approve_old = signed(Decision::Approve, "2026-01-02T00:00:00Z", 9);
        let reject = signed(Decision::Reject, "2026-01-03T00:00:00Z", 2);
        assert!(rejected(state(&[approve_old.clone(), reject.clone()])), "a higher K does not outrank a later reject");
        let approve_tie = signed(Decision::Approve, "2026-01-03T00:00:00Z", 3);
        assert!(rejected(state(&[reject.clone(), approve_tie])), "a tie: the reject stands");
        let approve_new = signed(Decision::Approve, "2026-01-03T00:00:00.5Z", 1);
        assert!(
            matches!(state(&[reject.clone(), approve_new, approve_old]), RoleState::Approved { .. }),
            "later approve"
        );

        // Second review: an approve dated ahead of the clock would outrank every later reject of
        // its signer. Beyond the allowed skew it is not authentic; within it, it counts.
        let postdated = signed(Decision::Approve, "2030-01-02T00:00:00Z", 4);
        let e = judge(&trusted, &target, &[reject.clone(), postdated.clone()]).unwrap_err();
        assert!(e.why.contains("in the future"), "{}", e.why);
        let slightly = signed(Decision::Approve, "2030-01-01T00:04:00Z", 5);
        assert!(judge(&trusted, &target, &[slightly]).is_ok(), "within the clock skew");

        // approve dates a new decision after this key's earlier ones, and refuses when one of them
        // lies beyond the skew (it could not be ordered after it).
        let public = trusted.roles["qa"].keys[0].1.clone();
        let now: Timestamp = "2026-01-03T00:00:00Z".parse().unwrap();
        let after = next_key_time(std::slice::from_ref(&reject), "qa", &public, now, Decision::Approve).unwrap();
        assert_eq!(after, "2026-01-03T00:00:00.001Z".parse::<Timestamp>().unwrap(), "after its reject, not at it");
        let later: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            next_key_time(std::slice::from_ref(&reject), "qa", &public, later, Decision::Approve).unwrap(),
            later
        );
        let e = next_key_time(std::slice::from_ref(&postdated), "qa", &public, now, Decision::Approve).unwrap_err();
        assert!(e.contains("qa.4, signed with this key, is dated 2030-01-02"), "{e}");
        // A reject is never refused: dated after the postdated approve, it stands once that time comes.
        let take_back = next_key_time(std::slice::from_ref(&postdated), "qa", &public, now, Decision::Reject).unwrap();
        assert_eq!(take_back, "2030-01-02T00:00:00.001Z".parse::<Timestamp>().unwrap());
        let reject_later = signed(Decision::Reject, "2030-01-02T00:00:00.001Z", 6);
        let then = Target { now: "2030-01-02T00:01:00Z".parse().unwrap(), ..target };
        let state_then = judge(&trusted, &then, &[postdated, reject_later]).unwrap().roles[0].1.clone();
        assert!(rejected(state_then), "the reject outranks the postdated approve once it is due");
        let (_, other) = signing::generate_key().unwrap();
        assert_eq!(
            next_key_time(&[reject], "qa", &other, now, Decision::Approve).unwrap(),
            now,
            "another key's decisions do not count"
        );
    }

    #[test]
    fn role_names_are_safe_in_file_names() {
        for ok in ["qa-lead", "sre_lead", "CAB2"] {
            assert!(valid_role(ok), "{ok}");
        }
        for bad in ["", "qa.lead", "qa/lead", "qa lead", "../x"] {
            assert!(!valid_role(bad), "{bad}");
        }
    }
}
