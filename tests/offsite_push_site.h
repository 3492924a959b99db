// Shared by the off-site tests: a data directory with one archive and one shipped slice in its
// backup directory (optionally made larger than a multipart part), pushed to a target.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "backup/offsite/offsite_push.h"
#include "backup/offsite/offsite_store.h"
#include "backup/targets/directory_target.h"
#include "backup/oplog_shipper.h"
#include "core/sha256.h"
#include "random_bytes.h"
#include "restore_test_support.h"

namespace facecrowd::push_test {

using namespace restore_test;

inline std::string random_hex(size_t n, uint32_t seed) {
  static const char* digits = "0123456789abcdef";
  std::string bytes = random_bytes(n, seed + 1), out(n, '0');
  for (size_t i = 0; i < n; ++i) out[i] = digits[uint8_t(bytes[i]) & 15];
  return out;
}

// What every off-site fixture starts from: a backup of `data`, one user ("late") written after it, and the
// oplog shipped, so `backups` holds one archive and a slice that continues it.
inline void back_up_write_one_more_and_ship(const fs::path& data, const fs::path& backups) {
  backup(data, backups);
  auto db = Database::open(DataDir::open(data), "face-recognition");
  auto w = db->write();
  w.insert("users", Document::from_json({{"_id", "late"}, {"username", "late"}}));
  w.commit();
  ship_oplog(DataDir::open(data), backups, {});
}

// A data directory with one archive and one shipped slice in its backup directory.
struct PushSite {
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup";
  // `extra_bytes`: that many incompressible bytes more in users' notes, so the archive and the slice can be
  // made larger than a multipart part (1 MiB at least).
  explicit PushSite(int users = 20, size_t extra_bytes = 0) {
    fill(data, users);
    if (extra_bytes) {
      auto db = Database::open(DataDir::open(data), "face-recognition");
      auto w = db->write();
      for (size_t i = 0, n = extra_bytes / 512 + 1; i < n; ++i)
        w.insert("users", Document::from_json({{"_id", "bulk" + std::to_string(i)}, {"username", "bulk" + std::to_string(i)},
                                               {"note", random_hex(512, uint32_t(i))}}));
      w.commit();
    }
    back_up_write_one_more_and_ship(data, backups);
  }
  PushResult push(BackupTarget& t, const TargetConfig& config = {}, bool prune = true) {
    PushOptions o;
    o.prune = prune;
    return push_to_target(backups, t, config, o);
  }
  std::vector<fs::path> journal() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(backups / ".offsite-uploads", ec)) out.push_back(e.path());
    return out;
  }
};

// Every file under `dir` (relative path -> sha256): what a refused push must leave as it was.
inline std::map<std::string, std::string> file_digests(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = *sha256_of_file(e.path());
  return out;
}

inline bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

// The index of directory target `remote` in format 1's shape: every slice inline in index.json, as targets
// written before slice segments hold it (still read). A test that edits slice entries as an attacker would
// edits this and writes it as the target's index.json, instead of editing a segment and its summary.
inline nlohmann::json format1_index(const fs::path& remote) {
  DirectoryTarget t(remote);
  OffsiteStore store(t, remote.parent_path());
  return store.require_index().to_json_with_slices();
}

}  // namespace facecrowd::push_test
