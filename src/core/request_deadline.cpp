#include "core/request_deadline.h"

namespace facecrowd {
namespace {

struct Current {
  bool set = false;
  DeadlineClock::time_point at;
  std::chrono::milliseconds budget{0};
};
thread_local Current t_current;

}  // namespace

DeadlineExceeded::DeadlineExceeded(const std::string& stage, std::chrono::milliseconds budget)
    : Error(ExitCode::kBusy, "the request ran past its deadline of " + std::to_string(budget.count()) +
                                 " ms before " + stage + "; nothing of it was stored. Try again when the server is "
                                 "less busy, or raise limits.requestTimeoutMs"),
      stage_(stage),
      budget_(budget) {}

DeadlineScope::DeadlineScope(DeadlineClock::time_point started, std::chrono::milliseconds budget) {
  if (t_current.set) previous_ = State{t_current.at, t_current.budget};
  if (budget.count() > 0) t_current = Current{true, started + budget, budget};
  else t_current = Current{};
}

DeadlineScope::~DeadlineScope() {
  if (previous_) t_current = Current{true, previous_->at, previous_->budget};
  else t_current = Current{};
}

std::optional<DeadlineClock::time_point> request_deadline() {
  if (!t_current.set) return std::nullopt;
  return t_current.at;
}

void check_request_deadline(const char* stage) {
  if (t_current.set && DeadlineClock::now() >= t_current.at) throw DeadlineExceeded(stage, t_current.budget);
}

}  // namespace facecrowd
