#include "vision/rotation_passes.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "vision/face_detection.h"
#include "vision/face_quality.h"
#include "vision/false_face_filter.h"
#include "vision/pass_costs.h"

namespace facecrowd::vision {
namespace {

cv::Point2f apply(const cv::Matx23d& m, const cv::Point2f& p) {
  return {float(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)), float(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2))};
}

// A face found in the rotated canvas, mapped back to the upright photo (`from_rotated`: canvas -> photo).
Face map_back(Face f, const cv::Matx23d& from_rotated, cv::Size photo) {
  const cv::Rect2f& b = f.box;
  cv::Point2f corners[] = {{b.x, b.y}, {b.x + b.width, b.y}, {b.x, b.y + b.height}, {b.x + b.width, b.y + b.height}};
  float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
  for (const auto& c : corners) {
    cv::Point2f p = apply(from_rotated, c);
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  f.box = cv::Rect2f(cv::Point2f(x0, y0), cv::Point2f(x1, y1)) & cv::Rect2f(0, 0, float(photo.width), float(photo.height));
  for (auto& p : f.landmarks) p = apply(from_rotated, p);
  return f;
}

// The same face, or part of it (the false-face filter's rule): a turned pass's box is the loose bounding
// box of a rotated box, and a garbled fit of a tilted face in a quarter turn lies inside the real one.
bool already_found(const Face& f, const std::vector<Face>& kept) {
  return std::any_of(kept.begin(), kept.end(), [&](const Face& k) {
    return intersection_over_union(f.box, k.box) > 0.3f || fraction_inside(f.box, k.box) >= 0.6f ||
           fraction_inside(k.box, f.box) >= 0.6f;
  });
}

// Adds the faces of `found` (mapped back by `from_rotated`) that `kept` lacks to `kept` and `added`.
size_t keep_new(std::vector<Face> found, const cv::Matx23d& from_rotated, cv::Size photo, std::vector<Face>& kept,
                std::vector<Face>& added) {
  size_t n = 0;
  for (Face& f : found) {
    Face mapped = map_back(std::move(f), from_rotated, photo);
    if (mapped.box.area() <= 0 || already_found(mapped, kept)) continue;
    kept.push_back(mapped);
    added.push_back(std::move(mapped));
    ++n;
  }
  return n;
}

// Faces of `bgr` turned by `degrees`, mapped back, that `kept` lacks (appended to `kept` and returned).
std::vector<Face> pass(const UprightAnalysis& analyse_upright, const cv::Mat& bgr, double degrees,
                       std::vector<Face>& kept) {
  PassTimer timer(PassKind::kRotationPass);
  cv::Matx23d to_rotated;
  cv::Mat rotated = rotate_whole(bgr, degrees, to_rotated);
  cv::Matx23d from_rotated;
  cv::invertAffineTransform(to_rotated, from_rotated);
  std::vector<Face> added;
  keep_new(analyse_upright(rotated), from_rotated, bgr.size(), kept, added);
  return added;
}

// A near miss already explained by a kept face: its centre inside the face's box, or overlapping it.
bool explained(const FaceDetection& d, const std::vector<Face>& kept) {
  cv::Point2f c(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
  return std::any_of(kept.begin(), kept.end(), [&](const Face& k) {
    return k.box.contains(c) || intersection_over_union(d.box, k.box) > 0.3f;
  });
}

// The tilt passes on square crops around the near misses (TiltScope::kNearMisses): per near miss, best
// score first, the crop turned by near_miss_turns() until one turn finds a new face there.
std::vector<Face> near_miss_passes(const UprightAnalysis& analyse_crop, const cv::Mat& bgr,
                                   std::vector<NearMiss> near_misses, std::vector<Face>& kept,
                                   const RotationOptions& o) {
  std::stable_sort(near_misses.begin(), near_misses.end(),
                   [](const NearMiss& a, const NearMiss& b) { return a.detection.score > b.detection.score; });
  std::vector<Face> added;
  int looked = 0;
  for (const NearMiss& n : near_misses) {
    if (looked >= o.max_near_misses) break;
    const FaceDetection& d = n.detection;
    if (explained(d, kept)) continue;
    const std::vector<double> turns = near_miss_turns(n, o);
    if (turns.empty()) continue;
    ++looked;
    const cv::Point2f centre(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
    const int side = std::max(32, int(std::lround(o.near_miss_crop_sides * std::max(d.box.width, d.box.height))));
    for (double deg : turns) {
      PassTimer timer(PassKind::kRotationPass);
      // Photo -> crop: turned by `deg` about the near miss's centre, which lands in the crop's centre.
      cv::Mat m = cv::getRotationMatrix2D(centre, deg, 1.0);
      m.at<double>(0, 2) += side / 2.0 - centre.x;
      m.at<double>(1, 2) += side / 2.0 - centre.y;
      cv::Mat crop;
      cv::warpAffine(bgr, crop, m, cv::Size(side, side), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
      cv::Matx23d to_crop(m.ptr<double>()), from_crop;
      cv::invertAffineTransform(to_crop, from_crop);
      if (keep_new(analyse_crop(crop), from_crop, bgr.size(), kept, added) > 0) break;
    }
  }
  return added;
}

}  // namespace

std::vector<double> near_miss_turns(const NearMiss& n, const RotationOptions& o) {
  const double first = o.tilt_degrees, second = o.near_miss_second_tilt_degrees;
  const double eye = eye_line_degrees(n.landmarks);
  if (n.quality.landmark_residual < o.near_miss_readable_residual && std::abs(eye) <= 90) {
    // The eye line falls to the right (positive, y pointing down): a counter-clockwise turn levels it.
    const double toward_level = eye >= 0 ? 1 : -1;
    if (second <= 0) return {toward_level * first};
    return {toward_level * first, toward_level * second};
  }
  if (n.detection.score < o.near_miss_unreadable_min_score) return {};
  if (second <= 0) return {first, -first};
  return {first, -first, second, -second};
}

void apply_rotation_mode(const std::string& mode, RotationOptions& o) {
  if (mode != "all" && mode != "near-misses" && mode != "turns" && mode != "off")
    throw Error(ExitCode::kUsage, "rotation passes '" + mode + "' are not known: use all, near-misses, turns or off");
  o.tilt_degrees = mode == "all" || mode == "near-misses" ? 30.0f : 0.0f;
  o.tilt_scope = mode == "near-misses" ? RotationOptions::TiltScope::kNearMisses : RotationOptions::TiltScope::kWholePhoto;
  o.quarter_turns_when_empty = mode != "off";
}

cv::Mat rotate_whole(const cv::Mat& bgr, double degrees, cv::Matx23d& to_rotated) {
  const double w = bgr.cols, h = bgr.rows;
  // Quarter turns are exact (no resampling).
  double q = std::fmod(std::fmod(degrees, 360.0) + 360.0, 360.0);
  cv::Mat out;
  if (q == 90 || q == 180 || q == 270) {
    int code = q == 90 ? cv::ROTATE_90_COUNTERCLOCKWISE : q == 180 ? cv::ROTATE_180 : cv::ROTATE_90_CLOCKWISE;
    cv::rotate(bgr, out, code);
    // Pixel centres map exactly: (x, y) -> (y, w-1-x) for 90 ccw, (w-1-x, h-1-y) for 180, (h-1-y, x) for 270.
    if (q == 90) to_rotated = cv::Matx23d(0, 1, 0, -1, 0, w - 1);
    else if (q == 180) to_rotated = cv::Matx23d(-1, 0, w - 1, 0, -1, h - 1);
    else to_rotated = cv::Matx23d(0, -1, h - 1, 1, 0, 0);
    return out;
  }
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(float(w / 2), float(h / 2)), degrees, 1.0);
  double c = std::abs(m.at<double>(0, 0)), s = std::abs(m.at<double>(0, 1));
  int nw = int(std::ceil(w * c + h * s)), nh = int(std::ceil(w * s + h * c));
  m.at<double>(0, 2) += nw / 2.0 - w / 2;
  m.at<double>(1, 2) += nh / 2.0 - h / 2;
  cv::warpAffine(bgr, out, m, cv::Size(nw, nh), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  to_rotated = cv::Matx23d(m.ptr<double>());
  return out;
}

std::vector<Face> find_rotated_faces(const UprightAnalysis& analyse_upright, const cv::Mat& bgr,
                                     const std::vector<Face>& found, const RotationOptions& o,
                                     const std::vector<NearMiss>& near_misses,
                                     const UprightAnalysis& analyse_crop) {
  std::vector<Face> kept = found, added;
  if (o.tilt_degrees > 0 && o.tilt_scope == RotationOptions::TiltScope::kWholePhoto)
    for (double deg : {double(o.tilt_degrees), -double(o.tilt_degrees)})
      for (Face& f : pass(analyse_upright, bgr, deg, kept)) added.push_back(std::move(f));
  const bool near_miss_scope = o.tilt_scope == RotationOptions::TiltScope::kNearMisses;
  if (o.tilt_degrees > 0 && near_miss_scope && analyse_crop)
    for (Face& f : near_miss_passes(analyse_crop, bgr, near_misses, kept, o)) added.push_back(std::move(f));
  // With near-miss crops, the turns depend on the upright pass alone: in a photo turned 90 degrees a crop
  // can find one face at 60 degrees, and the turn then finds the others.
  if (o.quarter_turns_when_empty && (near_miss_scope ? found.empty() : kept.empty()))
    for (double deg : {90.0, 270.0, 180.0}) {
      std::vector<Face> turned = pass(analyse_upright, bgr, deg, kept);
      for (Face& f : turned) added.push_back(std::move(f));
      if (!turned.empty()) break;
    }
  return added;
}

}  // namespace facecrowd::vision
