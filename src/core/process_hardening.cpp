#include "core/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace facecrowd {

void disable_core_dumps() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    throw Error(ExitCode::kInternal, std::string("prctl(PR_SET_DUMPABLE, 0) failed: ") + std::strerror(errno));
  struct rlimit none {0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0)
    throw Error(ExitCode::kInternal, std::string("setrlimit(RLIMIT_CORE, 0) failed: ") + std::strerror(errno));
}

}  // namespace facecrowd
