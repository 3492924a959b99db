#!/usr/bin/env python3
"""Strangers with small faces for a face-split set, cut from annotated crowd photos (issue 12: the calibration
set had almost no small-face impostors, so no threshold chosen on it held on the held-out street_india faces).

For each photo (every --step-th of DIR/images by number, so neighbouring shots of one scene are not both
taken), faces are found with the SSD + tiles Python reference (tools/check_models.py) at score >= --min-score;
a face is kept when its box holds exactly one of the photo's hand-annotated head points (DIR/points/NAME.json)
and is at least --min-px wide. Each kept face is its own identity: different photos, different people, as for
the PASCAL boxes and the street_india strangers. `facecrowd eval faces --pairs` later finds each one with the
production pipeline in a crop around its box. Prints the split entries (JSON list) for tools/face_split.json.

  tools/mine_crowd_strangers.py --dir ../shared/data/crowd/shanghaitech/part_B/train --root-path \\
      shanghaitech/part_B/train --prefix sb --step 10 --models-dir models > strangers.json
  tools/mine_crowd_strangers.py --dir ../shared/data/crowd/shanghaitech/part_A/train --root-path \
      shanghaitech/part_A/train --prefix sa --step 1 --keep-photos 30 --models-dir models > part_a.json
"""
import argparse
import json
import os
import re
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_models import Models  # noqa: E402


def number(name):
    m = re.search(r"(\d+)", name)
    return int(m.group(1)) if m else 0


def keep_photos(entries, n, large_px):
    """The entries of the n photos with the most faces at least large_px wide (ties: the lower photo number)."""
    large = {}
    for e in entries:
        large[e["image"]] = large.get(e["image"], 0) + int(e["box"][2] >= large_px)
    keep = set(sorted(large, key=lambda image: (-large[image], number(os.path.basename(image))))[:n])
    return [e for e in entries if e["image"] in keep]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="crowd folder with images/ and points/")
    ap.add_argument("--root-path", required=True, help="the folder as the split's 'crowd' root names it")
    ap.add_argument("--prefix", required=True, help="identity prefix (e.g. sb for ShanghaiTech part_B)")
    ap.add_argument("--step", type=int, default=10)
    ap.add_argument("--offset", type=int, default=0,
                    help="start at this index of the numbered list (another set from the same folder: 5 takes the "
                         "photos half-way between those of offset 0)")
    ap.add_argument("--min-px", type=float, default=16)
    ap.add_argument("--min-score", type=float, default=0.5)
    ap.add_argument("--keep-photos", type=int, default=0, help="keep the N photos with the most wide faces (0: all)")
    ap.add_argument("--large-px", type=float, default=40, help="a wide face for --keep-photos (box width, px)")
    ap.add_argument("--models-dir", default="models")
    args = ap.parse_args(argv)
    M = Models(args.models_dir)
    cv2.setNumThreads(2)
    names = sorted(os.listdir(os.path.join(args.dir, "images")), key=number)[args.offset::args.step]
    entries = []
    for name in names:
        img = cv2.imread(os.path.join(args.dir, "images", name), cv2.IMREAD_COLOR)
        stem = os.path.splitext(name)[0]
        with open(os.path.join(args.dir, "points", stem + ".json")) as f:
            pts = np.array(json.load(f)["points"], np.float64).reshape(-1, 2)
        kept = 0
        for (x0, y0, x1, y1, s) in sorted(M.detect(img, tiles=True, min_score=args.min_score), key=lambda d: (d[1], d[0])):
            inside = ((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)).sum()
            if inside != 1 or x1 - x0 < args.min_px:
                continue
            entries.append({"identity": f"{args.prefix}_{stem}_{kept}",
                            "image": f"crowd:{args.root_path}/images/{name}",
                            "box": [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))]})
            kept += 1
        print(f"{name}: {kept} faces", file=sys.stderr, flush=True)
    if args.keep_photos:
        entries = keep_photos(entries, args.keep_photos, args.large_px)
    json.dump(entries, sys.stdout, indent=0)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
