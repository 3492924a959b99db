// Faces that the upright detector pass misses because the head or the photo is turned (issue 12).
// Contract: find_rotated_faces(analyse_upright, bgr, found, options, near_misses, analyse_crop) returns the
// faces found in rotated copies of `bgr` that are not already in `found` (upright faces), with box and
// landmarks mapped back to `bgr`'s pixels (box: the bounding box of the mapped rotated box; chip and
// embedding as computed in the rotated copy, where the face was upright enough for the landmark net):
//  - tilt passes (tilt_degrees > 0), for heads tilted ~20-60 degrees, whose landmarks fail the false-face
//    filter upright (eye line < 30 degrees, or a flip error above the limit):
//    - TiltScope::kNearMisses (the default): around each of `near_misses` (detections whose landmarks the
//      filter rejected; the best max_near_misses of those not inside or overlapping a kept face and given
//      turns by near_miss_turns()), a square crop of near_miss_crop_sides x the box's side, turned about the
//      box's centre by each of near_miss_turns() in order until one finds a new face, each analysed by
//      `analyse_crop` (one detector pass, no tiles). Cost: one to four small detector passes per near miss
//      (two with readable points); none in a photo without near misses;
//    - TiltScope::kWholePhoto: the whole photo turned by +-tilt_degrees (canvas grown to hold it all),
//      each a full detection (tiles included) of a canvas up to ~1.4x the photo's side;
//  - quarter turns: 90, 270 and 180 degrees, when `found` is empty (for kWholePhoto: and the tilt passes
//    found nothing either): a photo rotated without an EXIF tag; stops at the first turn that finds a new
//    face. They run after the near-miss crops: in a group photo tilted 30 degrees, which gives no upright
//    face, a turn found a garbled face (eyes reversed) that hid a near miss.
// A rotated face is "already found" when its mapped box overlaps a kept face's box by IoU > 0.3, or one
// lies >= 60% inside the other (false_face_filter.h's rule for part of a face).
#pragma once

#include <opencv2/core.hpp>

#include <functional>
#include <string>
#include <vector>

#include "vision/face_pipeline.h"

namespace facecrowd::vision {

// RotationOptions: vision/face_pipeline.h.
// The turns (degrees, counter-clockwise) a near miss's crop is tried at, in order:
//  - points readable (landmark_residual < near_miss_readable_residual, eyes the right way round): toward
//    level only, as its eye_line_degrees() leans: +-tilt_degrees, then +-near_miss_second_tilt_degrees;
//  - points unreadable: none when the detection scored below near_miss_unreadable_min_score (upright photos'
//    rejects are texture and parts of faces), else +tilt, -tilt, +second, -second.
std::vector<double> near_miss_turns(const NearMiss& near_miss, const RotationOptions& options);

using UprightAnalysis = std::function<std::vector<Face>(const cv::Mat& bgr)>;

std::vector<Face> find_rotated_faces(const UprightAnalysis& analyse_upright, const cv::Mat& bgr,
                                     const std::vector<Face>& found, const RotationOptions& options,
                                     const std::vector<NearMiss>& near_misses = {},
                                     const UprightAnalysis& analyse_crop = {});

// The --rotation-passes modes: "all" (tilts over the whole photo), "near-misses" (tilts around near
// misses), "turns" (quarter turns only), "off"; each with the quarter turns except "off". Anything else is
// Error(kUsage) naming the modes.
void apply_rotation_mode(const std::string& mode, RotationOptions& options);

// `bgr` rotated by `degrees` (counter-clockwise, as cv::getRotationMatrix2D) about its centre onto a canvas
// that holds all of it (black outside); `to_rotated` receives the 2x3 map from `bgr` to the canvas.
cv::Mat rotate_whole(const cv::Mat& bgr, double degrees, cv::Matx23d& to_rotated);

}  // namespace facecrowd::vision
