// Helpers for the restore, point-in-time and verify tests: a populated database, a real backup made by
// run_backup, archives taken apart and rebuilt with tar(1), and whole-database snapshots to compare.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "backup/backup_job.h"
#include "backup/restore.h"
#include "core/error.h"
#include "core/sha256.h"
#include "store/audit_seal.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/schema.h"
#include "test_support.h"

namespace facecrowd::restore_test {

// collection -> (_id key -> relaxed Extended JSON)
using Snapshot = std::map<std::string, std::map<std::string, std::string>>;

inline Snapshot snapshot(const fs::path& data_root, const std::string& db, bool with_auditlogs = false) {
  Snapshot out;
  auto database = Database::open(DataDir::open(data_root), db, {.create_if_missing = false});
  auto r = database->read();
  for (const auto& spec : collection_specs()) {
    if (spec.name == "auditlogs" && !with_auditlogs) continue;
    auto& coll = out[spec.name];
    r.find(spec.name, {}, [&](const Document& d) {
      coll[*d.id_key()] = d.to_json_text();
      return true;
    });
  }
  return out;
}

inline int64_t count(const fs::path& data_root, const std::string& db, const std::string& collection) {
  auto database = Database::open(DataDir::open(data_root), db, {.create_if_missing = false});
  return database->read().count(collection);
}

// Users u0..u{n-1}, 2n attendances, n crowd counts, n audit entries, a stored file with two chunks.
inline void fill(const fs::path& data_root, int n, const std::string& db = "face-recognition") {
  auto database = Database::open(DataDir::open(data_root), db);
  auto w = database->write();
  for (int i = 0; i < n; ++i) {
    w.insert("users", Document::from_json({{"_id", "u" + std::to_string(i)},
                                           {"username", "user" + std::to_string(i)},
                                           {"email", "user" + std::to_string(i) + "@example.org"},
                                           {"role", i == 0 ? "admin" : "operator"}}));
    for (int k = 0; k < 2; ++k)
      w.insert("attendances", Document::from_json({{"personId", "p" + std::to_string(i)},
                                                   {"session", "s" + std::to_string(k)},
                                                   {"timestamp", {{"$date", 1704240000000 + i * 1000 + k}}},
                                                   {"confidence", 0.9}}));
    w.insert("crowdcounts", Document::from_json({{"location", i % 2 ? "gate" : "hall"},
                                                 {"timestamp", {{"$date", 1704240000000 + i}}},
                                                 {"count", i}}));
    insert_sealed_audit_entry(w, Document::from_json({{"timestamp", {{"$date", 1704240000000 + i}}},
                                               {"action", "login"},
                                               {"target", "u" + std::to_string(i)}}));
  }
  // A sound stored file (backups check that its chunks hash to its sha256): "abcabc" in two chunks.
  w.insert("fs.files", Document::from_json({{"_id", "f1"}, {"filename", "f1.bin"}, {"sha256", sha256_hex("abcabc")},
                                            {"length", 6}, {"chunkSize", 3}}));
  for (int c = 0; c < 2; ++c)
    w.insert("fs.chunks", Document::from_json({{"files_id", "f1"}, {"n", c},
                                               {"data", {{"$binary", {{"base64", "YWJj"}, {"subType", "00"}}}}}}));
  w.commit();
}

inline BackupResult backup(const fs::path& data_root, const fs::path& backup_dir,
                           std::vector<std::string> collections = {}, const std::string& db = "face-recognition") {
  BackupOptions options;
  options.db = db;
  options.collections = std::move(collections);
  options.keep_days = 0;
  return run_backup(DataDir::open(data_root), backup_dir, options);
}

// Extracts `archive` into `into`; returns the top folder.
inline fs::path extract(const fs::path& archive, const fs::path& into) {
  fs::create_directories(into);
  auto r = run_shell("tar -xzf '" + archive.string() + "' -C '" + into.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& e : fs::directory_iterator(into))
    if (e.is_directory()) return e.path();
  ADD_FAILURE() << "nothing extracted from " << archive;
  return {};
}

// Packs `folder` (a top folder) as a .tar.gz at `out`.
inline void repack(const fs::path& folder, const fs::path& out) {
  // manifest.json last, as a backup writes it (tar's own order follows the directory's, which varies).
  const std::string top = folder.filename().string();
  auto r = run_shell("(cd '" + folder.parent_path().string() + "' && { find '" + top + "' -mindepth 1 ! -path '" + top +
                     "/manifest.json' | sort; [ -e '" + top + "/manifest.json' ] && echo '" + top +
                     "/manifest.json'; } | tar -czf '" + out.string() + "' --no-recursion -T -)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

inline void flip_byte(const fs::path& file, std::streamoff offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << file;
  f.seekg(offset);
  char c;
  f.get(c);
  f.seekp(offset);
  f.put(char(c ^ 0x5a));
}

// Every file in the database folder: name -> size (detects stray generations and any rewrite). A file that
// vanishes between the listing and its size is left out: a running facecrowd process creates and removes
// short-lived files there (its write probe), and tests poll this while one runs.
inline std::map<std::string, uintmax_t> folder_listing(const fs::path& dir) {
  std::map<std::string, uintmax_t> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file(ec)) {
      if (!ec) out[e.path().filename()] = 0;
      continue;
    }
    const uintmax_t size = e.file_size(ec);
    if (!ec) out[e.path().filename()] = size;
  }
  return out;
}

inline std::vector<std::string> generation_files(const fs::path& db_dir) {
  std::vector<std::string> out;
  for (const auto& [name, size] : folder_listing(db_dir))
    if (name.rfind("gen-", 0) == 0 && name.find(".sqlite") != std::string::npos &&
        name.substr(name.size() - 7) == ".sqlite")
      out.push_back(name);
  return out;
}

// Runs `fn`, expecting Error with `code` whose message contains every one of `parts`.
template <class Fn>
void expect_error(Fn&& fn, ExitCode code, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(int(e.code()), int(code)) << e.what();
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
  }
}

}  // namespace facecrowd::restore_test
