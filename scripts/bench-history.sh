#!/usr/bin/env bash
# Speed of reading a service's history through the archive's index: `perfcert history` and
# `perfcert report --format html` over an archive of N releases (default 1000), plus
# `index rebuild` of an archive whose index was deleted. The archive is made here: one
# certificate signed with a throwaway key, copied N times under other versions and days (the
# copies are not signed: history and report read index lines and the newest certificate, and
# verify nothing), then indexed by `perfcert index rebuild`.
# Usage: scripts/bench-history.sh [N]    (release build; prints a markdown table)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
cargo build --release --locked --quiet
bin=$PWD/target/release/perfcert
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export COSIGN_PASSWORD=bench
"$bin" keygen --output-key-prefix "$work/bench" >/dev/null 2>&1
"$bin" certify --key "$work/bench.key" --baseline fixtures/perf004/baseline.json \
  --current fixtures/perf004/current.json --archive "$work/seed" --version v0 -q
seed=$(find "$work/seed" -name '*.cert.json' | head -1)
archive=$work/archive
python3 - "$seed" "$archive" "$n" <<'PY'
import json, os, sys, datetime
seed, archive, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cert = json.load(open(seed))
start = datetime.datetime(2024, 1, 1, 12, 0, 0)
for i in range(n):
    t = start + datetime.timedelta(days=i // 3, hours=i % 3)
    day = t.strftime("%Y%m%d")
    c = dict(cert, version=f"v1.{i}", date=t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    c["metrics"] = dict(cert["metrics"], latency_p95_read=200 + (i % 17))
    os.makedirs(f"{archive}/{day}", exist_ok=True)
    with open(f"{archive}/{day}/ingest-api-v1.{i}.cert.json", "w") as f:
        json.dump(c, f, indent=2)
PY
measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$@" > /dev/null 2>&1
  read -r wall user sys rss < "$work/time"
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.0f |\n", n, w, u + s, r / 1024 }'
}
echo "| $n releases, local archive | wall s | CPU s | max RSS MB |"
echo "|---|---|---|---|"
measure "index rebuild ($n certificates)" "$bin" index rebuild "$archive"
measure "history --last 5" "$bin" history "$archive" --service ingest-api --last 5
measure "history --last $n --format json" "$bin" history "$archive" --service ingest-api --last "$n" --format json
measure "report --format html --last 5" "$bin" report "$archive" --service ingest-api --format html --output "$work/r.html"
