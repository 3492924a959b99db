#include "server/server_config.h"

#include <cstdlib>
#include <functional>
#include <map>

#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

struct Walker {
  std::string file;
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw Error(ExitCode::kBadInput, "config file '" + file + "': \"" + key + "\" " + why);
  }
  template <class T>
  void number(const Json& j, const std::string& key, T& out) const {
    if (!j.is_number()) fail(key, "must be a number");
    out = j.get<T>();
  }
  void text(const Json& j, const std::string& key, std::string& out) const {
    if (!j.is_string()) fail(key, "must be a string");
    out = j.get<std::string>();
  }
  // Calls `fields[name]` for each key of object `j`; unknown keys fail.
  void object(const Json& j, const std::string& where,
              const std::map<std::string, std::function<void(const Json&, const std::string&)>>& fields) const {
    if (!j.is_object()) fail(where, "must be an object");
    for (auto& [k, v] : j.items()) {
      std::string key = where.empty() ? k : where + "." + k;
      auto it = fields.find(k);
      if (it == fields.end()) {
        std::string known;
        for (auto& [name, _] : fields) known += (known.empty() ? "" : ", ") + name;
        fail(key, "is not a setting (known here: " + known + ")");
      }
      it->second(v, key);
    }
  }
};

template <class T>
void env_number(const char* name, T& out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end) throw Error(ExitCode::kUsage, std::string("$") + name + "='" + v + "' is not a number");
  out = static_cast<T>(d);
}

void env_optional_number(const char* name, std::optional<double>& out) {
  double d = 0;
  if (const char* v = std::getenv(name); !v || !*v) return;
  env_number(name, d);
  out = d;
}

void env_text(const char* name, std::string& out) {
  if (const char* v = std::getenv(name); v && *v) out = v;
}

void env_flag(const char* name, bool& out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return;
  std::string t = v;
  if (t == "1" || t == "true" || t == "yes") out = true;
  else if (t == "0" || t == "false" || t == "no") out = false;
  else throw Error(ExitCode::kUsage, std::string("$") + name + "='" + t + "': use 1 or 0 (true or false)");
}

// The documented form: a number as written, or "off" (the setting is kept as its text, validated on load).
Json gallery_isolation_json(const std::string& text) {
  Json number = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return number.is_number() ? number : Json(text);
}

}  // namespace

Json ServerConfig::to_json() const {
  const bool faceres = face_model == vision::face_model_name(vision::FaceModel::kFaceres);  // as the file spells it
  return {{"port", port},
          {"bind", bind},
          {"data", data},
          {"backupDir", backup_dir},
          {"models", models ? Json(*models) : Json(nullptr)},
          {"db", db},
          {"threads", threads},
          {"detector", detector},
          {"faceModel", face_model},
          {"match", {{"threshold", match_threshold.value_or(faceres ? kFaceresMatchThreshold : kDefaultMatchThreshold)},
                     {"minMargin", match_min_margin.value_or(faceres ? kFaceresMatchMargin : kDefaultMatchMargin)},
                     {"softFaces", match_soft_faces.value_or(soft_face_steps_text(
                                       faceres ? std::vector<SoftFaceStep>{} : default_soft_face_steps()))},
                     {"softEnrolledFaces", match_soft_enrolled_faces.value_or(MatchPolicy{}.soft_enrolled_faces)},
                     {"galleryIsolation", gallery_isolation_json(match_gallery_isolation.value_or(gallery_isolation_text(
                                              default_match_policy(vision::parse_face_model(face_model, "faceModel"))
                                                  .gallery_isolation)))}}},
          {"limits",
           {{"maxBodyBytes", max_body_bytes},
            {"maxImageMegapixels", max_image_megapixels},
            {"maxJsonDepth", max_json_depth},
            {"maxFilesPerUpload", max_files_per_upload},
            {"readTimeoutSeconds", read_timeout_seconds},
            {"writeTimeoutSeconds", write_timeout_seconds},
            {"keepAliveSeconds", keep_alive_seconds},
            {"requestTimeoutMs", request_timeout_ms},
            {"computeSlots", compute_slots}}},
          {"rateLimits",
           {{"perAddressPerMinute", rate_per_address_per_minute},
            {"perTokenPerMinute", rate_per_token_per_minute},
            {"loginPerAddressPerMinute", login_per_address_per_minute}}},
          {"auth", {{"sessionHours", session_hours}, {"loginMaxFailures", login_max_failures}, {"lockoutMinutes", lockout_minutes}}},
          {"logHealth", log_health},
          {"allowSharedPermissions", allow_shared_permissions}};
}

void apply_config_file(ServerConfig& c, const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(ExitCode::kNotFound, "config file '" + path.string() + "' does not exist");
  Json j = Json::parse(read_file(path), nullptr, false);
  Walker w{path.string()};
  if (j.is_discarded()) throw Error(ExitCode::kBadInput, "config file '" + path.string() + "' is not valid JSON");
  auto num = [&](auto& out) { return [&w, &out](const Json& v, const std::string& k) { w.number(v, k, out); }; };
  auto txt = [&](std::string& out) { return [&w, &out](const Json& v, const std::string& k) { w.text(v, k, out); }; };
  w.object(j, "",
           {{"port", num(c.port)},
            {"bind", txt(c.bind)},
            {"data", txt(c.data)},
            {"backupDir", txt(c.backup_dir)},
            {"models",
             [&](const Json& v, const std::string& k) {
               if (v.is_null()) return c.models.reset();
               std::string s;
               w.text(v, k, s);
               c.models = s;
             }},
            {"db", txt(c.db)},
            {"threads", num(c.threads)},
            {"detector", txt(c.detector)},
            {"faceModel", txt(c.face_model)},
            {"match",
             [&](const Json& v, const std::string& k) {
               auto opt = [&w](std::optional<double>& out) {
                 return [&w, &out](const Json& v, const std::string& k) {
                   double d = 0;
                   w.number(v, k, d);
                   out = d;
                 };
               };
               w.object(v, k,
                        {{"threshold", opt(c.match_threshold)},
                         {"minMargin", opt(c.match_min_margin)},
                         {"softFaces", [&w, &c](const Json& v, const std::string& k) {
                            std::string text;
                            w.text(v, k, text);
                            c.match_soft_faces = text;
                          }},
                         {"softEnrolledFaces", [&w, &c](const Json& v, const std::string& k) {
                            if (!v.is_boolean()) w.fail(k, "must be true or false");
                            c.match_soft_enrolled_faces = v.get<bool>();
                          }},
                         {"galleryIsolation", [&w, &c](const Json& v, const std::string& k) {
                            // A number, or "off" as the flag and the environment take it; a number is kept as
                            // written (JSON's shortest form), so that a refusal quotes it and 0.8449 stays 0.8449.
                            if (!v.is_number() && !v.is_string()) w.fail(k, "must be a number in (0, 1] or \"off\"");
                            c.match_gallery_isolation = v.is_number() ? v.dump() : v.get<std::string>();
                          }}});
             }},
            {"limits",
             [&](const Json& v, const std::string& k) {
               w.object(v, k,
                        {{"maxBodyBytes", num(c.max_body_bytes)},
                         {"maxImageMegapixels", num(c.max_image_megapixels)},
                         {"maxJsonDepth", num(c.max_json_depth)},
                         {"maxFilesPerUpload", num(c.max_files_per_upload)},
                         {"readTimeoutSeconds", num(c.read_timeout_seconds)},
                         {"writeTimeoutSeconds", num(c.write_timeout_seconds)},
                         {"keepAliveSeconds", num(c.keep_alive_seconds)},
                         {"requestTimeoutMs", num(c.request_timeout_ms)},
                         {"computeSlots", num(c.compute_slots)}});
             }},
            {"rateLimits",
             [&](const Json& v, const std::string& k) {
               w.object(v, k,
                        {{"perAddressPerMinute", num(c.rate_per_address_per_minute)},
                         {"perTokenPerMinute", num(c.rate_per_token_per_minute)},
                         {"loginPerAddressPerMinute", num(c.login_per_address_per_minute)}});
             }},
            {"auth",
             [&](const Json& v, const std::string& k) {
               w.object(v, k,
                        {{"sessionHours", num(c.session_hours)},
                         {"loginMaxFailures", num(c.login_max_failures)},
                         {"lockoutMinutes", num(c.lockout_minutes)}});
             }},
            {"logHealth",
             [&](const Json& v, const std::string& k) {
               if (!v.is_boolean()) w.fail(k, "must be true or false");
               c.log_health = v.get<bool>();
             }},
            {"allowSharedPermissions",
             [&](const Json& v, const std::string& k) {
               if (!v.is_boolean()) w.fail(k, "must be true or false");
               c.allow_shared_permissions = v.get<bool>();
             }}});
  try {
    validate_config(c);
  } catch (const Error& e) {
    throw Error(ExitCode::kBadInput, "config file '" + path.string() + "': " + e.what());
  }
}

void apply_config_environment(ServerConfig& c) {
  env_number("FACECROWD_PORT", c.port);
  env_text("FACECROWD_BIND", c.bind);
  env_number("FACECROWD_THREADS", c.threads);
  env_text("FACECROWD_FACE_MODEL", c.face_model);
  env_optional_number("FACECROWD_MATCH_THRESHOLD", c.match_threshold);
  env_optional_number("FACECROWD_MATCH_MARGIN", c.match_min_margin);
  // The two kept as text are read here too, so that a bad value is refused naming the variable, not the config key.
  if (const char* text = std::getenv("FACECROWD_MATCH_SOFT_FACES"); text && *text) {
    parse_soft_face_steps(text, "$FACECROWD_MATCH_SOFT_FACES");
    c.match_soft_faces = text;
  }
  if (const char* text = std::getenv("FACECROWD_MATCH_SOFT_ENROLLED_FACES"); text && *text)
    c.match_soft_enrolled_faces = parse_on_off(text, "$FACECROWD_MATCH_SOFT_ENROLLED_FACES");
  if (const char* text = std::getenv("FACECROWD_MATCH_GALLERY_ISOLATION"); text && *text) {
    parse_gallery_isolation(text, "$FACECROWD_MATCH_GALLERY_ISOLATION");
    c.match_gallery_isolation = text;
  }
  env_number("FACECROWD_MAX_BODY_BYTES", c.max_body_bytes);
  env_number("FACECROWD_MAX_FILES", c.max_files_per_upload);
  env_number("FACECROWD_REQUEST_TIMEOUT_MS", c.request_timeout_ms);
  env_number("FACECROWD_COMPUTE_SLOTS", c.compute_slots);
  env_number("FACECROWD_RATE_PER_ADDRESS", c.rate_per_address_per_minute);
  env_number("FACECROWD_RATE_PER_TOKEN", c.rate_per_token_per_minute);
  env_flag("FACECROWD_ALLOW_SHARED_PERMISSIONS", c.allow_shared_permissions);
  validate_config(c);
}

MatchPolicy ServerConfig::match_policy() const {
  MatchPolicy p = default_match_policy(vision::parse_face_model(face_model, "faceModel"));
  if (match_threshold) p.max_distance = float(*match_threshold);
  if (match_min_margin) p.min_margin = float(*match_min_margin);
  if (match_soft_faces) p.soft_faces = parse_soft_face_steps(*match_soft_faces, "match.softFaces");
  if (match_soft_enrolled_faces) p.soft_enrolled_faces = *match_soft_enrolled_faces;
  if (match_gallery_isolation) p.gallery_isolation = parse_gallery_isolation(*match_gallery_isolation, "match.galleryIsolation");
  return p;
}

void validate_config(const ServerConfig& c) {
  auto range = [](const char* name, double v, double lo, double hi) {
    if (v < lo || v > hi)
      throw Error(ExitCode::kUsage, std::string(name) + " = " + std::to_string(v) + " is outside " +
                                        std::to_string(lo) + ".." + std::to_string(hi));
  };
  range("port", c.port, 0, 65535);
  range("threads", c.threads, 1, 256);
  range("limits.maxBodyBytes", double(c.max_body_bytes), 1024, 4.0 * (1ll << 30));
  range("limits.maxImageMegapixels", c.max_image_megapixels, 0.01, 1000);
  range("limits.maxJsonDepth", c.max_json_depth, 2, 256);
  range("limits.maxFilesPerUpload", c.max_files_per_upload, 1, 1000);
  range("limits.readTimeoutSeconds", c.read_timeout_seconds, 1, 3600);
  range("limits.writeTimeoutSeconds", c.write_timeout_seconds, 1, 3600);
  range("limits.keepAliveSeconds", c.keep_alive_seconds, 0, 3600);
  range("limits.requestTimeoutMs", double(c.request_timeout_ms), 1, 3600e3);
  range("limits.computeSlots", c.compute_slots, 0, 256);
  range("rateLimits.perAddressPerMinute", c.rate_per_address_per_minute, 0, 1e9);
  range("rateLimits.perTokenPerMinute", c.rate_per_token_per_minute, 0, 1e9);
  range("rateLimits.loginPerAddressPerMinute", c.login_per_address_per_minute, 0, 1e9);
  range("auth.sessionHours", c.session_hours, 1, 24 * 90);
  range("auth.loginMaxFailures", c.login_max_failures, 1, 1000);
  range("auth.lockoutMinutes", c.lockout_minutes, 1, 24 * 60);
  validate_match_policy(c.match_policy());  // and faceModel: Error(kUsage) naming the choices
}

}  // namespace facecrowd
