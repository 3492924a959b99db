#!/usr/bin/env python3
"""EXPERIMENTAL (issue 13): trains the whole crowd density network end to end (full_net.CrowdNet: face-api's
MobileNet v1 blocks 0-13, fine-tuned, and a stride 32/16/8 decoder) on a GPU or the CPU. It is NOT the default
model: in the GPU time one session had it did not beat the committed model (TRAINING.md, "Issue 13
experiments"); the default is still made by train_density.py.

  /usr/bin/python3 tools/crowd/train_full.py --data ../shared/data/crowd --ssd models/ssd_mobilenetv1.onnx \
      --out build/crowd_full/crowd_full.onnx [--steps 6000 | --time-budget S] [--device auto]

Two stages, both run by that one command:
  1. pack: the training images of the split, re-encoded as WebP (street sets at 3/4 size), their head points
     and per-head Gaussian widths (heads.npz), and the MobileNet weights rounded to float16, in one folder
     (--pack, default build/crowd_pack, 55 MB). `--pack-only` stops here: the folder is what travels to a GPU
     machine (tools/crowd/device_variants.sh), where `--pack DIR` without --data trains from it.
  2. train: random crops of the packed images, made on the fly on the training device: log-uniform scale
     0.6-1.8 of the original size, horizontal flips, light colour jitter, and synthetic scenes without people
     (--empty-fraction; uniform, gradients, noise, blocks, roof tiles, repeated round motifs). Targets are each
     head's Gaussian integrated over the 8x8 output cells (exact for any width; mass outside a crop is lost as
     it should be). Loss: per-cell MSE plus --count-weight x |predicted - true count| per crop.
  `--export-weights W.npz` turns the weights a GPU run brought back into ONNX (opset 10, OpenCV 4.6) here.

Data and split: the same as train_density.py (same seed, same held-out validation images, which are never
packed). Reproducible: fixed seeds; on the CPU deterministic torch algorithms and byte-identical packs. On
CUDA (bf16 autocast) runs are close, not bit-identical. --time-budget S schedules the learning rate over S
seconds instead of --steps; the steps reached are logged, and `--steps N` repeats that schedule anywhere.
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import full_net  # noqa: E402
from crowd_data import head_sigmas, log, split_sets  # noqa: E402

TARGET_SCALE = 100.0     # density x 100 during training; folded out at export
WEBP_QUALITY = 65
SCALE_RANGE = (0.6, 1.8)


# ----------------------------------------------------------------------------------------------- split/pack
def build_pack(train_items, ssd, pack_dir):
    """Writes pack_dir/index.json, images/*.webp, heads.npz (points and Gaussian widths, in stored pixels) and
    mobilenet.npz. Deterministic: the same data and code give byte-identical files."""
    (pack_dir / "images").mkdir(parents=True, exist_ok=True)
    index, heads = [], {}
    for i, item in enumerate(train_items):
        image = cv2.imread(str(item["image"]), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"train_full: cannot decode {item['image']}")
        points = np.asarray(json.loads(Path(item["points"]).read_text())["points"], np.float32).reshape(-1, 2)
        h, w = image.shape[:2]
        points = points[(points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)]
        sigmas = head_sigmas(points, item["sigma"])
        s = item["stored_scale"]
        if s != 1.0:
            image = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        file = f"{item['set']}_{item['image'].stem}.webp"
        ok, data = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY])
        if not ok:
            raise SystemExit(f"train_full: WebP encoding failed for {item['image']}")
        (pack_dir / "images" / file).write_bytes(data.tobytes())
        index.append({"set": item["set"], "name": item["image"].name, "file": file, "stored_scale": s})
        heads[file + "/points"] = np.round(points * s, 2).astype(np.float32)
        heads[file + "/sigmas"] = np.round(sigmas * s, 3).astype(np.float32)
        if (i + 1) % 100 == 0:
            log(f"packed {i + 1}/{len(train_items)}")
    # float16-rounded (half the size to carry; a relative change of 1e-3 in the initial weights, the same
    # numbers for every run that reads the pack)
    weights = {k: (w.astype(np.float16), b.astype(np.float16), a)
               for k, (w, b, a) in full_net.read_mobilenet_weights(ssd).items()}
    full_net.save_mobilenet_weights(weights, pack_dir / "mobilenet.npz")
    full_net.save_npz(pack_dir / "heads.npz", heads, compress=True)
    (pack_dir / "index.json").write_text(json.dumps(index, indent=0))
    log(f"pack written to {pack_dir} ({len(index)} images)")


def load_pack(pack_dir, device, limit=0):
    index = json.loads((pack_dir / "index.json").read_text())
    if limit:
        index = index[:limit]

    def decode(e):
        return cv2.imread(str(pack_dir / "images" / e["file"]), cv2.IMREAD_COLOR)

    # decoding is the slow part on a many-core GPU machine; threads change nothing in the result
    with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1))) as pool:
        images = list(pool.map(decode, index))
    heads = np.load(pack_dir / "heads.npz")
    samples = []
    for e, bgr in zip(index, images):
        if bgr is None:
            raise SystemExit(f"train_full: cannot decode {pack_dir / 'images' / e['file']}")
        rgb = torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1].transpose(2, 0, 1)))
        samples.append({"set": e["set"], "name": e["name"], "image": rgb.to(device), "scale": e["stored_scale"],
                        "points": torch.from_numpy(heads[e["file"] + "/points"]).reshape(-1, 2).to(device),
                        "sigmas": torch.from_numpy(heads[e["file"] + "/sigmas"]).to(device)})
    return samples


# ------------------------------------------------------------------------------------------ hard negatives
def synthetic_empty_scene(index, seed):
    """A 512x384 image without people: a uniform colour, a gradient, smoothed noise (plaster, foliage, tarmac),
    blocks (facades), a tiled roof/brick pattern or a repeated round motif (patterned umbrellas, tiles): the
    repetitive textures that an earlier model counted as heads."""
    rng = np.random.default_rng([seed, index])
    h, w = 384, 512
    kind = index % 6
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
    elif kind == 3:
        img = np.broadcast_to(c1, (h, w, 3)).copy()
        for _ in range(int(rng.integers(3, 12))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            img[y0:y0 + int(rng.integers(8, 200)), x0:x0 + int(rng.integers(8, 200))] = rng.uniform(0, 255, 3)
    elif kind == 4:   # roof tiles / bricks: staggered rows of rounded cells with dark joints
        img = np.broadcast_to(c1, (h, w, 3)).copy()
        tw, th = int(rng.integers(8, 48)), int(rng.integers(6, 32))
        for r, y in enumerate(range(0, h, th)):
            for x in range(-tw, w, tw):
                xo = x + (tw // 2 if r % 2 else 0)
                shade = c1 * rng.uniform(0.7, 1.1)
                cv2.ellipse(img, (xo + tw // 2, y + th // 2), (tw // 2, th // 2), 0, 0, 180, shade.tolist(), -1)
                cv2.line(img, (xo, y + th - 1), (xo + tw, y + th - 1), (c2 * 0.4).tolist(), 1)
    else:             # repeated round motif (patterned fabric, umbrellas, rivets)
        img = np.broadcast_to(c1, (h, w, 3)).copy()
        step = int(rng.integers(10, 40))
        radius = max(2, int(step * rng.uniform(0.2, 0.45)))
        for y in range(step // 2, h, step):
            for x in range(step // 2, w, step):
                cv2.circle(img, (x, y), radius, c2.tolist(), -1)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.8)
    img = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    return img


def empty_samples(count, seed, device):
    out = []
    for i in range(count):
        bgr = synthetic_empty_scene(i, seed)
        out.append({"set": "empty", "name": f"empty_{i}", "scale": 1.0,
                    "image": torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1].transpose(2, 0, 1))).to(device),
                    "points": torch.zeros(0, 2, device=device), "sigmas": torch.zeros(0, device=device)})
    return out


# ------------------------------------------------------------------------------------------------- crops
def cell_mass(centres, sigmas, cells):
    """[N, cells]: the mass of N 1-D Gaussians in each 8-px cell [8j, 8j+8) (erf differences)."""
    edges = torch.arange(cells + 1, device=centres.device, dtype=torch.float32) * full_net.STRIDE
    z = (edges[None, :] - centres[:, None]) / (sigmas[:, None] * math.sqrt(2.0))
    cdf = 0.5 * (1.0 + torch.erf(z))
    return cdf[:, 1:] - cdf[:, :-1]


def make_crop(sample, crop, rng, scale_range=SCALE_RANGE):
    """One augmented crop: (3xCxC float image in [-1, 1], 1x(C/8)x(C/8) scaled target, 1x(C/8)x(C/8) valid)."""
    img = sample["image"]
    _, H, W = img.shape
    s = math.exp(rng.uniform(math.log(scale_range[0]), math.log(scale_range[1])))
    r = s / sample["scale"]                       # resize factor applied to the stored image
    side = crop / r                               # crop side in stored pixels
    x0 = rng.uniform(min(0.0, W - side), max(0.0, W - side))
    y0 = rng.uniform(min(0.0, H - side), max(0.0, H - side))
    xa, ya = max(0, int(round(x0))), max(0, int(round(y0)))
    xb, yb = min(W, int(round(x0 + side))), min(H, int(round(y0 + side)))
    ox = max(0, min(crop - 1, int(round((xa - x0) * r))))
    oy = max(0, min(crop - 1, int(round((ya - y0) * r))))
    nw, nh = max(1, min(crop - ox, int(round((xb - xa) * r)))), max(1, min(crop - oy, int(round((yb - ya) * r))))
    flip = rng.random() < 0.5
    region = img[:, ya:yb, xa:xb].float()[None]
    region = F.interpolate(region, size=(nh, nw), mode="bilinear", align_corners=False, antialias=nh < yb - ya)[0]
    # light photometric jitter: contrast, brightness, occasional greyscale
    contrast, brightness = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)
    region = (region - 127.5) * contrast + 127.5 + brightness
    if rng.random() < 0.1:
        region = region.mean(0, keepdim=True).expand(3, -1, -1)
    region = region.clamp(0, 255) / 127.5 - 1.0
    canvas = torch.zeros(3, crop, crop, device=img.device)
    canvas[:, oy:oy + nh, ox:ox + nw] = region
    valid = torch.zeros(crop, crop, device=img.device)
    valid[oy:oy + nh, ox:ox + nw] = 1.0
    rx, ry = nw / max(1, xb - xa), nh / max(1, yb - ya)
    pts = sample["points"]
    u = ox + (pts[:, 0] - xa) * rx
    v = oy + (pts[:, 1] - ya) * ry
    cells = crop // full_net.STRIDE
    target = torch.zeros(cells, cells, device=img.device)
    if len(pts):
        sig = sample["sigmas"] * (rx + ry) / 2
        # heads whose centre fell outside the pasted region are outside the crop or in the padding: drop them
        keep = (u >= ox) & (u < ox + nw) & (v >= oy) & (v < oy + nh)
        if keep.any():
            target = cell_mass(v[keep], sig[keep], cells).t() @ cell_mass(u[keep], sig[keep], cells)
    if flip:
        canvas, valid, target = canvas.flip(-1), valid.flip(-1), target.flip(-1)
    valid_cells = F.avg_pool2d(valid[None, None], full_net.STRIDE)[0] > 0.5
    return canvas, target[None] * TARGET_SCALE, valid_cells.float()


# ------------------------------------------------------------------------------------------------ train
def lr_factor(progress, warmup=0.03):
    """Linear warm-up, then cosine decay to 1% of the peak; `progress` in [0, 1]."""
    if progress < warmup:
        return progress / warmup
    return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def evaluate_images(model, items, device, amp):
    """(set, name, true, predicted) on full images read from the data root, padded as the counter pads."""
    model.eval()
    rows = []
    with torch.no_grad():
        for item in items:
            bgr = cv2.imread(str(item["image"]), cv2.IMREAD_COLOR)
            truth = len(json.loads(Path(item["points"]).read_text())["points"])
            x = full_net.preprocess(bgr).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                pred = model(x).float()
            h, w = bgr.shape[:2]
            pred = pred[0, 0, :-(-h // full_net.STRIDE), :-(-w // full_net.STRIDE)] / TARGET_SCALE
            rows.append((item["set"], item["image"].name, truth, float(pred.sum())))
    model.train()
    return rows


def summarise(rows):
    per_set = {}
    for s, _, t, p in rows:
        per_set.setdefault(s, []).append(p - t)
    return {k: {"images": len(v), "mae": float(np.mean(np.abs(v))), "rmse": float(np.sqrt(np.mean(np.square(v)))),
                "bias": float(np.mean(v))} for k, v in per_set.items()}


def train(args, samples, empties, device):
    weights = full_net.read_mobilenet_weights(args.pack / "mobilenet.npz")
    model = full_net.CrowdNet(weights)
    if args.init_weights:   # a previous run's weights (e.g. a checkpoint brought back from the device machine)
        args.init_step = load_weights(model, args.init_weights)
        log(f"continuing from {args.init_weights} (trained {args.init_step} steps); the schedule starts afresh")
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    amp = device.type == "cuda"
    optimizer = torch.optim.AdamW([
        {"params": model.backbone_parameters(), "lr": args.lr * args.backbone_lr_ratio, "weight_decay": 1e-4},
        {"params": model.new_parameters(), "lr": args.lr, "weight_decay": 1e-4}])
    peaks = [g["lr"] for g in optimizer.param_groups]
    rng = random.Random(args.seed)
    started, step, last_checkpoint = time.time(), 0, time.time()
    mse_sum, count_sum, since_log = 0.0, 0.0, 0
    while True:
        elapsed = time.time() - started
        progress = elapsed / args.time_budget if args.time_budget > 0 else step / args.steps
        if progress >= 1.0:
            break
        for g, peak in zip(optimizer.param_groups, peaks):
            g["lr"] = peak * lr_factor(progress)
        batch = [empties[rng.randrange(len(empties))] if empties and rng.random() < args.empty_fraction
                 else samples[rng.randrange(len(samples))] for _ in range(args.batch)]
        crops = [make_crop(s, args.crop, rng, args.scale_range) for s in batch]
        x = torch.stack([c[0] for c in crops])
        t = torch.stack([c[1] for c in crops])
        v = torch.stack([c[2] for c in crops])
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            pred = model(x)
        pred = pred.float()
        mse = (((pred - t) ** 2) * v).sum() / (v.sum() + 1.0)
        count_err = (((pred - t) * v).sum(dim=(1, 2, 3)) / TARGET_SCALE).abs().mean()
        loss = mse + args.count_weight * count_err
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        step += 1
        mse_sum, count_sum, since_log = mse_sum + mse.detach(), count_sum + count_err.detach(), since_log + 1
        if step % args.log_every == 0:
            log(f"step {step}: mse {float(mse_sum) / since_log:.3f}, crop count MAE {float(count_sum) / since_log:.2f}, "
                f"lr {optimizer.param_groups[1]['lr']:.2e}, {time.time() - started:.0f} s")
            mse_sum, count_sum, since_log = 0.0, 0.0, 0
        if args.checkpoint_every and time.time() - last_checkpoint > args.checkpoint_every:
            save_weights(model, args.out.with_suffix(".weights.npz"), step)
            last_checkpoint = time.time()
    log(f"trained {step} steps of {args.batch} crops of {args.crop} px in {time.time() - started:.0f} s")
    return model, step, amp


def save_weights(model, path, step):
    state = {k: v.detach().float().cpu().contiguous().numpy() for k, v in model.state_dict().items()}
    state["__step__"] = np.array(step)
    full_net.save_npz(path, state)


def load_weights(model, path):
    data = np.load(path)
    model.load_state_dict({k: torch.from_numpy(data[k]) for k in data.files if k != "__step__"})
    return int(data["__step__"])


def export(model, out, step, args, val_items, started, val_rows):
    model = model.float().cpu().to(memory_format=torch.contiguous_format).eval()
    save_weights(model, out.with_suffix(".weights.npz"), step)
    if args.no_onnx:
        return
    model.fold_output_scale(TARGET_SCALE)
    try:
        full_net.export_onnx(model, out)
    except Exception as e:  # the weights are saved: `--export-weights` exports them with another torch
        log(f"ONNX export failed ({type(e).__name__}: {e}); export {out.with_suffix('.weights.npz')} with --export-weights")
        return
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    split = {"seed": args.seed,
             "validation": sorted(f"{i['set']}/{i['image'].name}" for i in val_items),
             "training": {"steps": step, "batch": args.batch, "crop": args.crop, "lr": args.lr,
                          "backbone_lr_ratio": args.backbone_lr_ratio, "count_weight": args.count_weight,
                          "empty_fraction": args.empty_fraction, "device": args.device_used,
                          "init_weights": str(args.init_weights or ""), "init_step": args.init_step},
             "onnx_sha256": digest,
             "train_seconds": round(time.time() - started)}
    if val_rows:
        split["validation_result"] = summarise(val_rows)
        with open(out.with_suffix(".val.csv"), "w") as f:
            f.write("set,image,true,predicted\n")
            for r in val_rows:
                f.write(f"{r[0]},{r[1]},{r[2]:.0f},{r[3]:.2f}\n")
    out.with_suffix(".split.json").write_text(json.dumps(split, indent=1) + "\n")
    log(f"wrote {out} (sha256 {digest})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="the crowd data root (../shared/data/crowd); omit to train from --pack")
    ap.add_argument("--ssd", type=Path, help="models/ssd_mobilenetv1.onnx from prepare_models.sh (for the pack)")
    ap.add_argument("--pack", type=Path, default=Path("build/crowd_pack"), help="the packed training set (folder)")
    ap.add_argument("--pack-only", action="store_true", help="write the pack and stop")
    ap.add_argument("--out", type=Path, help="where to write the model ONNX (its .weights.npz and .split.json beside it)")
    ap.add_argument("--export-weights", type=Path, help="only export these .weights.npz (from a GPU run) to --out")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--time-budget", type=float, default=0, help="seconds; replaces --steps (schedule by time)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--crop", type=int, default=384, help="crop side in pixels (multiple of 32)")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of the new layers")
    ap.add_argument("--backbone-lr-ratio", type=float, default=0.1, help="the MobileNet's peak, relative to --lr")
    ap.add_argument("--count-weight", type=float, default=1.0, help="weight of the per-crop count L1 in the loss")
    ap.add_argument("--empty-fraction", type=float, default=0.05, help="share of crops taken from synthetic empty scenes")
    ap.add_argument("--scale-range", type=float, nargs=2, default=SCALE_RANGE,
                    help="crops are resized by a log-uniform factor in this range (of the original size)")
    ap.add_argument("--no-onnx", action="store_true", help="save the weights (.weights.npz) only; export later")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: a seeded sample of N training and N validation "
                    "images (without --data: the first N packed images)")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--checkpoint-every", type=float, default=0, help="seconds between weight checkpoints (0: none)")
    ap.add_argument("--init-weights", type=Path, help="start from these .weights.npz (a checkpoint or an earlier run's) "
                    "instead of the SSD's MobileNet: training longer across device sessions")
    args = ap.parse_args()
    args.init_step = 0
    if args.init_weights and not args.init_weights.is_file():
        ap.error(f"--init-weights {args.init_weights}: no such file (a .weights.npz written by --checkpoint-every or an export)")
    if args.crop % full_net.INPUT_MULTIPLE:
        ap.error(f"--crop must be a multiple of {full_net.INPUT_MULTIPLE}")

    started = time.time()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed % 2**32)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    args.device_used = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    else:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False   # the targets are matrix products: keep them exact

    val_items = []
    if args.data:
        train_items, val_items = split_sets(args.data, args.seed, "train_full")
        if args.limit:   # a seeded sample of every set, for smoke tests
            train_items = random.Random(args.seed).sample(train_items, min(args.limit, len(train_items)))
            val_items = random.Random(args.seed).sample(val_items, min(args.limit, len(val_items)))
        log(f"{len(train_items)} training images, {len(val_items)} validation images (not packed)")
        if not args.export_weights:
            if not args.ssd:
                ap.error("--data needs --ssd (the MobileNet weights come from the prepared SSD)")
            build_pack(train_items, args.ssd, args.pack)
            if args.pack_only:
                return
    elif not (args.pack / "index.json").exists():
        ap.error(f"no --data and no pack at {args.pack}")
    if not args.out:
        ap.error("--out is required")
    args.out.parent.mkdir(parents=True, exist_ok=True)

    if args.export_weights:
        model = full_net.CrowdNet(full_net.read_mobilenet_weights(args.pack / "mobilenet.npz"))
        step = load_weights(model, args.export_weights)
        val_rows = evaluate_images(model, val_items, torch.device("cpu"), False) if val_items else []
        export(model, args.out, step, args, val_items, started, val_rows)
        return

    samples = load_pack(args.pack, device, 0 if args.data else args.limit)
    empties = empty_samples(64, args.seed, device) if args.empty_fraction > 0 else []
    log(f"{len(samples)} packed images and {len(empties)} empty scenes loaded on {args.device_used} "
        f"in {time.time() - started:.0f} s")
    model, step, amp = train(args, samples, empties, device)
    val_rows = evaluate_images(model, val_items, device, amp) if val_items else []
    export(model, args.out, step, args, val_items, started, val_rows)
    if val_rows:
        for name, s in summarise(val_rows).items():
            log(f"validation {name} (Python, no floor): {s['images']} images, MAE {s['mae']:.2f}, "
                f"RMSE {s['rmse']:.2f}, bias {s['bias']:+.2f}")
    log(f"total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
