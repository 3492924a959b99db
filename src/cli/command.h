// How a subcommand plugs into `facecrowd`. Each cmd_*.cpp defines one static CommandRegistrar whose setup
// function adds its CLI11 subcommand (with --help text) and a callback that calls one app/ or backup/
// function and prints. Callbacks throw facecrowd::Error for operator-facing failures; main() prints
// "error: <message>" and exits with its ExitCode. A callback sets `globals.exit_code` for non-error
// outcomes that are not 0 (e.g. `backups status` WARNING).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "vision/face_model.h"

namespace facecrowd {

struct GlobalOptions {
  std::string data_dir;    // --data, $FACECROWD_DATA, ./data
  std::string backup_dir;  // --backup-dir, $FACECROWD_BACKUP_DIR, ./backup
  std::string models_dir;  // --models, $FACECROWD_MODELS; empty: vision/model_files.h search order
  std::string face_model;  // --face-model; empty: $FACECROWD_FACE_MODEL, else dlib (vision/face_model.h)
  bool quiet = false;      // --quiet: no progress output
  int exit_code = 0;
};

using CommandSetup = std::function<void(CLI::App& app, GlobalOptions& globals)>;

struct CommandRegistrar {
  explicit CommandRegistrar(CommandSetup setup);
};

// --models / $FACECROWD_MODELS when given; nullopt lets vision/model_files.h search its usual places.
inline std::optional<std::filesystem::path> explicit_models_dir(const GlobalOptions& globals) {
  if (globals.models_dir.empty()) return std::nullopt;
  return std::filesystem::path(globals.models_dir);
}

// The embedding model: --face-model, else $FACECROWD_FACE_MODEL, else dlib; Error(kUsage) naming the choices.
inline vision::FaceModel selected_face_model(const GlobalOptions& globals) {
  return vision::resolve_face_model(globals.face_model.empty() ? std::nullopt : std::optional(globals.face_model));
}

// Progress output is shown only when stderr is a terminal and --quiet is not set.
bool show_progress(const GlobalOptions& globals);

}  // namespace facecrowd
