#!/usr/bin/env node
// Independent check of a key-based (no tlog) Sigstore v0.3 DSSE bundle with @sigstore/verify.
// usage: node verify-key.js PUB.pem BUNDLE EXPECTED_SUBJECT_SHA256 PREDICATE_TYPE
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

function main() {
  const [pubPath, bundlePath, wantSha256, wantPredType] = process.argv.slice(2);
  if (!wantPredType) throw new Error('usage: verify-key.js PUB.pem BUNDLE EXPECTED_SUBJECT_SHA256 PREDICATE_TYPE');
  const pub = crypto.createPublicKey(fs.readFileSync(pubPath));
  const spkiDer = pub.export({ type: 'spki', format: 'der' });
  const json = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  if (json.mediaType !== 'application/vnd.dev.sigstore.bundle.v0.3+json') throw new Error(`mediaType ${json.mediaType}`);
  const bundle = bundleFromJSON(json); // schema check (throws on malformed bundles)
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error('not a DSSE bundle');

  // The hint is unauthenticated: we always use the key we were given, and only compare the hint.
  const wantHint = crypto.createHash('sha256').update(spkiDer).digest('base64');
  const trust = toTrustMaterial(
    { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] },
    (hint) => {
      if (hint && hint !== wantHint) throw new Error(`key hint ${hint} != ${wantHint}`);
      return { publicKey: pub, validFor: () => true };
    });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle)); // DSSE signature over PAE; throws VerificationError

  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== 'application/vnd.in-toto+json') throw new Error(`payloadType ${env.payloadType}`);
  const st = JSON.parse(env.payload.toString('utf8'));
  if (st._type !== 'https://in-toto.io/Statement/v1') throw new Error(`_type ${st._type}`);
  if (st.predicateType !== wantPredType) throw new Error(`predicateType ${st.predicateType}`);
  if (!Array.isArray(st.subject) || !st.subject.some((s) => s.digest && s.digest.sha256 === wantSha256.toLowerCase()))
    throw new Error('no subject with the expected sha256');
  console.log('OK');
}

try { main(); } catch (e) { console.error(`FAIL: ${e.code ? e.code + ': ' : ''}${e.message}`); process.exit(1); }
