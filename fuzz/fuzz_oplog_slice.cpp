// The oplog slice reader and the entry decoder, as point-in-time restore runs them.
#include "backup/oplog_slice.h"
#include "core/error.h"
#include "fuzz_input_file.h"
#include "store/oplog_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facecrowd;
  std::string path = fuzz::as_file(data, size);
  try {
    read_oplog_slice(path, [](std::string_view bytes) {
      OplogEntry e = decode_oplog_entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "fuzz");
      (void)e.collection();
      (void)e.o.id_key();
    });
  } catch (const Error&) {
  }
  return 0;
}
