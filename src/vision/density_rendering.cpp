#include "vision/density_rendering.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "vision/image_codecs.h"

namespace facecrowd::vision {
namespace {

std::string encode(const std::string& ext, const cv::Mat& image, const std::vector<int>& params = {}) {
  std::vector<uchar> bytes;
  if (!imencode(ext, image, bytes, params))
    throw Error(ExitCode::kInternal, "cannot encode a " + std::to_string(image.cols) + "x" +
                                         std::to_string(image.rows) + " image as " + ext);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

cv::Mat render_heatmap(const cv::Mat& bgr, const cv::Mat& cells) {
  CV_Assert(bgr.type() == CV_8UC3 && cells.type() == CV_32F);
  double top = 0;
  cv::minMaxLoc(cells, nullptr, &top);
  top = std::max<double>(top, kHeatmapFloor);
  cv::Mat level;  // 0..1 per pixel
  cv::resize(cells, level, bgr.size(), 0, 0, cv::INTER_LINEAR);
  level = cv::min(cv::max(level / top, 0.0), 1.0);
  cv::Mat level8, colour;
  level.convertTo(level8, CV_8U, 255.0);
  cv::applyColorMap(level8, colour, cv::COLORMAP_JET);
  cv::Mat out(bgr.size(), CV_8UC3);
  for (int y = 0; y < bgr.rows; ++y) {
    const auto* photo = bgr.ptr<cv::Vec3b>(y);
    const auto* heat = colour.ptr<cv::Vec3b>(y);
    const float* l = level.ptr<float>(y);
    auto* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      // Opacity rises quickly from 0 so that single heads in sparse scenes still show.
      float a = 0.7f * std::min(1.0f, 3.0f * l[x]);
      for (int c = 0; c < 3; ++c) o[x][c] = cv::saturate_cast<uchar>((1 - a) * photo[x][c] + a * heat[x][c]);
    }
  }
  return out;
}

std::string encode_density_tiff(const cv::Mat& cells) {
  CV_Assert(cells.type() == CV_32F);
  return encode(".tiff", cells);
}

std::string encode_png(const cv::Mat& bgr) { return encode(".png", bgr, {cv::IMWRITE_PNG_COMPRESSION, 6}); }

}  // namespace facecrowd::vision
