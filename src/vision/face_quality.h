// Face quality: is this face good enough to enrol, or to trust a match on?
// Contract: assess() measures three things and combines them into `score` (0..1, product of the parts):
//  - size: the face's inter-ocular distance in the original image, pixels (size_score: 0 at <= 8 px,
//    1 at >= 30 px, linear between; a 20 px face box has ~8 px between the eyes);
//  - blur: variance of the Laplacian of the grey 150x150 chip (sharpness_score: 0 at <= 10, 1 at >= 100);
//  - landmark confidence: how well the 68 points fit a face shape, from the chip alignment's RMS residual
//    in chip pixels (1 at <= 2 px, 0 at >= 8 px), times 0 when the eyes/nose/mouth order is implausible.
// Thresholds were set on data/faces (identities: residual 1-4 px; blur 30-900) and are documented here
// so callers can re-derive a decision from the parts.
#pragma once

#include <opencv2/core.hpp>

#include "vision/face_aligner.h"
#include "vision/landmark_detector.h"

namespace facecrowd::vision {

struct FaceQuality {
  float interocular_px = 0;
  float size_score = 0;
  float blur_variance = 0;
  float sharpness_score = 0;
  float landmark_residual = 0;
  bool landmarks_plausible = false;
  float landmark_confidence = 0;
  // landmark_flip_error() (landmark_detector.h) of the face's points against those found on its mirror
  // image; set by FacePipeline::describe() (not part of `score`: the pipeline drops faces above
  // PipelineOptions::max_landmark_flip_error instead).
  float landmark_flip_error = 0;
  float score = 0;
};

FaceQuality assess_face_quality(const Landmarks68& landmarks, const AlignedFace& aligned);

// The angle of the line from the left eye's centre (points 36-41, the image's left) to the right eye's
// (42-47), in degrees, y pointing down: 0 level, positive when the right eye is lower (the head turned
// clockwise on screen), +-180 when the eyes are the wrong way round.
double eye_line_degrees(const Landmarks68& landmarks);

// Eyes left/right of the nose tip, nose below the eyes, mouth below the nose, eye line within 30 degrees.
bool landmarks_plausible(const Landmarks68& landmarks);

}  // namespace facecrowd::vision
