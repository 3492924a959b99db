#!/usr/bin/env python3
"""CTest `MeasureProbeRules.*` (tools/measure_probe_rules.py): the one-photo margin applies when the top person has one
photo in the search's own gallery, so the one-photo identification trials (a person reduced to one enrolled photo,
the case the margin is for) are judged by it. Until 2026-11-30 the tool counted the person's photos in the whole
set, so those trials never got the margin and a one-photo margin of 0.10 looked free (tools/calibrate_faces.md).
Synthetic embeddings: A has two photos 0.20 apart; B, one photo 0.29 from A's first.

  tests/measure_probe_rules_test.py SOURCE_DIR
"""
import os
import sys

import numpy as np

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, os.path.join(SRC, "tools"))
import measure_probe_rules as R  # noqa: E402


def unit_at(chord, axis):
    """a unit vector at this L2 distance from (1, 0, 0), turned towards `axis`"""
    theta = 2 * np.arcsin(chord / 2)
    v = np.zeros(3)
    v[0], v[axis] = np.cos(theta), np.sin(theta)
    return v


def face(identity, e):
    return dict(identity=identity, label=identity, enrollable=True, eyes=40.0, sharpness=100.0, score=0.9, flip=0.0,
                roll=0.0, yaw=0.0, e=e, m=None)


pool = R.Pool([face("A", np.array([1.0, 0, 0])), face("A", unit_at(0.20, 1)), face("B", unit_at(0.29, 2))])
pool.genuine_set = set(pool.genuine)
assert abs(pool.D[0, 1] - 0.20) < 1e-9 and abs(pool.D[0, 2] - 0.29) < 1e-9, pool.D

failures = []
today = R.identification(pool, R.Rule("", one_photo_margin=0.07))
if (today["identified"], today["one_photo"], today["one_photo_identified"]) != (2, 2, 2):
    failures.append("margin 0.07: both of A's photos find A (margins 0.09 and more): %s" % dict(today))
wider = R.identification(pool, R.Rule("", one_photo_margin=0.10))
# A's first photo, with only A's second enrolled: 0.20 to A, 0.29 to B, a margin of 0.09 < 0.10.
if (wider["identified"], wider["one_photo_identified"]) != (1, 1):
    failures.append("one-photo margin 0.10: A's first photo, searched with one photo of A enrolled (margin 0.09), "
                    "must be turned away: identified %d/2, one photo %d/2 (want 1 and 1)" %
                    (wider["identified"], wider["one_photo_identified"]))
for f in failures:
    print("FAIL: " + f)
print("ok" if not failures else "%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
