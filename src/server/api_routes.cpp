// The route table of the REST API (api_server.h): who may call what, and thin handlers that parse the
// request, call the Service or a use-case function, and render JSON. No business logic lives here.
#include <httplib.h>
#include <sodium.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <fstream>

#include "app/privacy/erasure_listing.h"
#include "app/records/audit.h"
#include "app/recovery/backup_listing.h"
#include "app/recovery/backup_report.h"
#include "app/records/export.h"
#include "app/faces/profiles.h"
#include "app/records/retention.h"
#include "app/records/stats.h"
#include "app/faces/unknown_faces.h"
#include "backup/backup_job.h"
#include "backup/backup_status.h"
#include "backup/verify.h"
#include "core/files.h"
#include "core/secret.h"
#include "core/utc_time.h"
#include "server/api_server.h"
#include "server/http_error.h"
#include "server/json_body.h"
#include "server/rate_limiter.h"
#include "store/file_store.h"

namespace facecrowd {

std::string fixed_free(double gb);

namespace {

using Json = nlohmann::json;

struct Page {
  int64_t limit = 50, offset = 0;
};

int64_t int_param(const Call& c, const std::string& name, int64_t fallback, int64_t lo, int64_t hi) {
  auto v = c.query(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    int64_t n = std::stoll(*v, &used);
    if (used != v->size() || n < lo || n > hi) throw std::out_of_range(name);
    return n;
  } catch (const std::exception&) {
    throw HttpError(400, "bad_parameter", "query parameter '" + name + "' must be a whole number in " +
                                              std::to_string(lo) + ".." + std::to_string(hi));
  }
}

// Greedy clustering compares each face with every cluster so far: quadratic, so it is capped.
constexpr int64_t kMaxClusteredFaces = 2000;

Page page_of(const Call& c) { return {int_param(c, "limit", 50, 1, 1000), int_param(c, "offset", 0, 0, INT64_MAX / 2)}; }

std::optional<UnixMillis> time_param(const Call& c, const std::string& name) {
  auto v = c.query(name);
  if (!v) return std::nullopt;
  auto t = parse_iso8601(*v);
  if (!t) throw HttpError(400, "bad_parameter", "query parameter '" + name + "' must be an ISO 8601 time, e.g. 2026-11-27T08:00:00Z");
  return t;
}

Json paged(std::vector<Json> rows, const Page& p) {
  Json items = Json::array();
  for (int64_t i = p.offset; i < int64_t(rows.size()) && i < p.offset + p.limit; ++i) items.push_back(std::move(rows[size_t(i)]));
  bool more = int64_t(rows.size()) > p.offset + p.limit;
  return {{"items", items}, {"limit", p.limit}, {"offset", p.offset},
          {"nextOffset", more ? Json(p.offset + p.limit) : Json(nullptr)}};
}

std::string text_field(const Call& c, const std::string& name, bool required) {
  if (c.req.has_file(name.c_str())) {
    auto f = c.req.get_file_value(name.c_str());
    if (!f.filename.empty()) throw HttpError(400, "bad_field", "field '" + name + "' must be text, not a file");
    return f.content;
  }
  if (required) throw HttpError(400, "missing_field", "the multipart field '" + name + "' is required");
  return "";
}

// A multipart text field holding true or false; absent: false. Anything else is a 400 naming the field.
bool boolean_field(const Call& c, const std::string& name) {
  std::string value = text_field(c, name, false);
  if (!c.req.has_file(name.c_str()) || value == "false") return false;
  if (value == "true") return true;
  throw HttpError(400, "bad_field", "field '" + name + "' is true or false, not '" + value.substr(0, 40) + "'");
}

// The client's file name, reduced to a plain base name: it labels the stored file, never opens anything.
std::string safe_file_name(const std::string& given) {
  std::string base = given.substr(given.find_last_of("/\\") == std::string::npos ? 0 : given.find_last_of("/\\") + 1);
  std::string out;
  for (unsigned char ch : base)
    if (ch >= 0x20 && ch != 0x7f) out += char(ch);
  if (out.empty() || out == "." || out == "..") out = "upload";
  return out.substr(0, 200);
}

// Every file part named `name`, after checking the upload's file count against the limit.
std::vector<ImageBytes> uploaded_files(const Call& c, const std::string& name) {
  size_t files = 0;
  for (const auto& [field, part] : c.req.files)
    if (!part.filename.empty()) ++files;
  if (int64_t(files) > c.config.max_files_per_upload)
    throw HttpError(400, "too_many_files", std::to_string(files) + " files in one upload; the limit is " +
                                               std::to_string(c.config.max_files_per_upload));
  std::vector<ImageBytes> out;
  auto range = c.req.files.equal_range(name);
  for (auto it = range.first; it != range.second; ++it)
    if (!it->second.filename.empty()) out.push_back({safe_file_name(it->second.filename), it->second.content});
  return out;
}

void require_multipart(const Call& c) {
  if (!c.req.is_multipart_form_data())
    throw HttpError(400, "not_multipart", "send multipart/form-data (curl -F field=value -F photo=@file.jpg)");
}

// Runs an upload use case; a refusal is audited (outcome failed) with the reason, then answered.
template <class Fn>
void audited_upload(Call& c, const std::string& action, const std::string& target, Fn&& fn) {
  try {
    fn();
  } catch (const HttpError& e) {
    c.service.audit_failure(c.actor, action, target, {{"reason", e.what()}, {"status", e.status}});
    throw;
  } catch (const Error& e) {
    c.service.audit_failure(c.actor, action, target, {{"reason", e.what()}});
    throw;
  }
}

std::string base64(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool is_object_id(const std::string& s) {
  return s.size() == 24 && std::all_of(s.begin(), s.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
}

std::string csv_cell(const Json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : v.dump());
  if (v.is_object() && v.contains("$date")) s = v["$date"].is_string() ? v["$date"].get<std::string>() : v["$date"].dump();
  if (v.is_object() && v.contains("$oid")) s = v["$oid"].get<std::string>();
  if (s.find_first_of(",\"\n\r") == std::string::npos && (s.empty() || std::string("=+-@").find(s[0]) == std::string::npos)) return s;
  std::string out = "\"";
  if (!s.empty() && std::string("=+-@").find(s[0]) != std::string::npos) out += "'";  // no spreadsheet formulas
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::vector<Json> attendance_rows(Call& c, int64_t limit) {
  AttendanceQuery q;
  q.session = c.query("session");
  q.person = c.query("person");
  q.from = time_param(c, "from");
  q.to = time_param(c, "to");
  q.limit = limit;
  auto db = c.service.database();
  auto tx = db->read();
  return list_attendance(tx, q);
}

fs::path verify_log(const Service& s) { return s.options().backup_dir / "verify-log.jsonl"; }

Json last_verify(const Service& s) {
  std::error_code ec;
  if (!fs::exists(verify_log(s), ec)) return nullptr;
  std::ifstream in(verify_log(s));
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  auto j = Json::parse(last, nullptr, false);
  return j.is_discarded() ? Json(nullptr) : j;
}

Json monitoring_health(Call& c) {
  Json checks = Json::array();
  int worst = 0;
  auto add = [&](const std::string& name, int level, const std::string& message) {
    static const char* names[] = {"OK", "WARNING", "ERROR"};
    worst = std::max(worst, level);
    checks.push_back({{"name", name}, {"status", names[level]}, {"message", message}});
  };
  try {
    auto db = c.service.database();
    auto tx = db->read();
    add("store", 0, "database '" + c.service.options().db + "' readable at oplog position " + tx.position().to_string() +
                        "; " + std::to_string(tx.count("faceprofiles")) + " profiles");
  } catch (const std::exception& e) {
    add("store", 2, std::string("the store cannot be read: ") + e.what());
  }
  struct statvfs vfs {};
  if (::statvfs(c.service.options().data_root.c_str(), &vfs) == 0) {
    double free_gb = double(vfs.f_bavail) * double(vfs.f_frsize) / 1e9;
    add("data-disk", free_gb < 0.1 ? 2 : (free_gb < 1 ? 1 : 0), fixed_free(free_gb));
  } else {
    add("data-disk", 2, "cannot read the free space of the data directory");
  }
  if (c.service.face_models_problem().empty()) {
    add("models", 0, "face models loaded; warm gallery holds " + std::to_string(c.service.gallery_embeddings()) + " embeddings");
    try {
      c.service.sync_warm_gallery();  // catches up with a `gallery reembed` or `enroll` run by another process
      auto warning = c.service.gallery_model_warning();
      add("gallery-models", warning ? 1 : 0,
          warning ? *warning : "every profile with embeddings has one of the current face model");
    } catch (const std::exception& e) {
      add("gallery-models", 2, std::string("the gallery cannot be brought up to date: ") + e.what());
    }
  } else {
    add("models", 2, c.service.face_models_problem());
  }
  if (c.service.image_codecs_problem().empty())
    add("image-codecs", 0, "image codecs module '" + c.service.image_codecs_module() + "' loaded");
  else
    add("image-codecs", 2, c.service.image_codecs_problem());
  try {
    StatusOptions so;
    so.db = c.service.options().db;
    auto status = backup_status(&c.service.data(), c.service.options().backup_dir, so);
    for (const auto& ch : status.checks) add("backup:" + ch.name, int(ch.level), ch.message);
  } catch (const std::exception& e) {
    add("backup", 2, e.what());
  }
  Json v = last_verify(c.service);
  if (v.is_null()) add("last-verified-restore", 1, "no backup has been verified through the service (POST /api/v1/backups/latest/verify)");
  else {
    auto at = parse_iso8601(v.value("time", ""));
    bool ok = v.value("ok", false);
    bool recent = at && now_millis() - *at < 8ll * 24 * 3600 * 1000;
    add("last-verified-restore", !ok ? 2 : (recent ? 0 : 1),
        std::string(ok ? "verified " : "FAILED verifying ") + v.value("archive", "?") + " at " + v.value("time", "?"));
  }
  static const char* names[] = {"OK", "WARNING", "ERROR"};
  return {{"status", names[worst]}, {"checks", checks}};
}

}  // namespace

std::vector<Route> api_routes() {
  std::vector<Route> r;
  // ---- health and the contract
  r.push_back({"GET", "/health", "Liveness: the process answers (no auth, no store)", kAnonymous, false, {}, "", {}, "application/json",
               [](Call& c) { c.reply(200, {{"status", "ok"}}); }});
  r.push_back({"GET", "/api/openapi.json", "This OpenAPI 3 document", kAnonymous, false, {}, "", {}, "application/json",
               [](Call& c) { c.reply(200, openapi_document(api_routes())); }});
  r.push_back({"GET", "/api/monitoring/health", "Store, disk, models, backup freshness, oplog lag, last verified restore (OK/WARNING/ERROR)",
               kPeople, true, {}, "", {}, "application/json", [](Call& c) {
                 c.reply(200, monitoring_health(c));  // the status is in the body, as `backups status` prints it
               }});

  // ---- auth
  r.push_back({"POST", "/api/v1/auth/login", "Log in: {username, password} -> {token, expiresAt}", kAnonymous, true, {}, "json",
               {"username", "password"}, "application/json", [](Call& c) {
                 if (int wait = c.login_limiter->take(c.req.remote_addr))
                   throw HttpError(429, "rate_limited", "too many login attempts from this address", wait);
                 auto body = c.json_body();
                 if (!body.contains("username") || !body["username"].is_string() || !body.contains("password") ||
                     !body["password"].is_string())
                   throw HttpError(400, "bad_request", "send {\"username\": \"...\", \"password\": \"...\"}");
                 std::string user = body["username"].get<std::string>();
                 // Moved out of the parsed body, so the body keeps no copy; wiped however this ends.
                 Secret password(std::move(body["password"].get_ref<std::string&>()));
                 auto attempt = c.service.login(user, password.reveal(), c.req.remote_addr);
                 if (attempt.locked)
                   throw HttpError(429, "locked", "too many failed logins for this user; try again later", int(attempt.retry_after_seconds));
                 if (!attempt.ok) throw HttpError(401, "invalid_credentials", "wrong user name or password");
                 c.reply(200, {{"token", attempt.token.reveal()}, {"expiresAt", format_iso8601(attempt.expires_at)}});
               }});
  r.push_back({"POST", "/api/v1/auth/logout", "End this session (the token stops working)", kPeople, true, {}, "", {}, "application/json",
               [](Call& c) {
                 Secret header(c.req.get_header_value("Authorization"));
                 Secret token(header.reveal().substr(7));
                 c.service.logout(token.reveal());
                 c.reply(200, {{"loggedOut", true}});
               }});
  r.push_back({"GET", "/api/v1/auth/me", "Who this token or key is", kPeople | kCamera, true, {}, "", {}, "application/json",
               [](Call& c) {
                 c.reply(200, {{"id", c.who->id}, {"name", c.who->name}, {"role", to_string(c.who->role)},
                               {"kind", c.who->is_key ? "apikey" : "user"}});
               }});

  // ---- users (admin)
  r.push_back({"GET", "/api/v1/users", "Users and API keys (never a hash)", kAdmin, true, {}, "", {}, "application/json",
               [](Call& c) {
                 auto db = c.service.database();
                 auto tx = db->read();
                 c.reply(200, {{"items", list_users(tx)}});
               }});
  r.push_back({"POST", "/api/v1/users", "Create a user {username, role, password}", kAdmin, true, {}, "json",
               {"username", "role", "password"}, "application/json", [](Call& c) {
                 auto body = c.json_body();
                 for (const char* k : {"username", "role", "password"})
                   if (!body.contains(k) || !body[k].is_string()) throw HttpError(400, "bad_request", std::string("'") + k + "' (string) is required");
                 Secret password(std::move(body["password"].get_ref<std::string&>()));
                 auto db = c.service.database();
                 Role role = parse_user_role(body["role"].get<std::string>());
                 std::string username = body["username"].get<std::string>();
                 std::string id = add_user(*db, username, role, password.reveal(), c.actor);
                 c.reply(201, created_user_json(id, username, role));
               }});
  for (bool disable : {true, false})
    r.push_back({"POST", std::string("/api/v1/users/{username}/") + (disable ? "disable" : "enable"),
                 disable ? "Disable a user (its sessions end at once)" : "Enable a user again", kAdmin, true, {}, "", {},
                 "application/json", [disable](Call& c) {
                   auto db = c.service.database();
                   set_user_disabled(*db, c.path_param(1), disable, c.actor);
                   c.reply(200, {{"username", c.path_param(1)}, {"disabled", disable}});
                 }});

  // ---- people
  r.push_back({"GET", "/api/v1/people", "List or search profiles (q: part of the name or external id)", kPeople, true,
               {"q", "limit", "offset"}, "", {}, "application/json", [](Call& c) {
                 auto page = page_of(c);
                 std::string q = c.query("q").value_or("");
                 std::transform(q.begin(), q.end(), q.begin(), ::tolower);
                 auto db = c.service.database();
                 auto tx = db->read();
                 std::vector<Json> rows;
                 for (auto& p : list_profiles(tx)) {
                   std::string hay = p.value("name", "") + " " + (p["externalId"].is_string() ? p["externalId"].get<std::string>() : "");
                   std::transform(hay.begin(), hay.end(), hay.begin(), ::tolower);
                   if (q.empty() || hay.find(q) != std::string::npos) rows.push_back(std::move(p));
                 }
                 c.reply(200, paged(std::move(rows), page));
               }});
  r.push_back({"POST", "/api/v1/people",
               "Enroll: multipart name, optional externalId and consent, one or more photos. A face that already "
               "matches another profile is refused (409, naming that profile, nothing stored) unless force=true "
               "(enrolled with a warning, as `enroll --force`; the audit entry records force). A soft face is enrolled "
               "with a warning and, in its 'added' entry, 'softFace': the closer distance recognition will need and the "
               "remedy (enrol a sharper photo); every entry gives its 'sharpness'",
               kStaff, true, {}, "multipart", {"name", "externalId", "consent", "force:boolean", "photos[]"}, "application/json", [](Call& c) {
                 audited_upload(c, "profile.enroll", "", [&] {
                   require_multipart(c);
                   EnrollRequest req;
                   req.force = boolean_field(c, "force");
                   req.name = text_field(c, "name", false);
                   if (auto e = text_field(c, "externalId", false); !e.empty()) req.external_id = e;
                   if (auto e = text_field(c, "consent", false); !e.empty()) req.consent_text = e;
                   if (req.name.empty() && !req.external_id)
                     throw HttpError(400, "missing_field", "the multipart field 'name' is required");
                   req.uploads = uploaded_files(c, "photos");
                   if (req.uploads.empty()) throw HttpError(400, "missing_field", "send one or more files in the field 'photos'");
                   auto result = c.service.enroll(c.actor, std::move(req));
                   c.reply(result.created ? 201 : 200, result.to_json());
                 });
               }});
  r.push_back({"GET", "/api/v1/people/{id}", "One profile (by id or external id); vectors elided", kPeople, true, {}, "", {},
               "application/json", [](Call& c) {
                 auto db = c.service.database();
                 auto tx = db->read();
                 c.reply(200, show_profile(tx, c.path_param(1)));
               }});
  r.push_back({"PATCH", "/api/v1/people/{id}", "Update name, externalId, metadata {k: v|null}, consent (text) or withdrawConsent",
               kStaff, true, {}, "json", {"name", "externalId", "metadata", "consent", "withdrawConsent"}, "application/json",
               [](Call& c) {
                 auto body = c.json_body();
                 ProfileUpdate u;
                 u.actor = c.actor.id;
                 u.client_address = c.actor.client_address;
                 auto str = [&](const char* k) -> std::optional<std::string> {
                   if (!body.contains(k)) return std::nullopt;
                   if (body[k].is_null()) return std::string();
                   if (!body[k].is_string()) throw HttpError(400, "bad_request", std::string("'") + k + "' must be a string");
                   return body[k].get<std::string>();
                 };
                 u.name = str("name");
                 u.external_id = str("externalId");
                 if (auto consent = str("consent"); consent && !consent->empty()) u.consent_text = consent;
                 u.withdraw_consent = body.value("withdrawConsent", false);
                 if (body.contains("metadata")) {
                   if (!body["metadata"].is_object()) throw HttpError(400, "bad_request", "'metadata' must be an object");
                   for (auto& [k, v] : body["metadata"].items()) {
                     if (v.is_null()) u.unset_metadata.push_back(k);
                     else if (v.is_string()) u.set_metadata[parse_meta_assignment(k + "=x").first] = v.get<std::string>();
                     else throw HttpError(400, "bad_request", "metadata values are strings (or null to remove)");
                   }
                 }
                 auto db = c.service.database();
                 c.reply(200, update_profile(*db, c.path_param(1), u));
               }});
  r.push_back({"DELETE", "/api/v1/people/{id}", "GDPR erasure: profile, embeddings, images; attendance=remove|anonymise",
               kAdmin, true, {"attendance"}, "", {}, "application/json", [](Call& c) {
                 if (!is_object_id(c.path_param(1))) throw HttpError(400, "bad_id", "a person is erased by its 24-hex id");
                 auto policy = parse_attendance_policy(c.query("attendance").value_or("remove"));
                 c.reply(200, c.service.erase(c.actor, c.path_param(1), policy).to_json());
               }});

  // ---- recognition and attendance
  r.push_back({"POST", "/api/v1/recognize",
               "Attendance from a group photo: multipart session, photo (crops=inline adds each unknown face's crop as "
               "base64 JPEG) -> recognised people, unknown faces (faceId, box, cropFileId/cropUrl) and the annotated "
               "photo (annotatedFileId/annotatedUrl; labels are the faces' numbers)",
               kStaff | kCamera, true, {}, "multipart", {"session", "photo[]", "crops"}, "application/json", [](Call& c) {
                 std::string session = c.req.has_file("session") ? c.req.get_file_value("session").content : "";
                 audited_upload(c, "attendance.recognize", session, [&] {
                   require_multipart(c);
                   RecognizeRequest req;
                   req.session = text_field(c, "session", true);
                   std::string crops = text_field(c, "crops", false);
                   if (!crops.empty() && crops != "inline" && crops != "file")
                     throw HttpError(400, "bad_field", "field 'crops' is 'file' (default: cropFileId) or 'inline' (base64 JPEG too)");
                   auto photos = uploaded_files(c, "photo");
                   if (photos.size() != 1) throw HttpError(400, "missing_field", "send exactly one file in the field 'photo'");
                   req.upload = std::move(photos.front());
                   auto result = c.service.recognize(c.actor, std::move(req));
                   auto j = result.to_json();
                   if (!result.annotated_file_id.empty()) j["annotatedUrl"] = "/api/v1/files/" + result.annotated_file_id;
                   std::map<std::string, const RecognizedFace*> by_face;
                   for (const auto& f : result.faces)
                     if (!f.face_id.empty()) by_face[f.face_id] = &f;
                   for (auto& u : j["unknown"]) {
                     if (u.contains("cropFileId")) u["cropUrl"] = "/api/v1/files/" + u["cropFileId"].get<std::string>();
                     if (crops == "inline" && u.contains("faceId") && by_face.count(u["faceId"]) && !by_face[u["faceId"]]->crop_jpeg.empty())
                       u["cropJpeg"] = base64(by_face[u["faceId"]]->crop_jpeg);
                   }
                   c.reply(200, j);
                 });
               }});
  r.push_back({"GET", "/api/v1/unknown-faces",
               "Unknown faces by session or time (cluster=true: the same stranger across photos shown once, "
               "greedy clustering at the recognition threshold)",
               kStaff, true, {"session", "from", "to", "cluster", "limit", "offset"}, "", {}, "application/json", [](Call& c) {
                 auto page = page_of(c);
                 std::string cluster = c.query("cluster").value_or("false");
                 if (cluster != "true" && cluster != "false") throw HttpError(400, "bad_parameter", "'cluster' is true or false");
                 UnknownFaceQuery q{c.query("session"), time_param(c, "from"), time_param(c, "to")};
                 // Bounded reads: a page needs offset + limit + 1 faces (one more tells whether there is a next
                 // page); clustering reads at most kMaxClusteredFaces + 1, and refuses more.
                 q.max_faces = cluster == "true" ? kMaxClusteredFaces + 1 : page.offset + page.limit + 1;
                 std::vector<UnknownFace> faces;
                 {
                   auto db = c.service.database();
                   auto tx = db->read();
                   faces = list_unknown_faces(tx, q);
                 }
                 std::vector<Json> rows;
                 if (cluster == "true") {
                   if (int64_t(faces.size()) > kMaxClusteredFaces)
                     throw HttpError(400, "too_many_faces",
                                     "clustering takes at most " + std::to_string(kMaxClusteredFaces) +
                                         " unknown faces and more match; narrow it with session=, or from= and to=");
                   for (const auto& cl : cluster_unknown_faces(std::move(faces), c.service.options().match.max_distance))
                     rows.push_back(cl.to_json());
                 } else {
                   for (const auto& f : faces) rows.push_back(f.to_json());
                 }
                 auto out = paged(std::move(rows), page);
                 out["clustered"] = cluster == "true";
                 c.reply(200, out);
               }});
  r.push_back({"POST", "/api/v1/unknown-faces/{id}/assign",
               "Enroll an unknown face's crop into a person: {personId} (enrolled) or {name, externalId?} (new), "
               "force?; the person gets the session's attendance record. The answer's 'enrollment' is enroll's: a soft "
               "crop is enrolled with a warning and 'softFace' (the closer distance recognition will need, the remedy)",
               kStaff, true, {}, "json", {"personId", "name", "externalId", "force:boolean"}, "application/json", [](Call& c) {
                 auto body = c.json_body();
                 Service::AssignUnknown a;
                 a.face_id = c.path_param(1);
                 auto text = [&](const char* key) -> std::optional<std::string> {
                   if (!body.contains(key) || body[key].is_null()) return std::nullopt;
                   if (!body[key].is_string() || body[key].get<std::string>().empty())
                     throw HttpError(400, "bad_request", std::string("'") + key + "' must be a non-empty string");
                   return body[key].get<std::string>();
                 };
                 a.person_id = text("personId");
                 a.name = text("name").value_or("");
                 a.external_id = text("externalId");
                 if (body.contains("force") && !body["force"].is_boolean()) throw HttpError(400, "bad_request", "'force' is true or false");
                 a.force = body.value("force", false);
                 if (a.person_id.has_value() == !a.name.empty())
                   throw HttpError(400, "bad_request", "give either personId (an enrolled person) or name (a new person)");
                 audited_upload(c, "unknown.assign", a.face_id, [&] {
                   c.reply(201, c.service.assign_unknown_face(c.actor, a).to_json());
                 });
               }});
  r.push_back({"GET", "/api/v1/attendance", "Attendance records by session, person (id, external id or name), time",
               kPeople, true, {"session", "person", "from", "to", "limit", "offset"}, "", {}, "application/json", [](Call& c) {
                 auto page = page_of(c);
                 c.reply(200, paged(attendance_rows(c, page.offset + page.limit + 1), page));
               }});
  r.push_back({"GET", "/api/v1/attendance/export", "The matching attendance records as CSV", kPeople, true,
               {"session", "person", "from", "to"}, "", {}, "text/csv", [](Call& c) {
                 std::string csv = "id,personId,personName,session,timestamp,confidence,archived\r\n";
                 for (const auto& row : attendance_rows(c, -1)) {
                   csv += csv_cell(row.value("_id", Json())) + "," + csv_cell(row.value("personId", Json())) + "," +
                          csv_cell(row.value("personName", Json())) + "," + csv_cell(row.value("session", Json())) + "," +
                          csv_cell(row.value("timestamp", Json())) + "," + csv_cell(row.value("confidence", Json())) + "," +
                          csv_cell(row.value("archived", Json())) + "\r\n";
                 }
                 c.res.status = 200;
                 c.res.set_header("Content-Disposition", "attachment; filename=\"attendance.csv\"");
                 c.res.set_content(csv, "text/csv");
               }});

  // ---- crowd
  r.push_back({"POST", "/api/v1/crowd", "Count a crowd image: multipart location, photo -> count and heat map file ids",
               kStaff | kCamera, true, {}, "multipart", {"location", "photo[]"}, "application/json", [](Call& c) {
                 std::string location = c.req.has_file("location") ? c.req.get_file_value("location").content : "";
                 audited_upload(c, "crowd.analyze", location, [&] {
                   require_multipart(c);
                   CrowdRequest req;
                   req.location = text_field(c, "location", true);
                   auto photos = uploaded_files(c, "photo");
                   if (photos.size() != 1) throw HttpError(400, "missing_field", "send exactly one file in the field 'photo'");
                   req.image = photos.front().name;
                   req.upload = std::move(photos.front().bytes);
                   auto result = c.service.count_crowd(c.actor, std::move(req));
                   auto j = result.to_json();
                   j["heatmapUrl"] = "/api/v1/files/" + result.heatmap_file_id;
                   c.reply(201, j);
                 });
               }});
  r.push_back({"GET", "/api/v1/crowd", "Crowd count history", kPeople, true, {"location", "from", "to", "limit", "offset"}, "",
               {}, "application/json", [](Call& c) {
                 auto page = page_of(c);
                 CrowdQuery q{c.query("location"), time_param(c, "from"), time_param(c, "to"), page.offset + page.limit + 1};
                 auto db = c.service.database();
                 auto tx = db->read();
                 c.reply(200, paged(list_crowdcounts(tx, q), page));
               }});
  r.push_back({"GET", "/api/v1/crowd/summary", "Min/mean/max per location and hour or day", kPeople, true,
               {"location", "from", "to", "by"}, "", {}, "application/json", [](Call& c) {
                 std::string by = c.query("by").value_or("hour");
                 if (by != "hour" && by != "day") throw HttpError(400, "bad_parameter", "'by' is hour or day");
                 CrowdQuery q{c.query("location"), time_param(c, "from"), time_param(c, "to"), -1};
                 auto db = c.service.database();
                 auto tx = db->read();
                 Json items = Json::array();
                 for (const auto& row : summarise_crowdcounts(tx, q, by == "hour" ? SummaryPeriod::kHour : SummaryPeriod::kDay))
                   items.push_back(to_json(row));
                 c.reply(200, {{"items", items}});
               }});

  // ---- files
  r.push_back({"GET", "/api/v1/files/{id}", "A stored file's bytes (facial images: operator and admin only)", kPeople, true,
               {}, "", {}, "application/octet-stream", [](Call& c) {
                 std::string id = c.path_param(1);
                 if (!is_object_id(id)) throw HttpError(400, "bad_id", "a file is named by its 24-hex id");
                 auto db = c.service.database();
                 auto tx = db->read();
                 auto info = file_info(tx, id);
                 if (!info) throw HttpError(404, "not_found", "no file with id " + id);
                 auto j = info->to_json();
                 std::string kind = j.contains("metadata") ? j["metadata"].value("kind", "") : "";
                 if (kind == "facial_image" && c.who->role == Role::kViewer) {
                   c.service.audit_failure(c.actor, "access.denied", id, {{"reason", "facial images need operator or admin"}});
                   throw HttpError(403, "forbidden", "facial images are biometric data: operator or admin only");
                 }
                 std::string bytes = get_file(tx, id);
                 c.res.status = 200;
                 c.res.set_header("Content-Disposition", "attachment; filename=\"" + id + "\"");
                 c.res.set_header("X-Content-Type-Options", "nosniff");
                 c.res.set_content(bytes, j.value("contentType", "application/octet-stream"));
               }});

  // ---- audit
  r.push_back({"GET", "/api/v1/audit", "Audit entries, newest first", kAdmin, true, {"since", "until", "action", "target", "limit"},
               "", {}, "application/json", [](Call& c) {
                 AuditQuery q;
                 q.since = time_param(c, "since");
                 q.until = time_param(c, "until");
                 q.action = c.query("action");
                 q.target = c.query("target");
                 q.limit = int_param(c, "limit", 100, 1, 10000);
                 auto db = c.service.database();
                 auto tx = db->read();
                 Json items = Json::array();
                 for (const auto& d : list_audit(tx, q)) items.push_back(d.to_json());
                 c.reply(200, {{"items", items}});
               }});

  // ---- the erasure ledger (admin): the same listing and rendering as `facecrowd person erasures --json`
  r.push_back({"GET", "/api/v1/erasures",
               "The erasure ledger: every GDPR erasure, oldest first (person ids, never names), read once the ledger "
               "is proven whole",
               kAdmin, true, {}, "", {}, "application/json", [](Call& c) {
                 try {
                   c.reply(200, list_erasures(c.service.data().root(), c.service.options().backup_dir).to_json());
                 } catch (const Error& e) {
                   // A ledger shorter than a recorded fingerprint is the server's state, not the request's fault.
                   if (e.code() != ExitCode::kBadInput) throw;
                   throw HttpError(409, "ledger_not_whole", e.what());
                 }
               }});

  // ---- backups, restore, retention, export (admin)
  r.push_back({"GET", "/api/v1/backups", "Archives, oplog slices and the point-in-time window", kAdmin, false, {}, "", {},
               "application/json", [](Call& c) {
                 c.reply(200, backup_listing(BackupCatalog(c.service.options().backup_dir), c.service.options().db));
               }});
  r.push_back({"GET", "/api/v1/backups/status", "Backup monitoring (OK/WARNING/ERROR) as `backups status`", kAdmin, true, {}, "",
               {}, "application/json", [](Call& c) {
                 StatusOptions so;
                 so.db = c.service.options().db;
                 c.reply(200, backup_status(&c.service.data(), c.service.options().backup_dir, so).to_json());
               }});
  r.push_back({"POST", "/api/v1/backups", "Take a backup now (optional {collections: [...]})", kAdmin, true, {}, "json",
               {"collections"}, "application/json", [](Call& c) {
                 BackupOptions o;
                 o.db = c.service.options().db;
                 if (!c.req.body.empty()) {
                   auto body = c.json_body();
                   if (body.contains("collections")) o.collections = body["collections"].get<std::vector<std::string>>();
                 }
                 try {
                   auto result = run_backup(c.service.data(), c.service.options().backup_dir, o);
                   c.reply(201, backup_summary_json(result));
                 } catch (const Error& e) {
                   c.service.audit_failure(c.actor, "backup", o.db, {{"reason", e.what()}});
                   throw;
                 }
               }});
  r.push_back({"POST", "/api/v1/backups/{name}/verify", "Prove an archive (or latest) restores, in a scratch directory",
               kAdmin, false, {}, "", {}, "application/json", [](Call& c) {
                 std::string name = c.path_param(1);
                 if (name != "latest" && (name.find('/') != std::string::npos || name.find("..") != std::string::npos ||
                                          name.rfind("backup_", 0) != 0))
                   throw HttpError(400, "bad_name", "give an archive name from GET /api/v1/backups, or latest");
                 VerifyOptions o;
                 o.backup_dir = c.service.options().backup_dir;
                 auto report = verify_backup(name, o);
                 Json line = {{"time", format_iso8601(now_millis())}, {"archive", report.source.filename().string()},
                              {"ok", report.ok()}, {"actor", c.actor.id}};
                 append_line_durably(verify_log(c.service), line.dump());
                 c.reply(report.ok() ? 200 : 422, report.to_json());
               }});
  r.push_back({"POST", "/api/v1/restore",
               "Restore {archive, db?, dryRun?, drop?, collections?}: into a test db, or the live one (built while requests "
               "are served; 503 only during the swap; erasures made meanwhile stay)",
               kAdmin, false, {}, "json", {"archive", "db", "dryRun", "drop", "collections"}, "application/json", [](Call& c) {
                 auto body = c.json_body();
                 std::string archive = body.value("archive", "");
                 if (archive.empty() || (archive != "latest" && (archive.find('/') != std::string::npos || archive.rfind("backup_", 0) != 0)))
                   throw HttpError(400, "bad_name", "'archive' is an archive name from GET /api/v1/backups, or latest");
                 RestoreOptions o;
                 o.db = body.value("db", c.service.options().db);
                 o.dry_run = body.value("dryRun", false);
                 o.drop = body.value("drop", false);
                 if (body.contains("collections")) o.collections = body["collections"].get<std::vector<std::string>>();
                 try {
                   c.reply(200, c.service.restore(c.actor, archive, o).to_json());
                 } catch (const Error& e) {
                   c.service.audit_failure(c.actor, "restore", archive, {{"reason", e.what()}});
                   throw;
                 }
               }});
  r.push_back({"POST", "/api/v1/retention", "Retention 12/12/24 months, archive after 6 ({dryRun: true} to preview)", kAdmin,
               true, {}, "json", {"dryRun"}, "application/json", [](Call& c) {
                 RetentionOptions o;
                 o.dry_run = c.req.body.empty() ? true : c.json_body().value("dryRun", true);
                 o.actor = c.actor.id;
                 o.client_address = c.actor.client_address;
                 auto db = c.service.database();
                 c.reply(200, run_retention(*db, o).to_json());
               }});
  r.push_back({"GET", "/api/v1/export", "mongoexport-style export of a collection (NDJSON); query: filter JSON", kAdmin, true,
               {"collection", "query"}, "", {}, "application/x-ndjson", [](Call& c) {
                 ExportOptions o;
                 o.db = c.service.options().db;
                 o.collection = c.query("collection").value_or("");
                 if (o.collection.empty()) throw HttpError(400, "missing_parameter", "give ?collection=NAME");
                 o.query_json = c.query("query").value_or("");
                 if (json_nesting_depth(o.query_json) > c.config.max_json_depth)
                   throw HttpError(400, "too_deep", "the query nests deeper than the limit");
                 o.out = std::filesystem::temp_directory_path() / ("facecrowd-export-" + c.request_id + ".json");
                 export_collection(c.service.data(), o);
                 std::string text = read_file(o.out);
                 std::error_code ec;
                 std::filesystem::remove(o.out, ec);
                 c.res.status = 200;
                 c.res.set_content(text, "application/x-ndjson");
               }});
  r.push_back({"GET", "/api/v1/stats", "Counts and sizes per collection", kPeople, true, {}, "", {}, "application/json",
               [](Call& c) { c.reply(200, collect_stats(c.service.data(), c.service.options().db)); }});
  return r;
}

std::string fixed_free(double gb) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f GB free", gb);
  return buf;
}

}  // namespace facecrowd
