#!/usr/bin/env bash
# How the off-site index grows with shipped oplog slices, and what that costs every push (issue 11).
#
# With `oplog ship` every minute (the runbook's cron line), a target gains one slice (+ its record) per
# minute with writes, and every push reads, parses, rewrites and uploads the whole index.json. This bench
# builds real histories of 1 day, 7 days and 30 days of such slices (one oplog entry per slice:
# `oplog ship --max-slice-entries 1` after N writes), and for each one:
#   - puts its index on s3rver (loopback, tools/s3) and times one `oplog ship --target s3://…` that adds one
#     more slice (wall, user+sys CPU, max RSS; best of --runs), against the same ship with no target (the
#     fixed cost of a ship), and reports index.json's bytes, bytes per slice entry, and every figure as a
#     ratio to the 1-day point of the same run.
# The index of each point is written by a real push (the same code, the same entries) to a directory target,
# then PUT to s3rver with curl: the slice objects themselves are not copied to s3rver, because a push never
# reads, lists or stats a slice object (it stats only archives, and only when retention deletes something),
# and 2 x 43200 tiny PUTs would take most of the bench. The local backup directory holds every slice, as a
# 30-day local --keep-days does.
# Everything lives under /dev/shm (tmpfs) so the setup's tens of thousands of fsyncs take seconds; the timed
# pushes read and write only the index and two small objects.
# Runs nice'd. Usage: bench/offsite_index_growth.sh [--runs 3] [--days "1 7 30"] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3; days="1 7 30"; build=build
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;; --days) days="$2"; shift ;; *) build="$1" ;;
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
# One write: an attendance, through the store's one write path (oplog included).
write_one() { fc demo-data --append --users 0 --profiles 1 --attendances 1 --crowdcounts 0 --auditlogs 0 --image-mb 0 >/dev/null; }
slices() { ls "$work/backup" | grep -c '^oplog_.*\.bson\.gz$' || true; }

fc demo-data --users 2 --profiles 2 --attendances 0 --crowdcounts 0 --auditlogs 0 --image-mb 1 >/dev/null
fc backup --keep-days 0 >/dev/null

printf '%-7s %8s %12s %10s %9s %9s %9s %9s %9s %9s\n' days slices index_bytes B/slice wall_s cpu_s rss_MB wall_x cpu_x bytes_x
base_wall=""; base_cpu=""; base_bytes=""
for d in $days; do
  want=$((d * ${PER_DAY:-1440}))
  while (( $(slices) + runs < want )); do  # about one oplog entry per attendance written in bulk
    fc demo-data --append --users 0 --profiles 1 --attendances "$((want - runs - $(slices)))" --crowdcounts 0 --auditlogs 0 --image-mb 0 >/dev/null
    fc oplog ship --max-slice-entries 1 >/dev/null
  done
  # the fixed cost of a ship: one write, shipped with no target
  local_walls=()
  for r in $(seq "$runs"); do
    write_one
    local_walls+=("$( { /usr/bin/time -f '%e' nice "$bin" --quiet oplog ship >/dev/null; } 2>&1 )")
  done
  n_slices=$(slices)
  # The index a real push writes for this history, put on s3rver under its own prefix.
  rm -rf "$work/dir-target"
  fc oplog ship --target "$work/dir-target" >/dev/null
  bytes=$(stat -c %s "$work/dir-target/index.json")
  curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    -T "$work/dir-target/index.json" "$AWS_ENDPOINT_URL/bench/d$d/index.json"
  walls=(); cpus=(); rss=()
  for r in $(seq "$runs"); do
    write_one
    out=$( { /usr/bin/time -f '%e %U %S %M' nice "$bin" --quiet oplog ship --target "s3://bench/d$d" >/dev/null; } 2>&1 )
    read -r w u s m <<<"$out"
    walls+=("$w"); cpus+=("$(python3 -c "print(round($u + $s, 2))")"); rss+=("$((m / 1024))")
  done
  wall=$(printf '%s\n' "${walls[@]}" | best); cpu=$(printf '%s\n' "${cpus[@]}" | best); mem=$(printf '%s\n' "${rss[@]}" | best)
  lw=$(printf '%s\n' "${local_walls[@]}" | best)
  [[ -z $base_wall ]] && { base_wall=$wall; base_cpu=$cpu; base_bytes=$bytes; }
  python3 - "$d" "$n_slices" "$bytes" "$wall" "$cpu" "$mem" "$base_wall" "$base_cpu" "$base_bytes" <<'EOF'
import sys
d, n, b, w, c, m, bw, bc, bb = sys.argv[1:]
n, b, w, c, bw, bc, bb = int(n), int(b), float(w), float(c), float(bw), float(bc), int(bb)
print(f"{d:<7} {n:>8} {b:>12} {b / n:>10.0f} {w:>9.2f} {c:>9.2f} {m:>9} {w / bw:>9.1f} {c / max(bc, 0.01):>9.1f} {b / bb:>9.1f}")
EOF
  echo "        (runs: wall ${walls[*]} s; cpu ${cpus[*]} s; the same ship without a target: best $lw s of ${local_walls[*]})"
done
