#include "core/leftover_owner.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace facecrowd {
namespace {

bool judged(long pid) { return pid > 0 && pid != long(::getpid()); }

bool no_such_process(long pid) { return ::kill(pid_t(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

long pid_from_digits(const std::string& digits) {
  if (digits.empty() || digits.size() > 9) return -1;
  return std::stol(digits);
}

bool another_process_runs(long pid) { return judged(pid) && !no_such_process(pid); }

bool process_is_gone(long pid) { return judged(pid) && no_such_process(pid); }

}  // namespace facecrowd
