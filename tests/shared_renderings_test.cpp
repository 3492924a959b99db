// The JSON a CLI command prints with --json is the app's rendering, the one a server route can share
// (issue 10: front ends parse and print, nothing more): each test runs the real binary and compares its
// output with the app function's rendering of the same data.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "app/privacy/erasure.h"
#include "app/privacy/erasure_listing.h"
#include "app/recovery/backup_report.h"
#include "app/users/users.h"
#include "backup/backup_job.h"
#include "core/object_id.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr const char* kDb = "face-recognition";

struct World {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  std::string env = "FACECROWD_DATA=" + data.string() + " FACECROWD_BACKUP_DIR=" + backups.string();

  // Adds a profile without embeddings (erasure needs nothing more) and returns its id.
  std::string add_person(const std::string& name) {
    std::string id = new_object_id();
    auto db = Database::open(DataDir::open(data), kDb);
    auto w = db->write();
    w.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", id}}}, {"name", name}, {"embeddings", nlohmann::json::array()}}));
    w.commit();
    return id;
  }
  CommandResult cli(const std::string& args) const { return run_facecrowd(args, env); }
};

std::set<std::string> keys_of(const nlohmann::json& j) {
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  return keys;
}

TEST(SharedRenderings, PersonErasuresJsonIsTheAppsErasureListingWithAndWithoutReapply) {
  World w;
  std::string ann = w.add_person("Ann Example"), bob = w.add_person("Bob Example");
  ErasureOptions o;
  o.reason = "request 7";
  erase_person(w.data, ann, o);
  erase_person(w.data, bob, o);

  auto listed = w.cli("person erasures --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto app = list_erasures(w.data, w.backups).to_json();
  EXPECT_EQ(nlohmann::json::parse(listed.out), app);
  ASSERT_EQ(app["erasures"].size(), 2u);
  EXPECT_EQ(app["erasures"][0]["person_id"], ann);
  EXPECT_FALSE(app.contains("reapplied"));

  auto reapplied = w.cli("person erasures --reapply --json");
  ASSERT_EQ(reapplied.exit_code, 0) << reapplied.err;
  // Re-applying is idempotent, so the app's second run renders what the CLI's first one printed.
  auto app_reapplied = list_erasures(w.data, w.backups, std::string(kDb)).to_json();
  EXPECT_EQ(nlohmann::json::parse(reapplied.out), app_reapplied);
  EXPECT_EQ(app_reapplied["reapplied"]["records"], 2);
}

TEST(SharedRenderings, BackupJsonIsTheAppsBackupReportAndTheServersSummaryNamesTheSameArchiveWithoutItsPath) {
  World w;
  w.add_person("Ann Example");
  auto cli = w.cli("backup --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  auto printed = nlohmann::json::parse(cli.out);

  BackupOptions o;
  o.db = kDb;
  auto result = run_backup(DataDir::open(w.data), w.backups, o);
  auto report = backup_report_json(result);
  EXPECT_EQ(keys_of(printed), keys_of(report));
  EXPECT_EQ(printed["counts"], report["counts"]);
  EXPECT_EQ(printed["counts"]["faceprofiles"], 1);
  EXPECT_EQ(report["archive"], result.archive.string());

  auto summary = backup_summary_json(result);
  EXPECT_EQ(keys_of(summary), (std::set<std::string>{"archive", "bytes", "seconds", "counts", "warnings"}));
  EXPECT_EQ(summary["archive"], result.archive.filename().string());
  EXPECT_EQ(summary["archive"].get<std::string>().find('/'), std::string::npos);
  EXPECT_EQ(summary["counts"], report["counts"]);
}

TEST(SharedRenderings, UsersAddAndKeyListJsonAreTheAppsRenderings) {
  World w;
  w.add_person("Ann Example");  // creates the database
  // In a subshell: run_shell gives the whole line /dev/null as stdin, the pipe gives the binary the password.
  auto added = run_shell("(printf 'a-long-password-1\\n' | " + w.env + " " + FACECROWD_BINARY +
                         " users add ana --role operator --password-stdin --json)");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  auto printed = nlohmann::json::parse(added.out);
  EXPECT_EQ(printed, created_user_json(printed["id"].get<std::string>(), "ana", Role::kOperator));
  EXPECT_EQ(keys_of(printed), (std::set<std::string>{"id", "username", "role"}));

  ASSERT_EQ(w.cli("users key add gate-camera-1").exit_code, 0);
  auto keys = w.cli("users key list --json");
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  auto db = Database::open(DataDir::open(w.data), kDb);
  auto tx = db->read();
  auto app = list_api_keys(tx);
  EXPECT_EQ(nlohmann::json::parse(keys.out), app);
  ASSERT_EQ(app.size(), 1u);
  EXPECT_EQ(app[0]["name"], "gate-camera-1");
  EXPECT_EQ(list_users(tx).size(), 2u);  // the user is listed by users list, not by key list
}

}  // namespace
}  // namespace facecrowd
