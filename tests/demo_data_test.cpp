// `facecrowd demo-data`: realistic shapes, every file referenced and readable, reproducible for a seed,
// the one write path, and refusal of a non-empty database.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <regex>
#include <set>

#include "devtools/demo_data.h"
#include "app/records/retention.h"
#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/file_store.h"
#include "face_test_support.h"
#include "test_support.h"

namespace facecrowd {
namespace {

const UnixMillis kNow = *parse_iso8601("2026-03-02T12:00:00Z");

DemoDataOptions small_options() {
  DemoDataOptions o;
  o.users = 6;
  o.profiles = 12;
  o.attendances = 400;
  o.crowdcounts = 60;
  o.auditlogs = 300;
  o.image_mb = 1;
  o.seed = 7;
  o.now = kNow;
  o.batch_documents = 128;  // several transactions
  return o;
}

struct Fixture {
  TempDir tmp;
  DataDir dir = DataDir::open(tmp.path() / "data");
};

TEST(DemoData, SmallDeploymentHasRealisticShapes) {
  Fixture f;
  auto db = Database::open(f.dir, "demo");
  auto report = generate_demo_data(*db, small_options());
  EXPECT_EQ(report.users, 6);
  EXPECT_EQ(report.profiles, 12);
  EXPECT_EQ(report.attendances, 400);
  EXPECT_EQ(report.crowdcounts, 60);
  EXPECT_EQ(report.auditlogs, 300);
  EXPECT_GT(report.files, 10);
  EXPECT_GE(report.file_bytes, 1 << 20);
  EXPECT_LT(report.file_bytes, 2 << 20);

  auto r = db->read();
  // One oplog entry per document: everything went through the write path.
  EXPECT_EQ(r.oplog_range().entries, report.documents);

  std::set<std::string> roles;
  r.find("users", Query{}, [&](const Document& d) {
    auto j = d.to_json();
    roles.insert(j["role"].get<std::string>());
    EXPECT_TRUE(j["passwordHash"].get<std::string>().starts_with("$argon2id$"));
    EXPECT_TRUE(j["disabled"].is_boolean());
    return true;
  });
  EXPECT_TRUE(roles.count("admin"));

  int embeddings = 0;
  r.find("faceprofiles", Query{}, [&](const Document& d) -> bool {
    bson_iter_t it, emb;
    EXPECT_TRUE(bson_iter_init_find(&it, d.get(), "embeddings") && BSON_ITER_HOLDS_ARRAY(&it));
    bson_iter_recurse(&it, &emb);
    while (bson_iter_next(&emb)) {
      bson_iter_t vec;
      if (!bson_iter_recurse(&emb, &vec) || !bson_iter_find(&vec, "vector")) {
        ADD_FAILURE() << "embedding without a vector";
        return false;
      }
      bson_subtype_t subtype;
      uint32_t len;
      const uint8_t* data;
      bson_iter_binary(&vec, &subtype, &len, &data);
      EXPECT_EQ(subtype, BSON_SUBTYPE_BINARY);
      if (len != 512u) {
        ADD_FAILURE() << "vector of " << len << " bytes";
        return false;
      }
      double norm = 0;
      for (int i = 0; i < 128; ++i) {
        float x;
        std::memcpy(&x, data + 4 * i, 4);  // little-endian hosts only (x86-64, arm64)
        norm += double(x) * x;
      }
      EXPECT_NEAR(norm, 1.0, 1e-4);
      ++embeddings;
    }
    auto j = d.to_json();
    EXPECT_EQ(j["embeddings"][0]["modelVersion"], "face-api@1.7.15/face_recognition_model");
    EXPECT_TRUE(j["embeddings"][0]["quality"].contains("blur"));
    EXPECT_FALSE(j["facialImageIds"].empty());
    return true;
  });
  EXPECT_GE(embeddings, 12);

  std::regex session_shape(R"(class-\d+[A-C]-\d{4}-\d{2}-\d{2})");
  UnixMillis oldest = kNow, newest = 0;
  std::set<std::string> sessions;
  r.find("attendances", Query{}, [&](const Document& d) {
    auto j = d.to_json();
    std::string session = j["session"];
    EXPECT_TRUE(std::regex_match(session, session_shape)) << session;
    sessions.insert(session);
    UnixMillis t = *parse_iso8601(j["timestamp"]["$date"].get<std::string>());
    oldest = std::min(oldest, t);
    newest = std::max(newest, t);
    EXPECT_EQ(session.substr(session.size() - 10), j["timestamp"]["$date"].get<std::string>().substr(0, 10));
    EXPECT_TRUE(j["photoFileId"].contains("$oid"));
    EXPECT_EQ(j["archived"], false);
    return true;
  });
  EXPECT_LT(oldest, months_before(kNow, 17));  // spread over 18 months
  EXPECT_GE(oldest, months_before(kNow, 19));
  EXPECT_LE(newest, kNow);
  EXPECT_GT(newest, months_before(kNow, 1));
  EXPECT_GT(sessions.size(), 100u);

  std::set<std::string> locations;
  r.find("crowdcounts", Query{}, [&](const Document& d) {
    auto j = d.to_json();
    locations.insert(j["location"].get<std::string>());
    EXPECT_TRUE(j["count"].is_number());
    EXPECT_TRUE(j["densityMapFileId"].contains("$oid"));
    return true;
  });
  EXPECT_EQ(locations.size(), 6u);
  EXPECT_GT(r.count("auditlogs", Query{{{"action", "=", std::string("auth.login")}}}), 50);

  // Every file is a readable JPEG of a known kind, and something points to each.
  std::set<std::string> referenced;
  for (const auto& collection : file_referencing_collections())
    r.find(collection, Query{}, [&](const Document& d) {
      for_each_file_reference(collection, d.get(), [&](const std::string& id) { referenced.insert(id); });
      return true;
    });
  int64_t files = 0;
  r.find("fs.files", Query{}, [&](const Document& d) {
    auto id = *d.id_key();
    EXPECT_TRUE(referenced.count(id)) << "unreferenced file " << id;
    auto kind = d.to_json()["metadata"]["kind"].get<std::string>();
    EXPECT_NO_THROW(parse_file_kind(kind));
    ++files;
    return true;
  });
  EXPECT_EQ(files, report.files);
  for (const auto& id : referenced) {
    std::string bytes = get_file(r, id);
    ASSERT_GE(bytes.size(), 3u);
    EXPECT_EQ(bytes.substr(0, 3), std::string("\xFF\xD8\xFF", 3)) << id;
  }
}

TEST(DemoData, SameSeedGivesTheSameDocuments) {
  Fixture f;
  auto a = Database::open(f.dir, "a");
  auto b = Database::open(f.dir, "b");
  auto c = Database::open(f.dir, "c");
  generate_demo_data(*a, small_options());
  generate_demo_data(*b, small_options());
  auto other = small_options();
  other.seed = 8;
  generate_demo_data(*c, other);
  auto dump = [](Database& db, const std::string& collection) {
    std::string all;
    auto r = db.read();
    r.find(collection, Query{{}, "_id"}, [&](const Document& d) {
      // An audit entry's chain fields hang on a fresh random salt (app/records/audit_chain.h): not demo content.
      bson_t content;
      bson_init(&content);
      bson_copy_to_excluding_noinit(d.get(), &content, "detailsSalt", "detailsCommit", "prevHash", "hash", nullptr);
      all.append(reinterpret_cast<const char*>(bson_get_data(&content)), content.len);
      bson_destroy(&content);
      return true;
    });
    return all;
  };
  for (const auto& spec : collection_specs()) {
    EXPECT_EQ(dump(*a, spec.name), dump(*b, spec.name)) << spec.name;
    EXPECT_NE(dump(*a, spec.name), dump(*c, spec.name)) << spec.name;
  }
}

TEST(DemoData, RefusesANonEmptyDatabaseUnlessAppending) {
  Fixture f;
  {
    auto db = Database::open(f.dir, "face-recognition");
    auto tx = db->write();
    tx.insert("users", Document::from_json({{"username", "admin"}}));
    tx.commit();
  }
  std::string data = "--data '" + (f.tmp.path() / "data").string() + "' ";
  std::string sizes = "--users 3 --profiles 4 --attendances 50 --crowdcounts 10 --auditlogs 20 --image-mb 0 ";
  auto res = run_facecrowd(data + "demo-data " + sizes);
  EXPECT_EQ(res.exit_code, 5);
  EXPECT_NE(res.err.find("--append"), std::string::npos) << res.err;
  {
    auto db = Database::open(f.dir, "face-recognition");
    EXPECT_EQ(db->read().count("attendances"), 0);
  }
  res = run_facecrowd(data + "demo-data --append --json " + sizes);
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(nlohmann::json::parse(res.out)["attendances"], 50);
  res = run_facecrowd(data + "demo-data --append " + sizes);  // appending twice does not collide
  ASSERT_EQ(res.exit_code, 0) << res.err;
  auto db = Database::open(f.dir, "face-recognition");
  auto r = db->read();
  EXPECT_EQ(r.count("attendances"), 100);
  EXPECT_EQ(r.count("users"), 7);
  EXPECT_EQ(r.count("fs.files"), 0);
}

TEST(DemoData, NegativeSizesAreUsageErrors) {
  Fixture f;
  std::string data = "--data '" + (f.tmp.path() / "data").string() + "' ";
  auto res = run_facecrowd(data + "demo-data --users=-1");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("--users"), std::string::npos) << res.err;
  res = run_facecrowd(data + "demo-data --profiles 0 --attendances 5");
  EXPECT_EQ(res.exit_code, 2);
  res = run_facecrowd(data + "demo-data --now yesterday");
  EXPECT_EQ(res.exit_code, 2);
}

// A new user's first run: `demo-data`, then `recognize` on a group photo. recognize warned that the 5 profiles
// could not be found and sent them to `gallery reembed`, which then skipped every image ("no face found") and
// exited 0: the profiles are synthetic. demo-data now says so and what to do, and recognize's warning keeps
// its remedy for real galleries and adds what to do when these are demo-data's profiles.
TEST(DemoDataFirstRun, DemoDataSaysItsProfilesAreSyntheticAndRecognizeSaysWhatToDoInsteadOfOnlySendingToReembed) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  FaceWorld world;
  auto demo = world.cli("demo-data --users 2 --profiles 5 --attendances 10 --crowdcounts 2 --auditlogs 5 --image-mb 1");
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  for (const std::string part : {"note: the 5 face profiles are synthetic", "`facecrowd recognize` cannot find these people",
                                 "`facecrowd gallery reembed` cannot embed them", "`facecrowd enroll --name NAME PHOTO`"})
    EXPECT_NE(demo.out.find(part), std::string::npos) << part << " in: " << demo.out;
  auto r = world.cli("recognize " + group("two_people.jpg") + " --session s1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string part : {"5 enrolled profiles have embeddings only of other face models ('face-api@1.7.15/face_recognition_model')",
                                 "`facecrowd gallery reembed`",
                                 "If they are the synthetic profiles of `facecrowd demo-data`", "no model can embed them",
                                 "enroll real people: `facecrowd enroll --name NAME PHOTO`"})
    EXPECT_NE(r.err.find(part), std::string::npos) << part << " in: " << r.err;
  // Each unknown face said "(no one is enrolled)" beside the warning that 5 are.
  EXPECT_EQ(r.out.find("(no one is enrolled)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(no one is enrolled for this face model)"), std::string::npos) << r.out;
  // Profiles of another model (a real model switch) keep the warning as it was, without the demo-data words.
  auto other = world.cli("demo-data --append --users 0 --profiles 1 --attendances 0 --crowdcounts 0 --auditlogs 0 --image-mb 1 "
                         "--embedding-model some-other-model-v1 --seed 2");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(other.out.find("are synthetic"), std::string::npos) << other.out;
}

}  // namespace
}  // namespace facecrowd
