#!/usr/bin/env node
// Offline keyless verification of a Sigstore bundle with sigstore-js internals
// (@sigstore/verify + @sigstore/bundle + @sigstore/protobuf-specs; no TUF, no network).
//
//   node verify-keyless.js TRUSTED_ROOT ARTIFACT BUNDLE SAN ISSUER [PREDICATE_TYPE]
//
// Policy: certificate SAN == SAN exactly, OIDC issuer extension == ISSUER. Default thresholds:
// >=1 tlog entry, >=1 SCT, >=1 timestamp (tlog integrated time or RFC 3161); the certificate must be
// valid at that timestamp, not "now". Message-signature bundles must sign ARTIFACT itself. DSSE
// bundles must carry an in-toto statement with a subject whose sha256/sha384/sha512 digest equals
// ARTIFACT's (@sigstore/verify does not check subjects) and, if given, predicateType == PREDICATE_TYPE.
// Prints OK and exits 0; otherwise prints the error to stderr and exits 1.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const IN_TOTO = 'application/vnd.in-toto+json';
const DIGESTS = ['sha256', 'sha384', 'sha512']; // weaker algorithms in a subject are ignored

function verify(rootPath, artPath, bundlePath, san, issuer, predicateType) {
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const artifact = fs.readFileSync(artPath);
  const isDsse = bundle.content.$case === 'dsseEnvelope';
  if (!isDsse && predicateType !== undefined) {
    throw new Error('PREDICATE_TYPE given but the bundle is a message signature, not DSSE');
  }

  // @sigstore/verify treats subjectAlternativeName as an UNANCHORED regular expression, so pass an
  // escaped, anchored pattern, and compare the signer's SAN exactly afterwards as well.
  const sanPattern = `^${san.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;
  const signer = new Verifier(toTrustMaterial(root)).verify(
    toSignedEntity(bundle, isDsse ? undefined : artifact), // message signatures are checked over the artifact
    { subjectAlternativeName: sanPattern, extensions: { issuer } });
  const id = signer.identity || {};
  if (id.subjectAlternativeName !== san) throw new Error(`SAN mismatch: got ${id.subjectAlternativeName}`);
  if (!id.extensions || id.extensions.issuer !== issuer) throw new Error('issuer mismatch');
  if (!isDsse) return;

  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== IN_TOTO) throw new Error(`DSSE payloadType is ${env.payloadType}, expected ${IN_TOTO}`);
  const statement = JSON.parse(env.payload.toString('utf8'));
  const want = Object.fromEntries(DIGESTS.map((a) => [a, crypto.createHash(a).update(artifact).digest('hex')]));
  const match = (statement.subject || []).some((s) => Object.entries((s && s.digest) || {})
    .some(([alg, value]) => want[alg] !== undefined && String(value).toLowerCase() === want[alg]));
  if (!match) throw new Error('no in-toto subject digest matches the artifact');
  if (predicateType !== undefined && statement.predicateType !== predicateType) {
    throw new Error(`predicateType is ${statement.predicateType}, expected ${predicateType}`);
  }
}

const args = process.argv.slice(2);
if (args.length < 5 || args.length > 6) {
  console.error('usage: node verify-keyless.js TRUSTED_ROOT ARTIFACT BUNDLE SAN ISSUER [PREDICATE_TYPE]');
  process.exit(1);
}
try {
  verify(...args);
  console.log('OK');
} catch (e) {
  console.error(`FAIL: ${e.name || 'Error'}${e.code ? ` [${e.code}]` : ''}: ${e.message}`);
  process.exit(1);
}
