// The GridFS-style file store: chunking, content addressing, the oplog, damage detection, references.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>

#include "core/error.h"
#include "core/sha256.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/file_store.h"
#include "random_bytes.h"
#include "test_support.h"

namespace facecrowd {
namespace {

struct Fixture {
  TempDir tmp;
  DataDir dir = DataDir::open(tmp.path() / "data");
  std::unique_ptr<Database> db = Database::open(dir, "face-recognition");

  std::string put(const std::string& bytes, FileKind kind = FileKind::kGroupPhoto) {
    auto tx = db->write();
    auto id = put_file(tx, bytes, "photo.jpg", "image/jpeg", kind);
    tx.commit();
    return id;
  }
  std::vector<OplogEntry> oplog() {
    std::vector<OplogEntry> out;
    auto r = db->read();
    r.scan_oplog({}, r.oplog_range().last, [&](OplogTimestamp, std::string_view e) {
      out.push_back(decode_oplog_entry(reinterpret_cast<const uint8_t*>(e.data()), e.size(), "oplog"));
    });
    return out;
  }
  // Runs SQL on the live file with a separate raw SQLite connection, as damage from outside would.
  void raw_sql(const std::string& sql, const std::string& blob = "") {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir.live_file("face-recognition").c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    if (!blob.empty()) sqlite3_bind_blob(st, 1, blob.data(), int(blob.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(raw);
    sqlite3_finalize(st);
    sqlite3_close(raw);
  }
};

TEST(FileStore, PutThenGetReturnsTheBytesAcrossSeveralChunks) {
  Fixture f;
  std::string bytes = random_bytes(2 * kFileChunkSize + 1234, 1);
  std::string id = f.put(bytes, FileKind::kCrowdImage);
  auto r = f.db->read();
  EXPECT_EQ(get_file(r, id), bytes);
  auto info = file_info(r, id)->to_json();
  EXPECT_EQ(info["length"].get<int64_t>(), int64_t(bytes.size()));
  EXPECT_EQ(info["chunkSize"].get<int>(), 261120);
  EXPECT_EQ(info["sha256"].get<std::string>(), sha256_hex(bytes));
  EXPECT_EQ(info["contentType"].get<std::string>(), "image/jpeg");
  EXPECT_EQ(info["metadata"]["kind"].get<std::string>(), "crowd_image");
  EXPECT_TRUE(info["uploadDate"].contains("$date"));
  EXPECT_EQ(r.count("fs.chunks"), 3);
  std::vector<int> ns;
  r.find("fs.chunks", Query{{{"files_id", "=", id}}, "n"}, [&](const Document& d) {
    auto j = d.to_json();
    EXPECT_EQ(j["files_id"]["$oid"].get<std::string>(), id);
    ns.push_back(j["n"].get<int>());
    return true;
  });
  EXPECT_EQ(ns, (std::vector<int>{0, 1, 2}));
}

TEST(FileStore, EmptyFileHasNoChunksAndReadsBackEmpty) {
  Fixture f;
  std::string id = f.put("");
  auto r = f.db->read();
  EXPECT_EQ(get_file(r, id), "");
  EXPECT_EQ(r.count("fs.chunks"), 0);
}

TEST(FileStore, SameBytesAreStoredOnceAndTheIdReused) {
  Fixture f;
  std::string bytes = random_bytes(5000, 2);
  std::string first = f.put(bytes);
  std::string again = f.put(bytes, FileKind::kFacialImage);
  EXPECT_EQ(first, again);
  std::string other = f.put(random_bytes(5000, 3));
  EXPECT_NE(first, other);
  auto r = f.db->read();
  EXPECT_EQ(r.count("fs.files"), 2);
  EXPECT_EQ(r.count("fs.chunks"), 2);
}

TEST(FileStore, ReuseIsSeenWithinOneTransaction) {
  Fixture f;
  std::string bytes = random_bytes(100, 4);
  auto tx = f.db->write();
  auto a = put_file(tx, bytes, "a.jpg", "image/jpeg", FileKind::kGroupPhoto);
  auto b = put_file(tx, bytes, "b.jpg", "image/jpeg", FileKind::kGroupPhoto);
  tx.commit();
  EXPECT_EQ(a, b);
}

TEST(FileStore, EveryInsertAndDeleteHasItsOplogEntry) {
  Fixture f;
  std::string id = f.put(random_bytes(kFileChunkSize + 1, 5));
  {
    auto tx = f.db->write();
    EXPECT_TRUE(remove_file(tx, id));
    EXPECT_FALSE(remove_file(tx, id));
    tx.commit();
  }
  std::vector<std::string> seen;
  for (const auto& e : f.oplog()) seen.push_back(std::string(1, e.op) + " " + e.collection());
  EXPECT_EQ(seen, (std::vector<std::string>{"i fs.chunks", "i fs.chunks", "i fs.files", "d fs.chunks",
                                            "d fs.chunks", "d fs.files"}));
  auto r = f.db->read();
  EXPECT_EQ(r.count("fs.files"), 0);
  EXPECT_EQ(r.count("fs.chunks"), 0);
}

TEST(FileStore, GivenIdAndUploadDateAreKept) {
  Fixture f;
  auto tx = f.db->write();
  auto id = put_file(tx, "abc", NewFile{"x.jpg", "image/jpeg", FileKind::kDensityMap, 1704240000000,
                                        std::string("65a1b2c3d4e5f60718293a4b")});
  tx.commit();
  EXPECT_EQ(id, "65a1b2c3d4e5f60718293a4b");
  auto r = f.db->read();
  auto info = file_info(r, id)->to_json();
  EXPECT_EQ(info["uploadDate"]["$date"].get<std::string>(), "2024-01-03T00:00:00Z");
  EXPECT_EQ(info["metadata"]["kind"].get<std::string>(), "density_map");
}

TEST(FileStore, DamagedChunkIsDetectedAndNamesTheFile) {
  Fixture f;
  std::string bytes = random_bytes(kFileChunkSize + 999, 6);
  std::string id = f.put(bytes);
  std::string chunk_id, chunk_doc;
  {
    auto r = f.db->read();
    r.find("fs.chunks", Query{{{"files_id", "=", id}, {"n", "=", int64_t(1)}}}, [&](const Document& d) {
      chunk_id = *d.id_key();
      chunk_doc = std::string(d.bytes());
      return false;
    });
  }
  ASSERT_FALSE(chunk_id.empty());
  chunk_doc[chunk_doc.size() - 2] ^= 0x5a;  // last data byte (the document ends with `data`, then 0x00)
  f.raw_sql("UPDATE \"fs.chunks\" SET doc = ? WHERE _id = '" + chunk_id + "'", chunk_doc);
  auto r = f.db->read();
  try {
    get_file(r, id);
    FAIL() << "damaged file returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find(id), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
  }
}

TEST(FileStore, MissingOrTruncatedChunkIsDetected) {
  Fixture f;
  std::string id = f.put(random_bytes(2 * kFileChunkSize + 10, 7));
  f.raw_sql("DELETE FROM \"fs.chunks\" WHERE files_id = '" + id + "' AND n = 1");
  auto r = f.db->read();
  try {
    get_file(r, id);
    FAIL() << "file with a missing chunk returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("chunk 1 is missing"), std::string::npos) << e.what();
  }
}

TEST(FileStore, UnknownIdIsNotFound) {
  Fixture f;
  auto r = f.db->read();
  try {
    get_file(r, "65a1b2c3d4e5f60718293a4b");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kNotFound);
  }
}

TEST(FileStore, ReferenceFieldsReachArraysAndNestedDocuments) {
  auto profile = Document::from_json_text(R"({
    "name": "Ann",
    "embeddings": [{"sourceFileId": {"$oid": "65a1b2c3d4e5f60718293a01"}},
                   {"sourceFileId": null},
                   {"sourceFileId": {"$oid": "65a1b2c3d4e5f60718293a02"}}],
    "facialImageIds": [{"$oid": "65a1b2c3d4e5f60718293a03"}, {"$oid": "65a1b2c3d4e5f60718293a01"}],
    "photoFileId": {"$oid": "65a1b2c3d4e5f60718293aff"}})");
  std::vector<std::string> ids;
  for_each_file_reference("faceprofiles", profile.get(), [&](const std::string& id) { ids.push_back(id); });
  EXPECT_EQ(ids, (std::vector<std::string>{"65a1b2c3d4e5f60718293a01", "65a1b2c3d4e5f60718293a02",
                                           "65a1b2c3d4e5f60718293a03", "65a1b2c3d4e5f60718293a01"}));
  auto count = Document::from_json_text(
      R"({"imageFileId": {"$oid": "65a1b2c3d4e5f60718293b01"}, "densityMapFileId": {"$oid": "65a1b2c3d4e5f60718293b02"}})");
  ids.clear();
  for_each_file_reference("crowdcounts", count.get(), [&](const std::string& id) { ids.push_back(id); });
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(file_referencing_collections(), (std::vector<std::string>{"attendances", "crowdcounts", "faceprofiles"}));
}

TEST(FileStore, KindNamesRoundTripAndUnknownKindIsBadInput) {
  for (auto k : {FileKind::kFacialImage, FileKind::kGroupPhoto, FileKind::kCrowdImage, FileKind::kDensityMap})
    EXPECT_EQ(parse_file_kind(to_string(k)), k);
  EXPECT_THROW(parse_file_kind("selfie"), Error);
}

}  // namespace
}  // namespace facecrowd
