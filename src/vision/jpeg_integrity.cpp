#include "vision/jpeg_integrity.h"

#include <turbojpeg.h>

#include <vector>

#include "vision/pass_costs.h"

namespace facecrowd::vision {
namespace {

struct Decompressor {
  tjhandle h = tjInitDecompress();
  ~Decompressor() {
    if (h) tjDestroy(h);
  }
};

}  // namespace

CheckedJpeg decode_checked_jpeg(std::string_view jpeg) {
  PassTimer timer(PassKind::kJpegCheck);
  CheckedJpeg out;
  Decompressor d;
  if (!d.h) {
    out.problem = "cannot start the JPEG decoder";
    return out;
  }
  auto* data = reinterpret_cast<const unsigned char*>(jpeg.data());
  auto size = static_cast<unsigned long>(jpeg.size());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(d.h, data, size, &width, &height, &subsampling, &colorspace) != 0) {
    out.problem = tjGetErrorStr2(d.h);
    return out;
  }
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    // TurboJPEG gives no BGR for these: check at 1/8 scale, the caller decodes.
    tjscalingfactor eighth{1, 8};
    int w = TJSCALED(width, eighth), h = TJSCALED(height, eighth);
    std::vector<unsigned char> pixels(size_t(w) * size_t(h) * 4);
    if (tjDecompress2(d.h, data, size, pixels.data(), w, 0, h, TJPF_CMYK, TJFLAG_STOPONWARNING) != 0)
      out.problem = tjGetErrorStr2(d.h);
    return out;
  }
  cv::Mat bgr(height, width, CV_8UC3);
  if (tjDecompress2(d.h, data, size, bgr.data, width, int(bgr.step), height, TJPF_BGR, TJFLAG_STOPONWARNING) != 0) {
    out.problem = tjGetErrorStr2(d.h);
    return out;
  }
  out.bgr = bgr;
  return out;
}

}  // namespace facecrowd::vision
