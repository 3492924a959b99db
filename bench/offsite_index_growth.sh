#!/usr/bin/env bash
# How the off-site index grows with shipped oplog slices, and what that costs every push (issue 11).
#
# With `oplog ship` every minute (the runbook's cron line), a target gains one slice (+ its record) per
# minute with writes, and every push reads, parses, rewrites and uploads the whole index.json. For indexes
# holding the slices of D days of such shipping (1440 a day), this bench times one `oplog ship --target
# s3://…` (s3rver on loopback, tools/s3) that adds one more slice: wall, user+sys CPU and max RSS, best of
# --runs; and reports index.json's bytes and bytes per slice entry, each figure also as a ratio to the first
# row of the same table (the 1-day baseline, run in the same script).
#   - synthetic rows (--synthetic-days, default "1 7 30"): a real push's index (an archive and a real slice)
#     plus D x 1440 slice entries shaped exactly like the real one (same fields, digests and sizes; names
#     and ranges made unique, after the archive's start so that retention keeps them). Their objects are not
#     in the bucket: a push never reads, lists or stats a slice object (it stats only archives, and only when
#     retention deletes something). The backup directory holds a handful of slices: the cost of the index.
# With --baseline BUILD_DIR (e.g. an older build), every row is timed with that build's binary too, first, on
# a fresh copy of the same index, and the row "…/base" gives its figures (ratios to the same 1-day baseline).
#   - real rows (--days, default "1"): D x 1440 real slices of one oplog entry each (`oplog ship
#     --max-slice-entries 1` after as many writes), in the backup directory too (as a 30-day local
#     --keep-days keeps them); the index is what a real push of them writes (to a directory target, because
#     2 x 1440 x D tiny PUTs would take most of the bench), then PUT on s3rver with curl. Each row also times
#     the same ship without a target. Slow to set up: 7 days take ~15 minutes on 2 busy cores.
# Everything lives under /dev/shm (tmpfs), so the setup's fsyncs take nothing; the timed pushes read and
# write only the index and two small objects. Runs nice'd.
# Usage: bench/offsite_index_growth.sh [--runs 3] [--synthetic-days "1 7 30"] [--days "1"] [--baseline DIR] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3; days="1"; synthetic_days="1 7 30"; build=build; baseline=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;; --days) days="$2"; shift ;; --synthetic-days) synthetic_days="$2"; shift ;;
    --baseline) baseline="$(realpath "$2/facecrowd")"; shift ;; *) build="$1" ;;
  esac
  shift
done
bin="$(realpath "$build/facecrowd")"
work="$(mktemp -d -p /dev/shm facecrowd-index-bench.XXXXXX)"
s3pid=""
cleanup() { [[ -n "$s3pid" ]] && kill "$s3pid" 2>/dev/null; wait 2>/dev/null; rm -rf -- "$work"; }
trap cleanup EXIT
source bench/s3rver_common.sh
export FACECROWD_DATA="$work/data" FACECROWD_BACKUP_DIR="$work/backup" FACECROWD_BACKUP_TARGET_CONFIG="$work/no-target.json"
unset FACECROWD_BACKUP_TARGET
fc() { nice "$bin" --quiet "$@"; }
best() { sort -n | head -1; }
# One write: an attendance (and its profile), through the store's one write path (oplog included).
write_one() { fc demo-data --append --users 0 --profiles 1 --attendances 1 --crowdcounts 0 --auditlogs 0 --image-mb 0 >/dev/null; }
slices() { ls "$work/backup" | grep -c '^oplog_.*\.bson\.gz$' || true; }
put_index() {  # FILE PREFIX
  curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    -T "$1" "$AWS_ENDPOINT_URL/bench/$2/index.json"
}
header_row() {
  printf '%-7s %8s %12s %10s %9s %9s %9s %9s %9s %9s\n' days slices index_bytes B/slice wall_s cpu_s rss_MB wall_x cpu_x bytes_x
}
# Times --runs pushes to s3://bench/PREFIX, each after one write (so one new slice), and prints the row.
base_wall=""; base_cpu=""; base_bytes=""
time_pushes() {  # LABEL SLICES INDEX_BYTES PREFIX [BINARY]
  local walls=() cpus=() rss=() out w u s m wall cpu mem binary="${5:-$bin}"
  for _ in $(seq "$runs"); do
    write_one
    out=$( { /usr/bin/time -f '%e %U %S %M' nice "$binary" --quiet oplog ship --target "s3://bench/$4" >/dev/null; } 2>&1 )
    read -r w u s m <<<"$out"
    walls+=("$w"); cpus+=("$(python3 -c "print(round($u + $s, 2))")"); rss+=("$((m / 1024))")
  done
  wall=$(printf '%s\n' "${walls[@]}" | best); cpu=$(printf '%s\n' "${cpus[@]}" | best); mem=$(printf '%s\n' "${rss[@]}" | best)
  [[ -z $base_wall ]] && { base_wall=$wall; base_cpu=$cpu; base_bytes=$3; }
  python3 -c '
import sys
d, n, b, w, c, m, bw, bc, bb = sys.argv[1:]
n, b, w, c, bw, bc, bb = int(n), int(b), float(w), float(c), float(bw), float(bc), int(bb)
print(f"{d:<7} {n:>8} {b:>12} {b / n:>10.0f} {w:>9.2f} {c:>9.2f} {m:>9} {w / bw:>9.1f} {c / max(bc, 0.01):>9.1f} {b / bb:>9.1f}")
' "$1" "$2" "$3" "$wall" "$cpu" "$mem" "$base_wall" "$base_cpu" "$base_bytes"
  echo "        (runs: wall ${walls[*]} s; cpu ${cpus[*]} s; rss ${rss[*]} MB)"
}

fc demo-data --users 2 --profiles 2 --attendances 0 --crowdcounts 0 --auditlogs 0 --image-mb 1 >/dev/null
fc backup --keep-days 0 >/dev/null
sleep 1  # the real slices start in a later second than the archive: the synthetic ranges lie between
write_one
fc oplog ship >/dev/null

if [[ -n $synthetic_days ]]; then
  echo "synthetic: the index of a real push plus D x 1440 slice entries like its real one; a handful of local slices"
  rm -rf "$work/dir-target"
  fc oplog ship --target "$work/dir-target" >/dev/null
  header_row
  for d in $synthetic_days; do
    n=$((d * 1440))
    python3 -c '
import copy, json, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
index = json.load(open(src))
real = index["slices"][0]
start_secs = int(index["archives"][0]["manifest"]["oplog"]["start"].split(":")[0])
made = []
for i in range(n):
    f, t = f"{start_secs}:{1000000 + 2 * i}", f"{start_secs}:{1000001 + 2 * i}"
    name = "oplog_" + f.replace(":", "-") + "_" + t.replace(":", "-") + ".bson.gz"
    s = copy.deepcopy(real)
    s["name"], s["from"], s["to"] = name, f, t
    s["object"]["key"] = "oplog/" + name
    if "record" in s:
        s["record"]["key"] = "oplog/" + name + ".json"
    made.append(s)
index["slices"] = made + index["slices"]
open(dst, "w").write(json.dumps(index, indent=1) + "\n")
' "$work/dir-target/index.json" "$work/synthetic.json" "$n"
    if [[ -n $baseline ]]; then
      put_index "$work/synthetic.json" "s$d-base"
      time_pushes "$d/base" "$((n + 1))" "$(stat -c %s "$work/synthetic.json")" "s$d-base" "$baseline"
    fi
    put_index "$work/synthetic.json" "s$d"
    time_pushes "$d" "$((n + 1))" "$(stat -c %s "$work/synthetic.json")" "s$d"
    rm -f "$work/synthetic.json"
  done
  base_wall=""; base_cpu=""; base_bytes=""
fi

[[ -z $days ]] && exit 0
echo "real: D x 1440 slices shipped, in the backup directory and in the index"
header_row
for d in $days; do
  want=$((d * ${PER_DAY:-1440}))
  while (( $(slices) + runs < want )); do  # about one oplog entry per attendance written in bulk
    fc demo-data --append --users 0 --profiles 1 --attendances "$((want - runs - $(slices)))" --crowdcounts 0 --auditlogs 0 --image-mb 0 >/dev/null
    fc oplog ship --max-slice-entries 1 >/dev/null
  done
  # the fixed cost of a ship: one write, shipped with no target
  local_walls=()
  for _ in $(seq "$runs"); do
    write_one
    local_walls+=("$( { /usr/bin/time -f '%e' nice "$bin" --quiet oplog ship >/dev/null; } 2>&1 )")
  done
  # The index a real push writes for this history, put on s3rver under its own prefix.
  if [[ -n $baseline ]]; then
    rm -rf "$work/dir-target"
    fc oplog ship --target "$work/dir-target" >/dev/null
    put_index "$work/dir-target/index.json" "d$d-base"
    time_pushes "$d/base" "$(slices)" "$(stat -c %s "$work/dir-target/index.json")" "d$d-base" "$baseline"
  fi
  rm -rf "$work/dir-target"
  fc oplog ship --target "$work/dir-target" >/dev/null
  n_slices=$(slices)
  put_index "$work/dir-target/index.json" "d$d"
  time_pushes "$d" "$n_slices" "$(stat -c %s "$work/dir-target/index.json")" "d$d"
  echo "        the same ship without a target: best $(printf '%s\n' "${local_walls[@]}" | best) s of ${local_walls[*]}"
done
