// A backup checks what it writes (a corrupt record or a stored file whose bytes no longer match its
// sha256 fails the backup loudly), verify re-checks stored files' hashes, and `facecrowd check` scrubs the
// live store (and with --read-data every archive), naming what is damaged (app/recovery/scrub.h).
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "app/recovery/scrub.h"
#include "backup/backup_status.h"
#include "backup/catalog.h"
#include "backup/verify.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct Store {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  Store() { fill(data, 4); }

  // Runs `sql` with `blob` bound to ?1 directly on the live generation file: damage no facecrowd command makes.
  void raw_sql(const std::string& sql, const std::string& blob = "") {
    fs::path file = DataDir::open(data).live_file("face-recognition");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    if (sql.find('?') != std::string::npos) sqlite3_bind_blob(st, 1, blob.data(), int(blob.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  std::string first_id(const std::string& collection) {
    std::string id;
    auto db = Database::open(DataDir::open(data), "face-recognition");
    db->read().find(collection, {}, [&](const Document& d) {
      id = *d.id_key();
      return false;
    });
    return id;
  }
  // One attendance document's bytes replaced by garbage that is not BSON.
  std::string corrupt_attendance() {
    std::string id = first_id("attendances");
    raw_sql("UPDATE attendances SET doc = ? WHERE _id = '" + id + "'", std::string("\x30\x00\x00\x00garbage", 11));
    return id;
  }
  // The first chunk of file f1 now holds "abX": its file no longer hashes to its recorded sha256.
  void damage_chunk() {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    std::string id, bytes;
    db->read().find("fs.chunks", Query{{{"n", "=", int64_t(0)}}}, [&](const Document& d) {
      id = *d.id_key();
      bytes = std::string(d.bytes());
      return false;
    });
    db.reset();
    auto at = bytes.rfind("abc");
    ASSERT_NE(at, std::string::npos);
    bytes[at + 2] = 'X';
    raw_sql("UPDATE \"fs.chunks\" SET doc = ? WHERE _id = '" + id + "'", bytes);
  }
  CommandResult cli(const std::string& args) {
    return run_facecrowd("--data '" + data.string() + "' --backup-dir '" + backups.string() + "' " + args);
  }
  std::vector<fs::path> archives() {
    std::vector<fs::path> out;
    for (const auto& a : BackupCatalog(backups).archives()) out.push_back(a.path);
    return out;
  }
};

TEST(BackupChecksWhatItWrites, ACorruptDocumentFailsTheBackupLoudlyAndLeavesNoArchive) {
  Store s;
  std::string id = s.corrupt_attendance();
  expect_error([&] { backup(s.data, s.backups); }, ExitCode::kBadInput, {"attendances", "facecrowd check"});
  EXPECT_TRUE(s.archives().empty()) << "no archive may become 'latest'";
  auto cli = s.cli("backup");
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
  EXPECT_TRUE(s.archives().empty());
  auto status = s.cli("backups status");
  EXPECT_EQ(status.exit_code, 2) << status.out;
  EXPECT_NE(status.out.find("ERROR"), std::string::npos) << status.out;
}

TEST(BackupChecksWhatItWrites, ABackupRefusedForACorruptDocumentNamesItsIdAndCollection) {
  Store s;
  std::string id = s.corrupt_attendance();
  expect_error([&] { backup(s.data, s.backups); }, ExitCode::kBadInput, {"_id '" + id + "'", "of 'attendances'"});
  auto cli = s.cli("backup");
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
  EXPECT_NE(cli.err.find(id), std::string::npos) << cli.err;
}

TEST(BackupChecksWhatItWrites, AStoredFileWhoseBytesNoLongerMatchItsSha256FailsTheBackup) {
  Store s;
  s.damage_chunk();
  expect_error([&] { backup(s.data, s.backups); }, ExitCode::kBadInput, {"f1", "sha256", "damaged"});
  EXPECT_TRUE(s.archives().empty());
  EXPECT_EQ(s.cli("backup").exit_code, 3);
}

TEST(BackupChecksWhatItWrites, ASoundStoreStillBacksUpAndVerifiesWithFileHashes) {
  Store s;
  auto b = backup(s.data, s.backups);
  VerifyOptions o;
  o.backup_dir = s.backups;
  auto report = verify_backup(b.archive.string(), o);
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
  bool hashed = false;
  for (const auto& c : report.checks) hashed |= c.name == "file hashes" && c.ok;
  EXPECT_TRUE(hashed) << report.to_json().dump(2);
}

TEST(VerifyFileHashes, AnArchiveWhoseStoredFileRottedFailsVerifyThoughEveryMemberChecksumMatches) {
  Store s;
  auto b = backup(s.data, s.backups);
  // Damage a chunk's bytes inside the archive and make the manifest agree, as a member checksum taken
  // over already-damaged bytes would.
  TempDir work;
  fs::path top = extract(b.archive, work.path() / "x");
  fs::path chunks = top / "face-recognition" / "fs.chunks.bson";
  std::string bytes = read_text(chunks);
  auto at = bytes.find("abc");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = 'X';
  write_text(chunks, bytes);
  auto manifest = nlohmann::json::parse(read_text(top / "manifest.json"));
  for (auto& f : manifest["files"])
    if (f["path"] == "face-recognition/fs.chunks.bson") f["sha256"] = sha256_hex(bytes);
  write_text(top / "manifest.json", manifest.dump(2));
  fs::remove(b.archive.string() + ".manifest.json");
  fs::remove(b.archive);
  repack(top, b.archive);
  VerifyOptions o;
  o.backup_dir = s.backups;
  auto report = verify_backup(b.archive.string(), o);
  EXPECT_FALSE(report.ok());
  bool named = false;
  for (const auto& c : report.checks)
    if (c.name == "file hashes") named = !c.ok && c.detail.find("f1") != std::string::npos;
  EXPECT_TRUE(named) << report.to_json().dump(2);
  EXPECT_EQ(s.cli("verify '" + b.archive.string() + "'").exit_code, 3);
}

TEST(Scrub, ASoundDataDirectoryPassesEveryCheck) {
  Store s;
  backup(s.data, s.backups);
  auto cli = s.cli("check --read-data --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  auto j = nlohmann::json::parse(cli.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  ASSERT_EQ(j["databases"].size(), 1u);
  std::set<std::string> names;
  for (const auto& c : j["databases"][0]["checks"]) names.insert(c["check"]);
  for (const char* want : {"sqlite integrity", "documents", "file hashes", "file references", "oplog"})
    EXPECT_TRUE(names.count(want)) << want;
  EXPECT_EQ(j["backups"].size(), 1u);
}

TEST(Scrub, NamesACorruptDocumentARottedFileAndADanglingReferenceAndExitsThree) {
  Store s;
  std::string bad_doc = s.corrupt_attendance();
  s.damage_chunk();
  {
    auto db = Database::open(DataDir::open(s.data), "face-recognition");
    auto w = db->write();
    w.insert("attendances", Document::from_json({{"_id", "dangling"}, {"personId", "p1"}, {"session", "s"},
                                                 {"photoFileId", {{"$oid", "65a1b2c3d4e5f60718293aff"}}}}));
    w.commit();
  }
  auto cli = s.cli("check --json");
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
  auto j = nlohmann::json::parse(cli.out);
  std::map<std::string, std::string> problems;
  for (const auto& c : j["databases"][0]["checks"]) problems[c["check"]] = c["problems"].dump();
  EXPECT_NE(problems["documents"].find(bad_doc), std::string::npos) << problems["documents"];
  EXPECT_NE(problems["file hashes"].find("f1"), std::string::npos) << problems["file hashes"];
  EXPECT_NE(problems["file references"].find("65a1b2c3d4e5f60718293aff"), std::string::npos) << problems["file references"];
  auto text = s.cli("check");
  EXPECT_EQ(text.exit_code, 3);
  EXPECT_NE(text.out.find("FAILED  documents"), std::string::npos) << text.out;
}

TEST(Scrub, ReadDataVerifiesEveryArchiveAndNamesTheDamagedOne) {
  Store s;
  auto b = backup(s.data, s.backups);
  flip_byte(b.archive, std::streamoff(fs::file_size(b.archive) / 2));
  EXPECT_EQ(s.cli("check").exit_code, 0) << "without --read-data no archive is read";
  auto cli = s.cli("check --read-data");
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
  EXPECT_NE(cli.out.find(b.archive.filename().string()), std::string::npos) << cli.out;
}

TEST(Scrub, AMissingDataDirectoryIsNotFound) {
  TempDir tmp;
  auto cli = run_facecrowd("--data '" + (tmp.path() / "nope").string() + "' check");
  EXPECT_EQ(cli.exit_code, 4) << cli.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "nope"));
}

}  // namespace
}  // namespace facecrowd
