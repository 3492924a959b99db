// Annotated photos: the photo with a box per face, the name (or "unknown") and a score written on it.
// Contract: annotate() returns a copy of `bgr` (same size) with the boxes drawn — green for recognised
// faces, red for unknown ones — and each label above its box (inside the image when the box touches the
// top edge). encode_jpeg() and write_jpeg() encodes at quality 90 and writes the file durably (Error(kIo) naming the path;
// Error(kUsage) when the path does not end in .jpg/.jpeg).
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace facecrowd {

struct FaceLabel {
  cv::Rect box;
  std::string text;  // e.g. "Barack Obama 0.87" or "unknown"
  bool known = false;
};

cv::Mat annotate(const cv::Mat& bgr, const std::vector<FaceLabel>& labels);
void check_jpeg_path(const std::filesystem::path& path);
void write_jpeg(const std::filesystem::path& path, const cv::Mat& bgr);
// The JPEG bytes (quality 90); Error(kInternal) when OpenCV cannot encode.
std::string encode_jpeg(const cv::Mat& bgr);

}  // namespace facecrowd
