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
# With --baseline BUILD_DIR (e.g. an older build), every row is timed with that build's binary too, on a fresh
# copy of the same index, and the row "…/base" gives its figures (ratios to the first row of its table); a
# last table gives each row's figures over its "…/base" row's. The rows of one table take turns, push by
# push (time_rows says why).
#   - real rows (--days, default "1"): D x 1440 real slices of one oplog entry each (`oplog ship
#     --max-slice-entries 1` after as many writes), in the backup directory too (as a 30-day local
#     --keep-days keeps them); the index is what a real push of them writes (to a directory target, because
#     2 x 1440 x D tiny PUTs would take most of the bench), then PUT on s3rver with curl. Each row also times
#     the same ship without a target. Slow to set up: 7 days take ~15 minutes on 2 busy cores.
# With --encryption "none key public-key" (default "none") the synthetic rows are timed once per mode, each
# binary with keys it made itself (`target keygen`, `--write-only`): "key" tags index.json (HMAC), "public-key"
# signs it where the binary's pair has a signing key (index_auth.h; a baseline from before index signing makes
# a pair without one, so its row is the unsigned push). A last table gives each mode's rows over the first
# mode's, same binary: e.g. "key" over "none" is what encryption and the index tag add to a push.
# Everything lives under /dev/shm (tmpfs), so the setup's fsyncs take nothing; the timed pushes read and
# write only the index and two small objects. Runs nice'd.
# Usage: bench/offsite_index_growth.sh [--runs 3] [--synthetic-days "1 7 30"] [--days "1"] [--baseline DIR]
#        [--encryption "none key public-key"] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3; days="1"; synthetic_days="1 7 30"; build=build; baseline=""; encryptions="none"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;; --days) days="$2"; shift ;; --synthetic-days) synthetic_days="$2"; shift ;;
    --baseline) baseline="$(realpath "$2/facecrowd")"; shift ;; --encryption) encryptions="$2"; shift ;;
    *) build="$1" ;;
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
# The target configuration (encryption and keys) for MODE and BINARY, made with that binary's keygen once.
config_for() {  # MODE BINARY
  local cfg="$work/keys/$1-$(basename "$(dirname "$2")").json"
  if [[ ! -f $cfg ]]; then
    mkdir -p "$work/keys"
    case "$1" in
      none) echo '{"target": "unused", "encryption": "none"}' >"$cfg" ;;
      key) "$2" --quiet target keygen "${cfg%.json}.key" >/dev/null
           echo "{\"target\": \"unused\", \"encryption\": \"key\", \"key_files\": [\"${cfg%.json}.key\"]}" >"$cfg" ;;
      public-key) "$2" --quiet target keygen "${cfg%.json}.key" --write-only >/dev/null
                  echo "{\"target\": \"unused\", \"encryption\": \"public-key\", \"public_key_file\": \"${cfg%.json}.key.pub\"}" >"$cfg" ;;
    esac
  fi
  echo "$cfg"
}
# One push to s3://bench/PREFIX with BINARY and MODE's configuration, after one write (so one new slice):
# sets w (wall, s), u, s (user and system CPU, s), m (max RSS, KB), all to the 0.1 ms from getrusage (time's
# figures count hundredths, and a push takes ~40 ms), and up (bytes it wrote to the bucket). Its warnings (the
# first push of a keyed target signs an index it found unsigned) go to a file.
push_once() {  # PREFIX BINARY MODE
  local cfg
  cfg="$(config_for "$3" "$2")"
  write_one
  touch "$work/push-start"
  FACECROWD_BACKUP_TARGET_CONFIG="$cfg" python3 -c '
import resource, subprocess, sys, time
start = time.monotonic()
done = subprocess.run(sys.argv[2:])
wall = time.monotonic() - start
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{wall:.4f} {r.ru_utime:.4f} {r.ru_stime:.4f} {r.ru_maxrss}\n")
sys.exit(done.returncode)
' "$work/time" nice "$2" --quiet oplog ship --target "s3://bench/$1" >/dev/null 2>>"$work/push-warnings" ||
    { cat "$work/push-warnings"; exit 1; }
  read -r w u s m <"$work/time"
  up=$(uploaded_since "$work/push-start" "$1")
}
# Times --runs pushes for each ROW ("LABEL|SLICES|INDEX_BYTES|PREFIX|BINARY|MODE") and prints the rows. The
# rows take turns (run 1 of each, then run 2, ...): every push ships one more slice from the one backup
# directory, so rows timed one after the other would see different histories (the later, the slower).
time_rows() {  # ROW...
  local row label n b prefix binary mode wall cpu mem up1 u s m w up
  local -A walls cpus rss ups first
  for row in "$@"; do  # the first push of each, untimed: it migrates the index to the format its binary writes
    IFS='|' read -r label n b prefix binary mode <<<"$row"
    push_once "$prefix" "$binary" "$mode"
    first[$label]=$w
  done
  for _ in $(seq "$runs"); do
    for row in "$@"; do
      IFS='|' read -r label n b prefix binary mode <<<"$row"
      push_once "$prefix" "$binary" "$mode"
      walls[$label]+="$w "; cpus[$label]+="$(python3 -c "print(round($u + $s, 4))") "; rss[$label]+="$((m / 1024)) "; ups[$label]+="$up "
    done
  done
  for row in "$@"; do
    IFS='|' read -r label n b prefix binary mode <<<"$row"
    wall=$(tr ' ' '\n' <<<"${walls[$label]}" | grep . | best); cpu=$(tr ' ' '\n' <<<"${cpus[$label]}" | grep . | best)
    mem=$(tr ' ' '\n' <<<"${rss[$label]}" | grep . | best); up1=$(tr ' ' '\n' <<<"${ups[$label]}" | grep . | best)
    [[ -z $base_wall ]] && { base_wall=$wall; base_cpu=$cpu; base_up=$up1; }
    row_wall[$label]=$wall; row_cpu[$label]=$cpu; row_up[$label]=$up1
    python3 -c '
import sys
d, n, b, w, c, m, up, bw, bc, bu = sys.argv[1:]
n, b, w, c, up, bw, bc, bu = int(n), int(b), float(w), float(c), int(up), float(bw), float(bc), int(bu)
print(f"{d:<7} {n:>8} {b:>12} {b / n:>10.0f} {w:>9.4f} {c:>9.4f} {m:>9} {up:>10} {w / bw:>9.3f} {c / max(bc, 0.0001):>9.3f} {up / bu:>9.2f}")
' "$label" "$n" "$b" "$wall" "$cpu" "$mem" "$up1" "$base_wall" "$base_cpu" "$base_up"
    echo "        (runs: wall ${walls[$label]}s; cpu ${cpus[$label]}s; rss ${rss[$label]}MB; uploaded ${ups[$label]}bytes; first push ${first[$label]} s)"
  done
}
# Each row over its "…/base" row: this build against the baseline build, on the same index.
ratio_table() {  # LABEL...
  [[ -z $baseline ]] && return
  ratios "/base" "this build / baseline" "$@"
}
# Each row LABEL over the row "LABEL<SUFFIX>" (or, with a SUFFIX starting with "=", the row named by it).
ratios() {  # SUFFIX TITLE LABEL...
  local suffix="$1" title="$2" other; shift 2
  printf '%-12s %9s %9s %9s   (%s; load average %s)\n' row wall_x cpu_x up_x "$title" "$(cut -d' ' -f1-3 /proc/loadavg)"
  for d in "$@"; do
    other="$d$suffix"
    [[ $suffix == =* ]] && other="${suffix#=}${d#*:}"
    python3 -c '
import sys
d, w, c, u, bw, bc, bu = sys.argv[1:]
print(f"{d:<12} {float(w) / max(float(bw), 0.0001):>9.3f} {float(c) / max(float(bc), 0.0001):>9.3f} {int(u) / max(int(bu), 1):>9.4f}")
' "$d" "${row_wall[$d]}" "${row_cpu[$d]}" "${row_up[$d]}" "${row_wall[$other]}" "${row_cpu[$other]}" "${row_up[$other]}"
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
  fc backups list --target "$work/dir-target" --json 2>/dev/null > "$work/format1.json"  # every slice inline, either format
  labels=()
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
index.pop("index_authentication", None)  # what `backups list --json` adds
open(dst, "w").write(json.dumps(index, indent=1) + "\n")
' "$work/format1.json" "$work/synthetic.json" "$n"
    rows=(); bytes=$(stat -c %s "$work/synthetic.json")
    for mode in $encryptions; do
      labels+=("$mode:$d")
      if [[ -n $baseline ]]; then
        put_index "$work/synthetic.json" "s$d-$mode-base"
        rows+=("$mode:$d/base|$((n + 1))|$bytes|s$d-$mode-base|$baseline|$mode")
      fi
      put_index "$work/synthetic.json" "s$d-$mode"
      rows+=("$mode:$d|$((n + 1))|$bytes|s$d-$mode|$bin|$mode")
    done
    rm -f "$work/synthetic.json"
    header_row
    time_rows "${rows[@]}"
    base_wall=""; base_cpu=""; base_up=""
  done
  ratio_table "${labels[@]}"
  first_mode="${encryptions%% *}"
  [[ $encryptions == *" "* ]] && ratios "=$first_mode:" "each mode / $first_mode, this build" "${labels[@]}"
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
    fc backups list --target "$work/dir-target" --json 2>/dev/null > "$work/format1.json"
  }
  if [[ -n $baseline ]]; then
    format1_of_real_push
    put_index "$work/format1.json" "d$d-base"
    time_rows "$d/base|$(slices)|$(stat -c %s "$work/format1.json")|d$d-base|$baseline|none"
  fi
  format1_of_real_push
  n_slices=$(slices)
  put_index "$work/format1.json" "d$d"
  time_rows "$d|$n_slices|$(stat -c %s "$work/format1.json")|d$d|$bin|none"
  echo "        the same ship without a target: best $(printf '%s\n' "${local_walls[@]}" | best) s of ${local_walls[*]}"
done
ratio_table $days
