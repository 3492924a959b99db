#!/usr/bin/env python3
"""Chooses the crowd counter's cell floor on TRAINING images only and prints it.

  /usr/bin/python3 tools/crowd/calibrate_floor.py --data ../shared/data/crowd --model models/crowd_density.onnx

Why: the density loss (per-cell MSE) does not notice a tiny positive density everywhere, and the trained
model leaves about 4e-4 heads per 8x8 cell on a blank frame: 5 'people' on a black 1024x768 image, 50 on a
4K one. The counter therefore zeroes cells below a floor. A real head puts 0.01-0.05 on its central cells,
but its Gaussian tail is lost too. The floor is the largest candidate whose MAE over all training images
is within 1% of the best candidate's: robustness on empty scenes for a negligible accuracy cost. Only
training images are used, never the validation images of crowd_head.split.json.
"""
import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crowd_net  # noqa: E402
import crowd_data  # noqa: E402

CANDIDATES = [0.0, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args()
    cv2.setNumThreads(2)
    net = cv2.dnn.readNetFromONNX(str(args.model))
    train, _ = crowd_data.split_sets(args.data, args.seed, "calibrate_floor")
    errors = {c: {} for c in CANDIDATES}
    for i, item in enumerate(train):
        img = cv2.imread(str(item["image"]))
        h, w = img.shape[:2]
        net.setInput(crowd_net.preprocess(img).numpy())  # the counter's input: RGB in [-1, 1], grey padding
        cells = net.forward()[0, 0][:-(-h // 8), :-(-w // 8)]
        truth = len(json.loads(Path(item["points"]).read_text())["points"])
        for c in CANDIDATES:
            errors[c].setdefault(item["set"], []).append(abs(float(cells[cells >= c].sum()) - truth))
        if (i + 1) % 100 == 0:
            print(f"{i + 1}/{len(train)}", file=sys.stderr)
    overall = {c: float(np.mean([e for v in errors[c].values() for e in v])) for c in CANDIDATES}
    for c in CANDIDATES:
        per_set = {s: float(np.mean(v)) for s, v in errors[c].items()}
        print(f"floor {c:<7} training MAE {overall[c]:7.2f}  " + "  ".join(f"{s} {m:.2f}" for s, m in per_set.items()))
    best = min(overall.values())
    chosen = max(c for c in CANDIDATES if overall[c] <= 1.01 * best)
    print(f"chosen floor: {chosen} (the largest within 1% of the best training MAE, {best:.2f})")


if __name__ == "__main__":
    main()
