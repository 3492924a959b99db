#!/usr/bin/env bash
# CTest `crowd_full_training_smoke`: the experimental end-to-end trainer (tools/crowd/train_full.py) runs on a
# few images on the CPU (pack, train, validate, export); two runs with the same seed write byte-identical
# packs and models; the pack holds no validation image; OpenCV DNN runs the exported model with a density
# grid of the right shape; a run continues from an earlier run's weights (--init-weights). Exit 77 (skipped) without ../shared/data/crowd or models.
#   tests/crowd_full_training_smoke.sh SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
SRC=$1
DATA=$2/crowd
source "$SRC/tests/crowd_smoke_common.sh"
for run in 1 2; do
  "$PY" "$SRC/tools/crowd/train_full.py" --data "$DATA" --ssd "$SRC/models/ssd_mobilenetv1.onnx" \
    --pack "$WORK/run$run/pack" --out "$WORK/run$run/crowd_full.onnx" --device cpu \
    --steps 2 --batch 2 --crop 128 --limit 2 --empty-fraction 0 --threads 1 --log-every 1 2>&1 | grep -v -i -E "warn|upsample|opset 11" || true
  [[ -s $WORK/run$run/crowd_full.onnx ]] || { echo "FAIL: run $run wrote no model"; exit 1; }
done
pa=$(cd "$WORK/run1/pack" && find . -type f | sort | xargs sha256sum | sha256sum)
pb=$(cd "$WORK/run2/pack" && find . -type f | sort | xargs sha256sum | sha256sum)
[[ $pa == "$pb" ]] || { echo "FAIL: two packs of the same data differ"; exit 1; }
a=$(sha256sum < "$WORK/run1/crowd_full.onnx"); b=$(sha256sum < "$WORK/run2/crowd_full.onnx")
[[ $a == "$b" ]] || { echo "FAIL: two runs with the same seed differ ($a vs $b)"; exit 1; }
"$PY" - "$WORK/run1/pack/index.json" "$WORK/run1/crowd_full.split.json" <<'PY'
import json, sys
packed = {f"{e['set']}/{e['name']}" for e in json.load(open(sys.argv[1]))}
split = json.load(open(sys.argv[2]))
held = set(split["validation"])
assert packed and held and not packed & held, packed & held
assert split["validation_result"], split
PY
# Training longer across sessions: a run continues from an earlier run's weights and says so in its split.
"$PY" "$SRC/tools/crowd/train_full.py" --pack "$WORK/run1/pack" --out "$WORK/resumed/crowd_full.onnx" --device cpu \
  --init-weights "$WORK/run1/crowd_full.weights.npz" --steps 2 --batch 2 --crop 128 --limit 2 --empty-fraction 0 \
  --threads 1 --log-every 1 2>&1 | grep -v -i -E "warn|upsample|opset 11" || true
"$PY" - "$WORK/resumed/crowd_full.split.json" "$WORK/run1/crowd_full.onnx" "$WORK/resumed/crowd_full.onnx" <<'PY'
import json, sys
training = json.load(open(sys.argv[1]))["training"]
assert training["init_step"] == 2 and training["init_weights"].endswith("crowd_full.weights.npz"), training
assert open(sys.argv[2], "rb").read() != open(sys.argv[3], "rb").read(), "one more step changed nothing"
PY
check_density_model "$WORK/run1/crowd_full.onnx"
echo "crowd_full_training_smoke: OK"
