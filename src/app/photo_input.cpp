#include "app/photo_input.h"

#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/input_files.h"
#include "core/sha256.h"
#include "vision/image_header.h"
#include "vision/jpeg_integrity.h"

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
  return decode_photo(read_regular_file(path, kMaxPhotoBytes, "image"), path, limits);
}

Photo decode_photo(std::string bytes, const std::filesystem::path& name, const vision::ImageLimits& limits) {
  if (bytes.size() > kMaxPhotoBytes)
    throw Error(ExitCode::kBadInput, "image '" + name.string() + "': " + std::to_string(bytes.size()) +
                                         " bytes is above the limit of " + std::to_string(kMaxPhotoBytes) + " bytes");
  Photo photo;
  photo.path = name;
  photo.bytes = std::move(bytes);
  auto header = vision::read_image_header(photo.bytes);
  // The photo is stored as evidence and as a source of embeddings: a damaged one is refused, not kept.
  // Checked before decoding (so libjpeg's own warning is not printed first) but only for a complete JPEG
  // within the size limit: decode_image reports a truncated or oversized one in its own words. The check
  // is a full decode whose pixels decode_image then uses (one decode per photo, not two).
  cv::Mat decoded;
  if (header && header->format == vision::ImageFormat::kJpeg && header->jpeg_complete && header->width > 0 &&
      header->height > 0 && double(header->width) * double(header->height) / 1e6 <= limits.max_megapixels) {
    vision::CheckedJpeg checked = vision::decode_checked_jpeg(photo.bytes);
    if (!checked.problem.empty())
      throw Error(ExitCode::kBadInput, "image '" + name.string() + "': corrupt JPEG data (" + checked.problem +
                                           "); the decoder would fill the damage with grey. Use an undamaged copy");
    decoded = std::move(checked.bgr);
  }
  photo.bgr = vision::decode_image(photo.bytes, name.string(), limits, std::move(decoded));
  photo.sha256 = sha256_hex(photo.bytes);
  photo.content_type = header ? content_type_of(header->format) : "application/octet-stream";
  return photo;
}

}  // namespace facecrowd
