#!/usr/bin/env python3
"""Convert @vladmandic/face-api tfjs weights into ONNX files for OpenCV DNN.

The npm package ships only *weights manifests* (JSON + .bin); the layer graphs exist
as TypeScript in the package's src/.  This tool reads the manifests and rebuilds the
three graphs face-api runs, as ONNX (IR version 7; opset 11, except opset 10 for the SSD,
whose Clip(0,6) OpenCV 4.6 only reads with min/max as attributes) that OpenCV 4.6's
cv::dnn::readNetFromONNX loads:

  face_recognition.onnx  src/faceRecognitionNet/  (dlib's ResNet, 128-D descriptor)
  face_landmark_68.onnx  src/faceFeatureExtractor/ + faceLandmarkNet/ + faceProcessor/
  ssd_mobilenetv1.onnx   src/ssdMobilenetv1/  (outputs raw box encodings + class logits;
                         anchors and decoding constants go to ssd_anchors.json)

Preprocessing (mean/scale, RGB) is NOT part of the graphs: it is blobFromImage's job
and is written to MODELS.json by prepare_models.sh (see tools/README.md).

Only python3 + numpy + onnx (Debian packages python3-numpy, python3-onnx).

Usage: tfjs_to_onnx.py --model-dir PKG/model --out-dir models
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 11
IR_VERSION = 7

# --------------------------------------------------------------------------------------
# tfjs weights manifest reader
# --------------------------------------------------------------------------------------

_DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, "uint8": 1, "uint16": 2, "float16": 2}


def read_weights_manifest(manifest_path):
    """Returns {name: np.ndarray} (TF layout) for every weight of a tfjs weights manifest.

    A manifest is a list of groups {paths: [bin files], weights: [{name, shape, dtype,
    quantization?}]}; a group's bin files are concatenated and its weights follow one
    another.  quantization {dtype: uint8|uint16, scale, min} decodes as q*scale+min;
    quantization {dtype: float16} (or dtype float16) decodes half floats.
    """
    base = os.path.dirname(os.path.abspath(manifest_path))
    with open(manifest_path, "r", encoding="utf-8") as f:
        manifest = json.load(f)
    out = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            name, shape, dtype = w["name"], list(w["shape"]), w["dtype"]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                qd = q["dtype"]
                nbytes = n * _DTYPE_BYTES[qd]
                raw = buf[off:off + nbytes]
                if qd in ("uint8", "uint16"):
                    arr = np.frombuffer(raw, dtype=np.uint8 if qd == "uint8" else "<u2")
                    arr = arr.astype(np.float64) * float(q["scale"]) + float(q["min"])
                    if dtype == "int32":
                        arr = np.round(arr)
                elif qd == "float16":
                    arr = np.frombuffer(raw, dtype="<f2").astype(np.float64)
                else:
                    raise ValueError(f"{name}: unsupported quantization dtype {qd}")
            else:
                nbytes = n * _DTYPE_BYTES[dtype]
                raw = buf[off:off + nbytes]
                np_dtype = {"float32": "<f4", "int32": "<i4", "bool": "u1", "float16": "<f2"}[dtype]
                arr = np.frombuffer(raw, dtype=np_dtype)
            if len(raw) != nbytes:
                raise ValueError(f"{manifest_path}: weight {name} runs past the end of the bin data")
            off += nbytes
            target = np.int32 if dtype == "int32" else np.float32
            out[name] = arr.astype(target).reshape(shape)
        if off != len(buf):
            raise ValueError(f"{manifest_path}: {len(buf) - off} bytes left over in group {group['paths']}")
    return out


# --------------------------------------------------------------------------------------
# ONNX graph builder
# --------------------------------------------------------------------------------------


def tf_same_pads(in_size, k, s):
    """TF 'SAME' padding (before, after) for one spatial dimension."""
    out = -(-in_size // s)
    total = max((out - 1) * s + k - in_size, 0)
    return total // 2, total - total // 2, out


class Graph:
    """Tiny ONNX builder that tracks NCHW shapes of 4-D activations."""

    def __init__(self, name):
        self.name = name
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.shapes = {}
        self._n = 0
        self.opset = OPSET

    def _uid(self, prefix):
        self._n += 1
        return f"{prefix}_{self._n}"

    def input(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        self.shapes[name] = tuple(shape)
        return name

    def output(self, name, shape):
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def const(self, arr, prefix="c"):
        name = self._uid(prefix)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op, inputs, prefix=None, out_name=None, **attrs):
        out = out_name or self._uid(prefix or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, w_oihw, b, stride=1, pads="same", group=1, prefix="conv", out_name=None):
        """Conv with TF padding semantics: pads='same' | 'valid'."""
        n, c, h, wd = self.shapes[x]
        o, _, kh, kw = w_oihw.shape
        if pads == "same":
            pt, pb, oh = tf_same_pads(h, kh, stride)
            pl, pr, ow = tf_same_pads(wd, kw, stride)
        else:
            pt = pb = pl = pr = 0
            oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
        if b is None:
            b = np.zeros(o, np.float32)
        out = self.node("Conv", [x, self.const(w_oihw.astype(np.float32), prefix + "_w"),
                                 self.const(b.astype(np.float32), prefix + "_b")],
                        prefix=prefix, out_name=out_name, kernel_shape=[kh, kw],
                        strides=[stride, stride], pads=[pt, pl, pb, pr], group=group,
                        dilations=[1, 1])
        self.shapes[out] = (n, o, oh, ow)
        return out

    def relu(self, x):
        out = self.node("Relu", [x])
        self.shapes[out] = self.shapes[x]
        return out

    def relu6(self, x):
        # Clip(0, 6) with min/max as attributes: OpenCV 4.6 rejects Clip-11's min/max inputs,
        # so a graph using this is written with opset 10 (Clip-6 semantics; see model()).
        out = self.node("Clip", [x], min=0.0, max=6.0)
        self.shapes[out] = self.shapes[x]
        self.opset = min(self.opset, 10)
        return out

    def add(self, a, b):
        out = self.node("Add", [a, b])
        self.shapes[out] = self.shapes[a]
        return out

    def maxpool(self, x, k, s):
        n, c, h, w = self.shapes[x]
        out = self.node("MaxPool", [x], kernel_shape=[k, k], strides=[s, s], pads=[0, 0, 0, 0])
        self.shapes[out] = (n, c, (h - k) // s + 1, (w - k) // s + 1)
        return out

    def pad_bottom_right(self, x, dh, dw):
        n, c, h, w = self.shapes[x]
        pads = np.array([0, 0, 0, 0, 0, 0, dh, dw], np.int64)
        out = self.node("Pad", [x, self.const(pads, "pads")], mode="constant")
        self.shapes[out] = (n, c, h + dh, w + dw)
        return out

    def global_avg_flatten(self, x):
        n, c, _, _ = self.shapes[x]
        g = self.node("GlobalAveragePool", [x])
        self.shapes[g] = (n, c, 1, 1)
        out = self.node("Flatten", [g], axis=1)
        self.shapes[out] = (n, c)
        return out

    def gemm(self, x, w_in_out, b, out_name=None):
        """y = x @ W + b with W given as [in, out] (TF matMul layout); written transB=1."""
        n, _ = self.shapes[x]
        if b is None:
            b = np.zeros(w_in_out.shape[1], np.float32)
        out = self.node("Gemm", [x, self.const(np.ascontiguousarray(w_in_out.T).astype(np.float32), "fc_w"),
                                 self.const(b.astype(np.float32), "fc_b")],
                        out_name=out_name, alpha=1.0, beta=1.0, transA=0, transB=1)
        self.shapes[out] = (n, w_in_out.shape[1])
        return out

    def model(self, doc):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        m = helper.make_model(graph, producer_name="facecrowd-tfjs_to_onnx", producer_version="1",
                              opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = IR_VERSION
        m.doc_string = doc
        onnx.checker.check_model(m)
        return m


def hwio_to_oihw(w):
    return np.transpose(w, (3, 2, 0, 1))


def depthwise_to_oihw(w):  # TF depthwise [H, W, C, 1] -> ONNX [C, 1, H, W]
    return np.transpose(w, (2, 3, 0, 1))


# --------------------------------------------------------------------------------------
# face_recognition (src/faceRecognitionNet): dlib ResNet-29 -> 128-D
# --------------------------------------------------------------------------------------


def build_face_recognition(W):
    g = Graph("face_recognition")
    x = g.input("input", [1, 3, 150, 150])

    def conv_layer(x, prefix, stride, relu, padding):
        # conv + bias, then scale layer (x*weights + biases): folded into the conv.
        f = W[f"{prefix}/conv/filters"]
        b = W[f"{prefix}/conv/bias"]
        sw, sb = W[f"{prefix}/scale/weights"], W[f"{prefix}/scale/biases"]
        wf = hwio_to_oihw(f) * sw[:, None, None, None]
        bf = b * sw + sb
        y = g.conv(x, wf, bf, stride=stride, pads=padding, prefix=prefix.replace("/", "_"))
        return g.relu(y) if relu else y

    def residual(x, prefix):
        y = conv_layer(x, f"{prefix}/conv1", 1, True, "same")
        y = conv_layer(y, f"{prefix}/conv2", 1, False, "same")
        return g.relu(g.add(y, x))

    def residual_down(x, prefix):
        y = conv_layer(x, f"{prefix}/conv1", 2, True, "valid")
        y = conv_layer(y, f"{prefix}/conv2", 1, False, "same")
        n, c_in, h, w = g.shapes[x]
        c_out = g.shapes[y][1]
        # Shortcut: 2x2/2 average pool, zero-padded in channels when c_out > c_in.
        # Written as one fixed 2x2/2 conv: out[k] = mean of in[k] for k < c_in, 0 otherwise.
        pw = np.zeros((c_out, c_in, 2, 2), np.float32)
        for k in range(c_in):
            pw[k, k] = 0.25
        pooled = g.conv(x, pw, None, stride=2, pads="valid", prefix=prefix.replace("/", "_") + "_pool")
        ph, pw_ = g.shapes[pooled][2:]
        yh, yw = g.shapes[y][2:]
        if (ph, pw_) != (yh, yw):
            # face-api / dlib: the conv branch is zero-extended at the bottom/right.
            y = g.pad_bottom_right(y, ph - yh, pw_ - yw)
        return g.relu(g.add(pooled, y))

    out = conv_layer(x, "conv32_down", 2, True, "valid")
    out = g.maxpool(out, 3, 2)
    for p in ("conv32_1", "conv32_2", "conv32_3"):
        out = residual(out, p)
    out = residual_down(out, "conv64_down")
    for p in ("conv64_1", "conv64_2", "conv64_3"):
        out = residual(out, p)
    out = residual_down(out, "conv128_down")
    for p in ("conv128_1", "conv128_2"):
        out = residual(out, p)
    out = residual_down(out, "conv256_down")
    for p in ("conv256_1", "conv256_2"):
        out = residual(out, p)
    out = residual_down(out, "conv256_down_out")
    feat = g.global_avg_flatten(out)
    g.gemm(feat, W["fc"], None, out_name="descriptor")
    g.output("descriptor", [1, 128])
    return g.model("face-api FaceRecognitionNet (dlib_face_recognition_resnet_model_v1). "
                   "input: 1x3x150x150 RGB, (pixel - [122.782,117.001,104.298]) / 256; "
                   "output descriptor 1x128, compare by L2 distance.")


# --------------------------------------------------------------------------------------
# face_landmark_68 (src/faceFeatureExtractor + faceLandmarkNet): 4 dense blocks + fc
# --------------------------------------------------------------------------------------


def build_face_landmark_68(W):
    g = Graph("face_landmark_68")
    x = g.input("input", [1, 3, 112, 112])

    def sep_conv(x, prefix, stride):
        # tf.separableConv2d(x, depthwise, pointwise, stride, 'same') + bias
        dw = depthwise_to_oihw(W[f"{prefix}/depthwise_filter"])
        c = dw.shape[0]
        y = g.conv(x, dw, None, stride=stride, pads="same", group=c, prefix=prefix.replace("/", "_") + "_dw")
        pw = hwio_to_oihw(W[f"{prefix}/pointwise_filter"])
        return g.conv(y, pw, W[f"{prefix}/bias"], stride=1, pads="same", prefix=prefix.replace("/", "_") + "_pw")

    def dense_block4(x, prefix, first):
        if first:
            c0 = g.conv(x, hwio_to_oihw(W[f"{prefix}/conv0/filters"]), W[f"{prefix}/conv0/bias"],
                        stride=2, pads="same", prefix=f"{prefix}_conv0")
        else:
            c0 = sep_conv(x, f"{prefix}/conv0", 2)
        out1 = g.relu(c0)
        out2 = sep_conv(out1, f"{prefix}/conv1", 1)
        in3 = g.relu(g.add(out1, out2))
        out3 = sep_conv(in3, f"{prefix}/conv2", 1)
        s12 = g.add(out1, out2)
        s123 = g.add(s12, out3)
        in4 = g.relu(s123)
        out4 = sep_conv(in4, f"{prefix}/conv3", 1)
        return g.relu(g.add(s123, out4))

    out = dense_block4(x, "dense0", True)
    out = dense_block4(out, "dense1", False)
    out = dense_block4(out, "dense2", False)
    out = dense_block4(out, "dense3", False)
    # tf.avgPool(out, 7, 2, 'valid') on the 7x7 map == global average
    assert g.shapes[out][2:] == (7, 7), g.shapes[out]
    feat = g.global_avg_flatten(out)
    g.gemm(feat, W["fc/weights"], W["fc/bias"], out_name="landmarks")
    g.output("landmarks", [1, 136])
    return g.model("face-api FaceLandmark68Net. input: 1x3x112x112 RGB, "
                   "(pixel - [122.782,117.001,104.298]) / 255, the face box padded (centred) to a square; "
                   "output landmarks 1x136 = 68 x (x, y), relative (0..1) to that square.")


# --------------------------------------------------------------------------------------
# ssd_mobilenetv1 (src/ssdMobilenetv1): MobileNetV1 + SSD heads, raw outputs
# --------------------------------------------------------------------------------------

SSD_EPSILON = 0.0010000000474974513


def build_ssd_mobilenetv1(W):
    g = Graph("ssd_mobilenetv1")
    x = g.input("input", [1, 3, 512, 512])

    def pointwise(x, prefix, stride):
        # conv 'same' + convolution_bn_offset, clip 0..6
        y = g.conv(x, hwio_to_oihw(W[f"{prefix}/weights"]), W[f"{prefix}/convolution_bn_offset"],
                   stride=stride, pads="same", prefix=prefix.replace("/", "_"))
        return g.relu6(y)

    def depthwise(x, idx, stride):
        p = f"MobilenetV1/Conv2d_{idx}_depthwise"
        w = depthwise_to_oihw(W[f"{p}/depthwise_weights"])
        gamma, beta = W[f"{p}/BatchNorm/gamma"], W[f"{p}/BatchNorm/beta"]
        mean, var = W[f"{p}/BatchNorm/moving_mean"], W[f"{p}/BatchNorm/moving_variance"]
        k = gamma / np.sqrt(var.astype(np.float64) + SSD_EPSILON)
        wf = w * k[:, None, None, None]
        bf = beta - mean * k
        y = g.conv(x, wf.astype(np.float32), bf.astype(np.float32), stride=stride, pads="same",
                   group=w.shape[0], prefix=p.replace("/", "_"))
        return g.relu6(y)

    out = pointwise(x, "MobilenetV1/Conv2d_0_pointwise", 2)
    conv11 = None
    for i in range(1, 14):
        out = depthwise(out, i, 2 if i in (2, 4, 6, 12) else 1)
        out = pointwise(out, f"MobilenetV1/Conv2d_{i}_pointwise", 1)
        if i == 11:
            conv11 = out
    c0 = pointwise(out, "Prediction/Conv2d_0_pointwise", 1)
    c1 = pointwise(c0, "Prediction/Conv2d_1_pointwise", 2)
    c2 = pointwise(c1, "Prediction/Conv2d_2_pointwise", 1)
    c3 = pointwise(c2, "Prediction/Conv2d_3_pointwise", 2)
    c4 = pointwise(c3, "Prediction/Conv2d_4_pointwise", 1)
    c5 = pointwise(c4, "Prediction/Conv2d_5_pointwise", 2)
    c6 = pointwise(c5, "Prediction/Conv2d_6_pointwise", 1)
    c7 = pointwise(c6, "Prediction/Conv2d_7_pointwise", 2)
    sources = [conv11, out, c1, c3, c5, c7]

    boxes, classes, levels = [], [], []
    for i, src in enumerate(sources):
        p = f"Prediction/BoxPredictor_{i}"
        n, c, h, w = g.shapes[src]
        for kind, dst, depth in (("BoxEncodingPredictor", boxes, 4), ("ClassPredictor", classes, 3)):
            y = g.conv(src, hwio_to_oihw(W[f"{p}/{kind}/weights"]), W[f"{p}/{kind}/biases"],
                       stride=1, pads="same", prefix=f"bp{i}_{kind}")
            a = g.shapes[y][1] // depth
            t = g.node("Transpose", [y], perm=[0, 2, 3, 1])  # NCHW -> NHWC: anchor index = (y*W + x)*A + a
            r = g.node("Reshape", [t, g.const(np.array([1, h * w * a, depth], np.int64), "shape")])
            dst.append(r)
        levels.append({"source": i, "feature_map": [h, w], "anchors_per_cell": a, "count": h * w * a})
    total = sum(l["count"] for l in levels)
    g.node("Concat", boxes, out_name="box_encodings", axis=1)
    g.node("Concat", classes, out_name="class_logits", axis=1)
    g.output("box_encodings", [1, total, 4])
    g.output("class_logits", [1, total, 3])
    model = g.model("face-api SsdMobilenetv1 face detector (no post-processing). input: 1x3x512x512 RGB, "
                    "pixel / 127.5 - 1, image padded at bottom/right with black to a square then resized; "
                    f"outputs box_encodings 1x{total}x4 (ty, tx, th, tw) and class_logits 1x{total}x3 "
                    "(score = sigmoid(class_logits[..., 1])); anchors in ssd_anchors.json.")
    anchors = W["Output/extra_dim"].reshape(-1, 4)
    assert anchors.shape[0] == total, (anchors.shape, total)
    return model, anchors, levels


def ssd_anchor_doc(anchors, levels):
    return {
        "source": "npm:@vladmandic/face-api@1.7.15 model/ssd_mobilenetv1_model (Output/extra_dim)",
        "count": int(anchors.shape[0]),
        "anchor_format": "ymin, xmin, ymax, xmax; normalised to the 512x512 input (0..1)",
        "box_encoding_format": "ty, tx, th, tw (output box_encodings, same anchor order)",
        "scale_factors": {"y": 10.0, "x": 10.0, "h": 5.0, "w": 5.0},
        "decode": [
            "ha = ymax_a - ymin_a; wa = xmax_a - xmin_a; yc_a = ymin_a + ha/2; xc_a = xmin_a + wa/2",
            "yc = ty/10 * ha + yc_a; xc = tx/10 * wa + xc_a",
            "h = exp(th/5) * ha; w = exp(tw/5) * wa",
            "box = [yc - h/2, xc - w/2, yc + h/2, xc + w/2]  (ymin, xmin, ymax, xmax, 0..1 of the padded square)",
            "score = sigmoid(class_logits[i][1])  (channel 0 is background, channel 2 unused)",
        ],
        "postprocess": {
            "min_confidence": 0.5,
            "iou_threshold": 0.5,
            "max_results": 100,
            "nms": "greedy: sort by score desc, keep a box unless its IoU with a kept box is > iou_threshold",
            "to_pixels": "clip ymin,xmin to >= 0 and ymax,xmax to <= 1, multiply by the padded square side "
                         "(max(image width, height)); the image sits at the top-left of that square",
        },
        "levels": levels,
        "anchors": [[float(f"{v:.8g}") for v in row] for row in anchors.tolist()],
    }


# dlib get_face_chip_details(): mean face shape of landmarks 17..67 (x, y in 0..1)
DLIB_MEAN_X = [0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
               0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
               0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
               0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
               0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
               0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
               0.553364, 0.490127, 0.42689]
DLIB_MEAN_Y = [0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
               0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
               0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
               0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
               0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
               0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
               0.784792, 0.824182, 0.831803, 0.824182]
# dlib uses points 17..67 except the eyebrows (17..26) and the lower lip (55..59, 65..67)
CHIP_LANDMARKS = [i for i in range(17, 68) if not (17 <= i <= 26 or 55 <= i <= 59 or 65 <= i <= 67)]


def chip_template(size=150, padding=0.25):
    """Target positions (chip pixels) of CHIP_LANDMARKS, as dlib get_face_chip_details."""
    return [[(padding + DLIB_MEAN_X[i - 17]) / (2 * padding + 1) * size,
             (padding + DLIB_MEAN_Y[i - 17]) / (2 * padding + 1) * size] for i in CHIP_LANDMARKS]


MEAN_RGB = [122.782, 117.001, 104.298]


def models_index(out_dir, source):
    """MODELS.json entries: file, sha256, bytes, source, input (shape, layout, preprocessing), outputs."""
    def entry(name, fname, src, inp, outputs, extra=None):
        path = os.path.join(out_dir, fname)
        e = {"name": name, "file": fname, "sha256": sha256_file(path), "bytes": os.path.getsize(path),
             "source": f"{source} {src}", "input": inp, "outputs": outputs}
        e.update(extra or {})
        return e

    return [
        entry("face_recognition", "face_recognition.onnx",
              "model/face_recognition_model-weights_manifest.json + .bin",
              {"name": "input", "shape": [1, 3, 150, 150], "layout": "NCHW", "color": "RGB",
               "preprocessing": "blob = (pixel - mean) * scale", "mean": MEAN_RGB, "scale": 1 / 256,
               "opencv": "blobFromImage(chip, 1/256., Size(150,150), Scalar(122.782,117.001,104.298), swapRB=true)",
               "image": "dlib face chip: similarity transform of landmarks 27..54 and 60..64 onto dlib's mean "
                        "face shape, 150x150, padding 0.25 (dlib get_face_chip_details)",
               "alignment": {"method": "least-squares similarity transform (dlib find_similarity_transform / "
                             "Umeyama) from the image landmarks to the template, then warpAffine bilinear 150x150",
                             "size": 150, "padding": 0.25, "landmark_indices": CHIP_LANDMARKS,
                             "template": [[round(x, 4), round(y, 4)] for x, y in chip_template()]}},
              [{"name": "descriptor", "shape": [1, 128], "meaning": "face descriptor; compare by L2 distance "
                "(same person typically < 0.5-0.6)"}],
              {"kind": "face-recognition", "arch": "dlib_face_recognition_resnet_model_v1 (ResNet-29), as ported by face-api"}),
        entry("face_landmark_68", "face_landmark_68.onnx",
              "model/face_landmark_68_model-weights_manifest.json + .bin",
              {"name": "input", "shape": [1, 3, 112, 112], "layout": "NCHW", "color": "RGB",
               "preprocessing": "blob = (pixel - mean) * scale", "mean": MEAN_RGB, "scale": 1 / 255,
               "opencv": "blobFromImage(crop, 1/255., Size(112,112), Scalar(122.782,117.001,104.298), swapRB=true)",
               "image": "the detection box padded (centred, black) to a square of side max(w,h), resized to 112x112"},
              [{"name": "landmarks", "shape": [1, 136], "meaning": "68 points (x0,y0,x1,y1,...), relative 0..1 to "
                "the square crop: x_img = sq_x + x*side, y_img = sq_y + y*side; iBUG 68-point order"}],
              {"kind": "face-landmarks", "arch": "face-api FaceLandmark68Net (4 dense blocks of separable convs + fc)"}),
        entry("ssd_mobilenetv1", "ssd_mobilenetv1.onnx",
              "model/ssd_mobilenetv1_model-weights_manifest.json + .bin",
              {"name": "input", "shape": [1, 3, 512, 512], "layout": "NCHW", "color": "RGB",
               "preprocessing": "blob = (pixel - mean) * scale", "mean": [127.5, 127.5, 127.5], "scale": 1 / 127.5,
               "opencv": "blobFromImage(square, 1/127.5, Size(512,512), Scalar(127.5,127.5,127.5), swapRB=true)",
               "image": "the image placed at the top-left of a black square of side max(w,h), resized (bilinear) to 512x512"},
              [{"name": "box_encodings", "shape": [1, 5118, 4], "meaning": "ty, tx, th, tw per anchor (see ssd_anchors.json)"},
               {"name": "class_logits", "shape": [1, 5118, 3], "meaning": "score = sigmoid(class_logits[..., 1])"}],
              {"kind": "face-detector", "arch": "SSD MobileNetV1 (face-api), 5118 anchors on 32,16,8,4,2,1 grids",
               "anchors": "ssd_anchors.json"}),
        entry("ssd_anchors", "ssd_anchors.json",
              "model/ssd_mobilenetv1_model-weights_manifest.json (Output/extra_dim) + face-api src/ssdMobilenetv1/outputLayer.ts",
              None, [], {"kind": "detector-anchors"}),
    ]


def sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True, help="face-api package's model/ folder")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--source", default="npm:@vladmandic/face-api@1.7.15",
                    help="package the weights came from (written to MODELS.json)")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    def manifest(name):
        return read_weights_manifest(os.path.join(args.model_dir, f"{name}-weights_manifest.json"))

    def save(model, fname):
        path = os.path.join(args.out_dir, fname)
        tmp = path + ".tmp"
        onnx.save(model, tmp)
        os.replace(tmp, path)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")

    save(build_face_recognition(manifest("face_recognition_model")), "face_recognition.onnx")
    save(build_face_landmark_68(manifest("face_landmark_68_model")), "face_landmark_68.onnx")
    ssd, anchors, levels = build_ssd_mobilenetv1(manifest("ssd_mobilenetv1_model"))
    save(ssd, "ssd_mobilenetv1.onnx")
    apath = os.path.join(args.out_dir, "ssd_anchors.json")
    with open(apath + ".tmp", "w", encoding="utf-8") as f:
        json.dump(ssd_anchor_doc(anchors, levels), f, separators=(",", ":"))
        f.write("\n")
    os.replace(apath + ".tmp", apath)
    print(f"wrote {apath}")
    ipath = os.path.join(args.out_dir, "MODELS.json")
    with open(ipath + ".tmp", "w", encoding="utf-8") as f:
        json.dump(models_index(args.out_dir, args.source), f, indent=1)
        f.write("\n")
    os.replace(ipath + ".tmp", ipath)
    print(f"wrote {ipath}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
