// The Service: one object per process that every front end calls (`facecrowd serve`'s HTTP server today;
// the CLI's one-shot commands call the same use-case functions directly). It owns:
//  - the data directory and a pool of store connections (Lease: one connection, one thread at a time);
//  - one face pipeline and one crowd counter per worker thread (OpenCV nets are not shared between
//    threads), opened on the thread's first use;
//  - the warm gallery (vision::Gallery, thread-safe) of every enrolled embedding of the pipeline's model,
//    loaded once at start and kept current by enroll() and erase() — no gallery load per request. Changes
//    made by another process (a CLI `enroll` or `person delete` while the server runs) are caught up by
//    sync_warm_gallery() before each recognition: it compares the store's oplog position with the one the
//    gallery reflects and, when it moved, re-reads only the profiles named by the faceprofiles entries in
//    between (a full reload only when the oplog was trimmed past that position). Alongside it, the profiles
//    it cannot hold because their embeddings are all of other face models (gallery_model_warning(): recognize's
//    answer and /api/monitoring/health say so, and `serve` logs it at start);
//  - the restore gate (app/restore_gate.h): front ends enter() it around every use of the store. restore()
//    builds the new generation while requests keep being served from the live store (backup/restore.h,
//    "Building beside a live store"), and closes the gate only for the swap: it drains, closes every
//    pooled connection, swaps, reloads the gallery, writes the sessions and reopens. Requests arriving
//    meanwhile, and those still waiting for a compute slot, get "busy, retry" (503 + Retry-After). Writes answered during the build follow restore.h's
//    rule: the restored collections get the backup's state, erasures are applied again;
//  - sessions: login() returns an opaque random token; only its sha256 is kept, with expiry, logout and
//    revoke; every request re-reads the user, so a disabled user loses access at once. The sessions are
//    written through to the live database's meta table (key "sessions": never in a backup or the oplog),
//    in the write transaction of the login/logout/revoke, so a restarted server keeps them valid, and a
//    restore of an old backup cannot bring a logged-out session back (the current sessions are written
//    into the restored generation);
//  - the compute slots (core/compute_slots.h): enroll, recognize and count_crowd run their networks in at
//    most `compute_slots` requests at once (0: one per core), the others wait in line until their request
//    deadline (core/request_deadline.h);
//  - login throttling: after `login_max_failures` failed logins of one username within the lockout
//    window, that username is locked for `lockout_seconds` (the password is not even checked).
// Every use case takes the Actor (who, from where) that goes into its audit entry; refused and failed
// actions are audited too (audit_failure()).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/faces/attendance.h"
#include "app/crowd/crowd_counts.h"
#include "app/faces/enrollment.h"
#include "app/privacy/erasure.h"
#include "app/restore_gate.h"
#include "app/recovery/restore_with_erasures.h"
#include "app/faces/unknown_faces.h"
#include "app/users/users.h"
#include "core/compute_slots.h"
#include "core/secret.h"
#include "core/utc_time.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "vision/crowd_counter.h"
#include "vision/face_pipeline.h"
#include "vision/gallery.h"

namespace facecrowd {

struct ServiceOptions {
  std::filesystem::path data_root = "data";
  std::filesystem::path backup_dir = "backup";
  std::optional<std::filesystem::path> models_dir;  // nullopt: vision/model_files.h's search order
  std::string db = "face-recognition";
  std::string detector = "blazeface";
  vision::FaceModel face_model = vision::FaceModel::kDlib;  // the embedding model (vision/face_model.h)
  MatchPolicy match;  // serve passes the face model's calibrated defaults unless configured
  vision::ImageLimits image_limits;
  int64_t session_seconds = 12 * 3600;
  int login_max_failures = 5;
  int64_t lockout_seconds = 15 * 60;
  int64_t drain_timeout_ms = 30'000;  // how long a restore waits for requests in flight
  int compute_slots = 0;              // requests running the networks at once; 0: one per core
};

class Service {
 public:
  explicit Service(ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const ServiceOptions& options() const { return options_; }
  const DataDir& data() const { return data_; }

  // nullopt while a restore swaps the store: answer "busy, retry" (HTTP 503 + Retry-After).
  std::optional<RestoreGate::Pass> enter();
  bool restoring() const { return gate_.closed(); }

  class Lease {
   public:
    Lease(Service* service, std::unique_ptr<Database> db) : service_(service), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Database& operator*() { return *db_; }
    Database* operator->() { return db_.get(); }

   private:
    Service* service_;
    std::unique_ptr<Database> db_;
  };
  // A pooled connection to the live database (created when missing). Call inside a gate pass.
  Lease database();

  // This thread's pipeline / counter; Error (kNotFound / kBadInput) naming the models when they are missing.
  vision::FacePipeline& face_pipeline();
  vision::CrowdCounter& crowd_counter();
  // The models' state as found at start: empty when the face models loaded, else why not.
  const std::string& face_models_problem() const { return face_models_problem_; }
  // The image codecs module (vision/image_codecs.h), loaded at start so the first photo is not slower:
  // its path, or why it could not be loaded (photo routes then answer that error; health reports it).
  const std::string& image_codecs_module() const { return image_codecs_module_; }
  const std::string& image_codecs_problem() const { return image_codecs_problem_; }
  size_t gallery_embeddings() const;
  // Profiles the warm gallery cannot find because their embeddings are all of other face models (kept
  // current like the gallery): app/faces/gallery_models.h's warning, nullopt when there are none.
  std::optional<std::string> gallery_model_warning() const;
  const ComputeSlots& compute_slots() const { return slots_; }

  EnrollResult enroll(const Actor& actor, EnrollRequest request);
  // Keeps unknown faces (crops, embeddings) and stores the annotated photo (app/faces/unknown_faces.h).
  RecognizeResult recognize(const Actor& actor, RecognizeRequest request);

  // Unknown faces (app/faces/unknown_faces.h). assign_unknown_face() enrolls the face's crop through enroll()
  // (into `person_id`, else the profile named `name`, created when none is) and, in the same write
  // transaction, takes the face out of the unknown ones and gives the person the session's record.
  // Error(kNotFound): no such unknown face / person; kBadInput: the face has no stored crop or the crop
  // holds no usable face; kConflict: the face matches another profile (unless force).
  struct AssignUnknown {
    std::string face_id;
    std::optional<std::string> person_id;
    std::string name;
    std::optional<std::string> external_id;
    bool force = false;
  };
  struct AssignedUnknown {
    EnrollResult enrolled;
    UnknownFaceResolution resolution;
    nlohmann::json to_json() const;
  };
  AssignedUnknown assign_unknown_face(const Actor& actor, const AssignUnknown& request);
  // Catches the warm gallery up with profile changes made by other processes (see above).
  void sync_warm_gallery();
  ErasureReport erase(const Actor& actor, const std::string& person_id, AttendancePolicy policy);
  CrowdResult count_crowd(const Actor& actor, CrowdRequest request);
  // Dry runs read only; a real restore (into any database: its swap needs the data directory's exclusive
  // lock) builds beside the live store, then closes the gate, drains, swaps, reloads the gallery and
  // reopens. Error(kBusy), nothing changed, when another restore runs, the requests in flight do not
  // finish within drain_timeout_ms, or another process keeps the data directory at the swap.
  RestoreWithErasuresResult restore(const Actor& actor, const std::string& input, RestoreOptions options);

  // Appends {outcome: "failed"} for a refused or failed action (never throws: a failing audit must not
  // hide the refusal it describes).
  void audit_failure(const Actor& actor, const std::string& action, const std::string& target,
                     const nlohmann::json& details);

  struct LoginAttempt {
    bool ok = false;
    bool locked = false;           // too many failures: try again after retry_after_seconds
    int64_t retry_after_seconds = 0;
    Secret token;                  // ok only; wiped when the attempt is destroyed
    UnixMillis expires_at = 0;
  };
  // Audits both outcomes (auth.login ok/failed; never the password).
  LoginAttempt login(const std::string& username, const std::string& password, const std::string& client_address);
  // The session's principal, re-read from the store (nullopt: unknown, expired, revoked, or user disabled).
  std::optional<Principal> authenticate_token(const std::string& token);
  std::optional<Principal> authenticate_key(const std::string& key);
  bool logout(const std::string& token);
  size_t revoke_sessions_of(const std::string& user_id);

 private:
  void load_warm_gallery();
  void add_profile_to_gallery(Database& db, const std::string& profile_id);
  void add_profile_to_gallery(Database::ReadTransaction& tx, const std::string& profile_id);
  void load_sessions();
  // Writes the sessions map (caller holds sessions_mutex_) into `tx`'s meta table.
  void store_sessions_locked(Database::WriteTransaction& tx);
  struct Session {
    std::string user_id;
    UnixMillis expires_at = 0;
  };
  struct LoginFailures {
    int count = 0;
    UnixMillis first = 0;
    UnixMillis locked_until = 0;
  };

  ServiceOptions options_;
  DataDir data_;
  uint64_t serial_;  // keys this service's per-thread pipelines
  RestoreGate gate_;
  std::mutex restore_mutex_;  // one restore at a time (held for the whole restore; the gate only at its swap)
  ComputeSlots slots_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Database>> pool_;
  std::shared_ptr<vision::Gallery> warm_gallery();  // the current one (a full reload replaces it)
  std::mutex gallery_ptr_mutex_;
  std::shared_ptr<vision::Gallery> gallery_;
  std::mutex gallery_sync_mutex_;
  OplogTimestamp gallery_position_;  // the oplog position the warm gallery reflects (gallery_sync_mutex_)
  std::string model_version_;
  mutable std::mutex without_model_mutex_;
  std::map<std::string, std::set<std::string>> without_model_;  // GalleryLoadReport::without_model, kept current
  std::string face_models_problem_;
  std::string image_codecs_module_, image_codecs_problem_;
  std::mutex sessions_mutex_;
  std::map<std::string, Session> sessions_;  // sha256(token) hex -> session
  std::map<std::string, LoginFailures> failures_;
};

}  // namespace facecrowd
