#!/usr/bin/python3
"""Issue 12's stranger false accepts on a larger crowd pool: gallery isolation and a one-photo margin, each chosen on
the calibration pool by the rule declared in tools/calibrate_faces.md ("Stranger levers on a larger crowd pool"), then
held to the adoption bar on the held-out and confirmation sets.

  for s in calibration calibration_small_faces calibration_part_a calibration_part_a_rest evaluation \\
           confirmation_small_faces confirmation_part_a; do
    nice build/facecrowd eval faces --pairs tools/face_split.json --set $s --faces-out DIR/dlib_$s.json; done
  tools/measure_stranger_levers.py --faces-dir DIR [--grid] [--show-accepted]

Duplicate boxes (the pipeline found the same face in two boxes of one photo: the 68 landmarks within 0.5 eye
distances on average) are dropped before any figure, the later box of the two; so are the boxes named by
--same-person (cross-photo pairs viewed side by side and found to be one person; the default is the list that
viewing gave). Decisions are tools/measure_gallery_isolation.py's (today's defaults: 0.36, margin 0.07, the sharpness
steps by the softer side; identification: the gallery is the pool's enrollable faces).
"""
import argparse
import collections
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure_gallery_isolation as mgi  # noqa: E402
import measure_probe_rules as mpr  # noqa: E402

POOLS = {"calibration": ["calibration", "calibration_small_faces", "calibration_part_a", "calibration_part_a_rest"],
         "held out": ["evaluation"],
         "confirmation": ["confirmation_small_faces", "confirmation_part_a"],
         "calibration_part_a_rest alone": ["calibration_part_a_rest"],
         "confirmation_part_a alone": ["confirmation_part_a"],
         # People seen twice in part_B street sequences: the price on genuine crowd faces (information only).
         "part_b_sequences (genuine crowd faces)": ["part_b_sequences"]}
MARGINS = [round(0.07 + 0.01 * k, 2) for k in range(14)]  # 0.07 ... 0.20
DUPLICATE_EYE_DISTANCES = 0.5
# Cross-photo impostor pairs accepted today that were viewed side by side and are one person: (earlier, later box).
SAME_PERSON = []


def duplicate_boxes(paths):
    """Identities whose face the pipeline also found in an earlier box of the same photo (the later box of each
    pair), with the pair and its mean landmark distance in eye distances."""
    found = []
    for path in paths:
        by_image = collections.defaultdict(list)
        for f in json.load(open(path))["faces"]:
            if f["landmarks"] is not None:
                by_image[f["image"]].append(f)
        for faces in by_image.values():
            for b in range(len(faces)):
                for a in range(b):
                    la, lb = np.asarray(faces[a]["landmarks"], float), np.asarray(faces[b]["landmarks"], float)
                    eyes = (float(faces[a]["eyes"]) + float(faces[b]["eyes"])) / 2
                    mean = float(np.linalg.norm(la - lb, axis=1).mean()) / max(eyes, 1e-9)
                    if mean < DUPLICATE_EYE_DISTANCES:
                        found.append((faces[b]["identity"], faces[a]["identity"], mean))
    return found


def one_photo_figures(rows, m):
    return mgi.figures(rows, None, m)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces-dir", required=True)
    ap.add_argument("--same-person", nargs="*", default=None, metavar="EARLIER,LATER",
                    help="cross-photo pairs found to be one person (drops LATER); default: the viewed list")
    ap.add_argument("--grid", action="store_true", help="every pool at every value of both grids")
    ap.add_argument("--show-accepted", action="store_true",
                    help="the strangers each pool accepts today, cross-photo pairs marked (to view them)")
    a = ap.parse_args()
    path = lambda s: os.path.join(a.faces_dir, "dlib_%s.json" % s)  # noqa: E731
    sets = sorted({s for ss in POOLS.values() for s in ss})
    dups = duplicate_boxes([path(s) for s in sets])
    same = [tuple(p.split(",")) for p in a.same_person] if a.same_person is not None else SAME_PERSON
    drop = {later for later, _, _ in dups} | {later for _, later in same}
    print("dropped: %d duplicate boxes (%s), %d boxes of cross-photo pairs found to be one person (%s)" % (
        len(dups), ", ".join("%s = %s (%.2f)" % d for d in dups) or "none", len(same),
        ", ".join("%s = %s" % p for p in same) or "none"))

    rows = {}
    for name, ss in POOLS.items():
        pool = mpr.Pool(mpr.load([path(s) for s in ss], drop))
        pool.genuine_set = set(pool.genuine)
        rows[name] = (pool, mgi.searches(pool))
        print("%s: %d faces, %d enrollable" % (name, pool.n, int(pool.enrollable.sum())), flush=True)
        if a.show_accepted:
            for s in sorted(rows[name][1], key=lambda s: pool.D[s.q, s.j]):
                if s.kind == "stranger" and mgi.accepted(s):
                    fq, fj = pool.faces[s.q], pool.faces[s.j]
                    cross = fq["identity"].rsplit("_", 1)[0] != fj["identity"].rsplit("_", 1)[0]
                    print("  accepted %s -> %s: d %.3f, margin %.3f, photos %d, isolation %.3f, sharpness %.0f/%.0f, "
                          "eyes %.0f/%.0f%s" % (fq["identity"], fj["identity"], pool.D[s.q, s.j], s.margin, s.photos,
                                                s.ratio, fq["sharpness"], fj["sharpness"], fq["eyes"], fj["eyes"],
                                                ", CROSS-PHOTO" if cross else ""))

    cal = rows["calibration"][1]
    today = mgi.figures(cal)
    f = mgi.choose(cal)
    m = mgi.choose(cal, MARGINS, one_photo_figures, min)
    print("chosen on the calibration pool: gallery isolation f = %s, one-photo margin m = %s" % (f, m))
    candidates = []
    if f is not None:
        candidates.append(("gallery isolation f %.2f" % f, mgi.figures(cal, f), 1, lambda rs: mgi.figures(rs, f)))
    if m is not None:
        candidates.append(("one-photo margin %.2f" % m, one_photo_figures(cal, m), 0,
                           lambda rs: one_photo_figures(rs, m)))
    # The declared tie-break: fewer pool strangers, then the smaller one-photo loss, then the one-photo margin.
    candidates.sort(key=lambda c: (c[1]["stranger_accepted"], -c[1]["one_photo_identified"], c[2]))
    print("| pool | today | %s |" % " | ".join(c[0] for c in candidates))
    for name, (_, rs) in rows.items():
        print("| %s | %s | %s |" % (name, mgi.text(mgi.figures(rs)), " | ".join(mgi.text(c[3](rs)) for c in candidates)))
    if candidates:
        name, _, _, at = candidates[0]
        held, held_today = at(rows["held out"][1]), mgi.figures(rows["held out"][1])
        conf, conf_today = at(rows["confirmation"][1]), mgi.figures(rows["confirmation"][1])
        bar = (held["stranger_accepted"] < held_today["stranger_accepted"]
               and held["genuine_rank1"] == held_today["genuine_rank1"]
               and held["genuine_identified"] == held_today["genuine_identified"]
               and held_today["one_photo_identified"] - held["one_photo_identified"] <= 5
               and conf["stranger_accepted"] <= conf_today["stranger_accepted"])
        print("the choice: %s; the adoption bar %s" % (name, "is MET" if bar else "is NOT met"))
    else:
        print("the choice: none (today's defaults stay)")
    print("today on the calibration pool: %s" % mgi.text(today))
    if a.grid:
        for name, (_, rs) in rows.items():
            for v in mgi.GRID:
                print("| %s | f %.2f | %s |" % (name, v, mgi.text(mgi.figures(rs, v))))
            for v in MARGINS:
                print("| %s | m %.2f | %s |" % (name, v, mgi.text(one_photo_figures(rs, v))))


if __name__ == "__main__":
    main()
