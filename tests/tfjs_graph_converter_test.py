#!/usr/bin/env python3
"""CTest `TfjsGraphConverter.*` (tools/tfjs_graph_to_onnx.py) on a small synthetic tfjs graph model that uses every
op of the human-models face-description graphs: OpenCV 4.6 DNN must load the ONNX file and compute what the
numpy reference of the tfjs graph computes (NHWC -> NCHW, SAME pads, Pad folded into a VALID convolution, an
NHWC flatten before a matrix, uint8-quantised weights, both PReLU spellings), the PReLU repair must restore the
negative slope, and an op the converter does not know must be refused naming the node and the op.
Exit 77 (skipped) without python3-opencv.

  tests/tfjs_graph_converter_test.py SOURCE_DIR
"""
import base64
import json
import os
import sys
import tempfile

import numpy as np

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, os.path.join(SRC, "tools"))
try:
    import cv2  # noqa: F401
except ImportError:
    print("python3-opencv missing: skipped")
    sys.exit(77)
import tfjs_graph_to_onnx as T  # noqa: E402

rng = np.random.default_rng(7)
weights, nodes = [], []


def b64(s):
    return base64.b64encode(s.encode()).decode()


def const(name, arr, quantise=False):
    arr = np.asarray(arr)
    dtype = "int32" if arr.dtype.kind == "i" else "float32"
    entry = {"name": name, "shape": list(arr.shape), "dtype": dtype}
    if quantise:
        lo, hi = float(arr.min()), float(arr.max())
        scale = (hi - lo) / 255
        q = np.round((arr - lo) / scale).astype(np.uint8)
        entry["quantization"] = {"dtype": "uint8", "scale": scale, "min": lo}
        weights.append((entry, q.tobytes()))
    else:
        weights.append((entry, arr.astype("<i4" if dtype == "int32" else "<f4").tobytes()))
    nodes.append({"name": name, "op": "Const", "attr": {}})
    return name


def node(name, op, inputs, **attr):
    nodes.append({"name": name, "op": op, "input": inputs, "attr": attr})
    return name


def conv_attr(stride, padding, fused=None):
    a = {"strides": {"list": {"i": ["1", str(stride), str(stride), "1"]}}, "padding": {"s": b64(padding)}}
    if fused:
        a["fused_ops"] = {"list": {"s": [b64(f) for f in fused]}}
    return a


def r(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


nodes.append({"name": "img", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [
    {"size": "-1"}, {"size": "8"}, {"size": "8"}, {"size": "3"}]}}}})
node("c1", "Conv2D", ["img", const("w1", r(3, 3, 3, 4))], **conv_attr(2, "SAME"))
node("a1", "Add", ["c1", const("b1", r(4))])
node("r1", "Relu", ["a1"])
node("m1", "Minimum", ["r1", const("six", np.float32(0.6))])
node("x1", "Maximum", ["m1", const("zero", np.float32(0))])
node("pad", "Pad", ["x1", const("pads", np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32))])
node("dw", "DepthwiseConv2dNative", ["pad", const("wd", r(3, 3, 4, 1))], **conv_attr(1, "VALID"))
node("sc", "Mul", ["dw", const("s4", r(4))])
node("f3", "_FusedConv2D", ["sc", const("w3", r(1, 1, 4, 6)), const("b3", r(6))], **conv_attr(1, "SAME", ["BiasAdd"]))
# PReLU as mobilefacenet writes it: relu(x) + a * (x - |x|)
node("p_relu", "Relu", ["f3"])
node("p_abs", "Abs", ["f3"])
node("p_sub", "Sub", ["f3", "p_abs"])
node("p_mul", "Mul", ["p_sub", const("alpha1", r(6))])
node("p_add", "Add", ["p_relu", "p_mul"])
# PReLU as mobileface writes it: max(0, x) + g * min(0, x)
node("q_max", "Maximum", [const("qz0", np.float32(0)), "p_add"])
node("q_min", "Minimum", [const("qz1", np.float32(0)), "p_add"])
node("q_mul", "Mul", [const("gamma", r(6)), "q_min"])
node("q_add", "AddV2", ["q_max", "q_mul"])
# a Relu that tfjs fused into the depthwise convolution feeding a PReLU (the repair case)
node("fdw", "FusedDepthwiseConv2dNative", ["q_add", const("wd2", r(3, 3, 6, 1)), const("bd2", r(6))],
     **conv_attr(2, "SAME", ["BiasAdd", "Relu"]))
node("z_abs", "Abs", ["fdw"])
node("z_sub", "Sub", ["fdw", "z_abs"])
node("z_mul", "Mul", ["z_sub", const("alpha2", np.full(6, 0.125, np.float32))])
node("z_add", "Add", ["fdw", "z_mul"])
# head A: NHWC flatten -> matrix (uint8-quantised) -> per-feature scale and shift
node("flat", "Reshape", ["z_add", const("shape", np.array([-1, 24], np.int32))])
node("fc", "MatMul", ["flat", const("w5", r(24, 5), quantise=True)])
node("bn_mul", "Mul", ["fc", const("s5", r(5))])
node("head_a", "AddV2", ["bn_mul", const("t5", r(5))])
# head B: global mean -> fused matrix with bias and relu
node("gap", "Mean", ["z_add", const("axes", np.array([1, 2], np.int32))], keep_dims={"b": False})
node("head_b", "_FusedMatMul", ["gap", const("w6", r(6, 3)), const("b6", r(3))], fused_ops={"list": {"s": [
    b64("BiasAdd"), b64("Relu")]}})
node("bad", "Tanh", ["head_a"])

failures = []


def expect(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "g.bin"), "wb") as f:
        f.write(b"".join(b for _, b in weights))
    model = {"format": "graph-model", "modelTopology": {"node": nodes},
             "weightsManifest": [{"paths": ["g.bin"], "weights": [e for e, _ in weights]}]}
    path = os.path.join(tmp, "g.json")
    with open(path, "w") as f:
        json.dump(model, f)

    for output in ("head_a", "head_b"):
        for repair in (False, True):
            out = os.path.join(tmp, f"{output}_{repair}.onnx")
            _, g = T.convert(path, output, out, prelu_repair=repair)
            err = T.check(out, g, output, low=-1, high=1)
            expect(err < 1e-4, f"TfjsGraphConverter.OpenCvMatchesTheNumpyReference[{output}, repair={repair}]: {err:.2g}")

    # The repair: z_add = relu(x) + 0.125 * (x - |x|) = PReLU(x, 0.25) with x the depthwise output before its Relu.
    g = T.TfjsGraph(path)
    img = np.random.default_rng(1).uniform(-1, 1, (1, 8, 8, 3))
    plain, repaired = {}, {}
    T.reference(g, "z_add", img, plain)
    g.prelu_repair = True
    T.reference(g, "z_add", img, repaired)
    q = repaired["q_add"]
    pre = T.np_conv(q, g.weights["wd2"], 2, "SAME", True) + g.weights["bd2"]
    prelu = np.where(pre > 0, pre, 0.25 * pre)
    expect(np.allclose(repaired["z_add"], prelu) and (pre < 0).any(),
           "TfjsGraphConverter.PreluRepairRestoresTheNegativeSlopeThatAFusedReluRemoved")
    expect(np.allclose(plain["z_add"], np.maximum(pre, 0)),
           "TfjsGraphConverter.WithoutTheRepairTheGraphIsReadAsWritten")

    try:
        T.convert(path, "bad", os.path.join(tmp, "bad.onnx"))
        expect(False, "TfjsGraphConverter.RefusesAnUnknownOpNamingTheNodeAndTheOp (no error)")
    except ValueError as e:
        expect("bad" in str(e) and "Tanh" in str(e), f"TfjsGraphConverter.RefusesAnUnknownOpNamingTheNodeAndTheOp: {e}")
    expect(not os.path.exists(os.path.join(tmp, "bad.onnx")), "TfjsGraphConverter.ARefusedGraphWritesNoFile")

print("FAILED: " + "; ".join(failures) if failures else "tfjs_graph_converter_test: OK")
sys.exit(1 if failures else 0)
