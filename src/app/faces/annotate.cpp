#include "app/faces/annotate.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/files.h"
#include "vision/image_codecs.h"

namespace facecrowd {

cv::Mat annotate(const cv::Mat& bgr, const std::vector<FaceLabel>& labels) {
  cv::Mat out = bgr.clone();
  // Line and text scale with the photo, so labels stay legible on a 4000 px group photo.
  const int side = std::max(out.cols, out.rows);
  const int thickness = std::max(2, side / 400);
  const double font_scale = std::max(0.5, side / 1400.0);
  for (const auto& l : labels) {
    const cv::Scalar colour = l.known ? cv::Scalar(40, 200, 40) : cv::Scalar(40, 40, 230);
    cv::rectangle(out, l.box, colour, thickness);
    int baseline = 0;
    cv::Size text = cv::getTextSize(l.text, cv::FONT_HERSHEY_SIMPLEX, font_scale, std::max(1, thickness / 2), &baseline);
    int top = l.box.y - text.height - baseline - thickness;
    if (top < 0) top = std::min(out.rows - text.height - baseline, l.box.y + thickness);
    int left = std::clamp(l.box.x, 0, std::max(0, out.cols - text.width));
    cv::rectangle(out, cv::Rect(left, top, text.width, text.height + baseline), colour, cv::FILLED);
    cv::putText(out, l.text, cv::Point(left, top + text.height), cv::FONT_HERSHEY_SIMPLEX, font_scale,
                cv::Scalar(255, 255, 255), std::max(1, thickness / 2), cv::LINE_AA);
  }
  return out;
}

void check_jpeg_path(const std::filesystem::path& path) {
  require_output_extension(path, "--annotate", {".jpg", ".jpeg"}, "JPEG");
}

std::string encode_jpeg(const cv::Mat& bgr) {
  std::vector<uchar> bytes;
  if (!vision::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 90}))
    throw Error(ExitCode::kInternal, "cannot encode the annotated photo as JPEG");
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void write_jpeg(const std::filesystem::path& path, const cv::Mat& bgr) {
  check_jpeg_path(path);
  std::vector<uchar> bytes;
  if (!vision::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 90}))
    throw Error(ExitCode::kInternal, "cannot encode the annotated photo as JPEG for '" + path.string() + "'");
  write_file_durably(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace facecrowd
