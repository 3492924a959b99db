// Which of a pass's described faces are not faces (issue 12): the checks after the detector and the 68
// landmarks, each measured on data/faces, the PASCAL photos and the faces of photos turned 90 degrees
// (tools/calibrate_faces.md, "False faces").
// Contract: keep_real_faces(faces, options) returns `faces` (in their order) without
//  - faces whose landmarks do not fit a face (FaceQuality::landmark_confidence 0), when
//    drop_implausible_landmarks;
//  - faces whose landmarks on the mirrored crop disagree (FaceQuality::landmark_flip_error above
//    max_landmark_flip_error; 0: no limit);
//  - faces whose eyes are less than min_interocular_px apart (a 5x7 px "face" on a sleeve);
//  - a face lying mostly (>= 60% of its box) inside another kept face's larger box: a second detection
//    of part of that face (an eye region, a chin); of the two, the one with the larger flip error goes.
// Thresholds are fields of FalseFaceOptions (PipelineOptions holds them).
#pragma once

#include <vector>

#include "vision/face_pipeline.h"

namespace facecrowd::vision {

std::vector<Face> keep_real_faces(std::vector<Face> faces, const PipelineOptions& options);

// The checks of keep_real_faces() that need only the face's own points (not the mirrored pass, not the
// other faces): plausible landmarks (when drop_implausible_landmarks) and min_interocular_px.
bool passes_own_point_checks(const FaceQuality& quality, const PipelineOptions& options);
// Every check of keep_real_faces() on one face alone: passes_own_point_checks() and the mirrored crop's
// landmark_flip_error. A detection that fails it is a near miss for the tilt passes (rotation_passes.h).
bool passes_single_face_checks(const FaceQuality& quality, const PipelineOptions& options);

// |a ∩ b| / |a| (0 when a is empty).
float fraction_inside(const cv::Rect2f& a, const cv::Rect2f& b);

}  // namespace facecrowd::vision
