#include "backup/restore_scan.h"

#include <bson/bson.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

constexpr size_t kMaxManifestBytes = 64 * 1024 * 1024;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// ---- BsonSplitter ----

void BsonSplitter::feed(const char* data, size_t size,
                        const std::function<void(const uint8_t*, size_t, int64_t, uint64_t)>& fn) {
  pending_.append(data, size);
  size_t pos = 0;
  while (pending_.size() - pos >= 4) {
    int32_t len;
    std::memcpy(&len, pending_.data() + pos, 4);
    len = BSON_UINT32_FROM_LE(len);
    if (len < 5 || size_t(len) > kMaxBsonDocumentBytes)
      throw Error(ExitCode::kBadInput, what_ + ": document #" + std::to_string(documents_ + 1) + " at byte " +
                                           std::to_string(offset_ + pos) + " has an impossible length " +
                                           std::to_string(len) + " (corrupt)");
    if (pending_.size() - pos < size_t(len)) break;
    ++documents_;
    fn(reinterpret_cast<const uint8_t*>(pending_.data() + pos), size_t(len), documents_, offset_ + pos);
    pos += size_t(len);
  }
  pending_.erase(0, pos);
  offset_ += pos;
}

void BsonSplitter::finish() {
  if (!pending_.empty())
    throw Error(ExitCode::kBadInput, what_ + ": truncated: document #" + std::to_string(documents_ + 1) +
                                         " at byte " + std::to_string(offset_) + " is incomplete (" +
                                         std::to_string(pending_.size()) + " bytes left)");
}

// ---- RestoreScan ----

RestoreScan::RestoreScan(std::string label, std::string expected_db, Callbacks callbacks)
    : label_(std::move(label)), db_(std::move(expected_db)), callbacks_(std::move(callbacks)) {}

std::string RestoreScan::where() const { return "backup '" + label_ + "', member '" + path_ + "'"; }

void RestoreScan::begin_member(const std::string& path, uint64_t) {
  path_ = path;
  if (!seen_paths_.insert(path).second) throw Error(ExitCode::kBadInput, where() + ": appears twice");
  require_safe_member_path(path, "backup '" + label_ + "'");
  bytes_ = 0;
  sha_.emplace();
  splitter_.reset();
  wanted_ = false;
  collection_.clear();
  if (path == "manifest.json") {
    kind_ = Kind::kManifest;
    manifest_text_.clear();
    return;
  }
  if (path == "oplog.bson") {
    kind_ = Kind::kOplog;
    has_oplog_ = true;
    splitter_.emplace(where());
    return;
  }
  auto slash = path.find('/');
  if (slash == std::string::npos || path.find('/', slash + 1) != std::string::npos)
    throw Error(ExitCode::kBadInput, where() + ": unexpected member (a backup holds manifest.json, oplog.bson and "
                                               "<db>/<collection>.bson|.metadata.json)");
  std::string folder = path.substr(0, slash), file = path.substr(slash + 1);
  if (db_.empty()) db_ = folder;
  if (folder != db_)
    throw Error(ExitCode::kBadInput, where() + ": belongs to database '" + folder + "', but this backup is of '" +
                                         db_ + "'");
  if (ends_with(file, ".metadata.json")) {
    kind_ = Kind::kMetadata;
    collection_ = file.substr(0, file.size() - 14);
  } else if (ends_with(file, ".bson")) {
    kind_ = Kind::kCollection;
    collection_ = file.substr(0, file.size() - 5);
  } else {
    throw Error(ExitCode::kBadInput, where() + ": unexpected member (not .bson or .metadata.json)");
  }
  if (!find_collection_spec(collection_))
    throw Error(ExitCode::kBadInput, where() + ": unknown collection '" + collection_ + "' (this facecrowd has " +
                                         collection_names_joined() + ")");
  if (kind_ == Kind::kCollection) {
    collections_.push_back(collection_);
    documents_[collection_] = 0;
    wanted_ = callbacks_.wants && callbacks_.wants(collection_);
    if (wanted_ && callbacks_.on_collection_start) callbacks_.on_collection_start(collection_);
    splitter_.emplace(where());
  }
}

void RestoreScan::member_data(const char* data, size_t size) {
  sha_->update(data, size);
  bytes_ += size;
  switch (kind_) {
    case Kind::kManifest:
      if (manifest_text_.size() + size > kMaxManifestBytes)
        throw Error(ExitCode::kBadInput, where() + ": larger than 64 MiB; not a manifest");
      manifest_text_.append(data, size);
      break;
    case Kind::kMetadata: break;
    case Kind::kCollection:
      splitter_->feed(data, size, [&](const uint8_t* doc, size_t len, int64_t index, uint64_t offset) {
        bson_t view;
        size_t bad_offset = 0;
        auto at = [&] { return where() + ": document #" + std::to_string(index) + " at byte " + std::to_string(offset); };
        if (!bson_init_static(&view, doc, len) || !bson_validate(&view, BSON_VALIDATE_UTF8_ALLOW_NULL, &bad_offset))
          throw Error(ExitCode::kBadInput, at() + " does not decode as BSON (bad field at byte " +
                                               std::to_string(bad_offset) + " of the document)");
        bson_iter_t it;
        if (!bson_iter_init_find(&it, &view, "_id")) throw Error(ExitCode::kBadInput, at() + " has no _id");
        documents_[collection_]++;
        if (wanted_ && callbacks_.on_document) callbacks_.on_document(collection_, doc, len, index);
      });
      break;
    case Kind::kOplog:
      splitter_->feed(data, size, [&](const uint8_t* doc, size_t len, int64_t index, uint64_t offset) {
        OplogEntry entry = decode_oplog_entry(
            doc, len, where() + ": entry #" + std::to_string(index) + " at byte " + std::to_string(offset));
        oplog_entries_++;
        if (callbacks_.on_oplog_entry) callbacks_.on_oplog_entry(std::move(entry));
      });
      break;
  }
}

void RestoreScan::end_member() {
  ScannedMember member{path_, sha_->hex_digest(), bytes_, -1};
  if (splitter_) {
    splitter_->finish();
    member.documents = splitter_->documents();
  }
  members_.push_back(std::move(member));
  if (kind_ == Kind::kManifest) manifest_ = Manifest::parse(manifest_text_, "backup '" + label_ + "', manifest.json");
  splitter_.reset();
}

int64_t RestoreScan::total_documents() const {
  int64_t n = 0;
  for (const auto& [c, count] : documents_) n += count;
  return n;
}

void RestoreScan::finish(bool require_manifest) {
  if (!manifest_) {
    if (require_manifest)
      throw Error(ExitCode::kBadInput, "backup '" + label_ + "' has no manifest.json (a truncated or incomplete archive?)");
    return;
  }
  const Manifest& m = *manifest_;
  std::vector<std::string> problems;
  if (!db_.empty() && m.db != db_)
    problems.push_back("the manifest is of database '" + m.db + "' but the files are of '" + db_ + "'");
  for (const auto& f : m.files) {
    auto it = std::find_if(members_.begin(), members_.end(), [&](const ScannedMember& s) { return s.path == f.path; });
    if (it == members_.end()) {
      problems.push_back("manifest lists '" + f.path + "' but the backup does not hold it");
      continue;
    }
    if (it->sha256 != f.sha256)
      problems.push_back("checksum mismatch for '" + f.path + "': sha256 is " + it->sha256 + ", the manifest says " + f.sha256);
    if (it->bytes != f.bytes)
      problems.push_back("'" + f.path + "' has " + std::to_string(it->bytes) + " bytes, the manifest says " +
                         std::to_string(f.bytes));
    if (f.documents >= 0 && it->documents != f.documents)
      problems.push_back("'" + f.path + "' holds " + std::to_string(it->documents) + " documents, the manifest says " +
                         std::to_string(f.documents));
  }
  for (const auto& s : members_)
    if (s.path != "manifest.json" && !m.find_file(s.path))
      problems.push_back("'" + s.path + "' is in the backup but not in its manifest");
  for (const auto& c : m.collections)
    if (!m.find_file(m.db + "/" + c + ".bson"))
      problems.push_back("the manifest names collection '" + c + "' but lists no " + m.db + "/" + c + ".bson");
  for (const auto& c : collections_)
    if (std::find(m.collections.begin(), m.collections.end(), c) == m.collections.end())
      problems.push_back("collection '" + c + "' is in the backup but not in the manifest's collections");
  if (has_oplog_ && oplog_entries_ != m.oplog_entries)
    problems.push_back("oplog.bson holds " + std::to_string(oplog_entries_) + " entries, the manifest says " +
                       std::to_string(m.oplog_entries));
  if (problems.empty()) return;
  std::string msg = "backup '" + label_ + "' does not match its manifest: ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  throw Error(ExitCode::kBadInput, msg);
}

}  // namespace facecrowd
