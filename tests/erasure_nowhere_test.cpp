// Issue 9 item 8: after `person delete` the person is findable nowhere. Before, the live oplog still held
// their name, external id, e-mail and photo bytes; another person's enrollment warning still named them;
// their scrubbed enroll entry kept the photo's file name; and deleted rows stayed readable in SQLite's
// free pages and WAL. The test reads the raw bytes of every file under the data directory and the
// temporary directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "app/records/audit.h"
#include "app/records/audit_chain.h"
#include "core/object_id.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/file_store.h"
#include "random_bytes.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr const char* kName = "Zelda Quintavalle";
constexpr const char* kExternalId = "EMP-77310";
constexpr const char* kEmail = "zelda.q@example.org";
constexpr const char* kPhotoName = "Zelda_Quintavalle_passport.jpg";

// Files under `root` whose raw bytes contain `needle`.
std::vector<std::string> files_containing(const fs::path& root, const std::string& needle) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) hits.push_back(it->path().string());
  }
  return hits;
}

TEST(ErasureLeavesNoTrace, NameExternalIdEmailAndPhotoBytesAreInNoFileAfterPersonDelete) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", scratch = tmp.path() / "tmp";
  fs::create_directories(scratch);
  const std::string p = new_object_id(), q = new_object_id();
  const std::string photo = random_bytes(3 * kFileChunkSize / 2, 7);  // two chunks
  const std::string photo_probe = photo.substr(kFileChunkSize + 100, 64);  // from the second chunk
  {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    std::string file = put_file(w, photo, kPhotoName, "image/jpeg", FileKind::kFacialImage);
    std::string q_file = put_file(w, random_bytes(500, 8), "q.jpg", "image/jpeg", FileKind::kFacialImage);
    auto oid = [](const std::string& id) { return nlohmann::json{{"$oid", id}}; };
    w.insert("faceprofiles", Document::from_json({{"_id", oid(p)},
                                                  {"name", kName},
                                                  {"externalId", kExternalId},
                                                  {"metadata", {{"email", kEmail}}},
                                                  {"facialImageIds", {oid(file)}}}));
    w.insert("faceprofiles", Document::from_json({{"_id", oid(q)}, {"name", "Quentin Other"}, {"facialImageIds", {oid(q_file)}}}));
    w.insert("attendances", Document::from_json({{"personId", oid(p)}, {"personName", kName}, {"session", "s1"},
                                                 {"timestamp", {{"$date", 1704240000000}}}}));
    append_audit(w, AuditEntry{.action = "profile.enroll", .target = p,
                               .details = {{"name", kName},
                                           {"added", {{{"image", std::string("/photos/") + kPhotoName}, {"fileId", file}}}}}});
    append_audit(w, AuditEntry{.action = "profile.enroll", .target = q,
                               .details = {{"name", "Quentin Other"},
                                           {"warnings", {"/photos/q.jpg: this face already matches profile " + p + " '" +
                                                         kName + "' (distance 0.310); is this the same person?"}}}});
    w.commit();
    // A later update, so the oplog holds an 'u' of the profile too.
    auto u = db->write();
    auto profile = u.get("faceprofiles", p)->to_json();
    profile["metadata"]["note"] = "moved to hall B";
    u.replace("faceprofiles", Document::from_json(profile));
    u.commit();
  }
  ASSERT_FALSE(files_containing(data, kName).empty()) << "the test data did not reach the files";
  ASSERT_FALSE(files_containing(data, photo_probe).empty());

  auto r = run_facecrowd("person delete " + p + " --json",
                         "FACECROWD_DATA='" + data.string() + "' TMPDIR='" + scratch.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(nlohmann::json::parse(r.out)["effect"]["oplogEntriesRewritten"].get<int>(), 5);

  if (std::getenv("FACECROWD_KEEP_ERASURE_TEST")) fs::copy(data, std::getenv("FACECROWD_KEEP_ERASURE_TEST"), fs::copy_options::recursive);
  for (const fs::path& root : {data, scratch}) {
    for (const std::string& needle : {std::string(kName), std::string(kExternalId), std::string(kEmail),
                                      std::string("Zelda_Quintavalle"), photo_probe, photo.substr(0, 64)}) {
      auto hits = files_containing(root, needle);
      EXPECT_TRUE(hits.empty()) << "'" << (needle.size() == 64 ? "<photo bytes>" : needle) << "' is still in "
                                << (hits.empty() ? "" : hits[0]);
    }
  }
  // Q's entry is still there and still says what happened, and the chain still verifies.
  auto db = Database::open(DataDir::open(data), "face-recognition");
  auto tx = db->read();
  auto entries = list_audit(tx, AuditQuery{.target = q});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].to_json()["details"]["name"], "Quentin Other");
  EXPECT_EQ(entries[0].to_json()["details"]["warnings"][0], "erased");
  EXPECT_TRUE(verify_audit_chain(tx, {p}).ok());
}

}  // namespace
}  // namespace facecrowd
