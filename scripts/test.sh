#!/usr/bin/env bash
# The README's second command: install what is missing, prepare the pinned models, build, and run the
# whole test suite (GoogleTest via CTest). Tests that need ../shared/data or the models skip with a
# message when those are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
tools/prepare_models.sh --models-dir models --no-check
scripts/build.sh
cd build
# ctest-junit.xml (in build/) records each test's outcome and output; .ci/run reads it for skips.
ctest --output-on-failure -j 2 --timeout 900 --output-junit ctest-junit.xml
