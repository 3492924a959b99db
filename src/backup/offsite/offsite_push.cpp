#include "backup/offsite/offsite_push.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>

#include "backup/catalog.h"
#include "backup/offsite/offsite_store.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "core/file_lock.h"
#include "core/files.h"
#include "core/sha256.h"

namespace facecrowd {
namespace {

std::string archive_key(const std::string& name) { return "archives/" + name; }
std::string slice_key(const std::string& name) { return "oplog/" + name; }

std::string sha_of_prefix(const fs::path& file, uint64_t bytes) {
  std::ifstream in(file, std::ios::binary);
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  uint64_t left = bytes;
  while (left > 0 && in) {
    in.read(buf.data(), std::streamsize(std::min<uint64_t>(buf.size(), left)));
    sha.update(buf.data(), size_t(in.gcount()));
    left -= uint64_t(in.gcount());
  }
  if (left) throw Error(ExitCode::kIo, "cannot read the first " + std::to_string(bytes) + " bytes of '" + file.string() + "'");
  return sha.hex_digest();
}

// The ledger's length up to and including its last newline (a torn last line is not an erasure yet).
uint64_t complete_ledger_bytes(const fs::path& file) {
  std::string text = read_file(file);
  auto last = text.rfind('\n');
  return last == std::string::npos ? 0 : last + 1;
}

}  // namespace

nlohmann::json PushResult::to_json() const {
  return {{"target", target}, {"uploaded", uploaded}, {"bytes", bytes}, {"ledger_bytes", ledger_bytes},
          {"pruned", pruned}, {"encryption", encryption}, {"warnings", warnings}, {"seconds", seconds}};
}

std::string PushResult::summary() const {
  std::string s = "off-site '" + target + "': uploaded " + std::to_string(uploaded.size()) + " objects (" +
                  std::to_string(bytes) + " bytes)";
  if (ledger_bytes) s += ", " + std::to_string(ledger_bytes) + " new erasure ledger bytes";
  if (!pruned.empty()) s += ", pruned " + std::to_string(pruned.size());
  s += encryption.empty() ? ", plaintext" : ", encrypted (" + encryption + ")";
  return s;
}

PushResult push_to_target(const fs::path& backup_dir, BackupTarget& target, const TargetConfig& config,
                          const PushOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ensure_writable_dir(backup_dir, "backup directory");
  // Waits: a ship and a backup both push, one after the other.
  FileLock lock = FileLock::wait(backup_dir / "offsite-push.lock");
  OffsiteStore store(target, backup_dir);
  PushResult result;
  result.target = target.url();
  std::optional<RemoteIndex> read = store.read_index();
  const bool had_index = read.has_value();
  RemoteIndex index = read.value_or(RemoteIndex{});
  auto keys = keys_for_upload(config, index);  // fails closed before anything is uploaded
  if (keys) result.encryption = config.encryption + ", key " + keys->encrypting_key_id();
  auto upload = [&](const std::string& key, const fs::path& file, const std::string& known_sha256 = "") {
    auto object = store.upload(key, file, keys.get(), known_sha256);
    result.uploaded.push_back(key);
    result.bytes += object.size;
    return object;
  };

  BackupCatalog catalog(backup_dir);
  // Archives written by earlier runs are read once on their way up too: their writer's sha256 is in the log.
  std::map<std::string, std::string> archive_sha256 = catalog.recorded_archive_sha256();
  for (const auto& [name, sha] : options.archive_sha256) archive_sha256[name] = sha;
  bool changed = false;
  // What remote retention would delete at once is never sent: the local directory keeps archives longer
  // (its own --keep-days) than the target's one-a-day policy, and each push would upload them again.
  std::set<std::string> skip;
  if (options.prune) {
    RemoteIndex planned = index;
    for (const auto& a : catalog.archives())
      if (a.manifest && !planned.find_archive(a.path.filename().string()))
        planned.archives.push_back({{}, {}, a.path.filename().string(), a.db, a.created, a.bytes, *a.manifest});
    for (const auto& s : catalog.slices())
      if (!planned.find_slice(s.path.filename().string()))
        planned.slices.push_back({{}, s.path.filename().string(), s.from, s.to, s.bytes});
    auto plan = plan_remote_retention(planned, options.db, options.retention, now_millis());
    skip.insert(plan.archives.begin(), plan.archives.end());
    skip.insert(plan.slices.begin(), plan.slices.end());
  }
  for (const auto& a : catalog.archives()) {
    const std::string name = a.path.filename().string();
    if (index.find_archive(name) || !a.manifest || skip.count(name)) continue;  // no sidecar: being written or damaged
    fs::path sidecar = a.path;
    sidecar += ".manifest.json";
    RemoteArchive r;
    r.name = name;
    r.db = a.db;
    r.created = a.created;
    r.plain_bytes = a.bytes;
    r.manifest = *a.manifest;
    r.manifest_object = upload(archive_key(name) + ".manifest.json", sidecar);
    auto known = archive_sha256.find(name);
    r.object = upload(archive_key(name), a.path, known == archive_sha256.end() ? "" : known->second);  // last: the index names it only after both are up
    index.archives.push_back(std::move(r));
    changed = true;
  }
  for (const auto& s : catalog.slices()) {
    const std::string name = s.path.filename().string();
    if (skip.count(name)) continue;
    // The record goes first and with every slice, so a restore from the target checks the slice's entry
    // count and its link to the slice before it; one pushed before records went off-site gets it now.
    const fs::path record = slice_record_path(s.path);
    const bool has_record = fs::exists(record);
    RemoteSlice* pushed = index.find_slice(name);
    if (pushed) {
      if (pushed->record || !has_record) continue;
      pushed->record = upload(slice_key(name) + ".json", record);
      changed = true;
      continue;
    }
    RemoteSlice r;
    // The record holds the slice's sha256 (written with it), so the slice is read once on its way up; a
    // record that does not parse is the restore's to refuse, the slice is then hashed as it is read.
    std::string slice_sha;
    if (has_record) {
      r.record = upload(slice_key(name) + ".json", record);
      try {
        if (auto parsed = read_slice_record(record); parsed && parsed->bytes == s.bytes) slice_sha = parsed->sha256;
      } catch (const Error&) {
      }
    }
    r.object = upload(slice_key(name), s.path, slice_sha);
    r.name = name;
    r.from = s.from;
    r.to = s.to;
    r.plain_bytes = s.bytes;
    index.slices.push_back(std::move(r));
    changed = true;
  }

  std::error_code ec;
  if (!options.ledger_file.empty() && fs::exists(options.ledger_file, ec)) {
    uint64_t local = complete_ledger_bytes(options.ledger_file);
    if (local < index.ledger_bytes) {
      result.warnings.push_back("the local erasure ledger (" + std::to_string(local) + " bytes) is shorter than the target's (" +
                                std::to_string(index.ledger_bytes) + "): the target holds erasures this machine lacks; a "
                                "restore from the target re-applies them");
    } else {
      if (index.ledger_bytes > 0 && sha_of_prefix(options.ledger_file, index.ledger_bytes) != index.ledger_sha256)
        throw Error(ExitCode::kConflict, "the local erasure ledger '" + options.ledger_file.string() +
                                             "' does not begin with the ledger target '" + target.url() +
                                             "' holds; the target's ledger is never overwritten. Restore from the target "
                                             "(which merges both ledgers) or investigate which one is wrong");
      if (local > index.ledger_bytes) {
        std::string text = read_file(options.ledger_file).substr(index.ledger_bytes, local - index.ledger_bytes);
        fs::path chunk = store.write_scratch("ledger-chunk.jsonl", text);
        RemoteLedgerChunk c{upload(ledger_chunk_key(index.ledger_bytes), chunk), index.ledger_bytes, local - index.ledger_bytes, sha256_hex(text)};
        index.ledger.push_back(c);
        result.ledger_bytes = c.length;
        index.ledger_bytes = local;
        index.ledger_sha256 = sha_of_prefix(options.ledger_file, local);
        changed = true;
      }
    }
  }

  RetentionPlan plan;
  if (options.prune) plan = plan_remote_retention(index, options.db, options.retention, now_millis());
  std::vector<std::string> doomed;
  if (!plan.archives.empty() || !plan.slices.empty()) {
    std::set<std::string> a(plan.archives.begin(), plan.archives.end()), s(plan.slices.begin(), plan.slices.end());
    std::erase_if(index.archives, [&](const RemoteArchive& x) {
      if (!a.count(x.name)) return false;
      doomed.push_back(x.object.key);
      doomed.push_back(x.manifest_object.key);
      return true;
    });
    std::erase_if(index.slices, [&](const RemoteSlice& x) {
      if (!s.count(x.name)) return false;
      doomed.push_back(x.object.key);
      if (x.record) doomed.push_back(x.record->key);
      return true;
    });
    changed = true;
  }
  if (changed || !had_index) store.write_index(index);
  for (const auto& key : doomed) {
    try {
      target.remove(key);
      result.pruned.push_back(key);
    } catch (const Error& e) {
      result.warnings.push_back(std::string("could not delete pruned object: ") + e.what());
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace facecrowd
