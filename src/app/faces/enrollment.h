// Enrollment: photos of one person -> embeddings in their face profile (creating the profile if needed).
// Contract (`facecrowd enroll`):
//  - Which profile: --profile REF (id or external id; Error(kNotFound) when absent), else the profile with
//    --external-id E if one exists, else the one profile named --name N; a new profile is created when
//    none matches (two or more profiles with that name: Error(kConflict), name one by --profile).
//  - Each image must hold exactly one usable face (found and picked by app/faces/enrollment_face.h) (with `largest`, the main one of several: by detection score
//    and size, vision/face_choice.h), with at least
//    min_interocular_px between the eyes and a chip sharpness (Laplacian variance) of min_blur_variance.
//    Detection runs one whole-image pass first (a portrait's face is large) and the small-face tiles only
//    when that finds nothing. Every image is read, decoded and analysed before anything is written; an image that fails is
//    "rejected" with its path and the reason (no face, several faces, too small, too blurred, not an
//    image, truncated, empty, missing). Any rejection fails the whole enrollment — Error naming every
//    rejected image, nothing written — unless skip_rejected, which enrols the accepted ones.
//  - An image whose bytes (sha256) are already the source of an embedding of the target profile is a
//    "duplicate": reported, no second embedding. The same bytes twice in one request count once.
//  - A face that already matches a *different* profile (distance <= the match threshold) refuses the whole
//    enrollment with Error(kConflict) naming that profile, nothing written: the operator may be enrolling one
//    person under two names, or a look-alike. With `force` it is enrolled, with a warning.
//  - A face beyond the threshold of another profile's enrolled face but within max_distance / gallery_isolation of it
//    is enrolled with a warning: from then on both enrolled faces are crowded, and recognition as either person needs
//    a match within gallery_isolation x their gap (MatchPolicy::gallery_isolation).
//  - A face soft enough that recognition will hold matches with it to a stricter threshold (request.match's
//    soft steps, by the softer of the probe and the enrolled face: app/faces/soft_enrolled_face.h) is enrolled
//    with a warning naming its sharpness, that threshold and the remedy (enrol a sharper photo), and its
//    "added" entry carries "softFace"; every added entry carries "sharpness" (quality.blur, as recognition reads it).
//  - Profiles whose embeddings are all of another face model cannot be compared (app/faces/gallery_models.h):
//    a warning says so (in the result, not in the audit entry).
//  - One write transaction: the facial images (fs.files kind facial_image, content-addressed), the
//    profile insert/replace (one embedding per accepted image: _id, vector, modelVersion, sourceFileId,
//    quality), consent when given, and a "profile.enroll" audit entry. When nothing new is added (all
//    duplicates) nothing is written.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/faces/enrollment_face.h"
#include "app/faces/match_policy.h"
#include "app/faces/soft_enrolled_face.h"
#include "app/photo_input.h"
#include "store/database.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct EnrollResult;

struct EnrollRequest {
  std::string name;                        // required when a profile is created
  std::optional<std::string> profile;      // extend this profile (id or external id)
  std::optional<std::string> external_id;
  std::map<std::string, std::string> metadata;  // merged into the profile's metadata
  std::optional<std::string> consent_text;      // recorded with givenAt = now
  std::vector<std::filesystem::path> images;
  std::vector<ImageBytes> uploads;  // images given as bytes (a server upload), after `images`
  std::optional<std::string> actor;  // audit actor; default: default_audit_actor()
  std::string client_address = "local";
  bool largest = false;        // several faces: take the main one (score and size) instead of rejecting
  bool force = false;          // enrol a face that matches another profile (warning instead of kConflict)
  bool skip_rejected = false;  // enrol the accepted images even when others are rejected
  EnrollmentQuality quality;
  MatchPolicy match;
  // Runs inside the write transaction, after the profile and its audit entry, before the commit: what a
  // caller must write atomically with the enrollment (an unknown face's assignment, app/faces/unknown_faces.h).
  // Its exception rolls the whole enrollment back. Not run when nothing is written (all duplicates).
  std::function<void(Database::WriteTransaction&, const EnrollResult&)> before_commit;
};

struct EnrolledImage {
  std::string path, sha256, file_id, embedding_id;
  nlohmann::json quality;
  // Set when the face is soft enough that matches with it are held to a stricter threshold (soft_enrolled_face.h).
  std::optional<SoftEnrolledFace> soft;
};
struct SkippedImage {
  std::string path, reason;
};

struct EnrollResult {
  std::string profile_id, name;
  bool created = false;
  std::vector<EnrolledImage> added;
  std::vector<SkippedImage> duplicates;
  std::vector<SkippedImage> rejected;  // only with skip_rejected
  std::vector<std::string> warnings;
  std::string audit_id;  // empty when nothing was written
  nlohmann::json to_json() const;
};

EnrollResult enroll(Database& db, vision::FacePipeline& pipeline, const EnrollRequest& request);

}  // namespace facecrowd
