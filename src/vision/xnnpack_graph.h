// An XNNPACK runtime (Debian's libxnnpack) built from the weights of an ONNX graph that OpenCV DNN has
// read, for the networks whose passes are most of a recognition's CPU (blazeface_xnnpack.h,
// landmark_xnnpack.h). OpenCV 4.6 runs these depthwise-separable nets' residual adds as separate passes and
// its 1x1 convolutions well below the CPU's peak; XNNPACK takes about half the CPU for the same pass.
// Why OpenCV reads the file: one model file and one parser; a net's topology is written out by its user
// (the ops below, NHWC), its weights are the OpenCV layers' blobs, looked up by ONNX node output name.
// Contract: each define step checks the weights' shapes against what it is told and refuses anything else
// with Error(kInternal) naming the model file and the layer (a net that is not the expected one is never
// run). finish() creates the runtime; run() binds the external inputs and outputs and runs one pass on the
// calling thread (no thread pool: the server already runs one request per core). Not thread-safe.
#pragma once

#include <opencv2/dnn.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace facecrowd::vision {

// Which engine runs the networks that have an XNNPACK port: FACECROWD_NET_ENGINE "xnnpack" (default when
// unset or empty) or "opencv" (OpenCV DNN, the reference, for comparisons); anything else is Error(kUsage)
// naming the variable and the accepted values.
enum class NetEngine { kXnnpack, kOpenCv };
NetEngine net_engine_from_env();
std::string to_string(NetEngine engine);

class XnnpackGraph {
 public:
  struct Shape {
    size_t h = 0, w = 0, c = 0;
  };
  struct Value {
    uint32_t id = 0;
    Shape shape;
  };
  using Pads = std::array<size_t, 4>;  // top, left, bottom, right (ONNX order)
  static constexpr float kNoMin = -std::numeric_limits<float>::infinity();
  static constexpr float kReluMin = 0.0f;

  // `net` must outlive the building (until finish()); `external_values` counts inputs + outputs.
  XnnpackGraph(cv::dnn::Net& net, std::string model_path, uint32_t external_values);
  ~XnnpackGraph();
  XnnpackGraph(const XnnpackGraph&) = delete;
  XnnpackGraph& operator=(const XnnpackGraph&) = delete;

  Value input(Shape shape, uint32_t external_id);
  // A convolution with bias (ONNX OIHW weights); output clipped below at `out_min` (kReluMin: a ReLU).
  // With `external_id` the output is an external output of that id.
  Value conv(const std::string& layer, const Value& in, size_t kernel, size_t stride, Pads pads, float out_min,
             uint32_t external_id = kInternal);
  // A 3x3 depthwise convolution, with or without bias.
  Value depthwise(const std::string& layer, const Value& in, size_t stride, Pads pads, float out_min, bool bias);
  Value add(const Value& a, const Value& b, float out_min);
  Value relu(const Value& in);
  Value max_pool_2x2(const Value& in);
  Value pad_channels(const Value& in, size_t channels);  // zeros appended
  Value global_average_pool(const Value& in);             // to 1x1xC
  // An ONNX Gemm (transB=1) over a 1x1xC value: weights [out, C] + bias; an external output.
  Value fully_connected(const std::string& layer, const Value& in, uint32_t external_id);
  void finish();
  void run(const std::vector<std::pair<uint32_t, void*>>& externals);

  [[noreturn]] void refuse(const std::string& what) const;

 private:
  static constexpr uint32_t kInternal = ~0u;
  cv::Ptr<cv::dnn::Layer> layer(const std::string& name) const;
  const float* keep(std::vector<float> v);
  uint32_t tensor(std::vector<size_t> dims, const float* data, uint32_t external_id, uint32_t flags);
  void check(int status, const std::string& what) const;

  struct Handles;
  cv::dnn::Net* net_;  // only while building
  std::string model_path_;
  std::unique_ptr<Handles> handles_;
  std::vector<std::vector<float>> weights_;  // XNNPACK keeps pointers to static data: they live as long as we do
};

}  // namespace facecrowd::vision
