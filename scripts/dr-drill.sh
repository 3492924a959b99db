#!/usr/bin/env bash
# Disaster-recovery drill: proves that the backup target alone brings facecrowd back, and measures how fast
# (RTO) and how much is lost (RPO). It never touches the live data or backup directories: it restores into a
# new, empty work directory, as a replacement machine would.
#
#   1. an empty directory (data/ and backup/ inside it);
#   2. `facecrowd restore TARGET/latest` downloads the newest archive, the shipped oplog slices and the
#      erasure ledger, restores to the last shipped change and re-applies every erasure;
#   3. `facecrowd verify --target TARGET --read-data` checks every object in the target and test-restores it
#      (skip with --no-verify), then `facecrowd stats` reads the restored database;
#   4. reports RTO (seconds from the empty directory to restored data) and RPO (drill start minus the
#      recovery point's time: what a loss at the start of the drill would have lost), prints them (--json
#      for a machine), and records them with `facecrowd drill record` in the restored database's audit log.
#
# Usage: scripts/dr-drill.sh --target s3://BUCKET/PREFIX [--key-file FILE]... [--binary PATH]
#                            [--workdir DIR] [--keep] [--no-verify] [--json]
#   --target     the backup target (s3://, gs:// or a directory); default: $FACECROWD_BACKUP_TARGET
#   --key-file   key for an encrypted target (repeatable); $FACECROWD_BACKUP_KEY_FILE and
#                $FACECROWD_BACKUP_PASSPHRASE work too
#   --binary     the facecrowd binary (default: build/facecrowd beside this script, else `facecrowd`)
#   --workdir    where to restore (default: a new temporary directory, removed afterwards unless --keep)
# Credentials: the AWS_* environment or ~/.aws/credentials, as for every facecrowd target command.
# Exit: 0 when the drill restored and verified, else the failing step's exit code.
set -euo pipefail

target="${FACECROWD_BACKUP_TARGET:-}"
binary=""
workdir=""
keep=0
verify=1
json=0
keys=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "dr-drill: $*" >&2; exit "${2:-2}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) [[ $# -ge 2 ]] || die "--target needs a value"; target="$2"; shift ;;
    --key-file) [[ $# -ge 2 ]] || die "--key-file needs a value"; keys+=(--key-file "$2"); shift ;;
    --binary) [[ $# -ge 2 ]] || die "--binary needs a value"; binary="$2"; shift ;;
    --workdir) [[ $# -ge 2 ]] || die "--workdir needs a value"; workdir="$2"; shift ;;
    --keep) keep=1 ;;
    --no-verify) verify=0 ;;
    --json) json=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
[[ -n "$target" ]] || die "no target: give --target s3://BUCKET/PREFIX (or set FACECROWD_BACKUP_TARGET)"
if [[ -z "$binary" ]]; then
  here="$(cd "$(dirname "$0")/.." && pwd)"
  if [[ -x "$here/build/facecrowd" ]]; then binary="$here/build/facecrowd"; else binary="$(command -v facecrowd || true)"; fi
fi
[[ -n "$binary" && -x "$binary" ]] || die "facecrowd binary not found; give --binary PATH"
keep_workdir=""
[[ -z "$workdir" ]] || keep_workdir=1
if [[ -z "$workdir" ]]; then
  workdir="$(mktemp -d -t facecrowd-dr-drill.XXXXXX)"
  [[ $keep -eq 1 ]] || trap 'rm -rf -- "$workdir"' EXIT
else
  [[ ! -e "$workdir" || -z "$(ls -A -- "$workdir")" ]] || die "--workdir '$workdir' is not empty; a drill starts from nothing" 5
  mkdir -p -- "$workdir"
fi
data="$workdir/data"
backup="$workdir/backup"
fc() { "$binary" --quiet --data "$data" --backup-dir "$backup" "$@"; }
now() { date +%s.%N; }

# The config of the machine being drilled must not leak in: the drill is a new machine.
export FACECROWD_BACKUP_TARGET_CONFIG="$workdir/no-target-config.json"
started="$(now)"
target_url="${target%/}"
[[ "$target_url" == */latest ]] || target_url="$target_url/latest"
log="$workdir/restore.json"
if [[ "$target" == s3://* || "$target" == gs://* ]]; then
  fc restore "$target_url" "${keys[@]}" --json > "$log"
else
  fc restore latest --target "$target" "${keys[@]}" --json > "$log"
fi
restored="$(now)"
if [[ $verify -eq 1 ]]; then
  fc verify --target "${target_url%/latest}" --read-data "${keys[@]}" > "$workdir/verify.txt" || {
    cat "$workdir/verify.txt" >&2; die "verify of the target failed" 3; }
fi
fc stats --json > "$workdir/stats.json"
finished="$(now)"

read -r rto rpo point point_iso total < <(python3 - "$log" "$started" "$restored" "$finished" <<'PY'
import json, sys, datetime
r = json.load(open(sys.argv[1]))
started, restored, finished = map(float, sys.argv[2:5])
o = r["offsite"]
point_time = datetime.datetime.fromisoformat(o["recovery_point_iso"].replace("Z", "+00:00")).timestamp()
print(f"{restored - started:.1f} {max(0.0, started - point_time):.0f} {o['recovery_point']} {o['recovery_point_iso']} {finished - started:.1f}")
PY
)
fc drill record --target "${target_url%/latest}" --rto "$rto" --rpo "$rpo" --recovery-point "$point" >/dev/null
if [[ $json -eq 1 ]]; then
  printf '{"target": "%s", "rto_seconds": %s, "rpo_seconds": %s, "recovery_point": "%s", "recovery_point_iso": "%s", "drill_seconds": %s, "verified": %s, "workdir": "%s"}\n' \
    "${target_url%/latest}" "$rto" "$rpo" "$point" "$point_iso" "$total" "$([[ $verify -eq 1 ]] && echo true || echo false)" "$workdir"
else
  echo "DR drill from ${target_url%/latest}: restored into an empty directory and $([[ $verify -eq 1 ]] && echo verified || echo 'did not verify')"
  echo "  RTO ${rto} s (empty directory to restored data; whole drill ${total} s)"
  echo "  RPO ${rpo} s (recovery point ${point}, ${point_iso})"
  if [[ $keep -eq 1 || -n "$keep_workdir" ]]; then
    echo "  recorded in the audit log of the restored data in $data (action backup.dr_drill)"
  else
    echo "  recorded in the audit log of the restored data, which is removed with the temporary work directory (--keep or --workdir DIR keeps it)"
  fi
fi
