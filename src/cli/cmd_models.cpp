// `facecrowd models check`: the prepared models are there, unaltered and runnable (vision/models_check.h).
#include <iostream>

#include "vision/models_check.h"
#include "cli/command.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  auto* group = app.add_subcommand("models", "The prepared face and crowd models (made by tools/prepare_models.sh)");
  group->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  auto* cmd = group->add_subcommand(
      "check",
      "Verify the prepared models: every file against the directory's SHA256SUMS, then every network\n"
      "loaded and run once in OpenCV DNN (BlazeFace and SSD detectors, landmarks, recogniser, crowd\n"
      "density). Prints the model versions stored with embeddings and crowd counts. Checks the image codecs\n"
      "module installed beside the binary (facecrowd-imgcodecs.so: every photo is decoded by it) with a PNG\n"
      "and a JPEG. Exit 4 when a file is missing, 3 when one is altered or does not run; the message says\n"
      "how to prepare or install them.\n"
      "The directory: --models, else $FACECROWD_MODELS, ./models, or models/ beside the binary.\n"
      "Example:\n"
      "  facecrowd models check --json");
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([json, &globals] {
    auto report = check_models(vision::find_models_dir(explicit_models_dir(globals)));
    std::cout << (*json ? report.to_json().dump(2) + "\n" : report.text());
  });
});

}  // namespace
}  // namespace facecrowd
