// Face descriptors: dlib's ResNet (face_recognition.onnx) on a 150x150 face chip (face_aligner.h).
// Contract: embed(chip) returns the 128-D descriptor scaled to unit L2 length, plus the raw descriptor's
// length, so raw = unit * raw_norm. Compare unit embeddings by L2 distance (embedding_distance); note that
// dlib's usual 0.6 threshold is for *raw* descriptors (norm ~1.4): raw_distance() gives that scale.
// Not thread-safe (cv::dnn::Net::forward).
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <array>

#include "vision/model_files.h"

namespace facecrowd::vision {

inline constexpr int kEmbeddingSize = 128;

struct Embedding {
  std::array<float, kEmbeddingSize> unit{};  // L2 norm 1
  float raw_norm = 0;                       // L2 norm of the net's output
};

class FaceEmbedder {
 public:
  explicit FaceEmbedder(const ModelFiles& models);
  Embedding embed(const cv::Mat& chip_bgr);

 private:
  cv::dnn::Net net_;
};

float embedding_distance(const Embedding& a, const Embedding& b);  // between unit vectors, 0..2
float raw_distance(const Embedding& a, const Embedding& b);        // between raw descriptors (dlib's scale)

}  // namespace facecrowd::vision
