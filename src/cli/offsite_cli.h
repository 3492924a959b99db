// Shared by the commands that talk to a backup target (backup, oplog ship, backups list, verify, restore,
// target): which target a run uses, and sending the backup directory to it.
//
// The target is --target when given, else the configured default (backup/offsite/target_config.h:
// <data>/backup-target.json or $FACECROWD_BACKUP_TARGET); the encryption settings always come from the
// configuration, so a --target given by hand is encrypted the same way (fail closed).
#pragma once

#include <iostream>
#include <map>
#include <optional>
#include <string>

#include "backup/offsite/offsite_push.h"
#include "backup/offsite/target_config.h"
#include "backup/targets/backup_target.h"
#include "cli/command.h"
#include "core/error.h"

namespace facecrowd {

inline std::optional<TargetConfig> resolve_target(const GlobalOptions& globals, const std::string& flag) {
  auto config = TargetConfig::load(globals.data_dir);
  if (flag.empty()) return config;
  if (!config) config.emplace();
  config->target = flag;
  return config;
}

// A command's --json report of what it did locally, with the push's failure added as "offsite_error"
// ({code, message}) in place of "offsite": printed before the error itself, so that a machine reading stdout
// learns what was written locally and that it is not off-site (the exit code is the push's).
inline nlohmann::json error_json(const Error& e) { return {{"code", int(e.code())}, {"message", e.what()}}; }
inline nlohmann::json offsite_failure_json(nlohmann::json report, const Error& e) {
  report["offsite_error"] = error_json(e);
  return report;
}

// Pushes the backup directory to the target; prints one summary line (or nothing with json) and the
// warnings. Returns the result for --json. `archive_sha256`: PushOptions::archive_sha256 (a backup's own archive).
inline PushResult push_backup_dir(const GlobalOptions& globals, const TargetConfig& config, const std::string& db, bool quiet,
                                  std::map<std::string, std::string> archive_sha256 = {}) {
  auto target = open_backup_target(config.target);
  PushOptions options;
  options.db = db;
  options.ledger_file = std::filesystem::path(globals.data_dir) / "erasure-ledger.jsonl";
  options.retention = config.retention();
  options.archive_sha256 = std::move(archive_sha256);
  auto result = push_to_target(globals.backup_dir, *target, config, options);
  if (!quiet) std::cout << result.summary() << "\n";
  for (const auto& w : result.warnings) std::cerr << "warning: " << w << "\n";
  return result;
}

}  // namespace facecrowd
