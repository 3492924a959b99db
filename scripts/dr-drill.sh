#!/usr/bin/env bash
# Disaster-recovery drill: proves that the backup target alone brings facecrowd back, and measures how fast
# (RTO) and how much is lost (RPO). It never touches the live data or backup directories: it restores into a
# new, empty work directory, as a replacement machine would. It pushes nothing and never takes the target
# over (`facecrowd target take-over`): the live server stays the target's only writer during and after a drill.
#
#   1. an empty directory (data/ and backup/ inside it);
#   2. `facecrowd restore TARGET/latest` downloads the newest archive, the shipped oplog slices and the
#      erasure ledger, restores to the last shipped change and re-applies every erasure;
#   3. `facecrowd verify --target TARGET --read-data` checks every object in the target and test-restores it
#      (skip with --no-verify), then `facecrowd stats` reads the restored database;
#   4. reports RTO (seconds from the empty directory to restored data) and RPO (drill start minus the
#      recovery point's time: what a loss at the start of the drill would have lost), prints them (--json
#      for a machine), and records the result (source, passed or failed, RTO, RPO, recovery point) with
#      `facecrowd drill record` (action backup.dr_drill) in the audit log of the LIVE data directory, where
#      an auditor looks. A failed drill is recorded there too, naming the step that failed. On a machine
#      with no live data directory the result goes into the drill's restored data instead, and the output
#      says so (that copy is removed with the work directory unless --keep or --workdir).
#
# Usage: scripts/dr-drill.sh --target s3://BUCKET/PREFIX [--key-file FILE]... [--binary PATH]
#                            [--data DIR] [--workdir DIR] [--keep] [--no-verify] [--json]
#   --target     the backup target (s3://, gs:// or a directory); default: $FACECROWD_BACKUP_TARGET
#   --data       the live data directory whose audit log gets the result (never restored into or read);
#                default: $FACECROWD_DATA, else ./data, as for every facecrowd command. Given here, it must
#                be facecrowd data (else exit 4 or 8 before the drill starts)
#   --key-file   key for an encrypted target (repeatable); $FACECROWD_BACKUP_KEY_FILE and
#                $FACECROWD_BACKUP_PASSPHRASE work too
#   --binary     the facecrowd binary (default: build/facecrowd beside this script, else `facecrowd`)
#   --workdir    where to restore (default: a new temporary directory, removed afterwards unless --keep)
# Credentials: the AWS_* environment or ~/.aws/credentials, as for every facecrowd target command.
# A restore that succeeds with a warning (exit 1: e.g. its recovery point is short of what the target shipped,
# because a slice is missing) does not stop the drill: it carries on, prints the warning beside the recovery
# point really reached (--json: "warnings"), and records it as passed with that warning (details.warnings).
# Exit: 0 when the drill restored and verified with no warning, else the failing step's exit code; 1 when it
# passed with a warning (the restore's, above) or its result could not be recorded in the live data
# directory's audit log (busy, not a facecrowd directory).
set -euo pipefail

target="${FACECROWD_BACKUP_TARGET:-}"
live="${FACECROWD_DATA:-data}"
live_given=0
binary=""
workdir=""
keep=0
verify=1
json=0
keys=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "dr-drill: $1" >&2; exit "${2:-2}"; }  # $1 only: the exit code is not part of the message
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) [[ $# -ge 2 ]] || die "--target needs a value"; target="$2"; shift ;;
    --key-file) [[ $# -ge 2 ]] || die "--key-file needs a value"; keys+=(--key-file "$2"); shift ;;
    --binary) [[ $# -ge 2 ]] || die "--binary needs a value"; binary="$2"; shift ;;
    --data) [[ $# -ge 2 ]] || die "--data needs a value"; live="$2"; live_given=1; shift ;;
    --workdir) [[ $# -ge 2 ]] || die "--workdir needs a value"; workdir="$2"; shift ;;
    --keep) keep=1 ;;
    --no-verify) verify=0 ;;
    --json) json=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
# A --data given on the command line must name live facecrowd data, checked before the drill starts: a typo
# would otherwise send the result into the drill's scratch restore (removed afterwards) after a whole drill.
# Only $FACECROWD_DATA or the default may name nothing (a replacement machine with no live data yet).
if [[ $live_given -eq 1 ]]; then
  [[ -n "$live" ]] || die "--data is empty; give the live data directory whose audit log gets the result"
  if [[ -e "$live" && ! -d "$live" ]]; then
    die "--data '$live' is a file, not a facecrowd data directory; give the live data directory (nothing was done)" 8
  fi
  [[ -d "$live" ]] || die "--data '$live' does not exist; give the live data directory whose audit log gets the result, or leave --data out on a machine with no live data (nothing was done)" 4
  [[ -n "$(ls -A -- "$live" 2>/dev/null)" ]] || die "--data '$live' is empty: there is no audit log there to record the drill in; give the live data directory, or leave --data out on a machine with no live data (nothing was done)" 4
  [[ -f "$live/facecrowd-data.json" ]] || die "--data '$live' is not a facecrowd data directory (it has no facecrowd-data.json); give the live data directory (nothing was done)" 8
fi
# The live data directory, made absolute so the output names it whatever the caller's working directory.
[[ ! -d "$live" ]] || live="$(cd -- "$live" && pwd)"
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
source_name="${target_url%/latest}"

# The result goes into the live machine's audit log when it has a data directory; `drill record` exits 4
# (creating nothing) when there is none. Sets recorded_in to the data directory that got the entry, or "".
recorded_in=""
record_failed_rc=0
record() {
  if [[ -d "$live" && -n "$(ls -A -- "$live" 2>/dev/null)" ]]; then
    local rc=0
    "$binary" --quiet --data "$live" drill record --target "$source_name" "$@" >/dev/null 2>"$workdir/record.err" || rc=$?
    if [[ $rc -eq 0 ]]; then recorded_in="$live"; return 0; fi
    if [[ $rc -ne 4 ]]; then
      record_failed_rc=$rc
      echo "dr-drill: WARNING: could not record the drill in the audit log of the live data directory '$live' (exit $rc): $(cat "$workdir/record.err")" >&2
    fi
  fi
  return 1
}
# A failed step: recorded as a failed drill in the live audit log when there is one, then the drill stops.
fail_step() {
  local step="$1" rc="$2" what="$3"
  if record --outcome failed --failed-step "$step" --exit-code "$rc"; then
    what="$what (recorded as a failed drill in the audit log of $recorded_in, action backup.dr_drill)"
  elif [[ $record_failed_rc -ne 0 ]]; then
    what="$what (not recorded in the audit log: see the warning above)"
  else
    what="$what (not recorded in any audit log: no live facecrowd data at '$live'; --data DIR names it)"
  fi
  die "$what" "$rc"
}

rc=0
if [[ "$target" == s3://* || "$target" == gs://* ]]; then
  fc restore "$target_url" "${keys[@]}" --json > "$log" || rc=$?
else
  fc restore latest --target "$target" "${keys[@]}" --json > "$log" || rc=$?
fi
# Exit 1 is a restore that succeeded with a warning (a recovery point short of what was shipped): the drill
# goes on, and the warning is reported, recorded, and makes the drill's own exit 1.
[[ $rc -le 1 ]] || fail_step restore "$rc" "restore from $source_name failed (exit $rc)"
warnings=()
if [[ $rc -eq 1 ]]; then
  mapfile -t warnings < <(python3 - "$log" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for w in r.get("offsite", {}).get("warnings", []) + r.get("warnings", []):
    print(" ".join(str(w).split()))
PY
  )
  [[ ${#warnings[@]} -gt 0 ]] || warnings=("the restore exited 1 (a warning) without naming it; its report is $log")
fi
restored="$(now)"
if [[ $verify -eq 1 ]]; then
  fc verify --target "$source_name" --read-data "${keys[@]}" > "$workdir/verify.txt" || {
    rc=$?; cat "$workdir/verify.txt" >&2; fail_step verify "$rc" "verify of the target failed (exit $rc)"; }
fi
fc stats --json > "$workdir/stats.json" || { rc=$?; fail_step stats "$rc" "the restored database could not be read (exit $rc)"; }
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
figures=(--rto "$rto" --rpo "$rpo" --recovery-point "$point" --recovery-point-iso "$point_iso"
         --verified "$([[ $verify -eq 1 ]] && echo yes || echo no)")
for w in "${warnings[@]}"; do figures+=(--warning "$w"); done
recorded_live=true
if ! record "${figures[@]}"; then
  # No live data directory (a truly empty machine): the drill's own restore is the only audit log there is.
  recorded_live=false
  fc drill record --target "$source_name" "${figures[@]}" >/dev/null
  recorded_in="$data"
fi
if [[ $record_failed_rc -ne 0 ]]; then
  why="as recording it in the live data directory '$live' failed (see the warning above)"
else
  why="as there is no live facecrowd data at '$live' (--data DIR names the live data directory)"
fi
if [[ $recorded_live == true ]]; then
  where="the audit log of the live data directory $recorded_in (action backup.dr_drill)"
elif [[ $keep -eq 1 || -n "$keep_workdir" ]]; then
  where="the audit log of the restored data in $data (action backup.dr_drill), $why"
else
  where="the audit log of the restored data, which is removed with the temporary work directory (--keep or --workdir DIR keeps it), $why"
fi
if [[ $json -eq 1 ]]; then
  warnings_json="$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "${warnings[@]}")"
  printf '{"target": "%s", "rto_seconds": %s, "rpo_seconds": %s, "recovery_point": "%s", "recovery_point_iso": "%s", "drill_seconds": %s, "verified": %s, "warnings": %s, "workdir": "%s", "recorded_in": "%s", "recorded_live": %s}\n' \
    "$source_name" "$rto" "$rpo" "$point" "$point_iso" "$total" "$([[ $verify -eq 1 ]] && echo true || echo false)" "$warnings_json" \
    "$workdir" "$recorded_in" "$recorded_live"
else
  outcome=""
  [[ ${#warnings[@]} -eq 0 ]] || outcome=", with ${#warnings[@]} warning(s)"
  echo "DR drill from $source_name: restored into an empty directory and $([[ $verify -eq 1 ]] && echo verified || echo 'did not verify')$outcome"
  echo "  RTO ${rto} s (empty directory to restored data; whole drill ${total} s)"
  echo "  RPO ${rpo} s (recovery point ${point}, ${point_iso})"
  for w in "${warnings[@]}"; do echo "  WARNING: $w"; done
  echo "  recorded in $where"
fi
[[ $record_failed_rc -eq 0 && ${#warnings[@]} -eq 0 ]] || exit 1
