#!/usr/bin/env bash
# Installs facecrowd's backup schedule into a crontab, for operators who do not run `facecrowd serve`:
#
#   0 1 * * *   facecrowd backup            daily backup at 01:00 (prunes archives older than 30 days)
#   0 2 * * *   facecrowd retention run     retention and archival at 02:00
#   30 2 * * *  facecrowd gallery index     refresh the face search index at 02:30 (app/faces/gallery_index.h)
#   0 3 * * 0   facecrowd check --read-data weekly scrub on Sunday 03:00: live store, ledger, slices, every archive
#   * * * * *   facecrowd oplog ship        oplog shipping every minute (point-in-time recovery, RPO 60 s)
#
# With an off-site target configured (`facecrowd target set s3://BUCKET/PREFIX`, kept in <data>/backup-target.json),
# the backup and every ship also upload to it, with no flags here; cron's jobs find the credentials in the
# user's ~/.aws/credentials (cron passes no AWS_* variables).
#
# Every entry starts with `umask 077`, so the logs the shell creates are private like everything facecrowd
# writes itself (it holds biometric data; issue 15.1); installing also makes existing data, backup and log
# directories private (chmod -R go-rwx), and the AWS credentials file the jobs will read ($AWS_SHARED_CREDENTIALS_FILE
# or ~/.aws/credentials of the crontab's user) 0600, since facecrowd refuses one that others can read. The entries use absolute paths and append their output to log files. They live between marker lines
# that this script owns: running it again replaces its block and leaves every other crontab line alone.
#
# Usage: scripts/setup-cron-backup.sh [--print] [--remove] [--binary PATH] [--data DIR] [--backup-dir DIR]
#                                     [--log-dir DIR] [--user NAME]
#   --print        print the block instead of installing it (no crontab needed)
#   --remove       remove the block from the crontab
#   --binary       the facecrowd binary (default: `command -v facecrowd`)
#   --data         data directory (default: $FACECROWD_DATA or /var/lib/facecrowd/data)
#   --backup-dir   backup directory (default: $FACECROWD_BACKUP_DIR or /backup/facecrowd)
#   --log-dir      where the jobs' logs go (default: the backup directory)
#   --user         install into this user's crontab (crontab -u; needs root)
# Environment: CRONTAB_BIN names the crontab command (default: crontab).
# Timestamps in cron are the machine's local time; set CRON_TZ in the crontab if you need UTC.
set -euo pipefail

BEGIN_MARK="# BEGIN facecrowd backups (managed by scripts/setup-cron-backup.sh; re-run it to change)"
END_MARK="# END facecrowd backups"

print_only=0
remove=0
binary=""
data="${FACECROWD_DATA:-/var/lib/facecrowd/data}"
backup_dir="${FACECROWD_BACKUP_DIR:-/backup/facecrowd}"
log_dir=""
user=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "setup-cron-backup: $*" >&2; exit "${2:-1}"; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)" 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --print) print_only=1 ;;
    --remove) remove=1 ;;
    --binary) need_value "$@"; binary="$2"; shift ;;
    --data) need_value "$@"; data="$2"; shift ;;
    --backup-dir) need_value "$@"; backup_dir="$2"; shift ;;
    --log-dir) need_value "$@"; log_dir="$2"; shift ;;
    --user) need_value "$@"; user="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" 2 ;;
  esac
  shift
done

if [[ -z "$binary" ]]; then
  binary="$(command -v facecrowd || true)"
  [[ -n "$binary" ]] || die "facecrowd is not on PATH; give its location with --binary PATH" 2
fi
[[ -x "$binary" ]] || die "'$binary' is not an executable facecrowd binary" 2
# cron starts jobs in the home directory with a minimal PATH: every path must be absolute.
binary="$(realpath -m -- "$binary")"
data="$(realpath -m -- "$data")"
backup_dir="$(realpath -m -- "$backup_dir")"
log_dir="$(realpath -m -- "${log_dir:-$backup_dir}")"

q() { printf '%q' "$1"; }
# '%' ends a cron command line unless escaped.
cron_escape() { sed 's/%/\\%/g'; }

job() {  # job SCHEDULE LOGNAME ARGS...
  local schedule="$1" log="$2"
  shift 2
  local cmd
  cmd="$(q "$binary") --quiet --data $(q "$data") --backup-dir $(q "$backup_dir") $*"
  printf '%s umask 077; %s >> %s 2>&1\n' "$schedule" "$cmd" "$(q "$log_dir/$log")" | cron_escape
}

block() {
  echo "$BEGIN_MARK"
  job "0 1 * * *" facecrowd-backup.log backup
  job "0 2 * * *" facecrowd-retention.log retention run
  job "30 2 * * *" facecrowd-gallery-index.log gallery index
  job "0 3 * * 0" facecrowd-check.log check --read-data
  job "* * * * *" facecrowd-oplog-ship.log oplog ship
  echo "$END_MARK"
}

if [[ $print_only -eq 1 ]]; then
  block
  exit 0
fi

crontab_bin="${CRONTAB_BIN:-crontab}"  # another crontab implementation (or a test's stand-in)
if ! command -v "$crontab_bin" >/dev/null 2>&1; then
  die "the 'crontab' command is missing: install cron (Debian/Ubuntu: apt-get install cron; then
  systemctl enable --now cron), or add the lines from '$0 --print' to your scheduler yourself" 3
fi

crontab_cmd=("$crontab_bin")
[[ -n "$user" ]] && crontab_cmd=("$crontab_bin" -u "$user")

current="$("${crontab_cmd[@]}" -l 2>/dev/null || true)"  # no crontab yet: start empty
others="$(printf '%s\n' "$current" | sed "/^# BEGIN facecrowd backups/,/^# END facecrowd backups/d" | sed '/^$/N;/^\n$/D')"
{
  [[ -n "${others//[$'\n ']/}" ]] && printf '%s\n' "$others"
  [[ $remove -eq 1 ]] || block
} | "${crontab_cmd[@]}" -

if [[ $remove -eq 1 ]]; then
  echo "removed the facecrowd backup entries from the crontab${user:+ of $user}"
else
  (umask 077 && mkdir -p -- "$log_dir") 2>/dev/null || echo "warning: cannot create log directory '$log_dir'" >&2
  for dir in "$data" "$backup_dir" "$log_dir"; do  # private, as facecrowd creates them (issue 15.1)
    [[ -d "$dir" ]] && { chmod -R go-rwx -- "$dir" 2>/dev/null || echo "warning: cannot make '$dir' private: chmod -R go-rwx '$dir'" >&2; }
  done
  # The jobs' S3 credentials: facecrowd refuses a credentials file that group or others can read.
  home="${HOME:-}"
  [[ -n "$user" ]] && home="$(getent passwd "$user" | cut -d: -f6 || true)"
  credentials="${AWS_SHARED_CREDENTIALS_FILE:-${home:+$home/.aws/credentials}}"
  if [[ -n "$credentials" && -f "$credentials" && -n "$(find "$credentials" -maxdepth 0 -perm /077 2>/dev/null)" ]]; then
    if chmod go-rwx -- "$credentials" 2>/dev/null; then
      echo "made the AWS credentials file '$credentials' private (chmod 600): other users could read it"
    else
      echo "warning: the AWS credentials file '$credentials' can be read by other users and facecrowd will refuse it: chmod 600 '$credentials'" >&2
    fi
  fi
  echo "installed the facecrowd backup entries into the crontab${user:+ of $user}:"
  block
  echo "check them with: crontab ${user:+-u $user }-l; monitor with: scripts/check-backup-status.sh --backup-dir $(q "$backup_dir")"
fi
