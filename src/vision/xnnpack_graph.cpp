#include "vision/xnnpack_graph.h"

#include <xnnpack.h>

#include <cstdlib>
#include <mutex>

#include "core/error.h"

namespace facecrowd::vision {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

void initialise_xnnpack() {
  static std::once_flag once;
  static xnn_status status = xnn_status_success;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success) {
    throw Error(ExitCode::kInternal, "could not initialise XNNPACK (status " + std::to_string(int(status)) +
                                         "): run with FACECROWD_NET_ENGINE=opencv");
  }
}

}  // namespace

NetEngine net_engine_from_env() {
  const char* v = std::getenv("FACECROWD_NET_ENGINE");
  std::string s = v ? v : "";
  if (s.empty() || s == "xnnpack") return NetEngine::kXnnpack;
  if (s == "opencv") return NetEngine::kOpenCv;
  throw Error(ExitCode::kUsage, "FACECROWD_NET_ENGINE='" + s + "' is not known: use xnnpack (default) or opencv");
}

std::string to_string(NetEngine engine) { return engine == NetEngine::kOpenCv ? "opencv" : "xnnpack"; }

struct XnnpackGraph::Handles {
  xnn_subgraph_t subgraph = nullptr;
  xnn_runtime_t runtime = nullptr;
  ~Handles() {
    if (runtime) xnn_delete_runtime(runtime);
    if (subgraph) xnn_delete_subgraph(subgraph);
  }
};

XnnpackGraph::XnnpackGraph(cv::dnn::Net& net, std::string model_path, uint32_t external_values)
    : net_(&net), model_path_(std::move(model_path)), handles_(std::make_unique<Handles>()) {
  initialise_xnnpack();
  check(xnn_create_subgraph(external_values, 0, &handles_->subgraph), "creating the subgraph");
}

XnnpackGraph::~XnnpackGraph() = default;

void XnnpackGraph::refuse(const std::string& what) const {
  throw Error(ExitCode::kInternal, "building the XNNPACK pass of " + model_path_ + ": " + what +
                                       " (not the graph this port expects; tools/prepare_models.sh prepares the "
                                       "models, or run with FACECROWD_NET_ENGINE=opencv)");
}

void XnnpackGraph::check(int status, const std::string& what) const {
  if (status != xnn_status_success) refuse(what + " failed (XNNPACK status " + std::to_string(status) + ")");
}

// ONNX node output names: OpenCV names a layer after its node's output with a prefix ("onnx_node!..."),
// TensorFlow exports put a scope before it (".../conv2d_3/BiasAdd") and tfjs conversions a number after it
// ("dense1_conv0_dw_32"): `name` matches the whole name, its scoped tail, or the name with "_<digits>".
cv::Ptr<cv::dnn::Layer> XnnpackGraph::layer(const std::string& name) const {
  if (!net_) refuse("the graph is finished");
  for (const std::string& full : net_->getLayerNames()) {
    const std::string n = full.substr(full.rfind('!') == std::string::npos ? 0 : full.rfind('!') + 1);
    bool scoped = n.size() > name.size() && n.compare(n.size() - name.size(), name.size(), name) == 0 &&
                  n[n.size() - name.size() - 1] == '/';
    bool numbered = n.size() > name.size() + 1 && n.compare(0, name.size() + 1, name + "_") == 0 &&
                    n.find_first_not_of("0123456789", name.size() + 1) == std::string::npos;
    if (n != name && !scoped && !numbered) continue;
    auto l = net_->getLayer(net_->getLayerId(full));
    if (!l->blobs.empty()) return l;  // the layer with the weights (not an Identity of the same name)
  }
  refuse("no layer " + name + " with weights");
}

const float* XnnpackGraph::keep(std::vector<float> v) {
  weights_.push_back(std::move(v));
  return weights_.back().data();
}

uint32_t XnnpackGraph::tensor(std::vector<size_t> dims, const float* data, uint32_t external_id, uint32_t flags) {
  uint32_t id = 0;
  check(xnn_define_tensor_value(handles_->subgraph, xnn_datatype_fp32, dims.size(), dims.data(), data,
                                external_id == kInternal ? XNN_INVALID_VALUE_ID : external_id, flags, &id),
        "a tensor");
  return id;
}

XnnpackGraph::Value XnnpackGraph::input(Shape s, uint32_t external_id) {
  return {tensor({1, s.h, s.w, s.c}, nullptr, external_id, XNN_VALUE_FLAG_EXTERNAL_INPUT), s};
}

XnnpackGraph::Value XnnpackGraph::conv(const std::string& name, const Value& in, size_t k, size_t stride, Pads pad,
                                       float out_min, uint32_t external_id) {
  auto l = layer(name);
  const Shape s = in.shape;
  if (l->blobs.size() != 2) refuse(name + " is not a convolution with bias");
  const cv::Mat& w = l->blobs[0];
  const cv::Mat& b = l->blobs[1];
  if (w.dims != 4 || size_t(w.size[1]) != s.c || size_t(w.size[2]) != k || size_t(w.size[3]) != k ||
      b.total() != size_t(w.size[0])) {
    refuse(name + " has weights of an unexpected shape");
  }
  const size_t cout = size_t(w.size[0]);
  std::vector<float> ohwi(cout * k * k * s.c);  // OIHW -> OHWI
  const float* p = w.ptr<float>();
  for (size_t o = 0; o < cout; ++o)
    for (size_t c = 0; c < s.c; ++c)
      for (size_t y = 0; y < k; ++y)
        for (size_t x = 0; x < k; ++x) ohwi[((o * k + y) * k + x) * s.c + c] = p[((o * s.c + c) * k + y) * k + x];
  uint32_t filter = tensor({cout, k, k, s.c}, keep(std::move(ohwi)), kInternal, 0);
  uint32_t bias = tensor({cout}, keep(std::vector<float>(b.ptr<float>(), b.ptr<float>() + cout)), kInternal, 0);
  Shape o{(s.h + pad[0] + pad[2] - k) / stride + 1, (s.w + pad[1] + pad[3] - k) / stride + 1, cout};
  uint32_t out = tensor({1, o.h, o.w, cout}, nullptr, external_id,
                        external_id == kInternal ? 0 : XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
  check(xnn_define_convolution_2d(handles_->subgraph, uint32_t(pad[0]), uint32_t(pad[3]), uint32_t(pad[2]),
                                  uint32_t(pad[1]), uint32_t(k), uint32_t(k), uint32_t(stride), uint32_t(stride), 1, 1,
                                  1, s.c, cout, out_min, kInf, in.id, filter, bias, out, 0),
        name);
  return {out, o};
}

XnnpackGraph::Value XnnpackGraph::depthwise(const std::string& name, const Value& in, size_t stride, Pads pad,
                                            float out_min, bool with_bias) {
  auto l = layer(name);
  const Shape s = in.shape;
  const cv::Mat w = l->blobs.empty() ? cv::Mat() : l->blobs[0];
  if (l->blobs.size() != (with_bias ? 2u : 1u) || w.dims != 4 || size_t(w.size[0]) != s.c || w.size[1] != 1 ||
      w.size[2] != 3 || w.size[3] != 3 || (with_bias && l->blobs[1].total() != s.c)) {
    refuse(name + " is not a 3x3 depthwise convolution over " + std::to_string(s.c) + " channels" +
           (with_bias ? " with bias" : " without bias"));
  }
  std::vector<float> hwc(9 * s.c);  // [C,1,3,3] -> [1,3,3,C]
  const float* p = w.ptr<float>();
  for (size_t c = 0; c < s.c; ++c)
    for (size_t i = 0; i < 9; ++i) hwc[i * s.c + c] = p[c * 9 + i];
  uint32_t filter = tensor({1, 3, 3, s.c}, keep(std::move(hwc)), kInternal, 0);
  uint32_t bias = XNN_INVALID_VALUE_ID;
  if (with_bias) {
    const float* b = l->blobs[1].ptr<float>();
    bias = tensor({s.c}, keep(std::vector<float>(b, b + s.c)), kInternal, 0);
  }
  Shape o{(s.h + pad[0] + pad[2] - 3) / stride + 1, (s.w + pad[1] + pad[3] - 3) / stride + 1, s.c};
  uint32_t out = tensor({1, o.h, o.w, s.c}, nullptr, kInternal, 0);
  check(xnn_define_depthwise_convolution_2d(handles_->subgraph, uint32_t(pad[0]), uint32_t(pad[3]), uint32_t(pad[2]),
                                            uint32_t(pad[1]), 3, 3, uint32_t(stride), uint32_t(stride), 1, 1, 1, s.c,
                                            out_min, kInf, in.id, filter, bias, out, 0),
        name);
  return {out, o};
}

XnnpackGraph::Value XnnpackGraph::add(const Value& a, const Value& b, float out_min) {
  if (a.shape.h != b.shape.h || a.shape.w != b.shape.w || a.shape.c != b.shape.c) refuse("an add of unequal shapes");
  uint32_t out = tensor({1, a.shape.h, a.shape.w, a.shape.c}, nullptr, kInternal, 0);
  check(xnn_define_add2(handles_->subgraph, out_min, kInf, a.id, b.id, out, 0), "an add");
  return {out, a.shape};
}

XnnpackGraph::Value XnnpackGraph::relu(const Value& in) {
  uint32_t out = tensor({1, in.shape.h, in.shape.w, in.shape.c}, nullptr, kInternal, 0);
  check(xnn_define_clamp(handles_->subgraph, 0.0f, kInf, in.id, out, 0), "a ReLU");
  return {out, in.shape};
}

XnnpackGraph::Value XnnpackGraph::max_pool_2x2(const Value& in) {
  Shape o{in.shape.h / 2, in.shape.w / 2, in.shape.c};
  uint32_t out = tensor({1, o.h, o.w, o.c}, nullptr, kInternal, 0);
  check(xnn_define_max_pooling_2d(handles_->subgraph, 0, 0, 0, 0, 2, 2, 2, 2, 1, 1, -kInf, kInf, in.id, out, 0),
        "a max pooling");
  return {out, o};
}

XnnpackGraph::Value XnnpackGraph::pad_channels(const Value& in, size_t channels) {
  if (channels < in.shape.c) refuse("a channel padding that shrinks");
  const size_t pre[4] = {0, 0, 0, 0}, post[4] = {0, 0, 0, channels - in.shape.c};
  Shape o{in.shape.h, in.shape.w, channels};
  uint32_t out = tensor({1, o.h, o.w, o.c}, nullptr, kInternal, 0);
  check(xnn_define_static_constant_pad(handles_->subgraph, pre, post, 0.0f, in.id, out, 0), "a channel padding");
  return {out, o};
}

XnnpackGraph::Value XnnpackGraph::global_average_pool(const Value& in) {
  Shape o{1, 1, in.shape.c};
  uint32_t out = tensor({1, 1, 1, o.c}, nullptr, kInternal, 0);
  check(xnn_define_global_average_pooling_2d(handles_->subgraph, -kInf, kInf, in.id, out, 0), "a global average pool");
  return {out, o};
}

XnnpackGraph::Value XnnpackGraph::fully_connected(const std::string& name, const Value& in, uint32_t external_id) {
  auto l = layer(name);
  if (l->blobs.size() != 2 || l->blobs[0].dims != 2 || size_t(l->blobs[0].size[1]) != in.shape.c ||
      l->blobs[1].total() != size_t(l->blobs[0].size[0]) || in.shape.h != 1 || in.shape.w != 1) {
    refuse(name + " is not a fully connected layer over " + std::to_string(in.shape.c) + " inputs");
  }
  const cv::Mat& w = l->blobs[0];
  const size_t cout = size_t(w.size[0]);
  uint32_t filter = tensor({cout, in.shape.c}, keep(std::vector<float>(w.ptr<float>(), w.ptr<float>() + w.total())),
                           kInternal, 0);
  const float* b = l->blobs[1].ptr<float>();
  uint32_t bias = tensor({cout}, keep(std::vector<float>(b, b + cout)), kInternal, 0);
  uint32_t out = tensor({1, cout}, nullptr, external_id, XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
  check(xnn_define_fully_connected(handles_->subgraph, -kInf, kInf, in.id, filter, bias, out, 0), name);
  return {out, {1, 1, cout}};
}

void XnnpackGraph::finish() {
  check(xnn_create_runtime_v2(handles_->subgraph, nullptr, 0, &handles_->runtime), "creating the runtime");
  xnn_delete_subgraph(handles_->subgraph);  // the runtime is independent of it
  handles_->subgraph = nullptr;
  net_ = nullptr;
}

void XnnpackGraph::run(const std::vector<std::pair<uint32_t, void*>>& externals) {
  std::vector<xnn_external_value> values;
  values.reserve(externals.size());
  for (const auto& [id, data] : externals) values.push_back({id, data});
  check(xnn_setup_runtime(handles_->runtime, values.size(), values.data()), "setting up a pass");
  check(xnn_invoke_runtime(handles_->runtime), "running a pass");
}

}  // namespace facecrowd::vision
