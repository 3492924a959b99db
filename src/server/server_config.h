// `facecrowd serve`'s settings: documented defaults, then a JSON config file (--config FILE), then the
// environment, then the command line's flags, each overriding the one before. Unknown keys in the file
// are an error (a typo must not silently fall back to a default).
//
// The file (every key optional; these are the defaults):
//   {
//     "port": 5000, "bind": "127.0.0.1",              env FACECROWD_PORT, FACECROWD_BIND
//     "data": "data", "backupDir": "backup",          env FACECROWD_DATA, FACECROWD_BACKUP_DIR (or --data/--backup-dir)
//     "models": null,                                 env FACECROWD_MODELS (or --models); null: ./models etc.
//     "db": "face-recognition",
//     "threads": 8,                                   env FACECROWD_THREADS: request worker threads
//     "detector": "blazeface",
//     "faceModel": "dlib",                            env FACECROWD_FACE_MODEL (or --face-model): dlib or faceres
//                                                     (vision/face_model.h)
//     "match": {"threshold": 0.36, "minMargin": 0.07,   env FACECROWD_MATCH_THRESHOLD, FACECROWD_MATCH_MARGIN
//               "softFaces": "20:0.29,40:0.32",       env FACECROWD_MATCH_SOFT_FACES: blurred faces' thresholds
//               "softEnrolledFaces": true,            env FACECROWD_MATCH_SOFT_ENROLLED_FACES (on/off): the steps
//                                                     by the softer of the face and the enrolled face it matched
//               "galleryIsolation": 0.84},            env FACECROWD_MATCH_GALLERY_ISOLATION: a factor in (0, 1] or
//                                                     "off" (MatchPolicy::gallery_isolation)
//                                                     (unset: the face model's calibrated defaults,
//                                                     app/faces/match_policy.h; these are dlib's)
//     "limits": {
//       "maxBodyBytes": 67108864,                     env FACECROWD_MAX_BODY_BYTES: larger requests get 413
//       "maxImageMegapixels": 40,                     larger images get 400 before they are decoded
//       "maxJsonDepth": 16,                           deeper JSON bodies get 400 before they are parsed
//       "maxFilesPerUpload": 10,                      env FACECROWD_MAX_FILES: more files in one upload get 400
//       "readTimeoutSeconds": 10, "writeTimeoutSeconds": 30, "keepAliveSeconds": 5,
//       "requestTimeoutMs": 60000,                    env FACECROWD_REQUEST_TIMEOUT_MS: a request still running
//                                                     after this long (from its handler's start; waiting for a
//                                                     compute slot included) is answered 503 deadline_exceeded
//                                                     and stores nothing (core/request_deadline.h)
//       "computeSlots": 0                             env FACECROWD_COMPUTE_SLOTS: face and crowd networks run
//                                                     for at most this many requests at once, the others wait
//                                                     in line (FIFO); 0: one per CPU core
//     },
//     "rateLimits": {                                 token buckets; over the limit: 429 with Retry-After
//       "perAddressPerMinute": 1200,                  env FACECROWD_RATE_PER_ADDRESS (0: off); /health is exempt
//       "perTokenPerMinute": 600,                     env FACECROWD_RATE_PER_TOKEN (0: off)
//       "loginPerAddressPerMinute": 20
//     },
//     "auth": {"sessionHours": 12, "loginMaxFailures": 5, "lockoutMinutes": 15},
//     "logHealth": false,                             log every /health request too (liveness probes are noisy)
//     "allowSharedPermissions": false                 env FACECROWD_ALLOW_SHARED_PERMISSIONS=1; see below
//   }
//
// Private data (issue 15.1): at start, serve refuses (exit 6) a data or backup directory, or anything in
// them, that group or others can access, naming the paths and the `chmod -R go-rwx` that fixes it — it
// holds biometric data and password hashes. "allowSharedPermissions": true (or the variable) is the
// operator's written decision to run anyway (e.g. a backup directory read by an uploader group); serve
// then starts and logs a warning naming the exposed paths.
//
// The file holds no credential (there is no key for one, and unknown keys are refused), so it need not be
// private: passwords live hashed in the store, API keys as sha256, S3 credentials in the environment or
// ~/.aws/credentials (which must be 0600, backup/targets/s3_config.h), backup keys in 0600 key files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/faces/match_policy.h"

namespace facecrowd {

struct ServerConfig {
  int port = 5000;
  std::string bind = "127.0.0.1";
  std::string data = "data";
  std::string backup_dir = "backup";
  std::optional<std::string> models;
  std::string db = "face-recognition";
  int threads = 8;
  std::string detector = "blazeface";
  std::string face_model = "dlib";
  // Unset: the face model's calibrated defaults, as `facecrowd recognize` uses them (serve used 0.39 after the
  // CLI moved to 0.36).
  std::optional<double> match_threshold, match_min_margin;
  std::optional<std::string> match_soft_faces;  // "off" or SHARPNESS:THRESHOLD steps (app/faces/match_policy.h)
  std::optional<bool> match_soft_enrolled_faces;  // MatchPolicy::soft_enrolled_faces
  std::optional<std::string> match_gallery_isolation;  // "off" or a factor (MatchPolicy::gallery_isolation)
  // The policy serve decides matches with: the settings given, else the face model's defaults.
  MatchPolicy match_policy() const;
  int64_t max_body_bytes = 64ll << 20;
  double max_image_megapixels = 40;
  int max_json_depth = 16;
  int max_files_per_upload = 10;
  int read_timeout_seconds = 10, write_timeout_seconds = 30, keep_alive_seconds = 5;
  int64_t request_timeout_ms = 60'000;
  int compute_slots = 0;
  int rate_per_address_per_minute = 1200;
  int rate_per_token_per_minute = 600;
  int login_per_address_per_minute = 20;
  int session_hours = 12;
  int login_max_failures = 5;
  int lockout_minutes = 15;
  bool log_health = false;
  bool allow_shared_permissions = false;

  // The settings as the file spells them (what `serve --print-config` shows).
  nlohmann::json to_json() const;
};

// Overlays the JSON file at `path` on `config`. Error(kNotFound) when missing; Error(kBadInput) naming the
// file and the key for malformed JSON, an unknown key, a wrong type or a value out of range.
void apply_config_file(ServerConfig& config, const std::filesystem::path& path);
// The setting's name in messages: how an operator sets allow_shared_permissions.
inline constexpr const char* kAllowSharedPermissionsOption =
    "\"allowSharedPermissions\": true in the --config file (or FACECROWD_ALLOW_SHARED_PERMISSIONS=1)";

// Overlays the FACECROWD_* variables listed above (Error(kUsage) naming the variable when not a number,
// or, for FACECROWD_ALLOW_SHARED_PERMISSIONS, not one of 1/0/true/false).
void apply_config_environment(ServerConfig& config);
// Error(kUsage) naming the setting when a value is out of range.
void validate_config(const ServerConfig& config);

}  // namespace facecrowd
