// `facecrowd check [--read-data]`: the scrub (app/recovery/scrub.h). Exit 0 when nothing is damaged, 3 when
// something is, 4 when there is no data directory.
#include <iostream>

#include "app/recovery/scrub.h"
#include "cli/command.h"
#include "core/error.h"

namespace facecrowd {
namespace {

void print_check(const std::string& name, bool ok, const std::string& detail, const std::vector<std::string>& problems,
                 int64_t count) {
  std::cout << "  " << (ok ? "ok      " : "FAILED  ") << name << ": " << detail << "\n";
  for (const auto& p : problems) std::cout << "            - " << p << "\n";
  if (count > int64_t(problems.size())) std::cout << "            … and " << count - int64_t(problems.size()) << " more\n";
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db;
    bool read_data = false;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "check",
      "Scrub: read everything and report what is damaged, changing nothing (like `restic check` or a ZFS\n"
      "scrub). For every database: SQLite's integrity_check, every document decodes as a restore needs it,\n"
      "every stored image's chunks hash to the sha256 fs.files records, every file a record points to exists,\n"
      "the live oplog decodes in order. Then the erasure ledger against the fingerprints the databases and\n"
      "backups recorded, and every shipped oplog slice (checksum, entry count, link to the one before).\n"
      "With --read-data, also every backup archive in the backup directory, as `verify` does (slow: it reads\n"
      "and test-restores each one). Progress goes to stderr on a terminal.\n"
      "Exit 0 when nothing is damaged, 3 when something is (each damaged item is named), 4 when the data\n"
      "directory does not exist.\n"
      "Examples:\n"
      "  facecrowd check\n"
      "  facecrowd check --read-data --json > scrub.json");
  cmd->add_option("--db", opts->db, "check only this database (default: all)");
  cmd->add_flag("--read-data", opts->read_data, "also verify every backup archive (reads all of them)");
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &globals] {
    CheckOptions options;
    if (!opts->db.empty()) options.db = opts->db;
    options.read_data = opts->read_data;
    options.backup_dir = globals.backup_dir;
    if (show_progress(globals)) options.progress = [](const std::string& s) { std::cerr << "check: " << s << "\n"; };
    auto report = run_check(globals.data_dir, options);
    if (opts->json) {
      std::cout << report.to_json().dump(2) << "\n";
    } else {
      for (const auto& d : report.databases) {
        std::cout << "database " << d.db << "\n";
        for (const auto& c : d.checks) print_check(c.name, c.ok, c.detail, c.problems, c.problem_count);
      }
      std::cout << "data directory " << globals.data_dir << "\n";
      print_check(report.ledger.name, report.ledger.ok, report.ledger.detail, {}, 0);
      std::cout << "backups " << globals.backup_dir << "\n";
      print_check(report.slices.name, report.slices.ok, report.slices.detail, report.slices.problems,
                  report.slices.problem_count);
      for (const auto& b : report.backups) {
        bool ok = b.ok();
        std::string failed;
        for (const auto& c : b.checks)
          if (!c.ok) failed += (failed.empty() ? "" : "; ") + c.name + ": " + c.detail;
        print_check(b.source.filename().string(), ok, ok ? "verified" : failed, {}, 0);
      }
      if (!report.read_data) std::cout << "  (archives not read: use --read-data to verify every backup)\n";
      std::cout << (report.ok() ? "OK: nothing is damaged\n" : "DAMAGED: see the FAILED lines above\n");
    }
    if (!report.ok()) globals.exit_code = int(ExitCode::kBadInput);
  });
});

}  // namespace
}  // namespace facecrowd
