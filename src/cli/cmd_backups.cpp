// `facecrowd backups list` (archives, oplog slices, point-in-time window) and `facecrowd backups status`
// (health checks for monitors, exit 0/1/2).
#include <iomanip>
#include <iostream>

#include "app/recovery/backup_listing.h"
#include "backup/backup_status.h"
#include "backup/backup_window.h"
#include "backup/catalog.h"
#include "backup/point_in_time.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/writer_fence.h"
#include "backup/targets/backup_target.h"
#include "cli/command.h"
#include "cli/offsite_cli.h"
#include "cli/target_flag.h"
#include "core/error.h"
#include "store/schema.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

void require_readable_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw Error(ExitCode::kNotFound, "backup directory '" + dir.string() + "' does not exist (set --backup-dir or FACECROWD_BACKUP_DIR)");
  fs::directory_iterator it(dir, ec);
  if (ec) throw_io_error("cannot read backup directory", dir, ec.value());
}

void print_listing(const nlohmann::json& l) {
  std::cout << "backups of '" << l["db"].get<std::string>() << "' in " << l["backup_dir"].get<std::string>() << "\n";
  if (l["archives"].empty()) {
    std::cout << "  (no archives)\n";
  } else {
    std::cout << std::left << std::setw(48) << "archive" << std::setw(26) << "created" << std::right << std::setw(11)
              << "size" << "  " << std::left << "oplog start..end   collections\n";
    for (const auto& a : l["archives"]) {
      std::string oplog = a.contains("oplog") ? a["oplog"]["start"].get<std::string>() + ".." + a["oplog"]["end"].get<std::string>()
                                              : (a["manifest"] == "damaged" ? "damaged manifest" : "no manifest");
      std::string colls;
      for (const auto& c : a.value("collections", nlohmann::json::array())) colls += (colls.empty() ? "" : ",") + c.get<std::string>();
      std::cout << std::left << std::setw(48) << a["name"].get<std::string>() << std::setw(26)
                << a["created"].get<std::string>() << std::right << std::setw(11) << human_bytes(a["bytes"].get<uint64_t>())
                << "  " << std::left << oplog << "   " << colls << "\n";
    }
  }
  const auto& s = l["slices"];
  std::cout << "oplog slices: " << s["count"].get<size_t>() << " (" << human_bytes(s["bytes"].get<uint64_t>()) << ")";
  if (s.contains("first_from"))
    std::cout << ", " << s["first_from"].get<std::string>() << " .. " << s["last_to"].get<std::string>();
  if (s.contains("database") && s["database"] != l["db"])
    std::cout << " (the oplog of database '" << s["database"].get<std::string>() << "': they do not extend this database's backups)";
  std::cout << "\n";
  for (const auto& d : s["damaged"]) std::cout << "  damaged slice: " << d.get<std::string>() << "\n";
  const auto& w = l["window"];
  if (!w["available"].get<bool>()) {
    std::cout << "point-in-time window: none (" << w.value("reason", "") << ")\n";
  } else {
    for (const auto& r : w["ranges"])
      std::cout << "point-in-time window: " << r["start"]["time"].get<std::string>() << " (" << r["start"]["ts"].get<std::string>()
                << ") .. " << r["end"]["time"].get<std::string>() << " (" << r["end"]["ts"].get<std::string>() << ")\n";
  }
  for (const auto& g : w["gaps"]) std::cout << "  gap: " << g.get<std::string>() << "\n";
  for (const auto& p : w["problems"]) std::cout << "  note: " << p.get<std::string>() << "\n";
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  auto* backups = app.add_subcommand("backups", "List backups and check their health");
  backups->require_subcommand(1);

  struct ListOptions {
    std::string db{kDefaultDatabase};
    std::string target;
    std::vector<std::string> key_files;
    bool json = false;
  };
  auto lo = std::make_shared<ListOptions>();
  auto* list = backups->add_subcommand("list", "Archives, oplog slices and the point-in-time window");
  list->footer(
      "Shows the archives in the backup directory (name, creation time, size, collections, the oplog range from\n"
      "each archive's manifest), the shipped oplog slices, and the point-in-time window: the span of positions\n"
      "`facecrowd restore ARCHIVE --until TIME` can reach. A gap in the slice chain ends a window and is named.\n"
      "Reads names and sidecar manifests only; archives are not opened (use `facecrowd verify`).");
  list->add_option("--db", lo->db, "database whose archives to list")->capture_default_str();
  add_target_flag(list, lo->target, "list what a backup target holds (s3://, gs:// or a directory), from its index, and "
                                            "which machine writes it (--json: the index, with \"writer\" {id, host, since})");
  list->add_option("--key-file", lo->key_files,
                   "with --target: a key file that authenticates the target's index (repeatable; a write-only target: its "
                   "private key file, which holds the index verify key)")
      ->allow_extra_args(false);
  list->add_flag("--json", lo->json, "print JSON");
  list->callback([lo, &globals] {
    validate_database_name(lo->db);
    if (!lo->key_files.empty() && lo->target.empty()) throw Error(ExitCode::kUsage, "--key-file applies only with --target");
    if (!lo->target.empty()) {
      auto target = open_backup_target(lo->target);
      OffsiteStore store(*target, fs::temp_directory_path());
      RemoteIndex index = store.require_index();
      // What is listed is what a restore would use: authenticated as a restore authenticates it (index_auth.h;
      // a refusal exits 3 naming index.json), with the configured keys and --key-file.
      const auto config = resolve_target(globals, lo->target);
      auto keys = keys_for_download(config, index, std::vector<fs::path>(lo->key_files.begin(), lo->key_files.end()));
      // On the write-only target's server, its own signing key checks the index's signature, as verify does.
      const IndexTrust trust = reader_trust(config, globals.backup_dir, target->url());
      const auto auth = store.authenticate_index(index, keys.get(), trust);
      if (!auth.warning.empty()) std::cerr << "warning: " << auth.warning << "\n";
      if (lo->json) {
        auto j = index.to_json_with_slices();
        j["index_authentication"] = auth.to_json();
        std::cout << j.dump(2) << "\n";
        return;
      }
      std::cout << "target " << target->url() << " (index updated " << index.updated_at << ", "
                << (index.encryption.empty() ? std::string("plaintext") : "encrypted: " + index.encryption) << ")\n";
      for (const auto& a : index.archives) {
        if (a.db != lo->db) continue;
        std::cout << "  " << a.name << "  " << human_bytes(a.object.size) << "  oplog " << a.manifest.oplog_start.to_string()
                  << " .. " << a.manifest.oplog_end.to_string()
                  << (a.object.key_id.empty() ? "" : "  key " + a.object.key_id) << "\n";
      }
      uint64_t slice_bytes = 0;
      for (const auto& sl : index.slices) slice_bytes += sl.object.size;
      std::cout << "  " << counted(index.slices.size(), "oplog slice") << " (" << human_bytes(slice_bytes) << ")";
      if (!index.slices.empty()) std::cout << ", shipped up to " << oplog_position_text(index.shipped_position());
      std::cout << "\n  erasure ledger: " << index.ledger_bytes << " bytes in " << counted(index.ledger.size(), "chunk") << "\n";
      std::cout << "  writer: " << writer_status(index, writer_identity_if_readable(globals.backup_dir), target->url()) << "\n";
      return;
    }
    require_readable_dir(globals.backup_dir);
    auto l = backup_listing(BackupCatalog(globals.backup_dir), lo->db);
    if (lo->json)
      std::cout << l.dump(2) << "\n";
    else
      print_listing(l);
  });

  struct StatusCliOptions {
    StatusOptions status;
    std::string max_age = "25h";
    bool json = false;
  };
  auto so = std::make_shared<StatusCliOptions>();
  auto* status = backups->add_subcommand("status", "Health checks for monitors: OK/WARNING/ERROR, exit 0/1/2");
  status->footer(
      "Health of the backups, for monitors (nagios-style). Prints one line `OK: …`, `WARNING: …` or `ERROR: …`,\n"
      "then one line per check, and exits 0, 1 or 2:\n"
      "  latest-backup  none, or older than --max-age: ERROR\n"
      "  size           latest < 50% or > 200% of the median of the 7 before it: WARNING\n"
      "  missing-days   UTC days among the last --days without a backup: WARNING\n"
      "  disk-space     free < 2x the latest backup: ERROR; < 10% of the file system: WARNING\n"
      "  last-run       the last run in backup-log.jsonl failed: ERROR\n"
      "  oplog-lag      oldest unshipped oplog entry > 5 min: WARNING, > 1 h: ERROR; database unreadable: ERROR\n"
      "scripts/check-backup-status.sh wraps this for cron or a monitoring agent.");
  status->add_option("--db", so->status.db, "database to check")->capture_default_str();
  status->add_option("--max-age", so->max_age, "oldest acceptable latest backup (e.g. 25h)")->capture_default_str();
  status->add_option("--days", so->status.days, "how many past days must each have a backup")
      ->capture_default_str()
      ->check(CLI::Range(1, 3660));
  status->add_flag("--json", so->json, "print JSON: {\"status\", \"summary\", \"checks\": [{\"name\", \"status\", \"message\"}]}");
  status->callback([so, &globals] {
    validate_database_name(so->status.db);
    auto max_age = parse_duration_seconds(so->max_age);
    if (!max_age || *max_age < 1) throw Error(ExitCode::kUsage, "--max-age '" + so->max_age + "' is not a duration (e.g. 25h)");
    so->status.max_age_seconds = *max_age;
    std::optional<DataDir> data;
    std::error_code ec;
    if (fs::exists(globals.data_dir, ec)) data = DataDir::open(globals.data_dir);  // never creates one
    auto result = backup_status(data ? &*data : nullptr, globals.backup_dir, so->status);
    if (so->json) {
      std::cout << result.to_json().dump(2) << "\n";
    } else {
      std::cout << result.summary_line() << "\n";
      for (const auto& c : result.checks)
        std::cout << "  " << std::left << std::setw(8) << level_name(c.level) << std::setw(15) << c.name << c.message << "\n";
    }
    globals.exit_code = result.exit_code();
  });
});

}  // namespace
}  // namespace facecrowd
