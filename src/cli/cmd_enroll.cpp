// `facecrowd enroll`: photos of one person -> their face profile (app/faces/enrollment.h).
#include <iostream>

#include "app/faces/enrollment.h"
#include "app/faces/profiles.h"
#include "app/faces/soft_enrolled_face.h"
#include "cli/command.h"
#include "cli/face_options.h"
#include "core/error.h"
#include "core/number_text.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string name, profile, external_id, consent;
    std::vector<std::string> meta, images;
    bool largest = false, skip_rejected = false, force = false, json = false;
    EnrollmentQuality quality;
    MatchFlags match;
    DetectorFlag detector;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "enroll",
      "Create or extend a face profile from photos of one person: one embedding per accepted photo.\n\n"
      "Each photo must show exactly one face (or pass --largest), big and sharp enough; every photo is\n"
      "checked before anything is written, and a rejected photo is named with the reason. The profile is\n"
      "--profile ID, else the one with --external-id, else the one named --name; otherwise a new one.\n"
      "A photo already enrolled in the profile (same bytes) is reported, not added twice. A face that\n"
      "already matches another profile is refused (exit 5, naming that profile; nothing is written) unless\n"
      "--force. Consent is recorded with --consent.\n"
      "A soft face (sharpness below 40, by the default --soft-faces) is enrolled with a warning\n"
      "(exit 0, as --force's): recognition will match it only at a closer distance (0.32 instead of 0.36),\n"
      "so a person enrolled only from such a photo comes back unknown (enrolled-face-too-blurred) in\n" +
          std::string(kSoftEnrolledFaceLoss) + "; enrol a sharper photo of them.\n"
      "--json: \"sharpness\" and \"softFace\".\n"
      "Give enroll the --threshold, --soft-faces and --soft-enrolled-faces (or FACECROWD_MATCH_*) that\n"
      "recognize and serve use, so that its checks and warnings are the ones recognition will apply.\n\n"
      "Examples:\n"
      "  facecrowd enroll --name 'Ada Obi' --external-id EMP-0042 --meta class=7A \\\n"
      "      --consent 'I agree to attendance by face (form v2)' ada1.jpg ada2.jpg\n"
      "  facecrowd enroll --profile 65f0c2… new_photo.jpg --json");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_option("--name", opts->name, "the person's name (required for a new profile)");
  cmd->add_option("--profile", opts->profile, "extend this profile (id or external id)");
  cmd->add_option("--external-id", opts->external_id, "the person's id in your system (e.g. employee number)");
  cmd->add_option("--meta", opts->meta, "metadata key=value (repeatable), merged into the profile");
  cmd->add_option("--consent", opts->consent, "the consent text the person agreed to; recorded with the time");
  cmd->add_flag("--largest", opts->largest, "in a photo with several faces, enrol the main one (by score and size)");
  cmd->add_flag("--force", opts->force, "enrol a face even when it already matches another profile (a warning)");
  cmd->add_flag("--skip-rejected", opts->skip_rejected, "enrol the accepted photos even if others are rejected");
  cmd->add_option("--min-eye-distance", opts->quality.min_interocular_px,
                  "reject faces with fewer pixels between the eyes")->capture_default_str();
  cmd->add_option("--min-sharpness", opts->quality.min_blur_variance,
                  "reject faces whose sharpness (Laplacian variance of the face chip) is lower")->capture_default_str();
  opts->match.add_to(cmd, MatchFlagUse::kEnrollment);
  opts->detector.add_to(cmd);
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  cmd->add_option("IMAGE", opts->images, "photos of the person (JPEG, PNG, …)")->required();
  cmd->callback([opts, &globals] {
    EnrollRequest request;
    request.name = opts->name;
    if (!opts->profile.empty()) request.profile = opts->profile;
    if (!opts->external_id.empty()) request.external_id = opts->external_id;
    for (const auto& m : opts->meta) request.metadata.insert(parse_meta_assignment(m));
    if (!opts->consent.empty()) request.consent_text = opts->consent;
    for (const auto& i : opts->images) request.images.emplace_back(i);
    request.largest = opts->largest;
    request.skip_rejected = opts->skip_rejected;
    request.force = opts->force;
    request.quality = opts->quality;
    request.match = opts->match.resolve(selected_face_model(globals));
    auto pipeline = open_face_pipeline(globals, opts->detector);
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db);
    EnrollResult result = enroll(*db, *pipeline, request);
    for (const auto& w : result.warnings) std::cerr << "warning: " << w << "\n";
    if (!result.rejected.empty()) globals.exit_code = int(ExitCode::kWarning);  // partial, by --skip-rejected
    if (opts->json) {
      std::cout << result.to_json().dump(2) << "\n";
      return;
    }
    for (const auto& r : result.rejected) std::cerr << "rejected: " << r.path << ": " << r.reason << "\n";
    for (const auto& d : result.duplicates) std::cout << "not added: " << d.path << ": " << d.reason << "\n";
    for (const auto& a : result.added) {
      std::cout << "enrolled: " << a.path << " (embedding " << a.embedding_id;
      if (a.soft)  // the warning above says what it costs and what to do
        std::cout << "; soft face, sharpness " << fixed_decimals(a.soft->sharpness, 1) << ": matched only within "
                  << fixed_decimals(a.soft->threshold, 3) << ", see the warning";
      std::cout << ")\n";
    }
    if (result.added.empty())
      std::cout << "nothing new to enrol for profile " << result.profile_id << " '" << result.name << "'\n";
    else
      std::cout << (result.created ? "created" : "extended") << " profile " << result.profile_id << " '"
                << result.name << "' with " << counted(result.added.size(), "embedding") << "\n";
  });
});

}  // namespace
}  // namespace facecrowd
