#!/usr/bin/env bash
# One-shot recognition against a large gallery: `facecrowd recognize` on the same group photo and the same
# data, scanning every embedding (no index: the baseline) and then through the cached HNSW index that
# `facecrowd gallery index` writes (app/faces/gallery_index.h). Each run is its own process, as an operator runs
# it; the JSON's timings split a run into faces (decode + detect + describe), gallery (load from SQLite +
# adopt the index) and search (every face). Peak RSS from /usr/bin/time.
#
#   bench/gallery_oneshot.sh [BUILD_DIR (default ./build)] [PROFILES (default 100000)] [RUNS (default 3)]
#
# recognize's default (--search auto) reads the index only for photos of >= 100 faces, where it pays; the
# runs here force both ways (--search exact / index) to measure each, then show what auto picks.
#
# Needs the prepared models and ../shared/data/faces. The synthetic people are demo-data profiles stamped
# with the prepared recogniser's model version (random unit vectors), plus two real enrolled people.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PROFILES=${2:-100000}
RUNS=${3:-3}
BIN=$BUILD/facecrowd
[[ -x $BIN ]] || { echo "build first: scripts/build.sh (missing $BIN)" >&2; exit 2; }
FACES=../shared/data/faces
[[ -d $FACES/identities ]] || { echo "missing $FACES" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export FACECROWD_DATA=$WORK/data

version=$("$BIN" models check --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["embeddingModelVersion"])')
echo "gallery: $PROFILES synthetic profiles of $version + 2 enrolled people" >&2
"$BIN" --quiet demo-data --profiles "$PROFILES" --users 1 --attendances 0 --crowdcounts 0 --auditlogs 0 --image-mb 0 \
  --embedding-model "$version" >/dev/null
"$BIN" --quiet enroll --name Obama "$FACES/identities/obama/obama.jpg" "$FACES/identities/obama/obama1.jpg" >/dev/null
"$BIN" --quiet enroll --name Biden "$FACES/identities/biden/biden.jpg" >/dev/null

recognize_runs() {  # label, --search mode
  for i in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$BIN" --quiet recognize "$FACES/groups/two_people.jpg" \
      --session "bench-$1-$i" --search "$2" --json > "$WORK/out.json"
    /usr/bin/python3 - "$1" "$WORK/out.json" "$WORK/time" <<'PY'
import json, sys
label, out, t = sys.argv[1:]
r = json.load(open(out))
wall, rss_kb = open(t).read().split()
g, tm = r["gallery"], r["timings"]
names = sorted(f["personName"] for f in r["recognised"])
faces = len(r["recognised"]) + len(r["unknown"])
print(f"{label:6} search={g['search']:5} embeddings={g['embeddings']} wall={float(wall):.2f}s peakRSS={int(rss_kb)/1024:.0f}MB "
      f"faces={tm['facesMs']:.0f}ms gallery={tm['galleryMs']:.0f}ms search={tm['searchMs']:.2f}ms "
      f"({tm['searchMs']/max(faces,1):.2f} ms/face) recognised={names}")
PY
  done
}
recognize_runs exact exact
/usr/bin/time -f '%e %M' -o "$WORK/time" "$BIN" --quiet gallery index --json > "$WORK/index.json"
/usr/bin/python3 - "$WORK/index.json" "$WORK/time" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
wall, rss_kb = open(sys.argv[2]).read().split()
print(f"gallery index: {j['embeddings']} embeddings, {j['bytes'] / 1e6:.0f} MB file, {float(wall):.1f} s, "
      f"peakRSS={int(rss_kb) / 1024:.0f}MB")
PY
recognize_runs hnsw index
recognize_runs auto auto
