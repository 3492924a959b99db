// The mongodump reader of `facecrowd import` (backup/mongodump_reader.h) on any bytes: as a tar (any
// compression) or a `mongodump --archive` stream, staged into a scratch folder, then every staged
// collection walked as the import walks it. A facecrowd::Error is the expected refusal; anything else (a
// crash, a sanitizer report, another exception) is a finding.
#include <cstdlib>
#include <filesystem>

#include "backup/mongodump_reader.h"
#include "backup/staged_bson_reader.h"
#include "core/error.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facecrowd;
  namespace fs = std::filesystem;
  static const fs::path staging = [] {
    std::string pattern = (fs::temp_directory_path() / "fuzz-mongodump-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    return fs::path(pattern);
  }();
  std::string path = fuzz::as_file(data, size);
  try {
    MongoDump dump = stage_mongodump(path, staging);
    for (const auto& c : dump.collections) {
      StagedBsonReader reader(c.staged);
      const uint8_t* doc;
      size_t n;
      int64_t count = 0;
      while (reader.next(&doc, &n)) ++count;
      if (count != c.documents) std::abort();  // what was staged is what was counted
    }
  } catch (const Error&) {
  }
  for (const auto& e : fs::directory_iterator(staging)) fs::remove_all(e.path());
  return 0;
}
