#!/usr/bin/env bash
# How long a restore through the server refuses requests (issue 10: 503 only during the swap), a baseline
# binary against the new one in the same run, on the same data and the same backup (figures printed,
# never asserted). Run nice'd on a calm machine:
#   bench/serve_restore_window.sh BASELINE_BINARY [BUILD_DIR] [ROUNDS]
# Each round, for each binary: a fresh copy of one data directory (two people enrolled plus demo-data:
# ATTENDANCES records, IMAGE_MB of images, so that building the restored store takes a while), a server,
# 4 clients recognizing two_people.jpg in a loop (serve_bench.sh section 5) and 2 clients reading
# /api/v1/auth/me in a loop (cheap requests: they time the 503 window to a few ms), then
# POST /api/v1/restore latest --drop. Printed per run: the restore's own time, the answers by status, and
# the 503 window (first 503 sent to last 503 answered), for the light and the recognize clients.
set -euo pipefail
umask 077
BASE=$(readlink -f "$1")
BUILD=${2:-build}
ROUNDS=${3:-2}
NEW=$(readlink -f "$BUILD/facecrowd")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FACES=${FACES:-$ROOT/../shared/data/faces}
PHOTO=$FACES/groups/two_people.jpg
ATTENDANCES=${ATTENDANCES:-200000}
IMAGE_MB=${IMAGE_MB:-100}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export FACECROWD_MODELS=$ROOT/models FACECROWD_BACKUP_DIR=$WORK/backup

# One data directory and one backup, made once by the new binary (both read the same format).
export FACECROWD_DATA=$WORK/seed
echo "bench password 123" | "$NEW" users add bench --role admin --password-stdin > /dev/null
"$NEW" enroll --name 'Barack Obama' "$FACES/identities/obama/obama.jpg" "$FACES/identities/obama/obama1.jpg" > /dev/null
"$NEW" enroll --name 'Joe Biden' "$FACES/identities/biden/biden.jpg" "$FACES/identities/biden/biden2.jpg" > /dev/null
"$NEW" -q demo-data --append --attendances "$ATTENDANCES" --profiles 200 --users 5 --crowdcounts 1000 \
  --auditlogs 1000 --image-mb "$IMAGE_MB" > /dev/null
"$NEW" -q backup > /dev/null
echo "data: $(du -sh "$WORK/seed" | cut -f1), backup: $(du -sh "$WORK/backup" | cut -f1)"

run_one() {  # label binary
  local label=$1 bin=$2 run=$WORK/run-$1
  rm -rf "$run" && mkdir -p "$run" && cp -a "$WORK/seed" "$run/data"
  export FACECROWD_DATA=$run/data
  cat > "$run/serve.json" <<JSON
{"port": 0, "threads": 8, "logHealth": false,
 "rateLimits": {"perAddressPerMinute": 0, "perTokenPerMinute": 0, "loginPerAddressPerMinute": 0}}
JSON
  "$bin" serve --config "$run/serve.json" > "$run/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do grep -q '"listening"' "$run/serve.log" 2>/dev/null && break; sleep 0.1; done
  local url=http://127.0.0.1:$(grep -o '"port":[0-9]*' "$run/serve.log" | head -1 | cut -d: -f2)
  local token
  token=$(printf '{"username":"bench","password":"bench password 123"}' |
    curl -sf -X POST "$url/api/v1/auth/login" -H 'Content-Type: application/json' -d @- |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  local stop=$run/stop pids=()
  for c in 1 2 3 4; do
    ( while [[ ! -e $stop ]]; do
        s=$(date +%s%3N)
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/recognize" \
          -F session=restore-$c -F photo=@"$PHOTO")
        echo "$code $s $(date +%s%3N)" >> "$run/recognize-$c.txt"
      done ) &
    pids+=($!)
  done
  for c in 1 2; do
    ( while [[ ! -e $stop ]]; do
        s=$(date +%s%3N)
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/auth/me")
        echo "$code $s $(date +%s%3N)" >> "$run/light-$c.txt"
      done ) &
    pids+=($!)
  done
  sleep 5
  local t0 t1 code
  t0=$(date +%s%3N)
  code=$(curl -s -o "$run/restore.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"archive": "latest", "drop": true}' "$url/api/v1/restore")
  t1=$(date +%s%3N)
  sleep 8
  touch "$stop"; wait "${pids[@]}" 2>/dev/null || true
  kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=
  python3 - "$label" "$code" "$t0" "$t1" "$run" <<'PY'
import glob, json, sys
label, code, t0, t1, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def summary(kind):
    rows = []
    for f in glob.glob(f"{run}/{kind}-*.txt"):
        for line in open(f):
            c, s, e = line.split()
            rows.append((c, int(s), int(e)))
    by = {}
    for c, _, _ in rows: by[c] = by.get(c, 0) + 1
    busy = [(s, e) for c, s, e in rows if c == "503"]
    window = (max(e for _, e in busy) - min(s for s, _ in busy)) if busy else 0
    return by, window
try:
    swap = json.load(open(f"{run}/restore.json")).get("swap_seconds")
except Exception:
    swap = None
light, lw = summary("light")
rec, rw = summary("recognize")
print(f"{label}: restore answered {code} in {t1 - t0} ms" + (f" (swap {swap * 1000:.0f} ms)" if swap is not None else ""))
print(f"   light clients    : {dict(sorted(light.items()))}, 503 window {lw} ms")
print(f"   recognize clients: {dict(sorted(rec.items()))}, 503 window {rw} ms")
PY
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  run_one "baseline-$round" "$BASE"
  run_one "new-$round" "$NEW"
done
