#include "backup/manifest.h"

#include "core/error.h"

namespace facecrowd {

nlohmann::json Manifest::to_json() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const auto& f : files)
    files_json.push_back({{"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}, {"documents", f.documents}});
  return {{"format", "facecrowd-backup"},
          {"format_version", format_version},
          {"tool_version", tool_version},
          {"created_at", created_at},
          {"db", db},
          {"collections", collections},
          {"oplog", {{"start", oplog_start.to_string()}, {"end", oplog_end.to_string()}, {"entries", oplog_entries}}},
          {"files", files_json}};
}

Manifest Manifest::from_json(const nlohmann::json& j, const std::string& what) {
  auto bad = [&](const std::string& why) { return Error(ExitCode::kBadInput, what + ": " + why); };
  if (!j.is_object() || j.value("format", "") != "facecrowd-backup") throw bad("not a facecrowd backup manifest");
  if (!j.contains("format_version") || !j["format_version"].is_number_integer()) throw bad("no format_version");
  Manifest m;
  m.format_version = j["format_version"].get<int>();
  if (m.format_version != kArchiveFormatVersion)
    throw bad("unknown archive format version " + std::to_string(m.format_version) + " (this facecrowd reads " +
              std::to_string(kArchiveFormatVersion) + ")");
  try {
    m.tool_version = j.value("tool_version", "");
    m.created_at = j.at("created_at").get<std::string>();
    m.db = j.at("db").get<std::string>();
    m.collections = j.at("collections").get<std::vector<std::string>>();
    auto start = parse_oplog_timestamp(j.at("oplog").at("start").get<std::string>());
    auto end = parse_oplog_timestamp(j.at("oplog").at("end").get<std::string>());
    if (!start || !end) throw bad("malformed oplog range");
    m.oplog_start = *start;
    m.oplog_end = *end;
    m.oplog_entries = j.at("oplog").value("entries", int64_t(0));
    for (const auto& f : j.at("files")) {
      ManifestFile file{f.at("path").get<std::string>(), f.at("sha256").get<std::string>(),
                        f.at("bytes").get<uint64_t>(), f.value("documents", int64_t(-1))};
      if (file.sha256.size() != 64) throw bad("malformed sha256 for " + file.path);
      m.files.push_back(std::move(file));
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("malformed manifest: ") + e.what());
  }
  return m;
}

Manifest Manifest::parse(const std::string& text, const std::string& what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw Error(ExitCode::kBadInput, what + ": manifest is not valid JSON");
  return from_json(j, what);
}

const ManifestFile* Manifest::find_file(const std::string& path) const {
  for (const auto& f : files)
    if (f.path == path) return &f;
  return nullptr;
}

}  // namespace facecrowd
