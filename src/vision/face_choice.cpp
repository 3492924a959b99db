#include "vision/face_choice.h"

#include <cmath>

namespace facecrowd::vision {

namespace {
double side(const Face& f) { return std::sqrt(double(f.box.area())); }
cv::Point2f centre(const cv::Rect2f& r) { return {r.x + r.width / 2, r.y + r.height / 2}; }
}  // namespace

double face_choice_key(const Face& face, double largest_side) {
  return largest_side > 0 ? double(face.detection_score) * side(face) / largest_side : 0.0;
}

std::optional<size_t> choose_face(const std::vector<Face>& faces) {
  if (faces.empty()) return std::nullopt;
  double largest = 0;
  for (const auto& f : faces) largest = std::max(largest, side(f));
  size_t best = 0;
  for (size_t i = 1; i < faces.size(); ++i)
    if (face_choice_key(faces[i], largest) > face_choice_key(faces[best], largest)) best = i;
  return best;
}

std::optional<size_t> face_at(const std::vector<Face>& faces, const cv::Rect2f& box) {
  std::optional<size_t> best;
  double best_d = 0;
  for (size_t i = 0; i < faces.size(); ++i) {
    cv::Point2f c = centre(faces[i].box);
    if (!box.contains(c)) continue;
    double d = cv::norm(c - centre(box));
    if (!best || d < best_d) best = i, best_d = d;
  }
  return best;
}

}  // namespace facecrowd::vision
