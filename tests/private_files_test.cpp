// Private by default (issue 15.1): with umask 000, every file and folder a full CLI session creates is
// 0600/0700; `backups status` warns about a data or backup directory others can read, naming the chmod;
// require_private_paths (for serve) refuses one unless explicitly allowed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/private_mode.h"
#include "face_test_support.h"
#include "test_support.h"

namespace facecrowd {
namespace {

// Everything under `root` (itself included) whose mode is not exactly 0700 (folders) or 0600 (files).
std::vector<std::string> not_private(const fs::path& root) {
  std::vector<std::string> out;
  auto check = [&](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return;
    mode_t want = S_ISDIR(st.st_mode) ? 0700 : 0600;
    if ((st.st_mode & 07777) != want) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04o", unsigned(st.st_mode & 07777));
      out.push_back(p.string() + " " + buf);
    }
  };
  check(root);
  for (const auto& e : fs::recursive_directory_iterator(root)) check(e.path());
  return out;
}

TEST(PrivateMode, FindsWhatOthersCanReadAndNamesTheFix) {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::create_directories(data / "db");
  write_text(data / "db" / "gen.sqlite", "x");
  write_text(data / "ok.json", "x");
  ::chmod(data.c_str(), 0755);
  ::chmod((data / "db" / "gen.sqlite").c_str(), 0644);
  auto exposed = find_exposed_paths({data});
  ASSERT_EQ(exposed.size(), 2u);
  EXPECT_EQ(exposed[0].path, data);
  EXPECT_EQ(exposed[0].mode, 0755u);
  EXPECT_EQ(exposed[0].fix(), "chmod 700 '" + data.string() + "'");
  EXPECT_EQ(exposed[1].path, data / "db" / "gen.sqlite");
  EXPECT_EQ(exposed[1].fix(), "chmod 600 '" + (data / "db" / "gen.sqlite").string() + "'");
  auto text = describe_exposed_paths({data}, exposed);
  EXPECT_NE(text.find("chmod -R go-rwx '" + data.string() + "'"), std::string::npos) << text;
  EXPECT_NE(text.find("(0644)"), std::string::npos) << text;

  try {
    require_private_paths({data}, false, "server.allow_shared_permissions");
    FAIL() << "an exposed data directory was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find("server.allow_shared_permissions"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chmod -R go-rwx"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(require_private_paths({data}, true, "server.allow_shared_permissions"));
  ::chmod(data.c_str(), 0700);
  ::chmod((data / "db" / "gen.sqlite").c_str(), 0600);
  EXPECT_TRUE(find_exposed_paths({data, tmp.path() / "missing"}).empty());
  EXPECT_NO_THROW(require_private_paths({data}, false, "x"));
}

TEST(PrivateMode, BackupsStatusWarnsAboutAnExposedDataOrBackupDirectory) {
  TempDir tmp;
  const std::string env = "FACECROWD_DATA='" + (tmp.path() / "data").string() + "' FACECROWD_BACKUP_DIR='" +
                          (tmp.path() / "backup").string() + "'";
  ASSERT_EQ(run_facecrowd("demo-data --users 1 --profiles 2 --attendances 3 --crowdcounts 1 --auditlogs 3 --image-mb 1",
                          env).exit_code, 0);
  ASSERT_EQ(run_facecrowd("backup", env).exit_code, 0);
  auto ok = nlohmann::json::parse(run_facecrowd("backups status --json", env).out);
  for (const auto& c : ok["checks"])
    if (c["name"] == "permissions") {
      EXPECT_EQ(c["status"], "OK") << c.dump();
    }

  ::chmod((tmp.path() / "backup").c_str(), 0755);
  auto r = run_facecrowd("backups status --json", env);
  auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& c : j["checks"]) {
    if (c["name"] != "permissions") continue;
    found = true;
    EXPECT_EQ(c["status"], "WARNING");
    EXPECT_NE(c["message"].get<std::string>().find((tmp.path() / "backup").string()), std::string::npos);
    EXPECT_NE(c["message"].get<std::string>().find("chmod -R go-rwx"), std::string::npos);
  }
  EXPECT_TRUE(found) << r.out;
  EXPECT_GE(r.exit_code, 1);
}

// The test: a whole session under umask 000 leaves nothing group or others can read.
TEST(PrivateMode, AFullCliSessionUnderUmaskZeroCreatesOnlyPrivateFilesAndFolders) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", backup = tmp.path() / "backup", out = tmp.path() / "out",
                 scratch = tmp.path() / "tmp", offsite = tmp.path() / "offsite";
  // The session's own output folder, as an operator would make it with their umask.
  fs::create_directories(out);
  fs::create_directories(scratch);
  ::chmod(out.c_str(), 0700);
  ::chmod(scratch.c_str(), 0700);
  const std::string env = "umask 000; FACECROWD_DATA='" + data.string() + "' FACECROWD_BACKUP_DIR='" +
                          backup.string() + "' FACECROWD_MODELS='" + face_models_dir().string() + "' TMPDIR='" +
                          scratch.string() + "'";
  auto run = [&](const std::string& args) {
    auto r = run_facecrowd(args, env);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r;
  };
  run("demo-data --users 2 --profiles 3 --attendances 20 --crowdcounts 3 --auditlogs 10 --image-mb 1");
  // An encrypted off-site directory target: its key file, the target config, and every push below.
  run("target keygen '" + (out / "backup.key").string() + "'");
  run("target set '" + offsite.string() + "' --encryption key --key-file '" + (out / "backup.key").string() + "'");
  run("users key add gate-camera");
  std::string person;
  const bool models = face_skip_reason().empty();
  if (models) {
    auto enrolled = nlohmann::json::parse(run("enroll --name 'Barack Obama' " + identity("obama", "obama.jpg") + " --json").out);
    person = enrolled.value("profileId", "");
    run("recognize " + group("couple.jpg") + " --session s1 --annotate '" + (out / "annotated.jpg").string() + "'");
    fs::path crowd;
    for (const auto& e : fs::recursive_directory_iterator(shared_data_dir() / "crowd"))
      if (e.path().extension() == ".jpg") {
        crowd = e.path();
        break;
      }
    if (!crowd.empty() && fs::exists(face_models_dir() / "crowd_density.onnx"))
      run("crowd '" + crowd.string() + "' --location gate --density-map '" + (out / "density.png").string() + "'");
  }
  run("backup");
  run("oplog ship");
  run("export --collection attendances --out '" + (out / "attendances.jsonl").string() + "'");
  run("restore latest --drop");
  run("retention run");
  if (!person.empty()) run("person delete " + person);
  run("backup");
  run("audit verify");
  EXPECT_TRUE(fs::exists(offsite)) << "the backups were not pushed off-site";
  for (const fs::path& root : {data, backup, out, scratch, offsite}) {
    auto bad = not_private(root);
    std::string list;
    for (const auto& b : bad) list += b + "\n";
    EXPECT_TRUE(bad.empty()) << "not private under " << root << ":\n" << list;
  }
  if (!models) GTEST_SKIP() << "enroll, recognize and crowd not run: " << face_skip_reason();
}

}  // namespace
}  // namespace facecrowd
