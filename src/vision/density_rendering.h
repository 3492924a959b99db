// What a density map looks like on disk and to an operator.
// Contract:
//  - render_heatmap(bgr, cells) returns a copy of the image (same size) with the density drawn over it:
//    the map is upsampled bilinearly to the image, coloured with OpenCV's JET scale and blended in with an
//    opacity that grows with the density, so empty areas stay the photo. The scale's top is the map's
//    densest cell, but never below kHeatmapFloor heads per cell, so an almost empty map stays clear.
//  - encode_density_tiff(cells) is the raw map, lossless: a one-channel 32-bit float TIFF (one pixel per
//    8x8 cell; any TIFF reader, e.g. cv2.imread(path, cv2.IMREAD_UNCHANGED) or tifffile, reads it back).
//  - encode_png(bgr) is the heat map's file format.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace facecrowd::vision {

inline constexpr float kHeatmapFloor = 0.05f;

cv::Mat render_heatmap(const cv::Mat& bgr, const cv::Mat& cells);
std::string encode_density_tiff(const cv::Mat& cells);
std::string encode_png(const cv::Mat& bgr);

}  // namespace facecrowd::vision
