#!/usr/bin/python3
"""A decision rule not yet tried for issue 12's stranger false accepts, measured only (not adopted): GALLERY
ISOLATION. A search q whose nearest enrolled face j (of the top person) is accepted only when, on top of today's rule
(the sharpness steps by the softer of q and j, margin 0.07),

    d(q, j) <= f * (distance from j to the nearest enrolled face of ANOTHER person in the same gallery)

A face enrolled in a crowded part of the embedding space (many other people near it, as small crowd faces are)
needs a probe closer than its neighbours are; an isolated one keeps today's threshold. Every stranger the defaults
still accept matched a person enrolled from one crowd face.

Reads the `eval faces --pairs tools/face_split.json --set SET --faces-out DIR/dlib_SET.json` files that
tools/measure_probe_rules.py reads, and decides with its code (identification: the gallery is the set's enrollable
faces; "one photo": a person reduced to each one of their enrollable photos).

  for s in calibration calibration_small_faces evaluation confirmation_small_faces; do
    nice build/facecrowd eval faces --pairs tools/face_split.json --set $s --faces-out DIR/dlib_$s.json; done
  nice tools/measure_gallery_isolation.py --faces-dir DIR [--f 1.0,0.9,...]     # seconds
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure_probe_rules as mpr  # noqa: E402

SETS = {"calibration": ["calibration", "calibration_small_faces"], "held out": ["evaluation"],
        "confirmation": ["confirmation_small_faces"]}


def identification(pool, f):
    def recognised(pool, rule, T, ok, q, admitted):
        top = mpr.top_two(pool.D, q, pool.person, admitted)
        if top is None:
            return None, None
        person, j, d, second = top
        others = admitted & (pool.person != person)
        isolation = pool.D[j, others].min() if others.any() else 4.0
        yes = d <= T[q, j] and second - d >= mpr.MARGIN and (f is None or d <= f * isolation)
        return person, (person if yes else None)
    saved, mpr.recognised = mpr.recognised, recognised
    try:
        return mpr.identification(pool, mpr.Rule("", side="softer"))
    finally:
        mpr.recognised = saved


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces-dir", required=True)
    ap.add_argument("--f", default="1.0,0.95,0.9,0.85,0.82,0.8,0.78,0.77,0.76,0.75,0.7")
    a = ap.parse_args()
    pools = {}
    for name, sets in SETS.items():
        pools[name] = mpr.Pool(mpr.load([os.path.join(a.faces_dir, "dlib_%s.json" % s) for s in sets]))
        pools[name].genuine_set = set(pools[name].genuine)
    print("| f | calibration: strangers, identified, one photo | held out: strangers, identified, one photo "
          "| confirmation: strangers |")
    print("|---|---|---|---|")
    base = {n: identification(p, None) for n, p in pools.items()}
    chosen = None
    for f in [None] + [float(x) for x in a.f.split(",")]:
        r = {n: identification(p, f) for n, p in pools.items()} if f is not None else base
        c, h, k = r["calibration"], r["held out"], r["confirmation"]
        if f is not None and c["stranger_accepted"] == 0 and c["identified"] == base["calibration"]["identified"] and \
                c["one_photo_identified"] == base["calibration"]["one_photo_identified"]:
            chosen = f  # the strictest so far that changes nothing on calibration
        print("| %s | %d/%d, %d/%d, %d/%d | %d/%d, %d/%d, %d/%d | %d/%d |" % (
            "off (today)" if f is None else f, c["stranger_accepted"], c["strangers"], c["identified"], c["genuine"],
            c["one_photo_identified"], c["one_photo"], h["stranger_accepted"], h["strangers"], h["identified"],
            h["genuine"], h["one_photo_identified"], h["one_photo"], k["stranger_accepted"], k["strangers"]))
    print("strictest f of the list that changes nothing on calibration: %s" % chosen)


if __name__ == "__main__":
    main()
