// `facecrowd recognize` and `facecrowd attendance list` on real group photos (app/faces/attendance.h).
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <map>

#include "app/records/audit.h"
#include "app/faces/unknown_faces.h"
#include "face_test_support.h"
#include "vision/image_loader.h"

namespace facecrowd {
namespace {

class AttendanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
  // obama and biden enrolled from identities/; their profile ids.
  std::pair<std::string, std::string> enroll_obama_and_biden() {
    auto obama = world.cli_json("enroll --name 'Barack Obama' " + identity("obama", "obama.jpg") + " " +
                                identity("obama", "obama1.jpg"));
    auto biden = world.cli_json("enroll --name 'Joe Biden' " + identity("biden", "biden.jpg") + " " +
                                identity("biden", "biden2.jpg"));
    return {obama["profileId"], biden["profileId"]};
  }
  FaceWorld world;
};

std::map<std::string, double> confidence_by_person(const nlohmann::json& result) {
  std::map<std::string, double> out;
  for (const auto& r : result["recognised"]) out[r["personId"]] = r["confidence"];
  return out;
}

TEST_F(AttendanceTest, GroupPhotoRecognisesBothOnceAndReuploadKeepsTheMostConfident) {
  auto [obama, biden] = enroll_obama_and_biden();
  auto first = world.cli_json("recognize " + group("two_people.jpg") + " --session class-7A-2026-03-02");
  ASSERT_EQ(first["recognised"].size(), 2u) << first.dump(2);
  EXPECT_EQ(first["unknown"].size(), 0u) << first.dump(2);
  auto c1 = confidence_by_person(first);
  ASSERT_EQ(c1.count(obama), 1u);
  ASSERT_EQ(c1.count(biden), 1u);
  for (const auto& r : first["recognised"]) {
    EXPECT_EQ(r["record"], "inserted");
    EXPECT_GE(r["confidence"].get<double>(), 0.5);
    EXPECT_GT(r["box"]["w"].get<int>(), 0);
  }
  EXPECT_EQ(first["recognised"][0]["personName"] == "Barack Obama" || first["recognised"][0]["personName"] == "Joe Biden", true);

  auto records = world.documents("attendances");
  ASSERT_EQ(records.size(), 2u);
  for (const auto& a : records) {
    EXPECT_EQ(a["session"], "class-7A-2026-03-02");
    EXPECT_EQ(a["archived"], false);
    EXPECT_EQ(a["photoFileId"]["$oid"], first["photoFileId"]);
    EXPECT_TRUE(a["timestamp"].contains("$date"));
    EXPECT_TRUE(a["box"].contains("x") && a["box"].contains("h"));
  }
  // The group photo is stored as a group_photo file; the recognition is audited.
  bool photo_stored = false;
  for (const auto& f : world.documents("fs.files"))
    photo_stored |= f["_id"]["$oid"] == first["photoFileId"] && f["metadata"]["kind"] == "group_photo";
  EXPECT_TRUE(photo_stored);
  int audits = 0;
  for (const auto& a : world.documents("auditlogs"))
    audits += a["action"] == "attendance.recognize" && a["target"] == "class-7A-2026-03-02";
  EXPECT_EQ(audits, 1);

  // Another photo of the same session: still one record per person, each with the higher confidence.
  auto second = world.cli_json("recognize " + group("obama_and_biden.jpg") + " --session class-7A-2026-03-02");
  auto c2 = confidence_by_person(second);
  ASSERT_EQ(c2.size(), 2u) << second.dump(2);
  records.clear();
  for (const auto& a : world.documents("attendances"))
    if (!a["personId"].is_null()) records.push_back(a);  // the photo's unknown faces have a record of their own
  ASSERT_EQ(records.size(), 2u);
  for (const auto& a : records) {
    std::string person = a["personId"]["$oid"];
    EXPECT_DOUBLE_EQ(a["confidence"].get<double>(), std::max(c1[person], c2[person])) << person;
  }
  for (const auto& r : second["recognised"])
    EXPECT_EQ(r["record"], c2[r["personId"]] > c1[r["personId"]] ? "updated" : "kept");
  // The same photo again changes no record.
  auto third = world.cli_json("recognize " + group("two_people.jpg") + " --session class-7A-2026-03-02");
  for (const auto& r : third["recognised"]) EXPECT_EQ(r["record"], "kept");
  // 3: the two people, and the record of obama_and_biden.jpg's unknown faces (app/faces/attendance.h).
  EXPECT_EQ(world.count("attendances"), 3u);
  // Another session is another record.
  world.cli_json("recognize " + group("two_people.jpg") + " --session class-7A-2026-03-03");
  EXPECT_EQ(world.count("attendances"), 5u);
}

TEST_F(AttendanceTest, UnknownFaceIsListedWithItsBox) {
  auto df00 = world.cli_json("enroll --name 'Person Df00' " + identity("df00", "img1.jpg") + " " +
                             identity("df00", "img2.jpg") + " " + identity("df00", "img4.jpg"));
  auto r = world.cli_json("recognize " + group("couple.jpg") + " --session wedding");
  ASSERT_EQ(r["recognised"].size(), 1u) << r.dump(2);
  EXPECT_EQ(r["recognised"][0]["personId"], df00["profileId"]);
  ASSERT_EQ(r["unknown"].size(), 1u) << r.dump(2);
  const auto& u = r["unknown"][0];
  EXPECT_GT(u["box"]["w"].get<int>(), 20);
  EXPECT_GT(u["box"]["h"].get<int>(), 20);
  EXPECT_FALSE(u["why"].get<std::string>().empty());
  // df00's record, and one record of the photo's unknown faces (it keeps the photo referenced).
  EXPECT_EQ(world.count("attendances"), 2u);
  // The text form names the unknown face's box too.
  auto text = world.cli("recognize " + group("couple.jpg") + " --session wedding");
  EXPECT_NE(text.out.find("unknown face  x="), std::string::npos) << text.out;
}

// One core for every front end: the CLI keeps an unknown face's crop and embedding as the server does, so
// the face can be listed, clustered and assigned later; --no-keep-unknown-faces keeps only its box.
TEST_F(AttendanceTest, TheCliKeepsAnUnknownFacesCropForLaterAssignmentUnlessToldNotTo) {
  world.cli_json("enroll --name 'Person Df00' " + identity("df00", "img1.jpg") + " " + identity("df00", "img2.jpg") +
                 " " + identity("df00", "img4.jpg"));
  auto kept = world.cli_json("recognize " + group("couple.jpg") + " --session wedding");
  ASSERT_EQ(kept["unknown"].size(), 1u) << kept.dump(2);
  EXPECT_TRUE(kept["unknown"][0].contains("cropFileId")) << kept.dump(2);
  auto without = world.cli_json("recognize " + group("couple.jpg") + " --session evening --no-keep-unknown-faces");
  ASSERT_EQ(without["unknown"].size(), 1u) << without.dump(2);
  EXPECT_FALSE(without["unknown"][0].contains("cropFileId")) << without.dump(2);

  auto db = Database::open(DataDir::open(world.data()), std::string(kDefaultDatabase));
  auto tx = db->read();
  auto wedding = list_unknown_faces(tx, {.session = "wedding"});
  ASSERT_EQ(wedding.size(), 1u);
  EXPECT_TRUE(wedding[0].crop_file_id.has_value());
  EXPECT_TRUE(wedding[0].embedding.has_value());
  EXPECT_EQ(wedding[0].crop_file_id.value_or(""), kept["unknown"][0]["cropFileId"].get<std::string>());
  for (const auto& face : list_unknown_faces(tx, {.session = "evening"})) EXPECT_FALSE(face.crop_file_id.has_value());
}

TEST_F(AttendanceTest, AnnotateWritesADecodableJpegOfThePhotosSize) {
  enroll_obama_and_biden();
  fs::path out = world.dir.path() / "marked.jpg";
  auto r = world.cli("recognize " + group("two_people.jpg") + " --session s --annotate " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  cv::Mat marked = cv::imread(out.string());
  cv::Mat photo = vision::load_image(faces_dir() / "groups" / "two_people.jpg");
  ASSERT_FALSE(marked.empty());
  EXPECT_EQ(marked.cols, photo.cols);
  EXPECT_EQ(marked.rows, photo.rows);
  // Boxes were drawn: the annotated photo differs from the original.
  cv::Mat diff;
  cv::absdiff(marked, photo, diff);
  EXPECT_GT(cv::norm(diff, cv::NORM_L1) / double(photo.total()), 0.5);
  // A non-JPEG name is refused before anything is written.
  auto bad = world.cli("recognize " + group("two_people.jpg") + " --session s2 --annotate " + q(world.dir.path() / "x.png"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(world.cli_json("attendance list --session s2").size(), 0u);
}

TEST_F(AttendanceTest, ListBySessionPersonAndTimeRange) {
  auto [obama, biden] = enroll_obama_and_biden();
  world.cli_json("recognize " + group("two_people.jpg") + " --session monday --at 2026-03-02T08:00:00Z");
  world.cli_json("recognize " + group("two_people.jpg") + " --session tuesday --at 2026-03-03T08:00:00Z");
  world.cli_json("recognize " + group("obama3.jpg") + " --session wednesday --at 2026-03-04T08:00:00Z");

  auto monday = world.cli_json("attendance list --session monday");
  EXPECT_EQ(monday.size(), 2u);
  for (const auto& a : monday) EXPECT_EQ(a["session"], "monday");

  auto by_obama = world.cli_json("attendance list --person " + obama);
  EXPECT_GE(by_obama.size(), 2u);
  for (const auto& a : by_obama) EXPECT_EQ(a["personId"]["$oid"], obama);
  auto by_name = world.cli_json("attendance list --person 'Joe Biden'");
  EXPECT_GE(by_name.size(), 2u);
  for (const auto& a : by_name) EXPECT_EQ(a["personId"]["$oid"], biden);

  auto range = world.cli_json("attendance list --from 2026-03-03T00:00:00Z --to 2026-03-03T23:59:59Z");
  ASSERT_EQ(range.size(), 2u);
  for (const auto& a : range) EXPECT_EQ(a["session"], "tuesday");
  auto combined = world.cli_json("attendance list --person " + obama + " --from 2026-03-03T00:00:00Z");
  for (const auto& a : combined) EXPECT_NE(a["session"], "monday");

  EXPECT_EQ(world.cli("attendance list --person 'Nobody At All'").exit_code, 4);
  EXPECT_EQ(world.cli("attendance list --from yesterday").exit_code, 2);
}

TEST_F(AttendanceTest, BadPhotosWriteNothing) {
  enroll_obama_and_biden();
  size_t files = world.count("fs.files"), audits = world.count("auditlogs");
  fs::path dir = world.dir.path();
  write_text(dir / "empty.jpg", "");
  write_text(dir / "text.jpg", "hello");
  std::string jpeg = read_text(faces_dir() / "groups" / "two_people.jpg");
  write_text(dir / "cut.jpg", jpeg.substr(0, jpeg.size() / 3));
  for (const char* f : {"empty.jpg", "text.jpg", "cut.jpg"}) {
    auto r = world.cli("recognize " + q(dir / f) + " --session s");
    EXPECT_EQ(r.exit_code, 3) << f << ": " << r.err;
    EXPECT_NE(r.err.find(f), std::string::npos) << r.err;
  }
  EXPECT_EQ(world.cli("recognize " + q(dir / "missing.jpg") + " --session s").exit_code, 4);
  auto no_models = run_facecrowd("recognize " + group("two_people.jpg") + " --session s",
                                 "FACECROWD_DATA=" + q(world.data()) + " FACECROWD_MODELS=" + q(dir / "none"));
  EXPECT_EQ(no_models.exit_code, 4);
  EXPECT_NE(no_models.err.find("prepare_models.sh"), std::string::npos) << no_models.err;
  EXPECT_EQ(world.count("attendances"), 0u);
  EXPECT_EQ(world.count("fs.files"), files);
  EXPECT_EQ(world.count("auditlogs"), audits);
}

}  // namespace
}  // namespace facecrowd
