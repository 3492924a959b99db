// The restore's reader/loader pipeline: order, bounded hand-over, and failures on either side.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

#include "backup/load_pipeline.h"
#include "core/error.h"

namespace facecrowd {
namespace {

TEST(LoadPipeline, DeliversEverythingInPushOrderOnTheCallingThread) {
  LoadPipeline pipeline;
  std::vector<std::string> seen;
  auto caller = std::this_thread::get_id();
  std::string payload(100'000, 'x');  // enough documents to fill many batches
  pipeline.run(
      [&](LoadPipeline& p) {
        for (int i = 0; i < 200; ++i) {
          if (i == 100) p.push_clear("b");
          p.push_document(i < 100 ? "a" : "b", reinterpret_cast<const uint8_t*>(payload.data()), payload.size() - i, i);
        }
      },
      [&](const std::string& c) { seen.push_back("clear " + c); },
      [&](const std::string& c, const uint8_t*, size_t size, int64_t index) {
        EXPECT_EQ(std::this_thread::get_id(), caller);
        EXPECT_EQ(size, payload.size() - size_t(index));
        seen.push_back(c + std::to_string(index));
      });
  ASSERT_EQ(seen.size(), 201u);
  EXPECT_EQ(seen[0], "a0");
  EXPECT_EQ(seen[99], "a99");
  EXPECT_EQ(seen[100], "clear b");
  EXPECT_EQ(seen[200], "b199");
}

TEST(LoadPipeline, ProducerErrorReachesTheCallerAfterWhatWasPushedBeforeIt) {
  LoadPipeline pipeline;
  int loaded = 0;
  uint8_t doc[8] = {};
  try {
    pipeline.run(
        [&](LoadPipeline& p) {
          p.push_document("a", doc, sizeof doc, 1);
          throw Error(ExitCode::kBadInput, "truncated archive");
        },
        [](const std::string&) {}, [&](const std::string&, const uint8_t*, size_t, int64_t) { ++loaded; });
    FAIL() << "the producer's error was lost";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_STREQ(e.what(), "truncated archive");
  }
  EXPECT_EQ(loaded, 0);  // the partial batch was never handed over: the error came first
}

TEST(LoadPipeline, ConsumerErrorStopsTheProducer) {
  LoadPipeline pipeline;
  std::string payload(1 << 20, 'x');
  int pushed = 0;
  try {
    pipeline.run(
        [&](LoadPipeline& p) {
          for (int i = 0; i < 10'000; ++i, ++pushed)
            p.push_document("a", reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), i);
        },
        [](const std::string&) {},
        [](const std::string&, const uint8_t*, size_t, int64_t) { throw Error(ExitCode::kIo, "disk full"); });
    FAIL() << "the consumer's error was lost";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
  }
  EXPECT_LT(pushed, 100);  // bounded queue: the producer stopped soon after the failure
}

}  // namespace
}  // namespace facecrowd
