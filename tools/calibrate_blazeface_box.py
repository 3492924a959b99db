#!/usr/bin/env python3
"""Reproduces the two box calibrations of the face pipeline, from crowd photos only (never from the
evaluation photos in ../shared/data/faces):

1. kBoxToSsd (src/vision/blazeface_net.h): BlazeFace draws squarer, lower boxes than face-api's SSD. Both
   detectors run one whole-image pass over ShanghaiTech A/B and street_india train photos; faces >= 48 px
   found by both (IoU > 0.3) give the median width and height ratios and centre shifts SSD / BlazeFace.
2. box_from_landmarks (src/vision/landmark_detector.cpp): the SSD box as a function of the 68 points'
   bounding box, over SSD faces >= 40 px (score > 0.6, plausible landmarks) in ShanghaiTech A and
   street_india: median centre shifts and scales.

  /usr/bin/python3 tools/calibrate_blazeface_box.py [--models-dir models] [--data-dir ../shared/data]

Needs python3-opencv and prepared models (tools/prepare_models.sh). About 2 minutes on 2 cores.
"""
import argparse, glob, os, sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_models as cm  # noqa: E402  (the SSD, landmark net and NMS reference)

BF_SIDE = 256
BF_OUTPUTS = ["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"]


def blazeface_anchors():
    return np.array([((x + .5) / cells, (y + .5) / cells)
                     for cells, n in ((16, 2), (8, 6)) for y in range(cells) for x in range(cells) for _ in range(n)],
                    np.float32)


def blazeface_boxes(net, anchors, bgr, min_score=0.5):
    """Raw BlazeFace boxes [(x0, y0, x1, y1, score)] in pixels, NMS'd like the SSD's (vision/blazeface_net.cpp
    without the mapping)."""
    side = max(bgr.shape[:2])
    sq = np.zeros((side, side, 3), np.uint8)
    sq[:bgr.shape[0], :bgr.shape[1]] = bgr
    x = cv2.resize(sq, (BF_SIDE, BF_SIDE))[:, :, ::-1].astype(np.float32) / 127.5 - 1
    net.setInput(x[None])
    s1, s2, b1, b2 = net.forward(BF_OUTPUTS)
    scores = 1 / (1 + np.exp(-np.clip(np.concatenate([s1.ravel(), s2.ravel()]).astype(np.float64), -100, 100)))
    v = np.concatenate([b1[0], b2[0]])
    cx, cy = anchors[:, 0] + v[:, 0] / BF_SIDE, anchors[:, 1] + v[:, 1] / BF_SIDE
    w, h = v[:, 2] / BF_SIDE, v[:, 3] / BF_SIDE
    yx = np.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], 1)
    keep = cm.nms(yx, scores, min_score, 0.5, 100)
    return [(yx[i, 1] * side, yx[i, 0] * side, yx[i, 3] * side, yx[i, 2] * side, float(scores[i])) for i in keep]


def centre_size(b):
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", default="models")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data-dir", default=os.path.normpath(os.path.join(here, "..", "..", "shared", "data")))
    args = ap.parse_args()
    cv2.setNumThreads(2)
    M = cm.Models(args.models_dir)
    bf = cv2.dnn.readNetFromONNX(os.path.join(args.models_dir, "blazeface_back_256.onnx"))
    anchors = blazeface_anchors()
    crowd = os.path.join(args.data_dir, "crowd")
    part_a = sorted(glob.glob(os.path.join(crowd, "shanghaitech/part_A/train/images/*.jpg")))
    part_b = sorted(glob.glob(os.path.join(crowd, "shanghaitech/part_B/train/images/*.jpg")))[::2]
    india = sorted(glob.glob(os.path.join(crowd, "street_india/train/images/*.jpg")))
    if not part_a:
        sys.exit(f"calibrate_blazeface_box: no crowd photos under {crowd}")

    ratios, landmark_fit = [], []
    for n, path in enumerate(part_a + part_b + india):
        img = cv2.imread(path)
        ssd = [d for d in M.detect_square(img)]
        for b in blazeface_boxes(bf, anchors, img):
            if b[2] - b[0] < 48:
                continue
            best = max(ssd, key=lambda s: cm.iou(np.array(s[:4]), np.array(b[:4])), default=None)
            if best is not None and cm.iou(np.array(best[:4]), np.array(b[:4])) > 0.3:
                (bx, by, bw, bh), (sx, sy, sw, sh) = centre_size(b), centre_size(best)
                ratios.append((sw / bw, sh / bh, (sx - bx) / bw, (sy - by) / bh))
        if path in part_b:
            continue
        for d in M.detect_square(img, 0.6):
            if d[2] - d[0] < 40:
                continue
            pts = M.landmarks(img, d[:4])
            if not cm.eyes_plausible(pts, d[:4]):
                continue
            (lx0, ly0), (lx1, ly1) = pts.min(0), pts.max(0)
            (lx, ly, lw, lh), (sx, sy, sw, sh) = centre_size((lx0, ly0, lx1, ly1)), centre_size(d)
            landmark_fit.append(((sx - lx) / lw, (sy - ly) / lh, sw / lw, sh / lh))
        if n % 50 == 0:
            print(f"  {n + 1} photos", file=sys.stderr)
    r, f = np.median(np.array(ratios), 0), np.median(np.array(landmark_fit), 0)
    print(f"kBoxToSsd from {len(ratios)} faces: width_scale {r[0]:.3f}, height_scale {r[1]:.3f}, "
          f"centre_dx {r[2]:.3f}, centre_dy {r[3]:.3f}")
    print(f"box_from_landmarks from {len(landmark_fit)} faces: centre_dx {f[0]:.3f}, centre_dy {f[1]:.3f}, "
          f"width_scale {f[2]:.3f}, height_scale {f[3]:.3f}")


if __name__ == "__main__":
    main()
