#include "backup/offsite/remote_index.h"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>
#include <utility>

#include "backup/catalog.h"
#include "backup/offsite/index_entry_json.h"
#include "core/display_text.h"
#include "core/error.h"

namespace facecrowd {

using namespace index_entries;

std::string archive_key(const std::string& archive_name) { return "archives/" + archive_name; }
std::string archive_manifest_key(const std::string& archive_name) { return archive_key(archive_name) + ".manifest.json"; }
std::string slice_key(const std::string& slice_name) { return "oplog/" + slice_name; }
std::string slice_record_key(const std::string& slice_name) { return slice_key(slice_name) + ".json"; }

std::unordered_map<std::string, size_t> slice_positions(const RemoteIndex& index) {
  std::unordered_map<std::string, size_t> at;
  at.reserve(index.slices.size());
  for (size_t i = 0; i < index.slices.size(); ++i) at.emplace(index.slices[i].name, i);
  return at;
}

std::string ledger_chunk_key(uint64_t offset) {
  char name[40];
  std::snprintf(name, sizeof name, "ledger/ledger-%016llu.jsonl", static_cast<unsigned long long>(offset));
  return name;
}

nlohmann::json IndexWriter::to_json() const { return {{"id", id}, {"host", host}, {"since", since}}; }

nlohmann::json RemoteIndex::to_json() const {
  nlohmann::json a = nlohmann::json::array(), g = nlohmann::json::array(), l = nlohmann::json::array();
  for (const auto& x : archives)
    a.push_back({{"name", x.name}, {"db", x.db}, {"created", format_iso8601(x.created)}, {"plain_bytes", x.plain_bytes},
                 {"object", object_json(x.object)}, {"manifest_object", object_json(x.manifest_object)},
                 {"manifest", x.manifest.to_json()}});
  for (const auto& x : segments)
    g.push_back({{"hour", x.hour}, {"count", x.count}, {"first_to", x.first_to.to_string()}, {"last_to", x.last_to.to_string()},
                 {"names_sha256", x.names_sha256}, {"object", object_json(x.object)}});
  for (const auto& x : ledger)
    l.push_back({{"offset", x.offset}, {"length", x.length}, {"plain_sha256", x.plain_sha256}, {"object", object_json(x.object)}});
  nlohmann::json j = {{"format", "facecrowd-backup-target"}, {"format_version", kFormatVersion}, {"updated_at", updated_at},
                      {"encryption", encryption}, {"passphrase_salt", passphrase_salt}, {"archives", a}, {"slice_segments", g},
                      {"ledger", {{"bytes", ledger_bytes}, {"sha256", ledger_sha256}, {"chunks", l}}}};
  if (!slices_pruned_through.is_null()) j["slices_pruned_through"] = slices_pruned_through.to_string();
  if (sequence) j["sequence"] = sequence;
  if (writer) j["writer"] = writer->to_json();
  return j;
}

nlohmann::json RemoteIndex::to_json_with_slices() const {
  for (const auto& g : segments)
    if (!g.loaded) throw Error(ExitCode::kInternal, "segment " + g.object.key + " is not loaded");
  nlohmann::json j = to_json();
  j.erase("slice_segments");
  j["format_version"] = 1;
  j["slices"] = slices_json(slices);
  return j;
}

RemoteIndex RemoteIndex::from_json(const nlohmann::json& j, const std::string& what) {
  const IndexRefusal refuse{what};
  static const std::regex archive_re(R"(backup_([A-Za-z0-9_-]{1,64})_\d{8}_\d{6}\.tar\.gz)");
  try {
    RemoteIndex x;
    if (j.at("format").get<std::string>() != "facecrowd-backup-target")
      throw Error(ExitCode::kBadInput, what + " is not a facecrowd backup target index");
    x.format_version = j.at("format_version").get<int>();
    if (x.format_version != 1 && x.format_version != kFormatVersion)
      throw Error(ExitCode::kBadInput, what + " has format version " + std::to_string(x.format_version) + " (this facecrowd reads 1 and " +
                                           std::to_string(kFormatVersion) + ")");
    x.updated_at = j.value("updated_at", std::string());
    x.encryption = j.value("encryption", std::string());
    x.passphrase_salt = j.value("passphrase_salt", std::string());
    // Printed by `backups list --target` and used to choose keys: only what push writes.
    if (!x.updated_at.empty() && !parse_iso8601(x.updated_at)) refuse("updated_at", shown_value(x.updated_at) + " is not an ISO 8601 time");
    if (x.encryption != "" && x.encryption != "key" && x.encryption != "passphrase" && x.encryption != "public-key")
      refuse("encryption", shown_value(x.encryption) + " is not one of \"\", \"key\", \"passphrase\", \"public-key\"");
    if (!x.passphrase_salt.empty() && !is_hex(x.passphrase_salt, 32))
      refuse("passphrase_salt", shown_value(x.passphrase_salt) + " is not 32 hex digits");
    std::set<std::string> seen;
    for (size_t i = 0; i < j.at("archives").size(); ++i) {
      const auto& a = j.at("archives").at(i);
      const std::string field = "archives[" + std::to_string(i) + "]";
      RemoteArchive r;
      r.name = a.at("name").get<std::string>();
      r.db = a.at("db").get<std::string>();
      // The name becomes a file in the local backup directory: only what `facecrowd backup` names.
      std::smatch m;
      if (!std::regex_match(r.name, m, archive_re))
        refuse(field + ".name", shown_value(r.name) + " is not an archive name (backup_<db>_YYYYMMDD_HHMMSS.tar.gz)");
      if (m[1] != r.db) refuse(field + ".db", shown_value(r.db) + " is not the database its name " + shown_value(r.name) + " says");
      auto created = parse_iso8601(a.at("created").get<std::string>());
      if (!created || archive_file_name(r.db, *created) != r.name)
        refuse(field + ".created", shown_value(a.at("created").get<std::string>()) + " is not the time its name " + shown_value(r.name) + " says");
      r.created = *created;
      if (!seen.insert(r.name).second) refuse(field + ".name", shown_value(r.name) + " is listed twice");
      r.plain_bytes = a.contains("plain_bytes") ? unsigned_from(a, "plain_bytes", field, refuse) : 0;
      r.object = object_from(a.at("object"), field + ".object", archive_key(r.name), refuse);
      r.manifest_object = object_from(a.at("manifest_object"), field + ".manifest_object", archive_manifest_key(r.name), refuse);
      r.manifest = Manifest::from_json(a.at("manifest"), what + " archive " + r.name);
      x.archives.push_back(std::move(r));
    }
    if (x.format_version == 1) {
      for (size_t i = 0; i < j.at("slices").size(); ++i)
        x.slices.push_back(slice_from(j.at("slices").at(i), "slices[" + std::to_string(i) + "]", seen, refuse));
    } else {
      std::set<std::string> hours;
      if (j.at("slice_segments").size() > kMaxSegments)
        refuse("slice_segments", "lists " + std::to_string(j.at("slice_segments").size()) + " segments, more than a target holds (at most " +
                                     std::to_string(kMaxSegments) + ", ten years of hours: remote_index.h), each of which a restore would download");
      for (size_t i = 0; i < j.at("slice_segments").size(); ++i)
        x.segments.push_back(segment_summary_from(j.at("slice_segments").at(i), "slice_segments[" + std::to_string(i) + "]", hours, refuse));
      std::sort(x.segments.begin(), x.segments.end(), [](const auto& a, const auto& b) { return a.hour < b.hour; });
    }
    if (j.contains("slices_pruned_through")) {
      // Named, not "type must be string": a push writes "SECS:INC".
      if (!j.at("slices_pruned_through").is_string())
        refuse("slices_pruned_through", shortened(j.at("slices_pruned_through").dump(), 80) + " is not an oplog position (SECS:INC)");
      const std::string text = j.at("slices_pruned_through").get<std::string>();
      auto ts = parse_oplog_timestamp(text);
      if (!ts) refuse("slices_pruned_through", shown_value(text) + " is not an oplog position (SECS:INC)");
      x.slices_pruned_through = *ts;
    }
    if (j.contains("sequence")) x.sequence = unsigned_from(j, "sequence", "index", refuse);
    if (j.contains("writer")) x.writer = writer_from(j.at("writer"), "writer", refuse);
    const auto& l = j.at("ledger");
    x.ledger_bytes = unsigned_from(l, "bytes", "ledger", refuse);
    x.ledger_sha256 = l.at("sha256").get<std::string>();
    if (!is_hex(x.ledger_sha256, 64) && !(x.ledger_bytes == 0 && x.ledger_sha256.empty()))
      refuse("ledger.sha256", shown_value(x.ledger_sha256) + " is not 64 hex digits");
    for (size_t i = 0; i < l.at("chunks").size(); ++i) {
      const auto& c = l.at("chunks").at(i);
      const std::string field = "ledger.chunks[" + std::to_string(i) + "]";
      RemoteLedgerChunk r;
      r.offset = unsigned_from(c, "offset", field, refuse);
      r.length = unsigned_from(c, "length", field, refuse);
      r.plain_sha256 = c.at("plain_sha256").get<std::string>();
      if (r.length == 0) refuse(field + ".length", "is 0 (a chunk holds at least one erasure)");
      if (!is_hex(r.plain_sha256, 64)) refuse(field + ".plain_sha256", shown_value(r.plain_sha256) + " is not 64 hex digits");
      if (!seen.insert(ledger_chunk_key(r.offset)).second) refuse(field + ".offset", std::to_string(r.offset) + " is listed twice");
      r.object = object_from(c.at("object"), field + ".object", ledger_chunk_key(r.offset), refuse);
      x.ledger.push_back(std::move(r));
    }
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
  for (const auto& g : segments) best = std::max(best, g.last_to);
  return best;
}

}  // namespace facecrowd
