// How the match settings are shown (app/faces/match_policy.h): every text and JSON form of a setting is the
// decimal the operator gave, so that giving it back changes nothing, and a float never shows its binary error.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/faces/match_policy.h"
#include "core/error.h"
#include "core/number_text.h"
#include "face_test_support.h"

namespace facecrowd {
namespace {

TEST(MatchSettingsShown, EachReadsAsTheDecimalGivenSoThatGivingItBackChangesNothing) {
  EXPECT_EQ(shortest_decimal(0.36f), "0.36");
  EXPECT_EQ(shortest_decimal(0.845f), "0.845");
  EXPECT_EQ(shortest_decimal(0.005f), "0.005");
  EXPECT_EQ(shortest_decimal(20.0f), "20");
  // Soft steps of three decimals were shown to two ("0.30" for 0.295), so that the text named other steps.
  auto steps = parse_soft_face_steps("20:0.295,37.5:0.3125", "--soft-faces");
  EXPECT_EQ(soft_face_steps_text(steps), "20:0.295,37.5:0.3125");
  auto again = parse_soft_face_steps(soft_face_steps_text(steps), "--soft-faces");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].max_distance, steps[0].max_distance);
  EXPECT_EQ(again[1].below_sharpness, steps[1].below_sharpness);
  EXPECT_EQ(gallery_isolation_text(parse_gallery_isolation("0.8449", "--gallery-isolation")), "0.8449");
  // A refusal quotes the value as given, not as std::to_string's "2.500000".
  MatchPolicy bad;
  bad.max_distance = 2.5f;
  try {
    validate_match_policy(bad);
    ADD_FAILURE() << "a threshold of 2.5 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("match threshold 2.5 is out of range"), std::string::npos) << e.what();
  }
}

TEST(MatchSettingsShown, TheJsonFormIsServesMatchObjectWithTheDecimalsGivenAndOffInWords) {
  auto shown = match_policy_json(MatchPolicy{});
  // nlohmann widens a float to double: 0.36f would print as 0.36000001430511475.
  EXPECT_EQ(shown.dump(), R"({"galleryIsolation":0.84,"minMargin":0.07,"softEnrolledFaces":true,)"
                          R"("softFaces":"20:0.29,40:0.32","threshold":0.36})");
  MatchPolicy off;
  off.gallery_isolation = 0;
  off.soft_faces.clear();
  EXPECT_EQ(match_policy_json(off)["galleryIsolation"], "off");
  EXPECT_EQ(match_policy_json(off)["softFaces"], "off");
}

TEST(MatchSettingsShown, EnrollRefusesAMarginItWouldHaveTakenAndIgnored) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  FaceWorld world;
  auto r = world.cli("enroll --min-margin 0.2 --name Ann " + identity("biden", "biden.jpg"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--min-margin"), std::string::npos) << r.err;
  EXPECT_EQ(world.count("faceprofiles"), 0u);
  // recognize decides by it, and still takes it.
  EXPECT_EQ(world.cli("recognize --min-margin 0.2 --session s " + identity("biden", "biden2.jpg")).exit_code, 0);
}

}  // namespace
}  // namespace facecrowd
