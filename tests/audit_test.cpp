// Audit entries: written with the change they describe; listed newest first through the indexes.
#include <gtest/gtest.h>

#include <cstdlib>

#include "app/records/audit.h"
#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr UnixMillis kT0 = 1772400000000;  // 2026-03-01T21:20:00Z

struct Fixture {
  TempDir tmp;
  DataDir dir = DataDir::open(tmp.path() / "data");
  std::unique_ptr<Database> db = Database::open(dir, "face-recognition");

  void add(UnixMillis t, const std::string& action, const std::string& target, const std::string& outcome = "ok") {
    auto tx = db->write();
    append_audit(tx, AuditEntry{.action = action, .target = target, .outcome = outcome, .actor = "ann",
                                .details = {{"n", 1}}, .timestamp = t});
    tx.commit();
  }
};

std::vector<std::string> actions(const std::vector<Document>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.to_json()["action"].get<std::string>());
  return out;
}

TEST(Audit, EntryCommitsOrRollsBackWithTheChange) {
  Fixture f;
  {
    auto tx = f.db->write();
    tx.insert("users", Document::from_json({{"username", "bob"}}));
    append_audit(tx, AuditEntry{.action = "user.create", .target = "bob"});
  }  // rolled back
  {
    auto r = f.db->read();
    EXPECT_EQ(r.count("users"), 0);
    EXPECT_EQ(r.count("auditlogs"), 0);
  }
  {
    auto tx = f.db->write();
    tx.insert("users", Document::from_json({{"username", "bob"}}));
    append_audit(tx, AuditEntry{.action = "user.create", .target = "bob"});
    tx.commit();
  }
  auto r = f.db->read();
  EXPECT_EQ(r.count("users"), 1);
  EXPECT_EQ(r.count("auditlogs"), 1);
  EXPECT_EQ(r.oplog_range().entries, 2);
}

TEST(Audit, DocumentHasTheOperatorsFieldsAndActorDefaultsToUser) {
  Fixture f;
  std::string id;
  const char* saved = std::getenv("USER");
  std::string saved_user = saved ? saved : "";
  ::setenv("USER", "carol", 1);
  {
    auto tx = f.db->write();
    id = append_audit(tx, AuditEntry{.action = "export.run", .target = "attendances", .details = {{"documents", 3}}});
    tx.commit();
  }
  ::unsetenv("USER");
  EXPECT_EQ(default_audit_actor(), "cli");
  if (saved) ::setenv("USER", saved_user.c_str(), 1);
  auto r = f.db->read();
  auto doc = r.get("auditlogs", id)->to_json();
  EXPECT_EQ(doc["actor"], "carol");
  EXPECT_EQ(doc["action"], "export.run");
  EXPECT_EQ(doc["target"], "attendances");
  EXPECT_EQ(doc["outcome"], "ok");
  EXPECT_EQ(doc["clientAddress"], "local");
  EXPECT_EQ(doc["details"]["documents"], 3);
  EXPECT_TRUE(doc["timestamp"].contains("$date"));
}

TEST(Audit, BadOutcomeOrDetailsAreRefused) {
  Fixture f;
  auto tx = f.db->write();
  EXPECT_THROW(append_audit(tx, AuditEntry{.action = "x", .outcome = "maybe"}), Error);
  EXPECT_THROW(append_audit(tx, AuditEntry{.action = "x", .details = nlohmann::json::array()}), Error);
}

TEST(Audit, ListIsNewestFirstAndFilters) {
  Fixture f;
  f.add(kT0 + 1000, "auth.login", "ann");
  f.add(kT0 + 3000, "person.delete", "p1");
  f.add(kT0 + 2000, "auth.login", "bob", "failed");
  f.add(kT0 + 4000, "retention.run", "database face-recognition");
  auto r = f.db->read();
  EXPECT_EQ(actions(list_audit(r, {})),
            (std::vector<std::string>{"retention.run", "person.delete", "auth.login", "auth.login"}));
  EXPECT_EQ(actions(list_audit(r, {.since = kT0 + 2000})),
            (std::vector<std::string>{"retention.run", "person.delete", "auth.login"}));
  EXPECT_EQ(actions(list_audit(r, {.since = kT0 + 2000, .until = kT0 + 3000})),
            (std::vector<std::string>{"person.delete", "auth.login"}));
  auto logins = list_audit(r, {.action = "auth.login"});
  ASSERT_EQ(logins.size(), 2u);
  EXPECT_EQ(logins[0].to_json()["target"], "bob");
  EXPECT_EQ(list_audit(r, {.target = "p1"}).size(), 1u);
  EXPECT_EQ(list_audit(r, {.limit = 1}).size(), 1u);
}

TEST(Audit, CliListsSinceATimeAsJsonAndRejectsAMalformedSince) {
  Fixture f;
  f.add(kT0, "auth.login", "ann");
  f.add(kT0 + 60'000, "person.delete", "p1");
  f.add(kT0 + 120'000, "backup.create", "b1");
  f.db.reset();
  std::string data = "--data '" + (f.tmp.path() / "data").string() + "' ";
  auto res = run_facecrowd(data + "audit list --since " + format_iso8601(kT0 + 60'000) + " --json");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  auto out = nlohmann::json::parse(res.out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["action"], "backup.create");
  EXPECT_EQ(out[1]["action"], "person.delete");

  res = run_facecrowd(data + "audit list --action auth.login");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_NE(res.out.find("auth.login"), std::string::npos);
  EXPECT_EQ(res.out.find("person.delete"), std::string::npos);

  res = run_facecrowd(data + "audit list --since yesterday-ish");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("--since 'yesterday-ish'"), std::string::npos) << res.err;
}

}  // namespace
}  // namespace facecrowd
