#!/bin/bash
# Runs on the device machine (the `device` tool) from the repository root, with .devdata carried:
#   .devdata/code/{train_full.py,full_net.py}  .devdata/pack/ (train_full.py --pack-only)  .devdata/THIS_SCRIPT
# Weights and logs go to $OUT; export them here with `train_full.py --pack build/crowd_pack --export-weights`.
# One device run: a GPU smoke (3 steps), then four training variants in parallel on the one H200, each with
# the same time budget; weights + logs to $OUT. Run from the repository root with .devdata carried.
D=$PWD/.devdata
[[ -d $D ]] || D=$(find / -maxdepth 5 -type d -name .devdata 2>/dev/null | head -1)
echo "devdata: $D"; cd "$D" || exit 3
BUDGET=${BUDGET:-330}
nvidia-smi -L; python3 -c "import torch,cv2,numpy;print(torch.__version__, cv2.__version__, numpy.__version__, torch.cuda.is_available())"
du -sh pack
T="python3 -u code/train_full.py --pack pack --device cuda --no-onnx --batch 32 --crop 384 --log-every 200 --checkpoint-every 60"
$T --out /tmp/smoke/s.onnx --steps 3 --log-every 1 --limit 20 2>&1 | tail -8
[[ -s /tmp/smoke/s.weights.npz ]] || { echo "SMOKE FAILED"; exit 1; }
$T --out $OUT/mse.onnx --time-budget $BUDGET --count-weight 0 > $OUT/mse.log 2>&1 &
$T --out $OUT/count.onnx --time-budget $BUDGET --count-weight 1 > $OUT/count.log 2>&1 &
$T --out $OUT/count_bb3.onnx --time-budget $BUDGET --count-weight 1 --backbone-lr-ratio 0.3 > $OUT/count_bb3.log 2>&1 &
$T --out $OUT/count_noscale.onnx --time-budget $BUDGET --count-weight 1 --scale-range 1 1 > $OUT/count_noscale.log 2>&1 &
sleep 90; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
wait
for f in $OUT/*.log; do echo "== $f"; grep -v -i warn "$f" | tail -5; done
ls -la $OUT
