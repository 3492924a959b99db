// 68 facial landmarks (iBUG order) for a detected face: face-api's FaceLandmark68Net (face_landmark_68.onnx).
// Contract: detect(bgr, box) crops the box padded (centred, black outside the image) to a square of side
// max(w, h), resizes it to 112x112, and returns the 68 points in the image's pixel coordinates. The net
// gives no confidence of its own; see face_quality.h for the landmark confidence derived from the points.
// The net runs on XNNPACK (landmark_xnnpack.h) unless FACECROWD_NET_ENGINE=opencv asks for OpenCV DNN.
// Not thread-safe (one pass at a time).
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <array>
#include <memory>

#include "vision/landmark_xnnpack.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

using Landmarks68 = std::array<cv::Point2f, 68>;

// The face box in face-api's SSD convention that these 68 points imply: scaled and shifted from the points'
// bounding box by medians over 464 SSD faces >= 40 px in ShanghaiTech A and street_india train photos
// (tools/calibrate_blazeface_box.py; median IoU with the SSD's own box 0.83). It makes the crop the
// landmark net sees independent of which detector found the face.
cv::Rect2f box_from_landmarks(const Landmarks68& points);

// The index of point `i`'s mirror image (left eye corner <-> right eye corner, ...); points on the face's
// axis map to themselves.
int mirrored_landmark(int i);

// How differently the net places the points on a face and on its mirror image: RMS distance between
// detect() and detect_mirrored() points, over the inter-ocular distance of `points`. A face is symmetric
// enough that the two agree (0.03-0.06 on the faces of data/faces, up to ~0.09 on small, soft or turned
// faces); on texture that only resembles a face (a flag pin, a collar, part of a face, a face lying on its
// side) the net draws a different face each time (0.12-0.8). Measured in tools/calibrate_faces.md.
double landmark_flip_error(const Landmarks68& points, const Landmarks68& from_mirror);

class LandmarkDetector {
 public:
  // The engine is net_engine_from_env()'s unless given.
  explicit LandmarkDetector(const ModelFiles& models);
  LandmarkDetector(const ModelFiles& models, NetEngine engine);
  ~LandmarkDetector();
  NetEngine engine() const { return xnnpack_ ? NetEngine::kXnnpack : NetEngine::kOpenCv; }
  Landmarks68 detect(const cv::Mat& bgr, const cv::Rect2f& box);
  // The same crop mirrored left-right; the points are returned in the image's coordinates under their own
  // (un-mirrored) indices, so for a real face they land where detect() puts them (landmark_flip_error()).
  Landmarks68 detect_mirrored(const cv::Mat& bgr, const cv::Rect2f& box);

 private:
  Landmarks68 run(const cv::Mat& bgr, const cv::Rect2f& box, bool mirrored);
  cv::dnn::Net net_;                           // OpenCV engine (released once XNNPACK has its weights)
  std::unique_ptr<LandmarkXnnpack> xnnpack_;  // XNNPACK engine
};

}  // namespace facecrowd::vision
