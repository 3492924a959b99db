// `facecrowd enroll` and `facecrowd profiles` on real photos (app/faces/enrollment.h, app/faces/profiles.h): what is
// written, what is refused and why, and that a refused enrollment writes nothing.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>

#include "app/faces/gallery_loader.h"
#include "face_test_support.h"

namespace facecrowd {
namespace {

class EnrollmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
  FaceWorld world;
};

std::string oid(const nlohmann::json& j) { return j.is_object() ? j.value("$oid", "") : ""; }

TEST_F(EnrollmentTest, CreatesAProfileWithOneEmbeddingPerImageConsentAndAudit) {
  auto r = world.cli("enroll --name 'Barack Obama' --external-id EMP-1 --meta class=7A --meta role=staff "
                     "--consent 'I agree (form v2)' " + identity("obama", "obama.jpg") + " " +
                     identity("obama", "obama1.jpg"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("created profile"), std::string::npos) << r.out;

  auto profiles = world.documents("faceprofiles");
  ASSERT_EQ(profiles.size(), 1u);
  const auto& p = profiles[0];
  EXPECT_EQ(p["name"], "Barack Obama");
  EXPECT_EQ(p["externalId"], "EMP-1");
  EXPECT_EQ(p["metadata"]["class"], "7A");
  EXPECT_EQ(p["metadata"]["role"], "staff");
  EXPECT_EQ(p["consent"]["text"], "I agree (form v2)");
  EXPECT_TRUE(p["consent"]["givenAt"].contains("$date"));
  EXPECT_TRUE(p["createdAt"].contains("$date"));
  EXPECT_TRUE(p["updatedAt"].contains("$date"));
  ASSERT_EQ(p["embeddings"].size(), 2u);
  ASSERT_EQ(p["facialImageIds"].size(), 2u);

  // The stored form: vector = binary subtype 0 of 128 little-endian float32, unit length.
  auto db = Database::open(DataDir::open(world.data()), std::string(kDefaultDatabase));
  auto tx = db->read();
  auto doc = tx.get("faceprofiles", oid(p["_id"]));
  ASSERT_TRUE(doc);
  auto stored = profile_embeddings(*doc);
  ASSERT_EQ(stored.size(), 2u);
  for (size_t i = 0; i < stored.size(); ++i) {
    ASSERT_TRUE(stored[i].vector) << "vector is not 512 bytes of binary subtype 0";
    double norm = 0;
    for (float x : *stored[i].vector) norm += double(x) * x;
    EXPECT_NEAR(norm, 1.0, 1e-4);
    EXPECT_FALSE(stored[i].model_version.empty());
    ASSERT_TRUE(stored[i].source_file_id);
    EXPECT_EQ(*stored[i].source_file_id, oid(p["facialImageIds"][i]));
    const auto& e = p["embeddings"][i];
    EXPECT_EQ(e["_id"]["$oid"].get<std::string>().size(), 24u);
    EXPECT_GT(e["quality"]["interocular"].get<double>(), 16.0);
    EXPECT_GT(e["quality"]["blur"].get<double>(), 0.0);
  }
  // The facial images are stored with their kind.
  auto files = world.documents("fs.files");
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) EXPECT_EQ(f["metadata"]["kind"], "facial_image");
  // One audit entry, about this profile.
  auto audit = world.documents("auditlogs");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["action"], "profile.enroll");
  EXPECT_EQ(audit[0]["target"], oid(p["_id"]));
  EXPECT_EQ(audit[0]["details"]["added"].size(), 2u);
}

TEST_F(EnrollmentTest, SamePhotoTwiceIsReportedNotDuplicated) {
  ASSERT_EQ(world.cli("enroll --name Biden " + identity("biden", "biden.jpg")).exit_code, 0);
  // Same bytes again (by name: extends the one profile named Biden), plus one new photo.
  auto r = world.cli_json("enroll --name Biden " + identity("biden", "biden.jpg") + " " + identity("biden", "biden2.jpg"));
  EXPECT_FALSE(r["created"].get<bool>());
  ASSERT_EQ(r["duplicates"].size(), 1u);
  EXPECT_NE(r["duplicates"][0]["reason"].get<std::string>().find("already enrolled"), std::string::npos);
  EXPECT_EQ(r["added"].size(), 1u);
  // Only the duplicate: nothing is written at all.
  auto again = world.cli("enroll --name Biden " + identity("biden", "biden.jpg"));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already enrolled"), std::string::npos) << again.out;
  auto profiles = world.documents("faceprofiles");
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(profiles[0]["embeddings"].size(), 2u);
  EXPECT_EQ(world.count("fs.files"), 2u);
  EXPECT_EQ(world.count("auditlogs"), 2u);
}

TEST_F(EnrollmentTest, BadImagesAreRejectedByNameAndNothingIsWritten) {
  fs::path dir = world.dir.path();
  write_text(dir / "not_an_image.jpg", "this is plain text, not a JPEG\n");
  write_text(dir / "empty.jpg", "");
  std::string jpeg = read_text(faces_dir() / "identities" / "obama" / "obama.jpg");
  write_text(dir / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
  cv::Mat grey(480, 640, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::imwrite((dir / "no_face.jpg").string(), grey);

  struct Case {
    std::string file, reason;
  } cases[] = {{"not_an_image.jpg", "not a supported image"},
               {"empty.jpg", "empty file (0 bytes)"},
               {"truncated.jpg", "truncated JPEG"},
               {"no_face.jpg", "no face found"}};
  for (const auto& c : cases) {
    auto r = world.cli("enroll --name Obama " + q(dir / c.file));
    EXPECT_EQ(r.exit_code, 3) << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.reason), std::string::npos) << r.err;
  }
  // A good photo with a bad one: both named, nothing enrolled; --skip-rejected enrols the good one.
  auto mixed = world.cli("enroll --name Obama " + identity("obama", "obama.jpg") + " " + q(dir / "empty.jpg"));
  EXPECT_EQ(mixed.exit_code, 3);
  EXPECT_NE(mixed.err.find("nothing enrolled"), std::string::npos) << mixed.err;
  EXPECT_NE(mixed.err.find("--skip-rejected"), std::string::npos) << mixed.err;
  EXPECT_EQ(world.count("faceprofiles"), 0u);
  EXPECT_EQ(world.count("fs.files"), 0u);
  EXPECT_EQ(world.count("auditlogs"), 0u);

  auto partial = world.cli("enroll --skip-rejected --name Obama " + identity("obama", "obama.jpg") + " " + q(dir / "empty.jpg"));
  EXPECT_EQ(partial.exit_code, 1) << partial.err;  // a warning: not everything was enrolled
  EXPECT_NE(partial.err.find("rejected: "), std::string::npos);
  auto profiles = world.documents("faceprofiles");
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(profiles[0]["embeddings"].size(), 1u);
}

TEST_F(EnrollmentTest, SeveralFacesTooSmallTooBlurred) {
  auto several = world.cli("enroll --name Obama " + group("two_people.jpg"));
  EXPECT_EQ(several.exit_code, 3);
  EXPECT_NE(several.err.find("2 faces found"), std::string::npos) << several.err;
  EXPECT_NE(several.err.find("--largest"), std::string::npos) << several.err;
  // The gates themselves, made strict so the verdict does not hang on one photo's exact numbers.
  auto small = world.cli("enroll --name Obama --min-eye-distance 5000 " + identity("obama", "obama.jpg"));
  EXPECT_EQ(small.exit_code, 3);
  EXPECT_NE(small.err.find("face too small"), std::string::npos) << small.err;
  auto blurred = world.cli("enroll --name Obama --min-sharpness 1e9 " + identity("obama", "obama.jpg"));
  EXPECT_EQ(blurred.exit_code, 3);
  EXPECT_NE(blurred.err.find("face too blurred"), std::string::npos) << blurred.err;
  EXPECT_EQ(world.count("faceprofiles"), 0u);

  auto largest = world.cli_json("enroll --name Someone --largest " + group("two_people.jpg"));
  EXPECT_EQ(largest["added"].size(), 1u);
}

// Issue 12: a face that matches another profile is refused (exit 5, naming it, nothing written) unless --force.
TEST_F(EnrollmentTest, SameFaceUnderAnotherNameIsRefusedUnlessForced) {
  ASSERT_EQ(world.cli("enroll --name 'Barack Obama' " + identity("obama", "obama.jpg")).exit_code, 0);
  auto refused = world.cli("enroll --name 'Barry Smith' " + identity("obama", "obama1.jpg"));
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_NE(refused.err.find("already matches profile"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("Barack Obama"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(world.count("faceprofiles"), 1u);
  EXPECT_EQ(world.count("fs.files"), 1u) << "the refused photo is not stored";

  auto r = world.cli("enroll --force --name 'Barry Smith' " + identity("obama", "obama1.jpg"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("already matches profile"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Barack Obama"), std::string::npos) << r.err;
  EXPECT_EQ(world.count("faceprofiles"), 2u);
  // A different person gives no warning.
  auto biden = world.cli("enroll --name Biden " + identity("biden", "biden.jpg"));
  EXPECT_EQ(biden.exit_code, 0);
  EXPECT_EQ(biden.err.find("warning"), std::string::npos) << biden.err;
}

TEST_F(EnrollmentTest, UnknownProfileAndMissingModels) {
  auto r = world.cli("enroll --profile 0123456789abcdef01234567 " + identity("obama", "obama.jpg"));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("0123456789abcdef01234567"), std::string::npos) << r.err;
  EXPECT_EQ(world.count("faceprofiles"), 0u);

  auto no_models = run_facecrowd("enroll --name X " + identity("obama", "obama.jpg"),
                                 "FACECROWD_DATA=" + q(world.data()) + " FACECROWD_MODELS=" + q(world.dir.path() / "nomodels"));
  EXPECT_EQ(no_models.exit_code, 4) << no_models.err;
  EXPECT_NE(no_models.err.find("prepare_models.sh"), std::string::npos) << no_models.err;
  EXPECT_EQ(world.count("faceprofiles"), 0u);
}

TEST_F(EnrollmentTest, ProfilesListShowUpdate) {
  auto created = world.cli_json("enroll --name 'Joe Biden' --external-id VP-47 --consent 'yes' " + identity("biden", "biden.jpg"));
  const std::string id = created["profileId"];

  auto list = world.cli_json("profiles list");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["name"], "Joe Biden");
  EXPECT_EQ(list[0]["embeddings"], 1);
  EXPECT_EQ(list[0]["consent"], true);
  auto table = world.cli("profiles list");
  EXPECT_NE(table.out.find("Joe Biden"), std::string::npos);

  // show by id and by external id; no vectors printed.
  auto show = world.cli("profiles show VP-47");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto shown = nlohmann::json::parse(show.out);
  EXPECT_EQ(shown["_id"]["$oid"], id);
  EXPECT_EQ(shown["embeddings"][0]["vector"], "<128 float32>");
  EXPECT_EQ(shown["attendances"], 0);
  EXPECT_EQ(world.cli("profiles show " + id).exit_code, 0);

  auto vector_of = [&] {
    auto db = Database::open(DataDir::open(world.data()), std::string(kDefaultDatabase));
    auto tx = db->read();
    return profile_embeddings(*tx.get("faceprofiles", id)).at(0).vector;
  };
  auto before = vector_of();
  ASSERT_TRUE(before);
  auto updated = world.cli_json("profiles update " + id + " --name 'Joseph Biden' --meta office=VP --withdraw-consent");
  EXPECT_EQ(updated["name"], "Joseph Biden");
  EXPECT_EQ(updated["metadata"]["office"], "VP");
  EXPECT_TRUE(updated["consent"].is_null());
  auto stored = world.documents("faceprofiles");
  EXPECT_EQ(stored[0]["name"], "Joseph Biden");
  EXPECT_EQ(stored[0]["embeddings"].size(), 1u);  // vectors survive the update
  bool audited = false;
  for (const auto& a : world.documents("auditlogs")) audited |= a["action"] == "profile.update" && a["target"] == id;
  EXPECT_TRUE(audited);
  // The vector is bit-for-bit unchanged by the update.
  EXPECT_EQ(vector_of(), before);

  EXPECT_EQ(world.cli("profiles show 0123456789abcdef01234567").exit_code, 4);
  EXPECT_EQ(world.cli("profiles update nobody --name X").exit_code, 4);
  EXPECT_EQ(world.cli("profiles update " + id).exit_code, 2);  // nothing to change
  EXPECT_EQ(world.cli("profiles update " + id + " --meta novalue").exit_code, 2);
}

}  // namespace
}  // namespace facecrowd
