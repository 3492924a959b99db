#!/usr/bin/env bash
# The cost of `facecrowd gallery reembed` per stored image against enrolling the same photos, in the same
# process (bench/reembed_cost/reembed_cost.cpp): CPU and wall seconds per image and their ratios, per round
# and the median. Printed, never asserted. Run it when nothing else runs.
#   bench/reembed_cost.sh [BUILD_DIR]      env: ROUNDS (3), IDENTITIES (../shared/data/faces/identities)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/bench/facecrowd_reembed_cost" --models "${FACECROWD_MODELS:-$ROOT/models}" \
  --identities "${IDENTITIES:-$ROOT/../shared/data/faces/identities}" --rounds "${ROUNDS:-3}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
