// Whether a JPEG's compressed data decodes without a single libjpeg warning ("Corrupt JPEG data: N
// extraneous bytes before marker", "Premature end of data segment", "Bogus Huffman table", …). libjpeg
// and OpenCV treat these as warnings and return an image with grey or smeared blocks; a photo facecrowd
// stores (enroll, recognize, crowd) must not be damaged, so read_photo() (app/photo_input.h) refuses it.
//
// The check decodes every entropy-coded block with libturbojpeg at 1/8 scale (the DCT scaling still
// reads every coefficient, so every warning is seen; the output is 64 times smaller than the image).
#pragma once

#include <string>
#include <string_view>

namespace facecrowd::vision {

// "" when `jpeg` decodes cleanly, else libjpeg's warning or error text.
std::string jpeg_data_problem(std::string_view jpeg);

}  // namespace facecrowd::vision
