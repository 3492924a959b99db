#include "vision/jpeg_integrity.h"

#include <turbojpeg.h>

#include <vector>

#include "vision/pass_costs.h"

namespace facecrowd::vision {

std::string jpeg_data_problem(std::string_view jpeg) {
  PassTimer timer(PassKind::kJpegCheck);
  tjhandle handle = tjInitDecompress();
  if (!handle) return "cannot start the JPEG decoder";
  struct Closer {
    tjhandle h;
    ~Closer() { tjDestroy(h); }
  } closer{handle};
  auto* data = reinterpret_cast<const unsigned char*>(jpeg.data());
  auto size = static_cast<unsigned long>(jpeg.size());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle, data, size, &width, &height, &subsampling, &colorspace) != 0)
    return tjGetErrorStr2(handle);
  tjscalingfactor eighth{1, 8};
  int w = TJSCALED(width, eighth), h = TJSCALED(height, eighth);
  std::vector<unsigned char> out(size_t(w) * size_t(h) * 3);
  if (tjDecompress2(handle, data, size, out.data(), w, 0, h, TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
    return tjGetErrorStr2(handle);
  return "";
}

}  // namespace facecrowd::vision
