#!/usr/bin/env bash
# Speed and memory of reading a big k6 raw file: perfcert next to a plain-Python reference
# (and DuckDB's CLI when `duckdb` is on PATH), on the same file, same work: p95 overall / read /
# write, error rate, request count. Warm page cache (one untimed read first).
# Usage: scripts/bench-raw.sh [FILE]   (default: generates target/bench/big.ndjson, 1.8 GB)
# The same runs as k6 CSV (target/bench/big.csv) are timed too. For the memory bound past the
# exact-sample budget: scripts/gen-big-k6.sh target/bench/huge.ndjson 144 (5.4 GB), then
# scripts/bench-raw.sh target/bench/huge.ndjson.
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-target/bench/big.ndjson}
[ -f "$file" ] || scripts/gen-big-k6.sh "$file"
cargo build --release --locked --quiet
bin=target/release/perfcert
gz="$file.gz"
[ -f "$gz" ] || gzip -1 -c "$file" > "$gz"
policy=$(mktemp); trap 'rm -f "$policy"' EXIT
# method statistical: the reader also keeps the gated metrics' 10-s windows (within-run
# precision and checks), as users of the statistical decision get it.
printf 'decision: { method: statistical }\nmetrics:\n  latency_p95: { max: 1e9 }\n  latency_p95_read: { max: 1e9 }\n  latency_p95_write: { max: 1e9 }\n  error_rate: { max: 100 }\n  throughput: { min: 0 }\n' > "$policy"
size=$(stat -c %s "$file")
small=fixtures/k6/full/k6-baseline-summary-export.json   # so that only --current is the big file
cat "$file" > /dev/null
measure() { # name, command...
  local name=$1; shift
  local t; t=$( { /usr/bin/time -f '%e %U %S %M' "$@" > /dev/null; } 2>&1 | tail -1 || true) # a FAIL verdict is fine here
  read -r wall user sys rss <<< "$t"
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v b="${bytes:-$size}" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.0f | %.0f |\n", n, w, u + s, b / 1e6 / w, r / 1024 }'
}
echo "file: $file, $(numfmt --to=si "$size")B, $(wc -l < "$file") lines; $(nproc) cores"
echo
echo "| reader | wall s | CPU s | MB/s (wall) | peak RSS MB |"
echo "|---|---|---|---|---|"
for _ in 1 2 3; do
  measure "perfcert (plain)" "$bin" compare --baseline "$small" --current "$file" --thresholds "$policy" --format json
done
measure "perfcert (gzip -1)" "$bin" compare --baseline "$small" --current "$gz" --thresholds "$policy" --format json
csv="$(dirname "$file")/big.csv"
[ -f "$csv" ] || scripts/gen-big-k6.sh "$csv" > /dev/null
cat "$csv" > /dev/null
bytes=$(stat -c %s "$csv") measure "perfcert (k6 CSV, $(numfmt --to=si "$(stat -c %s "$csv")")B)" "$bin" compare --baseline "$small" --current "$csv" --thresholds "$policy" --format json
measure "zcat (gzip -1) > /dev/null" sh -c "zcat '$gz'"
measure "python3 json + prefilter" python3 scripts/bench/p95_python.py "$file"
if command -v duckdb >/dev/null; then
  q="select quantile_cont(data.value, 0.95) from read_json('$file', columns={metric:'VARCHAR', type:'VARCHAR', data:'STRUCT(value DOUBLE, tags STRUCT(method VARCHAR))'}) where metric='http_req_duration' and type='Point'"
  for _ in 1 2; do measure "duckdb CLI (overall p95 only)" duckdb -c "$q"; done
fi
echo
echo "perfcert: $("$bin" compare --baseline "$small" --current "$file" --thresholds "$policy" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print({m["name"]: round(m["current"], 6) for m in d["metrics"] if m["status"] != "UNTRACKED"})')"
echo "python:   $(python3 scripts/bench/p95_python.py "$file")"
