// Which face of a photo is "the" face (enrollment, eval faces): by detection score and size together.
// Contract: choose_face(faces) returns the index of the face with the highest
//     detection_score * (side / largest side)      (side = sqrt(box area))
// or nullopt when `faces` is empty. A false face on a backdrop (BlazeFace scores such ones 0.5-0.6) does
// not win by being large over a real face (0.9+) of similar size, and a sharp small background face does
// not win over the portrait's subject. The largest box alone (the old rule) did the former.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <optional>
#include <vector>

#include "vision/face_pipeline.h"

namespace facecrowd::vision {

double face_choice_key(const Face& face, double largest_side);
std::optional<size_t> choose_face(const std::vector<Face>& faces);

// The face whose box centre is nearest `box`'s centre, among faces whose centre lies inside `box`.
std::optional<size_t> face_at(const std::vector<Face>& faces, const cv::Rect2f& box);

}  // namespace facecrowd::vision
