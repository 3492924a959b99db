// `facecrowd drill record`: writes a disaster-recovery drill's figures (RTO, RPO) into the audit log of
// the restored database, so the audit trail shows when recovery was last proven and how fast.
// scripts/dr-drill.sh runs the drill and calls this.
#include <iostream>

#include "app/records/audit.h"
#include "cli/command.h"
#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string target, recovery_point;
    double rto = -1, rpo = -1;
    std::string outcome = "ok";
  };
  auto opts = std::make_shared<Options>();
  auto* group = app.add_subcommand("drill", "Disaster-recovery drills: record their figures in the audit log");
  group->require_subcommand(1);
  auto* cmd = group->add_subcommand("record", "Append a backup.dr_drill audit entry (scripts/dr-drill.sh calls this)");
  cmd->footer("Example:\n  facecrowd drill record --target s3://my-bucket/facecrowd --rto 41.2 --rpo 58 --recovery-point 1704240000:3");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_option("--target", opts->target, "the backup target the drill restored from")->required();
  cmd->add_option("--rto", opts->rto, "recovery time, seconds (empty directory to verified data)")->required()->check(CLI::NonNegativeNumber);
  cmd->add_option("--rpo", opts->rpo, "recovery point age, seconds (drill start minus the recovery point)")->required();
  cmd->add_option("--recovery-point", opts->recovery_point, "the restored oplog position (secs:inc)");
  cmd->add_option("--outcome", opts->outcome, "ok | failed")->capture_default_str()->check(CLI::IsMember({"ok", "failed"}));
  cmd->callback([opts, &globals] {
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    auto tx = db->write();
    AuditEntry e;
    e.action = "backup.dr_drill";
    e.target = opts->target;
    e.outcome = opts->outcome;
    e.details = {{"rto_seconds", opts->rto}, {"rpo_seconds", opts->rpo}, {"recovery_point", opts->recovery_point}};
    auto id = append_audit(tx, e);
    tx.commit();
    std::cout << "recorded drill " << id << ": RTO " << opts->rto << " s, RPO " << opts->rpo << " s\n";
  });
});

}  // namespace
}  // namespace facecrowd
