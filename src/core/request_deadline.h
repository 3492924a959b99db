// The whole-request deadline of the request this thread is serving (issue 10: `serve`'s
// "limits.requestTimeoutMs"). A front end opens a DeadlineScope around a request; the use cases call
// check_request_deadline(stage) at their stage boundaries — after decoding, after the face networks, and
// inside their write transaction just before the commit — so a request past its deadline is refused with
// DeadlineExceeded and its transaction rolls back: nothing of it is stored. A stage already running (one
// network pass) is not interrupted: the deadline is checked between stages.
// Without a scope (the one-shot CLI, tests) there is no deadline and the checks cost one thread-local read.
// Scopes nest: the inner one replaces the deadline until it ends.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/error.h"

namespace facecrowd {

using DeadlineClock = std::chrono::steady_clock;

// Thrown by check_request_deadline(); an Error (ExitCode::kBusy) so that a caller that does not know it
// still reports "busy, try again". `stage` names what was about to run.
class DeadlineExceeded : public Error {
 public:
  DeadlineExceeded(const std::string& stage, std::chrono::milliseconds budget);
  const std::string& stage() const { return stage_; }
  std::chrono::milliseconds budget() const { return budget_; }

 private:
  std::string stage_;
  std::chrono::milliseconds budget_;
};

class DeadlineScope {
 public:
  // The deadline is `started` + `budget`; budget <= 0: no deadline.
  DeadlineScope(DeadlineClock::time_point started, std::chrono::milliseconds budget);
  ~DeadlineScope();
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  struct State {
    DeadlineClock::time_point at;
    std::chrono::milliseconds budget;
  };
  std::optional<State> previous_;
  friend std::optional<DeadlineClock::time_point> request_deadline();
  friend void check_request_deadline(const char* stage);
};

// This thread's deadline, if any.
std::optional<DeadlineClock::time_point> request_deadline();
// Throws DeadlineExceeded when this thread's deadline has passed.
void check_request_deadline(const char* stage);

}  // namespace facecrowd
