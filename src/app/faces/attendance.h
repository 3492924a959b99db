// Attendance from a group photo, and the attendance records.
//
//   attendances {_id, personId: ObjectId, personName, session, timestamp: date, confidence: double,
//                box: {x, y, w, h} (pixels of the upright photo), photoFileId: ObjectId, archived: bool}
//
// Contract of recognize() (`facecrowd recognize PHOTO --session S`):
//  - The photo is read and analysed (every face: vision/face_pipeline.h), and each face is searched in the
//    gallery of all enrolled embeddings of the pipeline's model (app/faces/gallery_loader.h, one snapshot).
//  - A face is recognised when the match passes the MatchPolicy (app/faces/match_policy.h) at the threshold
//    for its chip's sharpness, or the matched enrolled face's when that is softer (a blurred face needs a closer
//    match); confidence = match_confidence(distance).
//    An unknown face says why ("why", and "unknownReason": no-match, too-blurred, enrolled-face-too-blurred,
//    ambiguous, crowded-enrolled-face, no-one-enrolled, person-matched-another-face, erased-or-deleted). When two
//    faces match the same person, the closer one is that person and the other is listed as unknown (a person is in
//    a photo once).
//  - One attendance record per (session, person): a new one is inserted; when one exists it is replaced by
//    this photo's only if this confidence is higher ("updated"), else kept ("kept").
//  - Unknown faces are listed with their boxes (and the closest profile with its distance, for review).
//  - With `annotate`, the annotated JPEG (app/faces/annotate.h) is written before the transaction, so a bad
//    output path changes nothing.
//  - One write transaction: the photo (fs.files kind group_photo), the records, and one
//    "attendance.recognize" audit entry (target: the session). Everything is computed before it, so
//    inside it each matched person is checked again: a profile deleted meanwhile, or a person in the
//    erasure ledger (an erasure whose commit is pending), gets no record; that face is reported unknown
//    ("erased or deleted while recognising") and the name never reaches attendances.
//  - The request deadline (core/request_deadline.h) is checked before detection, before the search, before
//    the write transaction and just before its commit: a request past it stores nothing.
//  - A server passes the photo as bytes (`upload`), its warm gallery (`warm_gallery`: no load per request;
//    names are read from the snapshot) and the actor that goes into the audit entry.
//  - With `keep_unknown_faces`, each unknown face's crop (a facial_image file) and embedding go into the
//    photo's unknown-faces record, in the same transaction (app/faces/unknown_faces.h: listing, clustering,
//    assignment); each unknown face then has an id ("faceId") and a "cropFileId".
//  - With `store_annotated`, the annotated photo is stored too (a group_photo file, "annotatedFileId",
//    referenced by the records this photo wrote). Its labels are the faces' numbers ("label" in the
//    answer), never names: the stored image shows no more than the group photo, so an erasure leaves
//    nothing of the person in it.
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/faces/gallery_index.h"
#include "app/faces/gallery_loader.h"
#include "app/faces/match_policy.h"
#include "app/photo_input.h"
#include "core/utc_time.h"
#include "store/database.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct RecognizeRequest {
  std::filesystem::path photo;
  std::string session;
  MatchPolicy match;
  std::optional<UnixMillis> taken_at;            // the records' timestamp; default now
  std::optional<std::filesystem::path> annotate;  // write the annotated photo here (.jpg)
  GallerySearchMode gallery_search = GallerySearchMode::kAuto;  // app/faces/gallery_index.h
  std::optional<ImageBytes> upload;             // the photo's bytes; `photo` is then not read
  const vision::Gallery* warm_gallery = nullptr;  // search this instead of loading the gallery
  std::optional<std::string> actor;             // audit actor; default: default_audit_actor()
  std::string client_address = "local";
  bool keep_unknown_faces = false;  // store unknown faces' crops and embeddings (app/faces/unknown_faces.h)
  bool store_annotated = false;     // store the annotated photo (numbered labels, no names)
};

struct RecognizedFace {
  cv::Rect box;
  float detection_score = 0;
  bool known = false;
  std::optional<std::string> person_id, person_name;  // set when known
  // The gallery's answer (also for unknown faces, when the gallery is not empty).
  std::optional<std::string> closest_id, closest_name;
  float distance = 0, margin = 0;
  double confidence = 0;
  std::string why_unknown;    // e.g. "distance 0.52 > 0.36"
  // The match policy's verdict (app/faces/match_policy.h); "unknownReason" in JSON is its name, or
  // `unknown_reason` when set: no-one-enrolled, person-matched-another-face, erased-or-deleted.
  MatchVerdict verdict = MatchVerdict::kNoMatch;
  std::string unknown_reason;
  float sharpness = 0;        // the face chip's sharpness (vision/face_quality.h), which sets its threshold
  std::string record;         // known faces: "inserted" | "updated" | "kept"
  std::string attendance_id;  // known faces: the session's record of this person
  int label = 0;              // the face's number on the annotated photo (1-based, detection order)
  EmbeddingVector embedding{};
  std::string crop_jpeg;      // keep_unknown_faces: the unknown face's crop (not in the JSON)
  std::string face_id, crop_file_id;  // keep_unknown_faces: the stored unknown face
};

struct RecognizeResult {
  std::string session, photo_file_id, audit_id;
  std::string annotated_file_id;  // store_annotated
  int width = 0, height = 0;
  UnixMillis timestamp = 0;
  std::vector<RecognizedFace> faces;
  int64_t gallery_embeddings = 0, gallery_people = 0;
  std::string gallery_search;  // "hnsw" (the cached index, app/faces/gallery_index.h) or "exact"
  // decodeMs: read and decode the photo; facesMs: detect + describe every face; galleryMs: load the
  // gallery (+ adopt the index); searchMs: search every face in it; imagesMs: draw and encode the annotated
  // photo and the unknown faces' crops; storeMs: the write transaction, commit included.
  nlohmann::json timings;
  std::string gallery_note;    // why, e.g. "no gallery index (build it with `facecrowd gallery index`)"
  // E.g. profiles recognition cannot find because their embeddings are all of another face model
  // (app/faces/gallery_models.h); the command still succeeds.
  std::vector<std::string> warnings;
  nlohmann::json to_json() const;  // {session, photoFileId, timestamp, width, height, recognised: [...], unknown: [...], warnings, auditId}
};

// Error(kUsage) for an empty session; the photo's errors are read_photo()'s (app/photo_input.h).
RecognizeResult recognize(Database& db, vision::FacePipeline& pipeline, const RecognizeRequest& request);

struct AttendanceQuery {
  std::optional<std::string> session;
  std::optional<std::string> person;  // profile id, external id or exact name (Error(kNotFound)/kConflict)
  std::optional<UnixMillis> from, to;  // timestamp >= from, <= to
  int64_t limit = -1;
};

// Matching records in timestamp order, as relaxed Extended JSON.
std::vector<nlohmann::json> list_attendance(Database::ReadTransaction& tx, const AttendanceQuery& query);

}  // namespace facecrowd
