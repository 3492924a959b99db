#include "app/faces/unknown_faces.h"
#include "store/null_condition.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "app/records/audit.h"
#include "core/error.h"
#include "core/object_id.h"
#include "vision/image_codecs.h"

namespace facecrowd {

namespace {

using Json = nlohmann::json;

Json box_json(const cv::Rect& b) { return {{"x", b.x}, {"y", b.y}, {"w", b.width}, {"h", b.height}}; }

cv::Rect box_of(const Json& j) {
  if (!j.is_object()) return {};
  auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<int>() : 0; };
  return {num("x"), num("y"), num("w"), num("h")};
}

std::optional<std::string> oid_of(const Json& record, const char* key) {
  if (!record.contains(key)) return std::nullopt;
  const Json& v = record[key];
  if (v.is_object() && v.contains("$oid") && v["$oid"].is_string()) return v["$oid"].get<std::string>();
  if (v.is_string()) return v.get<std::string>();
  return std::nullopt;
}

UnixMillis date_of(const Json& v) {
  if (v.is_object() && v.contains("$date")) {
    const Json& d = v["$date"];
    if (d.is_number()) return d.get<UnixMillis>();
    if (d.is_string()) return parse_iso8601(d.get<std::string>()).value_or(0);
    if (d.is_object() && d.contains("$numberLong")) return std::stoll(d["$numberLong"].get<std::string>());
  }
  return v.is_number() ? v.get<UnixMillis>() : 0;
}

// Every face entry of one unknown-faces record (none when it has no `faces`).
std::vector<UnknownFace> faces_of(const Document& doc) {
  std::vector<UnknownFace> out;
  Json j = doc.to_json();
  if (!j.contains("faces") || !j["faces"].is_array()) return out;
  auto record_id = doc.id_key();
  if (!record_id) return out;
  for (const auto& f : j["faces"]) {
    if (!f.is_object() || !f.contains("n") || !f["n"].is_number_integer()) continue;
    UnknownFace u;
    u.record_id = *record_id;
    u.n = f["n"].get<int>();
    u.id = unknown_face_id(u.record_id, u.n);
    u.session = j.value("session", "");
    u.timestamp = date_of(j.value("timestamp", Json()));
    u.box = box_of(f.value("box", Json()));
    u.crop_file_id = oid_of(f, "cropFileId");
    u.photo_file_id = oid_of(j, "photoFileId");
    u.annotated_file_id = oid_of(j, "annotatedFileId");
    if (f.contains("embedding")) {
      u.embedding = unknown_face_vector(f["embedding"]);
      u.model_version = f["embedding"].value("modelVersion", "");
    }
    out.push_back(std::move(u));
  }
  return out;
}

std::optional<std::pair<std::string, int>> parse_id(const std::string& id) {
  auto dash = id.find('-');
  if (dash != 24 || id.size() < 26 || id.size() > 34) return std::nullopt;
  std::string record = id.substr(0, 24), number = id.substr(25);
  if (!std::all_of(record.begin(), record.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); }) ||
      !std::all_of(number.begin(), number.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
    return std::nullopt;
  return std::make_pair(record, std::stoi(number));
}

std::pair<std::string, int> require_id(const std::string& id) {
  auto parsed = parse_id(id);
  if (!parsed)
    throw Error(ExitCode::kBadInput, "unknown face id '" + id.substr(0, 40) +
                                         "' is not of the form <24 hex digits>-<number> (as listed by GET /api/v1/unknown-faces)");
  return *parsed;
}

EmbeddingVector normalised(const std::vector<float>& sum) {
  EmbeddingVector out(sum.size());
  double norm = 0;
  for (float v : sum) norm += double(v) * v;
  norm = std::sqrt(norm);
  for (size_t i = 0; i < out.size(); ++i) out[i] = norm > 0 ? float(sum[i] / norm) : 0.0f;
  return out;
}

}  // namespace

std::optional<EmbeddingVector> unknown_face_vector(const nlohmann::json& embedding) {
  if (!embedding.is_object() || !embedding.contains("vector")) return std::nullopt;
  try {
    Document d = Document::from_json(nlohmann::json{{"v", embedding["vector"]}}, "unknown face embedding");
    bson_iter_t it;
    if (!bson_iter_init_find(&it, d.get(), "v")) return std::nullopt;
    return decode_embedding_vector(it);
  } catch (const Error&) {
    return std::nullopt;
  }
}

float embedding_vector_distance(const EmbeddingVector& a, const EmbeddingVector& b) {
  if (a.size() != b.size()) return 2;  // different models: as far apart as unit vectors can be
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(d);
}

std::string unknown_face_id(const std::string& record_id, int n) { return record_id + "-" + std::to_string(n); }

Json UnknownFace::to_json() const {
  Json j = {{"id", id}, {"session", session}, {"timestamp", format_iso8601(timestamp)}, {"box", box_json(box)},
            {"cropFileId", crop_file_id ? Json(*crop_file_id) : Json(nullptr)},
            {"cropUrl", crop_file_id ? Json("/api/v1/files/" + *crop_file_id) : Json(nullptr)},
            {"photoFileId", photo_file_id ? Json(*photo_file_id) : Json(nullptr)},
            {"annotatedFileId", annotated_file_id ? Json(*annotated_file_id) : Json(nullptr)},
            {"assignable", crop_file_id.has_value()}};
  return j;
}

std::vector<UnknownFace> list_unknown_faces(Database::ReadTransaction& tx, const UnknownFaceQuery& query) {
  Query q;
  q.order_by = "timestamp";
  // Only records without a person hold unknown faces: with the (personId, timestamp) and (session, personId)
  // indexes the scan never reads the people's records, however many there are.
  q.where.push_back({"personId", kIsNull, int64_t(0)});
  if (query.session) q.where.push_back({"session", "=", *query.session});
  if (query.from) q.where.push_back({"timestamp", ">=", int64_t(*query.from)});
  if (query.to) q.where.push_back({"timestamp", "<=", int64_t(*query.to)});
  std::vector<UnknownFace> out;
  tx.find("attendances", q, [&](const Document& d) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, d.get(), "faces")) return true;  // anonymised, or kept without faces: no decode
    for (auto& f : faces_of(d)) out.push_back(std::move(f));
    return query.max_faces < 0 || int64_t(out.size()) < query.max_faces;
  });
  return out;
}

std::optional<UnknownFace> find_unknown_face(Database::ReadTransaction& tx, const std::string& id) {
  auto [record_id, n] = require_id(id);
  auto doc = tx.get("attendances", record_id);
  if (!doc) return std::nullopt;
  for (auto& f : faces_of(*doc))
    if (f.n == n) return f;
  return std::nullopt;
}

Json UnknownCluster::to_json() const {
  std::set<std::string> sessions;
  Json ids = Json::array();
  for (const auto& f : faces) {
    sessions.insert(f.session);
    ids.push_back(f.id);
  }
  return {{"id", faces.front().id},
          {"size", faces.size()},
          {"sessions", sessions},
          {"firstSeen", format_iso8601(faces.front().timestamp)},
          {"lastSeen", format_iso8601(faces.back().timestamp)},
          {"representative", faces.front().to_json()},
          {"faceIds", ids}};
}

std::vector<UnknownCluster> cluster_unknown_faces(std::vector<UnknownFace> faces, float max_distance) {
  std::stable_sort(faces.begin(), faces.end(), [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
  std::vector<UnknownCluster> clusters;
  struct Centroid {
    std::vector<float> sum;
    EmbeddingVector unit;
    std::string model_version;
  };
  std::vector<std::optional<Centroid>> centroids;
  for (auto& f : faces) {
    std::optional<size_t> best;
    float best_d = max_distance;
    if (f.embedding)
      for (size_t c = 0; c < clusters.size(); ++c) {
        if (!centroids[c] || centroids[c]->model_version != f.model_version) continue;
        float d = embedding_vector_distance(*f.embedding, centroids[c]->unit);
        if (d <= best_d) {
          best_d = d;
          best = c;
        }
      }
    if (!best) {
      clusters.push_back({});
      centroids.emplace_back();
      if (f.embedding) centroids.back() = Centroid{std::vector<float>(f.embedding->begin(), f.embedding->end()), *f.embedding, f.model_version};
      best = clusters.size() - 1;
    } else {
      auto& c = *centroids[*best];
      for (size_t i = 0; i < c.sum.size(); ++i) c.sum[i] += (*f.embedding)[i];
      c.unit = normalised(c.sum);
    }
    clusters[*best].faces.push_back(std::move(f));
  }
  return clusters;
}

std::string face_crop_jpeg(const cv::Mat& bgr, const cv::Rect& box) {
  const int mx = int(box.width * 0.4), my = int(box.height * 0.4);
  cv::Rect wide = cv::Rect(box.x - mx, box.y - my, box.width + 2 * mx, box.height + 2 * my) & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (wide.empty()) return "";
  std::vector<uchar> bytes;
  if (!vision::imencode(".jpg", bgr(wide), bytes, {cv::IMWRITE_JPEG_QUALITY, 92}))
    throw Error(ExitCode::kInternal, "cannot encode an unknown face's crop as JPEG");
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Json unknown_face_entry(int n, const cv::Rect& box, const std::optional<std::string>& crop_file_id,
                        const std::optional<EmbeddingVector>& embedding, const std::string& model_version) {
  Json j = {{"n", n}, {"box", box_json(box)}};
  if (crop_file_id) j["cropFileId"] = {{"$oid", *crop_file_id}};
  if (embedding) {
    bson_t* b = bson_new();
    append_embedding_vector(b, "vector", *embedding);
    BSON_APPEND_UTF8(b, "modelVersion", model_version.c_str());
    j["embedding"] = Document(b).to_json();
  }
  return j;
}

Json UnknownFaceResolution::to_json() const {
  return {{"faceId", face_id}, {"session", session}, {"attendanceId", attendance_id}, {"record", record},
          {"unknownRecordRemoved", unknown_record_removed}};
}

UnknownFaceResolution resolve_unknown_face(Database::WriteTransaction& tx, const std::string& face_id,
                                           const std::string& person_id, const std::string& person_name,
                                           const std::optional<std::string>& actor, const std::string& client_address) {
  auto [record_id, n] = require_id(face_id);
  auto doc = tx.get("attendances", record_id);
  Json j = doc ? doc->to_json() : Json();
  Json kept_faces = Json::array(), boxes = Json::array(), assigned;
  if (doc && j.contains("faces") && j["faces"].is_array())
    for (const auto& f : j["faces"]) {
      if (f.is_object() && f.value("n", -1) == n) assigned = f;
      else {
        kept_faces.push_back(f);
        boxes.push_back(f.value("box", Json::object()));
      }
    }
  if (assigned.is_null())
    throw Error(ExitCode::kNotFound, "unknown face " + face_id + " is not (or no longer) unknown: it was assigned, or "
                                     "its record was removed by retention; list them with GET /api/v1/unknown-faces");
  UnknownFaceResolution r;
  r.face_id = face_id;
  r.session = j.value("session", "");
  if (kept_faces.empty()) {
    tx.remove("attendances", record_id);
    r.unknown_record_removed = true;
  } else {
    j["faces"] = kept_faces;
    j["boxes"] = boxes;
    j["unknownFaces"] = kept_faces.size();
    tx.replace("attendances", Document::from_json(j, "unknown-faces record " + record_id));
  }
  std::optional<std::string> existing;
  tx.find("attendances", Query{{{"session", "=", r.session}, {"personId", "=", person_id}}}, [&](const Document& d) {
    existing = d.id_key();
    return false;
  });
  if (existing) {
    r.attendance_id = *existing;
    r.record = "kept";
  } else {
    r.attendance_id = new_object_id();
    Json record = {{"_id", {{"$oid", r.attendance_id}}},
                   {"personId", {{"$oid", person_id}}},
                   {"personName", person_name},
                   {"session", r.session},
                   {"timestamp", j.value("timestamp", Json())},
                   {"confidence", nullptr},
                   {"box", assigned.value("box", Json::object())},
                   {"assignedFromFace", face_id},
                   {"archived", j.value("archived", false)}};
    if (j.contains("photoFileId")) record["photoFileId"] = j["photoFileId"];
    if (j.contains("annotatedFileId")) record["annotatedFileId"] = j["annotatedFileId"];
    tx.insert("attendances", Document::from_json(record, "attendance record of an assigned unknown face"));
    r.record = "inserted";
  }
  append_audit(tx, AuditEntry{.action = "unknown.assign",
                              .target = person_id,
                              .actor = actor,
                              .client_address = client_address,
                              .details = {{"faceId", face_id}, {"session", r.session}, {"attendanceId", r.attendance_id},
                                          {"record", r.record}}});
  return r;
}

}  // namespace facecrowd
