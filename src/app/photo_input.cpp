#include "app/photo_input.h"

#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "vision/image_header.h"

namespace facecrowd {

namespace {
const char* content_type_of(vision::ImageFormat format) {
  switch (format) {
    case vision::ImageFormat::kJpeg: return "image/jpeg";
    case vision::ImageFormat::kPng: return "image/png";
    case vision::ImageFormat::kBmp: return "image/bmp";
    case vision::ImageFormat::kWebp: return "image/webp";
    case vision::ImageFormat::kTiff: return "image/tiff";
    case vision::ImageFormat::kPnm: return "image/x-portable-anymap";
  }
  return "application/octet-stream";
}
}  // namespace

bool has_image_extension(const std::filesystem::path& path) {
  static const std::set<std::string> known = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"};
  return known.count(lowercase_extension(path)) > 0;
}

Photo read_photo(const std::filesystem::path& path, const vision::ImageLimits& limits) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ExitCode::kNotFound, "image '" + path.string() + "': no such file");
  if (std::filesystem::is_directory(path, ec))
    throw Error(ExitCode::kBadInput, "image '" + path.string() + "': is a directory, not an image file");
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxPhotoBytes)
    throw Error(ExitCode::kBadInput, "image '" + path.string() + "': " + std::to_string(size) +
                                         " bytes is above the limit of " + std::to_string(kMaxPhotoBytes) + " bytes");
  Photo photo;
  photo.path = path;
  photo.bytes = read_file(path);
  photo.bgr = vision::decode_image(photo.bytes, path.string(), limits);
  photo.sha256 = sha256_hex(photo.bytes);
  auto header = vision::read_image_header(photo.bytes);
  photo.content_type = header ? content_type_of(header->format) : "application/octet-stream";
  return photo;
}

}  // namespace facecrowd
