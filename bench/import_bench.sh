#!/usr/bin/env bash
# Import speed (facecrowd import of a plain mongodump) against facecrowd's own restore of the same data.
#
#   [FACECROWD_BIN=path] bench/import_bench.sh [--attendances N] [--work DIR]
#
# 1. descriptors of three identity photos from facecrowd's model (a scratch enroll), as the old system's
#    face-api.js would have stored them;
# 2. a mongodump written by tests/fixtures/make_mongodump.py (python3-bson) with N attendances, N/4 crowd
#    counts, 3 GridFS images, packed with tar -czf as the old runbook did;
# 3. timed: `facecrowd import DUMP.tar.gz` into an empty data directory;
# 4. that data backed up with `facecrowd backup`, then timed: `facecrowd restore ARCHIVE` into another empty
#    data directory (the baseline: the same documents, facecrowd's own format).
# Prints documents/second for both and their ratio, and writes results.json in the work dir. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
N=100000
WORK=/tmp/facecrowd-import-bench
while (($#)); do
  case "$1" in
    --attendances) N=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
FC=${FACECROWD_BIN:-$PWD/build/facecrowd}
[[ -x $FC ]] || { echo "build first: scripts/build.sh" >&2; exit 2; }
FACES=${FACES:-$PWD/../shared/data/faces}
[[ -d $FACES/identities ]] || { echo "shared data missing: $FACES" >&2; exit 2; }
/usr/bin/python3 -c 'import bson, bcrypt' || { echo "python3-bson/python3-bcrypt missing: scripts/install-deps.sh" >&2; exit 2; }
export FACECROWD_MODELS=${FACECROWD_MODELS:-$PWD/models}
rm -rf "$WORK"; mkdir -p "$WORK"

# 1. Descriptors.
for img in obama/obama.jpg obama/obama1.jpg biden/biden.jpg; do
  "$FC" --quiet --data "$WORK/scratch" enroll --force --name "$(basename "$img")" "$FACES/identities/$img" >/dev/null
done
"$FC" --data "$WORK/scratch" export --collection faceprofiles --out "$WORK/profiles.json" >/dev/null
/usr/bin/python3 - "$WORK/profiles.json" "$WORK/descriptors.json" <<'EOF'
import base64, json, struct, sys
out = {}
text = open(sys.argv[1]).read().strip()
docs = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
for d in docs:
    raw = base64.b64decode(d["embeddings"][0]["vector"]["$binary"]["base64"])
    out[d["name"]] = list(struct.unpack("<128f", raw))
json.dump(out, open(sys.argv[2], "w"))
EOF

# 2. The dump.
NAME=backup_face-recognition_20240103_010000
/usr/bin/python3 tests/fixtures/make_mongodump.py "$WORK/$NAME" --faces "$FACES" --descriptors "$WORK/descriptors.json" \
  --attendances "$N" --crowdcounts "$((N / 4))" >/dev/null
tar -czf "$WORK/$NAME.tar.gz" -C "$WORK" "$NAME"

timed() {  # LABEL CMD...: wall seconds into $WORK/LABEL.time
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || {
    rc=$?; [[ $label == import && $rc == 1 ]] || { echo "$label failed:" >&2; tail -5 "$WORK/$label.err" >&2; exit 1; }; }
}
# 3. Import.
timed import "$FC" --quiet --data "$WORK/imported" import "$WORK/$NAME.tar.gz" --json
DOCS=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["documentsRead"])' "$WORK/import.out")
# 4. The baseline: facecrowd's own backup of the same data, restored.
"$FC" --quiet --data "$WORK/imported" --backup-dir "$WORK/backup" backup >/dev/null
ARCHIVE=$(ls "$WORK"/backup/*.tar.gz | head -1)
timed restore "$FC" --quiet --data "$WORK/restored" --backup-dir "$WORK/backup" restore "$ARCHIVE" --json
RDOCS=$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j.get("restore", j); print(r["documents_decoded"] if "documents_decoded" in r else r.get("documentsDecoded", 0))' "$WORK/restore.out" 2>/dev/null || echo 0)

/usr/bin/python3 - "$WORK" "$DOCS" "$RDOCS" <<'EOF'
import json, sys
work, docs, rdocs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = {k: [float(x) for x in open(f"{work}/{k}.time").read().split()] for k in ("import", "restore")}
imp = docs / t["import"][0]
res = (rdocs or docs) / t["restore"][0]
r = {"documents_import": docs, "documents_restore": rdocs, "import_s": t["import"][0], "restore_s": t["restore"][0],
     "import_docs_per_s": round(imp), "restore_docs_per_s": round(res), "import_peak_kb": t["import"][1],
     "restore_peak_kb": t["restore"][1], "import_vs_restore": round(imp / res, 3)}
json.dump(r, open(f"{work}/results.json", "w"), indent=2)
print(f"import : {docs:>9} documents in {t['import'][0]:7.2f} s = {imp:9.0f} documents/s (peak {t['import'][1]/1024:.0f} MiB)")
print(f"restore: {rdocs or docs:>9} documents in {t['restore'][0]:7.2f} s = {res:9.0f} documents/s (peak {t['restore'][1]/1024:.0f} MiB)")
print(f"import / restore speed: {imp / res:.2f}")
EOF
