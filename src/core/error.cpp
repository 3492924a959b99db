#include "core/error.h"

#include <cstring>

namespace facecrowd {

void throw_io_error(const std::string& what, const std::string& path, int errno_value) {
  throw Error(ExitCode::kIo, what + " '" + path + "': " + std::strerror(errno_value));
}

}  // namespace facecrowd
