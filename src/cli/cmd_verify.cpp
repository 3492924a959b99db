// `facecrowd verify`: proves a backup restores (backup/verify.h); exit 0 only when every check holds.
#include <iostream>

#include "backup/verify.h"
#include "cli/command.h"
#include "core/error.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string input;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "verify",
      "Prove that a backup can be restored, without touching the live data: checks the tar structure,\n"
      "every member's sha256, size and document count against manifest.json (none missing, none extra),\n"
      "decodes every document and oplog entry, then restores it into a throwaway database in a temporary\n"
      "folder and compares the counts. Prints each check with ok/FAILED. Exit 0 only when all hold, 3 when\n"
      "the backup is damaged, 4 when it does not exist.\n"
      "Examples:\n"
      "  facecrowd verify latest\n"
      "  facecrowd verify /backup/mongodb/backup_face-recognition_20240103_010000.tar.gz --json");
  cmd->add_option("BACKUP", opts->input, "latest | ARCHIVE.tar.gz | FOLDER")->required();
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &globals] {
    VerifyOptions options;
    options.backup_dir = globals.backup_dir;
    auto report = verify_backup(opts->input, options);
    if (opts->json) {
      std::cout << report.to_json().dump(2) << "\n";
    } else {
      std::cout << "verify " << report.source.string() << "\n";
      for (const auto& c : report.checks)
        std::cout << "  " << (c.ok ? "ok      " : "FAILED  ") << c.name << ": " << c.detail << "\n";
      for (const auto& w : report.warnings) std::cout << "  warning: " << w << "\n";
      std::cout << (report.ok() ? "OK: the backup is complete and restores\n" : "FAILED: do not rely on this backup\n");
    }
    if (!report.ok()) globals.exit_code = int(ExitCode::kBadInput);
  });
});

}  // namespace
}  // namespace facecrowd
