// The manifest parser. Property: whatever it accepts, it writes back (to_json) as a manifest it accepts
// again, unchanged; otherwise, a facecrowd::Error.
#include <cstdlib>

#include "backup/manifest.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facecrowd;
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    Manifest m = Manifest::parse(text, "fuzz");
    Manifest again = Manifest::parse(m.to_json().dump(), "fuzz again");
    if (again.to_json() != m.to_json()) std::abort();
  } catch (const Error&) {
  }
  return 0;
}
