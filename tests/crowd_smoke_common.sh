# Sourced by the crowd training smoke tests (crowd_training_smoke.sh, crowd_full_training_smoke.sh) after
# setting SRC (the source folder) and DATA (../shared/data/crowd): skips (exit 77) without the data or the
# prepared models, makes the scratch folder $WORK (removed on exit), and gives check_density_model.
PY=/usr/bin/python3
[[ -d $DATA/shanghaitech ]] || { echo "skipped: $DATA not present"; exit 77; }
[[ -f $SRC/models/ssd_mobilenetv1.onnx ]] || { echo "skipped: models not prepared (tools/prepare_models.sh)"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# check_density_model MODEL.onnx: OpenCV DNN runs it on two input sizes, each giving a finite, non-negative
# density grid of 1/8 the input's size.
check_density_model() {
  "$PY" - "$1" <<'PY'
import sys, cv2, numpy as np
net = cv2.dnn.readNetFromONNX(sys.argv[1])
for h, w in ((768, 1024), (320, 480)):
    net.setInput(np.random.default_rng(1).uniform(-1, 1, (1, 3, h, w)).astype(np.float32))
    out = net.forward()
    assert out.shape == (1, 1, h // 8, w // 8), out.shape
    assert np.isfinite(out).all() and out.min() >= 0, (out.min(), out.max())
PY
}
