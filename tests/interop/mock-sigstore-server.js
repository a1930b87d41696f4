#!/usr/bin/env node
// Loopback stand-in for Fulcio + Rekor (v1/v2) + a timestamp authority, for offline keyless-signing tests.
//
//   node mock-sigstore-server.js ROOT_OUT_PATH [LIFETIME_SECONDS]
//
// Wraps the request handlers exported by @sigstore/mock (which itself only offers in-process `nock`
// interceptors) in a plain http server on 127.0.0.1. It listens on a random free port (env MOCK_PORT
// overrides), then writes a trusted_root.json for the fresh keys (URLs carry the real port), and only
// then prints exactly one line to stdout:  READY http://127.0.0.1:PORT
// Request logs go to stderr. The process exits after LIFETIME_SECONDS (default 300) or as soon as its
// stdin reaches EOF, so keep stdin open (a pipe) for as long as the server is wanted.
//   Endpoints: POST /api/v2/signingCert, /api/v1/log/entries, /api/v2/log/entries, /api/v1/timestamp
// Env: MOCK_SUBJECT_CLAIM (JWT claim that becomes the certificate SAN, default "sub");
//      MOCK_NO_CANON=1 logs Rekor v1 entries verbatim, as the bare mock does (for fidelity experiments).
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const m = require('@sigstore/mock');

const [rootOut, lifetimeArg] = process.argv.slice(2);
if (!rootOut) {
  console.error('usage: node mock-sigstore-server.js ROOT_OUT_PATH [LIFETIME_SECONDS]');
  process.exit(2);
}
const lifetime = Number(lifetimeArg || 300);
if (!(lifetime > 0)) { console.error(`bad LIFETIME_SECONDS: ${lifetimeArg}`); process.exit(2); }

// Lifetime guards: a dead test harness closes our stdin; a forgotten one is covered by the timer.
const quit = (why) => { console.error(`mock-sigstore: exiting (${why})`); process.exit(0); };
setTimeout(() => quit('lifetime over'), lifetime * 1000).unref();
process.stdin.on('end', () => quit('stdin closed'));
process.stdin.on('error', () => quit('stdin error'));
process.stdin.resume(); // flowing mode, so that EOF is noticed; input is discarded

const b64 = (x) => Buffer.from(x).toString('base64');
const sha256 = (b) => crypto.createHash('sha256').update(b);
const newKey = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = (k) => k.export({ type: 'spki', format: 'der' });

// Real Rekor re-encodes keys/certificates as LF PEM; clients may send CRLF or other variants.
function canonPem(b64pem) {
  const pem = Buffer.from(b64pem, 'base64').toString('utf8');
  let out;
  try { out = new crypto.X509Certificate(pem).toString(); } catch (_) {
    out = crypto.createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  }
  return b64(out.replace(/\r\n/g, '\n'));
}

// The mock logs the *proposed* entry verbatim; real Rekor v1 logs a canonicalized form. Without this,
// DSSE entries fail in every verifier and CRLF-PEM hashedrekord entries fail body-equality checks.
function canonicalizeV1(body) {
  const e = JSON.parse(body);
  if (e.kind === 'hashedrekord') {
    e.spec.signature.publicKey.content = canonPem(e.spec.signature.publicKey.content);
    return JSON.stringify(e);
  }
  if (e.kind === 'dsse' && e.spec && e.spec.proposedContent) {
    const pc = e.spec.proposedContent;
    const env = JSON.parse(pc.envelope);
    const envJson = JSON.stringify({ payload: env.payload, payloadType: env.payloadType,
      signatures: env.signatures.map((s) => (s.keyid ? { keyid: s.keyid, sig: s.sig } : { sig: s.sig })) });
    return JSON.stringify({ apiVersion: '0.0.1', kind: 'dsse', spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envJson).digest('hex') },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')).digest('hex') },
      signatures: env.signatures.map((s, i) => ({ signature: s.sig, verifier: canonPem(pc.verifiers[i]) })),
    } });
  }
  return body;
}

// Real Fulcio also accepts the token as "Authorization: Bearer" and a base64-wrapped PEM CSR.
function adaptFulcioRequest(body, headers) {
  const j = JSON.parse(body);
  const auth = headers.authorization || '';
  if (!j.credentials && auth.startsWith('Bearer ')) j.credentials = { oidcIdentityToken: auth.slice(7) };
  const csr = j.certificateSigningRequest;
  if (csr && !csr.startsWith('-----')) j.certificateSigningRequest = Buffer.from(csr, 'base64').toString('utf8');
  return JSON.stringify(j);
}

function trustedRoot(base, k) {
  const validFor = { start: new Date(Date.now() - 3600e3).toISOString() };
  const keyDetails = 'PKIX_ECDSA_P256_SHA_256';
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{ baseUrl: base, hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(spki(k.tlog.publicKey)), keyDetails, validFor },
      logId: { keyId: b64(sha256(spki(k.tlog.publicKey)).digest()) } }],
    certificateAuthorities: [{ subject: { organization: 'mock', commonName: 'mock-fulcio' }, uri: base,
      certChain: { certificates: [{ rawBytes: b64(k.ca.rootCertificate) }] }, validFor }],
    ctlogs: [{ baseUrl: base, hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(k.ctLog.publicKey), keyDetails, validFor },
      logId: { keyId: b64(k.ctLog.logID) } }],
    timestampAuthorities: [{ subject: { organization: 'mock', commonName: 'mock-tsa' }, uri: base,
      certChain: { certificates: [{ rawBytes: b64(k.tsa.intCertificate) }, { rawBytes: b64(k.tsa.rootCertificate) }] },
      validFor }],
  };
}

let handlers = []; // filled in once the port (and so the Rekor checkpoint origin) is known

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      let body = Buffer.concat(chunks).toString('utf8');
      const h = handlers.find((x) => x.path === req.url.split('?')[0]);
      if (req.method !== 'POST' || !h) { res.writeHead(404); res.end('not found'); return; }
      if (h.path === '/api/v2/signingCert') body = adaptFulcioRequest(body, req.headers);
      if (h.path === '/api/v1/log/entries' && process.env.MOCK_NO_CANON !== '1') body = canonicalizeV1(body);
      const r = await h.fn(body);
      console.error(`${req.method} ${req.url} -> ${r.statusCode}`);
      res.writeHead(r.statusCode, { 'Content-Type': r.contentType || 'text/plain' });
      const out = r.response;
      res.end(typeof out === 'string' ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    } catch (e) {
      console.error(`${req.method} ${req.url} -> 400 (${e.message})`);
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(String(e.message));
    }
  });
});

server.on('error', (e) => { console.error(`mock-sigstore: ${e.message}`); process.exit(1); });
server.listen(Number(process.env.MOCK_PORT || 0), '127.0.0.1', async () => {
  try {
    const base = `http://127.0.0.1:${server.address().port}`;
    const ctLog = await m.initializeCTLog(newKey());
    const ca = await m.initializeCA(newKey(), ctLog);
    const tlogKey = newKey();
    const tlog = await m.initializeTLog(base, tlogKey); // base's host:port becomes the checkpoint origin
    const tsa = await m.initializeTSA(newKey());
    handlers = [m.fulcioHandler(ca, { strict: true, subjectClaim: process.env.MOCK_SUBJECT_CLAIM || 'sub' }),
      m.rekorHandler(tlog), m.rekorV2Handler(tlog), m.tsaHandler(tsa)];
    fs.writeFileSync(rootOut, JSON.stringify(trustedRoot(base, { ctLog, ca, tlog: tlogKey, tsa }), null, 2));
    process.stdout.write(`READY ${base}\n`); // the only stdout line; the root file is complete by now
  } catch (e) {
    console.error(`mock-sigstore: startup failed: ${e.stack || e}`);
    process.exit(1);
  }
});
