// `facecrowd serve` and private data (issue 15): it refuses to start on a data or backup directory that
// other users can read, naming the path and the chmod (exit 6), unless the operator sets
// "allowSharedPermissions" (config file) or FACECROWD_ALLOW_SHARED_PERMISSIONS=1, and then it starts with a
// warning; it runs with core dumps off.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "s3_test_support.h"  // ScopedEnv
#include "server_test_support.h"
#include "test_support.h"

namespace facecrowd {
namespace {

// A config file for serve on an ephemeral loopback port over `dir`/data and `dir`/backup.
fs::path write_config(const fs::path& dir, nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json c = {{"port", 0}, {"bind", "127.0.0.1"}, {"data", (dir / "data").string()},
                      {"backupDir", (dir / "backup").string()}, {"models", (fs::path(FACECROWD_SOURCE_DIR) / "models").string()}};
  c.merge_patch(extra);
  write_text(dir / "serve.json", c.dump(2));
  return dir / "serve.json";
}

void make_dir(const fs::path& p, fs::perms mode) {
  fs::create_directories(p);
  fs::permissions(p, mode, fs::perm_options::replace);
}

constexpr fs::perms kShared = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec;  // 0755

TEST(ServePermissions, ServeRefusesADataDirectoryOthersCanReadNamingThePathAndTheChmod) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  make_dir(data, kShared);
  auto config = write_config(tmp.path());
  // `timeout`: were the check missing, serve would run until killed (exit 124) instead of refusing.
  auto r = run_facecrowd("serve --config '" + config.string() + "'", "timeout 60");
  EXPECT_EQ(r.exit_code, int(ExitCode::kIo)) << r.out << r.err;
  EXPECT_NE(r.err.find("'" + data.string() + "' (0755)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chmod -R go-rwx '" + data.string() + "'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("allowSharedPermissions"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;

  // A private data directory with one file others can read (copied in with cp under umask 022).
  fs::permissions(data, fs::perms::owner_all, fs::perm_options::replace);
  write_text(data / "copied.json", "{}");
  fs::permissions(data / "copied.json", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read,
                  fs::perm_options::replace);
  auto file = run_facecrowd("serve --config '" + config.string() + "'", "timeout 60");
  EXPECT_EQ(file.exit_code, int(ExitCode::kIo)) << file.err;
  EXPECT_NE(file.err.find((data / "copied.json").string() + "' (0604)"), std::string::npos) << file.err;

  // The backup directory too, also when given by --backup-dir rather than the config file.
  fs::permissions(data / "copied.json", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  const fs::path backup = tmp.path() / "other-backup";
  make_dir(backup, kShared);
  auto b = run_facecrowd("--backup-dir '" + backup.string() + "' serve --config '" + config.string() + "'", "timeout 60");
  EXPECT_EQ(b.exit_code, int(ExitCode::kIo)) << b.err;
  EXPECT_NE(b.err.find("chmod -R go-rwx '" + backup.string() + "'"), std::string::npos) << b.err;
  EXPECT_EQ(b.err.find("chmod -R go-rwx '" + data.string() + "'"), std::string::npos) << "the private data dir is named: " << b.err;
}

TEST(ServePermissions, AllowSharedPermissionsInTheConfigStartsServeWithAWarningNamingThePaths) {
  TempDir tmp;
  // The backup directory is read by an uploader group: the operator's written decision.
  make_dir(tmp.path() / "backup", kShared);
  ServerUnderTest server(tmp.path(), {{"allowSharedPermissions", true}});
  ASSERT_TRUE(server.started()) << server.log();
  auto log = server.log();
  auto warn = log.find("\"level\":\"warn\"");
  ASSERT_NE(warn, std::string::npos) << log;
  const size_t start = log.rfind('\n', warn) == std::string::npos ? 0 : log.rfind('\n', warn) + 1;
  auto line = log.substr(start, log.find('\n', warn) - start);
  EXPECT_NE(line.find("allowSharedPermissions"), std::string::npos) << line;
  EXPECT_NE(line.find("chmod -R go-rwx '" + (tmp.path() / "backup").string() + "'"), std::string::npos) << line;
  auto c = server.client();
  EXPECT_EQ(http(c, "GET", "/health").status, 200);
  EXPECT_EQ(server.stop(), 0);
  // --print-config shows the setting.
  auto printed = run_facecrowd("serve --config '" + (tmp.path() / "serve.json").string() + "' --print-config");
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(nlohmann::json::parse(printed.out)["allowSharedPermissions"], true);
}

TEST(ServePermissions, TheEnvironmentOverrideStartsServeAndABadValueIsAUsageError) {
  TempDir tmp;
  make_dir(tmp.path() / "data", kShared);
  auto config = write_config(tmp.path());
  auto bad = run_facecrowd("serve --config '" + config.string() + "'", "FACECROWD_ALLOW_SHARED_PERMISSIONS=maybe timeout 60");
  EXPECT_EQ(bad.exit_code, int(ExitCode::kUsage)) << bad.err;
  EXPECT_NE(bad.err.find("FACECROWD_ALLOW_SHARED_PERMISSIONS"), std::string::npos) << bad.err;
  // Started with the variable (and an exposed backup directory; the helper makes data private).
  TempDir run;
  make_dir(run.path() / "backup", kShared);
  ScopedEnv allow(std::vector<std::pair<std::string, std::string>>{{"FACECROWD_ALLOW_SHARED_PERMISSIONS", "1"}});
  ServerUnderTest server(run.path());
  ASSERT_TRUE(server.started()) << server.log();
  EXPECT_NE(server.log().find("\"level\":\"warn\""), std::string::npos) << server.log();
  EXPECT_NE(server.log().find("chmod -R go-rwx '" + (run.path() / "backup").string() + "'"), std::string::npos) << server.log();
  EXPECT_EQ(server.stop(), 0);
}

TEST(ServePermissions, ServeRunsWithoutCoreDumps) {
  TempDir tmp;
  ServerUnderTest server(tmp.path());
  ASSERT_TRUE(server.started()) << server.log();
  // RLIMIT_CORE 0 (disable_core_dumps also clears PR_SET_DUMPABLE, which hands /proc/PID to root: a
  // non-root reader gets EACCES here, which proves it as well).
  std::ifstream limits("/proc/" + std::to_string(server.pid()) + "/limits");
  if (!limits) {
    EXPECT_EQ(errno, EACCES);
    return;
  }
  std::string line, core;
  while (std::getline(limits, line))
    if (line.rfind("Max core file size", 0) == 0) core = line;
  ASSERT_FALSE(core.empty());
  std::istringstream fields(core.substr(std::string("Max core file size").size()));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, "0") << core;
  EXPECT_EQ(hard, "0") << core;
}

}  // namespace
}  // namespace facecrowd
