#include "backup/offsite/offsite_fetch.h"

#include <map>
#include <regex>
#include <set>

#include "backup/archive_manifest.h"
#include "backup/catalog.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"

namespace facecrowd {

void require_archive_is(const RemoteArchive& remote, const Manifest& m, const std::string& object_name) {
  auto created = parse_iso8601(m.created_at);
  const std::string holds = created ? archive_file_name(m.db, *created) : "a backup of '" + m.db + "' created at '" + m.created_at + "'";
  std::string why;
  if (holds != remote.name) why = "it holds " + holds;
  else if (m.oplog_start != remote.manifest.oplog_start || m.oplog_end != remote.manifest.oplog_end)
    why = "its oplog positions " + m.oplog_start.to_string() + " .. " + m.oplog_end.to_string() + " are not the " +
          remote.manifest.oplog_start.to_string() + " .. " + remote.manifest.oplog_end.to_string() + " the index recorded";
  if (!why.empty())
    throw Error(ExitCode::kBadInput, "object '" + object_name + "' is not backup '" + remote.name + "': " + why +
                                         " (another backup's object was put in its place); nothing was changed");
}

const RemoteArchive& choose_remote_archive(const RemoteIndex& index, const std::string& which, const std::string& db,
                                           std::optional<OplogTimestamp> until, const std::string& url) {
  const RemoteArchive* chosen = which == "latest" ? index.latest(db, until) : index.find_archive(which);
  if (!chosen) {
    // A time before everything the target holds is the --until's fault, as in a local restore
    // (choose_archive_before): say so with the oldest point there is, not that the target has no backup.
    const RemoteArchive* oldest = nullptr;
    for (const auto& a : index.archives)
      if (a.db == db && (!oldest || a.manifest.oplog_start < oldest->manifest.oplog_start)) oldest = &a;
    if (which == "latest" && until && oldest)
      throw Error(ExitCode::kUsage, "--until " + oplog_position_text(*until) + " is before every backup of '" + db + "' in target '" +
                                        url + "': the oldest, '" + oldest->name + "', starts at " +
                                        oplog_position_text(oldest->manifest.oplog_start) +
                                        ", the oldest point it can restore to; give a later time. Nothing was downloaded");
    std::string have;
    for (const auto& a : index.archives) have += (have.empty() ? "" : ", ") + a.name;
    throw Error(ExitCode::kNotFound,
                (which == "latest" ? "no backup archive of '" + db + "'" : "no backup archive '" + which + "'") +
                    " in target '" + url + "' (it holds: " + (have.empty() ? "none" : have) + ")");
  }
  if (until && !(chosen->manifest.oplog_start < *until))
    throw Error(ExitCode::kUsage, "--until " + oplog_position_text(*until) + " is before backup '" + chosen->name +
                                      "' (it starts at " + oplog_position_text(chosen->manifest.oplog_start) + ")");
  return *chosen;
}

OplogWindow planned_remote_window(const RemoteIndex& index, const RemoteArchive& archive, const fs::path& backup_dir) {
  std::vector<SliceInfo> infos;
  for (const auto& s : index.slices) infos.push_back({backup_dir / s.name, s.from, s.to, s.plain_bytes});
  return plan_oplog_window(archive.manifest, infos);
}

FetchedBackup fetch_backup(OffsiteStore& store, const RemoteIndex& index, const std::string& which, const std::string& db,
                           std::optional<OplogTimestamp> until, const KeyRing* keys, const fs::path& backup_dir) {
  const std::string url = store.target().url();
  const RemoteArchive* chosen = &choose_remote_archive(index, which, db, until, url);
  ensure_writable_dir(backup_dir, "backup directory");
  FetchedBackup out;
  out.remote = *chosen;
  out.archive = backup_dir / chosen->name;
  const fs::path sidecar = manifest_copy_path(out.archive);
  std::error_code ec;
  if (!fs::exists(out.archive, ec)) {
    store.download(chosen->manifest_object, sidecar, keys);
    try {
      require_archive_is(*chosen, Manifest::parse(read_file(sidecar), "manifest copy '" + url + "/" + chosen->manifest_object.key + "'"),
                         url + "/" + chosen->manifest_object.key);
    } catch (...) {
      fs::remove(sidecar, ec);
      throw;
    }
    try {
      store.download(chosen->object, out.archive, keys);
    } catch (...) {
      fs::remove(sidecar, ec);  // a refused archive leaves nothing behind, its manifest copy included
      throw;
    }
    out.bytes += chosen->object.size + chosen->manifest_object.size;
  } else {
    out.archive_was_local = true;
  }

  out.window = planned_remote_window(index, *chosen, backup_dir);
  const auto by_name = slice_positions(index);
  for (const auto& s : out.window.slices) {
    if (until && s.from >= *until) break;
    if (!fs::exists(s.path, ec)) {
      auto found = by_name.find(s.path.filename().string());
      const RemoteSlice* r = found == by_name.end() ? nullptr : &index.slices[found->second];
      if (!r)  // the index's names are file names (remote_index.h), so the plan's slices are all in it
        throw Error(ExitCode::kInternal, "slice '" + s.path.filename().string() + "' of the plan is not in the index of '" + url + "'");
      try {
        if (r->record) {  // first: a slice under its final name always has its record (slice_integrity.h)
          store.download(*r->record, slice_record_path(s.path), keys);
          out.bytes += r->record->size;
        }
        store.download(r->object, s.path, keys);
        out.bytes += r->object.size;
      } catch (const Error& e) {
        // Listed but gone from the bucket (a lifecycle rule, a hand): the chain stops before it, as at a slice
        // missing from the index, and the restore reaches what comes before it (offsite_restore.h warns, exit
        // 1) instead of refusing the whole disaster recovery. An object that is there but altered still refuses.
        if (e.code() != ExitCode::kNotFound) throw;
        std::error_code ignored;
        fs::remove(slice_record_path(s.path), ignored);
        out.missing_slice = r->object.key;
        break;
      }
    }
    out.slices.push_back(s.path);
  }
  if (out.slices.size() < out.window.slices.size()) {
    out.window.slices.resize(out.slices.size());
    out.window.reach = out.window.slices.empty() ? std::max(chosen->manifest.oplog_start, chosen->manifest.oplog_end)
                                                 : out.window.slices.back().to;
  }
  return out;
}

std::string fetch_ledger(OffsiteStore& store, const RemoteIndex& index, const KeyRing* keys) {
  std::string text;
  const std::string url = store.target().url();
  for (const auto& c : index.ledger) {
    const std::string name = url + "/" + c.object.key;
    if (c.offset != text.size())
      throw Error(ExitCode::kBadInput, "erasure ledger chunk '" + name + "' starts at byte " + std::to_string(c.offset) +
                                           " but the chunks before it end at " + std::to_string(text.size()) +
                                           " (a chunk is missing or overlaps); the ledger cannot be trusted");
    fs::path local = store.scratch() / "ledger-chunk";
    store.download(c.object, local, keys);
    std::string chunk = read_file(local);
    fs::remove(local);
    if (chunk.size() != c.length || sha256_hex(chunk) != c.plain_sha256)
      throw Error(ExitCode::kBadInput, "erasure ledger chunk '" + name + "' does not match its recorded length and sha256");
    text += chunk;
  }
  if (text.size() != index.ledger_bytes || (index.ledger_bytes > 0 && sha256_hex(text) != index.ledger_sha256))
    throw Error(ExitCode::kBadInput, "the erasure ledger in target '" + url + "' is " + std::to_string(text.size()) +
                                         " bytes but its index records " + std::to_string(index.ledger_bytes) +
                                         " bytes and another sha256 (shortened or lost chunks); refusing to restore without it");
  return text;
}

UnindexedLedger fetch_unindexed_ledger(OffsiteStore& store, const RemoteIndex& index, const KeyRing* keys) {
  UnindexedLedger out;
  const std::string url = store.target().url();
  std::set<std::string> named;
  for (const auto& c : index.ledger) named.insert(c.object.key);
  std::map<uint64_t, ObjectInfo> extra;  // by offset
  static const std::regex key_re(R"(ledger/ledger-(\d{16})\.jsonl)");
  for (const auto& o : store.target().list("ledger/")) {
    std::smatch m;
    if (named.count(o.key) || !std::regex_match(o.key, m, key_re)) continue;
    extra.emplace(std::stoull(m[1].str()), o);
  }
  uint64_t end = index.ledger_bytes;
  for (const auto& [offset, info] : extra) {
    const std::string name = url + "/" + info.key;
    if (offset != end) {
      out.unusable.push_back(name + ": starts at byte " + std::to_string(offset) + ", but the ledger before it ends at " + std::to_string(end));
      continue;
    }
    fs::path local = store.scratch() / "unindexed-ledger-chunk";
    try {
      // No digest to check it by (the index does not name it); on an encrypted target decryption proves it
      // was written with the key, and every line must be an erasure record (checked by the restore).
      RemoteObject object{info.key, info.size, "", index.encryption.empty() ? "" : "(not in the index)", "", ""};
      store.download(object, local, keys);
      std::string text = read_file(local);
      std::error_code ec;
      fs::remove(local, ec);
      if (text.empty() || text.back() != '\n') {
        out.unusable.push_back(name + ": does not end with a whole line");
        continue;
      }
      out.text += text;
      out.applied.push_back(name);
      end += text.size();
    } catch (const Error& e) {
      if (e.code() == ExitCode::kUsage) throw;  // no key given: the caller says which
      out.unusable.push_back(name + ": " + e.what());
    }
  }
  return out;
}

}  // namespace facecrowd
