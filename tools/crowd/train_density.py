#!/usr/bin/env python3
"""Trains facecrowd's crowd density head on ../shared/data/crowd and exports tools/crowd/crowd_head.onnx.

  /usr/bin/python3 tools/crowd/train_density.py --data ../shared/data/crowd --ssd models/ssd_mobilenetv1.onnx \
      --out tools/crowd/crowd_head.onnx [--epochs 20] [--lr 1e-3] [--seed 20261127] [--threads 2]

Reproducible: fixed seeds, single-threaded data order, deterministic torch algorithms. See TRAINING.md for
the command that produced the committed model, its data and its wall time.

Data: ShanghaiTech part A train, part B train and street_india train. A fixed 10% of each (20% of the 30
street_india images) is held out as validation by a seeded shuffle of the file names; the split is written
next to the model (crowd_head.split.json) and reused by `facecrowd eval crowd --split`. Validation images
are never used for training, model selection or any choice of hyper-parameters here.

Targets: one Gaussian per annotated head, sampled at the centres of the 8x8 cells of the output grid and
normalised so that every head contributes exactly 1. Sigma is fixed (15 px) for the sparse street sets and
geometry-adaptive for part A: 0.3 x the mean distance to the 3 nearest heads, clipped to [2, 30] px.

Training: the frozen stem (MobileNet blocks 0-5) runs once per image and its stride-8 features are cached
in memory (float16); the head (blocks 6-11 + decoder) trains on random 256x256-pixel crops of them, plus
crops of synthetic empty scenes (uniform colours, gradients, smoothed noise, blocks; target 0).
"""
import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crowd_net  # noqa: E402
from crowd_data import head_sigmas, log, split_sets  # noqa: E402

TARGET_SCALE = 100.0     # density x 100 during training; folded out at export
CROP_CELLS = 32          # 256 px crops


def density_target(points, sigmas, grid_h, grid_w):
    """Each head's Gaussian sampled at cell centres, normalised to sum 1 within the grid."""
    target = np.zeros((grid_h, grid_w), np.float32)
    s = crowd_net.STRIDE
    for (x, y), sigma in zip(points, sigmas):
        radius = max(1, int(np.ceil(3 * sigma / s)))
        cx, cy = int(x // s), int(y // s)
        x0, x1 = max(0, cx - radius), min(grid_w, cx + radius + 1)
        y0, y1 = max(0, cy - radius), min(grid_h, cy + radius + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        xs = (np.arange(x0, x1) + 0.5) * s - x
        ys = (np.arange(y0, y1) + 0.5) * s - y
        g = np.exp(-(ys[:, None] ** 2 + xs[None, :] ** 2) / (2 * sigma * sigma))
        total = g.sum()
        if total < 1e-12:   # sigma far below a cell: all mass in the head's own cell
            g = np.zeros_like(g)
            g[min(cy, y1 - 1) - y0, min(cx, x1 - 1) - x0] = 1.0
            total = 1.0
        target[y0:y1, x0:x1] += g / total
    return target


def load_item(item, stem):
    image = cv2.imread(str(item["image"]), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"train_density: cannot decode {item['image']}")
    record = json.loads(Path(item["points"]).read_text())
    points = np.asarray(record["points"], np.float32).reshape(-1, 2)
    h, w = image.shape[:2]
    inside = (points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)
    points = points[inside]
    with torch.no_grad():
        features = stem(crowd_net.preprocess(image))[0].to(torch.float16)
    grid_h, grid_w = features.shape[1:]
    target = density_target(points, head_sigmas(points, item["sigma"]), grid_h, grid_w)
    # Cells wholly in the padding carry no image: mask them out of the loss.
    valid = np.zeros((grid_h, grid_w), np.float32)
    valid[:-(-h // crowd_net.STRIDE), :-(-w // crowd_net.STRIDE)] = 1.0
    return {"set": item["set"], "name": item["image"].name, "features": features,
            "target": torch.from_numpy(target), "valid": torch.from_numpy(valid), "count": float(len(points))}


def synthetic_empty_scene(index, seed):
    """A 512x384 image without people: a uniform colour, a two-colour gradient, smoothed noise (plaster,
    foliage, tarmac) or stripes and blocks (tiles, facades). Crowd images rarely show empty scenes, and a
    model that never saw one answers a blank frame with a small density in every cell, which adds up to
    several 'people' on a large image."""
    rng = np.random.default_rng([seed, index])
    h, w = 384, 512
    kind = index % 4
    c1, c2 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    if kind == 0:
        img = np.broadcast_to(c1, (h, w, 3)).copy()
    elif kind == 1:
        t = np.linspace(0, 1, w if rng.random() < 0.5 else h)
        ramp = t[None, :, None] if len(t) == w else t[:, None, None]
        img = np.broadcast_to(c1 + (c2 - c1) * ramp, (h, w, 3)).copy()
    elif kind == 2:
        noise = rng.normal(0, 1, (h, w, 3)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), float(rng.uniform(0.5, 12)))
        noise /= noise.std() + 1e-6
        img = c1 + noise * rng.uniform(3, 40)
    else:
        img = np.broadcast_to(c1, (h, w, 3)).copy()
        for _ in range(int(rng.integers(3, 12))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            img[y0:y0 + int(rng.integers(8, 200)), x0:x0 + int(rng.integers(8, 200))] = rng.uniform(0, 255, 3)
        img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 1.0)
    return np.clip(img, 0, 255).astype(np.uint8)


def empty_sample(index, seed, stem):
    image = synthetic_empty_scene(index, seed)
    with torch.no_grad():
        features = stem(crowd_net.preprocess(image))[0].to(torch.float16)
    grid_h, grid_w = features.shape[1:]
    return {"set": "empty", "name": f"empty_{index}", "features": features,
            "target": torch.zeros(grid_h, grid_w), "valid": torch.ones(grid_h, grid_w), "count": 0.0}


def random_crop(sample, rng):
    _, h, w = sample["features"].shape
    ch, cw = min(CROP_CELLS, h - h % 2), min(CROP_CELLS, w - w % 2)
    y = rng.randrange(0, h - ch + 1)
    x = rng.randrange(0, w - cw + 1)
    # No flips: mirrored stem features are not the stem's features of a mirrored image.
    f = sample["features"][:, y:y + ch, x:x + cw].float()
    t = sample["target"][y:y + ch, x:x + cw]
    v = sample["valid"][y:y + ch, x:x + cw]
    return f, t, v


def evaluate(model, samples):
    model.eval()
    per_set = {}
    rows = []
    with torch.no_grad():
        for s in samples:
            pred = model(s["features"].float()[None])[0, 0] / TARGET_SCALE
            predicted = float((pred * s["valid"]).sum())
            per_set.setdefault(s["set"], []).append(predicted - s["count"])
            rows.append((s["set"], s["name"], s["count"], predicted))
    summary = {k: {"images": len(v), "mae": float(np.mean(np.abs(v))), "rmse": float(np.sqrt(np.mean(np.square(v))))}
               for k, v in per_set.items()}
    return summary, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the crowd data root (../shared/data/crowd)")
    ap.add_argument("--ssd", type=Path, required=True, help="models/ssd_mobilenetv1.onnx from prepare_models.sh")
    ap.add_argument("--out", type=Path, required=True, help="where to write the head ONNX")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--crops-per-image", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of the new layers (the trunk: a tenth)")
    ap.add_argument("--empty-fraction", type=float, default=0.1,
                    help="synthetic empty scenes added to training, as a fraction of the training images")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="smoke test: a seeded sample of N training and N validation images")
    args = ap.parse_args()

    started = time.time()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed % 2**32)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    cv2.setNumThreads(1)

    train_items, val_items = split_sets(args.data, args.seed, "train_density")
    if args.limit:   # a seeded sample of every set, for smoke tests
        train_items = random.Random(args.seed).sample(train_items, min(args.limit, len(train_items)))
        val_items = random.Random(args.seed).sample(val_items, min(args.limit, len(val_items)))
    log(f"{len(train_items)} training images, {len(val_items)} validation images")

    stem = crowd_net.mobilenet_blocks(str(args.ssd), 0, 5).eval()
    for p in stem.parameters():
        p.requires_grad_(False)
    train, val = [], []
    for i, item in enumerate(train_items + val_items):
        (train if i < len(train_items) else val).append(load_item(item, stem))
        if (i + 1) % 50 == 0:
            log(f"stem features {i + 1}/{len(train_items) + len(val_items)}")
    n_empty = round(len(train) * args.empty_fraction)
    train += [empty_sample(i, args.seed, stem) for i in range(n_empty)]
    log(f"features cached in {time.time() - started:.0f} s ({n_empty} synthetic empty scenes added to training)")

    model = crowd_net.DensityHead(crowd_net.mobilenet_blocks(str(args.ssd), 6, 11))
    # One-cycle schedule peaking at --lr for the new layers and a tenth of it for the pretrained trunk. (A
    # first run with a ReLU on the training output and a 3e-3 peak died: every cell one constant. Peaks of
    # 1e-4, 3e-4 and 1e-3 were then compared for 6 epochs on 120 training images, judged by the training
    # loss and the training-image MAE only: 1e-3 learned fastest.)
    optimizer = torch.optim.Adam([
        {"params": model.trunk.parameters(), "lr": 1e-5},
        {"params": [p for n, p in model.named_parameters() if not n.startswith("trunk.")], "lr": 1e-4}])
    steps_per_epoch = len(train) * args.crops_per_image // args.batch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=[args.lr / 10, args.lr], total_steps=args.epochs * steps_per_epoch, pct_start=0.15)
    rng = random.Random(args.seed)
    # Progress is watched on 24 fixed *training* images (the validation images are only for the final report).
    monitor = random.Random(args.seed + 1).sample(train, min(24, len(train)))

    for epoch in range(args.epochs):
        model.train()
        epoch_started, losses, zero_losses = time.time(), [], []
        order = [s for s in train for _ in range(args.crops_per_image)]
        rng.shuffle(order)
        for b in range(steps_per_epoch):
            crops = [random_crop(s, rng) for s in order[b * args.batch:(b + 1) * args.batch]]
            # Crops of small images can be smaller than CROP_CELLS: batch only same-shaped ones together.
            loss, zero_loss = 0.0, 0.0
            by_shape = {}
            for f, t, v in crops:
                by_shape.setdefault(tuple(f.shape), []).append((f, t, v))
            for group in by_shape.values():
                f = torch.stack([g[0] for g in group])
                t = torch.stack([g[1] for g in group])[:, None] * TARGET_SCALE
                v = torch.stack([g[2] for g in group])[:, None]
                pred = model(f)
                weight = len(group) / len(crops)
                loss = loss + (((pred - t) ** 2) * v).sum() / (v.sum() + 1.0) * weight
                zero_loss += float(((t ** 2) * v).sum() / (v.sum() + 1.0)) * weight
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss))
            zero_losses.append(zero_loss)
        monitor_summary, _ = evaluate(model, monitor)
        monitor_mae = np.mean([s["mae"] for s in monitor_summary.values()])
        log(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.3f} (predicting 0: {np.mean(zero_losses):.3f}), "
            f"MAE on {len(monitor)} training images {monitor_mae:.1f} ({time.time() - epoch_started:.0f} s)")

    summary, rows = evaluate(model, val)
    for name, s in summary.items():
        log(f"validation {name}: {s['images']} images, MAE {s['mae']:.2f}, RMSE {s['rmse']:.2f}")

    model.eval()
    model.fold_output_scale(TARGET_SCALE)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 256, 48, 64)
    torch.onnx.export(model, dummy, str(args.out), input_names=[crowd_net.STEM_OUTPUT], output_names=["density"],
                      dynamic_axes={crowd_net.STEM_OUTPUT: {2: "h8", 3: "w8"}, "density": {2: "h8", 3: "w8"}},
                      opset_version=10, do_constant_folding=True)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    split = {"seed": args.seed,
             "validation": sorted(f"{i['set']}/{i['image'].name}" for i in val_items),
             "validation_result": summary,
             "onnx_sha256": digest,
             "train_seconds": round(time.time() - started)}
    split_path = args.out.with_suffix(".split.json")
    split_path.write_text(json.dumps(split, indent=1) + "\n")
    with open(args.out.with_suffix(".val.csv"), "w") as out:
        out.write("set,image,true,predicted\n")
        for r in rows:
            out.write(f"{r[0]},{r[1]},{r[2]:.0f},{r[3]:.2f}\n")
    log(f"wrote {args.out} (sha256 {digest}), {split_path}; total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
