#!/usr/bin/python3
"""Match decision policies measured as open-set identification (issue 12), on faces written by
`facecrowd eval faces --pairs tools/face_split.json --set NAME --faces-out FILE`.

Each side (--calibration, --evaluation) is one pool of faces (several files are pooled). The gallery holds the
pool's enrollable faces (what enroll accepts); a person's score is computed from their gallery faces, the best
person is the one with the lowest score, and a search is recognised when
    score <= t  AND  (runner-up person's score - score) >= m.
Trials, each counted:
  genuine:   each face whose identity has another enrollable face, searched among all enrollable faces but
             itself: rank-1 (top person right; by the nearest face, as vision::Gallery ranks), identified
             (recognised as the right person), misidentified (recognised as someone else);
  one photo: the same probe with its person enrolled by one other enrollable photo only;
  strangers: each face with its whole identity left out of the gallery: recognised as anyone = false accept.
Policies (a person's score):
  nearest      distance to the person's nearest face (what recognition does; `facecrowd eval faces` reports
               this one with the policy in use, in its "identification" figures)
  kmean K      mean distance to the person's K nearest faces
  centroid     distance to the normalised mean of the person's faces
  two S T      the nearest distance when it is <= S, or when the person's 2nd nearest face is also <= T;
               otherwise the person does not count (very close, or consistent across two photos)
  size I X     the nearest distance, plus X when the probe's eyes are under I px apart
Parameters are chosen on --calibration; --evaluation is only reported. Needs Debian's python3-numpy.

  tools/measure_match_policies.py --calibration cal.json small.json --evaluation eval.json [--grid full]
  tools/measure_match_policies.py ... --thresholds 0.78 0.80 --margins 0 0.02 0.04   (faceres' scale)
"""
import argparse
import collections
import json
import sys

import numpy as np


def load(paths):
    faces = []
    for path in paths:
        for f in json.load(open(path))["faces"]:
            if f["embedding"] is None:
                continue
            lm = np.array(f["landmarks"])
            eyes = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
            faces.append(dict(identity=f["identity"], label=f["label"], enrollable=f["enrollable"], eyes=eyes,
                              e=np.array(f["embedding"], dtype=np.float64)))
    return faces


class Pool:
    def __init__(self, faces):
        self.faces = faces
        self.n = len(faces)
        self.E = np.stack([f["e"] for f in faces])
        sq = np.maximum(0.0, (self.E ** 2).sum(1)[:, None] + (self.E ** 2).sum(1)[None, :] - 2 * self.E @ self.E.T)
        self.D = np.sqrt(sq)
        names = sorted({f["identity"] for f in faces})
        self.person = np.array([names.index(f["identity"]) for f in faces])
        self.enrollable = np.array([f["enrollable"] for f in faces])
        self.eyes = np.array([f["eyes"] for f in faces])
        enrolled = collections.Counter(self.person[j] for j in range(self.n) if self.enrollable[j])
        self.enrolled = enrolled
        self.genuine = [i for i in range(self.n) if enrolled[self.person[i]] - int(self.enrollable[i]) >= 1]

    def gallery(self, q, admit):
        """person -> (sorted distances of q to their enrollable faces, those faces)"""
        per = collections.defaultdict(list)
        for j in range(self.n):
            if j != q and self.enrollable[j] and admit(j):
                per[self.person[j]].append(j)
        out = {}
        for p, js in per.items():
            d = self.D[q, js]
            order = np.argsort(d)
            out[p] = (d[order], [js[k] for k in order])
        return out


def scores(pool, q, gallery, policy):
    kind, args = policy[0], policy[1:]
    out = {}
    for p, (d, js) in gallery.items():
        if kind == "nearest":
            s = d[0]
        elif kind == "kmean":
            s = d[: min(args[0], len(d))].mean()
        elif kind == "centroid":
            c = pool.E[js].mean(0)
            s = np.linalg.norm(pool.E[q] - c / np.linalg.norm(c))
        elif kind == "two":
            strict, loose = args
            s = d[0] if d[0] <= strict or (len(d) >= 2 and d[1] <= loose) else 9.0
        elif kind == "size":
            below, extra = args
            s = d[0] + (extra if pool.eyes[q] < below else 0.0)
        else:
            raise ValueError(kind)
        out[p] = s
    return out


def decide(pool, q, gallery, policy, t, m):
    """(top person by the nearest face, recognised person or None)"""
    if not gallery:
        return None, None
    top = min(gallery, key=lambda p: gallery[p][0][0])
    s = sorted((v, p) for p, v in scores(pool, q, gallery, policy).items())
    margin = s[1][0] - s[0][0] if len(s) > 1 else 4.0
    return top, (s[0][1] if s[0][0] <= t and margin >= m else None)


def trials(pool, policy, t, m):
    r = collections.Counter()
    for q in pool.genuine:
        g = pool.gallery(q, lambda j: True)
        top, got = decide(pool, q, g, policy, t, m)
        me = pool.person[q]
        r["genuine"] += 1
        r["rank1"] += top == me
        r["identified"] += got == me
        r["misidentified"] += got is not None and got != me
        for only in g[me][1]:
            g1 = dict(g)
            g1[me] = (np.array([pool.D[q, only]]), [only])
            r["one_photo"] += 1
            r["one_photo_identified"] += decide(pool, q, g1, policy, t, m)[1] == me
    for q in range(pool.n):
        g = pool.gallery(q, lambda j: pool.person[j] != pool.person[q])
        if g:
            r["strangers"] += 1
            r["stranger_accepted"] += decide(pool, q, g, policy, t, m)[1] is not None
    return r


def describe(r):
    return ("strangers %3d/%d  identified %d/%d  rank-1 %d/%d  misid. %d  one-photo %d/%d" %
            (r["stranger_accepted"], r["strangers"], r["identified"], r["genuine"], r["rank1"], r["genuine"],
             r["misidentified"], r["one_photo_identified"], r["one_photo"]))


def grid(full, thresholds=None, margins=None):
    if thresholds:  # another model's scale (faceres): the nearest-face policy over the given values only
        for t in thresholds:
            for m in margins or [0.0, 0.04, 0.07, 0.10]:
                yield ("nearest",), t, m
        return
    thresholds = [0.30, 0.32, 0.34, 0.35, 0.36, 0.37, 0.38, 0.40] if full else [0.34, 0.36, 0.38]
    margins = [0.0, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.12] if full else [0.04, 0.06, 0.07, 0.08, 0.10]
    for t in thresholds:
        for m in margins:
            yield ("nearest",), t, m
    for m in [0.04, 0.07]:
        for t in [0.34, 0.36, 0.38]:
            yield ("kmean", 2), t, m
            yield ("kmean", 3), t, m
            yield ("centroid",), t, m
        for strict in [0.28, 0.30, 0.32]:
            for loose in [0.36, 0.38, 0.40]:
                yield ("two", strict, loose), 9.0, m
        for below in [16, 20, 24]:
            for extra in [0.04, 0.08]:
                yield ("size", below, extra), 0.36, m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calibration", nargs="+", required=True, help="faces JSON file(s) to choose parameters on")
    ap.add_argument("--evaluation", nargs="+", help="faces JSON file(s) held out: only reported")
    ap.add_argument("--grid", choices=["short", "full"], default="short")
    ap.add_argument("--json", help="write every row to FILE")
    ap.add_argument("--thresholds", nargs="+", type=float,
                    help="nearest-face policy at these thresholds only (another model's scale, e.g. faceres 0.76 0.80)")
    ap.add_argument("--margins", nargs="+", type=float, help="with --thresholds: these margins")
    a = ap.parse_args()
    cal = Pool(load(a.calibration))
    ev = Pool(load(a.evaluation)) if a.evaluation else None
    for name, pool in [("calibration", cal), ("evaluation", ev)]:
        if pool:
            print("%s: %d faces, %d enrollable (the gallery) of %d identities; %d genuine probes" %
                  (name, pool.n, int(pool.enrollable.sum()), len(pool.enrolled), len(pool.genuine)))
    rows = []
    for policy, t, m in grid(a.grid == "full", a.thresholds, a.margins):
        name = " ".join(str(x) for x in policy) + ("" if t > 2 else " t%.2f" % t) + " m%.2f" % m
        c = trials(cal, policy, t, m)
        e = trials(ev, policy, t, m) if ev else None
        rows.append(dict(policy=list(policy), t=t, m=m, calibration={k: int(v) for k, v in c.items()},
                         evaluation={k: int(v) for k, v in e.items()} if e else None))
        print("%-26s CAL %s%s" % (name, describe(c), " | EVAL " + describe(e) if e else ""), flush=True)
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
