#include "app/faces/enrollment.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <variant>

#include "app/records/audit.h"
#include "app/faces/gallery_index.h"
#include "app/faces/gallery_models.h"
#include "app/photo_input.h"
#include "app/faces/profiles.h"
#include "core/error.h"
#include "core/request_deadline.h"
#include "core/number_text.h"
#include "core/object_id.h"
#include "core/utc_time.h"
#include "store/file_store.h"
#include "vision/face_choice.h"

namespace facecrowd {

namespace {

struct Candidate {
  Photo photo;
  vision::Face face;
  nlohmann::json quality;
  std::optional<vision::GalleryMatch> match;  // against the gallery before this enrollment
  std::string match_name;                     // that profile's name
  std::string runner_up_name;                 // the runner-up profile's name
};

// A face beyond the threshold of another person's enrolled face but within max_distance / gallery_isolation of it
// (0.36 .. 0.43 with dlib's defaults) is enrolled, and from then on each of the two enrolled faces counts as crowded
// (MatchPolicy::gallery_isolation): a face is recognised as either person only within gallery_isolation x their gap.
// The operator is told, since it changes recognition of someone else too.
std::optional<std::string> crowding_warning(const Candidate& c, const std::string& profile_id, const std::string& path,
                                            const MatchPolicy& policy) {
  if (!c.match || policy.gallery_isolation <= 0) return std::nullopt;
  // The nearest other person: the top match, or the runner-up when the top is the profile being extended.
  const bool top_is_other = c.match->person_id != profile_id;
  if (!top_is_other && !c.match->runner_up_id) return std::nullopt;
  const std::string& other_id = top_is_other ? c.match->person_id : *c.match->runner_up_id;
  const std::string& other_name = top_is_other ? c.match_name : c.runner_up_name;
  const float gap = top_is_other ? c.match->distance : c.match->runner_up_distance;
  if (gap <= policy.max_distance || gap * policy.gallery_isolation > policy.max_distance) return std::nullopt;
  return path + ": this face lies " + fixed_decimals(gap, 3) + " from an enrolled photo of profile " + other_id + " '" +
         other_name + "': from now on a face is recognised as either person by these photos only within " +
         fixed_decimals(policy.gallery_isolation * gap, 3) + " (gallery isolation " +
         gallery_isolation_text(policy.gallery_isolation) + "); a sharper, larger photo of each usually lies further apart";
}

std::string profile_name(const Document& profile) {
  bson_iter_t it;
  return bson_iter_init_find(&it, profile.get(), "name") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, nullptr) : "";
}

// The existing profile this request extends, or nullopt to create one.
std::optional<Document> target_profile(Database::WriteTransaction& tx, const EnrollRequest& request) {
  std::optional<Document> profile;
  if (request.profile) {
    profile = require_profile(tx, *request.profile);
  } else if (request.external_id && !request.external_id->empty()) {
    profile = find_profile_by_external_id(tx, *request.external_id);
  } else {
    auto named = find_profiles_by_name(tx, request.name);
    if (named.size() > 1)
      throw Error(ExitCode::kConflict, std::to_string(named.size()) + " profiles are named '" + request.name +
                                           "'; name the one to extend with --profile ID (see `facecrowd profiles list`)");
    if (named.size() == 1) profile = named.front();
  }
  if (profile && !request.name.empty() && profile_name(*profile) != request.name)
    throw Error(ExitCode::kUsage, "profile " + profile->id_key().value_or("?") + " is named '" + profile_name(*profile) +
                                      "', not '" + request.name + "'; rename it with `facecrowd profiles update` first");
  if (!profile && request.name.empty())
    throw Error(ExitCode::kUsage, "a new profile needs --name");
  return profile;
}

}  // namespace

nlohmann::json EnrollResult::to_json() const {
  auto images = [](const std::vector<SkippedImage>& v) {
    auto a = nlohmann::json::array();
    for (const auto& s : v) a.push_back({{"image", s.path}, {"reason", s.reason}});
    return a;
  };
  auto added_json = nlohmann::json::array();
  for (const auto& a : added)
    added_json.push_back({{"image", a.path}, {"sha256", a.sha256}, {"fileId", a.file_id},
                          {"embeddingId", a.embedding_id}, {"quality", a.quality},
                          {"sharpness", a.quality.value("blur", nlohmann::json(nullptr))},
                          {"softFace", a.soft ? a.soft->to_json() : nlohmann::json(nullptr)}});
  return {{"profileId", profile_id}, {"name", name}, {"created", created}, {"added", added_json},
          {"duplicates", images(duplicates)}, {"rejected", images(rejected)}, {"warnings", warnings},
          {"auditId", audit_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(audit_id)}};
}

EnrollResult enroll(Database& db, vision::FacePipeline& pipeline, const EnrollRequest& request) {
  if (request.images.empty() && request.uploads.empty()) throw Error(ExitCode::kUsage, "enroll: give at least one image");
  if (!request.profile && request.name.empty() && !request.external_id)
    throw Error(ExitCode::kUsage, "enroll: give --name (or --profile ID to extend an existing profile)");
  if (request.consent_text && request.consent_text->empty())
    throw Error(ExitCode::kUsage, "--consent needs the consent text the person agreed to");
  const std::string model_version = pipeline.models().embedding_model_version;

  // 1. Read, decode and analyse every image; nothing is written yet.
  EnrollResult result;
  std::vector<Candidate> accepted;
  ExitCode first_code = ExitCode::kOk;
  std::set<std::string> seen_sha;
  // Files named on the command line, then uploaded bytes (a server request); a path's label is the path.
  const size_t image_count = request.images.size() + request.uploads.size();
  for (size_t index = 0; index < image_count; ++index) {
    const bool uploaded = index >= request.images.size();
    const std::filesystem::path path =
        uploaded ? std::filesystem::path(request.uploads[index - request.images.size()].name) : request.images[index];
    try {
      Photo photo = uploaded ? decode_photo(request.uploads[index - request.images.size()].bytes, path,
                                            pipeline.options().image)
                             : read_photo(path, pipeline.options().image);
      if (!seen_sha.insert(photo.sha256).second) {
        result.duplicates.push_back({path.string(), "the same image (sha256 " + photo.sha256.substr(0, 12) +
                                                        "…) is given twice in this request"});
        continue;
      }
      auto picked = pick_enrollment_face(find_enrollment_faces(pipeline, photo.bgr), request.largest, &request.quality);
      if (auto* reason = std::get_if<std::string>(&picked)) throw Error(ExitCode::kBadInput, *reason);
      Candidate c{std::move(photo), std::get<vision::Face>(std::move(picked)), {}, std::nullopt, {}};
      c.quality = enrollment_quality_json(c.face);
      accepted.push_back(std::move(c));
    } catch (const Error& e) {
      if (first_code == ExitCode::kOk) first_code = e.code();
      std::string reason = e.what();
      // image_loader's messages already start with "image '<path>': "; keep only the reason.
      std::string prefix = "image '" + path.string() + "': ";
      if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
      result.rejected.push_back({path.string(), reason});
    }
  }
  if (!result.rejected.empty() && (!request.skip_rejected || accepted.empty())) {
    std::string message = "nothing enrolled; " + std::to_string(result.rejected.size()) + " of " +
                          std::to_string(image_count) + " " + noun_for(image_count, "image") + " rejected:";
    for (const auto& r : result.rejected) message += "\n  " + r.path + ": " + r.reason;
    if (!accepted.empty()) message += "\n(pass --skip-rejected to enrol the other images)";
    throw Error(first_code, message);
  }

  // 2. Who these faces already look like (a consistent snapshot of the gallery).
  std::optional<std::string> model_warning;  // profiles of other models only: not compared (not audited)
  {
    auto rtx = db.read();
    auto search = open_search_gallery(rtx, db.file().parent_path(), model_version, accepted.size());
    model_warning = gallery_model_warning(search.loaded.without_model, model_version);
    if (model_warning) *model_warning += "; the new face could not be compared with them either";
    for (auto& c : accepted) {
      c.match = search.gallery->search(c.face.embedding.unit);
      if (c.match) c.match_name = search.loaded.names[c.match->person_id];
      if (c.match && c.match->runner_up_id) c.runner_up_name = search.loaded.names[*c.match->runner_up_id];
    }
  }

  // 3. One write transaction.
  auto tx = db.write();
  std::optional<Document> existing = target_profile(tx, request);
  const UnixMillis now = now_millis();
  nlohmann::json doc;
  if (existing) {
    doc = existing->to_json();
    result.profile_id = *existing->id_key();
    result.name = profile_name(*existing);
  } else {
    result.created = true;
    result.profile_id = new_object_id();
    result.name = request.name;
    doc = {{"_id", {{"$oid", result.profile_id}}},
           {"name", request.name},
           {"externalId", request.external_id && !request.external_id->empty() ? nlohmann::json(*request.external_id)
                                                                              : nlohmann::json(nullptr)},
           {"metadata", nlohmann::json::object()},
           {"consent", nullptr},
           {"embeddings", nlohmann::json::array()},
           {"facialImageIds", nlohmann::json::array()},
           {"createdAt", {{"$date", now}}}};
  }
  if (existing && request.external_id && !request.external_id->empty() &&
      (!doc.contains("externalId") || doc["externalId"].is_null()))
    doc["externalId"] = *request.external_id;  // found by name/id and had none: record it
  if (request.external_id && !request.external_id->empty()) {
    auto other = find_profile_by_external_id(tx, *request.external_id);
    if (other && other->id_key() != result.profile_id)
      throw Error(ExitCode::kConflict, "external id '" + *request.external_id + "' already belongs to profile " +
                                           other->id_key().value_or("?"));
  }

  std::set<std::string> own_sources;
  for (const auto& e : profile_embeddings(existing ? *existing : Document()))
    if (e.source_file_id && e.model_version == model_version) own_sources.insert(*e.source_file_id);

  for (auto& c : accepted) {
    const std::string path = c.photo.path.string();
    auto stored = find_file_by_sha256(tx, c.photo.sha256);
    if (stored && own_sources.count(*stored)) {
      result.duplicates.push_back({path, "already enrolled in this profile (same sha256, file " + *stored + ")"});
      continue;
    }
    if (c.match && c.match->person_id != result.profile_id && c.match->distance <= request.match.max_distance) {
      std::string what = path + ": this face already matches profile " + c.match->person_id + " '" + c.match_name +
                         "' (distance " + fixed_decimals(c.match->distance, 3) + ", threshold " +
                         fixed_decimals(request.match.max_distance, 3) + ")";
      // Refused before anything is written (the transaction is not committed): two profiles of one person
      // split their attendance, and a stranger enrolled over a look-alike's profile takes over its matches.
      if (!request.force)
        throw Error(ExitCode::kConflict, "nothing enrolled; " + what +
                                             ". If it is the same person, extend that profile (--profile " +
                                             c.match->person_id + "); if they are different people, pass --force");
      result.warnings.push_back(what + "; enrolled anyway (--force)");
    } else if (auto crowding = crowding_warning(c, result.profile_id, path, request.match)) {
      result.warnings.push_back(*crowding);
    }
    std::string file_id = put_file(tx, c.photo.bytes, c.photo.path.filename().string(), c.photo.content_type,
                                   FileKind::kFacialImage);
    std::string embedding_id = new_object_id();
    nlohmann::json embedding = embedding_document(embedding_id, c.face.embedding.unit, model_version, file_id, c.quality);
    doc["embeddings"].push_back(std::move(embedding));
    bool have_image = false;
    for (const auto& id : doc["facialImageIds"])
      if (id.is_object() && id.value("$oid", "") == file_id) have_image = true;
    if (!have_image) doc["facialImageIds"].push_back({{"$oid", file_id}});
    own_sources.insert(file_id);
    // The sharpness as stored (rounded): recognition judges matches with this face by that value.
    auto soft = soft_enrolled_face(request.match, c.quality.value("blur", kUnknownSharpness), result.name);
    if (soft) result.warnings.push_back(soft_enrolled_face_warning(path, *soft));
    result.added.push_back({path, c.photo.sha256, file_id, embedding_id, c.quality, soft});
  }
  if (result.added.empty()) {  // all duplicates: nothing to write (tx rolls back)
    if (model_warning) result.warnings.push_back(*model_warning);
    return result;
  }

  if (!doc.contains("metadata") || !doc["metadata"].is_object()) doc["metadata"] = nlohmann::json::object();
  for (const auto& [k, v] : request.metadata) doc["metadata"][k] = v;
  if (request.consent_text) doc["consent"] = {{"text", *request.consent_text}, {"givenAt", {{"$date", now}}}};
  doc["updatedAt"] = {{"$date", now}};
  Document profile = Document::from_json(doc, "face profile " + result.profile_id);
  if (existing) tx.replace("faceprofiles", profile);
  else tx.insert("faceprofiles", profile);

  auto added_ids = nlohmann::json::array();
  for (const auto& a : result.added) added_ids.push_back({{"image", a.path}, {"embeddingId", a.embedding_id}, {"fileId", a.file_id}});
  auto dups = nlohmann::json::array();
  for (const auto& d : result.duplicates) dups.push_back(d.path);
  result.audit_id = append_audit(
      tx, AuditEntry{.action = "profile.enroll",
                     .target = result.profile_id,
                     .actor = request.actor,
                     .client_address = request.client_address,
                     .details = {{"name", result.name}, {"created", result.created}, {"added", added_ids},
                                 {"duplicates", dups}, {"rejected", result.rejected.size()},
                                 {"warnings", result.warnings}, {"consent", request.consent_text.has_value()},
                                 {"force", request.force}, {"modelVersion", model_version}}});
  if (request.before_commit) request.before_commit(tx, result);
  check_request_deadline("the commit");  // core/request_deadline.h: past it, nothing is stored
  tx.commit();
  if (model_warning) result.warnings.push_back(*model_warning);
  return result;
}

}  // namespace facecrowd
