#!/usr/bin/python3
"""Decision rules against the strangers that dlib's defaults still accept (issue 12), pre-declared after looking
at those strangers and calibrated on the calibration sets only; one command:

  nice tools/measure_probe_rules.py                       # runs `facecrowd eval faces --faces-out` on the 4 sets
  nice tools/measure_probe_rules.py --faces-dir DIR       # or reads DIR/{dlib,faceres}_SET.json written before

The faces come from `facecrowd eval faces --pairs tools/face_split.json --set SET --faces-out FILE` (production's
detection, landmarks, chip and embedding, plus the embedding of the mirrored chip and the landmark flip error),
for dlib and for faceres (--face-model faceres; only for the "dlib AND faceres" row). Sets:
  calibration         `calibration` + `calibration_small_faces` pooled: every choice is made here;
  held out            `evaluation` (the tests' photos and street_india strangers): reported only;
  confirmation        `confirmation_small_faces` (389 ShanghaiTech strangers; 114 found): reported only.

The baseline ("before", app/faces/match_policy.h until this measurement): the nearest enrolled face decides;
recognised when distance <= t(probe) and margin >= 0.07, t(probe) = 0.29 / 0.32 / 0.36 for chip sharpness < 20 /
20-40 / >= 40. A pair is judged by its softer face. "softer side" below became the default
(MatchPolicy::soft_enrolled_faces).

The rules (a search: probe q, its nearest enrolled face j of the top person; a pair: both faces as the probe):
  softer side     the sharpness steps applied to the softer of the probe and the matched enrolled face (as pairs
                  already are); no new parameter.
  turned probe    a threshold by the probe's head turn (yaw from the 68 landmarks: where the nose tip lies between
                  the jaw ends along the eye line, asin(2r - 1); 0 = frontal), in bands |yaw| < 15 / 15-30 / >= 30
                  degrees, on top of the sharpness step (the smaller applies). Each band's threshold: the largest
                  (0.01 steps, <= 0.36) with calibration pair FAR <= 0.1% over the impostor pairs whose more
                  turned face lies in that band (the rule the sharpness steps were chosen by).
  turned either   the same steps, applied to the more turned of the probe and the matched enrolled face.
  low score       the same kind of steps by the detector's score (bands < 0.8 / 0.8-0.9 / >= 0.9), the probe's.
  mirror AND      also the probe's mirrored chip must lie within the threshold of the matched face
                  (distance(mirror(q), j) <= t; a pair: both faces' mirrors). Today's steps, and the steps
                  re-chosen by the pair rule with the AND in place (cap 0.36); and with "softer side".
  one-photo margin  a larger margin when the top person has one photo in the search's gallery: the smallest (0.01 steps)
                  with no calibration stranger accepted and calibration identification unchanged.
  dlib AND faceres  recognised only when faceres at its own defaults (0.80, margin 0.20) recognises the same
                  person too (information: faceres is opt-in).
Figures per set: pair FAR / FRR (counts), rank-1, identified, strangers accepted, one photo identified; as in
`eval faces --pairs` ("identification": the gallery is the set's enrollable faces). The "softer side" row must
equal `eval faces`' own figures at the defaults (checked against its --json reports when the tool runs facecrowd
itself).

Needs Debian's python3-numpy; the faces JSON needs a facecrowd whose --faces-out writes embeddingMirrored.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

SETS = ["calibration", "calibration_small_faces", "evaluation", "confirmation_small_faces"]
TODAY_STEPS = [(20.0, 0.29), (40.0, 0.32)]
CAP, MARGIN = 0.36, 0.07
FACERES_T, FACERES_M = 0.80, 0.20


def head_pose(lm):
    """(roll, yaw) in degrees from 68 landmarks: roll = the eye line's angle; yaw = asin(2r - 1), r = where the nose
    tip (30) lies between the jaw ends (0, 16) along the eye line (a 2-D proxy: 0 frontal, +-90 profile)."""
    lm = np.asarray(lm, float)
    le, re = lm[36:42].mean(0), lm[42:48].mean(0)
    roll = np.degrees(np.arctan2(re[1] - le[1], re[0] - le[0]))
    ax = (re - le) / np.linalg.norm(re - le)
    x0, x16, xn = lm[0] @ ax, lm[16] @ ax, lm[30] @ ax
    r = (xn - x0) / (x16 - x0) if x16 != x0 else 0.5
    return float(roll), float(np.degrees(np.arcsin(np.clip(2 * r - 1, -1, 1))))


def load(paths, drop=frozenset()):
    """The faces of --faces-out files that have an embedding, less the identities in drop."""
    faces = []
    for path in paths:
        for f in json.load(open(path))["faces"]:
            if f["embedding"] is None or f["identity"] in drop:
                continue
            roll, yaw = head_pose(f["landmarks"])
            faces.append(dict(identity=f["identity"], label=f["label"], enrollable=f["enrollable"],
                              eyes=float(f["eyes"]), sharpness=float(f["sharpness"]), score=float(f["score"]),
                              flip=float(f.get("flipError", 0)), roll=roll, yaw=yaw,
                              e=np.array(f["embedding"], float),
                              m=np.array(f["embeddingMirrored"], float) if f.get("embeddingMirrored") else None))
    return faces


def distances(A, B):
    return np.sqrt(np.maximum(0.0, (A ** 2).sum(1)[:, None] + (B ** 2).sum(1)[None, :] - 2 * A @ B.T))


class Pool:
    def __init__(self, faces, faceres=None):
        self.faces, self.n = faces, len(faces)
        E = np.stack([f["e"] for f in faces])
        self.D = distances(E, E)
        self.DM = distances(np.stack([f["m"] for f in faces]), E) if all(f["m"] is not None for f in faces) else None
        names = sorted({f["identity"] for f in faces})
        self.person = np.array([names.index(f["identity"]) for f in faces])
        self.enrollable = np.array([f["enrollable"] for f in faces])
        for k in ["sharpness", "score", "eyes", "flip", "roll", "yaw"]:
            setattr(self, k, np.array([f[k] for f in faces]))
        self.turn = np.abs(self.yaw)
        self.photos = collections.Counter(self.person[j] for j in range(self.n) if self.enrollable[j])
        self.genuine = [i for i in range(self.n) if self.photos[self.person[i]] - int(self.enrollable[i]) >= 1]
        self.same = self.person[:, None] == self.person[None, :]
        self.iu = np.triu_indices(self.n, 1)
        self.DF = None
        if faceres:  # the same faces embedded by faceres, joined by identity and label
            by = {(f["identity"], f["label"]): f["e"] for f in faceres}
            if all((f["identity"], f["label"]) in by for f in faces):
                F = np.stack([by[(f["identity"], f["label"])] for f in faces])
                self.DF = distances(F, F)


def steps_threshold(values, steps, cap):
    t = np.full(values.shape, cap)
    for below, th in reversed(steps):
        t = np.where(values < below, min(th, cap), t)
    return t


class Rule:
    """T[q, j]: the threshold for probe q against enrolled face j; ok[q, j]: the veto passes; margin(person)."""

    def __init__(self, name, steps=TODAY_STEPS, side="probe", extra=None, mirror=False, one_photo_margin=MARGIN,
                 faceres=False, note=""):
        self.name, self.steps, self.side, self.extra, self.mirror = name, steps, side, extra, mirror
        self.one_photo_margin, self.faceres, self.note = one_photo_margin, faceres, note

    def T(self, pool):
        sharp = pool.sharpness[:, None] * np.ones((1, pool.n))
        if self.side == "softer":
            sharp = np.minimum(sharp, pool.sharpness[None, :])
        t = steps_threshold(sharp, self.steps, CAP)
        if self.extra:  # (measure, steps, side, lower_is_worse)
            measure, steps, side, lower_is_worse = self.extra
            v = getattr(pool, measure)
            q = v[:, None] * np.ones((1, pool.n))
            if side == "either":
                q = np.minimum(q, v[None, :]) if lower_is_worse else np.maximum(q, v[None, :])
            if lower_is_worse:  # steps: "below a -> th"
                t = np.minimum(t, steps_threshold(q, steps, CAP))
            else:  # steps: "at or above a -> th", ascending
                for a, th in steps:
                    t = np.where(q >= a, np.minimum(t, th), t)
        return t

    def ok(self, pool, T):
        if not self.mirror:
            return np.ones((pool.n, pool.n), bool)
        return pool.DM <= T


def pair_rates(pool, rule):
    T = rule.T(pool)
    ok = rule.ok(pool, T)
    acc = (pool.D <= np.minimum(T, T.T)) & ok & ok.T
    if rule.faceres:
        acc &= pool.DF <= FACERES_T
    i, j = pool.iu
    same = pool.same[i, j]
    a = acc[i, j]
    return dict(impostor_pairs=int((~same).sum()), impostor_accepted=int((a & ~same).sum()),
                genuine_pairs=int(same.sum()), genuine_rejected=int((~a & same).sum()))


def top_two(D, q, person, admitted):
    """(top person, its nearest face, distance, runner-up distance) over the admitted enrolled faces"""
    js = np.flatnonzero(admitted)
    if len(js) == 0:
        return None
    d = D[q, js]
    best = {}
    for k in np.argsort(d):
        p = person[js[k]]
        if p not in best:
            best[p] = (d[k], js[k])
            if len(best) == 2:
                break
    s = sorted(best.items(), key=lambda kv: kv[1][0])
    p, (dist, j) = s[0]
    return p, j, dist, (s[1][1][0] if len(s) > 1 else 4.0)


def recognised(pool, rule, T, ok, q, admitted):
    top = top_two(pool.D, q, pool.person, admitted)
    if top is None:
        return None, None
    p, j, d, second = top
    # One photo in THIS search's gallery: a person reduced to one photo (the one-photo trials) counts, as at runtime
    # (until 2026-11-30 late evening the pool's count was used, so those trials never got the one-photo margin).
    margin = rule.one_photo_margin if int((admitted & (pool.person == p)).sum()) == 1 else MARGIN
    yes = d <= T[q, j] and ok[q, j] and second - d >= margin
    if yes and rule.faceres:
        f = top_two(pool.DF, q, pool.person, admitted)
        yes = f[0] == p and f[2] <= FACERES_T and f[3] - f[2] >= FACERES_M
    return p, (p if yes else None)


def identification(pool, rule, show=None):
    T = rule.T(pool)
    ok = rule.ok(pool, T)
    r = collections.Counter()
    for q in range(pool.n):
        me = pool.person[q]
        base = pool.enrollable.copy()
        base[q] = False
        if q in pool.genuine_set:
            top, got = recognised(pool, rule, T, ok, q, base)
            r["genuine"] += 1
            r["rank1"] += int(top == me)
            r["identified"] += int(got == me)
            r["misidentified"] += int(got is not None and got != me)
            for only in np.flatnonzero(base & (pool.person == me)):
                one = base & (pool.person != me)
                one[only] = True
                r["one_photo"] += 1
                r["one_photo_identified"] += int(recognised(pool, rule, T, ok, q, one)[1] == me)
        stranger = base & (pool.person != me)
        if stranger.any():
            r["strangers"] += 1
            got = recognised(pool, rule, T, ok, q, stranger)[1]
            if got is not None:
                r["stranger_accepted"] += 1
                if show is not None:
                    show.append((q, got))
    return r


def calibrate_steps(pool, rule_of, measure, edges, lower_is_worse):
    """Per band of the pair's worse face by `measure`, the largest threshold (0.01 steps, <= CAP) with pair FAR <=
    0.1% over that band's impostor pairs, the pair accepted as rule_of(steps) accepts it with only that band's step."""
    v = getattr(pool, measure)
    i, j = pool.iu
    worse = np.minimum(v[i], v[j]) if lower_is_worse else np.maximum(v[i], v[j])
    imp = ~pool.same[i, j]
    chosen, detail = [], []
    for b in range(len(edges) - 1):
        lo, hi = edges[b], edges[b + 1]
        band = imp & (worse >= lo) & (worse < hi)
        best = None
        for k in range(20, int(round(CAP * 100)) + 1):
            t = k / 100.0
            rule = rule_of([(lo, hi, t)])
            T = rule.T(pool)
            ok = rule.ok(pool, T)
            acc = ((pool.D <= np.minimum(T, T.T)) & ok & ok.T)[i, j]
            n = int(band.sum())
            if n == 0 or (acc & band).sum() / n <= 0.001:
                best = (t, int((acc & band).sum()), n)
        chosen.append(best[0] if best else 0.20)
        detail.append("%s %g-%g: %.2f (%d of %d impostor pairs)" % (measure, lo, hi, chosen[-1], best[1] if best else -1,
                                                                    best[2] if best else int(band.sum())))
    return chosen, detail


def band_steps(measure, edges, thresholds, lower_is_worse):
    """band thresholds as steps for Rule.extra"""
    if lower_is_worse:  # "below edges[b+1] -> t_b" for all but the open top band
        return [(edges[b + 1], thresholds[b]) for b in range(len(thresholds)) if edges[b + 1] < np.inf]
    # higher is worse: "at or above edges[b] -> t_b", ascending
    return [(edges[b], thresholds[b]) for b in range(1, len(thresholds))]


def describe(pairs, ident):
    s = "pair FAR %.3f%% (%d/%d) FRR %.1f%% (%d/%d)" % (
        100 * pairs["impostor_accepted"] / max(1, pairs["impostor_pairs"]), pairs["impostor_accepted"],
        pairs["impostor_pairs"], 100 * pairs["genuine_rejected"] / max(1, pairs["genuine_pairs"]),
        pairs["genuine_rejected"], pairs["genuine_pairs"])
    s += " | strangers %d/%d" % (ident["stranger_accepted"], ident["strangers"])
    if ident["genuine"]:
        s += " rank-1 %d/%d identified %d/%d misid. %d one photo %d/%d" % (
            ident["rank1"], ident["genuine"], ident["identified"], ident["genuine"], ident["misidentified"],
            ident["one_photo_identified"], ident["one_photo"])
    return s


def run_facecrowd(binary, split, out_dir):
    reports = {}
    for model in ["dlib", "faceres"]:
        for s in SETS:
            out = os.path.join(out_dir, "%s_%s.json" % (model, s))
            cmd = [binary] + (["--face-model", "faceres"] if model == "faceres" else []) + [
                "eval", "faces", "--pairs", split, "--set", s, "--faces-out", out, "--json"]
            print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
            reports[(model, s)] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return reports


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--facecrowd", default=os.path.join(here, "..", "build", "facecrowd"))
    ap.add_argument("--split", default=os.path.join(here, "face_split.json"))
    ap.add_argument("--faces-dir", help="read DIR/{dlib,faceres}_SET.json instead of running facecrowd")
    ap.add_argument("--show", action="store_true", help="list each stranger accepted (held out and confirmation)")
    ap.add_argument("--json", help="write every row to FILE")
    a = ap.parse_args()
    reports = None
    with tempfile.TemporaryDirectory() as tmp:
        d = a.faces_dir or tmp
        if not a.faces_dir:
            reports = run_facecrowd(a.facecrowd, a.split, d)
        f = lambda model, sets: [os.path.join(d, "%s_%s.json" % (model, s)) for s in sets]
        cal_sets, ev_sets, conf_sets = SETS[:2], SETS[2:3], SETS[3:]
        pools = {}
        for name, sets in [("calibration", cal_sets), ("held out", ev_sets), ("confirmation", conf_sets)]:
            fr = f("faceres", sets)
            pool = Pool(load(f("dlib", sets)), load(fr) if all(os.path.exists(p) for p in fr) else None)
            pool.genuine_set = set(pool.genuine)
            pools[name] = pool
    cal = pools["calibration"]

    rules = [Rule("before: sharpness steps by the probe, margin 0.07")]
    rules.append(Rule("softer side: the steps by the softer of probe and matched face (the default now)", side="softer"))

    details = {}
    for label, measure, edges, lower in [("turned", "turn", [0, 15, 30, np.inf], False),
                                         ("low score", "score", [0, 0.8, 0.9, np.inf], True)]:
        def rule_of(band, measure=measure, lower=lower):
            (lo, hi, t), = band  # only this band stricter; a face outside it keeps today's thresholds
            r = Rule("")
            r.T = lambda pool: _band_T(pool, measure, lo, hi, t)
            return r
        ths, det = calibrate_steps(cal, rule_of, measure, edges, lower)
        details[label] = det
        steps = band_steps(measure, edges, ths, lower)
        text = ", ".join("%s %s: %.2f" % (measure, ("< %g" % edges[b + 1]) if lower else (">= %g" % edges[b]), t)
                         for b, t in enumerate(ths) if (edges[b + 1] < np.inf if lower else b > 0))
        sides = [("probe", "the probe's")] + ([("either", "the worse of probe and matched face")] if measure == "turn"
                                              else [])
        for side, words in sides:
            rules.append(Rule("%s (%s): %s" % (label, words, text), extra=(measure, steps, side, lower)))

    rules.append(Rule("mirror AND, today's steps", mirror=True))
    rules.append(Rule("softer side AND mirror AND, today's steps", side="softer", mirror=True))

    def mirror_rule_of(band):
        (lo, hi, t), = band
        r = Rule("", steps=[], mirror=True)
        r.T = lambda pool: np.where(((pool.sharpness[:, None] >= lo) & (pool.sharpness[:, None] < hi))
                                    * np.ones((1, pool.n), bool), t, CAP)
        return r
    mths, mdet = calibrate_steps(cal, mirror_rule_of, "sharpness", [0, 20, 40, np.inf], True)
    details["mirror AND"] = mdet
    msteps = [(20.0, mths[0]), (40.0, mths[1])]
    rules.append(Rule("mirror AND, steps re-chosen with it: %s, >= 40: %.2f" %
                      (", ".join("< %g: %.2f" % s for s in msteps), mths[2]), steps=msteps, mirror=True))

    # one-photo margin: the smallest (0.01 steps, >= today's) with no calibration stranger accepted and
    # calibration identification unchanged
    today_cal = identification(cal, rules[0])
    m1 = MARGIN
    for k in range(7, 21):
        r = identification(cal, Rule("", one_photo_margin=k / 100.0))
        if r["stranger_accepted"] == 0 and r["identified"] == today_cal["identified"] and \
                r["one_photo_identified"] == today_cal["one_photo_identified"]:
            m1 = k / 100.0
            break
    rules.append(Rule("one-photo margin (chosen: %.2f)" % m1, one_photo_margin=m1))
    rules.append(Rule("one-photo margin 0.10 (not chosen: for comparison)", one_photo_margin=0.10))
    if cal.DF is not None:
        rules.append(Rule("dlib AND faceres (0.80, margin 0.20), information", faceres=True))

    for label, det in details.items():
        print("chosen on calibration, %s: %s" % (label, "; ".join(det)))
    rows = []
    for rule in rules:
        row = dict(rule=rule.name)
        print(rule.name)
        for name, pool in pools.items():
            if rule.faceres and pool.DF is None:
                continue
            shown = []
            p, i = pair_rates(pool, rule), identification(pool, rule, shown)
            row[name] = dict(pairs=p, identification={k: int(v) for k, v in i.items()})
            print("  %-12s %s" % (name, describe(p, i)))
            if a.show and name != "calibration":
                for q, got in shown:
                    fq = pool.faces[q]
                    print("    accepted: %s %s (sharpness %.0f, yaw %.0f, score %.2f)" %
                          (fq["identity"], fq["label"], fq["sharpness"], fq["yaw"], fq["score"]))
        rows.append(row)
        sys.stdout.flush()
    if reports:  # the default must be what eval faces itself reports
        for name, s in [("calibration", None), ("held out", "evaluation"), ("confirmation", "confirmation_small_faces")]:
            if s:
                want = reports[("dlib", s)]["identification"]
                got = rows[1][name]["identification"]
                if (want["strangerAccepted"], want["identified"], want["onePhotoIdentified"]) != (
                        got.get("stranger_accepted", 0), got.get("identified", 0), got.get("one_photo_identified", 0)):
                    print("MISMATCH with eval faces on %s: %s vs %s" % (s, want, got), file=sys.stderr)
                    return 10
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=1)
    return 0


def _band_T(pool, measure, lo, hi, t):
    """today's thresholds, with threshold t where the probe's (a search) `measure` lies in [lo, hi)"""
    base = steps_threshold(pool.sharpness[:, None] * np.ones((1, pool.n)), TODAY_STEPS, CAP)
    v = getattr(pool, measure)[:, None] * np.ones((1, pool.n))
    return np.where((v >= lo) & (v < hi), np.minimum(base, t), base)


if __name__ == "__main__":
    sys.exit(main())
