#include "backup/restore_scan.h"

#include <bson/bson.h>

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "backup/bson_check.h"
#include "core/error.h"
#include "store/document.h"
#include "store/ledger_fingerprint.h"
#include "store/column_value.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

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
    : label_(std::move(label)), db_(std::move(expected_db)), callbacks_(std::move(callbacks)) {
  if (sodium_init() < 0) throw Error(ExitCode::kInternal, "libsodium failed to initialise");
  randombytes_buf(id_hash_key_, sizeof id_hash_key_);  // keyed: a crafted backup cannot aim at collisions
}

std::string RestoreScan::where() const { return "backup '" + label_ + "', member '" + path_ + "'"; }

void RestoreScan::begin_member(const std::string& path, uint64_t size) {
  path_ = path;
  if (!seen_paths_.insert(path).second) throw Error(ExitCode::kBadInput, where() + ": appears twice");
  require_safe_member_path(path, "backup '" + label_ + "'");
  bytes_ = 0;
  if (hash_members_) sha_.emplace();
  else sha_.reset();
  given_sha256_.clear();
  splitter_.reset();
  wanted_ = false;
  collection_.clear();
  id_hashes_.clear();
  unique_checks_.clear();
  if (path == "manifest.json") {
    if (size > kMaxManifestBytes)
      throw Error(ExitCode::kBadInput, where() + ": " + std::to_string(size) + " bytes, larger than the " +
                                           std::to_string(kMaxManifestBytes) + " a manifest may be (refused unread)");
    kind_ = Kind::kManifest;
    manifest_text_.clear();
    return;
  }
  if (path == kErasureLedgerMember) {
    kind_ = Kind::kLedger;
    ledger_copy_.emplace();
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
    if (size > kMaxMetadataBytes)
      throw Error(ExitCode::kBadInput, where() + ": " + std::to_string(size) + " bytes, larger than the " +
                                           std::to_string(kMaxMetadataBytes) + " collection metadata may be (refused unread)");
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
    const CollectionSpec& spec = *find_collection_spec(collection_);
    for (const auto& index : spec.indexes) {
      if (!index.unique) continue;
      UniqueCheck check{&index, {}, {}};
      for (const auto& column : index.columns)
        for (const auto& field : spec.fields)
          if (field.column == column) check.fields.push_back(&field);
      unique_checks_.push_back(std::move(check));
    }
    collections_.push_back(collection_);
    documents_[collection_] = 0;
    wanted_ = callbacks_.wants && callbacks_.wants(collection_);
    if (wanted_ && callbacks_.on_collection_start) callbacks_.on_collection_start(collection_);
    splitter_.emplace(where());
  }
}

void RestoreScan::member_data(const char* data, size_t size) {
  if (sha_) sha_->update(data, size);
  bytes_ += size;
  switch (kind_) {
    case Kind::kManifest:
      if (manifest_text_.size() + size > kMaxManifestBytes)
        throw Error(ExitCode::kBadInput, where() + ": larger than " + std::to_string(kMaxManifestBytes) +
                                             " bytes; not a manifest");
      manifest_text_.append(data, size);
      break;
    case Kind::kMetadata:
      if (bytes_ > kMaxMetadataBytes)
        throw Error(ExitCode::kBadInput, where() + ": larger than " + std::to_string(kMaxMetadataBytes) +
                                             " bytes; not collection metadata");
      break;
    case Kind::kLedger:
      if (ledger_copy_->size() + size > (64u << 20))
        throw Error(ExitCode::kBadInput, where() + ": larger than 64 MiB; not an erasure ledger");
      ledger_copy_->append(data, size);
      break;
    case Kind::kCollection:
      splitter_->feed(data, size, [&](const uint8_t* doc, size_t len, int64_t index, uint64_t offset) {
        check_document(doc, len, index, offset);
        documents_[collection_]++;
        if (wanted_ && callbacks_.on_document) callbacks_.on_document(collection_, doc, len, index);
      });
      break;
    case Kind::kOplog:
      splitter_->feed(data, size, [&](const uint8_t* doc, size_t len, int64_t index, uint64_t offset) {
        std::string what = where() + ": entry #" + std::to_string(index) + " at byte " + std::to_string(offset);
        // A structure that does not decode is refused by decode_oplog_entry below, as before.
        if (check_bson_document(doc, len).verdict == BsonVerdict::kBadString)
          throw Error(ExitCode::kBadInput, what + " holds a string that is not valid UTF-8, or nests deeper than " +
                                               std::to_string(kMaxBsonNesting) + " levels");
        OplogEntry entry = decode_oplog_entry(doc, len, what);
        if (oplog_entries_ == 0) oplog_first_ = entry.ts;
        else if (entry.ts <= oplog_last_) oplog_out_of_order_ = true;
        oplog_last_ = entry.ts;
        oplog_entries_++;
        if (callbacks_.on_oplog_entry) callbacks_.on_oplog_entry(std::move(entry));
      });
      break;
  }
}

void RestoreScan::check_document(const uint8_t* doc, size_t len, int64_t index, uint64_t offset) {
  bson_t view;
  auto at = [&] { return where() + ": document #" + std::to_string(index) + " at byte " + std::to_string(offset); };
  if (!bson_init_static(&view, doc, len))
    throw Error(ExitCode::kBadInput, at() + " does not decode as BSON (its length field is wrong)");
  // Structure and strings in one depth-bounded walk (bson_check.h), as strict as bson_validate.
  BsonCheck check = check_bson_document(doc, len);
  if (check.verdict == BsonVerdict::kBadString)
    throw Error(ExitCode::kBadInput, at() + " holds a string that is not valid UTF-8, or nests deeper than " +
                                         std::to_string(kMaxBsonNesting) + " levels");
  if (check.verdict == BsonVerdict::kCorrupt)
    throw Error(ExitCode::kBadInput, at() + " does not decode as BSON (bad field at byte " +
                                         std::to_string(check.offset) + " of the document)");
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &view, "_id")) throw Error(ExitCode::kBadInput, at() + " has no _id");
  std::string key;
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_UTF8: {
      uint32_t n = 0;
      const char* s = bson_iter_utf8(&it, &n);
      key.assign(s, n);
      if (key.find('\0') != std::string::npos)
        throw Error(ExitCode::kBadInput, at() + " has an _id string with a NUL byte (an _id is a key; it cannot hold NUL)");
      break;
    }
    case BSON_TYPE_OID:
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64: key = id_key_of(it); break;
    default:
      throw Error(ExitCode::kBadInput, at() + " has an _id of BSON type " + std::to_string(int(bson_iter_type(&it))) +
                                           " (facecrowd keys documents by an ObjectId, a string or an integer)");
  }
  if (kind_ == Kind::kCollection) {
    uint64_t h[2];
    crypto_shorthash_siphashx24(reinterpret_cast<unsigned char*>(h), reinterpret_cast<const unsigned char*>(key.data()),
                                key.size(), id_hash_key_);
    id_hashes_.push_back({h[0], h[1], index});
    // The unique index columns as SQLite would store them: a number in a TEXT column becomes its
    // decimal text (so 5 and "5" collide, as they would in the index), each column length-prefixed.
    for (auto& check : unique_checks_) {
      unique_key_.clear();
      bool null = false;
      for (const IndexedField* field : check.fields)
        with_column_value(*field, &view, [&](auto value) {
          using V = decltype(value);
          auto append_text = [&](std::string_view text) {
            uint32_t n = uint32_t(text.size());
            unique_key_ += 'T';
            unique_key_.append(reinterpret_cast<const char*>(&n), sizeof n);
            unique_key_ += text;
          };
          if constexpr (std::is_same_v<V, std::monostate>) {
            null = true;
          } else if constexpr (std::is_same_v<V, int64_t>) {
            if (field->type == ColumnType::kInteger) {
              unique_key_ += 'I';
              unique_key_.append(reinterpret_cast<const char*>(&value), sizeof value);
            } else {
              char digits[24];
              auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
              append_text(std::string_view(digits, size_t(end - digits)));
            }
          } else {
            append_text(value);
          }
        });
      if (null) continue;
      crypto_shorthash_siphashx24(reinterpret_cast<unsigned char*>(h),
                                  reinterpret_cast<const unsigned char*>(unique_key_.data()), unique_key_.size(),
                                  id_hash_key_);
      check.hashes.push_back({h[0], h[1], index});
    }
  }
}

// Two documents of one collection with the same value in a unique index: the restore's index build
// would refuse them after loading everything, so every check (dry run, verify, backup) refuses now.
void RestoreScan::require_unique_values() {
  for (auto& check : unique_checks_) {
    auto& hashes = check.hashes;
    std::sort(hashes.begin(), hashes.end(), [](const IdHash& a, const IdHash& b) {
      return a.lo != b.lo ? a.lo < b.lo : a.hi != b.hi ? a.hi < b.hi : a.index < b.index;
    });
    for (size_t i = 1; i < hashes.size(); ++i)
      if (hashes[i].lo == hashes[i - 1].lo && hashes[i].hi == hashes[i - 1].hi) {
        std::string names;
        for (const auto& c : check.index->columns) names += (names.empty() ? "" : " and ") + c;
        throw Error(ExitCode::kBadInput, where() + ": documents #" + std::to_string(hashes[i - 1].index) + " and #" +
                                             std::to_string(hashes[i].index) + " have the same " + names + "; " +
                                             collection_ + " may not hold two documents with one " + names +
                                             " (a unique index)");
      }
  }
  unique_checks_.clear();
}

// Two documents of one collection with the same _id key: the store keys by it, so the backup cannot be
// restored as it is. Sorting 24-byte records keeps this O(n log n) and memory at 24 bytes a document.
void RestoreScan::require_unique_ids() {
  std::sort(id_hashes_.begin(), id_hashes_.end(), [](const IdHash& a, const IdHash& b) {
    return a.lo != b.lo ? a.lo < b.lo : a.hi != b.hi ? a.hi < b.hi : a.index < b.index;
  });
  for (size_t i = 1; i < id_hashes_.size(); ++i)
    if (id_hashes_[i].lo == id_hashes_[i - 1].lo && id_hashes_[i].hi == id_hashes_[i - 1].hi)
      throw Error(ExitCode::kBadInput, where() + ": documents #" + std::to_string(id_hashes_[i - 1].index) + " and #" +
                                           std::to_string(id_hashes_[i].index) +
                                           " have the same _id; a collection cannot hold two documents with one _id");
  id_hashes_.clear();
  id_hashes_.shrink_to_fit();
}

void RestoreScan::end_member(std::string sha256_hex) {
  given_sha256_ = std::move(sha256_hex);
  end_member();
}

void RestoreScan::end_member() {
  if (!sha_ && given_sha256_.empty())
    throw Error(ExitCode::kInternal, where() + ": ended without its sha256 (hash_members_elsewhere needs end_member(sha256))");
  ScannedMember member{path_, sha_ ? sha_->hex_digest() : given_sha256_, bytes_, -1};
  if (splitter_) {
    splitter_->finish();
    member.documents = splitter_->documents();
  }
  if (kind_ == Kind::kCollection) {
    require_unique_ids();
    require_unique_values();
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
  // Hash lookups: linear in the members and the manifest's entries (both bounded, see manifest.h).
  std::unordered_map<std::string, const ScannedMember*> by_path;
  for (const auto& s : members_) by_path.emplace(s.path, &s);
  std::unordered_set<std::string> listed, listed_collections(m.collections.begin(), m.collections.end());
  for (const auto& f : m.files) listed.insert(f.path);
  if (!db_.empty() && m.db != db_)
    problems.push_back("the manifest is of database '" + m.db + "' but the files are of '" + db_ + "'");
  for (const auto& f : m.files) {
    auto found = by_path.find(f.path);
    if (found == by_path.end()) {
      problems.push_back("manifest lists '" + f.path + "' but the backup does not hold it");
      continue;
    }
    const ScannedMember* it = found->second;
    if (it->sha256 != f.sha256)
      problems.push_back("checksum mismatch for '" + f.path + "': sha256 is " + it->sha256 + ", the manifest says " + f.sha256);
    if (it->bytes != f.bytes)
      problems.push_back("'" + f.path + "' has " + std::to_string(it->bytes) + " bytes, the manifest says " +
                         std::to_string(f.bytes));
    if (it->documents != f.documents)
      problems.push_back("'" + f.path + "' holds " + std::to_string(it->documents) + " documents, the manifest says " +
                         std::to_string(f.documents));
  }
  for (const auto& s : members_)
    if (s.path != "manifest.json" && !listed.count(s.path))
      problems.push_back("'" + s.path + "' is in the backup but not in its manifest");
  for (const auto& c : m.collections)
    if (!listed.count(m.db + "/" + c + ".bson"))
      problems.push_back("the manifest names collection '" + c + "' but lists no " + m.db + "/" + c + ".bson");
  for (const auto& c : collections_)
    if (!listed_collections.count(c))
      problems.push_back("collection '" + c + "' is in the backup but not in the manifest's collections");
  if (m.erasure_ledger && !ledger_copy_)
    problems.push_back("the manifest records an erasure ledger (" + m.erasure_ledger->text() + ") but the backup holds no " +
                       kErasureLedgerMember);
  if (ledger_copy_) {
    auto fp = fingerprint_ledger(*ledger_copy_);
    if (!m.erasure_ledger || fp.entries != m.erasure_ledger->entries || fp.sha256 != m.erasure_ledger->sha256)
      problems.push_back(std::string(kErasureLedgerMember) + " (" + fp.text() + ") is not the ledger the manifest records" +
                         (m.erasure_ledger ? " (" + m.erasure_ledger->text() + ")" : std::string(" (none)")));
  }
  if (has_oplog_ && oplog_entries_ != m.oplog_entries)
    problems.push_back("oplog.bson holds " + std::to_string(oplog_entries_) + " entries, the manifest says " +
                       std::to_string(m.oplog_entries));
  if (has_oplog_ && oplog_entries_ > 0 && (oplog_first_ <= m.oplog_start || oplog_last_ > m.oplog_end))
    problems.push_back("oplog.bson holds entries " + oplog_first_.to_string() + " .. " + oplog_last_.to_string() +
                       ", outside the manifest's range " + m.oplog_start.to_string() + " .. " + m.oplog_end.to_string());
  if (oplog_out_of_order_) problems.push_back("oplog.bson's entries are not in increasing ts order");
  if (problems.empty()) return;
  std::string msg = "backup '" + label_ + "' does not match its manifest: ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  throw Error(ExitCode::kBadInput, msg);
}

}  // namespace facecrowd
