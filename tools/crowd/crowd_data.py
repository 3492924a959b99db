"""The crowd training data, shared by both trainers (train_density.py, train_full.py) and calibrate_floor.py, so
that every tool holds back the same validation images: the seeded split of ../shared/data/crowd into training and
validation items, and the Gaussian width of each annotated head."""
import random
import time

import numpy as np

# (folder under the data root, set name, validation fraction, head width: "adaptive" (geometry) or "fixed",
#  the scale train_full.py stores the set's images at)
SETS = [("shanghaitech/part_A/train", "A", 0.10, "adaptive", 1.0),
        ("shanghaitech/part_B/train", "B", 0.10, "fixed", 0.75),
        ("street_india/train", "street_india", 0.20, "fixed", 0.75)]
FIXED_SIGMA_PX = 15.0


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def split_sets(data_root, seed, tool="crowd_data"):
    """Training and validation items: a seeded shuffle of each set's image names, the first fraction held back."""
    train, val = [], []
    for folder, name, val_fraction, sigma_mode, stored_scale in SETS:
        images = sorted((data_root / folder / "images").glob("*.jpg"), key=lambda p: p.name)
        if not images:
            raise SystemExit(f"{tool}: no images under {data_root / folder / 'images'}")
        order = list(images)
        random.Random(f"{seed}:{name}").shuffle(order)
        n_val = max(1, round(len(order) * val_fraction))
        for i, path in enumerate(order):
            item = {"set": name, "image": path, "points": path.parent.parent / "points" / (path.stem + ".json"),
                    "sigma": sigma_mode, "stored_scale": stored_scale}
            (val if i < n_val else train).append(item)
    return train, val


def head_sigmas(points, mode):
    """Per head: 15 px ("fixed"), or 0.3 x the mean distance to its 3 nearest heads clipped to 2-30 px ("adaptive")."""
    if mode == "fixed" or len(points) < 2:
        return np.full(len(points), FIXED_SIGMA_PX, np.float32)
    sigmas = np.empty(len(points), np.float32)
    k = min(3, len(points) - 1)
    for start in range(0, len(points), 512):
        chunk = points[start:start + 512]
        d2 = ((chunk[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        nearest = np.sqrt(np.sort(d2, axis=1)[:, 1:k + 1])
        sigmas[start:start + 512] = 0.3 * nearest.mean(axis=1)
    return np.clip(sigmas, 2.0, 30.0)
