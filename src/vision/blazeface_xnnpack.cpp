#include "vision/blazeface_xnnpack.h"

#include <opencv2/dnn/all_layers.hpp>
#include <xnnpack.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>

#include "core/error.h"

namespace facecrowd::vision {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int kBlocks = 32;                     // depthwise_conv2d{,_1.._31} + conv2d_{1..32}
bool strided_block(int i) { return i == 7 || i == 15 || i == 23 || i == 31; }
constexpr int kLastResidualBlock = 30;          // its output feeds the 16x16 heads; block 31 has no residual

// External value ids: the input, then the four outputs in the graph's order.
constexpr uint32_t kInputId = 0;
constexpr uint32_t kOutputIds[4] = {1, 2, 3, 4};

void initialise_xnnpack() {
  static std::once_flag once;
  static xnn_status status = xnn_status_success;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success) {
    throw Error(ExitCode::kInternal, "could not initialise XNNPACK (status " + std::to_string(int(status)) +
                                         "): run with FACECROWD_BLAZEFACE_ENGINE=opencv");
  }
}

}  // namespace

BlazeFaceEngine blazeface_engine_from_env() {
  const char* v = std::getenv("FACECROWD_BLAZEFACE_ENGINE");
  std::string s = v ? v : "";
  if (s.empty() || s == "xnnpack") return BlazeFaceEngine::kXnnpack;
  if (s == "opencv") return BlazeFaceEngine::kOpenCv;
  throw Error(ExitCode::kUsage,
              "FACECROWD_BLAZEFACE_ENGINE='" + s + "' is not known: use xnnpack (default) or opencv");
}

std::string to_string(BlazeFaceEngine engine) { return engine == BlazeFaceEngine::kOpenCv ? "opencv" : "xnnpack"; }

struct BlazeFaceXnnpack::Graph {
  cv::dnn::Net* net;  // only while building
  std::string model_path;
  xnn_subgraph_t subgraph = nullptr;
  xnn_runtime_t runtime = nullptr;
  std::vector<std::vector<float>> weights;  // XNNPACK keeps pointers to static data: they live as long as we do

  ~Graph() {
    if (runtime) xnn_delete_runtime(runtime);
    if (subgraph) xnn_delete_subgraph(subgraph);
  }

  [[noreturn]] void refuse(const std::string& what) const {
    throw Error(ExitCode::kInternal, "building BlazeFace on XNNPACK from " + model_path + ": " + what +
                                         " (not the expected MediaPipe back-256 graph; tools/prepare_models.sh "
                                         "prepares it, or run with FACECROWD_BLAZEFACE_ENGINE=opencv)");
  }
  void check(xnn_status status, const std::string& what) const {
    if (status != xnn_status_success) refuse(what + " failed (XNNPACK status " + std::to_string(int(status)) + ")");
  }

  // The OpenCV layer whose name ends with "/<name>" (ONNX node output names, e.g. ".../conv2d_3/BiasAdd").
  cv::Ptr<cv::dnn::Layer> layer(const std::string& name) const {
    const std::string suffix = "/" + name;
    for (const std::string& n : net->getLayerNames()) {
      if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return net->getLayer(net->getLayerId(n));
      }
    }
    refuse("no layer " + name);
  }
  const float* keep(std::vector<float> v) {
    weights.push_back(std::move(v));
    return weights.back().data();
  }
  uint32_t tensor(std::vector<size_t> dims, const float* data = nullptr, uint32_t external = XNN_INVALID_VALUE_ID,
                  uint32_t flags = 0) {
    uint32_t id = 0;
    check(xnn_define_tensor_value(subgraph, xnn_datatype_fp32, dims.size(), dims.data(), data, external, flags, &id),
          "a tensor");
    return id;
  }

  struct Shape {
    size_t h, w, c;
  };

  // A convolution with bias (ONNX OIHW weights -> XNNPACK OHWI), pads top, left, bottom, right.
  uint32_t conv(const std::string& name, uint32_t in, Shape s, size_t k, size_t stride, std::array<size_t, 4> pad,
                float out_min, Shape& out_shape, uint32_t external = XNN_INVALID_VALUE_ID, uint32_t flags = 0) {
    auto l = layer(name + "/BiasAdd");
    if (l->blobs.size() != 2) refuse(name + " has no bias");
    const cv::Mat& w = l->blobs[0];
    const cv::Mat& b = l->blobs[1];
    if (w.dims != 4 || size_t(w.size[1]) != s.c || size_t(w.size[2]) != k || size_t(w.size[3]) != k ||
        b.total() != size_t(w.size[0])) {
      refuse(name + " has weights of an unexpected shape");
    }
    const size_t cout = size_t(w.size[0]);
    std::vector<float> ohwi(cout * k * k * s.c);
    const float* p = w.ptr<float>();
    for (size_t o = 0; o < cout; ++o)
      for (size_t c = 0; c < s.c; ++c)
        for (size_t y = 0; y < k; ++y)
          for (size_t x = 0; x < k; ++x) ohwi[((o * k + y) * k + x) * s.c + c] = p[((o * s.c + c) * k + y) * k + x];
    uint32_t filter = tensor({cout, k, k, s.c}, keep(std::move(ohwi)));
    uint32_t bias = tensor({cout}, keep(std::vector<float>(b.ptr<float>(), b.ptr<float>() + cout)));
    out_shape = {(s.h + pad[0] + pad[2] - k) / stride + 1, (s.w + pad[1] + pad[3] - k) / stride + 1, cout};
    uint32_t out = tensor({1, out_shape.h, out_shape.w, cout}, nullptr, external, flags);
    check(xnn_define_convolution_2d(subgraph, uint32_t(pad[0]), uint32_t(pad[3]), uint32_t(pad[2]), uint32_t(pad[1]),
                                    uint32_t(k), uint32_t(k), uint32_t(stride), uint32_t(stride), 1, 1, 1, s.c, cout,
                                    out_min, kInf, in, filter, bias, out, 0),
          name);
    return out;
  }

  // A 3x3 depthwise convolution without bias; TensorFlow SAME padding (stride 2 pads only bottom and right).
  uint32_t depthwise(const std::string& name, uint32_t in, Shape s, size_t stride, Shape& out_shape) {
    auto l = layer(name + "/depthwise");
    const cv::Mat& w = l->blobs.empty() ? cv::Mat() : l->blobs[0];
    if (l->blobs.size() != 1 || w.dims != 4 || size_t(w.size[0]) != s.c || w.size[1] != 1 || w.size[2] != 3 ||
        w.size[3] != 3) {
      refuse(name + " is not a bias-free 3x3 depthwise convolution over " + std::to_string(s.c) + " channels");
    }
    std::vector<float> hwc(9 * s.c);
    const float* p = w.ptr<float>();
    for (size_t c = 0; c < s.c; ++c)
      for (size_t i = 0; i < 9; ++i) hwc[i * s.c + c] = p[c * 9 + i];
    uint32_t filter = tensor({1, 3, 3, s.c}, keep(std::move(hwc)));
    const uint32_t before = stride == 1 ? 1 : 0, after = 1;
    out_shape = {(s.h + before + after - 3) / stride + 1, (s.w + before + after - 3) / stride + 1, s.c};
    uint32_t out = tensor({1, out_shape.h, out_shape.w, s.c});
    check(xnn_define_depthwise_convolution_2d(subgraph, before, after, after, before, 3, 3, uint32_t(stride),
                                              uint32_t(stride), 1, 1, 1, s.c, -kInf, kInf, in, filter,
                                              XNN_INVALID_VALUE_ID, out, 0),
          name);
    return out;
  }

  void build() {
    check(xnn_create_subgraph(5, 0, &subgraph), "creating the subgraph");
    const size_t side = BlazeFaceXnnpack::kInputSide;
    uint32_t x = tensor({1, side, side, 3}, nullptr, kInputId, XNN_VALUE_FLAG_EXTERNAL_INPUT);
    Shape s{side, side, 3};
    // Stem: 5x5 stride 2, ONNX pads (1, 1, 2, 2), ReLU.
    x = conv("conv2d", x, s, 5, 2, {1, 1, 2, 2}, 0.0f, s);
    uint32_t features16 = 0;
    for (int i = 0; i < kBlocks; ++i) {
      const size_t stride = strided_block(i) ? 2 : 1;
      Shape d{}, p{};
      uint32_t dw = depthwise(i == 0 ? "depthwise_conv2d" : "depthwise_conv2d_" + std::to_string(i), x, s, stride, d);
      const bool residual = i <= kLastResidualBlock;
      uint32_t pw = conv("conv2d_" + std::to_string(i + 1), dw, d, 1, 1, {0, 0, 0, 0}, residual ? -kInf : 0.0f, p);
      if (residual) {
        uint32_t shortcut = x;
        if (stride == 2) {  // max-pool 2x2, then zero channels appended when the block widens
          shortcut = tensor({1, p.h, p.w, s.c});
          check(xnn_define_max_pooling_2d(subgraph, 0, 0, 0, 0, 2, 2, 2, 2, 1, 1, -kInf, kInf, x, shortcut, 0),
                "max pooling of block " + std::to_string(i));
          if (p.c > s.c) {
            const size_t pre[4] = {0, 0, 0, 0}, post[4] = {0, 0, 0, p.c - s.c};
            uint32_t padded = tensor({1, p.h, p.w, p.c});
            check(xnn_define_static_constant_pad(subgraph, pre, post, 0.0f, shortcut, padded, 0),
                  "channel padding of block " + std::to_string(i));
            shortcut = padded;
          }
        } else if (p.c != s.c) {
          refuse("block " + std::to_string(i) + " changes its channels without a stride");
        }
        uint32_t sum = tensor({1, p.h, p.w, p.c});
        check(xnn_define_add2(subgraph, 0.0f, kInf, pw, shortcut, sum, 0), "residual add of block " + std::to_string(i));
        pw = sum;
      }
      x = pw;
      s = p;
      if (i == kLastResidualBlock) features16 = x;
    }
    if (s.h != 8 || s.c != 96) refuse("the last block is not 8x8x96");
    const Shape f16{16, 16, 96}, f8 = s;
    Shape o{};
    // The graph's outputs: classifiers (conv2d_33 on 16x16, conv2d_34 on 8x8), then regressors (35, 36).
    conv("conv2d_33", features16, f16, 1, 1, {0, 0, 0, 0}, -kInf, o, kOutputIds[0], XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
    if (o.c != 2) refuse("conv2d_33 does not score 2 anchors per cell");
    conv("conv2d_34", x, f8, 1, 1, {0, 0, 0, 0}, -kInf, o, kOutputIds[1], XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
    if (o.c != 6) refuse("conv2d_34 does not score 6 anchors per cell");
    conv("conv2d_35", features16, f16, 1, 1, {0, 0, 0, 0}, -kInf, o, kOutputIds[2], XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
    if (o.c != 32) refuse("conv2d_35 does not regress 2 x 16 values per cell");
    conv("conv2d_36", x, f8, 1, 1, {0, 0, 0, 0}, -kInf, o, kOutputIds[3], XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
    if (o.c != 96) refuse("conv2d_36 does not regress 6 x 16 values per cell");
    check(xnn_create_runtime_v2(subgraph, nullptr, 0, &runtime), "creating the runtime");
    xnn_delete_subgraph(subgraph);  // the runtime is independent of it
    subgraph = nullptr;
  }
};

BlazeFaceXnnpack::BlazeFaceXnnpack(cv::dnn::Net& net, const std::string& model_path)
    : graph_(new Graph{&net, model_path}) {
  initialise_xnnpack();
  graph_->build();
  graph_->net = nullptr;
}

BlazeFaceXnnpack::~BlazeFaceXnnpack() = default;

void BlazeFaceXnnpack::forward(const float* input_nhwc, BlazeFaceOutputs& out) {
  out.logits16.resize(512);
  out.logits8.resize(384);
  out.boxes16.resize(512 * 16);
  out.boxes8.resize(384 * 16);
  const xnn_external_value values[5] = {{kInputId, const_cast<float*>(input_nhwc)},
                                        {kOutputIds[0], out.logits16.data()},
                                        {kOutputIds[1], out.logits8.data()},
                                        {kOutputIds[2], out.boxes16.data()},
                                        {kOutputIds[3], out.boxes8.data()}};
  graph_->check(xnn_setup_runtime(graph_->runtime, 5, values), "setting up a pass");
  graph_->check(xnn_invoke_runtime(graph_->runtime), "running a pass");
}

}  // namespace facecrowd::vision
