// The erasure ledger served (issue 10): GET /api/v1/erasures gives admins exactly what
// `facecrowd person erasures --json` prints, and nobody else gets it. A real server on loopback; the
// person is inserted straight into the store (no face models needed) and erased through the API.
#include <gtest/gtest.h>

#include "server_test_support.h"
#include "store/data_dir.h"
#include "store/database.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

TEST(ServeErasures, TheLedgerIsListedToAdminsAsTheCliPrintsItAndRefusedToOthers) {
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  std::string operator_token = server.user_token("op", "operator");
  auto c = server.client();

  auto empty = http(c, "GET", "/api/v1/erasures", admin);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(empty.json["erasures"].empty()) << empty.body;

  const std::string person = "65a0000000000000000000aa";
  {
    auto data = DataDir::open(server.data());
    auto db = Database::open(data, "face-recognition");
    auto tx = db->write();
    tx.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", person}}}, {"name", "To Be Erased"}}));
    tx.commit();
  }
  auto erased = http(c, "DELETE", "/api/v1/people/" + person, admin);
  ASSERT_EQ(erased.status, 200) << erased.body;

  auto listing = http(c, "GET", "/api/v1/erasures", admin);
  ASSERT_EQ(listing.status, 200) << listing.body;
  ASSERT_EQ(listing.json["erasures"].size(), 1u) << listing.body;
  EXPECT_EQ(listing.json["erasures"][0]["person_id"], person) << listing.body;
  EXPECT_EQ(listing.body.find("To Be Erased"), std::string::npos) << "the name is in the listing: " << listing.body;
  auto cli = server.cli("person erasures --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(Json::parse(cli.out), listing.json);

  EXPECT_EQ(http(c, "GET", "/api/v1/erasures", operator_token).status, 403);
  EXPECT_EQ(http(c, "GET", "/api/v1/erasures").status, 401);
}

}  // namespace
}  // namespace facecrowd
