// Flags shared by the face commands (enroll, recognize): the models and the match policy.
#pragma once

#include <memory>
#include <optional>

#include "app/match_policy.h"
#include "cli/command.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct MatchFlags {
  std::optional<float> threshold, margin;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--threshold", threshold,
                    "recognised at or below this unit-vector distance (env FACECROWD_MATCH_THRESHOLD; default 0.40, "
                    "calibrated on shared data: tools/calibrate_faces.md)");
    cmd->add_option("--min-margin", margin,
                    "and at least this much closer than the next person (env FACECROWD_MATCH_MARGIN; default 0.04)");
  }
  MatchPolicy resolve() const { return resolve_match_policy(threshold, margin); }
};

// The face models named by --models / $FACECROWD_MODELS / ./models; a clear Error when they are missing.
inline std::unique_ptr<vision::FacePipeline> open_face_pipeline(const GlobalOptions& globals) {
  return vision::FacePipeline::open(explicit_models_dir(globals));
}

}  // namespace facecrowd
