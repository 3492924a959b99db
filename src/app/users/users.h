// Accounts and camera API keys (the `users` collection), and how a request proves who it is.
//
//   users {_id, kind: "user", username, role: "admin"|"operator"|"viewer", passwordHash (argon2id, libsodium
//          crypto_pwhash_str), disabled: bool, createdAt, updatedAt}
//   users {_id, kind: "apikey", name, role: "camera", keyHash (sha256 hex of the key's secret part),
//          revoked: bool, createdAt}          (no username: the unique username index allows many nulls)
//
// Contracts:
//  - There is no default account and no default password: the first admin is made by `users add`.
//  - A password is 12..1024 bytes; it is hashed with argon2id (OPSLIMIT/MEMLIMIT_INTERACTIVE) and never
//    stored, logged, audited or returned. Callers wipe their copies (sodium_memzero).
//  - An API key is "fck_<key id>_<43 base64url characters>" (256 random bits): returned once by
//    add_api_key(), only its sha256 is stored (a random 256-bit secret needs no slow hash).
//  - Only accounts whose password was set by add_user()/reset_password() (kind "user") can log in: users
//    from demo data (no kind; demo-data's password is published) are refused until an admin resets their
//    password. Accounts brought over by `facecrowd import` (app/import/import_mongodump.h) are kind "user"
//    and keep the old system's bcrypt hash ($2a$/$2b$/$2y$), which check_password() verifies with
//    libxcrypt's crypt_r; such a login is marked `legacy_hash`, and the caller then replaces the hash with
//    argon2id (upgrade_legacy_password), so a bcrypt hash lives only until its user's next login.
//  - check_password() costs one argon2id verification whether or not the user exists (no user
//    enumeration by timing); it returns the principal only for an enabled user with that password.
//  - Every change writes an audit entry (users.add, users.disable, users.enable, users.reset-password,
//    users.key.add, users.key.revoke) in its transaction, with the actor; never a secret.
//  - Error(kUsage) for a bad username/role/short password, kConflict for a taken username, kNotFound for an
//    unknown user or key.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/secret.h"
#include "store/database.h"

namespace facecrowd {

// Who is acting: the audit log's actor and client address. `id` is "user:<username>", "apikey:<id>" or,
// for the CLI, $USER.
struct Actor {
  std::string id;
  std::string client_address = "local";
};

enum class Role { kViewer, kOperator, kAdmin, kCamera };
std::string to_string(Role role);
// "admin", "operator" or "viewer" (people's roles); Error(kUsage) naming the accepted ones otherwise.
Role parse_user_role(const std::string& text);

// An authenticated caller.
struct Principal {
  std::string id;    // the users document's _id
  std::string name;  // username, or the key's name
  Role role = Role::kViewer;
  bool is_key = false;
  bool legacy_hash = false;  // the password matched an imported bcrypt hash: upgrade it (upgrade_legacy_password)
  std::string actor_id() const { return (is_key ? "apikey:" : "user:") + (is_key ? id : name); }
};

inline constexpr size_t kMinPasswordBytes = 12;
inline constexpr size_t kMaxPasswordBytes = 1024;

// Returns the new user's id.
std::string add_user(Database& db, const std::string& username, Role role, const std::string& password,
                     const Actor& actor);
void set_user_disabled(Database& db, const std::string& username, bool disabled, const Actor& actor);
void reset_password(Database& db, const std::string& username, const std::string& password, const Actor& actor);
// Users and keys without any hash: [{id, kind, username|name, role, disabled|revoked, createdAt}].
nlohmann::json list_users(Database::ReadTransaction& tx);
// The API keys among list_users()'s rows (`users key list`).
nlohmann::json list_api_keys(Database::ReadTransaction& tx);
// What creating a user answers, on every front end: {id, username, role}.
nlohmann::json created_user_json(const std::string& id, const std::string& username, Role role);

struct NewApiKey {
  std::string id, name;
  Secret key;  // shown once (by `users key add`), then wiped
};
NewApiKey add_api_key(Database& db, const std::string& name, const Actor& actor);
void revoke_api_key(Database& db, const std::string& key_id, const Actor& actor);

std::optional<Principal> check_password(Database::ReadTransaction& tx, const std::string& username,
                                        const std::string& password);
// Replaces `who`'s bcrypt hash with an argon2id hash of `password` (which check_password() just accepted)
// and writes a "users.password-upgrade" audit entry, in one transaction. Returns false, changing nothing,
// when the stored hash is no longer a bcrypt hash (another login upgraded it meanwhile).
bool upgrade_legacy_password(Database& db, const Principal& who, const std::string& password, const Actor& actor);
std::optional<Principal> check_api_key(Database::ReadTransaction& tx, const std::string& key);
// The user's current state (a session checks it on every request: disabled or deleted users lose access).
std::optional<Principal> find_active_user(Database::ReadTransaction& tx, const std::string& user_id);

// 256 random bits as base64url without padding (43 characters).
std::string random_token_text();

}  // namespace facecrowd
