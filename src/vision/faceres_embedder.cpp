#include "vision/faceres_embedder.h"

#include "core/error.h"
#include "vision/face_aligner.h"

namespace facecrowd::vision {

FaceresEmbedder::FaceresEmbedder(const ModelFiles& models) : file_(models.recogniser) {
  AlignmentSpec spec = read_alignment(models.models_json, "face_recognition_hse");
  size_ = spec.size;
  template_ = std::move(spec.template_points);
  if (template_.size() != 5 || size_ != 224) {
    throw Error(ExitCode::kBadInput, "'" + models.models_json.string() + "' has no usable face_recognition_hse entry "
                                         "(a 224x224 crop and 5 template points); rebuild with "
                                         "`tools/prepare_models.sh --force`");
  }
  net_ = cv::dnn::readNetFromONNX(file_.string());
}

cv::Mat FaceresEmbedder::crop(const cv::Mat& image_bgr, const Landmarks68& landmarks) const {
  return five_point_crop(image_bgr, landmarks, template_, size_);
}

Embedding FaceresEmbedder::embed(const cv::Mat& image_bgr, const Landmarks68& landmarks, const cv::Mat&) {
  cv::Mat blob = cv::dnn::blobFromImage(crop(image_bgr, landmarks), 1.0, cv::Size(size_, size_),
                                        cv::Scalar(103.939, 116.779, 123.68), /*swapRB=*/false, /*crop=*/false);
  cv::Mat out;
  try {
    net_.setInput(blob);
    out = net_.forward("descriptor");
  } catch (const cv::Exception& e) {
    // Another network under this name (the sha256 was listed for it): its layers reject a 224x224 input.
    throw Error(ExitCode::kBadInput, "model file '" + file_.string() + "' does not take faceres' 224x224 crop (" +
                                         e.err + "); rebuild with `tools/prepare_models.sh --force`");
  }
  return unit_embedding(out, kFaceresEmbeddingSize, file_);
}

}  // namespace facecrowd::vision
