#!/usr/bin/env bash
# The statistical decision's full accuracy table (issue 14): false FAIL, false PASS, recall,
# INCONCLUSIVE rate and whether following runs_needed settles it, each with a Wilson interval.
# PERFCERT_SIM_TRIALS sets the trials per cell (default 2000). The suite runs a seeded subset.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --test stats_sim -- --ignored --nocapture full_table
