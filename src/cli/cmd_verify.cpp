// `facecrowd verify`: proves a backup restores (backup/verify.h); exit 0 only when every check holds.
#include <iostream>

#include "backup/offsite/offsite_verify.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/remote_index.h"
#include "backup/verify.h"
#include "cli/offsite_cli.h"
#include "cli/command.h"
#include "cli/target_flag.h"
#include "core/error.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string input;
    std::string target;
    bool read_data = false;
    std::vector<std::string> key_files;
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
      "  facecrowd verify /backup/mongodb/backup_face-recognition_20240103_010000.tar.gz --json\n"
      "  facecrowd verify --target s3://my-bucket/facecrowd              # every object's size and sha256\n"
      "  facecrowd verify --target s3://my-bucket/facecrowd --read-data  # and download + test-restore latest\n"
      "With --target the target's objects are checked against its index without downloading (no key needed);\n"
      "--read-data downloads the archive (BACKUP: latest or a name), its oplog slices and the ledger into a\n"
      "temporary folder, decrypts them and test-restores the archive.");
  cmd->add_option("BACKUP", opts->input, "latest | ARCHIVE.tar.gz | FOLDER (with --target: latest or an archive name)");
  add_target_flag(cmd, opts->target, "check a backup target (s3://, gs:// or a directory) instead");
  cmd->add_flag("--read-data", opts->read_data, "with --target: download the backup and test-restore it");
  cmd->add_option("--key-file", opts->key_files, "with --read-data: a key that may decrypt the objects (repeatable)")
      ->allow_extra_args(false);  // one file per --key-file: `--key-file K latest` leaves `latest` to the positional
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &globals] {
    if (!opts->target.empty() || opts->read_data) {
      auto config = resolve_target(globals, opts->target);
      if (!config) throw Error(ExitCode::kUsage, "--read-data needs --target (or a configured target)");
      auto target = open_backup_target(config->target);
      OffsiteVerifyOptions vo;
      vo.read_data = opts->read_data;
      if (!opts->input.empty()) vo.which = opts->input;
      // The keys check the index's tag too (index_auth.h), so they are read without --read-data as well.
      OffsiteStore probe(*target, std::filesystem::temp_directory_path());
      std::vector<std::filesystem::path> files(opts->key_files.begin(), opts->key_files.end());
      std::shared_ptr<KeyRing> keys = keys_for_download(config, probe.require_index(), files);
      // On the write-only target's server, its own signing key checks the index's signature (no --key-file needed).
      vo.trust = reader_trust(config, globals.backup_dir, target->url());
      auto report = verify_target(*target, keys.get(), vo);
      if (opts->json) {
        std::cout << report.to_json().dump(2) << "\n";
      } else {
        std::cout << "verify " << report.source.string() << "\n";
        for (const auto& c : report.checks)
          std::cout << "  " << (c.ok ? "ok      " : "FAILED  ") << c.name << ": " << c.detail << "\n";
        for (const auto& w : report.warnings) std::cout << "  warning: " << w << "\n";
        std::cout << (report.ok() ? "OK: the target's backups are complete" : "FAILED: do not rely on this target")
                  << (report.ok() && opts->read_data ? " and restore\n" : "\n");
      }
      if (!report.ok()) globals.exit_code = int(ExitCode::kBadInput);
      return;
    }
    if (opts->input.empty()) throw Error(ExitCode::kUsage, "verify needs BACKUP (latest, an archive or a folder), or --target");
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
