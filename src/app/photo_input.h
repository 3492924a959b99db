// A photo given on the command line (or uploaded), read once: its bytes, sha256, content type and the
// decoded upright BGR image. Contract: read_photo() throws Error(kNotFound) when the file is absent,
// Error(kBadInput) naming the file when it is not a regular file (FIFO, device), larger than
// kMaxPhotoBytes, a JPEG whose data decodes with a libjpeg warning (vision/jpeg_integrity.h), empty, not an image, truncated
// or otherwise undecodable (vision/image_loader.h), and Error(kIo) when it cannot be read.
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>

#include "vision/image_loader.h"

namespace facecrowd {

inline constexpr uintmax_t kMaxPhotoBytes = 50u << 20;  // 50 MiB: the read stops there (DESIGN inv. 7)

struct Photo {
  std::filesystem::path path;
  std::string bytes;
  std::string sha256;        // hex
  std::string content_type;  // "image/jpeg", "image/png", … from the header
  cv::Mat bgr;               // upright (EXIF applied)
};

// The file name ends in an image extension facecrowd reads (.jpg .jpeg .png .bmp .webp .tif .tiff, any
// case): how folder scans (eval) pick their images.
bool has_image_extension(const std::filesystem::path& path);

Photo read_photo(const std::filesystem::path& path, const vision::ImageLimits& limits = {});

// The same checks and decoding for bytes that arrived some other way (an HTTP upload); `name` (the
// client's file name, never opened) labels errors and the stored file.
Photo decode_photo(std::string bytes, const std::filesystem::path& name, const vision::ImageLimits& limits = {});

// An image given as bytes (an upload) with the name it came under.
struct ImageBytes {
  std::string name;
  std::string bytes;
};

}  // namespace facecrowd
