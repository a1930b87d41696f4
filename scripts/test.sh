#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the pinned tools the tests use under
# target/test-tools (npm: @sigstore/verify, and @sigstore/mock, whose handlers the tests serve on
# 127.0.0.1 as a Fulcio/Rekor stand-in, and @atlaskit/adf-schema, whose JSON schema every Jira
# description is validated against; Python: sigstore, cryptography, duckdb (the archive
# queries), and moto, the S3 server the S3 tests start on 127.0.0.1), then runs cargo test.
# Needs: the Rust toolchain, Node >= 20 with npm, Python 3 with venv; Chromium and poppler-utils
# (installed from Debian's packages when missing, as root); Prometheus (extracted from the
# distribution's package with apt-get download, no root needed).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=target/test-tools
mkdir -p "$tools"
if [ ! -f "$tools/.npm-done" ] || ! cmp -s tests/interop/package-lock.json "$tools/package-lock.json"; then
  cp tests/interop/package.json tests/interop/package-lock.json "$tools/"
  npm ci --prefix "$tools" --ignore-scripts --no-audit --no-fund --loglevel=error
  touch "$tools/.npm-done"
fi
if [ ! -x "$tools/venv/bin/python" ] || ! cmp -s tests/interop/requirements.txt "$tools/requirements.txt"; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
  cp tests/interop/requirements.txt "$tools/"
fi
# Headless Chromium and poppler-utils for the report tests (tests/report.rs renders the page and
# reads the PDF), from Debian's packages: installed when missing and this runs as root with
# apt-get (a CI machine); elsewhere those tests say they were skipped, and fail only under CI.
# jq too: tests/workflows.rs runs the example workflow's scripts, which use it (as runners have it).
if { ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null || ! command -v jq >/dev/null; } \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium poppler-utils jq >/dev/null
fi
# A real Prometheus for tests/collect.rs: the distribution's prometheus package (2.42 on Debian
# bookworm), only extracted (no service started, no user created) to target/test-tools/prometheus.
# `apt-get download` needs no root; as root the package lists are refreshed if it fails. Without
# it those tests say they were skipped, and fail only under CI.
if [ ! -x "$tools/prometheus/promtool" ] && command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
  deb=$(mktemp -d)
  if ! (cd "$deb" && apt-get download -qq prometheus 2>/dev/null) && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    (cd "$deb" && apt-get download -qq prometheus 2>/dev/null) || true
  fi
  if ls "$deb"/prometheus_*.deb >/dev/null 2>&1; then
    dpkg-deb -x "$deb"/prometheus_*.deb "$deb/root"
    mkdir -p "$tools/prometheus"
    cp "$deb/root/usr/bin/prometheus" "$deb/root/usr/bin/promtool" "$tools/prometheus/"
  fi
  rm -rf "$deb"
fi
PERFCERT_TEST_TOOLS="$PWD/$tools" exec cargo test --locked "$@"
