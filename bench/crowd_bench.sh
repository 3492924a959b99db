#!/usr/bin/env bash
# Crowd counting speed and peak memory per 1024x768 and 3840x2160 image, against OpenCV's HOG people
# detector on the same images; each measurement in its own process (peak RSS is per process).
#
#   bench/crowd_bench.sh [BUILD_DIR (default ./build)]
#
# Needs the prepared models (tools/prepare_models.sh) and ../shared/data/crowd. Not a test: numbers vary
# with the machine; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BENCH=$BUILD/bench/facecrowd_bench
[[ -x $BENCH ]] || { echo "build first: scripts/build.sh (missing $BENCH)" >&2; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for name in BM_CrowdCount BM_CrowdBaselineHogPeople; do
  for arg in 0 1; do
    "$BENCH" --benchmark_filter="^${name}/${arg}(/|\$)" --benchmark_format=json > "$OUT/${name}_${arg}.json" 2>/dev/null
  done
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys, glob, os
rows = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    for b in json.load(open(f))["benchmarks"]:
        if "error_message" in b:
            sys.exit(f"{b['name']}: {b['error_message']}")
        rows["/".join(b["name"].split("/")[:2])] = b  # without the /min_time suffix
print(f"{'benchmark':34} {'image':>10} {'ms/image':>9} {'peak MB':>8} {'count':>7}")
for name, b in rows.items():
    print(f"{name:34} {b.get('label',''):>10} {b['real_time']:9.0f} {b['peak_rss_MB']:8.0f} {b.get('count',0):7.1f}")
for arg in ("0", "1"):
    ours, hog = rows.get(f"BM_CrowdCount/{arg}"), rows.get(f"BM_CrowdBaselineHogPeople/{arg}")
    if ours and hog:
        print(f"{ours['label']}: crowd counter / HOG time ratio {ours['real_time'] / hog['real_time']:.2f}")
PY
