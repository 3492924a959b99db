#!/usr/bin/env python3
"""Builds models/crowd_density.onnx = face-api's SSD MobileNet stem (blocks 0-5, from the prepared
ssd_mobilenetv1.onnx) followed by our trained head (tools/crowd/crowd_head.onnx).

  /usr/bin/python3 tools/crowd/compose_crowd_model.py --ssd models/ssd_mobilenetv1.onnx \
      --head tools/crowd/crowd_head.onnx --head-sha256 HEX --out models/crowd_density.onnx

Needs only Debian's python3-onnx (no torch): run by tools/prepare_models.sh. The head's sha256 is checked
first, so a corrupted or edited committed head fails here with a clear message. The composed model takes
`input` 1x3xHxW (RGB in [-1, 1], H and W multiples of 16) and outputs `density` 1x1x(H/8)x(W/8).
"""
import argparse
import hashlib
import sys

import onnx
from onnx import compose, helper

STEM_OUTPUT = "clip_44"


def fail(msg):
    print(f"compose_crowd_model: ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def stem_of(ssd_path):
    model = onnx.load(ssd_path)
    names = {o for n in model.graph.node for o in n.output}
    if STEM_OUTPUT not in names:
        fail(f"{ssd_path} has no tensor {STEM_OUTPUT}: is it face-api's SSD MobileNet v1 from prepare_models.sh?")
    stem = onnx.utils.Extractor(model).extract_model(["input"], [STEM_OUTPUT])
    # Any image size: the stem is convolutions only.
    dims = stem.graph.input[0].type.tensor_type.shape.dim
    dims[2].ClearField("dim_value"); dims[2].dim_param = "height"
    dims[3].ClearField("dim_value"); dims[3].dim_param = "width"
    stem.graph.ClearField("value_info")
    out_dims = stem.graph.output[0].type.tensor_type.shape.dim
    for d, name in ((out_dims[2], "h8"), (out_dims[3], "w8")):
        d.ClearField("dim_value"); d.dim_param = name
    return stem


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ssd", required=True)
    ap.add_argument("--head", required=True)
    ap.add_argument("--head-sha256", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    try:
        head_bytes = open(args.head, "rb").read()
    except OSError as e:
        fail(f"cannot read the crowd head {args.head}: {e.strerror}")
    digest = hashlib.sha256(head_bytes).hexdigest()
    if digest != args.head_sha256:
        fail(f"{args.head} has sha256 {digest}, expected {args.head_sha256} (corrupted or edited: "
             f"git checkout it, or retrain with tools/crowd/TRAINING.md)")
    head = onnx.load_from_string(head_bytes)
    stem = stem_of(args.ssd)
    # train_density.py exports the head at the stem's opset (10: Clip with attributes), so no conversion.
    if stem.opset_import[0].version != head.opset_import[0].version:
        fail(f"{args.head} uses opset {head.opset_import[0].version}, the stem {stem.opset_import[0].version}")
    if stem.ir_version != head.ir_version:
        stem.ir_version = head.ir_version = min(stem.ir_version, head.ir_version)
    head = compose.add_prefix(head, "head/", rename_inputs=False, rename_outputs=False)
    merged = compose.merge_models(stem, head, io_map=[(STEM_OUTPUT, head.graph.input[0].name)])
    merged.producer_name = "facecrowd tools/crowd/compose_crowd_model.py"
    merged.doc_string = f"face-api SSD MobileNet v1 blocks 0-5 + facecrowd crowd head sha256 {digest}"
    onnx.checker.check_model(merged)
    onnx.save(merged, args.out)
    print(f"compose_crowd_model: wrote {args.out}")


if __name__ == "__main__":
    main()
