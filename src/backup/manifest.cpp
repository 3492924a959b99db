#include "backup/manifest.h"

#include <set>

#include "backup/archive_reader.h"
#include "core/display_text.h"
#include "core/error.h"
#include "core/utc_time.h"
#include "store/data_dir.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A value from the manifest, quoted for a message: a hostile manifest's control characters (an ESC sequence
// that would recolour or rewrite the operator's terminal, a newline that forges a second line) are escaped and
// a long value is cut (core/display_text.h, as the off-site index's checks show theirs).
std::string shown(const std::string& value) { return "'" + shortened(value, 120) + "'"; }

bool is_lower_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Strict field readers: the exact JSON type and range, never a silent conversion (nlohmann's get<int>()
// would read 4294967297 as 1 and -1 as 18446744073709551615).
class Fields {
 public:
  Fields(const nlohmann::json& object, std::string where, const std::string& what)
      : j_(object), where_(std::move(where)), what_(what) {}

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(ExitCode::kBadInput, what_ + ": " + where_ + field + " " + why);
  }
  const nlohmann::json& at(const std::string& field) const {
    auto it = j_.find(field);
    if (it == j_.end()) fail(field, "is missing");
    return *it;
  }
  bool has(const std::string& field) const { return j_.contains(field); }
  std::string text(const std::string& field, size_t max_bytes = 4096) const {
    const auto& v = at(field);
    if (!v.is_string()) fail(field, "is not a string");
    auto s = v.get<std::string>();
    if (s.size() > max_bytes) fail(field, "is longer than " + std::to_string(max_bytes) + " bytes");
    return s;
  }
  int64_t integer(const std::string& field, int64_t min, int64_t max) const {
    const auto& v = at(field);
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > uint64_t(max)) fail(field, "is " + std::to_string(u) + ", above " + std::to_string(max));
      return int64_t(u);
    }
    if (!v.is_number_integer()) fail(field, "is not an integer");
    int64_t i = v.get<int64_t>();
    if (i < min || i > max)
      fail(field, "is " + std::to_string(i) + ", outside " + std::to_string(min) + ".." + std::to_string(max));
    return i;
  }

 private:
  const nlohmann::json& j_;
  std::string where_;
  const std::string& what_;
};

}  // namespace

nlohmann::json Manifest::to_json() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const auto& f : files)
    files_json.push_back({{"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}, {"documents", f.documents}});
  nlohmann::json j = {{"format", "facecrowd-backup"},
                      {"format_version", format_version},
                      {"tool_version", tool_version},
                      {"created_at", created_at},
                      {"db", db},
                      {"collections", collections},
                      {"oplog", {{"start", oplog_start.to_string()}, {"end", oplog_end.to_string()}, {"entries", oplog_entries}}},
                      {"files", files_json}};
  if (erasure_ledger) j["erasure_ledger"] = erasure_ledger->to_json();
  if (audit_chain_seq > 0) j["audit_chain"] = {{"seq", audit_chain_seq}, {"hash", audit_chain_hash}};
  return j;
}

Manifest Manifest::from_json(const nlohmann::json& j, const std::string& what) {
  auto bad = [&](const std::string& why) { return Error(ExitCode::kBadInput, what + ": " + why); };
  if (!j.is_object() || !j.contains("format") || j["format"] != "facecrowd-backup")
    throw bad("not a facecrowd backup manifest");
  Fields top(j, "", what);
  if (!j.contains("format_version")) throw bad("no format_version");
  Manifest m;
  const auto& version = j["format_version"];
  if (!version.is_number_integer() ||
      !(version.is_number_unsigned() ? version.get<uint64_t>() == uint64_t(kArchiveFormatVersion)
                                     : version.get<int64_t>() == kArchiveFormatVersion))
    throw bad("unknown archive format version " + version.dump() + " (this facecrowd reads " +
              std::to_string(kArchiveFormatVersion) + ")");
  m.format_version = kArchiveFormatVersion;
  if (top.has("tool_version")) m.tool_version = top.text("tool_version", 64);
  m.created_at = top.text("created_at", 64);
  auto created = parse_iso8601(m.created_at);
  if (!created) top.fail("created_at", shown(m.created_at) + " is not an ISO 8601 time");
  m.db = top.text("db", 64);
  try {
    validate_database_name(m.db);
  } catch (const Error& e) {
    throw bad(std::string("db: ") + e.what());  // a bad manifest is bad input (3), not a usage error
  }

  const auto& collections = top.at("collections");
  if (!collections.is_array()) top.fail("collections", "is not an array");
  if (collections.size() > kMaxManifestCollections)
    top.fail("collections", "lists " + std::to_string(collections.size()) + " names; at most " +
                                std::to_string(kMaxManifestCollections) + " are allowed");
  std::set<std::string> seen_collections;
  for (const auto& c : collections) {
    if (!c.is_string()) top.fail("collections", "holds a value that is not a string");
    auto name = c.get<std::string>();
    if (!find_collection_spec(name))
      top.fail("collections", "names " + shown(name) + ", not a collection (" + collection_names_joined() + ")");
    if (!seen_collections.insert(name).second) top.fail("collections", "names " + shown(name) + " twice");
    m.collections.push_back(name);
  }

  const auto& oplog_json = top.at("oplog");
  if (!oplog_json.is_object()) top.fail("oplog", "is not an object");
  Fields oplog(oplog_json, "oplog.", what);
  auto start = parse_oplog_timestamp(oplog.text("start", 32));
  auto end = parse_oplog_timestamp(oplog.text("end", 32));
  if (!start || !end) throw bad("malformed oplog range");
  m.oplog_start = *start;
  m.oplog_end = *end;
  if (m.oplog_start > m.oplog_end)
    throw bad("oplog range " + m.oplog_start.to_string() + " .. " + m.oplog_end.to_string() + " runs backwards");
  int64_t created_secs = *created / 1000;
  if (int64_t(m.oplog_end.secs) > created_secs + kMaxOplogAheadOfCreatedSeconds)
    throw bad("oplog end " + m.oplog_end.to_string() + " (" + format_iso8601(int64_t(m.oplog_end.secs) * 1000) +
              ") lies more than 7 days after the backup's created_at " + m.created_at +
              "; the range is corrupt (restoring it would move the database's clock forward)");
  m.oplog_entries = oplog.has("entries") ? oplog.integer("entries", 0, INT64_MAX) : 0;

  const auto& files = top.at("files");
  if (!files.is_array()) top.fail("files", "is not an array");
  if (files.size() > kMaxManifestFiles)
    top.fail("files", "lists " + std::to_string(files.size()) + " files; at most " +
                          std::to_string(kMaxManifestFiles) + " are allowed");
  std::set<std::string> seen_paths;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].is_object()) top.fail("files", "entry #" + std::to_string(i + 1) + " is not an object");
    Fields f(files[i], "files[" + std::to_string(i) + "].", what);
    ManifestFile file;
    file.path = f.text("path", 512);
    require_safe_member_path(file.path, what);
    if (!seen_paths.insert(file.path).second) throw bad("files lists " + shown(file.path) + " twice");
    file.sha256 = f.text("sha256", 64);
    if (file.sha256.size() != 64 || !is_lower_hex(file.sha256)) throw bad("malformed sha256 for " + shown(file.path));
    file.bytes = uint64_t(f.integer("bytes", 0, INT64_MAX));
    bool is_bson = ends_with(file.path, ".bson");
    file.documents = f.has("documents") ? f.integer("documents", -1, INT64_MAX) : -1;
    if (is_bson && file.documents < 0)
      throw bad(shown(file.path) + " has no document count (a .bson file's count must be recorded)");
    if (!is_bson && file.documents != -1)
      throw bad(shown(file.path) + " is not a .bson file but has a document count");
    m.files.push_back(std::move(file));
  }
  if (j.contains("erasure_ledger")) {
    m.erasure_ledger = LedgerFingerprint::from_json(j["erasure_ledger"]);
    if (!m.erasure_ledger) throw bad("malformed erasure_ledger (want {\"entries\": N, \"sha256\": …})");
  }
  if (top.has("audit_chain")) {  // the audit chain's head at the snapshot (app/records/audit_chain.h)
    const auto& chain_json = top.at("audit_chain");
    if (!chain_json.is_object()) top.fail("audit_chain", "is not an object");
    Fields chain(chain_json, "audit_chain.", what);
    m.audit_chain_seq = chain.integer("seq", 0, INT64_MAX);
    m.audit_chain_hash = chain.text("hash", 64);
    if (m.audit_chain_hash.size() != 64 || !is_lower_hex(m.audit_chain_hash)) throw bad("malformed audit_chain.hash");
  }
  return m;
}

Manifest Manifest::parse(const std::string& text, const std::string& what) {
  if (text.size() > kMaxManifestBytes)
    throw Error(ExitCode::kBadInput, what + ": " + std::to_string(text.size()) + " bytes, larger than the " +
                                         std::to_string(kMaxManifestBytes) + " a manifest may be");
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
