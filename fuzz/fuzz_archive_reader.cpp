// The archive reader and the restore scan together, as restore and verify run them: the bytes as a
// .tar.gz, every member checked, the manifest compared. A facecrowd::Error is the expected refusal;
// anything else (a crash, a sanitizer report, another exception) is a finding.
#include "backup/restore_scan.h"
#include "core/error.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facecrowd;
  std::string path = fuzz::as_file(data, size);
  RestoreScan::Callbacks callbacks;
  callbacks.wants = [](const std::string&) { return true; };
  callbacks.on_document = [](const std::string&, const uint8_t*, size_t, int64_t) {};
  callbacks.on_oplog_entry = [](OplogEntry) {};
  RestoreScan scan("fuzz", "", callbacks);
  try {
    read_archive(path, scan);
    scan.finish(true);
  } catch (const Error&) {
  }
  return 0;
}
