// `facecrowd drill record`: writes a disaster-recovery drill's result (source, pass/fail, RTO, RPO, recovery
// point) into the audit log of the data directory given by --data / $FACECROWD_DATA. scripts/dr-drill.sh
// runs the drill and calls this against the LIVE machine's data directory, so the figures outlive the drill's
// scratch restore. A data directory or database that does not exist is never created for it: exit 4.
#include <iostream>
#include <optional>

#include "app/recovery/dr_drill_record.h"
#include "app/records/audit.h"
#include "cli/command.h"
#include "cli/target_flag.h"
#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/schema.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string target, recovery_point, recovery_point_iso, failed_step;
    std::optional<double> rto, rpo;  // checked by record_dr_drill: NaN, inf and beyond a century are refused there
    std::string outcome = "ok", verified;
    std::optional<int> exit_code;
    std::vector<std::string> warnings;
  };
  auto opts = std::make_shared<Options>();
  auto* group = app.add_subcommand("drill", "Disaster-recovery drills: record their results in the audit log");
  group->require_subcommand(1);
  auto* cmd = group->add_subcommand("record", "Append a backup.dr_drill audit entry (scripts/dr-drill.sh calls this)");
  cmd->footer("Examples:\n"
              "  facecrowd drill record --target s3://my-bucket/facecrowd --rto 41.2 --rpo 58 --recovery-point 1704240000:3\n"
              "  facecrowd drill record --target s3://my-bucket/facecrowd --rto 40 --rpo 900 --warning 'slices stop at ...'\n"
              "  facecrowd drill record --target s3://my-bucket/facecrowd --outcome failed --failed-step restore --exit-code 3\n"
              "The entry goes into the audit log of --data (default $FACECROWD_DATA, else ./data); a data directory\n"
              "or database that does not exist is not created (exit 4).");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  add_target_flag(cmd, opts->target, "the backup target the drill restored from")->required();
  cmd->add_option("--rto", opts->rto, "recovery time, seconds (empty directory to restored data); required when ok");
  cmd->add_option("--rpo", opts->rpo, "recovery point age, seconds (drill start minus the recovery point); required when ok");
  cmd->add_option("--recovery-point", opts->recovery_point, "the restored oplog position (secs:inc)");
  cmd->add_option("--recovery-point-iso", opts->recovery_point_iso, "the recovery point as an ISO 8601 time");
  cmd->add_option("--verified", opts->verified, "whether verify --target --read-data ran and passed: yes | no")->check(CLI::IsMember({"yes", "no"}));
  cmd->add_option("--outcome", opts->outcome, "ok | failed")->capture_default_str()->check(CLI::IsMember({"ok", "failed"}));
  cmd->add_option("--failed-step", opts->failed_step, "the step that failed: restore | verify | stats; required when failed");
  cmd->add_option("--exit-code", opts->exit_code, "the failed step's exit code (1-255)")->check(CLI::Range(0, 255));
  cmd->add_option("--warning", opts->warnings,
                  "a warning the drill passed with (repeatable), e.g. the restore's recovery point short of what the "
                  "target shipped; recorded under details.warnings")
      ->allow_extra_args(false);
  cmd->callback([opts, &globals] {
    const fs::path root = globals.data_dir;
    std::error_code ec;
    // A file is not a missing directory: exit 8, naming it, so the caller sees the path is wrong, not absent.
    if (fs::exists(root, ec) && !fs::is_directory(root, ec))
      throw Error(ExitCode::kNotOurs, "recording a DR drill: '" + root.string() +
                                             "' is a file, not a facecrowd data directory; give --data DIR of the live machine");
    if (!fs::is_directory(root, ec) || fs::is_empty(root, ec))
      throw Error(ExitCode::kNotFound, "recording a DR drill: no data directory at '" + root.string() +
                                           "', so there is no audit log to record it in; give --data DIR of the live machine");
    DrillResult r;
    r.target = opts->target;
    r.passed = opts->outcome == "ok";
    r.rto_seconds = opts->rto;
    r.rpo_seconds = opts->rpo;
    r.recovery_point = opts->recovery_point;
    r.recovery_point_iso = opts->recovery_point_iso;
    if (!opts->verified.empty()) r.verified = opts->verified == "yes";
    r.failed_step = opts->failed_step;
    r.failed_exit_code = opts->exit_code;
    r.warnings = opts->warnings;
    std::string id;
    try {
      auto db = Database::open(DataDir::open(root), opts->db, {.create_if_missing = false});
      id = record_dr_drill(*db, r, Actor{default_audit_actor(), "local"});
    } catch (const Error& e) {
      // A store error ("cannot open lock file ...: Read-only file system") names a file, not what was being
      // done: dr-drill.sh shows it as its warning, so say it was the drill's record, and what to do.
      if (e.code() != ExitCode::kIo) throw;
      throw Error(e.code(), "recording a DR drill in the audit log of '" + root.string() + "': " + e.what() +
                                "; nothing was recorded. Make the data directory writable for this user (or run as "
                                "the user that runs facecrowd), or give --data DIR of the live machine");
    }
    std::cout << "recorded drill " << id << " in the audit log of " << root.string() << ": "
              << (r.passed ? (r.warnings.empty() ? "passed" : "passed with " + counted(r.warnings.size(), "warning"))
                           : "FAILED at " + r.failed_step);
    if (r.rto_seconds) std::cout << ", RTO " << *r.rto_seconds << " s";
    if (r.rpo_seconds) std::cout << ", RPO " << *r.rpo_seconds << " s";
    std::cout << "\n";
  });
});

}  // namespace
}  // namespace facecrowd
