// Face profiles (`faceprofiles`): look-up, listing, showing and updating the non-biometric fields.
//
//   faceprofiles {_id: ObjectId, name, externalId: string|null, metadata: {k: v}, consent: {text, givenAt}|null,
//                 embeddings: [{_id: ObjectId, vector: binary(128 x float32 LE), modelVersion, sourceFileId,
//                               quality: {...}}],
//                 facialImageIds: [ObjectId], createdAt: date, updatedAt: date}
//
// Contracts: a profile is named on the command line by its `_id` (24 hex) or its externalId;
// require_profile() throws Error(kNotFound) naming the reference when neither matches. Embeddings are
// added only by enrollment (app/faces/enrollment.h), import, and `gallery reembed` (app/faces/gallery_reembed.h).
// update_profile() changes name/externalId/metadata/consent, sets updatedAt and writes a "profile.update"
// audit entry in the same transaction; it validates before writing (an externalId already used by another
// profile is Error(kConflict)). show/list never print vectors (they are biometric data and 128 numbers
// long): a vector is shown as "<128 float32>".
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace facecrowd {

// By _id, else by externalId; nullopt when neither matches. Works in a read or a write transaction.
template <class Tx>
std::optional<Document> find_profile(Tx& tx, const std::string& ref);
template <class Tx>
Document require_profile(Tx& tx, const std::string& ref);
// Profiles whose name is exactly `name`.
template <class Tx>
std::vector<Document> find_profiles_by_name(Tx& tx, const std::string& name);
template <class Tx>
std::optional<Document> find_profile_by_external_id(Tx& tx, const std::string& external_id);

// "key=value" -> (key, value); Error(kUsage) naming the text when there is no '=' or the key is empty,
// starts with '$' or contains '.'.
std::pair<std::string, std::string> parse_meta_assignment(const std::string& text);

// {id, name, externalId, embeddings, facialImages, consent: bool, softestSharpness, createdAt, updatedAt}, sorted
// by name. softestSharpness: the lowest quality.blur of its embeddings (null when none has one); a soft one makes
// recognition match that face only at a closer distance (app/faces/soft_enrolled_face.h).
nlohmann::json list_profiles(Database::ReadTransaction& tx);
// The whole document as relaxed Extended JSON with every vector replaced by "<128 float32>", plus
// "attendances": the number of attendance records of the person.
nlohmann::json show_profile(Database::ReadTransaction& tx, const std::string& ref);

struct ProfileUpdate {
  std::optional<std::string> name;
  std::optional<std::string> external_id;  // "" clears it (null)
  std::map<std::string, std::string> set_metadata;
  std::vector<std::string> unset_metadata;
  std::optional<std::string> consent_text;  // records consent given now
  bool withdraw_consent = false;            // consent: null
  std::optional<std::string> actor;         // audit actor; default: default_audit_actor()
  std::string client_address = "local";
};

// Returns the updated profile (as show_profile). Error(kUsage) when the update changes nothing or sets an
// empty name, or gives consent and withdraws it at once.
nlohmann::json update_profile(Database& db, const std::string& ref, const ProfileUpdate& update);

// The profile's document with vectors elided (used by show and by enrollment's report).
nlohmann::json profile_json(const Document& profile);

}  // namespace facecrowd
