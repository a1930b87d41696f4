#!/usr/bin/env bash
# Process wall time of `perfcert compare` on the bundled fixtures, per report format.
# Needs hyperfine (Debian: apt-get install hyperfine). Prints hyperfine's table.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine not found (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --locked --quiet
bin=target/release/perfcert
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args="compare --baseline fixtures/perf004/baseline.json --current fixtures/perf004/current-regressed.json --thresholds fixtures/perf004/waivers.yml --as-of 2026-06-01"
hyperfine --warmup 50 --runs "${RUNS:-500}" -N -i --export-markdown "${EXPORT:-/dev/null}" \
  -n table "$bin $args --format table" \
  -n json "$bin $args --format json" \
  -n markdown "$bin $args --format markdown" \
  -n junit "$bin $args --format junit" \
  -n 'json + 3 reports' "$bin $args --format json --report markdown=$tmp/r.md --report junit=$tmp/r.xml --report table=$tmp/r.txt"
