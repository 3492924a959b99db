// A restore started through the Service (issue 10): the new generation is built while requests keep
// being served from the old store, only the swap closes the gate, erasures made meanwhile stay, and
// erasures are re-applied with the server's own recognition threshold. Synthetic documents (no face
// models needed): e.g. a stranger's face at a known unit-vector distance from a person's embedding.
#include <gtest/gtest.h>

#include <cmath>
#include <future>

#include "app/faces/unknown_faces.h"
#include "app/privacy/erasure.h"
#include "app/service.h"
#include "backup/backup_job.h"
#include "test_support.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

constexpr const char* kModel = "synthetic-model";

// A unit vector at unit-vector L2 distance `d` from e0 (in the e0/e1 plane).
EmbeddingVector at_distance(float d) {
  EmbeddingVector v(128);
  const double theta = 2 * std::asin(d / 2);
  v[0] = float(std::cos(theta));
  v[1] = float(std::sin(theta));
  return v;
}

Json embedding_json(const EmbeddingVector& v) {
  bson_t* b = bson_new();
  append_embedding_vector(b, "vector", v);
  BSON_APPEND_UTF8(b, "modelVersion", kModel);
  return Document(b).to_json();
}

struct SyntheticWorld {
  TempDir tmp;
  ServiceOptions options;
  std::string person = "65a000000000000000000001";
  std::string record = "65a000000000000000000002";
  SyntheticWorld(float threshold) {
    options.data_root = tmp.path() / "data";
    options.backup_dir = tmp.path() / "backup";
    options.models_dir = tmp.path() / "no-models";  // recognition is not needed here
    options.match.max_distance = threshold;
  }
  // The person enrolled with e0; one unknown-faces record holding a stranger at each of `distances`.
  void populate(Service& service, const std::vector<float>& distances) {
    auto db = service.database();
    auto tx = db->write();
    tx.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", person}}},
                                                   {"name", "Erased Person"},
                                                   {"embeddings", Json::array({embedding_json(at_distance(0))})}}));
    Json faces = Json::array();
    for (size_t i = 0; i < distances.size(); ++i)
      faces.push_back(unknown_face_entry(int(i + 1), cv::Rect(10 + 60 * int(i), 10, 50, 50), std::nullopt,
                                         at_distance(distances[i]), kModel));
    tx.insert("attendances", Document::from_json({{"_id", {{"$oid", record}}},
                                                  {"personId", nullptr},
                                                  {"session", "tue"},
                                                  {"timestamp", {{"$date", 1'700'000'000'000}}},
                                                  {"faces", faces}}));
    tx.commit();
  }
  // Which of the record's faces still carry an embedding.
  std::vector<bool> faces_with_embedding(Service& service) {
    auto db = service.database();
    auto tx = db->read();
    auto doc = tx.get("attendances", record);
    std::vector<bool> out;
    if (!doc) return out;
    const Json record_json = doc->to_json();
    for (const auto& f : record_json["faces"]) out.push_back(f.contains("embedding"));
    return out;
  }
};

TEST(ServiceRestore, ErasuresAreReappliedWithTheServersConfiguredThresholdNotTheDefault) {
  SyntheticWorld world(0.5f);  // wider than the default 0.36
  Service service(world.options);
  world.populate(service, {0.45f, 0.6f});  // the same stranger (within 0.5), and someone else
  Actor actor{"user:test", "127.0.0.1"};
  auto backup = run_backup(service.data(), world.options.backup_dir, BackupOptions{});
  auto erased = service.erase(actor, world.person, AttendancePolicy::kRemove);
  ASSERT_EQ(erased.effect.unknown_faces_stripped, 1);
  ASSERT_EQ(world.faces_with_embedding(service), (std::vector<bool>{false, true}));

  RestoreOptions restore;
  restore.drop = true;
  auto result = service.restore(actor, "latest", restore);
  // The backup held the person and the face at 0.45; the server's threshold takes it again.
  EXPECT_EQ(result.erasures.effect.profiles_removed, 1);
  EXPECT_EQ(result.erasures.effect.unknown_faces_stripped, 1);
  EXPECT_EQ(world.faces_with_embedding(service), (std::vector<bool>{false, true}))
      << "the face at distance 0.45 came back with its embedding: re-applied with the default 0.36";
}

Document attendance(const std::string& id, const std::string& session) {
  return Document::from_json({{"_id", {{"$oid", id}}},
                              {"personId", nullptr},
                              {"session", session},
                              {"timestamp", {{"$date", 1'700'000'000'000}}},
                              {"faces", Json::array()}});
}

bool has(Service& service, const std::string& collection, const std::string& id) {
  auto db = service.database();
  auto tx = db->read();
  return tx.get(collection, id).has_value();
}

// What one restore saw from inside: requests let in during the build, what they wrote, and the gate at
// the swap.
struct DuringRestore {
  std::string building;                 // the generation file being built, from the progress lines
  bool gate_open_during_build = false;
  bool open_during_build_returned = false;
  bool building_kept_by_that_open = false;
  OplogTimestamp old_store_position;    // after the writes made during the build
  bool gate_closed_at_swap = false;
};

// A request thread's work during the build, run on another thread as a server's would be.
template <typename F>
void on_another_thread(F f) {
  std::async(std::launch::async, f).get();
}

TEST(ServiceRestore, RequestsDuringTheBuildAreServedFromTheOldStoreAndOnlyTheSwapClosesTheGate) {
  SyntheticWorld world(0.36f);
  Service service(world.options);
  world.populate(service, {});
  const std::string other = "65a000000000000000000003";  // erased during the build
  {
    auto db = service.database();
    auto tx = db->write();
    tx.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", other}}}, {"name", "Erased During The Build"}}));
    tx.commit();
  }
  Actor actor{"user:test", "127.0.0.1"};
  run_backup(service.data(), world.options.backup_dir, BackupOptions{});
  const std::string written_during = "65a0000000000000000000d1";

  DuringRestore seen;
  RestoreOptions restore;
  restore.drop = true;
  restore.progress = [&](const std::string& line) {
    if (line.rfind("building /", 0) == 0 || line.rfind("building " + world.options.data_root.string(), 0) == 0)
      seen.building = line.substr(std::string("building ").size());
    if (line != "building indexes") return;  // the backup is loaded; the indexes are next
    auto pass = service.enter();
    seen.gate_open_during_build = pass.has_value();
    if (!pass) return;
    on_another_thread([&] {
      auto db = service.database();  // a pooled connection to the old store
      auto tx = db->write();
      tx.insert("attendances", attendance(written_during, "during-the-build"));
      tx.commit();
    });
    on_another_thread([&] { service.erase(actor, other, AttendancePolicy::kRemove); });
    on_another_thread([&] {
      auto fresh = Database::open(service.data(), "face-recognition");  // removes stale generations
      seen.open_during_build_returned = fresh != nullptr;
      seen.building_kept_by_that_open = !seen.building.empty() && fs::exists(seen.building);
      seen.old_store_position = fresh->read().position();
    });
  };
  restore.at_swap.push_back([&](Database&) { seen.gate_closed_at_swap = !service.enter().has_value(); });
  auto result = service.restore(actor, "latest", restore);

  EXPECT_TRUE(seen.gate_open_during_build) << "the gate was closed for the whole restore";
  EXPECT_TRUE(seen.open_during_build_returned);
  EXPECT_TRUE(seen.building_kept_by_that_open) << "an open during the build removed '" << seen.building << "'";
  EXPECT_TRUE(seen.gate_closed_at_swap) << "a request could enter during the swap";
  EXPECT_TRUE(service.enter().has_value()) << "the gate stayed closed after the restore";
  // The rule (backup/restore.h): the backup's state, with every erasure applied, and the oplog continuing.
  EXPECT_FALSE(has(service, "faceprofiles", other)) << "a person erased during the build came back";
  EXPECT_TRUE(has(service, "faceprofiles", world.person));
  EXPECT_FALSE(has(service, "attendances", written_during)) << "a restore replaces the restored collections";
  EXPECT_EQ(result.erasures.effect.profiles_removed, 1);
  auto db = service.database();
  EXPECT_GT(db->read().position(), seen.old_store_position)
      << "the restored store's oplog position does not continue after the old store's";
}

TEST(ServiceRestore, ACollectionRestoreKeepsTheWritesMadeToTheOtherCollectionsDuringTheBuild) {
  SyntheticWorld world(0.36f);
  Service service(world.options);
  world.populate(service, {});
  Actor actor{"user:test", "127.0.0.1"};
  run_backup(service.data(), world.options.backup_dir, BackupOptions{});
  const std::string kept = "65a0000000000000000000d2";
  const std::string replaced = "65a0000000000000000000d3";
  RestoreOptions restore;
  restore.drop = true;
  restore.collections = {"faceprofiles"};
  restore.progress = [&](const std::string& line) {
    if (line != "building indexes") return;
    on_another_thread([&] {
      auto db = service.database();
      auto tx = db->write();
      tx.insert("attendances", attendance(kept, "kept"));  // a collection this restore keeps
      tx.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", replaced}}}, {"name", "Enrolled During"}}));
      tx.commit();
    });
  };
  auto result = service.restore(actor, "latest", restore);
  EXPECT_TRUE(result.restore.copied_live);
  EXPECT_TRUE(has(service, "attendances", kept)) << "a write to a kept collection during the build was lost";
  EXPECT_TRUE(has(service, "attendances", world.record));
  EXPECT_FALSE(has(service, "faceprofiles", replaced)) << "the restored collection is not the backup's";
  EXPECT_TRUE(has(service, "faceprofiles", world.person));
  EXPECT_EQ(result.restore.live_entries_carried, 1);
}

}  // namespace
}  // namespace facecrowd
