#!/usr/bin/env bash
# The README's second command: build and run the whole test suite (GoogleTest via CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd build
ctest --output-on-failure -j 2 --timeout 900
