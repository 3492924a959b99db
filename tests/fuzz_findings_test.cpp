// Regression tests for what the libFuzzer harnesses (fuzz/, bench/fuzz.sh) found. Each input that made a
// harness report a crash, a leak or undefined behaviour is kept under tests/fixtures/ (the archives also
// run through ArchiveHostile.FilesFoundByFuzzingAreRefused) and its effect is asserted here in the normal
// build, without sanitizers: what the sanitizer saw must show as behaviour (a descriptor left open, a
// wrong verdict, an exit code).
#include <gtest/gtest.h>

#include "app/records/document_filter.h"
#include "backup/restore.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

fs::path fixture(const std::string& name) {
  return fs::path(FACECROWD_SOURCE_DIR) / "tests" / "fixtures" / "hostile_archives" / name;
}

// fuzz_archive_reader, LeakSanitizer, 42 executions: a file that does not start with the gzip signature
// was refused by the gzip reader's constructor after it had opened the file and started zlib, and a
// throwing constructor runs no destructor: every refused file leaked a descriptor and 7 KB.
TEST(FuzzFindings, RefusingAFileThatIsNotGzipLeavesNoDescriptorOpen) {
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup";
  fill(data, 2);
  fs::create_directories(backups);
  fs::path input = backups / "backup_face-recognition_20240103_000000.tar.gz";
  write_text(input, read_text(fixture("fuzz_not_gzip_leak.bin")));
  RestoreOptions o;
  o.backup_dir = backups;
  o.dry_run = true;
  expect_error([&] { restore_backup(data, input.string(), o); }, ExitCode::kBadInput, {"not a gzip file"});
  size_t before = open_descriptors();
  for (int i = 0; i < 10; ++i)
    expect_error([&] { restore_backup(data, input.string(), o); }, ExitCode::kBadInput, {"not a gzip file"});
  EXPECT_EQ(open_descriptors(), before);
}

// fuzz_document_filter, UndefinedBehaviorSanitizer, on the seed {"archived": true}: the values a path
// reaches were kept in a std::vector<bson_iter_t>, which template arguments allocate without the 128-byte
// alignment libbson's typedef declares, so every comparison read a misaligned iterator. The misalignment
// shows only under UBSan (the harness runs clean now); this guards the behaviour around the fix: matching
// through the stored candidates, for a plain field, an array's elements and a missing field.
TEST(FuzzFindings, FilterConditionsCompareEveryValueAPathReaches) {
  auto doc = Document::from_json({{"_id", "a1"}, {"archived", true}, {"tags", {"x", "y"}}, {"n", 3}});
  auto matches = [&](const std::string& query) { return DocumentFilter::parse(query, "--query").matches(doc.get()); };
  EXPECT_TRUE(matches(R"({"archived": true})"));
  EXPECT_FALSE(matches(R"({"archived": false})"));
  EXPECT_TRUE(matches(R"({"tags": "y"})"));
  EXPECT_TRUE(matches(R"({"tags": {"$in": ["z", "x"]}})"));
  EXPECT_TRUE(matches(R"({"n": {"$gt": 2, "$lte": 3}})"));
  EXPECT_TRUE(matches(R"({"missing": null})"));
  EXPECT_FALSE(matches(R"({"missing": {"$exists": true}})"));
}

}  // namespace
}  // namespace facecrowd
