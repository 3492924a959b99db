#!/usr/bin/env bash
# The README's first command: install dependencies, prepare the pinned face models (checked), build, and
# run the main job on the embedded default store (SQLite under ./data): seed a small demo deployment if
# the store is empty, back it up to ./backup, verify the archive, ship the oplog and report status. The
# models are checked once more by the binary itself (sha256 + one run of every network).
set -euo pipefail
cd "$(dirname "$0")/.."
# Private by default (issue 15.1): what this script and the commands below create is 0600/0700, and a
# data or backup directory left readable by an older version is made private.
umask 077
for dir in data backup; do
  [[ -d "$dir" ]] && chmod -R go-rwx -- "$dir"
done
scripts/install-deps.sh
tools/prepare_models.sh --models-dir models
scripts/build.sh
FC=./build/facecrowd
$FC models check
if ! $FC stats >/dev/null 2>&1; then
  $FC demo-data --users 20 --profiles 50 --attendances 2000 --crowdcounts 200 --auditlogs 2000 --image-mb 5
fi
$FC backup
$FC verify latest
$FC oplog ship
$FC stats
$FC backups status || true   # WARNING (exit 1) is expected on a brand-new deployment: few days of history
