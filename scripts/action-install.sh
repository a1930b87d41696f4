#!/usr/bin/env bash
# The action's "Install perfcert" step (action.yml): puts perfcert in $RUNNER_TEMP/perfcert/bin.
#
# First choice: the release binary built from the commit the action is pinned to (`uses:
# ORG/perfcert@COMMIT_SHA` or a release tag), downloaded from that commit's GitHub release and used
# only if both checks pass:
#   1. its sha256 is the one the release's SHA256SUMS lists for it;
#   2. `gh attestation verify` finds its build-provenance attestation, made by this repository's
#      release workflow (on a GitHub-hosted runner) from that same source commit.
# A failed check fails the step: a release that does not match its own checksums or provenance is
# reported, not quietly replaced.
# Fallback, with a ::notice saying why: build from the action's own source with cargo, when there
# is nothing to check (a local action, no release for the commit, no binary for this runner, no
# SHA256SUMS in the release) or no gh able to check it. The source is the pinned commit itself, so
# the fallback runs the same perfcert.
#
# Environment: ACTION_PATH, ACTION_REF, ACTION_REPOSITORY (github.action_*), GH_TOKEN for gh,
# RUNNER_TEMP, RUNNER_OS, RUNNER_ARCH (set by the runner).
set -euo pipefail

root="$RUNNER_TEMP/perfcert"
workflow=.github/workflows/release.yml

notice() { echo "::notice title=perfcert::$*"; }
fail() {
  echo "::error title=perfcert::$*"
  exit 1
}

build() {
  notice "$1: building perfcert from the action's source with cargo"
  # From the action's directory, so that its toolchain applies, not a rust-toolchain.toml of the
  # repository being tested.
  cd "$ACTION_PATH"
  cargo install --locked --quiet --path . --root "$root"
  "$root/bin/perfcert" --version
  exit 0
}

sha256() {
  if command -v sha256sum > /dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d ' ' -f 1
}

# The release workflow's targets (Linux and macOS are the supported platforms).
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  *) build "no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" ;;
esac

repo=${ACTION_REPOSITORY:-}
ref=${ACTION_REF:-}
if [ -z "$repo" ] || [ -z "$ref" ]; then build "a local action (uses: ./) has no release"; fi
if ! command -v gh > /dev/null; then build "gh (GitHub CLI) is not on PATH to check a release binary"; fi
if ! gh attestation verify --help 2> /dev/null | grep -q -e --source-digest; then
  build "this gh cannot check an attestation's source commit (gh attestation verify --source-digest)"
fi

if [[ $ref =~ ^[0-9a-f]{40}$ ]]; then
  commit=$ref
elif ! commit=$(gh api "repos/$repo/commits/$ref" --jq .sha) || ! [[ $commit =~ ^[0-9a-f]{40}$ ]]; then
  build "cannot resolve $repo@$ref to a commit"
fi

# A release is found by its tag, so look for the tags on the commit.
if ! tags=$(gh api "repos/$repo/tags" --paginate --jq ".[] | select(.commit.sha == \"$commit\") | .name"); then
  build "cannot list the tags of $repo"
fi
dl=$(mktemp -d "$RUNNER_TEMP/perfcert-release-XXXXXX")
tag=
for candidate in $tags; do
  asset="perfcert-$candidate-$target.tar.gz"
  if gh release download "$candidate" --repo "$repo" --dir "$dl" --pattern "$asset" --pattern SHA256SUMS \
    && [ -f "$dl/$asset" ]; then
    tag=$candidate
    break
  fi
  rm -f "$dl"/*
done
if [ -z "$tag" ]; then build "no release of $repo for commit $commit with a $target binary"; fi
if [ ! -f "$dl/SHA256SUMS" ]; then build "release $tag of $repo has no SHA256SUMS"; fi

expected=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$dl/SHA256SUMS")
actual=$(sha256 "$dl/$asset")
if [ -z "$expected" ]; then fail "$asset: release $tag's SHA256SUMS has no line for it"; fi
if [ "$actual" != "$expected" ]; then
  fail "$asset: its sha256 is $actual, release $tag's SHA256SUMS says $expected"
fi

if ! gh attestation verify "$dl/$asset" --repo "$repo" --signer-workflow "$repo/$workflow" \
  --source-digest "$commit" --deny-self-hosted-runners; then
  fail "$asset: no build-provenance attestation from $repo's $workflow at commit $commit verifies it"
fi

tar -xzf "$dl/$asset" -C "$dl"
mkdir -p "$root/bin"
install -m 755 "$dl/perfcert-$tag-$target/perfcert" "$root/bin/perfcert"
rm -rf "$dl"
echo "perfcert $tag for $target, from the release: sha256 as in SHA256SUMS, built by $workflow from commit $commit"
"$root/bin/perfcert" --version
