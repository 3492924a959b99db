"""The crowd density network, shared by training (train_density.py) and composition (compose_crowd_model.py).

Layout (strides relative to the input image):
  stem  = face-api's SSD MobileNet v1 blocks 0-5, frozen, read from ssd_mobilenetv1.onnx (stride 8, 256 ch).
          It is never committed: tools/prepare_models.sh rebuilds it from the pinned npm package.
  head  = MobileNet blocks 6-11 (stride 16, 512 ch; initialised from face-api, fine-tuned) plus a small
          decoder that fuses stride 16 back into stride 8 and predicts one density value per 8x8 cell.
          This is the part we train and commit (tools/crowd/crowd_head.onnx).

The head's input is the stem's output `clip_44` (a tensor name in ssd_mobilenetv1.onnx); its output
`density` is 1x1x(H/8)x(W/8) and sums to the head count. Inputs must be multiples of 16 pixels on each side
(the caller pads), so that stride 16 upsampled by two lands exactly on the stride-8 grid.
"""
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

STEM_OUTPUT = "clip_44"   # output of MobilenetV1 block 5 (pointwise + ReLU6) in ssd_mobilenetv1.onnx
STRIDE = 8
INPUT_MULTIPLE = 16


class TfConv(nn.Module):
    """A conv + ReLU6 with ONNX's explicit (possibly asymmetric, TF 'SAME') padding."""

    def __init__(self, weight, bias, attrs):
        super().__init__()
        top, left, bottom, right = attrs["pads"]
        self.pad = (left, right, top, bottom)
        out_ch, in_per_group = weight.shape[0], weight.shape[1]
        groups = attrs.get("group", 1)
        self.conv = nn.Conv2d(in_per_group * groups, out_ch, weight.shape[2:], stride=attrs["strides"],
                              groups=groups, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(weight))
            self.conv.bias.copy_(torch.from_numpy(bias))

    def forward(self, x):
        if any(self.pad):
            x = F.pad(x, self.pad)
        return torch.clamp(self.conv(x), 0.0, 6.0)


def mobilenet_blocks(ssd_onnx_path, first_block, last_block):
    """MobileNet v1 blocks [first_block, last_block] of face-api's SSD as a torch Sequential."""
    graph = onnx.load(ssd_onnx_path).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    layers = []
    for node in graph.node:
        if node.op_type != "Conv" or not node.name.startswith("MobilenetV1_Conv2d_"):
            continue
        block = int(node.name.split("_")[2])
        if first_block <= block <= last_block:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            layers.append(TfConv(weights[node.input[1]].copy(), weights[node.input[2]].copy(), attrs))
    if not layers:
        raise ValueError(f"{ssd_onnx_path}: no MobileNet blocks {first_block}-{last_block}")
    return nn.Sequential(*layers)


class DensityHead(nn.Module):
    """Stride-8 features (256 ch) -> density per 8x8 cell. `output_scale` divides the output (training
    uses scaled targets for better-conditioned gradients; export folds the division into the last conv)."""

    def __init__(self, trunk):
        super().__init__()
        self.trunk = trunk
        self.reduce16 = nn.Sequential(nn.Conv2d(512, 128, 1), nn.ReLU(inplace=True))
        self.reduce8 = nn.Sequential(nn.Conv2d(256, 64, 1), nn.ReLU(inplace=True))
        self.decode = nn.Sequential(
            nn.Conv2d(192, 128, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(128, 64, 3, padding=2, dilation=2), nn.ReLU(inplace=True),
            nn.Conv2d(64, 1, 1))

    def forward(self, features8):
        coarse = self.reduce16(self.trunk(features8))
        coarse = F.interpolate(coarse, scale_factor=2.0, mode="nearest")
        fused = torch.cat([coarse, self.reduce8(features8)], dim=1)
        density = self.decode(fused)
        # Training regresses the raw output: a ReLU there can die (all cells 0, no gradient) and take the
        # whole model with it. Inference and the exported model clip at 0 (a density is never negative).
        return density if self.training else F.relu(density)

    def fold_output_scale(self, scale):
        """Divides the output by `scale` for good (ReLU commutes with a positive scale)."""
        last = self.decode[-1]
        with torch.no_grad():
            last.weight.div_(scale)
            last.bias.div_(scale)


def preprocess(bgr_image):
    """BGR uint8 HxWx3 -> 1x3xH'xW' float tensor as face-api's SSD expects (RGB, [-1, 1]), padded with
    zeros (mid-grey) on the bottom/right to multiples of INPUT_MULTIPLE. Mirrors vision/crowd_counter.cpp."""
    h, w = bgr_image.shape[:2]
    ph = -(-h // INPUT_MULTIPLE) * INPUT_MULTIPLE
    pw = -(-w // INPUT_MULTIPLE) * INPUT_MULTIPLE
    rgb = bgr_image[:, :, ::-1].astype(np.float32) / 127.5 - 1.0
    padded = np.zeros((ph, pw, 3), np.float32)
    padded[:h, :w] = rgb
    return torch.from_numpy(padded.transpose(2, 0, 1).copy())[None]
