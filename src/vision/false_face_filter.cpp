#include "vision/false_face_filter.h"

#include <algorithm>

namespace facecrowd::vision {

float fraction_inside(const cv::Rect2f& a, const cv::Rect2f& b) {
  float area = a.area();
  return area > 0 ? (a & b).area() / area : 0.0f;
}

bool passes_own_point_checks(const FaceQuality& q, const PipelineOptions& o) {
  if (o.drop_implausible_landmarks && q.landmark_confidence <= 0) return false;
  return q.interocular_px >= o.min_interocular_px;
}

bool passes_single_face_checks(const FaceQuality& q, const PipelineOptions& o) {
  if (!passes_own_point_checks(q, o)) return false;
  return o.max_landmark_flip_error <= 0 || q.landmark_flip_error <= o.max_landmark_flip_error;
}

std::vector<Face> keep_real_faces(std::vector<Face> faces, const PipelineOptions& o) {
  std::vector<Face> plausible;
  for (Face& f : faces)
    if (passes_single_face_checks(f.quality, o)) plausible.push_back(std::move(f));
  // Part of a face inside the face: the better-drawn face (smaller flip error) stays.
  std::vector<bool> dropped(plausible.size(), false);
  for (size_t i = 0; i < plausible.size(); ++i)
    for (size_t j = 0; j < plausible.size(); ++j) {
      if (i == j || dropped[i] || dropped[j]) continue;
      const Face &inner = plausible[i], &outer = plausible[j];
      if (inner.box.area() >= outer.box.area() || fraction_inside(inner.box, outer.box) < 0.6f) continue;
      bool inner_worse = inner.quality.landmark_flip_error >= outer.quality.landmark_flip_error;
      dropped[inner_worse ? i : j] = true;
    }
  std::vector<Face> kept;
  for (size_t i = 0; i < plausible.size(); ++i)
    if (!dropped[i]) kept.push_back(std::move(plausible[i]));
  return kept;
}

}  // namespace facecrowd::vision
