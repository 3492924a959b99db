#include "vision/blazeface_xnnpack.h"

namespace facecrowd::vision {
namespace {

constexpr int kBlocks = 32;  // depthwise_conv2d{,_1.._31}/depthwise + conv2d_{1..32}/BiasAdd
bool strided_block(int i) { return i == 7 || i == 15 || i == 23 || i == 31; }
constexpr int kLastResidualBlock = 30;  // its output feeds the 16x16 heads; block 31 has no residual

// External value ids: the input, then the four outputs in the graph's order.
constexpr uint32_t kInputId = 0;
constexpr uint32_t kOutputIds[4] = {1, 2, 3, 4};

std::string conv_layer(int i) { return (i == 0 ? "conv2d" : "conv2d_" + std::to_string(i)) + "/BiasAdd"; }
std::string depthwise_layer(int i) {
  return (i == 0 ? "depthwise_conv2d" : "depthwise_conv2d_" + std::to_string(i)) + "/depthwise";
}

}  // namespace

BlazeFaceXnnpack::BlazeFaceXnnpack(cv::dnn::Net& net, const std::string& model_path)
    : graph_(std::make_unique<XnnpackGraph>(net, model_path, 5)) {
  using G = XnnpackGraph;
  G& g = *graph_;
  const size_t side = kInputSide;
  // Stem: 5x5 stride 2, ONNX pads (1, 1, 2, 2), ReLU.
  G::Value x = g.conv(conv_layer(0), g.input({side, side, 3}, kInputId), 5, 2, {1, 1, 2, 2}, G::kReluMin);
  G::Value features16;
  for (int i = 0; i < kBlocks; ++i) {
    // TensorFlow SAME padding: a stride-2 depthwise pads only bottom and right.
    const size_t stride = strided_block(i) ? 2 : 1;
    const G::Pads pads = stride == 1 ? G::Pads{1, 1, 1, 1} : G::Pads{0, 0, 1, 1};
    G::Value dw = g.depthwise(depthwise_layer(i), x, stride, pads, G::kNoMin, /*bias=*/false);
    const bool residual = i <= kLastResidualBlock;
    G::Value pw = g.conv(conv_layer(i + 1), dw, 1, 1, {0, 0, 0, 0}, residual ? G::kNoMin : G::kReluMin);
    if (residual) {
      G::Value shortcut = x;
      if (stride == 2) {  // max-pool 2x2, then zero channels appended when the block widens
        shortcut = g.max_pool_2x2(x);
        if (pw.shape.c > x.shape.c) shortcut = g.pad_channels(shortcut, pw.shape.c);
      }
      pw = g.add(pw, shortcut, G::kReluMin);
    }
    x = pw;
    if (i == kLastResidualBlock) features16 = x;
  }
  if (features16.shape.h != 16 || features16.shape.c != 96 || x.shape.h != 8 || x.shape.c != 96) {
    g.refuse("the features are not 16x16x96 and 8x8x96");
  }
  // The graph's outputs: classifiers (conv2d_33 on 16x16, conv2d_34 on 8x8), then regressors (35, 36).
  const std::pair<const G::Value*, size_t> heads[4] = {{&features16, 2}, {&x, 6}, {&features16, 32}, {&x, 96}};
  for (int o = 0; o < 4; ++o) {
    G::Value out = g.conv(conv_layer(33 + o), *heads[o].first, 1, 1, {0, 0, 0, 0}, G::kNoMin, kOutputIds[o]);
    if (out.shape.c != heads[o].second) g.refuse(conv_layer(33 + o) + " has an unexpected number of outputs");
  }
  g.finish();
}

BlazeFaceXnnpack::~BlazeFaceXnnpack() = default;

void BlazeFaceXnnpack::forward(const float* input_nhwc, BlazeFaceOutputs& out) {
  out.logits16.resize(512);
  out.logits8.resize(384);
  out.boxes16.resize(512 * 16);
  out.boxes8.resize(384 * 16);
  graph_->run({{kInputId, const_cast<float*>(input_nhwc)},
               {kOutputIds[0], out.logits16.data()},
               {kOutputIds[1], out.logits8.data()},
               {kOutputIds[2], out.boxes16.data()},
               {kOutputIds[3], out.boxes8.data()}});
}

}  // namespace facecrowd::vision
