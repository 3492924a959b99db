#include "vision/models_check.h"

#include <opencv2/core.hpp>

#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.h"
#include "vision/crowd_counter.h"
#include "vision/face_pipeline.h"
#include "vision/image_codecs.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

// Runs `f`; an OpenCV failure becomes Error(kBadInput) naming the model file.
template <typename F>
void run_or_explain(const std::filesystem::path& file, F f) {
  try {
    f();
  } catch (const cv::Exception& e) {
    throw Error(ExitCode::kBadInput, "model file '" + file.string() + "' does not run in OpenCV DNN: " + e.what() +
                                         "; rebuild with `tools/prepare_models.sh --force`");
  }
}

}  // namespace

std::filesystem::path check_image_codecs() {
  std::filesystem::path module = vision::load_image_codecs();
  // A gradient, so a codec that returns a blank or shifted image is caught, not only one that fails.
  cv::Mat frame(24, 32, CV_8UC3);
  for (int y = 0; y < frame.rows; ++y)
    for (int x = 0; x < frame.cols; ++x) frame.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(8 * x), uchar(10 * y), 128);
  for (const char* ext : {".png", ".jpg"}) {
    std::vector<uchar> bytes;
    cv::Mat back;
    try {
      if (vision::imencode(ext, frame, bytes))
        back = vision::imdecode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
      throw Error(ExitCode::kBadInput, "image codecs module '" + module.string() + "' fails on a " + ext +
                                           " image: " + e.what() + "; rebuild it with scripts/build.sh");
    }
    // PNG is lossless; JPEG at OpenCV's default quality stays within a few levels on this smooth gradient.
    double worst = back.size() == frame.size() ? cv::norm(back, frame, cv::NORM_INF) : 1e9;
    if (worst > (ext[1] == 'p' ? 0 : 16))
      throw Error(ExitCode::kBadInput, "image codecs module '" + module.string() + "' does not give back a " +
                                           ext + " image it encoded; rebuild it with scripts/build.sh");
  }
  return module;
}

ModelsCheckReport check_models(const std::filesystem::path& dir) {
  ModelsCheckReport r;
  r.dir = dir;
  vision::ModelFiles face = vision::open_model_files(dir);
  vision::CrowdModelFile crowd = vision::open_crowd_model_file(dir);
  r.embedding_model_version = face.embedding_model_version;
  r.crowd_model_version = crowd.model_version;
  r.image_codecs_module = check_image_codecs();

  cv::Mat frame(240, 320, CV_8UC3, cv::Scalar::all(128));
  std::unique_ptr<vision::FacePipeline> pipeline;
  run_or_explain(dir, [&] { pipeline = std::make_unique<vision::FacePipeline>(face); });
  vision::DetectorOptions options;
  options.min_face_px = 0;
  options.model = vision::DetectorModel::kBlazeFace;
  run_or_explain(face.blazeface, [&] { pipeline->detector().detect(frame, options); });
  options.model = vision::DetectorModel::kSsd;
  run_or_explain(face.detector, [&] { pipeline->detector().detect(frame, options); });
  // Landmarks and recogniser on a made-up face box of the grey frame.
  run_or_explain(face.recogniser, [&] { pipeline->describe(frame, {cv::Rect2f(100, 60, 120, 120), 1.0f}); });
  run_or_explain(crowd.model, [&] {
    vision::CrowdCounter counter(crowd, {});
    counter.count(cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(128)));
  });

  // The opt-in faceres recogniser, when this directory has it: sha256, then one run (descriptor size included).
  std::error_code ec;
  std::ifstream sums(dir / "SHA256SUMS");
  std::string sums_text((std::istreambuf_iterator<char>(sums)), std::istreambuf_iterator<char>());
  const char* hse = vision::recogniser_file_name(vision::FaceModel::kFaceres);
  if (sums_text.find(std::string("  ") + hse) != std::string::npos || std::filesystem::exists(dir / hse, ec)) {
    vision::ModelFiles faceres = vision::open_model_files(dir, vision::FaceModel::kFaceres);
    r.faceres_model_version = faceres.embedding_model_version;
    run_or_explain(faceres.recogniser, [&] {
      vision::FacePipeline p(faceres);
      p.describe(frame, {cv::Rect2f(100, 60, 120, 120), 1.0f});
    });
    r.files.push_back({faceres.recogniser.filename().string(), std::filesystem::file_size(faceres.recogniser, ec)});
  }

  for (const auto& f : {face.recogniser, face.landmarks, face.detector, face.anchors, face.blazeface,
                        face.models_json, crowd.model}) {
    r.files.push_back({f.filename().string(), std::filesystem::file_size(f, ec)});
  }
  return r;
}

nlohmann::json ModelsCheckReport::to_json() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const auto& f : files) files_json.push_back({{"file", f.name}, {"bytes", f.bytes}});
  return {{"dir", dir.string()},
          {"ok", true},
          {"files", files_json},
          {"embeddingModelVersion", embedding_model_version},
          {"faceresModelVersion", faceres_model_version.empty() ? nlohmann::json(nullptr) : nlohmann::json(faceres_model_version)},
          {"crowdModelVersion", crowd_model_version},
          {"imageCodecsModule", image_codecs_module.string()}};
}

std::string ModelsCheckReport::text() const {
  std::ostringstream s;
  s << "models in " << dir.string() << ": OK (sha256 as in SHA256SUMS; every network ran once in OpenCV DNN)\n";
  for (const auto& f : files) s << "  " << f.name << "  " << f.bytes << " bytes\n";
  s << "embedding model: " << embedding_model_version << " (dlib, the default)\n"
    << "faceres model:   "
    << (faceres_model_version.empty() ? "not prepared here (opt-in; `tools/prepare_models.sh --force` adds it)"
                                      : faceres_model_version + " (opt-in: --face-model faceres)")
    << "\n"
    << "crowd model:     " << crowd_model_version << "\n"
    << "image codecs:    " << image_codecs_module.string() << " (OpenCV imgcodecs; a PNG and a JPEG went through it)\n";
  return s.str();
}

}  // namespace facecrowd
