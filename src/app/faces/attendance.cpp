#include "app/faces/attendance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "app/faces/annotate.h"
#include "core/output_target.h"
#include "app/records/audit.h"
#include "app/faces/gallery_models.h"
#include "app/privacy/erasure_ledger.h"
#include "app/faces/gallery_index.h"
#include "app/faces/gallery_loader.h"
#include "core/request_deadline.h"
#include "app/photo_input.h"
#include "app/faces/profiles.h"
#include "app/faces/unknown_faces.h"
#include "core/error.h"
#include "core/number_text.h"
#include "core/object_id.h"
#include "store/file_store.h"

namespace facecrowd {

namespace {

double round4(double v) { return std::round(v * 10000) / 10000; }

nlohmann::json box_json(const cv::Rect& b) { return {{"x", b.x}, {"y", b.y}, {"w", b.width}, {"h", b.height}}; }

cv::Rect to_pixels(const cv::Rect2f& b, cv::Size image) {
  cv::Rect r(int(std::lround(b.x)), int(std::lround(b.y)), int(std::lround(b.width)), int(std::lround(b.height)));
  return r & cv::Rect(0, 0, image.width, image.height);
}

double stored_confidence(const Document& record) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, record.get(), "confidence") && BSON_ITER_HOLDS_NUMBER(&it)) return bson_iter_as_double(&it);
  return -1;
}

}  // namespace

nlohmann::json RecognizeResult::to_json() const {
  auto known = nlohmann::json::array(), unknown = nlohmann::json::array();
  for (const auto& f : faces) {
    nlohmann::json j = {{"box", box_json(f.box)},
                        {"detectionScore", round4(f.detection_score)},
                        {"label", f.label},
                        {"sharpness", round4(f.sharpness)}};
    if (f.closest_id) {
      j["distance"] = round4(f.distance);
      j["margin"] = round4(f.margin);
    }
    if (f.known) {
      j["personId"] = *f.person_id;
      j["personName"] = f.person_name.value_or("");
      j["confidence"] = round4(f.confidence);
      j["record"] = f.record;
      j["attendanceId"] = f.attendance_id;
      known.push_back(std::move(j));
    } else {
      if (f.closest_id) {
        j["closestId"] = *f.closest_id;
        j["closestName"] = f.closest_name.value_or("");
      }
      j["why"] = f.why_unknown;
      j["unknownReason"] = f.unknown_reason.empty() ? verdict_name(f.verdict) : f.unknown_reason;
      if (!f.face_id.empty()) j["faceId"] = f.face_id;
      if (!f.crop_file_id.empty()) j["cropFileId"] = f.crop_file_id;
      unknown.push_back(std::move(j));
    }
  }
  nlohmann::json out = {{"session", session},     {"photoFileId", photo_file_id},
          {"timestamp", format_iso8601(timestamp)},
          {"width", width},         {"height", height},
          {"recognised", known},    {"unknown", unknown},
          {"gallery",
           {{"embeddings", gallery_embeddings},
            {"people", gallery_people},
            {"search", gallery_search},
            {"note", gallery_note}}},
          {"timings", timings},
          {"warnings", warnings},
          {"auditId", audit_id}};
  if (!annotated_file_id.empty()) out["annotatedFileId"] = annotated_file_id;
  return out;
}

namespace {

// A photo whose faces were not (all) recognised is evidence of who was there. One attendance record per
// photo and session stands for its unknown faces: {personId: null, personName: "unknown", unknownFaces: N,
// boxes, photoFileId, …}. It points to the photo, so the photo is a referenced file (file_store.h) that
// follows the attendance retention like every other group photo, instead of being swept as unreferenced
// minutes later (only the audit entry, which is no reference, named it). Like an anonymised record
// (personId null) it counts heads, not people. Recognising the same photo again keeps the first record.
// With keep_unknown_faces each unknown face is also an entry of the record's `faces` (app/faces/unknown_faces.h):
// its crop is stored here, and the result's faces get their ids (of the first record, when it was kept).
void record_unknown_faces(Database::WriteTransaction& tx, RecognizeResult& result, int64_t unknown, bool keep_faces,
                          const std::string& model_version) {
  std::optional<nlohmann::json> recorded;
  tx.find("attendances", Query{{{"session", "=", result.session}}}, [&](const Document& d) {
    auto j = d.to_json();
    if (j.contains("unknownFaces") && j.contains("photoFileId") && j["photoFileId"].is_object() &&
        j["photoFileId"].value("$oid", "") == result.photo_file_id)
      recorded = std::move(j);
    return !recorded;
  });
  if (recorded) {
    if (!keep_faces || !recorded->contains("faces") || !(*recorded)["faces"].is_array()) return;
    const std::string record_id = (*recorded)["_id"].value("$oid", "");
    for (auto& f : result.faces)
      for (const auto& entry : (*recorded)["faces"])
        if (!f.known && entry.value("box", nlohmann::json()) == box_json(f.box)) {
          f.face_id = unknown_face_id(record_id, entry.value("n", 0));
          if (entry.contains("cropFileId")) f.crop_file_id = entry["cropFileId"].value("$oid", "");
        }
    return;
  }
  const std::string record_id = new_object_id();
  auto boxes = nlohmann::json::array(), entries = nlohmann::json::array();
  int n = 0;
  for (auto& f : result.faces) {
    if (f.known) continue;
    boxes.push_back(box_json(f.box));
    if (!keep_faces) continue;
    ++n;
    // A face that turned unknown inside the transaction (its person erased meanwhile) has no crop: nothing
    // of an erased person is kept.
    std::optional<std::string> crop;
    if (!f.crop_jpeg.empty())
      crop = put_file(tx, f.crop_jpeg, NewFile{.filename = "unknown-face-" + record_id + "-" + std::to_string(n) + ".jpg",
                                               .content_type = "image/jpeg",
                                               .kind = FileKind::kFacialImage,
                                               .upload_date = std::nullopt,
                                               .id = std::nullopt});
    entries.push_back(unknown_face_entry(n, f.box, crop, crop ? std::optional<EmbeddingVector>(f.embedding) : std::nullopt,
                                         model_version));
    f.face_id = unknown_face_id(record_id, n);
    if (crop) f.crop_file_id = *crop;
  }
  nlohmann::json doc = {{"_id", {{"$oid", record_id}}},
                        {"personId", nullptr},
                        {"personName", "unknown"},
                        {"session", result.session},
                        {"timestamp", {{"$date", result.timestamp}}},
                        {"unknownFaces", unknown},
                        {"boxes", boxes},
                        {"photoFileId", {{"$oid", result.photo_file_id}}},
                        {"archived", false}};
  if (keep_faces) doc["faces"] = entries;
  if (!result.annotated_file_id.empty()) doc["annotatedFileId"] = {{"$oid", result.annotated_file_id}};
  tx.insert("attendances", Document::from_json(doc, "attendance record of unknown faces"));
}

}  // namespace

RecognizeResult recognize(Database& db, vision::FacePipeline& pipeline, const RecognizeRequest& request) {
  if (request.session.empty()) throw Error(ExitCode::kUsage, "recognize: --session must not be empty");
  if (request.annotate) {
    check_jpeg_path(*request.annotate);
    require_output_target(*request.annotate, "--annotate", {request.photo}, true);
  }
  validate_match_policy(request.match);

  // 1. Everything is computed before the write transaction.
  auto checkpoint = std::chrono::steady_clock::now();
  auto millis_since = [](std::chrono::steady_clock::time_point& t) {
    auto now = std::chrono::steady_clock::now();
    double ms = std::chrono::duration<double, std::milli>(now - t).count();
    t = now;
    return ms;
  };
  Photo photo = request.upload ? decode_photo(request.upload->bytes, request.upload->name, pipeline.options().image)
                               : read_photo(request.photo, pipeline.options().image);
  const std::string photo_name = request.upload ? request.upload->name : request.photo.filename().string();
  const double decode_ms = millis_since(checkpoint);
  check_request_deadline("face detection");
  std::vector<vision::Face> faces = pipeline.analyse(photo.bgr);
  double faces_ms = millis_since(checkpoint);
  check_request_deadline("the gallery search");

  RecognizeResult result;
  result.session = request.session;
  result.width = photo.bgr.cols;
  result.height = photo.bgr.rows;
  result.timestamp = request.taken_at.value_or(now_millis());
  {
    auto rtx = db.read();
    SearchGallery search;
    if (!request.warm_gallery)
      search = open_search_gallery(rtx, db.file().parent_path(), pipeline.models().embedding_model_version,
                                   faces.size(), request.gallery_search);
    const vision::Gallery& gallery = request.warm_gallery ? *request.warm_gallery : *search.gallery;
    auto& loaded = search.loaded;
    if (request.warm_gallery) {
      result.gallery_embeddings = int64_t(gallery.size());
      result.gallery_people = int64_t(gallery.people());
      result.gallery_search = gallery.uses_hnsw() ? "hnsw" : "exact";
      result.gallery_note = "warm gallery of the service";
    } else {
      result.gallery_embeddings = loaded.embeddings;
      result.gallery_people = loaded.profiles;
      result.gallery_search = search.index.used ? "hnsw" : "exact";
      result.gallery_note = search.index.note;
      if (auto w = gallery_model_warning(loaded.without_model, pipeline.models().embedding_model_version))
        result.warnings.push_back(*w);
    }
    // The warm gallery holds ids only: names come from this snapshot.
    auto name_of = [&](const std::string& id) -> std::string {
      if (!request.warm_gallery) return loaded.names[id];
      if (auto it = loaded.names.find(id); it != loaded.names.end()) return it->second;
      std::string name;
      if (auto doc = rtx.get("faceprofiles", id)) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, doc->get(), "name") && BSON_ITER_HOLDS_UTF8(&it)) name = bson_iter_utf8(&it, nullptr);
      }
      return loaded.names[id] = name;
    };
    // How a why text names a person: by name, else (a profile without one) by id.
    auto who_is = [&](const std::string& id) {
      std::string name = name_of(id);
      return name.empty() ? "profile " + id : name;
    };
    result.timings = {{"decodeMs", round4(decode_ms)}, {"facesMs", round4(faces_ms)},
                      {"galleryMs", round4(millis_since(checkpoint))}};
    for (const auto& face : faces) {
      RecognizedFace r;
      r.label = int(result.faces.size()) + 1;
      r.embedding = face.embedding.unit;
      r.box = to_pixels(face.box, photo.bgr.size());
      r.detection_score = face.detection_score;
      auto match = gallery.search(face.embedding.unit);
      r.sharpness = face.quality.blur_variance;
      if (!match) {
        // Profiles of other face models may be enrolled (recognize's warning says so): none of this one is.
        r.why_unknown = "no one is enrolled for this face model";
        r.unknown_reason = "no-one-enrolled";
      } else {
        r.closest_id = match->person_id;
        r.closest_name = name_of(match->person_id);
        r.distance = match->distance;
        r.margin = match->margin;
        // The matched enrolled face's sharpness, from this snapshot (MatchPolicy::soft_enrolled_faces).
        float enrolled = kUnknownSharpness;
        if (request.match.soft_enrolled_faces && !request.match.soft_faces.empty())
          if (auto doc = rtx.get("faceprofiles", match->person_id)) enrolled = enrolled_sharpness(*doc, match->embedding_id);
        r.confidence = match_confidence(match->distance, request.match, face.quality.blur_variance, enrolled);
        r.verdict = decide_match(*match, request.match, face.quality.blur_variance, enrolled);
        switch (r.verdict) {
          case MatchVerdict::kRecognised:
            r.known = true;
            r.person_id = r.closest_id;
            r.person_name = r.closest_name;
            break;
          case MatchVerdict::kNoMatch:
            r.why_unknown = "closest profile at distance " + fixed_decimals(match->distance, 3) + " > threshold " +
                            fixed_decimals(request.match.max_distance, 3);
            break;
          case MatchVerdict::kTooBlurred:
            // Worded for the operator who reads it (issue 12): what was seen, why it is not enough, what helps.
            r.why_unknown = "too blurred to identify: closest profile at distance " + fixed_decimals(match->distance, 3) +
                            ", but a face this blurred (sharpness " + fixed_decimals(face.quality.blur_variance, 0) +
                            ") counts as a match only at " +
                            fixed_decimals(threshold_for(request.match, face.quality.blur_variance), 3) +
                            " or closer; a sharper or closer photo of the person would do";
            break;
          case MatchVerdict::kEnrolledTooBlurred: {
            const std::string who = who_is(*r.closest_id);
            r.why_unknown = "closest to " + who + " at distance " + fixed_decimals(match->distance, 3) + ", but " + who +
                            "'s enrolled photo is too blurred to be sure (sharpness " + fixed_decimals(enrolled, 0) +
                            ": it counts as a match only at " +
                            fixed_decimals(threshold_for(request.match, face.quality.blur_variance, enrolled), 3) +
                            " or closer); enrol a sharper photo of " + who;
            break;
          }
          case MatchVerdict::kAmbiguous:
            r.why_unknown = "ambiguous: margin " + fixed_decimals(match->margin, 3) + " to the next person < " +
                            fixed_decimals(request.match.min_margin, 3);
            break;
          case MatchVerdict::kCrowdedEnrolledFace: {
            // Both named: the other person's enrolment may be the one to look at (a photo of this person
            // enrolled under another name with --force).
            const std::string who = who_is(*r.closest_id);
            const std::string neighbour =
                match->isolation_person_id ? who_is(*match->isolation_person_id) : "another person";
            r.why_unknown = "closest to " + who + " at distance " + fixed_decimals(match->distance, 3) + ", but " + who +
                            "'s enrolled photo lies near " + neighbour + "'s (distance " +
                            fixed_decimals(match->isolation, 3) + "), so a match must be within " +
                            fixed_decimals(request.match.gallery_isolation * match->isolation, 3) +
                            " of it; enrolling a sharper, larger photo of " + who + " usually sets it apart";
            break;
          }
        }
      }
      result.faces.push_back(std::move(r));
    }
    result.timings["searchMs"] = round4(millis_since(checkpoint));
  }
  // A person is in a photo once: the closest face keeps the identity.
  std::map<std::string, size_t> best_face;
  for (size_t i = 0; i < result.faces.size(); ++i) {
    auto& f = result.faces[i];
    if (!f.known) continue;
    auto [it, inserted] = best_face.try_emplace(*f.person_id, i);
    if (inserted) continue;
    auto& other = result.faces[it->second];
    RecognizedFace& loser = f.distance < other.distance ? other : f;
    if (&loser == &other) it->second = i;
    loser.known = false;
    loser.why_unknown = "also closest to " + loser.person_name.value_or("") + ", who matched another face better";
    loser.unknown_reason = "person-matched-another-face";
    loser.person_id.reset();
    loser.person_name.reset();
  }

  if (request.annotate) {
    std::vector<FaceLabel> labels;
    for (const auto& f : result.faces)
      labels.push_back({f.box, f.known ? *f.person_name + " " + fixed_decimals(f.confidence, 2) : std::string("unknown"), f.known});
    write_jpeg(*request.annotate, annotate(photo.bgr, labels));
  }
  std::string annotated_jpeg;
  if (request.store_annotated) {
    std::vector<FaceLabel> labels;
    for (const auto& f : result.faces) labels.push_back({f.box, std::to_string(f.label), f.known});
    annotated_jpeg = encode_jpeg(annotate(photo.bgr, labels));
  }
  if (request.keep_unknown_faces)
    for (auto& f : result.faces)
      if (!f.known) f.crop_jpeg = face_crop_jpeg(photo.bgr, f.box);
  result.timings["imagesMs"] = round4(millis_since(checkpoint));  // the annotated photo and the crops
  check_request_deadline("storing the photo and its records");

  // 2. One write transaction. The matches were made outside it: a person deleted or erased since then
  // must not get a record (the erasure's ledger line is written before its commit, so read it in here).
  auto tx = db.write();
  {
    std::set<std::string> erased;
    for (const auto& record : ErasureLedger(db.file().parent_path().parent_path()).read()) erased.insert(record.person_id);
    for (auto& f : result.faces) {
      if (!f.known) continue;
      if (!erased.count(*f.person_id) && tx.get("faceprofiles", *f.person_id)) continue;
      f.known = false;
      f.why_unknown = "erased or deleted while recognising";
      f.unknown_reason = "erased-or-deleted";
      f.person_id.reset();
      f.person_name.reset();
      f.closest_id.reset();
      f.closest_name.reset();
    }
  }
  result.photo_file_id = put_file(tx, photo.bytes, NewFile{.filename = photo_name,
                                                           .content_type = photo.content_type,
                                                           .kind = FileKind::kGroupPhoto,
                                                           .upload_date = std::nullopt,
                                                           .id = std::nullopt});
  if (!annotated_jpeg.empty())
    result.annotated_file_id = put_file(tx, annotated_jpeg, NewFile{.filename = "annotated-" + photo_name,
                                                                    .content_type = "image/jpeg",
                                                                    .kind = FileKind::kGroupPhoto,
                                                                    .upload_date = std::nullopt,
                                                                    .id = std::nullopt});
  auto records = nlohmann::json::array();
  for (auto& f : result.faces) {
    if (!f.known) continue;
    std::optional<Document> existing;
    tx.find("attendances",
            Query{{{"session", "=", request.session}, {"personId", "=", *f.person_id}}},
            [&](const Document& d) {
              if (!existing || stored_confidence(d) > stored_confidence(*existing)) existing = d;
              return true;
            });
    nlohmann::json doc = {{"personId", {{"$oid", *f.person_id}}},
                          {"personName", f.person_name.value_or("")},
                          {"session", request.session},
                          {"timestamp", {{"$date", result.timestamp}}},
                          {"confidence", round4(f.confidence)},
                          {"box", box_json(f.box)},
                          {"photoFileId", {{"$oid", result.photo_file_id}}},
                          {"archived", false}};
    if (!result.annotated_file_id.empty()) doc["annotatedFileId"] = {{"$oid", result.annotated_file_id}};
    if (!existing) {
      f.attendance_id = new_object_id();
      doc["_id"] = {{"$oid", f.attendance_id}};
      tx.insert("attendances", Document::from_json(doc, "attendance record"));
      f.record = "inserted";
    } else {
      f.attendance_id = *existing->id_key();
      if (round4(f.confidence) > stored_confidence(*existing)) {
        doc["_id"] = {{"$oid", f.attendance_id}};
        tx.replace("attendances", Document::from_json(doc, "attendance record " + f.attendance_id));
        f.record = "updated";
      } else {
        f.record = "kept";
      }
    }
    records.push_back({{"personId", *f.person_id}, {"attendanceId", f.attendance_id}, {"record", f.record},
                       {"confidence", round4(f.confidence)}});
  }
  int64_t unknown = std::count_if(result.faces.begin(), result.faces.end(), [](const auto& f) { return !f.known; });
  if (unknown > 0)
    record_unknown_faces(tx, result, unknown, request.keep_unknown_faces, pipeline.models().embedding_model_version);
  result.audit_id = append_audit(
      tx, AuditEntry{.action = "attendance.recognize",
                     .target = request.session,
                     .actor = request.actor,
                     .client_address = request.client_address,
                     .details = {{"photoFileId", result.photo_file_id}, {"photo", request.upload ? photo_name : request.photo.string()},
                                 {"faces", result.faces.size()}, {"recognised", records}, {"unknown", unknown},
                                 {"match", match_policy_json(request.match)},
                                 {"modelVersion", pipeline.models().embedding_model_version}}});
  check_request_deadline("the commit");  // past it: the transaction rolls back, nothing is stored
  tx.commit();
  result.timings["storeMs"] = round4(millis_since(checkpoint));
  return result;
}

std::vector<nlohmann::json> list_attendance(Database::ReadTransaction& tx, const AttendanceQuery& query) {
  Query q;
  q.order_by = "timestamp";
  q.limit = query.limit;
  if (query.session) q.where.push_back({"session", "=", *query.session});
  if (query.person) {
    std::optional<Document> profile = find_profile(tx, *query.person);
    if (!profile) {
      auto named = find_profiles_by_name(tx, *query.person);
      if (named.size() > 1)
        throw Error(ExitCode::kConflict, std::to_string(named.size()) + " profiles are named '" + *query.person +
                                             "'; give the profile id instead");
      if (named.empty())
        throw Error(ExitCode::kNotFound, "no face profile with id, external id or name '" + *query.person + "'");
      profile = named.front();
    }
    q.where.push_back({"personId", "=", *profile->id_key()});
  }
  if (query.from) q.where.push_back({"timestamp", ">=", int64_t(*query.from)});
  if (query.to) q.where.push_back({"timestamp", "<=", int64_t(*query.to)});
  std::vector<nlohmann::json> out;
  tx.find("attendances", q, [&](const Document& d) {
    out.push_back(d.to_json());
    // Unknown faces' embeddings are biometric data and 128 numbers long: never listed (as profiles show).
    if (auto& j = out.back(); j.contains("faces") && j["faces"].is_array())
      for (auto& f : j["faces"])
        if (f.is_object() && f.contains("embedding") && f["embedding"].is_object()) f["embedding"]["vector"] = "<128 float32>";
    return true;
  });
  return out;
}

}  // namespace facecrowd
