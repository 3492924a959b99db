#!/usr/bin/env bash
# The cost of the audit hash chain, as ratios against the same work without it (bench/audit_chain_bench.cpp):
#   audit write  = append_audit (chained) / a plain insert of the same entry, one transaction each
#   retention    = run_retention deleting 20,000 audit entries (checkpoints) / the same deletions unaudited
# Usage: bench/audit_chain.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
out="$(nice "$build/bench/facecrowd_bench" --benchmark_filter='BM_AuditWrite|BM_RetentionAudit' \
       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json)"
python3 - "$out" <<'PY'
import json, sys
runs = {b["run_name"]: b for b in json.loads(sys.argv[1])["benchmarks"] if b.get("aggregate_name") == "median"}
def t(name): return runs[name]["real_time"], runs[name]["time_unit"]
for label, base, chained in [("audit write", "BM_AuditWrite/0", "BM_AuditWrite/1"),
                             ("retention of 20,000 audit entries", "BM_RetentionAudit/0/iterations:3", "BM_RetentionAudit/1/iterations:3")]:
    (b, unit), (c, _) = t(base), t(chained)
    print(f"{label}: chained {c:.1f} {unit}, baseline {b:.1f} {unit}, ratio {c / b:.2f}x")
PY
