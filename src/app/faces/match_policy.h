// When a face counts as a known person: the match decision and its two settings.
// Contract: a search result (vision::GalleryMatch) is a recognition when
//     distance <= max_distance  AND  margin >= min_margin
// (unit-vector L2 distances, 0..2; margin = distance to the closest *other* person minus distance). The
// threshold is calibrated on the calibration set of tools/face_split.json (Debian's dlib example faces:
// 5 people x 11 and 43 PASCAL strangers; 275 genuine, 4,381 impostor pairs) and never on the photos the
// tests assert on (tools/calibrate_faces.md): 0.36 is the largest threshold with a pair FAR <= 0.1% there
// (4 of 4,381; FRR 1.1%). The margin of 0.04 rejects the "two people about equally close" case.
// Settings come from, in order: flags (--threshold/--min-margin), $FACECROWD_MATCH_THRESHOLD /
// $FACECROWD_MATCH_MARGIN, the defaults. confidence() maps a distance to 0..1 for attendance records.
#pragma once

#include <optional>
#include <string>

#include "vision/gallery.h"

namespace facecrowd {

struct MatchPolicy {
  float max_distance = 0.36f;  // recognised at or below
  float min_margin = 0.04f;    // and at least this much closer than the next person
};

// Error(kUsage) naming the setting when max_distance is not in (0, 2] or min_margin not in [0, 2].
void validate_match_policy(const MatchPolicy& policy);

// Defaults overridden by $FACECROWD_MATCH_THRESHOLD / $FACECROWD_MATCH_MARGIN (Error(kUsage) naming the
// variable when it is not a number), then by the flags that were given; validated.
MatchPolicy resolve_match_policy(std::optional<float> threshold_flag, std::optional<float> margin_flag);

bool is_recognised(const vision::GalleryMatch& match, const MatchPolicy& policy);

// 1 at distance 0, 0.5 at max_distance, 0 at 2 * max_distance and beyond (linear): a match's
// confidence is >= 0.5 exactly when its distance passes the threshold.
double match_confidence(float distance, const MatchPolicy& policy);

}  // namespace facecrowd
