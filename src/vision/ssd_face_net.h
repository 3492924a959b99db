// face-api's SSD MobileNetV1 face detector (ssd_mobilenetv1.onnx + ssd_anchors.json) as one FaceDetectorNet
// pass: 512x512 input, its anchor decoding, its NMS; tools/check_models.py is the reference. Its boxes define
// the box convention every detector here follows. ~180-300 ms per pass on 2 cores (bench/vision_bench.cpp).
#pragma once

#include <opencv2/dnn.hpp>

#include <vector>

#include "vision/face_detection.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

class SsdFaceNet : public FaceDetectorNet {
 public:
  explicit SsdFaceNet(const ModelFiles& models);
  std::vector<FaceDetection> pass(const cv::Mat& bgr, const PassOptions& options) override;
  // Measured: 37 px faces in 500 px PASCAL photos (0.074) are found.
  double smallest_face_fraction() const override { return 0.07; }

 private:
  cv::dnn::Net net_;
  std::vector<cv::Vec4f> anchors_;  // ymin, xmin, ymax, xmax, normalised
  float scale_y_ = 10, scale_x_ = 10, scale_h_ = 5, scale_w_ = 5;
};

}  // namespace facecrowd::vision
