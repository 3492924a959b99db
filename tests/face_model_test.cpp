// Issue 12: the opt-in embedding model faceres beside dlib's ResNet (vision/face_model.h). Real models, real
// photos (../shared/data/faces): faceres separates people; one setting selects the model and its calibrated
// policy in the CLI and the server; a gallery of one model never compares the other's vectors; 1024-D vectors
// survive the store; a faceres file of the wrong sha256 or shape is refused by name.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "app/faces/gallery_loader.h"
#include "app/faces/match_policy.h"
#include "app/faces/unknown_faces.h"
#include "app/service.h"
#include "core/error.h"
#include "core/sha256.h"
#include "face_test_support.h"
#include "server/server_config.h"
#include "test_support.h"
#include "vision/face_choice.h"
#include "vision/face_pipeline.h"
#include "vision/gallery.h"

namespace facecrowd {
namespace {

using vision::FaceModel;

// Sets an environment variable for a scope, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) saved_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_, saved_.c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string saved_;
};

vision::FacePipeline& faceres_pipeline() {
  static std::unique_ptr<vision::FacePipeline> p = vision::FacePipeline::open(face_models_dir(), FaceModel::kFaceres);
  return *p;
}

// The largest face of every identity photo, embedded with faceres.
struct Embedded {
  std::string person;
  std::vector<float> unit;
};
const std::vector<Embedded>& faceres_identities() {
  static std::vector<Embedded> out = [] {
    std::vector<Embedded> v;
    for (const auto& person : fs::directory_iterator(faces_dir() / "identities")) {
      for (const auto& photo : fs::directory_iterator(person.path())) {
        auto faces = faceres_pipeline().analyse_file(photo.path());
        auto pick = vision::choose_face(faces);
        if (pick) v.push_back({person.path().filename().string(), faces[*pick].embedding.unit});
      }
    }
    return v;
  }();
  return out;
}

float l2(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i] - b[i]) * (a[i] - b[i]);
  return float(std::sqrt(s));
}

TEST(FaceresModel, EmbeddingsOfTheSamePersonAreCloserThanThoseOfDifferentPeople) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  const auto& faces = faceres_identities();
  ASSERT_GE(faces.size(), 30u);
  EXPECT_EQ(faces.front().unit.size(), 1024u);
  EXPECT_EQ(faceres_pipeline().models().embedding_model_version.rfind("human-models@3.0.4/face_recognition_hse@", 0), 0u);
  double same = 0, different = 0;
  int n_same = 0, n_different = 0, rank1 = 0, with_mate = 0, accepted_strangers = 0, same_rejected = 0;
  for (size_t i = 0; i < faces.size(); ++i) {
    EXPECT_NEAR(l2(faces[i].unit, std::vector<float>(1024, 0.0f)), 1.0, 1e-4);
    float nearest = 9;
    std::string nearest_person;
    bool has_mate = false;
    for (size_t j = 0; j < faces.size(); ++j) {
      if (i == j) continue;
      float d = l2(faces[i].unit, faces[j].unit);
      if (d < nearest) nearest = d, nearest_person = faces[j].person;
      if (faces[i].person == faces[j].person) {
        has_mate = true;
        if (j > i) same += d, ++n_same, same_rejected += d > kFaceresMatchThreshold;
      } else if (j > i) {
        different += d, ++n_different, accepted_strangers += d <= kFaceresMatchThreshold;
      }
    }
    with_mate += has_mate;
    rank1 += has_mate && nearest_person == faces[i].person;
  }
  EXPECT_LT(same / n_same + 0.25, different / n_different) << "mean same " << same / n_same << ", different "
                                                           << different / n_different;
  EXPECT_EQ(rank1, with_mate) << "every face's nearest other face is its own person's";
  EXPECT_EQ(accepted_strangers, 0) << "different people within faceres' calibrated threshold, of " << n_different;
  EXPECT_LE(same_rejected * 10, n_same) << "same-person pairs beyond the threshold, of " << n_same;
}

// Both models' vectors stored side by side: each gallery loads its own model's only, and a vector of the other
// size is refused rather than compared.
TEST(FaceresModel, AGalleryOfOneModelIgnoresTheVectorsOfTheOther) {
  std::mt19937 rng(7);
  TempDir dir;
  auto db = Database::open(DataDir::open(dir.path() / "data"), std::string(kDefaultDatabase));
  const std::string dlib = "face-api@1.7.15/face_recognition@0123456789ab";
  const std::string hse = "human-models@3.0.4/face_recognition_hse@0123456789ab";
  auto profile = [&](const std::string& id, const std::vector<std::pair<std::string, EmbeddingVector>>& embeddings) {
    bson_t* doc = bson_new();
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id.c_str());
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "name", id.c_str());
    bson_t arr, e;
    BSON_APPEND_ARRAY_BEGIN(doc, "embeddings", &arr);
    for (size_t i = 0; i < embeddings.size(); ++i) {
      BSON_APPEND_DOCUMENT_BEGIN(&arr, std::to_string(i).c_str(), &e);
      append_embedding_vector(&e, "vector", embeddings[i].second);
      BSON_APPEND_UTF8(&e, "modelVersion", embeddings[i].first.c_str());
      bson_append_document_end(&arr, &e);
    }
    bson_append_array_end(doc, &arr);
    return Document(doc);
  };
  const auto ada128 = random_unit_vector(rng), ada1024 = random_unit_vector(rng, 1024);
  {
    auto tx = db->write();
    tx.insert("faceprofiles", profile("aaaaaaaaaaaaaaaaaaaaaaa1", {{dlib, ada128}, {hse, ada1024}}));
    tx.insert("faceprofiles", profile("aaaaaaaaaaaaaaaaaaaaaaa2", {{dlib, random_unit_vector(rng)}}));
    tx.insert("faceprofiles", profile("aaaaaaaaaaaaaaaaaaaaaaa3", {{hse, random_unit_vector(rng, 1024)}}));
    // A damaged entry: faceres' version over a dlib-sized vector.
    tx.insert("faceprofiles", profile("aaaaaaaaaaaaaaaaaaaaaaa4", {{hse, random_unit_vector(rng, 1024)}, {hse, random_unit_vector(rng)}}));
    tx.commit();
  }
  auto tx = db->read();
  vision::Gallery g_dlib, g_hse;
  auto r_dlib = load_gallery(tx, dlib, g_dlib);
  auto r_hse = load_gallery(tx, hse, g_hse);
  EXPECT_EQ(r_dlib.embeddings, 2);
  EXPECT_EQ(r_dlib.other_model, 4);
  EXPECT_EQ(g_dlib.dimension(), 128u);
  EXPECT_EQ(r_hse.embeddings, 3);
  EXPECT_EQ(r_hse.malformed, 1) << "the dlib-sized vector under faceres' version is not loaded";
  EXPECT_EQ(g_hse.dimension(), 1024u);
  EXPECT_EQ(g_hse.people(), 3u);
  EXPECT_EQ(g_hse.search(ada1024)->person_id, "aaaaaaaaaaaaaaaaaaaaaaa1");
  EXPECT_NEAR(g_hse.search(ada1024)->distance, 0, 1e-5);
  EXPECT_THROW(g_hse.search(ada128), std::invalid_argument);
  EXPECT_THROW(g_dlib.add("x", "x1", ada1024), std::invalid_argument);
  EXPECT_EQ(g_dlib.size(), 2u);
  EXPECT_EQ(embedding_vector_distance(ada128, ada1024), 2.0f) << "vectors of two models are never close";
}

TEST(FaceresModel, A1024NumberVectorRoundTripsThroughTheStoredBlobAndTheUnknownFaceEntry) {
  std::mt19937 rng(3);
  const auto v = random_unit_vector(rng, 1024);
  bson_t* b = bson_new();
  append_embedding_vector(b, "vector", v);
  Document doc(b);
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init_find(&it, doc.get(), "vector"));
  uint32_t bytes = 0;
  const uint8_t* data = nullptr;
  bson_subtype_t subtype;
  bson_iter_binary(&it, &subtype, &bytes, &data);
  EXPECT_EQ(bytes, 4096u) << "4 bytes a number";
  EXPECT_EQ(decode_embedding_vector(it), v);
  // The unknown-face entry of an attendance record (extended JSON) decodes to the same vector.
  auto entry = unknown_face_entry(1, cv::Rect(1, 2, 30, 30), std::nullopt, v, "human-models@3.0.4/x");
  EXPECT_EQ(unknown_face_vector(entry["embedding"]), v);
  // Neither a ragged size nor an empty blob decodes.
  bson_t* bad = bson_new();
  const uint8_t three[3] = {1, 2, 3};
  bson_append_binary(bad, "vector", -1, BSON_SUBTYPE_BINARY, three, 3);
  bson_append_binary(bad, "empty", -1, BSON_SUBTYPE_BINARY, three, 0);
  Document bad_doc(bad);
  ASSERT_TRUE(bson_iter_init_find(&it, bad_doc.get(), "vector"));
  EXPECT_FALSE(decode_embedding_vector(it).has_value());
  ASSERT_TRUE(bson_iter_init_find(&it, bad_doc.get(), "empty"));
  EXPECT_FALSE(decode_embedding_vector(it).has_value());
}

// A copy of the models directory (links to the real files) with SHA256SUMS as a file the test can rewrite.
fs::path linked_models(const fs::path& to) {
  fs::create_directories(to);
  for (const auto& f : fs::directory_iterator(face_models_dir())) {
    if (f.path().filename() == "SHA256SUMS") fs::copy_file(f.path(), to / "SHA256SUMS");
    else fs::create_symlink(f.path(), to / f.path().filename());
  }
  return to;
}
void relist(const fs::path& dir, const std::string& name) {
  std::istringstream lines(read_text(dir / "SHA256SUMS"));
  std::string sums, line;
  while (std::getline(lines, line)) {
    if (line.ends_with("  " + name)) line = *sha256_of_file(dir / name) + "  " + name;
    sums += line + "\n";
  }
  fs::remove(dir / "SHA256SUMS");
  write_text(dir / "SHA256SUMS", sums);
}

TEST(FaceresModel, AFaceresFileOfTheWrongSha256OrShapeIsRefusedByName) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  fs::path dir = linked_models(tmp.path() / "models");
  // dlib's network in faceres' place: another sha256...
  fs::remove(dir / "face_recognition_hse.onnx");
  fs::copy_file(face_models_dir() / "face_recognition.onnx", dir / "face_recognition_hse.onnx");
  auto sha = run_facecrowd("--models " + q(dir) + " --face-model faceres models check");
  EXPECT_EQ(sha.exit_code, int(ExitCode::kBadInput)) << sha.err;
  EXPECT_NE(sha.err.find("face_recognition_hse.onnx' has sha256"), std::string::npos) << sha.err;
  // ...and, listed with its own sha256, a network of another shape (150x150 in, 128 numbers out).
  relist(dir, "face_recognition_hse.onnx");
  try {
    auto p = vision::FacePipeline::open(dir, FaceModel::kFaceres);
    p->describe(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(128)), {cv::Rect2f(100, 60, 120, 120), 1.0f});
    FAIL() << "dlib's network was run as faceres'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("face_recognition_hse.onnx' does not take faceres' 224x224 crop"), std::string::npos)
        << e.what();
  }
  auto shape = run_facecrowd("--models " + q(dir) + " models check");
  EXPECT_EQ(shape.exit_code, int(ExitCode::kBadInput)) << shape.err;
  EXPECT_NE(shape.err.find("face_recognition_hse.onnx"), std::string::npos) << shape.err;
  // dlib alone does not need the faceres file at all.
  fs::remove(dir / "face_recognition_hse.onnx");
  EXPECT_NO_THROW(vision::open_model_files(dir));
  EXPECT_THROW(vision::open_model_files(dir, FaceModel::kFaceres), Error);
}

TEST(FaceModelSetting, AnUnknownModelNameIsAUsageErrorNamingTheChoices) {
  TempDir tmp;
  auto r = run_facecrowd("--face-model arcface --data " + q(tmp.path() / "data") + " recognize --session s " + q(tmp.path() / "x.jpg"));
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.err;
  EXPECT_NE(r.err.find("--face-model 'arcface' is not a face model: choose dlib"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("faceres"), std::string::npos) << r.err;
  auto env = run_facecrowd("--data " + q(tmp.path() / "data") + " recognize --session s " + q(tmp.path() / "x.jpg"),
                           "FACECROWD_FACE_MODEL=Dlib");
  EXPECT_EQ(env.exit_code, int(ExitCode::kUsage)) << env.err;
  EXPECT_NE(env.err.find("$FACECROWD_FACE_MODEL 'Dlib'"), std::string::npos) << env.err;
  // serve: the config file's key, named.
  write_text(tmp.path() / "c.json", R"({"faceModel": "hse"})");
  ServerConfig c;
  try {
    apply_config_file(c, tmp.path() / "c.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("faceModel 'hse' is not a face model: choose dlib"), std::string::npos) << e.what();
  }
}

TEST(FaceModelSetting, SelectsTheEmbedderAndItsCalibratedPolicyInTheCommandLineAndTheServer) {
  // The policies: each model its own calibrated defaults; flags and variables still override them.
  EXPECT_FLOAT_EQ(default_match_policy(FaceModel::kDlib).max_distance, float(kDefaultMatchThreshold));
  EXPECT_FLOAT_EQ(default_match_policy(FaceModel::kFaceres).max_distance, float(kFaceresMatchThreshold));
  EXPECT_FLOAT_EQ(default_match_policy(FaceModel::kFaceres).min_margin, float(kFaceresMatchMargin));
  EXPECT_FLOAT_EQ(resolve_match_policy(std::nullopt, 0.2f, FaceModel::kFaceres).max_distance, float(kFaceresMatchThreshold));
  EXPECT_FLOAT_EQ(resolve_match_policy(std::nullopt, 0.2f, FaceModel::kFaceres).min_margin, 0.2f);

  // serve: the config's faceModel, or $FACECROWD_FACE_MODEL, picks the model and its defaults.
  TempDir tmp;
  ServerConfig c;
  EXPECT_EQ(c.to_json()["faceModel"], "dlib");
  write_text(tmp.path() / "c.json", R"({"faceModel": "faceres"})");
  apply_config_file(c, tmp.path() / "c.json");
  EXPECT_FLOAT_EQ(c.match_policy().max_distance, float(kFaceresMatchThreshold));
  EXPECT_FLOAT_EQ(c.match_policy().min_margin, float(kFaceresMatchMargin));
  EXPECT_EQ(c.to_json()["match"]["threshold"].get<double>(), kFaceresMatchThreshold);
  {
    ServerConfig from_env;
    ScopedEnv env("FACECROWD_FACE_MODEL", "faceres");
    apply_config_environment(from_env);
    EXPECT_EQ(from_env.face_model, "faceres");
    EXPECT_FLOAT_EQ(from_env.match_policy().max_distance, float(kFaceresMatchThreshold));
  }
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  // The server's pipeline embeds with the selected model.
  ServiceOptions so;
  so.data_root = tmp.path() / "data";
  so.models_dir = face_models_dir();
  so.face_model = FaceModel::kFaceres;
  so.match = c.match_policy();
  Service service(so);
  ASSERT_EQ(service.face_models_problem(), "");
  EXPECT_EQ(service.face_pipeline().models().embedding_model_version.rfind("human-models@3.0.4/face_recognition_hse@", 0), 0u);
  // The command line: --face-model (or the variable) picks the model; `serve --print-config` shows its policy.
  auto printed = run_facecrowd("--face-model faceres --data " + q(tmp.path() / "data") + " serve --print-config");
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  auto j = nlohmann::json::parse(printed.out);
  EXPECT_EQ(j["faceModel"], "faceres");
  EXPECT_NEAR(j["match"]["threshold"].get<double>(), kFaceresMatchThreshold, 1e-6);
  auto models = run_facecrowd("--models " + q(face_models_dir()) + " models check --json");
  ASSERT_EQ(models.exit_code, 0) << models.err;
  EXPECT_EQ(nlohmann::json::parse(models.out)["faceresModelVersion"].get<std::string>().rfind("human-models@3.0.4/", 0), 0u);
}

// Enroll, recognize and attendance with faceres, end to end through the CLI; dlib's gallery does not see the
// faceres profiles.
TEST(FaceModelSetting, EnrollRecognizeAndAttendanceWorkWithFaceresAndEachModelSearchesOnlyItsOwnEmbeddings) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  FaceWorld w;
  w.cli_json("--face-model faceres enroll --name Biden " + identity("biden", "biden.jpg"));
  w.cli_json("--face-model faceres enroll --name Obama " + identity("obama", "obama.jpg"));
  for (const auto& p : w.documents("faceprofiles")) {
    const auto& e = p["embeddings"][0];
    EXPECT_EQ(e["modelVersion"].get<std::string>().rfind("human-models@3.0.4/face_recognition_hse@", 0), 0u) << e.dump();
  }
  auto faceres = w.cli_json("--face-model faceres recognize --session s1 " + group("obama_and_biden.jpg"));
  ASSERT_EQ(faceres["recognised"].size(), 2u) << faceres.dump(2);
  std::set<std::string> names;
  for (const auto& r : faceres["recognised"]) {
    names.insert(r["personName"].get<std::string>());
    EXPECT_LE(r["distance"].get<double>(), kFaceresMatchThreshold);
    EXPECT_GE(r["margin"].get<double>(), kFaceresMatchMargin);
  }
  EXPECT_EQ(names, (std::set<std::string>{"Biden", "Obama"}));
  // A stranger is not accepted as either.
  auto stranger = w.cli_json("--face-model faceres recognize --session s1 " + identity("kit_harington", "john1.jpeg"));
  EXPECT_EQ(stranger["recognised"].size(), 0u) << stranger.dump(2);
  // dlib's gallery holds no embedding of its model: the same faces are unknown there.
  auto dlib = w.cli_json("recognize --session s2 " + group("obama_and_biden.jpg"));
  EXPECT_EQ(dlib["recognised"].size(), 0u) << dlib.dump(2);
  EXPECT_EQ(dlib["unknown"].size(), faceres["recognised"].size() + faceres["unknown"].size()) << dlib.dump(2);
  // Attendance: the two recognised people are listed under their session.
  auto listed = w.cli_json("attendance list --session s1").dump();
  EXPECT_NE(listed.find("Biden"), std::string::npos) << listed;
  EXPECT_NE(listed.find("Obama"), std::string::npos) << listed;
  EXPECT_EQ(w.cli_json("attendance list --session s2").dump().find("Biden"), std::string::npos);
}

}  // namespace
}  // namespace facecrowd
