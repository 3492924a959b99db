// The C interface between facecrowd and its image codecs module, facecrowd-imgcodecs.so (codecs/imgcodecs_module.cpp).
// Why a module: OpenCV's imgcodecs pulls GDAL, GDCM, OpenEXR, libtiff, openjp2 and their trees, 97 of the 154
// shared libraries the binary loaded, and about 70 ms of every process start (dynamic symbol lookup, mapping,
// GDCM's static initialisers), paid even by `facecrowd --version` and every cron `oplog ship`. Only the module
// links imgcodecs; vision/image_codecs.h dlopen()s it the first time a command decodes or encodes pixels.
// Contract:
//  - The module exports exactly the functions below, with C linkage (no name mangling to agree on).
//  - Both sides pass cv::Mat and std::vector by pointer: they are built together by one CMake build, with one
//    compiler and one libopencv_core, which facecrowd_imgcodecs_opencv_version() lets the loader check
//    (a module left over from another OpenCV is refused by name instead of crashing).
//  - No C++ exception crosses the boundary: an exception thrown inside OpenCV is caught in the module and its
//    fields are copied into a FacecrowdCodecFailure; the caller rethrows it as the same cv::Exception.
#pragma once

#include <cstddef>
#include <vector>

namespace cv {
class Mat;
}

// Raised when the functions' meaning or arguments change; the loader refuses a module of another version.
#define FACECROWD_IMGCODECS_ABI_VERSION 1

extern "C" {

// What a cv::Exception thrown in the module carried (truncated to the buffers).
struct FacecrowdCodecFailure {
  int code;
  int line;
  char err[1024];
  char func[128];
  char file[256];
};

// Results of decode and encode.
enum FacecrowdCodecResult {
  kFacecrowdCodecOk = 0,       // decode: *out holds the image; encode: *out holds the bytes and imencode gave true
  kFacecrowdCodecRefused = 1,  // OpenCV gave no image (decode) or false (encode), without throwing
  kFacecrowdCodecThrew = 2,    // OpenCV threw: *failure says what
};

// FACECROWD_IMGCODECS_ABI_VERSION as the module was built.
typedef int (*FacecrowdImgcodecsAbiVersionFn)();
// CV_VERSION as the module was built, e.g. "4.6.0".
typedef const char* (*FacecrowdImgcodecsOpencvVersionFn)();
// cv::imdecode of `size` bytes with cv::ImreadModes `flags` into *out.
typedef int (*FacecrowdImdecodeFn)(const unsigned char* bytes, size_t size, int flags, cv::Mat* out,
                                   FacecrowdCodecFailure* failure);
// cv::imencode(ext, *image, *out, params[0..param_count)).
typedef int (*FacecrowdImencodeFn)(const char* ext, const cv::Mat* image, const int* params, size_t param_count,
                                   std::vector<unsigned char>* out, FacecrowdCodecFailure* failure);

}  // extern "C"

// The exported names, for dlsym.
inline constexpr const char* kFacecrowdImgcodecsAbiVersionSymbol = "facecrowd_imgcodecs_abi_version";
inline constexpr const char* kFacecrowdImgcodecsOpencvVersionSymbol = "facecrowd_imgcodecs_opencv_version";
inline constexpr const char* kFacecrowdImdecodeSymbol = "facecrowd_imdecode";
inline constexpr const char* kFacecrowdImencodeSymbol = "facecrowd_imencode";
