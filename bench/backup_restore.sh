#!/usr/bin/env bash
# Backup / restore / point-in-time benchmark against a baseline run in the same script.
#
#   [FACECROWD_BIN=path] bench/backup_restore.sh [--scale F] [--work DIR] [--growth]
#
# Builds a demo-data deployment of F x (1M attendances, 2M audit entries, 200 MB images, 20k profiles),
# brings it to steady state (one backup, oplog shipped and trimmed, VACUUM), then measures with
# /usr/bin/time (wall seconds, CPU seconds = user + system of every thread, peak RSS):
#   backup   facecrowd backup                   vs  sqlite3 DB ".backup COPY" && tar -czf COPY
#   restore  facecrowd restore ARCHIVE --db X   vs  tar -xzf
#   PITR     200k x F oplog entries replayed by restore --until (entries/s)
# --growth also times backups at 1x, 2x and 4x of the given scale (each on a fresh deployment).
# Prints a table and writes results.json in the work dir. Not a test: numbers vary with the machine. On a
# shared, loaded machine the wall ratios mostly measure the scheduler: the CPU ratios (*_cpu_ratio) are
# the steadier figure there, and the load average at each step is recorded (load_avg) to say how loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=1
WORK=/tmp/facecrowd-bench
GROWTH=0
while (($#)); do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --growth) GROWTH=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
FC=${FACECROWD_BIN:-$PWD/build/facecrowd}  # FACECROWD_BIN: compare another build (e.g. main's) on the same machine
[[ -x $FC ]] || { echo "build first: scripts/build.sh" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: scripts/install-deps.sh" >&2; exit 2; }

n() { python3 -c "import sys; print(int(float(sys.argv[1]) * float(sys.argv[2])))" "$1" "$2"; }

# timed LABEL CMD...: runs CMD under /usr/bin/time, records "LABEL wall_s peak_kb cpu_s load1" in $WORK/times.
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || {
    echo "$label failed:" >&2; tail -5 "$WORK/$label.err" >&2; exit 1; }
  read -r wall kb user sys <"$WORK/.time"
  echo "$label $wall $kb $(python3 -c "print(round($user + $sys, 2))") $(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/times"
}

deploy() {  # deploy DIR SCALE
  local dir=$1 s=$2
  rm -rf "$dir"; mkdir -p "$dir"
  timed "demo_data_$s" "$FC" --data "$dir/data" --backup-dir "$dir/backup" -q demo-data \
    --users "$(n 200 "$s")" --profiles "$(n 20000 "$s")" --attendances "$(n 1000000 "$s")" \
    --crowdcounts "$(n 50000 "$s")" --auditlogs "$(n 2000000 "$s")" --image-mb "$(n 200 "$s")" --seed 7
  # Steady state: a first backup, the oplog shipped and trimmed, the file compacted.
  "$FC" --data "$dir/data" --backup-dir "$dir/backup" -q backup >/dev/null
  "$FC" --data "$dir/data" --backup-dir "$dir/backup" -q oplog ship --keep-live 0s >/dev/null
  local db; db=$(live_db "$dir")
  sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;" >/dev/null
  rm -f "$dir"/backup/backup_*.tar.gz "$dir"/backup/*.manifest.json
}

live_db() { echo "$1/data/face-recognition/$(cat "$1/data/face-recognition/CURRENT")"; }

mkdir -p "$WORK"; : >"$WORK/times"
D=$WORK/main
deploy "$D" "$SCALE"
DB=$(live_db "$D")
DB_BYTES=$(stat -c %s "$DB")
"$FC" --data "$D/data" stats --json >"$WORK/stats.json"

# Backup: baseline then ours, twice each, alternating (the machine is noisy; the best of two counts).
for round in 1 2; do
  rm -rf "$WORK/base"; mkdir -p "$WORK/base"
  sync; timed "base_backup_$round" bash -c "sqlite3 '$DB' \".backup '$WORK/base/copy.sqlite'\" && tar -czf '$WORK/base/base.tar.gz' -C '$WORK/base' copy.sqlite"
  rm -f "$D"/backup/backup_*.tar.gz "$D"/backup/*.manifest.json
  sync; timed "backup_$round" "$FC" --data "$D/data" --backup-dir "$D/backup" -q backup --keep-days 0
done
ARCHIVE=$(ls "$D"/backup/backup_*.tar.gz | tail -1)
ARCHIVE_BYTES=$(stat -c %s "$ARCHIVE")
BASE_BYTES=$(stat -c %s "$WORK/base/base.tar.gz")

# Restore: baseline extraction vs a full restore into a fresh database (verified, indexed, swapped in).
for round in 1 2; do
  rm -rf "$WORK/base/x"; mkdir -p "$WORK/base/x"
  sync; timed "base_restore_$round" tar -xzf "$WORK/base/base.tar.gz" -C "$WORK/base/x"
  rm -rf "$D/data/restored"
  sync; timed "restore_$round" "$FC" --data "$D/data" --backup-dir "$D/backup" -q restore "$ARCHIVE" --db restored
done

# Point in time: writes after the backup, shipped, then replayed by restore --until.
PITR_N=$(n 200000 "$SCALE")
"$FC" --data "$D/data" -q demo-data --append --users 1 --profiles 10 --crowdcounts 0 --auditlogs 0 --image-mb 1 \
  --attendances "$PITR_N" --seed 8 >/dev/null
TO=$("$FC" --data "$D/data" --backup-dir "$D/backup" -q oplog ship --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["to"])')
rm -rf "$D/data/pitr"
UNTIL=${TO%%:*}:$(( ${TO##*:} + 1 ))   # just after the last shipped entry: everything replayed
timed pitr "$FC" --data "$D/data" --backup-dir "$D/backup" -q restore "$ARCHIVE" --db pitr --until "$UNTIL" --json
cp "$WORK/pitr.out" "$WORK/pitr.json"

if ((GROWTH)); then
  for g in 1 2 4; do
    s=$(python3 -c "print($SCALE * $g / 4)")
    deploy "$WORK/growth" "$s"
    timed "growth_backup_${g}" "$FC" --data "$WORK/growth/data" --backup-dir "$WORK/growth/backup" -q backup --keep-days 0
    echo "growth_db_bytes_${g} $(stat -c %s "$(live_db "$WORK/growth")")" >>"$WORK/sizes"
  done
  rm -rf "$WORK/growth"
fi

python3 - "$WORK" "$SCALE" "$DB_BYTES" "$ARCHIVE_BYTES" "$BASE_BYTES" "$PITR_N" <<'PY'
import json, sys, os
work, scale, db_bytes, arch, base, pitr_n = sys.argv[1], float(sys.argv[2]), *map(int, sys.argv[3:])
t = {}
for line in open(os.path.join(work, "times")):
    label, wall, kb, cpu, load = line.split()
    t[label] = (float(wall), int(kb), float(cpu), float(load))
best = lambda p: min((t[k] for k in t if k.startswith(p + "_") and k[len(p)+1:].isdigit()), key=lambda v: v[0])
stats = json.load(open(os.path.join(work, "stats.json")))
counts = {c["name"]: c["count"] for c in stats["collections"]}
b, bb, r, br = best("backup"), best("base_backup"), best("restore"), best("base_restore")
pitr = json.load(open(os.path.join(work, "pitr.json")))
replayed = pitr["point_in_time"]["replayed"]
replay_s = pitr["point_in_time"]["replay_seconds"]
res = {
  "scale": scale, "counts": counts, "db_bytes": db_bytes, "archive_bytes": arch, "baseline_archive_bytes": base,
  "backup_s": b[0], "baseline_backup_s": bb[0], "backup_ratio": b[0] / bb[0], "backup_peak_rss_mb": b[1] / 1024,
  "backup_cpu_s": b[2], "baseline_backup_cpu_s": bb[2], "backup_cpu_ratio": b[2] / bb[2],
  "baseline_backup_peak_rss_mb": bb[1] / 1024,
  "restore_s": r[0], "baseline_restore_s": br[0], "restore_ratio": r[0] / br[0], "restore_peak_rss_mb": r[1] / 1024,
  "restore_cpu_s": r[2], "baseline_restore_cpu_s": br[2], "restore_cpu_ratio": r[2] / br[2],
  "load_avg": {k: v[3] for k, v in t.items()},
  "baseline_restore_peak_rss_mb": br[1] / 1024,
  "pitr_wall_s": t["pitr"][0], "pitr_replayed": replayed, "pitr_replay_s": replay_s,
  "pitr_entries_per_s": (replayed / replay_s) if replay_s else None,
  "demo_data_s": next(v[0] for k, v in t.items() if k.startswith("demo_data")),
  "growth": {k: v[0] for k, v in t.items() if k.startswith("growth_backup")},
}
json.dump(res, open(os.path.join(work, "results.json"), "w"), indent=2)
print(json.dumps(res, indent=2))
PY
