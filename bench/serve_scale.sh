#!/usr/bin/env bash
# `facecrowd serve` at scale (issue 10): a gallery of 100k enrolled embeddings (demo-data: one per profile) and 1,000,000 attendance
# records (demo-data, stamped with the prepared recogniser's model version, plus two real people), then
#  1. recognize two_people.jpg one request at a time: the warm gallery's search per face (timings.searchMs /
#     faces) and galleryMs (0: no gallery load per request), against the target of <= 2 ms per face;
#  2. GET /api/v1/unknown-faces without any filter, and with cluster=true: time per request (curl), the
#     baseline binary (BASE_BIN, e.g. the previous build) against this one on the same data, same run.
# Figures are printed, never asserted; the load average is printed with them (the machine is shared).
#   bench/serve_scale.sh [BUILD_DIR] [BASE_BIN]     env: PROFILES (100000: one embedding each), ATTENDANCES (1000000), RUNS (5)
set -euo pipefail
umask 077
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BIN=$(readlink -f "$BUILD/facecrowd")
BASE=${2:-}
PROFILES=${PROFILES:-100000}; ATTENDANCES=${ATTENDANCES:-1000000}; RUNS=${RUNS:-5}
FACES=$PWD/../shared/data/faces
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export FACECROWD_DATA=$WORK/data FACECROWD_BACKUP_DIR=$WORK/backup FACECROWD_MODELS=$PWD/models
load() { echo "   (load average: $(cut -d' ' -f1-3 /proc/loadavg))"; }

version=$("$BIN" models check --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["embeddingModelVersion"])')
t0=$(date +%s)
"$BIN" -q demo-data --profiles "$PROFILES" --embedding-model "$version" --attendances "$ATTENDANCES" --users 1 \
  --crowdcounts 0 --auditlogs 10 --image-mb 0 > /dev/null
echo "bench password 123" | "$BIN" users add bench --role admin --password-stdin > /dev/null
"$BIN" enroll --name 'Joe Biden' "$FACES/identities/biden/biden.jpg" > /dev/null
echo "data: $PROFILES synthetic profiles + 1 enrolled, $ATTENDANCES attendances, made in $(( $(date +%s) - t0 )) s"

start_server() {  # binary
  echo '{"port": 0, "threads": 4, "rateLimits": {"perAddressPerMinute": 0, "perTokenPerMinute": 0, "loginPerAddressPerMinute": 0}}' > "$WORK/serve.json"
  "$1" serve --config "$WORK/serve.json" > "$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1200); do grep -q '"listening"' "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
  URL=http://127.0.0.1:$(grep -o '"port":[0-9]*' "$WORK/serve.log" | head -1 | cut -d: -f2)
  TOKEN=$(printf '{"username":"bench","password":"bench password 123"}' |
    curl -sf -X POST "$URL/api/v1/auth/login" -H 'Content-Type: application/json' -d @- | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=; }
median_time() {  # url: median seconds of RUNS GETs, and the status of the last
  for _ in $(seq "$RUNS"); do curl -s -o "$WORK/get.json" -w '%{time_total} %{http_code}\n' -H "Authorization: Bearer $TOKEN" "$1"; done |
    sort -n | awk '{t[NR]=$1; s=$2} END {printf "%.1f ms (status %s)", t[int((NR+1)/2)]*1000, s}'
}

echo "== 1. recognize with the warm gallery"; load
start_server "$BIN"
grep -o '"galleryEmbeddings":[0-9]*' "$WORK/serve.log"
for s in 1 2 3 4 5 6; do  # unknown faces to list (kit_with_rose's strangers), and the search figures
  curl -s -o "$WORK/k-$s.json" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/recognize" -F session=strangers-$s -F photo=@"$FACES/groups/kit_with_rose.jpg"
  curl -s -o "$WORK/r-$s.json" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/recognize" -F session=bench-$s -F photo=@"$FACES/groups/two_people.jpg"
done
python3 - "$WORK" <<'PY'
import json, sys, glob, statistics
per_face, gallery, search, faces = [], [], [], 0
for f in glob.glob(f"{sys.argv[1]}/r-*.json") + glob.glob(f"{sys.argv[1]}/k-*.json"):
    j = json.load(open(f)); n = len(j["recognised"]) + len(j["unknown"]); t = j["timings"]
    per_face.append(t["searchMs"] / max(n, 1)); gallery.append(t["galleryMs"]); search.append(j["gallery"]["search"]); faces = j["gallery"]["embeddings"]
print(f"gallery {faces} embeddings ({set(search)}): search per face median {statistics.median(per_face):.3f} ms, "
      f"max {max(per_face):.3f} ms (target <= 2); galleryMs median {statistics.median(gallery):.3f} (no load per request)")
PY
stop_server

echo "== 2. unknown faces over $ATTENDANCES attendance records, no filter (median of $RUNS)"; load
for b in ${BASE:+"$BASE"} "$BIN"; do
  start_server "$b"
  echo "$( [[ $b == "$BIN" ]] && echo this || echo baseline ) ($b): list $(median_time "$URL/api/v1/unknown-faces"), " \
       "cluster $(median_time "$URL/api/v1/unknown-faces?cluster=true"), by session $(median_time "$URL/api/v1/unknown-faces?session=strangers-1")"
  stop_server
done
load
