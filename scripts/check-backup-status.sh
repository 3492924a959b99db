#!/usr/bin/env bash
# Nagios-style backup check: runs `facecrowd backups status` and exits with its code (0 OK, 1 WARNING,
# 2 ERROR/CRITICAL; 3 UNKNOWN when facecrowd cannot be run). Prints the one-line summary first, then one
# line per check, so a monitoring agent can use the first line and a person can read the rest.
#
# Usage: scripts/check-backup-status.sh [--binary PATH] [--data DIR] [--backup-dir DIR]
#                                       [any `facecrowd backups status` flag: --db, --max-age 25h, --days 7, --json]
# The binary is --binary, else $FACECROWD_BIN, else `facecrowd` on PATH, else ./build/facecrowd next to
# this script's repository.
set -uo pipefail

binary="${FACECROWD_BIN:-}"
global=()
pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="${2:-}"; shift ;;
    --data|--backup-dir) global+=("$1" "${2:-}"); shift ;;
    --data=*|--backup-dir=*) global+=("$1") ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$1") ;;
  esac
  shift
done

if [[ -z "$binary" ]]; then
  binary="$(command -v facecrowd || true)"
  [[ -n "$binary" ]] || binary="$(dirname "$0")/../build/facecrowd"
fi
if [[ ! -x "$binary" ]]; then
  echo "UNKNOWN: facecrowd binary not found ('$binary'); pass --binary PATH or set FACECROWD_BIN"
  exit 3
fi

# Global options (--data, --backup-dir) go before the subcommand; the rest belong to `backups status`.
"$binary" "${global[@]}" backups status "${pass[@]}"
rc=$?
case $rc in
  0|1|2) exit $rc ;;
  *) echo "UNKNOWN: 'facecrowd backups status' failed with exit code $rc"; exit 3 ;;
esac
