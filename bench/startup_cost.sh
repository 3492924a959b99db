#!/usr/bin/env bash
# Process start-up cost: the binary of this build against a BASELINE binary (e.g. a copy of main's
# build/facecrowd from before the image codecs moved into facecrowd-imgcodecs.so), in the same run, runs
# interleaved (base, new, base, new, ...) so load changes hit both alike. For each command: the median wall
# time and the median CPU time (user + sys of the child, from wait4) over N runs of each, and new / base.
# Commands: `--version` (nothing but start-up), `backup` of a tiny data directory (one user; the backup
# cron and every CLI command pay the same start-up), `oplog ship` (cron, every minute), `recognize` of one photo (decodes it, so it loads the
# module: expected about unchanged). Each binary has its own data and backup directories.
# CTEST=REGEX also times `ctest -R REGEX` (tests that spawn the binary many times), CTEST_ROUNDS (default 2)
# times with this build's binary and with BASELINE copied over build/facecrowd (put back on exit), alternating:
# wall and CPU (user + sys of all its processes). The tests' own code is this build's.
# Figures are printed, never asserted; run it when the machine is otherwise quiet.
#   bench/startup_cost.sh BASELINE [BUILD_DIR]     env: N (runs per binary and command, default 40), PHOTO,
#                                                       CTEST (regex; unset: skipped)
set -euo pipefail
umask 077
BASE=$(readlink -f "${1:?usage: bench/startup_cost.sh BASELINE_BINARY [BUILD_DIR]}")
BUILD=$(readlink -f "${2:-build}")
NEW=$BUILD/facecrowd
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PHOTO=${PHOTO:-$ROOT/../shared/data/faces/groups/two_people.jpg}
N=${N:-40}
WORK=$(mktemp -d)
cleanup() {
  if [[ -f $WORK/facecrowd.new ]]; then cp "$WORK/facecrowd.new" "$NEW"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "baseline: $BASE ($(ldd "$BASE" | wc -l) shared libraries at start)"
echo "new:      $NEW ($(ldd "$NEW" | wc -l) shared libraries at start; $(readelf -d "$NEW" | grep -c 'NEEDED.*imgcodecs' || true) NEEDED imgcodecs)"
for who in base new; do
  bin=$BASE; [[ $who == new ]] && bin=$NEW
  echo "a-long-password-1" | "$bin" --data "$WORK/$who/data" users add bench --role admin --password-stdin > /dev/null
done

python3 - "$BASE" "$NEW" "$WORK" "$N" "$ROOT/models" "$PHOTO" <<'PY'
import os, statistics, subprocess, sys, time
base, new, work, n, models, photo = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
def args(who, cmd):
    d = ["--data", f"{work}/{who}/data", "--backup-dir", f"{work}/{who}/backup", "--models", models, "--quiet"]
    return {"--version": ["--version"], "backup": d + ["backup"], "oplog ship": d + ["oplog", "ship"],
            "recognize": d + ["recognize", "--session", "bench", photo]}[cmd]
def once(binary, argv):
    t0 = time.perf_counter()
    p = subprocess.Popen([binary] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{binary} {' '.join(argv)}: exit {p.returncode}: {p.stderr.read().decode()[-400:]}")
    return wall * 1e3, (ru.ru_utime + ru.ru_stime) * 1e3
print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}; N={n} runs per binary and command")
print(f"{'command':11} {'base wall ms':>13} {'new wall ms':>12} {'new/base':>9} {'base CPU ms':>12} {'new CPU ms':>11} {'new/base':>9}")
for cmd in ["--version", "backup", "oplog ship", "recognize"]:
    if cmd == "recognize" and not (os.path.exists(photo) and os.path.exists(f"{models}/SHA256SUMS")):
        print(f"{cmd:11} skipped: no photo {photo} or no prepared models in {models}")
        continue
    runs = {"base": [], "new": []}
    for i in range(n):
        for who, binary in (("base", base), ("new", new)) if i % 2 == 0 else (("new", new), ("base", base)):
            runs[who].append(once(binary, args(who, cmd)))
    med = {w: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for w, v in runs.items()}
    print(f"{cmd:11} {med['base'][0]:13.1f} {med['new'][0]:12.1f} {med['new'][0] / med['base'][0]:9.2f} "
          f"{med['base'][1]:12.1f} {med['new'][1]:11.1f} {med['new'][1] / max(med['base'][1], 1e-9):9.2f}")
print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}")
PY

if [[ -n ${CTEST:-} ]]; then
  # Wall and CPU (user + sys of ctest and every process it started, from GNU time) of one ctest run.
  ctest_run() {
    (cd "$BUILD" && /usr/bin/time -f "%e %U %S" -o "$WORK/time.$1" ctest -R "$CTEST" > "$WORK/ctest.$1.log" 2>&1) ||
      { echo "ctest ($1) failed:"; grep -E "Failed|tests passed" "$WORK/ctest.$1.log" | tail -5; }
    awk '{printf "%.1f %.1f\n", $1, $2 + $3}' "$WORK/time.$1"
  }
  count=$(cd "$BUILD" && ctest -N -R "$CTEST" | tail -1)
  cp "$NEW" "$WORK/facecrowd.new"
  echo "ctest -R '$CTEST' ($count), rounds alternating new, base (BASELINE copied over build/facecrowd):"
  for round in $(seq "${CTEST_ROUNDS:-2}"); do
    for who in new base; do
      [[ $who == base ]] && cp "$BASE" "$NEW" || cp "$WORK/facecrowd.new" "$NEW"
      read -r wall cpu < <(ctest_run "$who")
      echo "  round $round $who: wall $wall s, CPU $cpu s"
      echo "$who $wall $cpu" >> "$WORK/ctest.rounds"
    done
  done
  cp "$WORK/facecrowd.new" "$NEW" && rm "$WORK/facecrowd.new"
  awk '{w[$1] += $2; c[$1] += $3} END {printf "  sums: base wall %.1f s CPU %.1f s; new wall %.1f s CPU %.1f s; new/base wall %.2f, CPU %.2f\n",
       w["base"], c["base"], w["new"], c["new"], w["new"] / w["base"], c["new"] / c["base"]}' "$WORK/ctest.rounds"
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
