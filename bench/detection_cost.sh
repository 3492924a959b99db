#!/usr/bin/env bash
# The detection-cost bench (issue 12) and where a recognized photo's CPU goes (issue 10): per photo of
# ../shared/data/faces/groups (or the photos given), the passes of each kind the face pipeline runs
# (JPEG check/decode, detector whole-image and tile forwards, landmarks, mirrored landmarks, chip,
# embedding, rotation passes) with their CPU and wall time, against the whole read_photo() + analyse() of
# the same photo in the same run; then OpenCV on its default thread count against one thread, interleaved.
# Figures are printed, never asserted. CPU is process CPU: run it when nothing else runs in the process.
#   bench/detection_cost.sh [BUILD_DIR] [PHOTO...]     env: REPEAT (3), ROTATION (near-misses|all|turns|off), VARIANTS (default: the
# OpenCV thread counts; e.g. VARIANTS="turns:rotation=turns near-misses:rotation=near-misses all:rotation=all";
# near-miss-turns=both-30 gives the near-misses default before issue 12's cost cut, e.g.
# VARIANTS="turns:rotation=turns both-30:rotation=near-misses,near-miss-turns=both-30 near-misses:rotation=near-misses")
set -euo pipefail
BUILD=${1:-build}; shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FACES=${FACES:-$ROOT/../shared/data/faces}
export FACECROWD_MODELS=${FACECROWD_MODELS:-$ROOT/models}
if [[ $# -eq 0 ]]; then set -- "$FACES"/groups/*.jpg; fi
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
VARIANTS=${VARIANTS:-"opencv-default-threads:threads=$(nproc) opencv-1-thread:threads=1"}
variant_args=()
for v in $VARIANTS; do variant_args+=(--variant "$v"); done
"$BUILD/bench/facecrowd_detection_cost" --repeat "${REPEAT:-3}" --rotation "${ROTATION:-near-misses}" "${variant_args[@]}" "$@"
