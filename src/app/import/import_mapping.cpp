#include "app/import/import_mapping.h"

#include "core/error.h"
#include "core/sha256.h"

namespace facecrowd {

const std::map<std::string, std::set<std::string>>& import_target_fields() {
  static const std::map<std::string, std::set<std::string>> fields = {
      {"users", {"username", "email", "role", "passwordHash", "disabled", "createdAt", "updatedAt"}},
      {"faceprofiles", {"name", "externalId", "descriptors", "images", "createdAt", "updatedAt"}},
      {"attendances", {"person", "timestamp", "session", "confidence", "photo"}},
      {"crowdcounts", {"location", "count", "timestamp", "image"}},
      {"auditlogs", {"action", "timestamp", "actor", "target", "outcome", "clientAddress"}},
      {"fs.files", {}},
      {"fs.chunks", {}},
  };
  return fields;
}

const FieldMapping* CollectionMapping::field(const std::string& target) const {
  for (const auto& f : fields)
    if (f.target == target) return &f;
  return nullptr;
}

const CollectionMapping* ImportMapping::for_source(const std::string& collection) const {
  for (const auto& c : collections)
    if (c.source == collection) return &c;
  return nullptr;
}

ImportMapping ImportMapping::default_mapping() { return parse(default_import_mapping_text(), "the default mapping"); }

ImportMapping ImportMapping::parse(const std::string& text, const std::string& label) {
  auto bad = [&](const std::string& why) { return Error(ExitCode::kBadInput, label + ": " + why); };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw bad("not a JSON object (start from `facecrowd import --print-mapping`)");
  if (j.value("format", "") != "facecrowd-import-mapping")
    throw bad("\"format\" must be \"facecrowd-import-mapping\" (start from `facecrowd import --print-mapping`)");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int64_t>() != 1)
    throw bad("\"version\" must be 1");
  ImportMapping m;
  m.label = label;
  m.text_sha256 = sha256_hex(text);
  if (!j.contains("db") || !j["db"].is_string() || j["db"].get<std::string>().empty())
    throw bad("\"db\" must name the dump's database (e.g. \"face-recognition\")");
  m.db = j["db"];
  if (j.contains("unknownCollections") && j["unknownCollections"] != "refuse")
    throw bad("\"unknownCollections\" can only be \"refuse\": facecrowd keeps a fixed set of collections; map a collection "
              "explicitly to import it");
  if (!j.contains("collections") || !j["collections"].is_object()) throw bad("\"collections\" must be an object");
  std::set<std::string> gridfs_seen;
  for (auto& [source, cj] : j["collections"].items()) {
    std::string where = "collection '" + source + "'";
    if (!cj.is_object() || !cj.contains("as") || !cj["as"].is_string())
      throw bad(where + ": needs \"as\": one of users, faceprofiles, attendances, crowdcounts, auditlogs, fs.files, fs.chunks");
    CollectionMapping c;
    c.source = source;
    c.as = cj["as"];
    auto known = import_target_fields().find(c.as);
    if (known == import_target_fields().end())
      throw bad(where + ": \"as\": \"" + c.as + "\" is not a facecrowd collection (users, faceprofiles, attendances, "
                "crowdcounts, auditlogs, fs.files, fs.chunks)");
    if (c.as == "fs.files" || c.as == "fs.chunks") {
      if (!gridfs_seen.insert(c.as).second) throw bad(where + ": a second collection mapped to " + c.as);
      c.kind = cj.value("kind", "facial_image");
    }
    if (cj.contains("fields")) {
      if (!cj["fields"].is_object()) throw bad(where + ": \"fields\" must be an object");
      for (auto& [target, fj] : cj["fields"].items()) {
        std::string fwhere = where + ", field '" + target + "'";
        if (!known->second.count(target)) {
          std::string list;
          for (const auto& t : known->second) list += (list.empty() ? "" : ", ") + t;
          throw bad(fwhere + ": " + c.as + " has no field '" + target + "' to fill (it takes: " + (list.empty() ? "none" : list) + ")");
        }
        if (!fj.is_object()) throw bad(fwhere + ": must be an object {\"from\": [...]}");
        FieldMapping f;
        f.target = target;
        if (fj.contains("from") && fj["from"].is_string()) f.from.push_back(fj["from"]);
        else if (fj.contains("from") && fj["from"].is_array())
          for (const auto& s : fj["from"]) {
            if (!s.is_string() || s.get<std::string>().empty()) throw bad(fwhere + ": \"from\" must list field names");
            f.from.push_back(s);
          }
        if (f.from.empty()) throw bad(fwhere + ": \"from\" must name at least one source field");
        f.required = fj.value("required", false);
        f.optional = fj.value("optional", false);
        if (fj.contains("default")) f.default_value = fj["default"];
        if (fj.contains("values")) {
          if (!fj["values"].is_object()) throw bad(fwhere + ": \"values\" must be an object {\"old\": \"new\"}");
          for (auto& [k, v] : fj["values"].items()) {
            if (!v.is_string()) throw bad(fwhere + ": \"values\" must map text to text");
            f.values[k] = v;
          }
        }
        c.fields.push_back(std::move(f));
      }
    }
    m.collections.push_back(std::move(c));
  }
  return m;
}

}  // namespace facecrowd
