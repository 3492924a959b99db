#include "vision/image_loader.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <vector>
#include <cstdio>

#include "core/error.h"
#include "core/files.h"
#include "core/input_files.h"
#include "vision/image_codecs.h"
#include "vision/image_header.h"
#include "vision/pass_costs.h"

namespace facecrowd::vision {
namespace {

[[noreturn]] void bad(const std::string& name, const std::string& why) {
  throw Error(ExitCode::kBadInput, "image '" + name + "': " + why);
}

// Any depth and 1..4 channels -> 8-bit BGR.
cv::Mat to_bgr8(cv::Mat m, const std::string& name) {
  if (m.depth() == CV_16U) {
    m.convertTo(m, CV_8U, 1.0 / 257.0);
  } else if (m.depth() == CV_32F) {
    m.convertTo(m, CV_8U, 255.0);  // float TIFF/EXR samples are 0..1
  } else if (m.depth() != CV_8U) {
    bad(name, "unsupported pixel depth " + std::to_string(m.depth()));
  }
  if (m.channels() == 2) {  // grey + alpha
    std::vector<cv::Mat> ga;
    cv::split(m, ga);
    cv::merge(std::vector<cv::Mat>{ga[0], ga[0], ga[0], ga[1]}, m);
  }
  cv::Mat out;
  switch (m.channels()) {
    case 1: cv::cvtColor(m, out, cv::COLOR_GRAY2BGR); break;
    case 3: out = m; break;
    case 4: {
      // Composite onto white: out = bgr * a + 255 * (1 - a).
      cv::Mat bgr, alpha, alpha3;
      cv::cvtColor(m, bgr, cv::COLOR_BGRA2BGR);
      cv::extractChannel(m, alpha, 3);
      cv::cvtColor(alpha, alpha3, cv::COLOR_GRAY2BGR);
      cv::Mat a;
      alpha3.convertTo(a, CV_32FC3, 1.0 / 255.0);
      cv::Mat f;
      bgr.convertTo(f, CV_32FC3);
      cv::Mat white(f.size(), CV_32FC3, cv::Scalar::all(255.0));
      cv::Mat blended = f.mul(a) + white.mul(cv::Scalar::all(1.0) - a);
      blended.convertTo(out, CV_8UC3);
      break;
    }
    default: bad(name, "unsupported channel count " + std::to_string(m.channels()));
  }
  return out;
}

}  // namespace

void apply_exif_orientation(cv::Mat& image, int orientation) {
  // OpenCV's transpose/rotate cannot work in place on a non-square image, hence the temporary.
  cv::Mat out;
  switch (orientation) {
    case 2: cv::flip(image, out, 1); break;                                // mirrored
    case 3: cv::rotate(image, out, cv::ROTATE_180); break;
    case 4: cv::flip(image, out, 0); break;                                // mirrored vertically
    case 5: cv::transpose(image, out); break;                              // mirrored + 90 CCW
    case 6: cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE); break;
    case 7: cv::transpose(image, out); cv::flip(out, out, -1); break;      // mirrored + 90 CW
    case 8: cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: return;
  }
  image = out;
}

cv::Mat decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  return decode_image(bytes, name, limits, cv::Mat());
}

cv::Mat decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits, cv::Mat decoded) {
  PassTimer timer(PassKind::kDecode);
  if (bytes.empty()) bad(name, "empty file (0 bytes)");
  auto header = read_image_header(bytes);
  if (!header) bad(name, "not a supported image (JPEG, PNG, BMP, WebP, TIFF, PNM) or its header is cut short");
  if (header->width <= 0 || header->height <= 0) bad(name, "the header gives no pixel dimensions");
  double megapixels = double(header->width) * double(header->height) / 1e6;
  if (megapixels > limits.max_megapixels) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%lldx%lld = %.1f megapixels is above the limit of %.1f; not decoded",
                  static_cast<long long>(header->width), static_cast<long long>(header->height), megapixels,
                  limits.max_megapixels);
    bad(name, buf);
  }
  if (header->format == ImageFormat::kJpeg && !header->jpeg_complete) {
    bad(name, "truncated JPEG (no End Of Image marker after the image data)");
  }
  // IMREAD_UNCHANGED keeps alpha and 16-bit samples for to_bgr8 to handle, and does not apply EXIF itself.
  if (bytes.size() > size_t(INT32_MAX)) bad(name, "larger than 2 GiB");
  cv::Mat raw = std::move(decoded);
  if (raw.empty()) {
    try {
      raw = imdecode(bytes, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
      bad(name, std::string("cannot decode ") + format_name(header->format) + " data: " + e.err);
    }
  }
  if (raw.empty()) bad(name, std::string("corrupt or truncated ") + format_name(header->format) + " data");
  if (raw.cols != header->width || raw.rows != header->height) {
    bad(name, "decoded size differs from the header's; the file is damaged");
  }
  cv::Mat bgr = to_bgr8(raw, name);
  apply_exif_orientation(bgr, header->orientation);
  return bgr;
}

cv::Mat load_image(const std::filesystem::path& path, const ImageLimits& limits) {
  // Bounded and regular files only (core/input_files.h): /dev/zero or a FIFO is refused at once. The same
  // 50 MiB as a stored photo (app/photo_input.h kMaxPhotoBytes).
  constexpr uint64_t kMaxImageFileBytes = 50u << 20;
  return decode_image(read_regular_file(path, kMaxImageFileBytes, "image"), path.string(), limits);
}

}  // namespace facecrowd::vision
