// Faces that the upright detector pass misses because the head or the photo is turned (issue 12).
// Contract: find_rotated_faces(analyse_upright, bgr, found, options) returns the faces found in rotated
// copies of `bgr` that are not already in `found` (upright faces), with box and landmarks mapped back to
// `bgr`'s pixels (box: the bounding box of the mapped rotated box; chip and embedding as computed in the
// rotated copy, where the face was upright enough for the landmark net):
//  - tilt passes: the photo rotated by +tilt_degrees and -tilt_degrees (canvas grown to hold it all),
//    run whenever `tilt_degrees` > 0 — heads tilted ~20-50 degrees, whose landmarks fail the plausibility
//    check (eye line < 30 degrees) or which the detector does not see upright;
//  - quarter turns: 90, 270 and 180 degrees, only when `found` is empty and nothing was found by the tilt
//    passes either (a photo rotated without an EXIF tag), stopping at the first turn that finds a face.
// A rotated face is "already found" when its mapped box overlaps a kept face's box by IoU > 0.3.
// Cost: each tilt pass is a full detection (tiles included) of a canvas up to ~1.4x the photo's side.
#pragma once

#include <opencv2/core.hpp>

#include <functional>
#include <vector>

#include "vision/face_pipeline.h"

namespace facecrowd::vision {

// RotationOptions: vision/face_pipeline.h.
using UprightAnalysis = std::function<std::vector<Face>(const cv::Mat& bgr)>;

std::vector<Face> find_rotated_faces(const UprightAnalysis& analyse_upright, const cv::Mat& bgr,
                                     const std::vector<Face>& found, const RotationOptions& options);

// `bgr` rotated by `degrees` (counter-clockwise, as cv::getRotationMatrix2D) about its centre onto a canvas
// that holds all of it (black outside); `to_rotated` receives the 2x3 map from `bgr` to the canvas.
cv::Mat rotate_whole(const cv::Mat& bgr, double degrees, cv::Matx23d& to_rotated);

}  // namespace facecrowd::vision
