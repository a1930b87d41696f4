#!/usr/bin/env bash
# Renders perfcert's PASS and FAIL badges in headless Chromium and saves a screenshot to look at:
# target/badges/badges.png. Needs Debian's `chromium` (apt-get install chromium).
# Usage: scripts/render-badges.sh [CHROMIUM]
set -euo pipefail
cd "$(dirname "$0")/.."
chromium=${1:-chromium}
out=target/badges
mkdir -p "$out"
cargo build --quiet --locked
perfcert=target/debug/perfcert
export PERFCERT_NO_GITHUB=1
for current in current current-regressed; do
  status=0
  "$perfcert" compare --quiet --baseline fixtures/perf004/baseline.json \
    --current "fixtures/perf004/$current.json" --badge "$out/$current.svg" || status=$?
  [ "$status" -le 1 ] || exit "$status"
done
# As an <img> (how a README or PR shows it) at 1x and 3x, then both inline in the page.
{
  echo '<!doctype html><html><body style="margin:8px;background:#fff">'
  echo '<div><img src="current.svg"> <img src="current-regressed.svg"></div>'
  echo '<div><img src="current.svg" style="height:60px"> <img src="current-regressed.svg" style="height:60px"></div>'
  echo '<div>'; cat "$out/current.svg" "$out/current-regressed.svg"; echo '</div></body></html>'
} > "$out/badges.html"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=480,190 \
  --screenshot="$PWD/$out/badges.png" "file://$PWD/$out/badges.html" 2>/dev/null
ls -l "$out/badges.png"
