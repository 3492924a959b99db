#!/usr/bin/env bash
# CPU seconds and wall time per photo of `POST /api/v1/recognize` (CLIENTS concurrent clients) against the
# one-shot CLI `facecrowd recognize`, run one at a time and CLIENTS at once, in the same script run (issue 10:
# target >= 1.6x the CLI's throughput, p99 <= 1.5 s). CPU time is the less noisy figure on a shared machine:
# the server's utime+stime (/proc/PID/stat) before and after N requests, against the CLI processes' user+sys
# (bash `times` of the children). With CLIENTS processes at once on a machine whose cores are all busy, the
# throughput ratio server / CLI is about the ratio of their CPU per photo.
# ENGINES runs the whole comparison once per network engine (FACECROWD_NET_ENGINE: BlazeFace and landmarks;
# "opencv" is the engine before XNNPACK, so the baseline of the engine change is in the same run). Figures are printed, never
# asserted; run it when the machine is otherwise quiet.
#   bench/recognize_cpu.sh [BUILD_DIR]     env: N (requests, default 40), CLIENTS (4), THREADS (server, 8),
#                                               CLI_RUNS (12), ENGINES ("xnnpack opencv"), PHOTO,
#                                               SERVE_EXTRA (extra JSON keys for the config), SERVER_ENV
set -euo pipefail
umask 077
BUILD=${1:-build}
BIN=$(readlink -f "$BUILD/facecrowd")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FACES=${FACES:-$ROOT/../shared/data/faces}
PHOTO=${PHOTO:-$FACES/groups/two_people.jpg}
N=${N:-40}; CLIENTS=${CLIENTS:-4}; THREADS=${THREADS:-8}; CLI_RUNS=${CLI_RUNS:-12}
ENGINES=${ENGINES:-xnnpack opencv}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export FACECROWD_DATA=$WORK/data FACECROWD_BACKUP_DIR=$WORK/backup FACECROWD_MODELS=$ROOT/models
TICKS=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TICKS" '{print ($14 + $15) / t}' "/proc/$1/stat"; }

echo "bench password 123" | "$BIN" users add bench --role admin --password-stdin > /dev/null
"$BIN" enroll --name 'Barack Obama' "$FACES/identities/obama/obama.jpg" "$FACES/identities/obama/obama1.jpg" > /dev/null
"$BIN" enroll --name 'Joe Biden' "$FACES/identities/biden/biden.jpg" "$FACES/identities/biden/biden2.jpg" > /dev/null
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# `times` must run in this shell (not in a $(...) subshell) to see this shell's finished children.
children_cpu() { tail -1 "$WORK/times.out" | sed 's/m/ /g; s/s//g' | awk '{print $1*60+$2+$3*60+$4}'; }

for ENGINE in $ENGINES; do
export FACECROWD_NET_ENGINE=$ENGINE
# 1. The one-shot CLI, one at a time, then CLIENTS at once.
"$BIN" -q recognize "$PHOTO" --session warm > /dev/null  # page cache
times > "$WORK/times.out"; c0=$(children_cpu)
t0=$(date +%s.%N)
for i in $(seq "$CLI_RUNS"); do "$BIN" -q recognize "$PHOTO" --session cli-seq > /dev/null; done
t1=$(date +%s.%N)
times > "$WORK/times.out"; c1=$(children_cpu)
seq "$CLI_RUNS" | xargs -P"$CLIENTS" -I{} "$BIN" -q recognize "$PHOTO" --session cli-par-{} > /dev/null
t2=$(date +%s.%N)
times > "$WORK/times.out"; c2=$(children_cpu)
CLI_SEQ=$(python3 -c "print(($t1-$t0)/$CLI_RUNS, ($c1-$c0)/$CLI_RUNS)")
CLI_PAR=$(python3 -c "print(($t2-$t1)/$CLI_RUNS, ($c2-$c1)/$CLI_RUNS)")

# 2. The server, CLIENTS concurrent clients, N requests in all.
cat > "$WORK/serve.json" <<JSON
{"port": 0, "threads": $THREADS, "logHealth": false ${SERVE_EXTRA:-},
 "rateLimits": {"perAddressPerMinute": 0, "perTokenPerMinute": 0, "loginPerAddressPerMinute": 0}}
JSON
env ${SERVER_ENV:-} "$BIN" serve --config "$WORK/serve.json" > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do grep -q '"listening"' "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
URL=http://127.0.0.1:$(grep -o '"port":[0-9]*' "$WORK/serve.log" | head -1 | cut -d: -f2)
TOKEN=$(printf '{"username":"bench","password":"bench password 123"}' |
  curl -sf -X POST "$URL/api/v1/auth/login" -H 'Content-Type: application/json' -d @- | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
for _ in 1 2; do  # warm every path once (models load on a worker thread's first use)
  curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/v1/recognize" -F session=warm -F photo=@"$PHOTO"
done
rm -f "$WORK"/r-*.json
s0=$(cpu_of "$SERVER_PID"); t0=$(date +%s.%N)
seq "$N" | xargs -P"$CLIENTS" -I{} curl -s -o "$WORK/r-{}.json" -w '%{http_code} %{time_total}\n' \
  -H "Authorization: Bearer $TOKEN" "$URL/api/v1/recognize" -F session=bench -F photo=@"$PHOTO" > "$WORK/times.txt"
t1=$(date +%s.%N); s1=$(cpu_of "$SERVER_PID")
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
echo "== network engine: $ENGINE"
python3 - "$WORK" "$N" "$CLIENTS" "$t0" "$t1" "$s0" "$s1" $CLI_SEQ $CLI_PAR <<'PY' | tee -a "$WORK/summary.txt"
import json, sys, glob, statistics
work, n, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, s0, s1, seq_wall, seq_cpu, par_wall, par_cpu = map(float, sys.argv[4:])
rows = [l.split() for l in open(f"{work}/times.txt")]
bad = [r for r in rows if not r[0].startswith("2")]
lat = sorted(float(r[1]) for r in rows)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
rate = n / (t1 - t0); cpu = (s1 - s0) / n
print(f"CLI one at a time: {1/seq_wall:.2f} photos/s, {seq_cpu:.3f} CPU s/photo")
print(f"CLI {clients} at once: {1/par_wall:.2f} photos/s, {par_cpu:.3f} CPU s/photo")
print(f"server, {n} requests from {clients} clients: {rate:.2f} photos/s, {cpu:.3f} CPU s/photo, "
      f"p50 {p(.5)*1000:.0f} ms, p99 {p(.99)*1000:.0f} ms (target <= 1500), non-2xx {len(bad)}")
print(f"ratio server / CLI {clients} at once: throughput {rate*par_wall:.2f}x (target >= 1.6x), "
      f"CPU per photo {par_cpu/cpu:.2f}x less")
print(f"ratio server / CLI one at a time: throughput {rate*seq_wall:.2f}x, CPU per photo {seq_cpu/cpu:.2f}x less")
stages = {}
for f in glob.glob(f"{work}/r-*.json"):
    try: t = json.load(open(f)).get("timings", {})
    except Exception: continue
    for k, v in t.items(): stages.setdefault(k, []).append(v)
print("server stages (median ms): " + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in sorted(stages.items())))
PY
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
done
