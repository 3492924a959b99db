// `facecrowd audit list`: what changed, newest first (app/records/audit.h).
#include <iostream>

#include "app/records/audit.h"
#include "cli/command.h"
#include "cli/flag_values.h"
#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {

void add_audit_verify_command(CLI::App* group, GlobalOptions& globals);  // cmd_audit_verify.cpp

namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string since, until, action, target;
    int64_t limit = 100;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* group = app.add_subcommand("audit", "The audit log: who changed what, when");
  group->require_subcommand(1);
  add_audit_verify_command(group, globals);
  auto* cmd = group->add_subcommand(
      "list",
      "List audit entries, newest first — answers \"what changed since the incident\".\n\n"
      "Examples:\n"
      "  facecrowd audit list --since 2026-03-02T14:00:00Z\n"
      "  facecrowd audit list --action retention.run --limit 5 --json");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_option("--since", opts->since, "only entries at or after this ISO 8601 time");
  cmd->add_option("--until", opts->until, "only entries at or before this ISO 8601 time");
  cmd->add_option("--action", opts->action, "only this action (e.g. person.delete, retention.run)");
  cmd->add_option("--target", opts->target, "only entries about this target");
  cmd->add_option("--limit", opts->limit, "at most this many entries (0: all)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", opts->json, "print a JSON array of the entries (relaxed Extended JSON)");
  cmd->callback([opts, &globals] {
    AuditQuery query;
    query.since = time_flag("--since", opts->since);
    query.until = time_flag("--until", opts->until);
    if (!opts->action.empty()) query.action = opts->action;
    if (!opts->target.empty()) query.target = opts->target;
    query.limit = opts->limit == 0 ? -1 : opts->limit;
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    auto tx = db->read();
    auto entries = list_audit(tx, query);
    if (opts->json) {
      auto out = nlohmann::json::array();
      for (const auto& e : entries) out.push_back(e.to_json());
      std::cout << out.dump(2) << "\n";
      return;
    }
    for (const auto& e : entries) {
      auto doc = e.to_json();
      std::string when = "-";
      if (doc.contains("timestamp") && doc["timestamp"].is_object() && doc["timestamp"].contains("$date"))
        when = doc["timestamp"]["$date"].is_string() ? doc["timestamp"]["$date"].get<std::string>()
                                                      : doc["timestamp"]["$date"].dump();
      std::cout << when << "  " << field_text(doc, "actor") << "  " << field_text(doc, "action") << "  "
                << field_text(doc, "target") << "  " << field_text(doc, "outcome") << "  "
                << field_text(doc, "clientAddress") << "  " << (doc.contains("details") ? doc["details"].dump() : "{}")
                << "\n";
    }
    if (entries.empty()) std::cerr << "no matching audit entries\n";
  });
});

}  // namespace
}  // namespace facecrowd
