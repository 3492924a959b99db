// Synthetic JPEG images for demo data (libjpeg-turbo). Smooth colour noise with fine grain, so files have
// the sizes real photos have (tens of KB) without shipping any real faces. Not meant to be recognised.
#pragma once

#include <string>

#include "devtools/demo_random.h"

namespace facecrowd {

struct SyntheticImageSpec {
  int width = 320;
  int height = 240;
  bool color = true;   // false: 8-bit grayscale (density maps)
  int grain = 40;      // amplitude of per-pixel noise, 0..255; more grain, bigger file
  int cell = 24;       // size in pixels of the smooth noise's cells
  int quality = 85;    // JPEG quality
};

// A JPEG file's bytes. Error(kInternal) if libjpeg-turbo fails.
std::string synthetic_jpeg(DemoRandom& random, const SyntheticImageSpec& spec);

}  // namespace facecrowd
