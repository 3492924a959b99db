#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang, ASan + UBSan) in build-fuzz/ and runs each for N minutes
# on one core, niced, starting from the committed seeds in fuzz/corpus/<harness>/ (new inputs go to
# build-fuzz/corpus/<harness>/, crashes to build-fuzz/artifacts/<harness>/). Prints, per harness, the
# executions and the crashes found.
#   bench/fuzz.sh 5                 # every harness, 5 minutes each
#   bench/fuzz.sh 2 manifest        # one harness
# Needs Debian's clang and libclang-rt-14-dev (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: bench/fuzz.sh MINUTES [HARNESS...]}
shift
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(archive_reader manifest oplog_slice image_header document_filter mongodump_reader bson_check)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFACECROWD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
nice cmake --build build-fuzz -j 2 >/dev/null

printf '%-16s %12s %8s %s\n' harness executions crashes artifacts
for h in "${harnesses[@]}"; do
  corpus=build-fuzz/corpus/$h artifacts=build-fuzz/artifacts/$h
  mkdir -p "$corpus" "$artifacts"
  log=build-fuzz/fuzz_$h.log
  # -fork=0 -jobs=0: one process, one core. A crash stops the run; the artifact keeps the input.
  nice -n 10 build-fuzz/fuzz/fuzz_$h "$corpus" "fuzz/corpus/$h" -max_total_time=$((minutes * 60)) \
    -print_final_stats=1 -artifact_prefix="$artifacts/" -rss_limit_mb=2048 -timeout=25 >"$log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  crashes=$(find "$artifacts" -type f | wc -l)
  printf '%-16s %12s %8s %s\n' "$h" "${execs:-?}" "$crashes" "$artifacts"
done
