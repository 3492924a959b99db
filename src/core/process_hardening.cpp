#include "core/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/error.h"

namespace facecrowd {

void disable_core_dumps() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    throw Error(ExitCode::kInternal, std::string("prctl(PR_SET_DUMPABLE, 0) failed: ") + std::strerror(errno));
  struct rlimit none {0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0)
    throw Error(ExitCode::kInternal, std::string("setrlimit(RLIMIT_CORE, 0) failed: ") + std::strerror(errno));
}

void keep_secrets_out_of_core_dumps() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct rlimit none {0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
  });
}

}  // namespace facecrowd
