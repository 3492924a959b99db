// `facecrowd audit verify`: checks the audit log's hash chain (app/records/audit_chain.h), and optionally that
// the log still holds the chain head a backup recorded (`--against ARCHIVE|latest`, repeatable).
#include <iostream>
#include <set>

#include "app/records/audit_chain.h"
#include "app/privacy/erasure_ledger.h"
#include "backup/archive_reader.h"
#include "backup/catalog.h"
#include "backup/manifest.h"
#include "cli/command.h"
#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

// Keeps the manifest.json member of a backup (the archive's own copy: the sidecar is only a cache).
class ManifestSink : public MemberSink {
 public:
  void begin_member(const std::string& path, uint64_t) override { in_manifest_ = path == "manifest.json"; }
  void member_data(const char* data, size_t size) override {
    if (in_manifest_) text.append(data, size);
  }
  void end_member() override { in_manifest_ = false; }
  std::string text;

 private:
  bool in_manifest_ = false;
};

Manifest manifest_of(const fs::path& archive) {
  ManifestSink sink;
  if (fs::is_directory(archive)) read_folder(archive, sink);
  else read_archive(archive, sink);
  if (sink.text.empty()) throw Error(ExitCode::kBadInput, "backup '" + archive.string() + "' has no manifest.json");
  return Manifest::parse(sink.text, "manifest of '" + archive.string() + "'");
}

}  // namespace

// Called by cmd_audit.cpp, which owns the `audit` group.
void add_audit_verify_command(CLI::App* group, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::vector<std::string> against;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand(
      "verify",
      "Check that the audit log is intact: every entry is chained by hash to the one before it, so an entry "
      "changed, removed, inserted or reordered directly in the database file is found and named.\n\n"
      "Erased people's details (person delete) and entries deleted by retention (which leaves checkpoint "
      "entries) are accounted for and keep the chain valid. Whoever can write the database could rebuild the "
      "whole chain, so compare with a backup too: every backup manifest records the chain head, and "
      "--against checks the live log still holds it (an edit or truncation after that backup is found).\n\n"
      "Exit codes: 0 intact; 1 not chained yet (a database from before the chain: the next audited change "
      "starts it); 3 broken (the problems are listed, the first break first); 4 archive not found.\n\n"
      "Examples:\n"
      "  facecrowd audit verify\n"
      "  facecrowd audit verify --against latest --json");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_option("--against", opts->against,
                  "a backup (archive path or name in --backup-dir, an extracted folder, or latest) whose recorded "
                  "chain head the live log must still hold; repeatable");
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &globals] {
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    std::set<std::string> erased;
    for (const auto& record : ErasureLedger(globals.data_dir).read()) erased.insert(record.person_id);
    AuditVerifyReport report;
    {
      auto tx = db->read();
      report = verify_audit_chain(tx, erased);
    }
    for (const auto& input : opts->against) {
      fs::path archive = BackupCatalog(globals.backup_dir).resolve(input, opts->db);
      Manifest m = manifest_of(archive);
      check_against_recorded_head(report, m.audit_chain_seq, m.audit_chain_hash, archive.filename().string());
    }
    globals.exit_code = report.exit_code();
    if (opts->json) {
      std::cout << report.to_json().dump(2) << "\n";
      return;
    }
    auto j = report.to_json();
    std::cout << j["status"].get<std::string>() << ": " << report.entries << " audit entries, " << report.chained
              << " chained (head seq " << report.head.seq << "), " << report.scrubbed << " with erased details, "
              << report.accounted_gap << " deleted by retention under " << report.checkpoints << " checkpoints\n";
    if (report.not_chained_yet)
      std::cout << "the log was written before the audit chain existed; the next audited change starts the chain\n";
    for (const auto& line : report.against) std::cout << "against " << line << "\n";
    for (const auto& p : report.problems) std::cout << p.kind << ": " << p.message << "\n";
  });
}

}  // namespace facecrowd
