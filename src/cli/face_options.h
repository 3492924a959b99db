// Flags shared by the face commands (enroll, recognize): the models and the match policy.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/faces/match_policy.h"
#include "cli/command.h"
#include "core/number_text.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct MatchFlags {
  std::optional<float> threshold, margin;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--threshold", threshold,
                    "recognised at or below this unit-vector distance (env FACECROWD_MATCH_THRESHOLD; default " +
                        fixed_decimals(kDefaultMatchThreshold, 2) +
                        ", calibrated on photos no test uses: tools/calibrate_faces.md)");
    cmd->add_option("--min-margin", margin,
                    "and at least this much closer than the next person: a stranger tends to lie about as close to "
                    "several enrolled people (env FACECROWD_MATCH_MARGIN; default " +
                        fixed_decimals(kDefaultMatchMargin, 2) + ")");
  }
  MatchPolicy resolve() const { return resolve_match_policy(threshold, margin); }
};

// --detector: which network finds the faces (vision/face_detector.h); BlazeFace unless told otherwise.
// --rotation-passes: the passes on rotated copies for faces the upright pass misses (vision/rotation_passes.h).
struct DetectorFlag {
  std::string name = "blazeface";
  std::string rotation = "turns";  // "all" found extra faces in portraits (biden2.jpg: 2); opt-in for now
  float max_flip_error = vision::PipelineOptions{}.max_landmark_flip_error;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--rotation-passes", rotation,
                    "all: also look in the photo turned +-30 degrees (tilted heads; ~3x the detection time) and, "
                    "when no face is found, turned 90/270/180 degrees (a photo rotated without EXIF); "
                    "turns: only the latter; off: upright only")
        ->capture_default_str()
        ->check(CLI::IsMember({"all", "turns", "off"}));
    cmd->add_option("--detector", name,
                    "face detector: blazeface (MediaPipe, ~9 ms per pass) or ssd (face-api's SSD MobileNet v1, "
                    "~70 ms per pass, the former default)")
        ->capture_default_str()
        ->check(CLI::IsMember({"blazeface", "ssd"}));
    cmd->add_option("--max-flip-error", max_flip_error,
                    "drop a detection whose 68 landmarks on the mirrored face disagree with its landmarks by more "
                    "than this many eye distances (real faces 0.02-0.15, false faces 0.26-0.83; 0: keep them)")
        ->capture_default_str()
        ->check(CLI::Range(0.0f, 10.0f));
  }
  void apply(vision::DetectorOptions& options) const { options.model = vision::parse_detector_model(name); }
};


// The face models named by --models / $FACECROWD_MODELS / ./models (a clear Error when they are missing),
// detecting with the --detector network.
inline std::unique_ptr<vision::FacePipeline> open_face_pipeline(const GlobalOptions& globals,
                                                                const DetectorFlag& detector) {
  auto pipeline = vision::FacePipeline::open(explicit_models_dir(globals));
  detector.apply(pipeline->options().detector);
  pipeline->options().rotation.tilt_degrees = detector.rotation == "all" ? 30.0f : 0.0f;
  pipeline->options().rotation.quarter_turns_when_empty = detector.rotation != "off";
  pipeline->options().max_landmark_flip_error = detector.max_flip_error;
  return pipeline;
}

}  // namespace facecrowd
