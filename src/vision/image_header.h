// Image headers read without decoding: the format, the pixel dimensions and the EXIF orientation.
// Contract: read_image_header() looks only at the bytes it is given (never decodes pixels) and returns
// nullopt when the bytes are not one of the formats below or their header is cut short. It is how
// the loader refuses an oversized image (a 30000x30000 PNG) before allocating anything for it.
// Formats: JPEG (SOFn), PNG (IHDR), BMP, WebP (VP8, VP8L, VP8X), TIFF (IFD0), PNM (P1..P6).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace facecrowd::vision {

enum class ImageFormat { kJpeg, kPng, kBmp, kWebp, kTiff, kPnm };
const char* format_name(ImageFormat format);

struct ImageHeader {
  ImageFormat format;
  int64_t width = 0;
  int64_t height = 0;
  // EXIF orientation tag 1..8 (1 = upright; from a JPEG's APP1 "Exif" segment or TIFF IFD0), 1 when absent.
  int orientation = 1;
  // JPEG only: the End Of Image marker follows the entropy-coded data (false = the file is truncated).
  bool jpeg_complete = true;
  // JPEG only: Adobe/CMYK (4 components).
  int components = 0;
};

std::optional<ImageHeader> read_image_header(std::string_view bytes);

}  // namespace facecrowd::vision
