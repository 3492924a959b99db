// `facecrowd verify`: ok only when the archive is whole, matches its manifest and restores; never
// touches the live data directory.
#include <nlohmann/json.hpp>

#include "backup/verify.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct VerifyFixture {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  fs::path archive;
  VerifyFixture() {
    fill(data, 15);
    archive = backup(data, backups).archive;
  }
  VerifyReport verify(const std::string& input) {
    VerifyOptions o;
    o.backup_dir = backups;
    o.scratch_dir = tmp.path();
    return verify_backup(input, o);
  }
  CommandResult cli(const std::string& args) {
    return run_facecrowd("--data '" + data.string() + "' --backup-dir '" + backups.string() + "' verify " + args);
  }
};

TEST(Verify, AGoodArchivePassesEveryCheck) {
  VerifyFixture f;
  auto before = folder_listing(f.data / "face-recognition");
  auto report = f.verify("latest");
  EXPECT_TRUE(report.ok());
  std::vector<std::string> names;
  for (const auto& c : report.checks) {
    names.push_back(c.name);
    EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"tar structure", "manifest", "checksums", "document counts", "decoding",
                                             "test restore into a throwaway database", "file hashes",
                                             "oplog slices"}));
  EXPECT_EQ(folder_listing(f.data / "face-recognition"), before);
  EXPECT_EQ(DataDir::open(f.data).databases(), std::vector<std::string>{"face-recognition"});
  // The scratch data directory is gone.
  for (const auto& e : fs::directory_iterator(f.tmp.path()))
    EXPECT_EQ(e.path().filename().string().rfind("facecrowd-verify-", 0), std::string::npos);

  auto cli = f.cli("'" + f.archive.string() + "'");
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_NE(cli.out.find("ok      checksums"), std::string::npos) << cli.out;
  auto json = f.cli("latest --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["ok"], true);
}

TEST(Verify, ACorruptedMemberFails) {
  VerifyFixture f;
  TempDir work;
  fs::path folder = extract(f.archive, work.path() / "x");
  flip_byte(folder / "face-recognition" / "attendances.bson", 100);
  fs::path rebuilt = work.path() / f.archive.filename();
  repack(folder, rebuilt);
  auto report = f.verify(rebuilt.string());
  EXPECT_FALSE(report.ok());
  ASSERT_FALSE(report.checks.empty());
  EXPECT_NE(report.checks.back().detail.find("attendances.bson"), std::string::npos) << report.checks.back().detail;
  auto cli = f.cli("'" + rebuilt.string() + "'");
  EXPECT_EQ(cli.exit_code, int(ExitCode::kBadInput));
  EXPECT_NE(cli.out.find("FAILED"), std::string::npos) << cli.out;
}

TEST(Verify, ATruncatedArchiveFails) {
  VerifyFixture f;
  fs::resize_file(f.archive, fs::file_size(f.archive) - 100);
  auto report = f.verify(f.archive.string());
  EXPECT_FALSE(report.ok());
  auto cli = f.cli("latest");
  EXPECT_EQ(cli.exit_code, int(ExitCode::kBadInput)) << cli.out << cli.err;
  EXPECT_NE(cli.out.find("truncated"), std::string::npos) << cli.out;
}

TEST(Verify, AMissingArchiveIsNotFound) {
  VerifyFixture f;
  auto cli = f.cli("backup_face-recognition_19990101_000000.tar.gz");
  EXPECT_EQ(cli.exit_code, int(ExitCode::kNotFound)) << cli.err;
}

}  // namespace
}  // namespace facecrowd
