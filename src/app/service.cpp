#include "app/service.h"

#include <sodium.h>

#include <atomic>
#include <set>
#include <unordered_map>

#include "app/records/audit.h"
#include "app/faces/gallery_loader.h"
#include "app/faces/gallery_models.h"
#include "app/faces/profiles.h"
#include "store/file_store.h"
#include "core/error.h"
#include "core/sha256.h"
#include "vision/image_codecs.h"

namespace facecrowd {
namespace {

std::atomic<uint64_t> g_next_serial{1};

// Per worker thread, per service: OpenCV nets are used by one thread at a time.
struct ThreadModels {
  std::unique_ptr<vision::FacePipeline> faces;
  std::unique_ptr<vision::CrowdCounter> crowd;
};
thread_local std::unordered_map<uint64_t, ThreadModels> t_models;

}  // namespace

Service::Service(ServiceOptions options)
    : options_(std::move(options)),
      data_(DataDir::open(options_.data_root)),
      serial_(g_next_serial++),
      slots_(options_.compute_slots) {
  validate_match_policy(options_.match);
  vision::parse_detector_model(options_.detector);  // Error(kUsage) for an unknown detector, at start
  gallery_ = std::make_shared<vision::Gallery>();
  try {
    model_version_ = face_pipeline().models().embedding_model_version;
  } catch (const Error& e) {
    face_models_problem_ = e.what();  // the server still starts: health says why faces do not work
  }
  try {
    image_codecs_module_ = vision::load_image_codecs().string();
  } catch (const Error& e) {
    image_codecs_problem_ = e.what();  // as for the models: the server starts, health says why photos fail
  }
  if (face_models_problem_.empty()) load_warm_gallery();
  load_sessions();
}

Service::~Service() = default;

std::optional<RestoreGate::Pass> Service::enter() {
  if (!gate_.try_enter()) return std::nullopt;
  return RestoreGate::Pass(&gate_);
}

Service::Lease::~Lease() {
  if (!db_) return;
  std::lock_guard lock(service_->pool_mutex_);
  service_->pool_.push_back(std::move(db_));
}

Service::Lease Service::database() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      auto db = std::move(pool_.back());
      pool_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  return Lease(this, Database::open(data_, options_.db));
}

vision::FacePipeline& Service::face_pipeline() {
  auto& slot = t_models[serial_];
  if (!slot.faces) {
    auto pipeline = vision::FacePipeline::open(options_.models_dir, options_.face_model);
    pipeline->options().detector.model = vision::parse_detector_model(options_.detector);
    pipeline->options().image = options_.image_limits;
    slot.faces = std::move(pipeline);
  }
  return *slot.faces;
}

vision::CrowdCounter& Service::crowd_counter() {
  auto& slot = t_models[serial_];
  if (!slot.crowd) slot.crowd = vision::CrowdCounter::open(options_.models_dir);
  return *slot.crowd;
}

size_t Service::gallery_embeddings() const {
  std::lock_guard lock(const_cast<std::mutex&>(gallery_ptr_mutex_));
  return gallery_->size();
}

std::shared_ptr<vision::Gallery> Service::warm_gallery() {
  std::lock_guard lock(gallery_ptr_mutex_);
  return gallery_;
}

void Service::load_warm_gallery() {
  auto fresh = std::make_shared<vision::Gallery>();
  auto db = database();
  auto tx = db->read();
  auto report = load_gallery(tx, model_version_, *fresh);
  {
    std::lock_guard models(without_model_mutex_);
    without_model_ = std::move(report.without_model);
  }
  std::lock_guard sync(gallery_sync_mutex_);
  gallery_position_ = tx.position();
  std::lock_guard lock(gallery_ptr_mutex_);
  gallery_ = std::move(fresh);
}

void Service::add_profile_to_gallery(Database& db, const std::string& profile_id) {
  auto tx = db.read();
  add_profile_to_gallery(tx, profile_id);
}

void Service::add_profile_to_gallery(Database::ReadTransaction& tx, const std::string& profile_id) {
  auto doc = tx.get("faceprofiles", profile_id);
  std::set<std::string> other_models;
  bool of_model = false;
  if (doc) {
    auto gallery = warm_gallery();
    for (const auto& e : profile_embeddings(*doc)) {
      if (e.model_version != model_version_) other_models.insert(e.model_version);
      else of_model = true;
      // A vector of another size under this model's version is damaged: skipped, as load_gallery skips it.
      const bool fits = e.vector && (gallery->dimension() == 0 || e.vector->size() == gallery->dimension());
      if (fits && e.model_version == model_version_) gallery->add(profile_id, e.id, *e.vector);
    }
  }
  std::lock_guard models(without_model_mutex_);
  if (!of_model && !other_models.empty()) without_model_[profile_id] = std::move(other_models);
  else without_model_.erase(profile_id);
}

std::optional<std::string> Service::gallery_model_warning() const {
  if (!face_models_problem_.empty()) return std::nullopt;
  std::lock_guard models(without_model_mutex_);
  return facecrowd::gallery_model_warning(without_model_, model_version_);
}

namespace {

// The profile id a faceprofiles oplog entry is about, read from the raw entry without decoding the rest
// (entries of fs.chunks hold whole photos).
std::optional<std::string> profile_of_oplog_entry(std::string_view entry) {
  bson_t view;
  if (!bson_init_static(&view, reinterpret_cast<const uint8_t*>(entry.data()), entry.size())) return std::nullopt;
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &view, "op") || !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  std::string_view op = bson_iter_utf8(&it, nullptr);
  if (op != "i" && op != "u" && op != "d") return std::nullopt;
  if (!bson_iter_init_find(&it, &view, "ns") || !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  std::string_view ns = bson_iter_utf8(&it, nullptr);
  auto dot = ns.find('.');
  if (dot == std::string_view::npos || ns.substr(dot + 1) != "faceprofiles") return std::nullopt;
  bson_iter_t id;
  if (!bson_iter_init_find(&it, &view, "o") || !BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &id) ||
      !bson_iter_find(&id, "_id"))
    return std::nullopt;
  try {
    return id_key_of(id);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

void Service::sync_warm_gallery() {
  if (!face_models_problem_.empty()) return;
  auto db = database();
  auto tx = db->read();
  const OplogTimestamp now = tx.position();
  std::lock_guard sync(gallery_sync_mutex_);
  if (now <= gallery_position_) return;  // the usual case: one position read per request
  auto range = tx.oplog_range();
  if (range.entries > 0 && range.first > gallery_position_) {
    // Trimmed past the gallery's position: the entries in between are gone, so read every profile again.
    auto fresh = std::make_shared<vision::Gallery>();
    auto report = load_gallery(tx, model_version_, *fresh);
    {
      std::lock_guard models(without_model_mutex_);
      without_model_ = std::move(report.without_model);
    }
    std::lock_guard lock(gallery_ptr_mutex_);
    gallery_ = std::move(fresh);
  } else {
    std::set<std::string> touched;
    tx.scan_oplog(gallery_position_, now, [&](OplogTimestamp, std::string_view entry) {
      if (auto id = profile_of_oplog_entry(entry)) touched.insert(*id);
    });
    auto gallery = warm_gallery();
    for (const auto& id : touched) {
      gallery->remove_person(id);
      add_profile_to_gallery(tx, id);  // from this snapshot: nothing when deleted or erased
    }
  }
  gallery_position_ = now;
}

EnrollResult Service::enroll(const Actor& actor, EnrollRequest request) {
  request.actor = actor.id;
  request.client_address = actor.client_address;
  request.match = options_.match;
  auto slot = slots_.acquire();
  auto db = database();
  EnrollResult result = facecrowd::enroll(*db, face_pipeline(), request);
  if (!result.added.empty()) add_profile_to_gallery(*db, result.profile_id);
  return result;
}

RecognizeResult Service::recognize(const Actor& actor, RecognizeRequest request) {
  request.actor = actor.id;
  request.client_address = actor.client_address;
  request.match = options_.match;
  request.keep_unknown_faces = true;
  request.store_annotated = true;
  auto slot = slots_.acquire();
  sync_warm_gallery();
  auto gallery = warm_gallery();  // held for the whole recognition, even if a full reload replaces it
  request.warm_gallery = gallery.get();
  auto db = database();
  RecognizeResult result = facecrowd::recognize(*db, face_pipeline(), request);
  if (auto w = gallery_model_warning()) result.warnings.push_back(*w);
  return result;
}

nlohmann::json Service::AssignedUnknown::to_json() const {
  return {{"assignment", resolution.to_json()}, {"enrollment", enrolled.to_json()}};
}

Service::AssignedUnknown Service::assign_unknown_face(const Actor& actor, const AssignUnknown& request) {
  std::string crop;
  {
    auto db = database();
    auto tx = db->read();
    auto face = find_unknown_face(tx, request.face_id);
    if (!face) throw Error(ExitCode::kNotFound, "no unknown face " + request.face_id + " (assigned already, or removed by "
                                                "retention); list them with GET /api/v1/unknown-faces");
    if (!face->crop_file_id)
      throw Error(ExitCode::kBadInput, "unknown face " + request.face_id + " has no stored crop (recognised by the "
                                       "one-shot CLI, or its person was erased meanwhile): enroll from a photo instead");
    crop = get_file(tx, *face->crop_file_id);
  }
  if (!request.person_id && request.name.empty())
    throw Error(ExitCode::kUsage, "assign an unknown face to a person: give personId (an enrolled person) or name (a new one)");
  EnrollRequest enroll_request;
  enroll_request.name = request.name;
  if (request.person_id) enroll_request.profile = *request.person_id;
  enroll_request.external_id = request.external_id;
  enroll_request.uploads.push_back({"unknown-face-" + request.face_id + ".jpg", crop});
  enroll_request.largest = true;  // the crop's margin may hold part of a neighbour's face
  enroll_request.force = request.force;
  AssignedUnknown out;
  bool resolved = false;
  enroll_request.before_commit = [&](Database::WriteTransaction& tx, const EnrollResult& enrolled) {
    out.resolution = resolve_unknown_face(tx, request.face_id, enrolled.profile_id, enrolled.name, actor.id, actor.client_address);
    resolved = true;
  };
  out.enrolled = enroll(actor, std::move(enroll_request));
  if (!resolved) {
    // Nothing new to enroll (these very bytes already are one of the profile's sources): still assign.
    auto db = database();
    auto tx = db->write();
    out.resolution = resolve_unknown_face(tx, request.face_id, out.enrolled.profile_id, out.enrolled.name, actor.id,
                                          actor.client_address);
    tx.commit();
  }
  return out;
}

ErasureReport Service::erase(const Actor& actor, const std::string& person_id, AttendancePolicy policy) {
  ErasureOptions options;
  options.db = options_.db;
  options.attendance = policy;
  options.actor = actor.id;
  options.client_address = actor.client_address;
  // The same stranger, as recognition judges it (the distance is for dlib's vectors; faceres' have their own).
  options.unknown_face_distance =
      options_.face_model == vision::FaceModel::kDlib ? options_.match.max_distance : float(kDefaultMatchThreshold);
  // Out of the gallery first: a recognition from now on cannot match the person, and one that matched
  // before is refused by recognize()'s re-check inside its write transaction.
  warm_gallery()->remove_person(person_id);
  try {
    return erase_person(options_.data_root, person_id, options);
  } catch (...) {
    auto db = database();  // not erased after all (unknown id, failure): put back what is still there
    add_profile_to_gallery(*db, person_id);
    throw;
  }
}

CrowdResult Service::count_crowd(const Actor& actor, CrowdRequest request) {
  request.actor = actor.id;
  request.client_address = actor.client_address;
  request.limits = options_.image_limits;
  auto slot = slots_.acquire();
  auto db = database();
  return analyse_crowd(*db, crowd_counter(), request);
}

RestoreWithErasuresResult Service::restore(const Actor& actor, const std::string& input, RestoreOptions options) {
  options.actor = actor.id;
  if (options.backup_dir.empty() || options.backup_dir == "backup") options.backup_dir = options_.backup_dir;
  // Erasures are re-applied with this server's recognition threshold, as its own erasures were made.
  const float distance = options_.match.max_distance;
  if (options.dry_run) return restore_with_erasures(options_.data_root, input, options, distance);
  std::unique_lock running(restore_mutex_, std::try_to_lock);
  if (!running) throw Error(ExitCode::kBusy, "restore: another restore is running; try again when it has finished");
  // The new generation is built while requests keep being served from the live store; the gate closes
  // only for the swap (quiesce) and opens again once the gallery and the sessions follow the new store.
  bool gate_closed = false, turning_away = false;
  struct Reopen {
    Service* s;
    bool& closed;
    bool& turning_away;
    ~Reopen() {
      if (turning_away) s->slots_.stop_turning_away();
      if (closed) s->gate_.open();
    }
  } reopen{this, gate_closed, turning_away};
  options.quiesce = [this, &gate_closed, &turning_away] {
    // Requests still waiting for a compute slot have done nothing yet: they are answered "busy, retry"
    // now rather than holding the swap up by a whole network pass each.
    slots_.turn_away("a restore is swapping the store; try again shortly");
    turning_away = true;
    if (!gate_.close_and_drain(std::chrono::milliseconds(options_.drain_timeout_ms)))
      throw Error(ExitCode::kBusy, "restore: the requests in flight did not finish within " +
                                       std::to_string(options_.drain_timeout_ms) + " ms; nothing was changed; try again");
    gate_closed = true;
    std::lock_guard lock(pool_mutex_);
    pool_.clear();  // every connection to the old generation closes before the swap
  };
  auto result = restore_with_erasures(options_.data_root, input, options, distance);
  if (face_models_problem_.empty()) load_warm_gallery();
  if (options.db == options_.db) {
    // The restored generation has no sessions of its own (they are never in a backup): keep the current ones.
    auto db = database();
    auto tx = db->write();
    std::lock_guard lock(sessions_mutex_);
    store_sessions_locked(tx);
    tx.commit();
  }
  return result;
}

void Service::audit_failure(const Actor& actor, const std::string& action, const std::string& target,
                            const nlohmann::json& details) {
  try {
    auto db = database();
    auto tx = db->write();
    append_audit(tx, AuditEntry{.action = action, .target = target, .outcome = "failed", .actor = actor.id,
                                .client_address = actor.client_address,
                                .details = details.is_object() ? details : nlohmann::json::object()});
    tx.commit();
  } catch (...) {
  }
}

Service::LoginAttempt Service::login(const std::string& username, const std::string& password,
                                     const std::string& client_address) {
  const UnixMillis now = now_millis();
  const std::string name = username.substr(0, 64);
  Actor actor{"user:" + name, client_address};
  // The sessions mutex guards memory only; audit writes (which may wait for the store) happen outside it.
  int64_t locked_for_ms = 0;
  {
    std::lock_guard lock(sessions_mutex_);
    if (auto it = failures_.find(name); it != failures_.end() && it->second.locked_until > now)
      locked_for_ms = it->second.locked_until - now;
  }
  LoginAttempt a;
  if (locked_for_ms > 0) {
    a.locked = true;
    a.retry_after_seconds = (locked_for_ms + 999) / 1000;
    audit_failure(actor, "auth.login", name, {{"reason", "locked after repeated failures"}});
    return a;
  }
  std::optional<Principal> who;
  {
    auto db = database();
    auto tx = db->read();
    who = check_password(tx, username, password);
  }
  if (!who) {
    int count;
    {
      std::lock_guard lock(sessions_mutex_);
      if (failures_.size() > 10'000)  // many names tried: forget the ones neither locked nor recent
        std::erase_if(failures_, [&](const auto& kv) {
          return kv.second.locked_until <= now && now - kv.second.first > options_.lockout_seconds * 1000;
        });
      auto& f = failures_[name];
      if (now - f.first > options_.lockout_seconds * 1000) f = LoginFailures{0, now, 0};
      count = ++f.count;
      if (count >= options_.login_max_failures) f.locked_until = now + options_.lockout_seconds * 1000;
    }
    audit_failure(actor, "auth.login", name, {{"reason", "wrong user name or password, or a disabled user"}, {"failures", count}});
    return a;
  }
  a.ok = true;
  std::string random = random_token_text();
  a.token = Secret("fcs_" + random);
  wipe_string(random);
  a.expires_at = now + options_.session_seconds * 1000;
  auto db = database();
  if (who->legacy_hash) {
    // An imported bcrypt hash did its last job: argon2id from now on. Best effort: a failure here (the
    // store busy) leaves the bcrypt hash, and the next login upgrades it.
    try {
      upgrade_legacy_password(*db, *who, password, actor);
    } catch (const Error&) {
    }
  }
  auto tx = db->write();  // first: write transactions are serialised, so the stored map is never an older one
  append_audit(tx, AuditEntry{.action = "auth.login", .target = name, .actor = actor.id, .client_address = client_address});
  {
    std::lock_guard lock(sessions_mutex_);
    failures_.erase(name);
    for (auto it = sessions_.begin(); it != sessions_.end();)  // drop expired sessions now and then
      it = it->second.expires_at <= now ? sessions_.erase(it) : std::next(it);
    sessions_[sha256_hex(a.token.reveal())] = Session{who->id, a.expires_at};
    store_sessions_locked(tx);
  }
  tx.commit();
  return a;
}

std::optional<Principal> Service::authenticate_token(const std::string& token) {
  std::string user_id;
  {
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(sha256_hex(token));
    if (it == sessions_.end()) return std::nullopt;
    if (it->second.expires_at <= now_millis()) {
      sessions_.erase(it);
      return std::nullopt;
    }
    user_id = it->second.user_id;
  }
  auto db = database();
  auto tx = db->read();
  return find_active_user(tx, user_id);
}

std::optional<Principal> Service::authenticate_key(const std::string& key) {
  auto db = database();
  auto tx = db->read();
  return check_api_key(tx, key);
}

bool Service::logout(const std::string& token) {
  auto db = database();
  auto tx = db->write();
  std::lock_guard lock(sessions_mutex_);
  if (sessions_.erase(sha256_hex(token)) == 0) return false;
  store_sessions_locked(tx);
  tx.commit();
  return true;
}

size_t Service::revoke_sessions_of(const std::string& user_id) {
  auto db = database();
  auto tx = db->write();
  std::lock_guard lock(sessions_mutex_);
  size_t n = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();)
    if (it->second.user_id == user_id) {
      it = sessions_.erase(it);
      ++n;
    } else {
      ++it;
    }
  if (n > 0) {
    store_sessions_locked(tx);
    tx.commit();
  }
  return n;
}

namespace {
constexpr const char* kSessionsMetaKey = "sessions";  // {sha256(token) hex: {userId, expiresAt}}
}

void Service::store_sessions_locked(Database::WriteTransaction& tx) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [hash, session] : sessions_) j[hash] = {{"userId", session.user_id}, {"expiresAt", session.expires_at}};
  tx.set_meta(kSessionsMetaKey, j.dump());
}

void Service::load_sessions() {
  auto db = database();
  auto tx = db->read();
  auto text = tx.meta(kSessionsMetaKey);
  if (!text) return;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return;  // unreadable: everyone logs in again (never a reason not to start)
  const UnixMillis now = now_millis();
  std::lock_guard lock(sessions_mutex_);
  for (const auto& [hash, s] : j.items()) {
    if (!s.is_object() || !s.contains("userId") || !s["userId"].is_string() || !s.contains("expiresAt") ||
        !s["expiresAt"].is_number_integer())
      continue;
    if (s["expiresAt"].get<UnixMillis>() > now) sessions_[hash] = Session{s["userId"].get<std::string>(), s["expiresAt"].get<UnixMillis>()};
  }
}

}  // namespace facecrowd
