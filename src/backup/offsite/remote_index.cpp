#include "backup/offsite/remote_index.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace facecrowd {
namespace {

nlohmann::json object_json(const RemoteObject& o) {
  nlohmann::json j = {{"key", o.key}, {"size", o.size}, {"sha256", o.sha256}};
  if (!o.key_id.empty()) j["key_id"] = o.key_id;
  if (!o.etag.empty()) j["etag"] = o.etag;
  if (!o.md5.empty()) j["md5"] = o.md5;
  return j;
}

RemoteObject object_from(const nlohmann::json& j) {
  return {j.at("key").get<std::string>(), j.at("size").get<uint64_t>(), j.at("sha256").get<std::string>(),
          j.value("key_id", std::string()), j.value("etag", std::string()), j.value("md5", std::string())};
}

OplogTimestamp ts_from(const nlohmann::json& j, const char* field) {
  auto ts = parse_oplog_timestamp(j.at(field).get<std::string>());
  if (!ts) throw Error(ExitCode::kBadInput, std::string("bad oplog position in field ") + field);
  return *ts;
}

}  // namespace

nlohmann::json RemoteIndex::to_json() const {
  nlohmann::json a = nlohmann::json::array(), s = nlohmann::json::array(), l = nlohmann::json::array();
  for (const auto& x : archives)
    a.push_back({{"name", x.name}, {"db", x.db}, {"created", format_iso8601(x.created)}, {"plain_bytes", x.plain_bytes},
                 {"object", object_json(x.object)}, {"manifest_object", object_json(x.manifest_object)},
                 {"manifest", x.manifest.to_json()}});
  for (const auto& x : slices) {
    s.push_back({{"name", x.name}, {"from", x.from.to_string()}, {"to", x.to.to_string()}, {"plain_bytes", x.plain_bytes},
                 {"object", object_json(x.object)}});
    if (x.record) s.back()["record"] = object_json(*x.record);
  }
  for (const auto& x : ledger)
    l.push_back({{"offset", x.offset}, {"length", x.length}, {"plain_sha256", x.plain_sha256}, {"object", object_json(x.object)}});
  return {{"format", "facecrowd-backup-target"}, {"format_version", format_version}, {"updated_at", updated_at},
          {"encryption", encryption}, {"passphrase_salt", passphrase_salt}, {"archives", a}, {"slices", s},
          {"ledger", {{"bytes", ledger_bytes}, {"sha256", ledger_sha256}, {"chunks", l}}}};
}

RemoteIndex RemoteIndex::from_json(const nlohmann::json& j, const std::string& what) {
  try {
    RemoteIndex x;
    if (j.at("format").get<std::string>() != "facecrowd-backup-target")
      throw Error(ExitCode::kBadInput, what + " is not a facecrowd backup target index");
    x.format_version = j.at("format_version").get<int>();
    if (x.format_version != 1)
      throw Error(ExitCode::kBadInput, what + " has format version " + std::to_string(x.format_version) + " (this facecrowd reads 1)");
    x.updated_at = j.value("updated_at", std::string());
    x.encryption = j.value("encryption", std::string());
    x.passphrase_salt = j.value("passphrase_salt", std::string());
    for (const auto& a : j.at("archives")) {
      RemoteArchive r;
      r.name = a.at("name").get<std::string>();
      r.db = a.at("db").get<std::string>();
      r.created = parse_iso8601(a.at("created").get<std::string>()).value_or(0);
      r.plain_bytes = a.value("plain_bytes", uint64_t(0));
      r.object = object_from(a.at("object"));
      r.manifest_object = object_from(a.at("manifest_object"));
      r.manifest = Manifest::from_json(a.at("manifest"), what + " archive " + r.name);
      x.archives.push_back(std::move(r));
    }
    for (const auto& s : j.at("slices")) {
      x.slices.push_back({object_from(s.at("object")), s.at("name").get<std::string>(), ts_from(s, "from"), ts_from(s, "to"),
                          s.value("plain_bytes", uint64_t(0)), std::nullopt});
      if (s.contains("record")) x.slices.back().record = object_from(s.at("record"));
    }
    const auto& l = j.at("ledger");
    x.ledger_bytes = l.at("bytes").get<uint64_t>();
    x.ledger_sha256 = l.at("sha256").get<std::string>();
    for (const auto& c : l.at("chunks"))
      x.ledger.push_back({object_from(c.at("object")), c.at("offset").get<uint64_t>(), c.at("length").get<uint64_t>(),
                          c.at("plain_sha256").get<std::string>()});
    std::sort(x.archives.begin(), x.archives.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::sort(x.slices.begin(), x.slices.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
    std::sort(x.ledger.begin(), x.ledger.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
    return x;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, what + " is malformed: " + e.what());
  }
}

const RemoteArchive* RemoteIndex::find_archive(const std::string& name) const {
  for (const auto& a : archives)
    if (a.name == name) return &a;
  return nullptr;
}

const RemoteSlice* RemoteIndex::find_slice(const std::string& name) const {
  for (const auto& s : slices)
    if (s.name == name) return &s;
  return nullptr;
}

RemoteSlice* RemoteIndex::find_slice(const std::string& name) {
  return const_cast<RemoteSlice*>(std::as_const(*this).find_slice(name));
}

const RemoteArchive* RemoteIndex::latest(const std::string& db, std::optional<OplogTimestamp> until) const {
  const RemoteArchive* best = nullptr;
  for (const auto& a : archives) {
    if (a.db != db) continue;
    if (until && !(a.manifest.oplog_start < *until)) continue;
    if (!best || a.created > best->created || (a.created == best->created && a.name > best->name)) best = &a;
  }
  return best;
}

OplogTimestamp RemoteIndex::shipped_position() const {
  OplogTimestamp best;
  for (const auto& s : slices) best = std::max(best, s.to);
  return best;
}

}  // namespace facecrowd
