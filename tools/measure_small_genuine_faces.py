#!/usr/bin/python3
"""What dlib's soft-face steps (chip sharpness < 20 -> 0.29, < 40 -> 0.32, else 0.36) cost on SMALL GENUINE faces
(issue 12), measured on synthetic small faces made from the `calibration` people of tools/face_split.json only.

No calibration or held-out genuine face is soft (the softest has sharpness 57), so the steps' false-reject price
cannot be read from the real sets. This imitates small faces: each photo is scaled down with cv::INTER_AREA so its
eyes are N px apart, then JPEG re-encoded at quality 75 (as a crowd photo would be). A downscaled portrait is an
imitation, not a real small face in a crowd (no motion blur, no crowd-camera optics, no detection problem of a
face among many).

People: Debian libdlib19.1's examples/johns/ (5 people x 11 photos: the only calibration identities with >= 2
photos; the PASCAL faces of `calibration` are one photo each). No test asserts a match decision on them (the
detector test only counts faces in them); the tests' photos (../shared/data/faces) are not used.

For each person the first photo (by name) is the gallery, at full size; the person's other 10 photos are the
probes, scaled to each eye distance. `facecrowd eval faces --gallery G --probe P` then decides as recognition
does (threshold AND margin 0.07), once with the default soft steps and once with `--soft-faces off` (one threshold
0.36):
  genuine accepted   = a probe recognised as its own person;
  wrong person       = a probe accepted as another enrolled person;
  impostor accepted  = the same probe searched with its own person left out of the gallery (eval faces'
                       leave-one-identity-out), accepted as anyone: a stranger's small face accepted;
  strangers accepted = the 43 hand-boxed PASCAL faces of `calibration` (faces/training.xml + testing.xml), cut out
                       and given as --unknown, scaled only down (at sizes below their own eye distance; the
                       `full` row: at their own size), accepted as anyone.
Chip sharpness (variance of the Laplacian of the 150x150 chip) and the measured eye distance of each probe come
from `eval faces --pairs ... --faces-out` on the same scaled photos.

  nice tools/measure_small_genuine_faces.py [--facecrowd build/facecrowd] [--sizes 12,16,20,24,32,48] [--keep DIR]

One facecrowd process at a time; about 50 s of one core. Needs Debian's python3-opencv and python3-numpy.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

import xml.etree.ElementTree as ET

import cv2

JOHNS = "/usr/share/doc/libdlib19.1/examples/johns"
PASCAL = "/usr/share/doc/libdlib19.1/examples/faces"
JPEG_QUALITY = 75


def scaled_jpeg(img, s, path):
    """img scaled by s with cv::INTER_AREA, JPEG re-encoded at JPEG_QUALITY into path"""
    small = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                       interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    assert ok
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(buf.tobytes())


def pascal_crops(tmp):
    """every hand-boxed PASCAL face of calibration (faces/training.xml + testing.xml), cut out with a box side of
    room around it, losslessly into tmp/unknown_full/<name>/face.png: each its own stranger"""
    for xml in ("training.xml", "testing.xml"):
        for image in ET.parse(os.path.join(PASCAL, xml)).getroot().iter("image"):
            img = cv2.imread(os.path.join(PASCAL, image.get("file")))
            for n, box in enumerate(b for b in image.iter("box") if b.get("ignore") != "1"):
                x, y, w, h = (int(box.get(k)) for k in ("left", "top", "width", "height"))
                x0, y0 = max(0, x - w // 2), max(0, y - h // 2)
                x1, y1 = min(img.shape[1], x + w + w // 2), min(img.shape[0], y + h + h // 2)
                d = os.path.join(tmp, "unknown_full", f"pascal_{os.path.splitext(image.get('file'))[0]}_{n}")
                os.makedirs(d, exist_ok=True)
                cv2.imwrite(os.path.join(d, "face.png"), img[y0:y1, x0:x1])


def run(cmd, env):
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"measure_small_genuine_faces: {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def faces_out(facecrowd, models, tmp, dirs, env):
    """embedding-free summary of every photo under dirs: {image path: (eyes px or None, sharpness or None)}"""
    split = {"roots": {"tmp": tmp}, "sets": {"s": {"sources": [{"identities": "tmp:" + d} for d in dirs]}}}
    split_path = os.path.join(tmp, "split.json")
    with open(split_path, "w") as f:
        json.dump(split, f)
    out = os.path.join(tmp, "faces.json")
    run([facecrowd, "--quiet", "--models", models, "eval", "faces", "--pairs", split_path, "--set", "s",
         "--faces-out", out], env)
    result = {}
    for face in json.load(open(out))["faces"]:
        found = face.get("embedding") is not None
        result[os.path.realpath(face["image"])] = (float(face["eyes"]) if found else None,
                                                   float(face["sharpness"]) if found else None)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--facecrowd", default="build/facecrowd")
    ap.add_argument("--models", default="models")
    ap.add_argument("--sizes", default="12,16,20,24,32,48", help="eye distances in px of the scaled probes")
    ap.add_argument("--keep", help="write the scaled photos here instead of a temporary folder (kept)")
    ap.add_argument("--json", action="store_true", help="print the table as JSON")
    args = ap.parse_args()
    if not os.path.isdir(JOHNS):
        sys.exit(f"measure_small_genuine_faces: {JOHNS} absent: install Debian's libdlib19.1 (scripts/install-deps.sh)")
    sizes = [int(s) for s in args.sizes.split(",")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACECROWD_MATCH")}
    tmp = os.path.abspath(args.keep or tempfile.mkdtemp(prefix="small_genuine_"))
    os.makedirs(tmp, exist_ok=True)
    try:
        people = sorted(os.listdir(JOHNS))
        photos = {p: sorted(os.listdir(os.path.join(JOHNS, p))) for p in people}
        for p in people:  # full-size originals: the gallery photo, and the probes unscaled (the "full" row)
            for sub, names in (("gallery", photos[p][:1]), ("probes_full", photos[p][1:])):
                os.makedirs(os.path.join(tmp, sub, p), exist_ok=True)
                for n in names:
                    shutil.copy(os.path.join(JOHNS, p, n), os.path.join(tmp, sub, p, n))
        pascal_crops(tmp)
        full = faces_out(args.facecrowd, args.models, tmp, ["probes_full"], env)
        strangers = faces_out(args.facecrowd, args.models, tmp, ["unknown_full"], env)
        for px in sizes:
            for p in people:
                os.makedirs(os.path.join(tmp, f"probes_{px}", p), exist_ok=True)
                for n in photos[p][1:]:
                    eyes, _ = full[os.path.realpath(os.path.join(tmp, "probes_full", p, n))]
                    if eyes is None:
                        continue  # no face at full size: nothing to scale to an eye distance
                    scaled_jpeg(cv2.imread(os.path.join(JOHNS, p, n)), px / eyes,
                                os.path.join(tmp, f"probes_{px}", p, os.path.splitext(n)[0] + ".jpg"))
            for face, (eyes, _) in strangers.items():  # only ever scaled down: a PASCAL face is small already
                if eyes is not None and px < eyes:
                    name = os.path.basename(os.path.dirname(face))
                    scaled_jpeg(cv2.imread(face), px / eyes, os.path.join(tmp, f"unknown_{px}", name, "face.jpg"))
        bands = ["full"] + [str(px) for px in sizes]
        quality = faces_out(args.facecrowd, args.models, tmp, [f"probes_{b}" for b in bands], env)
        rows = []
        steps = {"< 20": [0, 0, 0], "20-40": [0, 0, 0], ">= 40": [0, 0, 0]}  # found, soft accepted, 0.36 accepted
        for b in bands:
            probe_dir = os.path.join(tmp, f"probes_{b}")
            unknown_dir = os.path.join(tmp, f"unknown_{b}")
            row = {"band": b}
            if os.path.isdir(unknown_dir):
                flags_unknown = ["--unknown", unknown_dir]
            else:
                flags_unknown = []
            for policy, flags in (("soft", []), ("off", ["--soft-faces", "off"])):
                csv_path = os.path.join(tmp, f"{b}_{policy}.csv")
                run([args.facecrowd, "--quiet", "--models", args.models, "eval", "faces", "--gallery",
                     os.path.join(tmp, "gallery"), "--probe", probe_dir, "--csv", csv_path] + flags + flags_unknown, env)
                probes = list(csv.DictReader(open(csv_path)))
                genuine = [r for r in probes if r["kind"] == "probe"]
                loo = [r for r in probes if r["kind"] == "leave_one_out"  # the gallery photos are searched too
                       and os.path.dirname(os.path.dirname(r["image"])) == probe_dir]
                row[policy] = {
                    "probes": len(genuine),
                    "found": sum(r["face_found"] == "1" for r in genuine),
                    "genuine_accepted": sum(r["correct"] == "1" for r in genuine),
                    "wrong_person": sum(r["accepted"] == "1" and r["predicted"] != r["identity"] for r in genuine),
                    "impostor_searches": sum(r["face_found"] == "1" for r in loo),
                    "impostor_accepted": sum(r["accepted"] == "1" for r in loo),
                    "strangers": sum(r["face_found"] == "1" for r in probes if r["kind"] == "unknown"),
                    "strangers_accepted": sum(r["accepted"] == "1" for r in probes if r["kind"] == "unknown"),
                    "impostor_distance_min": min((float(r["distance"]) for r in loo + [u for u in probes if u["kind"]
                                                  == "unknown"] if r["face_found"] == "1"), default=None),
                    "accepted_images": sorted(r["image"] for r in genuine if r["correct"] == "1"),
                    "genuine_distances": sorted(float(r["distance"]) for r in genuine if r["face_found"] == "1"
                                                and r["predicted"] == r["identity"]),
                }
            accepted = {policy: set(row[policy]["accepted_images"]) for policy in ("soft", "off")}
            for r in csv.DictReader(open(os.path.join(tmp, f"{b}_soft.csv"))):
                if r["kind"] != "probe" or r["face_found"] != "1":
                    continue
                sharp = quality[os.path.realpath(r["image"])][1]
                step = steps["< 20" if sharp < 20 else "20-40" if sharp < 40 else ">= 40"]
                step[0] += 1
                step[1] += r["image"] in accepted["soft"]
                step[2] += r["image"] in accepted["off"]
            row["price"] = len(set(row["off"]["accepted_images"]) - set(row["soft"]["accepted_images"]))
            d = row["off"]["genuine_distances"]
            row["genuine_distance_median"] = statistics.median(d) if d else None
            q = [v for k, v in quality.items() if os.path.dirname(os.path.dirname(k)) == os.path.realpath(probe_dir)]
            eyes = [e for e, _ in q if e is not None]
            sharp = [s for _, s in q if s is not None]
            row["eyes_median"] = statistics.median(eyes) if eyes else None
            row["sharpness"] = (min(sharp), statistics.median(sharp), max(sharp)) if sharp else None
            row["sharpness_lt20"] = sum(s < 20 for s in sharp)
            row["sharpness_20_40"] = sum(20 <= s < 40 for s in sharp)
            rows.append(row)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps({"by_eye_distance": rows, "by_sharpness": steps}, indent=1))
        return
    print("| eyes (target / measured median) | chip sharpness min / median / max | probes < 20 / 20-40 | faces found |"
          " genuine accepted, soft steps | genuine accepted, one threshold 0.36 | wrong person (soft / 0.36) |"
          " lost to the steps | median distance to own gallery photo | impostors accepted, soft steps |"
          " impostors accepted, 0.36 | PASCAL strangers accepted, soft / 0.36 | closest impostor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s, o = r["soft"], r["off"]
        sh = "-" if r["sharpness"] is None else "%.0f / %.0f / %.0f" % r["sharpness"]
        em = "-" if r["eyes_median"] is None else "%.1f" % r["eyes_median"]
        print(f"| {r['band']} / {em} | {sh} | {r['sharpness_lt20']} / {r['sharpness_20_40']} | {s['found']}/{s['probes']} |"
              f" {s['genuine_accepted']}/{s['probes']} | {o['genuine_accepted']}/{o['probes']} |"
              f" {s['wrong_person']} / {o['wrong_person']} | {r['price']} |"
              f" {'-' if r['genuine_distance_median'] is None else '%.3f' % r['genuine_distance_median']} |"
              f" {s['impostor_accepted']}/{s['impostor_searches']} |"
              f" {o['impostor_accepted']}/{o['impostor_searches']} |"
              f" {s['strangers_accepted']} / {o['strangers_accepted']} of {s['strangers']} |"
              f" {'-' if s['impostor_distance_min'] is None else '%.3f' % s['impostor_distance_min']} |")
    print("\n| genuine probes (all sizes), chip sharpness | faces | accepted, soft steps | accepted, one threshold 0.36 |")
    print("|---|---|---|---|")
    for band, (n, soft, off) in steps.items():
        print(f"| {band} | {n} | {soft} | {off} |")


if __name__ == "__main__":
    main()
