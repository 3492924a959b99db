#!/usr/bin/env python3
"""Check the prepared face models (run by prepare_models.sh at the end).

1. Structure: every file in MODELS.json exists with its sha256, passes onnx.checker and
   loads in OpenCV DNN (cv2, Debian's python3-opencv) with the declared output shapes.
2. Recogniser: Debian's dlib example chips (libdlib19.1 docs, johns/: 5 people x 11
   aligned 150x150 crops): same-person distances mostly < 0.5, different > 0.6.
3. Detector: the 18 hand-boxed faces of data/faces/detection/dlib_training/training.xml
   (recall/precision at score 0.5, IoU >= 0.5; whole image and whole image + 2x tiles).
4. Landmarks: on detected faces, points inside the box, eyes in plausible places.
5. End to end (if data/faces/identities exists): detect -> landmarks -> dlib chip ->
   descriptor; same/different identity distances.

Needs python3-numpy, python3-onnx, python3-opencv.  Exit status 0 when the hard checks
pass (structure, recogniser on johns, detector recall >= 0.8 with tiles, landmarks >= 0.9 plausible),
1 otherwise.  Data sets that are absent are skipped with a message.

Usage: check_models.py --models-dir models [--data-dir ../shared/data] [--json report.json]
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None
import onnx

JOHNS = "/usr/share/doc/libdlib19.1/examples/johns"

def similarity_lsq(src, dst):
    """Least-squares similarity transform (Umeyama) mapping src -> dst, as a 2x3 matrix."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1
    r = u @ e @ vt
    scale = np.trace(np.diag(sig) @ e) / (s ** 2).sum(1).mean()
    t = md - scale * r @ ms
    return np.hstack([scale * r, t[:, None]])


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


class Models:
    def __init__(self, models_dir):
        self.dir = models_dir
        with open(os.path.join(models_dir, "MODELS.json")) as f:
            self.meta = {m["name"]: m for m in json.load(f)}
        load = lambda n: cv2.dnn.readNetFromONNX(os.path.join(models_dir, self.meta[n]["file"]))
        self.rec = load("face_recognition")
        self.lmk = load("face_landmark_68")
        self.ssd = load("ssd_mobilenetv1")
        with open(os.path.join(models_dir, "ssd_anchors.json")) as f:
            a = json.load(f)
        self.anchors = np.array(a["anchors"], np.float32)
        self.sf = a["scale_factors"]
        align = self.meta["face_recognition"]["input"]["alignment"]
        self.chip_idx = align["landmark_indices"]
        self.template = np.array(align["template"], np.float64)
        hse = self.meta.get("face_recognition_hse")
        self.hse = load("face_recognition_hse") if hse else None
        self.hse_template = np.array(hse["input"]["alignment"]["template"], np.float64) if hse else None

    # --- recogniser ---------------------------------------------------------------
    def hse_descriptor(self, img_bgr, pts68):
        """faceres (opt-in): the 224x224 ArcFace-template crop of MODELS.json, BGR minus the ImageNet mean."""
        p = np.asarray(pts68, np.float64)
        five = np.stack([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]])
        m = similarity_lsq(five, self.hse_template)
        crop = cv2.warpAffine(img_bgr, m, (224, 224), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        self.hse.setInput(cv2.dnn.blobFromImage(crop, 1.0, (224, 224), (103.939, 116.779, 123.68), swapRB=False))
        v = self.hse.forward().ravel()
        return v / np.linalg.norm(v)

    def descriptor(self, chip_bgr):
        blob = cv2.dnn.blobFromImage(chip_bgr, 1 / 256.0, (150, 150), (122.782, 117.001, 104.298), swapRB=True)
        self.rec.setInput(blob)
        return self.rec.forward().ravel().copy()

    # --- detector -----------------------------------------------------------------
    def detect_square(self, img_bgr, min_score=0.5, iou=0.5, max_results=100):
        """face-api's SsdMobilenetv1.locateFaces on one image: returns [(x0,y0,x1,y1,score)] in pixels."""
        h, w = img_bgr.shape[:2]
        side = max(h, w)
        sq = np.zeros((side, side, 3), np.uint8)
        sq[:h, :w] = img_bgr
        blob = cv2.dnn.blobFromImage(sq, 1 / 127.5, (512, 512), (127.5, 127.5, 127.5), swapRB=True)
        self.ssd.setInput(blob)
        enc, logits = self.ssd.forward(["box_encodings", "class_logits"])
        boxes = self.decode(enc[0])
        scores = 1 / (1 + np.exp(-logits[0][:, 1]))
        keep = nms(boxes, scores, min_score, iou, max_results)
        out = []
        for i in keep:
            y0, x0 = max(0.0, boxes[i, 0]), max(0.0, boxes[i, 1])
            y1, x1 = min(1.0, boxes[i, 2]), min(1.0, boxes[i, 3])
            out.append((x0 * side, y0 * side, x1 * side, y1 * side, float(scores[i])))
        return out

    def decode(self, enc):
        a = self.anchors
        ha, wa = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
        yca, xca = a[:, 0] + ha / 2, a[:, 1] + wa / 2
        yc = enc[:, 0] / self.sf["y"] * ha + yca
        xc = enc[:, 1] / self.sf["x"] * wa + xca
        hh = np.exp(enc[:, 2] / self.sf["h"]) * ha
        ww = np.exp(enc[:, 3] / self.sf["w"]) * wa
        return np.stack([yc - hh / 2, xc - ww / 2, yc + hh / 2, xc + ww / 2], 1)

    def detect(self, img_bgr, tiles=False, min_score=0.5):
        dets = self.detect_square(img_bgr, min_score)
        if tiles:
            h, w = img_bgr.shape[:2]
            t = max(128, min(h, w) // 2)  # tile side in image pixels; each tile is upscaled to 512
            step = t * 3 // 4
            for y in list(range(0, max(1, h - t), step)) + [max(0, h - t)]:
                for x in list(range(0, max(1, w - t), step)) + [max(0, w - t)]:
                    tile = img_bgr[y:y + t, x:x + t]
                    th, tw = tile.shape[:2]
                    for (x0, y0, x1, y1, s) in self.detect_square(tile, min_score):
                        # a face cut by a tile edge inside the image is seen whole by a neighbour tile
                        cut = ((x0 < 2 and x > 0) or (y0 < 2 and y > 0) or
                               (x1 > tw - 2 and x + tw < w) or (y1 > th - 2 and y + th < h))
                        if not cut:
                            dets.append((x0 + x, y0 + y, x1 + x, y1 + y, s))
            b = np.array([[d[1], d[0], d[3], d[2]] for d in dets]).reshape(-1, 4)
            keep = nms(b, np.array([d[4] for d in dets]), min_score, 0.3, 1000) if dets else []
            dets = [dets[i] for i in keep]
        return dets

    # --- landmarks ----------------------------------------------------------------
    def landmarks(self, img_bgr, box):
        """box (x0,y0,x1,y1) -> 68x2 points in image pixels (face-api: box crop padded to a centred square)."""
        x0, y0, x1, y1 = [float(v) for v in box[:4]]
        bw, bh = x1 - x0, y1 - y0
        side = max(bw, bh)
        sx, sy = x0 - (side - bw) / 2, y0 - (side - bh) / 2
        # affine crop of the square [sx, sx+side) x [sy, sy+side) to 112x112, black outside the image
        m = np.array([[112 / side, 0, -sx * 112 / side], [0, 112 / side, -sy * 112 / side]])
        crop = cv2.warpAffine(img_bgr, m, (112, 112), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        blob = cv2.dnn.blobFromImage(crop, 1 / 255.0, (112, 112), (122.782, 117.001, 104.298), swapRB=True)
        self.lmk.setInput(blob)
        out = self.lmk.forward().reshape(68, 2)
        return np.stack([sx + out[:, 0] * side, sy + out[:, 1] * side], 1)

    def chip(self, img_bgr, pts68):
        m = similarity_lsq(pts68[self.chip_idx], self.template)
        return cv2.warpAffine(img_bgr, m, (150, 150), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def nms(boxes, scores, min_score, iou_thr, max_results):
    """face-api's ssdMobilenetv1/nonMaxSuppression (boxes as ymin,xmin,ymax,xmax)."""
    order = [i for i in np.argsort(-scores, kind="stable") if scores[i] > min_score]
    sel = []
    for i in order:
        if len(sel) >= max_results:
            break
        ok = True
        for j in sel:
            if iou(boxes[i], boxes[j]) > iou_thr:
                ok = False
                break
        if ok:
            sel.append(i)
    return sel


def iou(a, b):
    """IoU of two boxes given as (min0, min1, max0, max1)."""
    i0, i1 = max(a[0], b[0]), max(a[1], b[1])
    j0, j1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, j0 - i0) * max(0.0, j1 - i1)
    aa = (a[2] - a[0]) * (a[3] - a[1])
    ab = (b[2] - b[0]) * (b[3] - b[1])
    return inter / (aa + ab - inter) if aa > 0 and ab > 0 else 0.0


def pair_stats(emb, labels):
    emb, labels = np.asarray(emb), np.asarray(labels)
    d = np.linalg.norm(emb[:, None] - emb[None], axis=2)
    iu = np.triu_indices(len(emb), 1)
    same = (labels[:, None] == labels[None])[iu]
    dd = d[iu]
    r = {"n_same": int(same.sum()), "n_diff": int((~same).sum())}
    if same.any():
        r.update(same_mean=float(dd[same].mean()), same_max=float(dd[same].max()),
                 same_frac_below_0_5=float((dd[same] < 0.5).mean()), same_frac_below_0_6=float((dd[same] < 0.6).mean()))
    if (~same).any():
        r.update(diff_mean=float(dd[~same].mean()), diff_min=float(dd[~same].min()),
                 diff_frac_above_0_6=float((dd[~same] > 0.6).mean()), diff_frac_above_0_5=float((dd[~same] > 0.5).mean()))
    return r


def check_structure(models_dir, report):
    ok = True
    with open(os.path.join(models_dir, "MODELS.json")) as f:
        meta = json.load(f)
    for m in meta:
        p = os.path.join(models_dir, m["file"])
        good = os.path.exists(p) and sha256(p) == m["sha256"] and os.path.getsize(p) == m["bytes"]
        entry = {"file": m["file"], "sha256_ok": good}
        if good and p.endswith(".onnx"):
            model = onnx.load(p)
            onnx.checker.check_model(model)
            entry["opset"] = model.opset_import[0].version
            entry["ir_version"] = model.ir_version
            net = cv2.dnn.readNetFromONNX(p)
            shape = m["input"]["shape"]
            net.setInput(np.zeros(shape, np.float32))
            names = [o["name"] for o in m["outputs"]]
            outs = net.forward(names)
            got = [list(o.shape) for o in outs]
            want = [o["shape"] for o in m["outputs"]]
            entry["outputs"] = got
            good = got == want
            # latency (OpenCV DNN, current thread setting)
            net.forward(names)
            t = time.perf_counter()
            for _ in range(5):
                net.forward(names)
            entry["latency_ms"] = round((time.perf_counter() - t) / 5 * 1000, 1)
        entry["ok"] = bool(good)
        ok &= good
        report.setdefault("structure", []).append(entry)
        print(f"[structure] {m['file']}: {'OK' if good else 'FAIL'} {entry}")
    return ok


def check_blazeface(models_dir, data_dir, report):
    """BlazeFace back-256 (copied as-is from its pinned package): it loads in OpenCV DNN with the output shapes
    vision/blazeface_net.cpp decodes, is confident on a face and silent on a black image."""
    p = os.path.join(models_dir, "blazeface_back_256.onnx")
    onnx.checker.check_model(onnx.load(p))
    net = cv2.dnn.readNetFromONNX(p)
    names = ["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"]

    def best_score(bgr):
        side = max(bgr.shape[:2])
        sq = np.zeros((side, side, 3), np.uint8)
        sq[:bgr.shape[0], :bgr.shape[1]] = bgr
        x = cv2.resize(sq, (256, 256))[:, :, ::-1].astype(np.float32) / 127.5 - 1
        net.setInput(x[None])
        outs = net.forward(names)
        logits = np.clip(np.concatenate([outs[0].ravel(), outs[1].ravel()]).astype(np.float64), -100, 100)
        return [list(o.shape) for o in outs], float(1 / (1 + np.exp(-logits.max())))

    shapes, black = best_score(np.zeros((480, 640, 3), np.uint8))
    r = {"outputs": shapes, "black_best_score": round(black, 3)}
    ok = shapes == [[1, 512, 1], [1, 384, 1], [1, 512, 16], [1, 384, 16]] and black < 0.5
    photo = os.path.join(data_dir, "faces", "groups", "two_people.jpg")
    if os.path.exists(photo):
        r["face_best_score"] = round(best_score(cv2.imread(photo))[1], 3)
        ok &= r["face_best_score"] > 0.5
    r["ok"] = bool(ok)
    report["blazeface"] = r
    print(f"[blazeface] {'OK' if ok else 'FAIL'} {r}")
    return ok


def check_crowd(models_dir, data_dir, report):
    """The composed crowd model runs in OpenCV at two sizes, is non-negative, sees ~nobody in a black
    frame and about the right crowd in one annotated street image (a smoke test, not the evaluation:
    `facecrowd eval crowd` is)."""
    net = cv2.dnn.readNetFromONNX(os.path.join(models_dir, "crowd_density.onnx"))

    cell_floor = 0.003  # vision/crowd_counter.h kDefaultCellFloor (tools/crowd/calibrate_floor.py)

    def count(bgr):
        blob = cv2.dnn.blobFromImage(bgr, 1 / 127.5, (bgr.shape[1], bgr.shape[0]), (127.5,) * 3, True, False)
        net.setInput(blob)
        out = net.forward()
        assert out.shape[2] * 8 == bgr.shape[0] and out.shape[3] * 8 == bgr.shape[1], out.shape
        return float(out[out >= cell_floor].sum()), float(out.min())

    black, black_min = count(np.zeros((768, 1024, 3), np.uint8))
    entry = {"black_1024x768": round(black, 2)}
    ok = black < 2 and black_min >= 0
    img_path = os.path.join(data_dir, "crowd", "shanghaitech", "part_B", "train", "images", "IMG_1.jpg")
    if os.path.exists(img_path):
        truth = json.load(open(img_path.replace("images", "points").replace(".jpg", ".json")))["count"]
        got, got_min = count(cv2.imread(img_path))  # 1024x768: multiples of 16
        entry.update({"part_B_IMG_1": round(got, 1), "truth": truth})
        ok &= got_min >= 0 and 0.5 * truth <= got <= 1.5 * truth + 5
    entry["ok"] = bool(ok)
    report["crowd"] = entry
    print(f"[crowd] {'OK' if ok else 'FAIL'} {entry}")
    return ok


def check_johns(M, report):
    files = sorted(glob.glob(os.path.join(JOHNS, "*", "*.jpg")))
    if not files:
        print(f"[recogniser] SKIP: {JOHNS} missing (apt-get install libdlib19.1)")
        return True
    emb = [M.descriptor(cv2.imread(f)) for f in files]
    labels = [os.path.basename(os.path.dirname(f)) for f in files]
    r = pair_stats(emb, labels)
    r["images"] = len(files)
    report["recogniser_johns"] = r
    print(f"[recogniser] dlib johns {len(files)} chips: same mean {r['same_mean']:.3f} max {r['same_max']:.3f} "
          f"(<0.5: {r['same_frac_below_0_5']:.3f}); different min {r['diff_min']:.3f} mean {r['diff_mean']:.3f} "
          f"(>0.6: {r['diff_frac_above_0_6']:.3f})")
    return r["same_frac_below_0_5"] >= 0.9 and r["diff_frac_above_0_6"] >= 0.99 and r["same_mean"] < 0.4


def eyes_plausible(pts, box):
    x0, y0, x1, y1 = box[:4]
    bw, bh = x1 - x0, y1 - y0
    le, re = pts[36:42].mean(0), pts[42:48].mean(0)
    nose, mouth = pts[30], pts[48:68].mean(0)
    iod = np.linalg.norm(re - le)
    ang = abs(np.degrees(np.arctan2(re[1] - le[1], re[0] - le[0])))
    return bool(le[0] < nose[0] < re[0] and 0.2 * bw < iod < 0.7 * bw and ang < 30
                and max(le[1], re[1]) < nose[1] < mouth[1] and y0 < le[1] < y0 + 0.65 * bh and y0 < re[1] < y0 + 0.65 * bh)


def inside_frac(pts, box, margin=0.1):
    x0, y0, x1, y1 = box[:4]
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    ins = (pts[:, 0] >= x0 - mx) & (pts[:, 0] <= x1 + mx) & (pts[:, 1] >= y0 - my) & (pts[:, 1] <= y1 + my)
    return float(ins.mean())


def check_detector(M, data_dir, report, lmk_stats):
    xml = os.path.join(data_dir, "faces", "detection", "dlib_training", "training.xml")
    if not os.path.exists(xml):
        print(f"[detector] SKIP: {xml} missing")
        return True
    root = ET.parse(xml).getroot()
    ok = True
    for tiles in (False, True):
        tp = fp = ngt = 0
        extra_small = 0
        t_total = 0.0
        for im in root.iter("image"):
            img = cv2.imread(os.path.join(os.path.dirname(xml), im.get("file")))
            gts = [(float(b.get("left")), float(b.get("top")), float(b.get("left")) + float(b.get("width")),
                    float(b.get("top")) + float(b.get("height"))) for b in im.iter("box")]
            t = time.perf_counter()
            dets = M.detect(img, tiles=tiles)
            t_total += time.perf_counter() - t
            ngt += len(gts)
            used = set()
            for d in dets:
                best, bj = 0.0, -1
                for j, g in enumerate(gts):
                    v = iou(d, g)
                    if v > best and j not in used:
                        best, bj = v, j
                if best >= 0.5:
                    used.add(bj)
                    tp += 1
                    if tiles:  # landmarks on matched faces
                        pts = M.landmarks(img, d)
                        lmk_stats.append((inside_frac(pts, d), eyes_plausible(pts, d)))
                else:
                    # unboxed small background faces are not errors (data/README.md)
                    if (d[2] - d[0]) < 36 and max((iou(d, g) for g in gts), default=0) < 0.1:
                        extra_small += 1
                    else:
                        fp += 1
        key = "detector_tiled" if tiles else "detector_whole"
        r = {"gt": ngt, "tp": tp, "fp": fp, "unboxed_small_ignored": extra_small, "recall": tp / ngt,
             "precision": tp / max(1, tp + fp), "seconds_per_image": round(t_total / 4, 3)}
        report[key] = r
        print(f"[detector] {'whole image + 2x tiles' if tiles else 'whole image'}: recall {tp}/{ngt} = {r['recall']:.3f}, "
              f"precision {r['precision']:.3f} (fp {fp}, small unboxed ignored {extra_small}), "
              f"{r['seconds_per_image']} s/image")
        if tiles:
            ok &= r["recall"] >= 0.8 and r["precision"] >= 0.8
    return ok


def check_identities(M, data_dir, report, lmk_stats):
    root = os.path.join(data_dir, "faces", "identities")
    if not os.path.isdir(root):
        print(f"[end-to-end] SKIP: {root} missing")
        return
    emb, labels, missed, hse_emb = [], [], [], []
    for f in sorted(glob.glob(os.path.join(root, "*", "*"))):
        img = cv2.imread(f)
        if img is None:
            continue
        dets = M.detect(img)
        if not dets:
            dets = M.detect(img, tiles=True)
        if not dets:
            missed.append(os.path.relpath(f, root))
            continue
        d = max(dets, key=lambda d: (d[2] - d[0]) * (d[3] - d[1]))
        pts = M.landmarks(img, d)
        lmk_stats.append((inside_frac(pts, d), eyes_plausible(pts, d)))
        emb.append(M.descriptor(M.chip(img, pts)))
        if M.hse is not None:
            hse_emb.append(M.hse_descriptor(img, pts))
        labels.append(os.path.basename(os.path.dirname(f)))
    r = pair_stats(emb, labels)
    r.update(images=len(emb), no_face=missed)
    report["end_to_end_identities"] = r
    print(f"[end-to-end] identities: {len(emb)} faces ({len(missed)} images without a detection: {missed}); "
          f"same mean {r.get('same_mean', float('nan')):.3f} max {r.get('same_max', float('nan')):.3f} "
          f"(<0.6: {r.get('same_frac_below_0_6', float('nan')):.3f}); different min {r.get('diff_min', float('nan')):.3f} "
          f"mean {r.get('diff_mean', float('nan')):.3f} (>0.6: {r.get('diff_frac_above_0_6', float('nan')):.3f})")
    if hse_emb:
        h = pair_stats(hse_emb, labels)
        report["end_to_end_identities_faceres"] = h
        print(f"[end-to-end] identities, faceres (opt-in): same mean {h.get('same_mean', float('nan')):.3f} "
              f"max {h.get('same_max', float('nan')):.3f}; different min {h.get('diff_min', float('nan')):.3f} "
              f"mean {h.get('diff_mean', float('nan')):.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", default="models")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data-dir", default=os.path.normpath(os.path.join(here, "..", "..", "shared", "data")))
    ap.add_argument("--json", help="write the numbers here")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if cv2 is None:
        print("check_models: python3-opencv is missing (apt-get install python3-opencv)", file=sys.stderr)
        return 2
    cv2.setNumThreads(args.threads)
    report = {"opencv": cv2.__version__, "threads": args.threads}
    ok = check_structure(args.models_dir, report)
    M = Models(args.models_dir)
    ok &= check_johns(M, report)
    ok &= check_blazeface(args.models_dir, args.data_dir, report)
    ok &= check_crowd(args.models_dir, args.data_dir, report)
    lmk = []
    ok &= check_detector(M, args.data_dir, report, lmk)
    check_identities(M, args.data_dir, report, lmk)
    if lmk:
        r = {"faces": len(lmk), "mean_inside_frac": float(np.mean([a for a, _ in lmk])),
             "eyes_plausible_frac": float(np.mean([b for _, b in lmk]))}
        report["landmarks"] = r
        print(f"[landmarks] {r['faces']} detected faces: {r['mean_inside_frac']:.3f} of points inside the box (+10%), "
              f"eyes/nose/mouth plausible on {r['eyes_plausible_frac']:.3f}")
        ok &= r["eyes_plausible_frac"] >= 0.9
    report["ok"] = bool(ok)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    print("check_models:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
