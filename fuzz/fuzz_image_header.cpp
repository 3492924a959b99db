// The image header reader: any bytes give a header or nullopt, never a crash; a header's dimensions are
// positive.
#include <cstdlib>

#include "vision/image_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto header = facecrowd::vision::read_image_header(std::string_view(reinterpret_cast<const char*>(data), size));
  if (header && (header->width < 0 || header->height < 0)) std::abort();
  return 0;
}
