// Flags shared by the face commands (enroll, recognize, eval faces): the models and the match policy, each
// parsed and resolved in one place (resolve_match_policy: a bad value is a usage error naming the flag).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/faces/match_policy.h"
#include "app/faces/soft_enrolled_face.h"
#include "cli/command.h"
#include "core/number_text.h"
#include "vision/face_pipeline.h"
#include "vision/rotation_passes.h"

namespace facecrowd {

// What a command does with the match settings, for its --help: recognize and eval decide matches with all
// five; enroll refuses a look-alike of another profile by --threshold, warns of a soft photo by the steps
// (app/faces/soft_enrolled_face.h) and of a crowded one by --gallery-isolation, so that its warnings name the
// match recognition will need; it takes no --min-margin, which it would not use.
enum class MatchFlagUse { kRecognition, kEnrollment };

struct MatchFlags {
  std::optional<float> threshold, margin;
  std::optional<std::string> soft_faces, soft_enrolled_faces, gallery_isolation;
  void add_to(CLI::App* cmd, MatchFlagUse use = MatchFlagUse::kRecognition) {
    const bool enrolling = use == MatchFlagUse::kEnrollment;
    cmd->add_option("--threshold", threshold,
                    "recognised at or below this unit-vector distance (env FACECROWD_MATCH_THRESHOLD; default " +
                        fixed_decimals(kDefaultMatchThreshold, 2) + " with --face-model dlib, " +
                        fixed_decimals(kFaceresMatchThreshold, 2) +
                        " with faceres, each calibrated on photos no test uses: tools/calibrate_faces.md)" +
                        std::string(enrolling ? ". enroll: a face this close to another profile is refused "
                                                "unless --force"
                                              : ""));
    // Not on enroll: enrolment decides nothing by the margin over the runner-up, and a flag taken and ignored
    // would tell the operator it did.
    if (!enrolling)
      cmd->add_option("--min-margin", margin,
                    "and at least this much closer than the next person: a stranger tends to lie about as close to "
                    "several enrolled people (env FACECROWD_MATCH_MARGIN; default " +
                        fixed_decimals(kDefaultMatchMargin, 2) + " with dlib, " + fixed_decimals(kFaceresMatchMargin, 2) +
                        " with faceres)");
    cmd->add_option("--soft-faces", soft_faces,
                    "stricter thresholds for blurred faces: SHARPNESS:THRESHOLD steps, e.g. '" +
                        soft_face_steps_text(default_soft_face_steps()) +
                        "' (dlib's default): a face whose 150x150 chip has a sharpness (variance of the Laplacian) "
                        "below 20 is recognised only at distance <= 0.29, below 40 at <= 0.32, a sharper one at "
                        "--threshold. Small and soft faces in crowds embed close to each other: these steps cut "
                        "held-out pair false accepts from 0.67% to 0.08% with rank-1 unchanged. 'off': one threshold "
                        "for all (env FACECROWD_MATCH_SOFT_FACES; faceres: off; tools/calibrate_faces.md)" +
                        std::string(enrolling ? ". enroll: a photo below the last step is enrolled with a warning "
                                                "naming the closer distance recognition will need; give enroll the "
                                                "steps recognize and serve use ('off': no such warning)"
                                              : ""));
    cmd->add_option("--soft-enrolled-faces", soft_enrolled_faces,
                    "on (the default): the --soft-faces steps apply by the softer of the face and the enrolled face "
                    "it matched (enroll accepts faces down to sharpness 20), as pairs are judged. Every stranger the "
                    "defaults still accepted on the held-out sets matched a person enrolled from one crowd face; "
                    "this turns away the one whose enrolled face was soft (confirmation set: 1/114 -> 0/114). A person "
                    "enrolled only from a soft photo loses " + std::string(kSoftEnrolledFaceLoss) +
                        ": such a face is unknown with reason enrolled-face-too-blurred; enrol a "
                        "sharper photo of that person. off: by the face alone (env "
                        "FACECROWD_MATCH_SOFT_ENROLLED_FACES; tools/calibrate_faces.md)" +
                        std::string(enrolling ? ". With off, enroll gives no soft-photo warning (recognition "
                                                "then holds no enrolled photo to a closer match)"
                                              : ""));
    cmd->add_option("--gallery-isolation", gallery_isolation,
                    "a face is recognised as the person of an enrolled photo only within this factor of that "
                    "photo's distance to the nearest enrolled photo of another person: an enrolled face in a "
                    "crowded neighbourhood (small crowd faces are) needs a closer match; one whose nearest other "
                    "person lies farther than threshold / factor (0.43) keeps the thresholds. Held-out strangers "
                    "accepted 4 -> 1 of 268, one-photo identifications 213 -> 212 of 216. A face it turns away is "
                    "unknown with reason crowded-enrolled-face. 'off' or a factor in (0, 1] (env "
                    "FACECROWD_MATCH_GALLERY_ISOLATION; default " + fixed_decimals(kDefaultGalleryIsolation, 2) +
                        " with dlib, off with faceres; tools/calibrate_faces.md)" +
                        std::string(enrolling ? ". enroll: a face between the threshold and threshold / factor of "
                                                "another profile's photo is enrolled with a warning (both then need "
                                                "a closer match); give enroll the factor recognize and serve use "
                                                "('off': no such warning)"
                                              : ""));
  }
  MatchPolicy resolve(vision::FaceModel model) const {
    return resolve_match_policy(threshold, margin, model, soft_faces, soft_enrolled_faces, gallery_isolation);
  }
};

// --detector: which network finds the faces (vision/face_detector.h); BlazeFace unless told otherwise.
// --rotation-passes: the passes on rotated copies for faces the upright pass misses (vision/rotation_passes.h).
struct DetectorFlag {
  std::string name = "blazeface";
  // near-misses: group-photo recall 80/80 over 8 tilts against 48/80 with turns (tools/calibrate_faces.md).
  std::string rotation = "near-misses";
  float max_flip_error = vision::PipelineOptions{}.max_landmark_flip_error;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--rotation-passes", rotation,
                    "near-misses: look for tilted heads in crops around each detection whose landmarks the "
                    "false-face filter rejected, turned 30 then 45 degrees the way its eye line leans (both ways "
                    "when its points are unreadable and it scored >= 0.75; weaker unreadable ones are skipped), and, "
                    "when the upright pass finds no face, in "
                    "the photo turned 90/270/180 degrees (rotated without EXIF); all: the +-30 degree passes over "
                    "the whole photo instead of the crops (~3x the detection time, and finds fewer); turns: only "
                    "the 90/270/180 degree turns; off: upright only")
        ->capture_default_str()
        ->check(CLI::IsMember({"all", "near-misses", "turns", "off"}));
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
// detecting with the --detector network and embedding with the --face-model one.
inline std::unique_ptr<vision::FacePipeline> open_face_pipeline(const GlobalOptions& globals,
                                                                const DetectorFlag& detector) {
  auto pipeline = vision::FacePipeline::open(explicit_models_dir(globals), selected_face_model(globals));
  detector.apply(pipeline->options().detector);
  vision::apply_rotation_mode(detector.rotation, pipeline->options().rotation);
  pipeline->options().max_landmark_flip_error = detector.max_flip_error;
  return pipeline;
}

}  // namespace facecrowd
