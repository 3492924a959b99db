#!/usr/bin/env bash
# Off-site backup benchmarks (issue 11), against s3rver on loopback (tools/s3), each figure a ratio to a
# baseline run in the same script on the same machine:
#   1. upload throughput: `facecrowd oplog ship --target s3://…` pushing an archive of about --mb MB, against
#      `curl -T` of the same archive to the same server (curl signs too, with an UNSIGNED-PAYLOAD body:
#      no hashing, the fastest a signed client can be; -f so a refused upload cannot look fast);
#      measured as the push part only (`offsite.seconds` in the JSON), best of --runs;
#   2. encryption's added backup wall time: `backup --target` with and without `--encryption key`, best of --runs;
#   3. the drill: scripts/dr-drill.sh into an empty directory (RTO), and RPO with shipping every --interval s.
# With --baseline BUILD_DIR (e.g. main's build), 1. also times that build's push of the same archive, each
# run right after this build's, and gives this build's throughput over the baseline's (with the load
# average); --upload-only stops after 1.
# Runs nice'd. Usage: bench/offsite.sh [--mb 200] [--runs 3] [--interval 60] [--attendances N] [--baseline DIR] [--upload-only] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=200; runs=3; interval=60; attendances=200000; build=build; baseline=""; upload_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mb) mb="$2"; shift ;; --runs) runs="$2"; shift ;; --interval) interval="$2"; shift ;;
    --attendances) attendances="$2"; shift ;; --baseline) baseline="$(realpath "$2/facecrowd")"; shift ;;
    --upload-only) upload_only=1 ;; *) build="$1" ;;
  esac
  shift
done
bin="$(realpath "$build/facecrowd")"
work="$(mktemp -d -t facecrowd-offsite-bench.XXXXXX)"
s3pid=""
cleanup() { [[ -n "$s3pid" ]] && kill "$s3pid" 2>/dev/null; wait 2>/dev/null; rm -rf -- "$work"; }
trap cleanup EXIT
source bench/s3rver_common.sh
export FACECROWD_DATA="$work/data" FACECROWD_BACKUP_DIR="$work/backup" FACECROWD_BACKUP_TARGET_CONFIG="$work/target.json"
fc() { nice "$bin" --quiet "$@"; }
best() { sort -n | head -1; }

echo "demo data: $attendances attendances, ~$mb MB of images"
fc demo-data --attendances "$attendances" --image-mb "$mb" >/dev/null
fc backup --keep-days 0 >/dev/null
archive="$(ls "$work"/backup/backup_*.tar.gz | head -1)"
size=$(stat -c %s "$archive")
echo "archive: $(numfmt --to=iec "$size")"

# 1. upload throughput: the push of the backup directory (one archive + its manifest + the index) to a fresh
#    prefix, timed by facecrowd itself (offsite.seconds), against curl -T of the archive alone.
ours=(); theirs=(); base=()
push_mbs() {  # BINARY PREFIX: the push's MB/s as it reports it
  nice "$1" --quiet oplog ship --target "s3://bench/$2" --json | python3 -c 'import json,sys; o=json.loads(sys.stdin.readline())["offsite"]; print(o["bytes"] / o["seconds"] / 1e6)'
}
[[ -n $baseline ]] && cp -a "$work/backup" "$work/backup-base"
for i in $(seq "$runs"); do
  # Each build pushes from a backup directory of its own (a target has one writer: backup/offsite/writer_fence.h).
  [[ -n $baseline ]] && base+=("$(FACECROWD_BACKUP_DIR="$work/backup-base" push_mbs "$baseline" "base-$i")")
  t=$( { /usr/bin/time -f %e nice curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$archive" "http://127.0.0.1:$port/bench/curl-$i/$(basename "$archive")"; } 2>&1 )
  theirs+=("$(python3 -c "print($size / $t / 1e6)")")
  ours+=("$(push_mbs "$bin" "plain-$i")")
done
best_max() { sort -n | tail -1; }
c=$(printf '%s\n' "${theirs[@]}" | best_max); o=$(printf '%s\n' "${ours[@]}" | best_max)
python3 -c "print(f'upload: facecrowd {float(\"$o\"):.1f} MB/s, curl -T {float(\"$c\"):.1f} MB/s: ratio {float(\"$o\")/float(\"$c\"):.2f} (runs MB/s: facecrowd ${ours[*]}; curl ${theirs[*]})')"
if [[ -n $baseline ]]; then
  b=$(printf '%s\n' "${base[@]}" | best_max)
  python3 -c "print(f'push: this build {float(\"$o\"):.1f} MB/s, baseline {float(\"$b\"):.1f} MB/s: ratio {float(\"$o\")/float(\"$b\"):.3f} (baseline runs MB/s: ${base[*]}; load average $(cut -d' ' -f1-3 /proc/loadavg))')"
fi
[[ $upload_only -eq 1 ]] && exit 0

# 2. encryption overhead on backup wall time (fresh prefix each run: one archive uploaded)
nice "$bin" target keygen "$work/k" >/dev/null
plain=(); enc=()
for i in $(seq "$runs"); do
  rm -f "$work"/backup/backup_*; 
  a=$( { /usr/bin/time -f %e nice "$bin" --quiet backup --keep-days 0 --target "s3://bench/p$i" >/dev/null; } 2>&1 )
  plain+=("$a")
  rm -f "$work"/backup/backup_*
  nice "$bin" target set "s3://bench/e$i" --encryption key --key-file "$work/k" >/dev/null
  b=$( { /usr/bin/time -f %e nice "$bin" --quiet backup --keep-days 0 >/dev/null; } 2>&1 )
  enc+=("$b")
  rm -f "$work/target.json"
done
tp=$(printf '%s\n' "${plain[@]}" | best); te=$(printf '%s\n' "${enc[@]}" | best)
python3 -c "import sys; p,e=float('$tp'),float('$te'); print(f'encryption: backup+upload {p:.2f} s plain, {e:.2f} s encrypted: +{(e/p-1)*100:.1f}% (runs plain ${plain[*]}, encrypted ${enc[*]})')"

# 3. the drill (RTO) and RPO with shipping every $interval s
nice "$bin" target set "s3://bench/e$runs" --encryption key --key-file "$work/k" >/dev/null
fc backup --keep-days 0 >/dev/null
fc demo-data --attendances 100 --image-mb 1 >/dev/null 2>&1 || true
t0=$(date +%s.%N); fc oplog ship >/dev/null; t1=$(date +%s.%N)
echo "one ship + push of new changes: $(python3 -c "print(round($t1 - $t0, 2))") s"
FACECROWD_BACKUP_KEY_FILE="$work/k" nice scripts/dr-drill.sh --binary "$bin" --target "s3://bench/e$runs" --key-file "$work/k" --json
echo "RPO with shipping every ${interval}s: at most ${interval} s + one ship's duration (the drill's rpo_seconds above is the age of the last shipped change when the drill started)"
