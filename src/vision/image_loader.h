// Image bytes -> an upright 8-bit BGR cv::Mat, or Error(kBadInput) naming the input and the reason.
// Contract:
//  - The header is read first (vision/image_header.h); an image above `max_megapixels`, of an unknown
//    format, or with a cut-short header is refused before any pixel is decoded.
//  - A JPEG whose entropy-coded data has no End Of Image marker is refused as truncated (libjpeg would
//    otherwise fill the missing part with grey and succeed).
//  - The EXIF orientation (1..8) is applied, so the result is the image as a viewer shows it.
//  - Grey (and 16-bit) images become 8-bit BGR; an alpha channel is composited onto white (what a viewer
//    shows for a transparent background); CMYK JPEGs are converted by libjpeg/OpenCV to BGR.
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace facecrowd::vision {

struct ImageLimits {
  double max_megapixels = 100.0;  // width * height / 1e6 above this is refused before decoding
};

// `name` is the file name (or other label) used in error messages.
cv::Mat decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits = {});
// The same, for bytes whose pixels the caller already decoded as stored (`decoded`: any depth and channel
// count imdecode(IMREAD_UNCHANGED) gives, before EXIF orientation; jpeg_integrity.h's check does that):
// the same checks, errors and result, without decoding a second time. An empty `decoded`: decoded here.
cv::Mat decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits, cv::Mat decoded);
// Reads the file (Error(kIo) when unreadable, kNotFound when absent) and decodes it.
cv::Mat load_image(const std::filesystem::path& path, const ImageLimits& limits = {});

// Applies EXIF orientation `orientation` (1..8) to `image` in place.
void apply_exif_orientation(cv::Mat& image, int orientation);

}  // namespace facecrowd::vision
