#!/usr/bin/env bash
# Benchmarks of `facecrowd serve` (issue 10), each against a baseline run in the same script; figures are
# printed as ratios and raw numbers, never asserted. Run nice'd on a calm machine:
#   bench/serve_bench.sh [BUILD_DIR] [--quick]
# 1. /health: wrk, 16 connections, loopback, 10 s (target >= 20,000 req/s, p99 <= 5 ms).
# 2. recognize two_people.jpg: 4 concurrent clients (wrk -c4) vs the one-shot CLI on the same photo,
#    sequential and 4 in parallel (target >= 1.6x the better CLI figure, p99 <= 1.5 s).
# 3. attendance list by session over 1,000,000 records (demo-data), limit 50: p99 (target <= 20 ms).
# 4. peak RSS (VmHWM) of the server after request 1,000 and after request 10,000 (target within 10%).
# 5. a restore (POST /api/v1/restore latest --drop) while 4 clients recognize in a loop: every answer's
#    status is counted (target: only 2xx and 503).
# SECTIONS=1,2,5 runs only those. Each section prints the load average when it starts (the machine is shared).
set -euo pipefail
umask 077  # serve refuses data or backup folders others can read
SECTIONS=${SECTIONS:-1,2,3,4,5}
want() { [[ ",$SECTIONS," == *",$1,"* ]]; }
load() { echo "   (load average at start: $(cut -d' ' -f1-3 /proc/loadavg))"; }
BUILD=${1:-build}
QUICK=${2:-}
BIN=$(readlink -f "$BUILD/facecrowd")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FACES=${FACES:-$ROOT/../shared/data/faces}
PHOTO=$FACES/groups/two_people.jpg
MODELS=$ROOT/models
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export FACECROWD_DATA=$WORK/data FACECROWD_BACKUP_DIR=$WORK/backup FACECROWD_MODELS=$MODELS

start_server() {  # threads
  cat > "$WORK/serve.json" <<JSON
{"port": 0, "threads": $1, "logHealth": false,
 "rateLimits": {"perAddressPerMinute": 0, "perTokenPerMinute": 0, "loginPerAddressPerMinute": 0}}
JSON
  "$BIN" serve --config "$WORK/serve.json" > "$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do grep -q '"listening"' "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
  PORT=$(grep -o '"port":[0-9]*' "$WORK/serve.log" | head -1 | cut -d: -f2)
  URL=http://127.0.0.1:$PORT
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=; }
login() {
  printf '{"username":"bench","password":"bench password 123"}' |
    curl -sf -X POST "$URL/api/v1/auth/login" -H 'Content-Type: application/json' -d @- | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

echo "bench password 123" | "$BIN" users add bench --role admin --password-stdin > /dev/null
"$BIN" enroll --name 'Barack Obama' "$FACES/identities/obama/obama.jpg" "$FACES/identities/obama/obama1.jpg" > /dev/null
"$BIN" enroll --name 'Joe Biden' "$FACES/identities/biden/biden.jpg" "$FACES/identities/biden/biden2.jpg" > /dev/null

if want 1; then
echo "== 1. GET /health, wrk 16 connections, 2 threads, 10 s"; load
start_server 16
wrk -t2 -c16 -d10s --latency -s "$ROOT/bench/serve/get.lua" "$URL/health" | tee "$WORK/health.txt" | grep -E "RESULT|Requests/sec"
H_RPS=$(grep RESULT "$WORK/health.txt" | field rps); H_P99=$(grep RESULT "$WORK/health.txt" | field p99_ms)
echo "health: $H_RPS req/s (target >= 20000), p99 $H_P99 ms (target <= 5)"
stop_server
fi

if want 2; then
echo "== 2. recognize two_people.jpg: server with 4 clients vs the one-shot CLI"; load
start_server 16

TOKEN=$(login)
DUR=${RECOGNIZE_SECONDS:-40}; [[ $QUICK == --quick ]] && DUR=15
PHOTO=$PHOTO FIELD=session VALUE=bench TOKEN=$TOKEN PATH_=/api/v1/recognize \
  wrk -t4 -c4 -d${DUR}s --timeout 30s -s "$ROOT/bench/serve/multipart.lua" "$URL" | tee "$WORK/rec.txt" | grep RESULT
S_RPS=$(grep RESULT "$WORK/rec.txt" | field rps); S_P99=$(grep RESULT "$WORK/rec.txt" | field p99_ms)
stop_server
N=${CLI_RUNS:-12}; [[ $QUICK == --quick ]] && N=6
t0=$(date +%s.%N)
for i in $(seq "$N"); do "$BIN" -q recognize "$PHOTO" --session cli-seq > /dev/null; done
t1=$(date +%s.%N)
seq "$N" | xargs -P4 -I{} "$BIN" -q recognize "$PHOTO" --session cli-par-{} > /dev/null
t2=$(date +%s.%N)
C_SEQ=$(python3 -c "print($N/($t1-$t0))"); C_PAR=$(python3 -c "print($N/($t2-$t1))")
python3 - "$S_RPS" "$S_P99" "$C_SEQ" "$C_PAR" <<'PY'
import sys
s, p99, seq, par = map(float, sys.argv[1:])
best = max(seq, par)
print(f"recognize: server {s:.2f} photos/s (p99 {p99:.0f} ms, target <= 1500); one-shot CLI {seq:.2f}/s sequential, "
      f"{par:.2f}/s 4 in parallel; ratio server / best CLI = {s/best:.2f}x (target >= 1.6x)")
PY
echo "   (load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
fi

if want 5; then
echo "== 5. restore while 4 clients recognize in a loop"; load
start_server 8
TOKEN=$(login)
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}' "$URL/api/v1/backups"
STOP=$WORK/stop-loaders
for c in 1 2 3 4; do
  ( while [[ ! -e $STOP ]]; do
      curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/recognize" \
        -F session=restore-$c -F photo=@"$PHOTO" >> "$WORK/statuses-$c.txt"
    done ) &
done
sleep 5
RESTORE=$(curl -s -o "$WORK/restore.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"archive": "latest", "drop": true}' "$URL/api/v1/restore")
sleep 10
touch "$STOP"; wait $(jobs -p | grep -v "^$SERVER_PID$") 2>/dev/null || true
echo "restore answered $RESTORE; recognize answers during the run by status:"
cat "$WORK"/statuses-*.txt | sort | uniq -c
BAD=$(cat "$WORK"/statuses-*.txt | grep -vcE '^(2..|503)$' || true)
echo "answers other than 2xx/503: $BAD (target 0)"
stop_server
fi

if want 3 || want 4; then
echo "== 3. attendance list by session over 1,000,000 records"; load
ATT=${ATTENDANCES:-1000000}; [[ $QUICK == --quick ]] && ATT=100000
"$BIN" -q demo-data --append --attendances "$ATT" --profiles 2000 --users 5 --crowdcounts 10 --auditlogs 10 --image-mb 1 > /dev/null
SESSION=$(sqlite3 "$(ls "$FACECROWD_DATA"/face-recognition/gen-*.sqlite | head -1)" "SELECT session FROM attendances LIMIT 1 OFFSET 500000" 2>/dev/null || true)
[[ -z $SESSION ]] && SESSION=$(sqlite3 "$(ls "$FACECROWD_DATA"/face-recognition/gen-*.sqlite | head -1)" "SELECT session FROM attendances LIMIT 1")
start_server 8
TOKEN=$(login)
Q=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))" "$SESSION")
TOKEN=$TOKEN wrk -t2 -c4 -d10s --latency -s "$ROOT/bench/serve/get.lua" "$URL/api/v1/attendance?session=$Q&limit=50" | tee "$WORK/att.txt" | grep RESULT
echo "attendance by session ($ATT records, session '$SESSION'): p99 $(grep RESULT "$WORK/att.txt" | field p99_ms) ms (target <= 20)"

fi
if want 4; then
echo "== 4. peak RSS from request 1,000 to request 10,000 (recognize every ${RECOGNIZE_EVERY:-10}th request, lists between)"; load
hwm() { awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status; }
EVERY=${RECOGNIZE_EVERY:-10}  # one recognize per EVERY requests; the others list (3 per curl)
run_requests() {  # count
  local n=$1
  for ((i = 0; i < n; i += EVERY)); do
    curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/v1/recognize" -F session=rss -F photo=@"$PHOTO"
    for ((k = 1; k < EVERY; k += 3)); do
      curl -s -o /dev/null -o /dev/null -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/v1/people?limit=20" \
        "$URL/api/v1/attendance?session=rss" "$URL/api/v1/auth/me"
    done
  done
}
run_requests 1000; R1=$(hwm)
run_requests 9000; R10=$(hwm)
python3 -c "a,b=$R1,$R10; print(f'peak RSS after 1,000 requests {a/1024:.0f} MiB, after 10,000 {b/1024:.0f} MiB: {100*(b-a)/a:+.1f}% (target within 10%)')"
stop_server
fi
