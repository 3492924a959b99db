// vision/gallery.h on synthetic vectors (exact and HNSW agree; add/remove while serving), and the
// calibration of the match policy (app/faces/match_policy.h) on the real identities in ../shared/data/faces.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "app/faces/gallery_loader.h"
#include "app/faces/match_policy.h"
#include "core/error.h"
#include "store/database.h"
#include "test_support.h"
#include "vision/face_pipeline.h"
#include "vision/gallery.h"

namespace facecrowd {
namespace {

using vision::Gallery;
using Vec = std::vector<float>;

// Vectors are dlib-sized (128 numbers): the leading ones given, the rest 0.
Vec normalised(Vec v) {
  v.resize(128);
  double n = 0;
  for (float x : v) n += double(x) * x;
  for (float& x : v) x = float(x / std::sqrt(n));
  return v;
}

Vec jitter(const Vec& base, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> normal(0, sigma / std::sqrt(128.0f));
  Vec v = base;
  for (float& x : v) x += normal(rng);
  return normalised(v);
}

float distance(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i] - b[i]) * (a[i] - b[i]);
  return float(std::sqrt(s));
}

Vec axis(int i) {
  Vec v(128);
  v[size_t(i)] = 1;
  return v;
}

TEST(Gallery, EmptyGalleryHasNoMatch) {
  Gallery g;
  EXPECT_FALSE(g.search(axis(0)).has_value());
  EXPECT_EQ(g.size(), 0u);
  EXPECT_EQ(g.people(), 0u);
}

TEST(Gallery, BestPersonRunnerUpAndMargin) {
  Gallery g;
  // alice: two embeddings; bob, carol one each. Query near alice's second.
  g.add("alice", "a1", axis(0));
  g.add("alice", "a2", normalised(Vec{0.6f, 0.8f}));
  g.add("bob", "b1", axis(2));
  g.add("carol", "c1", normalised(Vec{0.0f, 1.0f, 0.2f}));
  Vec q = normalised(Vec{0.5f, 0.85f});
  auto m = g.search(q);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->person_id, "alice");
  EXPECT_EQ(m->embedding_id, "a2");
  EXPECT_NEAR(m->distance, distance(q, normalised(Vec{0.6f, 0.8f})), 1e-5);
  ASSERT_TRUE(m->runner_up_id);
  EXPECT_EQ(*m->runner_up_id, "carol");
  EXPECT_NEAR(m->runner_up_distance, distance(q, normalised(Vec{0.0f, 1.0f, 0.2f})), 1e-5);
  EXPECT_NEAR(m->margin, m->runner_up_distance - m->distance, 1e-6);
  EXPECT_EQ(g.size(), 4u);
  EXPECT_EQ(g.people(), 3u);
}

TEST(Gallery, OnePersonHasNoRunnerUp) {
  Gallery g;
  g.add("alice", "a1", axis(0));
  g.add("alice", "a2", axis(1));
  auto m = g.search(axis(1));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->person_id, "alice");
  EXPECT_NEAR(m->distance, 0, 1e-6);
  EXPECT_FALSE(m->runner_up_id);
  EXPECT_EQ(m->margin, vision::kNoRunnerUp);
}

TEST(Gallery, RemovePersonAndReplaceEmbedding) {
  Gallery g;
  g.add("alice", "a1", axis(0));
  g.add("bob", "b1", axis(1));
  g.add("bob", "b2", axis(2));
  EXPECT_EQ(g.remove_person("bob"), 2u);
  EXPECT_EQ(g.remove_person("bob"), 0u);
  EXPECT_EQ(g.remove_person("nobody"), 0u);
  EXPECT_EQ(g.size(), 1u);
  EXPECT_EQ(g.people(), 1u);
  EXPECT_EQ(g.search(axis(1))->person_id, "alice");
  // Re-adding an embedding id replaces it (here: moves it to another person).
  g.add("carol", "a1", axis(3));
  EXPECT_EQ(g.size(), 1u);
  EXPECT_EQ(g.people(), 1u);
  EXPECT_EQ(g.search(axis(3))->person_id, "carol");
  EXPECT_NEAR(g.search(axis(3))->distance, 0, 1e-6);
}

// Clustered data like faces: 300 people, 4 embeddings each at ~0.3 from the person's centre.
struct Clustered {
  std::vector<Vec> centres;
  std::vector<std::pair<int, Vec>> embeddings;
};
Clustered clustered(int people, int per_person, std::mt19937& rng) {
  Clustered c;
  for (int p = 0; p < people; ++p) {
    c.centres.push_back(random_unit_vector(rng));
    for (int k = 0; k < per_person; ++k) c.embeddings.push_back({p, jitter(c.centres.back(), 0.3f, rng)});
  }
  return c;
}

TEST(Gallery, HnswFromTheConfiguredSizeAgreesWithExact) {
  std::mt19937 rng(1);
  auto data = clustered(600, 4, rng);  // 2400 embeddings: the index grows past its first capacity (1024 x 2)
  Gallery exact(SIZE_MAX), hnsw(500);
  for (size_t i = 0; i < data.embeddings.size(); ++i) {
    auto& [p, v] = data.embeddings[i];
    exact.add("p" + std::to_string(p), "e" + std::to_string(i), v);
    hnsw.add("p" + std::to_string(p), "e" + std::to_string(i), v);
    if (i + 1 == 499) {
      EXPECT_FALSE(hnsw.uses_hnsw());
    }
    if (i + 1 == 500) {
      EXPECT_TRUE(hnsw.uses_hnsw());
    }
  }
  EXPECT_FALSE(exact.uses_hnsw());
  int same_person = 0, same_runner_up = 0, total = 0;
  for (int p = 0; p < 600; p += 3) {
    Vec q = jitter(data.centres[size_t(p)], 0.3f, rng);
    auto a = exact.search(q), b = hnsw.search(q);
    ASSERT_TRUE(a && b);
    ++total;
    same_person += a->person_id == b->person_id && std::abs(a->distance - b->distance) < 1e-5;
    same_runner_up += a->runner_up_id == b->runner_up_id;
    EXPECT_EQ(a->person_id, "p" + std::to_string(p));
  }
  EXPECT_EQ(same_person, total);
  EXPECT_GE(same_runner_up, total * 95 / 100);

  // Removal while indexed: the person is gone from HNSW results too; below the size it is exact again.
  EXPECT_EQ(hnsw.remove_person("p0"), 4u);
  auto m = hnsw.search(data.centres[0]);
  ASSERT_TRUE(m);
  EXPECT_NE(m->person_id, "p0");
  EXPECT_TRUE(hnsw.uses_hnsw());
  for (int p = 1; p < 600; ++p) hnsw.remove_person("p" + std::to_string(p));
  EXPECT_EQ(hnsw.size(), 0u);
  EXPECT_FALSE(hnsw.uses_hnsw());
  EXPECT_FALSE(hnsw.search(data.centres[1]));
}

TEST(Gallery, SearchesWhileAnotherThreadAdds) {
  std::mt19937 rng(2);
  auto data = clustered(200, 3, rng);
  Gallery g(300);
  for (size_t i = 0; i < 90; ++i) g.add("p" + std::to_string(data.embeddings[i].first), "e" + std::to_string(i), data.embeddings[i].second);
  std::thread writer([&] {
    for (size_t i = 90; i < data.embeddings.size(); ++i)
      g.add("p" + std::to_string(data.embeddings[i].first), "e" + std::to_string(i), data.embeddings[i].second);
  });
  // Person 0's embeddings were added first: whatever the writer is doing, a search near them finds p0.
  int found = 0;
  for (int k = 0; k < 2000; ++k) found += g.search(data.centres[0])->person_id == "p0";
  writer.join();
  EXPECT_EQ(found, 2000);
  EXPECT_EQ(g.size(), data.embeddings.size());
  EXPECT_TRUE(g.uses_hnsw());
}

// ---- calibration on real photos (tools/calibrate_faces.md) ----

fs::path models_dir() { return fs::path(FACECROWD_SOURCE_DIR) / "models"; }

struct IdentityPhoto {
  std::string person, file;
  Vec embedding;
};

// Every identity photo's largest face, embedded once for the suite.
const std::vector<IdentityPhoto>& identity_photos(std::string* skip) {
  static std::vector<IdentityPhoto> photos;
  static std::string why;
  static bool done = false;
  if (!done) {
    done = true;
    fs::path data = shared_data_dir();
    if (data.empty() || !fs::is_directory(data / "faces" / "identities")) {
      why = "shared data (../shared/data/faces) not present";
    } else if (!fs::exists(models_dir() / "SHA256SUMS")) {
      why = "face models not prepared in " + models_dir().string() + " (tools/prepare_models.sh)";
    } else {
      auto pipeline = vision::FacePipeline::open(models_dir());
      std::vector<fs::path> files;
      for (auto& person : fs::directory_iterator(data / "faces" / "identities"))
        for (auto& f : fs::directory_iterator(person.path())) files.push_back(f.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        auto bgr = vision::load_image(f);
        vision::DetectorOptions one_pass = pipeline->options().detector;
        one_pass.min_face_px = 0;
        auto faces = pipeline->analyse(bgr, one_pass);
        if (faces.empty()) faces = pipeline->analyse(bgr);
        if (faces.empty()) continue;
        auto largest = std::max_element(faces.begin(), faces.end(),
                                        [](const auto& a, const auto& b) { return a.box.area() < b.box.area(); });
        photos.push_back({f.parent_path().filename().string(), f.filename().string(), largest->embedding.unit});
      }
    }
  }
  *skip = why;
  return photos;
}

// Leave-one-out: each photo is searched in a gallery of all the other photos (genuine trial when its
// person has other photos), and in a gallery without its person at all (impostor trial: must be unknown).
TEST(GalleryCalibration, DefaultPolicyOnSharedIdentities) {
  std::string skip;
  const auto& photos = identity_photos(&skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_GE(photos.size(), 30u) << "most identity photos should yield a face";
  const MatchPolicy policy;  // the defaults under test
  int genuine = 0, accepted = 0, wrong_person = 0, impostor = 0, false_accepts = 0;
  float max_same = 0, min_other = 2, min_genuine_margin = 4;
  for (size_t i = 0; i < photos.size(); ++i) {
    Gallery all_others, without_person;
    bool has_same = false;
    for (size_t j = 0; j < photos.size(); ++j) {
      if (j == i) continue;
      all_others.add(photos[j].person, std::to_string(j), photos[j].embedding);
      if (photos[j].person != photos[i].person) without_person.add(photos[j].person, std::to_string(j), photos[j].embedding);
      else has_same = true;
      float d = distance(photos[i].embedding, photos[j].embedding);
      if (photos[j].person == photos[i].person) max_same = std::max(max_same, d);
      else min_other = std::min(min_other, d);
    }
    if (has_same) {
      ++genuine;
      auto m = all_others.search(photos[i].embedding);
      bool ok = is_recognised(*m, policy);
      if (ok && m->person_id == photos[i].person) ++accepted;
      if (ok && m->person_id != photos[i].person) ++wrong_person;
      if (m->person_id == photos[i].person) min_genuine_margin = std::min(min_genuine_margin, m->margin);
      if (!ok || m->person_id != photos[i].person)
        std::cout << "  genuine not accepted: " << photos[i].person << "/" << photos[i].file << " -> " << m->person_id
                  << " d=" << m->distance << " margin=" << m->margin << "\n";
    }
    ++impostor;
    auto m = without_person.search(photos[i].embedding);
    if (is_recognised(*m, policy)) {
      ++false_accepts;
      std::cout << "  impostor accepted: " << photos[i].person << "/" << photos[i].file << " as " << m->person_id
                << " d=" << m->distance << "\n";
    }
  }
  std::cout << "photos " << photos.size() << ", genuine trials " << genuine << " (accepted " << accepted
            << ", wrong person " << wrong_person << "), impostor trials " << impostor << " (accepted " << false_accepts
            << ")\nmax same-person distance " << max_same << ", min different-person distance " << min_other
            << ", min genuine margin " << min_genuine_margin << "\n";
  EXPECT_EQ(false_accepts, 0) << "an unknown person was recognised as someone else";
  EXPECT_EQ(wrong_person, 0);
  EXPECT_GE(accepted, genuine * 9 / 10) << "the threshold rejects too many genuine matches";
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// load_gallery (app/faces/gallery_loader.h): only embeddings of the asked model, ids as documented.
TEST(GalleryLoader, LoadsEmbeddingsOfTheModelOnly) {
  TempDir dir;
  auto db = Database::open(DataDir::open(dir.path() / "data"), std::string(kDefaultDatabase));
  auto profile = [&](const std::string& id, const std::string& name, const std::string& model, const EmbeddingVector& v,
                     bool with_id) {
    bson_t* doc = bson_new();
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id.c_str());
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "name", name.c_str());
    bson_t arr, e;
    BSON_APPEND_ARRAY_BEGIN(doc, "embeddings", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &e);
    if (with_id) {
      bson_oid_t eid;
      bson_oid_init_from_string(&eid, "bbbbbbbbbbbbbbbbbbbbbbbb");
      BSON_APPEND_OID(&e, "_id", &eid);
    }
    append_embedding_vector(&e, "vector", v);
    BSON_APPEND_UTF8(&e, "modelVersion", model.c_str());
    bson_append_document_end(&arr, &e);
    bson_append_array_end(doc, &arr);
    return Document(doc);
  };
  {
    auto tx = db->write();
    tx.insert("faceprofiles", profile("aaaaaaaaaaaaaaaaaaaaaaa1", "Ada", "model-A", axis(0), true));
    tx.insert("faceprofiles", profile("aaaaaaaaaaaaaaaaaaaaaaa2", "Ben", "model-A", axis(1), false));
    tx.insert("faceprofiles", profile("aaaaaaaaaaaaaaaaaaaaaaa3", "Cy", "model-B", axis(2), false));
    tx.commit();
  }
  Gallery g;
  auto tx = db->read();
  auto report = load_gallery(tx, "model-A", g);
  EXPECT_EQ(report.embeddings, 2);
  EXPECT_EQ(report.profiles, 2);
  EXPECT_EQ(report.other_model, 1);
  EXPECT_EQ(report.names.at("aaaaaaaaaaaaaaaaaaaaaaa2"), "Ben");
  EXPECT_EQ(g.search(axis(0))->embedding_id, "bbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_EQ(g.search(axis(1))->embedding_id, "aaaaaaaaaaaaaaaaaaaaaaa2#0");
  EXPECT_EQ(g.search(axis(2))->person_id != "aaaaaaaaaaaaaaaaaaaaaaa3", true);
  // The stored vector decodes to exactly what was written.
  auto stored = profile_embeddings(*tx.get("faceprofiles", "aaaaaaaaaaaaaaaaaaaaaaa1"));
  EXPECT_EQ(stored.at(0).vector, axis(0));
}

TEST(MatchPolicy, DecisionConfidenceAndSettings) {
  MatchPolicy p;
  vision::GalleryMatch m;
  m.distance = 0.30f;
  m.margin = 0.10f;
  EXPECT_TRUE(is_recognised(m, p));
  m.margin = 0.01f;
  EXPECT_FALSE(is_recognised(m, p));  // ambiguous
  m.margin = 0.10f;
  m.distance = 0.45f;
  EXPECT_FALSE(is_recognised(m, p));
  EXPECT_DOUBLE_EQ(match_confidence(0, p), 1.0);
  EXPECT_NEAR(match_confidence(p.max_distance, p), 0.5, 1e-6);
  EXPECT_DOUBLE_EQ(match_confidence(1.5f, p), 0.0);
  auto flags = resolve_match_policy(0.35f, 0.1f);
  EXPECT_FLOAT_EQ(flags.max_distance, 0.35f);
  EXPECT_FLOAT_EQ(flags.min_margin, 0.1f);
  setenv("FACECROWD_MATCH_THRESHOLD", "0.38", 1);
  EXPECT_FLOAT_EQ(resolve_match_policy(std::nullopt, std::nullopt).max_distance, 0.38f);
  EXPECT_FLOAT_EQ(resolve_match_policy(0.3f, std::nullopt).max_distance, 0.3f);  // the flag wins
  setenv("FACECROWD_MATCH_THRESHOLD", "close", 1);
  EXPECT_THROW(resolve_match_policy(std::nullopt, std::nullopt), Error);
  unsetenv("FACECROWD_MATCH_THRESHOLD");
  EXPECT_THROW(resolve_match_policy(3.0f, std::nullopt), Error);
  EXPECT_THROW(resolve_match_policy(std::nullopt, -0.1f), Error);
}

}  // namespace
}  // namespace facecrowd
