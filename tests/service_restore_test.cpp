// A restore started through the Service (issue 10): erasures are re-applied with the server's own
// recognition threshold. Synthetic embeddings (no face models needed): a stranger's face at a known
// unit-vector distance from the erased person's enrolled embedding.
#include <gtest/gtest.h>

#include <cmath>

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
  EmbeddingVector v{};
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

}  // namespace
}  // namespace facecrowd
