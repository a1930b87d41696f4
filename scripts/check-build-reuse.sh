#!/usr/bin/env bash
# Checks that the test build reuses the first build (the README's `cargo run`, then
# scripts/test.sh): every artifact `cargo build` makes must be the very file `cargo test` uses,
# same metadata hash. A crate whose features or profile differ between the two builds (a
# dev-dependency switching on a feature, or sharing a build-dependency; see Cargo.toml) is
# compiled twice, with every crate above it. Run by .ci/run; it builds only what the tests build.
# Needs: Python 3.
set -euo pipefail
cd "$(dirname "$0")/.."

artifacts() {
  cargo "$@" --locked --quiet --message-format=json | python3 -c '
import json, re, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact":
        # The metadata hash in the file names (deps/libX-HASH.rlib, build/X-HASH/...) names the
        # build; the copies without it (target/debug/libX.rlib) do not.
        hashes = sorted({h for f in m["filenames"] for h in re.findall(r"-([0-9a-f]{16})\b", f)})
        print(m["package_id"].split("#")[-1], m["target"]["name"], *m["target"]["kind"], "->", *hashes)
'
}

build=$(artifacts build | sort -u)
test=$(artifacts test --no-run | sort -u)
# An artifact of the first build that the test build made again, differently.
twice=$(comm -23 <(echo "$build") <(echo "$test"))
if [ -n "$twice" ]; then
  echo "check-build-reuse: cargo test compiles these again, with other features or settings than cargo build:" >&2
  echo "$twice" >&2
  echo "Compare \`cargo tree -e normal,build -f '{p} {f}'\` with and without \`dev\` in -e; see Cargo.toml." >&2
  exit 1
fi
echo "check-build-reuse: cargo test reuses all $(echo "$build" | wc -l | tr -d ' ') artifacts of cargo build"
