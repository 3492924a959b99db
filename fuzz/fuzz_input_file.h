// For harnesses of readers that take a path: the fuzzer's bytes as a file, without touching the disk
// (a memfd, reached as /proc/self/fd/N, rewritten for every input).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace facecrowd::fuzz {

inline std::string as_file(const uint8_t* data, size_t size) {
  static int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) std::abort();
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace facecrowd::fuzz
