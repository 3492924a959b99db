// `facecrowd serve` (issue 10): the whole-request deadline ("limits.requestTimeoutMs") and the compute
// slots that bound how many requests run the networks at once. The server tests use a real server on
// loopback and read its store afterwards; the unit tests drive core/request_deadline.h and
// core/compute_slots.h from real threads. No test asserts a duration: they assert what is answered and
// what is stored.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/compute_slots.h"
#include "core/error.h"
#include "core/request_deadline.h"
#include "face_test_support.h"
#include "server_test_support.h"
#include "store/database.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

size_t count_documents(Database& db, const std::string& collection, const Query& query = {}) {
  size_t n = 0;
  auto tx = db.read();
  tx.find(collection, query, [&](const Document&) {
    ++n;
    return true;
  });
  return n;
}

TEST(ServeDeadline, ARecognitionPastTheRequestDeadlineIsAnswered503WithAJsonErrorAndStoresNothing) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server, Json{{"limits", {{"requestTimeoutMs", 1}}}});
  std::string admin = server.user_token("admin", "admin");
  ASSERT_EQ(server.cli("enroll --name 'Joe Biden' " + (faces_dir() / "identities/biden/biden.jpg").string()).exit_code, 0);
  size_t files_before, attendances_before;
  {
    auto db = Database::open(DataDir::open(server.data()), std::string(kDefaultDatabase));
    files_before = count_documents(*db, "fs.files");
    attendances_before = count_documents(*db, "attendances");
  }
  auto c = server.client();
  auto r = http_multipart(c, "/api/v1/recognize",
                          {text_part("session", "late"), file_part("photo", faces_dir() / "groups/two_people.jpg")}, admin);
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.json.value("error", ""), "deadline_exceeded") << r.body;
  EXPECT_NE(r.json.value("detail", "").find("deadline of 1 ms"), std::string::npos) << r.body;
  EXPECT_NE(r.json.value("detail", "").find("nothing of it was stored"), std::string::npos) << r.body;
  EXPECT_FALSE(r.header("Retry-After").empty());
  ASSERT_EQ(server.stop(), 0) << server.log();

  auto db = Database::open(DataDir::open(server.data()), std::string(kDefaultDatabase));
  EXPECT_EQ(count_documents(*db, "fs.files"), files_before) << "no photo, annotated photo or crop stored";
  EXPECT_EQ(count_documents(*db, "attendances"), attendances_before);
  EXPECT_EQ(count_documents(*db, "attendances", Query{{{"session", "=", std::string("late")}}}), 0u);
  // The refusal is audited, as a failure.
  size_t failed = 0;
  auto tx = db->read();
  tx.find("auditlogs", Query{{{"action", "=", std::string("attendance.recognize")}}}, [&](const Document& d) {
    if (d.to_json().value("outcome", "") == "failed") ++failed;
    return true;
  });
  EXPECT_EQ(failed, 1u);
}

TEST(ServeDeadline, WithTheDefaultDeadlineTheSameRecognitionIsAnsweredAndStored) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  auto c = server.client();
  auto r = http_multipart(c, "/api/v1/recognize",
                          {text_part("session", "on-time"), file_part("photo", faces_dir() / "groups/two_people.jpg")}, admin);
  ASSERT_EQ(r.status, 200) << r.body;
  for (const char* stage : {"decodeMs", "facesMs", "searchMs", "imagesMs", "storeMs"})
    EXPECT_TRUE(r.json["timings"].contains(stage)) << stage << " " << r.body;
  ASSERT_EQ(server.stop(), 0) << server.log();
  auto db = Database::open(DataDir::open(server.data()), std::string(kDefaultDatabase));
  EXPECT_GT(count_documents(*db, "attendances", Query{{{"session", "=", std::string("on-time")}}}), 0u);
}

TEST(ServeDeadline, ARequestTimeoutOutsideItsRangeIsRefusedNamingTheSetting) {
  TempDir dir;
  ServerUnderTest server(dir.path(), Json{{"limits", {{"requestTimeoutMs", 0}}}});
  EXPECT_FALSE(server.started());
  EXPECT_NE(server.log().find("limits.requestTimeoutMs"), std::string::npos) << server.log();
}

TEST(RequestDeadline, WithoutAScopeNothingIsCheckedAndAPassedDeadlineNamesTheStage) {
  EXPECT_NO_THROW(check_request_deadline("anything"));
  {
    DeadlineScope scope(DeadlineClock::now() - 1s, 5ms);
    try {
      check_request_deadline("the commit");
      FAIL() << "no DeadlineExceeded";
    } catch (const DeadlineExceeded& e) {
      EXPECT_EQ(e.stage(), "the commit");
      EXPECT_NE(std::string(e.what()).find("before the commit"), std::string::npos) << e.what();
      EXPECT_EQ(e.code(), ExitCode::kBusy);
    }
    {
      DeadlineScope inner(DeadlineClock::now(), 1h);
      EXPECT_NO_THROW(check_request_deadline("inner"));
    }
    EXPECT_THROW(check_request_deadline("outer again"), DeadlineExceeded);
  }
  EXPECT_NO_THROW(check_request_deadline("after the scope"));
}

TEST(ComputeSlots, AWaiterPastItsDeadlineGivesUpAndTheNextInLineStillGetsTheSlot) {
  ComputeSlots slots(1);
  EXPECT_EQ(slots.capacity(), 1);
  auto held = std::make_unique<ComputeSlots::Slot>(slots.acquire());
  std::atomic<bool> gave_up{false}, got_it{false};
  std::thread impatient([&] {
    DeadlineScope scope(DeadlineClock::now(), 50ms);
    try {
      auto s = slots.acquire();
    } catch (const DeadlineExceeded& e) {
      gave_up = std::string(e.what()).find("compute slot") != std::string::npos;
    }
  });
  impatient.join();
  EXPECT_TRUE(gave_up);
  EXPECT_EQ(slots.waiting(), 0u) << "the one that gave up left the line";
  std::thread patient([&] {
    auto s = slots.acquire();  // no deadline: waits for the slot
    got_it = true;
  });
  while (slots.waiting() == 0) std::this_thread::yield();
  EXPECT_FALSE(got_it);
  held.reset();
  patient.join();
  EXPECT_TRUE(got_it);
}

// A restore's swap turns away the requests still in line (they have done nothing yet) instead of waiting
// for their network passes; the one running keeps its slot and finishes.
TEST(ComputeSlots, WhileTurningAwayTheWaitersAndNewcomersAreBusyAndTheRunningSlotIsKept) {
  ComputeSlots slots(1);
  auto running = std::make_unique<ComputeSlots::Slot>(slots.acquire());
  std::atomic<int> busy{0};
  auto waiter = [&] {
    try {
      auto s = slots.acquire();
    } catch (const Error& e) {
      if (e.code() == ExitCode::kBusy && std::string(e.what()).find("swapping") != std::string::npos) ++busy;
    }
  };
  std::thread first(waiter), second(waiter);
  while (slots.waiting() < 2) std::this_thread::yield();
  slots.turn_away("a restore is swapping the store; try again shortly");
  first.join();
  second.join();
  EXPECT_EQ(busy, 2) << "a request in line kept waiting through the swap";
  EXPECT_EQ(slots.waiting(), 0u);
  std::thread newcomer(waiter);
  newcomer.join();
  EXPECT_EQ(busy, 3);
  slots.stop_turning_away();
  running.reset();  // the running request finished normally
  EXPECT_NO_THROW(slots.acquire()) << "after the swap the slots serve again";
}

TEST(ComputeSlots, ZeroMeansOneSlotPerCore) {
  EXPECT_EQ(ComputeSlots(0).capacity(), std::max(1, int(std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace facecrowd
