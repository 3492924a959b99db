// The one way facecrowd decodes and encodes image files: OpenCV's imgcodecs, reached through the module
// facecrowd-imgcodecs.so (codecs/imgcodecs_module_abi.h says why it is a module), so that a command that never
// touches pixels (`--version`, backup, restore, `oplog ship`) does not load imgcodecs and its ~100 libraries.
// Contract:
//  - imdecode / imencode do what cv::imdecode / cv::imencode do (same formats, flags, results and
//    cv::Exception on OpenCV's errors); the first call loads the module, once per process, thread-safely.
//  - The module is looked for beside the executable (the directory of /proc/self/exe, its real path, where
//    the build and the Dockerfile put it); a program that lies inside the build folder the module was built
//    in (the tests and benchmarks, in its sub-folders) then looks in that folder. A copied or installed
//    binary does not fall back to the build folder. The first file found is loaded; a load that fails is
//    not retried elsewhere.
//  - A module that is missing, cannot be loaded (e.g. a library it needs is absent) or was built for another
//    OpenCV or interface version is Error(kNotFound): an installation problem, like a missing model file,
//    naming the file(s) looked for, the reason, and the remedy. A later call tries again.
//  - The flag enums (cv::IMREAD_*, cv::IMWRITE_*) come from <opencv2/imgcodecs.hpp>, included here for them
//    only: calling cv::imdecode / cv::imencode directly would not link into the binary.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace facecrowd::vision {

inline constexpr const char* kImageCodecsModuleName = "facecrowd-imgcodecs.so";

// cv::imdecode(bytes, flags): an empty Mat when OpenCV cannot decode them.
cv::Mat imdecode(std::string_view bytes, int flags);
// cv::imencode(ext, image, out, params): false when OpenCV cannot encode the image in that format.
bool imencode(const std::string& ext, const cv::Mat& image, std::vector<uchar>& out, const std::vector<int>& params = {});

// Loads the module now if it is not loaded yet (serve does at start, so that its first request is not
// slower and a missing module is reported at start-up) and returns the file loaded.
std::filesystem::path load_image_codecs();

// Where the module is looked for, in order (see the contract).
std::vector<std::filesystem::path> image_codecs_candidates();

// Loads the first of `candidates` that exists and checks its interface; returns the file loaded, or throws
// Error(kNotFound) as the contract says. load_image_codecs() uses it with image_codecs_candidates(); tests
// give their own. The handle is never closed (OpenCV's codecs keep static state).
std::filesystem::path open_image_codecs_module(const std::vector<std::filesystem::path>& candidates);

}  // namespace facecrowd::vision
