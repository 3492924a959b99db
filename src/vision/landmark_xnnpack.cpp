#include "vision/landmark_xnnpack.h"

namespace facecrowd::vision {
namespace {

constexpr uint32_t kInputId = 0, kOutputId = 1;

}  // namespace

LandmarkXnnpack::LandmarkXnnpack(cv::dnn::Net& net, const std::string& model_path)
    : graph_(std::make_unique<XnnpackGraph>(net, model_path, 2)) {
  using G = XnnpackGraph;
  G& g = *graph_;
  const size_t side = kInputSide;
  const G::Pads kSame{1, 1, 1, 1}, kStride2{0, 0, 1, 1};  // TensorFlow SAME padding
  G::Value x = g.input({side, side, 3}, kInputId);
  const size_t channels[4] = {32, 64, 128, 256};
  for (int b = 0; b < 4; ++b) {
    const std::string block = "dense" + std::to_string(b);
    auto separable = [&](const std::string& step, const G::Value& in, size_t stride, float out_min) {
      G::Value dw = g.depthwise(block + "_" + step + "_dw", in, stride, stride == 1 ? kSame : kStride2, G::kNoMin,
                                /*bias=*/true);
      return g.conv(block + "_" + step + "_pw", dw, 1, 1, {0, 0, 0, 0}, out_min);
    };
    // The entry: a full 3x3 convolution in the first block, a separable one after; ReLU.
    G::Value out0 = b == 0 ? g.conv(block + "_conv0", x, 3, 2, kStride2, G::kReluMin)
                           : separable("conv0", x, 2, G::kReluMin);
    if (out0.shape.c != channels[b]) g.refuse(block + " does not have " + std::to_string(channels[b]) + " channels");
    // Dense sums: s1 = out0 + p1, s2 = s1 + p2, s3 = s2 + p3; each step reads the ReLU of the last sum.
    G::Value s1 = g.add(out0, separable("conv1", out0, 1, G::kNoMin), G::kNoMin);
    G::Value s2 = g.add(s1, separable("conv2", g.relu(s1), 1, G::kNoMin), G::kNoMin);
    x = g.add(s2, separable("conv3", g.relu(s2), 1, G::kNoMin), G::kReluMin);
  }
  if (x.shape.h != 7 || x.shape.c != 256) g.refuse("the features are not 7x7x256");
  G::Value points = g.fully_connected("landmarks", g.global_average_pool(x), kOutputId);
  if (points.shape.c != kOutputs) g.refuse("landmarks does not give 136 values");
  g.finish();
}

LandmarkXnnpack::~LandmarkXnnpack() = default;

void LandmarkXnnpack::forward(const float* input_nhwc, std::array<float, kOutputs>& out) {
  graph_->run({{kInputId, const_cast<float*>(input_nhwc)}, {kOutputId, out.data()}});
}

}  // namespace facecrowd::vision
