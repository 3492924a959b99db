#include "backup/offsite/offsite_store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/file_system.h"
#include "core/files.h"
#include "core/leftover_owner.h"
#include "core/sha256.h"
#include "core/utc_time.h"

namespace facecrowd {

std::vector<fs::path> remove_stale_offsite_leftovers(const fs::path& dir) {
  // What a killed transfer leaves: its store's scratch folder, and a download's `<final name>.partial-<pid>`
  // (archives, their manifest copies, slices and slice records: the names remote_index.h's layout gives).
  static const std::regex scratch_re(R"(\.offsite-tmp-(\d+)-\d+)");
  static const std::regex partial_re(
      R"((backup_[A-Za-z0-9_-]+_\d{8}_\d{6}\.tar\.gz(\.manifest\.json)?|oplog_\d+-\d+_\d+-\d+\.bson\.gz(\.json)?)\.partial-(\d+))");
  std::vector<fs::path> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename();
    std::smatch m;
    bool stale = (std::regex_match(name, m, scratch_re) && process_is_gone(pid_from_digits(m[1]))) ||
                 (std::regex_match(name, m, partial_re) && process_is_gone(pid_from_digits(m[m.size() - 1])));
    std::error_code rm;
    if (stale && fs::remove_all(entry.path(), rm) > 0 && !rm) removed.push_back(entry.path());
  }
  return removed;
}

OffsiteStore::OffsiteStore(BackupTarget& target, const fs::path& scratch_parent) : target_(target) {
  std::error_code ec;
  fs::create_directories(scratch_parent, ec);
  if (ec) throw_io_error("cannot create folder", scratch_parent, ec.value());
  remove_stale_offsite_leftovers(scratch_parent);  // a killed run never reached its destructor
  static std::atomic<int> counter{0};
  segment_journal_ = scratch_parent / (".offsite-segments-" + sha256_hex(target.url()).substr(0, 16));
  scratch_ = scratch_parent / (".offsite-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(scratch_, ec);
  fs::create_directories(scratch_, ec);
  if (ec) throw_io_error("cannot create scratch folder", scratch_, ec.value());
}

OffsiteStore::~OffsiteStore() {
  std::error_code ec;
  fs::remove_all(scratch_, ec);
}

std::optional<std::pair<RemoteIndex, IndexSeal>> OffsiteStore::fetch_index() {
  fs::path local = scratch_ / "index.json";
  // One request, not a lookup and then a download: a missing index is the download's "not found".
  try {
    target_.get(RemoteIndex::kKey, local);
  } catch (const Error& e) {
    if (e.code() == ExitCode::kNotFound) return std::nullopt;
    throw;
  }
  const std::string what = index_name();
  std::error_code size_ec;
  if (const auto size = fs::file_size(local, size_ec); !size_ec && size > kMaxIndexBytes)
    throw Error(ExitCode::kBadInput, what + " is " + std::to_string(size) + " bytes, more than a target's index can be (" +
                                         std::to_string(kMaxIndexBytes) + " bytes: remote_index.h); it was not read. It was "
                                         "replaced or damaged: put back the last good version (the bucket's object versioning keeps it)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(local));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, what + " is not JSON: " + e.what());
  }
  std::error_code ec;
  fs::remove(local, ec);
  IndexSeal seal = take_index_seal(j, what);
  return std::make_pair(RemoteIndex::from_json(j, what), std::move(seal));
}

std::optional<RemoteIndex> OffsiteStore::read_index() {
  auto fetched = fetch_index();
  if (!fetched) return std::nullopt;
  auto& [index, seal] = *fetched;
  index_authenticated_ = false;
  seal_ = std::move(seal);
  for (const auto& g : index.segments) segments_in_target_.insert(g.object.key);
  sequence_ = std::max(sequence_, index.sequence);
  return std::move(index);
}

std::optional<RemoteIndex> OffsiteStore::read_index_again() {
  auto fetched = fetch_index();
  if (!fetched) return std::nullopt;
  return std::move(fetched->first);
}

std::string OffsiteStore::index_name() const { return "index '" + target_.url() + "/" + RemoteIndex::kKey + "'"; }

IndexAuthentication OffsiteStore::authenticate_index(const RemoteIndex& index, const KeyRing* keys, const IndexTrust& trust) {
  IndexAuthentication auth = facecrowd::authenticate_index(seal_, index, keys, trust, index_name());
  untrusted_index_ = auth.trusted() ? "" : auth.warning;
  index_authenticated_ = true;
  return auth;
}

RemoteIndex OffsiteStore::require_index() {
  auto index = read_index();
  if (!index)
    throw Error(ExitCode::kNotFound, "no facecrowd backups in target '" + target_.url() + "' (it has no " +
                                         RemoteIndex::kKey + "; run `facecrowd backup --target " + target_.url() + "` first)");
  load_segments(*index, [](const SliceSegment&) { return true; });
  return *index;
}

bool OffsiteStore::load_segments(RemoteIndex& index, const std::function<bool(const SliceSegment&)>& wanted) {
  std::set<std::string> seen;
  bool loaded = false;
  for (auto& g : index.segments) {
    if (g.loaded || !wanted(g)) continue;
    if (!loaded)
      for (const auto& s : index.slices) seen.insert(s.name);
    loaded = true;
    const std::string what = "slice segment '" + target_.url() + "/" + g.object.key + "'";
    fs::path local = scratch_ / "segment.json";
    try {
      // Before index.json is authenticated (a reader loads them with it): checked by the sha256 it records,
      // which its tag covers, and parsed as hostile input, as index.json is.
      fetch_checked(g.object, local);
    } catch (const Error& e) {
      if (e.code() != ExitCode::kNotFound) throw;
      throw Error(ExitCode::kBadInput, what + ", which index.json lists, is missing from the target (deleted, or a push's index "
                                              "was rolled back); nothing was downloaded or changed");
    }
    const std::string content = read_file(local);
    std::error_code ec;
    fs::remove(local, ec);
    index.add_segment(g, content, what, seen);
  }
  if (loaded) std::sort(index.slices.begin(), index.slices.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
  return loaded;
}

fs::path OffsiteStore::write_scratch(const std::string& name, std::string_view content) {
  fs::path path = scratch_ / name;
  auto file = file_system().open_writable(path, OpenMode::kTruncate);
  file->append(content.data(), content.size());
  file->close();
  return path;
}

namespace {

// The segment journal's keys (write_index): only segment keys, so a damaged line deletes nothing else.
std::set<std::string> read_segment_journal(const fs::path& journal) {
  std::set<std::string> keys;
  std::error_code ec;
  if (!fs::exists(journal, ec)) return keys;
  static const std::regex segment_key_re(R"(oplog-index/\d{4}-\d{2}-\d{2}T\d{2}-[0-9a-f]{16}\.json)");
  std::istringstream lines(read_file(journal));
  for (std::string line; std::getline(lines, line);)
    if (std::regex_match(line, segment_key_re)) keys.insert(line);
  return keys;
}

}  // namespace

void OffsiteStore::write_segment_journal(const std::set<std::string>& keys) {
  std::error_code ec;
  if (keys.empty()) {
    fs::remove(segment_journal_, ec);
    return;
  }
  std::string text;
  for (const auto& key : keys) text += key + "\n";
  // Renamed into place, so a push killed while writing it leaves the previous journal whole.
  fs::rename(write_scratch("segment-journal", text), segment_journal_, ec);
  if (ec) throw_io_error("cannot write the slice segment journal", segment_journal_, ec.value());
}

std::vector<std::string> OffsiteStore::write_index(RemoteIndex& index, const KeyRing* keys) {
  const auto contents = index.rebuild_segments();
  // What may be in the target once this starts: the keys a killed push journaled, those the index read
  // named, and those about to go up. Those index.json will not name are deleted after it is written.
  std::set<std::string> may_be_left = read_segment_journal(segment_journal_);
  may_be_left.insert(segments_in_target_.begin(), segments_in_target_.end());
  for (const auto& [key, content] : contents) may_be_left.insert(key);
  write_segment_journal(may_be_left);
  for (const auto& [key, content] : contents) {
    if (segments_in_target_.count(key)) continue;  // the same content is there under the same key
    fs::path local = write_scratch("segment.json", content);
    target_.put(key, local);
    segments_in_target_.insert(key);
    std::error_code ec;
    fs::remove(local, ec);
  }
  index.updated_at = format_iso8601(now_millis());
  sequence_ = index.sequence = std::max(sequence_, index.sequence) + 1;
  const IndexText written = signed_index_text(index.to_json(), keys);
  written_digest_ = written.digest;
  fs::path local = write_scratch("index.json", written.text);
  target_.put(RemoteIndex::kKey, local);
  std::error_code ec;
  fs::remove(local, ec);
  std::set<std::string> named;
  for (const auto& g : index.segments) named.insert(g.object.key);
  std::vector<std::string> warnings;
  std::set<std::string> not_deleted;
  for (const auto& key : may_be_left) {
    if (named.count(key)) continue;
    try {
      target_.remove(key);
    } catch (const Error& e) {
      not_deleted.insert(key);
      warnings.push_back("could not delete the replaced slice segment '" + key + "' (named by nothing now; the next push tries again): " + e.what());
    }
  }
  write_segment_journal(not_deleted);
  segments_in_target_ = std::move(named);
  return warnings;
}

RemoteObject OffsiteStore::upload(const std::string& key, const fs::path& plain, const KeyRing* keys,
                                  const std::string& plain_sha256) {
  if (!keys) {
    auto info = target_.put(key, plain, plain_sha256);
    return {key, info.size, info.sha256, "", "", ""};
  }
  // Encrypted as it is sent, in one pass (crypto/sealed_upload.cpp): the digest of the stored bytes (the
  // sha256 from a directory target or a multipart upload, the MD5 from a single S3 PUT) is known only after,
  // and the index is where it is kept (with the ETag that identifies the stored bytes).
  auto sealed = keys->seal_for_upload(plain, plain_sha256);
  ObjectInfo info = target_.put(key, *sealed);
  return {key, info.size, info.sha256, keys->encrypting_key_id(), info.etag, info.md5};
}

void OffsiteStore::fetch_checked(const RemoteObject& object, const fs::path& fetched) {
  const std::string name = target_.url() + "/" + object.key;
  // The target checks the bytes against the index's digest (sha256, or MD5 for an object encrypted in one
  // pass to S3) as they arrive, and against the object's own sha256 when it carries one, so the download is
  // not read again to check it.
  ObjectInfo got;
  try {
    got = target_.get(object.key, fetched, ExpectedDigests{object.sha256, object.md5});
  } catch (const Error& e) {
    if (e.code() != ExitCode::kBadInput) throw;
    throw Error(ExitCode::kBadInput, "object '" + name + "' does not match the " + (object.sha256.empty() && !object.md5.empty() ? "MD5" : "sha256") +
                                         " the index recorded (damaged or replaced); nothing was changed (" + e.what() + ")");
  }
  if (got.size != object.size) {
    std::error_code ec;
    fs::remove(fetched, ec);
    throw Error(ExitCode::kBadInput, "object '" + name + "' has " + std::to_string(got.size) + " bytes but the index recorded " +
                                         std::to_string(object.size) + " (truncated or replaced); nothing was changed");
  }
}

void OffsiteStore::download(const RemoteObject& object, const fs::path& dest, const KeyRing* keys) {
  const std::string name = target_.url() + "/" + object.key;
  if (!index_authenticated_)
    throw Error(ExitCode::kInternal, "object '" + name + "' was to be downloaded before " + index_name() + " was authenticated");
  fs::path fetched = object.key_id.empty() ? dest : scratch_ / "download.enc";
  if (!object.key_id.empty() && keys && keys->key_ids().empty() && keys->target_encryption() == "public-key")
    throw Error(ExitCode::kUsage, "object '" + name + "' is encrypted with key " + object.key_id +
                                      ": the target is write-only (encryption public-key), so only its PRIVATE key "
                                      "(the one kept offline, beside the .pub `target keygen --write-only` made) "
                                      "decrypts it; give that file with --key-file");
  if (!object.key_id.empty() && (!keys || keys->key_ids().empty()))
    throw Error(ExitCode::kUsage, "object '" + name + "' is encrypted with key " + object.key_id +
                                      "; give its key file (--key-file, $FACECROWD_BACKUP_KEY_FILE) or "
                                      "$FACECROWD_BACKUP_PASSPHRASE");
  // An index no one could have signed names only objects that no bucket attacker can make: a plaintext object
  // where keys were given, or one encrypted with a symmetric key (whose target signs its index), would be
  // a keyed target's index edited to pass for a write-only or plaintext one.
  auto untrusted = [&](const std::string& kind) {
    return Error(ExitCode::kBadInput, "object '" + name + "' is " + kind + ", but " + untrusted_index_ +
                                          ": refusing to believe the index for it (the index of a target encrypted with a key "
                                          "carries a tag; one that claims otherwise was edited); nothing was changed. To restore "
                                          "anyway, once you trust the index, add --allow-unauthenticated-index");
  };
  if (!untrusted_index_.empty() && object.key_id.empty() && keys && !keys->key_ids().empty()) throw untrusted("plaintext");
  fetch_checked(object, fetched);
  if (object.key_id.empty()) return;
  std::error_code ec;
  auto drop = [&] { fs::remove(fetched, ec); };
  if (!untrusted_index_.empty() && object_wrap(fetched) == ObjectWrap::kSymmetric) {
    drop();
    throw untrusted("encrypted with a symmetric key");
  }
  try {
    keys->decrypt_file(fetched, dest, name);
  } catch (...) {
    drop();
    throw;
  }
  drop();
}

}  // namespace facecrowd
