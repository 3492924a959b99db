// Whether a JPEG's compressed data decodes without a single libjpeg warning ("Corrupt JPEG data: N
// extraneous bytes before marker", "Premature end of data segment", "Bogus Huffman table", …). libjpeg
// and OpenCV treat these as warnings and return an image with grey or smeared blocks; a photo facecrowd
// stores (enroll, recognize, crowd) must not be damaged, so read_photo() (app/photo_input.h) refuses it.
//
// decode_checked_jpeg() decodes every entropy-coded block once with libturbojpeg (stopping at the first
// warning) and, for YCbCr, RGB and greyscale JPEGs, keeps the full-size 8-bit BGR pixels, so the photo is
// not decoded a second time (issue 10: CPU per recognized photo). For CMYK/YCCK JPEGs, which TurboJPEG
// cannot turn into BGR, it checks at 1/8 scale (the DCT scaling still reads every coefficient, so every
// warning is seen) and leaves the pixels to the caller.
#pragma once

#include <opencv2/core.hpp>

#include <string>
#include <string_view>

namespace facecrowd::vision {

struct CheckedJpeg {
  std::string problem;  // "" when the data decodes cleanly, else libjpeg's warning or error text
  cv::Mat bgr;          // the pixels as stored (no EXIF orientation), CV_8UC3; empty when problem is set or
                        // the colour space needs another decoder (CMYK/YCCK)
};
CheckedJpeg decode_checked_jpeg(std::string_view jpeg);

}  // namespace facecrowd::vision
