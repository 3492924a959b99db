// A damaged store is refused, never "cleaned", and restore is the way out (issue 9, items 1 and 5):
//  - a CURRENT that is missing, empty, garbled or names a missing generation, and a 0-byte or non-SQLite
//    generation, give exit 9 naming the generation files found and the recovery commands; no file is
//    deleted (the old code deleted the live generation, every record, from a read-only `stats`);
//  - `repair --use-generation N` makes an intact generation live again;
//  - a full `restore latest [--drop]` works whatever state the live database is in (page 1 damaged,
//    WAL truncated, CURRENT garbage) and moves the damaged files to <data>/damaged/ instead of deleting
//    them; a per-collection restore into an unreadable database is refused with the advice to restore all.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "core/sha256.h"
#include "restore_test_support.h"
#include "store/store_damage.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct DamagedStore {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  fs::path folder = data / "face-recognition";
  fs::path gen1 = folder / "gen-000001.sqlite";
  Snapshot original;

  DamagedStore() {
    fill(data, 20);
    backup(data, backups);
    original = snapshot(data, "face-recognition");
  }
  std::string dirs() const { return "--data '" + data.string() + "' --backup-dir '" + backups.string() + "' "; }
  std::string gen1_hash() const { return sha256_hex(read_text(gen1)); }
  void damage_page_one() const {
    // Bytes 16-17 are the page size: 7 is not a power of two, so SQLite says "file is not a database".
    std::fstream f(gen1, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16);
    const char bad[] = {0x00, 0x07, 0x55, 0x55};
    f.write(bad, sizeof bad);
  }
  std::vector<fs::path> damaged_folders() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(data / "damaged", ec)) out.push_back(e.path());
    return out;
  }
};

void expect_refusal_names_files_and_recovery(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, int(kExitDamaged)) << r.out << r.err;
  EXPECT_NE(r.err.find("gen-000001.sqlite"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("facecrowd restore latest --drop"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Nothing was changed or deleted"), std::string::npos) << r.err;
}

TEST(StoreRecovery, CurrentNamingAMissingGenerationIsRefusedAndTheLiveGenerationIsKept) {
  DamagedStore s;
  auto hash = s.gen1_hash();
  write_text(s.folder / "CURRENT", "gen-000003.sqlite\n");  // one flipped bit: '1' (0x31) -> '3' (0x33)
  auto r = run_facecrowd(s.dirs() + "stats");
  expect_refusal_names_files_and_recovery(r);
  EXPECT_NE(r.err.find("CURRENT names gen-000003.sqlite, but it does not exist"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(s.gen1)) << "a read-only command deleted the live generation";
  EXPECT_EQ(s.gen1_hash(), hash);
}

TEST(StoreRecovery, OpeningWithCurrentMissingNeitherCreatesAnEmptyDatabaseNorDeletesTheOldOne) {
  DamagedStore s;
  auto hash = s.gen1_hash();
  fs::remove(s.folder / "CURRENT");
  // `enroll`, `recognize`, `crowd` and `demo-data` open with create_if_missing, the path that used to
  // make an empty gen-000002 and then delete gen-000001 as stale.
  auto r = run_facecrowd(s.dirs() + "demo-data --users 1 --profiles 0 --attendances 0 --crowdcounts 0 --auditlogs 0 --image-mb 0");
  expect_refusal_names_files_and_recovery(r);
  EXPECT_NE(r.err.find("CURRENT file is missing"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(s.gen1));
  EXPECT_EQ(s.gen1_hash(), hash);
  EXPECT_FALSE(fs::exists(s.folder / "gen-000002.sqlite"));
  EXPECT_FALSE(fs::exists(s.folder / "CURRENT"));
  expect_error([&] { Database::open(DataDir::open(s.data), "face-recognition"); }, kExitDamaged, {"gen-000001.sqlite"});
  EXPECT_EQ(s.gen1_hash(), hash);
}

TEST(StoreRecovery, EmptyOrGarbageCurrentIsRefusedAsDamageNotAnInternalError) {
  DamagedStore s;
  for (std::string current : {std::string(""), std::string("\xff\x01garbage\x1b[2J", 13)}) {
    write_text(s.folder / "CURRENT", current);
    auto r = run_facecrowd(s.dirs() + "stats");
    expect_refusal_names_files_and_recovery(r);
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "the garbage is printed escaped";
    EXPECT_TRUE(fs::exists(s.gen1));
  }
}

TEST(StoreRecovery, ZeroByteOrForeignGenerationIsRefusedAsDamage) {
  DamagedStore s;
  fs::resize_file(s.gen1, 0);
  auto r = run_facecrowd(s.dirs() + "stats");
  expect_refusal_names_files_and_recovery(r);
  EXPECT_NE(r.err.find("empty (0 bytes)"), std::string::npos) << r.err;
  write_text(s.gen1, std::string(8192, 'z'));
  r = run_facecrowd(s.dirs() + "stats");
  expect_refusal_names_files_and_recovery(r);
  EXPECT_NE(r.err.find("not an SQLite database"), std::string::npos) << r.err;
}

TEST(StoreRecovery, DamagedPageOneIsRefusedAsDamageAndNoOtherGenerationIsRemoved) {
  DamagedStore s;
  write_text(s.folder / "gen-000002.sqlite", "left by a killed restore, or the only good copy");
  s.damage_page_one();
  auto r = run_facecrowd(s.dirs() + "stats");
  expect_refusal_names_files_and_recovery(r);
  EXPECT_TRUE(fs::exists(s.folder / "gen-000002.sqlite")) << "nothing is removed as stale before the live one is proven";
}

TEST(StoreRecovery, RepairMakesAnIntactGenerationLiveAgainAndKeepsTheRestAside) {
  DamagedStore s;
  write_text(s.folder / "CURRENT", "gen-00000\x01.sqlite");
  write_text(s.folder / "gen-000002.sqlite", "half-built");
  auto r = run_facecrowd(s.dirs() + "repair --use-generation 1");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(read_text(s.folder / "CURRENT"), "gen-000001.sqlite\n");
  EXPECT_EQ(snapshot(s.data, "face-recognition"), s.original);
  auto aside = s.damaged_folders();
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(read_text(aside[0] / "gen-000002.sqlite"), "half-built");
  EXPECT_EQ(read_text(aside[0] / "CURRENT"), "gen-00000\x01.sqlite");
}

TEST(StoreRecovery, RepairRefusesAGenerationThatIsNotIntactAndChangesNothing) {
  DamagedStore s;
  write_text(s.folder / "CURRENT", "gen-000009.sqlite\n");
  write_text(s.folder / "gen-000002.sqlite", std::string(4096, 'x'));
  auto r = run_facecrowd(s.dirs() + "repair --use-generation 2");
  EXPECT_EQ(r.exit_code, int(kExitDamaged)) << r.out << r.err;
  EXPECT_EQ(read_text(s.folder / "CURRENT"), "gen-000009.sqlite\n");
  EXPECT_TRUE(fs::exists(s.folder / "gen-000002.sqlite"));
  EXPECT_TRUE(fs::exists(s.gen1));
  EXPECT_TRUE(s.damaged_folders().empty());
}

// The restore path, through the binary as the operator runs it.
void expect_rescued(const DamagedStore& s, const CommandResult& r) {
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("damaged database was replaced; its files were kept at"), std::string::npos) << r.out;
  EXPECT_EQ(snapshot(s.data, "face-recognition"), s.original);
  auto aside = s.damaged_folders();
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_TRUE(fs::exists(aside[0] / "gen-000001.sqlite")) << "the damaged file is kept, not deleted";
  EXPECT_NE(r.out.find(aside[0].string()), std::string::npos) << r.out;
}

TEST(StoreRecovery, FullRestoreWithDropRescuesADatabaseWhosePageOneIsDamaged) {
  DamagedStore s;
  s.damage_page_one();
  auto damaged_hash = s.gen1_hash();
  auto r = run_facecrowd(s.dirs() + "restore latest --drop");
  expect_rescued(s, r);
  EXPECT_EQ(sha256_hex(read_text(s.damaged_folders()[0] / "gen-000001.sqlite")), damaged_hash);
}

TEST(StoreRecovery, FullRestoreWithoutDropRescuesADatabaseWhoseCurrentIsGarbage) {
  DamagedStore s;
  write_text(s.folder / "CURRENT", "\x01\x02 not a name");
  auto r = run_facecrowd(s.dirs() + "restore latest");
  expect_rescued(s, r);
  EXPECT_EQ(read_text(s.damaged_folders()[0] / "CURRENT"), "\x01\x02 not a name");
}

TEST(StoreRecovery, FullRestoreRescuesADatabaseWhoseCurrentNamesAMissingGeneration) {
  DamagedStore s;
  write_text(s.folder / "CURRENT", "gen-000003.sqlite\n");
  expect_rescued(s, run_facecrowd(s.dirs() + "restore latest --drop"));
}

TEST(StoreRecovery, FullRestoreRescuesADatabaseWhoseWalIsTruncated) {
  DamagedStore s;
  {
    // Writes after the backup stay in the WAL (no checkpoint on close), as after a crash.
    auto db = Database::open(DataDir::open(s.data), "face-recognition");
    ASSERT_EQ(sqlite3_db_config(db->handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr), SQLITE_OK);
    auto w = db->write();
    for (int i = 0; i < 200; ++i) w.insert("auditlogs", Document::from_json({{"action", "late"}, {"n", i}}));
    w.commit();
  }
  fs::path wal = s.gen1.string() + "-wal";
  ASSERT_TRUE(fs::exists(wal));
  fs::resize_file(wal, fs::file_size(wal) / 3);
  // SQLite may read such a file (dropping the cut-off commits) or not; either way the restore rebuilds it.
  auto r = run_facecrowd(s.dirs() + "restore latest --drop");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(snapshot(s.data, "face-recognition"), s.original);
  EXPECT_EQ(run_facecrowd(s.dirs() + "stats").exit_code, 0);
}

TEST(StoreRecovery, CollectionRestoreIntoAnUnreadableDatabaseSaysToRestoreEverything) {
  DamagedStore s;
  s.damage_page_one();
  auto hash = s.gen1_hash();
  auto r = run_facecrowd(s.dirs() + "restore latest --collection users --drop");
  EXPECT_EQ(r.exit_code, int(kExitDamaged)) << r.out << r.err;
  EXPECT_NE(r.err.find("Restore the whole backup instead"), std::string::npos) << r.err;
  EXPECT_EQ(s.gen1_hash(), hash);
  EXPECT_TRUE(s.damaged_folders().empty());
  EXPECT_FALSE(fs::exists(s.folder / "gen-000002.sqlite"));
}

TEST(StoreRecovery, DryRunOfARestoreOverADamagedDatabaseWarnsAndWritesNothing) {
  DamagedStore s;
  s.damage_page_one();
  auto hash = s.gen1_hash();
  auto r = run_facecrowd(s.dirs() + "restore latest --dry-run");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("the live database cannot be read"), std::string::npos) << r.out;
  EXPECT_EQ(s.gen1_hash(), hash);
  EXPECT_TRUE(s.damaged_folders().empty());
}

}  // namespace
}  // namespace facecrowd
