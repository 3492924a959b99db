// BlazeFace's forward pass on XNNPACK (vision/xnnpack_graph.h), the engine BlazeFaceNet uses by default:
// about half OpenCV DNN's CPU per pass (bench/recognize_cpu.sh), and BlazeFace's tile passes are most of a
// recognition's CPU.
// Contract: built from the weights of the ONNX graph OpenCV has already read (models/blazeface_back_256.onnx,
// MediaPipe's "back" 256x256 model: a 5x5 stem, 32 blocks of depthwise 3x3 + pointwise 1x1 with residual
// adds, and the two classifier/regressor head pairs). forward() takes the same NHWC 1x256x256x3 input as the
// ONNX graph and fills the four outputs in the graph's order and layout (Identity:0 .. Identity_3:0); they
// equal OpenCV's up to float rounding, and whole-photo detection finds the same faces with either engine
// (tests/net_engines_test.cpp). A graph of another shape is refused at construction with
// Error(kInternal) naming the file and layer. Not thread-safe: one instance per detector.
#pragma once

#include <opencv2/dnn.hpp>

#include <memory>
#include <string>
#include <vector>

#include "vision/xnnpack_graph.h"

namespace facecrowd::vision {

// The four outputs of one pass, as the ONNX graph names and lays them out.
struct BlazeFaceOutputs {
  std::vector<float> logits16;  // Identity:0    512 anchors (16x16 cells x 2)
  std::vector<float> logits8;   // Identity_1:0  384 anchors (8x8 cells x 6)
  std::vector<float> boxes16;   // Identity_2:0  512 x 16 values
  std::vector<float> boxes8;    // Identity_3:0  384 x 16 values
};

class BlazeFaceXnnpack {
 public:
  static constexpr int kInputSide = 256;
  // `net` is the freshly read ONNX graph (its layers' blobs are the weights); `model_path` names it in errors.
  BlazeFaceXnnpack(cv::dnn::Net& net, const std::string& model_path);
  ~BlazeFaceXnnpack();
  BlazeFaceXnnpack(const BlazeFaceXnnpack&) = delete;
  BlazeFaceXnnpack& operator=(const BlazeFaceXnnpack&) = delete;

  // `input_nhwc`: 256*256*3 floats, RGB in [-1, 1]. `out` is resized as needed and reused across calls.
  void forward(const float* input_nhwc, BlazeFaceOutputs& out);

 private:
  std::unique_ptr<XnnpackGraph> graph_;
};

}  // namespace facecrowd::vision
