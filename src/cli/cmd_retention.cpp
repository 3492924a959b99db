// `facecrowd retention run`: deletes and archives old records and sweeps unreferenced files
// (app/records/retention.h).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/records/retention.h"
#include "cli/command.h"
#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    RetentionPolicy policy;
    bool dry_run = false;
    bool json = false;
    std::string now;
  };
  auto opts = std::make_shared<Options>();
  auto* group = app.add_subcommand("retention", "Retention and archival of old records");
  group->require_subcommand(1);
  auto* cmd = group->add_subcommand(
      "run",
      "Apply the retention policy once (the operators' nightly 02:00 job):\n"
      "  - delete attendances older than --attendance-months (12), crowd counts older than --crowd-months\n"
      "    (12) and audit entries older than --audit-months (24);\n"
      "  - mark attendances and crowd counts older than --archive-after-months (6) `archived: true`;\n"
      "  - delete stored files (fs.files/fs.chunks) that no record points to any more;\n"
      "  - write one audit entry (action retention.run) saying what was done.\n"
      "Face profiles and users are kept until deleted. Months are calendar months before now (or --now).\n"
      "Every change is recorded in the oplog, so backups and point-in-time recovery see it.\n"
      "Use --dry-run first: it reports the same counts and changes nothing.\n\n"
      "Example: facecrowd retention run --dry-run --audit-months 36");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_flag("--dry-run", opts->dry_run, "count what would be done; write nothing");
  cmd->add_option("--attendance-months", opts->policy.attendance_months, "delete attendances older than this")
      ->capture_default_str();
  cmd->add_option("--crowd-months", opts->policy.crowd_months, "delete crowd counts older than this")
      ->capture_default_str();
  cmd->add_option("--audit-months", opts->policy.audit_months, "delete audit entries older than this")
      ->capture_default_str();
  cmd->add_option("--archive-after-months", opts->policy.archive_after_months,
                  "mark attendances and crowd counts older than this archived")
      ->capture_default_str();
  cmd->add_option("--now", opts->now, "evaluate ages as if it were this ISO 8601 time");
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &globals] {
    validate_retention_policy(opts->policy);
    RetentionOptions options{.policy = opts->policy, .dry_run = opts->dry_run};
    if (!opts->now.empty()) {
      auto t = parse_iso8601(opts->now);
      if (!t) throw Error(ExitCode::kUsage, "--now '" + opts->now + "' is not an ISO 8601 time");
      options.now = *t;
    }
    if (show_progress(globals)) {
      auto last = std::make_shared<std::chrono::steady_clock::time_point>();
      options.progress = [last](const std::string& stage, int64_t done, int64_t total) {
        auto now = std::chrono::steady_clock::now();
        if (done != total && now - *last < std::chrono::milliseconds(200)) return;
        *last = now;
        std::fprintf(stderr, "\r%-28s %lld / %lld   %s", stage.c_str(), static_cast<long long>(done),
                     static_cast<long long>(total), done == total ? "\n" : "");
      };
    }
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    auto r = run_retention(*db, options);
    if (opts->json) {
      std::cout << r.to_json().dump(2) << "\n";
      return;
    }
    const char* verb = r.dry_run ? "would delete" : "deleted";
    std::printf("%s%s %lld attendances (before %s), %lld crowd counts (before %s), %lld audit entries (before %s)\n",
                r.dry_run ? "dry run: " : "", verb, static_cast<long long>(r.attendances_deleted),
                format_iso8601(r.attendance_cutoff).c_str(), static_cast<long long>(r.crowdcounts_deleted),
                format_iso8601(r.crowd_cutoff).c_str(), static_cast<long long>(r.auditlogs_deleted),
                format_iso8601(r.audit_cutoff).c_str());
    std::printf("%s %lld attendances and %lld crowd counts archived (before %s)\n", r.dry_run ? "would mark" : "marked",
                static_cast<long long>(r.attendances_archived), static_cast<long long>(r.crowdcounts_archived),
                format_iso8601(r.archive_cutoff).c_str());
    std::printf("%s %lld unreferenced files (%.1f MiB)\n", verb, static_cast<long long>(r.files_deleted),
                double(r.file_bytes_freed) / 1048576.0);
    if (!r.dry_run) std::printf("audit entry %s\n", r.audit_id.c_str());
  });
});

}  // namespace
}  // namespace facecrowd
