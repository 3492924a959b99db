#!/usr/bin/env python3
"""Measure candidate face-embedding models against today's dlib ResNet on the very same faces and pairs.

The faces come from the C++ pipeline, so detection, face choice and landmarks are exactly production's:

  facecrowd eval faces --pairs tools/face_split.json --set calibration --faces-out cal_faces.json
  facecrowd eval faces --pairs tools/face_split.json --set evaluation  --faces-out eval_faces.json
  facecrowd eval faces --pairs tools/face_split.json --set calibration_small_faces --faces-out small.json
  tools/measure_face_models.py --calibration cal_faces.json [small.json] --evaluation eval_faces.json \\
      --models-dir models --candidates DIR_WITH_CONVERTED_ONNX [--json out.json]

For every model, each face is aligned from its 68 landmarks the way that model expects (dlib's 150x150
chip for the dlib ResNet, the 5-point ArcFace template for the 112x112 models, the same template with a
margin for the 224x224 ones), embedded with OpenCV DNN and L2-normalised. Then, as `eval faces --pairs`:
every pair of faces of a set is genuine (same identity) or impostor; accept distance <= threshold.

Per model:
  threshold   the largest threshold with FAR <= 0.1% on the calibration set (how the default 0.36 was chosen);
  on the evaluation (held-out) set at that threshold: FAR, FRR, rank-1 and identified (leave-one-out: each
  face whose identity has other faces, searched among all other faces; identified = right and distance <=
  threshold), strangers accepted (each face searched with its identity left out);
  FRR at FAR 0.1% on the evaluation set itself (the threshold that admits floor(0.001 * N) impostor pairs);
  ms/face: the median forward time of the net (OpenCV DNN, --threads threads) plus alignment.

The dlib row is recomputed here from the landmarks and checked against the C++ embeddings in the JSON
(cosine >= 0.999 for nearly every face), so the candidates' rows are comparable with it.

Needs Debian's python3-numpy and python3-opencv. Run long jobs with `nice`.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_models import similarity_lsq  # noqa: E402

# insightface's 112x112 ArcFace alignment template: eye (image left), eye (image right), nose tip, mouth
# corners (image left, right).
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)


def five_points(pts68):
    p = np.asarray(pts68, np.float64)
    return np.stack([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]])


def arcface_crop(img, pts68, size, margin=0.0):
    """The ArcFace template scaled to `size`; margin > 0 zooms out (the face covers 1/(1+2*margin))."""
    t = ARCFACE_112 / 112.0
    t = (t + margin) / (1 + 2 * margin) * size
    m = similarity_lsq(five_points(pts68), t)
    return cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


class DlibResNet:
    name = "dlib ResNet (today)"

    def __init__(self, models_dir):
        with open(os.path.join(models_dir, "MODELS.json")) as f:
            meta = {m["name"]: m for m in json.load(f)}["face_recognition"]
        self.net = cv2.dnn.readNetFromONNX(os.path.join(models_dir, meta["file"]))
        align = meta["input"]["alignment"]
        self.idx = align["landmark_indices"]
        self.template = np.array(align["template"], np.float64)

    def crop(self, img, pts68):
        m = similarity_lsq(np.asarray(pts68, np.float64)[self.idx], self.template)
        return cv2.warpAffine(img, m, (150, 150), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def blob(self, chip):
        return cv2.dnn.blobFromImage(chip, 1 / 256.0, (150, 150), (122.782, 117.001, 104.298), swapRB=True)


class Candidate:
    """A converted human-models graph: its file, input size, pixel scaling and alignment."""

    def __init__(self, name, path, size, scale, mean, swap_rb, margin):
        self.name, self.size, self.scale, self.mean, self.swap_rb, self.margin = name, size, scale, mean, swap_rb, margin
        self.net = cv2.dnn.readNetFromONNX(path)

    def crop(self, img, pts68):
        return arcface_crop(img, pts68, self.size, self.margin)

    def blob(self, chip):
        return cv2.dnn.blobFromImage(chip, self.scale, (self.size, self.size), self.mean, swapRB=self.swap_rb)


def embed_all(model, faces, images):
    if isinstance(model, Fused):
        return embed_fused(model, faces, images)
    out, times = [], []
    for f in faces:
        if f["landmarks"] is None:
            out.append(None)
            continue
        img = images[f["image"]]
        t0 = time.perf_counter()
        chip = model.crop(img, f["landmarks"])
        model.net.setInput(model.blob(chip))
        v = model.net.forward().ravel().astype(np.float64)
        times.append(time.perf_counter() - t0)
        out.append(v / max(np.linalg.norm(v), 1e-12))
    return out, times


def load_images(faces):
    images = {}
    for f in faces:
        if f["image"] in images:
            continue
        img = cv2.imread(f["image"], cv2.IMREAD_COLOR)
        if img is None:
            raise SystemExit(f"cannot read {f['image']}")
        w, h = f["imageSize"]
        if (img.shape[1], img.shape[0]) != (w, h):
            raise SystemExit(f"{f['image']}: {img.shape[1]}x{img.shape[0]} here, {w}x{h} in the C++ pipeline")
        images[f["image"]] = img
    return images


def pair_distances(faces, emb):
    idx = [i for i, e in enumerate(emb) if e is not None]
    E = np.stack([emb[i] for i in idx])
    ids = np.array([faces[i]["identity"] for i in idx])
    D = np.sqrt(np.maximum(2 - 2 * E @ E.T, 0))
    iu = np.triu_indices(len(idx), 1)
    same = ids[iu[0]] == ids[iu[1]]
    return D, ids, D[iu][same], D[iu][~same]


def threshold_at_far(impostor, far=0.001):
    """Largest t (accept d <= t) with impostors accepted <= floor(far * N): just below the next impostor."""
    s = np.sort(impostor)
    allowed = int(np.floor(far * len(s) + 1e-9))
    if allowed >= len(s):
        return float(s[-1])
    return float(np.nextafter(np.float32(s[allowed]), np.float32(0)))


def leave_one_out(D, ids, t):
    n = len(ids)
    rank1 = identified = searches = strangers = stranger_acc = 0
    for i in range(n):
        d = D[i].copy()
        d[i] = np.inf
        if (ids == ids[i]).sum() > 1:
            searches += 1
            j = int(np.argmin(d))
            if ids[j] == ids[i]:
                rank1 += 1
                if d[j] <= t:
                    identified += 1
        d_out = d.copy()
        d_out[ids == ids[i]] = np.inf
        strangers += 1
        if np.min(d_out) <= t:
            stranger_acc += 1
    return rank1, identified, searches, stranger_acc, strangers


def measure(model, cal, ev, images_cal, images_ev, threads):
    cv2.setNumThreads(threads)
    emb_c, _ = embed_all(model, cal["faces"], images_cal)
    emb_e, times = embed_all(model, ev["faces"], images_ev)
    _, _, gen_c, imp_c = pair_distances(cal["faces"], emb_c)
    D, ids, gen_e, imp_e = pair_distances(ev["faces"], emb_e)
    t = threshold_at_far(imp_c)
    t_e = threshold_at_far(imp_e)
    r1, ident, searches, sacc, strangers = leave_one_out(D, ids, t)
    return {
        "model": model.name,
        "threshold": t,
        "calibration": {"far": float((imp_c <= t).mean()), "frr": float((gen_c > t).mean()),
                        "impostorPairs": int(len(imp_c)), "genuinePairs": int(len(gen_c))},
        "evaluation": {"far": float((imp_e <= t).mean()), "impostorAccepted": int((imp_e <= t).sum()),
                       "frr": float((gen_e > t).mean()), "genuineRejected": int((gen_e > t).sum()),
                       "impostorPairs": int(len(imp_e)), "genuinePairs": int(len(gen_e)),
                       "rank1": r1, "identified": ident, "searches": searches,
                       "strangersAccepted": sacc, "strangers": strangers,
                       "thresholdAtFar0.1%": t_e, "frrAtFar0.1%": float((gen_e > t_e).mean()),
                       "genuineRejectedAtFar0.1%": int((gen_e > t_e).sum())},
        "msPerFace": 1000 * float(np.median(times)),
    }, emb_e


CANDIDATES = {
    # name: (file, input size, blobFromImage scale, mean, swapRB, template margin)
    # mobilefacenet: sirius-ai MobileFaceNet_TF's preprocessing ((x - 127.5) / 128), both channel orders
    "mobilefacenet": ("mobilefacenet.onnx", 112, 1 / 128.0, (127.5, 127.5, 127.5), True, 0.0),
    "mobilefacenet-bgr": ("mobilefacenet.onnx", 112, 1 / 128.0, (127.5, 127.5, 127.5), False, 0.0),
    # mobileface: mean/scale are inside the graph (MXNet export): raw 0..255 pixels
    "mobileface": ("mobileface.onnx", 112, 1.0, (0, 0, 0), True, 0.0),
    "mobileface-bgr": ("mobileface.onnx", 112, 1.0, (0, 0, 0), False, 0.0),
    # faceres(-deep): HSE_FaceRec_tf (av-savchenko) feeds 0..255 minus the ImageNet mean, BGR ("convert2BGR,
    # imageNetUtilsMean"); Human feeds 0..255 RGB without the mean; the margin around the ArcFace template is swept
    "faceres-bgr-mean-m0.1": ("faceres.onnx", 224, 1.0, (103.939, 116.779, 123.68), False, 0.1),
    "faceres-bgr-mean-m0.2": ("faceres.onnx", 224, 1.0, (103.939, 116.779, 123.68), False, 0.2),
    "faceres-rgb-mean-m0.1": ("faceres.onnx", 224, 1.0, (123.68, 116.779, 103.939), True, 0.1),
    "faceres-deep-bgr-mean-m0.1": ("faceres-deep.onnx", 224, 1.0, (103.939, 116.779, 123.68), False, 0.1),
    "faceres-m0": ("faceres.onnx", 224, 1.0, (0, 0, 0), True, 0.0),
    "faceres-m0.05": ("faceres.onnx", 224, 1.0, (0, 0, 0), True, 0.05),
    "faceres-m0.1": ("faceres.onnx", 224, 1.0, (0, 0, 0), True, 0.1),
    "faceres-m0.2": ("faceres.onnx", 224, 1.0, (0, 0, 0), True, 0.2),
    "faceres-deep-m0": ("faceres-deep.onnx", 224, 1.0, (0, 0, 0), True, 0.0),
    "faceres-deep-m0.1": ("faceres-deep.onnx", 224, 1.0, (0, 0, 0), True, 0.1),
}


class Fused:
    """Several models' unit embeddings side by side, renormalised: distance^2 = mean of the models' distance^2."""

    def __init__(self, parts):
        self.parts = parts
        self.name = " + ".join(p.name for p in parts)


def embed_fused(model, faces, images):
    outs, all_times = [], []
    for p in model.parts:
        e, t = embed_all(p, faces, images)
        outs.append(e)
        all_times.append(t)
    fused = []
    for vs in zip(*outs):
        fused.append(None if any(v is None for v in vs) else np.concatenate(vs) / np.sqrt(len(vs)))
    return fused, [sum(ts) for ts in zip(*all_times)]


def bench(models, image, pts68, rounds, threads):
    """Median ms per face (alignment + blob + forward) of each model, the models interleaved round by round so
    that load from other processes falls on all of them alike; the ratio is to the first (dlib)."""
    cv2.setNumThreads(threads)
    times = {m.name: [] for m in models}
    for m in models:  # first runs (allocation) are not counted
        m.net.setInput(m.blob(m.crop(image, pts68)))
        m.net.forward()
    for _ in range(rounds):
        for m in models:
            t0 = time.perf_counter()
            m.net.setInput(m.blob(m.crop(image, pts68)))
            m.net.forward()
            times[m.name].append(time.perf_counter() - t0)
    base = float(np.median(times[models[0].name]))
    return {n: {"ms": 1000 * float(np.median(t)), "ratioToDlib": float(np.median(t)) / base} for n, t in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calibration", required=True, nargs="+",
                    help="faces JSON of --set calibration (eval faces --faces-out); several are merged into one set "
                         "(e.g. calibration + calibration_small_faces; every pair across them counts too)")
    ap.add_argument("--evaluation", required=True, help="faces JSON of --set evaluation")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--candidates", required=True, help="folder of the converted candidate ONNX files")
    ap.add_argument("--only", nargs="*", help="candidate names (default: all of CANDIDATES whose file exists)")
    ap.add_argument("--fuse", nargs="*", default=[],
                    help="also measure dlib + CANDIDATE (both unit embeddings side by side)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bench", type=int, default=0, metavar="ROUNDS",
                    help="only time the models (ROUNDS interleaved forward passes on one evaluation face)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    cal = {"faces": [f for path in args.calibration for f in json.load(open(path))["faces"]]}
    ev = json.load(open(args.evaluation))
    images_cal, images_ev = load_images(cal["faces"]), load_images(ev["faces"])

    def candidate(name):
        f, size, scale, mean, swap, margin = CANDIDATES[name]
        path = os.path.join(args.candidates, f)
        return Candidate(name, path, size, scale, mean, swap, margin) if os.path.exists(path) else None

    dlib = DlibResNet(args.models_dir)
    if args.bench:
        face = next(f for f in ev["faces"] if f["landmarks"] is not None)
        models = [dlib] + [c for c in (candidate(n) for n in (args.only if args.only is not None else list(CANDIDATES))) if c]
        print(json.dumps(bench(models, images_ev[face["image"]], face["landmarks"], args.bench, args.threads), indent=1))
        return 0
    rows = []
    row, emb = measure(dlib, cal, ev, images_cal, images_ev, args.threads)
    agree = [float(np.dot(e, np.asarray(f["embedding"]))) for e, f in zip(emb, ev["faces"]) if e is not None]
    row["agreementWithCpp"] = {"faces": len(agree), "cosineMin": min(agree),
                               "cosineAbove0.999": int(sum(a >= 0.999 for a in agree))}
    rows.append(row)
    print(json.dumps(row), flush=True)
    todo = [(n, candidate(n)) for n in (args.only if args.only is not None else list(CANDIDATES))]
    todo += [("dlib + " + n, Fused([dlib, candidate(n)])) for n in args.fuse if candidate(n)]
    for name, model in todo:
        if model is None:
            print(f"skipping {name}: its ONNX file is absent in {args.candidates}", file=sys.stderr)
            continue
        row, _ = measure(model, cal, ev, images_cal, images_ev, args.threads)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print()
    print("| model | calibration FRR at its FAR 0.1% | threshold (cal. FAR <= 0.1%) | held-out FAR at it | held-out FRR at it | FRR at held-out FAR 0.1% | "
          "rank-1 | identified | strangers accepted | ms/face |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e = r["evaluation"]
        print(f"| {r['model']} | {100 * r['calibration']['frr']:.1f}% | {r['threshold']:.3f} | {100 * e['far']:.3f}% ({e['impostorAccepted']}/{e['impostorPairs']}) | "
              f"{100 * e['frr']:.1f}% ({e['genuineRejected']}/{e['genuinePairs']}) | "
              f"{100 * e['frrAtFar0.1%']:.1f}% ({e['genuineRejectedAtFar0.1%']}/{e['genuinePairs']}, t {e['thresholdAtFar0.1%']:.3f}) | "
              f"{e['rank1']}/{e['searches']} | {e['identified']}/{e['searches']} | {e['strangersAccepted']}/{e['strangers']} | "
              f"{r['msPerFace']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
