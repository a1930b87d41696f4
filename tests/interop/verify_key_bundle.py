#!/usr/bin/env python3
"""Independent check of a key-based Sigstore v0.3 DSSE bundle using only `cryptography`.

usage: verify_key_bundle.py PUB.pem BUNDLE [EXPECTED_SUBJECT_SHA256 [PREDICATE_TYPE]]
"""
import base64, hashlib, json, sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

INTOTO = "application/vnd.in-toto+json"


def pae(payload_type: bytes, payload: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    pub = serialization.load_pem_public_key(open(argv[1], "rb").read())
    if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
        raise ValueError("expected an ECDSA P-256 public key")
    b = json.load(open(argv[2]))
    if b.get("mediaType") != "application/vnd.dev.sigstore.bundle.v0.3+json":
        raise ValueError(f"mediaType {b.get('mediaType')}")
    spki = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    hint = b["verificationMaterial"]["publicKey"].get("hint", "")
    if hint and hint != base64.b64encode(hashlib.sha256(spki).digest()).decode():
        raise ValueError(f"key hint {hint} does not match the given key")
    env = b["dsseEnvelope"]
    if env["payloadType"] != INTOTO:
        raise ValueError(f"payloadType {env['payloadType']}")
    if len(env["signatures"]) != 1:
        raise ValueError("expected exactly one signature")
    payload = base64.b64decode(env["payload"], validate=True)
    sig = base64.b64decode(env["signatures"][0]["sig"], validate=True)
    pub.verify(sig, pae(env["payloadType"].encode(), payload), ec.ECDSA(hashes.SHA256()))
    st = json.loads(payload)
    if st.get("_type") != "https://in-toto.io/Statement/v1":
        raise ValueError(f"_type {st.get('_type')}")
    if len(argv) > 3 and not any(s.get("digest", {}).get("sha256") == argv[3].lower() for s in st["subject"]):
        raise ValueError("no subject with the expected sha256")
    if len(argv) > 4 and st.get("predicateType") != argv[4]:
        raise ValueError(f"predicateType {st.get('predicateType')}")
    subj = ", ".join(f"{s.get('name')}@sha256:{s['digest'].get('sha256')}" for s in st["subject"])
    print(f"OK {st['predicateType']} {subj}")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except InvalidSignature:
        sys.exit("FAIL: signature verification failed")
    except (ValueError, KeyError, TypeError) as e:
        sys.exit(f"FAIL: {type(e).__name__}: {e}")
