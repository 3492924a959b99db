// Unknown faces: the faces a recognition could not name, kept for review, clustering and assignment.
//
// Storage. They live in the photo's unknown-faces attendance record (app/faces/attendance.h), so they follow the
// attendance retention, backups and restores like every other record, and need no collection of their own:
//   {personId: null, personName: "unknown", session, timestamp, unknownFaces: N, boxes: [...], photoFileId,
//    annotatedFileId?, faces: [{n, box: {x,y,w,h}, cropFileId?, embedding?: {vector: binary(128 x float32),
//    modelVersion}}]}
// `faces` is written only when the recognition keeps unknown faces (RecognizeRequest::keep_unknown_faces:
// the service and the CLI do, unless `recognize --no-keep-unknown-faces`). A face's crop is a facial_image
// file (biometric data: viewers cannot download it); a face that turned unknown inside the write
// transaction because its person was erased meanwhile gets neither crop nor embedding (nothing of an
// erased person is kept).
//
// Ids. An unknown face is "<record id>-<n>": n is the face's number in its record, never reused, so an id
// stays valid while other faces of the photo are assigned.
//
// Listing (list_unknown_faces): of the records without a person only (personId null: the (personId,
// timestamp) index, or (session, personId) by session), so neither an unfiltered listing nor a wide time
// range reads the people's records; `max_faces` stops the scan after that many faces (a page, or the
// clustering cap), so no request reads every unknown face either. Clustering (cluster_unknown_faces): greedy, in time order — each face joins the
// cluster whose centroid (the normalised mean of its faces) is closest, when that distance is within the
// recognition threshold (unit-vector L2, as the gallery measures), else it starts a new cluster. So the
// same stranger seen in five sessions is one cluster of five faces. Faces without an embedding are
// clusters of one.
//
// Assignment (resolve_unknown_face, run inside the enrollment's write transaction by Service): the face
// leaves its record (boxes and unknownFaces follow; a record left with no face is removed, the person's
// record now stands for the photo), the person gets the session's attendance record when they have none
// ({confidence: null, assignedFromFace: id}: a person's judgement, not a match score), and an
// "unknown.assign" audit entry names the actor. Error(kNotFound) when the face is no longer unknown.
#pragma once

#include <opencv2/core.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/faces/gallery_loader.h"
#include "core/utc_time.h"
#include "store/database.h"

namespace facecrowd {

struct UnknownFace {
  std::string id, record_id;
  int n = 0;
  std::string session;
  UnixMillis timestamp = 0;
  cv::Rect box;
  std::optional<std::string> crop_file_id, photo_file_id, annotated_file_id;
  std::optional<EmbeddingVector> embedding;
  std::string model_version;
  // {id, session, timestamp, box, cropFileId, cropUrl, photoFileId, annotatedFileId} (never the embedding)
  nlohmann::json to_json() const;
};

struct UnknownFaceQuery {
  std::optional<std::string> session;
  std::optional<UnixMillis> from, to;
  int64_t max_faces = -1;  // stop after this many faces (time order); -1: all
};

std::vector<UnknownFace> list_unknown_faces(Database::ReadTransaction& tx, const UnknownFaceQuery& query);
// The face, or nullopt (malformed id, no such record, or the face was assigned). Error(kBadInput) for an
// id that is not "<24 hex>-<number>".
std::optional<UnknownFace> find_unknown_face(Database::ReadTransaction& tx, const std::string& id);

struct UnknownCluster {
  std::vector<UnknownFace> faces;  // time order; the first is the representative
  nlohmann::json to_json() const;  // {id, size, sessions, firstSeen, lastSeen, representative, faceIds}
};
std::vector<UnknownCluster> cluster_unknown_faces(std::vector<UnknownFace> faces, float max_distance);

// For the recognition that stores them (app/faces/attendance.cpp).
// The vector of a face's stored `embedding` ({vector: binary(128 x float32), modelVersion}); nullopt when
// there is none or it does not decode.
std::optional<EmbeddingVector> unknown_face_vector(const nlohmann::json& embedding);
// Unit-vector L2 distance, as the gallery measures it.
float embedding_vector_distance(const EmbeddingVector& a, const EmbeddingVector& b);

std::string face_crop_jpeg(const cv::Mat& bgr, const cv::Rect& box);  // the box plus 40% each side
nlohmann::json unknown_face_entry(int n, const cv::Rect& box, const std::optional<std::string>& crop_file_id,
                                  const std::optional<EmbeddingVector>& embedding, const std::string& model_version);
std::string unknown_face_id(const std::string& record_id, int n);

struct UnknownFaceResolution {
  std::string face_id, session, attendance_id;
  std::string record;  // "inserted" (the person's record of the session) or "kept" (they had one)
  bool unknown_record_removed = false;
  nlohmann::json to_json() const;
};
UnknownFaceResolution resolve_unknown_face(Database::WriteTransaction& tx, const std::string& face_id,
                                           const std::string& person_id, const std::string& person_name,
                                           const std::optional<std::string>& actor, const std::string& client_address);

}  // namespace facecrowd
