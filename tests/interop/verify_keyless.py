#!/usr/bin/env python3
"""Offline keyless verification of a Sigstore bundle with sigstore-python 4.5.1 (an independent
second verifier next to verify-keyless.js).

    python verify_keyless.py TRUSTED_ROOT ARTIFACT BUNDLE SAN ISSUER [PREDICATE_TYPE]

TRUSTED_ROOT is a trusted_root.json (no TUF, no network). The policy is an exact certificate SAN plus
OIDC issuer. Message-signature bundles must sign ARTIFACT itself. DSSE bundles must carry an in-toto
statement with a subject whose sha256/sha384/sha512 digest equals ARTIFACT's (verify_dsse does not
check subjects, and the sigstore CLI only matches sha256), and, if given, predicateType ==
PREDICATE_TYPE. Prints OK and exits 0; otherwise prints the error to stderr and exits 1.
"""
import hashlib
import json
import sys

from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity

IN_TOTO = "application/vnd.in-toto+json"
DIGESTS = ("sha256", "sha384", "sha512")  # weaker algorithms in a subject are ignored


def verify(root_path, art_path, bundle_path, san, issuer, predicate_type=None):
    verifier = Verifier(trusted_root=TrustedRoot.from_file(root_path))
    with open(bundle_path, "rb") as f:
        bundle = Bundle.from_json(f.read())
    with open(art_path, "rb") as f:
        artifact = f.read()
    policy = Identity(identity=san, issuer=issuer)

    if bundle._dsse_envelope is None:  # message signature over the artifact
        if predicate_type is not None:
            raise ValueError("PREDICATE_TYPE given but the bundle is a message signature, not DSSE")
        verifier.verify_artifact(artifact, bundle, policy)
        return

    # Checks certificate chain, SAN/issuer, SCT, tlog entry (+ its consistency), DSSE signature.
    payload_type, payload = verifier.verify_dsse(bundle, policy)
    if payload_type != IN_TOTO:
        raise ValueError(f"DSSE payloadType is {payload_type!r}, expected {IN_TOTO!r}")
    statement = json.loads(payload)
    want = {alg: hashlib.new(alg, artifact).hexdigest() for alg in DIGESTS}
    if not any(
        alg in want and str(value).lower() == want[alg]
        for subject in statement.get("subject") or []
        for alg, value in (subject.get("digest") or {}).items()
    ):
        raise ValueError("no in-toto subject digest matches the artifact")
    if predicate_type is not None and statement.get("predicateType") != predicate_type:
        raise ValueError(f"predicateType is {statement.get('predicateType')!r}, expected {predicate_type!r}")


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 1
    try:
        verify(*argv)
    except Exception as e:  # any failure (parse, trust, policy, subject) is a rejection
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
