#!/usr/bin/env bash
# Regenerates fixtures/duet/: real k6 duet runs (examples/duet.js) against the two loopback
# servers of tests/duet.rs, two with the candidate 50% slower (slow-1, slow-2: places swapped)
# and two A/A (same-1, same-2). Only the lines perfcert reads are kept (http_req_duration,
# http_req_failed, http_reqs), gzipped. Needs k6 in target/test-tools (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/duet
mkdir -p "$out"
PERFCERT_DUET_FIXTURES="$PWD/$out" cargo test --locked --test duet real_k6 -- --nocapture
ls -l "$out"
