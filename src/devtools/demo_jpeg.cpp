#include "devtools/demo_jpeg.h"

#include <turbojpeg.h>

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace facecrowd {

std::string synthetic_jpeg(DemoRandom& random, const SyntheticImageSpec& spec) {
  const int channels = spec.color ? 3 : 1;
  const int w = spec.width, h = spec.height, cell = std::max(2, spec.cell);
  const int gw = w / cell + 2, gh = h / cell + 2;
  // A coarse grid of random colours, bilinearly interpolated: the smooth part of the picture.
  std::vector<float> grid(size_t(gw) * gh * channels);
  for (auto& v : grid) v = float(random.uniform(30, 225));
  std::vector<uint8_t> pixels(size_t(w) * h * channels);
  uint64_t bits = 0;
  int bits_left = 0;
  for (int y = 0; y < h; ++y) {
    int gy = y / cell;
    float fy = float(y % cell) / float(cell);
    for (int x = 0; x < w; ++x) {
      int gx = x / cell;
      float fx = float(x % cell) / float(cell);
      for (int c = 0; c < channels; ++c) {
        auto at = [&](int ix, int iy) { return grid[(size_t(iy) * gw + ix) * channels + c]; };
        float top = at(gx, gy) + (at(gx + 1, gy) - at(gx, gy)) * fx;
        float bottom = at(gx, gy + 1) + (at(gx + 1, gy + 1) - at(gx, gy + 1)) * fx;
        float v = top + (bottom - top) * fy;
        if (bits_left == 0) {
          bits = random.next();
          bits_left = 8;
        }
        int noise = int(bits & 0xff) - 128;
        bits >>= 8;
        --bits_left;
        v += float(noise * spec.grain) / 128.0f;
        pixels[(size_t(y) * w + x) * channels + c] = uint8_t(std::clamp(v, 0.0f, 255.0f));
      }
    }
  }
  tjhandle handle = tjInitCompress();
  if (!handle) throw Error(ExitCode::kInternal, "libjpeg-turbo: cannot initialise the compressor");
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  int rc = tjCompress2(handle, pixels.data(), w, 0, h, spec.color ? TJPF_RGB : TJPF_GRAY, &jpeg, &size,
                       spec.color ? TJSAMP_420 : TJSAMP_GRAY, spec.quality, TJFLAG_FASTDCT);
  std::string out;
  if (rc == 0) out.assign(reinterpret_cast<const char*>(jpeg), size);
  std::string message = rc == 0 ? "" : tjGetErrorStr2(handle);
  tjFree(jpeg);
  tjDestroy(handle);
  if (rc != 0) throw Error(ExitCode::kInternal, "libjpeg-turbo: cannot encode a synthetic image: " + message);
  return out;
}

}  // namespace facecrowd
