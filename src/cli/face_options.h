// Flags shared by the face commands (enroll, recognize): the models and the match policy.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/match_policy.h"
#include "cli/command.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct MatchFlags {
  std::optional<float> threshold, margin;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--threshold", threshold,
                    "recognised at or below this unit-vector distance (env FACECROWD_MATCH_THRESHOLD; default 0.39, "
                    "calibrated on shared data: tools/calibrate_faces.md)");
    cmd->add_option("--min-margin", margin,
                    "and at least this much closer than the next person (env FACECROWD_MATCH_MARGIN; default 0.04)");
  }
  MatchPolicy resolve() const { return resolve_match_policy(threshold, margin); }
};

// --detector: which network finds the faces (vision/face_detector.h); BlazeFace unless told otherwise.
struct DetectorFlag {
  std::string name = "blazeface";
  void add_to(CLI::App* cmd) {
    cmd->add_option("--detector", name,
                    "face detector: blazeface (MediaPipe, ~9 ms per pass) or ssd (face-api's SSD MobileNet v1, "
                    "~70 ms per pass, the former default)")
        ->capture_default_str()
        ->check(CLI::IsMember({"blazeface", "ssd"}));
  }
  void apply(vision::DetectorOptions& options) const { options.model = vision::parse_detector_model(name); }
};

// The face models named by --models / $FACECROWD_MODELS / ./models (a clear Error when they are missing),
// detecting with the --detector network.
inline std::unique_ptr<vision::FacePipeline> open_face_pipeline(const GlobalOptions& globals,
                                                                const DetectorFlag& detector) {
  auto pipeline = vision::FacePipeline::open(explicit_models_dir(globals));
  detector.apply(pipeline->options().detector);
  return pipeline;
}

}  // namespace facecrowd
