// `facecrowd backup`: one consistent snapshot archive (backup/backup_job.h), then retention.
#include <iomanip>
#include <iostream>

#include "app/recovery/backup_report.h"
#include "backup/backup_job.h"
#include "cli/command.h"
#include "cli/offsite_cli.h"
#include "cli/target_flag.h"
#include "core/error.h"
#include "store/schema.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    BackupOptions backup;
    std::string out;
    std::string target;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "backup",
      "Write a consistent snapshot of a database (all collections and stored files, or those named by\n"
      "--collection) to <backup dir>/backup_<db>_YYYYMMDD_HHMMSS.tar.gz, in mongodump's layout:\n"
      "<db>/<collection>.bson + .metadata.json, oplog.bson (changes written while the backup ran) and\n"
      "manifest.json (oplog position, sha256, bytes and document count of every member). Writers may keep\n"
      "working: the snapshot is exactly the state at the manifest's oplog.start.\n"
      "The archive appears under its final name only when complete and fsynced; a killed backup leaves a\n"
      ".partial-<pid> file that the next backup removes. After success, archives of the same database\n"
      "older than --keep-days are deleted. Every run appends a JSON line to <backup dir>/backup-log.jsonl.\n"
      "Examples:\n"
      "  facecrowd backup                                  # everything, into ./backup\n"
      "  facecrowd backup --collection faceprofiles        # like mongodump --collection faceprofiles\n"
      "  facecrowd backup --out /backup/mongodb --keep-days 30 --json\n"
      "  facecrowd backup --target s3://my-bucket/facecrowd       # and send it (and the oplog, the ledger) off-site\n"
      "With --target, or a configured default target (`facecrowd target set`), every archive, oplog slice and\n"
      "the erasure ledger not yet there are uploaded afterwards (encrypted when the target is), then remote\n"
      "retention runs. The local backup is complete even when the upload fails (the error says so).");
  cmd->add_option("--db", opts->backup.db, "database name")->capture_default_str();
  cmd->add_option("--collection", opts->backup.collections,
                  "back up only this collection (repeatable): " + collection_names_joined());
  cmd->add_option("--out", opts->out, "backup directory (default: the global --backup-dir)");
  cmd->add_option("--keep-days", opts->backup.keep_days,
                  "after success, delete this database's archives older than N days (0: keep all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_target_flag(cmd, opts->target,
                  "also send the backup directory to this target: s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a "
                  "directory (default: the configured target, if any)");
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  cmd->callback([opts, &globals] {
    auto target = resolve_target(globals, opts->target);
    if (target) open_backup_target(target->target);  // a malformed target or missing credentials: before the backup
    BackupOptions options = opts->backup;
    options.progress = show_progress(globals);
    std::filesystem::path dir = opts->out.empty() ? globals.backup_dir : opts->out;
    auto result = run_backup(DataDir::open(globals.data_dir), dir, options);
    std::optional<PushResult> pushed;
    if (target) {
      GlobalOptions g = globals;
      g.backup_dir = dir.string();
      try {
        pushed = push_backup_dir(g, *target, options.db, true, {{result.archive.filename().string(), result.sha256}});
        if (!pushed->not_sent.empty()) globals.exit_code = int(ExitCode::kWarning);  // the target is short of this directory
      } catch (const Error& e) {
        Error failed(e.code(), "the local backup " + result.archive.string() + " is complete, but sending it to '" +
                                   target->target + "' failed: " + e.what());
        // A machine reading --json still learns which archive was written, and that it is not off-site.
        if (opts->json) std::cout << offsite_failure_json(backup_report_json(result, std::nullopt), failed).dump(2) << "\n";
        throw failed;
      }
    }
    for (const auto& w : result.warnings) std::cerr << "warning: " << w << "\n";
    const auto& m = result.manifest;
    auto counts = manifest_counts(m);
    if (opts->json) {
      std::cout << backup_report_json(result, pushed).dump(2) << "\n";
      return;
    }
    std::cout << "backup " << result.archive.string() << "\n"
              << "  " << result.bytes << " bytes in " << std::fixed << std::setprecision(1) << result.seconds
              << " s; snapshot at oplog " << m.oplog_start.to_string() << ", "
              << counted(m.oplog_entries, "oplog entry", "oplog entries") << " written meanwhile (to " << m.oplog_end.to_string() << ")\n";
    for (const auto& [name, n] : counts.items())
      std::cout << "  " << std::left << std::setw(16) << name << std::right << std::setw(12) << n.get<int64_t>()
                << " " << noun_for(n.get<int64_t>(), "document") << "\n";
    for (const auto& p : result.pruned) std::cout << "pruned " << p.string() << "\n";
    if (pushed) std::cout << pushed->summary() << "\n";
  });
});

}  // namespace
}  // namespace facecrowd
