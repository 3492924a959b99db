#!/usr/bin/env bash
# How the off-site index grows with shipped oplog slices, and what that costs every push (issue 11).
#
# With `oplog ship` every minute (the runbook's cron line), a target gains one slice (+ its record) per
# minute with writes. Format 1 indexes (before slice segments) held every slice entry in index.json, which
# every push read, parsed, rewrote and uploaded whole; format 2 (remote_index.h) keeps them in one segment
# object per UTC hour and a push rewrites index.json's segment list and the segment it changed. For indexes
# holding the slices of D days of such shipping (1440 a day), this bench times one `oplog ship --target
# s3://…` (s3rver on loopback, tools/s3) that adds one more slice: wall, user+sys CPU and max RSS, best of
# --runs, and the bytes that push wrote to the bucket (every object it PUT, the slice and its record
# included: the s3rver files newer than the push's start); and reports the index's size as uploaded first
# (index.json of format 1), each figure also as a ratio to the first row of the same table (the 1-day
# baseline, run in the same script).
#   - synthetic rows (--synthetic-days, default "1 7 30"): a real push's index (an archive and a real slice)
#     plus D x 1440 slice entries shaped exactly like the real one (same fields, digests and sizes; names
#     and ranges made unique), one a minute over the D days before the archive, whose oplog start in the
#     index is moved before them so that retention keeps them. Their objects are not in the bucket: a push
#     never reads, lists or stats a slice object (it stats only archives, and only when retention deletes
#     something). The backup directory holds a handful of slices: the cost of the index. The index is put
#     in format 1; each binary's first push (untimed, its wall shown) migrates it to the format it writes.
# With --baseline BUILD_DIR (e.g. an older build), every row is timed with that build's binary too, first, on
# a fresh copy of the same index, and the row "…/base" gives its figures (ratios to the same 1-day baseline);
# a last table gives each row's figures over its "…/base" row's.
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
  printf '%-7s %8s %12s %10s %9s %9s %9s %10s %9s %9s %9s\n' days slices index_bytes B/slice wall_s cpu_s rss_MB up_bytes wall_x cpu_x up_x
}
# Times --runs pushes to s3://bench/PREFIX, each after one write (so one new slice), and prints the row.
base_wall=""; base_cpu=""; base_up=""
declare -A row_wall row_cpu row_up  # by label, for the table of ratios to the "…/base" rows
# Bytes of the objects under s3://bench/PREFIX written since FILE was touched.
uploaded_since() {  # FILE PREFIX
  find "$work/s3/bench/$2" -type f -name '*._S3rver_object' -newer "$1" -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
time_pushes() {  # LABEL SLICES INDEX_BYTES PREFIX [BINARY]
  local walls=() cpus=() rss=() ups=() out w u s m wall cpu mem up first binary="${5:-$bin}"
  write_one  # the first push, untimed: it migrates the index to the format this binary writes
  first=$( { /usr/bin/time -f '%e' nice "$binary" --quiet oplog ship --target "s3://bench/$4" >/dev/null; } 2>&1 )
  for _ in $(seq "$runs"); do
    write_one
    touch "$work/push-start"
    out=$( { /usr/bin/time -f '%e %U %S %M' nice "$binary" --quiet oplog ship --target "s3://bench/$4" >/dev/null; } 2>&1 )
    read -r w u s m <<<"$out"
    walls+=("$w"); cpus+=("$(python3 -c "print(round($u + $s, 2))")"); rss+=("$((m / 1024))")
    ups+=("$(uploaded_since "$work/push-start" "$4")")
  done
  wall=$(printf '%s\n' "${walls[@]}" | best); cpu=$(printf '%s\n' "${cpus[@]}" | best); mem=$(printf '%s\n' "${rss[@]}" | best)
  up=$(printf '%s\n' "${ups[@]}" | best)
  [[ -z $base_wall ]] && { base_wall=$wall; base_cpu=$cpu; base_up=$up; }
  row_wall[$1]=$wall; row_cpu[$1]=$cpu; row_up[$1]=$up
  python3 -c '
import sys
d, n, b, w, c, m, up, bw, bc, bu = sys.argv[1:]
n, b, w, c, up, bw, bc, bu = int(n), int(b), float(w), float(c), int(up), float(bw), float(bc), int(bu)
print(f"{d:<7} {n:>8} {b:>12} {b / n:>10.0f} {w:>9.2f} {c:>9.2f} {m:>9} {up:>10} {w / bw:>9.2f} {c / max(bc, 0.01):>9.2f} {up / bu:>9.2f}")
' "$1" "$2" "$3" "$wall" "$cpu" "$mem" "$up" "$base_wall" "$base_cpu" "$base_up"
  echo "        (runs: wall ${walls[*]} s; cpu ${cpus[*]} s; rss ${rss[*]} MB; uploaded ${ups[*]} bytes; first push ${first} s)"
}
# Each row over its "…/base" row: this build against the baseline build, on the same index.
ratio_table() {  # LABEL...
  [[ -z $baseline ]] && return
  printf '%-7s %9s %9s %9s   (this build / baseline; load average %s)\n' days wall_x cpu_x up_x "$(cut -d' ' -f1-3 /proc/loadavg)"
  for d in "$@"; do
    python3 -c '
import sys
d, w, c, u, bw, bc, bu = sys.argv[1:]
print(f"{d:<7} {float(w) / max(float(bw), 0.01):>9.3f} {float(c) / max(float(bc), 0.01):>9.3f} {int(u) / max(int(bu), 1):>9.4f}")
' "$d" "${row_wall[$d]}" "${row_cpu[$d]}" "${row_up[$d]}" "${row_wall[$d/base]}" "${row_cpu[$d/base]}" "${row_up[$d/base]}"
  done
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
  fc backups list --target "$work/dir-target" --json > "$work/format1.json"  # every slice inline, either format
  header_row
  for d in $synthetic_days; do
    n=$((d * 1440))
    python3 -c '
import copy, json, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
index = json.load(open(src))
real = index["slices"][0]
manifest = index["archives"][0]["manifest"]
start_secs = int(manifest["oplog"]["start"].split(":")[0])
manifest["oplog"]["start"] = f"{start_secs - 60 * n - 120}:1"  # so that retention keeps the entries below
made = []
for i in range(n):  # one a minute, the last a minute before the archive
    t_secs = start_secs - 60 * (n - i)
    f, t = f"{t_secs - 30}:1", f"{t_secs}:1"
    name = "oplog_" + f.replace(":", "-") + "_" + t.replace(":", "-") + ".bson.gz"
    s = copy.deepcopy(real)
    s["name"], s["from"], s["to"] = name, f, t
    s["object"]["key"] = "oplog/" + name
    if "record" in s:
        s["record"]["key"] = "oplog/" + name + ".json"
    made.append(s)
index["slices"] = made + index["slices"]
index["format_version"] = 1
index.pop("slice_segments", None)
open(dst, "w").write(json.dumps(index, indent=1) + "\n")
' "$work/format1.json" "$work/synthetic.json" "$n"
    if [[ -n $baseline ]]; then
      put_index "$work/synthetic.json" "s$d-base"
      time_pushes "$d/base" "$((n + 1))" "$(stat -c %s "$work/synthetic.json")" "s$d-base" "$baseline"
    fi
    put_index "$work/synthetic.json" "s$d"
    time_pushes "$d" "$((n + 1))" "$(stat -c %s "$work/synthetic.json")" "s$d"
    rm -f "$work/synthetic.json"
  done
  ratio_table $synthetic_days
  base_wall=""; base_cpu=""; base_up=""
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
  # The index a real push writes for this history, put on s3rver under its own prefix in format 1 (every
  # slice inline: each binary's first push migrates it).
  format1_of_real_push() {
    rm -rf "$work/dir-target"
    fc oplog ship --target "$work/dir-target" >/dev/null
    fc backups list --target "$work/dir-target" --json > "$work/format1.json"
  }
  if [[ -n $baseline ]]; then
    format1_of_real_push
    put_index "$work/format1.json" "d$d-base"
    time_pushes "$d/base" "$(slices)" "$(stat -c %s "$work/format1.json")" "d$d-base" "$baseline"
  fi
  format1_of_real_push
  n_slices=$(slices)
  put_index "$work/format1.json" "d$d"
  time_pushes "$d" "$n_slices" "$(stat -c %s "$work/format1.json")" "d$d"
  echo "        the same ship without a target: best $(printf '%s\n' "${local_walls[@]}" | best) s of ${local_walls[*]}"
done
ratio_table $days
