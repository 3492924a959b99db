#!/bin/bash
# Runs on the device machine (the `device` tool) from the repository root, with .devdata carried:
#   .devdata/code/{train_full.py,full_net.py}  .devdata/pack/ (train_full.py --pack-only)  .devdata/THIS_SCRIPT
# Weights and logs go to $OUT; export them here with `train_full.py --pack build/crowd_pack --export-weights`.
# Second device run: the chosen configuration alone on the GPU, from scratch, for BUDGET seconds.
D=$PWD/.devdata
[[ -d $D ]] || D=$(find / -maxdepth 5 -type d -name .devdata 2>/dev/null | head -1)
cd "$D" || exit 3
BUDGET=${BUDGET:-240}
python3 -u code/train_full.py --pack pack --device cuda --no-onnx --batch 32 --crop 384 --log-every 500 \
  --checkpoint-every 60 --out $OUT/solo.onnx --time-budget $BUDGET $ARGS > $OUT/solo.log 2>&1
grep -v -i warn $OUT/solo.log | tail -15
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
ls -la $OUT
