#!/usr/bin/env bash
# Upload throughput of an off-site push against `curl -T` of the same archive to the same server (issue 11:
# >= 0.8x), per archive size and upload mode, in alternating rounds, and what encryption adds.
#
# Against s3rver on loopback (tools/s3). For each size (--sizes, MB of demo images) one archive is made; then
# each round runs, in an order that alternates between rounds:
#   curl       curl -T of the archive, signed by curl (--aws-sigv4) with an UNSIGNED-PAYLOAD body: no hashing,
#              the fastest a signed client can be; -f so a refused upload cannot look fast;
#   single     `facecrowd oplog ship --target s3://…/fresh` pushing that archive (and its 4 KB manifest, and
#              the index) in one PUT (multipart_threshold raised in an AWS config file);
#   multipart  the same with the default settings (multipart above 64 MiB: 16 MiB parts, 4 at a time);
#   encrypted  the same push to a target marked `--encryption key` (one PUT; encryption is part of the time);
#   backup     the push inside `backup --target` (one PUT), where the archive's sha256 comes from its writer,
#              so the upload reads it once (as does a push of an archive written by an earlier run: its
#              sha256 is in the backup log);
#   curlmp     (archives above 64 MiB) the multipart protocol done by curl, as aws-cli would: start the
#              upload, `curl -T` of the 16 MiB parts 4 at a time (split into files before the clock starts,
#              so reading them is not counted), then the completion request; its line also gives the
#              completion's seconds, which is s3rver concatenating the parts (a server-side copy that S3
#              does not make the client wait for). multipart's ratio is given against curl -T and curlmp.
# Our throughput is the push's bytes over its time, as facecrowd reports them (offsite.bytes / offsite.seconds:
# the archive, the oplog slice the backup needs, their records, the index lookup and write); curl's is the
# archive's size over its process's wall time. Each line: MB/s, the ratio ours/curl, and the 1-minute load
# average before the round; the summary gives the median ratio and the range.
# Last, backup wall time (`backup --target`) plain and encrypted, alternating, best of the rounds.
# --tls: the same over https, s3rver serving a certificate of a private CA that the script makes (openssl);
# facecrowd trusts it through AWS_CA_BUNDLE, curl through --cacert of the same file (TLS costs both).
# --link-mbit N: the same through a link of N Mbit/s, as a server's path to S3 is, instead of loopback's
# unbounded one, where the client's CPU competes with s3rver's on the same cores and decides the ratio:
# the bytes sent to s3rver's port are shaped by tc (an htb class on lo, a u32 filter on the port; both
# clients pass the same shaper), removed when the script exits. Needs root and an unshaped lo.
# Runs nice'd. Usage: bench/offsite_upload.sh [--sizes "40 200"] [--rounds 5] [--tls] [--link-mbit N] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="40 200"; rounds=5; build=build; s3_tls=0; link_mbit=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) sizes="$2"; shift ;; --rounds) rounds="$2"; shift ;; --tls) s3_tls=1 ;; --link-mbit) link_mbit="$2"; shift ;; *) build="$1" ;;
  esac
  shift
done
bin="$(realpath "$build/facecrowd")"
work="$(mktemp -d -t facecrowd-upload-bench.XXXXXX)"
s3pid=""; shaped=0
cleanup() {
  (( shaped )) && tc qdisc del dev lo root
  [[ -n "$s3pid" ]] && kill "$s3pid" 2>/dev/null; wait 2>/dev/null; rm -rf -- "$work"
}
trap cleanup EXIT
if [[ -n $link_mbit ]]; then
  [[ $link_mbit =~ ^[1-9][0-9]*$ ]] || { echo "--link-mbit: '$link_mbit' is not a whole number of Mbit/s" >&2; exit 2; }
  tc qdisc show dev lo | grep -q '^qdisc noqueue' ||
    { echo "--link-mbit: lo is already shaped ($(tc qdisc show dev lo | head -1)); not touching it" >&2; exit 1; }
fi
source bench/s3rver_common.sh
if [[ -n $link_mbit ]]; then
  # Everything else on lo goes through an unbounded default class.
  tc qdisc add dev lo root handle 1: htb default 10
  shaped=1
  tc class add dev lo parent 1: classid 1:10 htb rate 100gbit burst 4mb cburst 4mb quantum 200000
  tc class add dev lo parent 1: classid 1:20 htb rate "${link_mbit}mbit" ceil "${link_mbit}mbit" burst 1mb cburst 1mb quantum 60000
  tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip dport "$port" 0xffff flowid 1:20
fi
printf '[default]\ns3 =\n  multipart_threshold = 5GB\n' > "$work/single.cfg"
: > "$work/default.cfg"
nice "$bin" target keygen "$work/k" >/dev/null
load() { cut -d' ' -f1 /proc/loadavg; }
sign=(-sf "${curl_tls[@]}" --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
# The multipart protocol with curl: prints "<seconds in all> <seconds of the completion>". $1: folder of parts.
curl_multipart() {
  local parts="$1" url="$AWS_ENDPOINT_URL/bench/$2/x" t0 t1 t2 id
  t0=$(date +%s.%N)
  id=$(nice curl "${sign[@]}" -X POST "$url?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
  [[ -n $id ]] || { echo "curlmp: no UploadId" >&2; exit 1; }
  ls "$parts" | grep -v etag | awk '{print NR, $0}' | URL="$url" ID="$id" PARTS="$parts" CACERT="${AWS_CA_BUNDLE:-}" xargs -P 4 -n 2 sh -c \
    'nice curl -sf ${CACERT:+--cacert "$CACERT"} --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
       -D - -o /dev/null -T "$PARTS/$2" "$URL?partNumber=$1&uploadId=$ID" | tr -d "\r" | sed -n "s/^[Ee][Tt]ag: //p" > "$PARTS/$1.etag"' sh
  t1=$(date +%s.%N)
  { echo -n "<CompleteMultipartUpload>"
    for e in $(ls "$parts"/*.etag | sort -V); do n=$(basename "$e" .etag); echo -n "<Part><PartNumber>$n</PartNumber><ETag>$(cat "$e")</ETag></Part>"; done
    echo -n "</CompleteMultipartUpload>"; } > "$work/complete.xml"
  nice curl "${sign[@]}" -o /dev/null -X POST --data-binary @"$work/complete.xml" "$url?uploadId=$id"
  t2=$(date +%s.%N)
  rm -f "$parts"/*.etag
  python3 -c "print($t2 - $t0, $t2 - $t1)"
}
n=0
fresh() { n=$((n + 1)); target="s3://bench/r$n"; }  # sets $target (not in a subshell: n must advance)
# offsite.seconds of one push of the backup directory to a fresh prefix (encrypted: the target configured
# with --encryption key, as an operator would).
push() {  # AWS_CONFIG_FILE plain|encrypted
  export FACECROWD_BACKUP_TARGET_CONFIG="$work/target-$n.json"
  [[ $2 == encrypted ]] && nice "$bin" target set "$target" --encryption key --key-file "$work/k" >/dev/null
  AWS_CONFIG_FILE="$1" nice "$bin" --quiet oplog ship --target "$target" --json |
    python3 -c 'import json,sys; o=json.loads(sys.stdin.readline())["offsite"]; print(o["bytes"] / o["seconds"] / 1e6)'
}
echo "facecrowd $("$bin" --version | head -1); $(curl --version | head -1 | cut -d' ' -f1-2); $(nproc) cores; rounds $rounds; endpoint $AWS_ENDPOINT_URL$( ((s3_tls)) && echo " (private CA: AWS_CA_BUNDLE / curl --cacert)")${link_mbit:+; link shaped to $link_mbit Mbit/s (tc htb on lo)}"
for mb in $sizes; do
  export FACECROWD_DATA="$work/data$mb" FACECROWD_BACKUP_DIR="$work/backup$mb"
  nice "$bin" --quiet demo-data --attendances 2000 --image-mb "$mb" >/dev/null
  nice "$bin" --quiet backup --keep-days 0 >/dev/null
  nice "$bin" --quiet oplog ship >/dev/null   # each push below sends the archive, the slice the backup needs, their records and the index
  archive="$(ls "$FACECROWD_BACKUP_DIR"/backup_*.tar.gz)"
  size=$(stat -c %s "$archive")
  modes="curl single encrypted backup"
  if (( size > 64 * 1024 * 1024 )); then
    modes="curl single multipart curlmp encrypted backup"
    mkdir -p "$work/parts$mb" && split -b 16M -d -a 4 "$archive" "$work/parts$mb/p."
  fi
  echo "== archive $(numfmt --to=iec "$size") ($size bytes); modes: $modes"
  declare -A ratios=()
  for r in $(seq "$rounds"); do
    order="$modes"; (( r % 2 == 0 )) && order="$(echo "$modes" | tr ' ' '\n' | tac | tr '\n' ' ')"
    declare -A secs=()
    l=$(load)
    for m in $order; do
      case "$m" in
        curl) secs[curl]=$( { /usr/bin/time -f "$size %e" nice curl -sf "${curl_tls[@]}" -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
                  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$archive" "$AWS_ENDPOINT_URL/bench/curl-$r-$mb/x"; } 2>&1 ) ;;
        curlmp) secs[curlmp]=$(curl_multipart "$work/parts$mb" "curlmp-$r-$mb") ;;
        single) fresh; secs[single]=$(push "$work/single.cfg" plain) ;;
        multipart) fresh; secs[multipart]=$(push "$work/default.cfg" plain) ;;
        encrypted) fresh; secs[encrypted]=$(push "$work/single.cfg" encrypted) ;;
        backup) fresh; secs[backup]=$(FACECROWD_BACKUP_TARGET_CONFIG="$work/target-$n.json" AWS_CONFIG_FILE="$work/single.cfg" nice "$bin" --quiet \
                  backup --keep-days 0 --target "$target" --json | python3 -c 'import json,sys; o=json.load(sys.stdin)["offsite"]; print(o["bytes"] / o["seconds"] / 1e6)') ;;
      esac
    done
    secs[curl]=$(python3 -c "b, t = '${secs[curl]}'.split(); print(int(b) / float(t) / 1e6)")
    line="  round $r (load $l): curl -T $(printf %.0f "${secs[curl]}") MB/s"
    if [[ -n "${secs[curlmp]:-}" ]]; then
      read -r mp_all mp_complete <<< "${secs[curlmp]}"
      secs[curlmp]=$(python3 -c "print($size / $mp_all / 1e6)")
      line="$line | curl multipart $(printf %.0f "${secs[curlmp]}") MB/s (completion $(printf %.2f "$mp_complete") s of $(printf %.2f "$mp_all") s)"
    fi
    for m in single multipart encrypted backup; do
      [[ -n "${secs[$m]:-}" ]] || continue
      ratio=$(python3 -c "print(f'{${secs[$m]} / ${secs[curl]}:.2f}')")
      ratios[$m]="${ratios[$m]:-} $ratio"
      line="$line | $m $(printf %.0f "${secs[$m]}") MB/s ${ratio}x"
      if [[ $m == multipart && -n "${secs[curlmp]:-}" ]]; then
        ratio=$(python3 -c "print(f'{${secs[$m]} / ${secs[curlmp]}:.2f}')")
        ratios[multipart-vs-curlmp]="${ratios[multipart-vs-curlmp]:-} $ratio"
        line="$line (${ratio}x of curl multipart)"
      fi
    done
    echo "$line"
    unset secs
  done
  for m in single multipart multipart-vs-curlmp encrypted backup; do
    [[ -n "${ratios[$m]:-}" ]] || continue
    of="curl -T"; [[ $m == multipart-vs-curlmp ]] && of="curl multipart"
    python3 -c "import statistics as s; v=[float(x) for x in '${ratios[$m]}'.split()]; print(f'  $mb MB ${m%-vs-curlmp}: median {s.median(v):.2f}x of $of (range {min(v):.2f}-{max(v):.2f}, {len(v)} rounds)')"
  done
  unset ratios
done

# Encryption's share of backup wall time: `backup --target` (dump + archive + upload), plain vs encrypted.
export FACECROWD_DATA="$work/data${sizes##* }" FACECROWD_BACKUP_DIR="$work/backup${sizes##* }"
plain=(); enc=()
for r in $(seq "$rounds"); do
  for m in plain enc; do
    rm -f "$FACECROWD_BACKUP_DIR"/backup_*
    fresh
    export FACECROWD_BACKUP_TARGET_CONFIG="$work/target-$n.json"
    if [[ $m == plain ]]; then
      nice "$bin" target set "$target" >/dev/null
    else
      nice "$bin" target set "$target" --encryption key --key-file "$work/k" >/dev/null
    fi
    t=$( { AWS_CONFIG_FILE="$work/default.cfg" /usr/bin/time -f %e nice "$bin" --quiet backup --keep-days 0 >/dev/null; } 2>&1 )
    if [[ $m == plain ]]; then plain+=("$t"); else enc+=("$t"); fi
  done
done
python3 -c "
p=sorted(float(x) for x in '${plain[*]}'.split()); e=sorted(float(x) for x in '${enc[*]}'.split())
print(f'backup --target wall time, best of $rounds: plain {p[0]:.2f} s, encrypted {e[0]:.2f} s: encryption adds {(e[0]/p[0]-1)*100:+.1f}% (runs plain {p}, encrypted {e}; load $(load))')"
