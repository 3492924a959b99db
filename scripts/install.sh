#!/usr/bin/env bash
# The README's first command: install dependencies, build, and run the main job on the embedded default
# store (SQLite under ./data): seed a small demo deployment if the store is empty, back it up to
# ./backup, verify the archive and print the store's statistics.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
FC=./build/facecrowd
if ! $FC stats >/dev/null 2>&1; then
  $FC demo-data --users 20 --profiles 50 --attendances 2000 --crowdcounts 200 --auditlogs 2000 --image-mb 5
fi
$FC backup
$FC verify latest
$FC stats
