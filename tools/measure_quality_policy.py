#!/usr/bin/python3
"""A quality-aware match threshold for dlib's ResNet (issue 12), measured on faces written by
`facecrowd eval faces --pairs tools/face_split.json --set NAME --faces-out FILE` (which records each face's eye
distance in pixels of the original image, its chip sharpness and its detector score).

A policy maps a face's quality to a threshold: the faces are cut into bands (by eye distance, or sharpness), and
each band gets its own threshold, chosen ONLY on --calibration with today's rule, band by band:
    the largest threshold (0.01 steps, at most --cap, today's 0.36) whose calibration pair FAR <= 0.1%
    over the impostor pairs whose weaker side (lower quality) lies in that band.
A pair is accepted when distance <= t(band of its weaker side); a search (identification) when distance <=
t(band of the probe) and margin >= --margin (the gallery is every enrollable face: eyes >= 16 px, sharpness >= 20).
A band can instead be a floor: faces below it are "too small to identify" (nothing accepted).
--evaluation is only reported, once per policy, with the figures of `eval faces`: pair FAR / FRR (counts),
rank-1, identified, strangers accepted, one-photo enrollment identified.
Needs Debian's python3-numpy; tools/measure_match_policies.py for the search.

  tools/measure_quality_policy.py --calibration cal.json small.json --evaluation eval.json
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure_match_policies as mmp  # noqa: E402


def load(paths):
    faces = []
    for path in paths:
        for f in json.load(open(path))["faces"]:
            if f["embedding"] is None:
                continue
            faces.append(dict(identity=f["identity"], label=f["label"], image=f["image"], enrollable=f["enrollable"],
                              eyes=float(f["eyes"]), sharpness=float(f["sharpness"]), score=float(f["score"]),
                              e=np.array(f["embedding"], dtype=np.float64)))
    return faces


def band_of(value, edges):
    """index of the band [edges[i], edges[i+1]) holding value (edges ascending, first 0)"""
    return int(np.searchsorted(edges, value, side="right") - 1)


class Policy:
    """thresholds per band of one quality (eyes / sharpness); None = too small (floor)"""

    def __init__(self, quality, edges, thresholds, margin):
        self.quality, self.edges, self.thresholds, self.margin = quality, edges, thresholds, margin

    def t(self, face):
        th = self.thresholds[band_of(face[self.quality], self.edges)]
        return -1.0 if th is None else th

    def name(self):
        parts = []
        for i, th in enumerate(self.thresholds):
            hi = self.edges[i + 1] if i + 1 < len(self.edges) else None
            if hi is None:
                rng = "all" if i == 0 else ">=%g" % self.edges[i]
            else:
                rng = "<%g" % hi if i == 0 else "%g-%g" % (self.edges[i], hi)
            parts.append("%s:%s" % (rng, "floor" if th is None else "%.2f" % th))
        return "%s [%s] m%.2f" % (self.quality, " ".join(parts), self.margin)


def pairs(pool):
    iu = np.triu_indices(pool.n, 1)
    same = pool.person[iu[0]] == pool.person[iu[1]]
    return iu, same, pool.D[iu]


def weaker(pool, quality, iu):
    q = np.array([f[quality] for f in pool.faces])
    return np.minimum(q[iu[0]], q[iu[1]])


def calibrate(pool, quality, edges, cap, floors=()):
    """per band: the largest t (0.01 steps, <= cap) with band FAR <= 0.1% on this pool's impostor pairs"""
    iu, same, d = pairs(pool)
    w = weaker(pool, quality, iu)
    out, detail = [], []
    for i in range(len(edges)):
        if i in floors:
            out.append(None)
            detail.append("floor")
            continue
        hi = edges[i + 1] if i + 1 < len(edges) else np.inf
        b = (w >= edges[i]) & (w < hi)
        imp = d[b & ~same]
        best = None
        for k in range(20, int(round(cap * 100)) + 1):
            t = k / 100.0
            if len(imp) == 0 or (imp <= t).sum() / len(imp) <= 0.001:
                best = t
        out.append(best if best is not None else 0.20)
        acc = int((imp <= out[-1]).sum())
        detail.append("%d/%d imp. at %.2f" % (acc, len(imp), out[-1]))
    return out, detail


def pair_rates(pool, policy):
    iu, same, d = pairs(pool)
    w = weaker(pool, policy.quality, iu)
    t = np.array([(-1.0 if policy.thresholds[band_of(x, policy.edges)] is None
                   else policy.thresholds[band_of(x, policy.edges)]) for x in w])
    acc = d <= t
    ni, ng = int((~same).sum()), int(same.sum())
    fa, fr = int((acc & ~same).sum()), int((~acc & same).sum())
    fa, fr = int(fa), int(fr)
    return dict(impostor_pairs=ni, impostor_accepted=fa, far=fa / ni, genuine_pairs=ng, genuine_rejected=fr,
                frr=fr / ng if ng else 0.0)


def identification(pool, policy):
    r = dict(genuine=0, rank1=0, identified=0, misidentified=0, one_photo=0, one_photo_identified=0, strangers=0,
             stranger_accepted=0, too_small_probes=0)
    for q in range(pool.n):
        tq = policy.t(pool.faces[q])
        r["too_small_probes"] += int(tq < 0)
        me = pool.person[q]
        if q in pool.genuine_set:
            g = pool.gallery(q, lambda j: True)
            top, got = mmp.decide(pool, q, g, ("nearest",), tq, policy.margin)
            r["genuine"] += 1
            r["rank1"] += int(top == me)
            r["identified"] += int(got == me)
            r["misidentified"] += int(got is not None and got != me)
            for only in g[me][1]:
                g1 = dict(g)
                g1[me] = (np.array([pool.D[q, only]]), [only])
                r["one_photo"] += 1
                r["one_photo_identified"] += int(mmp.decide(pool, q, g1, ("nearest",), tq, policy.margin)[1] == me)
        g = pool.gallery(q, lambda j: pool.person[j] != me)
        if g:
            r["strangers"] += 1
            r["stranger_accepted"] += int(mmp.decide(pool, q, g, ("nearest",), tq, policy.margin)[1] is not None)
    return r


def make_pool(paths):
    faces = load(paths)
    pool = mmp.Pool(faces)
    pool.genuine_set = set(pool.genuine)
    return pool


def describe(p, i):
    return ("pair FAR %.3f%% (%d/%d) FRR %.1f%% (%d/%d) | rank-1 %d/%d identified %d/%d misid. %d strangers %d/%d "
            "one-photo %d/%d too-small probes %d" %
            (100 * p["far"], p["impostor_accepted"], p["impostor_pairs"], 100 * p["frr"], p["genuine_rejected"],
             p["genuine_pairs"], i["rank1"], i["genuine"], i["identified"], i["genuine"], i["misidentified"],
             i["stranger_accepted"], i["strangers"], i["one_photo_identified"], i["one_photo"],
             i["too_small_probes"]))


FAMILIES = [
    # (quality, band edges, bands that are floors)
    ("eyes", [0], ()),                                   # today: one threshold (the rule on the pooled sets)
    ("eyes", [0, 16, 24], ()),
    ("eyes", [0, 12, 16, 20, 24, 32, 48], ()),
    ("eyes", [0, 16, 20, 24, 28, 32, 40, 48], ()),
    ("eyes", [0, 12], (0,)),                             # too small below 12 px, today's rule above
    ("eyes", [0, 16], (0,)),
    ("eyes", [0, 20], (0,)),
    ("eyes", [0, 24], (0,)),
    ("eyes", [0, 16, 24], (0,)),
    ("eyes", [0, 20, 32], (0,)),
    ("eyes", [0, 24, 48], (0,)),
    ("sharpness", [0, 20, 40, 80], ()),
    ("sharpness", [0, 20, 40, 80, 200], ()),
    ("sharpness", [0, 20], (0,)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calibration", nargs="+", required=True)
    ap.add_argument("--evaluation", nargs="+", required=True)
    ap.add_argument("--cap", type=float, default=0.36, help="no band's threshold above this (today's default)")
    ap.add_argument("--margin", type=float, default=0.07)
    ap.add_argument("--json", help="write every row to FILE")
    a = ap.parse_args()
    cal, ev = make_pool(a.calibration), make_pool(a.evaluation)
    rows = []
    today = Policy("eyes", [0], [a.cap], a.margin)
    for label, policy, detail in [("today: one threshold %.2f, margin %.2f" % (a.cap, a.margin), today, ["default"])] + [
            (None, Policy(q, e, *[calibrate(cal, q, e, a.cap, fl)[0]], a.margin), calibrate(cal, q, e, a.cap, fl)[1])
            for q, e, fl in FAMILIES]:
        c = (pair_rates(cal, policy), identification(cal, policy))
        v = (pair_rates(ev, policy), identification(ev, policy))
        print("%s\n  chosen on calibration: %s\n  CAL  %s\n  EVAL %s" %
              (label or policy.name(), "; ".join(detail), describe(*c), describe(*v)), flush=True)
        rows.append(dict(policy=policy.name(), calibration=dict(pairs=c[0], identification=c[1]),
                         evaluation=dict(pairs=v[0], identification=v[1])))
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
