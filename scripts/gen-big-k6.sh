#!/usr/bin/env bash
# Writes a large k6 raw file by repeating the two complete bundled runs: NDJSON (--out json),
# or CSV (--out csv) when OUT ends in .csv.
# Usage: scripts/gen-big-k6.sh OUT.ndjson|OUT.csv [COPIES]   (48 copies: 1.8 GB, 6.2 M lines, 0.5 M requests)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: gen-big-k6.sh OUT.ndjson [COPIES]}
copies=${2:-48}
kind=ndjson
case "$out" in *.csv) kind=csv ;; esac
mkdir -p "$(dirname "$out")"
{
  for _ in $(seq "$copies"); do
    gzip -dc "fixtures/k6/full/k6-baseline-raw.$kind.gz"
    gzip -dc "fixtures/k6/full/k6-current-raw.$kind.gz"
  done
} > "$out"
ls -l "$out"
