#include "app/faces/profiles.h"

#include <algorithm>

#include "app/records/audit.h"
#include "core/error.h"
#include "core/object_id.h"
#include "core/utc_time.h"

namespace facecrowd {

template <class Tx>
std::optional<Document> find_profile(Tx& tx, const std::string& ref) {
  if (is_object_id(ref)) {
    if (auto doc = tx.get("faceprofiles", ref)) return doc;
  }
  return find_profile_by_external_id(tx, ref);
}

template <class Tx>
Document require_profile(Tx& tx, const std::string& ref) {
  auto doc = find_profile(tx, ref);
  if (!doc)
    throw Error(ExitCode::kNotFound, "no face profile with id or external id '" + ref +
                                         "' (see `facecrowd profiles list`)");
  return *doc;
}

template <class Tx>
std::vector<Document> find_profiles_by_name(Tx& tx, const std::string& name) {
  std::vector<Document> out;
  tx.find("faceprofiles", Query{{{"name", "=", name}}}, [&](const Document& d) {
    out.push_back(d);
    return true;
  });
  return out;
}

template <class Tx>
std::optional<Document> find_profile_by_external_id(Tx& tx, const std::string& external_id) {
  std::optional<Document> out;
  if (external_id.empty()) return out;
  tx.find("faceprofiles", Query{{{"externalId", "=", external_id}}}, [&](const Document& d) {
    out = d;
    return false;
  });
  return out;
}

template std::optional<Document> find_profile(Database::ReadTransaction&, const std::string&);
template std::optional<Document> find_profile(Database::WriteTransaction&, const std::string&);
template Document require_profile(Database::ReadTransaction&, const std::string&);
template Document require_profile(Database::WriteTransaction&, const std::string&);
template std::vector<Document> find_profiles_by_name(Database::ReadTransaction&, const std::string&);
template std::vector<Document> find_profiles_by_name(Database::WriteTransaction&, const std::string&);
template std::optional<Document> find_profile_by_external_id(Database::ReadTransaction&, const std::string&);
template std::optional<Document> find_profile_by_external_id(Database::WriteTransaction&, const std::string&);

std::pair<std::string, std::string> parse_meta_assignment(const std::string& text) {
  auto eq = text.find('=');
  std::string key = eq == std::string::npos ? "" : text.substr(0, eq);
  if (eq == std::string::npos || key.empty() || key[0] == '$' || key.find('.') != std::string::npos)
    throw Error(ExitCode::kUsage, "--meta '" + text + "' is not key=value (a key must be non-empty, without '.' or a leading '$')");
  return {key, text.substr(eq + 1)};
}

namespace {
void elide_vectors(nlohmann::json& doc) {
  if (!doc.contains("embeddings") || !doc["embeddings"].is_array()) return;
  for (auto& e : doc["embeddings"])
    if (e.is_object() && e.contains("vector")) e["vector"] = "<128 float32>";
}

std::string text_or_empty(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}
}  // namespace

nlohmann::json profile_json(const Document& profile) {
  auto doc = profile.to_json();
  elide_vectors(doc);
  return doc;
}

nlohmann::json list_profiles(Database::ReadTransaction& tx) {
  auto out = nlohmann::json::array();
  tx.find("faceprofiles", Query{}, [&](const Document& d) {
    auto doc = d.to_json();
    nlohmann::json row;
    row["id"] = d.id_key().value_or("");
    row["name"] = text_or_empty(doc, "name");
    row["externalId"] = doc.contains("externalId") ? doc["externalId"] : nullptr;
    row["embeddings"] = doc.contains("embeddings") && doc["embeddings"].is_array() ? doc["embeddings"].size() : 0;
    row["facialImages"] =
        doc.contains("facialImageIds") && doc["facialImageIds"].is_array() ? doc["facialImageIds"].size() : 0;
    row["consent"] = doc.contains("consent") && doc["consent"].is_object();
    nlohmann::json softest = nullptr;  // the lowest quality.blur: recognition holds matches with it to its threshold
    for (const auto& e : doc.contains("embeddings") && doc["embeddings"].is_array() ? doc["embeddings"] : nlohmann::json::array())
      if (e.is_object() && e.contains("quality") && e["quality"].is_object() && e["quality"].contains("blur") &&
          e["quality"]["blur"].is_number() && (softest.is_null() || e["quality"]["blur"].get<double>() < softest.get<double>()))
        softest = e["quality"]["blur"];
    row["softestSharpness"] = softest;
    row["createdAt"] = doc.contains("createdAt") ? doc["createdAt"] : nullptr;
    row["updatedAt"] = doc.contains("updatedAt") ? doc["updatedAt"] : nullptr;
    out.push_back(std::move(row));
    return true;
  });
  std::stable_sort(out.begin(), out.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["name"].get<std::string>() < b["name"].get<std::string>();
  });
  return out;
}

nlohmann::json show_profile(Database::ReadTransaction& tx, const std::string& ref) {
  Document profile = require_profile(tx, ref);
  auto doc = profile_json(profile);
  doc["attendances"] = tx.count("attendances", Query{{{"personId", "=", *profile.id_key()}}});
  return doc;
}

nlohmann::json update_profile(Database& db, const std::string& ref, const ProfileUpdate& update) {
  if (!update.name && !update.external_id && update.set_metadata.empty() && update.unset_metadata.empty() &&
      !update.consent_text && !update.withdraw_consent)
    throw Error(ExitCode::kUsage, "profiles update: nothing to change (give --name, --external-id, --meta, "
                                  "--unset-meta, --consent or --withdraw-consent)");
  if (update.name && update.name->empty()) throw Error(ExitCode::kUsage, "--name must not be empty");
  if (update.consent_text && update.withdraw_consent)
    throw Error(ExitCode::kUsage, "--consent and --withdraw-consent contradict each other");
  if (update.consent_text && update.consent_text->empty())
    throw Error(ExitCode::kUsage, "--consent needs the consent text the person agreed to");

  auto tx = db.write();
  Document profile = require_profile(tx, ref);
  const std::string id = *profile.id_key();
  auto doc = profile.to_json();
  nlohmann::json changed = nlohmann::json::object();
  if (update.name) {
    doc["name"] = *update.name;
    changed["name"] = *update.name;
  }
  if (update.external_id) {
    if (!update.external_id->empty()) {
      auto other = find_profile_by_external_id(tx, *update.external_id);
      if (other && other->id_key() != id)
        throw Error(ExitCode::kConflict, "external id '" + *update.external_id + "' already belongs to profile " +
                                             other->id_key().value_or("?"));
      doc["externalId"] = *update.external_id;
    } else {
      doc["externalId"] = nullptr;
    }
    changed["externalId"] = doc["externalId"];
  }
  if (!doc.contains("metadata") || !doc["metadata"].is_object()) doc["metadata"] = nlohmann::json::object();
  for (const auto& [k, v] : update.set_metadata) doc["metadata"][k] = v;
  for (const auto& k : update.unset_metadata) doc["metadata"].erase(k);
  if (!update.set_metadata.empty() || !update.unset_metadata.empty()) changed["metadata"] = doc["metadata"];
  UnixMillis now = now_millis();
  if (update.consent_text) {
    doc["consent"] = {{"text", *update.consent_text}, {"givenAt", {{"$date", now}}}};
    changed["consent"] = "given";
  }
  if (update.withdraw_consent) {
    doc["consent"] = nullptr;
    changed["consent"] = "withdrawn";
  }
  doc["updatedAt"] = {{"$date", now}};
  // The vectors round-trip through relaxed Extended JSON as {"$binary": {base64, subType "00"}}: lossless.
  Document updated = Document::from_json(doc, "face profile " + id);
  tx.replace("faceprofiles", updated);
  append_audit(tx, AuditEntry{.action = "profile.update", .target = id, .actor = update.actor,
                              .client_address = update.client_address, .details = {{"changed", changed}}});
  tx.commit();
  auto out = profile_json(updated);
  return out;
}

}  // namespace facecrowd
