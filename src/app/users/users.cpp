#include "app/users/users.h"

#include <crypt.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "app/records/audit.h"
#include "core/error.h"
#include "core/object_id.h"
#include "core/sha256.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

void init_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw Error(ExitCode::kInternal, "libsodium could not be initialised");
  });
}

void validate_username(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
  });
  if (!ok)
    throw Error(ExitCode::kUsage, "invalid user name '" + name + "': use 1-64 letters, digits, '.', '_', '-' or '@'");
}

void validate_password(const std::string& password) {
  if (password.size() < kMinPasswordBytes)
    throw Error(ExitCode::kUsage, "the password is too short: use at least " + std::to_string(kMinPasswordBytes) +
                                      " characters (a passphrase of a few words is good)");
  if (password.size() > kMaxPasswordBytes)
    throw Error(ExitCode::kUsage, "the password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
}

std::string hash_password(const std::string& password) {
  init_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw Error(ExitCode::kInternal, "hashing the password ran out of memory (argon2id needs 64 MiB)");
  return out;
}

std::string text_field(const Document& d, const char* key) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, d.get(), key) && BSON_ITER_HOLDS_UTF8(&it)) return bson_iter_utf8(&it, nullptr);
  return "";
}
// Accounts written before API keys existed (demo data, imports) have no kind: they are users.
std::string kind_of(const Document& d) {
  std::string kind = text_field(d, "kind");
  return kind.empty() ? "user" : kind;
}
bool bool_field(const Document& d, const char* key) {
  bson_iter_t it;
  return bson_iter_init_find(&it, d.get(), key) && BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it);
}

Role role_of(const std::string& text) {
  if (text == "admin") return Role::kAdmin;
  if (text == "operator") return Role::kOperator;
  if (text == "camera") return Role::kCamera;
  return Role::kViewer;
}

template <class Tx>
std::optional<Document> find_user(Tx& tx, const std::string& username) {
  std::optional<Document> found;
  tx.find("users", Query{{{"username", "=", username}}}, [&](const Document& d) {
    found = d;
    return false;
  });
  return found;
}

Document require_user(Database::WriteTransaction& tx, const std::string& username) {
  auto user = find_user(tx, username);
  if (!user || kind_of(*user) != "user")
    throw Error(ExitCode::kNotFound, "no user named '" + username + "' (see `facecrowd users list`)");
  return *user;
}

void audit(Database::WriteTransaction& tx, const std::string& action, const std::string& target, const Actor& actor,
           nlohmann::json details = nlohmann::json::object()) {
  append_audit(tx, AuditEntry{.action = action, .target = target, .actor = actor.id,
                              .client_address = actor.client_address, .details = std::move(details)});
}

void replace_fields(Database::WriteTransaction& tx, Document doc, const nlohmann::json& fields) {
  auto j = doc.to_json();
  for (auto& [k, v] : fields.items()) j[k] = v;
  j["updatedAt"] = {{"$date", now_millis()}};
  tx.replace("users", Document::from_json(j, "user"));
}

// An imported bcrypt hash (app/import): "$2a$", "$2b$" or "$2y$", cost, 53 characters of salt and hash.
bool is_bcrypt_hash(const std::string& hash) {
  return hash.size() == 60 && hash[0] == '$' && hash[1] == '2' && (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') &&
         hash[3] == '$';
}

// libxcrypt's crypt_r recomputes the hash with the stored salt and cost; compared in constant time.
bool bcrypt_verify(const std::string& hash, const std::string& password) {
  if (password.find('\0') != std::string::npos) return false;  // crypt() reads a C string
  auto data = std::make_unique<crypt_data>();                 // ~32 KiB: not on the stack
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  bool ok = out && out[0] != '*' && std::strlen(out) == hash.size() && sodium_memcmp(out, hash.data(), hash.size()) == 0;
  sodium_memzero(data.get(), sizeof(crypt_data));
  return ok;
}

// A verification against this hash costs what a real one costs (used when the user does not exist).
const std::string& decoy_hash() {
  static const std::string hash = hash_password("decoy password that no account has");
  return hash;
}

}  // namespace

std::string to_string(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kOperator: return "operator";
    case Role::kViewer: return "viewer";
    case Role::kCamera: return "camera";
  }
  return "viewer";
}

Role parse_user_role(const std::string& text) {
  if (text == "admin" || text == "operator" || text == "viewer") return role_of(text);
  throw Error(ExitCode::kUsage, "unknown role '" + text + "': use admin, operator or viewer");
}

std::string random_token_text() {
  init_sodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof raw);
  std::string out(text);
  sodium_memzero(text, sizeof text);
  return out;
}

std::string add_user(Database& db, const std::string& username, Role role, const std::string& password,
                     const Actor& actor) {
  validate_username(username);
  if (role == Role::kCamera) throw Error(ExitCode::kUsage, "cameras get API keys (`facecrowd users key add`), not accounts");
  validate_password(password);
  std::string hash = hash_password(password);  // before the transaction: ~0.1 s
  auto tx = db.write();
  if (find_user(tx, username))
    throw Error(ExitCode::kConflict, "user '" + username + "' already exists (reset its password with "
                                     "`facecrowd users reset-password " + username + " --password-stdin`)");
  std::string id = new_object_id();
  UnixMillis now = now_millis();
  tx.insert("users", Document::from_json({{"_id", {{"$oid", id}}},
                                          {"kind", "user"},
                                          {"username", username},
                                          {"role", to_string(role)},
                                          {"passwordHash", hash},
                                          {"disabled", false},
                                          {"createdAt", {{"$date", now}}},
                                          {"updatedAt", {{"$date", now}}}},
                                         "user"));
  sodium_memzero(hash.data(), hash.size());
  audit(tx, "users.add", username, actor, {{"role", to_string(role)}, {"userId", id}});
  tx.commit();
  return id;
}

void set_user_disabled(Database& db, const std::string& username, bool disabled, const Actor& actor) {
  auto tx = db.write();
  auto user = require_user(tx, username);
  replace_fields(tx, user, {{"disabled", disabled}});
  audit(tx, disabled ? "users.disable" : "users.enable", username, actor);
  tx.commit();
}

void reset_password(Database& db, const std::string& username, const std::string& password, const Actor& actor) {
  validate_password(password);
  std::string hash = hash_password(password);
  auto tx = db.write();
  auto user = require_user(tx, username);
  replace_fields(tx, user, {{"passwordHash", hash}, {"kind", "user"}});
  sodium_memzero(hash.data(), hash.size());
  audit(tx, "users.reset-password", username, actor);
  tx.commit();
}

nlohmann::json list_users(Database::ReadTransaction& tx) {
  auto out = nlohmann::json::array();
  tx.find("users", Query{}, [&](const Document& d) {
    auto j = d.to_json();
    nlohmann::json row = {{"id", d.id_key().value_or("")}, {"kind", j.value("kind", "user")},
                          {"role", j.value("role", "")}, {"createdAt", j.value("createdAt", nlohmann::json())}};
    if (row["kind"] == "apikey") {
      row["name"] = j.value("name", "");
      row["revoked"] = j.value("revoked", false);
    } else {
      row["username"] = j.value("username", "");
      row["disabled"] = j.value("disabled", false);
    }
    out.push_back(std::move(row));
    return true;
  });
  return out;
}

NewApiKey add_api_key(Database& db, const std::string& name, const Actor& actor) {
  if (name.empty() || name.size() > 128) throw Error(ExitCode::kUsage, "an API key needs a name of 1-128 characters (e.g. the camera's place)");
  NewApiKey k;
  k.id = new_object_id();
  k.name = name;
  std::string secret = random_token_text();
  k.key = Secret("fck_" + k.id + "_" + secret);
  std::string hash = sha256_hex(secret);
  sodium_memzero(secret.data(), secret.size());
  auto tx = db.write();
  tx.insert("users", Document::from_json({{"_id", {{"$oid", k.id}}},
                                          {"kind", "apikey"},
                                          {"name", name},
                                          {"role", "camera"},
                                          {"keyHash", hash},
                                          {"revoked", false},
                                          {"createdAt", {{"$date", now_millis()}}}},
                                         "API key"));
  audit(tx, "users.key.add", k.id, actor, {{"name", name}});
  tx.commit();
  return k;
}

void revoke_api_key(Database& db, const std::string& key_id, const Actor& actor) {
  auto tx = db.write();
  auto doc = tx.get("users", key_id);
  if (!doc || kind_of(*doc) != "apikey")
    throw Error(ExitCode::kNotFound, "no API key with id '" + key_id + "' (see `facecrowd users key list`)");
  replace_fields(tx, *doc, {{"revoked", true}});
  audit(tx, "users.key.revoke", key_id, actor);
  tx.commit();
}

std::optional<Principal> check_password(Database::ReadTransaction& tx, const std::string& username,
                                        const std::string& password) {
  init_sodium();
  std::optional<Document> user;
  if (!username.empty() && username.size() <= 64) user = find_user(tx, username);
  // Only passwords set by add_user/reset_password (kind: "user") log in: accounts from demo data or an
  // import carry hashes of passwords someone else chose (demo-data's is published), never a way in.
  if (user && text_field(*user, "kind") != "user") user.reset();
  std::string hash = user ? text_field(*user, "passwordHash") : decoy_hash();
  if (password.size() > kMaxPasswordBytes) return std::nullopt;
  const bool legacy = is_bcrypt_hash(hash);
  bool ok = legacy ? bcrypt_verify(hash, password)
                   : crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  if (!ok || !user || bool_field(*user, "disabled")) return std::nullopt;
  return Principal{*user->id_key(), username, role_of(text_field(*user, "role")), false, legacy};
}

bool upgrade_legacy_password(Database& db, const Principal& who, const std::string& password, const Actor& actor) {
  std::string hash = hash_password(password);  // before the transaction: ~0.1 s
  auto tx = db.write();
  auto user = tx.get("users", who.id);
  if (!user || kind_of(*user) != "user" || !is_bcrypt_hash(text_field(*user, "passwordHash"))) {
    sodium_memzero(hash.data(), hash.size());
    return false;
  }
  replace_fields(tx, *user, {{"passwordHash", hash}});
  sodium_memzero(hash.data(), hash.size());
  audit(tx, "users.password-upgrade", who.name, actor, {{"from", "bcrypt"}, {"to", "argon2id"}});
  tx.commit();
  return true;
}

std::optional<Principal> check_api_key(Database::ReadTransaction& tx, const std::string& key) {
  // fck_ + 24 hex + _ + 43 characters
  if (key.size() != 4 + 24 + 1 + 43 || key.rfind("fck_", 0) != 0 || key[28] != '_') return std::nullopt;
  std::string id = key.substr(4, 24);
  if (!std::all_of(id.begin(), id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  auto doc = tx.get("users", id);
  if (!doc || kind_of(*doc) != "apikey" || bool_field(*doc, "revoked")) return std::nullopt;
  std::string want = text_field(*doc, "keyHash");
  std::string got = sha256_hex(std::string_view(key).substr(29));
  if (want.size() != got.size() || sodium_memcmp(want.data(), got.data(), got.size()) != 0) return std::nullopt;
  return Principal{id, text_field(*doc, "name"), Role::kCamera, true};
}

std::optional<Principal> find_active_user(Database::ReadTransaction& tx, const std::string& user_id) {
  auto doc = tx.get("users", user_id);
  if (!doc || kind_of(*doc) != "user" || bool_field(*doc, "disabled")) return std::nullopt;
  return Principal{user_id, text_field(*doc, "username"), role_of(text_field(*doc, "role")), false};
}

nlohmann::json list_api_keys(Database::ReadTransaction& tx) {
  auto keys = nlohmann::json::array();
  for (auto& row : list_users(tx))
    if (row["kind"] == "apikey") keys.push_back(std::move(row));
  return keys;
}

nlohmann::json created_user_json(const std::string& id, const std::string& username, Role role) {
  return {{"id", id}, {"username", username}, {"role", to_string(role)}};
}

}  // namespace facecrowd
