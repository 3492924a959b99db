"""EXPERIMENTAL (issue 13): the whole crowd density network, trained end to end by train_full.py. Not the
default model (that is crowd_net.py's, see TRAINING.md).

Layout (strides relative to the input image):
  backbone = face-api's SSD MobileNet v1 (@vladmandic/face-api@1.7.15, MIT), blocks 0-13, initialised from
             the prepared models/ssd_mobilenetv1.onnx and fine-tuned as a whole: stride 8 (block 5, 256 ch),
             16 (block 11, 512 ch) and 32 (block 13, 1024 ch).
  decoder  = a small feature pyramid: stride 32 -> 16 -> 8 (nearest upsampling, 1x1 lateral convolutions,
             3x3 convolutions at each level), one density value per 8x8-pixel cell.

Input `input` 1x3xHxW, RGB in [-1, 1] (face-api's SSD input), H and W multiples of INPUT_MULTIPLE (32; the
caller pads with mid-grey = 0); output `density` 1x1x(H/8)x(W/8), summing to the head count. The same compute
as the default model: about 0.49 s of CPU time per 1024x768 image in OpenCV DNN, like the default's 0.49 s.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDE = 8
INPUT_MULTIPLE = 32      # stride 32 upsampled twice must land exactly on the stride-8 grid
LAST_BLOCK = 13
LEVELS = {5: "c8", 11: "c16", 13: "c32"}   # MobileNet block whose output feeds each pyramid level


def read_mobilenet_weights(path):
    """{conv name: (weight, bias, attrs)} of MobileNet blocks 0-13, from the prepared ssd_mobilenetv1.onnx or
    from the .npz that `train_full.py --pack-only` writes (the same float32 arrays, for a machine without
    the models directory)."""
    path = str(path)
    if path.endswith(".npz"):
        data = np.load(path, allow_pickle=False)
        names = sorted({k.rsplit("/", 1)[0] for k in data.files}, key=lambda n: int(data[n + "/order"]))
        return {n: (data[n + "/weight"].astype(np.float32), data[n + "/bias"].astype(np.float32),
                    {"pads": [int(v) for v in data[n + "/pads"]], "strides": [int(v) for v in data[n + "/strides"]],
                     "group": int(data[n + "/group"])}) for n in names}
    import onnx
    from onnx import numpy_helper
    graph = onnx.load(path).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    out = {}
    for node in graph.node:
        if node.op_type != "Conv" or not node.name.startswith("MobilenetV1_Conv2d_"):
            continue
        if int(node.name.split("_")[2]) > LAST_BLOCK:
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        out[node.name] = (init[node.input[1]].copy(), init[node.input[2]].copy(),
                          {"pads": list(attrs["pads"]), "strides": list(attrs["strides"]),
                           "group": int(attrs.get("group", 1))})
    if len(out) != 2 * (LAST_BLOCK + 1) - 1:
        raise ValueError(f"{path}: expected the {2 * (LAST_BLOCK + 1) - 1} MobileNet v1 convolutions of blocks "
                         f"0-{LAST_BLOCK}, found {len(out)} (is it face-api's SSD from prepare_models.sh?)")
    return out


def save_npz(path, arrays, compress=False):
    """np.savez with fixed zip timestamps, so equal arrays give byte-identical files (np.savez stamps the
    current time; the training's reproducibility check compares files)."""
    import io
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            z.writestr(info, buf.getvalue())


def save_mobilenet_weights(weights, path):
    arrays = {}
    for order, (name, (w, b, a)) in enumerate(weights.items()):
        arrays.update({f"{name}/weight": w, f"{name}/bias": b, f"{name}/pads": np.array(a["pads"]),
                       f"{name}/strides": np.array(a["strides"]), f"{name}/group": np.array(a["group"]),
                       f"{name}/order": np.array(order)})
    save_npz(path, arrays)


class TfConv(nn.Module):
    """A conv + ReLU6 with ONNX's explicit (possibly asymmetric, TF 'SAME') padding."""

    def __init__(self, weight, bias, attrs):
        super().__init__()
        top, left, bottom, right = attrs["pads"]
        self.pad = (left, right, top, bottom)
        self.symmetric = left == right == top == bottom
        out_ch, in_per_group = weight.shape[0], weight.shape[1]
        groups = attrs.get("group", 1)
        self.conv = nn.Conv2d(in_per_group * groups, out_ch, weight.shape[2:], stride=attrs["strides"],
                              padding=left if self.symmetric else 0, groups=groups, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(weight))
            self.conv.bias.copy_(torch.from_numpy(bias))

    def forward(self, x):
        if not self.symmetric:
            x = F.pad(x, self.pad)
        return torch.clamp(self.conv(x), 0.0, 6.0)


def conv_relu(cin, cout, k=1, dilation=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation), nn.ReLU(inplace=True))


class CrowdNet(nn.Module):
    """Image (RGB in [-1, 1], sides multiples of 32) -> density per 8x8 cell. `output_scale` divides the output
    for good at export (training regresses scaled targets for better-conditioned gradients)."""

    def __init__(self, weights):
        super().__init__()
        layers, self.taps = [], {}
        for name, (w, b, a) in weights.items():
            layers.append(TfConv(w, b, a))
            block = int(name.split("_")[2])
            if "pointwise" in name and block in LEVELS:
                self.taps[len(layers) - 1] = LEVELS[block]
        self.backbone = nn.ModuleList(layers)
        self.lateral32 = conv_relu(1024, 128)
        self.lateral16 = conv_relu(512, 128)
        self.smooth16 = conv_relu(128, 128, 3)
        self.lateral8 = conv_relu(256, 64)
        self.decode = nn.Sequential(conv_relu(192, 64, 3), conv_relu(64, 64, 3, dilation=2), nn.Conv2d(64, 1, 1))

    def forward(self, x):
        feats = {}
        for i, layer in enumerate(self.backbone):
            x = layer(x)
            if i in self.taps:
                feats[self.taps[i]] = x
        p32 = self.lateral32(feats["c32"])
        p16 = self.smooth16(self.lateral16(feats["c16"]) + F.interpolate(p32, scale_factor=2.0, mode="nearest"))
        p8 = torch.cat([self.lateral8(feats["c8"]), F.interpolate(p16, scale_factor=2.0, mode="nearest")], dim=1)
        density = self.decode(p8)
        # Training regresses the raw output: a ReLU there can die (all cells 0, no gradient) and take the
        # whole model with it. Inference and the exported model clip at 0 (a density is never negative).
        return density if self.training else F.relu(density)

    def backbone_parameters(self):
        return list(self.backbone.parameters())

    def new_parameters(self):
        ids = {id(p) for p in self.backbone.parameters()}
        return [p for p in self.parameters() if id(p) not in ids]

    def fold_output_scale(self, scale):
        """Divides the output by `scale` for good (ReLU commutes with a positive scale)."""
        last = self.decode[-1]
        with torch.no_grad():
            last.weight.div_(scale)
            last.bias.div_(scale)


def pad_to_multiple(h, w):
    return -(-h // INPUT_MULTIPLE) * INPUT_MULTIPLE, -(-w // INPUT_MULTIPLE) * INPUT_MULTIPLE


def preprocess(bgr_image):
    """BGR uint8 HxWx3 -> 1x3xH'xW' float tensor as face-api's SSD expects (RGB, [-1, 1]), padded with
    zeros (mid-grey) on the bottom/right to multiples of INPUT_MULTIPLE. Mirrors vision/crowd_counter.cpp."""
    h, w = bgr_image.shape[:2]
    ph, pw = pad_to_multiple(h, w)
    rgb = bgr_image[:, :, ::-1].astype(np.float32) / 127.5 - 1.0
    padded = np.zeros((ph, pw, 3), np.float32)
    padded[:h, :w] = rgb
    return torch.from_numpy(padded.transpose(2, 0, 1).copy())[None]


def export_onnx(model, path):
    """ONNX opset 10 (Clip with attributes, Upsample), which OpenCV 4.6 DNN reads; any input size."""
    model.eval()
    dummy = torch.zeros(1, 3, 768, 1024)
    kwargs = {}
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 5):
        kwargs["dynamo"] = False   # the TorchScript exporter writes opset 10; the dynamo one does not
    torch.onnx.export(model, dummy, str(path), input_names=["input"], output_names=["density"],
                      dynamic_axes={"input": {2: "height", 3: "width"}, "density": {2: "h8", 3: "w8"}},
                      opset_version=10, do_constant_folding=True, **kwargs)
