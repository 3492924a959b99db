// facecrowd-imgcodecs.so: the only code linked against OpenCV's imgcodecs (codecs/imgcodecs_module_abi.h says
// why and what it exports). Each function is cv::imdecode / cv::imencode as the binary called them before,
// with OpenCV's exceptions caught and handed back as data.
#include "codecs/imgcodecs_module_abi.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>

#define FACECROWD_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

void copy_bounded(char* to, size_t size, const std::string& from) {
  size_t n = std::min(size - 1, from.size());
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

void describe(FacecrowdCodecFailure* failure, const cv::Exception& e) {
  failure->code = e.code;
  failure->line = e.line;
  copy_bounded(failure->err, sizeof failure->err, e.err);
  copy_bounded(failure->func, sizeof failure->func, e.func);
  copy_bounded(failure->file, sizeof failure->file, e.file);
}

// Anything else OpenCV lets through (std::bad_alloc from a huge allocation) becomes an OpenCV error, as the
// caller saw no other kind of failure from these calls.
void describe(FacecrowdCodecFailure* failure, const std::exception& e, const char* func) {
  describe(failure, cv::Exception(cv::Error::StsError, e.what(), func, __FILE__, __LINE__));
}

}  // namespace

FACECROWD_EXPORT int facecrowd_imgcodecs_abi_version() { return FACECROWD_IMGCODECS_ABI_VERSION; }

FACECROWD_EXPORT const char* facecrowd_imgcodecs_opencv_version() { return CV_VERSION; }

FACECROWD_EXPORT int facecrowd_imdecode(const unsigned char* bytes, size_t size, int flags, cv::Mat* out,
                                        FacecrowdCodecFailure* failure) {
  try {
    cv::Mat encoded(1, int(size), CV_8U, const_cast<unsigned char*>(bytes));
    *out = cv::imdecode(encoded, flags);
    return out->empty() ? kFacecrowdCodecRefused : kFacecrowdCodecOk;
  } catch (const cv::Exception& e) {
    describe(failure, e);
  } catch (const std::exception& e) {
    describe(failure, e, "facecrowd_imdecode");
  }
  return kFacecrowdCodecThrew;
}

FACECROWD_EXPORT int facecrowd_imencode(const char* ext, const cv::Mat* image, const int* params, size_t param_count,
                                        std::vector<unsigned char>* out, FacecrowdCodecFailure* failure) {
  try {
    std::vector<int> p(params, params + param_count);
    return cv::imencode(ext, *image, *out, p) ? kFacecrowdCodecOk : kFacecrowdCodecRefused;
  } catch (const cv::Exception& e) {
    describe(failure, e);
  } catch (const std::exception& e) {
    describe(failure, e, "facecrowd_imencode");
  }
  return kFacecrowdCodecThrew;
}
