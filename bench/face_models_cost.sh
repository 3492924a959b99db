#!/usr/bin/env bash
# CPU per face of each embedding model (issue 12): the embedding pass alone (the model's alignment, blob and
# forward) of one face of two_people.jpg, dlib (the default, the baseline) and faceres (opt-in), interleaved
# repetitions in one run of facecrowd_bench, process CPU time; prints each model's median and faceres/dlib.
# Figures are printed, never asserted. Prints the load average at start and end (the machine is shared).
#   bench/face_models_cost.sh [BUILD_DIR]        env: REPS (10)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export FACECROWD_MODELS=${FACECROWD_MODELS:-$ROOT/models}
export FACECROWD_SHARED_DATA=${FACECROWD_SHARED_DATA:-$ROOT/../shared/data}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BUILD/bench/facecrowd_bench" --benchmark_filter='BM_VisionEmbeddingPerFace' \
  --benchmark_repetitions="${REPS:-10}" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$out"
echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'PY'
import json, sys
rows = {b["run_name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"}
dlib, faceres = rows.get("BM_VisionEmbeddingPerFace/0/min_time:2.000/process_time"), rows.get("BM_VisionEmbeddingPerFace/1/min_time:2.000/process_time")
if not dlib or not faceres:
    sys.exit("face_models_cost: missing rows (are both models prepared?): %s" % list(rows))
for name, r in (("dlib", dlib), ("faceres", faceres)):
    print("%-8s CPU %.1f ms a face (median), wall %.1f ms" % (name, r["cpu_time"], r["real_time"]))
print("faceres / dlib: %.2fx CPU" % (faceres["cpu_time"] / dlib["cpu_time"]))
PY
