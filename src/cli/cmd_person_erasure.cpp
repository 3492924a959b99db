// `facecrowd person delete ID` (GDPR erasure) and `facecrowd person erasures` (the ledger) — app/privacy/erasure.h.
// The `person` group may also hold the enrollment commands of another file: both find-or-create it.
#include <iostream>

#include "app/privacy/erasure.h"
#include "app/privacy/erasure_listing.h"
#include "cli/command.h"
#include "core/error.h"
#include "store/schema.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

CLI::App* person_group(CLI::App& app) {
  for (auto* existing : app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "person"; }))
    return existing;
  auto* group = app.add_subcommand("person", "A person's data: GDPR erasure (delete) and the erasure ledger (erasures); enrol with `facecrowd enroll`");
  group->require_subcommand(1);
  return group;
}

void add_delete(CLI::App* group, GlobalOptions& globals) {
  struct Options {
    std::string id;
    std::string db{kDefaultDatabase};
    std::string attendance = "remove";
    std::string reason;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand(
      "delete",
      "Erase a person (GDPR): removes the face profile with its embeddings, its facial images (fs.files and\n"
      "fs.chunks; a file another record still points to is kept), and its attendance records — removed, or\n"
      "with --attendance anonymise kept with personId null and personName \"erased\" so session head counts\n"
      "stay right. All in one transaction, with an audit entry (action person.delete, target ID, counts only:\n"
      "never the name).\n"
      "The erasure is first recorded in <data>/erasure-ledger.jsonl, which lives outside every database and\n"
      "every backup; each restore and point-in-time recovery re-applies the ledger, so the person never\n"
      "comes back from an old backup. Exit 4 when there is no such profile (or it was already erased).\n"
      "Examples:\n"
      "  facecrowd person delete 65a1f0c2e4b0a1b2c3d4e5f6\n"
      "  facecrowd person delete 65a1f0c2e4b0a1b2c3d4e5f6 --attendance anonymise --reason 'request #1182'");
  cmd->add_option("ID", opts->id, "the face profile's _id (24 hex characters)")->required();
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_option("--attendance", opts->attendance, "what to do with the person's attendance records")
      ->check(CLI::IsMember({"remove", "anonymise", "anonymize"}))
      ->capture_default_str();
  cmd->add_option("--reason", opts->reason, "why (e.g. the request's reference); kept in the ledger, not the audit log");
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  cmd->callback([opts, &globals] {
    ErasureOptions options;
    options.db = opts->db;
    options.attendance = parse_attendance_policy(opts->attendance);
    if (!opts->reason.empty()) options.reason = opts->reason;
    auto r = erase_person(globals.data_dir, opts->id, options);
    if (opts->json) {
      std::cout << r.to_json().dump(2) << "\n";
      return;
    }
    const auto& e = r.effect;
    std::cout << "erased person " << r.person_id << " from database " << r.db << ": profile with "
              << counted(e.embeddings_removed, "embedding") << ", " << counted(e.files_deleted.size(), "file") << " deleted";
    if (e.files_kept_shared)
      std::cout << " (" << e.files_kept_shared << " kept: other records point to " << noun_for(e.files_kept_shared, "it", "them") << ")";
    std::cout << ", "
              << counted(r.attendance == AttendancePolicy::kRemove ? e.attendances_removed : e.attendances_anonymised, "attendance record")
              << " " << (r.attendance == AttendancePolicy::kRemove ? "removed" : "anonymised") << "\n"
              << "  ledger " << r.ledger_path << (r.ledger_already_listed ? " (already listed: erasure completed)" : "")
              << ", audit entry " << r.audit_id << "\n";
  });
}

void add_erasures(CLI::App* group, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    bool reapply = false;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand(
      "erasures",
      "List the erasure ledger (<data>/erasure-ledger.jsonl): who was erased, when, by whom, and how their\n"
      "attendance records were treated. With --reapply, apply every erasure again to the live database (a\n"
      "startup check after a crash; it is idempotent and restores do it by themselves).\n"
      "The ledger is first checked against the fingerprints (length and sha256) each database recorded at\n"
      "its last erasure and each backup's manifest recorded: a ledger that is missing, shorter or different\n"
      "is an error (exit 3) that says which backup holds an intact copy and how to put it back.\n"
      "Examples:\n"
      "  facecrowd person erasures\n"
      "  facecrowd person erasures --reapply --json");
  cmd->add_option("--db", opts->db, "database for --reapply")->capture_default_str();
  cmd->add_flag("--reapply", opts->reapply, "apply the whole ledger to the live database now");
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->callback([opts, &globals] {
    auto listing = list_erasures(globals.data_dir, fs::path(globals.backup_dir),
                                 opts->reapply ? std::optional<std::string>(opts->db) : std::nullopt);
    if (opts->json) {
      std::cout << listing.to_json().dump(2) << "\n";
      return;
    }
    const auto& records = listing.erasures;
    const auto& reapplied = listing.reapplied;
    for (const auto& r : records)
      std::cout << format_iso8601(r.erased_at) << "  " << r.person_id << "  db " << r.db << "  attendance "
                << to_string(r.attendance_policy) << "  by " << r.requested_by << "  files " << r.file_ids.size()
                << (r.reason ? "  reason: " + *r.reason : "") << "\n";
    if (records.empty()) std::cerr << "no erasures in " << listing.ledger.string() << "\n";
    if (reapplied)
      std::cout << "re-applied " << counted(reapplied->records, "erasure") << " to database " << opts->db << ": "
                << counted(reapplied->people_changed, "person", "people") << " still had data, " << reapplied->effect.to_json().dump() << "\n";
  });
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  auto* group = person_group(app);
  add_delete(group, globals);
  add_erasures(group, globals);
});

}  // namespace
}  // namespace facecrowd
