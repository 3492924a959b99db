#!/usr/bin/python3
"""What the soft-enrolled-faces rule costs a person enrolled only from a soft photo (issue 12): the share of their
searches that come back unknown (enrolled-face-too-blurred) because the enrolled face is soft, which enroll's
warning states ("about 1 in N when this is their only photo"; app/faces/soft_enrolled_face.cpp).

Measured on the `calibration` people of tools/face_split.json only: Debian libdlib19.1's examples/johns/ (5 people x
11 photos, the only calibration identities with >= 2 photos). No test asserts a match decision on them; the tests'
photos (../shared/data/faces) are not used.

Soft photos, each johns photo first given room around it (half its side, its edge pixels replicated: the face
fills the 150x150 photo, so the chip would reach past the edge, and that edge, not the softness, would set the
chip's sharpness), then
  --kind small (the case the rule was made for: a person enrolled from one crowd face): scaled down with
      cv::INTER_AREA so its eyes are --eyes px apart (measured at full size), JPEG quality 75;
  --kind blur: blurred with a Gaussian of each --sigmas value (lossless PNG).
A copy counts when its chip sharpness (from `eval faces --pairs ... --faces-out`, the value enroll stores) lies in
[20, 40) and its eyes are >= 16 px apart: what enroll accepts and the default steps call soft (the 0.32 step).

Searches: in each round every person is enrolled from one soft copy (a person with no copy left that round: from
their first photo, sharp, and not counted); the probes are all 55 original photos. A person's searches are their 10
photos other than the copy's source. `facecrowd eval faces --gallery G --probe P` decides as recognition does
(threshold 0.36 AND margin 0.07, the soft steps), once with --soft-enrolled-faces on (the default) and once off
(judged by the probe alone). Lost = recognised with off, not with on.

  nice tools/measure_soft_enrolled_cost.py --kind small   # about 6 min of one core (1,640 searches)
  nice tools/measure_soft_enrolled_cost.py --kind blur    # about 5 min (840 searches)
  [--facecrowd build/facecrowd] [--eyes 16,18,...] [--sigmas 0.8,1.0,...] [--keep DIR] [--json]

One facecrowd process at a time, about 4 s per round and policy; the rounds are as many as the most soft copies
of one person. Two runs of --kind blur gave the same figures. Needs Debian's python3-opencv.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure_small_genuine_faces import JOHNS, faces_out, run  # noqa: E402

SOFT_FROM, SHARP_FROM = 20.0, 40.0  # enroll's --min-sharpness; the default steps' last limit


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--facecrowd", default="build/facecrowd")
    ap.add_argument("--models", default="models")
    ap.add_argument("--kind", choices=("blur", "small"), default="blur",
                    help="blur: each photo blurred by --sigmas; small: scaled down (INTER_AREA) so its eyes are "
                         "--eyes px apart, JPEG quality 75, as a face enrolled from a crowd photo")
    ap.add_argument("--sigmas", default="0.8,1.0,1.2,1.4,1.7,2.0,2.5", help="Gaussian blurs of the soft copies")
    ap.add_argument("--eyes", default="16,18,20,22,24,28,32", help="eye distances (px) of the small copies")
    ap.add_argument("--keep", help="write the photos here instead of a temporary folder (kept)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    if not os.path.isdir(JOHNS):
        sys.exit(f"measure_soft_enrolled_cost: {JOHNS} absent: install Debian's libdlib19.1 (scripts/install-deps.sh)")
    sigmas = [float(s) for s in (args.sigmas if args.kind == "blur" else args.eyes).split(",")]  # per copy
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACECROWD_MATCH")}
    tmp = os.path.abspath(args.keep or tempfile.mkdtemp(prefix="soft_enrolled_"))
    os.makedirs(tmp, exist_ok=True)
    try:
        people = sorted(os.listdir(JOHNS))
        photos = {p: sorted(os.listdir(os.path.join(JOHNS, p))) for p in people}
        for p in people:
            os.makedirs(os.path.join(tmp, "probes", p), exist_ok=True)
            os.makedirs(os.path.join(tmp, "copies", p), exist_ok=True)
            for n in photos[p]:
                shutil.copy(os.path.join(JOHNS, p, n), os.path.join(tmp, "probes", p, n))
        full = faces_out(args.facecrowd, args.models, tmp, ["probes"], env) if args.kind == "small" else {}
        for p in people:
            for i, n in enumerate(photos[p]):
                # The face fills the 150x150 photo: the chip would reach past its edge, and that edge, not the
                # blur, would set the chip's sharpness. Room around it, of its own edge pixels.
                img = cv2.imread(os.path.join(JOHNS, p, n))
                m = img.shape[0] // 2
                img = cv2.copyMakeBorder(img, m, m, m, m, cv2.BORDER_REPLICATE)
                for s in sigmas:
                    out = os.path.join(tmp, "copies", p, f"{i:02d}_s{s}.png")
                    if args.kind == "blur":
                        cv2.imwrite(out, cv2.GaussianBlur(img, (0, 0), s))
                        continue
                    eyes = full[os.path.realpath(os.path.join(tmp, "probes", p, n))][0]
                    if eyes is None:
                        continue  # no face at full size: nothing to scale to an eye distance
                    f = s / eyes
                    small = cv2.resize(img, (round(img.shape[1] * f), round(img.shape[0] * f)), interpolation=cv2.INTER_AREA)
                    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 75])
                    cv2.imwrite(out, cv2.imdecode(buf, cv2.IMREAD_COLOR))  # the JPEG's pixels, kept losslessly
        quality = faces_out(args.facecrowd, args.models, tmp, ["copies"], env)
        soft = {p: [] for p in people}  # person -> [(source photo index, sigma, sharpness, copy path)]
        sharpness_seen = []
        for p in people:
            for i in range(len(photos[p])):
                for s in sigmas:
                    path = os.path.join(tmp, "copies", p, f"{i:02d}_s{s}.png")
                    if not os.path.exists(path):
                        continue
                    eyes, sharp = quality[os.path.realpath(path)]
                    if sharp is not None:
                        sharpness_seen.append((s, sharp))
                    if sharp is not None and eyes is not None and eyes >= 16 and SOFT_FROM <= sharp < SHARP_FROM:
                        soft[p].append((i, s, sharp, path))
        rounds = max(len(v) for v in soft.values())
        searches = []  # one per counted search: {person, sharpness, sigma, on, off, distance, wrong_on, wrong_off}
        for k in range(rounds):
            gallery = os.path.join(tmp, f"gallery_{k}")
            counted = {}
            for p in people:
                os.makedirs(os.path.join(gallery, p), exist_ok=True)
                if k < len(soft[p]):
                    i, s, sharp, path = soft[p][k]
                    shutil.copy(path, os.path.join(gallery, p, "enrolled.png"))
                    counted[p] = (i, s, sharp)
                else:
                    shutil.copy(os.path.join(JOHNS, p, photos[p][0]), os.path.join(gallery, p, "enrolled.jpg"))
            rows = {}
            for policy in ("on", "off"):
                csv_path = os.path.join(tmp, f"round_{k}_{policy}.csv")
                run([args.facecrowd, "--quiet", "--models", args.models, "eval", "faces", "--gallery", gallery,
                     "--probe", os.path.join(tmp, "probes"), "--csv", csv_path, "--soft-enrolled-faces", policy], env)
                rows[policy] = {r["image"]: r for r in csv.DictReader(open(csv_path)) if r["kind"] == "probe"}
            for image, on in rows["on"].items():
                p = on["identity"]
                if p not in counted or os.path.basename(image) == photos[p][counted[p][0]] or on["face_found"] != "1":
                    continue
                off = rows["off"][image]
                searches.append({"person": p, "source": photos[p][counted[p][0]], "sigma": counted[p][1],
                                 "sharpness": counted[p][2], "on": on["correct"] == "1", "off": off["correct"] == "1",
                                 "wrong_on": on["accepted"] == "1" and on["predicted"] != p,
                                 "wrong_off": off["accepted"] == "1" and off["predicted"] != p,
                                 "distance": float(on["distance"]) if on["predicted"] == p else None})
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    def summary(rows):
        lost = [r for r in rows if r["off"] and not r["on"]]
        return {"copies": len({(r["person"], r["source"], r["sigma"]) for r in rows}), "searches": len(rows),
                "recognised_off": sum(r["off"] for r in rows), "recognised_on": sum(r["on"] for r in rows),
                "lost": len(lost), "lost_share": len(lost) / len(rows) if rows else None,
                "lost_distances": sorted(round(r["distance"], 3) for r in lost if r["distance"] is not None),
                "wrong_person_on": sum(r["wrong_on"] for r in rows), "wrong_person_off": sum(r["wrong_off"] for r in rows),
                "own_distance_median": statistics.median([r["distance"] for r in rows if r["distance"] is not None] or [0])}

    bands = {"all (20-40)": searches, "20-30": [r for r in searches if r["sharpness"] < 30],
             "30-40": [r for r in searches if r["sharpness"] >= 30]}
    bands.update({p: [r for r in searches if r["person"] == p] for p in sorted({r["person"] for r in searches})})
    result = {name: summary(rows) for name, rows in bands.items()}
    result["kind"] = args.kind
    result["sharpness_by_sigma"] = {str(s): [round(min(v), 1), round(statistics.median(v), 1), round(max(v), 1)]
                                    for s in sigmas for v in [[x for t, x in sharpness_seen if t == s]] if v}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"soft copies ({'sigma' if args.kind == 'blur' else 'eyes px'}: chip sharpness min / median / max):",
          ", ".join(f"{s}: {v[0]}/{v[1]}/{v[2]}" for s, v in result["sharpness_by_sigma"].items()))
    print("| enrolled photo's sharpness | soft copies | searches | recognised, by the probe alone (off) | recognised, "
          "softer side (on) | lost | lost share | lost at distance | wrong person (on / off) | median own distance |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in bands:
        r = result[name]
        share = f"{100 * r['lost_share']:.1f}%" if r["lost_share"] is not None else "-"
        dist = f"{r['lost_distances'][0]}-{r['lost_distances'][-1]}" if r["lost_distances"] else "-"
        print(f"| {name} | {r['copies']} | {r['searches']} | {r['recognised_off']} | {r['recognised_on']} | {r['lost']} "
              f"| {share} | {dist} | {r['wrong_person_on']} / {r['wrong_person_off']} | {r['own_distance_median']:.3f} |")


if __name__ == "__main__":
    main()
