// A group photo in which nobody was recognised is evidence too: `recognize` records its unknown faces in
// an attendance record that points to the photo, so `retention run` keeps the photo for the attendance
// retention period like every other group photo, and deletes both together after it (app/faces/attendance.cpp).
#include <gtest/gtest.h>

#include "app/records/retention.h"
#include "core/utc_time.h"
#include "face_test_support.h"

namespace facecrowd {
namespace {

TEST(UnknownFacesRetention, APhotoWithOnlyUnknownFacesSurvivesRetentionUntilTheAttendanceRetentionEnds) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  FaceWorld world;
  auto r = world.cli_json("recognize " + group("couple.jpg") + " --session open-day --at 2026-03-02T08:00:00Z");
  ASSERT_FALSE(r.is_null());
  ASSERT_EQ(r["recognised"].size(), 0u) << "nobody is enrolled";
  ASSERT_GE(r["unknown"].size(), 1u) << r.dump(2);
  std::string photo = r["photoFileId"];

  auto records = world.documents("attendances");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0]["personId"].is_null());
  EXPECT_EQ(records[0]["unknownFaces"], r["unknown"].size());
  EXPECT_EQ(records[0]["photoFileId"]["$oid"], photo);
  // The same photo again: still one record of its unknown faces.
  world.cli_json("recognize " + group("couple.jpg") + " --session open-day --at 2026-03-02T08:00:00Z");
  EXPECT_EQ(world.count("attendances"), 1u);

  auto has_photo = [&] {
    for (const auto& f : world.documents("fs.files"))
      if (f["_id"]["$oid"] == photo) return true;
    return false;
  };
  auto retention_at = [&](const char* iso) {
    auto db = Database::open(DataDir::open(world.data()), std::string(kDefaultDatabase));
    return run_retention(*db, RetentionPolicy{}, *parse_iso8601(iso), false);
  };
  // Minutes later: the photo is referenced, so it stays.
  auto soon = retention_at("2026-03-02T08:05:00Z");
  EXPECT_EQ(soon.files_deleted, 0);
  EXPECT_TRUE(has_photo()) << "the group photo was deleted minutes after recognize stored it";
  // After the attendance retention (12 months) the record goes, and with it the photo.
  auto later = retention_at("2027-03-03T08:00:00Z");
  EXPECT_EQ(later.attendances_deleted, 1);
  EXPECT_FALSE(has_photo());
}

}  // namespace
}  // namespace facecrowd
