// Face descriptors: the seam between the pipeline and the embedding models (vision/face_model.h).
// Contract: a FaceEmbedder turns one face (the upright image, its 68 landmarks and dlib's 150x150 chip of it,
// face_aligner.h) into a descriptor scaled to unit L2 length, plus the raw descriptor's length, so
// raw = unit * raw_norm. Each model aligns the face as it was trained: dlib's ResNet reads the chip; faceres
// (faceres_embedder.h) warps its own 224x224 crop from the landmarks. dimension() is the descriptor's size
// (128 dlib, 1024 faceres); a network whose output has another size is refused, Error(kBadInput) naming
// its file. Compare unit embeddings of one model by L2 distance (embedding_distance; vectors of different
// sizes are never compared: std::invalid_argument). dlib's usual 0.6 threshold is for *raw* descriptors
// (norm ~1.4): raw_distance() gives that scale.
// make_face_embedder(models) opens the embedder of models.face_model. Not thread-safe (cv::dnn::Net::forward).
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <memory>
#include <vector>

#include "vision/landmark_detector.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

inline constexpr int kDlibEmbeddingSize = 128;
inline constexpr int kFaceresEmbeddingSize = 1024;

struct Embedding {
  std::vector<float> unit;  // L2 norm 1; 128 or 1024 numbers, by model
  float raw_norm = 0;       // L2 norm of the net's output
};

class FaceEmbedder {
 public:
  virtual ~FaceEmbedder() = default;
  virtual Embedding embed(const cv::Mat& image_bgr, const Landmarks68& landmarks, const cv::Mat& dlib_chip) = 0;
  virtual int dimension() const = 0;
};

// dlib's ResNet (face_recognition.onnx) on the 150x150 chip.
class DlibEmbedder : public FaceEmbedder {
 public:
  explicit DlibEmbedder(const ModelFiles& models);
  Embedding embed(const cv::Mat& image_bgr, const Landmarks68& landmarks, const cv::Mat& dlib_chip) override;
  Embedding embed_chip(const cv::Mat& chip_bgr);
  int dimension() const override { return kDlibEmbeddingSize; }

 private:
  cv::dnn::Net net_;
  std::filesystem::path file_;
};

std::unique_ptr<FaceEmbedder> make_face_embedder(const ModelFiles& models);

// The net's output as a unit Embedding; Error(kBadInput) naming `file` when it does not hold `dimension`
// numbers, Error(kInternal) for an all-zero output.
Embedding unit_embedding(const cv::Mat& output, int dimension, const std::filesystem::path& file);

float embedding_distance(const Embedding& a, const Embedding& b);  // between unit vectors, 0..2
float raw_distance(const Embedding& a, const Embedding& b);        // between raw descriptors (dlib's scale)

}  // namespace facecrowd::vision
