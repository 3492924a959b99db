#!/usr/bin/python3
"""GALLERY ISOLATION against issue 12's stranger false accepts: a search q whose nearest enrolled face j (of the top
person) is accepted only when, on top of today's rule (the sharpness steps by the softer of q and j, margin 0.07),

    d(q, j) <= f * (distance from j to the nearest enrolled face of ANOTHER person in the same gallery)

A face enrolled in a crowded part of the embedding space (many other people near it, as small crowd faces are)
needs a probe closer than its neighbours are; an isolated one keeps today's threshold.

f is chosen by the rule declared in tools/calibrate_faces.md ("Gallery isolation, chosen fairly") on the calibration
pool (`calibration` + `calibration_small_faces` + `calibration_part_a`) only: the largest f (0.01 steps, 1.00-0.50)
at which the pool's strangers accepted are fewest, among the f that keep the calibration probes identified and lose
at most 1% of the calibration one-photo identifications; none when no f accepts fewer calibration strangers than
off. The held-out `evaluation` and `confirmation_small_faces` figures are printed for off and the chosen f.

Reads the `eval faces --pairs tools/face_split.json --set SET --faces-out DIR/dlib_SET.json` files that
tools/measure_probe_rules.py reads, and decides with its code (identification: the gallery is the pool's enrollable
faces; "one photo": a person reduced to each one of their enrollable photos).

  for s in calibration calibration_small_faces calibration_part_a evaluation confirmation_small_faces; do
    nice build/facecrowd eval faces --pairs tools/face_split.json --set $s --faces-out DIR/dlib_$s.json; done
  nice tools/measure_gallery_isolation.py --faces-dir DIR [--grid] [--show-accepted calibration_part_a]
"""
import argparse
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure_probe_rules as mpr  # noqa: E402

POOLS = {"calibration": ["calibration", "calibration_small_faces", "calibration_part_a"],
         "calibration before part_a": ["calibration", "calibration_small_faces"],
         "part_a alone": ["calibration_part_a"],
         "held out": ["evaluation"], "confirmation": ["confirmation_small_faces"]}
GRID = [round(1.0 - 0.01 * k, 2) for k in range(51)]  # 1.00 ... 0.50
ONE_PHOTO_LOSS = 0.01  # at most 1% of the calibration one-photo identifications


Search = collections.namedtuple("Search", "kind right within margin photos ratio q j")
Search.__doc__ = """One search of the identification figures: its kind (genuine, one_photo, stranger), whether the right
person is on top, whether d(q, j) is within today's threshold (the sharpness steps by the softer side), the margin to
the runner-up, how many photos the top person has in the gallery searched, the isolation ratio d(q, j) / distance
from j to its nearest enrolled face of another person, the probe q and the matched enrolled face j."""


def searches(pool):
    """Every search of the identification figures, once (Search rows)."""
    T = mpr.Rule("", side="softer").T(pool)
    out = []

    def search(kind, q, admitted):
        top = mpr.top_two(pool.D, q, pool.person, admitted)
        if top is None:
            return
        person, j, d, second = top
        others = admitted & (pool.person != person)
        isolation = pool.D[j, others].min() if others.any() else 4.0
        photos = int((admitted & (pool.person == person)).sum())
        out.append(Search(kind, person == pool.person[q], bool(d <= T[q, j]), second - d, photos,
                          d / max(isolation, 1e-9), q, j))

    for q in range(pool.n):
        me = pool.person[q]
        base = pool.enrollable.copy()
        base[q] = False
        if q in pool.genuine_set:
            search("genuine", q, base)
            for only in np.flatnonzero(base & (pool.person == me)):
                one = base & (pool.person != me)
                one[only] = True
                search("one_photo", q, one)
        stranger = base & (pool.person != me)
        if stranger.any():
            search("stranger", q, stranger)
    return out


def accepted(s, f=None, one_photo_margin=mpr.MARGIN):
    """Today's decision, with gallery isolation at f and/or a one-photo margin on top."""
    margin = one_photo_margin if s.photos == 1 else mpr.MARGIN
    return s.within and s.margin >= margin and (f is None or s.ratio <= f)


def figures(rows, f=None, one_photo_margin=mpr.MARGIN):
    r = collections.Counter()
    for s in rows:
        yes = accepted(s, f, one_photo_margin)
        r[s.kind] += 1
        if s.kind == "stranger":
            r["stranger_accepted"] += int(yes)
        else:
            r[s.kind + "_identified"] += int(yes and s.right)
            r[s.kind + "_rank1"] += int(s.right)
            r[s.kind + "_misidentified"] += int(yes and not s.right)
    return r


def text(r):
    s = "%d/%d" % (r["stranger_accepted"], r["stranger"])
    if r["genuine"]:
        s += ", rank-1 %d/%d, identified %d/%d, one photo %d/%d" % (
            r["genuine_rank1"], r["genuine"], r["genuine_identified"], r["genuine"], r["one_photo_identified"],
            r["one_photo"])
    if r["genuine_misidentified"] or r["one_photo_misidentified"]:
        s += ", MISIDENTIFIED %d + %d" % (r["genuine_misidentified"], r["one_photo_misidentified"])
    return s


def within_price_cap(r, today):
    """The declared price cap: the calibration probes stay identified and at most 1% of the calibration one-photo
    identifications are lost against today."""
    return r["genuine_identified"] == today["genuine_identified"] and \
        today["one_photo_identified"] - r["one_photo_identified"] <= ONE_PHOTO_LOSS * today["one_photo"]


def choose(rows, grid=GRID, figures_at=figures, least_strict=max):
    """The declared rule (tools/calibrate_faces.md): the least strict value of grid at which the pool's strangers
    accepted are fewest, among the values within the price cap; None when none of them accepts fewer than today."""
    today = figures(rows)
    allowed = [(v, r["stranger_accepted"]) for v, r in ((v, figures_at(rows, v)) for v in grid)
               if within_price_cap(r, today)]
    if not allowed:
        return None
    fewest = min(s for _, s in allowed)
    if fewest >= today["stranger_accepted"]:
        return None
    return least_strict(v for v, s in allowed if s == fewest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces-dir", required=True)
    ap.add_argument("--grid", action="store_true", help="also print every pool at every f of the grid")
    ap.add_argument("--show-accepted", metavar="POOL", help="list the strangers POOL accepts today (probe, face)")
    a = ap.parse_args()
    rows = {}
    for name, sets in POOLS.items():
        pool = mpr.Pool(mpr.load([os.path.join(a.faces_dir, "dlib_%s.json" % s) for s in sets]))
        pool.genuine_set = set(pool.genuine)
        rows[name] = (pool, searches(pool))
        print("%s: %d faces, %d enrollable" % (name, pool.n, int(pool.enrollable.sum())), flush=True)
    if a.show_accepted:
        pool, rs = rows[a.show_accepted]
        for s in sorted(rs, key=lambda s: pool.D[s.q, s.j]):
            if s.kind == "stranger" and accepted(s):
                print("accepted %s -> %s: d %.3f, isolation ratio %.3f" % (
                    pool.faces[s.q]["label"], pool.faces[s.j]["label"], pool.D[s.q, s.j], s.ratio))
    chosen = choose(rows["calibration"][1])
    print("chosen by the declared rule on the calibration pool: f = %s" % chosen)
    grid = [None] + (GRID if a.grid else sorted({chosen} - {None}, reverse=True))
    for name, (_, rs) in rows.items():
        for f in grid:
            print("| %s | %s | %s |" % (name, "off" if f is None else "%.2f" % f, text(figures(rs, f))))


if __name__ == "__main__":
    main()
