// face-api's FaceLandmark68Net (models/face_landmark_68.onnx) on XNNPACK (vision/xnnpack_graph.h), the
// engine LandmarkDetector uses by default: the landmark passes (one per detected face, plus a mirrored one
// for the false-face filter) take about half OpenCV DNN's CPU this way.
// Contract: built from the weights of the ONNX graph OpenCV has already read: a 3x3 stride-2 stem, four
// dense blocks (32, 64, 128, 256 channels; each a stride-2 entry then three depthwise 3x3 + pointwise 1x1
// steps whose outputs are summed densely, ReLU after each sum), global average pooling and a 256->136 fully
// connected layer. forward() takes the NHWC 1x112x112x3 float input (RGB, mean-subtracted, /255: what
// OpenCV's blobFromImage makes, channels last) and writes the 136 outputs ("landmarks": x, y per point in
// 0..1 of the crop); they equal OpenCV's up to float rounding (tests/net_engines_test.cpp). A graph of
// another shape is refused at construction with Error(kInternal) naming the file and layer. Not
// thread-safe: one instance per detector.
#pragma once

#include <opencv2/dnn.hpp>

#include <array>
#include <memory>
#include <string>

#include "vision/xnnpack_graph.h"

namespace facecrowd::vision {

class LandmarkXnnpack {
 public:
  static constexpr int kInputSide = 112;
  static constexpr int kOutputs = 136;
  LandmarkXnnpack(cv::dnn::Net& net, const std::string& model_path);
  ~LandmarkXnnpack();
  LandmarkXnnpack(const LandmarkXnnpack&) = delete;
  LandmarkXnnpack& operator=(const LandmarkXnnpack&) = delete;

  void forward(const float* input_nhwc, std::array<float, kOutputs>& out);

 private:
  std::unique_ptr<XnnpackGraph> graph_;
};

}  // namespace facecrowd::vision
