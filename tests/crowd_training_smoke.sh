#!/usr/bin/env bash
# CTest `crowd_training_smoke`: the crowd training tool (tools/crowd/train_density.py) runs end to end on a
# few images; two runs with the same seed write byte-identical heads (the reproducibility the committed
# model relies on); the head composes with the SSD stem (compose_crowd_model.py) into a model OpenCV DNN
# runs with a density grid of the right shape. Exit 77 (skipped) without ../shared/data/crowd or models.
#   tests/crowd_training_smoke.sh SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
SRC=$1
DATA=$2/crowd
source "$SRC/tests/crowd_smoke_common.sh"
for run in 1 2; do
  "$PY" "$SRC/tools/crowd/train_density.py" --data "$DATA" --ssd "$SRC/models/ssd_mobilenetv1.onnx" \
    --out "$WORK/run$run/crowd_head.onnx" --epochs 1 --limit 6 --threads 1 2>&1 | grep -v -i warn || true
  [[ -s $WORK/run$run/crowd_head.onnx ]] || { echo "FAIL: run $run wrote no head"; exit 1; }
done
a=$(sha256sum < "$WORK/run1/crowd_head.onnx"); b=$(sha256sum < "$WORK/run2/crowd_head.onnx")
[[ $a == "$b" ]] || { echo "FAIL: two runs with the same seed differ ($a vs $b)"; exit 1; }
grep -q '"validation"' "$WORK/run1/crowd_head.split.json" || { echo "FAIL: no split file"; exit 1; }
sha=$(cut -d' ' -f1 <<<"$a")
"$PY" "$SRC/tools/crowd/compose_crowd_model.py" --ssd "$SRC/models/ssd_mobilenetv1.onnx" \
  --head "$WORK/run1/crowd_head.onnx" --head-sha256 "$sha" --out "$WORK/crowd_density.onnx"
# A wrong sha256 is refused.
if "$PY" "$SRC/tools/crowd/compose_crowd_model.py" --ssd "$SRC/models/ssd_mobilenetv1.onnx" \
     --head "$WORK/run1/crowd_head.onnx" --head-sha256 0000 --out "$WORK/bad.onnx" 2>"$WORK/err"; then
  echo "FAIL: a wrong head sha256 was accepted"; exit 1
fi
grep -q "expected 0000" "$WORK/err" || { echo "FAIL: unclear sha256 error: $(cat "$WORK/err")"; exit 1; }
[[ ! -e $WORK/bad.onnx ]] || { echo "FAIL: a refused head still wrote a model"; exit 1; }
check_density_model "$WORK/crowd_density.onnx"
echo "crowd_training_smoke: OK"
