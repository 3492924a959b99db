#include "app/service.h"

#include <sodium.h>

#include <atomic>
#include <unordered_map>

#include "app/audit.h"
#include "app/gallery_loader.h"
#include "app/profiles.h"
#include "core/error.h"
#include "core/sha256.h"

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
    : options_(std::move(options)), data_(DataDir::open(options_.data_root)), serial_(g_next_serial++) {
  validate_match_policy(options_.match);
  vision::parse_detector_model(options_.detector);  // Error(kUsage) for an unknown detector, at start
  gallery_ = std::make_unique<vision::Gallery>();
  try {
    model_version_ = face_pipeline().models().embedding_model_version;
  } catch (const Error& e) {
    face_models_problem_ = e.what();  // the server still starts: health says why faces do not work
  }
  if (face_models_problem_.empty()) load_warm_gallery();
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
    auto pipeline = vision::FacePipeline::open(options_.models_dir);
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

size_t Service::gallery_embeddings() const { return gallery_->size(); }

void Service::load_warm_gallery() {
  auto fresh = std::make_unique<vision::Gallery>();
  auto db = database();
  auto tx = db->read();
  load_gallery(tx, model_version_, *fresh);
  gallery_ = std::move(fresh);
}

void Service::add_profile_to_gallery(Database& db, const std::string& profile_id) {
  auto tx = db.read();
  auto doc = tx.get("faceprofiles", profile_id);
  if (!doc) return;
  for (const auto& e : profile_embeddings(*doc))
    if (e.vector && e.model_version == model_version_) gallery_->add(profile_id, e.id, *e.vector);
}

EnrollResult Service::enroll(const Actor& actor, EnrollRequest request) {
  request.actor = actor.id;
  request.client_address = actor.client_address;
  request.match = options_.match;
  auto db = database();
  EnrollResult result = facecrowd::enroll(*db, face_pipeline(), request);
  if (!result.added.empty()) add_profile_to_gallery(*db, result.profile_id);
  return result;
}

RecognizeResult Service::recognize(const Actor& actor, RecognizeRequest request) {
  request.actor = actor.id;
  request.client_address = actor.client_address;
  request.match = options_.match;
  request.warm_gallery = gallery_.get();
  auto db = database();
  return facecrowd::recognize(*db, face_pipeline(), request);
}

ErasureReport Service::erase(const Actor& actor, const std::string& person_id, AttendancePolicy policy) {
  ErasureOptions options;
  options.db = options_.db;
  options.attendance = policy;
  options.actor = actor.id;
  options.client_address = actor.client_address;
  // Out of the gallery first: a recognition from now on cannot match the person, and one that matched
  // before is refused by recognize()'s re-check inside its write transaction.
  gallery_->remove_person(person_id);
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
  auto db = database();
  return analyse_crowd(*db, crowd_counter(), request);
}

RestoreWithErasuresResult Service::restore(const Actor& actor, const std::string& input, RestoreOptions options) {
  options.actor = actor.id;
  if (options.backup_dir.empty() || options.backup_dir == "backup") options.backup_dir = options_.backup_dir;
  if (options.dry_run) return restore_with_erasures(options_.data_root, input, options);
  if (!gate_.close_and_drain(std::chrono::milliseconds(options_.drain_timeout_ms)))
    throw Error(ExitCode::kBusy, "restore: another restore is running, or the requests in flight did not finish "
                                 "within " + std::to_string(options_.drain_timeout_ms) + " ms; try again");
  struct Reopen {
    Service* s;
    ~Reopen() { s->gate_.open(); }
  } reopen{this};
  {
    std::lock_guard lock(pool_mutex_);
    pool_.clear();  // every connection to the old generation closes before the swap
  }
  auto result = restore_with_erasures(options_.data_root, input, options);
  if (face_models_problem_.empty()) load_warm_gallery();
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
  {
    std::lock_guard lock(sessions_mutex_);
    failures_.erase(name);
    for (auto it = sessions_.begin(); it != sessions_.end();)  // drop expired sessions now and then
      it = it->second.expires_at <= now ? sessions_.erase(it) : std::next(it);
    sessions_[sha256_hex(a.token.reveal())] = Session{who->id, a.expires_at};
  }
  auto db = database();
  if (who->legacy_hash) {
    // An imported bcrypt hash did its last job: argon2id from now on. Best effort: a failure here (the
    // store busy) leaves the bcrypt hash, and the next login upgrades it.
    try {
      upgrade_legacy_password(*db, *who, password, actor);
    } catch (const Error&) {
    }
  }
  auto tx = db->write();
  append_audit(tx, AuditEntry{.action = "auth.login", .target = name, .actor = actor.id, .client_address = client_address});
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
  std::lock_guard lock(sessions_mutex_);
  return sessions_.erase(sha256_hex(token)) > 0;
}

size_t Service::revoke_sessions_of(const std::string& user_id) {
  std::lock_guard lock(sessions_mutex_);
  size_t n = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();)
    if (it->second.user_id == user_id) {
      it = sessions_.erase(it);
      ++n;
    } else {
      ++it;
    }
  return n;
}

}  // namespace facecrowd
